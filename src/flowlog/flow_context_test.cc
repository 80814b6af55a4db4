// FlowContext on programs built by policy::Compile: who an address is, and
// which tier / policy / rule an NFLOG prefix names.
#include "flowlog/flow_context.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "policy/compile.h"
#include "policy/nflog.h"
#include "selector/selector.h"

namespace tw::flowlog {
namespace {

using policy::Action;
using policy::Direction;

net::IpAddr Ip(std::string_view text) { return *net::IpAddr::Parse(text); }

net::CidrSet Nets(std::initializer_list<std::string_view> texts) {
  net::CidrSet::Builder b;
  for (std::string_view t : texts) b.AddText(t);
  return b.Build();
}

selector::Selector Sel(std::string_view text) {
  auto s = selector::Selector::Parse(text);
  EXPECT_TRUE(s.has_value()) << text;
  return s.has_value() ? *s : selector::Selector::All();
}

policy::Endpoint Endpoint(std::string ns, std::string name, std::string iface, std::string ip,
                          selector::Labels labels) {
  labels["projectcalico.org/namespace"] = ns;
  return policy::Endpoint{ns, name, iface, {Ip(ip)}, labels, {}};
}

policy::PolicyIn Gnp(std::string tier, std::string key, std::optional<double> order, std::string_view applies) {
  policy::PolicyIn p;
  p.tier = std::move(tier);
  p.key = std::move(key);
  p.order = order;
  p.applies_to = Sel(applies);
  return p;
}

policy::RuleIn Rule(Action a, std::string_view dst_selector = "") {
  policy::RuleIn r;
  r.action = a;
  if (!dst_selector.empty()) r.destination.selector = Sel(dst_selector);
  return r;
}

// The seed plus variations: tier security (600) with block-snort (150,
// Deny to the feed set, then Pass), a later enforced audit-trail policy
// (order 300, nothing matches) and a staged policy after it (400); tier
// default with allow-all egress.  tf-ubuntu has all of them; `web` only
// default; the long-named policy tests hashed prefixes.
const std::string kLongName =
    "security.a-policy-name-long-enough-that-its-nflog-prefix-must-be-hashed-by-the-kernel-limit";

policy::Inputs SeedInputs() {
  policy::Inputs in;
  in.tiers = {policy::Tier{"security", 600.0, false}, policy::Tier{"default", 1e6, false}};
  in.endpoints = {Endpoint("default", "tf-ubuntu", "twc0ffee01", "10.244.0.5", {{"threatfeed", "snort"}}),
                  Endpoint("default", "web", "twc0ffee02", "10.244.0.6", {{"app", "web"}})};
  in.netsets = {policy::NetSet{"", "threatfeed.snort", {{"threatfeed", "snort"}},
                               Nets({"5.196.58.96", "5.188.10.0/23"})}};
  policy::PolicyIn block = Gnp("security", "security.block-snort", 150.0, "threatfeed == 'snort'");
  block.egress = true;
  block.egress_rules = {Rule(Action::kDeny, "threatfeed == 'snort'"), Rule(Action::kPass)};
  policy::PolicyIn audit = Gnp("security", "security.audit-trail", 300.0, "threatfeed == 'snort'");
  audit.egress = true;
  audit.egress_rules = {Rule(Action::kAllow, "nothing == 'here'")};
  policy::PolicyIn staged = Gnp("security", "staged:security.trial", 400.0, "threatfeed == 'snort'");
  staged.staged = true;
  staged.egress = true;
  staged.egress_rules = {Rule(Action::kDeny, "app == 'web'")};
  policy::PolicyIn allow = Gnp("default", "default.allow-all", std::nullopt, "all()");
  allow.egress = true;
  allow.egress_rules = {Rule(Action::kAllow)};
  policy::PolicyIn longp = Gnp("security", kLongName, 500.0, "app == 'web'");
  longp.ingress = true;
  longp.ingress_rules = {Rule(Action::kPass)};
  in.policies = {block, audit, staged, allow, longp};
  return in;
}

std::shared_ptr<const FlowContext> SeedContext(std::vector<PodInfo> pods = {},
                                               std::vector<policy::NetSet> netsets = {}) {
  policy::Inputs in = SeedInputs();
  auto program = std::make_shared<const policy::Program>(policy::Compile(in));
  if (pods.empty()) {
    pods = {PodInfo{"default", "tf-ubuntu", "", "twc0ffee01", {Ip("10.244.0.5")}, {"threatfeed=snort"}}};
  }
  if (netsets.empty()) netsets = in.netsets;
  return FlowContext::Build(program, std::move(pods), std::move(netsets));
}

void ExpectHit(const PolicyHit& h, std::string tier, std::string name, std::string action, int rule,
               bool staged) {
  EXPECT_EQ(h.tier, tier);
  EXPECT_EQ(h.name, name);
  EXPECT_EQ(h.action, action);
  EXPECT_EQ(h.rule_index, rule);
  EXPECT_EQ(h.staged, staged);
  EXPECT_TRUE(h.known);
}

TEST(FlowContextTest, LookupPodByAnyAddressAndGenerateName) {
  std::vector<PodInfo> pods = {
      PodInfo{"default", "tf-ubuntu", "", "twc0ffee01", {Ip("10.244.0.5"), Ip("fd00::5")}, {"threatfeed=snort"}},
      PodInfo{"shop", "nginx-86c57db685-x2x9q", "nginx-86c57db685-", "twc0ffee03", {Ip("10.244.0.7")},
              {"app=nginx", "pod-template-hash=86c57db685"}}};
  auto ctx = SeedContext(pods);
  for (const char* ip : {"10.244.0.5", "fd00::5"}) {
    EndpointInfo e = ctx->Lookup(Ip(ip));
    EXPECT_EQ(e.type, "wep") << ip;
    EXPECT_EQ(e.name, "tf-ubuntu");
    EXPECT_EQ(e.name_aggr, "tf-ubuntu");
    EXPECT_EQ(e.ns, "default");
    EXPECT_EQ(e.labels, std::vector<std::string>{"threatfeed=snort"});
  }
  EndpointInfo n = ctx->Lookup(Ip("10.244.0.7"));
  EXPECT_EQ(n.type, "wep");
  EXPECT_EQ(n.name, "nginx-86c57db685-x2x9q");
  EXPECT_EQ(n.name_aggr, "nginx-86c57db685-*");
  EXPECT_EQ(n.ns, "shop");
  EXPECT_EQ(n.labels, (std::vector<std::string>{"app=nginx", "pod-template-hash=86c57db685"}));
}

TEST(FlowContextTest, LookupNetworkSetsWithoutReservedLabels) {
  std::vector<policy::NetSet> sets = {
      policy::NetSet{"", "threatfeed.snort",
                     {{"threatfeed", "snort"}, {"tigera.io/creator", "intrusion-detection-controller"}},
                     Nets({"5.196.58.96", "5.188.10.0/23", "2001:db8:bad::/48"})},
      policy::NetSet{"", "europe", {{"region", "eu"}}, Nets({"5.0.0.0/8"})},
      policy::NetSet{"prod",
                     "partners",
                     {{"kind", "partner"},
                      {"projectcalico.org/namespace", "prod"},
                      {"pcns.team", "a"},
                      {"pcsa.x", "y"},
                      {"a.b", "c"}},
                     Nets({"5.196.0.0/16"})}};
  auto ctx = SeedContext({}, sets);
  // The namespaced set wins even over a smaller global one.
  EndpointInfo p = ctx->Lookup(Ip("5.196.58.96"));
  EXPECT_EQ(p.type, "ns");
  EXPECT_EQ(p.name, "partners");
  EXPECT_EQ(p.name_aggr, "partners");
  EXPECT_EQ(p.ns, "prod");
  EXPECT_EQ(p.labels, (std::vector<std::string>{"a.b=c", "kind=partner"}));
  // Among global sets the smallest containing net wins.
  EndpointInfo s = ctx->Lookup(Ip("5.188.11.1"));
  EXPECT_EQ(s.name, "threatfeed.snort");
  EXPECT_EQ(s.ns, "-");
  EXPECT_EQ(s.labels,
            (std::vector<std::string>{"threatfeed=snort", "tigera.io/creator=intrusion-detection-controller"}));
  EXPECT_EQ(ctx->Lookup(Ip("5.1.2.3")).name, "europe");
  EXPECT_EQ(ctx->Lookup(Ip("5.1.2.3")).labels, std::vector<std::string>{"region=eu"});
  EXPECT_EQ(ctx->Lookup(Ip("2001:db8:bad::1")).name, "threatfeed.snort");
  // Outside every set.
  EXPECT_EQ(ctx->Lookup(Ip("6.0.0.1")).type, "net");
}

TEST(FlowContextTest, LookupPlainAddressesArePrivateOrPublic) {
  auto ctx = SeedContext();
  for (const char* ip : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd12::1"}) {
    EndpointInfo e = ctx->Lookup(Ip(ip));
    EXPECT_EQ(e.type, "net") << ip;
    EXPECT_EQ(e.name, "-") << ip;
    EXPECT_EQ(e.ns, "-") << ip;
    EXPECT_EQ(e.name_aggr, "pvt") << ip;
    EXPECT_TRUE(e.labels.empty());
  }
  for (const char* ip : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "11.0.0.1", "2001:db8::1",
                         "fe00::1"}) {
    EXPECT_EQ(ctx->Lookup(Ip(ip)).name_aggr, "pub") << ip;
  }
}

TEST(FlowContextTest, LookupInALargeFeedSet) {
  net::CidrSet::Builder b;
  for (uint32_t i = 0; i < 200000; ++i) b.Add(net::Cidr(net::IpAddr::V4(0x50000000u + i * 4), 32));
  std::vector<policy::NetSet> sets = {policy::NetSet{"", "threatfeed.big", {{"feed", "big"}}, b.Build()}};
  auto ctx = SeedContext({}, sets);
  EXPECT_EQ(ctx->Lookup(net::IpAddr::V4(0x50000000u + 4 * 123456)).name, "threatfeed.big");
  EXPECT_EQ(ctx->Lookup(net::IpAddr::V4(0x50000000u + 4 * 123456 + 1)).type, "net");
}

TEST(FlowContextTest, ResolvesRuleHitsFromTheProgram) {
  auto ctx = SeedContext();
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DPE0|security.block-snort"), "security",
            "security.block-snort", "deny", 0, false);
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "PPE1|security.block-snort"), "security",
            "security.block-snort", "pass", 1, false);
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "APE0|default.allow-all"), "default",
            "default.allow-all", "allow", 0, false);
  // Staged: its rules and its no-match.
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DPE0|staged:security.trial"), "security",
            "staged:security.trial", "deny", 0, true);
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DPE|staged:security.trial"), "security",
            "staged:security.trial", "deny", -1, true);
  // A rule hit resolves on any interface (the key is in the prefix).
  ExpectHit(ctx->ResolveHit("", Direction::kEgress, "APE0|default.allow-all"), "default", "default.allow-all",
            "allow", 0, false);
  // Those answers come from the program's index, not from decoding the text
  // (which would give the same here): every rule of the program is in it.
  for (const char* prefix : {"DPE0|security.block-snort", "PPE1|security.block-snort", "APE0|default.allow-all",
                             "DPE0|staged:security.trial", "DPE|staged:security.trial"}) {
    EXPECT_NE(ctx->FindHit("twc0ffee01", Direction::kEgress, prefix), nullptr) << prefix;
  }
  EXPECT_EQ(ctx->FindHit("twc0ffee01", Direction::kEgress, "DPE7|security.block-snort"), nullptr);  // no rule 7
}

