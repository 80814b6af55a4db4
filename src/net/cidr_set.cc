#include "net/cidr_set.h"

#include <algorithm>
#include <array>

namespace tw::net {
namespace {

// Sorts by the high 32 bits (the range start) with two 16-bit LSD passes:
// linear time, which is what makes million-entry feeds cheap.  The order
// of equal starts does not matter: the merge keeps the larger end.
void SortByStart(std::vector<uint64_t>& v) {
  if (v.size() < 1024) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<uint32_t> count(2 * 65536, 0);
  uint32_t* lo_count = count.data();
  uint32_t* hi_count = count.data() + 65536;
  for (uint64_t x : v) {
    ++lo_count[(x >> 32) & 0xffff];
    ++hi_count[x >> 48];
  }
  std::vector<uint64_t> tmp(v.size());
  auto pass = [](const std::vector<uint64_t>& from, std::vector<uint64_t>& to, uint32_t* c, int shift) {
    uint32_t sum = 0;
    for (int d = 0; d < 65536; ++d) {
      uint32_t n = c[d];
      c[d] = sum;
      sum += n;
    }
    for (uint64_t x : from) to[c[(x >> shift) & 0xffff]++] = x;
  };
  pass(v, tmp, lo_count, 32);
  pass(tmp, v, hi_count, 48);
}

// Merges overlapping and adjacent ranges of a list sorted by start.
template <typename R>
void Coalesce(std::vector<R>& v) {
  if (v.empty()) return;
  size_t w = 0;
  for (size_t i = 1; i < v.size(); ++i) {
    // v[i].first > v[w].last implies v[i].first >= 1: no underflow.
    if (v[i].first <= v[w].last || v[i].first - 1 == v[w].last) {
      if (v[i].last > v[w].last) v[w].last = v[i].last;
    } else {
      v[++w] = v[i];
    }
  }
  v.resize(w + 1);
}

template <typename R>
std::vector<R> MergeUnion(const std::vector<R>& a, const std::vector<R>& b) {
  std::vector<R> out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out),
             [](const R& x, const R& y) { return x.first < y.first; });
  Coalesce(out);
  out.shrink_to_fit();
  return out;
}

template <typename R>
std::vector<R> Subtract(const std::vector<R>& a, const std::vector<R>& b) {
  std::vector<R> out;
  size_t j = 0;
  for (const R& r : a) {
    auto lo = r.first;
    while (j < b.size() && b[j].last < lo) ++j;
    bool covered = false;
    for (size_t k = j; k < b.size() && b[k].first <= r.last; ++k) {
      if (b[k].first > lo) out.push_back({lo, static_cast<decltype(lo)>(b[k].first - 1)});
      if (b[k].last >= r.last) {
        covered = true;
        break;
      }
      lo = b[k].last + 1;  // b[k].last < r.last: no overflow
    }
    if (!covered) out.push_back({lo, r.last});
  }
  out.shrink_to_fit();
  return out;
}

int Ctz128(Uint128 x) {
  uint64_t lo = static_cast<uint64_t>(x);
  if (lo) return __builtin_ctzll(lo);
  return 64 + __builtin_ctzll(static_cast<uint64_t>(x >> 64));
}

int FloorLog2(Uint128 x) {  // x > 0
  uint64_t hi = static_cast<uint64_t>(x >> 64);
  if (hi) return 127 - __builtin_clzll(hi);
  return 63 - __builtin_clzll(static_cast<uint64_t>(x));
}

// Calls sink(Cidr) for the minimal CIDRs covering [lo, hi], in order.
template <typename Sink>
void RangeToCidrs(Uint128 lo, Uint128 hi, bool v4, Sink&& sink) {
  const int width = v4 ? 32 : 128;
  while (true) {
    int align = lo == 0 ? width : std::min(Ctz128(lo), width);
    Uint128 span = hi - lo;  // addresses - 1
    int fit = span == HostMask(0, width) ? width : FloorLog2(span + 1);
    int b = std::min(align, fit);
    IpAddr a = v4 ? IpAddr::V4(static_cast<uint32_t>(lo)) : IpAddr::V6(lo);
    sink(Cidr(a, width - b));
    Uint128 block_last = lo + HostMask(width - b, width);
    if (block_last >= hi) return;
    lo = block_last + 1;
  }
}

}  // namespace

void CidrSet::Builder::Reserve(size_t v4, size_t v6) {
  v4_.reserve(v4);
  v6_.reserve(v6);
}

