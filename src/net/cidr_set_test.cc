#include "net/cidr_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

namespace tw::net {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Builds a set from a feed body the way iprange reads it: '#' comments and
// surrounding whitespace removed, empty lines skipped.  Returns the number
// of lines that were not an address or CIDR.
size_t BuildFromFeed(const std::string& body, CidrSet* out) {
  CidrSet::Builder b;
  size_t bad = 0;
  std::string_view rest = body;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    line = line.substr(0, line.find('#'));
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    if (line.empty()) continue;
    if (!b.AddText(line)) ++bad;
  }
  *out = b.Build();
  return bad;
}

TEST(NetCidrSet, MergeCases) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/net/merges.txt");
  ASSERT_TRUE(in);
  std::string line, name;
  std::vector<std::string> inputs;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("case ")) name = line.substr(5);
    if (line.starts_with("in ")) inputs = Split(line.substr(3));
    if (!line.starts_with("out ")) continue;
    SCOPED_TRACE(name);
    ++cases;
    std::vector<Cidr> cidrs;
    for (const std::string& s : inputs) {
      if (s == "-") continue;
      Result<Cidr> c = Cidr::Parse(s);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      cidrs.push_back(*c);
    }
    CidrSet set = CidrSet::FromCidrs(cidrs);
    std::string got;
    for (const Cidr& c : set.ToCidrs()) got += (got.empty() ? "" : " ") + c.ToString();
    std::string want = line.substr(4);
    EXPECT_EQ(got.empty() ? "-" : got, want);
    for (const Cidr& c : cidrs) {
      EXPECT_TRUE(set.Contains(c.addr())) << c.ToString();
    }
  }
  EXPECT_GE(cases, 20);
}

// Brute force over a small universe (the first 512 addresses above a base,
// both families): Build, Contains, ToCidrs, Union and Difference agree with
// a std::set of integers.
TEST(NetCidrSet, MatchesBruteForceOnRandomInputs) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    bool v4 = round % 2 == 0;
    Uint128 base = v4 ? Uint128{0xfffffe00u} : (~Uint128{0} - 511);  // top of the space
    auto random_set = [&](std::set<Uint128>* truth) {
      CidrSet::Builder b;
      int n = static_cast<int>(rng() % 40);
      for (int i = 0; i < n; ++i) {
        int host_bits = static_cast<int>(rng() % 7);
        Uint128 off = rng() % 512;
        IpAddr a = v4 ? IpAddr::V4(static_cast<uint32_t>(base + off)) : IpAddr::V6(base + off);
        Cidr c(a, a.bit_len() - host_bits);
        b.Add(c);
        for (Uint128 x = c.first();; ++x) {
          truth->insert(x);
          if (x == c.last()) break;
        }
      }
      return b.Build();
    };
    std::set<Uint128> ta, tb;
    CidrSet a = random_set(&ta);
    CidrSet b = random_set(&tb);
    auto check = [&](const CidrSet& s, const std::set<Uint128>& truth, const char* what) {
      SCOPED_TRACE(std::string(what) + " round " + std::to_string(round));
      std::set<Uint128> covered;
      std::vector<Cidr> cidrs = s.ToCidrs();
      for (size_t i = 0; i < cidrs.size(); ++i) {
        const Cidr& c = cidrs[i];
        if (i > 0) {
          ASSERT_LT(cidrs[i - 1].last(), c.first());  // sorted, disjoint
          // Minimal: two sibling prefixes would have been one.
          bool siblings = cidrs[i - 1].prefix_len() == c.prefix_len() && c.prefix_len() > 0 &&
                          Cidr(cidrs[i - 1].addr(), c.prefix_len() - 1) == Cidr(c.addr(), c.prefix_len() - 1);
          EXPECT_FALSE(siblings) << cidrs[i - 1].ToString() << " " << c.ToString();
        }
        for (Uint128 x = c.first();; ++x) {
          covered.insert(x);
          if (x == c.last()) break;
        }
      }
      EXPECT_TRUE(covered == truth);
      for (Uint128 off = 0; off < 512; ++off) {
        IpAddr ip = v4 ? IpAddr::V4(static_cast<uint32_t>(base + off)) : IpAddr::V6(base + off);
        ASSERT_EQ(s.Contains(ip), truth.count(base + off) == 1) << ip.ToString();
      }
      EXPECT_FALSE(s.Contains(v4 ? IpAddr::V6(base) : IpAddr::V4(static_cast<uint32_t>(base))));
    };
    check(a, ta, "a");
    std::set<Uint128> tu = ta, td;
    tu.insert(tb.begin(), tb.end());
    for (Uint128 x : ta) if (!tb.count(x)) td.insert(x);
    check(a.Union(b), tu, "union");
    check(a.Difference(b), td, "difference");
    EXPECT_EQ(CidrSet::FromCidrs(a.ToCidrs()), a);
  }
}

void ExpectSameAsIprange(const fs::path& input, const fs::path& golden) {
  SCOPED_TRACE(input.string());
  CidrSet set;
  size_t bad = BuildFromFeed(ReadAll(input), &set);
  EXPECT_EQ(bad, 0u);
  std::string want = ReadAll(golden);
  ASSERT_FALSE(want.empty()) << golden;
  std::string got = set.ToText(/*compact=*/true);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);  // not EXPECT_EQ: a diff of megabytes helps nobody
  if (got != want) {
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    size_t line_start = want.rfind('\n', i == 0 ? 0 : i - 1);
    ADD_FAILURE() << "first difference near: '" << want.substr(line_start + 1, 40) << "' vs '"
                  << got.substr(line_start + 1, 40) << "'";
  }
}

TEST(NetCidrSet, SameAsIprangeOnRandomInput) {
  fs::path dir = fs::path(TW_SOURCE_DIR) / "testdata" / "net";
  ExpectSameAsIprange(dir / "random_v4.txt", dir / "random_v4.txt.iprange.golden");
}

TEST(NetCidrSet, SameAsIprangeOnSharedFeeds) {
  fs::path feeds = fs::path(TW_SOURCE_DIR) / ".." / "shared" / "feeds";
  if (!fs::exists(feeds)) GTEST_SKIP() << feeds << " is absent";
  fs::path dir = fs::path(TW_SOURCE_DIR) / "testdata" / "net";
  for (const char* f : {"firehol_level4.netset", "firehol_level1.netset", "cymru_fullbogons-ipv4.txt",
                        "firehol_spamhaus_drop.netset"}) {
    ExpectSameAsIprange(feeds / f, dir / (std::string("iprange_") + f + ".golden"));
  }
}

TEST(NetCidrSet, LargeRadixPathMatchesSmallPath) {
  // Above 1024 entries Build() radix-sorts; feeding the same CIDRs one
  // union at a time (small sorts only) must give the same set.
  std::mt19937 rng(11);
  std::vector<Cidr> cidrs;
  for (int i = 0; i < 5000; ++i) cidrs.emplace_back(IpAddr::V4(rng()), 20 + static_cast<int>(rng() % 13));
  CidrSet whole = CidrSet::FromCidrs(cidrs);
  CidrSet acc;
  for (size_t i = 0; i < cidrs.size(); i += 500) {
    acc = acc.Union(CidrSet::FromCidrs(std::span<const Cidr>(cidrs).subspan(i, 500)));
  }
  EXPECT_EQ(whole, acc);
  EXPECT_TRUE(whole.Difference(acc).empty());
  EXPECT_GT(whole.V4AddressCount(), 0u);
}

}  // namespace
}  // namespace tw::net