TEST(FlowContextTest, EndOfTierNamesTheLastEnforcedPolicyOfTheStep) {
  auto ctx = SeedContext();
  // security for tf-ubuntu: block-snort, audit-trail, staged trial -> audit-trail.
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DPE|security"), "security",
            "security.audit-trail", "deny", -1, false);
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DPE|default"), "default", "default.allow-all",
            "deny", -1, false);
  // Not an end of tier of that endpoint / direction: parsed, policy unknown.
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kIngress, "DPI|security"), "security", "__NO_MATCH__",
            "deny", -1, false);
}

TEST(FlowContextTest, EndOfTierPassForPassTiers) {
  policy::Inputs in = SeedInputs();
  in.tiers[0].pass_at_end = true;
  auto ctx = FlowContext::Build(std::make_shared<const policy::Program>(policy::Compile(in)), {}, {});
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "PPE|security"), "security",
            "security.audit-trail", "pass", -1, false);
}

TEST(FlowContextTest, ProfileAndNoProfileHits) {
  auto ctx = SeedContext();
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "ARE0|kns.default"), "__PROFILE__",
            "__PROFILE__.kns.default", "allow", 0, false);
  ExpectHit(ctx->ResolveHit("twc0ffee02", Direction::kIngress, "ARI0|kns.default"), "__PROFILE__",
            "__PROFILE__.kns.default", "allow", 0, false);
  // A namespace the snapshot does not know still decodes.
  ExpectHit(ctx->ResolveHit("x", Direction::kIngress, "ARI0|kns.other"), "__PROFILE__", "__PROFILE__.kns.other",
            "allow", 0, false);
  ExpectHit(ctx->ResolveHit("twc0ffee01", Direction::kEgress, "DRE"), "__PROFILE__", "__NO_MATCH__", "deny", -1,
            false);
  EXPECT_NE(ctx->FindHit("twc0ffee01", Direction::kEgress, "ARE0|kns.default"), nullptr);  // from the index
}

