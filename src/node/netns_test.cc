// Exec and the name checks without root: an empty namespace name runs in
// the caller's own namespace (no setns).
#include "node/netns.h"

#include <gtest/gtest.h>

#include <string>

namespace tw::node {
namespace {

TEST(NodeExec, CapturesOutputAndExitCode) {
  auto r = Exec("", {"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->output, "out\nerr\n");
  EXPECT_FALSE(r->output_truncated);
}

TEST(NodeExec, StdinIsEmptyAndSignalsMapTo128Plus) {
  auto r = Exec("", {"sh", "-c", "cat; kill -TERM $$"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "");
  EXPECT_EQ(r->exit_code, 128 + 15);
}

TEST(NodeExec, UncapturedSharesTheCallersStdio) {
  ExecOptions options;
  options.capture_output = false;
  auto r = Exec("", {"sh", "-c", "exit 4"}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->output, "");
}

TEST(NodeExec, TruncatesPastMaxOutput) {
  ExecOptions options;
  options.max_output = 10;
  auto r =
      Exec("", {"sh", "-c", "i=0; while [ $i -lt 5000 ]; do echo 0123456789; i=$((i+1)); done"}, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);  // the whole output was drained: no SIGPIPE
  EXPECT_EQ(r->output, "0123456789");
  EXPECT_TRUE(r->output_truncated);
}

TEST(NodeExec, MissingCommandAndBadInputAreErrors) {
  auto r = Exec("", {"/nonexistent/tw-no-such-command", "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().ToString();
  EXPECT_NE(r.error().message().find("tw-no-such-command"), std::string::npos);
  EXPECT_TRUE(Exec("", {}).error().IsInvalidArgument());
  EXPECT_TRUE(Exec("a/b", {"true"}).error().IsInvalidArgument());
  EXPECT_TRUE(Exec("twt-no-such-netns-for-sure", {"true"}).error().IsNotFound());
}

TEST(NodeExec, RunInOwnNamespaceReturnsTheFunctionsStatus) {
  int calls = 0;
  Status s = RunInNetns("", [&] {
    ++calls;
    return Status::Conflict("from fn");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(s.IsConflict());
  EXPECT_TRUE(RunInNetns("", [] { return Status::Ok(); }).ok());
  EXPECT_TRUE(RunInNetns("twt-no-such-netns-for-sure", [] { return Status::Ok(); }).IsNotFound());
}

TEST(NodeNames, NetnsNameCheck) {
  for (const char* bad : {"", ".", "..", "a/b", "/abs"}) {
    EXPECT_TRUE(CheckNetnsName(bad).IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(CheckNetnsName(std::string(256, 'a')).IsInvalidArgument());
  EXPECT_TRUE(CheckNetnsName(std::string(255, 'a')).ok());
  EXPECT_TRUE(CheckNetnsName("tw-default-tf-ubuntu").ok());
  EXPECT_TRUE(CreateNetns("a/b").IsInvalidArgument());
  EXPECT_TRUE(DeleteNetns("..").IsInvalidArgument());
}

}  // namespace
}  // namespace tw::node
