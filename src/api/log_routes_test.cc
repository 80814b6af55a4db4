// The log routes (/threatwall/v1/flowlogs, dnslogs, events, dismiss)
// through ApiHandler, over a real LogStore in a temporary directory and a
// fake clock (no sockets).
#include "api/log_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/api_handler.h"
#include "base/clock.h"
#include "base/test_temp_dir.h"
#include "store/mem_store.h"

namespace tw::api {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

class RecordingWriter : public ResponseWriter {
 public:
  void Send(int code, std::string_view, std::string body, const HttpHeaders&) override {
    this->code = code;
    this->body = std::move(body);
  }
  bool StartStream(int, std::string_view) override { return false; }
  bool WriteChunk(std::string_view) override { return false; }
  void EndStream() override {}
  bool Stopping() override { return true; }

  json::value Json() const { return json::parse(body); }
  std::string Message() const {
    json::value v = Json();
    const json::value* m = v.is_object() ? v.as_object().if_contains("message") : nullptr;
    return m && m->is_string() ? std::string(m->get_string()) : "";
  }
  // The values of `field` in the items, in order.
  std::vector<std::string> Items(std::string_view field) const {
    std::vector<std::string> out;
    json::value body = Json();
    for (const json::value& item : body.at("items").as_array()) {
      const json::value& v = item.at(field);
      out.push_back(v.is_string() ? std::string(v.as_string()) : json::serialize(v));
    }
    return out;
  }

  int code = 0;
  std::string body;
};

// FakeClock's start, 2026-01-01T00:00:00Z, in Unix seconds.
constexpr int64_t kNow = 1767225600;

json::object Flow(std::string id, int64_t end, std::string action, std::string src_ns, std::string src_name,
                  std::string policy) {
  return json::object{{"start_time", end - 10},
                      {"end_time", end},
                      {"test_id", id},
                      {"source_ip", "10.244.0.2"},
                      {"source_name", src_name},
                      {"source_namespace", src_ns},
                      {"source_type", "wep"},
                      {"dest_ip", "5.196.58.96"},
                      {"dest_name", "-"},
                      {"dest_namespace", "-"},
                      {"dest_port", 443},
                      {"proto", "tcp"},
                      {"action", action},
                      {"reporter", "src"},
                      {"policies", json::object{{"all_policies", json::array{policy}},
                                                {"enforced_policies", json::array{policy}},
                                                {"pending_policies", json::array{}}}}};
}

json::object Event(std::string id, int64_t time, std::string type, std::string feed) {
  return json::object{{"id", id},
                      {"time", time},
                      {"type", type},
                      {"source_namespace", "default"},
                      {"source_name", "tf-ubuntu"},
                      {"record", json::object{{"feeds", json::array{feed}}}}};
}

class LogRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logstore::LogStoreOptions o;
    o.clock = &clock_;
    auto s = logstore::LogStore::Open(dir_.path() + "/logs.db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    logs_ = std::move(*s);
    std::vector<json::object> flows = {
        Flow("old-allow", kNow - 7200, "allow", "default", "web", "0|default|default.allow-web|allow|0"),
        Flow("deny", kNow - 300, "deny", "default", "tf-ubuntu", "0|security|security.block-snort|deny|0"),
        Flow("allow", kNow - 60, "allow", "prod", "db", "0|__PROFILE__|__PROFILE__.kns.prod|allow|0"),
    };
    ASSERT_TRUE(logs_->AppendFlows(flows).ok());
    std::vector<json::object> dns = {
        json::object{{"end_time", "2025-12-31T23:59:00Z"}, {"qname", "evil.example.com"}, {"rcode", "NoError"},
                     {"client_namespace", "default"}, {"client_name", "web"}},
        json::object{{"end_time", "2025-12-31T23:59:30Z"}, {"qname", "example.org"}, {"rcode", "NXDomain"},
                     {"client_namespace", "prod"}, {"client_name", "db"}},
    };
    ASSERT_TRUE(logs_->AppendDns(dns).ok());
    ASSERT_TRUE(logs_->PutEvent(Event("snort_1", kNow - 200, "gtf_suspicious_flow", "snort")).ok());
    ASSERT_TRUE(logs_->PutEvent(Event("evil/2", kNow - 100, "gtf_suspicious_dns_query", "evil-domains")).ok());
  }

