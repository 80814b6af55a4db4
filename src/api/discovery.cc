#include "api/discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "model/kinds.h"

namespace tw::api {
namespace json = boost::json;

namespace {

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Kubernetes' localhost answer; kubectl only reads it for proxies.
json::array ServerAddresses() {
  return json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", ""}}};
}

// Groups (not "") in discovery order, each with its versions in order.
std::vector<std::pair<std::string, std::vector<std::string>>> Groups() {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const model::KindInfo* k : model::AllKinds()) {
    if (k->group.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == k->group; });
    if (it == groups.end()) {
      groups.push_back({std::string(k->group), {}});
      it = groups.end() - 1;
    }
    if (std::find(it->second.begin(), it->second.end(), k->version) == it->second.end())
      it->second.emplace_back(k->version);
  }
  return groups;
}

}  // namespace

const std::vector<std::string>& ResourceVerbs() {
  static const std::vector<std::string> verbs = {"create", "delete", "get",  "list",
                                                 "patch",  "update", "watch"};
  return verbs;
}

json::object ApiVersionsDoc() {
  return json::object{{"kind", "APIVersions"},
                      {"versions", json::array{"v1"}},
                      {"serverAddressByClientCIDRs", ServerAddresses()}};
}

json::object ApiGroupListDoc() {
  json::array groups;
  for (const auto& [name, versions] : Groups()) {
    json::array vs;
    for (const auto& v : versions)
      vs.push_back(json::object{{"groupVersion", name + "/" + v}, {"version", v}});
    groups.push_back(json::object{
        {"name", name},
        {"versions", std::move(vs)},
        {"preferredVersion",
         json::object{{"groupVersion", name + "/" + versions.front()}, {"version", versions.front()}}}});
  }
  return json::object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

Result<json::object> ApiResourceListDoc(std::string_view group, std::string_view version) {
  json::array resources;
  for (const model::KindInfo* k : model::AllKinds()) {
    if (k->group != group || k->version != version) continue;
    json::object r{{"name", k->plural},
                   {"singularName", k->singular},
                   {"namespaced", k->namespaced},
                   {"kind", k->kind},
                   {"verbs", ToArray(ResourceVerbs())}};
    if (!k->short_names.empty()) {
      json::array shorts;
      for (auto s : k->short_names) shorts.emplace_back(s);
      r["shortNames"] = std::move(shorts);
    }
    resources.push_back(std::move(r));
    if (k->has_status) {
      resources.push_back(json::object{{"name", std::string(k->plural) + "/status"},
                                       {"singularName", ""},
                                       {"namespaced", k->namespaced},
                                       {"kind", k->kind},
                                       {"verbs", json::array{"get", "patch", "update"}}});
    }
  }
  std::string group_version = group.empty() ? std::string(version) : fmt::format("{}/{}", group, version);
  if (resources.empty())
    return Status::NotFound(fmt::format(
        "the server could not find the requested resource: group version {} not served", group_version));
  return json::object{{"kind", "APIResourceList"},
                      {"apiVersion", "v1"},
                      {"groupVersion", group_version},
                      {"resources", std::move(resources)}};
}

json::object VersionDoc() {
  return json::object{
      {"major", "1"},        {"minor", "32"},           {"gitVersion", "v" TW_VERSION "-threatwall"},
      {"gitCommit", ""},     {"gitTreeState", "clean"}, {"buildDate", "1970-01-01T00:00:00Z"},
      {"goVersion", "none"}, {"compiler", "g++"},       {"platform", "linux/amd64"}};
}

}  // namespace tw::api
