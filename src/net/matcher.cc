#include "net/matcher.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

namespace tw::net {

namespace {

// Bits [lo, hi] (0 <= lo <= hi <= 63) set.
uint64_t BitSpan(unsigned lo, unsigned hi) {
  uint64_t upto_hi = hi == 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1;
  return upto_hi & ~((uint64_t{1} << lo) - 1);
}

// Memory of this size or more comes straight from mmap: already zero (no
// memset), and in transparent huge pages where the kernel has them, so a
// large level 1 costs a few page faults instead of thousands.
constexpr size_t kMapBytes = size_t{1} << 20;

}  // namespace

template <typename T>
std::unique_ptr<T[], PrefixMatcher::FreeAligned> PrefixMatcher::AllocZeroed(size_t n) {
  const size_t bytes = std::max<size_t>(n, 1) * sizeof(T);
  if (bytes >= kMapBytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();  // as std::vector would
    madvise(p, bytes, MADV_HUGEPAGE);             // a hint: refused where THP is off
    return std::unique_ptr<T[], FreeAligned>(static_cast<T*>(p), FreeAligned{bytes});
  }
  void* p = std::aligned_alloc(alignof(T), (bytes + alignof(T) - 1) / alignof(T) * alignof(T));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return std::unique_ptr<T[], FreeAligned>(static_cast<T*>(p), FreeAligned{0});
}

void PrefixMatcher::FreeAligned::operator()(void* p) const {
  if (mapped_bytes > 0)
    munmap(p, mapped_bytes);
  else
    std::free(p);
}

PrefixMatcher::PrefixMatcher(const CidrSet& set) : v4_(set.v4_ranges()), v6_(set.v6_ranges()) {
  if (!v4_.empty()) BuildV4(v4_);
}

void PrefixMatcher::BuildV4(const std::vector<V4Range>& ranges) {
  // Each range covers whole /24s (full bits in level 1) and at most two
  // partial ones at its ends (leaves).  Ranges are sorted, so a /24 shared
  // by several ranges is always the last partial one seen.  Two passes over
  // the ranges: the first counts the leaves so they are allocated once, in
  // /24 order, and written in place by the second.
  auto for_each_part = [&ranges](auto&& full, auto&& partial) {
    for (const V4Range& r : ranges) {
      const uint32_t u1 = r.first >> 8, u2 = r.last >> 8;
      const unsigned lo = r.first & 255, hi = r.last & 255;
      if (u1 == u2) {
        if (lo == 0 && hi == 255)
          full(u1, u1);
        else
          partial(u1, lo, hi);
        continue;
      }
      if (lo == 0)
        full(u1, u1);
      else
        partial(u1, lo, 255);
      if (u1 + 1 <= u2 - 1) full(u1 + 1, u2 - 1);
      if (hi == 255)
        full(u2, u2);
      else
        partial(u2, 0, hi);
    }
  };
  size_t leaves = 0;
  int64_t last_unit = -1;
  for_each_part([](uint32_t, uint32_t) {},
                [&](uint32_t unit, unsigned, unsigned) {
                  if (unit != last_unit) ++leaves, last_unit = unit;
                });

  blocks_ = AllocZeroed<Block>(kBlocks);
  leaves_ = AllocZeroed<Leaf>(leaves);
  leaf_count_ = leaves;
  Block* blocks = blocks_.get();
  Leaf* leaf = leaves_.get() - 1;  // the leaf being filled
  last_unit = -1;
  // Marks /24s [u, v] as wholly in the set, a 64-bit word at a time.
  auto set_full = [blocks](uint32_t u, uint32_t v) {
    while (u <= v) {
      uint32_t blk = u >> 6;
      unsigned hi = (blk == (v >> 6)) ? (v & 63) : 63;
      blocks[blk].full |= BitSpan(u & 63, hi);
      if (blk == (v >> 6)) break;
      u = (blk + 1) << 6;
    }
  };
  auto set_partial = [&](uint32_t unit, unsigned lo, unsigned hi) {
    if (unit != last_unit) {
      ++leaf;
      last_unit = unit;
      blocks[unit >> 6].mixed |= uint64_t{1} << (unit & 63);
    }
    for (unsigned w = lo >> 6; w <= hi >> 6; ++w) {
      unsigned a = w == (lo >> 6) ? (lo & 63) : 0;
      unsigned b = w == (hi >> 6) ? (hi & 63) : 63;
      leaf->w[w] |= BitSpan(a, b);
    }
  };
  for_each_part(set_full, set_partial);

  uint32_t base = 0;
  for (size_t i = 0; i < kBlocks; ++i) {
    blocks[i].base = base;
    base += PopCount(blocks[i].mixed);
  }
}

bool PrefixMatcher::ContainsV6(Uint128 a) const {
  // The first range whose end is >= a; a is in the set iff it starts <= a.
  // A lower bound without branches on the comparisons (random addresses
  // make them unpredictable): the halving steps depend on n alone.
  if (v6_.empty()) return false;
  const V6Range* base = v6_.data();
  size_t n = v6_.size();
  while (n > 1) {
    const size_t half = n / 2;
    base += half & (size_t{0} - static_cast<size_t>(base[half - 1].last < a));
    n -= half;
  }
  return base->last >= a && base->first <= a;
}

void PrefixMatcher::ContainsBatchV6(std::span<const Uint128> keys, std::span<uint8_t> out) const {
  const size_t n = std::min(keys.size(), out.size());
  if (v6_.empty()) {
    std::fill_n(out.data(), n, uint8_t{0});  // no memset: out.data() may be null when n is 0
    return;
  }
  // ContainsV6's search for kGroup keys at once: the halving steps depend
  // on the number of ranges alone, so the keys move in lockstep.
  constexpr size_t kGroup = 8;
  for (size_t start = 0; start < n; start += kGroup) {
    const size_t m = std::min(kGroup, n - start);
    const Uint128* k = keys.data() + start;
    const V6Range* base[kGroup];
    for (size_t i = 0; i < m; ++i) base[i] = v6_.data();
    for (size_t len = v6_.size(); len > 1;) {
      const size_t half = len / 2;
      for (size_t i = 0; i < m; ++i)
        base[i] += half & (size_t{0} - static_cast<size_t>(base[i][half - 1].last < k[i]));
      len -= half;
    }
    for (size_t i = 0; i < m; ++i) out[start + i] = base[i]->last >= k[i] && base[i]->first <= k[i];
  }
}

void PrefixMatcher::ContainsBatchV4(std::span<const uint32_t> keys, std::span<uint8_t> out) const {
  const size_t n = std::min(keys.size(), out.size());
  if (blocks_ == nullptr) {
    std::fill_n(out.data(), n, uint8_t{0});  // no memset: out.data() may be null when n is 0
    return;
  }
  // Group of kGroup keys: prefetch their level-1 blocks, then resolve the
  // full/empty ones and prefetch the leaves of mixed ones, then finish those.
  constexpr size_t kGroup = 32;
  uint32_t leaf_index[kGroup];
  uint32_t pending[kGroup];
  for (size_t start = 0; start < n; start += kGroup) {
    const size_t m = std::min(kGroup, n - start);
    const uint32_t* k = keys.data() + start;
    uint8_t* o = out.data() + start;
    for (size_t i = 0; i < m; ++i) __builtin_prefetch(&blocks_[k[i] >> 14]);
    size_t np = 0;
    for (size_t i = 0; i < m; ++i) {
      const Block& b = blocks_[k[i] >> 14];
      const uint64_t bit = uint64_t{1} << ((k[i] >> 8) & 63);
      o[i] = (b.full & bit) != 0;
      if (b.mixed & bit) {
        uint32_t li = b.base + PopCount(b.mixed & (bit - 1));
        __builtin_prefetch(&leaves_[li]);
        leaf_index[np] = li;
        pending[np++] = static_cast<uint32_t>(i);
      }
    }
    for (size_t j = 0; j < np; ++j) {
      const uint32_t a = k[pending[j]];
      o[pending[j]] = (leaves_[leaf_index[j]].w[(a >> 6) & 3] >> (a & 63)) & 1;
    }
  }
}

std::optional<Cidr> PrefixMatcher::MatchedPrefix(const IpAddr& a) const { return CoveringCidrIn(v4_, v6_, a); }

size_t PrefixMatcher::MemoryBytes() const {
  size_t bytes = v4_.capacity() * sizeof(V4Range) + v6_.capacity() * sizeof(V6Range);
  if (blocks_ != nullptr) bytes += kBlocks * sizeof(Block) + std::max<size_t>(leaf_count_, 1) * sizeof(Leaf);
  return bytes;
}

}  // namespace tw::net
