#include "policy/compile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "base/strings.h"
#include "policy/nflog.h"
#include "selector/selector.h"

namespace tw::policy {
namespace {

selector::Selector Sel(std::string_view text) {
  auto s = selector::Selector::Parse(text);
  EXPECT_TRUE(s.has_value()) << text;
  return s.has_value() ? *s : selector::Selector::All();
}

net::IpAddr Ip(std::string_view text) { return *net::IpAddr::Parse(text); }
net::Cidr Net(std::string_view text) { return *net::Cidr::Parse(text); }

Endpoint Pod(std::string ns, std::string name, std::string iface, std::string ip, selector::Labels labels) {
  labels["projectcalico.org/namespace"] = ns;
  return Endpoint{ns, name, iface, {Ip(ip)}, labels, {}};
}

RuleIn RuleTo(Action a, std::string_view dst_selector) {
  RuleIn r;
  r.action = a;
  r.destination.selector = Sel(dst_selector);
  return r;
}

PolicyIn Gnp(std::string tier, std::string key, std::optional<double> order, std::string_view applies) {
  PolicyIn p;
  p.tier = std::move(tier);
  p.key = std::move(key);
  p.order = order;
  p.applies_to = Sel(applies);
  return p;
}

// Everything a Program holds, as text, to compare two programs.
std::string Dump(const Program& p) {
  std::string out;
  for (const IpSet& s : p.sets) out += "set " + std::to_string(s.id) + " " + s.selector + "\n" + s.members.ToText(false);
  auto side = [](const Match::Side& s) {
    std::string o;
    if (s.set) o += " set=" + std::to_string(*s.set);
    if (s.not_set) o += " notset=" + std::to_string(*s.not_set);
    if (s.nets) o += " nets=" + s.nets->ToText(true);
    if (s.not_nets) o += " notnets=" + s.not_nets->ToText(true);
    for (const PortRange& r : s.ports) o += " port=" + std::to_string(r.first) + "-" + std::to_string(r.last);
    for (const PortSetMember& m : s.named_ports) {
      o += " named=" + m.ip.ToString() + "/" + std::to_string(m.protocol) + "/" + std::to_string(m.port);
    }
    for (const PortRange& r : s.not_ports) o += " notport=" + std::to_string(r.first) + "-" + std::to_string(r.last);
    if (s.ports_present) o += " ports_present";
    return o;
  };
  for (const Policy& pol : p.policies) {
    out += "policy " + pol.key + " tier=" + pol.tier + (pol.staged ? " staged" : "") +
           (pol.direction == Direction::kIngress ? " in\n" : " out\n");
    for (const Rule& r : pol.rules) {
      out += "  " + std::to_string(r.index) + " " + std::to_string(static_cast<int>(r.action)) + " " + r.nflog_prefix;
      if (r.match.ip_version) out += " ipv=" + std::to_string(*r.match.ip_version);
      if (r.match.protocol) out += " proto=" + std::to_string(*r.match.protocol);
      out += " src:" + side(r.match.src) + " dst:" + side(r.match.dst) + "\n";
    }
  }
  for (const auto& [iface, ep] : p.endpoints) {
    out += "endpoint " + iface + " " + ep.ns + "/" + ep.name + "\n";
    for (const auto* steps : {&ep.ingress, &ep.egress}) {
      for (const TierStep& s : *steps) {
        out += "  " + s.tier + (s.end_of_tier_deny ? " deny " : " pass ") + s.end_of_tier_prefix + ":";
        for (uint32_t i : s.policies) out += " " + std::to_string(i);
        out += "\n";
      }
    }
  }
  return out;
}

Inputs SampleInputs() {
  Inputs in;
  in.tiers = {Tier{"security", 100.0, false}, Tier{"audit", 50.0, true}, Tier{"default", 1e6, false}};
  in.endpoints = {Pod("ns1", "a", "if-a", "10.0.0.1", {{"app", "a"}}),
                  Pod("ns1", "b", "if-b", "10.0.0.2", {{"app", "b"}}),
                  Pod("ns2", "c", "if-c", "fd00::3", {{"app", "a"}})};
  in.endpoints[1].ports = {NamedPort{"http", 6, 8080}};
  in.netsets = {NetSet{"", "feed", {{"feed", "x"}}, net::CidrSet::FromCidrs(std::vector{Net("5.0.0.0/8")})}};
  PolicyIn block = Gnp("security", "security.block", 10.0, "all()");
  block.egress = true;
  block.egress_rules = {RuleTo(Action::kDeny, "feed == 'x'"), RuleTo(Action::kPass, "app=='a'")};
  PolicyIn audit = Gnp("audit", "audit.log", std::nullopt, "app == 'a'");
  audit.ingress = true;
  RuleIn log;
  log.action = Action::kLog;
  audit.ingress_rules = {log};
  PolicyIn web = Gnp("default", "ns1/default.web", 5.0, "app == 'b'");
  web.ingress = true;
  RuleIn http = RuleTo(Action::kAllow, "app == \"a\"");  // same set as app=='a'
  http.protocol = 6;
  http.destination.selector.reset();
  http.destination.ports = {PortSpec{std::nullopt, "http"}};
  http.source.selector = Sel("app == 'a'");
  http.source.not_selector = Sel("has(quarantine)");
  web.ingress_rules = {http};
  PolicyIn staged = Gnp("default", "ns1/staged:default.web", 5.0, "app == 'b'");
  staged.staged = true;
  staged.ingress = true;
  RuleIn deny;
  deny.action = Action::kDeny;
  staged.ingress_rules = {deny};
  in.policies = {block, audit, web, staged};
  return in;
}

TEST(PolicyCompileTest, DeterministicAndIndependentOfInputOrder) {
  Inputs in = SampleInputs();
  Program a = Compile(in);
  Program b = Compile(in);
  EXPECT_EQ(Dump(a), Dump(b));
  std::reverse(in.policies.begin(), in.policies.end());
  std::reverse(in.endpoints.begin(), in.endpoints.end());
  std::reverse(in.tiers.begin(), in.tiers.end());
  EXPECT_EQ(Dump(Compile(in)), Dump(a));
}

TEST(PolicyCompileTest, SetsAreSharedByCanonicalSelectorAndIdsFollowPolicyOrder) {
  Program p = Compile(SampleInputs());
  // Policy order: audit (tier 50), security (100), default: staged twin
  // first.  Sets by first use: audit has none; security.block uses
  // feed=="x" then app=="a"; web reuses app=="a" and adds has(quarantine).
  ASSERT_EQ(p.sets.size(), 3u);
  for (size_t i = 0; i < p.sets.size(); ++i) EXPECT_EQ(p.sets[i].id, i);
  EXPECT_EQ(p.sets[0].selector, Sel("feed == 'x'").String());
  EXPECT_EQ(p.sets[1].selector, Sel("app == 'a'").String());
  EXPECT_EQ(p.sets[2].selector, Sel("has(quarantine)").String());
  EXPECT_EQ(p.sets[0].members.ToText(false), "5.0.0.0/8\n");
  EXPECT_EQ(p.sets[1].members.ToText(false), "10.0.0.1/32\nfd00::3/128\n");
  EXPECT_TRUE(p.sets[2].members.empty());
  const Policy* web = nullptr;
  for (const Policy& pol : p.policies) {
    if (pol.key == "ns1/default.web") web = &pol;
  }
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->rules[0].match.src.set, std::optional<SetId>(1));
  EXPECT_EQ(web->rules[0].match.src.not_set, std::optional<SetId>(2));
}

TEST(PolicyCompileTest, SetMembersMergeEndpointIpsAndNetSets) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "if-a", "10.1.0.5", {{"k", "v"}}), Pod("ns", "b", "if-b", "10.1.1.0", {{"k", "v"}})};
  in.netsets = {NetSet{"", "n", {{"k", "v"}}, net::CidrSet::FromCidrs(std::vector{Net("10.1.0.0/24")})}};
  PolicyIn p = Gnp("default", "default.p", std::nullopt, "all()");
  p.ingress = true;
  p.ingress_rules = {RuleTo(Action::kAllow, "k == 'v'")};
  in.policies = {p};
  Program prog = Compile(in);
  ASSERT_EQ(prog.sets.size(), 1u);
  // 10.1.0.0/24 plus the adjacent 10.1.1.0 merge into one range.
  EXPECT_EQ(prog.sets[0].members.size(), 1u);
  EXPECT_TRUE(prog.sets[0].members.Contains(Ip("10.1.1.0")));
  EXPECT_FALSE(prog.sets[0].members.Contains(Ip("10.1.1.1")));
}

