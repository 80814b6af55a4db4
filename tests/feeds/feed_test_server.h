// FeedTestServer: a small, deliberately misbehaving HTTP/1.1 feed server on
// 127.0.0.1 for tests of the fetcher, the feed controller and the demo.
//
// One thread runs a Boost.Asio io_context; every connection is a coroutine
// on it, so a hanging or dripping connection never blocks the others, and
// the destructor (or Stop) returns promptly even with clients attached.
// Every response carries `Connection: close` (one request per connection).
//
// Routes are matched on the exact request path (the query string is
// ignored); an unknown path answers 404.  With Options::tls the server
// speaks HTTPS with a self-signed certificate for 127.0.0.1/localhost
// (generated in memory with OpenSSL unless cert files are given);
// ca_pem_file() is a PEM file a client can trust (FetchLimits::ca_file).
//
// Thread-safe: every method may be called from any thread while serving.
#ifndef TW_TESTS_FEEDS_FEED_TEST_SERVER_H_
#define TW_TESTS_FEEDS_FEED_TEST_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tw::testing {

enum class Behavior {
  kServe,         // `status` (200) with `body`; ETag/Last-Modified honoured -> 304
  kStatus,        // `status` with `body` (may be empty); 304/204 send no body
  kReset,         // read the request, then close with SO_LINGER 0 (TCP RST)
  kSlowDrip,      // headers with the full Content-Length, then one body byte per drip_interval
  kTruncated,     // Content-Length = body size, send the first half, close
  kWrongLength,   // Content-Length = body size + 100, send the body, close
  kGzip,          // gzip the body, Content-Encoding: gzip (ETag rules as kServe)
  kRedirectLoop,  // 302 to the route's own path
  kRedirect,      // `status` if 3xx else 302, Location: `location`
  kHang,          // read the request, never answer (until the server stops)
  kBadGzip,       // Content-Encoding: gzip, but the body is corrupt gzip
};

struct Route {
  std::string path;  // exact match, e.g. "/snort.txt"
  Behavior behavior = Behavior::kServe;
  int status = 200;  // kStatus: the status to answer (500, 404, 304 ...); kServe: usually 200
  std::string body;  // kServe/kStatus/kGzip/kSlowDrip/kTruncated/kWrongLength
  std::string content_type = "text/plain";
  // Sent when set.  kServe/kGzip answer 304 (no body) when the request's
  // If-None-Match equals `etag` or its If-Modified-Since equals
  // `last_modified` (string equality).
  std::string etag;
  std::string last_modified;
  std::string location;                          // kRedirect: absolute URL or path
  std::chrono::milliseconds drip_interval{200};  // kSlowDrip: one byte per interval
};

// gzip (RFC 1952) of `data`, as kGzip routes send it; also for tests that
// need a gzip file.
std::string Gzip(std::string_view data);

class FeedTestServer {
 public:
  struct Options {
    bool tls = false;
    uint16_t port = 0;          // 0 = any free port
    std::string cert_pem_file;  // TLS: use this certificate (chain) instead of a generated one
    std::string key_pem_file;   //      and this private key (both or neither)
  };
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // Binds 127.0.0.1:port, starts the serving thread.  Errors: IoError
  // (bind/listen, temp file), InvalidArgument (unreadable cert/key files),
  // Internal (OpenSSL failure).
  static Result<std::unique_ptr<FeedTestServer>> Start(const Options& options);
  static Result<std::unique_ptr<FeedTestServer>> Start() { return Start(Options()); }

  ~FeedTestServer();  // Stop(), removes the temp CA file
  FeedTestServer(const FeedTestServer&) = delete;
  FeedTestServer& operator=(const FeedTestServer&) = delete;

  // Stops accepting, drops every open connection, joins the thread.
  // Idempotent.
  void Stop();

  // Adds a route, replacing one with the same path.
  void SetRoute(Route route);
  // kServe shortcut: 200 with `body` (keeps nothing of an earlier route).
  void SetBody(const std::string& path, std::string body);
  void RemoveRoute(const std::string& path);

  uint16_t port() const { return port_; }
  bool tls() const { return tls_; }
  // "http(s)://127.0.0.1:PORT" + path (path should start with '/').
  std::string Url(std::string_view path) const;
  // TLS: a PEM file holding the server certificate, usable as a CA bundle
  // (deleted in the destructor).  "" without TLS.
  const std::string& ca_pem_file() const { return ca_pem_file_; }
  const std::string& ca_pem() const { return ca_pem_; }

  // Requests received for `path` (any route or none), counted once the
  // request head was read.
  size_t Hits(const std::string& path) const;
  // The header lines of each request for `path`, in arrival order, names
  // and values as sent.
  std::vector<Headers> Requests(const std::string& path) const;
  // The value of header `name` (case-insensitive) in the latest request for
  // `path`; nullopt when there is no such request or header.
  std::optional<std::string> LastHeader(const std::string& path, std::string_view name) const;

  struct Impl;  // public only so the .cc's free functions can name it

 private:
  FeedTestServer() = default;

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
  std::string ca_pem_file_;
  std::string ca_pem_;
};

}  // namespace tw::testing

#endif  // TW_TESTS_FEEDS_FEED_TEST_SERVER_H_
