#include "webhook/dispatcher.h"

#include <gtest/gtest.h>

#include "model/kinds.h"
#include "model/validators.h"
#include "store/mem_store.h"

namespace tw::webhook {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string KindOf(std::string_view api_version, std::string_view kind) {
  return model::FindKind(api_version, kind)->StoreKind();
}

json::object FlowEvent(const std::string& id, const std::string& action = "deny") {
  return json::object{{"id", id},
                      {"type", "gtf_suspicious_flow"},
                      {"severity", 100},
                      {"source_namespace", "default"},
                      {"source_name", "tf-ubuntu"},
                      {"record", json::object{{"flow_action", action}, {"feeds", json::array{"snort"}}}}};
}

json::object DnsEvent(const std::string& id) {
  return json::object{{"id", id}, {"type", "gtf_suspicious_dns_query"}, {"severity", 100}};
}

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    options_.retry_base = seconds(1);
    options_.retry_max = seconds(8);
    options_.max_attempts = 5;
  }
  ~DispatcherTest() override {
    if (dispatcher_) dispatcher_->Stop();
  }

  // Creates or replaces webhook `name`.
  void PutWebhook(const std::string& name, const std::string& state, const std::string& query,
                  const std::string& url, const std::string& labels = "", json::array extra_config = {},
                  const std::string& consumer = "Generic") {
    store::Key key{kind_, "", name};
    json::array config{json::object{{"name", "url"}, {"value", url}}};
    for (auto& c : extra_config) config.push_back(c);
    json::object annotations;
    if (!labels.empty()) annotations["webhooks.projectcalico.org/labels"] = labels;
    json::object obj{
        {"apiVersion", "projectcalico.org/v3"},
        {"kind", "SecurityEventWebhook"},
        {"metadata", json::object{{"name", name}, {"annotations", annotations}}},
        {"spec",
         json::object{{"consumer", consumer}, {"state", state}, {"query", query}, {"config", config}}}};
    auto current = store_.Get(key);
    auto written = current.ok() ? store_.Update(key, json::serialize(obj), current->mod_revision)
                                : store_.Create(key, json::serialize(obj));
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  void Start() {
    dispatcher_ = std::make_unique<WebhookDispatcher>(store_, clock_, poster_, options_);
    Status s = dispatcher_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void Sync() {
    Status s = dispatcher_->Sync();
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void Idle() { ASSERT_TRUE(dispatcher_->WaitIdle()); }
  // Moves the fake clock and lets due retries run.
  void Advance(std::chrono::nanoseconds d) {
    clock_.Advance(d);
    dispatcher_->Kick();
    Idle();
  }
  WebhookStats StatsOf(const std::string& name) { return dispatcher_->Stats().webhooks[name]; }
  json::object Object(const std::string& name) {
    auto r = store_.Get({kind_, "", name});
    EXPECT_TRUE(r.ok());
    return r.ok() ? json::parse(r->value).as_object() : json::object();
  }
  json::object Condition(const std::string& name) {
    json::object o = Object(name);
    const json::value* c = o.contains("status") ? o["status"].as_object().if_contains("conditions") : nullptr;
    if (c == nullptr || !c->is_array() || c->as_array().empty()) return {};
    return c->as_array()[0].as_object();
  }
  std::vector<std::string> BodiesTo(const std::string& url) {
    std::vector<std::string> out;
    for (const PostRequest& r : poster_.requests())
      if (r.url == url) out.push_back(r.body);
    return out;
  }

  store::MemStore store_;
  FakeClock clock_;
  FakePoster poster_;
  WebhookOptions options_;
  std::unique_ptr<WebhookDispatcher> dispatcher_;
  std::string kind_ = KindOf("projectcalico.org/v3", "SecurityEventWebhook");
};

TEST_F(DispatcherTest, DeliversMatchingEventsAsGenericJson) {
  PutWebhook("hook", "Enabled", "type = gtf_suspicious_flow", "http://127.0.0.1:9/hook",
             "cluster:lab, team : sec");
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  dispatcher_->Publish(DnsEvent("e2"));  // filtered by the query
  Idle();
  auto requests = poster_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "http://127.0.0.1:9/hook");
  json::object body = json::parse(requests[0].body).as_object();
  EXPECT_EQ(body["id"], "e1");
  EXPECT_EQ(body["type"], "gtf_suspicious_flow");
  EXPECT_EQ(body["record"].as_object()["flow_action"], "deny");
  EXPECT_EQ(body["labels"], (json::object{{"cluster", "lab"}, {"team", "sec"}}));
  WebhookStats st = StatsOf("hook");
  EXPECT_EQ(st.matched, 1u);
  EXPECT_EQ(st.sent, 1u);
  EXPECT_EQ(st.failed, 0u);
  EXPECT_EQ(dispatcher_->Stats().published, 2u);
  // Status: healthy, last delivery recorded.
  json::object cond = Condition("hook");
  EXPECT_EQ(cond["type"], "Healthy");
  EXPECT_EQ(cond["status"], "True");
  EXPECT_EQ(cond["reason"], "SecurityEventsProcessing");
  json::object last = Object("hook")["status"].as_object()["lastDelivery"].as_object();
  EXPECT_EQ(last["eventId"], "e1");
  EXPECT_EQ(last["result"], "Delivered");
  EXPECT_EQ(last["httpStatus"], 200);
}

TEST_F(DispatcherTest, EmptyQueryMatchesEverything) {
  PutWebhook("all", "Enabled", "", "http://127.0.0.1:9/all");
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  dispatcher_->Publish(DnsEvent("e2"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 2u);
  // No labels annotation: "labels" is an empty object (Calico sends {}).
  EXPECT_EQ(json::parse(poster_.requests()[0].body).as_object()["labels"], json::object{});
}

TEST_F(DispatcherTest, RetriesWithExponentialBackoffThenDelivers) {
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.PushStatus(503);
  poster_.PushStatus(500);
  poster_.Push(Status::Unavailable("http://127.0.0.1:9/hook: connection refused"));
  poster_.PushStatus(200);
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 1u);
  // 1 s after the first failure.
  Advance(milliseconds(999));
  EXPECT_EQ(poster_.request_count(), 1u);
  Advance(milliseconds(1));
  EXPECT_EQ(poster_.request_count(), 2u);
  // then 2 s
  Advance(milliseconds(1999));
  EXPECT_EQ(poster_.request_count(), 2u);
  Advance(milliseconds(1));
  EXPECT_EQ(poster_.request_count(), 3u);
  // then 4 s
  Advance(milliseconds(3999));
  EXPECT_EQ(poster_.request_count(), 3u);
  Advance(milliseconds(1));
  EXPECT_EQ(poster_.request_count(), 4u);
  WebhookStats st = StatsOf("hook");
  EXPECT_EQ(st.sent, 1u);
  EXPECT_EQ(st.retried, 3u);
  EXPECT_EQ(st.failed, 0u);
  for (const std::string& body : BodiesTo("http://127.0.0.1:9/hook"))
    EXPECT_EQ(json::parse(body).as_object()["id"], "e1");
  json::object last = Object("hook")["status"].as_object()["lastDelivery"].as_object();
  EXPECT_EQ(last["attempts"], 4);
  EXPECT_EQ(last["result"], "Delivered");
}

TEST_F(DispatcherTest, GivesUpAfterMaxAttemptsWithCappedBackoff) {
  options_.max_attempts = 6;
  options_.retry_max = seconds(4);
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.SetHandler([](const PostRequest&) -> Result<PostResponse> {
    return PostResponse{429, "slow down"};
  });
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  // Delays 1, 2, 4, 4 (capped), 4.
  for (int s : {1, 2, 4, 4, 4}) {
    size_t before = poster_.request_count();
    Advance(seconds(s) - milliseconds(1));
    EXPECT_EQ(poster_.request_count(), before) << "after " << s << "s - 1ms";
    Advance(milliseconds(1));
    EXPECT_EQ(poster_.request_count(), before + 1) << "after " << s << "s";
  }
  Advance(seconds(60));
  EXPECT_EQ(poster_.request_count(), 6u);
  WebhookStats st = StatsOf("hook");
  EXPECT_EQ(st.failed, 1u);
  EXPECT_EQ(st.retried, 5u);
  EXPECT_EQ(st.sent, 0u);
  json::object cond = Condition("hook");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "SecurityEventsProcessing");
  EXPECT_EQ(cond["message"], "unexpected response [429]:slow down");
  EXPECT_EQ(Object("hook")["status"].as_object()["lastDelivery"].as_object()["result"], "Failed");
}

