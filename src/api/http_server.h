// HttpServer: a small HTTP/1.1 server on Boost.Beast for the API.
//
// Model: synchronous Beast, one thread per connection (simple, and plenty
// for a control plane: a few CLI/kubectl clients and some long watches).
// One accept thread polls the listening socket and a wake-up eventfd; each
// accepted connection gets its own thread that reads requests, calls the
// handler, and writes the response, with keep-alive.
//
// Limits (all in HttpServerOptions): request header size (431), request
// body size (413, answered from Content-Length before the body is read),
// an idle timeout between requests, an I/O timeout for every read/write of
// a request or response, and a cap on concurrent connections (503 and
// close beyond it).  `Expect: 100-continue` is honoured.
//
// TLS: optional, on the same port as plain HTTP (kubectl sends bearer
// tokens only over https; our CLI speaks plain HTTP on loopback).
//
// Watches: the handler may answer with a chunked stream
// (ResponseWriter::StartStream/WriteChunk/EndStream); it should poll
// Stopping() between chunks and end the stream when it turns true.
//
// Shutdown(): stops accepting, closes idle keep-alive connections, lets
// in-flight requests finish (streams see Stopping()), and joins every
// thread.  Thread-safe.
#ifndef TW_API_HTTP_SERVER_H_
#define TW_API_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tw::api {

// One request, fully read.  Header names are lower-case.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/api/v1/pods?watch=1"
  std::string path;    // percent-decoded path: "/api/v1/pods"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // "127.0.0.1:51234"

  // The last value of a query parameter / the first header; "" if absent.
  std::string Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  std::string Header(std::string_view lower_name) const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// How a handler answers.  Use either Send() once, or StartStream(), WriteChunk()*,
// EndStream() once per request; a handler that sends nothing gets a 500.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void Send(int code, std::string_view content_type, std::string body,
                    const HttpHeaders& extra_headers = {}) = 0;
  // Starts a chunked response.  False if the client is gone.
  virtual bool StartStream(int code, std::string_view content_type) = 0;
  // Writes one chunk; false if the client is gone (then stop streaming).
  virtual bool WriteChunk(std::string_view data) = 0;
  virtual void EndStream() = 0;
  // True once the server is shutting down or the client has hung up.
  virtual bool Stopping() = 0;
};

using HttpHandler = std::function<void(const HttpRequest&, ResponseWriter&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port
  size_t max_body_bytes = size_t{32} << 20;
  size_t max_header_bytes = size_t{64} << 10;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};
  int max_connections = 512;
  // PEM files; when set, the same port also speaks TLS (a connection whose
  // first byte is a TLS handshake record gets TLS, others plain HTTP).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Binds host:port and starts accepting on a background thread.  IoError
  // if the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  uint16_t port() const;
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::api

#endif  // TW_API_HTTP_SERVER_H_
