#include "feeds/controller/feed_controller.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "model/kinds.h"
#include "model/validators.h"
#include "store/mem_store.h"

namespace tw::feeds {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::string KindOf(std::string_view api_version, std::string_view kind) {
  return model::FindKind(api_version, kind)->StoreKind();
}

class FeedControllerTest : public ::testing::Test {
 protected:
  FeedControllerTest() {
    options_.seed = 7;
    options_.retry_base = seconds(10);
  }

  void NewController() {
    controller_ = std::make_unique<FeedController>(store_, fetcher_, clock_, options_);
    ASSERT_TRUE(controller_->Load().ok());
  }

  void Step() {
    Status s = controller_->Step();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Creates or replaces feed `name` with `spec` (JSON text), keeping the
  // stored status as the API does; generation +1 when the spec changed.
  void PutFeed(const std::string& name, const std::string& spec_text, json::object annotations = {},
               std::string uid = "") {
    store::Key key{feed_kind_, "", name};
    json::value spec = json::parse(spec_text);
    auto current = store_.Get(key);
    json::object obj;
    int64_t generation = 1;
    if (uid.empty()) uid = "uid-" + name;
    if (current.ok()) {
      json::object old = json::parse(current->value).as_object();
      generation = old["metadata"].as_object()["generation"].as_int64();
      if (old["spec"] != spec) ++generation;
      if (old.contains("status")) obj["status"] = old["status"];
    }
    obj["apiVersion"] = "projectcalico.org/v3";
    obj["kind"] = "GlobalThreatFeed";
    obj["metadata"] = json::object{{"name", name}, {"uid", uid}, {"generation", generation},
                                   {"creationTimestamp", "2026-01-01T00:00:00Z"}, {"annotations", annotations}};
    obj["spec"] = spec;
    auto written = current.ok() ? store_.Update(key, json::serialize(obj), current->mod_revision)
                                : store_.Create(key, json::serialize(obj));
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  json::object Feed(const std::string& name) {
    auto r = store_.Get({feed_kind_, "", name});
    EXPECT_TRUE(r.ok());
    return r.ok() ? json::parse(r->value).as_object() : json::object();
  }
  json::object FeedStatus(const std::string& name) {
    json::object f = Feed(name);
    return f.contains("status") ? f["status"].as_object() : json::object();
  }
  std::optional<json::object> Gns(const std::string& name) {
    auto r = store_.Get({gns_kind_, "", name});
    if (!r.ok()) return std::nullopt;
    return json::parse(r->value).as_object();
  }
  std::vector<std::string> Nets(const std::string& name) {
    std::vector<std::string> out;
    auto g = Gns(name);
    if (!g) return out;
    for (const auto& n : (*g)["spec"].as_object()["nets"].as_array()) out.emplace_back(n.as_string());
    return out;
  }
  std::vector<std::string> ConditionMessages(const std::string& name) {
    std::vector<std::string> out;
    json::object st = FeedStatus(name);
    if (st.contains("errorConditions"))
      for (const auto& c : st["errorConditions"].as_array())
        out.emplace_back(json::value_to<std::string>(c.as_object().at("type")) + ": " +
                         json::value_to<std::string>(c.as_object().at("message")));
    return out;
  }

  static std::string Spec(const std::string& url, const std::string& extra = R"("globalNetworkSet":{"labels":{"threatfeed":"snort"}})") {
    std::string s = R"({"content":"IPSet","mode":"Enabled","pull":{"period":"24h","http":{"url":")" + url + R"("}})";
    if (!extra.empty()) s += "," + extra;
    return s + "}";
  }

  static Result<FetchResult> Body(std::string body, std::string etag = "") {
    FetchResult r;
    r.http_status = 200;
    r.body = std::move(body);
    r.wire_bytes = r.body.size();
    r.etag = std::move(etag);
    return r;
  }

  store::MemStore store_;
  FakeFetcher fetcher_;
  FakeClock clock_;
  FeedControllerOptions options_;
  std::unique_ptr<FeedController> controller_;
  std::string feed_kind_ = KindOf("projectcalico.org/v3", "GlobalThreatFeed");
  std::string gns_kind_ = KindOf("projectcalico.org/v3", "GlobalNetworkSet");
};

TEST_F(FeedControllerTest, CreatePullsAndWritesTheSet) {
  NewController();
  fetcher_.Push(Body("# snort\n1.2.3.4\n10.0.0.0/8\n10.1.2.3/16\n5.6.7.8-5.6.7.9\n::ffff:9.9.9.9\n"));
  PutFeed("snort", Spec("http://feeds.test/snort.txt"));
  Step();
  ASSERT_EQ(fetcher_.request_count(), 1u);
  EXPECT_EQ(fetcher_.requests()[0].url, "http://feeds.test/snort.txt");
  EXPECT_EQ(Nets("threatfeed.snort"), (std::vector<std::string>{"1.2.3.4/32", "9.9.9.9/32", "10.0.0.0/8"}));
  json::object gns = *Gns("threatfeed.snort");
  json::object labels = gns["metadata"].as_object()["labels"].as_object();
  EXPECT_EQ(labels["threatfeed"], "snort");
  EXPECT_EQ(labels["tigera.io/creator"], "intrusion-detection-controller");
  json::object owner = gns["metadata"].as_object()["ownerReferences"].as_array()[0].as_object();
  EXPECT_EQ(owner["kind"], "GlobalThreatFeed");
  EXPECT_EQ(owner["uid"], "uid-snort");

  json::object st = FeedStatus("snort");
  EXPECT_EQ(st["lastSuccessfulSync"], json::value(FormatRfc3339(clock_.Now())));
  EXPECT_EQ(st["entries"].to_number<int64_t>(), 3);
  EXPECT_EQ(st["entriesRead"].to_number<int64_t>(), 4);
  EXPECT_EQ(st["invalidLines"].to_number<int64_t>(), 1);
  ASSERT_EQ(st["invalidExamples"].as_array().size(), 1u);
  EXPECT_EQ(st["invalidExamples"].as_array()[0].as_object()["line"].to_number<int64_t>(), 5);
  EXPECT_EQ(st["nextPull"], json::value(FormatRfc3339(clock_.Now() + hours(24))));
  EXPECT_TRUE(ConditionMessages("snort").empty());
}

TEST_F(FeedControllerTest, PullsEveryPeriodAndAtOnceOnSpecChange) {
  NewController();
  fetcher_.SetHandler([](const FetchRequest&) { return Body("1.2.3.4\n"); });
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 1u);
  clock_.Advance(hours(23));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 1u);
  clock_.Advance(hours(1));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 2u);
  // A URL edit pulls now (Calico would wait for the next tick).
  clock_.Advance(minutes(1));
  PutFeed("f", Spec("http://b.test/y"));
  Step();
  ASSERT_EQ(fetcher_.request_count(), 3u);
  EXPECT_EQ(fetcher_.requests()[2].url, "http://b.test/y");
  // A period edit too, and the new period counts from that pull.
  PutFeed("f", R"({"content":"IPSet","pull":{"period":"5m","http":{"url":"http://b.test/y"}}})");
  Step();
  EXPECT_EQ(fetcher_.request_count(), 4u);
  clock_.Advance(minutes(5));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 5u);
}

