#include "api/patch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/kinds.h"

namespace tw::api {
namespace {
namespace json = boost::json;

// One case of a testdata/api/*_patch.txt file.
struct PatchCase {
  int line = 0;
  std::string comment;
  std::string kind;  // "v1/Pod", "projectcalico.org/v3/GlobalNetworkSet"
  std::string target, patch, result, error;
};

std::vector<PatchCase> LoadCases(const std::string& file) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/api/" + file);
  EXPECT_TRUE(in) << "cannot open testdata/api/" << file;
  std::vector<PatchCase> cases;
  PatchCase cur;
  std::string line;
  int n = 0;
  auto flush = [&] {
    if (!cur.target.empty() || !cur.patch.empty()) cases.push_back(cur);
    cur = PatchCase();
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') {
      cur.comment = line;
      continue;
    }
    size_t colon = line.find(": ");
    if (colon == std::string::npos) {
      ADD_FAILURE() << file << ":" << n << ": bad line";
      continue;
    }
    std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (cur.line == 0) cur.line = n;
    if (key == "kind")
      cur.kind = value;
    else if (key == "target")
      cur.target = value;
    else if (key == "patch")
      cur.patch = value;
    else if (key == "result")
      cur.result = value;
    else if (key == "error")
      cur.error = value;
    else
      ADD_FAILURE() << file << ":" << n << ": unknown key " << key;
  }
  flush();
  return cases;
}

const model::KindInfo* KindOf(const std::string& text) {
  size_t slash = text.rfind('/');
  return model::FindKind(text.substr(0, slash), text.substr(slash + 1));
}

enum class Format { kMerge, kJson, kStrategic };

void RunFile(const std::string& file, Format format, size_t min_cases) {
  std::vector<PatchCase> cases = LoadCases(file);
  EXPECT_GE(cases.size(), min_cases) << file;
  for (const PatchCase& c : cases) {
    SCOPED_TRACE(file + ":" + std::to_string(c.line) + " " + c.comment);
    json::value target = json::parse(c.target);
    json::value patch = json::parse(c.patch);
    json::value before = target;
    Result<json::value> got = Status::Internal("unset");
    switch (format) {
      case Format::kMerge:
        got = ApplyMergePatch(target, patch);
        break;
      case Format::kJson:
        got = ApplyJsonPatch(target, patch);
        break;
      case Format::kStrategic: {
        const model::KindInfo* kind = KindOf(c.kind);
        ASSERT_NE(kind, nullptr) << "unknown kind " << c.kind;
        got = ApplyStrategicMergePatch(target, patch, *kind);
        break;
      }
    }
    EXPECT_EQ(target, before) << "input modified";
    if (!c.error.empty()) {
      ASSERT_FALSE(got.ok()) << "expected error, got " << json::serialize(*got);
      EXPECT_TRUE(got.error().IsInvalidArgument()) << got.error().ToString();
      EXPECT_NE(got.error().message().find(c.error), std::string::npos)
          << "message: " << got.error().message() << "\nwant substring: " << c.error;
    } else {
      ASSERT_TRUE(got.ok()) << got.error().ToString();
      EXPECT_EQ(*got, json::parse(c.result)) << "got:  " << json::serialize(*got) << "\nwant: " << c.result;
    }
  }
}

TEST(MergePatchTest, TestdataCases) { RunFile("merge_patch.txt", Format::kMerge, 15); }
TEST(JsonPatchTest, TestdataCases) { RunFile("json_patch.txt", Format::kJson, 30); }
TEST(StrategicMergePatchTest, TestdataCases) { RunFile("strategic_merge_patch.txt", Format::kStrategic, 25); }

TEST(MergePatchTest, KeepsMemberOrderOfTarget) {
  auto got = ApplyMergePatch(json::parse(R"({"z":1,"a":2})"), json::parse(R"({"a":3,"m":4})"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(json::serialize(*got), R"({"z":1,"a":3,"m":4})");
}

TEST(StrategicMergePatchTest, EveryServedBuiltInKindAcceptsAnEmptyPatch) {
  json::value obj = json::parse(R"({"metadata":{"name":"x"},"spec":{"a":[1]}})");
  for (const model::KindInfo* k : model::AllKinds()) {
    auto got = ApplyStrategicMergePatch(obj, json::object(), *k);
    ASSERT_TRUE(got.ok()) << k->kind;
    EXPECT_EQ(*got, obj) << k->kind;
  }
}

}  // namespace
}  // namespace tw::api
