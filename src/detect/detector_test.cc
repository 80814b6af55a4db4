#include "detect/detector.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "base/test_temp_dir.h"
#include "feeds/controller/feed_data.h"
#include "model/kinds.h"
#include "store/mem_store.h"

namespace tw::detect {
namespace {

namespace json = boost::json;
using feeds::Content;
using std::chrono::seconds;

constexpr std::string_view kSeedFlow = R"({
  "start_time": 1767225600, "end_time": 1767225615,
  "source_ip": "10.244.0.5", "source_port": null, "source_name": "tf-ubuntu",
  "source_name_aggr": "tf-ubuntu", "source_namespace": "default", "source_type": "wep",
  "source_labels": {"labels": ["app=tf-ubuntu"]},
  "dest_ip": "5.196.58.96", "dest_port": 443, "dest_name": "-", "dest_name_aggr": "pub",
  "dest_namespace": "-", "dest_type": "net", "dest_labels": null,
  "proto": "tcp", "action": "deny", "reporter": "src",
  "policies": {"all_policies": ["0|security|security.block-snort|deny|0"]},
  "bytes_in": 0, "bytes_out": 180, "packets_in": 0, "packets_out": 3,
  "num_flows": 1, "num_flows_started": 1, "num_flows_completed": 0,
  "host": "node", "id": "5f0c6a1e2b3d4c5e"
})";

json::object SeedFlow(int64_t start = 1767225600) {
  json::object f = json::parse(kSeedFlow).as_object();
  f["start_time"] = start;
  f["end_time"] = start + 15;
  f["id"] = "flow-" + std::to_string(start);
  return f;
}

json::object DnsLog(std::string_view qname, std::string_view id = "dns-1") {
  json::object r = json::parse(R"({
    "start_time": "2026-01-01T00:00:10Z", "end_time": "2026-01-01T00:00:25Z", "type": "log", "count": 1,
    "client_ip": "10.244.0.5", "client_name": "tf-ubuntu", "client_name_aggr": "tf-ubuntu",
    "client_namespace": "default", "client_labels": {"app": "tf-ubuntu"},
    "qtype": "A", "qclass": "IN", "rcode": "NoError", "rrsets": [], "servers": []})").as_object();
  r["qname"] = qname;
  r["id"] = id;
  return r;
}

class DetectorTest : public ::testing::Test {
 protected:
  DetectorTest() {
    logstore::LogStoreOptions o;
    o.clock = &clock_;
    o.check_integrity_on_open = false;
    logs_ = std::move(logstore::LogStore::Open(dir_.path() + "/logs.db", o).value());
  }
  ~DetectorTest() override {
    if (detector_) detector_->Stop();
  }

