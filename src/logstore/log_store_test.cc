#include "logstore/log_store.h"

#include <gtest/gtest.h>

#include "base/test_temp_dir.h"
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "logstore/log_tables.h"

namespace tw::logstore {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::seconds;

using tw::testing::TempDir;

// FakeClock's epoch (2026-01-01T00:00:00Z) in Unix seconds.
constexpr int64_t kT0 = 1767225600;

json::object Flow(int64_t end_time, std::string src_ns, std::string src_name, std::string dst_ip,
                  std::string action = "allow") {
  return json::object{
      {"start_time", end_time - 15},
      {"end_time", end_time},
      {"source_ip", "10.244.0.5"},
      {"source_name", src_name},
      {"source_name_aggr", src_name},
      {"source_namespace", src_ns},
      {"source_type", "wep"},
      {"source_port", nullptr},
      {"dest_ip", dst_ip},
      {"dest_name", "-"},
      {"dest_name_aggr", "pub"},
      {"dest_namespace", "-"},
      {"dest_type", "net"},
      {"dest_port", 443},
      {"proto", "tcp"},
      {"action", action},
      {"reporter", "src"},
      {"policies", json::object{{"all_policies", json::array{"0|security|security.block-snort|deny|0"}},
                                {"enforced_policies", json::array{"0|security|security.block-snort|deny|0"}},
                                {"pending_policies", json::array{}}}},
      {"bytes_in", 0},
      {"bytes_out", 120},
      {"packets_in", 0},
      {"packets_out", 2},
      {"num_flows", 1},
  };
}

json::object Dns(int64_t end_time, std::string ns, std::string name, std::string qname,
                 std::string rcode = "NoError") {
  return json::object{
      {"start_time", end_time - 15},
      {"end_time", end_time},
      {"client_ip", "10.244.0.7"},
      {"client_name", name},
      {"client_name_aggr", name},
      {"client_namespace", ns},
      {"qname", qname},
      {"qtype", "A"},
      {"qclass", "IN"},
      {"rcode", rcode},
      {"rrsets", json::array{json::object{{"name", qname}, {"class", "IN"}, {"type", "A"},
                                          {"rdata", json::array{"5.196.58.96"}}}}},
      {"servers", json::array{json::object{{"ip", "10.96.0.10"}, {"name", "kube-dns"}}}},
      {"latency", json::object{{"count", 1}, {"mean", 1000}, {"max", 1000}}},
  };
}

json::object Event(std::string id, int64_t time, std::string type = "gtf_suspicious_flow",
                   std::string feed = "snort") {
  return json::object{
      {"id", id},
      {"time", time},
      {"type", type},
      {"description", "pod default/tf-ubuntu connected to suspicious IP 5.196.58.96"},
      {"severity", 100},
      {"origin", type == "gtf_suspicious_flow" ? "Suspicious Flow" : "Suspicious DNS Query"},
      {"source_ip", "10.244.0.5"},
      {"source_namespace", "default"},
      {"source_name", "tf-ubuntu"},
      {"dest_ip", "5.196.58.96"},
      {"dest_namespace", "-"},
      {"dest_name", "-"},
      {"record", json::object{{"flow_action", "deny"}, {"feeds", json::array{feed}},
                              {"suspicious_prefix", "5.196.58.96/32"}}},
  };
}

class LogStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/logs.db"; }

  LogStoreOptions Options() {
    LogStoreOptions o;
    o.clock = &clock_;
    return o;
  }

