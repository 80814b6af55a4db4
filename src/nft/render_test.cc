#include "nft/render.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "base/file.h"
#include "nft/test_programs.h"

namespace tw::nft {
namespace {

using policy::Action;
using policy::Direction;
using testing::NetsForTest;
using testing::RuleForTest;
using testing::SeedProgramForTest;
using testing::SetForTest;

// Golden files: testdata/nft/<name>.nft.  After an intended change of the
// rendering, regenerate them with
//   TW_UPDATE_GOLDEN=1 build-h-nft/bin/unit_tests --gtest_filter='Nft*'
// and review the diff of testdata/nft/ before committing.
void ExpectGolden(const std::string& name, const std::string& text) {
  std::string path = std::string(TW_SOURCE_DIR) + "/testdata/nft/" + name + ".nft";
  if (std::getenv("TW_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteFileAtomic(path, text).ok()) << path;
    return;
  }
  Result<std::string> want = ReadFile(path);
  ASSERT_TRUE(want.ok()) << path << " missing; run with TW_UPDATE_GOLDEN=1 to create it";
  EXPECT_EQ(*want, text) << "golden " << path << " differs; see the comment above ExpectGolden";
}

std::vector<std::string> RulesOf(const Ruleset& rs, const std::string& chain) {
  for (const ChainSpec& c : rs.chains) {
    if (c.name == chain) return c.rules;
  }
  ADD_FAILURE() << "no chain " << chain;
  return {};
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// Ingress features: numeric and named ports, nets/notNets, notSelector,
// ICMP, ipVersion, Log, staged, a tier that passes at end.
policy::Program MatchesProgram() {
  policy::Program p;
  p.sets.push_back(SetForTest(0, "app == \"web\"", {"10.244.0.7", "10.244.0.8"}));
  p.sets.push_back(SetForTest(1, "role == \"bad\"", {"192.0.2.0/24", "198.51.100.9"}));
  p.sets.push_back(SetForTest(2, "none()", {}));

  policy::Policy web{"prod/default.web", "default", false, Direction::kIngress, {}};
  policy::Rule log = RuleForTest(Action::kLog, 0, "");
  log.match.protocol = 6;
  web.rules.push_back(log);
  policy::Rule allow = RuleForTest(Action::kAllow, 1, "API1|prod/default.web");
  allow.match.protocol = 6;
  allow.match.src.set = 0;
  allow.match.src.not_set = 1;
  allow.match.dst.ports = {{80, 80}, {8000, 8080}};
  allow.match.dst.named_ports = {{net::IpAddr::V4(0x0af40009), 6, 8443}};
  allow.match.dst.ports_present = true;
  allow.match.dst.not_ports = {{8001, 8001}};
  web.rules.push_back(allow);
  policy::Rule icmp = RuleForTest(Action::kAllow, 2, "API2|prod/default.web");
  icmp.match.protocol = 1;
  icmp.match.icmp = policy::IcmpMatch{8, std::nullopt};
  icmp.match.not_icmp = policy::IcmpMatch{8, 1};
  icmp.match.src.nets = NetsForTest({"10.0.0.0/8"});
  icmp.match.src.not_nets = NetsForTest({"10.9.0.0/16", "fd00::/8"});
  web.rules.push_back(icmp);
  policy::Rule v6 = RuleForTest(Action::kDeny, 3, "DPI3|prod/default.web");
  v6.match.ip_version = 6;
  v6.match.src.ports = {{1024, 65535}};
  web.rules.push_back(v6);
  policy::Rule nothing = RuleForTest(Action::kDeny, 4, "DPI4|prod/default.web");
  nothing.match.src.set = 2;  // selector matching nothing: no nft rule
  web.rules.push_back(nothing);
  p.policies.push_back(web);

  policy::Policy staged{"prod/staged:default.lockdown", "default", true, Direction::kIngress, {}};
  staged.rules.push_back(RuleForTest(Action::kLog, 0, ""));
  policy::Rule sdeny = RuleForTest(Action::kDeny, 1, "DPI1|prod/staged:default.lockdown");
  sdeny.match.src.set = 1;
  staged.rules.push_back(sdeny);
  p.policies.push_back(staged);

  policy::Policy platform{"platform.pass-all", "platform", false, Direction::kIngress, {}};
  platform.rules.push_back(RuleForTest(Action::kPass, 0, "PPI0|platform.pass-all"));
  p.policies.push_back(platform);

  policy::EndpointProgram ep;
  ep.ns = "prod";
  ep.name = "web-1";
  ep.iface = "tw0123456789ab";
  ep.ingress.push_back({"platform", {2}, false, "PPI|platform"});
  ep.ingress.push_back({"default", {0, 1}, true, "DPI|default"});
  p.endpoints[ep.iface] = ep;
  return p;
}

policy::Program Ipv6Program() {
  policy::Program p;
  p.sets.push_back(SetForTest(0, "threatfeed == \"v6\"",
                              {"2001:db8::1", "2001:db8:1::/48", "2001:db8:3::/127", "5.196.58.96"}));
  p.sets.push_back(SetForTest(1, "only-v6 == \"x\"", {"fd00::/64", "fd00:1::5"}));
  policy::Policy pol{"security.block-v6", "security", false, Direction::kIngress, {}};
  policy::Rule deny = RuleForTest(Action::kDeny, 0, "DPI0|security.block-v6");
  deny.match.src.set = 0;
  pol.rules.push_back(deny);
  policy::Rule allow = RuleForTest(Action::kAllow, 1, "API1|security.block-v6");
  allow.match.src.set = 1;
  allow.match.protocol = 58;
  allow.match.icmp = policy::IcmpMatch{128, 0};
  pol.rules.push_back(allow);
  p.policies.push_back(pol);
  policy::EndpointProgram ep;
  ep.ns = "default";
  ep.name = "v6pod";
  ep.iface = "twv6";
  ep.ingress.push_back({"security", {0}, true, "DPI|security"});
  p.endpoints[ep.iface] = ep;
  return p;
}

TEST(NftRender, SeedGolden) {
  ExpectGolden("seed", RenderRuleset(SeedProgramForTest(), RenderOptions{}));
}

TEST(NftRender, MatchesGolden) { ExpectGolden("matches", RenderRuleset(MatchesProgram(), RenderOptions{})); }

TEST(NftRender, Ipv6Golden) { ExpectGolden("ipv6", RenderRuleset(Ipv6Program(), RenderOptions{})); }

TEST(NftRender, NoAllowLogsNoElementsGolden) {
  RenderOptions o;
  o.log_allows = false;
  o.set_elements = false;
  ExpectGolden("seed-quiet", RenderRuleset(SeedProgramForTest(), o));
}

TEST(NftRender, EmptyProgramIsJustTheForwardChain) {
  std::string text = RenderRuleset(policy::Program{}, RenderOptions{});
  EXPECT_EQ(text,
            "add table inet threatwall\ndelete table inet threatwall\ntable inet threatwall {\n"
            "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n}\n");
}

TEST(NftRender, SeedStructure) {
  policy::Program p = SeedProgramForTest();
  Ruleset rs = BuildRuleset(p, RenderOptions{});
  // One hash and one interval set for the IPv4 members, no IPv6 sets.
  ASSERT_EQ(rs.sets.size(), 2u);
  EXPECT_EQ(rs.sets[0].name, "s0h");
  EXPECT_EQ(rs.sets[1].name, "s0i");
  std::vector<Element> h = SetElements(rs.sets[0]);
  std::vector<Element> i = SetElements(rs.sets[1]);
  EXPECT_EQ(h.size(), 3u);  // 5.196.58.96, 10.244.0.5, 185.220.101.1
  EXPECT_EQ(i.size(), 2u);
  EXPECT_EQ(h.size() + i.size(), p.sets[0].members.size());

  std::vector<std::string> po = RulesOf(rs, "po-security.block-snort");
  ASSERT_EQ(po.size(), 3u);  // deny via hash set, deny via interval set, pass
  EXPECT_EQ(po[0].rfind("ip daddr @s0h log prefix \"DPE0|security.block-snort\"", 0), 0u) << po[0];
  EXPECT_NE(po[0].find("group 2"), std::string::npos);
  EXPECT_NE(po[0].find("snaplen 80"), std::string::npos);
  EXPECT_EQ(po[0].substr(po[0].size() - 5), " drop");
  EXPECT_EQ(po[1].rfind("ip daddr @s0i ", 0), 0u);
  EXPECT_EQ(po[2].rfind("meta mark set meta mark | 0x00020000", 0), 0u) << po[2];

  // Egress allows return (the receiver's ingress chain still has to run).
  std::vector<std::string> fw = RulesOf(rs, "fw-twc0ffee01");
  int returns = 0, accepts = 0;
  for (const std::string& r : fw) {
    if (r.ends_with(" return") || r == "return") ++returns;
    if (r.ends_with(" accept") && r.find("ct state") == std::string::npos) ++accepts;
  }
  EXPECT_GT(returns, 0);
  EXPECT_EQ(accepts, 0);
  std::vector<std::string> tw = RulesOf(rs, "tw-twc0ffee01");
  EXPECT_EQ(tw.back(), "log prefix \"ARI0|kns.default\" snaplen 80 group 1 accept");
}

TEST(NftRender, DnsCopiesComeFirstAndHaveNoVerdict) {
  Ruleset rs = BuildRuleset(SeedProgramForTest(), RenderOptions{});
  std::vector<std::string> fwd = RulesOf(rs, "forward");
  ASSERT_EQ(fwd.size(), 5u);
  EXPECT_EQ(fwd[0].rfind("# DNS", 0), 0u) << fwd[0];
  const std::string pods = "{ \"twbeef0002\", \"twc0ffee01\" }";
  EXPECT_EQ(fwd[1], "meta l4proto { tcp, udp } th dport 53 iifname " + pods + " log prefix \"DNS\" group 3");
  EXPECT_EQ(fwd[2], "meta l4proto { tcp, udp } th sport 53 th dport != 53 oifname " + pods +
                        " log prefix \"DNS\" group 3");
  for (size_t k = 1; k <= 2; ++k) {
    // Whole packets (no snaplen) and no verdict: policy decides afterwards.
    EXPECT_EQ(fwd[k].find("snaplen"), std::string::npos) << fwd[k];
    for (const char* verdict : {"accept", "drop", "return", "jump", "goto", "reject", "queue", "mark set"}) {
      EXPECT_EQ(fwd[k].find(verdict), std::string::npos) << fwd[k] << " has " << verdict;
    }
  }
  EXPECT_EQ(fwd[3].rfind("iifname vmap", 0), 0u) << fwd[3];
  EXPECT_EQ(fwd[4].rfind("oifname vmap", 0), 0u) << fwd[4];
  // Nowhere else.
  std::string text = RenderRuleset(SeedProgramForTest(), RenderOptions{});
  EXPECT_EQ(Count(text, "group 3"), 2);
}

TEST(NftRender, DnsCopiesFollowOptionsAndPods) {
  policy::Program one = SeedProgramForTest();
  one.endpoints.erase("twbeef0002");
  RenderOptions o;
  o.dns_group = 7;
  std::vector<std::string> fwd = RulesOf(BuildRuleset(one, o), "forward");
  ASSERT_EQ(fwd.size(), 5u);
  EXPECT_EQ(fwd[1], "meta l4proto { tcp, udp } th dport 53 iifname \"twc0ffee01\" log prefix \"DNS\" group 7");
  o.log_dns = false;
  fwd = RulesOf(BuildRuleset(one, o), "forward");
  ASSERT_EQ(fwd.size(), 2u);
  EXPECT_EQ(fwd[0].rfind("iifname vmap", 0), 0u);
  EXPECT_EQ(RenderRuleset(one, o).find("DNS"), std::string::npos);
  // Invalid interface names are left out here as in the maps.
  policy::Program bad = SeedProgramForTest();
  bad.endpoints["bad/name"] = bad.endpoints["twbeef0002"];
  EXPECT_EQ(RenderRuleset(bad, RenderOptions{}).find("bad/name"), std::string::npos);
}

TEST(NftRender, StagedPolicyNeverDecides) {
  Ruleset rs = BuildRuleset(MatchesProgram(), RenderOptions{});
  std::string chain = ShortName("pi-", "prod/staged:default.lockdown");
  std::vector<std::string> rules = RulesOf(rs, chain);
  ASSERT_FALSE(rules.empty());
  for (const std::string& r : rules) {
    EXPECT_EQ(r.find("drop"), std::string::npos) << r;
    EXPECT_EQ(r.find("accept"), std::string::npos) << r;
    EXPECT_EQ(r.find("mark set"), std::string::npos) << r;
    EXPECT_EQ(r.find("calico-packet"), std::string::npos) << r;  // its Log rule is skipped
  }
  EXPECT_EQ(rules.back(), "log prefix \"DPI|prod/staged:default.lockdown\" snaplen 80 group 1");
  // The endpoint jumps to it but never tests the Accept mark after it.
  std::vector<std::string> tw = RulesOf(rs, "tw-tw0123456789ab");
  for (size_t k = 0; k < tw.size(); ++k) {
    if (tw[k].ends_with("jump " + chain)) {
      ASSERT_LT(k + 1, tw.size());
      EXPECT_EQ(tw[k + 1].find("!= 0 accept"), std::string::npos) << tw[k + 1];
    }
  }
}

TEST(NftRender, EmptySelectorSetGivesNoRule) {
  Ruleset rs = BuildRuleset(MatchesProgram(), RenderOptions{});
  for (const std::string& r : RulesOf(rs, "pi-prod/default.web")) {
    EXPECT_EQ(r.find("DPI4|"), std::string::npos) << r;
  }
}

TEST(NftRender, NotNetsOfOneFamilyKeepTheOtherFamily) {
  Ruleset rs = BuildRuleset(MatchesProgram(), RenderOptions{});
  int icmp_rules = 0;
  for (const std::string& r : RulesOf(rs, "pi-prod/default.web")) {
    if (r.find("API2|") == std::string::npos) continue;
    ++icmp_rules;
    // nets 10.0.0.0/8 is IPv4 only: the IPv6 variant cannot match.
    EXPECT_NE(r.find("ip saddr 10.0.0.0/8 ip saddr != 10.9.0.0/16"), std::string::npos) << r;
    EXPECT_NE(r.find("icmp type . icmp code != { 8 . 1 }"), std::string::npos) << r;
  }
  EXPECT_EQ(icmp_rules, 1);
}

TEST(NftRender, Ipv6SetsAndRanges) {
  policy::Program p = Ipv6Program();
  Ruleset rs = BuildRuleset(p, RenderOptions{});
  std::set<std::string> names;
  for (const SetSpec& s : rs.sets) names.insert(s.name);
  EXPECT_EQ(names, (std::set<std::string>{"s0h", "s0i", "s0h6", "s0i6", "s1h6", "s1i6"}));
  for (const SetSpec& s : rs.sets) {
    if (s.name != "s0i6") continue;
    std::string text = RenderSet(s, true);
    EXPECT_NE(text.find("type ipv6_addr"), std::string::npos);
    EXPECT_NE(text.find("flags interval"), std::string::npos);
    EXPECT_NE(text.find("2001:db8:1::-2001:db8:1:ffff:ffff:ffff:ffff:ffff"), std::string::npos) << text;
    EXPECT_NE(text.find("2001:db8:3::-2001:db8:3::1"), std::string::npos) << text;
  }
  // Set 1 has no IPv4 member: its rule exists only for IPv6.
  for (const std::string& r : RulesOf(rs, "pi-security.block-v6")) {
    if (r.find("API1|") == std::string::npos) continue;
    EXPECT_EQ(r.rfind("meta l4proto icmpv6 ip6 saddr @s1", 0), 0u) << r;
    EXPECT_NE(r.find("icmpv6 type 128 icmpv6 code 0"), std::string::npos) << r;
  }
}

TEST(NftRender, SetElementsSplitSinglesFromRanges) {
  net::CidrSet s = NetsForTest({"1.2.3.4", "1.2.3.5", "9.9.9.9", "10.0.0.0/8", "::1", "fe80::/10"});
  std::vector<Element> h4 = SetElements(s, net::Family::kV4, false);
  std::vector<Element> i4 = SetElements(s, net::Family::kV4, true);
  ASSERT_EQ(h4.size(), 1u);  // 1.2.3.4-1.2.3.5 merged into a range
  EXPECT_EQ(h4[0].first.ToString(), "9.9.9.9");
  ASSERT_EQ(i4.size(), 2u);
  std::string text;
  AppendElements(i4, &text);
  EXPECT_EQ(text, "1.2.3.4-1.2.3.5, 10.0.0.0-10.255.255.255");
  text.clear();
  AppendElements(SetElements(s, net::Family::kV6, false), &text);
  EXPECT_EQ(text, "::1");
  text.clear();
  AppendElements(SetElements(s, net::Family::kV6, true), &text);
  EXPECT_EQ(text, "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(NftRender, ElementKeyAndNextAddress) {
  uint8_t key[16];
  ASSERT_EQ(ElementKey(*net::IpAddr::Parse("5.196.58.96"), key), 4u);
  EXPECT_EQ(key[0], 5);
  EXPECT_EQ(key[1], 196);
  EXPECT_EQ(key[2], 58);
  EXPECT_EQ(key[3], 96);
  ASSERT_EQ(ElementKey(*net::IpAddr::Parse("2001:db8::ff"), key), 16u);
  EXPECT_EQ(key[0], 0x20);
  EXPECT_EQ(key[1], 0x01);
  EXPECT_EQ(key[3], 0xb8);
  EXPECT_EQ(key[15], 0xff);
  net::IpAddr next;
  ASSERT_TRUE(NextAddress(*net::IpAddr::Parse("10.0.0.255"), &next));
  EXPECT_EQ(next.ToString(), "10.0.1.0");
  EXPECT_FALSE(NextAddress(*net::IpAddr::Parse("255.255.255.255"), &next));
  ASSERT_TRUE(NextAddress(*net::IpAddr::Parse("::1:ffff:ffff:ffff"), &next));
  EXPECT_EQ(next.ToString(), "::2:0:0:0");
  EXPECT_FALSE(NextAddress(*net::IpAddr::Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), &next));
}

TEST(NftRender, LongNamesAreHashed) {
  std::string long_key = "production-namespace-with-a-long-name/security-tier.block-everything-from-feeds";
  std::string a = ShortName("pi-", long_key);
  std::string b = ShortName("pi-", long_key + "2");
  EXPECT_LE(a.size(), kMaxNameLen);
  EXPECT_LE(b.size(), kMaxNameLen);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("pi-production-namespace", 0), 0u) << a;
  EXPECT_EQ(a, ShortName("pi-", long_key));  // stable
  // Unsafe characters force a hash so "a:b" and "a_b" stay distinct.
  EXPECT_NE(ShortName("pi-", "ns/staged:t.p"), ShortName("pi-", "ns/staged_t.p"));
  EXPECT_EQ(ShortName("pi-", "security.block-snort"), "pi-security.block-snort");
  for (char c : ShortName("fw-", "we\"ird if")) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/') << c;
  }

  // A program with a long policy key renders the hashed name in both places.
  policy::Program p = SeedProgramForTest();
  p.policies[0].key = long_key;
  std::string text = RenderRuleset(p, RenderOptions{});
  std::string name = ShortName("po-", long_key);
  EXPECT_EQ(Count(text, "chain " + name + " {"), 1);
  EXPECT_EQ(Count(text, "jump " + name + "\n"), 1);
}

TEST(NftRender, NflogPrefixFitsAndStaysDistinct) {
  std::string base = "DPI12|some-namespace/some-tier.a-policy-with-a-really-long-name-";
  std::string a = NflogPrefix(base + "one");
  std::string b = NflogPrefix(base + "two");
  EXPECT_LT(a.size(), kMaxPrefixLen);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 10), base.substr(0, 10));
  EXPECT_TRUE(a.ends_with("-name-one"));
  EXPECT_EQ(NflogPrefix("DPE|security"), "DPE|security");
  EXPECT_EQ(NflogPrefix("a\"b\\c\n"), "a_b_c_");
}

TEST(NftRender, BadInputsAreSkippedAndReported) {
  policy::Program p = SeedProgramForTest();
  p.endpoints["bad/name"] = p.endpoints["twbeef0002"];
  p.endpoints["twc0ffee01"].egress[0].policies.push_back(99);
  p.policies[0].rules[0].match.dst.set = 42;
  Status s = ValidateProgram(p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'bad/name'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("policy index 99"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("set id 42"), std::string::npos) << s.message();
  std::string text = RenderRuleset(p, RenderOptions{});
  EXPECT_EQ(text.find("bad/name"), std::string::npos);
  EXPECT_EQ(text.find("DPE0|"), std::string::npos);  // missing set matches nothing
  EXPECT_TRUE(ValidateProgram(SeedProgramForTest()).ok());
}

}  // namespace
}  // namespace tw::nft
