#include "model/jsonpath.h"

#include <gtest/gtest.h>

namespace tw::model {
namespace {

namespace json = boost::json;

// Evaluates `path` on `doc` and returns the results as one JSON array.
json::value Eval(std::string_view path, std::string_view doc) {
  auto p = JsonPath::Compile(path);
  EXPECT_TRUE(p.ok()) << path << ": " << p.error().message();
  if (!p.ok()) return nullptr;
  json::value v = json::parse(doc);
  json::array out;
  for (const json::value* r : p->Evaluate(v)) out.push_back(*r);
  return out;
}

TEST(JsonPath, Evaluates) {
  struct Case {
    const char* path;
    const char* doc;
    const char* want;
  } cases[] = {
      {"$", R"(["a"])", R"([["a"]])"},
      {"$.", R"(["a","b"])", R"([["a","b"]])"},
      {"$.ips", R"({"ips":["1.1.1.1"]})", R"([["1.1.1.1"]])"},
      {"$.a.b", R"({"a":{"b":[1]}})", R"([[1]])"},
      {"$['a']", R"({"a":2})", "[2]"},
      {"$[\"a b\"]", R"({"a b":3})", "[3]"},
      {"$[1]", R"([10,20,30])", "[20]"},
      {"$[-1]", R"([10,20,30])", "[30]"},
      {"$[5]", R"([10])", "[]"},
      {"$[*].ip", R"([{"ip":"a"},{"ip":"b"},{"x":1}])", R"(["a","b"])"},
      {"$.*", R"({"a":1,"b":2})", "[1,2]"},
      {"$..ip", R"({"x":[{"ip":"a"},{"y":{"ip":"b"}}]})", R"(["a","b"])"},
      {"$.Event.Attribute[?(@.type=='ip-dst')].value",
       R"({"Event":{"Attribute":[{"type":"ip-dst","value":"1.2.3.4"},{"type":"domain","value":"x.com"},
          {"type":"ip-dst","value":"5.6.7.8"}]}})",
       R"(["1.2.3.4","5.6.7.8"])"},
      {"$[?(@.score > 3)].ip", R"([{"ip":"a","score":5},{"ip":"b","score":1},{"ip":"c"}])", R"(["a"])"},
      {"$[?(@.score <= 1)].ip", R"([{"ip":"a","score":5},{"ip":"b","score":1}])", R"(["b"])"},
      {"$[?(@.tag != \"x\")].ip", R"([{"ip":"a","tag":"x"},{"ip":"b","tag":"y"},{"ip":"c"}])", R"(["b"])"},
      {"$[?(@.meta.ok == true)].ip", R"([{"ip":"a","meta":{"ok":true}},{"ip":"b","meta":{"ok":false}}])",
       R"(["a"])"},
      {"$[?(@.ip)].ip", R"([{"ip":"a"},{"x":1}])", R"(["a"])"},
      {"$.missing", R"({"a":1})", "[]"},
      {"$.a", R"([1,2])", "[]"},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.path, c.doc), json::parse(c.want)) << c.path;
}

TEST(JsonPath, CompileErrorsNameTheColumn) {
  struct Case {
    const char* path;
    const char* error;
  } cases[] = {
      {"", "a JSONPath must start with '$' at column 1"},
      {"a.b", "a JSONPath must start with '$' at column 1"},
      {"$.a[0", "expected ']' at column 6"},
      {"$.", "expected a member name at column 3"},  // only "$." alone is the root
      {"$..", "expected a member name at column 4"},
      {"$.a.", "expected a member name at column 5"},
      {"$a", "unexpected 'a' at column 2"},
      {"$['a", "unterminated string at column 3"},
      {"$[0,1]", "unions and slices are not supported at column 4"},
      {"$[0:2]", "unions and slices are not supported at column 4"},
      {"$[?(@.a == )]", "invalid filter value at column 12"},
      {"$[?(@.a == 'x']", "expected ')' at column 15"},
      {"$[?(a == 1)]", "expected '@' in filter at column 5"},
      {"$[(@.length-1)]", "unexpected '(' at column 3"},
      {"$[", "unexpected end of path at column 3"},
      {"$..*", "'..*' is not supported at column 4"},
  };
  for (const Case& c : cases) {
    auto p = JsonPath::Compile(c.path);
    if (std::string_view(c.path) == "$.") {
      EXPECT_TRUE(p.ok());
      continue;
    }
    ASSERT_FALSE(p.ok()) << c.path;
    EXPECT_EQ(p.error().message(), c.error) << c.path;
  }
}

}  // namespace
}  // namespace tw::model
