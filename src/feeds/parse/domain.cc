#include "feeds/parse/domain.h"

#include <cstdint>
#include <vector>

namespace tw::feeds {

namespace {

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t Adapt(uint32_t delta, uint32_t numpoints, bool first) {
  delta = first ? delta / 700 : delta / 2;
  delta += delta / numpoints;
  uint32_t k = 0;
  while (delta > ((36 - 1) * 26) / 2) {
    delta /= 36 - 1;
    k += 36;
  }
  return k + (36 * delta) / (delta + 38);
}

}  // namespace

std::optional<std::string> PunycodeDecode(std::string_view in) {
  constexpr uint32_t kBase = 36, kTMin = 1, kTMax = 26, kMaxCp = 0x10FFFF;
  std::vector<uint32_t> out;
  size_t b = in.rfind('-');
  if (b == std::string_view::npos) b = 0;
  for (size_t j = 0; j < b; ++j) {
    if (static_cast<unsigned char>(in[j]) >= 0x80) return std::nullopt;
    out.push_back(static_cast<unsigned char>(in[j]));
  }
  uint32_t n = 128, i = 0, bias = 72;
  for (size_t in_pos = b > 0 ? b + 1 : 0; in_pos < in.size();) {
    uint32_t oldi = i, w = 1;
    for (uint32_t k = kBase;; k += kBase) {
      if (in_pos >= in.size()) return std::nullopt;
      char c = in[in_pos++];
      uint32_t digit;
      if (c >= '0' && c <= '9') digit = static_cast<uint32_t>(c - '0') + 26;
      else if (c >= 'a' && c <= 'z') digit = static_cast<uint32_t>(c - 'a');
      else if (c >= 'A' && c <= 'Z') digit = static_cast<uint32_t>(c - 'A');
      else return std::nullopt;
      if (digit > (UINT32_MAX - i) / w) return std::nullopt;
      i += digit * w;
      uint32_t t = k <= bias ? kTMin : (k >= bias + kTMax ? kTMax : k - bias);
      if (digit < t) break;
      if (w > UINT32_MAX / (kBase - t)) return std::nullopt;
      w *= kBase - t;
    }
    uint32_t len = static_cast<uint32_t>(out.size()) + 1;
    bias = Adapt(i - oldi, len, oldi == 0);
    if (i / len > kMaxCp - n) return std::nullopt;
    n += i / len;
    i %= len;
    if (n > kMaxCp || (n >= 0xD800 && n <= 0xDFFF) || out.size() > 255) return std::nullopt;
    out.insert(out.begin() + i, n);
    ++i;
  }
  std::string s;
  for (uint32_t cp : out) AppendUtf8(s, cp);
  return s;
}

std::string CanonicalDomain(std::string_view name) {
  // Labels: ASCII lower-cased, dot runs collapsed, leading/trailing dots
  // dropped, xn-- decoded (a label that decodes to nothing is kept as is).
  std::string out;
  out.reserve(name.size());
  std::string label;
  size_t pos = 0;
  while (pos <= name.size()) {
    const size_t dot = name.find('.', pos);
    const std::string_view raw = name.substr(pos, dot == name.npos ? name.npos : dot - pos);
    if (!raw.empty()) {
      label.assign(raw);
      for (char& c : label) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      if (!out.empty()) out.push_back('.');
      std::optional<std::string> u;
      if (label.starts_with("xn--")) u = PunycodeDecode(std::string_view(label).substr(4));
      out += u && !u->empty() ? *u : label;
    }
    if (dot == name.npos) break;
    pos = dot + 1;
  }
  return out;
}

DomainResult NormalizeDomain(std::string_view e) {
  auto reject = [](std::string reason) { return DomainResult{{}, std::move(reason)}; };
  // Trim ASCII space (the line parser already removed Unicode spaces).
  while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) e.remove_prefix(1);
  while (!e.empty() && (e.back() == ' ' || e.back() == '\t' || e.back() == '\r')) e.remove_suffix(1);
  if (e.empty()) return reject("empty");
  std::string lower(e);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string_view s = lower;
  if (s.find("\xE2\x80\xA6") != std::string_view::npos) return reject("truncated (contains U+2026)");
  if (s.find("[.]") != std::string_view::npos || s.find("(.)") != std::string_view::npos ||
      s.starts_with("hxxp")) {
    return reject("defanged");
  }
  if (size_t scheme = s.find("://"); scheme != std::string_view::npos) {
    s.remove_prefix(scheme + 3);
    s = s.substr(0, s.find_first_of("/?#"));
    if (size_t at = s.rfind('@'); at != std::string_view::npos) s.remove_prefix(at + 1);
    if (s.starts_with('[')) return reject("URL with an IPv6 literal host");
  } else {
    s = s.substr(0, s.find_first_of("/?#"));
    if (s.find('@') != std::string_view::npos) return reject("e-mail address");
  }
  // host:port (one colon; several colons would be an IPv6 address, not a name).
  if (size_t colon = s.find(':'); colon != std::string_view::npos && s.find(':', colon + 1) == s.npos) {
    s = s.substr(0, colon);
  }
  if (s.starts_with("*.")) s.remove_prefix(2);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool ok = u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_';
    if (!ok) return reject(std::string("character '") + c + "' not allowed in a host name");
  }
  std::string out = CanonicalDomain(s);
  if (out.empty()) return reject("no host name");
  return DomainResult{std::move(out), {}};
}

}  // namespace tw::feeds