void CidrSet::Builder::Add(const Cidr& c) {
  if (c.is_v4()) {
    v4_.push_back((static_cast<uint64_t>(c.first()) << 32) | static_cast<uint32_t>(c.last()));
  } else {
    v6_.push_back({c.first(), c.last()});
  }
}

void CidrSet::Builder::AddRange(const IpAddr& first, const IpAddr& last) {
  if (first.family() != last.family() || last.bits() < first.bits()) return;
  if (first.is_v4()) {
    v4_.push_back((static_cast<uint64_t>(first.v4()) << 32) | last.v4());
  } else {
    v6_.push_back({first.bits(), last.bits()});
  }
}

bool CidrSet::Builder::AddText(std::string_view text) {
  Cidr c;
  if (TryParseCidr(text, &c) != ParseError::kOk) return false;
  Add(c);
  return true;
}

CidrSet CidrSet::Builder::Build() {
  CidrSet set;
  SortByStart(v4_);
  set.v4_.reserve(v4_.size());
  for (uint64_t x : v4_) {
    V4Range r{static_cast<uint32_t>(x >> 32), static_cast<uint32_t>(x)};
    if (!set.v4_.empty()) {
      V4Range& cur = set.v4_.back();
      if (static_cast<uint64_t>(r.first) <= static_cast<uint64_t>(cur.last) + 1) {
        if (r.last > cur.last) cur.last = r.last;
        continue;
      }
    }
    set.v4_.push_back(r);
  }
  set.v4_.shrink_to_fit();
  std::sort(v6_.begin(), v6_.end(), [](const V6Range& a, const V6Range& b) { return a.first < b.first; });
  Coalesce(v6_);
  set.v6_.assign(v6_.begin(), v6_.end());
  v4_.clear();
  v6_.clear();
  return set;
}

CidrSet CidrSet::FromCidrs(std::span<const Cidr> cidrs) {
  Builder b;
  for (const Cidr& c : cidrs) b.Add(c);
  return b.Build();
}

bool CidrSet::Contains(const IpAddr& a) const {
  if (a.is_v4()) {
    uint32_t x = a.v4();
    auto it = std::upper_bound(v4_.begin(), v4_.end(), x,
                               [](uint32_t v, const V4Range& r) { return v < r.first; });
    return it != v4_.begin() && std::prev(it)->last >= x;
  }
  Uint128 x = a.bits();
  auto it = std::upper_bound(v6_.begin(), v6_.end(), x,
                             [](Uint128 v, const V6Range& r) { return v < r.first; });
  return it != v6_.begin() && std::prev(it)->last >= x;
}

uint64_t CidrSet::V4AddressCount() const {
  uint64_t n = 0;
  for (const V4Range& r : v4_) n += static_cast<uint64_t>(r.last) - r.first + 1;
  return n;
}

std::vector<Cidr> CidrSet::ToCidrs() const {
  std::vector<Cidr> out;
  out.reserve(size());
  auto add = [&out](const Cidr& c) { out.push_back(c); };
  for (const V4Range& r : v4_) RangeToCidrs(r.first, r.last, /*v4=*/true, add);
  for (const V6Range& r : v6_) RangeToCidrs(r.first, r.last, /*v4=*/false, add);
  return out;
}

std::string CidrSet::ToText(bool compact) const {
  // Formats straight from the ranges: no intermediate vector of Cidr.
  std::string out;
  out.reserve(size() * 16);
  char buf[Cidr::kMaxTextLen + 1];
  auto add = [&](const Cidr& c) {
    size_t n = compact ? c.FormatCompactTo(buf) : c.FormatTo(buf);
    buf[n++] = '\n';
    out.append(buf, n);
  };
  for (const V4Range& r : v4_) RangeToCidrs(r.first, r.last, /*v4=*/true, add);
  for (const V6Range& r : v6_) RangeToCidrs(r.first, r.last, /*v4=*/false, add);
  return out;
}

CidrSet CidrSet::Union(const CidrSet& other) const {
  CidrSet s;
  s.v4_ = MergeUnion(v4_, other.v4_);
  s.v6_ = MergeUnion(v6_, other.v6_);
  return s;
}

CidrSet CidrSet::Difference(const CidrSet& other) const {
  CidrSet s;
  s.v4_ = Subtract(v4_, other.v4_);
  s.v6_ = Subtract(v6_, other.v6_);
  return s;
}

}  // namespace tw::net
