#include "webhook/http_poster.h"


#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/strings.h"
#include "feeds/fetch/curl_util.h"
#include "feeds/fetch/fetcher.h"
#include "feeds/fetch/libcurl.h"

namespace tw::webhook {

namespace lc = feeds::lc;
using feeds::curl_util::CaBlob;
using feeds::curl_util::DnsGuard;
using feeds::curl_util::EasyDeleter;
using feeds::curl_util::MultiDeleter;
using feeds::curl_util::SetCommonOptions;
using feeds::curl_util::SlistDeleter;

namespace {

constexpr size_t kMaxResponseBody = 4096;
struct Transfer {
  std::string body;
  DnsGuard dns;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->body.size() < kMaxResponseBody)
    t->body.append(data, std::min(len, kMaxResponseBody - t->body.size()));
  return len;  // the rest is read and dropped
}


Status MapCurlError(CURLcode rc, const std::string& shown, const char* errbuf, const Transfer& t,
                    CURL* easy) {
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(lc::curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(shown + ": unsupported protocol (" + detail + ")");
    case CURLE_URL_MALFORMAT:
      return Status::InvalidArgument(shown + ": malformed URL (" + detail + ")");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      if (!t.dns.blocked_host.empty())
        return Status::Unavailable(shown + ": host " + t.dns.blocked_host +
                                   " not resolved: name resolution is off");
      return Status::Unavailable(shown + ": cannot resolve host (" + detail + ")");
    case CURLE_ABORTED_BY_CALLBACK:
      if (!t.dns.blocked_host.empty())
        return Status::Unavailable(shown + ": host " + t.dns.blocked_host +
                                   " not resolved: name resolution is off");
      return Status::Unavailable(shown + ": aborted (" + detail + ")");
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      lc::curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) return Status::Unavailable(shown + ": connection refused");
      return Status::Unavailable(shown + ": cannot connect (" + detail + ")");
    }
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Unavailable(shown + ": timed out (" + detail + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
      return Status::InvalidArgument(shown + ": TLS certificate verification failed: " + detail);
    case CURLE_SSL_CACERT_BADFILE:
      return Status::InvalidArgument(shown + ": cannot load the CA bundle (ca_file): " + detail);
    default:
      return Status::Unavailable(shown + ": " + detail);
  }
}

}  // namespace