TEST(FlowContextTest, HashedPrefixesResolveThroughTheProgram) {
  const std::string ns(60, 'n');
  policy::Inputs in = SeedInputs();
  in.endpoints.push_back(Endpoint(ns, "p", "twc0ffee09", "10.244.0.9", {}));
  auto ctx = FlowContext::Build(std::make_shared<const policy::Program>(policy::Compile(in)), {}, {});
  const std::string rule = policy::RuleNflogPrefix(Action::kPass, Direction::kIngress, 0, kLongName);
  ASSERT_LE(rule.size(), policy::kMaxNflogPrefixLen);
  ASSERT_EQ(rule.find(kLongName), std::string::npos);  // really hashed
  ExpectHit(ctx->ResolveHit("twc0ffee02", Direction::kIngress, rule), "security", kLongName, "pass", 0, false);
  const std::string eot = policy::EndOfTierNflogPrefix(true, Direction::kIngress, "security");
  ExpectHit(ctx->ResolveHit("twc0ffee02", Direction::kIngress, eot), "security", kLongName, "deny", -1, false);
  const std::string profile = policy::ProfileNflogPrefix(Action::kAllow, Direction::kEgress, 0, "kns." + ns);
  ASSERT_LT(profile.size(), ("ARE0|kns." + ns).size());
  ExpectHit(ctx->ResolveHit("twc0ffee09", Direction::kEgress, profile), "__PROFILE__", "__PROFILE__.kns." + ns,
            "allow", 0, false);
  // A hashed prefix the program does not know is unknown, not a guess.
  const std::string stranger =
      policy::RuleNflogPrefix(Action::kAllow, Direction::kIngress, 0, kLongName + "-not-in-the-program");
  PolicyHit u = ctx->ResolveHit("twc0ffee02", Direction::kIngress, stranger);
  EXPECT_FALSE(u.known);
  EXPECT_EQ(u.name, "__NO_MATCH__");
  EXPECT_EQ(u.rule_index, -2);
}

