// FlowPipeline: observations in, stored records out, then the detector's
// callbacks -- with a real LogStore in a temporary directory.
#include "daemon/flow_pipeline.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/test_temp_dir.h"
#include "policy/compile.h"
#include "selector/selector.h"

namespace tw::daemon {
namespace {

namespace json = boost::json;
using policy::Action;
using policy::Direction;

net::IpAddr Ip(std::string_view text) { return *net::IpAddr::Parse(text); }

selector::Selector Sel(std::string_view text) { return *selector::Selector::Parse(text); }

// default/tf-ubuntu (10.244.0.5 on tw0) with the seed's deny of the snort set.
agent::AppliedSnapshot SeedSnapshot() {
  policy::Inputs in;
  in.tiers = {policy::Tier{"security", 600.0, false}, policy::Tier{"default", 1e6, false}};
  in.endpoints = {policy::Endpoint{"default", "tf-ubuntu", "tw0", {Ip("10.244.0.5")},
                                   {{"app", "tf-ubuntu"}, {"projectcalico.org/namespace", "default"}}, {}}};
  net::CidrSet::Builder nets;
  nets.AddText("5.196.58.96");
  in.netsets = {policy::NetSet{"", "threatfeed.snort", {{"threatfeed", "snort"}}, nets.Build()}};
  policy::PolicyIn block;
  block.tier = "security";
  block.key = "security.block-snort";
  block.order = 1;
  block.applies_to = selector::Selector::All();
  block.egress = true;
  policy::RuleIn deny;
  deny.action = Action::kDeny;
  deny.destination.selector = Sel("threatfeed == 'snort'");
  block.egress_rules = {deny};
  in.policies = {block};
  agent::AppliedSnapshot snap;
  snap.program = std::make_shared<const policy::Program>(policy::Compile(in));
  snap.pods = {flowlog::PodInfo{"default", "tf-ubuntu", "", "tw0", {Ip("10.244.0.5")}, {"app=tf-ubuntu"}}};
  snap.netsets = in.netsets;
  return snap;
}

flowlog::PolicyPacket DenyPacket(std::chrono::system_clock::time_point t, uint16_t sport) {
  flowlog::PolicyPacket p;
  p.time = t;
  p.direction = Direction::kEgress;
  p.iface = "tw0";
  p.tuple = flowlog::FlowTuple{Ip("10.244.0.5"), Ip("5.196.58.96"), 6, sport, 443};
  p.ip_bytes = 60;
  p.prefix = "DPE0|security.block-snort";
  return p;
}

// A DNS query for `name` (type A) with id 0x1234.
std::vector<uint8_t> DnsQuery(std::string_view name) {
  std::vector<uint8_t> m = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    m.push_back(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) m.push_back(static_cast<uint8_t>(name[i]));
    start = dot + 1;
  }
  m.insert(m.end(), {0, 0, 1, 0, 1});
  return m;
}

class FlowPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)));
    logstore::LogStoreOptions o;
    o.clock = &clock_;
    auto logs = logstore::LogStore::Open(dir_.path() + "/logs.db", o);
    ASSERT_TRUE(logs.ok()) << logs.error().ToString();
    logs_ = std::move(*logs);
  }

  tw::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<logstore::LogStore> logs_;
};

