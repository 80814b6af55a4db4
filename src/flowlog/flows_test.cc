// FlowAggregator: exact flow-log records from NFLOG verdicts and conntrack
// counters, on the seed's program compiled by policy::Compile.
#include "flowlog/flows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <initializer_list>
#include <string>

#include "policy/compile.h"
#include "selector/selector.h"

namespace tw::flowlog {
namespace {

namespace json = boost::json;
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

constexpr char kTf[] = "twc0ffee01";   // default/tf-ubuntu, 10.244.0.5, egress policy
constexpr char kWeb[] = "twc0ffee02";  // default/web-7d9f-abcde, 10.244.0.6, ingress policy
constexpr char kApi[] = "twc0ffee03";  // default/web-7d9f-fghij, 10.244.0.7, no policy

// The seed: tier security (600) with a staged policy trial (order 100,
// denying 8.8.8.8) and security.block-snort (150: Deny to the feed set,
// then Pass); tier default with allow-all egress, and ingress to `web`
// allowing only app=client (end-of-tier deny otherwise).
std::shared_ptr<const FlowContext> SeedContext() {
  policy::Inputs in;
  in.tiers = {policy::Tier{"security", 600.0, false}, policy::Tier{"default", 1e6, false}};
  auto endpoint = [](std::string name, std::string iface, std::string ip, selector::Labels labels) {
    labels["projectcalico.org/namespace"] = "default";
    return policy::Endpoint{"default", name, iface, {Ip(ip)}, labels, {}};
  };
  in.endpoints = {endpoint("tf-ubuntu", kTf, "10.244.0.5", {{"threatfeed", "snort"}}),
                  endpoint("web-7d9f-abcde", kWeb, "10.244.0.6", {{"app", "web"}, {"tier", "fe"}}),
                  endpoint("web-7d9f-fghij", kApi, "10.244.0.7", {{"app", "web"}, {"tier", "be"}})};
  in.netsets = {policy::NetSet{"", "threatfeed.snort", {{"threatfeed", "snort"}},
                               Nets({"5.196.58.96", "5.188.10.0/23"})}};
  policy::PolicyIn block = Gnp("security", "security.block-snort", 150.0, "threatfeed == 'snort'");
  block.egress = true;
  block.egress_rules = {Rule(Action::kDeny, "threatfeed == 'snort'"), Rule(Action::kPass)};
  policy::PolicyIn trial = Gnp("security", "staged:security.trial", 100.0, "threatfeed == 'snort'");
  trial.staged = true;
  trial.egress = true;
  policy::RuleIn dns = Rule(Action::kDeny);
  dns.destination.nets = {*net::Cidr::Parse("8.8.8.8/32")};
  trial.egress_rules = {dns};
  policy::PolicyIn allow = Gnp("default", "default.allow-all", std::nullopt, "threatfeed == 'snort'");
  allow.egress = true;
  allow.egress_rules = {Rule(Action::kAllow)};
  policy::PolicyIn web = Gnp("default", "default.web", 10.0, "app == 'web' && tier == 'fe'");
  web.ingress = true;
  policy::RuleIn from_client = Rule(Action::kAllow);
  from_client.source.selector = Sel("app == 'client'");
  web.ingress_rules = {from_client};
  in.policies = {block, trial, allow, web};
  auto program = std::make_shared<const policy::Program>(policy::Compile(in));
  std::vector<PodInfo> pods = {
      PodInfo{"default", "tf-ubuntu", "", kTf, {Ip("10.244.0.5")}, {"threatfeed=snort"}},
      PodInfo{"default", "web-7d9f-abcde", "web-7d9f-", kWeb, {Ip("10.244.0.6")}, {"app=web", "tier=fe"}},
      PodInfo{"default", "web-7d9f-fghij", "web-7d9f-", kApi, {Ip("10.244.0.7")}, {"app=web", "tier=be"}}};
  return FlowContext::Build(program, pods, in.netsets);
}

FlowAggregatorOptions Options(int allowed, int denied, int idle = 2) {
  FlowAggregatorOptions o;
  o.aggregation_allowed = allowed;
  o.aggregation_denied = denied;
  o.idle_intervals = idle;
  return o;
}

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'800'000'000));

TimePoint At(int seconds) { return kT0 + std::chrono::seconds(seconds); }

FlowTuple Tcp(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport) {
  return FlowTuple{Ip(src), Ip(dst), 6, sport, dport};
}

class Feeder {
 public:
  explicit Feeder(FlowAggregatorOptions o = {}) : agg(std::move(o)) { agg.SetContext(SeedContext()); }