TEST_F(FeedControllerTest, RestartDoesNotRepullAFreshFeed) {
  NewController();
  fetcher_.SetHandler([](const FetchRequest&) { return Body("1.2.3.4\n"); });
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  ASSERT_EQ(fetcher_.request_count(), 1u);
  controller_.reset();
  clock_.Advance(hours(2));
  NewController();
  Step();
  EXPECT_EQ(fetcher_.request_count(), 1u);
  ASSERT_TRUE(controller_->NextDue().has_value());
  EXPECT_EQ(*controller_->NextDue(), clock_.Now() + hours(22));
  clock_.Advance(hours(22));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 2u);
}

TEST_F(FeedControllerTest, TransientFailuresRetryWithBackoffAndKeepTheLastGoodSet) {
  NewController();
  fetcher_.Push(Body("1.2.3.4\n5.6.7.8\n"));
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  ASSERT_EQ(Nets("threatfeed.f").size(), 2u);
  clock_.Advance(hours(24));
  for (int i = 0; i < 4; ++i) fetcher_.Push(tw::Status::Unavailable("http://a.test/x: HTTP 503 Service Unavailable"));
  std::vector<double> delays;
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto before = clock_.Now();
    Step();
    auto due = controller_->NextDue();
    ASSERT_TRUE(due.has_value());
    delays.push_back(std::chrono::duration<double>(*due - before).count());
    clock_.Set(*due);
  }
  EXPECT_EQ(fetcher_.request_count(), 5u);
  // 10s, 20s, 40s with +-20% jitter, then the next period.
  EXPECT_GE(delays[0], 8);
  EXPECT_LE(delays[0], 12);
  EXPECT_GE(delays[1], 16);
  EXPECT_LE(delays[1], 24);
  EXPECT_GE(delays[2], 32);
  EXPECT_LE(delays[2], 48);
  EXPECT_EQ(delays[3], 24 * 3600);
  EXPECT_EQ(Nets("threatfeed.f"), (std::vector<std::string>{"1.2.3.4/32", "5.6.7.8/32"}));
  std::vector<std::string> conds = ConditionMessages("f");
  ASSERT_EQ(conds.size(), 4u);
  EXPECT_NE(conds[0].find("PullFailed: pull failed: http://a.test/x: HTTP 503"), std::string::npos)
      << conds[0];
  EXPECT_NE(conds[0].find("retry 1 of 3"), std::string::npos) << conds[0];
  EXPECT_NE(conds[3].find("retries exhausted"), std::string::npos) << conds[3];
  // The next success clears PullFailed.
  fetcher_.Push(Body("1.2.3.4\n5.6.7.8\n9.9.9.9\n"));
  Step();
  EXPECT_TRUE(ConditionMessages("f").empty());
  EXPECT_EQ(Nets("threatfeed.f").size(), 3u);
}

