// PrefixMatcher: an immutable, lookup-optimised copy of a CidrSet, answering
// "is this address in the set?" (the detection hot path) and "which prefix
// matched?" (only asked on a hit, for an event's `suspicious_prefix`).
//
// IPv4 layout (a two-level bitmap trie, /24 stride then /32):
//   level 1: 2^18 blocks of 32 bytes, one per 64 consecutive /24s (8 MiB,
//            cache-line aligned): `full` has a bit per /24 wholly in the set,
//            `mixed` a bit per /24 partly in it, `base` the number of mixed
//            /24s before the block.
//   level 2: one 256-bit bitmap (32 bytes) per mixed /24, in /24 order; the
//            /24's leaf is leaves[base + popcount(mixed bits below it)].
// A lookup reads one level-1 line and, only for a mixed /24, one leaf line:
// no loops, no branches beyond that, ~1 cache miss per random key.  Memory:
// 8 MiB + 32 bytes per /24 that holds a range boundary (+ 8 bytes per range
// kept for MatchedPrefix) -- independent of how the prefixes nest.
// ContainsBatchV4 prefetches level 1 for a group of keys, then their leaves,
// so the misses of a group overlap.
//
// IPv6: sorted disjoint ranges with a branch-free binary search (feeds are
// overwhelmingly IPv4); ContainsBatchV6 runs the searches of a group of
// keys side by side, so their dependent loads overlap.
//
// What MatchedPrefix returns (`suspicious_prefix`): CidrSet merges
// overlapping and adjacent feed entries, so the feed line that listed an
// address is gone.  The matcher returns the CIDR of the set's minimal CIDR
// decomposition (CidrSet::ToCidrs, the list `feeds parse` prints and the
// daemon stores) that contains the address: for a feed of disjoint,
// non-adjacent entries this is exactly the feed entry; where entries were
// merged it is the covering aggregate that is in force.
//
// Thread-compatible; a const PrefixMatcher may be shared between threads.
#ifndef TW_NET_MATCHER_H_
#define TW_NET_MATCHER_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "net/cidr.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"

namespace tw::net {

class PrefixMatcher {
 public:
  // An empty matcher (matches nothing; allocates nothing).
  PrefixMatcher() = default;
  // Builds from `set`: O(ranges + /24s covered by a range) time.
  explicit PrefixMatcher(const CidrSet& set);

  PrefixMatcher(PrefixMatcher&&) noexcept = default;
  PrefixMatcher& operator=(PrefixMatcher&&) noexcept = default;

  bool Contains(const IpAddr& a) const {
    return a.is_v4() ? ContainsV4(static_cast<uint32_t>(a.bits())) : ContainsV6(a.bits());
  }

  // `a` in host byte order (1.2.3.4 = 0x01020304).
  bool ContainsV4(uint32_t a) const {
    if (blocks_ == nullptr) return false;
    const Block& b = blocks_[a >> 14];
    const uint64_t bit = uint64_t{1} << ((a >> 8) & 63);
    if (b.full & bit) return true;
    if (!(b.mixed & bit)) return false;
    const Leaf& leaf = leaves_[b.base + PopCount(b.mixed & (bit - 1))];
    return (leaf.w[(a >> 6) & 3] >> (a & 63)) & 1;
  }

  bool ContainsV6(Uint128 a) const;

  // out[i] = ContainsV4(keys[i]) ? 1 : 0, for i < keys.size();
  // out.size() must be >= keys.size().  Same answers as ContainsV4, with the
  // memory accesses of groups of keys overlapped (prefetch).
  void ContainsBatchV4(std::span<const uint32_t> keys, std::span<uint8_t> out) const;
  // The same for IPv6: out[i] = ContainsV6(keys[i]) ? 1 : 0.
  void ContainsBatchV6(std::span<const Uint128> keys, std::span<uint8_t> out) const;

  // The `suspicious_prefix` for `a` (see the file comment), or nullopt when
  // the set does not contain `a`.  A binary search: for hits, not the hot
  // path.
  std::optional<Cidr> MatchedPrefix(const IpAddr& a) const;

  bool has_v4() const { return !v4_.empty(); }
  bool has_v6() const { return !v6_.empty(); }
  // Number of disjoint ranges (IPv4 + IPv6) and of /24 leaves.
  size_t range_count() const { return v4_.size() + v6_.size(); }
  size_t leaf_count() const { return leaf_count_; }
  // Heap bytes held: level 1, leaves and the range lists.
  size_t MemoryBytes() const;

 private:
  struct alignas(32) Block {
    uint64_t full;
    uint64_t mixed;
    uint32_t base;
    uint32_t unused[3];
  };
  struct alignas(32) Leaf {
    uint64_t w[4];
  };
  // std::popcount compiles to a libgcc call without -mpopcnt (the default
  // x86-64 target); this is the instruction when the target has it, else
  // a branch-free SWAR count (~12 instructions, no call).
  static uint32_t PopCount(uint64_t x) {
#if defined(__POPCNT__) || !defined(__x86_64__)
    return static_cast<uint32_t>(std::popcount(x));
#else
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return static_cast<uint32_t>((x * 0x0101010101010101ull) >> 56);
#endif
  }

  // Frees what AllocZeroed returned: munmap for `mapped_bytes` > 0, else free.
  struct FreeAligned {
    FreeAligned() : mapped_bytes(0) {}
    explicit FreeAligned(size_t bytes) : mapped_bytes(bytes) {}
    void operator()(void* p) const;
    size_t mapped_bytes;
  };
  template <typename T>
  static std::unique_ptr<T[], FreeAligned> AllocZeroed(size_t n);
  static constexpr size_t kBlocks = size_t{1} << 18;

  void BuildV4(const std::vector<V4Range>& ranges);

  std::unique_ptr<Block[], FreeAligned> blocks_;
  std::unique_ptr<Leaf[], FreeAligned> leaves_;
  size_t leaf_count_ = 0;
  std::vector<V4Range> v4_;
  std::vector<V6Range> v6_;
};

}  // namespace tw::net

#endif  // TW_NET_MATCHER_H_