TEST_F(DispatcherTest, ClientErrorsAreNotRetried) {
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.PushStatus(400);
  poster_.PushStatus(404);
  poster_.PushStatus(301);
  poster_.Push(Status::InvalidArgument("https://127.0.0.1:9/hook: TLS certificate verification failed"));
  Start();
  for (int i = 0; i < 4; ++i) dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
  Idle();
  Advance(seconds(600));
  EXPECT_EQ(poster_.request_count(), 4u);
  WebhookStats st = StatsOf("hook");
  EXPECT_EQ(st.failed, 4u);
  EXPECT_EQ(st.retried, 0u);
}

TEST_F(DispatcherTest, DisabledDeliversNothingAndReportsIt) {
  PutWebhook("off", "Disabled", "", "http://127.0.0.1:9/off");
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 0u);
  EXPECT_EQ(StatsOf("off").matched, 0u);
  json::object cond = Condition("off");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "WebhookState");
  EXPECT_EQ(cond["message"], "the webhook has been disabled");
  // Enabled later: new events flow.
  PutWebhook("off", "Enabled", "", "http://127.0.0.1:9/off");
  Sync();
  EXPECT_EQ(Condition("off")["reason"], "WebhookValidation");
  dispatcher_->Publish(FlowEvent("e2"));
  Idle();
  ASSERT_EQ(poster_.request_count(), 1u);
  EXPECT_EQ(json::parse(poster_.requests()[0].body).as_object()["id"], "e2");
}

