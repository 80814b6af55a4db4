#include "cli/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <exception>
#include <optional>

#include "base/strings.h"

namespace tw::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return Status::InvalidArgument("invalid server URL " + Quote(url) + ": " + parsed.error().message() +
                                   " (expected http://HOST:PORT)");
  }
  std::string scheme = ToLower(parsed->scheme());
  if (scheme == "https") {
    return Status::Unsupported("server URL " + Quote(url) + ": https:// is not supported yet; use http://");
  }
  if (scheme != "http") {
    return Status::Unsupported("server URL " + Quote(url) + ": scheme " + Quote(scheme) +
                               " is not supported (expected http://HOST:PORT)");
  }
  ServerUrl out;
  out.host = std::string(parsed->encoded_host());
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return Status::InvalidArgument("server URL " + Quote(url) + ": missing host");
  out.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string path(parsed->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.path_prefix = path;
  out.text = std::string(url);
  while (!out.text.empty() && out.text.back() == '/') out.text.pop_back();
  return out;
}

namespace {

// Runs one exchange on a fresh connection.  `sink` receives body bytes of a
// 2xx response when streaming; otherwise the body is collected.
struct Exchange {
  const ServerUrl* server = nullptr;
  const HttpRequest* request = nullptr;
  std::chrono::milliseconds timeout{0};
  const std::function<bool(std::string_view)>* sink = nullptr;  // null: collect

  HttpResponse response;
  std::optional<Status> error;

  Status Fail(std::string_view what, const boost::system::error_code& ec) {
    std::string reason = ec.message();
    if (ec == beast::error::timeout) reason = "timed out";
    return Status::Unavailable(std::string(what) + " " + server->text + ": " + reason);
  }

  asio::awaitable<void> Run() {
    constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    beast::tcp_stream stream(executor);
    if (timeout.count() > 0) {
      stream.expires_after(timeout);
    } else {
      stream.expires_never();
    }

    auto [rec, endpoints] = co_await resolver.async_resolve(server->host, server->port, kTuple);
    if (rec) {
      error = Fail("cannot resolve", rec);
      co_return;
    }
    auto [cec, unused_endpoint] = co_await stream.async_connect(endpoints, kTuple);
    if (cec) {
      error = Fail("cannot connect to", cec);
      co_return;
    }

    http::request<http::string_body> req;
    req.method_string(request->method);
    req.target(server->path_prefix + request->target);
    req.version(11);
    req.set(http::field::host, server->host + ":" + server->port);
    req.set(http::field::user_agent, "threatwall/" TW_VERSION);
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : request->headers) req.set(name, value);
    if (!request->body.empty() || request->method == "POST" || request->method == "PUT" ||
        request->method == "PATCH") {
      req.body() = request->body;
      req.prepare_payload();
    }
    auto [wec, unused_written] = co_await http::async_write(stream, req, kTuple);
    if (wec) {
      error = Fail("cannot send request to", wec);
      co_return;
    }

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [hec, unused_header] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    if (hec) {
      error = Fail("no response from", hec);
      co_return;
    }
    response.status = static_cast<int>(parser.get().result_int());
    response.content_type = std::string(parser.get()[http::field::content_type]);
    bool stream_body = sink != nullptr && response.status / 100 == 2;

    char chunk[16 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof(chunk);
      auto [bec, unused_read] = co_await http::async_read_some(stream, buffer, parser, kTuple);
      if (bec == http::error::need_buffer) bec = {};
      size_t got = sizeof(chunk) - parser.get().body().size;
      if (got > 0) {
        if (stream_body) {
          if (!(*sink)(std::string_view(chunk, got))) break;
        } else {
          response.body.append(chunk, got);
        }
      }
      if (bec == http::error::end_of_stream || bec == http::error::partial_message) {
        // The server closed a stream; what arrived is all there is.
        if (stream_body) break;
      }
      if (bec) {
        error = Fail("error reading the response from", bec);
        co_return;
      }
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

Result<HttpResponse> RunExchange(Exchange& ex) {
  try {
    asio::io_context ioc;
    std::exception_ptr failure;
    asio::co_spawn(ioc, ex.Run(), [&failure](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return Status::Unavailable("request to " + ex.server->text + " failed: " + e.what());
  }
  if (ex.error) return *ex.error;
  return std::move(ex.response);
}

}  // namespace

Result<HttpResponse> HttpClient::Do(const HttpRequest& request) const {
  Exchange ex;
  ex.server = &server_;
  ex.request = &request;
  ex.timeout = timeout_;
  return RunExchange(ex);
}

Result<HttpResponse> HttpClient::Stream(const HttpRequest& request,
                                        const std::function<bool(std::string_view)>& on_data) const {
  Exchange ex;
  ex.server = &server_;
  ex.request = &request;
  ex.timeout = timeout_;
  ex.sink = &on_data;
  return RunExchange(ex);
}

}  // namespace tw::cli
