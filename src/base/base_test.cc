#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "base/clock.h"
#include "base/file.h"
#include "base/json_text.h"
#include "base/result.h"
#include "base/strings.h"

namespace tw {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  TW_ASSIGN_OR_RETURN(int h, Half(x));
  TW_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Result, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_EQ(r.error().message(), "odd: 3");
}

TEST(Status, PrefixAndCauses) {
  Status s = Status::InvalidArgument("spec.x: bad").WithCause({"spec.x", "FieldValueInvalid", "bad"});
  Status p = s.WithPrefix("f.yaml: document 1");
  EXPECT_EQ(p.message(), "f.yaml: document 1: spec.x: bad");
  EXPECT_EQ(p.causes().size(), 1u);
  EXPECT_EQ(Status().WithPrefix("x").message(), "");
  EXPECT_EQ(p.ToString(), "InvalidArgument: f.yaml: document 1: spec.x: bad");
}

TEST(Strings, Basics) {
  auto parts = Split("a,b,,c", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[2], "");
  EXPECT_EQ(TrimSpace(" \t x y \r\n"), "x y");
  EXPECT_TRUE(EqualsIgnoreCase("GlobalThreatFeed", "globalthreatfeed"));
  EXPECT_EQ(Quote("a\nb"), "'a\\x0ab'");
}

TEST(Clock, AgeLikeKubectl) {
  using namespace std::chrono;
  EXPECT_EQ(FormatAge(seconds(5)), "5s");
  EXPECT_EQ(FormatAge(seconds(150)), "2m30s");
  EXPECT_EQ(FormatAge(minutes(45)), "45m");
  EXPECT_EQ(FormatAge(hours(5) + minutes(3)), "5h3m");
  EXPECT_EQ(FormatAge(hours(30)), "30h");
  EXPECT_EQ(FormatAge(hours(50)), "2d2h");
  EXPECT_EQ(FormatRfc3339(FakeClock().Now()), "2026-01-01T00:00:00Z");
}

TEST(File, AtomicWriteKeepsMode) {
  std::string dir = ::testing::TempDir() + "/twfile" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  std::string path = dir + "/token";
  ASSERT_TRUE(WriteFileAtomic(path, "secret", 0600).ok());
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "secret");
  EXPECT_TRUE(ReadFile(dir + "/missing").error().IsIoError());
  EXPECT_TRUE(ReadFile(path, 3).error().IsTooLarge());
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace tw

namespace tw {
namespace {

TEST(JsonText, FindsTopLevelMembersOnly) {
  std::string doc = R"( {"kind":"metadata","spec":{"metadata":{"x":1}},"a\"b":[1,"}",{"c":"]"}], "metadata" : {"name":"n"} ,"z":true})";
  auto m = FindTopLevelMember(doc, "metadata");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(doc.substr(m->first, m->second - m->first), R"({"name":"n"})");
  auto z = FindTopLevelMember(doc, "z");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(doc.substr(z->first, z->second - z->first), "true");
  EXPECT_FALSE(FindTopLevelMember(doc, "x").has_value());
  EXPECT_FALSE(FindTopLevelMember("[1,2]", "metadata").has_value());
  EXPECT_FALSE(FindTopLevelMember(R"({"metadata":{"a":"unterminated})", "metadata").has_value());
}

TEST(JsonText, AddsTheResourceVersion) {
  EXPECT_EQ(WithResourceVersionText(R"({"kind":"X","metadata":{"name":"n"},"spec":{}})", 42),
            R"({"kind":"X","metadata":{"resourceVersion":"42","name":"n"},"spec":{}})");
  EXPECT_EQ(WithResourceVersionText(R"({"metadata":{ }})", 7), R"({"metadata":{"resourceVersion":"7" }})");
  EXPECT_EQ(WithResourceVersionText(R"({"metadata":"x"})", 7), std::nullopt);
  EXPECT_EQ(WithResourceVersionText(R"({"spec":{}})", 7), std::nullopt);
}

}  // namespace
}  // namespace tw

namespace tw {
namespace {

TEST(JsonText, MembersAndArrayCounts) {
  auto m = ObjectMembers(R"( { "a" : 1 , "b":{"c":[1,2]}, "d":"x,y" } )");
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[1].first, "b");
  EXPECT_EQ((*m)[1].second, R"({"c":[1,2]})");
  EXPECT_EQ((*m)[2].second, R"("x,y")");
  EXPECT_EQ(ObjectMembers("{}")->size(), 0u);
  EXPECT_FALSE(ObjectMembers(R"({"a":1 "b":2})").has_value());
  EXPECT_EQ(CountArrayElements("[]"), 0u);
  EXPECT_EQ(CountArrayElements(R"([ "a,b", {"x":[1,2]}, 3 ])"), 3u);
  EXPECT_EQ(CountArrayElements("[1,2"), std::nullopt);
  EXPECT_EQ(CountArrayElements("{}"), std::nullopt);
}

}  // namespace
}  // namespace tw
