#include "cli/http_client.h"

#include <gtest/gtest.h>

namespace tw::cli {
namespace {

TEST(HttpClientTest, ParseServerUrl) {
  auto u = ParseServerUrl("http://127.0.0.1:7780/");
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "7780");
  EXPECT_EQ(u->path_prefix, "");
  EXPECT_EQ(u->text, "http://127.0.0.1:7780");

  u = ParseServerUrl("http://localhost/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->path_prefix, "/prefix");

  u = ParseServerUrl("http://[::1]:81");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");

  auto https = ParseServerUrl("https://x:1");
  ASSERT_FALSE(https.ok());
  EXPECT_TRUE(https.error().IsUnsupported());
  EXPECT_FALSE(ParseServerUrl("ftp://x").ok());
  EXPECT_FALSE(ParseServerUrl("127.0.0.1:7780").ok());
  EXPECT_FALSE(ParseServerUrl("").ok());
}

}  // namespace
}  // namespace tw::cli