  std::unique_ptr<LogStore> OpenStore(const LogStoreOptions& options) {
    auto s = LogStore::Open(DbPath(), options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  void SetUp() override { store_ = OpenStore(Options()); ASSERT_NE(store_, nullptr); }

  std::vector<json::object> Flows(const LogQuery& q) {
    auto r = store_->QueryFlows(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<json::object>();
  }

  static LogQuery Where(std::string field, std::string value) {
    LogQuery q;
    q.where[std::move(field)] = std::move(value);
    return q;
  }

  static std::vector<int64_t> EndTimes(const std::vector<json::object>& docs) {
    std::vector<int64_t> out;
    for (const auto& d : docs) out.push_back(d.at("end_time").as_int64());
    return out;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<LogStore> store_;
};

TEST_F(LogStoreTest, AppendReturnsConsecutiveIdsAndQueryReturnsDocumentsNewestFirst) {
  std::vector<json::object> batch = {Flow(kT0 + 1, "default", "a", "1.1.1.1"),
                                     Flow(kT0 + 3, "default", "b", "1.1.1.2"),
                                     Flow(kT0 + 2, "default", "c", "1.1.1.3")};
  auto first = store_->AppendFlows(batch);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 1);
  auto second = store_->AppendFlows(std::vector<json::object>{Flow(kT0 + 3, "default", "d", "1.1.1.4")});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 4);
  auto empty = store_->AppendFlows({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0);

  auto all = Flows(LogQuery());
  ASSERT_EQ(all.size(), 4u);
  // Newest first; equal times: the later id first.
  EXPECT_EQ(all[0].at("source_name").as_string(), "d");
  EXPECT_EQ(all[1].at("source_name").as_string(), "b");
  EXPECT_EQ(all[2].at("source_name").as_string(), "c");
  EXPECT_EQ(all[3].at("source_name").as_string(), "a");
  // The stored document comes back whole, Calico's field names included.
  EXPECT_EQ(all[3], batch[0]);
}

TEST_F(LogStoreTest, EveryFlowEqualityFilter) {
  json::object odd = Flow(kT0, "other-ns", "other-pod", "9.9.9.9", "deny");
  odd["reporter"] = "dst";
  odd["proto"] = "udp";
  odd["source_ip"] = "10.244.0.99";
  odd["dest_namespace"] = "web";
  odd["dest_name"] = "nginx";
  odd["dest_port"] = 53;
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{Flow(kT0, "default", "a", "1.1.1.1"), odd,
                                                            Flow(kT0, "default", "b", "1.1.1.1")})
                  .ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"action", "deny"},           {"reporter", "dst"},        {"proto", "udp"},
      {"source_ip", "10.244.0.99"}, {"source_namespace", "other-ns"}, {"source_name", "other-pod"},
      {"dest_ip", "9.9.9.9"},       {"dest_namespace", "web"},  {"dest_name", "nginx"},
      {"dest_port", "53"},
  };
  for (const auto& [field, value] : cases) {
    auto got = Flows(Where(field, value));
    ASSERT_EQ(got.size(), 1u) << field;
    EXPECT_EQ(got[0], odd) << field;
    EXPECT_TRUE(Flows(Where(field, value + "x")).empty()) << field;
  }
  // Filters combine with AND.
  LogQuery q = Where("action", "allow");
  q.where["source_name"] = "b";
  auto got = Flows(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("source_name").as_string(), "b");
}

TEST_F(LogStoreTest, PodFilterMatchesSourceOrDestination) {
  json::object inbound = Flow(kT0 + 2, "web", "client", "10.244.0.9");
  inbound["dest_namespace"] = "default";
  inbound["dest_name"] = "tf-ubuntu";
  json::object same_name_other_ns = Flow(kT0 + 3, "kube-system", "tf-ubuntu", "1.1.1.1");
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{Flow(kT0 + 1, "default", "tf-ubuntu", "5.196.58.96"),
                                                            inbound, same_name_other_ns,
                                                            Flow(kT0 + 4, "default", "other", "1.1.1.1")})
                  .ok());
  auto got = Flows(Where("pod", "default/tf-ubuntu"));
  EXPECT_EQ(EndTimes(got), (std::vector<int64_t>{kT0 + 2, kT0 + 1}));

  auto ns = Flows(Where("namespace", "default"));
  EXPECT_EQ(EndTimes(ns), (std::vector<int64_t>{kT0 + 4, kT0 + 2, kT0 + 1}));
}

TEST_F(LogStoreTest, PolicyFilterIsASubstringOfOneHit) {
  json::object allowed = Flow(kT0, "default", "a", "1.1.1.1");
  allowed["policies"].as_object()["all_policies"] =
      json::array{"0|default|default.allow-dns|allow|0", "1|default|default.allow-web|allow|2"};
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{Flow(kT0, "default", "denied", "5.196.58.96", "deny"),
                                                            allowed})
                  .ok());
  auto got = Flows(Where("policy", "security.block-snort"));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("source_name").as_string(), "denied");
  EXPECT_EQ(Flows(Where("policy", "default.allow-web|allow")).size(), 1u);
  EXPECT_EQ(Flows(Where("policy", "|allow|")).size(), 1u);
  // A match never spans two hits.
  EXPECT_TRUE(store_->QueryFlows(Where("policy", "allow|0\n1|default")).status().IsInvalidArgument());
  EXPECT_TRUE(Flows(Where("policy", "no-such-policy")).empty());
}