TEST_F(DispatcherTest, DisablingAbandonsPendingRetries) {
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.PushStatus(503);
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  PutWebhook("hook", "Disabled", "", "http://127.0.0.1:9/hook");
  Sync();
  Advance(seconds(10));
  EXPECT_EQ(poster_.request_count(), 1u);
  EXPECT_EQ(StatsOf("hook").abandoned, 1u);
}

TEST_F(DispatcherTest, DebugLogsInsteadOfSending) {
  PutWebhook("dbg", "Debug", "", "http://127.0.0.1:9/dbg");
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 0u);
  EXPECT_EQ(StatsOf("dbg").logged, 1u);
  EXPECT_EQ(StatsOf("dbg").sent, 0u);
}

TEST_F(DispatcherTest, TestStateSendsOneTestEventThenEnables) {
  PutWebhook("t", "Test", "type = waf", "http://127.0.0.1:9/t", "env:lab");
  Start();
  Idle();
  ASSERT_EQ(poster_.request_count(), 1u);
  json::object body = json::parse(poster_.requests()[0].body).as_object();
  EXPECT_EQ(body["type"], "gtf_suspicious_flow");
  EXPECT_EQ(std::string(body["description"].as_string()).substr(0, 6), "[TEST]");
  EXPECT_EQ(body["labels"], (json::object{{"env", "lab"}}));
  json::object obj = Object("t");
  EXPECT_EQ(obj["spec"].as_object()["state"], "Enabled");
  std::string result(
      obj["metadata"].as_object()["annotations"].as_object()[kTestResultAnnotation].as_string());
  EXPECT_NE(result.find("delivered"), std::string::npos) << result;
  EXPECT_EQ(Condition("t")["reason"], "TestFireProcedure");
  EXPECT_EQ(Condition("t")["status"], "True");
  // Now Enabled (the watch or a sync sees our write): real events flow, once.
  Sync();
  dispatcher_->Publish(json::object{{"id", "w1"}, {"type", "waf"}});
  Idle();
  EXPECT_EQ(poster_.request_count(), 2u);
  EXPECT_EQ(Condition("t")["reason"], "SecurityEventsProcessing");
}