TEST_F(FlowPipelineTest, DeniedConnectionIsStoredThenHandedToTheDetector) {
  FlowPipeline pipeline(*logs_, clock_, FlowPipelineOptions{});
  std::vector<json::object> seen;
  pipeline.set_on_flows([&](std::span<const json::object> r) { seen.assign(r.begin(), r.end()); });
  int dumps = 0;
  pipeline.set_conntrack_dump([&] {
    ++dumps;
    return Status::Ok();
  });
  pipeline.SetSnapshot(SeedSnapshot());
  // Three SYNs of one connection: one record.
  for (int i = 0; i < 3; ++i) pipeline.OnPolicyPacket(DenyPacket(clock_.Now(), 40000));
  clock_.Advance(std::chrono::seconds(15));
  ASSERT_TRUE(pipeline.Flush().ok());
  EXPECT_EQ(dumps, 1);

  auto stored = logs_->QueryFlows(logstore::LogQuery{});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  const json::object& r = (*stored)[0];
  EXPECT_EQ(r.at("action"), "deny");
  EXPECT_EQ(r.at("source_name"), "tf-ubuntu");
  EXPECT_EQ(r.at("dest_ip"), "5.196.58.96");
  EXPECT_EQ(r.at("packets_out"), 3);
  EXPECT_EQ(r.at("policies").at("all_policies"), json::array({"0|security|security.block-snort|deny|0"}));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].at("id"), r.at("id")) << "the detector gets the stored record";

  // Nothing new: the next flush stores nothing and calls nobody.
  seen.clear();
  clock_.Advance(std::chrono::seconds(15));
  ASSERT_TRUE(pipeline.Flush().ok());
  EXPECT_TRUE(seen.empty());
  FlowPipelineStats s = pipeline.stats();
  EXPECT_EQ(s.flow_records, 1u);
  EXPECT_EQ(s.flushes, 2u);
  EXPECT_EQ(s.flows.packets, 3u);
}

TEST_F(FlowPipelineTest, DnsPacketsBecomeDnsLogsAndMalformedOnesAreCounted) {
  FlowPipeline pipeline(*logs_, clock_, FlowPipelineOptions{});
  size_t dns_seen = 0;
  pipeline.set_on_dns([&](std::span<const json::object> r) { dns_seen += r.size(); });
  pipeline.SetSnapshot(SeedSnapshot());
  flowlog::DnsPacket q;
  q.time = clock_.Now();
  q.tuple = flowlog::FlowTuple{Ip("10.244.0.5"), Ip("198.51.100.53"), 17, 5353, 53};
  q.dns = DnsQuery("0daydreams.net");
  pipeline.OnDnsPacket(flowlog::DnsPacket(q));
  flowlog::DnsPacket junk = q;
  junk.dns = {0x12, 0x34, 'x'};
  pipeline.OnDnsPacket(std::move(junk));
  // Unanswered queries are logged once their timeout has passed.
  clock_.Advance(std::chrono::seconds(15));
  ASSERT_TRUE(pipeline.Flush().ok());
  auto stored = logs_->QueryDns(logstore::LogQuery{});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].at("qname"), "0daydreams.net");
  EXPECT_EQ((*stored)[0].at("client_name"), "tf-ubuntu");
  EXPECT_EQ(dns_seen, 1u);
  EXPECT_EQ(pipeline.stats().dns.malformed, 1u);
}

TEST_F(FlowPipelineTest, StopFlushesTheLastInterval) {
  FlowPipelineOptions o;
  o.flush = std::chrono::hours(1);  // the thread never flushes by itself here
  {
    FlowPipeline pipeline(*logs_, clock_, o);
    pipeline.SetSnapshot(SeedSnapshot());
    pipeline.Start();
    pipeline.OnPolicyPacket(DenyPacket(clock_.Now(), 40001));
    clock_.Advance(std::chrono::seconds(1));
    pipeline.Stop();
  }
  auto stored = logs_->QueryFlows(logstore::LogQuery{});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 1u);
}

TEST(FlowPipelineOptionsTest, BadValuesNameTheFlag) {
  FlowPipelineOptions o;
  o.flush = std::chrono::milliseconds(10);
  EXPECT_NE(ValidateFlowPipelineOptions(o).message().find("--flow-flush"), std::string::npos);
  o = {};
  o.dns.aggregation_kind = 3;
  EXPECT_NE(ValidateFlowPipelineOptions(o).message().find("--dns-aggregation"), std::string::npos);
  o = {};
  o.flows.aggregation_allowed = 4;
  EXPECT_FALSE(ValidateFlowPipelineOptions(o).ok());
  EXPECT_TRUE(ValidateFlowPipelineOptions(FlowPipelineOptions{}).ok());
}

}  // namespace
}  // namespace tw::daemon
