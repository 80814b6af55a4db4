#include "feeds/parse/feed_format.h"

#include <gtest/gtest.h>

namespace tw::feeds {
namespace {

boost::json::value Spec(std::string_view text) { return boost::json::parse(text); }

TEST(FeedFormatSpec, DefaultsToNewline) {
  auto f = FeedFormatFromSpec(Spec(R"({"pull":{"http":{"url":"http://x"}}})"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kind, FeedFormat::Kind::kNewlineDelimited);
  EXPECT_EQ(FeedFormatFromSpec(Spec("{}"))->kind, FeedFormat::Kind::kNewlineDelimited);
  EXPECT_EQ(*ContentFromSpec(Spec("{}")), Content::kIPSet);
  EXPECT_EQ(*ContentFromSpec(Spec(R"({"content":"DomainNameSet"})")), Content::kDomainNameSet);
  EXPECT_FALSE(ContentFromSpec(Spec(R"({"content":"Other"})")).ok());
}

TEST(FeedFormatSpec, JsonAndCsv) {
  auto j = FeedFormatFromSpec(Spec(R"({"pull":{"http":{"format":{"json":{"path":"$.list[*]"}}}}})"));
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->kind, FeedFormat::Kind::kJson);
  EXPECT_EQ(j->json_path, "$.list[*]");
  auto c = FeedFormatFromSpec(Spec(
      R"({"pull":{"http":{"format":{"csv":{"fieldNum":2,"header":true,"columnDelimiter":";",)"
      R"("commentDelimiter":"#","recordSize":3}}}}})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, FeedFormat::Kind::kCsv);
  EXPECT_EQ(c->csv.field_num, std::optional<uint32_t>(2));
  EXPECT_TRUE(c->csv.header);
  EXPECT_EQ(c->csv.column_delimiter, ";");
  EXPECT_EQ(c->csv.comment_delimiter, "#");
  EXPECT_EQ(c->csv.record_size, 3u);
  EXPECT_FALSE(c->csv.disable_record_size_validation);
  auto bad = FeedFormatFromSpec(Spec(R"({"pull":{"http":{"format":{"csv":{"fieldNum":"x"}}}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("fieldNum"), std::string::npos);
}

}  // namespace
}  // namespace tw::feeds
