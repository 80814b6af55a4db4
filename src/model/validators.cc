#include "model/validators.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"

namespace tw::model {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsDigit(c)) return false;
  return true;
}

// The texts below are Kubernetes' own (apimachinery validation), so users
// see what kubectl against a real cluster would show.
constexpr char kLabelMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
constexpr char kSubdomainMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr char kQualifiedNameMsg[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr char kLabelValueMsg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
    "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

bool MatchesLabelRegex(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s)
    if (!IsLowerAlnum(c) && c != '-') return false;
  return true;
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

std::string CheckDns1123Label(std::string_view s) {
  if (s.size() > 63) return "must be no more than 63 characters";
  if (!MatchesLabelRegex(s)) return kLabelMsg;
  return "";
}

std::string CheckDns1123Subdomain(std::string_view s) {
  if (s.size() > 253) return "must be no more than 253 characters";
  if (s.empty()) return kSubdomainMsg;
  for (std::string_view part : Split(s, '.'))
    if (!MatchesLabelRegex(part)) return kSubdomainMsg;
  return "";
}

std::string CheckQualifiedName(std::string_view s) {
  std::string_view name = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    if (s.find('/', slash + 1) != std::string_view::npos)
      return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
             "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
             "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
    std::string_view prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (prefix.empty()) return "prefix part must be non-empty";
    std::string p = CheckDns1123Subdomain(prefix);
    if (!p.empty()) return "prefix part " + p;
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (!MatchesQualifiedNamePart(name)) return kQualifiedNameMsg;
  return "";
}

std::string CheckLabelValue(std::string_view s) {
  if (s.empty()) return "";
  if (s.size() > 63) return "must be no more than 63 characters";
  if (!MatchesQualifiedNamePart(s)) return kLabelValueMsg;
  return "";
}

std::string CheckConfigMapKey(std::string_view s) {
  if (s.size() > 253) return "must be no more than 253 characters";
  bool ok = !s.empty();
  for (char c : s)
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') ok = false;
  if (!ok)
    return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
           "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
           "'[-._a-zA-Z0-9]+')";
  if (s == ".") return "must not be '.'";
  if (s == "..") return "must not be '..'";
  if (s.starts_with("..")) return "must not start with '..'";
  return "";
}

std::string CheckIanaSvcName(std::string_view s) {
  if (s.size() > 15) return "must be no more than 15 characters";
  bool letter = false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-')
      return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
    if (c >= 'a' && c <= 'z') letter = true;
  }
  if (s.find("--") != std::string_view::npos) return "must not contain consecutive hyphens";
  if (s.empty() || !letter) return "must contain at least one letter (a-z)";
  if (s.front() == '-' || s.back() == '-') return "must not begin or end with a hyphen";
  return "";
}

std::string CheckEnvVarName(std::string_view s) {
  bool ok = !s.empty();
  for (char c : s)
    if (c < 0x20 || c > 0x7e || c == '=') ok = false;
  if (!ok) return "a valid environment variable name must consist only of printable ASCII characters other than '='";
  return "";
}

Result<IpNet> ParseCidrOrIp(std::string_view s) {
  IpNet net;
  std::string_view addr = s;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    addr = s.substr(0, slash);
    net.has_prefix = true;
  }
  std::string a(addr);
  if (a.find(':') != std::string::npos) {
    net.family = 6;
    if (inet_pton(AF_INET6, a.c_str(), net.addr.data()) != 1)
      return Status::InvalidArgument("invalid CIDR or IP address");
    net.prefix_len = 128;
  } else {
    net.family = 4;
    // glibc's inet_pton rejects octal-looking octets ("01"), as Go's parser does.
    if (inet_pton(AF_INET, a.c_str(), net.addr.data()) != 1)
      return Status::InvalidArgument("invalid CIDR or IP address");
    net.prefix_len = 32;
  }
  if (net.has_prefix) {
    std::string_view len = s.substr(slash + 1);
    int max = net.family == 4 ? 32 : 128;
    if (!AllDigits(len) || len.size() > 3) return Status::InvalidArgument("invalid CIDR or IP address");
    int n = std::stoi(std::string(len));
    if (n > max) return Status::InvalidArgument("invalid CIDR or IP address");
    net.prefix_len = n;
  }
  return net;
}

Result<IpNet> ParseCidr(std::string_view s) {
  auto net = ParseCidrOrIp(s);
  if (!net.ok() || !net->has_prefix) return Status::InvalidArgument("invalid CIDR address");
  return net;
}

bool NetContains(const IpNet& outer, const IpNet& inner) {
  if (outer.family != inner.family || inner.prefix_len < outer.prefix_len) return false;
  int bits = outer.prefix_len;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((outer.addr[i] & mask) != (inner.addr[i] & mask)) return false;
  }
  return true;
}

std::optional<std::string> CanonicalProtocolName(std::string_view s) {
  static constexpr std::string_view kNames[] = {"TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"};
  for (std::string_view n : kNames)
    if (EqualsIgnoreCase(n, s)) return std::string(n);
  return std::nullopt;
}