  // One packet's walk: every prefix in order, one message each.
  void Walk(int at, Direction d, std::string_view iface, const FlowTuple& t, uint32_t bytes,
            std::initializer_list<std::string_view> prefixes) {
    for (std::string_view p : prefixes) {
      PolicyPacket pk;
      pk.time = At(at);
      pk.seq = ++seq_;
      pk.direction = d;
      pk.iface = std::string(iface);
      pk.tuple = t;
      pk.ip_bytes = bytes;
      pk.prefix = std::string(p);
      agg.AddPolicyPacket(pk);
    }
  }
  void Conntrack(int at, const FlowTuple& orig, uint64_t po, uint64_t bo, uint64_t pr, uint64_t br,
                 bool ended = false) {
    ConntrackFlow f;
    f.orig = orig;
    f.reply = FlowTuple{orig.dst, orig.src, orig.proto, orig.dport, orig.sport};
    f.packets_orig = po;
    f.bytes_orig = bo;
    f.packets_reply = pr;
    f.bytes_reply = br;
    f.ended = ended;
    f.time = At(at);
    agg.AddConntrack(f);
  }

  FlowAggregator agg;

 private:
  uint64_t seq_ = 0;
};

json::array Strings(std::initializer_list<std::string_view> v) {
  json::array a;
  for (std::string_view s : v) a.emplace_back(s);
  return a;
}

int64_t Int(const json::object& r, std::string_view k) { return r.at(k).to_number<int64_t>(); }

const FlowTuple kDenied = Tcp("10.244.0.5", 40000, "5.196.58.96", 443);
const FlowTuple kAllowed = Tcp("10.244.0.5", 40001, "1.1.1.1", 443);

TEST(FlowAggregatorTest, SeedDenyGivesExactlyOneRecordForThreeSyns) {
  FlowAggregatorOptions o;
  o.host = "node-1";
  Feeder f(o);
  for (int i = 0; i < 3; ++i) f.Walk(1 + i, Direction::kEgress, kTf, kDenied, 60, {"DPE0|security.block-snort"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 1u);
  json::object r = recs[0];
  const std::string id = r.at("id").as_string().c_str();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(c); })) << id;
  r.erase("id");
  json::object want = {
      {"start_time", 1'800'000'001},
      {"end_time", 1'800'000'015},
      {"source_ip", "10.244.0.5"},
      {"source_port", nullptr},
      {"source_name", "tf-ubuntu"},
      {"source_name_aggr", "tf-ubuntu"},
      {"source_namespace", "default"},
      {"source_type", "wep"},
      {"source_labels", json::object{{"labels", Strings({"threatfeed=snort"})}}},
      {"dest_ip", "5.196.58.96"},
      {"dest_port", 443},
      {"dest_name", "threatfeed.snort"},
      {"dest_name_aggr", "threatfeed.snort"},
      {"dest_namespace", "-"},
      {"dest_type", "ns"},
      {"dest_labels", json::object{{"labels", Strings({"threatfeed=snort"})}}},
      {"dest_service_namespace", "-"},
      {"dest_service_name", "-"},
      {"dest_service_port", "-"},
      {"dest_service_port_num", nullptr},
      {"dest_domains", nullptr},
      {"proto", "tcp"},
      {"action", "deny"},
      {"reporter", "src"},
      {"policies",
       json::object{{"all_policies", Strings({"0|security|security.block-snort|deny|0"})},
                    {"enforced_policies", Strings({"0|security|security.block-snort|deny|0"})},
                    {"pending_policies", Strings({"0|security|security.block-snort|deny|0"})}}},
      {"bytes_in", 0},
      {"bytes_out", 180},
      {"packets_in", 0},
      {"packets_out", 3},
      {"num_flows", 1},
      {"num_flows_started", 1},
      {"num_flows_completed", 0},
      {"host", "node-1"},
      {"@timestamp", int64_t{1'800'000'015'000}},
  };
  EXPECT_EQ(json::serialize(r), json::serialize(want));  // same fields, same order
  EXPECT_EQ(json::value(r), json::value(want));
  for (const auto& kv : r) {  // one integer kind throughout
    EXPECT_TRUE(!kv.value().is_number() || kv.value().is_int64()) << kv.key();
  }
  FlowAggregatorStats s = f.agg.stats();
  EXPECT_EQ(s.packets, 3u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.connections, 1u);

  // Two more SYNs later: reported again, not as a new flow.
  f.Walk(20, Direction::kEgress, kTf, kDenied, 60, {"DPE0|security.block-snort"});
  f.Walk(21, Direction::kEgress, kTf, kDenied, 60, {"DPE0|security.block-snort"});
  recs = f.agg.Flush(At(30));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Int(recs[0], "start_time"), 1'800'000'015);
  EXPECT_EQ(Int(recs[0], "packets_out"), 2);
  EXPECT_EQ(Int(recs[0], "num_flows_started"), 0);
  EXPECT_NE(recs[0].at("id"), json::value(id));
  // No news: no record; forgotten after idle_intervals (2) quiet flushes.
  EXPECT_TRUE(f.agg.Flush(At(45)).empty());
  EXPECT_EQ(f.agg.stats().connections, 1u);
  EXPECT_TRUE(f.agg.Flush(At(60)).empty());
  EXPECT_EQ(f.agg.stats().connections, 0u);
}

TEST(FlowAggregatorTest, AllowedFlowReportsConntrackDeltasUntilItEnds) {
  Feeder f;
  // Pass in security, allow in default: the hit index runs across tiers.
  f.Walk(1, Direction::kEgress, kTf, kAllowed, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  // Before conntrack reports: the NFLOG'd first packet.
  std::vector<json::object> recs = f.agg.Flush(At(5));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(recs[0].at("dest_type"), "net");
  EXPECT_EQ(recs[0].at("dest_name"), "-");
  EXPECT_EQ(recs[0].at("dest_name_aggr"), "pub");
  EXPECT_EQ(recs[0].at("dest_labels"), nullptr);
  EXPECT_EQ(recs[0].at("policies").at("all_policies"),
            Strings({"0|security|security.block-snort|pass|1", "1|default|default.allow-all|allow|0"}));
  EXPECT_EQ(recs[0].at("policies").at("enforced_policies"), recs[0].at("policies").at("all_policies"));
  EXPECT_EQ(recs[0].at("policies").at("pending_policies"), recs[0].at("policies").at("all_policies"));
  EXPECT_EQ(Int(recs[0], "packets_out"), 1);
  EXPECT_EQ(Int(recs[0], "bytes_out"), 60);
  EXPECT_EQ(Int(recs[0], "num_flows_started"), 1);

  f.Conntrack(8, kAllowed, 5, 500, 4, 3000);
  recs = f.agg.Flush(At(20));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Int(recs[0], "start_time"), 1'800'000'005);
  EXPECT_EQ(Int(recs[0], "packets_out"), 4);
  EXPECT_EQ(Int(recs[0], "bytes_out"), 440);
  EXPECT_EQ(Int(recs[0], "packets_in"), 4);
  EXPECT_EQ(Int(recs[0], "bytes_in"), 3000);
  EXPECT_EQ(Int(recs[0], "num_flows_started"), 0);
  EXPECT_EQ(Int(recs[0], "num_flows_completed"), 0);

  f.Conntrack(25, kAllowed, 8, 800, 10, 9000, /*ended=*/true);
  recs = f.agg.Flush(At(35));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Int(recs[0], "packets_out"), 3);
  EXPECT_EQ(Int(recs[0], "bytes_out"), 300);
  EXPECT_EQ(Int(recs[0], "packets_in"), 6);
  EXPECT_EQ(Int(recs[0], "bytes_in"), 6000);
  EXPECT_EQ(Int(recs[0], "num_flows"), 1);
  EXPECT_EQ(Int(recs[0], "num_flows_completed"), 1);
  EXPECT_EQ(f.agg.stats().connections, 0u);
  EXPECT_EQ(f.agg.stats().conntrack_matched, 2u);
  EXPECT_TRUE(f.agg.Flush(At(50)).empty());
  // Conntrack for a connection nobody logged.
  f.Conntrack(51, Tcp("10.244.0.5", 1, "9.9.9.9", 2), 1, 1, 1, 1);
  EXPECT_EQ(f.agg.stats().conntrack_unmatched, 1u);
}

// A closed connection lingers in conntrack (TIME_WAIT) and every flush's
// dump reports it unchanged: it must not become a zero-count record per
// flush (each would be a new record and, for a listed address, a new event).
TEST(FlowAggregatorTest, UnchangedConntrackEntriesAreKeptButNotReportedAgain) {
  Feeder f;
  f.Walk(1, Direction::kEgress, kTf, kAllowed, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  f.Conntrack(2, kAllowed, 10, 1000, 8, 4000);
  ASSERT_EQ(f.agg.Flush(At(5)).size(), 1u);
  for (int t = 6; t < 60; t += 5) {
    f.Conntrack(t, kAllowed, 10, 1000, 8, 4000);  // the dump: same counters
    EXPECT_TRUE(f.agg.Flush(At(t + 1)).empty()) << "at " << t;
  }
  EXPECT_EQ(f.agg.stats().connections, 1u) << "still tracked while the kernel reports it";
  // Traffic again on the same connection: reported with the growth only.
  f.Conntrack(61, kAllowed, 12, 1100, 9, 4500);
  std::vector<json::object> recs = f.agg.Flush(At(62));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Int(recs[0], "packets_out"), 2);
  EXPECT_EQ(Int(recs[0], "bytes_in"), 500);
  // The end, without new packets, is news: reported once as completed.
  f.Conntrack(63, kAllowed, 12, 1100, 9, 4500, /*ended=*/true);
  recs = f.agg.Flush(At(64));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Int(recs[0], "num_flows_completed"), 1);
  EXPECT_EQ(Int(recs[0], "packets_out"), 0);
  EXPECT_EQ(f.agg.stats().connections, 0u);
}

TEST(FlowAggregatorTest, AllowedFlowConntrackInTheSameIntervalAndDestReporter) {
  Feeder f;
  // tf-ubuntu -> 10.244.0.7:80, ingress of a pod without policy: its
  // namespace profile allows.
  const FlowTuple t = Tcp("10.244.0.5", 50000, "10.244.0.7", 80);
  f.Walk(1, Direction::kIngress, kApi, t, 60, {"ARI0|kns.default"});
  f.Conntrack(2, t, 6, 600, 5, 5000);
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 1u);
  const json::object& r = recs[0];
  EXPECT_EQ(r.at("reporter"), "dst");
  EXPECT_EQ(r.at("action"), "allow");
  EXPECT_EQ(r.at("source_name"), "tf-ubuntu");
  EXPECT_EQ(r.at("dest_name"), "web-7d9f-fghij");
  EXPECT_EQ(r.at("dest_name_aggr"), "web-7d9f-*");
  EXPECT_EQ(r.at("policies").at("all_policies"), Strings({"0|__PROFILE__|__PROFILE__.kns.default|allow|0"}));
  // Reporter dst: in = original direction, out = reply.
  EXPECT_EQ(Int(r, "packets_in"), 6);
  EXPECT_EQ(Int(r, "bytes_in"), 600);
  EXPECT_EQ(Int(r, "packets_out"), 5);
  EXPECT_EQ(Int(r, "bytes_out"), 5000);
}

