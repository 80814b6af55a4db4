#include "net/cidr.h"

#include <algorithm>

namespace tw::net {

Cidr::Cidr(IpAddr addr, int prefix_len) {
  int width = addr.bit_len();
  prefix_len_ = std::clamp(prefix_len, 0, width);
  Uint128 bits = addr.bits() & ~HostMask(prefix_len_, width);
  addr_ = addr.is_v4() ? IpAddr::V4(static_cast<uint32_t>(bits)) : IpAddr::V6(bits);
}

Uint128 Cidr::last() const { return addr_.bits() | HostMask(prefix_len_, addr_.bit_len()); }

bool Cidr::Contains(const IpAddr& a) const {
  return a.family() == family() && a.bits() >= first() && a.bits() <= last();
}

ParseError TryParseCidr(std::string_view text, Cidr* out) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    IpAddr a;
    ParseError e = TryParseIpAddr(text, &a);
    if (e != ParseError::kOk) return e;
    *out = Cidr(a, a.bit_len());
    return ParseError::kOk;
  }
  std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3 || (len_text.size() > 1 && len_text[0] == '0')) {
    return ParseError::kBadPrefix;
  }
  int len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return ParseError::kBadPrefix;
    len = len * 10 + (c - '0');
  }
  // Parse the address part without the v4-mapped unmapping, so that
  // "::ffff:0:0/95" keeps its IPv6 meaning.
  std::string_view addr_text = text.substr(0, slash);
  IpAddr a;
  ParseError e = TryParseIpAddr(addr_text, &a);
  if (e != ParseError::kOk) return e;
  bool mapped = a.is_v4() && addr_text.find(':') != std::string_view::npos;
  if (mapped) {
    if (len > 128) return ParseError::kPrefixRange;
    if (len < 96) {
      *out = Cidr(IpAddr::V6((Uint128{0xffff} << 32) | a.v4()), len);
    } else {
      *out = Cidr(a, len - 96);
    }
    return ParseError::kOk;
  }
  if (len > a.bit_len()) return ParseError::kPrefixRange;
  *out = Cidr(a, len);
  return ParseError::kOk;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  Cidr c;
  ParseError e = TryParseCidr(text, &c);
  if (e == ParseError::kOk) return c;
  std::string msg = "'";
  msg.append(text);
  msg.append("': ");
  if (e == ParseError::kPrefixRange) {
    std::string_view len_text = text.substr(text.find('/') + 1);
    bool v6 = text.substr(0, text.find('/')).find(':') != std::string_view::npos;
    msg.append("prefix length ");
    msg.append(len_text);
    msg.append(v6 ? " out of range for IPv6" : " out of range for IPv4");
  } else if (e == ParseError::kBadPrefix) {
    msg.append("prefix length '");
    msg.append(text.substr(text.find('/') + 1));
    msg.append("' must be a decimal number without sign or leading zeros");
  } else {
    msg.append(ParseErrorReason(e));
  }
  return Status::InvalidArgument(std::move(msg));
}

size_t Cidr::FormatTo(char* out) const {
  size_t n = addr_.FormatTo(out);
  out[n++] = '/';
  int len = prefix_len_;
  if (len >= 100) out[n++] = static_cast<char>('0' + len / 100);
  if (len >= 10) out[n++] = static_cast<char>('0' + (len / 10) % 10);
  out[n++] = static_cast<char>('0' + len % 10);
  return n;
}

size_t Cidr::FormatCompactTo(char* out) const {
  if (prefix_len_ == addr_.bit_len()) return addr_.FormatTo(out);
  return FormatTo(out);
}

std::string Cidr::ToString() const {
  char buf[kMaxTextLen];
  return std::string(buf, FormatTo(buf));
}

}  // namespace tw::net