  RecordingWriter Call(const HttpRequest& request, bool with_store = true) {
    ApiHandlerOptions options;
    options.clock = &clock_;
    if (with_store) options.logs = logs_.get();
    ApiHandler handler(service_, auth_, options);
    RecordingWriter w;
    handler.Handle(request, w);
    return w;
  }

  static HttpRequest Request(std::string method, std::string path,
                             std::vector<std::pair<std::string, std::string>> query = {},
                             std::string token = "admin-token") {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    r.query = std::move(query);
    r.headers.emplace_back("authorization", "Bearer " + token);
    return r;
  }
  static HttpRequest Get(std::string path, std::vector<std::pair<std::string, std::string>> query = {}) {
    return Request("GET", std::move(path), std::move(query));
  }

  tw::testing::TempDir dir_{"log_routes"};
  FakeClock clock_;
  std::unique_ptr<logstore::LogStore> logs_;
  store::MemStore store_;
  ResourceService service_{store_, clock_};
  Authenticator auth_{"admin-token", "readonly-token"};
};

TEST_F(LogRoutesTest, FlowLogsNewestFirstAsStored) {
  RecordingWriter w = Call(Get("/threatwall/v1/flowlogs"));
  ASSERT_EQ(w.code, 200) << w.body;
  json::value body = w.Json();
  ASSERT_EQ(body.as_object().size(), 1u) << w.body;  // {"items": [...]} only
  EXPECT_EQ(w.Items("test_id"), (std::vector<std::string>{"allow", "deny", "old-allow"}));
  // Records come back exactly as stored, Calico's field names included.
  EXPECT_EQ(body.at("items").at(1).as_object(),
            Flow("deny", kNow - 300, "deny", "default", "tf-ubuntu", "0|security|security.block-snort|deny|0"));
}