TEST_F(FeedControllerTest, PermanentFailureWaitsForTheNextPeriod) {
  NewController();
  fetcher_.Push(tw::Status::NotFound("http://a.test/x: HTTP 404 Not Found"));
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  EXPECT_EQ(fetcher_.request_count(), 1u);
  EXPECT_EQ(*controller_->NextDue(), clock_.Now() + hours(24));
  EXPECT_FALSE(Gns("threatfeed.f").has_value());
  EXPECT_FALSE(FeedStatus("f").contains("lastSuccessfulSync"));
}

TEST_F(FeedControllerTest, ErrorConditionsAreARingOfTen) {
  options_.max_retries = 0;
  NewController();
  PutFeed("f", Spec("http://a.test/x"));
  for (int i = 0; i < 12; ++i) {
    fetcher_.Push(tw::Status::InvalidArgument("failure " + std::to_string(i)));
    Step();
    clock_.Advance(hours(24));
  }
  std::vector<std::string> conds = ConditionMessages("f");
  ASSERT_EQ(conds.size(), 10u);
  EXPECT_NE(conds.front().find("failure 2"), std::string::npos);
  EXPECT_NE(conds.back().find("failure 11"), std::string::npos);
}

TEST_F(FeedControllerTest, CollapseGuardHoldsAnEmptyOrShrunkenPullUntilForced) {
  NewController();
  std::string big;
  for (int i = 0; i < 100; ++i) big += "10.0." + std::to_string(i) + ".1\n";
  fetcher_.Push(Body(big));
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  ASSERT_EQ(Nets("threatfeed.f").size(), 100u);
  clock_.Advance(hours(24));
  fetcher_.Push(Body(""));  // an empty 200
  Step();
  EXPECT_EQ(Nets("threatfeed.f").size(), 100u);
  ASSERT_EQ(ConditionMessages("f").size(), 1u);
  EXPECT_NE(ConditionMessages("f")[0].find("collapse guard: the pull of http://a.test/x gave 0 entries"),
            std::string::npos);
  clock_.Advance(hours(24));
  fetcher_.Push(Body("10.0.0.1\n"));  // 1% of the last good size
  Step();
  EXPECT_EQ(Nets("threatfeed.f").size(), 100u);
  // 20 of 100 is above the default 10% threshold: accepted.
  clock_.Advance(hours(24));
  std::string smaller;
  for (int i = 0; i < 20; ++i) smaller += "10.0." + std::to_string(i) + ".1\n";
  fetcher_.Push(Body(smaller));
  Step();
  EXPECT_EQ(Nets("threatfeed.f").size(), 20u);
  EXPECT_TRUE(ConditionMessages("f").empty());
  // Forced through a sync request: the empty set is accepted.
  fetcher_.Push(Body(""));
  PutFeed("f", Spec("http://a.test/x"), json::object{{"threatwall.io/sync-request", "t1;force"}});
  Step();
  EXPECT_EQ(fetcher_.request_count(), 5u);
  EXPECT_TRUE(Nets("threatfeed.f").empty());
  EXPECT_EQ(FeedStatus("f")["handledSyncRequest"], "t1");
  EXPECT_EQ(FeedStatus("f")["entries"].to_number<int64_t>(), 0);
}

