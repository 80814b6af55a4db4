#include "model/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tw::model {
namespace {

namespace json = boost::json;

std::string ManifestError(std::string_view text, std::string_view source = "f.yaml") {
  auto docs = ParseManifest(text, source);
  if (docs.ok()) return "(no error)";
  return docs.error().message();
}

TEST(Manifest, YamlDocumentsKeepTheirNumbers) {
  auto docs = ParseManifest(
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
      "---\n"
      "---\n"
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n",
      "f.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].index, 1);
  EXPECT_EQ((*docs)[1].index, 3);
  EXPECT_EQ((*docs)[1].source, "f.yaml");
  // Kinds are not checked here: that is admission's job.
  EXPECT_EQ((*docs)[1].value.at("kind"), json::value("Deployment"));
  EXPECT_EQ((*docs)[1].Where(), "f.yaml: document 3");
}

TEST(Manifest, JsonObjectsStreamsAndArrays) {
  auto docs = ParseManifest(
      "\n  {\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n"
      "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"b\"}}\n",
      "-");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].index, 2);
  EXPECT_EQ((*docs)[1].value.at("metadata").at("name"), json::value("b"));

  docs = ParseManifest(R"([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
                           {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}])",
                       "x.json");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1].value.at("kind"), json::value("ConfigMap"));
  EXPECT_EQ((*docs)[1].Where(), "x.json: document 1: items[1]");
}

TEST(Manifest, ListKindsExpand) {
  auto docs = ParseManifest(
      "apiVersion: v1\nkind: List\nitems:\n"
      "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n"
      "- apiVersion: projectcalico.org/v3\n  kind: Tier\n  metadata: {name: t}\n"
      "---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n",
      "l.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].index, 1);
  EXPECT_EQ((*docs)[1].index, 1);
  EXPECT_EQ((*docs)[1].item_path, "items[1]");
  EXPECT_EQ((*docs)[1].value.at("kind"), json::value("Tier"));
  EXPECT_EQ((*docs)[2].index, 2);
  EXPECT_EQ((*docs)[2].item_path, "");

  // A typed list as the API returns it: items get the type from the list.
  docs = ParseManifest(
      R"({"apiVersion": "projectcalico.org/v3", "kind": "GlobalThreatFeedList",
          "metadata": {"resourceVersion": "7"}, "items": [{"metadata": {"name": "f"}}]})",
      "l.json");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].value.at("kind"), json::value("GlobalThreatFeed"));
  EXPECT_EQ((*docs)[0].value.at("apiVersion"), json::value("projectcalico.org/v3"));

  // Empty and null item lists are fine.
  docs = ParseManifest("apiVersion: v1\nkind: List\nitems: []\n", "e.yaml");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
  docs = ParseManifest("apiVersion: v1\nkind: List\nitems:\n", "e.yaml");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
}

TEST(Manifest, ErrorsNameSourceDocumentAndField) {
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: Namespace\n---\njust a string\n"),
            "f.yaml: document 2: not an object (got a string)");
  EXPECT_EQ(ManifestError("apiVersion: v1\nmetadata: {name: a}\n"), "f.yaml: document 1: kind: required");
  EXPECT_EQ(ManifestError("kind: Namespace\n"), "f.yaml: document 1: apiVersion: required");
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: 3\n"),
            "f.yaml: document 1: kind: must be a string, got a number");
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: List\nitems:\n- 5\n"),
            "f.yaml: document 1: items[0]: not an object (got a number)");
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: List\nitems: {a: 1}\n"),
            "f.yaml: document 1: items: must be a list, got an object");
  EXPECT_EQ(ManifestError("[1]", "a.json"), "a.json: document 1: items[0]: not an object (got a number)");
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: Namespace\n---\na: [1,\n", "f.yaml").rfind(
                "f.yaml: document 2: line ", 0),
            0u);
  EXPECT_EQ(ManifestError("{\"kind\": \"x\",}", "j.json"), "j.json: document 1: line 1, column 14: syntax error");
  EXPECT_EQ(ManifestError("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n"),
            "f.yaml: document 1: line 5, column 3: duplicate map key 'name'");
}

TEST(Manifest, SizeLimitAndByteOrderMark) {
  std::string big(kMaxManifestBytes + 1, ' ');
  auto r = ParseManifest(big, "big.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsTooLarge());
  EXPECT_NE(r.error().message().find("big.yaml: input is"), std::string::npos);

  auto docs = ParseManifest("\xEF\xBB\xBF{\"apiVersion\":\"v1\",\"kind\":\"Namespace\"}", "bom.json");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_EQ(docs->size(), 1u);
  EXPECT_TRUE(ParseManifest("", "empty.yaml")->empty());
  EXPECT_TRUE(ParseManifest("  \n# comment only\n", "c.yaml")->empty());
}

TEST(Manifest, SeedManifestsParse) {
  struct Case {
    const char* file;
    size_t docs;
  } cases[] = {{"31-east-west-traffic.yaml", 14},
               {"40-snort-ip-block-list.yaml", 1},
               {"41-tf-gnp.yaml", 1},
               {"42-tf-ubuntu.yaml", 1}};
  for (const Case& c : cases) {
    std::string path = std::string(TW_SOURCE_DIR) + "/examples/manifests/" + c.file;
    std::ifstream in(path);
    if (!in) {
      path = std::string("/work/shared/seed/manifests/") + c.file;
      in.open(path);
    }
    if (!in) GTEST_SKIP() << "seed manifests not found";
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = ParseManifest(ss.str(), c.file);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    EXPECT_EQ(docs->size(), c.docs) << c.file;
    if (std::string_view(c.file) == "41-tf-gnp.yaml") {
      const json::value& spec = (*docs)[0].value.at("spec");
      EXPECT_EQ(spec.at("order"), json::value(150));
      EXPECT_EQ(spec.at("selector"), json::value("threatfeed == 'snort'"));
      EXPECT_EQ(spec.at("egress").at(1).at("action"), json::value("Pass"));
    }
    if (std::string_view(c.file) == "42-tf-ubuntu.yaml") {
      const json::value& cmd = (*docs)[0].value.at("spec").at("containers").at(0).at("command");
      EXPECT_EQ(cmd, json::parse(R"(["sleep", "3600"])"));
    }
  }
}

}  // namespace
}  // namespace tw::model