TEST_F(LogStoreTest, BadQueriesNameTheFieldAndReason) {
  auto unknown = store_->QueryFlows(Where("qname", "x"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  EXPECT_NE(unknown.status().message().find("flow log query: where.qname: unknown field (known: action"),
            std::string::npos)
      << unknown.status().message();

  auto pod = store_->QueryFlows(Where("pod", "tf-ubuntu"));
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.status().message(), "flow log query: where.pod: \"tf-ubuntu\": must be NAMESPACE/NAME");
  EXPECT_FALSE(store_->QueryFlows(Where("pod", "a/b/c")).ok());
  EXPECT_FALSE(store_->QueryFlows(Where("pod", "/b")).ok());
  EXPECT_FALSE(store_->QueryFlows(Where("policy", "")).ok());

  LogQuery zero;
  zero.limit = 0;
  auto limit = store_->QueryFlows(zero);
  ASSERT_FALSE(limit.ok());
  EXPECT_EQ(limit.status().message(), "flow log query: limit: 0: must be between 1 and 100000");
  zero.limit = kMaxQueryLimit + 1;
  EXPECT_FALSE(store_->QueryFlows(zero).ok());

  EXPECT_FALSE(store_->QueryDns(Where("action", "deny")).ok());
  auto dismissed = store_->QueryEvents(Where("dismissed", "yes"));
  ASSERT_FALSE(dismissed.ok());
  EXPECT_EQ(dismissed.status().message(), "event query: where.dismissed: \"yes\": must be true or false");
}

TEST_F(LogStoreTest, TimeRangeIsSinceInclusiveUntilExclusive) {
  std::vector<json::object> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Flow(kT0 + i, "default", "p", "1.1.1.1"));
  ASSERT_TRUE(store_->AppendFlows(batch).ok());
  const TimePoint t0 = clock_.Now();
  LogQuery q;
  q.since = t0 + seconds(3);
  q.until = t0 + seconds(7);
  EXPECT_EQ(EndTimes(Flows(q)), (std::vector<int64_t>{kT0 + 6, kT0 + 5, kT0 + 4, kT0 + 3}));
  LogQuery since_only;
  since_only.since = t0 + seconds(8);
  EXPECT_EQ(EndTimes(Flows(since_only)), (std::vector<int64_t>{kT0 + 9, kT0 + 8}));
  LogQuery until_only;
  until_only.until = t0 + seconds(2);
  EXPECT_EQ(EndTimes(Flows(until_only)), (std::vector<int64_t>{kT0 + 1, kT0}));
  LogQuery empty;
  empty.since = t0 + seconds(5);
  empty.until = t0 + seconds(5);
  EXPECT_TRUE(Flows(empty).empty());
}

TEST_F(LogStoreTest, LimitKeepsTheNewest) {
  std::vector<json::object> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(Flow(kT0 + (i * 7) % 50, "default", "p", "1.1.1.1"));
  ASSERT_TRUE(store_->AppendFlows(batch).ok());
  LogQuery q;
  q.limit = 3;
  EXPECT_EQ(EndTimes(Flows(q)), (std::vector<int64_t>{kT0 + 49, kT0 + 48, kT0 + 47}));
  EXPECT_EQ(Flows(LogQuery()).size(), 50u);
}

TEST(LogTablesTest, TimeComesFromEndTimeThenStartTimeInSecondsOrRfc3339) {
  EXPECT_EQ(ExtractTimeMs(FlowTable(), json::object{{"start_time", 10}, {"end_time", 25}}), 25000);
  EXPECT_EQ(ExtractTimeMs(FlowTable(), json::object{{"start_time", 10}, {"end_time", nullptr}}), 10000);
  EXPECT_EQ(ExtractTimeMs(FlowTable(), json::object{{"end_time", 1.5}}), 1500);
  EXPECT_EQ(ExtractTimeMs(DnsTable(), json::object{{"end_time", "2026-01-01T00:00:01Z"}}), (kT0 + 1) * 1000);
  // ParseRfc3339 keeps whole seconds.
  EXPECT_EQ(ExtractTimeMs(DnsTable(), json::object{{"end_time", "2026-01-01T01:00:01.75+01:00"}}),
            (kT0 + 1) * 1000);
  EXPECT_EQ(ExtractTimeMs(EventTable(), json::object{{"time", kT0}}), kT0 * 1000);
  EXPECT_EQ(ExtractTimeMs(FlowTable(), json::object{{"end_time", "yesterday"}}), std::nullopt);
  EXPECT_EQ(ExtractTimeMs(FlowTable(), json::object{}), std::nullopt);
}