TEST_F(DispatcherTest, TestStateFailureIsReported) {
  PutWebhook("t", "Test", "", "http://127.0.0.1:9/t");
  poster_.PushStatus(403);
  Start();
  Idle();
  EXPECT_EQ(poster_.request_count(), 1u);
  json::object obj = Object("t");
  // As in Calico the webhook is Enabled afterwards; the annotation keeps the outcome.
  EXPECT_EQ(obj["spec"].as_object()["state"], "Enabled");
  std::string result(
      obj["metadata"].as_object()["annotations"].as_object()[kTestResultAnnotation].as_string());
  EXPECT_NE(result.find("failed: unexpected response [403]:"), std::string::npos) << result;
}

TEST_F(DispatcherTest, InvalidWebhooksAreReportedAndSkipped) {
  PutWebhook("badq", "Enabled", "type = ", "http://127.0.0.1:9/a");
  PutWebhook("slack", "Enabled", "", "https://hooks.slack.com/x", "", {}, "Slack");
  PutWebhook("tmpl", "Enabled", "", "http://127.0.0.1:9/b", "",
             json::array{json::object{{"name", "template"}, {"value", "{{.type}}"}}});
  PutWebhook(
      "secret", "Enabled", "", "http://127.0.0.1:9/c", "",
      json::array{json::object{
          {"name", "headers"},
          {"valueFrom", json::object{{"secretKeyRef", json::object{{"name", "hdr"}, {"key", "h"}}}}}}});
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 0u);
  EXPECT_EQ(Condition("badq")["reason"], "QueryParsing");
  EXPECT_NE(std::string(Condition("badq")["message"].as_string()).find("column 8"), std::string::npos);
  EXPECT_EQ(Condition("slack")["reason"], "ConsumerDiscovery");
  EXPECT_EQ(Condition("tmpl")["reason"], "ConsumerConfigurationValidation");
  EXPECT_EQ(Condition("secret")["reason"], "ConfigurationParsing");
  EXPECT_EQ(Condition("secret")["message"],
            "config headers: secret tigera-intrusion-detection/hdr not found");
}

TEST_F(DispatcherTest, ConfigFromSecretAndConfigMapWithHeaders) {
  // URL from a ConfigMap, headers (with a token) from a Secret.
  std::string cm_kind = KindOf("v1", "ConfigMap"), secret_kind = KindOf("v1", "Secret");
  ASSERT_TRUE(
      store_
          .Create({cm_kind, "tigera-intrusion-detection", "hook-cm"},
                  json::serialize(json::object{{"data", json::object{{"url", "http://127.0.0.1:9/cm"}}}}))
          .ok());
  ASSERT_TRUE(
      store_
          .Create({secret_kind, "tigera-intrusion-detection", "hook-secret"},
                  json::serialize(json::object{
                      {"data", json::object{{"headers",
                                             model::Base64Encode("Authorization: Bearer s3cret\n"
                                                                 "Content-Type: application/x-ndjson")}}}}))
          .ok());
  store::Key key{kind_, "", "hook"};
  json::object obj{
      {"apiVersion", "projectcalico.org/v3"},
      {"kind", "SecurityEventWebhook"},
      {"metadata", json::object{{"name", "hook"}}},
      {"spec",
       json::object{
           {"consumer", "Generic"},
           {"state", "Enabled"},
           {"query", ""},
           {"config",
            json::array{
                json::object{{"name", "url"},
                             {"valueFrom", json::object{{"configMapKeyRef", json::object{{"name", "hook-cm"},
                                                                                         {"key", "url"}}}}}},
                json::object{
                    {"name", "headers"},
                    {"valueFrom", json::object{{"secretKeyRef", json::object{{"name", "hook-secret"},
                                                                             {"key", "headers"}}}}}}}}}}};
  ASSERT_TRUE(store_.Create(key, json::serialize(obj)).ok());
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  Idle();
  auto requests = poster_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "http://127.0.0.1:9/cm");
  std::vector<std::pair<std::string, std::string>> want = {{"Authorization", "Bearer s3cret"},
                                                           {"Content-Type", "application/x-ndjson"}};
  EXPECT_EQ(requests[0].headers, want);
  // The secret's value never reaches the stored status.
  EXPECT_EQ(json::serialize(Object("hook")).find("s3cret"), std::string::npos);
}

