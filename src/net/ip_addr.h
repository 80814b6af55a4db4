// IpAddr: an IPv4 or IPv6 address as a value (128-bit storage + family).
//
// Parsing follows Go's netip.ParseAddr, with three threatwall decisions:
//   - IPv4 is a strict dotted quad: four decimal fields 0..255, no leading
//     zeros ("010.1.1.1" is rejected, as netip does, so nobody has to guess
//     whether it is octal), no empty fields, no other forms ("1.2.3", "0x1").
//   - IPv6 accepts every RFC 4291 text form ("::", "1::", "::1", full, a
//     trailing dotted quad "::ffff:1.2.3.4"); IPv4-mapped addresses
//     (::ffff:a.b.c.d in any spelling) become IPv4; zones ("fe80::1%eth0")
//     are rejected; one pair of surrounding brackets ("[::1]") is stripped.
//   - No surrounding whitespace is accepted.
// Formatting: IPv4 dotted quad; IPv6 per RFC 5952 (lower case, longest run
// of two or more zero groups compressed, leftmost on a tie).
//
// The hot path (TryParseIpAddr) takes a string_view and allocates nothing.
// Thread-compatible value type.
#ifndef TW_NET_IP_ADDR_H_
#define TW_NET_IP_ADDR_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::net {

using Uint128 = unsigned __int128;

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

// Why a text is not an address (no allocation; see ParseErrorReason).
enum class ParseError : uint8_t {
  kOk = 0,
  kEmpty,
  kZone,
  kV4FieldCount,      // not exactly four fields
  kV4EmptyField,
  kV4BadChar,
  kV4LeadingZero,
  kV4OctetRange,
  kV6BadChar,
  kV6FieldTooLong,    // a group of more than four hex digits
  kV6DoubleColon,     // "::" more than once
  kV6GroupCount,      // too few or too many groups
  kV6LeadingColon,    // a single ':' at the start or the end
  kV6EmbeddedV4,      // bad or misplaced dotted quad
  kBadBracket,
  kBadPrefix,         // CIDR only: prefix length not a decimal number
  kPrefixRange,       // CIDR only: prefix length too large
};

// A short English reason ("IPv4 field has octet with leading zero").
std::string_view ParseErrorReason(ParseError e);

class IpAddr {
 public:
  // Longest text ToString / FormatTo can produce (full IPv6, no brackets).
  static constexpr size_t kMaxTextLen = 39;

  IpAddr() = default;  // 0.0.0.0

  static constexpr IpAddr V4(uint32_t bits) { return IpAddr(Family::kV4, bits); }
  static constexpr IpAddr V6(Uint128 bits) { return IpAddr(Family::kV6, bits); }

  // Parses `text`; the error names the input and the reason:
  //   "'010.1.1.1': IPv4 field has octet with leading zero".
  static Result<IpAddr> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  bool is_v6() const { return family_ == Family::kV6; }
  // Address width in bits: 32 or 128.
  int bit_len() const { return is_v4() ? 32 : 128; }
  // The address as an integer (an IPv4 address uses the low 32 bits).
  Uint128 bits() const { return bits_; }
  uint32_t v4() const { return static_cast<uint32_t>(bits_); }

  // Writes the text form to `out` (at least kMaxTextLen bytes, no NUL);
  // returns the number of bytes written.
  size_t FormatTo(char* out) const;
  std::string ToString() const;

  // Ordering: every IPv4 address before every IPv6 address, then numeric.
  friend constexpr auto operator<=>(const IpAddr& a, const IpAddr& b) {
    if (a.family_ != b.family_) return a.family_ <=> b.family_;
    return a.bits_ <=> b.bits_;
  }
  friend constexpr bool operator==(const IpAddr&, const IpAddr&) = default;

 private:
  constexpr IpAddr(Family f, Uint128 bits) : family_(f), bits_(bits) {}

  Family family_ = Family::kV4;
  Uint128 bits_ = 0;
};

// Allocation-free parse of `text` into `*out` (untouched on error).
ParseError TryParseIpAddr(std::string_view text, IpAddr* out);

}  // namespace tw::net

#endif  // TW_NET_IP_ADDR_H_
