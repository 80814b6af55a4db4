// Pieces every libcurl client of ours needs the same way (the feed fetcher
// and the webhook poster): handle deleters, the extra-CA blob, the DNS
// guard of --feed-offline, URL host/port.  libcurl is reached through
// libcurl.h (loaded at run time); call lc::Load() first.
#ifndef TW_FEEDS_FETCH_CURL_UTIL_H_
#define TW_FEEDS_FETCH_CURL_UTIL_H_

#include <chrono>
#include <string>
#include <utility>

#include "base/result.h"
#include "feeds/fetch/libcurl.h"

namespace tw::feeds::curl_util {

struct EasyDeleter {
  void operator()(CURL* e) const { lc::curl_easy_cleanup(e); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { lc::curl_multi_cleanup(m); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { lc::curl_slist_free_all(l); }
};

// libcurl's CURLOPT_CAINFO replaces the default bundle; to trust the system
// store *plus* `ca_file`, hand libcurl a blob of both (CURLOPT_CAINFO_BLOB;
// the default CA directory, CURLOPT_CAPATH, stays in effect as well).
// InvalidArgument naming the file when it cannot be read, is over 16 MiB or
// holds no PEM certificate.
Result<std::string> CaBlob(const std::string& ca_file);

// Host and port of an http(s) URL as libcurl parses it ("" when it does
// not parse; the port is the scheme's default when absent).
std::pair<std::string, std::string> UrlHostPort(const char* url);

// The DNS guard: with allow_dns false, a name lookup is refused unless the
// host is an IP literal or localhost, and the refused host is recorded for
// the error message.  SetCommonOptions installs it (libcurl asks it only for
// names not in its cache: pinned names are).
struct DnsGuard {
  CURL* easy = nullptr;
  bool allow_dns = true;
  std::string blocked_host;
};

// The options every client of ours sets alike on `e`: the user agent,
// TLS verification (peer and host) with `ca_blob` (CaBlob's; "" = the
// system's) as the trusted CAs, the timeouts (0 = none) and `guard` as the
// DNS guard (guard->easy is set to `e`; no proxy unless guard->allow_dns).
void SetCommonOptions(CURL* e, const std::string& ca_blob, std::chrono::milliseconds connect_timeout,
                      std::chrono::milliseconds total_timeout, DnsGuard* guard);

}  // namespace tw::feeds::curl_util

#endif  // TW_FEEDS_FETCH_CURL_UTIL_H_
