#include "detect/events.h"

#include <gtest/gtest.h>

namespace tw::detect {
namespace {

namespace json = boost::json;
using feeds::Content;

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// The seed: default/tf-ubuntu -> 5.196.58.96:443, denied by
// security.block-snort, as the flow aggregator writes it (aggregation 1:
// source port null).
constexpr std::string_view kSeedFlow = R"({
  "start_time": 1767225600, "end_time": 1767225615,
  "source_ip": "10.244.0.5", "source_port": null, "source_name": "tf-ubuntu",
  "source_name_aggr": "tf-ubuntu", "source_namespace": "default", "source_type": "wep",
  "source_labels": {"labels": ["app=tf-ubuntu"]},
  "dest_ip": "5.196.58.96", "dest_port": 443, "dest_name": "-", "dest_name_aggr": "pub",
  "dest_namespace": "-", "dest_type": "net", "dest_labels": null,
  "dest_service_namespace": "-", "dest_service_name": "-", "dest_service_port": "-",
  "proto": "tcp", "action": "deny", "reporter": "src",
  "policies": {"all_policies": ["0|security|security.block-snort|deny|0"],
               "enforced_policies": ["0|security|security.block-snort|deny|0"], "pending_policies": []},
  "bytes_in": 0, "bytes_out": 180, "packets_in": 0, "packets_out": 3,
  "num_flows": 1, "num_flows_started": 1, "num_flows_completed": 0,
  "host": "node", "@timestamp": 1767225615000, "id": "5f0c6a1e2b3d4c5e"
})";

constexpr int64_t kNow = 1767225700;

std::shared_ptr<const ThreatIndex> SnortIndex(std::string entries = "5.196.58.96/32\n") {
  return ThreatIndex::Build({{FeedSet::FromEntries("snort", Content::kIPSet, entries), false}});
}

TEST(FlowEventTest, SeedExactJson) {
  json::object flow = Obj(kSeedFlow);
  auto index = SnortIndex();
  std::optional<FlowHit> hit = MatchFlow(*index, flow);
  ASSERT_TRUE(hit);
  json::object event = BuildFlowEvent(flow, *hit, kNow);
  json::object expected = Obj(R"({
    "id": "snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny",
    "time": 1767225700,
    "type": "gtf_suspicious_flow",
    "description": "pod default/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat Feed snort",
    "severity": 100,
    "origin": "Suspicious Flow",
    "name": "Suspicious Flow",
    "attack_vector": "Network",
    "mitre_tactic": "Exfiltration",
    "mitre_ids": ["T1041"],
    "mitigations": ["No mitigation needed. This network traffic was blocked by Calico"],
    "source_ip": "10.244.0.5",
    "source_namespace": "default",
    "source_name": "tf-ubuntu",
    "source_name_aggr": "tf-ubuntu",
    "source_labels": {"labels": ["app=tf-ubuntu"]},
    "dest_ip": "5.196.58.96",
    "dest_port": 443,
    "dest_namespace": "-",
    "dest_name": "-",
    "dest_name_aggr": "pub",
    "record": {"flow_action": "deny", "flow_log_id": "5f0c6a1e2b3d4c5e", "protocol": "tcp",
               "feeds": ["snort"], "suspicious_prefix": "5.196.58.96/32"}
  })");
  EXPECT_EQ(event, expected) << json::serialize(event);
  // Field order as written (what a client sees first).
  EXPECT_EQ(event.begin()->key(), "id");
}