TEST_F(DispatcherTest, SlowWebhookDoesNotDelayAnother) {
  PutWebhook("slow", "Enabled", "", "http://127.0.0.1:9/slow");
  PutWebhook("fast", "Enabled", "", "http://127.0.0.1:9/fast");
  poster_.Block("http://127.0.0.1:9/slow");
  Start();
  for (int i = 0; i < 5; ++i) dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
  // All five reach the fast webhook while the slow one hangs on its first.
  ASSERT_TRUE(poster_.WaitForRequests("http://127.0.0.1:9/fast", 5));
  ASSERT_TRUE(poster_.WaitForRequests("http://127.0.0.1:9/slow", 1));
  EXPECT_EQ(poster_.RequestCount("http://127.0.0.1:9/slow"), 1u);
  poster_.Unblock("http://127.0.0.1:9/slow");
  Idle();
  EXPECT_EQ(poster_.RequestCount("http://127.0.0.1:9/slow"), 5u);
  EXPECT_EQ(StatsOf("fast").sent, 5u);
  EXPECT_EQ(StatsOf("slow").sent, 5u);
}

TEST_F(DispatcherTest, PublishNeverBlocksAndCountsOverflow) {
  options_.queue_capacity = 3;
  options_.webhook_queue_capacity = 2;
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.Block("http://127.0.0.1:9/hook");
  // Not started: the publish queue fills and overflows.
  dispatcher_ = std::make_unique<WebhookDispatcher>(store_, clock_, poster_, options_);
  for (int i = 0; i < 5; ++i) dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
  EXPECT_EQ(dispatcher_->Stats().published, 5u);
  EXPECT_EQ(dispatcher_->Stats().overflow, 2u);
  ASSERT_TRUE(dispatcher_->Start().ok());
  // One in flight (blocked), two queued, the rest dropped by the webhook queue.
  ASSERT_TRUE(poster_.WaitForRequests("", 1));
  for (int i = 5; i < 10; ++i) dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
  dispatcher_->Stop();  // cancels the blocked post
  DispatcherStats st = dispatcher_->Stats();
  EXPECT_EQ(st.published, 10u);
  const WebhookStats& w = st.webhooks["hook"];
  // Every routed event is accounted for exactly once.
  EXPECT_EQ(w.matched, w.sent + w.failed + w.dropped + w.abandoned + w.logged);
  EXPECT_GT(w.dropped + st.overflow + st.unrouted, 2u);
  EXPECT_GE(w.abandoned, 1u);  // the cancelled one at least
  EXPECT_EQ(w.sent, 0u);
}

