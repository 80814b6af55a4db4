// `threatwall explain` and `threatwall exec`: argument handling, the pure
// parts, and both commands against an in-process API server on loopback
// (ApiHandler over a MemStore, a hand-built policy program).  No root: exec
// runs commands in the test's own network namespace only.
#include <gtest/gtest.h>

#include <unistd.h>

#include <memory>
#include <sstream>

#include "api/api_handler.h"
#include "api/http_server.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "model/kinds.h"
#include "node/names.h"
#include "store/mem_store.h"

namespace tw::cli {
namespace {

namespace json = boost::json;

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult RunCli(std::vector<std::string> args) {
  std::ostringstream out, err;
  ConfigInputs in;
  in.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  int code = Run(args, out, err, in);
  return {code, out.str(), err.str()};
}

// default/tf-ubuntu (10.244.0.2) may not send to 5.196.58.96 (tier
// security, policy security.block-snort, rule 0 Deny); everything else is
// allowed by its profile.
std::shared_ptr<const policy::Program> SeedProgram() {
  auto p = std::make_shared<policy::Program>();
  net::CidrSet::Builder b;
  b.AddText("5.196.58.96");
  p->sets.push_back({0, "threatfeed == \"snort\"", b.Build()});
  policy::Policy snort{"security.block-snort", "security", false, policy::Direction::kEgress, {}};
  policy::Rule deny;
  deny.action = policy::Action::kDeny;
  deny.match.dst.set = 0;
  snort.rules.push_back(deny);
  p->policies.push_back(snort);
  policy::EndpointProgram tf{"default", "tf-ubuntu", "tw01", {*net::IpAddr::Parse("10.244.0.2")}, {}, {}};
  tf.egress.push_back(policy::TierStep{"security", {0}, false, ""});
  p->endpoints["tw01"] = tf;
  return p;
}

// A threatwalld API on 127.0.0.1 (any port) with token "admin".
class CliServerTest : public ::testing::Test {
 protected:
  void StartServer(bool with_program) {
    api::ApiHandlerOptions options;
    if (with_program) {
      auto program = SeedProgram();
      options.program_provider = [program] { return program; };
    }
    handler_ = std::make_unique<api::ApiHandler>(service_, auth_, options);
    auto server = api::HttpServer::Start(api::HttpServerOptions{}, handler_->AsHttpHandler());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  RunResult Cli(std::vector<std::string> args) {
    // Global flags first: after "--" they would be exec's command.
    args.insert(args.begin(), {"--server", url_, "--token", "admin"});
    return RunCli(args);
  }

  // Stores Pod ns/name with status.phase `phase` ("" = none) and the
  // netns annotation when `netns` is not empty.
  void StorePod(const std::string& ns, const std::string& name, const std::string& phase,
                const std::string& netns = "") {
    const model::KindInfo* kind = model::FindKind("v1", "Pod");
    ASSERT_NE(kind, nullptr);
    const model::KindInfo* ns_kind = model::FindKind("v1", "Namespace");
    ASSERT_NE(ns_kind, nullptr);
    json::value ns_object = json::object{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                         {"metadata", json::object{{"name", ns}}}};
    service_.Create(api::ResourceTarget{ns_kind, "", "", false}, ns_object, api::WriteOptions{});  // may exist
    json::object meta{{"name", name}, {"namespace", ns}};
    if (!netns.empty()) meta["annotations"] = json::object{{kExecNetnsAnnotation, netns}};
    json::value pod = json::object{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", meta},
        {"spec", json::object{{"containers", json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}};
    api::ResourceTarget target{kind, ns, "", false};
    api::ApiResponse created = service_.Create(target, pod, api::WriteOptions{});
    ASSERT_TRUE(created.ok()) << json::serialize(created.body);
    if (phase.empty()) return;
    json::value with_status = created.body;
    with_status.as_object()["status"] = json::object{{"phase", phase}};
    target.name = name;
    target.status = true;
    api::ApiResponse updated = service_.Replace(target, with_status, api::WriteOptions{});
    ASSERT_TRUE(updated.ok()) << json::serialize(updated.body);
  }

  store::MemStore store_;
  FakeClock clock_;
  api::ResourceService service_{store_, clock_};
  api::Authenticator auth_{"admin", "readonly"};
  std::unique_ptr<api::ApiHandler> handler_;
  std::unique_ptr<api::HttpServer> server_;
  std::string url_;
};

// ------------------------------------------------------------------ explain

ParsedArgs Args(std::vector<std::pair<std::string, std::string>> flags, std::vector<std::string> positionals = {}) {
  ParsedArgs a;
  for (auto& [k, v] : flags) a.Add(k, v);
  a.positionals = std::move(positionals);
  return a;
}

TEST(ExplainArgsTest, RequestPath) {
  auto p = ExplainRequestPath(Args({{"from", "web"}, {"to", "10.0.0.1"}, {"port", "443"}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, "/threatwall/v1/explain?from=web&to=10.0.0.1&fromNamespace=default&toNamespace=default&port=443");

  p = ExplainRequestPath(Args({{"from", "a b"},
                               {"to", "fd00::1"},
                               {"namespace", "prod"},
                               {"to-namespace", "db"},
                               {"protocol", "ICMPv6"},
                               {"icmp-type", "128"},
                               {"icmp-code", "0"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p,
            "/threatwall/v1/explain?from=a%20b&to=fd00%3A%3A1&fromNamespace=prod&toNamespace=db&protocol=ICMPv6"
            "&icmpType=128&icmpCode=0");

  EXPECT_EQ(ExplainRequestPath(Args({{"to", "x"}})).status().message(),
            "--from is required (a pod name, NS/NAME or an IP address)");
  EXPECT_EQ(ExplainRequestPath(Args({{"from", "x"}})).status().message(),
            "--to is required (a pod name, NS/NAME or an IP address)");
  EXPECT_EQ(ExplainRequestPath(Args({{"from", "x"}, {"to", "y"}}, {"z"})).status().message(),
            "unexpected argument z (use --from and --to)");
  EXPECT_EQ(ExplainRequestPath(Args({{"from", "x"}, {"to", "y"}, {"port", "0"}})).status().message(),
            "--port: invalid value '0': must be 1-65535");
  EXPECT_EQ(ExplainRequestPath(Args({{"from", "x"}, {"to", "y"}, {"port", "http"}})).status().message(),
            "--port: invalid value 'http': must be 1-65535");
  EXPECT_EQ(ExplainRequestPath(Args({{"from", "x"}, {"to", "y"}, {"icmp-type", "256"}})).status().message(),
            "--icmp-type: invalid value '256': must be 0-255");
}

TEST(ExplainArgsTest, UsageErrorsExit2) {
  RunResult r = RunCli({"explain", "--to", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "threatwall explain: --from is required (a pod name, NS/NAME or an IP address)\n"
            "See 'threatwall explain --help'.\n");
  r = RunCli({"explain", "--from", "a", "--to", "b", "-o", "wide"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--output 'wide': must be text, json or yaml"), std::string::npos) << r.err;
  r = RunCli({"explain", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: threatwall explain --from SRC --to DST"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--icmp-type T"), std::string::npos);
  EXPECT_NE(r.out.find("Exit 0 whenever the question was answered"), std::string::npos);
}

TEST_F(CliServerTest, ExplainPrintsTheVerdictAndExits0EvenWhenDenied) {
  StartServer(/*with_program=*/true);
  RunResult r = Cli({"explain", "--from", "tf-ubuntu", "--to", "5.196.58.96", "--port", "443"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "FROM     default/tf-ubuntu (10.244.0.2)\n"
            "TO       5.196.58.96 (outside the cluster)\n"
            "FLOW     TCP 10.244.0.2 -> 5.196.58.96:443\n"
            "\n"
            "egress at default/tf-ubuntu\n"
            "  tier security   policy security.block-snort   rule 0 (Deny)   -> deny\n"
            "\n"
            "VERDICT  deny (egress, security.block-snort rule 0)\n");
  EXPECT_EQ(r.err, "");

  r = Cli({"explain", "--from", "default/tf-ubuntu", "--to", "1.1.1.1", "--protocol", "udp", "--port", "53",
           "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  json::value j = json::parse(r.out);
  EXPECT_EQ(j.at("verdict"), "allow");
  EXPECT_EQ(j.at("flow").at("protocol"), "UDP");
  EXPECT_EQ(j.at("path").as_array().back().at("what"), "profile kns.default: allow");

  r = Cli({"explain", "--from", "tf-ubuntu", "--to", "5.196.58.96", "--port", "443", "-o", "yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("kind: Explanation\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: deny\n"), std::string::npos) << r.out;
}

TEST_F(CliServerTest, ExplainErrorsExit1WithTheServersMessage) {
  StartServer(/*with_program=*/true);
  RunResult r = Cli({"explain", "--from", "nope", "--to", "1.1.1.1", "--port", "80", "-n", "prod"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error from server (BadRequest): --from nope: no pod prod/nope\n");
}

TEST_F(CliServerTest, ExplainWithoutAPolicyAgent) {
  StartServer(/*with_program=*/false);
  RunResult r = Cli({"explain", "--from", "tf-ubuntu", "--to", "1.1.1.1", "--port", "80"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "Error from server (ServiceUnavailable): policy agent not running: no policy program to explain\n");
}

// --------------------------------------------------------------------- exec

json::value Pod(std::string_view phase, std::string_view netns = "") {
  json::object meta{{"name", "web"}, {"namespace", "default"}};
  if (!netns.empty()) meta["annotations"] = json::object{{kExecNetnsAnnotation, netns}};
  json::object pod{{"metadata", meta}};
  if (!phase.empty()) pod["status"] = json::object{{"phase", phase}};
  return pod;
}

TEST(ExecNetnsTest, SandboxNameOrAnnotationOfARunningPod) {
  auto n = ExecNetnsForPod(Pod("Running"), "default", "web");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, *node::SandboxNetnsName("default", "web"));
  EXPECT_EQ(*n, "tw-default-web");

  n = ExecNetnsForPod(Pod("Running", "custom-ns"), "default", "web");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "custom-ns");

  n = ExecNetnsForPod(Pod("Pending"), "default", "web");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message(), "cannot exec into pod default/web: it is not running (phase Pending)");
  n = ExecNetnsForPod(Pod(""), "default", "web");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message(), "cannot exec into pod default/web: it is not running (no status.phase yet)");

  n = ExecNetnsForPod(Pod("Running", "../etc"), "default", "web");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().message().substr(0, 48), "pod default/web: annotation threatwall.io/netns:");
  EXPECT_FALSE(ExecNetnsForPod(json::value("x"), "default", "web").ok());
}

struct ExecRun {
  int code;
  std::string err;
};

ExecRun RunExecCore(const std::string& netns, std::vector<std::string> argv) {
  std::ostringstream out, err;
  Context ctx;
  ctx.command = "exec";
  ctx.out = &out;
  ctx.err = &err;
  int code = ExecInNetns(ctx, netns, argv);
  return {code, err.str()};
}

TEST(ExecCoreTest, PropagatesTheExitCode) {
  EXPECT_EQ(RunExecCore("", {"sh", "-c", "exit 3"}).code, 3);
  EXPECT_EQ(RunExecCore("", {"true"}).code, 0);
  EXPECT_EQ(RunExecCore("", {"sh", "-c", "kill -TERM $$"}).code, 128 + 15);
  ExecRun r = RunExecCore("", {"tw-no-such-command-0d1e"});
  EXPECT_EQ(r.code, 127);
  EXPECT_NE(r.err.find("'tw-no-such-command-0d1e': command not found"), std::string::npos) << r.err;
}

TEST(ExecCoreTest, MissingNamespaceIsAClearError) {
  std::string netns = "tw-test-" + std::to_string(::getpid()) + "-absent";
  ExecRun r = RunExecCore(netns, {"true"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "threatwall: network namespace '" + netns +
                       "' does not exist (is the pod's sandbox set up?)\n");
}

TEST(ExecArgsTest, UsageErrors) {
  RunResult r = RunCli({"exec"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("expected 'exec POD -- COMMAND [ARGS...]'"), std::string::npos) << r.err;
  r = RunCli({"exec", "-it", "web"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("you must specify at least one command for the container"), std::string::npos) << r.err;
  r = RunCli({"exec", "web", "-x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown flag: -x"), std::string::npos) << r.err;
  r = RunCli({"exec", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: threatwall exec POD [-n NS] [-i] [-t] -- COMMAND [ARGS...]"), std::string::npos);
}

TEST(ExecArgsTest, CombinedSwitchesAndDoubleDash) {
  // -it, -ti and -i -t parse; everything after -- is the command (its own
  // flags included).  The unreachable server proves parsing succeeded.
  for (std::vector<std::string> args : {std::vector<std::string>{"exec", "-it", "web", "--", "ls", "-la"},
                                        std::vector<std::string>{"exec", "-ti", "-n", "prod", "web", "--", "sh"},
                                        std::vector<std::string>{"exec", "web", "-i", "-t", "--", "sh", "-c", "x"}}) {
    std::vector<std::string> with_server = {"--server", "http://127.0.0.1:1"};
    with_server.insert(with_server.end(), args.begin(), args.end());
    RunResult r = RunCli(with_server);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.err.find("unknown flag"), std::string::npos) << r.err;
  }
  // A switch combined with a value flag is not split.
  RunResult r = RunCli({"exec", "-in", "prod", "web", "--", "sh"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(CliServerTest, ExecUnknownPodUsesKubectlsWording) {
  StartServer(/*with_program=*/false);
  RunResult r = Cli({"exec", "nope", "--", "true"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error from server (NotFound): pods \"nope\" not found\n");
}

TEST_F(CliServerTest, ExecNeedsARunningPod) {
  StartServer(/*with_program=*/false);
  StorePod("default", "web", "Pending");
  RunResult r = Cli({"exec", "web", "--", "true"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "threatwall: cannot exec into pod default/web: it is not running (phase Pending)\n");
}

TEST_F(CliServerTest, ExecRunningPodNeedsRootAndItsNamespace) {
  StartServer(/*with_program=*/false);
  std::string netns = "tw-test-" + std::to_string(::getpid()) + "-nonexistent";
  StorePod("prod", "db", "Running", netns);
  RunResult r = Cli({"exec", "-n", "prod", "db", "--", "true"});
  EXPECT_EQ(r.code, 1);
  if (::geteuid() == 0) {
    EXPECT_EQ(r.err, "threatwall: network namespace '" + netns + "' does not exist (is the pod's sandbox set up?)\n");
  } else {
    EXPECT_EQ(r.err, "threatwall: exec: must run as root to enter pod prod/db's network namespace '" + netns + "'\n");
  }
}

}  // namespace
}  // namespace tw::cli