namespace {

std::string CheckPortNumber(std::string_view s) {
  if (!AllDigits(s) || s.size() > 5 || std::stoi(std::string(s)) > 65535)
    return "port must be a number between 0 and 65535";
  return "";
}

bool IsNamedPortText(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

std::string CheckCalicoPort(const boost::json::value& v) {
  if (v.is_int64() || v.is_uint64()) {
    if (v.is_uint64() ? v.as_uint64() > 65535 : (v.as_int64() < 0 || v.as_int64() > 65535))
      return "port must be between 0 and 65535";
    return "";
  }
  if (!v.is_string()) return "must be an integer or string";
  std::string_view s = v.as_string();
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    std::string_view lo = s.substr(0, colon), hi = s.substr(colon + 1);
    std::string e = CheckPortNumber(lo);
    if (e.empty()) e = CheckPortNumber(hi);
    if (!e.empty()) return "invalid port range " + Quote(s) + ": " + e;
    if (std::stoi(std::string(lo)) > std::stoi(std::string(hi)))
      return "invalid port range " + Quote(s) + ": minimum port must not exceed maximum port";
    return "";
  }
  if (AllDigits(s)) return CheckPortNumber(s);
  if (!IsNamedPortText(s))
    return "invalid port " + Quote(s) +
           ": must be a number, a range \"min:max\" or a named port matching ^[a-zA-Z0-9_.-]{1,128}$";
  return "";
}

bool IsNamedCalicoPort(const boost::json::value& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.as_string();
  return s.find(':') == std::string_view::npos && !AllDigits(s);
}

std::string CheckWildcardDomain(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 253) return "must be no more than 253 characters";
  auto parts = Split(s, '.');
  int wildcards = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p == "*") {
      ++wildcards;
      if (i + 1 == parts.size()) return "a wildcard may not be the last label (\"x.*\")";
      continue;
    }
    if (p.find('*') != std::string_view::npos) return "a wildcard must be a whole label (\"*.example.com\")";
    if (p.empty() || p.size() > 63 || !IsAlnum(p.front()) || !IsAlnum(p.back()))
      return "each label must be 1-63 alphanumeric characters or '-', starting and ending with an "
             "alphanumeric character";
    for (char c : p)
      if (!IsAlnum(c) && c != '-')
        return "each label must be 1-63 alphanumeric characters or '-', starting and ending with an "
               "alphanumeric character";
  }
  if (wildcards > 1) return "at most one wildcard is allowed";
  return "";
}

std::string CheckFeedUrl(std::string_view s, bool allow_file) {
  const std::string want = allow_file ? "must be an absolute http://, https:// or file:// URL"
                                      : "must be an absolute http:// or https:// URL";
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return "must not contain spaces or control characters";
  size_t sep = s.find("://");
  if (sep == std::string_view::npos) return want;
  std::string scheme = ToLower(s.substr(0, sep));
  std::string_view rest = s.substr(sep + 3);
  if (scheme == "file" && allow_file) {
    if (rest.starts_with("/") && rest.size() > 1) return "";
    if (rest.starts_with("localhost/") && rest.size() > 10) return "";
    return "a file URL must name an absolute path (file:///path)";
  }
  if (scheme != "http" && scheme != "https") return want;
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string_view host = authority;
  if (host.starts_with("[")) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return "invalid IPv6 host";
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || (after.size() > 1 && !AllDigits(after.substr(1)))))
      return "invalid port";
    host = host.substr(0, close + 1);
  } else {
    size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      std::string_view port = host.substr(colon + 1);
      if (!port.empty() && (!AllDigits(port) || port.size() > 5 || std::stoi(std::string(port)) > 65535))
        return "invalid port " + Quote(port);
      host = host.substr(0, colon);
    }
  }
  if (host.empty() || host == "[]") return "missing host";
  return "";
}

// ---- Go durations ------------------------------------------------------------

namespace {

constexpr uint64_t kMaxDur = uint64_t{1} << 63;

std::string GoQuote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Result<int64_t> ParseGoDuration(std::string_view orig) {
  auto invalid = [&] { return Status::InvalidArgument("time: invalid duration " + GoQuote(orig)); };
  std::string_view s = orig;
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  while (!s.empty()) {
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!(s[0] == '.' || IsDigit(s[0]))) return invalid();
    // Integer part.
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (v > kMaxDur / 10) return invalid();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMaxDur) return invalid();
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    // Fraction: digits past what fits are ignored, as Go does.
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kMaxDur - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMaxDur) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    if (u == 0) return Status::InvalidArgument("time: missing unit in duration " + GoQuote(orig));
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_name == "ns") unit = 1;
    else if (unit_name == "us" || unit_name == "\xc2\xb5s" || unit_name == "\xce\xbcs") unit = 1000;
    else if (unit_name == "ms") unit = 1000000;
    else if (unit_name == "s") unit = 1000000000ULL;
    else if (unit_name == "m") unit = 60ULL * 1000000000ULL;
    else if (unit_name == "h") unit = 3600ULL * 1000000000ULL;
    else
      return Status::InvalidArgument("time: unknown unit " + GoQuote(unit_name) + " in duration " +
                                     GoQuote(orig));
    if (v > kMaxDur / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMaxDur) return invalid();
    }
    d += v;
    if (d > kMaxDur) return invalid();
  }
  if (neg) return d == kMaxDur ? INT64_MIN : -static_cast<int64_t>(d);
  if (d > kMaxDur - 1) return invalid();
  return static_cast<int64_t>(d);
}

// ---- Encodings -----------------------------------------------------------------

bool IsValidBase64(std::string_view in) {
  std::string s;
  s.reserve(in.size());
  for (char c : in)
    if (c != '\r' && c != '\n') s += c;
  if (s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool b64 = IsAlnum(c) || c == '+' || c == '/';
    if (b64) continue;
    if (c != '=') return false;
    // Padding: only the last one or two characters, and "=x" is not allowed.
    if (i + 1 == s.size()) continue;
    if (i + 2 == s.size() && s[i + 1] == '=') continue;
    return false;
  }
  return true;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (!IsValidBase64(text)) return std::nullopt;
  auto value = [](char c) -> uint32_t {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') break;
    acc = (acc << 6) | value(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

int Utf8Length(std::string_view s) {
  int n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return -1;
    // Overlong encodings and surrogates are invalid UTF-8 too.
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return -1;
    i += len;
  }
  return n;
}

}  // namespace tw::model
