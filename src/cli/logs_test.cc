// `threatwall flows`, `dnslogs`, `events` and `events dismiss` against an
// in-process API server on loopback (ApiHandler over a real LogStore in a
// temporary directory, a fake clock), plus their pure parts.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "api/api_handler.h"
#include "api/http_server.h"
#include "base/clock.h"
#include "base/test_temp_dir.h"
#include "cli/commands.h"
#include "logstore/log_store.h"
#include "store/mem_store.h"

namespace tw::cli {
namespace {

namespace json = boost::json;

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

// FakeClock's start, 2026-01-01T00:00:00Z, in Unix seconds.
constexpr int64_t kNow = 1767225600;

// The seed's denied connection: default/tf-ubuntu -> 5.196.58.96:443
// (in GlobalNetworkSet threatfeed.snort-ip-block-list), 45 s ago.
json::object DenyFlow() {
  return json::object{
      {"start_time", kNow - 60},
      {"end_time", kNow - 45},
      {"source_ip", "10.244.0.2"},
      {"source_port", 40312},
      {"source_name", "tf-ubuntu"},
      {"source_name_aggr", "tf-ubuntu"},
      {"source_namespace", "default"},
      {"source_type", "wep"},
      {"source_labels", json::object{{"labels", json::array{"app=tf-ubuntu"}}}},
      {"dest_ip", "5.196.58.96"},
      {"dest_port", 443},
      {"dest_name", "threatfeed.snort-ip-block-list"},
      {"dest_name_aggr", "threatfeed.snort-ip-block-list"},
      {"dest_namespace", "-"},
      {"dest_type", "ns"},
      {"dest_labels", json::object{{"labels", json::array{"feed=snort"}}}},
      {"proto", "tcp"},
      {"action", "deny"},
      {"reporter", "src"},
      {"policies",
       json::object{{"all_policies", json::array{"0|security|staged:security.audit|deny|0",
                                                 "1|security|security.block-snort|deny|0"}},
                    {"enforced_policies", json::array{"0|security|security.block-snort|deny|0"}},
                    {"pending_policies", json::array{"0|security|staged:security.audit|deny|0"}}}},
      {"bytes_in", 0},
      {"bytes_out", 180},
      {"packets_in", 0},
      {"packets_out", 3},
      {"num_flows", 1},
      {"num_flows_started", 1},
      {"num_flows_completed", 0},
  };
}

// prod/db -> 1.1.1.1:53 (udp), allowed by the namespace profile, an hour ago.
json::object AllowFlow() {
  return json::object{
      {"start_time", kNow - 3600},
      {"end_time", kNow - 3570},
      {"source_ip", "10.244.0.7"},
      {"source_port", 5353},
      {"source_name", "db"},
      {"source_name_aggr", "db"},
      {"source_namespace", "prod"},
      {"source_type", "wep"},
      {"source_labels", nullptr},
      {"dest_ip", "1.1.1.1"},
      {"dest_port", 53},
      {"dest_name", "-"},
      {"dest_name_aggr", "pub"},
      {"dest_namespace", "-"},
      {"dest_type", "net"},
      {"proto", "udp"},
      {"action", "allow"},
      {"reporter", "src"},
      {"policies", json::object{{"all_policies", json::array{"0|__PROFILE__|__PROFILE__.kns.prod|allow|0"}},
                                {"enforced_policies", json::array{"0|__PROFILE__|__PROFILE__.kns.prod|allow|0"}},
                                {"pending_policies", json::array{}}}},
      {"bytes_in", 120},
      {"bytes_out", 60},
      {"packets_in", 1},
      {"packets_out", 1},
      {"num_flows", 2},
      {"num_flows_started", 2},
      {"num_flows_completed", 2},
  };
}

json::object DnsEvil() {
  return json::object{
      {"start_time", "2025-12-31T23:59:40Z"},
      {"end_time", "2025-12-31T23:59:50.123Z"},
      {"type", "log"},
      {"count", 2},
      {"client_ip", "10.244.0.3"},
      {"client_name", "web"},
      {"client_name_aggr", "web"},
      {"client_namespace", "default"},
      {"client_labels", json::object{{"labels", json::array{"app=web"}}}},
      {"qname", "evil.example.com"},
      {"qtype", "A"},
      {"qclass", "IN"},
      {"rcode", "NoError"},
      {"rrsets", json::array{json::object{{"name", "evil.example.com"},
                                          {"class", "IN"},
                                          {"type", "A"},
                                          {"rdata", json::array{"203.0.113.7", "203.0.113.8"}}}}},
      {"servers", json::array{json::object{{"ip", "10.96.0.10"}, {"name", "-"}, {"name_aggr", "pvt"},
                                           {"namespace", "-"}}}},
      {"latency", json::object{{"count", 1}, {"mean", 350000}, {"max", 350000}}},
  };
}

// An aggregated client (no IP, no name), no answer, two hours ago.
json::object DnsAggregated() {
  return json::object{
      {"start_time", "2025-12-31T22:00:00Z"},
      {"count", 1},
      {"client_ip", nullptr},
      {"client_name", "-"},
      {"client_name_aggr", "batch-*"},
      {"client_namespace", "jobs"},
      {"qname", "example.org"},
      {"qtype", "AAAA"},
      {"rcode", "NXDomain"},
      {"rrsets", json::array{}},
      {"latency_mean", 12345678},
  };
}

constexpr char kFlowEventId[] = "snort-ip-block-list_1767225540_tcp_10.244.0.2_40312_5.196.58.96_443";
constexpr char kDnsEventId[] = "evil-domains_1767225590_10.244.0.3_evil.example.com";

json::object FlowEvent() {
  return json::object{
      {"id", kFlowEventId},
      {"time", kNow - 30},
      {"type", "gtf_suspicious_flow"},
      {"description",
       "pod default/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat Feed "
       "snort-ip-block-list"},
      {"severity", 100},
      {"origin", "Suspicious Flow"},
      {"name", "Suspicious Flow"},
      {"attack_vector", "Network"},
      {"mitre_ids", json::array{"T1041"}},
      {"mitre_tactic", "Exfiltration"},
      {"mitigations", json::array{"No mitigation needed, blocked by Calico"}},
      {"source_ip", "10.244.0.2"},
      {"source_port", 40312},
      {"source_namespace", "default"},
      {"source_name", "tf-ubuntu"},
      {"source_labels", json::object{{"labels", json::array{"app=tf-ubuntu"}}}},
      {"dest_ip", "5.196.58.96"},
      {"dest_port", 443},
      {"dest_namespace", "-"},
      {"dest_name", "-"},
      {"record", json::object{{"flow_action", "deny"},
                              {"protocol", "tcp"},
                              {"feeds", json::array{"snort-ip-block-list"}},
                              {"suspicious_prefix", "5.196.58.96/32"}}},
  };
}

// Its description carries a terminal escape (an OSC title change + BEL),
// as a hostile DNS name could.
json::object DnsEvent() {
  return json::object{
      {"id", kDnsEventId},
      {"time", kNow - 10},
      {"type", "gtf_suspicious_dns_query"},
      {"description", "default/web queried the domain name evil.example.com\x1b]0;pwned\x07 from feed evil-domains"},
      {"severity", 100},
      {"mitre_ids", json::array{"T1041"}},
      {"mitre_tactic", "Exfiltration"},
      {"source_ip", "10.244.0.3"},
      {"source_namespace", "default"},
      {"source_name", "web"},
      {"record", json::object{{"feeds", json::array{"evil-domains"}},
                              {"suspicious_domains", json::array{"evil.example.com"}}}},
  };
}

json::object OldEvent() {
  return json::object{{"id", "old_1"},
                      {"time", kNow - 5000},
                      {"type", "gtf_suspicious_flow"},
                      {"description", "old"},
                      {"source_ip", "10.244.0.9"},
                      {"dest_ip", "198.51.100.1"},
                      {"record", json::object{{"flow_action", "allow"}, {"feeds", json::array{"snort-ip-block-list"}}}}};
}

// A threatwalld API on 127.0.0.1 (any port) with tokens "admin" and
// "readonly", serving a LogStore with the records above.
class LogsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    logstore::LogStoreOptions o;
    o.clock = &clock_;
    o.check_integrity_on_open = false;
    auto s = logstore::LogStore::Open(dir_.path() + "/logs.db", o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    logs_ = std::move(*s);
    std::vector<json::object> flows = {AllowFlow(), DenyFlow()};
    ASSERT_TRUE(logs_->AppendFlows(flows).ok());
    std::vector<json::object> dns = {DnsAggregated(), DnsEvil()};
    ASSERT_TRUE(logs_->AppendDns(dns).ok());
    for (const json::object& e : {FlowEvent(), DnsEvent(), OldEvent()}) ASSERT_TRUE(logs_->PutEvent(e).ok());
    ASSERT_TRUE(logs_->DismissEvent("old_1").ok());
  }

