#include "cli/output.h"

#include <gtest/gtest.h>

#include "model/kinds.h"

namespace tw::cli {
namespace {

namespace json = boost::json;

TEST(OutputTest, RenderTableAlignsLikeKubectl) {
  TextTable t{{"NAME", "CONTENT", "AGE"}, {{"snort-ip-block-list", "IPSet", "5m"}, {"x", "DomainNameSet", "1d"}}};
  EXPECT_EQ(RenderTable(t),
            "NAME                  CONTENT         AGE\n"
            "snort-ip-block-list   IPSet           5m\n"
            "x                     DomainNameSet   1d\n");
}

TEST(OutputTest, RenderTableNoTrailingSpaces) {
  TextTable t{{"NAME", "LABELS"}, {{"a", ""}}};
  EXPECT_EQ(RenderTable(t), "NAME   LABELS\na\n");
}

TEST(OutputTest, AppendApiTableFiltersWideColumnsAndAddsNamespace) {
  json::value table = json::parse(R"({
    "kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7"},
    "columnDefinitions":[
      {"name":"Name","type":"string","format":"name","priority":0},
      {"name":"Selector","type":"string","format":"","priority":1},
      {"name":"Order","type":"number","format":"","priority":0}],
    "rows":[
      {"cells":["a", "x == 'y'", 100], "object":{"metadata":{"name":"a","namespace":"dev"}}},
      {"cells":["bb", null, 2.5]}]})");
  TextTable narrow;
  ASSERT_TRUE(AppendApiTable(table, {}, &narrow).ok());
  EXPECT_EQ(RenderTable(narrow), "NAME   ORDER\na      100\nbb     2.5\n");

  TableOptions opts;
  opts.wide = true;
  opts.with_namespace = true;
  opts.default_namespace = "?";
  TextTable wide;
  ASSERT_TRUE(AppendApiTable(table, opts, &wide).ok());
  EXPECT_EQ(RenderTable(wide),
            "NAMESPACE   NAME   SELECTOR   ORDER\n"
            "dev         a      x == 'y'   100\n"
            "?           bb     <none>     2.5\n");

  TableOptions prefixed;
  prefixed.name_prefix = "tier.projectcalico.org/";
  TextTable p;
  ASSERT_TRUE(AppendApiTable(table, prefixed, &p).ok());
  EXPECT_EQ(p.rows[0][0], "tier.projectcalico.org/a");
}

TEST(OutputTest, AppendApiTableRejectsNonTables) {
  TextTable t;
  EXPECT_FALSE(AppendApiTable(json::parse(R"({"kind":"List","items":[]})"), {}, &t).ok());
}

TEST(OutputTest, CellText) {
  EXPECT_EQ(CellText(json::parse("null")), "<none>");
  EXPECT_EQ(CellText(json::parse("3")), "3");
  EXPECT_EQ(CellText(json::parse("3.0")), "3");
  EXPECT_EQ(CellText(json::parse("2.5")), "2.5");
  EXPECT_EQ(CellText(json::parse("true")), "true");
  EXPECT_EQ(CellText(json::parse(R"(["a","b"])")), "a,b");
}

TEST(OutputTest, ObjectRefUsesKindAndGroup) {
  const model::KindInfo* gtf = model::FindKind("projectcalico.org/v3", "GlobalThreatFeed");
  const model::KindInfo* ns = model::FindKind("v1", "Namespace");
  const model::KindInfo* knp = model::FindKind("networking.k8s.io/v1", "NetworkPolicy");
  ASSERT_NE(gtf, nullptr);
  ASSERT_NE(ns, nullptr);
  ASSERT_NE(knp, nullptr);
  EXPECT_EQ(ObjectRef(*gtf, "snort-ip-block-list"), "globalthreatfeed.projectcalico.org/snort-ip-block-list");
  EXPECT_EQ(ObjectRef(*ns, "dev"), "namespace/dev");
  EXPECT_EQ(ObjectRef(*knp, "nginx"), "networkpolicy.networking.k8s.io/nginx");
}

TEST(OutputTest, MakeListShape) {
  json::value list = MakeList({json::object{{"a", 1}}});
  EXPECT_EQ(list, json::parse(R"({"apiVersion":"v1","items":[{"a":1}],"kind":"List","metadata":{"resourceVersion":""}})"));
}

TEST(OutputTest, HumanizeKey) {
  EXPECT_EQ(HumanizeKey("globalNetworkSet"), "Global Network Set");
  EXPECT_EQ(HumanizeKey("url"), "URL");
  EXPECT_EQ(HumanizeKey("uid"), "UID");
  EXPECT_EQ(HumanizeKey("apiVersion"), "API Version");
  EXPECT_EQ(HumanizeKey("creationTimestamp"), "Creation Timestamp");
  EXPECT_EQ(HumanizeKey("HTTPHeader"), "HTTP Header");
}

TEST(OutputTest, DescribeLayout) {
  json::object o = json::parse(R"({
    "apiVersion":"projectcalico.org/v3","kind":"GlobalThreatFeed",
    "metadata":{"name":"snort","labels":{"b":"2","a":"1"},"uid":"u-1","resourceVersion":"9",
                "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},
    "spec":{"pull":{"http":{"url":"https://x"}},"content":"IPSet","list":["p","q"]}})").as_object();
  EXPECT_EQ(Describe(o),
            "Name:         snort\n"
            "Namespace:\n"
            "Labels:       a=1\n"
            "              b=2\n"
            "Annotations:  <none>\n"
            "API Version:  projectcalico.org/v3\n"
            "Kind:         GlobalThreatFeed\n"
            "Metadata:\n"
            "  Resource Version:  9\n"
            "  UID:               u-1\n"
            "Spec:\n"
            "  Content:  IPSet\n"
            "  List:\n"
            "    p\n"
            "    q\n"
            "  Pull:\n"
            "    HTTP:\n"
            "      URL:  https://x\n"
            // kubectl's tabwriter aligns Events with the block above it.
            "Events:     <none>\n");
}

}  // namespace
TEST(OutputTest, JsonPathTemplatesLikeKubectl) {
  json::value obj = json::parse(R"({"metadata":{"name":"f"},"status":{"entries":765,"ok":true},
      "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  EXPECT_EQ(*RenderJsonPathTemplate("{.status.entries}", obj), "765");
  EXPECT_EQ(*RenderJsonPathTemplate("name={.metadata.name}{\"\\n\"}", obj), "name=f\n");
  EXPECT_EQ(*RenderJsonPathTemplate("{.items[*].metadata.name}", obj), "a b");
  EXPECT_EQ(*RenderJsonPathTemplate("{.status}", obj), R"({"entries":765,"ok":true})");
  EXPECT_EQ(*RenderJsonPathTemplate("{.status.missing}", obj), "");
  EXPECT_FALSE(RenderJsonPathTemplate("{.status", obj).ok());
  EXPECT_FALSE(RenderJsonPathTemplate("{.a[}", obj).ok());
}

}  // namespace tw::cli