TEST_F(FeedControllerTest, CollapseThresholdAnnotationOverridesTheDefault) {
  NewController();
  fetcher_.Push(Body("1.1.1.1\n2.2.2.2\n3.3.3.3\n4.4.4.4\n"));
  PutFeed("f", Spec("http://a.test/x"), json::object{{"threatwall.io/collapse-threshold", "0"}});
  Step();
  clock_.Advance(hours(24));
  fetcher_.Push(Body(""));
  Step();
  EXPECT_TRUE(Nets("threatfeed.f").empty());
}

TEST_F(FeedControllerTest, SyncRequestPullsAtOnce) {
  NewController();
  fetcher_.SetHandler([](const FetchRequest&) { return Body("1.2.3.4\n"); });
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  clock_.Advance(minutes(3));
  PutFeed("f", Spec("http://a.test/x"), json::object{{"threatwall.io/sync-request", "abc"}});
  Step();
  EXPECT_EQ(fetcher_.request_count(), 2u);
  EXPECT_EQ(FeedStatus("f")["handledSyncRequest"], "abc");
  Step();  // handled: no second pull for the same request
  EXPECT_EQ(fetcher_.request_count(), 2u);
}

TEST_F(FeedControllerTest, ManualEditsAndDeletionOfTheSetAreReverted) {
  NewController();
  fetcher_.Push(Body("1.2.3.4\n"));
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  store::Key key{gns_kind_, "", "threatfeed.f"};
  auto current = store_.Get(key);
  ASSERT_TRUE(current.ok());
  std::string good = current->value;
  json::object edited = json::parse(good).as_object();
  edited["spec"].as_object()["nets"] = json::array{"8.8.8.8/32"};
  ASSERT_TRUE(store_.Update(key, json::serialize(edited), current->mod_revision).ok());
  Step();
  EXPECT_EQ(store_.Get(key)->value, good);
  ASSERT_TRUE(store_.Delete(key, 0).ok());
  Step();
  ASSERT_TRUE(store_.Get(key).ok());
  EXPECT_EQ(store_.Get(key)->value, good);
  EXPECT_EQ(fetcher_.request_count(), 1u);  // repaired from the stored set, not re-pulled
}