TEST_F(LogStoreTest, RecordWithoutTimeGetsTheAppendTime) {
  json::object untimed = Flow(0, "default", "p", "1.1.1.1");
  untimed.erase("start_time");
  untimed.erase("end_time");
  clock_.Advance(hours(1));
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{untimed}).ok());
  LogQuery q;
  q.since = clock_.Now();
  q.until = clock_.Now() + std::chrono::milliseconds(1);
  EXPECT_EQ(Flows(q).size(), 1u);
}

TEST_F(LogStoreTest, DnsFiltersAndPod) {
  ASSERT_TRUE(store_->AppendDns(std::vector<json::object>{Dns(kT0 + 1, "default", "tf-ubuntu", "evil.example"),
                                                          Dns(kT0 + 2, "web", "nginx", "good.example", "NXDomain"),
                                                          Dns(kT0 + 3, "default", "other", "good.example")})
                  .ok());
  auto dns = [&](const LogQuery& q) {
    auto r = store_->QueryDns(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? EndTimes(*r) : std::vector<int64_t>();
  };
  EXPECT_EQ(dns(LogQuery()), (std::vector<int64_t>{kT0 + 3, kT0 + 2, kT0 + 1}));
  EXPECT_EQ(dns(Where("qname", "good.example")), (std::vector<int64_t>{kT0 + 3, kT0 + 2}));
  EXPECT_EQ(dns(Where("client_namespace", "default")), (std::vector<int64_t>{kT0 + 3, kT0 + 1}));
  EXPECT_EQ(dns(Where("client_name", "nginx")), (std::vector<int64_t>{kT0 + 2}));
  EXPECT_EQ(dns(Where("rcode", "NXDomain")), (std::vector<int64_t>{kT0 + 2}));
  EXPECT_EQ(dns(Where("qtype", "A")).size(), 3u);
  EXPECT_EQ(dns(Where("client_ip", "10.244.0.7")).size(), 3u);
  EXPECT_EQ(dns(Where("pod", "default/tf-ubuntu")), (std::vector<int64_t>{kT0 + 1}));
  auto docs = store_->QueryDns(Where("pod", "default/tf-ubuntu"));
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ((*docs)[0], Dns(kT0 + 1, "default", "tf-ubuntu", "evil.example"));
}

TEST_F(LogStoreTest, EventsAreDedupedById) {
  auto first = store_->PutEvent(Event("snort_1_tcp_a", kT0));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  json::object again = Event("snort_1_tcp_a", kT0 + 60);
  again["description"] = "changed";
  auto second = store_->PutEvent(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  auto all = store_->QueryEvents(LogQuery());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  json::object expected = Event("snort_1_tcp_a", kT0);
  expected["dismissed"] = false;
  EXPECT_EQ((*all)[0], expected);

  auto missing_id = store_->PutEvent(json::object{{"type", "gtf_suspicious_flow"}});
  ASSERT_FALSE(missing_id.ok());
  EXPECT_EQ(missing_id.status().message(), "event: id: must be a non-empty string");
  EXPECT_FALSE(store_->PutEvent(json::object{{"id", ""}}).ok());
  EXPECT_FALSE(store_->PutEvent(json::object{{"id", 7}}).ok());
}

TEST_F(LogStoreTest, DismissSetsTheFlagAndSurvivesARepeatedPut) {
  ASSERT_TRUE(store_->PutEvent(Event("e1", kT0)).ok());
  ASSERT_TRUE(store_->PutEvent(Event("e2", kT0 + 1)).ok());
  Status missing = store_->DismissEvent("nope");
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_EQ(missing.message(), "event \"nope\": not found");
  ASSERT_TRUE(store_->DismissEvent("e1").ok());
  ASSERT_TRUE(store_->DismissEvent("e1").ok());  // idempotent

  auto e1 = store_->GetEvent("e1");
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(e1->at("dismissed"), json::value(true));
  auto e2 = store_->GetEvent("e2");
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->at("dismissed"), json::value(false));
  EXPECT_TRUE(store_->GetEvent("nope").status().IsNotFound());

  // The detector seeing the flow again must not undo the dismissal (unlike
  // Calico, whose re-send overwrites the document).
  auto again = store_->PutEvent(Event("e1", kT0));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto dismissed = store_->QueryEvents(Where("dismissed", "true"));
  ASSERT_TRUE(dismissed.ok());
  ASSERT_EQ(dismissed->size(), 1u);
  EXPECT_EQ((*dismissed)[0].at("id").as_string(), "e1");
  auto open = store_->QueryEvents(Where("dismissed", "false"));
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].at("id").as_string(), "e2");

  // An event put already dismissed keeps the flag.
  json::object pre = Event("e3", kT0);
  pre["dismissed"] = true;
  ASSERT_TRUE(store_->PutEvent(pre).ok());
  EXPECT_EQ(store_->GetEvent("e3")->at("dismissed"), json::value(true));
}