TEST(FlowEventTest, SourceSideHitAndDstReporterAllowed) {
  json::object flow = Obj(kSeedFlow);
  // An inbound connection from a listed address, allowed, reported at the destination pod.
  flow["source_ip"] = "5.196.58.96";
  flow["source_port"] = 40000;
  flow["source_name"] = "-";
  flow["source_namespace"] = "-";
  flow["source_name_aggr"] = "pub";
  flow["source_labels"] = nullptr;
  flow["dest_ip"] = "10.244.0.5";
  flow["dest_port"] = 80;
  flow["dest_name"] = "web";
  flow["dest_namespace"] = "prod";
  flow["dest_name_aggr"] = "web-*";
  flow["dest_labels"] = json::object{{"labels", json::array{"app=web"}}};
  flow["action"] = "allow";
  flow["reporter"] = "dst";
  auto hit = MatchFlow(*SnortIndex("5.196.0.0/16\n"), flow);
  ASSERT_TRUE(hit);
  ASSERT_TRUE(hit->source);
  EXPECT_FALSE(hit->dest);
  json::object e = BuildFlowEvent(flow, *hit, kNow);
  EXPECT_EQ(e["description"], "suspicious IP 5.196.58.96, listed in Global Threat Feed snort, connected to prod/web");
  EXPECT_EQ(e["id"], "snort_1767225600_tcp_5.196.58.96_40000_10.244.0.5_80");
  EXPECT_EQ(e["mitre_ids"], json::array{"T1090"});
  EXPECT_EQ(e["mitre_tactic"], "Command and Control");
  EXPECT_EQ(e["mitigations"], json::array{"Create a global network policy to prevent traffic to this IP address"});
  EXPECT_EQ(e["record"].as_object()["flow_action"], "allow");
  EXPECT_EQ(e["record"].as_object()["suspicious_prefix"], "5.196.0.0/16");
  EXPECT_EQ(e["source_port"], 40000);
  EXPECT_FALSE(e.contains("source_labels"));  // null in the record
  EXPECT_EQ(e["dest_labels"], flow["dest_labels"]);
  EXPECT_EQ(e["source_name"], "-");  // copied as the record has it
  // An empty string in the record is left out of the event, as a null is.
  flow["source_name"] = "";
  EXPECT_FALSE(BuildFlowEvent(flow, *hit, kNow).contains("source_name"));
}

TEST(FlowEventTest, AllowedEgressMitigation) {
  json::object flow = Obj(kSeedFlow);
  flow["action"] = "allow";
  json::object e = BuildFlowEvent(flow, *MatchFlow(*SnortIndex(), flow), kNow);
  EXPECT_EQ(e["mitigations"], json::array{"Create a global network policy to prevent traffic from this IP address"});
  EXPECT_EQ(e["record"].as_object()["flow_action"], "allow");
  // The denied flow of the same interval and addresses is another event.
  json::object denied = BuildFlowEvent(Obj(kSeedFlow), *MatchFlow(*SnortIndex(), Obj(kSeedFlow)), kNow);
  EXPECT_EQ(e["id"], "snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443");
  EXPECT_EQ(denied["id"], "snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny");
}

TEST(FlowEventTest, BothSidesOneEventWithEveryFeed) {
  json::object flow = Obj(kSeedFlow);
  flow["source_ip"] = "1.1.1.1";
  auto index = ThreatIndex::Build({
      {FeedSet::FromEntries("snort", Content::kIPSet, "5.196.58.96/32\n"), false},
      {FeedSet::FromEntries("abuse", Content::kIPSet, "1.1.1.0/24\n5.196.58.96/32\n"), false},
  });
  auto hit = MatchFlow(*index, flow);
  ASSERT_TRUE(hit && hit->source && hit->dest);
  json::object e = BuildFlowEvent(flow, *hit, kNow);
  EXPECT_EQ(e["id"], "abuse~snort_1767225600_tcp_1.1.1.1_-_5.196.58.96_443_deny");
  EXPECT_EQ(e["description"], "suspicious IP 1.1.1.1, listed in Global Threat Feed abuse, connected to -/-");
  EXPECT_EQ(e["record"].as_object()["feeds"], (json::array{"abuse", "snort"}));
  EXPECT_EQ(e["record"].as_object()["suspicious_prefix"], "1.1.1.0/24");
}

