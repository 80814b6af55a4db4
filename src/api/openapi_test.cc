#include "api/openapi.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "model/kinds.h"

namespace tw::api {
namespace {
namespace json = boost::json;

// The group-version document kubectl would fetch for `k`, following the
// root document's serverRelativeURL as client-go's openapi3 Root does.
json::object DocFor(const model::KindInfo& k) {
  std::string gv_path = k.group.empty() ? "api/" + std::string(k.version) : "apis/" + k.ApiVersion();
  json::object root = OpenApiV3RootDoc();
  const json::value* entry = root.at("paths").as_object().if_contains(gv_path);
  EXPECT_NE(entry, nullptr) << gv_path;
  if (entry == nullptr) return {};
  std::string url(entry->at("serverRelativeURL").as_string());
  EXPECT_TRUE(url.starts_with("/openapi/v3/" + gv_path + "?hash=")) << url;
  auto doc = OpenApiV3Doc(url);
  EXPECT_TRUE(doc.ok()) << url;
  return doc.ok() ? *doc : json::object();
}

bool HasGvk(const json::value& ext, const model::KindInfo& k) {
  auto s = [](const json::value& v) { return v.is_string() ? std::string_view(v.get_string()) : "?"; };
  return ext.is_object() && s(ext.at("group")) == k.group && s(ext.at("version")) == k.version &&
         s(ext.at("kind")) == k.kind;
}

// kubectl's supportsQueryParamV3: the first PATCH operation carrying the GVK
// decides, so every such operation must declare fieldValidation.
TEST(OpenApiTest, KubectlFindsFieldValidationForEveryKind) {
  for (const model::KindInfo* k : model::AllKinds()) {
    SCOPED_TRACE(k->ApiVersion() + " " + std::string(k->kind));
    json::object doc = DocFor(*k);
    int patch_ops = 0;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
      const json::value* patch = item.as_object().if_contains("patch");
      if (!patch) continue;
      const json::value* gvk = patch->as_object().if_contains("x-kubernetes-group-version-kind");
      ASSERT_NE(gvk, nullptr) << path;
      if (!HasGvk(*gvk, *k)) continue;
      ++patch_ops;
      bool has_param = false;
      for (const auto& p : patch->at("parameters").as_array())
        if (p.at("name") == "fieldValidation" && p.at("in") == "query") has_param = true;
      EXPECT_TRUE(has_param) << path;
      const json::object& content = patch->at("requestBody").at("content").as_object();
      EXPECT_TRUE(content.contains("application/merge-patch+json")) << path;
      EXPECT_TRUE(content.contains("application/json-patch+json")) << path;
      // Built-in kinds: SMP (kubectl then uses its compiled-in types);
      // Calico kinds: merge patch only, as for CRDs.
      EXPECT_EQ(content.contains("application/strategic-merge-patch+json"), k->group != "projectcalico.org")
          << path;
    }
    EXPECT_EQ(patch_ops, k->has_status ? 2 : 1);
  }
}

TEST(OpenApiTest, PathsFollowTheRestLayout) {
  for (const model::KindInfo* k : model::AllKinds()) {
    json::object doc = DocFor(*k);
    const json::object& paths = doc.at("paths").as_object();
    std::string base =
        k->ApiPrefix() + (k->namespaced ? "/namespaces/{namespace}/" : "/") + std::string(k->plural);
    ASSERT_TRUE(paths.contains(base)) << base;
    EXPECT_TRUE(paths.at(base).as_object().contains("get"));
    EXPECT_TRUE(paths.at(base).as_object().contains("post"));
    const json::object& named = paths.at(base + "/{name}").as_object();
    for (auto m : {"get", "put", "patch", "delete"}) EXPECT_TRUE(named.contains(m)) << base << " " << m;
    EXPECT_EQ(paths.contains(base + "/{name}/status"), k->has_status) << base;
    if (k->namespaced) {
      std::string all = k->ApiPrefix() + "/" + std::string(k->plural);
      ASSERT_TRUE(paths.contains(all)) << all;
      EXPECT_EQ(paths.at(all).at("get").at("x-kubernetes-action"), "list");
    }
  }
}

// kubectl apply looks for a components.schemas entry whose GVK list names
// the kind: present for Calico kinds, absent for built-in kinds.
TEST(OpenApiTest, SchemaGvkOnlyForCalicoKinds) {
  for (const model::KindInfo* k : model::AllKinds()) {
    json::object doc = DocFor(*k);
    int matches = 0;
    for (const auto& [name, schema] : doc.at("components").at("schemas").as_object()) {
      const json::value* gvks = schema.as_object().if_contains("x-kubernetes-group-version-kind");
      if (!gvks) continue;
      ASSERT_TRUE(gvks->is_array()) << name;
      for (const auto& g : gvks->as_array())
        if (HasGvk(g, *k)) ++matches;
    }
    EXPECT_EQ(matches, k->group == "projectcalico.org" ? 1 : 0) << k->kind;
  }
}

TEST(OpenApiTest, EveryRefResolves) {
  for (std::string gv : {"api/v1", "apis/networking.k8s.io/v1", "apis/projectcalico.org/v3"}) {
    auto doc = OpenApiV3Doc(gv);
    ASSERT_TRUE(doc.ok()) << gv;
    const json::object& schemas = doc->at("components").at("schemas").as_object();
    int refs = 0;
    std::function<void(const json::value&)> walk = [&](const json::value& v) {
      if (v.is_object()) {
        for (const auto& [key, child] : v.as_object()) {
          if (key == "$ref") {
            ++refs;
            std::string ref(child.as_string());
            ASSERT_TRUE(ref.starts_with("#/components/schemas/")) << ref;
            EXPECT_TRUE(schemas.contains(ref.substr(21))) << gv << ": " << ref;
          } else {
            walk(child);
          }
        }
      } else if (v.is_array()) {
        for (const auto& child : v.as_array()) walk(child);
      }
    };
    walk(*doc);
    EXPECT_GT(refs, 0);
  }
}

TEST(OpenApiTest, UnknownPathIsNotFound) {
  EXPECT_TRUE(OpenApiV3Doc("apis/apps/v1").error().IsNotFound());
  EXPECT_TRUE(OpenApiV3Doc("").error().IsNotFound());
  EXPECT_TRUE(OpenApiV3Doc("/api/v1/").ok());
}

TEST(OpenApiTest, RootHashesAreStable) {
  EXPECT_EQ(json::serialize(OpenApiV3RootDoc()), json::serialize(OpenApiV3RootDoc()));
  EXPECT_EQ(OpenApiV3RootDoc().at("paths").as_object().size(), 3u);
}

TEST(OpenApiTest, V2HasEveryKind) {
  json::object doc = OpenApiV2Doc();
  EXPECT_EQ(doc.at("swagger"), "2.0");
  const json::object& paths = doc.at("paths").as_object();
  for (const model::KindInfo* k : model::AllKinds()) {
    std::string base =
        k->ApiPrefix() + (k->namespaced ? "/namespaces/{namespace}/" : "/") + std::string(k->plural);
    ASSERT_TRUE(paths.contains(base + "/{name}")) << base;
    const json::object& patch = paths.at(base + "/{name}").at("patch").as_object();
    EXPECT_TRUE(HasGvk(patch.at("x-kubernetes-group-version-kind"), *k));
    bool body = false;
    for (const auto& p : patch.at("parameters").as_array()) body |= p.at("in") == "body";
    EXPECT_TRUE(body);
  }
}

TEST(OpenApiTest, V2ProtobufIsAnEmptyDocumentWithAParseableMediaType) {
  EXPECT_TRUE(OpenApiV2ProtobufDoc().empty());
  // Go's mime.ParseMediaType rejects '@' in the subtype.
  EXPECT_EQ(kOpenApiV2ProtobufContentType.find('@'), std::string_view::npos);
  EXPECT_TRUE(kOpenApiV2ProtobufContentType.starts_with("application/com.github.proto-openapi.spec.v2"));
}

}  // namespace
}  // namespace tw::api
