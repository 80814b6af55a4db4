#include "api/http_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstring>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url.hpp>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/strings.h"

namespace tw::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Millis = std::chrono::milliseconds;

std::string HttpRequest::Query(std::string_view name) const {
  std::string out;
  for (const auto& [k, v] : query)
    if (k == name) out = v;
  return out;
}

bool HttpRequest::HasQuery(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return true;
  return false;
}

std::string HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

namespace {

// Waits until `fd` is ready for `events`, the deadline passes, or (when
// `wake_fd` >= 0) the server is woken for shutdown.  Beast's synchronous
// reads have no timeouts of their own; this is where they come from.
bool WaitReady(int fd, short events, Millis timeout, int wake_fd, beast::error_code& ec) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = Millis(0);
    int n = poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = beast::error_code(errno, boost::system::system_category());
      return false;
    }
    if (n == 0) {
      ec = asio::error::timed_out;
      return false;
    }
    if (wake_fd >= 0 && (fds[1].revents & POLLIN) && !(fds[0].revents & events)) {
      ec = asio::error::operation_aborted;
      return false;
    }
    return true;
  }
}

// A SyncReadStream/SyncWriteStream over a blocking socket whose every
// read_some/write_some is bounded by a timeout.
class TimedStream {
 public:
  using executor_type = tcp::socket::executor_type;
  using lowest_layer_type = tcp::socket::lowest_layer_type;  // for asio::ssl::stream
  // Reads also end early (operation_aborted) once `wake_fd` is readable:
  // the server is shutting down.
  TimedStream(tcp::socket& socket, Millis timeout, int wake_fd = -1)
      : socket_(socket), timeout_(timeout), wake_fd_(wake_fd) {}
  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }

  template <class Buffers>
  size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    if (!WaitReady(socket_.native_handle(), POLLIN, timeout_, wake_fd_, ec)) return 0;
    return socket_.read_some(buffers, ec);
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers, beast::error_code& ec) {
    ec = {};
    if (!WaitReady(socket_.native_handle(), POLLOUT, timeout_, -1, ec)) return 0;
    return socket_.write_some(buffers, ec);
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  tcp::socket& socket_;
  Millis timeout_;
  int wake_fd_;
};