TEST_F(LogStoreTest, EveryEventFilter) {
  json::object dns = Event("d1", kT0 + 2, "gtf_suspicious_dns_query", "malware-domains");
  dns["source_namespace"] = "web";
  dns["source_name"] = "nginx";
  dns.erase("dest_ip");
  dns.erase("dest_namespace");
  dns.erase("dest_name");
  json::object multi = Event("f2", kT0 + 3);
  multi["record"].as_object()["feeds"] = json::array{"feodo", "snort"};
  multi["dest_namespace"] = "db";
  multi["dest_name"] = "postgres";
  multi["source_namespace"] = "other";
  ASSERT_TRUE(store_->PutEvent(Event("f1", kT0 + 1)).ok());
  ASSERT_TRUE(store_->PutEvent(dns).ok());
  ASSERT_TRUE(store_->PutEvent(multi).ok());
  auto ids = [&](const LogQuery& q) {
    auto r = store_->QueryEvents(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& e : *r) out.emplace_back(e.at("id").as_string());
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(LogQuery()), (V{"f2", "d1", "f1"}));
  EXPECT_EQ(ids(Where("type", "gtf_suspicious_dns_query")), (V{"d1"}));
  EXPECT_EQ(ids(Where("origin", "Suspicious Flow")), (V{"f2", "f1"}));
  EXPECT_EQ(ids(Where("feed", "snort")), (V{"f2", "f1"}));
  EXPECT_EQ(ids(Where("feed", "feodo")), (V{"f2"}));
  EXPECT_EQ(ids(Where("feed", "sno")), V{});  // whole names only
  EXPECT_EQ(ids(Where("source_namespace", "web")), (V{"d1"}));
  EXPECT_EQ(ids(Where("source_name", "nginx")), (V{"d1"}));
  EXPECT_EQ(ids(Where("source_ip", "10.244.0.5")).size(), 3u);
  EXPECT_EQ(ids(Where("dest_ip", "5.196.58.96")), (V{"f2", "f1"}));
  EXPECT_EQ(ids(Where("dest_namespace", "db")), (V{"f2"}));
  EXPECT_EQ(ids(Where("dest_name", "postgres")), (V{"f2"}));
  EXPECT_EQ(ids(Where("pod", "db/postgres")), (V{"f2"}));
  EXPECT_EQ(ids(Where("pod", "default/tf-ubuntu")), (V{"f1"}));
  EXPECT_EQ(ids(Where("id", "d1")), (V{"d1"}));
  LogQuery range;
  range.since = clock_.Now() + seconds(2);
  range.until = clock_.Now() + seconds(3);
  EXPECT_EQ(ids(range), (V{"d1"}));
}

