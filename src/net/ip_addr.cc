#include "net/ip_addr.h"

#include <cstring>

namespace tw::net {
namespace {

ParseError ParseV4(std::string_view s, uint32_t* out) {
  uint32_t val = 0;
  uint32_t octet = 0;
  int fields = 0;
  int digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      // netip rejects leading zeros: "010" is octal to some parsers.
      if (digits > 0 && octet == 0) return ParseError::kV4LeadingZero;
      octet = octet * 10 + static_cast<uint32_t>(c - '0');
      if (octet > 255) return ParseError::kV4OctetRange;
      ++digits;
    } else if (c == '.') {
      if (digits == 0) return ParseError::kV4EmptyField;
      if (fields == 3) return ParseError::kV4FieldCount;
      val = (val << 8) | octet;
      ++fields;
      octet = 0;
      digits = 0;
    } else {
      return ParseError::kV4BadChar;
    }
  }
  if (digits == 0) return fields == 3 ? ParseError::kV4EmptyField : ParseError::kV4FieldCount;
  if (fields != 3) return ParseError::kV4FieldCount;
  *out = (val << 8) | octet;
  return ParseError::kOk;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ParseError ParseV6(std::string_view s, Uint128* out) {
  uint16_t groups[8] = {};
  int n = 0;
  int ellipsis = -1;
  size_t i = 0;
  const size_t len = s.size();
  if (len >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    i = 2;
  } else if (len >= 1 && s[0] == ':') {
    return ParseError::kV6LeadingColon;
  }
  while (i < len) {
    size_t start = i;
    uint32_t v = 0;
    while (i < len) {
      int h = HexValue(s[i]);
      if (h < 0) break;
      if (i - start == 4) return ParseError::kV6FieldTooLong;
      v = (v << 4) | static_cast<uint32_t>(h);
      ++i;
    }
    if (i < len && s[i] == '.') {
      // A dotted quad must fill exactly the last two groups.
      if (n > 6 || (ellipsis < 0 && n != 6)) return ParseError::kV6EmbeddedV4;
      uint32_t v4 = 0;
      if (ParseV4(s.substr(start), &v4) != ParseError::kOk) return ParseError::kV6EmbeddedV4;
      groups[n++] = static_cast<uint16_t>(v4 >> 16);
      groups[n++] = static_cast<uint16_t>(v4);
      i = len;
      break;
    }
    if (i == start) return s[i] == ':' ? ParseError::kV6DoubleColon : ParseError::kV6BadChar;
    if (n == 8) return ParseError::kV6GroupCount;
    groups[n++] = static_cast<uint16_t>(v);
    if (i == len) break;
    if (s[i] != ':') return ParseError::kV6BadChar;
    ++i;
    if (i == len) return ParseError::kV6LeadingColon;  // trailing single ':'
    if (s[i] == ':') {
      if (ellipsis >= 0) return ParseError::kV6DoubleColon;
      ellipsis = n;
      ++i;
    }
  }
  if (ellipsis < 0) {
    if (n != 8) return ParseError::kV6GroupCount;
  } else if (n >= 8) {
    return ParseError::kV6GroupCount;  // "::" must stand for at least one group
  }
  Uint128 bits = 0;
  int zeros = 8 - n;
  for (int g = 0; g < n; ++g) {
    if (g == ellipsis) bits <<= 16 * zeros;
    bits = (bits << 16) | groups[g];
  }
  if (ellipsis == n && n > 0) bits <<= 16 * zeros;  // n == 0: "::", all zero already
  *out = bits;
  return ParseError::kOk;
}

}  // namespace