TEST(PolicyCompileTest, TierStepsOrderEndOfTierAndPrefixes) {
  Program p = Compile(SampleInputs());
  const EndpointProgram& a = p.endpoints.at("if-a");
  // Ingress of a: audit only (Pass at end -> no deny, PPI prefix).
  ASSERT_EQ(a.ingress.size(), 1u);
  EXPECT_EQ(a.ingress[0].tier, "audit");
  EXPECT_FALSE(a.ingress[0].end_of_tier_deny);
  EXPECT_EQ(a.ingress[0].end_of_tier_prefix, "PPI|audit");
  ASSERT_EQ(a.egress.size(), 1u);
  EXPECT_EQ(a.egress[0].tier, "security");
  EXPECT_TRUE(a.egress[0].end_of_tier_deny);
  EXPECT_EQ(a.egress[0].end_of_tier_prefix, "DPE|security");
  const EndpointProgram& b = p.endpoints.at("if-b");
  ASSERT_EQ(b.ingress.size(), 1u);
  EXPECT_EQ(b.ingress[0].tier, "default");
  ASSERT_EQ(b.ingress[0].policies.size(), 2u);
  // The staged twin sorts just before the enforced policy.
  EXPECT_EQ(p.policies[b.ingress[0].policies[0]].key, "ns1/staged:default.web");
  EXPECT_TRUE(p.policies[b.ingress[0].policies[0]].staged);
  EXPECT_EQ(p.policies[b.ingress[0].policies[1]].key, "ns1/default.web");
  EXPECT_TRUE(b.ingress[0].end_of_tier_deny);
  const Policy& block = p.policies[a.egress[0].policies[0]];
  EXPECT_EQ(block.rules[0].nflog_prefix, "DPE0|security.block");
  EXPECT_EQ(block.rules[1].nflog_prefix, "PPE1|security.block");
}

