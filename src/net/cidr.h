// Cidr: a network prefix (address + prefix length) in canonical form.
//
// A Cidr is always normalised: host bits are zero ("10.1.2.3/8" parses to
// 10.0.0.0/8), and an IPv4-mapped IPv6 prefix of length >= 96
// ("::ffff:10.0.0.0/104") becomes the IPv4 prefix of length - 96
// (10.0.0.0/8).  A bare address is a /32 (IPv4) or /128 (IPv6).
// The address part follows IpAddr's rules (brackets "[::1]/64" allowed);
// the prefix length is decimal without sign or leading zeros (netip).
//
// Thread-compatible value type.
#ifndef TW_NET_CIDR_H_
#define TW_NET_CIDR_H_

#include <compare>
#include <string>
#include <string_view>

#include "base/result.h"
#include "net/ip_addr.h"

namespace tw::net {

class Cidr {
 public:
  // "a.b.c.d/len" at most, with IPv6 "x:...:x/128".
  static constexpr size_t kMaxTextLen = IpAddr::kMaxTextLen + 4;

  Cidr() = default;  // 0.0.0.0/0

  // Masks `addr` to `prefix_len` bits; `prefix_len` is clamped to the
  // address width.
  Cidr(IpAddr addr, int prefix_len);

  // Parses "a/len" or a bare address; the error names the input and the
  // reason: "'10.0.0.0/33': prefix length 33 out of range for IPv4".
  static Result<Cidr> Parse(std::string_view text);

  const IpAddr& addr() const { return addr_; }
  int prefix_len() const { return prefix_len_; }
  Family family() const { return addr_.family(); }
  bool is_v4() const { return addr_.is_v4(); }

  // First and last address covered, as integers of the family.
  Uint128 first() const { return addr_.bits(); }
  Uint128 last() const;

  bool Contains(const IpAddr& a) const;

  // Always "addr/len" (also for /32 and /128).
  size_t FormatTo(char* out) const;
  std::string ToString() const;
  // Like FormatTo, but a single host (/32, /128) is the bare address: the
  // form `iprange` prints.
  size_t FormatCompactTo(char* out) const;

  // Ordering: family, then address, then prefix length.
  friend auto operator<=>(const Cidr&, const Cidr&) = default;
  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  IpAddr addr_;
  int prefix_len_ = 0;
};

// Allocation-free parse; on error `*out` is untouched.  kPrefixRange and
// kBadPrefix refer to the text after '/'.
ParseError TryParseCidr(std::string_view text, Cidr* out);

// Bits of a host mask for a prefix of `prefix_len` in a `bit_len` address
// (e.g. 24 of 32 -> 0xff).
inline Uint128 HostMask(int prefix_len, int bit_len) {
  int host = bit_len - prefix_len;
  return host >= 128 ? ~Uint128{0} : (Uint128{1} << host) - 1;
}

}  // namespace tw::net

#endif  // TW_NET_CIDR_H_
