#include "api/discovery.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "model/kinds.h"

namespace tw::api {
namespace {
namespace json = boost::json;

std::string_view S(const json::value& v) {
  return v.is_string() ? std::string_view(v.get_string()) : std::string_view("<not a string>");
}

TEST(DiscoveryTest, ApiVersionsListsV1) {
  json::object doc = ApiVersionsDoc();
  EXPECT_EQ(doc.at("kind"), "APIVersions");
  EXPECT_EQ(doc.at("versions"), json::array{"v1"});
}

TEST(DiscoveryTest, GroupListOrderAndPreferredVersion) {
  json::object doc = ApiGroupListDoc();
  EXPECT_EQ(doc.at("kind"), "APIGroupList");
  EXPECT_EQ(doc.at("apiVersion"), "v1");
  const json::array& groups = doc.at("groups").as_array();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].at("name"), "networking.k8s.io");
  EXPECT_EQ(groups[1].at("name"), "projectcalico.org");
  EXPECT_EQ(groups[1].at("preferredVersion").at("groupVersion"), "projectcalico.org/v3");
  EXPECT_EQ(groups[1].at("versions").at(0).at("version"), "v3");
  EXPECT_EQ(groups[0].at("preferredVersion").at("version"), "v1");
}

TEST(DiscoveryTest, EveryKindIsListedOnceWithItsNames) {
  std::set<std::string> seen;
  for (const model::KindInfo* k : model::AllKinds()) {
    auto doc = ApiResourceListDoc(k->group, k->version);
    ASSERT_TRUE(doc.ok()) << k->kind;
    EXPECT_EQ(doc->at("kind"), "APIResourceList");
    EXPECT_EQ(S(doc->at("groupVersion")), k->ApiVersion());
    const json::object* entry = nullptr;
    const json::object* status = nullptr;
    for (const auto& r : doc->at("resources").as_array()) {
      if (S(r.at("name")) == k->plural) entry = &r.as_object();
      if (S(r.at("name")) == std::string(k->plural) + "/status") status = &r.as_object();
    }
    ASSERT_NE(entry, nullptr) << k->plural;
    EXPECT_TRUE(seen.insert(k->QualifiedPlural()).second);
    EXPECT_EQ(S(entry->at("kind")), k->kind);
    EXPECT_EQ(S(entry->at("singularName")), k->singular);
    EXPECT_EQ(entry->at("namespaced").as_bool(), k->namespaced) << k->kind;
    json::array want_shorts;
    for (auto s : k->short_names) want_shorts.emplace_back(s);
    if (want_shorts.empty())
      EXPECT_FALSE(entry->contains("shortNames")) << k->kind;
    else
      EXPECT_EQ(entry->at("shortNames"), want_shorts) << k->kind;
    std::set<std::string> verbs;
    for (const auto& v : entry->at("verbs").as_array()) verbs.insert(std::string(v.as_string()));
    EXPECT_EQ(verbs, (std::set<std::string>{"create", "delete", "get", "list", "patch", "update", "watch"}));
    EXPECT_EQ(status != nullptr, k->has_status) << k->kind;
    if (status) {
      EXPECT_EQ(S(status->at("kind")), k->kind);
      EXPECT_EQ(status->at("verbs"), (json::array{"get", "patch", "update"}));
    }
  }
  EXPECT_EQ(seen.size(), model::AllKinds().size());
}

TEST(DiscoveryTest, GlobalThreatFeedHasShortNameAndStatus) {
  auto doc = ApiResourceListDoc("projectcalico.org", "v3");
  ASSERT_TRUE(doc.ok());
  bool found = false, status = false;
  for (const auto& r : doc->at("resources").as_array()) {
    if (r.at("name") == "globalthreatfeeds") {
      found = true;
      EXPECT_EQ(r.at("shortNames"), json::array{"gtf"});
      EXPECT_FALSE(r.at("namespaced").as_bool());
    }
    if (r.at("name") == "globalthreatfeeds/status") status = true;
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(status);
}

TEST(DiscoveryTest, UnknownGroupVersionIsNotFound) {
  EXPECT_TRUE(ApiResourceListDoc("apps", "v1").error().IsNotFound());
  EXPECT_TRUE(ApiResourceListDoc("projectcalico.org", "v1").error().IsNotFound());
  EXPECT_TRUE(ApiResourceListDoc("", "v2").error().IsNotFound());
}

TEST(DiscoveryTest, VersionDoc) {
  json::object v = VersionDoc();
  EXPECT_EQ(v.at("gitVersion"), "v" TW_VERSION "-threatwall");
  EXPECT_EQ(v.at("major"), "1");
  for (auto key : {"minor", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"})
    EXPECT_TRUE(v.at(key).is_string()) << key;
}

}  // namespace
}  // namespace tw::api