TEST(PolicyCompileTest, StagedOnlyTierDoesNotDenyAtEnd) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "if-a", "10.0.0.1", {})};
  PolicyIn s = Gnp("default", "staged:default.s", std::nullopt, "all()");
  s.staged = true;
  s.egress = true;
  in.policies = {s};
  Program p = Compile(in);
  ASSERT_EQ(p.endpoints.at("if-a").egress.size(), 1u);
  EXPECT_FALSE(p.endpoints.at("if-a").egress[0].end_of_tier_deny);
  EXPECT_EQ(p.endpoints.at("if-a").egress[0].end_of_tier_prefix, "PPE|default");
  EXPECT_TRUE(p.endpoints.at("if-a").ingress.empty());
}

TEST(PolicyCompileTest, UnknownTierIsSkippedAndDefaultTierAlwaysExists) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "if-a", "10.0.0.1", {})};
  PolicyIn ghost = Gnp("ghost", "ghost.p", 1.0, "all()");
  ghost.ingress = true;
  PolicyIn def = Gnp("default", "default.p", 1.0, "all()");
  def.ingress = true;
  in.policies = {ghost, def};
  Program p = Compile(in);
  ASSERT_EQ(p.policies.size(), 1u);
  EXPECT_EQ(p.policies[0].key, "default.p");
  ASSERT_EQ(p.endpoints.at("if-a").ingress.size(), 1u);
  EXPECT_EQ(p.endpoints.at("if-a").ingress[0].tier, "default");
}