TEST(FlowEventTest, NoMatchAndUnusableAddresses) {
  json::object flow = Obj(kSeedFlow);
  flow["dest_ip"] = "5.196.58.97";
  EXPECT_FALSE(MatchFlow(*SnortIndex(), flow));
  flow["dest_ip"] = nullptr;  // aggregated away
  EXPECT_FALSE(MatchFlow(*SnortIndex(), flow));
  flow["dest_ip"] = "not an ip";
  EXPECT_FALSE(MatchFlow(*SnortIndex(), flow));
  EXPECT_FALSE(MatchFlow(*ThreatIndex::Empty(), Obj(kSeedFlow)));
}

TEST(FlowEventTest, BatchMatchesLikeOneByOne) {
  std::vector<json::object> flows;
  for (int i = 0; i < 300; ++i) {
    json::object f = Obj(kSeedFlow);
    f["dest_ip"] = "5.196.58." + std::to_string(i % 256);
    if (i == 7) f["source_ip"] = "2001:db8::1";
    if (i == 8) f["dest_ip"] = nullptr;
    flows.push_back(std::move(f));
  }
  auto index = ThreatIndex::Build({
      {FeedSet::FromEntries("snort", Content::kIPSet, "5.196.58.96/32\n5.196.58.10/31\n2001:db8::/64\n"), false}});
  auto hits = MatchFlows(*index, flows);
  std::vector<size_t> got, expected;
  for (const auto& [i, hit] : hits) got.push_back(i);
  for (size_t i = 0; i < flows.size(); ++i)
    if (MatchFlow(*index, flows[i])) expected.push_back(i);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected, (std::vector<size_t>{7, 10, 11, 96, 266, 267}));
}

// A DNS log as the DNS log builder writes it (§6.2).
json::object DnsLog(std::string_view qname, std::string_view rrsets = "[]") {
  json::object r = Obj(R"({
    "start_time": "2026-01-01T00:00:10.250Z", "end_time": "2026-01-01T00:00:25Z", "type": "log", "count": 1,
    "client_ip": "10.244.0.5", "client_name": "tf-ubuntu", "client_name_aggr": "tf-ubuntu",
    "client_namespace": "default", "client_labels": {"app": "tf-ubuntu"},
    "qtype": "A", "qclass": "IN", "rcode": "NoError", "servers": [], "host": "node", "id": "d1"})");
  r["qname"] = qname;
  r["rrsets"] = json::parse(rrsets);
  return r;
}

std::shared_ptr<const ThreatIndex> DomainIndex(bool subdomains) {
  return ThreatIndex::Build({{FeedSet::FromDomains("baddomains", {"evil.com", "c2.example"}), subdomains}});
}

TEST(DnsEventTest, QnameExactJson) {
  json::object dns = DnsLog("Evil.com");
  std::vector<DnsHit> hits = MatchDns(*DomainIndex(false), dns);
  ASSERT_EQ(hits.size(), 1u);
  json::object e = BuildDnsEvent(dns, hits[0], kNow);
  json::object expected = Obj(R"({
    "id": "baddomains_1767225610_10.244.0.5_evil.com",
    "time": 1767225700,
    "type": "gtf_suspicious_dns_query",
    "description": "default/tf-ubuntu queried the domain name evil.com from global threat feed(s) baddomains",
    "severity": 100,
    "origin": "Suspicious DNS Query",
    "name": "Suspicious DNS Query",
    "attack_vector": "Network",
    "mitre_tactic": "Exfiltration",
    "mitre_ids": ["T1041"],
    "mitigations": ["Create a global network policy to prevent traffic from this IP address"],
    "source_ip": "10.244.0.5",
    "source_namespace": "default",
    "source_name": "tf-ubuntu",
    "source_name_aggr": "tf-ubuntu",
    "source_labels": {"app": "tf-ubuntu"},
    "record": {"dns_log_id": "d1", "feeds": ["baddomains"], "suspicious_domains": ["evil.com"]}
  })");
  EXPECT_EQ(e, expected) << json::serialize(e);
}