std::string StatusJson(int code, std::string_view reason, std::string_view message) {
  boost::json::object o{{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", boost::json::object()},
                        {"status", "Failure"},  {"message", message}, {"reason", reason},
                        {"code", code}};
  return boost::json::serialize(o);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), acceptor_(ioc_) {}

  ~Impl() {
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  Status Bind() {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return Status::IoError("eventfd: " + std::string(std::strerror(errno)));
    beast::error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("listen address " + Quote(options_.host) + ": " + ec.message());
    tcp::endpoint ep(addr, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::IoError("listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                             ec.message());
    port_ = acceptor_.local_endpoint().port();
    if (!options_.tls_cert_file.empty()) {
      tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1,
                        ec);
      tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) return Status::IoError(options_.tls_cert_file + ": " + ec.message());
      tls_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
      if (ec) return Status::IoError(options_.tls_key_file + ": " + ec.message());
    }
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    return Status::Ok();
  }

  uint16_t port() const { return port_; }

  void Shutdown() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        // Another caller is (or was) shutting down; wait for it below.
      }
      stopping_ = true;
    }
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof one);
    if (accept_thread_.joinable()) accept_thread_.join();
    std::list<Conn> conns;
    {
      std::unique_lock<std::mutex> lock(mu_);
      conns.swap(conns_);
    }
    for (Conn& c : conns)
      if (c.thread.joinable()) c.thread.join();
    beast::error_code ec;
    acceptor_.close(ec);
  }

  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  }

 private:
  struct Conn {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void AcceptLoop() {
    while (true) {
      beast::error_code ec;
      if (!WaitReady(acceptor_.native_handle(), POLLIN, Millis(1000), wake_fd_, ec)) {
        if (ec == asio::error::timed_out) {
          ReapFinished();
          continue;
        }
        return;  // woken for shutdown
      }
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      ReapFinished();
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (static_cast<int>(conns_.size()) >= options_.max_connections) {
        // Over the cap: answer without a thread and close.
        TimedStream stream(socket, Millis(1000));
        http::response<http::string_body> res{http::status::service_unavailable, 11};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::connection, "close");
        res.body() = StatusJson(503, "ServiceUnavailable", "too many connections");
        res.prepare_payload();
        http::write(stream, res, ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        TW_LOG_WARN("http: connection cap ({}) reached, refused a connection", options_.max_connections);
        continue;
      }
      conns_.emplace_back();
      Conn& conn = conns_.back();
      conn.thread = std::thread([this, s = std::move(socket), &conn]() mutable {
        ServeConnection(std::move(s));
        conn.done = true;
      });
    }
  }

  void ReapFinished() {
    std::list<Conn> finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        auto next = std::next(it);
        if (it->done) finished.splice(finished.end(), conns_, it);
        it = next;
      }
    }
    for (Conn& c : finished) c.thread.join();
  }

  template <class Stream>
  class Writer : public ResponseWriter {
   public:
    Writer(Impl& server, tcp::socket& socket, Stream& stream, bool keep_alive)
        : server_(server), socket_(socket), stream_(stream), keep_alive_(keep_alive) {}

    void Send(int code, std::string_view content_type, std::string body,
              const HttpHeaders& extra_headers) override {
      if (responded_) return;
      responded_ = true;
      code_ = code;
      http::response<http::string_body> res{static_cast<http::status>(code), 11};
      res.set(http::field::content_type, content_type);
      for (const auto& [k, v] : extra_headers) res.insert(k, v);
      res.keep_alive(keep_alive_);
      res.body() = std::move(body);
      res.prepare_payload();
      beast::error_code ec;
      http::write(stream_, res, ec);
      if (ec) failed_ = true;
    }

    bool StartStream(int code, std::string_view content_type) override {
      if (responded_) return false;
      responded_ = true;
      streaming_ = true;
      code_ = code;
      http::response<http::empty_body> res{static_cast<http::status>(code), 11};
      res.set(http::field::content_type, content_type);
      res.set(http::field::cache_control, "no-cache, private");
      res.chunked(true);
      res.keep_alive(keep_alive_);
      http::response_serializer<http::empty_body> sr{res};
      beast::error_code ec;
      http::write_header(stream_, sr, ec);
      if (ec) failed_ = true;
      return !failed_;
    }

    bool WriteChunk(std::string_view data) override {
      if (!streaming_ || failed_) return false;
      if (data.empty()) return true;  // an empty chunk would end the stream
      beast::error_code ec;
      asio::write(stream_, http::make_chunk(asio::buffer(data.data(), data.size())), ec);
      if (ec) failed_ = true;
      return !failed_;
    }

    void EndStream() override {
      if (!streaming_ || ended_) return;
      ended_ = true;
      if (failed_) return;
      beast::error_code ec;
      asio::write(stream_, http::make_chunk_last(), ec);
      if (ec) failed_ = true;
    }

    bool Stopping() override {
      if (failed_ || server_.stopping()) return true;
      // A client that hung up shows as readable with nothing to read.
      pollfd p{socket_.native_handle(), POLLIN | POLLRDHUP, 0};
      if (poll(&p, 1, 0) > 0) {
        if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return failed_ = true;
      }
      return false;
    }

    bool responded() const { return responded_; }
    bool usable() const { return !failed_ && (!streaming_ || ended_); }
    int code() const { return code_; }

   private:
    Impl& server_;
    tcp::socket& socket_;
    Stream& stream_;
    bool keep_alive_;
    bool responded_ = false;
    bool streaming_ = false;
    bool ended_ = false;
    bool failed_ = false;
    int code_ = 0;
  };

  // Writes a small error response outside the handler (limits, bad syntax).
  template <class Stream>
  void SendError(Stream& stream, http::status status, std::string_view reason, std::string_view message) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::connection, "close");
    res.body() = StatusJson(static_cast<int>(status), reason, message);
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream, res, ec);
  }

  void ServeConnection(tcp::socket socket) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    {
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    TimedStream timed(socket, options_.io_timeout, wake_fd_);
    if (tls_ != nullptr) {
      // TLS and plain HTTP share the port: a TLS connection starts with a
      // handshake record (0x16), an HTTP request with a letter.
      if (!WaitReady(socket.native_handle(), POLLIN, options_.idle_timeout, wake_fd_, ec)) return Close(socket);
      unsigned char first = 0;
      if (recv(socket.native_handle(), &first, 1, MSG_PEEK) == 1 && first == 0x16) {
        asio::ssl::stream<TimedStream> tls(timed, *tls_);
        tls.handshake(asio::ssl::stream_base::server, ec);
        if (ec) return Close(socket);
        ServeLoop(tls, socket, remote);
        return Close(socket);
      }
    }
    ServeLoop(timed, socket, remote);
    Close(socket);
  }

  static void Close(tcp::socket& socket) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  template <class Stream>
  void ServeLoop(Stream& stream, tcp::socket& socket, const std::string& remote) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    while (true) {
      // Idle between requests: wait up to idle_timeout (shutdown interrupts
      // it).  Not for TLS: OpenSSL may already hold the next request (Go
      // sends it together with the handshake), so the socket may stay
      // quiet; there the read's own timeout bounds the idle time.
      if (buffer.size() == 0 && std::is_same_v<Stream, TimedStream>) {
        if (stopping() ||
            !WaitReady(socket.native_handle(), POLLIN, options_.idle_timeout, wake_fd_, ec))
          break;
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      http::read_header(stream, buffer, parser, ec);
      if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
        break;
      if (ec == http::error::header_limit) {
        SendError(stream, http::status::request_header_fields_too_large, "RequestHeaderFieldsTooLarge",
                  "request header larger than " + std::to_string(options_.max_header_bytes) + " bytes");
        break;
      }
      if (ec == http::error::body_limit) {  // Content-Length over the limit
        SendError(stream, http::status::payload_too_large, "RequestEntityTooLarge",
                  "the request body is too large: the limit is " + std::to_string(options_.max_body_bytes) +
                      " bytes");
        break;
      }
      if (ec) {
        if (ec != asio::error::timed_out && ec != asio::error::operation_aborted)
          SendError(stream, http::status::bad_request, "BadRequest", "malformed HTTP request: " + ec.message());
        break;
      }
      auto& hdr = parser.get();
      if (auto len = parser.content_length(); len && *len > options_.max_body_bytes) {
        SendError(stream, http::status::payload_too_large, "RequestEntityTooLarge",
                  "the request body is too large: " + std::to_string(*len) + " bytes, the limit is " +
                      std::to_string(options_.max_body_bytes));
        break;
      }
      if (beast::iequals(hdr[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        http::write(stream, cont, ec);
        if (ec) break;
      }
      http::read(stream, buffer, parser, ec);
      if (ec == http::error::body_limit) {
        SendError(stream, http::status::payload_too_large, "RequestEntityTooLarge",
                  "the request body is too large: the limit is " + std::to_string(options_.max_body_bytes) +
                      " bytes");
        break;
      }
      if (ec) {
        if (ec != asio::error::timed_out && ec != asio::error::eof && ec != http::error::partial_message)
          SendError(stream, http::status::bad_request, "BadRequest", "malformed HTTP request: " + ec.message());
        break;
      }
      http::request<http::string_body> req = parser.release();
      HttpRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.remote = remote;
      auto url = boost::urls::parse_origin_form(request.target);
      if (!url) {
        SendError(stream, http::status::bad_request, "BadRequest", "malformed request target");
        break;
      }
      request.path = url->path();
      for (auto param : url->params()) request.query.emplace_back(param.key, param.has_value ? param.value : "");
      for (const auto& field : req)
        request.headers.emplace_back(ToLower(field.name_string()), std::string(field.value()));
      request.body = std::move(req.body());
      bool keep_alive = req.keep_alive() && !stopping();

      auto started = std::chrono::steady_clock::now();
      Writer<Stream> writer(*this, socket, stream, keep_alive);
      try {
        handler_(request, writer);
      } catch (const std::exception& e) {
        // Handlers return Status; this is the last line of defence so that
        // one bad request never takes the daemon down.
        TW_LOG_ERROR("http: handler threw on {} {}: {}", request.method, request.path, e.what());
        if (!writer.responded())
          writer.Send(500, "application/json", StatusJson(500, "InternalError", "internal error"), {});
      }
      if (!writer.responded())
        writer.Send(500, "application/json", StatusJson(500, "InternalError", "no response"), {});
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      // Only the method and path: never bodies (Secrets) or headers (tokens).
      TW_LOG_DEBUG("http: {} {} {} -> {} ({} us)", remote, request.method, request.path, writer.code(),
                    micros.count());
      if (!keep_alive || !writer.usable()) break;
    }
  }

  HttpServerOptions options_;
  std::unique_ptr<asio::ssl::context> tls_;  // null: plain HTTP only
  HttpHandler handler_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int wake_fd_ = -1;
  std::thread accept_thread_;
  std::mutex mu_;
  bool stopping_ = false;     // guarded by mu_
  std::list<Conn> conns_;     // guarded by mu_
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  TW_RETURN_IF_ERROR(impl->Bind());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Shutdown() {
  if (impl_) impl_->Shutdown();
}

}  // namespace tw::api