TEST_F(DispatcherTest, RateLimitDropsOverTheLimit) {
  options_.rate_limit_count = 2;
  options_.rate_limit_window = std::chrono::hours(1);
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  Start();
  for (int i = 0; i < 4; ++i) dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
  Idle();
  EXPECT_EQ(poster_.request_count(), 2u);
  EXPECT_EQ(StatsOf("hook").rate_limited, 2u);
  EXPECT_EQ(StatsOf("hook").dropped, 2u);
  Advance(std::chrono::hours(1));
  dispatcher_->Publish(FlowEvent("e9"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 3u);
}

TEST_F(DispatcherTest, StopAbandonsPendingRetriesAndLeavesNoThread) {
  PutWebhook("hook", "Enabled", "", "http://127.0.0.1:9/hook");
  poster_.SetHandler([](const PostRequest&) -> Result<PostResponse> { return PostResponse{503, ""}; });
  Start();
  dispatcher_->Publish(FlowEvent("e1"));
  dispatcher_->Publish(FlowEvent("e2"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 2u);
  dispatcher_->Stop();
  dispatcher_->Stop();  // idempotent
  WebhookStats st = StatsOf("hook");
  EXPECT_EQ(st.abandoned, 2u);
  EXPECT_EQ(st.retried, 2u);  // both were scheduled for a retry
  // Publish after Stop is dropped, not queued.
  dispatcher_->Publish(FlowEvent("e3"));
  EXPECT_EQ(dispatcher_->Stats().overflow, 1u);
}

TEST_F(DispatcherTest, WatchFollowsCreateChangeAndDelete) {
  Start();
  PutWebhook("late", "Enabled", "type = gtf_suspicious_dns_query", "http://127.0.0.1:9/late");
  Sync();
  dispatcher_->Publish(FlowEvent("e1"));
  dispatcher_->Publish(DnsEvent("d1"));
  Idle();
  ASSERT_EQ(poster_.request_count(), 1u);
  // Query changed to flows; then deleted.
  PutWebhook("late", "Enabled", "record.flow_action = allow", "http://127.0.0.1:9/late");
  Sync();
  dispatcher_->Publish(FlowEvent("e2", "deny"));
  dispatcher_->Publish(FlowEvent("e3", "allow"));
  Idle();
  ASSERT_EQ(poster_.request_count(), 2u);
  EXPECT_EQ(json::parse(poster_.requests()[1].body).as_object()["id"], "e3");
  ASSERT_TRUE(store_.Delete({kind_, "", "late"}, 0).ok());
  Sync();
  dispatcher_->Publish(FlowEvent("e4", "allow"));
  Idle();
  EXPECT_EQ(poster_.request_count(), 2u);
}

TEST_F(DispatcherTest, WatchAloneSeesNewWebhooks) {
  Start();
  PutWebhook("w", "Enabled", "", "http://127.0.0.1:9/w");
  // No Sync(): the watch thread must pick it up; publish until it does.
  for (int i = 0; i < 3000 && poster_.request_count() == 0; ++i) {
    dispatcher_->Publish(FlowEvent("e" + std::to_string(i)));
    Idle();
    if (poster_.request_count() == 0) std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(poster_.request_count(), 1u);
}

TEST(WebhookHelpers, LabelsAnnotation) {
  EXPECT_EQ(ParseLabelsAnnotation("Cluster name:Calico Enterprise"),
            (json::object{{"Cluster name", "Calico Enterprise"}}));
  EXPECT_EQ(ParseLabelsAnnotation("a:1, b : 2,novalue,:x,c:d:e"),
            (json::object{{"a", "1"}, {"b", "2"}, {"c", "d:e"}}));
  EXPECT_EQ(ParseLabelsAnnotation(""), json::object{});
}

TEST(WebhookHelpers, GenericPayloadMergesLabels) {
  json::object event{{"id", "x"}, {"labels", json::object{{"app", "web"}, {"env", "pod"}}}};
  json::object payload = json::parse(GenericPayload(event, json::object{{"env", "hook"}})).as_object();
  EXPECT_EQ(payload["id"], "x");
  EXPECT_EQ(payload["labels"], (json::object{{"app", "web"}, {"env", "hook"}}));
}

TEST(WebhookHelpers, HeaderLines) {
  auto h = ParseHeaderLines("X-Token: abc\r\n\nContent-Type: text/plain\n");
  ASSERT_TRUE(h.ok()) << h.error().message();
  std::vector<std::pair<std::string, std::string>> want = {{"X-Token", "abc"},
                                                           {"Content-Type", "text/plain"}};
  EXPECT_EQ(*h, want);
  auto bad = ParseHeaderLines("X-Token: a\nBad Name: b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "config headers: line 2: header name 'Bad Name' may hold only letters, digits, '_' and '-'");
  EXPECT_FALSE(ParseHeaderLines("no colon here").ok());
}

}  // namespace
}  // namespace tw::webhook