TEST(PolicyCompileTest, NamedPortsResolveOnSelectedEndpointsWithProtocol) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "if-a", "10.0.0.1", {{"app", "web"}}),
                  Pod("ns", "b", "if-b", "10.0.0.2", {{"app", "web"}}),
                  Pod("ns", "c", "if-c", "10.0.0.3", {{"app", "db"}})};
  in.endpoints[0].ports = {NamedPort{"http", 6, 80}, NamedPort{"http", 17, 80}};
  in.endpoints[1].ports = {NamedPort{"http", 6, 8080}};
  in.endpoints[2].ports = {NamedPort{"http", 6, 81}};
  PolicyIn p = Gnp("default", "default.p", std::nullopt, "all()");
  p.egress = true;
  RuleIn r = RuleTo(Action::kAllow, "app == 'web'");
  r.protocol = 6;
  r.destination.ports = {PortSpec{std::nullopt, "http"}, PortSpec{PortRange{443, 443}, ""}};
  r.destination.not_ports = {PortSpec{std::nullopt, "http"}};
  p.egress_rules = {r};
  in.policies = {p};
  Program prog = Compile(in);
  const Match::Side& dst = prog.policies[0].rules[0].match.dst;
  EXPECT_TRUE(dst.ports_present);
  ASSERT_EQ(dst.ports.size(), 1u);
  EXPECT_EQ(dst.ports[0], (PortRange{443, 443}));
  ASSERT_EQ(dst.named_ports.size(), 2u);  // only TCP, only app=web
  EXPECT_EQ(dst.named_ports[0].ip, Ip("10.0.0.1"));
  EXPECT_EQ(dst.named_ports[0].port, 80);
  EXPECT_EQ(dst.named_ports[1].ip, Ip("10.0.0.2"));
  EXPECT_EQ(dst.named_ports[1].port, 8080);
  ASSERT_EQ(dst.not_ports.size(), 2u);
  EXPECT_EQ(dst.not_ports[0], (PortRange{80, 80}));
  EXPECT_EQ(dst.not_ports[1], (PortRange{8080, 8080}));
}

TEST(PolicyCompileTest, IpVersionFollowsTheFamilyOfTheRulesNets) {
  Inputs in;
  PolicyIn p = Gnp("default", "default.p", std::nullopt, "all()");
  p.ingress = true;
  RuleIn v4, v6, mixed, none;
  v4.source.not_nets = {Net("10.0.0.0/8")};
  v6.destination.nets = {Net("fd00::/8")};
  mixed.source.nets = {Net("10.0.0.0/8"), Net("fd00::/8")};
  p.ingress_rules = {v4, v6, mixed, none};
  in.policies = {p};
  Program prog = Compile(in);
  ASSERT_EQ(prog.policies[0].rules.size(), 4u);
  EXPECT_EQ(prog.policies[0].rules[0].match.ip_version, std::optional<uint8_t>(4));
  EXPECT_EQ(prog.policies[0].rules[1].match.ip_version, std::optional<uint8_t>(6));
  EXPECT_EQ(prog.policies[0].rules[2].match.ip_version, std::nullopt);
  EXPECT_EQ(prog.policies[0].rules[3].match.ip_version, std::nullopt);
}

TEST(PolicyCompileTest, NanOrderSortsLikeNoOrder) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "if-a", "10.0.0.1", {})};
  in.tiers = {Tier{"t", std::nan(""), false}, Tier{"s", std::nullopt, false}, Tier{"r", 1.0, false}};
  for (const char* key : {"t.b", "t.a"}) {
    PolicyIn p = Gnp("t", key, std::string_view(key) == "t.b" ? std::nan("") : 1.0, "all()");
    p.ingress = true;
    in.policies.push_back(p);
  }
  PolicyIn s = Gnp("s", "s.x", 1.0, "all()");
  s.ingress = true;
  PolicyIn r = Gnp("r", "r.x", 1.0, "all()");
  r.ingress = true;
  in.policies.push_back(s);
  in.policies.push_back(r);
  Program p = Compile(in);
  const auto& steps = p.endpoints.at("if-a").ingress;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].tier, "r");
  EXPECT_EQ(steps[1].tier, "s");  // no order, then by name
  EXPECT_EQ(steps[2].tier, "t");
  ASSERT_EQ(steps[2].policies.size(), 2u);
  EXPECT_EQ(p.policies[steps[2].policies[0]].key, "t.a");
  EXPECT_EQ(p.policies[steps[2].policies[1]].key, "t.b");
}

TEST(PolicyCompileTest, EndpointsWithoutInterfaceAreLeftOut) {
  Inputs in;
  in.endpoints = {Pod("ns", "a", "", "10.0.0.1", {}), Pod("ns", "b", "if-b", "10.0.0.2", {})};
  Program p = Compile(in);
  ASSERT_EQ(p.endpoints.size(), 1u);
  EXPECT_TRUE(p.endpoints.contains("if-b"));
}