TEST_F(FeedControllerTest, LabelsStanzaAndDeletionFollowTheFeed) {
  NewController();
  fetcher_.SetHandler([](const FetchRequest&) { return Body("1.2.3.4\n"); });
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  PutFeed("f", Spec("http://a.test/x", R"("globalNetworkSet":{"labels":{"feed":"new"}})"));
  Step();
  json::object labels = (*Gns("threatfeed.f"))["metadata"].as_object()["labels"].as_object();
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels["feed"], "new");
  // The stanza removed: the set goes, the stored copy stays.
  PutFeed("f", Spec("http://a.test/x", ""));
  Step();
  EXPECT_FALSE(Gns("threatfeed.f").has_value());
  EXPECT_TRUE(store_.Get({std::string(kFeedDataKind), "", "f"}).ok());
  // Back again, then the feed deleted: set and stored copy go.
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  EXPECT_TRUE(Gns("threatfeed.f").has_value());
  ASSERT_TRUE(store_.Delete({feed_kind_, "", "f"}, 0).ok());
  Step();
  EXPECT_FALSE(Gns("threatfeed.f").has_value());
  EXPECT_FALSE(store_.Get({std::string(kFeedDataKind), "", "f"}).ok());
}

TEST_F(FeedControllerTest, OrphanSetsWithTheCreatorLabelAreDeletedAtLoad) {
  std::string orphan =
      R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":{"name":"threatfeed.gone",)"
      R"("labels":{"tigera.io/creator":"intrusion-detection-controller"}},"spec":{"nets":["1.1.1.1/32"]}})";
  std::string users =
      R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":{"name":"threatfeed.mine",)"
      R"("labels":{"a":"b"}},"spec":{"nets":["1.1.1.1/32"]}})";
  ASSERT_TRUE(store_.Create({gns_kind_, "", "threatfeed.gone"}, orphan).ok());
  ASSERT_TRUE(store_.Create({gns_kind_, "", "threatfeed.mine"}, users).ok());
  NewController();
  EXPECT_FALSE(Gns("threatfeed.gone").has_value());
  EXPECT_TRUE(Gns("threatfeed.mine").has_value());
}

TEST_F(FeedControllerTest, HeadersFromSecretsAndConfigMapsNeverLeak) {
  options_.max_retries = 0;
  NewController();
  fetcher_.SetHandler([](const FetchRequest&) { return Body("1.2.3.4\n"); });
  std::string headers =
      R"("headers":[{"name":"X-Plain","value":"v"},)"
      R"({"name":"Authorization","valueFrom":{"secretKeyRef":{"name":"globalthreatfeed-f-auth","key":"token"}}},)"
      R"({"name":"X-Opt","valueFrom":{"configMapKeyRef":{"name":"globalthreatfeed-f-cm","key":"k","optional":true}}}])";
  std::string spec = R"({"content":"IPSet","pull":{"http":{"url":"http://a.test/x",)" + headers + "}}}";
  PutFeed("f", spec);
  Step();
  EXPECT_EQ(fetcher_.request_count(), 0u);  // the secret is missing: no pull
  std::vector<std::string> conds = ConditionMessages("f");
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_NE(conds[0].find("header Authorization: secret tigera-intrusion-detection/globalthreatfeed-f-auth not found"),
            std::string::npos)
      << conds[0];

  std::string secret = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"globalthreatfeed-f-auth",)"
                       R"("namespace":"tigera-intrusion-detection"},"data":{"token":")" +
                       model::Base64Encode("Bearer s3cret") + R"("}})";
  ASSERT_TRUE(store_.Create({KindOf("v1", "Secret"), "tigera-intrusion-detection", "globalthreatfeed-f-auth"}, secret).ok());
  clock_.Advance(hours(24));
  Step();
  ASSERT_EQ(fetcher_.request_count(), 1u);
  auto sent = fetcher_.requests()[0].headers;
  ASSERT_EQ(sent.size(), 2u);  // the optional configmap is missing: header skipped
  EXPECT_EQ(sent[0], (std::pair<std::string, std::string>{"X-Plain", "v"}));
  EXPECT_EQ(sent[1], (std::pair<std::string, std::string>{"Authorization", "Bearer s3cret"}));
  for (const auto& [kind, ns] : std::vector<std::pair<std::string, std::string>>{{feed_kind_, ""}, {gns_kind_, ""}}) {
    auto list = store_.List({kind, std::nullopt});
    for (const auto& r : list->records) EXPECT_EQ(r.value.find("s3cret"), std::string::npos);
  }
}