TEST_F(LogStoreTest, ForEachSinceStreamsOldestFirstAcrossPages) {
  constexpr int kRecords = 5000;  // more than two scan pages
  std::vector<json::object> batch;
  for (int i = 0; i < kRecords; ++i) batch.push_back(Flow(kT0 + i / 3, "default", "p" + std::to_string(i), "1.1.1.1"));
  ASSERT_TRUE(store_->AppendFlows(batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->ForEachFlowSince(clock_.Now() + seconds(100),
                                     [&](const json::object& f) {
                                       seen.emplace_back(f.at("source_name").as_string());
                                       return true;
                                     })
                  .ok());
  ASSERT_EQ(seen.size(), static_cast<size_t>(kRecords - 300));
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], "p" + std::to_string(300 + i));

  int count = 0;
  ASSERT_TRUE(store_->ForEachFlowSince(clock_.Now(), [&](const json::object&) { return ++count < 10; }).ok());
  EXPECT_EQ(count, 10);

  ASSERT_TRUE(store_->AppendDns(std::vector<json::object>{Dns(kT0 + 5, "d", "a", "x.example"),
                                                          Dns(kT0 + 9, "d", "b", "y.example")})
                  .ok());
  std::vector<std::string> qnames;
  ASSERT_TRUE(store_
                  ->ForEachDnsSince(clock_.Now() + seconds(6),
                                    [&](const json::object& d) {
                                      qnames.emplace_back(d.at("qname").as_string());
                                      return true;
                                    })
                  .ok());
  EXPECT_EQ(qnames, std::vector<std::string>{"y.example"});
}

TEST_F(LogStoreTest, RetentionByAge) {
  const int64_t now = kT0 + 10 * 24 * 3600;
  clock_.Set(std::chrono::system_clock::time_point(seconds(now)));
  const int64_t old = now - 8 * 24 * 3600;
  const int64_t young = now - 6 * 24 * 3600;
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{Flow(old, "d", "old", "1.1.1.1"),
                                                            Flow(young, "d", "young", "1.1.1.1")})
                  .ok());
  ASSERT_TRUE(store_->AppendDns(std::vector<json::object>{Dns(old, "d", "old", "a.example"),
                                                          Dns(young, "d", "young", "a.example")})
                  .ok());
  ASSERT_TRUE(store_->PutEvent(Event("old", old)).ok());
  ASSERT_TRUE(store_->PutEvent(Event("young", young)).ok());

  auto report = store_->Enforce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->flows_deleted, 1);
  EXPECT_EQ(report->dns_deleted, 1);
  EXPECT_EQ(report->events_deleted, 1);
  auto flows = Flows(LogQuery());
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].at("source_name").as_string(), "young");
  EXPECT_EQ(store_->QueryDns(LogQuery())->size(), 1u);
  EXPECT_TRUE(store_->GetEvent("old").status().IsNotFound());
  EXPECT_TRUE(store_->GetEvent("young").ok());

  // Two more days: the young ones age out too.
  clock_.Advance(hours(48));
  ASSERT_TRUE(store_->Enforce().ok());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->flows + stats->dns + stats->events, 0);
}

TEST_F(LogStoreTest, RetentionBySizeDeletesTheOldestLogsButKeepsOpenEvents) {
  LogStoreOptions o = Options();
  o.max_bytes = 2 << 20;
  o.delete_batch = 1000;
  store_.reset();
  store_ = OpenStore(o);
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->PutEvent(Event("open", kT0)).ok());
  json::object closed = Event("closed", kT0);
  closed["dismissed"] = true;
  ASSERT_TRUE(store_->PutEvent(closed).ok());

  uint64_t peak_data = 0;
  uint64_t peak_file = 0;
  int64_t next = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<json::object> flows;
    for (int i = 0; i < 4000; ++i, ++next) flows.push_back(Flow(kT0 + next, "d", "p" + std::to_string(next), "1.1.1.1"));
    ASSERT_TRUE(store_->AppendFlows(flows).ok());
    std::vector<json::object> dns;
    for (int i = 0; i < 1000; ++i) dns.push_back(Dns(kT0 + next - 2000 + i, "d", "c", "q.example"));
    ASSERT_TRUE(store_->AppendDns(dns).ok());
    auto before = store_->Stats();
    ASSERT_TRUE(before.ok());
    EXPECT_GT(before->data_bytes, o.max_bytes);  // each round overfills

    auto report = store_->Enforce();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_GT(report->flows_deleted, 0);
    auto after = store_->Stats();
    ASSERT_TRUE(after.ok());
    EXPECT_LE(after->data_bytes, o.max_bytes);
    EXPECT_GT(after->data_bytes, o.max_bytes / 2);  // not everything went
    // Freed pages are reused: the file never holds much more than the
    // most data it ever had to.
    peak_data = std::max(peak_data, before->data_bytes);
    peak_file = std::max(peak_file, after->file_bytes);
    EXPECT_LE(after->file_bytes, peak_data + peak_data / 8) << "round " << round;
  }
  // The newest flow survives, the oldest are gone.
  LogQuery newest;
  newest.limit = 1;
  EXPECT_EQ(Flows(newest)[0].at("end_time").as_int64(), kT0 + next - 1);
  EXPECT_TRUE(Flows(Where("source_name", "p0")).empty());
  // Undismissed events are never deleted for size; dismissed ones go once
  // the logs are gone and the data is still too big.
  EXPECT_TRUE(store_->GetEvent("open").ok());

  LogStoreOptions tiny = o;
  tiny.max_bytes = 1;
  store_.reset();
  store_ = OpenStore(tiny);
  ASSERT_NE(store_, nullptr);
  auto report = store_->Enforce();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->events_deleted, 1);
  EXPECT_TRUE(store_->GetEvent("open").ok());
  EXPECT_TRUE(store_->GetEvent("closed").status().IsNotFound());
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->flows + stats->dns, 0);
  EXPECT_GT(report->bytes_vacuumed, 0);  // the emptied file shrank
  EXPECT_LT(stats->file_bytes, peak_file / 2);
}

