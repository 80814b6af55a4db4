// ApiHandler routes outside ResourceService: GET /threatwall/v1/explain with
// a hand-built policy program (no daemon, no sockets).
#include "api/api_handler.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/clock.h"
#include "store/mem_store.h"

namespace tw::api {
namespace {

namespace json = boost::json;

class RecordingWriter : public ResponseWriter {
 public:
  void Send(int code, std::string_view content_type, std::string body, const HttpHeaders&) override {
    this->code = code;
    this->content_type = std::string(content_type);
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

  int code = 0;
  std::string content_type;
  std::string body;
};

// default/web (10.0.0.2): ingress tier default with default.allow-http
// (allow TCP 80), end-of-tier deny.  default/pending: no IP yet.
std::shared_ptr<const policy::Program> TestProgram() {
  auto p = std::make_shared<policy::Program>();
  policy::Policy allow{"default.allow-http", "default", false, policy::Direction::kIngress, {}};
  policy::Rule rule;
  rule.action = policy::Action::kAllow;
  rule.match.protocol = 6;
  rule.match.dst.ports = {{80, 80}};
  rule.match.dst.ports_present = true;
  allow.rules.push_back(rule);
  p->policies.push_back(allow);
  policy::EndpointProgram web{"default", "web", "tw01", {*net::IpAddr::Parse("10.0.0.2")}, {}, {}};
  web.ingress.push_back(policy::TierStep{"default", {0}, true, "DPI|default"});
  p->endpoints["tw01"] = web;
  p->endpoints["tw02"] = policy::EndpointProgram{"default", "pending", "tw02", {}, {}, {}};
  return p;
}

HttpRequest Get(std::string path, std::vector<std::pair<std::string, std::string>> query,
                std::string token = "admin-token") {
  HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.target = r.path;
  r.query = std::move(query);
  if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
  return r;
}

class ExplainRouteTest : public ::testing::Test {
 protected:
  RecordingWriter Call(const HttpRequest& request, std::shared_ptr<const policy::Program> program,
                       bool with_provider = true) {
    ApiHandlerOptions options;
    if (with_provider) options.program_provider = [program] { return program; };
    ApiHandler handler(service_, auth_, options);
    RecordingWriter w;
    handler.Handle(request, w);
    return w;
  }

  store::MemStore store_;
  FakeClock clock_;
  ResourceService service_{store_, clock_};
  Authenticator auth_{"admin-token", "readonly-token"};
};

TEST_F(ExplainRouteTest, AnswersTheExplanation) {
  auto program = TestProgram();
  RecordingWriter w = Call(Get("/threatwall/v1/explain", {{"from", "1.2.3.4"}, {"to", "web"}, {"port", "80"}}),
                           program);
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.content_type, "application/json");
  policy::ExplainQuery q;
  q.from = "1.2.3.4";
  q.to = "web";
  q.port = 80;
  auto expected = policy::Explain(*program, q);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(w.Json(), policy::ExplainToJson(*expected));
  EXPECT_EQ(w.Json().at("verdict"), "allow");

  // Namespaces, protocol and ICMP fields reach the query.
  w = Call(Get("/threatwall/v1/explain", {{"from", "web"},
                                          {"fromNamespace", "default"},
                                          {"to", "10.0.0.9"},
                                          {"toNamespace", "other"},
                                          {"protocol", "icmp"},
                                          {"icmpType", "8"},
                                          {"icmpCode", "0"}}),
           program);
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.Json().at("flow").at("protocol"), "ICMP");
  EXPECT_EQ(w.Json().at("flow").at("icmpType"), 8);
  EXPECT_EQ(w.Json().at("from"), "default/web");