Result<PostResponse> CurlPoster::Post(const PostRequest& request, const PostOptions& options) {
  const std::string shown = feeds::fetch_internal::RedactUrl(request.url);
  std::string lower = ToLower(request.url.substr(0, 8));
  if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0)
    return Status::InvalidArgument(shown + ": only http:// and https:// URLs can receive webhooks");
  TW_RETURN_IF_ERROR(lc::Load());

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  bool has_content_type = false;
  auto append = [&](const std::string& line) -> Status {
    curl_slist* l = lc::curl_slist_append(headers.get(), line.c_str());
    if (l == nullptr) return Status::Internal(shown + ": out of memory");
    headers.release();
    headers.reset(l);
    return Status::Ok();
  };
  for (const auto& [name, value] : request.headers) {
    if (name.find_first_of(":\r\n") != std::string::npos || value.find_first_of("\r\n") != std::string::npos)
      return Status::InvalidArgument(shown + ": header " + name + ": line breaks or ':' in a header name");
    if (EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    TW_RETURN_IF_ERROR(append(name + ": " + value));
  }
  if (!has_content_type) TW_RETURN_IF_ERROR(append("Content-Type: application/json"));
  TW_RETURN_IF_ERROR(append("Expect:"));  // no 100-continue round trip

  std::string ca_blob;
  if (!options.ca_file.empty()) {
    auto blob = CaBlob(options.ca_file);
    if (!blob.ok()) return blob.error().WithPrefix(shown);
    ca_blob = std::move(*blob);
  }

  std::unique_ptr<CURL, EasyDeleter> easy(lc::curl_easy_init());
  std::unique_ptr<CURLM, MultiDeleter> multi(lc::curl_multi_init());
  if (!easy || !multi) return Status::Internal(shown + ": cannot create a libcurl handle");
  CURL* e = easy.get();
  Transfer t;
  t.dns.allow_dns = options.allow_dns;
  char errbuf[CURL_ERROR_SIZE] = {0};

  lc::curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  lc::curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  lc::curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  lc::curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  lc::curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  lc::curl_easy_setopt(e, CURLOPT_POST, 1L);
  lc::curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
  lc::curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  lc::curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  SetCommonOptions(e, ca_blob, options.connect_timeout, options.total_timeout, &t.dns);
  lc::curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnWrite);
  lc::curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);

  // The multi interface so that a cancel flag is noticed within ~200 ms.
  if (lc::curl_multi_add_handle(multi.get(), e) != CURLM_OK)
    return Status::Internal(shown + ": curl_multi_add_handle failed");
  for (;;) {
    int running = 0;
    CURLMcode mc = lc::curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      lc::curl_multi_remove_handle(multi.get(), e);
      return Status::Internal(shown + ": curl_multi_perform: " + lc::curl_multi_strerror(mc));
    }
    if (running == 0) break;
    if (options.cancel != nullptr && options.cancel->load()) {
      lc::curl_multi_remove_handle(multi.get(), e);
      return Status::Unavailable(shown + ": cancelled (shutting down)");
    }
    mc = lc::curl_multi_poll(multi.get(), nullptr, 0, options.cancel != nullptr ? 200 : 1000, nullptr);
    if (mc != CURLM_OK) {
      lc::curl_multi_remove_handle(multi.get(), e);
      return Status::Internal(shown + ": curl_multi_poll: " + lc::curl_multi_strerror(mc));
    }
  }
  CURLcode rc = CURLE_OK;
  int queued = 0;
  while (CURLMsg* msg = lc::curl_multi_info_read(multi.get(), &queued)) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) rc = msg->data.result;
  }
  lc::curl_multi_remove_handle(multi.get(), e);
  if (rc != CURLE_OK) return MapCurlError(rc, shown, errbuf, t, e);

  PostResponse out;
  long code = 0;
  lc::curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
  out.status = static_cast<int>(code);
  out.body = std::move(t.body);
  return out;
}

// ---- FakePoster ------------------------------------------------------------------------

void FakePoster::Push(Result<PostResponse> answer) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(answer));
}

void FakePoster::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void FakePoster::Block(const std::string& url) {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_.push_back(url);
}

void FakePoster::Unblock(const std::string& url) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_.erase(std::remove(blocked_.begin(), blocked_.end(), url), blocked_.end());
  }
  cv_.notify_all();
}

Result<PostResponse> FakePoster::Post(const PostRequest& request, const PostOptions& options) {
  std::unique_lock<std::mutex> lock(mu_);
  requests_.push_back(request);
  cv_.notify_all();
  auto blocked = [&] { return std::find(blocked_.begin(), blocked_.end(), request.url) != blocked_.end(); };
  while (blocked()) {
    if (options.cancel != nullptr && options.cancel->load())
      return Status::Unavailable(request.url + ": cancelled");
    cv_.wait_for(lock, std::chrono::milliseconds(10));
  }
  if (handler_) {
    Handler h = handler_;
    lock.unlock();
    return h(request);
  }
  if (!queue_.empty()) {
    Result<PostResponse> answer = std::move(queue_.front());
    queue_.pop_front();
    return answer;
  }
  return PostResponse{200, ""};
}

std::vector<PostRequest> FakePoster::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakePoster::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

size_t FakePoster::CountLocked(const std::string& url) const {
  if (url.empty()) return requests_.size();
  return static_cast<size_t>(
      std::count_if(requests_.begin(), requests_.end(), [&](const PostRequest& r) { return r.url == url; }));
}

size_t FakePoster::RequestCount(const std::string& url) const {
  std::lock_guard<std::mutex> lock(mu_);
  return CountLocked(url);
}

bool FakePoster::WaitForRequests(const std::string& url, size_t n, std::chrono::milliseconds limit) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, limit, [&] { return CountLocked(url) >= n; });
}

}  // namespace tw::webhook