TEST_F(FeedControllerTest, NotModifiedKeepsTheSetAndCountsAsASync) {
  NewController();
  fetcher_.Push(Body("1.2.3.4\n", "\"v1\""));
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  clock_.Advance(hours(24));
  FetchResult not_modified;
  not_modified.not_modified = true;
  not_modified.http_status = 304;
  fetcher_.Push(not_modified);
  Step();
  ASSERT_EQ(fetcher_.request_count(), 2u);
  EXPECT_EQ(fetcher_.requests()[1].if_none_match, "\"v1\"");
  EXPECT_EQ(FeedStatus("f")["lastSuccessfulSync"], json::value(FormatRfc3339(clock_.Now())));
  EXPECT_EQ(Nets("threatfeed.f"), std::vector<std::string>{"1.2.3.4/32"});
}

TEST_F(FeedControllerTest, DomainFeedsAreStoredSortedWithoutAGlobalNetworkSet) {
  NewController();
  fetcher_.Push(Body("Evil.COM.\nb.example\nevil.com\n"));
  PutFeed("d", R"({"content":"DomainNameSet","mode":"Disabled","pull":{"http":{"url":"http://a.test/d"}}})");
  Step();
  EXPECT_EQ(fetcher_.request_count(), 1u);  // mode Disabled gates searching only
  auto data = store_.Get({std::string(kFeedDataKind), "", "d"});
  ASSERT_TRUE(data.ok());
  auto decoded = DecodeFeedData(data->value);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->entries, "b.example\nevil.com\n");
  EXPECT_EQ(decoded->meta.content, Content::kDomainNameSet);
  EXPECT_FALSE(Gns("threatfeed.d").has_value());
  EXPECT_EQ(FeedStatus("d")["entries"].to_number<int64_t>(), 2);
}

TEST_F(FeedControllerTest, ParseErrorsKeepTheLastGoodSet) {
  NewController();
  fetcher_.Push(Body("a,b\n1.2.3.4,x\n"));
  PutFeed("c", R"({"content":"IPSet","globalNetworkSet":{},"pull":{"http":{"url":"http://a.test/c",)"
              R"("format":{"csv":{"fieldNum":0,"header":true}}}}})");
  Step();
  ASSERT_EQ(Nets("threatfeed.c"), std::vector<std::string>{"1.2.3.4/32"});
  clock_.Advance(hours(24));
  fetcher_.Push(Body("a,b\n5.6.7.8,x,extra\n"));  // wrong record size aborts the pull
  Step();
  EXPECT_EQ(Nets("threatfeed.c"), std::vector<std::string>{"1.2.3.4/32"});
  ASSERT_EQ(ConditionMessages("c").size(), 1u);
}

TEST_F(FeedControllerTest, AFeedRecreatedUnderTheSameNameIsANewFeed) {
  NewController();
  fetcher_.SetHandler([](const FetchRequest& r) { return Body(r.url == "http://a.test/x" ? "1.1.1.1\n" : "2.2.2.2\n"); });
  PutFeed("f", Spec("http://a.test/x"));
  Step();
  ASSERT_EQ(Nets("threatfeed.f"), std::vector<std::string>{"1.1.1.1/32"});
  ASSERT_TRUE(store_.Delete({feed_kind_, "", "f"}, 0).ok());
  PutFeed("f", Spec("http://b.test/y"), {}, "uid-second");
  Step();
  EXPECT_EQ(fetcher_.request_count(), 2u);
  EXPECT_EQ(Nets("threatfeed.f"), std::vector<std::string>{"2.2.2.2/32"});
  json::object owner = (*Gns("threatfeed.f"))["metadata"].as_object()["ownerReferences"].as_array()[0].as_object();
  EXPECT_EQ(owner["uid"], "uid-second");
}

}  // namespace
}  // namespace tw::feeds
