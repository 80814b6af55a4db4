#include "cli/apply_patch.h"

#include "api/patch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tw::cli {
namespace {

namespace json = boost::json;

// The server's RFC 7386 implementation, which these patches are sent to.
json::value MergePatched(const json::value& target, const json::value& patch) {
  return api::ApplyMergePatch(target, patch).value();
}

struct PatchCase {
  std::string name;
  json::object original, modified, live, patch;
};

std::vector<PatchCase> LoadCases() {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/cli/three_way_patch.txt");
  std::vector<PatchCase> cases;
  PatchCase cur;
  int fields = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# ")) {
      cur = PatchCase{};
      cur.name = line.substr(2);
      fields = 0;
      continue;
    }
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    json::object v = json::parse(line.substr(colon + 2)).as_object();
    if (key == "original") cur.original = v;
    if (key == "modified") cur.modified = v;
    if (key == "live") cur.live = v;
    if (key == "patch") cur.patch = v;
    if (++fields == 4) cases.push_back(cur);
  }
  return cases;
}

TEST(ApplyPatchTest, ThreeWayCasesFromTestdata) {
  std::vector<PatchCase> cases = LoadCases();
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json::object patch = ThreeWayMergePatch(c.original, c.modified, c.live);
    EXPECT_EQ(json::value(patch), json::value(c.patch)) << json::serialize(patch);
    // Applying the patch makes every field of the manifest true on the server.
    json::value result = MergePatched(c.live, patch);
    json::value again = MergePatched(result, c.modified);
    EXPECT_EQ(again, result) << json::serialize(result);
  }
}

TEST(ApplyPatchTest, TwoWayPatchRoundTrips) {
  json::object from = json::parse(R"({"a":1,"b":{"c":2,"d":[1]},"e":"x"})").as_object();
  json::object to = json::parse(R"({"a":1,"b":{"c":3},"f":null,"g":{"h":1}})").as_object();
  json::object patch = TwoWayMergePatch(from, to);
  EXPECT_EQ(json::value(patch), json::parse(R"({"b":{"c":3,"d":null},"e":null,"f":null,"g":{"h":1}})"));
  EXPECT_TRUE(TwoWayMergePatch(to, to).empty());
}

TEST(ApplyPatchTest, MergePatchFollowsRfc7386) {
  // RFC 7386 appendix A examples.
  EXPECT_EQ(MergePatched(json::parse(R"({"a":"b"})"), json::parse(R"({"a":"c"})")), json::parse(R"({"a":"c"})"));
  EXPECT_EQ(MergePatched(json::parse(R"({"a":"b"})"), json::parse(R"({"a":null})")), json::parse("{}"));
  EXPECT_EQ(MergePatched(json::parse(R"({"a":[{"b":"c"}]})"), json::parse(R"({"a":[1]})")),
            json::parse(R"({"a":[1]})"));
  EXPECT_EQ(MergePatched(json::parse(R"(["a","b"])"), json::parse(R"(["c","d"])")), json::parse(R"(["c","d"])"));
  EXPECT_EQ(MergePatched(json::parse(R"({"e":null})"), json::parse(R"({"a":1})")),
            json::parse(R"({"e":null,"a":1})"));
  EXPECT_EQ(MergePatched(json::parse("[1,2]"), json::parse(R"({"a":"b","c":null})")), json::parse(R"({"a":"b"})"));
}

TEST(ApplyPatchTest, LastAppliedAnnotationRoundTrip) {
  json::object doc = json::parse(
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev","annotations":{"x":"y"}}})").as_object();
  json::object with = WithLastApplied(doc);
  bool present = false;
  auto last = LastApplied(with, &present);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(present);
  EXPECT_EQ(json::value(*last), json::value(doc));
  const auto& text = with["metadata"].as_object()["annotations"].as_object()[kLastAppliedAnnotation].as_string();
  EXPECT_TRUE(text.ends_with("\n"));
  // Re-annotating an annotated object does not nest the annotation.
  EXPECT_EQ(json::value(WithLastApplied(with)), json::value(with));
}

TEST(ApplyPatchTest, LastAppliedAbsentOrBroken) {
  bool present = true;
  auto none = LastApplied(json::parse(R"({"metadata":{"name":"x"}})").as_object(), &present);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(present);
  EXPECT_TRUE(none->empty());
  auto broken = LastApplied(
      json::parse(R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{nope"}}})")
          .as_object(),
      &present);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("last-applied-configuration"), std::string::npos);
}

}  // namespace
}  // namespace tw::cli
