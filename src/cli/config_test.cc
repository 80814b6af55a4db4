#include "cli/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace tw::cli {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tw-cli-config-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_["HOME"] = dir_ + "/home";
    env_["THREATWALL_DATA_DIR"] = dir_ + "/data";
    std::filesystem::create_directories(dir_ + "/home/.config/threatwall");
    std::filesystem::create_directories(dir_ + "/data");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ + "/" + rel) << text; }

  ConfigInputs Inputs() {
    ConfigInputs in;
    in.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return in;
  }

  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, DefaultsWhenNothingIsConfigured) {
  auto c = ResolveConfig(Inputs());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server, kDefaultServer);
  EXPECT_EQ(c->token, "");
}

TEST_F(ConfigTest, DataDirFilesAreTrimmed) {
  Write("data/address", "http://127.0.0.1:4321\n");
  Write("data/admin.token", "  abc123\n");
  auto c = ResolveConfig(Inputs());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "http://127.0.0.1:4321");
  EXPECT_EQ(c->token, "abc123");
  EXPECT_EQ(c->token_source, dir_ + "/data/admin.token");
}

TEST_F(ConfigTest, PrecedenceFlagEnvFileDataDir) {
  Write("data/address", "http://data:1\n");
  Write("data/admin.token", "datatoken\n");
  Write("home/.config/threatwall/config.yaml", "server: http://file:2\ntoken: filetoken\n");
  auto c = ResolveConfig(Inputs());
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->server, "http://file:2");
  EXPECT_EQ(c->token, "filetoken");

  env_["THREATWALL_SERVER"] = "http://env:3";
  c = ResolveConfig(Inputs());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "http://env:3");
  EXPECT_EQ(c->token, "filetoken");  // resolved independently

  ConfigInputs in = Inputs();
  in.flag_server = "http://flag:4";
  in.flag_token = "flagtoken";
  c = ResolveConfig(in);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server, "http://flag:4");
  EXPECT_EQ(c->token, "flagtoken");
  EXPECT_EQ(c->server_source, "flag --server");
}

TEST_F(ConfigTest, TokenFileRelativeToConfig) {
  Write("home/.config/threatwall/tok", "secret\n");
  Write("cfg.yaml", "server: http://x:1\ntoken-file: home/.config/threatwall/tok\n");
  ConfigInputs in = Inputs();
  in.flag_config = dir_ + "/cfg.yaml";
  auto c = ResolveConfig(in);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->token, "secret");
}

TEST_F(ConfigTest, ExplicitConfigErrors) {
  ConfigInputs in = Inputs();
  in.flag_config = dir_ + "/missing.yaml";
  auto c = ResolveConfig(in);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("missing.yaml"), std::string::npos) << c.error().message();

  Write("bad.yaml", "server: http://x:1\ntokn: a\n");
  env_["THREATWALL_CONFIG"] = dir_ + "/bad.yaml";
  c = ResolveConfig(Inputs());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "config file " + dir_ + "/bad.yaml: tokn: unknown field (expected server, token, token-file)");

  Write("tf.yaml", "token-file: nope\n");
  env_["THREATWALL_CONFIG"] = dir_ + "/tf.yaml";
  c = ResolveConfig(Inputs());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("token-file"), std::string::npos) << c.error().message();
}

}  // namespace
}  // namespace tw::cli