TEST(DnsEventTest, SubdomainOnlyWhenTheFeedAsks) {
  json::object dns = DnsLog("www.evil.com");
  EXPECT_TRUE(MatchDns(*DomainIndex(false), dns).empty());
  std::vector<DnsHit> hits = MatchDns(*DomainIndex(true), dns);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].kind, DnsHitKind::kQname);
  EXPECT_EQ(hits[0].domains, (std::vector<std::string>{"www.evil.com"}));
  EXPECT_EQ(BuildDnsEvent(dns, hits[0], kNow)["id"], "baddomains_1767225610_10.244.0.5_www.evil.com");
}

TEST(DnsEventTest, RrsetNameBeatsRdata) {
  json::object dns = DnsLog("innocent.org", R"([
      {"name": "innocent.org", "class": "IN", "type": "CNAME", "rdata": ["c2.example"]},
      {"name": "evil.com", "class": "IN", "type": "A", "rdata": ["1.2.3.4"]}])");
  std::vector<DnsHit> hits = MatchDns(*DomainIndex(false), dns);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].kind, DnsHitKind::kRrsetName);
  json::object e = BuildDnsEvent(dns, hits[0], kNow);
  EXPECT_EQ(e["description"],
            "A request originating from default/tf-ubuntu queried the domain name evil.com, which is listed in the "
            "threat feed baddomains");
  EXPECT_EQ(e["record"].as_object()["suspicious_domains"], json::array{"evil.com"});
}

TEST(DnsEventTest, RdataHitAndAggregatedClient) {
  json::object dns = DnsLog("innocent.org", R"([
      {"name": "innocent.org", "class": "IN", "type": "CNAME", "rdata": ["evil.com", "c2.example."]}])");
  dns["client_name"] = "-";
  dns["client_name_aggr"] = "nginx-86c57db685-*";
  dns["client_ip"] = nullptr;
  std::vector<DnsHit> hits = MatchDns(*DomainIndex(false), dns);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].kind, DnsHitKind::kRdata);
  json::object e = BuildDnsEvent(dns, hits[0], kNow);
  EXPECT_EQ(e["description"],
            "default/nginx-86c57db685-* got DNS query results including suspicious domain(s) c2.example, evil.com "
            "from global threat feed(s) baddomains");
  EXPECT_EQ(e["id"], "baddomains_1767225610_-_c2.example~evil.com");
  EXPECT_EQ(e["source_name"], "-");
  EXPECT_EQ(e["source_name_aggr"], "nginx-86c57db685-*");
  EXPECT_FALSE(e.contains("source_ip"));
}

TEST(DnsEventTest, FeedsMatchingDifferentlyGetTheirOwnEvents) {
  auto index = ThreatIndex::Build({
      {FeedSet::FromDomains("a", {"x.org"}), false},
      {FeedSet::FromDomains("b", {"evil.com", "x.org"}), false},
      {FeedSet::FromDomains("c", {"evil.com"}), false},
  });
  json::object dns = DnsLog("x.org", R"([{"name": "x.org", "class": "IN", "type": "CNAME", "rdata": ["evil.com"]}])");
  std::vector<DnsHit> hits = MatchDns(*index, dns);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].kind, DnsHitKind::kQname);
  EXPECT_EQ(hits[0].feeds, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(hits[1].kind, DnsHitKind::kRdata);
  EXPECT_EQ(hits[1].feeds, (std::vector<std::string>{"c"}));
  EXPECT_EQ(hits[1].domains, (std::vector<std::string>{"evil.com"}));
}

TEST(DnsEventTest, StartTimeForms) {
  EXPECT_EQ(StartTimeUnix(Obj(R"({"start_time": "2026-01-01T00:00:10.999Z"})")), 1767225610);
  EXPECT_EQ(StartTimeUnix(Obj(R"({"start_time": 1767225610})")), 1767225610);
  EXPECT_EQ(StartTimeUnix(Obj(R"({"start_time": 1767225610.7})")), 1767225610);
  EXPECT_EQ(StartTimeUnix(Obj(R"({})")), 0);
}

}  // namespace
}  // namespace tw::detect