TEST_F(LogStoreTest, ReopenKeepsEverything) {
  ASSERT_TRUE(store_->AppendFlows(std::vector<json::object>{Flow(kT0, "default", "a", "1.1.1.1")}).ok());
  ASSERT_TRUE(store_->AppendDns(std::vector<json::object>{Dns(kT0, "default", "a", "x.example")}).ok());
  ASSERT_TRUE(store_->PutEvent(Event("e1", kT0)).ok());
  ASSERT_TRUE(store_->DismissEvent("e1").ok());

  // One process per file.
  auto second = LogStore::Open(DbPath(), Options());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsUnavailable()) << second.status().ToString();

  store_.reset();
  store_ = OpenStore(Options());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Flows(LogQuery()), std::vector<json::object>{Flow(kT0, "default", "a", "1.1.1.1")});
  EXPECT_EQ(store_->QueryDns(LogQuery())->size(), 1u);
  EXPECT_EQ(store_->GetEvent("e1")->at("dismissed"), json::value(true));
  // Ids keep counting.
  auto id = store_->AppendFlows(std::vector<json::object>{Flow(kT0, "default", "b", "1.1.1.1")});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 2);
}

TEST(LogStoreOpenTest, UnreadableFilesAreClearErrorsNamingThePath) {
  TempDir dir;
  const std::string garbage = dir.path() + "/garbage.db";
  {
    std::ofstream out(garbage);
    out << std::string(8192, 'x');
  }
  auto r = LogStore::Open(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIoError());
  EXPECT_NE(r.status().message().find(garbage), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("not a database"), std::string::npos) << r.status().message();

  // The resource store's file is not a log database.
  const std::string other = dir.path() + "/other.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE objects(x); PRAGMA user_version = 1;", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto o = LogStore::Open(other);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().message(), other + ": not a threatwall log database (tables missing)");

  auto missing_dir = LogStore::Open(dir.path() + "/no/such/dir/logs.db");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_NE(missing_dir.status().message().find(dir.path() + "/no/such/dir/logs.db"), std::string::npos);

  LogStoreOptions bad;
  bad.max_age = seconds(0);
  EXPECT_TRUE(LogStore::Open(dir.path() + "/x.db", bad).status().IsInvalidArgument());
}

TEST_F(LogStoreTest, ConcurrentAppendAndQuery) {
  constexpr int kBatches = 50;
  constexpr int kPerBatch = 100;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<json::object> batch;
      for (int i = 0; i < kPerBatch; ++i) batch.push_back(Flow(kT0 + b, "default", "p", "1.1.1.1"));
      if (!store_->AppendFlows(batch).ok()) ++failures;
    }
    done = true;
  });
  size_t last = 0;
  int queries = 0;
  while (!done || queries == 0) {
    LogQuery q;
    q.limit = kMaxQueryLimit;
    auto r = store_->QueryFlows(q);
    if (!r.ok()) {
      ++failures;
      break;
    }
    // Whole batches only (one transaction each), never fewer than before.
    EXPECT_EQ(r->size() % kPerBatch, 0u);
    EXPECT_GE(r->size(), last);
    last = r->size();
    ++queries;
  }
  writer.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Flows([] {
              LogQuery q;
              q.limit = kMaxQueryLimit;
              return q;
            }())
                .size(),
            static_cast<size_t>(kBatches * kPerBatch));
}

}  // namespace
}  // namespace tw::logstore