  void NewDetector(DetectorOptions options = {}) {
    detector_ = std::make_unique<Detector>(store_, *logs_, clock_, options,
                                           [this](const json::object& e) { sunk_.push_back(e); });
    Status s = detector_->Load();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void Step() {
    Status s = detector_->Step();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Creates or replaces a GlobalThreatFeed, keeping its stored status (as
  // the API does for spec writes).
  void PutFeed(const std::string& name, std::string_view content = "IPSet", std::string_view mode = "Enabled",
               json::object annotations = {}) {
    store::Key key{feed_kind_, "", name};
    auto current = store_.Get(key);
    json::object obj;
    obj["apiVersion"] = "projectcalico.org/v3";
    obj["kind"] = "GlobalThreatFeed";
    obj["metadata"] = json::object{{"name", name}, {"uid", "uid-" + name}, {"generation", 1},
                                   {"annotations", std::move(annotations)}};
    obj["spec"] = json::object{{"content", content}, {"mode", mode}};
    if (current.ok()) {
      json::object old = json::parse(current->value).as_object();
      if (old.contains("status")) obj["status"] = old["status"];
    }
    auto written = current.ok() ? store_.Update(key, json::serialize(obj), current->mod_revision)
                                : store_.Create(key, json::serialize(obj));
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  // Writes the feed's stored set as the feed controller does.
  void PutData(const std::string& name, const std::vector<std::string>& entries,
               Content content = Content::kIPSet) {
    store::Key key{std::string(feeds::kFeedDataKind), "", name};
    std::string text;
    for (const std::string& e : entries) text += e + "\n";
    feeds::FeedDataMeta meta;
    meta.feed = name;
    meta.feed_uid = "uid-" + name;
    meta.content = content;
    meta.version = ++versions_[name];
    meta.created_at = FormatRfc3339(clock_.Now());
    meta.count = entries.size();
    meta.sha256 = feeds::Sha256Hex(text);
    std::string value = feeds::EncodeFeedData(meta, text);
    auto current = store_.Get(key);
    auto written = current.ok() ? store_.Update(key, value, 0) : store_.Create(key, value);
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  json::object FeedStatus(const std::string& name) {
    auto r = store_.Get({feed_kind_, "", name});
    EXPECT_TRUE(r.ok());
    json::object f = json::parse(r->value).as_object();
    return f.contains("status") ? f["status"].as_object() : json::object();
  }

  void SetStatus(const std::string& name, json::object status) {
    store::Key key{feed_kind_, "", name};
    auto r = store_.Get(key);
    ASSERT_TRUE(r.ok());
    json::object f = json::parse(r->value).as_object();
    f["status"] = std::move(status);
    ASSERT_TRUE(store_.Update(key, json::serialize(f), r->mod_revision).ok());
  }

  // What the log pipeline does: store, then hand to the detector.
  void Flows(std::vector<json::object> flows) {
    ASSERT_TRUE(logs_->AppendFlows(flows).ok());
    detector_->OnFlows(flows);
  }
  void Dns(std::vector<json::object> records) {
    ASSERT_TRUE(logs_->AppendDns(records).ok());
    detector_->OnDns(records);
  }

  std::vector<json::object> Events() {
    auto r = logs_->QueryEvents({});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<json::object>();
  }
  std::vector<std::string> EventIds() {
    std::vector<std::string> ids;
    for (json::object& e : Events()) ids.emplace_back(e["id"].as_string());
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  tw::testing::TempDir dir_{"detect"};
  FakeClock clock_;
  store::MemStore store_;
  std::unique_ptr<logstore::LogStore> logs_;
  std::unique_ptr<Detector> detector_;
  std::vector<json::object> sunk_;
  std::map<std::string, int64_t> versions_;
  std::string feed_kind_ = model::FindKind("projectcalico.org/v3", "GlobalThreatFeed")->StoreKind();
};

TEST_F(DetectorTest, SeedFlowRaisesOneEventStoredAndSunkOnce) {
  PutFeed("snort");
  PutData("snort", {"5.196.58.96/32", "8.8.4.0/24"});
  NewDetector();
  Step();
  Flows({SeedFlow()});
  std::vector<json::object> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["id"], "snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny");
  EXPECT_EQ(events[0]["type"], "gtf_suspicious_flow");
  EXPECT_EQ(events[0]["source_name"], "tf-ubuntu");
  EXPECT_EQ(events[0]["source_namespace"], "default");
  EXPECT_EQ(events[0]["source_labels"], (json::object{{"labels", json::array{"app=tf-ubuntu"}}}));
  EXPECT_EQ(events[0]["record"].as_object()["suspicious_prefix"], "5.196.58.96/32");
  EXPECT_EQ(events[0]["record"].as_object()["flow_log_id"], "flow-1767225600");
  ASSERT_EQ(sunk_.size(), 1u);
  EXPECT_EQ(sunk_[0]["id"], events[0]["id"]);

  // The same flow record again (e.g. redelivered): no second event, no second sink call.
  detector_->OnFlows(std::vector<json::object>{SeedFlow()});
  EXPECT_EQ(Events().size(), 1u);
  EXPECT_EQ(sunk_.size(), 1u);
  DetectorStats st = detector_->stats();
  EXPECT_EQ(st.events_new, 1u);
  EXPECT_EQ(st.events_duplicate, 1u);
  EXPECT_EQ(st.flows_checked, 2u);
  EXPECT_EQ(st.feeds, 1u);
  EXPECT_EQ(st.ip_prefixes, 2u);

  // The next interval of the same connection is a new record: a new event.
  Flows({SeedFlow(1767225615)});
  EXPECT_EQ(Events().size(), 2u);
}

TEST_F(DetectorTest, AllowedFlowCaught) {
  PutFeed("snort");
  PutData("snort", {"5.196.58.96/32"});
  NewDetector();
  Step();
  json::object flow = SeedFlow();
  flow["action"] = "allow";
  flow["policies"] = json::object{{"all_policies", json::array{"0|default|default.allow-all|allow|0"}}};
  Flows({flow, SeedFlow(1767225700)});
  std::vector<json::object> events = Events();
  ASSERT_EQ(events.size(), 2u);
  json::object* allowed = events[0]["record"].as_object()["flow_action"] == "allow" ? &events[0] : &events[1];
  EXPECT_EQ((*allowed)["record"].as_object()["flow_action"], "allow");
  EXPECT_EQ((*allowed)["mitigations"],
            json::array{"Create a global network policy to prevent traffic from this IP address"});
}

TEST_F(DetectorTest, NothingListedNothingStored) {
  PutFeed("snort");
  PutData("snort", {"1.1.1.1/32"});
  NewDetector();
  Step();
  std::vector<json::object> flows;
  for (int i = 0; i < 100; ++i) flows.push_back(SeedFlow(1767225600 + i));
  Flows(flows);
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(sunk_.empty());
  EXPECT_EQ(detector_->stats().records_matched, 0u);
}

TEST_F(DetectorTest, DisabledFeedIgnoredUntilEnabledThenHunted) {
  PutFeed("snort", "IPSet", "Disabled");
  PutData("snort", {"5.196.58.96/32"});
  NewDetector();
  Step();
  Flows({SeedFlow()});
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(detector_->stats().feeds, 0u);
  EXPECT_FALSE(FeedStatus("snort").contains("lastSuccessfulSearch"));

  // Enabling it: the stored flow is found by the retro-hunt.
  clock_.Advance(seconds(30));
  PutFeed("snort", "IPSet", "Enabled");
  Step();
  EXPECT_EQ(EventIds(), (std::vector<std::string>{"snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny"}));
  EXPECT_EQ(sunk_.size(), 1u);
}

TEST_F(DetectorTest, RetroHuntOnFeedUpdateKeepsOtherStatusFields) {
  PutFeed("snort");
  PutData("snort", {"1.1.1.1/32"});
  NewDetector();
  Step();
  // The connection happens while 5.196.58.96 is not listed yet.
  Flows({SeedFlow()});
  EXPECT_TRUE(Events().empty());

  // The feed controller's status, as it writes it.
  json::object status = FeedStatus("snort");
  status["lastSuccessfulSync"] = "2026-01-01T00:00:00Z";
  status["entries"] = 1;
  status["lastPullResult"] = "Updated";
  status["errorConditions"] = json::array{json::object{{"type", "PullFailed"}, {"message", "earlier failure"}},
                                          json::object{{"type", "SearchFailed"}, {"message", "old"}}};
  SetStatus("snort", status);

  clock_.Advance(seconds(120));
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32"});
  Step();
  std::vector<json::object> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["id"], "snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny");
  EXPECT_EQ(events[0]["time"], 1767225720);  // detection time, not flow time
  EXPECT_EQ(sunk_.size(), 1u);

  json::object after = FeedStatus("snort");
  EXPECT_EQ(after["lastSuccessfulSearch"], "2026-01-01T00:02:00Z");
  EXPECT_EQ(after["lastSuccessfulSync"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(after["entries"], 1);
  EXPECT_EQ(after["lastPullResult"], "Updated");
  EXPECT_EQ(after["errorConditions"],
            (json::array{json::object{{"type", "PullFailed"}, {"message", "earlier failure"}}}));
  uint64_t hunts = detector_->stats().hunts;

  // The same entries again (a new version with identical content): no hunt, nothing new.
  clock_.Advance(seconds(60));
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32"});
  Step();
  EXPECT_EQ(detector_->stats().hunts, hunts);
  EXPECT_EQ(Events().size(), 1u);

  // A new entry: only it is hunted (the flow's event is not made again).
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32", "9.9.9.9/32"});
  Step();
  EXPECT_EQ(detector_->stats().hunts, hunts + 1);
  EXPECT_EQ(Events().size(), 1u);
  EXPECT_EQ(detector_->stats().events_duplicate, 0u);
  EXPECT_EQ(sunk_.size(), 1u);
  EXPECT_EQ(FeedStatus("snort")["lastSuccessfulSearch"], "2026-01-01T00:03:00Z");
}

TEST_F(DetectorTest, LosingEntriesRaisesNothingAndKeepsEvents) {
  PutFeed("snort");
  PutData("snort", {"5.196.58.96/32"});
  NewDetector();
  Step();
  Flows({SeedFlow()});
  ASSERT_EQ(Events().size(), 1u);
  uint64_t hunts = detector_->stats().hunts;
  PutData("snort", {"1.1.1.1/32"});
  Step();
  Flows({SeedFlow(1767225615)});
  EXPECT_EQ(Events().size(), 1u);  // the old event stays, the new flow is not listed
  EXPECT_EQ(detector_->stats().hunts, hunts + 1);  // 1.1.1.1 was gained
}

TEST_F(DetectorTest, DeletedFeedMatchesNoMore) {
  PutFeed("snort");
  PutData("snort", {"5.196.58.96/32"});
  NewDetector();
  Step();
  ASSERT_TRUE(store_.Delete({feed_kind_, "", "snort"}, 0).ok());
  Step();
  Flows({SeedFlow()});
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(detector_->stats().feeds, 0u);
}

TEST_F(DetectorTest, DataOfAnEarlierFeedWithTheSameNameIsNotUsed) {
  PutFeed("snort");
  store::Key key{std::string(feeds::kFeedDataKind), "", "snort"};
  feeds::FeedDataMeta meta;
  meta.feed = "snort";
  meta.feed_uid = "uid-of-a-deleted-feed";
  meta.sha256 = feeds::Sha256Hex("5.196.58.96/32\n");
  ASSERT_TRUE(store_.Create(key, feeds::EncodeFeedData(meta, "5.196.58.96/32\n")).ok());
  NewDetector();
  Step();
  Flows({SeedFlow()});
  EXPECT_TRUE(Events().empty());
}

TEST_F(DetectorTest, DnsExactAndSubdomainAnnotation) {
  PutFeed("baddomains", "DomainNameSet");
  PutData("baddomains", {"c2.example", "evil.com"}, Content::kDomainNameSet);
  NewDetector();
  Step();
  Dns({DnsLog("evil.com", "d1"), DnsLog("www.evil.com", "d2"), DnsLog("fine.org", "d3")});
  EXPECT_EQ(EventIds(), (std::vector<std::string>{"baddomains_1767225610_10.244.0.5_evil.com"}));

  // Subdomains switched on: the hunt finds www.evil.com in the stored log.
  PutFeed("baddomains", "DomainNameSet", "Enabled", json::object{{std::string(kMatchSubdomainsAnnotation), "true"}});
  Step();
  EXPECT_EQ(EventIds(), (std::vector<std::string>{"baddomains_1767225610_10.244.0.5_evil.com",
                                                  "baddomains_1767225610_10.244.0.5_www.evil.com"}));
  // And live: a new query for a subdomain.
  json::object later = DnsLog("a.b.c2.example", "d4");
  later["start_time"] = "2026-01-01T00:01:00Z";
  Dns({later});
  EXPECT_EQ(Events().size(), 3u);
  EXPECT_EQ(sunk_.size(), 3u);
  json::object e = Events()[0];
  EXPECT_EQ(e["description"],
            "default/tf-ubuntu queried the domain name a.b.c2.example from global threat feed(s) baddomains");
  EXPECT_EQ(e["source_labels"], (json::object{{"app", "tf-ubuntu"}}));
}

TEST_F(DetectorTest, DnsRetroHuntOnGainedDomain) {
  PutFeed("baddomains", "DomainNameSet");
  PutData("baddomains", {"c2.example"}, Content::kDomainNameSet);
  NewDetector();
  Step();
  json::object answered = DnsLog("innocent.org", "d1");
  answered["rrsets"] = json::parse(R"([{"name": "innocent.org", "class": "IN", "type": "CNAME",
                                        "rdata": ["late.evil.net"]}])");
  Dns({answered});
  EXPECT_TRUE(Events().empty());
  PutData("baddomains", {"c2.example", "late.evil.net"}, Content::kDomainNameSet);
  Step();
  std::vector<json::object> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["id"], "baddomains_1767225610_10.244.0.5_late.evil.net");
  EXPECT_EQ(events[0]["record"].as_object()["suspicious_domains"], json::array{"late.evil.net"});
}

TEST_F(DetectorTest, StartupHuntsOnlyFeedsChangedSinceTheirLastSearch) {
  PutFeed("snort");
  PutData("snort", {"5.196.58.96/32"});
  ASSERT_TRUE(logs_->AppendFlows(std::vector<json::object>{SeedFlow()}).ok());
  NewDetector();
  Step();
  EXPECT_EQ(detector_->stats().hunts, 1u);  // never searched: hunted at start
  EXPECT_EQ(Events().size(), 1u);
  ASSERT_TRUE(FeedStatus("snort").contains("lastSuccessfulSearch"));

  // A restart with nothing changed: no hunt.
  detector_.reset();
  clock_.Advance(seconds(10));
  NewDetector();
  Step();
  EXPECT_EQ(detector_->stats().hunts, 0u);
  EXPECT_EQ(detector_->stats().feeds, 1u);

  // The set changed while the detector was down: hunted at start.
  detector_.reset();
  clock_.Advance(seconds(10));
  PutData("snort", {"5.196.58.96/32", "10.244.0.5/32"});
  NewDetector();
  Step();
  EXPECT_EQ(detector_->stats().hunts, 1u);
}

TEST_F(DetectorTest, SinceLastSearchScopeSkipsOlderLogs) {
  PutFeed("snort");
  PutData("snort", {"1.1.1.1/32"});
  NewDetector(DetectorOptions{.hunt_scope = HuntScope::kSinceLastSearch});
  Step();  // start-up hunt: lastSuccessfulSearch = 00:00:00
  Flows({SeedFlow(1767225600 - 3600)});  // an hour before the last search
  clock_.Advance(seconds(600));
  Flows({SeedFlow(1767225600 + 300)});
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32"});
  Step();
  EXPECT_EQ(EventIds(), (std::vector<std::string>{"snort_1767225900_tcp_10.244.0.5_-_5.196.58.96_443_deny"}));
}

TEST_F(DetectorTest, BackgroundModeFollowsTheStore) {
  PutFeed("snort");
  PutData("snort", {"1.1.1.1/32"});
  ASSERT_TRUE(logs_->AppendFlows(std::vector<json::object>{SeedFlow()}).ok());
  std::mutex mu;
  std::vector<std::string> sunk;
  detector_ = std::make_unique<Detector>(store_, *logs_, clock_, DetectorOptions{.settle = std::chrono::milliseconds(0)},
                                         [&](const json::object& e) {
                                           std::lock_guard<std::mutex> lock(mu);
                                           sunk.emplace_back(e.at("id").as_string());
                                         });
  ASSERT_TRUE(detector_->Start().ok());
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32"});
  // Wait for the hunt's event (no timing is asserted; the bound only stops a broken run).
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!sunk.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  detector_->Stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(sunk, (std::vector<std::string>{"snort_1767225600_tcp_10.244.0.5_-_5.196.58.96_443_deny"}));
}

// Measurements, not tests: run with --gtest_also_run_disabled_tests
// --gtest_filter='*Bench*'.
TEST_F(DetectorTest, DISABLED_HuntBench) {
  PutFeed("snort");
  PutData("snort", {"1.1.1.1/32"});
  NewDetector();
  Step();
  std::vector<json::object> batch;
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    json::object f = SeedFlow(1767225600 + i / 100);
    f["dest_ip"] = net::IpAddr::V4(rng()).ToString();
    if (i % 1000 == 0) f["dest_ip"] = "5.196.58.96";
    batch.push_back(std::move(f));
    if (batch.size() == 10000) {
      ASSERT_TRUE(logs_->AppendFlows(batch).ok());
      auto t0 = std::chrono::steady_clock::now();
      detector_->OnFlows(batch);
      auto t1 = std::chrono::steady_clock::now();
      if (i + 1 == 10000)
        std::printf("OnFlows, 10k records, nothing listed: %.2f M records/s\n",
                    batch.size() / std::chrono::duration<double>(t1 - t0).count() / 1e6);
      batch.clear();
    }
  }
  PutData("snort", {"1.1.1.1/32", "5.196.58.96/32"});
  auto t0 = std::chrono::steady_clock::now();
  Step();
  auto t1 = std::chrono::steady_clock::now();
  DetectorStats st = detector_->stats();
  std::printf("retro-hunt over %llu stored flows: %.2f s (%.0f records/s), %llu new events\n",
              static_cast<unsigned long long>(st.hunt_records_scanned), std::chrono::duration<double>(t1 - t0).count(),
              st.hunt_records_scanned / std::chrono::duration<double>(t1 - t0).count(),
              static_cast<unsigned long long>(st.events_new));
  EXPECT_EQ(st.events_new, 200u);
}

TEST(ThreatIndexBench, DISABLED_MillionEntryFeeds) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::mt19937 rng(42);
  std::string entries;
  entries.reserve(20u << 20);
  std::vector<uint32_t> listed;
  for (int i = 0; i < 1000000; ++i) {
    uint32_t a = rng();
    listed.push_back(a);
    entries += std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
               "." + std::to_string(a & 255) + "/32\n";
  }
  auto t0 = Clock::now();
  auto set = FeedSet::FromEntries("big", Content::kIPSet, entries);
  auto t1 = Clock::now();
  auto index = ThreatIndex::Build({{set, false}});
  auto t2 = Clock::now();
  std::printf("IPSet 1M: parse %.0f ms, index %.0f ms, set %.1f MiB, index %.1f MiB (%.1f bytes/prefix total)\n",
              ms(t1 - t0), ms(t2 - t1), set->MemoryBytes() / 1048576.0, index->MemoryBytes() / 1048576.0,
              double(set->MemoryBytes() + index->MemoryBytes()) / set->entry_count());

  std::vector<uint32_t> keys(1 << 22);
  for (auto& k : keys) k = rng();
  std::vector<uint8_t> out(keys.size());
  auto t3 = Clock::now();
  index->ContainsBatchV4(keys, out);
  auto t4 = Clock::now();
  size_t hits = 0;
  for (uint32_t k : keys) hits += index->ContainsIp(net::IpAddr::V4(k));
  auto t5 = Clock::now();
  std::printf("random keys: batch %.1f M lookups/s, one by one %.1f M/s (%zu hits)\n",
              keys.size() / ms(t4 - t3) / 1e3, keys.size() / ms(t5 - t4) / 1e3, hits);
  auto t6 = Clock::now();
  size_t found = 0;
  for (size_t i = 0; i < 1000000; ++i) found += !index->MatchIp(net::IpAddr::V4(listed[i])).feeds.empty();
  auto t7 = Clock::now();
  std::printf("MatchIp on listed keys (feeds + prefix): %.2f M/s (%zu found)\n", 1e6 / ms(t7 - t6) / 1e3, found);

  // The live path: flow records (JSON objects) that match nothing.
  std::vector<json::object> flows;
  json::object base = SeedFlow();
  for (int i = 0; i < 200000; ++i) {
    json::object f = base;
    uint32_t a = rng();
    f["dest_ip"] = net::IpAddr::V4(a).ToString();
    flows.push_back(std::move(f));
  }
  auto t8 = Clock::now();
  size_t matched = MatchFlows(*index, flows).size();
  auto t9 = Clock::now();
  std::printf("MatchFlows: %.2f M records/s (%zu matched)\n", flows.size() / ms(t9 - t8) / 1e3, matched);

  std::string names;
  std::vector<std::string> queries;
  for (int i = 0; i < 1000000; ++i) {
    std::string n = "h" + std::to_string(rng()) + ".example" + std::to_string(i % 1000) + ".com";
    if (i % 4 == 0) queries.push_back("www." + n);
    names += n + "\n";
  }
  auto d0 = Clock::now();
  auto dset = FeedSet::FromEntries("dom", Content::kDomainNameSet, names);
  auto d1 = Clock::now();
  auto dindex = ThreatIndex::Build({{dset, true}});
  auto d2 = Clock::now();
  std::printf("DomainNameSet 1M: parse+sort %.0f ms, index %.0f ms, set %.1f MiB, index %.1f MiB (%.1f bytes/name)\n",
              ms(d1 - d0), ms(d2 - d1), dset->MemoryBytes() / 1048576.0, dindex->MemoryBytes() / 1048576.0,
              double(dset->MemoryBytes() + dindex->MemoryBytes()) / dset->domain_count());
  std::string sorted_names;
  for (size_t i = 0; i < dset->domain_count(); ++i) (sorted_names += dset->domain(i)) += "\n";
  auto s0 = Clock::now();
  auto sorted_set = FeedSet::FromEntries("dom", Content::kDomainNameSet, sorted_names);
  auto s1 = Clock::now();
  std::printf("DomainNameSet 1M stored sorted (the feed controller's form): parse %.0f ms\n", ms(s1 - s0));
  auto d3 = Clock::now();
  size_t dhits = 0;
  for (const std::string& q : queries) dhits += !dindex->MatchDomain(q).empty();
  auto d4 = Clock::now();
  std::printf("MatchDomain (subdomain walk, 4 labels): %.2f M/s (%zu hits)\n", queries.size() / ms(d4 - d3) / 1e3,
              dhits);
}

}  // namespace
}  // namespace tw::detect