TEST(FlowContextTest, UnknownPrefixesFallBackToParsing) {
  auto ctx = FlowContext::Build(nullptr, {}, {});
  ExpectHit(ctx->ResolveHit("x", Direction::kIngress, "API3|ns1/tier1.web"), "tier1", "ns1/tier1.web", "allow", 3,
            false);
  ExpectHit(ctx->ResolveHit("x", Direction::kIngress, "DPI0|ns1/knp.default.deny-all"), "default",
            "ns1/knp.default.deny-all", "deny", 0, false);
  ExpectHit(ctx->ResolveHit("x", Direction::kEgress, "DPE|staged:t.p"), "t", "staged:t.p", "deny", -1, true);
  ExpectHit(ctx->ResolveHit("x", Direction::kEgress, "DRE"), "__PROFILE__", "__NO_MATCH__", "deny", -1, false);
  for (const char* bad : {"", "garbage", "XPE0|a.b", "APE0"}) {
    PolicyHit h = ctx->ResolveHit("x", Direction::kEgress, bad);
    EXPECT_FALSE(h.known) << bad;
    EXPECT_EQ(h.name, "__NO_MATCH__") << bad;
    EXPECT_EQ(h.rule_index, -2) << bad;
  }
  EXPECT_EQ(TierOfPolicyKey("ns/staged:knp.default.x"), "default");
  EXPECT_EQ(TierOfPolicyKey("nodots"), "");
}

}  // namespace
}  // namespace tw::flowlog
