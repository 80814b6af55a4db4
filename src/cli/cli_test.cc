// The CLI end to end without a server: argument handling, offline commands,
// and the messages for unreachable or unsupported servers.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "selector/selector.h"

namespace tw::cli {
namespace {

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tw-cli-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_["HOME"] = dir_;
    env_["THREATWALL_DATA_DIR"] = dir_ + "/nodata";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult RunCli(std::vector<std::string> args) {
    std::ostringstream out, err;
    ConfigInputs in;
    in.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    int code = ::tw::cli::Run(args, out, err, in);
    return {code, out.str(), err.str()};
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(CliTest, HelpAndUsage) {
  RunResult r = RunCli({"help"});
  EXPECT_EQ(r.code, 0);
  for (const auto& c : Commands()) EXPECT_NE(r.out.find(std::string(c.name)), std::string::npos) << c.name;

  r = RunCli({"get", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: threatwall get KIND"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--all-namespaces"), std::string::npos);

  r = RunCli({});
  EXPECT_EQ(r.code, 2);

  r = RunCli({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "threatwall: unknown command 'frobnicate'\nRun 'threatwall help' for usage.\n");

  r = RunCli({"get", "gtf", "--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "threatwall get: unknown flag: --bogus\nSee 'threatwall get --help'.\n");

  r = RunCli({"create"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("must specify one of -f"), std::string::npos);

  r = RunCli({"get", "gtf", "-o", "xml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown output format 'xml'"), std::string::npos);
}

TEST_F(CliTest, SelectorTest) {
  RunResult r = RunCli({"selector", "test", "threatfeed == 'snort'", "threatfeed=snort"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "true\n");
  r = RunCli({"selector", "test", "threatfeed == 'snort'", "threatfeed=other", "x=y"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "false\n");
  // `!=` on a missing label is true (calico-semantics.md §5).
  r = RunCli({"selector", "test", "a != 'x'"});
  EXPECT_EQ(r.out, "true\n");
  r = RunCli({"selector", "test", "threatfeed = 'snort'"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("threatwall: invalid selector: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column 12"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("  threatfeed = 'snort'\n             ^\n"), std::string::npos) << r.err;
  r = RunCli({"selector", "test", "a == 'b'", "novalue"});
  EXPECT_EQ(r.code, 2);
  // fmt prints the selector library's canonical form, which is a fixed point.
  r = RunCli({"selector", "fmt", "a=='x'&&b in {'1','2'}"});
  EXPECT_EQ(r.code, 0);
  auto sel = selector::Selector::Parse("a=='x'&&b in {'1','2'}");
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(r.out, sel->String() + "\n");
  EXPECT_NE(r.out.find("a == \"x\""), std::string::npos) << r.out;
  std::string canonical = r.out.substr(0, r.out.size() - 1);
  r = RunCli({"selector", "fmt", canonical});
  EXPECT_EQ(r.out, canonical + "\n");
}

TEST_F(CliTest, ValidateSeedManifest) {
  std::string manifests = std::string(TW_SOURCE_DIR) + "/examples/manifests/";
  RunResult r = RunCli({"validate", "-f", manifests + "40-snort-ip-block-list.yaml", "-f",
                        manifests + "41-tf-gnp.yaml"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "GlobalThreatFeed/snort-ip-block-list valid\nGlobalNetworkPolicy/security.block-snort valid\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, ValidateReportsFileDocumentAndField) {
  std::string path = WriteFile("bad.yaml",
                               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n---\n"
                               "apiVersion: projectcalico.org/v3\nkind: GlobalThreatFeed\nmetadata:\n  name: f\n"
                               "spec:\n  pull:\n    http:\n      urll: x\n---\n"
                               "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n");
  RunResult r = RunCli({"validate", "-f", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "Namespace/ok valid\n");
  EXPECT_NE(r.err.find(path + ": document 2: spec.pull.http.urll: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path + ": document 3: kind not served"), std::string::npos) << r.err;
}

TEST_F(CliTest, ValidateSyntaxErrorNamesTheFile) {
  std::string path = WriteFile("syntax.yaml", "apiVersion: v1\nkind: [unclosed\n");
  RunResult r = RunCli({"validate", "-f", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(r.err.starts_with(path + ": ")) << r.err;
  r = RunCli({"validate", "-f", dir_ + "/missing.yaml"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.yaml"), std::string::npos);
}

TEST_F(CliTest, VersionClientOnly) {
  RunResult r = RunCli({"version", "--client"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("Client Version: v") + TW_VERSION + "\n");
}

TEST_F(CliTest, KubeconfigUsesServerAndToken) {
  RunResult r = RunCli({"kubeconfig", "--server", "http://127.0.0.1:9999", "--token", "t0k"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("server: http://127.0.0.1:9999"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("token: t0k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("current-context: threatwall"), std::string::npos) << r.out;
}

TEST_F(CliTest, KubeconfigForAnHttpsFront) {
  RunResult r = RunCli({"kubeconfig", "--server", "https://127.0.0.1:9443", "--token", "t", "--insecure-skip-tls-verify"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("server: https://127.0.0.1:9443"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("insecure-skip-tls-verify: true"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  r = RunCli({"kubeconfig", "--server", "127.0.0.1:9443"});
  EXPECT_EQ(r.code, 1);
}

TEST_F(CliTest, KubeconfigForTheLocalDaemonUsesItsCertificate) {
  std::filesystem::create_directories(dir_ + "/nodata");
  WriteFile("nodata/address", "http://127.0.0.1:7781\n");
  WriteFile("nodata/admin.token", "adm\n");
  WriteFile("nodata/tls.crt", "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n");
  RunResult r = RunCli({"kubeconfig"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("server: https://127.0.0.1:7781\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("certificate-authority-data: " +
                       Base64("-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n")),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("token: adm\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  // Another server: the local certificate is not used.
  r = RunCli({"kubeconfig", "--server", "http://10.0.0.1:1"});
  EXPECT_NE(r.out.find("server: http://10.0.0.1:1\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("certificate-authority-data"), std::string::npos) << r.out;
}

TEST_F(CliTest, Base64) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST_F(CliTest, HttpsIsNotSupportedYet) {
  RunResult r = RunCli({"get", "gtf", "--server", "https://127.0.0.1:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("https:// is not supported yet"), std::string::npos) << r.err;
}

TEST_F(CliTest, ConnectionRefusedNamesTheServer) {
  // A port that was just free: bind, learn it, close.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  acceptor.close();
  RunResult r = RunCli({"get", "gtf", "--server", url});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "threatwall: cannot connect to " + url + ": Connection refused\n");
}

TEST_F(CliTest, RequestTimeoutNamesTheServer) {
  // A listening socket nobody answers on: connect succeeds (kernel backlog),
  // the response never comes.
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  RunResult r = RunCli({"get", "gtf", "--server", url, "--request-timeout", "100ms"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "threatwall: no response from " + url + ": timed out\n");
}

TEST_F(CliTest, UnknownKind) {
  RunResult r = RunCli({"get", "deployments", "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "threatwall: the server doesn't have a resource type \"deployments\"\n");
}

TEST_F(CliTest, ParseTimeout) {
  EXPECT_EQ(ParseTimeout("30s").value(), std::chrono::milliseconds(30000));
  EXPECT_EQ(ParseTimeout("1m30s").value(), std::chrono::milliseconds(90000));
  EXPECT_EQ(ParseTimeout("250ms").value(), std::chrono::milliseconds(250));
  EXPECT_EQ(ParseTimeout("5").value(), std::chrono::milliseconds(5000));
  EXPECT_EQ(ParseTimeout("0").value(), std::chrono::milliseconds(0));
  EXPECT_FALSE(ParseTimeout("5x").ok());
  EXPECT_FALSE(ParseTimeout("").ok());
}

}  // namespace
}  // namespace tw::cli
