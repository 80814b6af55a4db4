// Input checks of the sandbox functions: they fail before running anything,
// so no root is needed.
#include "node/sandbox.h"

#include <gtest/gtest.h>

namespace tw::node {
namespace {

TEST(NodeNames, IfaceNameCheck) {
  for (const char* bad : {"", ".", "..", "a/b", "a:b", "a b", "tw%d", "sixteen-chars-xx"}) {
    EXPECT_TRUE(CheckIfaceName(bad).IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(CheckIfaceName("fifteen-chars-x").ok());
  EXPECT_TRUE(CheckIfaceName("tw4a45721551d").ok());
}

TEST(NodeNames, SandboxRejectsBadInputBeforeTouchingAnything) {
  auto v4 = net::IpAddr::Parse("10.244.0.1").value();
  auto v6 = net::IpAddr::Parse("fd00::1").value();
  EXPECT_TRUE(CreateSandbox("node", "pod/x", "tw0", v4).IsInvalidArgument());
  EXPECT_TRUE(CreateSandbox("node", "pod", "much-too-long-name", v4).IsInvalidArgument());
  EXPECT_TRUE(CreateSandbox("..", "pod", "tw0", v4).IsInvalidArgument());
  Status s = CreateSandbox("node", "pod", "tw0", v6);
  EXPECT_TRUE(s.IsUnsupported());
  EXPECT_NE(s.message().find("fd00::1"), std::string::npos) << s.message();
  EXPECT_TRUE(DeleteSandbox("node", "", "tw0").IsInvalidArgument());
  EXPECT_EQ(kPodGateway.ToString(), "169.254.1.1");
}

}  // namespace
}  // namespace tw::node
