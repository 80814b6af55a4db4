#include "tests/feeds/feed_test_server.h"

#include "base/strings.h"
#include "daemon/tls_cert.h"
#include "feeds/fetch/fetcher.h"

#include <unistd.h>
#include <zlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace tw::testing {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

struct FeedTestServer::Impl {
  std::unique_ptr<ssl::context> ssl_ctx;  // outlives `io`: its streams use it
  // Pointers so that Stop() can destroy them: the io_context owns the
  // frames of the pending coroutines, and with them the open sockets.
  std::unique_ptr<asio::io_context> io = std::make_unique<asio::io_context>();
  std::unique_ptr<tcp::acceptor> acceptor = std::make_unique<tcp::acceptor>(*io);
  std::thread thread;
  bool stopped = false;

  mutable std::mutex mu;
  std::map<std::string, Route> routes;
  std::map<std::string, std::vector<Headers>> requests;
};

namespace {

std::string_view Reason(int status) { return feeds::fetch_internal::HttpReasonPhrase(status); }

bool NoBodyStatus(int status) { return status == 204 || status == 304 || (status >= 100 && status < 200); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> FindHeader(const FeedTestServer::Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}


// The response head; `content_length` < 0 = no Content-Length header.
std::string Head(int status, const Route& route, long long content_length,
                 const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(Reason(status)) + "\r\n";
  head += "Connection: close\r\n";
  if (content_length >= 0) {
    head += "Content-Type: " + route.content_type + "\r\n";
    head += "Content-Length: " + std::to_string(content_length) + "\r\n";
  }
  if (!route.etag.empty()) head += "ETag: " + route.etag + "\r\n";
  if (!route.last_modified.empty()) head += "Last-Modified: " + route.last_modified + "\r\n";
  for (const auto& [k, v] : extra) head += k + ": " + v + "\r\n";
  head += "\r\n";
  return head;
}

bool NotModified(const Route& route, const FeedTestServer::Headers& headers) {
  if (!route.etag.empty()) {
    if (auto inm = FindHeader(headers, "If-None-Match")) {
      std::string_view list = *inm;
      while (!list.empty()) {
        size_t comma = list.find(',');
        if (Trim(list.substr(0, comma)) == route.etag || Trim(list.substr(0, comma)) == "*") return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    }
  }
  if (!route.last_modified.empty()) {
    if (auto ims = FindHeader(headers, "If-Modified-Since"); ims && *ims == route.last_modified) return true;
  }
  return false;
}

tcp::socket& Lowest(tcp::socket& s) { return s; }
tcp::socket& Lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

template <typename Stream>
awaitable<void> Write(Stream& stream, std::string_view data) {
  co_await asio::async_write(stream, asio::buffer(data.data(), data.size()), use_awaitable);
}

// A clean end of the response: FIN after the last byte.
void CloseGracefully(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

template <typename Stream>
awaitable<void> Handle(FeedTestServer::Impl* impl, Stream& stream) {
  std::string in;
  co_await asio::async_read_until(stream, asio::dynamic_buffer(in, 64 * 1024), "\r\n\r\n", use_awaitable);

  std::istringstream lines(in.substr(0, in.find("\r\n\r\n") + 2));
  std::string line;
  std::getline(lines, line);
  std::string target;
  {
    std::istringstream request_line(line);
    std::string method;
    request_line >> method >> target;
  }
  std::string path = target.substr(0, target.find('?'));
  FeedTestServer::Headers headers;
  while (std::getline(lines, line)) {
    std::string_view l = Trim(line);
    if (l.empty()) continue;
    size_t colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(std::string(Trim(l.substr(0, colon))), std::string(Trim(l.substr(colon + 1))));
  }

  std::optional<Route> found;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->requests[path].push_back(headers);
    if (auto it = impl->routes.find(path); it != impl->routes.end()) found = it->second;
  }
  tcp::socket& socket = Lowest(stream);
  if (!found) {
    Route none;
    none.body = "404 page not found\n";
    co_await Write(stream, Head(404, none, static_cast<long long>(none.body.size())) + none.body);
    CloseGracefully(socket);
    co_return;
  }
  const Route& route = *found;

  switch (route.behavior) {
    case Behavior::kServe:
    case Behavior::kGzip: {
      if (NotModified(route, headers)) {
        co_await Write(stream, Head(304, route, -1));
        break;
      }
      if (route.behavior == Behavior::kServe) {
        co_await Write(stream,
                       Head(route.status, route, static_cast<long long>(route.body.size())) + route.body);
      } else {
        std::string gz = Gzip(route.body);
        std::vector<std::pair<std::string, std::string>> extra;
        extra.emplace_back("Content-Encoding", "gzip");
        std::string response = Head(route.status, route, static_cast<long long>(gz.size()), extra) + gz;
        co_await Write(stream, response);
      }
      break;
    }
    case Behavior::kStatus:
      if (NoBodyStatus(route.status)) {
        co_await Write(stream, Head(route.status, route, -1));
      } else {
        co_await Write(stream,
                       Head(route.status, route, static_cast<long long>(route.body.size())) + route.body);
      }
      break;
    case Behavior::kReset: {
      // SO_LINGER with a zero timeout makes close() send RST, not FIN.
      boost::system::error_code ec;
      socket.set_option(asio::socket_base::linger(true, 0), ec);
      socket.close(ec);
      co_return;
    }
    case Behavior::kSlowDrip: {
      co_await Write(stream, Head(route.status, route, static_cast<long long>(route.body.size())));
      asio::steady_timer timer(co_await asio::this_coro::executor);
      for (char c : route.body) {
        timer.expires_after(route.drip_interval);
        co_await timer.async_wait(use_awaitable);
        co_await Write(stream, std::string_view(&c, 1));
      }
      break;
    }
    case Behavior::kBadGzip: {
      std::string gz = Gzip(route.body);
      // Flip bits in the deflate data, past the 10-byte gzip header.
      for (size_t i = 10; i < gz.size() && i < 74; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
      std::vector<std::pair<std::string, std::string>> extra;
      extra.emplace_back("Content-Encoding", "gzip");
      std::string response = Head(route.status, route, static_cast<long long>(gz.size()), extra) + gz;
      co_await Write(stream, response);
      break;
    }
    case Behavior::kTruncated:
      co_await Write(stream, Head(route.status, route, static_cast<long long>(route.body.size())) +
                                 route.body.substr(0, route.body.size() / 2));
      break;
    case Behavior::kWrongLength:
      co_await Write(stream,
                     Head(route.status, route, static_cast<long long>(route.body.size()) + 100) + route.body);
      break;
    case Behavior::kRedirectLoop: {
      std::vector<std::pair<std::string, std::string>> extra;
      extra.emplace_back("Location", route.path);
      std::string response = Head(302, Route{}, 0, extra);
      co_await Write(stream, response);
      break;
    }
    case Behavior::kRedirect: {
      int status = route.status >= 300 && route.status < 400 ? route.status : 302;
      std::vector<std::pair<std::string, std::string>> extra;
      extra.emplace_back("Location", route.location);
      std::string response = Head(status, Route{}, 0, extra);
      co_await Write(stream, response);
      break;
    }
    case Behavior::kHang: {
      asio::steady_timer forever(co_await asio::this_coro::executor,
                                 std::chrono::steady_clock::time_point::max());
      co_await forever.async_wait(use_awaitable);
      break;
    }
  }
  CloseGracefully(socket);
}

awaitable<void> Serve(FeedTestServer::Impl* impl, tcp::socket socket) {
  try {
    if (impl->ssl_ctx) {
      ssl::stream<tcp::socket> stream(std::move(socket), *impl->ssl_ctx);
      co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
      co_await Handle(impl, stream);
    } else {
      co_await Handle(impl, socket);
    }
  } catch (const std::exception&) {
    // A client that went away, a failed handshake: nothing to report.
  }
}

awaitable<void> AcceptLoop(FeedTestServer::Impl* impl) {
  for (;;) {
    auto [ec, socket] = co_await impl->acceptor->async_accept(asio::as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted || !impl->acceptor->is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE; keep serving
    asio::co_spawn(*impl->io, Serve(impl, std::move(socket)), asio::detached);
  }
}

Result<std::string> Slurp(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::InvalidArgument("feed test server: " + std::string(what) + " " + path + ": cannot read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string Gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Result<std::unique_ptr<FeedTestServer>> FeedTestServer::Start(const Options& options) {
  std::unique_ptr<FeedTestServer> server(new FeedTestServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  server->tls_ = options.tls;

  if (options.tls) {
    std::string cert_pem, key_pem;
    if (options.cert_pem_file.empty() != options.key_pem_file.empty()) {
      return Status::InvalidArgument("feed test server: cert_pem_file and key_pem_file go together");
    }
    if (!options.cert_pem_file.empty()) {
      TW_ASSIGN_OR_RETURN(cert_pem, Slurp(options.cert_pem_file, "cert_pem_file"));
      TW_ASSIGN_OR_RETURN(key_pem, Slurp(options.key_pem_file, "key_pem_file"));
    } else {
      TW_ASSIGN_OR_RETURN(auto pair, daemon::MakeSelfSignedPem("127.0.0.1", "IP:127.0.0.1,DNS:localhost", 365));
      cert_pem = std::move(pair.cert);
      key_pem = std::move(pair.key);
    }
    try {
      impl.ssl_ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      impl.ssl_ctx->use_certificate_chain(asio::buffer(cert_pem));
      impl.ssl_ctx->use_private_key(asio::buffer(key_pem), ssl::context::pem);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("feed test server: TLS certificate/key rejected: ") +
                                     e.what());
    }
    char tmpl[] = "/tmp/tw-feed-test-ca-XXXXXX.pem";
    int fd = mkstemps(tmpl, 4);
    if (fd < 0) return Status::IoError("feed test server: cannot create a temp CA file in /tmp");
    server->ca_pem_file_ = tmpl;
    bool written = write(fd, cert_pem.data(), cert_pem.size()) == static_cast<ssize_t>(cert_pem.size());
    close(fd);
    if (!written) return Status::IoError("feed test server: cannot write " + server->ca_pem_file_);
    server->ca_pem_ = std::move(cert_pem);
  }

  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), options.port);
  impl.acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(endpoint, ec);
  if (!ec) impl.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("feed test server: listen on 127.0.0.1:" + std::to_string(options.port) + ": " +
                           ec.message());
  }
  server->port_ = impl.acceptor->local_endpoint().port();
  asio::co_spawn(*impl.io, AcceptLoop(&impl), asio::detached);
  impl.thread = std::thread([&impl] { impl.io->run(); });
  return server;
}

FeedTestServer::~FeedTestServer() {
  Stop();
  if (!ca_pem_file_.empty()) std::remove(ca_pem_file_.c_str());
}

void FeedTestServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // Stopping the io_context abandons every pending coroutine (hanging and
  // dripping connections included); destroying it destroys their frames
  // and so closes their sockets.
  impl_->io->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->acceptor.reset();
  impl_->io.reset();
}

void FeedTestServer::SetRoute(Route route) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::string path = route.path;
  impl_->routes[path] = std::move(route);
}

void FeedTestServer::SetBody(const std::string& path, std::string body) {
  Route route;
  route.path = path;
  route.body = std::move(body);
  SetRoute(std::move(route));
}

void FeedTestServer::RemoveRoute(const std::string& path) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->routes.erase(path);
}

std::string FeedTestServer::Url(std::string_view path) const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

size_t FeedTestServer::Hits(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(path);
  return it == impl_->requests.end() ? 0 : it->second.size();
}

std::vector<FeedTestServer::Headers> FeedTestServer::Requests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(path);
  return it == impl_->requests.end() ? std::vector<Headers>{} : it->second;
}

std::optional<std::string> FeedTestServer::LastHeader(const std::string& path, std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(path);
  if (it == impl_->requests.end() || it->second.empty()) return std::nullopt;
  return FindHeader(it->second.back(), name);
}

}  // namespace tw::testing
