#include "nft/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "nft/applier.h"
#include "nft/test_programs.h"

namespace tw::nft {
namespace {

using testing::NetsForTest;
using testing::SeedProgramForTest;

TEST(NftDiff, SameProgramNoChanges) {
  policy::Program p = SeedProgramForTest();
  policy::Program q = SeedProgramForTest();
  Diff d = DiffPrograms(p, q, RenderOptions{});
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(RenderDiff(d), "");
}

TEST(NftDiff, FeedUpdateTouchesOnlyElements) {
  policy::Program old_p = SeedProgramForTest();
  policy::Program new_p = SeedProgramForTest();
  new_p.sets[0].members = new_p.sets[0].members.Union(NetsForTest({"5.196.58.97", "203.0.113.0/24"}));
  Diff d = DiffPrograms(old_p, new_p, RenderOptions{});
  EXPECT_TRUE(d.chains.empty());
  // 5.196.58.96 and .97 merge into one range: the single goes, the range comes.
  EXPECT_EQ(RenderDiff(d),
            "delete element inet threatwall s0h { 5.196.58.96 }\n"
            "add element inet threatwall s0i { 5.196.58.96-5.196.58.97, 203.0.113.0-203.0.113.255 }\n");
}

TEST(NftDiff, RangesThatMergeAreReplaced) {
  policy::Program old_p = SeedProgramForTest();
  policy::Program new_p = SeedProgramForTest();
  new_p.sets[0].members = new_p.sets[0].members.Union(NetsForTest({"45.9.149.0/24"}));
  Diff d = DiffPrograms(old_p, new_p, RenderOptions{});
  ASSERT_EQ(d.sets.size(), 1u);
  EXPECT_EQ(d.sets[0].set.name, "s0i");
  std::string script = RenderDiff(d);
  EXPECT_EQ(script,
            "delete element inet threatwall s0i { 45.9.148.0-45.9.148.255 }\n"
            "add element inet threatwall s0i { 45.9.148.0-45.9.149.255 }\n");
}

TEST(NftDiff, FirstIpv6MemberAddsSetsAndRewritesRules) {
  policy::Program old_p = SeedProgramForTest();
  policy::Program new_p = SeedProgramForTest();
  new_p.sets[0].members = new_p.sets[0].members.Union(NetsForTest({"2001:db8::7"}));
  Diff d = DiffPrograms(old_p, new_p, RenderOptions{});
  std::string script = RenderDiff(d);
  EXPECT_NE(script.find("add set inet threatwall s0h6 { type ipv6_addr; }\n"
                        "add element inet threatwall s0h6 { 2001:db8::7 }\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("add set inet threatwall s0i6 { type ipv6_addr; flags interval; }\n"),
            std::string::npos)
      << script;
  ASSERT_EQ(d.chains.size(), 1u);
  EXPECT_EQ(d.chains[0].kind, ChangeKind::kChanged);
  EXPECT_EQ(d.chains[0].chain.name, "po-security.block-snort");
  // Sets come before the chain that refers to them.
  EXPECT_LT(script.find("add set"), script.find("flush chain inet threatwall po-security.block-snort"));
  EXPECT_NE(script.find("add rule inet threatwall po-security.block-snort ip6 daddr @s0h6 "),
            std::string::npos)
      << script;
}

TEST(NftDiff, RemovedPolicyAndEndpoint) {
  policy::Program old_p = SeedProgramForTest();
  policy::Program new_p = SeedProgramForTest();
  new_p.policies.pop_back();  // default.allow-dns
  new_p.endpoints["twc0ffee01"].egress.pop_back();
  new_p.endpoints.erase("twbeef0002");
  new_p.sets.clear();
  new_p.policies[0].rules.erase(new_p.policies[0].rules.begin());
  Diff d = DiffPrograms(old_p, new_p, RenderOptions{});
  std::string script = RenderDiff(d);
  // Order: refill changed chains, then drop chains, then sets.
  size_t refill = script.find("flush chain inet threatwall fw-twc0ffee01\n");
  size_t drop_chain = script.find("flush chain inet threatwall po-default.allow-dns\n"
                                  "delete chain inet threatwall po-default.allow-dns\n");
  size_t drop_ep = script.find("delete chain inet threatwall tw-twbeef0002\n");
  size_t drop_set = script.find("delete set inet threatwall s0h\n");
  ASSERT_NE(refill, std::string::npos) << script;
  ASSERT_NE(drop_chain, std::string::npos) << script;
  ASSERT_NE(drop_ep, std::string::npos) << script;
  ASSERT_NE(drop_set, std::string::npos) << script;
  EXPECT_LT(refill, drop_chain);
  EXPECT_LT(drop_chain, drop_set);
  EXPECT_NE(script.find("flush chain inet threatwall forward\n"), std::string::npos);
  EXPECT_EQ(script.find("# "), std::string::npos) << "comments must not become rules";
  EXPECT_EQ(script.find("add element"), std::string::npos);
}

TEST(NftDiff, NewChainsAreDeclaredBeforeUse) {
  policy::Program old_p = SeedProgramForTest();
  old_p.endpoints.clear();
  policy::Program new_p = SeedProgramForTest();
  std::string script = RenderDiff(DiffPrograms(old_p, new_p, RenderOptions{}));
  size_t declare = script.find("add chain inet threatwall fw-twc0ffee01\n");
  size_t use = script.find("add rule inet threatwall forward iifname vmap");
  ASSERT_NE(declare, std::string::npos) << script;
  ASSERT_NE(use, std::string::npos) << script;
  EXPECT_LT(declare, use);
}

// Applying the element diff to the old element list gives the new one,
// for random sets with merges, splits and h/i migrations.
TEST(NftDiff, ElementDiffRoundTrip) {
  std::mt19937 rng(4);
  auto random_set = [&rng] {
    net::CidrSet::Builder b;
    int n = rng() % 60;
    for (int k = 0; k < n; ++k) {
      uint32_t base = 0x0a000000 | (rng() % 512) << 4;
      int len = 28 + rng() % 5;  // /28../32 over a small space: many merges
      b.Add(net::Cidr(net::IpAddr::V4(base | (rng() % 16)), len));
    }
    if (rng() % 2) b.Add(*net::Cidr::Parse("2001:db8::" + std::to_string(rng() % 9)));
    return b.Build();
  };
  for (int round = 0; round < 200; ++round) {
    policy::Program a, b;
    a.sets.push_back({0, "x", random_set()});
    b.sets.push_back({0, "x", random_set()});
    Ruleset ra = BuildRuleset(a, RenderOptions{});
    Ruleset rb = BuildRuleset(b, RenderOptions{});
    Diff d = DiffRulesets(ra, rb);
    for (const SetSpec& want : rb.sets) {
      std::vector<Element> have;
      for (const SetSpec& s : ra.sets) {
        if (s.name == want.name) have = SetElements(s);
      }
      for (const SetChange& c : d.sets) {
        if (c.set.name != want.name) continue;
        for (const Element& e : c.removed) {
          auto it = std::find(have.begin(), have.end(), e);
          ASSERT_NE(it, have.end()) << "removing an element that is not there";
          have.erase(it);
        }
        for (const Element& e : c.added) have.push_back(e);
      }
      std::sort(have.begin(), have.end(), [](const Element& x, const Element& y) { return x.first < y.first; });
      EXPECT_EQ(have, SetElements(want)) << want.name << " round " << round;
    }
  }
}

TEST(NftApplier, FakeRecordsScripts) {
  FakeApplier fake;
  Applier& applier = fake;
  policy::Program p = SeedProgramForTest();
  EXPECT_TRUE(applier.Apply(RenderRuleset(p, RenderOptions{})).ok());
  fake.set_next_status(Status::Internal("nft: netlink said no"));
  EXPECT_FALSE(applier.Apply("flush chain inet threatwall forward\n").ok());
  ASSERT_EQ(fake.scripts().size(), 2u);
  EXPECT_TRUE(fake.scripts()[0].starts_with("add table inet threatwall\n"));
  EXPECT_EQ(fake.scripts()[1], "flush chain inet threatwall forward\n");
}

}  // namespace
}  // namespace tw::nft