TEST(PolicyNflogTest, PrefixesFollowCalicosEncoding) {
  EXPECT_EQ(RuleNflogPrefix(Action::kAllow, Direction::kIngress, 3, "ns1/default.web"), "API3|ns1/default.web");
  EXPECT_EQ(RuleNflogPrefix(Action::kLog, Direction::kIngress, 0, "t.p"), "");
  EXPECT_EQ(ProfileNflogPrefix(Action::kAllow, Direction::kEgress, 0, "kns.ns1"), "ARE0|kns.ns1");
  EXPECT_EQ(EndOfTierNflogPrefix(true, Direction::kIngress, "security"), "DPI|security");
  EXPECT_EQ(EndOfTierNflogPrefix(false, Direction::kEgress, "audit"), "PPE|audit");
  EXPECT_EQ(StagedNoMatchNflogPrefix(Direction::kEgress, "staged:t.p"), "DPE|staged:t.p");
  EXPECT_EQ(NoProfileNflogPrefix(Direction::kIngress), "DRI");
  EXPECT_EQ(NflogGroup(Direction::kIngress), 1);
  EXPECT_EQ(NflogGroup(Direction::kEgress), 2);
}

TEST(PolicyNflogTest, LongPrefixesAreHashed) {
  std::string key62(57, 'k');  // "DPE0|" + 57 = 62 bytes: kept
  EXPECT_EQ(RuleNflogPrefix(Action::kDeny, Direction::kEgress, 0, key62).size(), 62u);
  std::string key = "namespace-with-a-long-name/security.block-everything-from-the-feed";
  std::string full = "DPE12|" + key;
  std::string p = RuleNflogPrefix(Action::kDeny, Direction::kEgress, 12, key);
  ASSERT_EQ(p.size(), 37u);
  EXPECT_EQ(p.substr(0, 10), full.substr(0, 10));
  EXPECT_EQ(p.substr(27), full.substr(full.size() - 10));
  EXPECT_EQ(p[26], '_');
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a64(full)));
  EXPECT_EQ(p.substr(10, 16), hex);
  // FNV-1a test vector: "a" -> af63dc4c8601ec8c.
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  // A different key of the same length hashes differently.
  std::string other = key;
  other[30] = 'X';
  EXPECT_NE(RuleNflogPrefix(Action::kDeny, Direction::kEgress, 12, other), p);
  auto parsed = ParseNflogPrefix(p);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->hashed);
  EXPECT_EQ(parsed->index, std::optional<uint32_t>(12));
}

TEST(PolicyNflogTest, ParseReadsBackAndRejectsGarbage) {
  auto r = ParseNflogPrefix("PPE7|ns/t.p");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->action, Action::kPass);
  EXPECT_FALSE(r->profile);
  EXPECT_EQ(r->direction, Direction::kEgress);
  EXPECT_EQ(r->index, std::optional<uint32_t>(7));
  EXPECT_EQ(r->name, "ns/t.p");
  EXPECT_FALSE(r->hashed);
  auto eot = ParseNflogPrefix("DPI|security");
  ASSERT_TRUE(eot.has_value());
  EXPECT_EQ(eot->index, std::nullopt);
  EXPECT_EQ(eot->name, "security");
  auto dri = ParseNflogPrefix("DRI");
  ASSERT_TRUE(dri.has_value());
  EXPECT_TRUE(dri->profile);
  EXPECT_EQ(ParseNflogPrefix("XPI|t").error().message(), "NFLOG prefix 'XPI|t': action letter must be A, D or P");
  EXPECT_EQ(ParseNflogPrefix("DPI1x|t").error().message(),
            "NFLOG prefix 'DPI1x|t': rule index is not a decimal number");
  EXPECT_EQ(ParseNflogPrefix("DPIt").error().message(), "NFLOG prefix 'DPIt': missing '|'");
  EXPECT_FALSE(ParseNflogPrefix("").has_value());
  EXPECT_FALSE(ParseNflogPrefix(std::string(64, 'A')).has_value());
}

}  // namespace
}  // namespace tw::policy
