#include "model/schema.h"

#include <gtest/gtest.h>

namespace tw::model {
namespace {

namespace json = boost::json;
using S = Schema;

std::vector<std::string> Check(const Schema& s, json::value& v) {
  FieldErrors errors;
  CheckSchema(s, v, "", errors);
  std::vector<std::string> out;
  for (const StatusCause& c : errors.causes()) out.push_back(c.field + ": " + c.message + " [" + c.reason + "]");
  return out;
}

Schema TestSchema() {
  return S::Object({
      RequiredField("name", S::String().MaxLength(3)),
      Field("mode", S::String().Enum({"A", "B"})),
      Field("count", S::Integer().Min(0).Max(10)),
      Field("ratio", S::Number()),
      Field("on", S::Boolean()),
      Field("port", S::IntOrString()),
      Field("tags", S::Map(S::String()).MaxItems(2)),
      Field("list", S::Array(S::Object({Field("x", S::Integer())})).MaxItems(2)),
      Field("free", S::FreeObject()),
      Field("any", S::Any()),
      Field("open", S::Object({Field("k", S::String())}).PreserveUnknownFields()),
  });
}

TEST(ModelSchema, AcceptsAWellFormedValue) {
  json::value v = json::parse(R"({"name":"abc","mode":"B","count":10,"ratio":0.5,"on":true,"port":"http",
      "tags":{"a":"b"},"list":[{"x":1}],"free":{"anything":[1]},"any":[null],"open":{"k":"v","extra":1}})");
  EXPECT_TRUE(Check(TestSchema(), v).empty());
}

TEST(ModelSchema, ReportsEveryProblemWithItsPath) {
  json::value v = json::parse(R"({"mode":"C","count":11,"ratio":"x","on":1,"port":true,
      "tags":{"a":"b","c":"d","e":"f"},"list":[{"x":"1"},{"y":2},{}],"free":[],"open":{"k":1},"zzz":0})");
  std::vector<std::string> want = {
      R"(mode: unsupported value "C": must be one of A, B [FieldValueNotSupported])",
      "count: must be between 0 and 10 [FieldValueInvalid]",
      "ratio: must be a number, got string [FieldValueTypeInvalid]",
      "on: must be a boolean, got number [FieldValueTypeInvalid]",
      "port: must be an integer or string, got boolean [FieldValueTypeInvalid]",
      "tags: must have at most 2 items [FieldValueTooMany]",
      "list: must have at most 2 items [FieldValueTooMany]",
      "list[0].x: must be an integer, got string [FieldValueTypeInvalid]",
      "list[1].y: unknown field [FieldValueUnknown]",
      "free: must be an object, got array [FieldValueTypeInvalid]",
      "open.k: must be a string, got number [FieldValueTypeInvalid]",
      "zzz: unknown field [FieldValueUnknown]",
      "name: required [FieldValueRequired]",
  };
  EXPECT_EQ(Check(TestSchema(), v), want);
}

TEST(ModelSchema, NormalisesNullsAndIntegralFloats) {
  json::value v = json::parse(R"({"name":"a","mode":null,"count":3.0,"port":8080.0,"free":{"keep":null}})");
  EXPECT_TRUE(Check(TestSchema(), v).empty());
  EXPECT_FALSE(v.as_object().contains("mode"));
  EXPECT_TRUE(v.at("count").is_int64());
  EXPECT_TRUE(v.at("port").is_int64());
  EXPECT_TRUE(v.at("free").as_object().contains("keep"));  // free-form is untouched
  json::value bad = json::parse(R"({"name":"a","count":2.5})");
  EXPECT_EQ(Check(TestSchema(), bad), std::vector<std::string>{"count: must be an integer, got 2.5 [FieldValueTypeInvalid]"});
}

TEST(ModelSchema, MaxLengthCountsCharactersNotBytes) {
  json::value ok = json::parse(R"({"name":"\u00e9\u00e9\u00e9"})");
  EXPECT_TRUE(Check(TestSchema(), ok).empty());
  json::value bad = json::parse(R"({"name":"abcd"})");
  EXPECT_EQ(Check(TestSchema(), bad),
            std::vector<std::string>{"name: may not be more than 3 characters [FieldValueTooLong]"});
}

TEST(ModelSchema, FieldErrorsToStatus) {
  FieldErrors e;
  e.Unknown("spec.pull.http.urll");
  e.Required("spec.pull.http.url");
  Status s = e.ToStatus();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "spec.pull.http.urll: unknown field");
  ASSERT_EQ(s.causes().size(), 2u);
  EXPECT_EQ(s.causes()[1].reason, "FieldValueRequired");
}

TEST(ModelSchema, Paths) {
  EXPECT_EQ(ChildPath("", "spec"), "spec");
  EXPECT_EQ(ChildPath("spec", "egress"), "spec.egress");
  EXPECT_EQ(IndexPath("spec.egress", 3), "spec.egress[3]");
  EXPECT_EQ(KeyPath("metadata.labels", "app"), "metadata.labels[app]");
}

}  // namespace
}  // namespace tw::model