TEST_F(LogRoutesTest, SinceUntilTakeDurationsOrRfc3339) {
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"since", "10m"}})).Items("test_id"),
            (std::vector<std::string>{"allow", "deny"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"since", "2m"}})).Items("test_id"),
            (std::vector<std::string>{"allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"since", "3h"}, {"until", "2m"}})).Items("test_id"),
            (std::vector<std::string>{"deny", "old-allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"until", "2025-12-31T23:00:00Z"}})).Items("test_id"),
            (std::vector<std::string>{"old-allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"since", "2025-12-31T23:55:00Z"}})).Items("test_id"),
            (std::vector<std::string>{"allow", "deny"}));
  // DNS logs with RFC 3339 times.
  EXPECT_EQ(Call(Get("/threatwall/v1/dnslogs", {{"since", "45s"}})).Items("qname"),
            (std::vector<std::string>{"example.org"}));
}

TEST_F(LogRoutesTest, WhereFieldsPassThrough) {
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"action", "deny"}})).Items("test_id"),
            (std::vector<std::string>{"deny"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"pod", "default/web"}})).Items("test_id"),
            (std::vector<std::string>{"old-allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"namespace", "prod"}})).Items("test_id"),
            (std::vector<std::string>{"allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"policy", "block-snort"}, {"action", "deny"}})).Items("test_id"),
            (std::vector<std::string>{"deny"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"action", "allow"}, {"since", "1h"}})).Items("test_id"),
            (std::vector<std::string>{"allow"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/dnslogs", {{"qname", "evil.example.com"}})).Items("client_name"),
            (std::vector<std::string>{"web"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/dnslogs", {{"pod", "prod/db"}})).Items("qname"),
            (std::vector<std::string>{"example.org"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/events", {{"feed", "snort"}})).Items("id"),
            (std::vector<std::string>{"snort_1"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/events", {{"type", "gtf_suspicious_dns_query"}})).Items("id"),
            (std::vector<std::string>{"evil/2"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/events")).Items("id"), (std::vector<std::string>{"evil/2", "snort_1"}));
}

TEST_F(LogRoutesTest, LimitDefaultsTo100AndIsBounded) {
  std::vector<json::object> many;
  for (int i = 0; i < 150; ++i) many.push_back(Flow("bulk", kNow - 1000 + i, "allow", "bulk", "b", "x"));
  ASSERT_TRUE(logs_->AppendFlows(many).ok());
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs")).Items("test_id").size(), kDefaultLogLimit);
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"limit", "2"}})).Items("test_id"),
            (std::vector<std::string>{"allow", "deny"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/flowlogs", {{"limit", "100000"}})).Items("test_id").size(), 153u);
}

TEST_F(LogRoutesTest, BadParametersAre400NamingThem) {
  struct Case {
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    std::string message;  // a prefix of the Status message
  };
  std::vector<Case> cases = {
      {"/threatwall/v1/flowlogs", {{"limit", "0"}}, "limit: invalid value '0': must be an integer 1-100000"},
      {"/threatwall/v1/flowlogs", {{"limit", "100001"}}, "limit: invalid value '100001': must be an integer 1-100000"},
      {"/threatwall/v1/flowlogs", {{"limit", "ten"}}, "limit: invalid value 'ten': must be an integer 1-100000"},
      {"/threatwall/v1/flowlogs", {{"since", "10x"}},
       "since: invalid value '10x': must be a duration such as 10m or 1h30m, or an RFC 3339 time"},
      {"/threatwall/v1/dnslogs", {{"until", "-5m"}},
       "until: invalid value '-5m': must be a duration such as 10m or 1h30m, or an RFC 3339 time"},
      {"/threatwall/v1/events", {{"since", ""}},
       "since: invalid value '': must be a duration such as 10m or 1h30m, or an RFC 3339 time"},
      {"/threatwall/v1/flowlogs", {{"qname", "x"}}, "flow log query: where.qname: unknown field"},
      {"/threatwall/v1/flowlogs", {{"pod", "tf-ubuntu"}},
       "flow log query: where.pod: \"tf-ubuntu\": must be NAMESPACE/NAME"},
      {"/threatwall/v1/dnslogs", {{"action", "deny"}}, "DNS log query: where.action: unknown field"},
      {"/threatwall/v1/events", {{"dismissed", "yes"}},
       "event query: where.dismissed: \"yes\": must be true or false"},
  };
  for (const Case& c : cases) {
    RecordingWriter w = Call(Get(c.path, c.query));
    EXPECT_EQ(w.code, 400) << c.message << ": " << w.body;
    EXPECT_EQ(w.Json().at("kind"), "Status");
    EXPECT_EQ(w.Json().at("reason"), "BadRequest");
    EXPECT_EQ(w.Message().substr(0, c.message.size()), c.message) << w.Message();
  }
}

TEST_F(LogRoutesTest, DismissNeedsAdminAndMarksTheEvent) {
  // The read-only token may read but not dismiss.
  RecordingWriter w = Call(Request("GET", "/threatwall/v1/events", {}, "readonly-token"));
  EXPECT_EQ(w.code, 200);
  w = Call(Request("POST", "/threatwall/v1/events/snort_1/dismiss", {}, "readonly-token"));
  EXPECT_EQ(w.code, 403) << w.body;
  EXPECT_FALSE(logs_->GetEvent("snort_1")->at("dismissed").as_bool());

  w = Call(Request("POST", "/threatwall/v1/events/snort_1/dismiss"));
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.Json().at("id"), "snort_1");
  EXPECT_EQ(w.Json().at("dismissed"), true);
  EXPECT_EQ(w.Json().at("record").at("feeds").at(0), "snort");
  EXPECT_TRUE(logs_->GetEvent("snort_1")->at("dismissed").as_bool());
  // Idempotent.
  EXPECT_EQ(Call(Request("POST", "/threatwall/v1/events/snort_1/dismiss")).code, 200);

  EXPECT_EQ(Call(Get("/threatwall/v1/events", {{"dismissed", "false"}})).Items("id"),
            (std::vector<std::string>{"evil/2"}));
  EXPECT_EQ(Call(Get("/threatwall/v1/events", {{"dismissed", "true"}})).Items("id"),
            (std::vector<std::string>{"snort_1"}));

  // An id with a slash (sent as %2F, decoded in the path).
  w = Call(Request("POST", "/threatwall/v1/events/evil/2/dismiss"));
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.Json().at("id"), "evil/2");
}

TEST_F(LogRoutesTest, OneEventAndUnknownIds) {
  RecordingWriter w = Call(Get("/threatwall/v1/events/evil/2"));
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.Json().at("type"), "gtf_suspicious_dns_query");
  EXPECT_EQ(w.Json().at("dismissed"), false);

  w = Call(Request("POST", "/threatwall/v1/events/nope/dismiss"));
  EXPECT_EQ(w.code, 404) << w.body;
  EXPECT_EQ(w.Json().at("reason"), "NotFound");
  EXPECT_EQ(w.Message(), "event \"nope\": not found");
  EXPECT_EQ(Call(Get("/threatwall/v1/events/nope")).code, 404);
  EXPECT_EQ(Call(Get("/threatwall/v1/events/")).code, 404);
}

TEST_F(LogRoutesTest, WrongMethodsAre405) {
  EXPECT_EQ(Call(Request("POST", "/threatwall/v1/flowlogs")).code, 405);
  EXPECT_EQ(Call(Request("DELETE", "/threatwall/v1/events")).code, 405);
  EXPECT_EQ(Call(Request("GET", "/threatwall/v1/events/snort_1/dismiss")).code, 405);
  EXPECT_EQ(Call(Request("PUT", "/threatwall/v1/events/snort_1")).code, 405);
  EXPECT_FALSE(logs_->GetEvent("snort_1")->at("dismissed").as_bool());
}

TEST_F(LogRoutesTest, NoLogStoreIs503) {
  for (const char* path : {"/threatwall/v1/flowlogs", "/threatwall/v1/dnslogs", "/threatwall/v1/events"}) {
    RecordingWriter w = Call(Get(path), /*with_store=*/false);
    EXPECT_EQ(w.code, 503) << path;
    EXPECT_EQ(w.Json().at("reason"), "ServiceUnavailable");
    EXPECT_EQ(w.Message().substr(0, 19), "log store not open:") << w.Message();
  }
  EXPECT_EQ(Call(Request("POST", "/threatwall/v1/events/x/dismiss"), false).code, 503);
}

TEST_F(LogRoutesTest, NeedsAToken) {
  HttpRequest r = Get("/threatwall/v1/flowlogs");
  r.headers.clear();
  EXPECT_EQ(Call(r).code, 401);
}

TEST(LogRoutesPathTest, IsLogRoute) {
  EXPECT_TRUE(IsLogRoute("/threatwall/v1/flowlogs"));
  EXPECT_TRUE(IsLogRoute("/threatwall/v1/dnslogs"));
  EXPECT_TRUE(IsLogRoute("/threatwall/v1/events"));
  EXPECT_TRUE(IsLogRoute("/threatwall/v1/events/a/dismiss"));
  EXPECT_FALSE(IsLogRoute("/threatwall/v1/explain"));
  EXPECT_FALSE(IsLogRoute("/threatwall/v1/flowlogs/x"));
  EXPECT_FALSE(IsLogRoute("/threatwall/v1/eventsx"));
  EXPECT_FALSE(IsLogRoute("/threatwall/v2/events"));
}

TEST(LogRoutesPathTest, ParseLogTime) {
  auto now = std::chrono::system_clock::time_point(seconds(kNow));
  EXPECT_EQ(*ParseLogTime("since", "10m", now), now - std::chrono::minutes(10));
  EXPECT_EQ(*ParseLogTime("since", "1h30m", now), now - std::chrono::minutes(90));
  EXPECT_EQ(*ParseLogTime("since", "0s", now), now);
  EXPECT_EQ(*ParseLogTime("until", "2026-01-01T01:00:00+01:00", now), now);
  EXPECT_EQ(ParseLogTime("until", "yesterday", now).status().message(),
            "until: invalid value 'yesterday': must be a duration such as 10m or 1h30m, or an RFC 3339 time");
  EXPECT_FALSE(ParseLogTime("since", "10", now).ok());
  EXPECT_FALSE(ParseLogTime("since", "-1m", now).ok());
}

}  // namespace
}  // namespace tw::api
