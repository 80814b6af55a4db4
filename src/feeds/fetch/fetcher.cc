#include "feeds/fetch/fetcher.h"

#include <arpa/inet.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/strings.h"
#include "feeds/fetch/curl_util.h"
#include "feeds/fetch/libcurl.h"

namespace tw::feeds {

namespace fetch_internal {

namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  size_t authority_begin = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, authority_begin)) + std::string(url.substr(authority_begin + at + 1));
}

std::string_view HttpReasonPhrase(int http_status) {
  switch (http_status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 418:
      return "I'm a teapot";
    case 429:
      return "Too Many Requests";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

Status HttpStatusToStatus(int http_status, std::string_view url) {
  if ((http_status >= 200 && http_status < 300) || http_status == 304) return Status::Ok();
  std::string msg = std::string(url) + ": HTTP " + std::to_string(http_status);
  if (std::string_view reason = HttpReasonPhrase(http_status); !reason.empty()) {
    msg += " ";
    msg += reason;
  }
  if (http_status == 404 || http_status == 410) return Status::NotFound(std::move(msg));
  if (http_status == 401 || http_status == 403) return Status::PermissionDenied(std::move(msg));
  if (http_status == 408 || http_status == 429 || (http_status >= 500 && http_status < 600)) {
    return Status::Unavailable(std::move(msg));
  }
  if (http_status >= 300 && http_status < 400)
    return Status::InvalidArgument(msg + " (redirect without a usable Location)");
  if (http_status >= 400 && http_status < 500) return Status::InvalidArgument(std::move(msg));
  return Status::InvalidArgument(msg + " (unexpected status)");
}

Result<std::string> UrlScheme(std::string_view url) {
  if (url.empty()) return Status::InvalidArgument("feed URL is empty");
  size_t end = url.find("://");
  bool valid = end != std::string_view::npos && end > 0 && std::isalpha(static_cast<unsigned char>(url[0]));
  for (size_t i = 0; valid && i < end; ++i) {
    char c = url[i];
    valid = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  if (!valid)
    return Status::InvalidArgument(RedactUrl(url) + ": not a URL (want http://, https:// or file://)");
  std::string scheme(url.substr(0, end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https" && scheme != "file") {
    return Status::InvalidArgument(RedactUrl(url) + ": unsupported scheme \"" + scheme +
                                   "\" (want http, https or file)");
  }
  return scheme;
}

Result<std::string> FileUrlPath(std::string_view url) {
  if (!StartsWithIgnoreCase(url, "file://"))
    return Status::InvalidArgument(std::string(url) + ": not a file:// URL");
  std::string_view rest = url.substr(7);
  if (StartsWithIgnoreCase(rest, "localhost/")) rest.remove_prefix(9);
  if (rest.empty() || rest[0] != '/') {
    return Status::InvalidArgument(std::string(url) +
                                   ": a file URL must name an absolute path on this host (file:///path)");
  }
  std::string path;
  path.reserve(rest.size());
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      path += rest[i];
      continue;
    }
    int hi = i + 2 < rest.size() ? HexDigit(rest[i + 1]) : -1;
    int lo = i + 2 < rest.size() ? HexDigit(rest[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      return Status::InvalidArgument(std::string(url) + ": bad percent escape at offset " +
                                     std::to_string(7 + i));
    }
    path += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (path == "/") return Status::InvalidArgument(std::string(url) + ": names a directory, not a file");
  return path;
}

bool LooksGzipped(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

Result<std::string> GunzipBounded(std::string_view data, size_t max_bytes, std::string_view what) {
  std::string out;
  if (data.empty()) return out;
  z_stream zs{};
  // 32 + MAX_WBITS: detect a gzip or zlib header automatically.
  if (inflateInit2(&zs, 32 + MAX_WBITS) != Z_OK)
    return Status::Internal(std::string(what) + ": inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(data.size(), UINT32_MAX));
  size_t fed = zs.avail_in;
  char buf[64 * 1024];
  for (;;) {
    if (zs.avail_in == 0 && fed < data.size()) {  // inputs over 4 GiB
      size_t chunk = std::min<size_t>(data.size() - fed, UINT32_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs.avail_in = static_cast<uInt>(chunk);
      fed += chunk;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int ret = inflate(&zs, Z_NO_FLUSH);
    size_t produced = sizeof buf - zs.avail_out;
    if (produced > max_bytes - std::min(max_bytes, out.size())) {
      return Status::TooLarge(std::string(what) + ": decoded body over the limit of " +
                              std::to_string(max_bytes) + " bytes (max_body_bytes)");
    }
    out.append(buf, produced);
    if (ret == Z_STREAM_END) {
      size_t consumed = fed - zs.avail_in;
      std::string_view rest = data.substr(consumed);
      if (rest.empty()) return out;
      if (LooksGzipped(rest)) {  // another gzip member (`cat a.gz b.gz`)
        inflateReset(&zs);
        continue;
      }
      if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\0'; }))
        return out;  // tar-style padding
      return Status::InvalidArgument(std::string(what) + ": trailing garbage after the gzip data at byte " +
                                     std::to_string(consumed));
    }
    if (ret == Z_OK) continue;
    // Z_BUF_ERROR: no progress possible.  The output buffer is fresh on
    // every call, so the input must have run out mid-stream.
    if (ret == Z_BUF_ERROR && zs.avail_in == 0 && fed == data.size()) {
      return Status::InvalidArgument(std::string(what) + ": gzip data truncated after " +
                                     std::to_string(data.size()) + " bytes");
    }
    return Status::InvalidArgument(std::string(what) +
                                   ": bad gzip data: " + (zs.msg != nullptr ? zs.msg : "corrupt stream"));
  }
}

Result<FetchResult> FetchFile(const FetchRequest& request, const FetchLimits& limits) {
  std::string shown = RedactUrl(request.url);
  TW_ASSIGN_OR_RETURN(std::string path, FileUrlPath(request.url));
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound(shown + ": no such file");
    return Status::IoError(shown + ": cannot open: " + std::strerror(err));
  }
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { close(*f); });
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::IoError(shown + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Status::IoError(shown + ": is a directory");
  if (!S_ISREG(st.st_mode)) return Status::IoError(shown + ": not a regular file");

  bool gz_name = path.size() > 3 && EqualsIgnoreCase(std::string_view(path).substr(path.size() - 3), ".gz");
  // A gzip file may be a little larger than its content when that content
  // does not compress; allow that slack on the raw read.
  size_t max = limits.max_body_bytes;
  size_t raw_limit = max + std::min<size_t>(max / 64 + 4096, SIZE_MAX - max);
  std::string raw;
  if (st.st_size > 0) raw.reserve(std::min<size_t>(static_cast<size_t>(st.st_size), raw_limit) + 1);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(shown + ": read failed after " + std::to_string(raw.size()) +
                             " bytes: " + std::strerror(errno));
    }
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (raw.size() > raw_limit) break;
  }
  FetchResult result;
  result.final_url = request.url;
  result.wire_bytes = raw.size();
  if (gz_name || LooksGzipped(raw)) {
    if (raw.size() > raw_limit) {
      return Status::TooLarge(shown + ": file over the limit of " + std::to_string(max) +
                              " bytes (max_body_bytes)");
    }
    TW_ASSIGN_OR_RETURN(result.body, GunzipBounded(raw, max, shown));
  } else {
    if (raw.size() > max) {
      return Status::TooLarge(shown + ": file over the limit of " + std::to_string(max) +
                              " bytes (max_body_bytes)");
    }
    result.body = std::move(raw);
  }
  return result;
}

}  // namespace fetch_internal

namespace {

using namespace fetch_internal;  // NOLINT: this file implements them
using namespace curl_util;       // NOLINT: deleters, CaBlob, the DNS guard
using SteadyClock = std::chrono::steady_clock;

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  curl_util::DnsGuard dns;  // blocked_host: a name we refused to resolve
  size_t max_body = 0;
  std::string body;
  bool too_large = false;
  bool length_checked = false;
  SteadyClock::time_point last_activity;
  // From the headers of the latest response (redirect hops reset them).
  int status = 0;
  std::string etag;
  std::string last_modified;
  std::string content_encoding;
  long long content_length = -1;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  t->last_activity = SteadyClock::now();
  std::string_view line = TrimLine(std::string_view(data, len));
  if (line.starts_with("HTTP/")) {
    t->status = 0;
    t->etag.clear();
    t->last_modified.clear();
    t->content_encoding.clear();
    t->content_length = -1;
    size_t sp = line.find(' ');
    if (sp != std::string_view::npos) t->status = std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string_view name = TrimLine(line.substr(0, colon));
  std::string_view value = TrimLine(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "ETag")) {
    t->etag = value;
  } else if (EqualsIgnoreCase(name, "Last-Modified")) {
    t->last_modified = value;
  } else if (EqualsIgnoreCase(name, "Content-Encoding")) {
    t->content_encoding = value;
  } else if (EqualsIgnoreCase(name, "Content-Length")) {
    char* end = nullptr;
    std::string v(value);
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (!v.empty() && *end == '\0' && n >= 0) t->content_length = n;
  }
  return len;
}

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * count;
  t->last_activity = SteadyClock::now();
  if (t->status >= 400) return len;  // an error page: only its status matters
  if (!t->length_checked) {
    t->length_checked = true;
    // Without a content coding the declared length is the decoded length:
    // refuse before buffering anything.
    bool identity = t->content_encoding.empty() || EqualsIgnoreCase(t->content_encoding, "identity");
    if (identity && t->content_length >= 0 &&
        static_cast<unsigned long long>(t->content_length) > t->max_body) {
      t->too_large = true;
      return 0;
    }
  }
  if (len > t->max_body - std::min(t->max_body, t->body.size())) {
    t->too_large = true;
    return 0;  // -> CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}


Status MapCurlError(CURLcode rc, const std::string& shown, const char* errbuf, const Transfer& t, CURL* easy,
                    const FetchLimits& limits) {
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : std::string(lc::curl_easy_strerror(rc));
  curl_off_t got = 0;
  lc::curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(shown + ": unsupported protocol (" + detail + ")");
    case CURLE_URL_MALFORMAT:
      return Status::InvalidArgument(shown + ": malformed URL (" + detail + ")");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status::Unavailable(shown + ": cannot resolve host (" + detail + ")");
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      lc::curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) return Status::Unavailable(shown + ": connection refused");
      std::string reason = os_errno != 0 ? std::string(std::strerror(static_cast<int>(os_errno))) + "; " : "";
      return Status::Unavailable(shown + ": cannot connect (" + reason + detail + ")");
    }
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Unavailable(shown + ": timed out (" + detail + ")");
    case CURLE_PARTIAL_FILE: {
      std::string msg = shown + ": body truncated after " + std::to_string(got) + " bytes";
      if (t.content_length >= 0) msg += " of " + std::to_string(t.content_length);
      return Status::Unavailable(msg + " (connection closed early)");
    }
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      return Status::Unavailable(shown + ": connection reset after " + std::to_string(got) + " body bytes (" +
                                 detail + ")");
    case CURLE_GOT_NOTHING:
      return Status::Unavailable(shown + ": connection closed without a response");
    case CURLE_TOO_MANY_REDIRECTS:
      return Status::InvalidArgument(shown + ": redirect loop (more than " +
                                     std::to_string(std::max(0, limits.max_redirects)) + " redirects)");
    case CURLE_BAD_CONTENT_ENCODING:
      return Status::InvalidArgument(shown + ": body fails to decode (Content-Encoding \"" +
                                     t.content_encoding + "\"): " + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
      return Status::InvalidArgument(shown + ": TLS certificate verification failed: " + detail);
    case CURLE_SSL_CACERT_BADFILE:
      return Status::InvalidArgument(shown + ": cannot load the CA bundle (ca_file): " + detail);
    case CURLE_SSL_CONNECT_ERROR:
      return Status::Unavailable(shown + ": TLS handshake failed: " + detail);
    case CURLE_FILESIZE_EXCEEDED:
      return Status::TooLarge(shown + ": body over the limit of " + std::to_string(limits.max_body_bytes) +
                              " bytes (max_body_bytes)");
    case CURLE_WRITE_ERROR:
      return Status::Internal(shown + ": write callback failed (" + detail + ")");
    default:
      return Status::Unavailable(shown + ": " + detail);
  }
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }


// CURLOPT_OPENSOCKETFUNCTION for FetchLimits::netns: the socket is created
// while this thread has joined the namespace (a socket stays in the
// namespace it was made in), then the thread goes back.
curl_socket_t OpenSocketInNetns(void* user, curlsocktype, struct curl_sockaddr* addr) {
  const std::string& netns = *static_cast<const std::string*>(user);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  curl_socket_t fd = CURL_SOCKET_BAD;
  if (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) {
    fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (setns(self, CLONE_NEWNET) != 0) {  // cannot happen for our own namespace; never stay elsewhere
      if (fd != CURL_SOCKET_BAD) close(fd);
      fd = CURL_SOCKET_BAD;
    }
  }
  if (self >= 0) close(self);
  if (target >= 0) close(target);
  return fd;
}


}  // namespace

CurlFetcher::CurlFetcher() = default;

Result<FetchResult> CurlFetcher::Fetch(const FetchRequest& request, const FetchLimits& limits) {
  TW_ASSIGN_OR_RETURN(std::string scheme, UrlScheme(request.url));
  if (scheme == "file") return FetchFile(request, limits);
  const std::string shown = RedactUrl(request.url);
  if (Status loaded = lc::Load(); !loaded.ok()) return loaded.WithPrefix(shown);

  // Request headers.  Values are secrets: messages name the header only.
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& name, const std::string& value) -> Status {
    if (name.empty() || name.find_first_of(": \t\r\n") != std::string::npos) {
      return Status::InvalidArgument(shown + ": header name \"" + name +
                                     "\" is not a valid HTTP header name");
    }
    if (HasLineBreak(value))
      return Status::InvalidArgument(shown + ": header " + name + ": value contains a line break");
    // "Name;" is libcurl's way of sending a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* appended = lc::curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return Status::Internal(shown + ": out of memory building headers");
    headers.release();
    headers.reset(appended);
    return Status::Ok();
  };
  for (const auto& [name, value] : request.headers) TW_RETURN_IF_ERROR(add_header(name, value));
  if (!request.if_none_match.empty()) TW_RETURN_IF_ERROR(add_header("If-None-Match", request.if_none_match));
  if (!request.if_modified_since.empty())
    TW_RETURN_IF_ERROR(add_header("If-Modified-Since", request.if_modified_since));

  std::string ca_blob;
  if (!limits.ca_file.empty()) {
    auto blob = CaBlob(limits.ca_file);
    if (!blob.ok()) return blob.error().WithPrefix(shown);
    ca_blob = std::move(*blob);
  }

  std::unique_ptr<CURL, EasyDeleter> easy(lc::curl_easy_init());
  std::unique_ptr<CURLM, MultiDeleter> multi(lc::curl_multi_init());
  if (!easy || !multi) return Status::Internal(shown + ": cannot create a libcurl handle");
  CURL* e = easy.get();
  Transfer t;
  t.dns.allow_dns = limits.allow_dns;
  t.max_body = limits.max_body_bytes;
  char errbuf[CURL_ERROR_SIZE] = {0};

  lc::curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  lc::curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  lc::curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  lc::curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  lc::curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  lc::curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  lc::curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(std::max(0, limits.max_redirects)));
  lc::curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every coding libcurl can decode
  lc::curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  SetCommonOptions(e, ca_blob, limits.connect_timeout, limits.total_timeout, &t.dns);
  lc::curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  lc::curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  lc::curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnWrite);
  lc::curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  if (!limits.netns.empty()) {
    if (access(("/run/netns/" + limits.netns).c_str(), F_OK) != 0)
      return Status::Unavailable(shown + ": network namespace " + limits.netns + " does not exist");
    lc::curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, OpenSocketInNetns);
    lc::curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &limits.netns);
  }
  std::unique_ptr<curl_slist, SlistDeleter> pins;
  if (!limits.pinned_hosts.empty()) {
    std::string url_port = UrlHostPort(request.url.c_str()).second;
    for (const auto& [host, address] : limits.pinned_hosts) {
      for (const std::string& port : {std::string("80"), std::string("443"), url_port}) {
        if (port.empty()) continue;
        std::string entry = host + ":" + port + ":" + address;
        curl_slist* appended = lc::curl_slist_append(pins.get(), entry.c_str());
        if (appended == nullptr) return Status::Internal(shown + ": out of memory");
        pins.release();
        pins.reset(appended);
      }
    }
    lc::curl_easy_setopt(e, CURLOPT_RESOLVE, pins.get());
  }

  // The multi interface rather than curl_easy_perform: it lets us wake up
  // exactly when the stall deadline passes (libcurl's own low-speed check
  // and progress callback only have ~1 s granularity).
  if (lc::curl_multi_add_handle(multi.get(), e) != CURLM_OK)
    return Status::Internal(shown + ": curl_multi_add_handle failed");
  const auto stall = limits.stall_timeout;
  t.last_activity = SteadyClock::now();
  bool stalled = false;
  for (;;) {
    int running = 0;
    CURLMcode mc = lc::curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) {
      lc::curl_multi_remove_handle(multi.get(), e);
      return Status::Internal(shown + ": curl_multi_perform: " + lc::curl_multi_strerror(mc));
    }
    if (running == 0) break;
    if (limits.cancel != nullptr && limits.cancel->load()) {
      lc::curl_multi_remove_handle(multi.get(), e);
      return Status::Unavailable(shown + ": cancelled (shutting down)");
    }
    int wait_ms = limits.cancel != nullptr ? 200 : 1000;
    if (stall.count() > 0) {
      auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t.last_activity);
      if (idle >= stall) {
        stalled = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>((stall - idle).count(), wait_ms));
    }
    mc = lc::curl_multi_poll(multi.get(), nullptr, 0, std::max(wait_ms, 1), nullptr);
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

  if (stalled)
    return Status::Unavailable(shown + ": no data for " + std::to_string(stall.count()) + "ms (stalled)");
  if (t.too_large) {
    return Status::TooLarge(shown + ": body over the limit of " + std::to_string(limits.max_body_bytes) +
                            " bytes (max_body_bytes)");
  }
  if (rc != CURLE_OK && !t.dns.blocked_host.empty())
    return Status::Unavailable(shown + ": cannot resolve host " + t.dns.blocked_host +
                               ": name resolution is off (threatwalld --feed-offline); pin it with --feed-host " +
                               t.dns.blocked_host + "=ADDRESS");
  if (rc != CURLE_OK) return MapCurlError(rc, shown, errbuf, t, e, limits);

  long code = 0;
  lc::curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
  TW_RETURN_IF_ERROR(HttpStatusToStatus(static_cast<int>(code), shown));
  FetchResult result;
  result.http_status = static_cast<int>(code);
  result.not_modified = code == 304;
  if (!result.not_modified) result.body = std::move(t.body);
  result.etag = std::move(t.etag);
  result.last_modified = std::move(t.last_modified);
  char* effective = nullptr;
  if (lc::curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective != nullptr) {
    result.final_url = effective;
  } else {
    result.final_url = request.url;
  }
  curl_off_t wire = 0;
  lc::curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &wire);
  result.wire_bytes = static_cast<size_t>(std::max<curl_off_t>(wire, 0));
  return result;
}

void FakeFetcher::Push(Result<FetchResult> answer) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(answer));
}

void FakeFetcher::PushBody(std::string body) {
  FetchResult result;
  result.http_status = 200;
  result.wire_bytes = body.size();
  result.body = std::move(body);
  Push(std::move(result));
}

void FakeFetcher::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

Result<FetchResult> FakeFetcher::Fetch(const FetchRequest& request, const FetchLimits& limits) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      Result<FetchResult> answer = std::move(queue_.front());
      queue_.pop_front();
      return answer;
    }
    handler = handler_;
  }
  // Called without the lock so that a handler may use the fake itself.
  if (handler) return handler(request);
  return Status::NotFound(RedactUrl(request.url) + ": FakeFetcher has no answer queued");
}

std::vector<FetchRequest> FakeFetcher::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeFetcher::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

}  // namespace tw::feeds
