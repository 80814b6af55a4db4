#include "net/cidr_set.h"

#include <gtest/gtest.h>

#include <algorithm>
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

// AddText (with its IPv4 fast path) must accept exactly what Cidr::Parse
// accepts, with the same value: every case of testdata/net/cidrs.txt and
// addresses.txt, then random texts over the fast path's alphabet.
TEST(NetCidrSet, AddTextAgreesWithCidrParse) {
  auto check = [](const std::string& text) {
    SCOPED_TRACE("'" + text + "'");
    CidrSet::Builder b;
    bool added = b.AddText(text);
    Result<Cidr> want = Cidr::Parse(text);
    ASSERT_EQ(added, want.ok());
    if (added) {
      EXPECT_EQ(b.Build().ToCidrs(), std::vector<Cidr>{*want});
    } else {
      EXPECT_TRUE(b.Build().empty());
    }
  };
  int cases = 0;
  for (const char* file : {"cidrs.txt", "addresses.txt"}) {
    std::ifstream in(fs::path(TW_SOURCE_DIR) / "testdata" / "net" / file);
    ASSERT_TRUE(in) << file;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::string input = line.substr(0, line.find('\t'));
      for (size_t p; (p = input.find("<SP>")) != std::string::npos;) input.replace(p, 4, " ");
      check(input);
      ++cases;
    }
  }
  EXPECT_GT(cases, 60);
  std::mt19937 rng(3);
  const std::string alphabet = "0123456789./0123456789..";
  for (int i = 0; i < 200000; ++i) {
    std::string t;
    size_t len = rng() % 20;
    for (size_t k = 0; k < len; ++k) t.push_back(alphabet[rng() % alphabet.size()]);
    check(t);
  }
  // Random valid-looking ones hit the accepting side often.
  for (int i = 0; i < 20000; ++i) {
    std::string t = std::to_string(rng() % 300) + "." + std::to_string(rng() % 300) + "." +
                    std::to_string(rng() % 260) + "." + std::to_string(rng() % 260);
    if (rng() % 2) t += "/" + std::to_string(rng() % 40);
    check(t);
  }
}

// AppendCidrs / CidrCount / ToText against ToCidrs() formatted one by one,
// on random sets of both families (single hosts, ranges that split into
// many CIDRs, the ends of the address space).
TEST(NetCidrSet, AppendCidrsMatchesToCidrs) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 300; ++round) {
    CidrSet::Builder b;
    int n = static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 4) {
        case 0: b.Add(Cidr(IpAddr::V4(static_cast<uint32_t>(rng())), 32)); break;
        case 1: b.Add(Cidr(IpAddr::V4(static_cast<uint32_t>(rng())), static_cast<int>(rng() % 33))); break;
        case 2: {
          uint32_t lo = static_cast<uint32_t>(rng());
          uint32_t hi = lo + static_cast<uint32_t>(rng() % 100000);
          if (rng() % 8 == 0) hi = 0xffffffff;
          if (hi >= lo) b.AddRange(IpAddr::V4(lo), IpAddr::V4(hi));
          break;
        }
        default: {
          Uint128 a = (Uint128{rng()} << 64) | rng();
          b.Add(Cidr(IpAddr::V6(a), static_cast<int>(rng() % 129)));
        }
      }
    }
    CidrSet set = b.Build();
    std::vector<Cidr> cidrs = set.ToCidrs();
    EXPECT_EQ(set.CidrCount(), cidrs.size());
    for (bool compact : {false, true}) {
      std::string want_lines, want_json = "[";
      char buf[Cidr::kMaxTextLen];
      for (const Cidr& c : cidrs) {
        std::string t(buf, compact ? c.FormatCompactTo(buf) : c.FormatTo(buf));
        want_lines += t + "\n";
        want_json += "\"" + t + "\",";
      }
      EXPECT_EQ(set.ToText(compact), want_lines);
      std::string json = "[";
      set.AppendCidrs(&json, compact, "\"", "\",");
      EXPECT_EQ(json, want_json);
    }
  }
  // Long separators take another path; same result.
  CidrSet two = CidrSet::FromCidrs(std::vector<Cidr>{*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("2001:db8::1")});
  const std::string sep(5000, '-');
  std::string wide;
  two.AppendCidrs(&wide, true, sep, "\n");
  EXPECT_EQ(wide, sep + "10.0.0.0/8\n" + sep + "2001:db8::1\n");
  EXPECT_EQ(CidrSet().CidrCount(), 0u);
  EXPECT_EQ(CidrSet().ToText(true), "");
  CidrSet all = CidrSet::FromCidrs(std::vector<Cidr>{*Cidr::Parse("0.0.0.0/0"), *Cidr::Parse("::/0")});
  EXPECT_EQ(all.ToText(true), "0.0.0.0/0\n::/0\n");
  EXPECT_EQ(all.CidrCount(), 2u);
}

// Build() on sorted input skips the radix sort, on unsorted input sorts
// with it: both must give the same set as the small-input std::sort path.
TEST(NetCidrSet, SortedUnsortedAndSmallInputsAgree) {
  std::mt19937 rng(13);
  std::vector<Cidr> cidrs;
  for (int i = 0; i < 20000; ++i) cidrs.emplace_back(IpAddr::V4(rng()), 16 + static_cast<int>(rng() % 17));
  CidrSet shuffled = CidrSet::FromCidrs(cidrs);
  std::vector<Cidr> sorted = cidrs;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(CidrSet::FromCidrs(sorted), shuffled);
  CidrSet acc;
  for (size_t i = 0; i < cidrs.size(); i += 1000) {
    acc = acc.Union(CidrSet::FromCidrs(std::span<const Cidr>(cidrs).subspan(i, 1000)));
  }
  EXPECT_EQ(acc, shuffled);
  EXPECT_EQ(shuffled.MemoryBytes(), shuffled.size() * sizeof(V4Range));  // exactly sized
}

}  // namespace
}  // namespace tw::net
