// HttpPoster: one HTTP POST of a webhook payload, the only network edge of
// the webhook dispatcher.  CurlPoster is the real one (libcurl, loaded at
// run time through feeds/fetch/libcurl.h); FakePoster answers from a script
// for unit tests.
//
// What a post guarantees (CurlPoster):
//  * http and https only; TLS verified (system store plus PostOptions::
//    ca_file); redirects are never followed (a 3xx is a failed delivery:
//    a webhook receiver that moves must be re-configured, and a POST body
//    is never replayed to another host).
//  * connect_timeout and total_timeout bound every post; the response body
//    is kept up to 4 KiB (for status messages), the rest discarded.
//  * allow_dns = false: a host that is not an IP literal or "localhost"
//    fails at once (threatwalld --feed-offline; tests) -- no DNS query.
//  * cancel (optional): set from another thread to abort within ~200 ms.
//
// Outcome: Result<PostResponse> -- a response of any status code is a
// value (the caller decides what a 503 means); errors are transport
// failures only:
//   Unavailable      connect refused/failed, timeout, reset, TLS handshake
//                    failure, cancelled, DNS refused -- worth retrying.
//   InvalidArgument  bad URL, unsupported scheme, TLS verification failure,
//                    bad ca_file -- retrying will not help.
// Messages name the URL without userinfo, never a header value.
// Thread-safe: Post() may run on several threads at once.
#ifndef TW_WEBHOOK_HTTP_POSTER_H_
#define TW_WEBHOOK_HTTP_POSTER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tw::webhook {

struct PostRequest {
  std::string url;
  // Header name/value pairs (may hold secrets: never log the values).
  // Content-Type defaults to application/json unless given here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct PostResponse {
  int status = 0;    // HTTP status code
  std::string body;  // first 4 KiB
};

struct PostOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(30)};
  // Extra CA bundle (PEM) trusted besides the system store.
  std::string ca_file;
  bool allow_dns = true;
  const std::atomic<bool>* cancel = nullptr;
};

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual Result<PostResponse> Post(const PostRequest& request, const PostOptions& options) = 0;
};

class CurlPoster : public HttpPoster {
 public:
  Result<PostResponse> Post(const PostRequest& request, const PostOptions& options) override;
};

// Scripted answers for tests.  Post() records the request, then answers
// from the handler when one is set, else from the queue of pushed answers,
// else 200.  Block(url) makes posts to that URL wait until Unblock(url) or
// until the post's cancel flag is set (then Unavailable "cancelled") --
// a webhook that hangs.
class FakePoster : public HttpPoster {
 public:
  using Handler = std::function<Result<PostResponse>(const PostRequest&)>;

  void Push(Result<PostResponse> answer);
  void PushStatus(int status) { Push(PostResponse{status, ""}); }
  void SetHandler(Handler handler);
  void Block(const std::string& url);
  void Unblock(const std::string& url);

  Result<PostResponse> Post(const PostRequest& request, const PostOptions& options) override;

  std::vector<PostRequest> requests() const;
  size_t request_count() const;
  size_t RequestCount(const std::string& url) const;
  // Waits until at least `n` posts to `url` ("" = any URL) were made, up to
  // `limit` (a guard against a hung test, not a timing assertion).
  bool WaitForRequests(const std::string& url, size_t n,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  size_t CountLocked(const std::string& url) const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Result<PostResponse>> queue_;
  Handler handler_;
  std::vector<std::string> blocked_;
  std::vector<PostRequest> requests_;
};

}  // namespace tw::webhook

#endif  // TW_WEBHOOK_HTTP_POSTER_H_