TEST(FlowAggregatorTest, EndOfTierDenyNamesTheLastEnforcedPolicy) {
  Feeder f;
  const FlowTuple t = Tcp("10.244.0.5", 50001, "10.244.0.6", 80);
  // Egress at tf-ubuntu allowed, ingress at web denied by end of tier.
  f.Walk(1, Direction::kEgress, kTf, t, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  f.Walk(1, Direction::kIngress, kWeb, t, 60, {"DPI|default"});
  f.Walk(2, Direction::kIngress, kWeb, t, 60, {"DPI|default"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);
  // Key order: action first ("allow" < "deny").
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(recs[0].at("reporter"), "src");
  EXPECT_EQ(recs[1].at("action"), "deny");
  EXPECT_EQ(recs[1].at("reporter"), "dst");
  EXPECT_EQ(recs[1].at("policies").at("all_policies"), Strings({"0|default|default.web|deny|-1"}));
  EXPECT_EQ(Int(recs[1], "packets_in"), 2);
  EXPECT_EQ(Int(recs[1], "bytes_in"), 120);
  EXPECT_EQ(Int(recs[1], "packets_out"), 0);
  EXPECT_EQ(recs[1].at("dest_labels").at("labels"), Strings({"app=web", "tier=fe"}));
}

TEST(FlowAggregatorTest, StagedHitsAreInAllAndPendingButNotEnforced) {
  Feeder f;
  const FlowTuple dns = FlowTuple{Ip("10.244.0.5"), Ip("8.8.8.8"), 17, 33333, 53};
  // The staged policy (first in tier security) would deny DNS to 8.8.8.8.
  f.Walk(1, Direction::kEgress, kTf, dns, 70,
         {"DPE0|staged:security.trial", "PPE1|security.block-snort", "APE0|default.allow-all"});
  // It does not match 1.1.1.1: its no-match, then block-snort's pass.
  f.Walk(1, Direction::kEgress, kTf, kAllowed, 60,
         {"DPE|staged:security.trial", "PPE1|security.block-snort", "APE0|default.allow-all"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);
  const json::object& tcp = recs[0].at("proto") == "tcp" ? recs[0] : recs[1];
  const json::object& udp = recs[0].at("proto") == "udp" ? recs[0] : recs[1];
  EXPECT_EQ(udp.at("action"), "allow");
  EXPECT_EQ(udp.at("policies").at("all_policies"),
            Strings({"0|security|staged:security.trial|deny|0", "1|security|security.block-snort|pass|1",
                     "2|default|default.allow-all|allow|0"}));
  EXPECT_EQ(udp.at("policies").at("enforced_policies"),
            Strings({"0|security|security.block-snort|pass|1", "1|default|default.allow-all|allow|0"}));
  // Enforced, the staged policy would have denied.
  EXPECT_EQ(udp.at("policies").at("pending_policies"), Strings({"0|security|staged:security.trial|deny|0"}));
  EXPECT_EQ(tcp.at("policies").at("all_policies"),
            Strings({"0|security|staged:security.trial|deny|-1", "1|security|security.block-snort|pass|1",
                     "2|default|default.allow-all|allow|0"}));
  EXPECT_EQ(tcp.at("policies").at("enforced_policies"),
            Strings({"0|security|security.block-snort|pass|1", "1|default|default.allow-all|allow|0"}));
  // Its no-match is overridden by the pass of the same tier.
  EXPECT_EQ(tcp.at("policies").at("pending_policies"), tcp.at("policies").at("enforced_policies"));
}

TEST(FlowAggregatorTest, PendingPolicies) {
  auto hit = [](std::string tier, std::string name, std::string action, int rule, bool staged) {
    return PolicyHit{tier, name, action, rule, staged, true};
  };
  // A staged deny before the enforced verdict: pending stops there.
  PolicyStrings a = FormatPolicyHits({hit("security", "staged:security.trial", "deny", 0, true),
                                      hit("security", "security.block-snort", "pass", 1, false),
                                      hit("default", "default.allow-all", "allow", 0, false)});
  EXPECT_EQ(a.all.size(), 3u);
  EXPECT_EQ(a.enforced, (std::vector<std::string>{"0|security|security.block-snort|pass|1",
                                                  "1|default|default.allow-all|allow|0"}));
  EXPECT_EQ(a.pending, std::vector<std::string>{"0|security|staged:security.trial|deny|0"});
  // A staged no-match in a tier of staged policies only: the tier would
  // deny at its end.
  PolicyStrings b = FormatPolicyHits({hit("audit", "staged:audit.x", "deny", -1, true),
                                      hit("default", "default.allow-all", "allow", 0, false)});
  EXPECT_EQ(b.enforced, std::vector<std::string>{"0|default|default.allow-all|allow|0"});
  EXPECT_EQ(b.pending, std::vector<std::string>{"0|audit|staged:audit.x|deny|-1"});
  // A staged no-match followed by a verdict of the same tier: dropped.
  PolicyStrings c = FormatPolicyHits({hit("t", "staged:t.x", "deny", -1, true), hit("t", "t.y", "allow", 2, false)});
  EXPECT_EQ(c.pending, std::vector<std::string>{"0|t|t.y|allow|2"});
  // A staged policy replaces its enforced twin.
  PolicyStrings d = FormatPolicyHits({hit("t", "ns/staged:t.x", "allow", 0, true),
                                      hit("t", "ns/t.x", "deny", 0, false)});
  EXPECT_EQ(d.enforced, std::vector<std::string>{"0|t|ns/t.x|deny|0"});
  EXPECT_EQ(d.pending, std::vector<std::string>{"0|t|ns/staged:t.x|allow|0"});
  EXPECT_EQ(d.all, (std::vector<std::string>{"0|t|ns/staged:t.x|allow|0", "1|t|ns/t.x|deny|0"}));
}

TEST(FlowAggregatorTest, ProfileHitsAndNoProfileDeny) {
  Feeder f;
  const FlowTuple t = Tcp("10.244.0.7", 1234, "1.1.1.1", 443);
  f.Walk(1, Direction::kEgress, kApi, t, 60, {"ARE0|kns.default"});
  const FlowTuple u = Tcp("10.244.0.7", 1235, "1.1.1.1", 443);
  f.Walk(1, Direction::kEgress, kApi, u, 60, {"DRE"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(recs[0].at("policies").at("all_policies"), Strings({"0|__PROFILE__|__PROFILE__.kns.default|allow|0"}));
  EXPECT_EQ(recs[1].at("action"), "deny");
  EXPECT_EQ(recs[1].at("policies").at("all_policies"), Strings({"0|__PROFILE__|__NO_MATCH__|deny|-1"}));
}

std::vector<json::object> FourFlows(int kind) {
  Feeder f(Options(kind, kind));
  for (const FlowTuple& t : {Tcp("10.244.0.5", 40000, "1.1.1.1", 443), Tcp("10.244.0.5", 40001, "1.1.1.1", 443),
                             Tcp("10.244.0.5", 40002, "8.8.4.4", 443), Tcp("10.244.0.5", 40003, "8.8.4.4", 80)}) {
    f.Walk(1, Direction::kEgress, kTf, t, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  }
  return f.agg.Flush(At(15));
}

TEST(FlowAggregatorTest, AggregationKinds) {
  std::vector<json::object> k0 = FourFlows(0);
  ASSERT_EQ(k0.size(), 4u);
  for (const json::object& r : k0) {
    EXPECT_TRUE(r.at("source_port").is_int64());
    EXPECT_EQ(Int(r, "num_flows"), 1);
  }
  std::vector<json::object> k1 = FourFlows(1);
  ASSERT_EQ(k1.size(), 3u);
  EXPECT_EQ(k1[0].at("dest_ip"), "1.1.1.1");
  EXPECT_EQ(k1[0].at("source_port"), nullptr);
  EXPECT_EQ(Int(k1[0], "num_flows"), 2);
  EXPECT_EQ(Int(k1[0], "packets_out"), 2);
  std::vector<json::object> k2 = FourFlows(2);
  ASSERT_EQ(k2.size(), 2u);  // by dest port only: 443 x3, 80 x1
  for (const json::object& r : k2) {
    EXPECT_EQ(r.at("source_ip"), nullptr);
    EXPECT_EQ(r.at("dest_ip"), nullptr);
    EXPECT_EQ(r.at("source_name"), "-");
    EXPECT_EQ(r.at("dest_name"), "-");
    EXPECT_EQ(r.at("source_name_aggr"), "tf-ubuntu");
    EXPECT_EQ(r.at("dest_name_aggr"), "pub");
    EXPECT_EQ(r.at("source_port"), nullptr);
  }
  int64_t flows443 = 0;
  for (const json::object& r : k2) {
    if (r.at("dest_port") == 443) flows443 = Int(r, "num_flows");
  }
  EXPECT_EQ(flows443, 3);
  std::vector<json::object> k3 = FourFlows(3);
  ASSERT_EQ(k3.size(), 1u);
  EXPECT_EQ(k3[0].at("dest_port"), nullptr);
  EXPECT_EQ(Int(k3[0], "num_flows"), 4);
  EXPECT_EQ(Int(k3[0], "num_flows_started"), 4);
}

TEST(FlowAggregatorTest, AggregatedLabelsAreTheIntersectionAndKindsPerAction) {
  // Allowed at kind 2, denied at kind 0.
  Feeder f(Options(2, 0));
  f.Walk(1, Direction::kEgress, kWeb, Tcp("10.244.0.6", 1, "1.1.1.1", 443), 60, {"ARE0|kns.default"});
  f.Walk(1, Direction::kEgress, kApi, Tcp("10.244.0.7", 2, "1.1.1.1", 443), 60, {"ARE0|kns.default"});
  f.Walk(1, Direction::kEgress, kApi, Tcp("10.244.0.7", 3, "1.1.1.1", 443), 60, {"DRE"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(Int(recs[0], "num_flows"), 2);
  EXPECT_EQ(recs[0].at("source_name_aggr"), "web-7d9f-*");
  EXPECT_EQ(recs[0].at("source_labels").at("labels"), Strings({"app=web"}));
  EXPECT_EQ(recs[1].at("action"), "deny");
  EXPECT_EQ(recs[1].at("source_port"), 3);
  EXPECT_EQ(recs[1].at("source_name"), "web-7d9f-fghij");
  EXPECT_EQ(recs[1].at("source_labels").at("labels"), Strings({"app=web", "tier=be"}));
}

TEST(FlowAggregatorTest, UnloggedAllowIsClosedByConntrackAndIcmpPortsAreIgnored) {
  Feeder f;
  // Only the pass is logged (allows are not): conntrack confirms.
  FlowTuple ping{Ip("10.244.0.5"), Ip("1.1.1.1"), 1, 0, 0};
  f.Walk(1, Direction::kEgress, kTf, ping, 84, {"PPE1|security.block-snort"});
  FlowTuple ct = ping;
  ct.sport = 77;  // conntrack's ICMP id
  f.Conntrack(2, ct, 3, 252, 3, 252);
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(recs[0].at("proto"), "icmp");
  EXPECT_EQ(recs[0].at("dest_port"), nullptr);
  EXPECT_EQ(Int(recs[0], "packets_out"), 3);
  EXPECT_EQ(Int(recs[0], "packets_in"), 3);
  EXPECT_EQ(f.agg.stats().conntrack_matched, 1u);
}

TEST(FlowAggregatorTest, UnloggedAllowsCloseAtTheNextWalkAndAtFlush) {
  Feeder f;
  const FlowTuple t = Tcp("10.244.0.5", 40100, "1.1.1.1", 443);
  f.Walk(1, Direction::kEgress, kTf, t, 60, {"PPE1|security.block-snort"});
  f.Walk(2, Direction::kEgress, kTf, t, 60, {"PPE1|security.block-snort"});  // retransmitted SYN
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(recs[0].at("policies").at("all_policies"), Strings({"0|security|security.block-snort|pass|1"}));
  EXPECT_EQ(Int(recs[0], "packets_out"), 2);
  EXPECT_EQ(Int(recs[0], "num_flows"), 1);
}

TEST(FlowAggregatorTest, ConntrackMatchesTheDnatTupleAndTupleReuseIsANewFlow) {
  Feeder f;
  // The forward hook sees the service address already translated.
  const FlowTuple seen = Tcp("10.244.0.5", 40200, "10.244.0.7", 8080);
  f.Walk(1, Direction::kEgress, kTf, seen, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  f.Walk(1, Direction::kIngress, kApi, seen, 60, {"ARI0|kns.default"});
  ConntrackFlow ct;
  ct.orig = Tcp("10.244.0.5", 40200, "10.96.0.10", 80);
  ct.reply = Tcp("10.244.0.7", 8080, "10.244.0.5", 40200);
  ct.packets_orig = 4;
  ct.bytes_orig = 400;
  ct.packets_reply = 3;
  ct.bytes_reply = 900;
  ct.ended = true;
  ct.time = At(2);
  f.agg.AddConntrack(ct);
  EXPECT_EQ(f.agg.stats().conntrack_matched, 1u);
  // The same tuple again after the end: a new connection.
  f.Walk(3, Direction::kEgress, kTf, seen, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);  // src (both connections, one key) and dst
  const json::object& src = recs[0].at("reporter") == "src" ? recs[0] : recs[1];
  const json::object& dst = recs[0].at("reporter") == "dst" ? recs[0] : recs[1];
  EXPECT_EQ(Int(src, "num_flows"), 2);
  EXPECT_EQ(Int(src, "num_flows_started"), 2);
  EXPECT_EQ(Int(src, "num_flows_completed"), 1);
  EXPECT_EQ(Int(src, "packets_out"), 5);  // 4 from conntrack + the new SYN
  EXPECT_EQ(Int(src, "packets_in"), 3);
  EXPECT_EQ(Int(dst, "packets_in"), 4);
  EXPECT_EQ(Int(dst, "packets_out"), 3);
  EXPECT_EQ(Int(dst, "num_flows_completed"), 1);
  EXPECT_EQ(f.agg.stats().connections, 1u);
}

TEST(FlowAggregatorTest, PolicyChangeRetiresTheOldTrace) {
  Feeder f;
  f.Walk(1, Direction::kEgress, kTf, kDenied, 60, {"DPE0|security.block-snort"});
  // The policy changed: the same connection's next SYN is allowed.
  f.Walk(3, Direction::kEgress, kTf, kDenied, 60, {"PPE1|security.block-snort", "APE0|default.allow-all"});
  std::vector<json::object> recs = f.agg.Flush(At(15));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].at("action"), "allow");
  EXPECT_EQ(Int(recs[0], "num_flows_started"), 0);
  EXPECT_EQ(Int(recs[0], "packets_out"), 1);
  EXPECT_EQ(recs[1].at("action"), "deny");
  EXPECT_EQ(Int(recs[1], "num_flows_started"), 1);
  EXPECT_EQ(Int(recs[1], "packets_out"), 1);
  EXPECT_EQ(f.agg.stats().connections, 1u);
}

TEST(FlowAggregatorTest, RecordsAndIdsAreDeterministic) {
  auto run = [](bool reversed) {
    Feeder f;
    std::vector<FlowTuple> ts;
    for (uint16_t p = 0; p < 50; ++p) ts.push_back(Tcp("10.244.0.5", 1000 + p, "1.1.1." + std::to_string(p), 443));
    if (reversed) std::reverse(ts.begin(), ts.end());
    for (const FlowTuple& t : ts) f.Walk(1, Direction::kEgress, kTf, t, 60, {"PPE1|security.block-snort",
                                                                             "APE0|default.allow-all"});
    std::string out;
    for (const json::object& r : f.agg.Flush(At(15))) out += json::serialize(r) + "\n";
    return out;
  };
  std::string a = run(false);
  EXPECT_EQ(a, run(true));
  EXPECT_NE(a.find("\"1.1.1.49\""), std::string::npos);
}

TEST(FlowAggregatorTest, OptionsValidation) {
  EXPECT_TRUE(ValidateFlowAggregatorOptions({}).ok());
  Status s = ValidateFlowAggregatorOptions(Options(4, 1));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("aggregation_allowed"), std::string::npos) << s.ToString();
  EXPECT_FALSE(ValidateFlowAggregatorOptions(Options(1, -1)).ok());
  EXPECT_FALSE(ValidateFlowAggregatorOptions(Options(1, 1, 0)).ok());
}

}  // namespace
}  // namespace tw::flowlog
