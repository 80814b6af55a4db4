// Fetcher: one GET of a feed URL (http, https, file), the only network edge
// of the feed controller.  CurlFetcher is the real one (libcurl);
// FakeFetcher answers from a script for controller unit tests.
//
// What a fetch guarantees (DESIGN.md §6):
//  * http/https: redirects followed up to FetchLimits::max_redirects (a loop
//    is an error, not a hang); TLS verified against the system store plus
//    FetchLimits::ca_file; gzip/deflate bodies decoded (Accept-Encoding
//    sent); a decoded body over max_body_bytes is aborted as soon as it
//    passes the limit (never buffered whole); a body shorter than its
//    Content-Length, or a connection reset mid-body, is an error (never a
//    silently short feed).
//  * Conditional pulls: If-None-Match / If-Modified-Since sent when the
//    request carries them; 304 -> FetchResult::not_modified (no body).
//  * file://PATH (absolute path): read from disk, same size limit; a `.gz`
//    file or a body starting with the gzip magic is decoded.
//  * Timeouts: connect_timeout; stall_timeout = no byte received for that
//    long (a slow drip that stalls); total_timeout for the whole fetch.
//
// Errors (Status codes; messages name the URL -- never a header value --
// and the reason, e.g. "http://127.0.0.1:8080/x: HTTP 503 Service
// Unavailable"):
//   Unavailable     transient: HTTP 5xx, 408, 429, timeouts, connection
//                   refused/reset, truncated body.  The controller retries
//                   these with backoff.
//   NotFound        HTTP 404/410, or a missing file.
//   PermissionDenied HTTP 401/403.
//   TooLarge        body over max_body_bytes.
//   InvalidArgument bad URL, unsupported scheme, other 4xx, TLS verification
//                   failure (e.g. self-signed), too many redirects, a body
//                   that fails to decode (bad gzip).
//   IoError         file:// read error.
// Thread-safe: Fetch() may be called from several threads at once.
#ifndef TW_FEEDS_FETCH_FETCHER_H_
#define TW_FEEDS_FETCH_FETCHER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tw::feeds {

struct FetchLimits {
  size_t max_body_bytes = size_t{256} << 20;  // after decoding
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds total_timeout{std::chrono::minutes(5)};
  int max_redirects = 5;
  // Extra CA bundle (PEM) trusted besides the system store (its certificates
  // are added to the default bundle; the default CA directory stays on).
  std::string ca_file;
  // Name resolution.  pinned_hosts: HOST -> ADDRESS used instead of DNS
  // (for ports 80, 443 and the URL's own).  allow_dns = false: a host that
  // is not an IP literal, "localhost" or pinned fails at once with
  // Unavailable "... name resolution is off" -- no DNS query leaves the
  // machine (tests and demos; threatwalld --feed-offline), redirects
  // included.  Proxies from the environment are ignored then too.
  std::vector<std::pair<std::string, std::string>> pinned_hosts;
  bool allow_dns = true;
  // Set to true from another thread to abort a fetch in progress (within
  // ~200 ms): Unavailable "... cancelled".  nullptr = not cancellable.
  const std::atomic<bool>* cancel = nullptr;
  // Network namespace to connect from: a name under /run/netns ("" = the
  // caller's own).  threatwalld --node-netns pulls feeds from the node's
  // namespace, where its uplink is.  Needs CAP_SYS_ADMIN.
  std::string netns;
};

struct FetchRequest {
  std::string url;
  // Resolved header values (secrets included: never log them).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string if_none_match;      // ETag of the last good pull, "" = none
  std::string if_modified_since;  // Last-Modified of the last good pull, "" = none
};

struct FetchResult {
  bool not_modified = false;  // HTTP 304: body empty, the previous set stands
  int http_status = 0;        // 0 for file://
  std::string body;           // decoded
  std::string etag;           // response ETag, "" if none
  std::string last_modified;  // response Last-Modified, "" if none
  std::string final_url;      // after redirects
  size_t wire_bytes = 0;      // bytes received before decoding
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<FetchResult> Fetch(const FetchRequest& request, const FetchLimits& limits) = 0;
};

// libcurl, loaded with dlopen on the first http(s) fetch (fetch/libcurl.h;
// curl_global_init runs once, thread-safely); a missing library is an
// Unavailable error of that fetch.  Cheap to construct.  Notes:
//  * The stall clock starts with the fetch and restarts on every header or
//    body byte; it is checked with millisecond precision (libcurl's multi
//    interface, not its 1-second low-speed check).
//  * Content-Length over max_body_bytes (uncoded bodies) fails before any
//    body byte is buffered; error pages (HTTP >= 400) are not buffered.
//  * Redirects may go to http/https only (never to file://).
//  * libcurl honours the http_proxy/https_proxy/no_proxy environment.
//  * Custom headers are sent on every redirect hop; libcurl drops only
//    Authorization and Cookie when a redirect changes host.
class CurlFetcher : public Fetcher {
 public:
  CurlFetcher();
  Result<FetchResult> Fetch(const FetchRequest& request, const FetchLimits& limits) override;
};

// Scripted answers for tests: each Fetch() pops the next queued answer (or
// calls the handler when the queue is empty; NotFound when neither) and
// records the request.
class FakeFetcher : public Fetcher {
 public:
  using Handler = std::function<Result<FetchResult>(const FetchRequest&)>;
  void Push(Result<FetchResult> answer);
  void PushBody(std::string body);  // a 200 with this body
  void SetHandler(Handler handler);
  Result<FetchResult> Fetch(const FetchRequest& request, const FetchLimits& limits) override;
  std::vector<FetchRequest> requests() const;
  size_t request_count() const;

 private:
  mutable std::mutex mu_;
  std::deque<Result<FetchResult>> queue_;
  Handler handler_;
  std::vector<FetchRequest> requests_;
};

// Pure helpers of CurlFetcher, public for tests and for callers that want
// the same wording.
namespace fetch_internal {

// The URL as given minus any userinfo ("https://u:p@h/x" -> "https://h/x"),
// for messages and logs.
std::string RedactUrl(std::string_view url);

// OK for 2xx and 304; otherwise the error of the table above, message
// "URL: HTTP 503 Service Unavailable" (URL as given; redact it first).
// Other 3xx (a redirect that was not followed: no Location) and 1xx are
// InvalidArgument.
Status HttpStatusToStatus(int http_status, std::string_view url);

// "Service Unavailable" for 503; "" for codes not in the small table.
std::string_view HttpReasonPhrase(int http_status);

// http, https and file (lower-case compare) are supported; anything else,
// or no "scheme://", is InvalidArgument naming the URL.
Result<std::string> UrlScheme(std::string_view url);

// "file:///abs/path" or "file://localhost/abs/path" -> "/abs/path"
// (%XX decoded).  InvalidArgument for a relative path, another host, an
// empty path or a bad/NUL escape.
Result<std::string> FileUrlPath(std::string_view url);

// Decodes a gzip (or zlib) stream, several concatenated gzip members
// included.  TooLarge as soon as the output passes `max_bytes`;
// InvalidArgument for corrupt, truncated or trailing data.  `what` names
// the input in messages.
Result<std::string> GunzipBounded(std::string_view data, size_t max_bytes, std::string_view what);

// True when `data` starts with the gzip magic 1f 8b.
bool LooksGzipped(std::string_view data);

// The file:// half of CurlFetcher::Fetch (no libcurl involved).
Result<FetchResult> FetchFile(const FetchRequest& request, const FetchLimits& limits);

}  // namespace fetch_internal

}  // namespace tw::feeds

#endif  // TW_FEEDS_FETCH_FETCHER_H_
