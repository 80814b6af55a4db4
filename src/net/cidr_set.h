// CidrSet: an immutable set of IP addresses stored as sorted, disjoint,
// non-adjacent inclusive ranges, one list per family (IPv4 as uint32 pairs,
// IPv6 as 128-bit pairs).  Built from any list of CIDRs (unsorted,
// duplicated, overlapping); ToCidrs() gives back the minimal sorted list of
// CIDRs covering exactly the union -- for IPv4 the list `iprange` prints.
//
// Building sorts with an LSD radix sort on the range starts (skipped when
// they are already sorted) and merges linearly: O(n) for IPv4.  Memory:
// exactly 8 bytes per IPv4 range, 32 per IPv6 range, once built (the builder
// holds 8 bytes per added IPv4 prefix, plus the same again while sorting).
//
// Thread-compatible; a const CidrSet may be shared between threads.
#ifndef TW_NET_CIDR_SET_H_
#define TW_NET_CIDR_SET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/cidr.h"
#include "net/ip_addr.h"

namespace tw::net {

struct V4Range {
  uint32_t first;
  uint32_t last;  // inclusive
  bool operator==(const V4Range&) const = default;
};

struct V6Range {
  Uint128 first;
  Uint128 last;  // inclusive
  bool operator==(const V6Range&) const = default;
};

// CidrSet::CoveringCidr over range lists (sorted, disjoint), for holders of
// copies of a set's ranges (PrefixMatcher).
std::optional<Cidr> CoveringCidrIn(std::span<const V4Range> v4, std::span<const V6Range> v6, const IpAddr& a);

// The CIDR of the minimal decomposition of [first, last] (inclusive,
// first <= last, both within 32 bits when `v4`) that contains `a`
// (first <= a <= last).
Cidr CoveringCidrInRange(Uint128 first, Uint128 last, Uint128 a, bool v4);

class CidrSet {
 public:
  // Accumulates prefixes; Build() sorts and merges.  Reusable after Build().
  class Builder {
   public:
    void Reserve(size_t v4, size_t v6 = 0);
    void Add(const Cidr& c);
    // Adds [first, last]; ignored unless both have the same family and
    // first <= last.
    void AddRange(const IpAddr& first, const IpAddr& last);
    // Parses `text` as a CIDR or bare address and adds it; returns false
    // (adding nothing) when the text is not one.  Allocation-free apart from
    // vector growth; a plain IPv4 "a.b.c.d[/n]" takes a fast path, with the
    // same result as TryParseCidr.
    bool AddText(std::string_view text);
    CidrSet Build();

   private:
    std::vector<uint64_t> v4_;  // first << 32 | last
    std::vector<V6Range> v6_;
  };

  CidrSet() = default;
  static CidrSet FromCidrs(std::span<const Cidr> cidrs);

  bool Contains(const IpAddr& a) const;
  // The CIDR of the set's minimal decomposition (ToCidrs) that holds `a`,
  // or nullopt when the set does not contain `a`.  A binary search.
  std::optional<Cidr> CoveringCidr(const IpAddr& a) const { return CoveringCidrIn(v4_, v6_, a); }
  bool empty() const { return v4_.empty() && v6_.empty(); }
  // Number of disjoint ranges (IPv4 + IPv6).
  size_t size() const { return v4_.size() + v6_.size(); }
  // Number of IPv4 addresses covered (IPv6 is not counted: it may exceed 2^64).
  uint64_t V4AddressCount() const;

  const std::vector<V4Range>& v4_ranges() const { return v4_; }
  const std::vector<V6Range>& v6_ranges() const { return v6_; }

  // The minimal list of CIDRs covering exactly this set, sorted: IPv4 first,
  // then IPv6, each by address.
  std::vector<Cidr> ToCidrs() const;
  // The number of CIDRs ToCidrs() returns, without building them.
  size_t CidrCount() const;
  // Appends each CIDR of ToCidrs(), in order, to `*out` as
  // `before` + text + `after` (e.g. `"` and `",` for the items of a JSON
  // array); `compact` writes single hosts without "/32" or "/128" (the
  // `iprange` form).  Writes into one growing buffer: no per-CIDR allocation.
  void AppendCidrs(std::string* out, bool compact, std::string_view before, std::string_view after) const;
  // ToCidrs() as text, one per line, each ending in '\n' (AppendCidrs with
  // "" and "\n").
  std::string ToText(bool compact) const;

  // Set algebra, linear in the sizes of both sets.
  CidrSet Union(const CidrSet& other) const;
  CidrSet Difference(const CidrSet& other) const;  // this minus other

  // Heap bytes held by the ranges.
  size_t MemoryBytes() const {
    return v4_.capacity() * sizeof(V4Range) + v6_.capacity() * sizeof(V6Range);
  }

  bool operator==(const CidrSet&) const = default;

 private:
  std::vector<V4Range> v4_;
  std::vector<V6Range> v6_;
};

}  // namespace tw::net

#endif  // TW_NET_CIDR_SET_H_