  // Port 22 is denied at the end of tier default: still a 200.
  w = Call(Get("/threatwall/v1/explain", {{"from", "1.2.3.4"}, {"to", "default/web"}, {"port", "22"}}), program);
  ASSERT_EQ(w.code, 200) << w.body;
  EXPECT_EQ(w.Json().at("allowed"), false);
}

TEST_F(ExplainRouteTest, ReadOnlyTokenMayAskButNotPost) {
  auto program = TestProgram();
  HttpRequest r = Get("/threatwall/v1/explain", {{"from", "1.2.3.4"}, {"to", "web"}, {"port", "80"}},
                      "readonly-token");
  EXPECT_EQ(Call(r, program).code, 200);
  r.method = "POST";
  EXPECT_EQ(Call(r, program).code, 403);
  r.headers.clear();
  r.headers.emplace_back("authorization", "Bearer admin-token");
  RecordingWriter w = Call(r, program);
  EXPECT_EQ(w.code, 405);
  r.headers.clear();
  r.method = "GET";
  EXPECT_EQ(Call(r, program).code, 401);
}

TEST_F(ExplainRouteTest, BadQueriesAre400StatusBodies) {
  auto program = TestProgram();
  struct Case {
    std::vector<std::pair<std::string, std::string>> query;
    std::string message;
  };
  std::vector<Case> cases = {
      {{{"to", "web"}, {"port", "80"}}, "--from: required (a pod name, NS/NAME or an IP address)"},
      {{{"from", "nope"}, {"to", "web"}, {"port", "80"}}, "--from nope: no pod default/nope"},
      {{{"from", "web"}, {"to", "pending"}, {"port", "80"}}, "--to pending: pod default/pending has no IP yet"},
      {{{"from", "web"}, {"to", "web"}, {"toNamespace", "x"}, {"port", "80"}}, "--to web: no pod x/web"},
      {{{"from", "web"}, {"to", "1.1.1.1"}, {"port", "http"}},
       "port: invalid value 'http': must be an integer 0-65535"},
      {{{"from", "web"}, {"to", "1.1.1.1"}, {"port", "65536"}},
       "port: invalid value '65536': must be an integer 0-65535"},
      {{{"from", "web"}, {"to", "1.1.1.1"}, {"protocol", "icmp"}, {"icmpType", "-1"}},
       "icmpType: invalid value '-1': must be an integer 0-255"},
      {{{"from", "web"}, {"to", "1.1.1.1"}, {"protocol", "icmp"}, {"icmpType", "1"}, {"icmpCode", ""}},
       "icmpCode: invalid value '': must be an integer 0-255"},
      {{{"from", "web"}, {"to", "1.1.1.1"}, {"protocol", "GRE"}},
       "--protocol GRE: must be TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or 1-255"},
      {{{"from", "web"}, {"to", "1.1.1.1"}}, "--port: required for protocol TCP (the destination port)"},
  };
  for (const Case& c : cases) {
    RecordingWriter w = Call(Get("/threatwall/v1/explain", c.query), program);
    EXPECT_EQ(w.code, 400) << c.message << ": " << w.body;
    json::value body = w.Json();
    EXPECT_EQ(body.at("kind"), "Status");
    EXPECT_EQ(body.at("status"), "Failure");
    EXPECT_EQ(body.at("code"), 400);
    EXPECT_EQ(body.at("reason"), "BadRequest");
    EXPECT_EQ(w.Message(), c.message);
  }
}

TEST_F(ExplainRouteTest, NoProgramIs503) {
  HttpRequest r = Get("/threatwall/v1/explain", {{"from", "1.2.3.4"}, {"to", "web"}, {"port", "80"}});
  RecordingWriter w = Call(r, nullptr, /*with_provider=*/false);
  EXPECT_EQ(w.code, 503);
  EXPECT_EQ(w.Message(), "policy agent not running: no policy program to explain");
  EXPECT_EQ(w.Json().at("reason"), "ServiceUnavailable");
  w = Call(r, nullptr, /*with_provider=*/true);  // the provider has nothing yet
  EXPECT_EQ(w.code, 503);
}

TEST_F(ExplainRouteTest, OtherThreatwallPathsAre404) {
  auto program = TestProgram();
  EXPECT_EQ(Call(Get("/threatwall/v1/nope", {}), program).code, 404);
  EXPECT_EQ(Call(Get("/threatwall/v2/explain", {}), program).code, 404);
  EXPECT_EQ(Call(Get("/threatwall/v1/explain/x", {}), program).code, 404);
}

TEST_F(ExplainRouteTest, MetricsNeedATokenAndAProvider) {
  ApiHandlerOptions options;
  ApiHandler none(service_, auth_, options);
  RecordingWriter w;
  none.Handle(Get("/metrics", {}), w);
  EXPECT_EQ(w.code, 503);
  options.metrics_provider = [] { return std::string("threatwall_events_total 3\n"); };
  ApiHandler handler(service_, auth_, options);
  RecordingWriter ok;
  handler.Handle(Get("/metrics", {}, "readonly-token"), ok);
  EXPECT_EQ(ok.code, 200);
  EXPECT_EQ(ok.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(ok.body, "threatwall_events_total 3\n");
  RecordingWriter anonymous;
  handler.Handle(Get("/metrics", {}, ""), anonymous);
  EXPECT_EQ(anonymous.code, 401);
  HttpRequest post = Get("/metrics", {});
  post.method = "POST";
  RecordingWriter refused;
  handler.Handle(post, refused);
  EXPECT_EQ(refused.code, 405);
}

TEST(ExplainQueryFromRequestTest, DefaultsAndValues) {
  HttpRequest r = Get("/threatwall/v1/explain", {{"from", "a"}, {"to", "b"}});
  auto q = ExplainQueryFromRequest(r);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from_ns, "default");
  EXPECT_EQ(q->to_ns, "default");
  EXPECT_EQ(q->protocol, "TCP");
  EXPECT_FALSE(q->port.has_value());
  EXPECT_FALSE(q->icmp_type.has_value());

  r = Get("/threatwall/v1/explain", {{"from", "a"}, {"to", "b"}, {"fromNamespace", "x"}, {"toNamespace", "y"},
                                     {"port", "443"}, {"protocol", "udp"}, {"icmpType", "3"}, {"icmpCode", "4"}});
  q = ExplainQueryFromRequest(r);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from_ns, "x");
  EXPECT_EQ(q->to_ns, "y");
  EXPECT_EQ(q->port, 443);
  EXPECT_EQ(q->protocol, "udp");
  EXPECT_EQ(q->icmp_type, 3);
  EXPECT_EQ(q->icmp_code, 4);
}

}  // namespace
}  // namespace tw::api
