#include "cli/args.h"

#include <gtest/gtest.h>

namespace tw::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"filename", 'f', true, "FILE", ""},
    {"namespace", 'n', true, "NS", ""},
    {"all-namespaces", 'A', false, "", ""},
    {"watch", 'w', false, "", ""},
};

TEST(ArgsTest, FlagsBeforeAndAfterPositionals) {
  auto p = ParseArgs({"-n", "dev", "gtf", "x", "--watch", "-f", "a.yaml", "--filename=b.yaml", "-fc.yaml", "y"},
                     kSpecs);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->positionals, (std::vector<std::string>{"gtf", "x", "y"}));
  EXPECT_EQ(p->Get("namespace"), "dev");
  EXPECT_TRUE(p->Has("watch"));
  EXPECT_FALSE(p->Has("all-namespaces"));
  EXPECT_EQ(p->GetAll("filename"), (std::vector<std::string>{"a.yaml", "b.yaml", "c.yaml"}));
}

TEST(ArgsTest, DashIsAValueAndAPositional) {
  auto p = ParseArgs({"-f", "-", "-"}, kSpecs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->GetAll("filename"), (std::vector<std::string>{"-"}));
  EXPECT_EQ(p->positionals, (std::vector<std::string>{"-"}));
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  auto p = ParseArgs({"test", "--", "-weird", "--x"}, kSpecs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->positionals, (std::vector<std::string>{"test", "-weird", "--x"}));
}

TEST(ArgsTest, LastValueWinsForGet) {
  auto p = ParseArgs({"-n", "a", "--namespace", "b", "-n=c"}, kSpecs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("namespace"), "c");
  EXPECT_EQ(p->Get("missing", "fallback"), "fallback");
}

TEST(ArgsTest, Errors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--bogus"}, "unknown flag: --bogus"},
      {{"-z"}, "unknown flag: -z"},
      {{"get", "-n"}, "flag needs an argument: -n"},
      {{"--filename"}, "flag needs an argument: --filename"},
      {{"--watch=yes"}, "flag --watch does not take a value"},
  };
  for (const auto& c : cases) {
    auto p = ParseArgs(c.args, kSpecs);
    ASSERT_FALSE(p.ok()) << c.message;
    EXPECT_EQ(p.error().message(), c.message);
  }
}

TEST(ArgsTest, BoolFlagAcceptsExplicitTrueFalse) {
  auto p = ParseArgs({"--watch=false", "--all-namespaces=true"}, kSpecs);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->Has("watch"));
  EXPECT_TRUE(p->Has("all-namespaces"));
}

TEST(ArgsTest, FindCommandSkipsGlobalFlagsAndTheirValues) {
  std::vector<FlagSpec> global = {{"server", 's', true, "URL", ""}, {"help", 'h', false, "", ""}};
  auto i = FindCommand({"--server", "http://x", "-h", "get", "gtf"}, global);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(*i, 3u);
  auto none = FindCommand({"--server=x"}, global);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 1u);
  auto bad = FindCommand({"--nope", "get"}, global);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "unknown flag: --nope");
}

TEST(ArgsTest, FlagHelpIsAligned) {
  std::string help = FormatFlagHelp({{"namespace", 'n', true, "NS", "the namespace"}, {"watch", 0, false, "", "w"}});
  EXPECT_EQ(help,
            "  -n, --namespace NS   the namespace\n"
            "      --watch          w\n");
}

}  // namespace
}  // namespace tw::cli