  void StartServer(bool with_store = true) {
    api::ApiHandlerOptions options;
    options.clock = &clock_;
    if (with_store) options.logs = logs_.get();
    handler_ = std::make_unique<api::ApiHandler>(service_, auth_, options);
    auto server = api::HttpServer::Start(api::HttpServerOptions{}, handler_->AsHttpHandler());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  RunResult Cli(std::vector<std::string> args, std::string token = "admin") {
    args.insert(args.begin(), {"--server", url_, "--token", token});
    std::ostringstream out, err;
    ConfigInputs in;
    in.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    int code = cli::Run(args, out, err, in);
    return {code, out.str(), err.str()};
  }

  // `field` of each item `threatwall COMMAND ARGS... -o json` prints.
  std::vector<std::string> Column(const std::string& command, const std::string& field,
                                  std::vector<std::string> args) {
    args.insert(args.begin(), command);
    args.insert(args.end(), {"-o", "json"});
    RunResult r = Cli(args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> out;
    json::value body = json::parse(r.out);
    for (const json::value& item : body.at("items").as_array())
      out.push_back(std::string(item.at(field).as_string()));
    return out;
  }

  tw::testing::TempDir dir_{"logs_cli"};
  FakeClock clock_;
  std::unique_ptr<logstore::LogStore> logs_;
  store::MemStore store_;
  api::ResourceService service_{store_, clock_};
  api::Authenticator auth_{"admin", "readonly"};
  std::unique_ptr<api::ApiHandler> handler_;
  std::unique_ptr<api::HttpServer> server_;
  std::string url_;
};

// ------------------------------------------------------------------ flows

TEST_F(LogsCliTest, FlowsTable) {
  StartServer();
  RunResult r = Cli({"flows"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "TIME                   SOURCE              DEST          PORT   PROTO   ACTION   REPORTER   POLICY                                     PACKETS   BYTES\n"
            "2025-12-31T23:59:15Z   default/tf-ubuntu   5.196.58.96   443    tcp     deny     src        security|security.block-snort|deny|0       0/3       0/180\n"
            "2025-12-31T23:00:30Z   prod/db             1.1.1.1       53     udp     allow    src        __PROFILE__|__PROFILE__.kns.prod|allow|0   1/1       120/60\n");
}

TEST_F(LogsCliTest, FlowsWide) {
  StartServer();
  RunResult r = Cli({"flows", "-o", "wide", "--action", "deny"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TIME                   SOURCE              DEST          PORT   PROTO   ACTION   REPORTER   POLICY                                 PACKETS   BYTES   SOURCE_LABELS   DEST_LABELS   ALL_POLICIES                                                                     FLOWS   STARTED   COMPLETED\n"
            "2025-12-31T23:59:15Z   default/tf-ubuntu   5.196.58.96   443    tcp     deny     src        security|security.block-snort|deny|0   0/3       0/180   app=tf-ubuntu   feed=snort    0|security|staged:security.audit|deny|0,1|security|security.block-snort|deny|0   1       1         0\n");
}

TEST_F(LogsCliTest, FlowsJsonIsTheStoredRecords) {
  StartServer();
  RunResult r = Cli({"flows", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  json::value v = json::parse(r.out);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.as_object().size(), 1u);
  ASSERT_EQ(v.at("items").as_array().size(), 2u);
  EXPECT_EQ(v.at("items").at(0).as_object(), DenyFlow());
  EXPECT_EQ(v.at("items").at(1).as_object(), AllowFlow());
  EXPECT_EQ(v.at("items").at(0).at("policies").at("all_policies").at(1), "1|security|security.block-snort|deny|0");

  r = Cli({"flows", "-o", "yaml", "--action", "allow"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("items:\n- action: allow\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  dest_ip: 1.1.1.1\n"), std::string::npos) << r.out;
}

TEST_F(LogsCliTest, FlowFiltersReachTheServer) {
  StartServer();
  auto sources = [&](std::vector<std::string> args) { return Column("flows", "source_name", std::move(args)); };
  using V = std::vector<std::string>;
  EXPECT_EQ(sources({"--action", "deny"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--action", "allow"}), V{"db"});
  EXPECT_EQ(sources({"--since", "10m"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--until", "10m"}), V{"db"});
  EXPECT_EQ(sources({"--since", "2025-12-31T23:30:00Z"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--pod", "tf-ubuntu"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--pod", "db", "-n", "prod"}), V{"db"});
  EXPECT_EQ(sources({"--pod", "prod/db"}), V{"db"});
  EXPECT_EQ(sources({"--namespace", "prod"}), V{"db"});
  EXPECT_EQ(sources({"--policy", "block-snort"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--policy", "staged:"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--protocol", "udp"}), V{"db"});
  EXPECT_EQ(sources({"--limit", "1"}), V{"tf-ubuntu"});
  EXPECT_EQ(sources({"--action", "deny", "--namespace", "prod"}), V{});
}

TEST_F(LogsCliTest, FlowErrors) {
  StartServer();
  RunResult r = Cli({"flows", "--action", "drop"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "threatwall flows: --action 'drop': must be allow or deny\nSee 'threatwall flows --help'.\n");
  r = Cli({"flows", "-o", "name"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--output 'name': must be wide, json or yaml"), std::string::npos) << r.err;
  r = Cli({"flows", "extra"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unexpected argument 'extra'"), std::string::npos) << r.err;
  // Checked by the server, named in its answer.
  r = Cli({"flows", "--since", "yesterday"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "Error from server (BadRequest): since: invalid value 'yesterday': must be a duration such as 10m or "
            "1h30m, or an RFC 3339 time\n");
  r = Cli({"flows", "--limit", "0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error from server (BadRequest): limit: invalid value '0': must be an integer 1-100000\n");
  r = Cli({"flows", "--pod", "a/b/c"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("where.pod"), std::string::npos) << r.err;
}

TEST_F(LogsCliTest, EmptyResultsSayNothingFound) {
  StartServer();
  RunResult r = Cli({"flows", "--namespace", "nowhere"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No flow logs found.\n");
  r = Cli({"dnslogs", "--qname", "nothing.example"});
  EXPECT_EQ(r.err, "No DNS logs found.\n");
  r = Cli({"events", "--type", "waf"});
  EXPECT_EQ(r.err, "No events found.\n");
  r = Cli({"events", "--type", "waf", "-o", "json"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.out), json::parse(R"({"items": []})"));
}

TEST_F(LogsCliTest, NoLogStoreOrOldServer) {
  StartServer(/*with_store=*/false);
  RunResult r = Cli({"flows"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.substr(0, 55), "Error from server (ServiceUnavailable): log store not o") << r.err;
  r = Cli({"events", "dismiss", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("log store not open"), std::string::npos) << r.err;
}

// ------------------------------------------------------------------ dnslogs

TEST_F(LogsCliTest, DnsLogsTable) {
  StartServer();
  RunResult r = Cli({"dnslogs"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TIME                   CLIENT         QNAME              QTYPE   RCODE      ANSWERS                   LATENCY   COUNT\n"
            "2025-12-31T23:59:50Z   default/web    evil.example.com   A       NoError    203.0.113.7,203.0.113.8   350us     2\n"
            "2025-12-31T22:00:00Z   jobs/batch-*   example.org        AAAA    NXDomain   -                         12.3ms    1\n");

  r = Cli({"dnslogs", "-o", "wide", "--qname", "evil.example.com"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TIME                   CLIENT        QNAME              QTYPE   RCODE     ANSWERS                   LATENC"
            "Y   COUNT   SERVERS      CLIENT_LABELS\n"
            "2025-12-31T23:59:50Z   default/web   evil.example.com   A       NoError   203.0.113.7,203.0.113.8   350us "
            "    2       10.96.0.10   app=web\n");
}

TEST_F(LogsCliTest, DnsFilters) {
  StartServer();
  auto qnames = [&](std::vector<std::string> args) { return Column("dnslogs", "qname", std::move(args)); };
  using V = std::vector<std::string>;
  EXPECT_EQ(qnames({"--pod", "web"}), V{"evil.example.com"});
  EXPECT_EQ(qnames({"--namespace", "jobs"}), V{"example.org"});
  EXPECT_EQ(qnames({"--rcode", "NXDomain"}), V{"example.org"});
  EXPECT_EQ(qnames({"--qtype", "A"}), V{"evil.example.com"});
  EXPECT_EQ(qnames({"--since", "30m"}), V{"evil.example.com"});
  EXPECT_EQ(qnames({"--qname", "example.org"}), V{"example.org"});
  RunResult r = Cli({"dnslogs", "-o", "json"});
  EXPECT_EQ(json::parse(r.out).at("items").at(0).as_object(), DnsEvil());
}

// ------------------------------------------------------------------ events

TEST_F(LogsCliTest, EventsTableHidesDismissedAndEscapesControlCharacters) {
  StartServer();
  RunResult r = Cli({"events"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID                                                                    TIME                   TYPE                       SOURCE              DEST          FEEDS                 ACTION   DESCRIPTION\n"
            "evil-domains_1767225590_10.244.0.3_evil.example.com                   2025-12-31T23:59:50Z   gtf_suspicious_dns_query   default/web         -             evil-domains          -        default/web queried the domain name evil.example.com\\x1b]0;pwned\\x07 from feed evil-domains\n"
            "snort-ip-block-list_1767225540_tcp_10.244.0.2_40312_5.196.58.96_443   2025-12-31T23:59:30Z   gtf_suspicious_flow        default/tf-ubuntu   5.196.58.96   snort-ip-block-list   deny     pod default/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat Feed snort-ip-block-list\n");
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find('\x07'), std::string::npos);

  // JSON keeps the value, escaped as JSON does.
  r = Cli({"events", "-o", "json", "--type", "gtf_suspicious_dns_query"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  json::value v = json::parse(r.out);
  json::object expected = DnsEvent();
  expected["dismissed"] = false;
  EXPECT_EQ(v.at("items").at(0).as_object(), expected);
}

TEST_F(LogsCliTest, EventsAllAndWide) {
  StartServer();
  RunResult r = Cli({"events", "--all", "--feed", "snort-ip-block-list", "-o", "wide"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string id = kFlowEventId;
  EXPECT_EQ(r.out,
            "ID                                                                    TIME                   TYPE                  SOURCE              DEST           FEEDS                 ACTION   DISMISSED   SEVERITY   MITRE                  LABELS          MITIGATIONS                               DESCRIPTION\n"
            "snort-ip-block-list_1767225540_tcp_10.244.0.2_40312_5.196.58.96_443   2025-12-31T23:59:30Z   gtf_suspicious_flow   default/tf-ubuntu   5.196.58.96    snort-ip-block-list   deny     false       100        T1041 (Exfiltration)   app=tf-ubuntu   No mitigation needed, blocked by Calico   pod default/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat Feed snort-ip-block-list\n"
            "old_1                                                                 2025-12-31T22:36:40Z   gtf_suspicious_flow   10.244.0.9          198.51.100.1   snort-ip-block-list   allow    true        -          -                      -               -                                         old\n");
  // The default hides the dismissed one.
  r = Cli({"events", "--feed", "snort-ip-block-list", "-o", "json"});
  EXPECT_EQ(json::parse(r.out).at("items").as_array().size(), 1u);
  r = Cli({"events", "--pod", "tf-ubuntu", "--no-headers"});
  EXPECT_EQ(r.out.substr(0, id.size() + 1), id + " ");
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  r = Cli({"events", "--since", "20s", "-o", "json"});
  EXPECT_EQ(json::parse(r.out).at("items").at(0).at("id"), kDnsEventId);
  EXPECT_EQ(json::parse(r.out).at("items").as_array().size(), 1u);
}

TEST_F(LogsCliTest, DismissEvents) {
  StartServer();
  RunResult r = Cli({"events", "dismiss", kFlowEventId, kDnsEventId});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "event " + std::string(kFlowEventId) + " dismissed\nevent " + kDnsEventId + " dismissed\n");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(logs_->GetEvent(kFlowEventId)->at("dismissed").as_bool());
  r = Cli({"events"});
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No events found.\n");
  // Again: idempotent.
  EXPECT_EQ(Cli({"events", "dismiss", kFlowEventId}).code, 0);
}

TEST_F(LogsCliTest, DismissErrors) {
  StartServer();
  // An unknown id fails (exit 1, named) without stopping the others.
  RunResult r = Cli({"events", "dismiss", "nope\x1b[2J", kFlowEventId});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "event " + std::string(kFlowEventId) + " dismissed\n");
  EXPECT_EQ(r.err, "Error from server (NotFound): event \"nope\\x1b[2J\": not found\n");
  EXPECT_TRUE(logs_->GetEvent(kFlowEventId)->at("dismissed").as_bool());

  // The read-only token may list but not dismiss.
  EXPECT_EQ(Cli({"events"}, "readonly").code, 0);
  r = Cli({"events", "dismiss", kDnsEventId}, "readonly");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Error from server (Forbidden)"), std::string::npos) << r.err;
  EXPECT_FALSE(logs_->GetEvent(kDnsEventId)->at("dismissed").as_bool());

  r = Cli({"events", "dismiss"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("dismiss needs at least one event ID"), std::string::npos) << r.err;
  r = Cli({"events", "remove", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unexpected argument 'remove'"), std::string::npos) << r.err;
}

TEST_F(LogsCliTest, IdsWithSlashesReachTheServer) {
  json::object e = OldEvent();
  e["id"] = "a/b c";
  ASSERT_TRUE(logs_->PutEvent(e).ok());
  StartServer();
  RunResult r = Cli({"events", "dismiss", "a/b c"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "event a/b c dismissed\n");
  EXPECT_TRUE(logs_->GetEvent("a/b c")->at("dismissed").as_bool());
}

TEST_F(LogsCliTest, HelpTexts) {
  StartServer();
  for (const char* cmd : {"flows", "dnslogs", "events"}) {
    RunResult r = Cli({cmd, "--help"});
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find(std::string("Usage: threatwall ") + cmd), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--since D|T"), std::string::npos) << r.out;
  }
  RunResult r = Cli({"help"});
  EXPECT_NE(r.out.find("  flows "), std::string::npos);
  EXPECT_NE(r.out.find("  events "), std::string::npos);
}

// ------------------------------------------------------------------ pure parts

ParsedArgs Args(std::vector<std::pair<std::string, std::string>> flags) {
  ParsedArgs a;
  for (auto& [k, v] : flags) a.Add(k, v);
  return a;
}

TEST(LogsRequestPathTest, FlagsBecomeParameters) {
  EXPECT_EQ(*LogsRequestPath("flows", Args({})), "/threatwall/v1/flowlogs");
  EXPECT_EQ(*LogsRequestPath("flows", Args({{"since", "10m"}, {"action", "deny"}, {"pod", "web"}, {"limit", "5"}})),
            "/threatwall/v1/flowlogs?since=10m&action=deny&pod=default%2Fweb&limit=5");
  EXPECT_EQ(*LogsRequestPath("flows", Args({{"pod", "web"}, {"namespace", "prod"}, {"policy", "|deny|"}})),
            "/threatwall/v1/flowlogs?policy=%7Cdeny%7C&pod=prod%2Fweb&namespace=prod");
  EXPECT_EQ(*LogsRequestPath("dnslogs", Args({{"qname", "a.example"}, {"namespace", "x"}, {"until", "1h"}})),
            "/threatwall/v1/dnslogs?until=1h&qname=a.example&client_namespace=x");
  EXPECT_EQ(*LogsRequestPath("events", Args({})), "/threatwall/v1/events?dismissed=false");
  EXPECT_EQ(*LogsRequestPath("events", Args({{"all", ""}, {"feed", "f"}, {"type", "t"}, {"pod", "ns/p"}})),
            "/threatwall/v1/events?type=t&feed=f&pod=ns%2Fp");
  EXPECT_EQ(LogsRequestPath("flows", Args({{"action", "Deny"}})).status().message(),
            "--action 'Deny': must be allow or deny");
}

TEST(SafeTextTest, EscapesWhatATerminalWouldAct) {
  EXPECT_EQ(SafeText("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
  EXPECT_EQ(SafeText("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(SafeText("line\nbreak\ttab\rcr"), "line\\nbreak\\ttab\\rcr");
  EXPECT_EQ(SafeText(std::string("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
  EXPECT_EQ(SafeText("csi\xc2\x9b" "31m"), "csi\\u009b31m");                // C1 CSI as UTF-8
  EXPECT_EQ(SafeText("raw\x9b" "31m"), "raw\\x9b31m");                      // a lone byte
  EXPECT_EQ(SafeText("\xe2\x80\xae" "gnp.exe"), "\\u202egnp.exe");          // right-to-left override
  EXPECT_EQ(SafeText("back\\slash"), "back\\\\slash");
  EXPECT_EQ(SafeText("\xc0\xaf"), "\\xc0\\xaf");                            // overlong
}

TEST(SafeTextTest, JsonEscapes) {
  EXPECT_EQ(EscapeJsonForTerminal("{\"a\": \"x\x7fy\xc2\x9bz\xe2\x81\xa6\"}"),
            "{\"a\": \"x\\u007fy\\u009bz\\u2066\"}");
  EXPECT_EQ(json::parse(EscapeJsonForTerminal("[\"\x7f\xc2\x85\"]")), json::parse("[\"\\u007f\\u0085\"]"));
  EXPECT_EQ(EscapeJsonForTerminal("{\"ok\": \"ü\"}"), "{\"ok\": \"ü\"}");
}

}  // namespace
}  // namespace tw::cli
