#include "net/matcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace tw::net {
namespace {

CidrSet SetOf(const std::vector<std::string>& texts) {
  CidrSet::Builder b;
  for (const std::string& t : texts) EXPECT_TRUE(b.AddText(t)) << t;
  return b.Build();
}

IpAddr V4(const char* text) {
  IpAddr a;
  EXPECT_EQ(TryParseIpAddr(text, &a), ParseError::kOk) << text;
  return a;
}

// Every key: the matcher (single and batch) agrees with CidrSet::Contains.
void ExpectAgreesV4(const CidrSet& set, const PrefixMatcher& m, const std::vector<uint32_t>& keys) {
  std::vector<uint8_t> batch(keys.size(), 7);
  m.ContainsBatchV4(keys, batch);
  for (size_t i = 0; i < keys.size(); ++i) {
    bool want = set.Contains(IpAddr::V4(keys[i]));
    ASSERT_EQ(m.ContainsV4(keys[i]), want) << IpAddr::V4(keys[i]).ToString();
    ASSERT_EQ(batch[i], want ? 1 : 0) << IpAddr::V4(keys[i]).ToString();
    ASSERT_EQ(m.Contains(IpAddr::V4(keys[i])), want);
  }
}

// Edge keys: 0.0.0.0, 255.255.255.255, each range's boundaries +-1 and the
// /24 boundaries around them.
std::vector<uint32_t> EdgeKeys(const CidrSet& set) {
  std::vector<uint32_t> keys = {0, 1, 255, 256, 0xFFFFFFFFu, 0xFFFFFFFEu, 0xFFFFFF00u, 0xFFFFFEFFu};
  for (const V4Range& r : set.v4_ranges()) {
    for (uint32_t x : {r.first, r.last}) {
      keys.push_back(x);
      keys.push_back(x - 1);
      keys.push_back(x + 1);
      keys.push_back(x & 0xFFFFFF00u);
      keys.push_back(x | 0xFFu);
      keys.push_back((x & 0xFFFFFF00u) - 1);
      keys.push_back((x | 0xFFu) + 1);
    }
  }
  return keys;
}

TEST(PrefixMatcher, EmptyMatchesNothing) {
  PrefixMatcher m;
  EXPECT_FALSE(m.ContainsV4(0));
  EXPECT_FALSE(m.Contains(V4("1.2.3.4")));
  EXPECT_FALSE(m.MatchedPrefix(V4("1.2.3.4")).has_value());
  PrefixMatcher built{CidrSet()};
  EXPECT_FALSE(built.ContainsV4(0xFFFFFFFFu));
  std::vector<uint32_t> keys = {1, 2, 3};
  std::vector<uint8_t> out(3, 9);
  built.ContainsBatchV4(keys, out);
  EXPECT_EQ(out, std::vector<uint8_t>({0, 0, 0}));
}

TEST(PrefixMatcher, ExtremeAddressesAndWholeSpace) {
  CidrSet ends = SetOf({"0.0.0.0", "255.255.255.255"});
  PrefixMatcher m(ends);
  EXPECT_TRUE(m.ContainsV4(0));
  EXPECT_TRUE(m.ContainsV4(0xFFFFFFFFu));
  EXPECT_FALSE(m.ContainsV4(1));
  EXPECT_FALSE(m.ContainsV4(0xFFFFFFFEu));
  ExpectAgreesV4(ends, m, EdgeKeys(ends));

  CidrSet all = SetOf({"0.0.0.0/0"});
  PrefixMatcher everything(all);
  EXPECT_EQ(everything.leaf_count(), 0u);
  ExpectAgreesV4(all, everything, EdgeKeys(all));
  EXPECT_EQ(everything.MatchedPrefix(V4("9.9.9.9"))->ToString(), "0.0.0.0/0");
}

TEST(PrefixMatcher, RangesSharingA24AndSpanningBlocks) {
  // Two ranges in one /24 (one leaf), a range across a 64-/24 block
  // boundary, and one ending exactly on a /24 boundary.
  CidrSet set = SetOf({"10.0.0.1", "10.0.0.200/29", "10.0.63.128/25", "10.0.64.0/24", "10.0.65.0/31",
                       "192.168.0.0/16", "172.16.0.0/12", "1.1.1.1"});
  PrefixMatcher m(set);
  ExpectAgreesV4(set, m, EdgeKeys(set));
  EXPECT_TRUE(m.Contains(V4("10.0.64.255")));
  EXPECT_FALSE(m.Contains(V4("10.0.65.2")));
  EXPECT_FALSE(m.Contains(V4("10.0.0.2")));
  EXPECT_TRUE(m.Contains(V4("10.0.0.207")));
  EXPECT_FALSE(m.Contains(V4("10.0.0.208")));
}

TEST(PrefixMatcher, RandomSetsAgreeWithCidrSet) {
  std::mt19937 rng(5);
  for (int round = 0; round < 8; ++round) {
    CidrSet::Builder b;
    const int n = 200 + round * 700;
    for (int i = 0; i < n; ++i) {
      uint32_t a = rng();
      // Mostly hosts, some short and long prefixes; later rounds cluster the
      // addresses in 10.0.0.0/12 so ranges share /24s and blocks.
      if (round % 2 == 1) a = 0x0A000000u | (a & 0x000FFFFFu);
      int len = (rng() % 4 == 0) ? 8 + static_cast<int>(rng() % 25) : 32;
      b.Add(Cidr(IpAddr::V4(a), len));
    }
    CidrSet set = b.Build();
    PrefixMatcher m(set);
    std::vector<uint32_t> keys = EdgeKeys(set);
    for (int i = 0; i < 200000; ++i) {
      uint32_t k = rng();
      if (round % 2 == 1 && i % 2 == 0) k = 0x0A000000u | (k & 0x000FFFFFu);
      keys.push_back(k);
    }
    ExpectAgreesV4(set, m, keys);
  }
}

TEST(PrefixMatcher, ExhaustiveOverOneDenseSlash16) {
  // Every address of 10.1.0.0/16 against a set of many small ranges in it.
  std::mt19937 rng(11);
  CidrSet::Builder b;
  for (int i = 0; i < 3000; ++i) b.Add(Cidr(IpAddr::V4(0x0A010000u | (rng() & 0xFFFF)), 26 + rng() % 7));
  CidrSet set = b.Build();
  PrefixMatcher m(set);
  std::vector<uint32_t> keys;
  for (uint32_t x = 0x0A00FF00u; x <= 0x0A020100u; ++x) keys.push_back(x);
  ExpectAgreesV4(set, m, keys);
}

TEST(PrefixMatcher, IPv6AgreesWithCidrSet) {
  CidrSet::Builder b;
  ASSERT_TRUE(b.AddText("2001:db8::/32"));
  ASSERT_TRUE(b.AddText("::"));
  ASSERT_TRUE(b.AddText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  ASSERT_TRUE(b.AddText("fe80::1"));
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    Uint128 a = (Uint128{rng()} << 64) | rng();
    b.Add(Cidr(IpAddr::V6(a), 16 + static_cast<int>(rng() % 113)));
  }
  CidrSet set = b.Build();
  PrefixMatcher m(set);
  std::vector<Uint128> keys = {0, 1, ~Uint128{0}, ~Uint128{0} - 1};
  for (const V6Range& r : set.v6_ranges()) {
    for (Uint128 x : {r.first, r.last}) {
      keys.push_back(x);
      keys.push_back(x - 1);
      keys.push_back(x + 1);
    }
  }
  for (int i = 0; i < 20000; ++i) keys.push_back((Uint128{rng()} << 64) | rng());
  for (Uint128 k : keys) {
    ASSERT_EQ(m.ContainsV6(k), set.Contains(IpAddr::V6(k))) << IpAddr::V6(k).ToString();
  }
  // The batch answers the same, for any batch size (groups of 8 and a rest).
  for (size_t n : {keys.size(), size_t{1}, size_t{7}, size_t{9}}) {
    std::vector<uint8_t> batch(n, 2);
    m.ContainsBatchV6(std::span<const Uint128>(keys.data(), n), batch);
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(batch[i], set.Contains(IpAddr::V6(keys[i])) ? 1 : 0) << IpAddr::V6(keys[i]).ToString();
  }
  std::vector<uint8_t> none(3, 2);
  PrefixMatcher().ContainsBatchV6(std::span<const Uint128>(keys.data(), 3), none);
  EXPECT_EQ(none, std::vector<uint8_t>(3, 0));
  EXPECT_FALSE(m.ContainsV4(0));  // families are separate
  EXPECT_TRUE(m.has_v6());
  EXPECT_FALSE(m.has_v4());
}

TEST(PrefixMatcher, MatchedPrefixIsTheCoveringCidrOfTheStoredList) {
  // Neighbours merged: 10.0.0.0/24 + 10.0.1.0/24 are stored as 10.0.0.0/23.
  CidrSet set = SetOf({"10.0.0.0/24", "10.0.1.0/24", "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
                       "192.0.2.5", "192.0.2.6", "2001:db8::/48", "2001:db8:1::/48"});
  PrefixMatcher m(set);
  EXPECT_EQ(m.MatchedPrefix(V4("10.0.1.7"))->ToString(), "10.0.0.0/23");
  // 192.0.2.1-192.0.2.6 = .1/32 .2/31 .4/31 .6/32
  EXPECT_EQ(m.MatchedPrefix(V4("192.0.2.1"))->ToString(), "192.0.2.1/32");
  EXPECT_EQ(m.MatchedPrefix(V4("192.0.2.3"))->ToString(), "192.0.2.2/31");
  EXPECT_EQ(m.MatchedPrefix(V4("192.0.2.5"))->ToString(), "192.0.2.4/31");
  EXPECT_EQ(m.MatchedPrefix(V4("192.0.2.6"))->ToString(), "192.0.2.6/32");
  EXPECT_FALSE(m.MatchedPrefix(V4("192.0.2.7")).has_value());
  IpAddr v6;
  ASSERT_EQ(TryParseIpAddr("2001:db8:1::5", &v6), ParseError::kOk);
  EXPECT_EQ(m.MatchedPrefix(v6)->ToString(), "2001:db8::/47");

  // Property: for random sets, the answer is one of ToCidrs() and contains
  // the address.
  std::mt19937 rng(9);
  CidrSet::Builder b;
  for (int i = 0; i < 2000; ++i) b.Add(Cidr(IpAddr::V4(0xC0000000u | (rng() & 0xFFFFF)), 20 + rng() % 13));
  CidrSet rnd = b.Build();
  std::vector<Cidr> cidrs = rnd.ToCidrs();
  std::set<std::string> listed;
  for (const Cidr& c : cidrs) listed.insert(c.ToString());
  PrefixMatcher rm(rnd);
  for (int i = 0; i < 20000; ++i) {
    IpAddr a = IpAddr::V4(0xC0000000u | (rng() & 0xFFFFF));
    auto p = rm.MatchedPrefix(a);
    ASSERT_EQ(p.has_value(), rnd.Contains(a));
    if (!p) continue;
    ASSERT_TRUE(listed.count(p->ToString())) << p->ToString();
    ASSERT_TRUE(p->first() <= a.bits() && a.bits() <= p->last()) << a.ToString() << " " << p->ToString();
  }
}

TEST(PrefixMatcher, CoveringCidrInRangeWholeSpaces) {
  EXPECT_EQ(CoveringCidrInRange(0, 0xFFFFFFFFu, 77, true).ToString(), "0.0.0.0/0");
  EXPECT_EQ(CoveringCidrInRange(0, ~Uint128{0}, 77, false).ToString(), "::/0");
  EXPECT_EQ(CoveringCidrInRange(1, 0xFFFFFFFFu, 0xFFFFFFFFu, true).ToString(), "128.0.0.0/1");
}

TEST(PrefixMatcher, MemoryIsReported) {
  PrefixMatcher m(SetOf({"1.2.3.4", "5.6.7.0/24"}));
  EXPECT_EQ(m.leaf_count(), 1u);
  EXPECT_GE(m.MemoryBytes(), (size_t{1} << 18) * 32);
  EXPECT_EQ(m.range_count(), 2u);
}

}  // namespace
}  // namespace tw::net