std::string_view ParseErrorReason(ParseError e) {
  switch (e) {
    case ParseError::kOk: return "ok";
    case ParseError::kEmpty: return "empty address";
    case ParseError::kZone: return "IPv6 zones are not allowed";
    case ParseError::kV4FieldCount: return "IPv4 address must have exactly four fields";
    case ParseError::kV4EmptyField: return "IPv4 field must have at least one digit";
    case ParseError::kV4BadChar: return "unexpected character in IPv4 address";
    case ParseError::kV4LeadingZero: return "IPv4 field has octet with leading zero";
    case ParseError::kV4OctetRange: return "IPv4 field has value >255";
    case ParseError::kV6BadChar: return "unexpected character in IPv6 address";
    case ParseError::kV6FieldTooLong: return "each IPv6 group must have 4 or fewer hex digits";
    case ParseError::kV6DoubleColon: return "'::' may appear only once in an IPv6 address";
    case ParseError::kV6GroupCount: return "wrong number of groups in IPv6 address";
    case ParseError::kV6LeadingColon: return "IPv6 address may not begin or end with a single ':'";
    case ParseError::kV6EmbeddedV4: return "embedded IPv4 address must be valid and replace the final 2 groups";
    case ParseError::kBadBracket: return "unbalanced brackets";
    case ParseError::kBadPrefix: return "prefix length must be a decimal number without leading zeros";
    case ParseError::kPrefixRange: return "prefix length out of range";
  }
  return "unknown error";
}

ParseError TryParseIpAddr(std::string_view s, IpAddr* out) {
  if (s.empty()) return ParseError::kEmpty;
  if (s.front() == '[' || s.back() == ']') {
    if (s.size() < 2 || s.front() != '[' || s.back() != ']') return ParseError::kBadBracket;
    s = s.substr(1, s.size() - 2);
    if (s.empty()) return ParseError::kEmpty;
  }
  for (char c : s) {
    if (c == '.') {
      uint32_t v4 = 0;
      ParseError e = ParseV4(s, &v4);
      if (e == ParseError::kOk) *out = IpAddr::V4(v4);
      return e;
    }
    if (c == ':') break;
    if (c == '%') return ParseError::kZone;
  }
  if (s.find('%') != std::string_view::npos) return ParseError::kZone;
  if (s.find(':') == std::string_view::npos) {
    // No '.' and no ':': report it as a malformed IPv4 address.
    uint32_t v4 = 0;
    return ParseV4(s, &v4);
  }
  Uint128 bits = 0;
  ParseError e = ParseV6(s, &bits);
  if (e != ParseError::kOk) return e;
  if ((bits >> 32) == 0xffff) {
    *out = IpAddr::V4(static_cast<uint32_t>(bits));  // ::ffff:a.b.c.d
  } else {
    *out = IpAddr::V6(bits);
  }
  return ParseError::kOk;
}

Result<IpAddr> IpAddr::Parse(std::string_view text) {
  IpAddr a;
  ParseError e = TryParseIpAddr(text, &a);
  if (e != ParseError::kOk) {
    std::string msg = "'";
    msg.append(text);
    msg.append("': ");
    msg.append(ParseErrorReason(e));
    return Status::InvalidArgument(std::move(msg));
  }
  return a;
}

size_t IpAddr::FormatTo(char* out) const {
  char* p = out;
  if (is_v4()) {
    uint32_t v = v4();
    for (int k = 3; k >= 0; --k) {
      unsigned o = (v >> (8 * k)) & 0xff;
      if (o >= 100) *p++ = static_cast<char>('0' + o / 100);
      if (o >= 10) *p++ = static_cast<char>('0' + (o / 10) % 10);
      *p++ = static_cast<char>('0' + o % 10);
      if (k) *p++ = '.';
    }
    return static_cast<size_t>(p - out);
  }
  uint16_t g[8];
  for (int k = 0; k < 8; ++k) g[k] = static_cast<uint16_t>(bits_ >> (16 * (7 - k)));
  // RFC 5952 4.2: compress the longest run (>= 2) of zero groups, leftmost on a tie.
  int best = -1, best_len = 1;
  for (int k = 0; k < 8;) {
    if (g[k] != 0) { ++k; continue; }
    int j = k;
    while (j < 8 && g[j] == 0) ++j;
    if (j - k > best_len) { best = k; best_len = j - k; }
    k = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      *p++ = ':';
      *p++ = ':';
      k += best_len - 1;
      continue;
    }
    if (k > 0 && k != best + best_len) *p++ = ':';
    bool started = false;
    for (int s = 12; s >= 0; s -= 4) {
      unsigned d = (g[k] >> s) & 0xf;
      if (d || started || s == 0) {
        *p++ = kHex[d];
        started = true;
      }
    }
  }
  return static_cast<size_t>(p - out);
}

std::string IpAddr::ToString() const {
  char buf[kMaxTextLen];
  return std::string(buf, FormatTo(buf));
}

}  // namespace tw::net
