#include "feeds/fetch/curl_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/strings.h"

namespace tw::feeds::curl_util {

namespace {

constexpr size_t kMaxCaFile = 16u << 20;

Result<std::string> ReadSmallFile(const std::string& path, std::string_view what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::InvalidArgument(std::string(what) + " " + path + ": cannot open: " + std::strerror(errno));
  std::string data;
  char buf[16 * 1024];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return Status::InvalidArgument(std::string(what) + " " + path + ": read failed: " + std::strerror(err));
    }
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxCaFile) {
      close(fd);
      return Status::InvalidArgument(std::string(what) + " " + path + ": over " + std::to_string(kMaxCaFile) +
                                     " bytes");
    }
  }
  close(fd);
  return data;
}

}  // namespace

Result<std::string> CaBlob(const std::string& ca_file) {
  TW_ASSIGN_OR_RETURN(std::string blob, ReadSmallFile(ca_file, "ca_file"));
  if (blob.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status::InvalidArgument("ca_file " + ca_file + ": no PEM certificate in it");
  }
  const curl_version_info_data* info = lc::curl_version_info(CURLVERSION_NOW);
  if (info != nullptr && info->cainfo != nullptr) {
    auto system = ReadSmallFile(info->cainfo, "system CA bundle");
    if (system.ok()) {
      blob += "\n";
      blob += *system;
    }
  }
  return blob;
}

std::pair<std::string, std::string> UrlHostPort(const char* url) {
  std::pair<std::string, std::string> out;
  CURLU* u = lc::curl_url();
  if (u == nullptr) return out;
  if (lc::curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
    char* part = nullptr;
    if (lc::curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
      out.first = part;
      lc::curl_free(part);
    }
    if (lc::curl_url_get(u, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out.second = part;
      lc::curl_free(part);
    }
  }
  lc::curl_url_cleanup(u);
  return out;
}

namespace {

long ClampMs(std::chrono::milliseconds ms) {
  return static_cast<long>(std::clamp<std::chrono::milliseconds::rep>(ms.count(), 0, 0x7fffffff));
}

// An IPv4 or IPv6 literal ("[::1]" too).
bool IsIpLiteral(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// CURLOPT_RESOLVER_START_FUNCTION of a DnsGuard.
int RefuseDnsUnlessAllowed(void*, void*, void* user) {
  auto* g = static_cast<DnsGuard*>(user);
  if (g->allow_dns) return 0;
  char* url = nullptr;
  lc::curl_easy_getinfo(g->easy, CURLINFO_EFFECTIVE_URL, &url);
  std::string host = url ? UrlHostPort(url).first : std::string();
  if (IsIpLiteral(host) || EqualsIgnoreCase(host, "localhost")) return 0;
  g->blocked_host = host.empty() ? "?" : host;
  return 1;
}

}  // namespace

void SetCommonOptions(CURL* e, const std::string& ca_blob, std::chrono::milliseconds connect_timeout,
                      std::chrono::milliseconds total_timeout, DnsGuard* guard) {
  lc::curl_easy_setopt(e, CURLOPT_USERAGENT, "threatwall/" TW_VERSION);
  lc::curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  lc::curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_blob.empty()) {
    curl_blob blob{const_cast<char*>(ca_blob.data()), ca_blob.size(), CURL_BLOB_COPY};
    lc::curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (connect_timeout.count() > 0) lc::curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ClampMs(connect_timeout));
  if (total_timeout.count() > 0) lc::curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ClampMs(total_timeout));
  guard->easy = e;
  lc::curl_easy_setopt(e, CURLOPT_RESOLVER_START_FUNCTION, RefuseDnsUnlessAllowed);
  lc::curl_easy_setopt(e, CURLOPT_RESOLVER_START_DATA, guard);
  // No proxy either: its name would be looked up outside the guard.
  if (!guard->allow_dns) lc::curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
}

}  // namespace tw::feeds::curl_util
