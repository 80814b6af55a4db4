#include "api/openapi.h"

#include "base/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/kinds.h"
#include "model/openapi.h"

namespace tw::api {
namespace json = boost::json;

namespace {

// Built-in Kubernetes kinds get strategic merge patches from kubectl.
bool IsBuiltIn(const model::KindInfo& k) { return k.group != "projectcalico.org"; }

// "apis/projectcalico.org/v3" or "api/v1".
std::string GroupVersionPath(std::string_view group, std::string_view version) {
  return group.empty() ? fmt::format("api/{}", version) : fmt::format("apis/{}/{}", group, version);
}

// Reverse-domain schema names as Kubernetes publishes them:
// "io.k8s.api.core.v1.Pod", "io.k8s.api.networking.v1.NetworkPolicy",
// "org.projectcalico.v3.GlobalThreatFeed".
std::string SchemaName(const model::KindInfo& k) {
  if (k.group.empty()) return fmt::format("io.k8s.api.core.{}.{}", k.version, k.kind);
  if (k.group == "networking.k8s.io") return fmt::format("io.k8s.api.networking.{}.{}", k.version, k.kind);
  // projectcalico.org -> org.projectcalico
  std::string g(k.group);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t dot = g.find('.', start);
    parts.push_back(g.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string reversed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) reversed += (reversed.empty() ? "" : ".") + *it;
  return fmt::format("{}.{}.{}", reversed, k.version, k.kind);
}

constexpr std::string_view kStatusSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

json::object Gvk(const model::KindInfo& k) {
  return json::object{{"group", k.group}, {"version", k.version}, {"kind", k.kind}};
}

json::value KindSchema(const model::KindInfo& k) {
  json::value schema = model::OpenApiV3Schema(k);
  json::object& obj = schema.get_object();
  if (!obj.contains("description")) obj["description"] = fmt::format("{} ({}).", k.kind, k.ApiVersion());
  // Only Calico kinds carry the GVK: for built-in kinds kubectl must find no
  // schema here and fall back to its compiled-in types, whose strategic
  // merge metadata (patchMergeKey, patchStrategy) is exact.
  if (IsBuiltIn(k))
    obj.erase("x-kubernetes-group-version-kind");
  else
    obj["x-kubernetes-group-version-kind"] = json::array{Gvk(k)};
  return schema;
}

json::value ListSchema(const model::KindInfo& k, bool v3) {
  std::string prefix = v3 ? "#/components/schemas/" : "#/definitions/";
  json::object list{
      {"description", fmt::format("{}List is a list of {}.", k.kind, k.kind)},
      {"type", "object"},
      {"required", json::array{"items"}},
      {"properties",
       json::object{{"apiVersion", json::object{{"type", "string"}}},
                    {"kind", json::object{{"type", "string"}}},
                    {"metadata", json::object{{"type", "object"}}},
                    {"items", json::object{{"type", "array"},
                                           {"items", json::object{{"$ref", prefix + SchemaName(k)}}}}}}}};
  if (!IsBuiltIn(k))
    list["x-kubernetes-group-version-kind"] = json::array{
        json::object{{"group", k.group}, {"version", k.version}, {"kind", std::string(k.kind) + "List"}}};
  return list;
}

json::object StatusSchema() {
  return json::object{
      {"description", "Status is a return value for calls that don't return other objects."},
      {"type", "object"},
      {"properties", json::object{{"apiVersion", json::object{{"type", "string"}}},
                                  {"kind", json::object{{"type", "string"}}},
                                  {"code", json::object{{"type", "integer"}, {"format", "int32"}}},
                                  {"details", json::object{{"type", "object"}}},
                                  {"message", json::object{{"type", "string"}}},
                                  {"metadata", json::object{{"type", "object"}}},
                                  {"reason", json::object{{"type", "string"}}},
                                  {"status", json::object{{"type", "string"}}}}},
      {"x-kubernetes-group-version-kind",
       json::array{json::object{{"group", ""}, {"version", "v1"}, {"kind", "Status"}}}}};
}

// One operation, described once and rendered for v2 or v3.
struct Op {
  std::string method;  // "get", "put", "patch", "delete", "post"
  std::string action;  // x-kubernetes-action: list, get, post, put, patch, delete
  std::string verb;    // operationId verb: list, read, create, replace, patch, delete
  bool namespaced_path = false;
  bool named = false;
  bool status = false;
  bool all_namespaces = false;
};

std::string UpperFirst(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string OperationId(const model::KindInfo& k, const Op& op) {
  // readCoreV1NamespacedPod, listProjectcalicoOrgV3GlobalThreatFeed, ...
  std::string group = k.group.empty() ? "Core" : "";
  for (std::string_view part : std::vector<std::string_view>{k.group}) {
    size_t start = 0;
    while (start < part.size()) {
      size_t dot = part.find('.', start);
      group += UpperFirst(part.substr(start, dot == std::string_view::npos ? part.npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  std::string scope = op.all_namespaces ? "" : (k.namespaced ? "Namespaced" : "");
  std::string suffix = op.all_namespaces ? "ForAllNamespaces" : "";
  return fmt::format("{}{}{}{}{}{}{}", op.verb, group, UpperFirst(k.version), scope, k.kind,
                     op.status ? "Status" : "", suffix);
}

json::object QueryParam(std::string_view name, std::string_view type, std::string_view description) {
  return json::object{{"name", name},
                      {"in", "query"},
                      {"description", description},
                      {"schema", json::object{{"type", type}, {"uniqueItems", true}}}};
}

// Parameters of an operation, v3 form (v2 flattens "schema").
json::array Parameters(const Op& op) {
  json::array params;
  if (op.named)
    params.push_back(json::object{{"name", "name"},
                                  {"in", "path"},
                                  {"required", true},
                                  {"description", "name of the resource"},
                                  {"schema", json::object{{"type", "string"}, {"uniqueItems", true}}}});
  if (op.namespaced_path)
    params.push_back(
        json::object{{"name", "namespace"},
                     {"in", "path"},
                     {"required", true},
                     {"description", "object name and auth scope, such as for teams and projects"},
                     {"schema", json::object{{"type", "string"}, {"uniqueItems", true}}}});
  params.push_back(QueryParam("pretty", "string", "If 'true', then the output is pretty printed."));
  if (op.method == "post" || op.method == "put" || op.method == "patch") {
    params.push_back(QueryParam("dryRun", "string",
                                "When present, indicates that modifications should not be persisted. "
                                "Valid values are: - All: all dry run stages will be processed"));
    params.push_back(
        QueryParam("fieldManager", "string", "fieldManager is a name associated with the actor."));
    params.push_back(QueryParam(
        "fieldValidation", "string",
        "fieldValidation instructs the server on how to handle objects in the request containing unknown or "
        "duplicate fields. Valid values are: Ignore, Warn, Strict (the default)."));
  }
  if (op.method == "delete")
    params.push_back(QueryParam("dryRun", "string",
                                "When present, indicates that modifications should not be persisted."));
  if (op.action == "list") {
    params.push_back(QueryParam("allowWatchBookmarks", "boolean", "Ignored."));
    params.push_back(QueryParam("continue", "string", "The continue token of the previous page."));
    params.push_back(
        QueryParam("fieldSelector", "string", "metadata.name or metadata.namespace with =, == or !=."));
    params.push_back(QueryParam("labelSelector", "string", "A Kubernetes label selector."));
    params.push_back(QueryParam("limit", "integer", "Maximum number of items to return."));
    params.push_back(QueryParam("resourceVersion", "string", "Watch from this resourceVersion."));
    params.push_back(QueryParam("timeoutSeconds", "integer", "Timeout for the list/watch call."));
    params.push_back(QueryParam("watch", "boolean", "Watch for changes instead of listing."));
  }
  return params;
}

std::vector<std::string> PatchContentTypes(const model::KindInfo& k) {
  std::vector<std::string> types = {"application/json-patch+json", "application/merge-patch+json"};
  if (IsBuiltIn(k)) types.push_back("application/strategic-merge-patch+json");
  return types;
}

std::string ResponseSchemaName(const model::KindInfo& k, const Op& op) {
  if (op.action == "list") return SchemaName(k) + "List";
  return SchemaName(k);
}

json::object OperationV3(const model::KindInfo& k, const Op& op) {
  std::string ref = "#/components/schemas/" + ResponseSchemaName(k, op);
  json::object content_schema{{"schema", json::object{{"$ref", ref}}}};
  json::object ok_content{{"application/json", content_schema}, {"application/yaml", content_schema}};
  if (op.action == "list") ok_content["application/json;stream=watch"] = content_schema;
  json::object responses{{"200", json::object{{"description", "OK"}, {"content", ok_content}}},
                         {"401", json::object{{"description", "Unauthorized"}}}};
  if (op.method == "post" || op.method == "put")
    responses["201"] = json::object{{"description", "Created"}, {"content", ok_content}};
  json::object o{{"tags", json::array{GroupVersionPath(k.group, k.version)}},
                 {"description", fmt::format("{} {}{}", op.action, k.kind, op.status ? " status" : "")},
                 {"operationId", OperationId(k, op)},
                 {"parameters", Parameters(op)},
                 {"responses", std::move(responses)},
                 {"x-kubernetes-action", op.action},
                 {"x-kubernetes-group-version-kind", Gvk(k)}};
  if (op.method == "post" || op.method == "put") {
    json::object body_schema{{"schema", json::object{{"$ref", "#/components/schemas/" + SchemaName(k)}}}};
    o["requestBody"] = json::object{
        {"required", true},
        {"content", json::object{{"application/json", body_schema}, {"application/yaml", body_schema}}}};
  } else if (op.method == "patch") {
    json::object content;
    for (const auto& t : PatchContentTypes(k))
      content[t] = json::object{{"schema", json::object{{"type", "object"}}}};
    o["requestBody"] = json::object{{"required", true}, {"content", std::move(content)}};
  }
  return o;
}

// Every (path, operation) of a kind.
std::vector<std::pair<std::string, std::vector<Op>>> KindPaths(const model::KindInfo& k) {
  std::string prefix = k.ApiPrefix();
  std::string base = k.namespaced ? fmt::format("{}/namespaces/{{namespace}}/{}", prefix, k.plural)
                                  : fmt::format("{}/{}", prefix, k.plural);
  bool ns = k.namespaced;
  std::vector<std::pair<std::string, std::vector<Op>>> paths;
  paths.push_back({base,
                   {Op{"get", "list", "list", ns, false, false, false},
                    Op{"post", "post", "create", ns, false, false, false}}});
  paths.push_back(
      {base + "/{name}",
       {Op{"get", "get", "read", ns, true, false, false}, Op{"put", "put", "replace", ns, true, false, false},
        Op{"patch", "patch", "patch", ns, true, false, false},
        Op{"delete", "delete", "delete", ns, true, false, false}}});
  if (k.has_status)
    paths.push_back(
        {base + "/{name}/status",
         {Op{"get", "get", "read", ns, true, true, false}, Op{"put", "put", "replace", ns, true, true, false},
          Op{"patch", "patch", "patch", ns, true, true, false}}});
  if (ns)
    paths.push_back(
        {fmt::format("{}/{}", prefix, k.plural), {Op{"get", "list", "list", false, false, false, true}}});
  return paths;
}

std::string Hex64(uint64_t v) { return fmt::format("{:016X}", v); }

std::vector<std::pair<std::string, std::string>> GroupVersions() {
  std::vector<std::pair<std::string, std::string>> gvs;
  for (const model::KindInfo* k : model::AllKinds()) {
    std::pair<std::string, std::string> gv{std::string(k->group), std::string(k->version)};
    if (std::find(gvs.begin(), gvs.end(), gv) == gvs.end()) gvs.push_back(gv);
  }
  return gvs;
}

json::object BuildV3Doc(std::string_view group, std::string_view version) {
  json::object paths;
  json::object schemas;
  for (const model::KindInfo* k : model::AllKinds()) {
    if (k->group != group || k->version != version) continue;
    for (const auto& [path, ops] : KindPaths(*k)) {
      json::object item;
      for (const Op& op : ops) item[op.method] = OperationV3(*k, op);
      paths[path] = std::move(item);
    }
    schemas[SchemaName(*k)] = KindSchema(*k);
    schemas[SchemaName(*k) + "List"] = ListSchema(*k, true);
  }
  schemas[kStatusSchema] = StatusSchema();
  return json::object{{"openapi", "3.0.0"},
                      {"info", json::object{{"title", "threatwall"}, {"version", "v" TW_VERSION}}},
                      {"paths", std::move(paths)},
                      {"components", json::object{{"schemas", std::move(schemas)}}}};
}

// v3 operation -> Swagger 2.0 operation.
json::object ToV2Operation(json::object op, const model::KindInfo& k, std::string_view method) {
  json::array params;
  for (auto& p : op["parameters"].get_array()) {
    json::object q = p.get_object();
    if (auto* s = q.if_contains("schema")) {
      json::object schema = s->get_object();
      q.erase("schema");
      for (auto& [key, value] : schema) q[key] = value;
    }
    params.push_back(std::move(q));
  }
  if (method == "post" || method == "put" || method == "patch") {
    json::object schema = method == "patch" ? json::object{{"type", "object"}}
                                            : json::object{{"$ref", "#/definitions/" + SchemaName(k)}};
    params.push_back(
        json::object{{"name", "body"}, {"in", "body"}, {"required", true}, {"schema", std::move(schema)}});
  }
  op["parameters"] = std::move(params);
  if (method == "patch") {
    json::array consumes;
    for (const auto& t : PatchContentTypes(k)) consumes.emplace_back(t);
    op["consumes"] = std::move(consumes);
  } else {
    op["consumes"] = json::array{"*/*"};
  }
  op["produces"] = json::array{"application/json", "application/yaml"};
  op["schemes"] = json::array{"https"};
  op.erase("requestBody");
  json::object responses;
  for (auto& [code, resp] : op["responses"].get_object()) {
    json::object r{{"description", resp.get_object().at("description")}};
    if (auto* c = resp.get_object().if_contains("content")) {
      std::string ref(c->get_object().at("application/json").at("schema").at("$ref").get_string());
      r["schema"] = json::object{{"$ref", "#/definitions/" + ref.substr(ref.rfind('/') + 1)}};
    }
    responses[code] = std::move(r);
  }
  op["responses"] = std::move(responses);
  return op;
}

}  // namespace

namespace {

// The documents never change while the process runs: build them once.
struct V3Doc {
  std::string path;  // "api/v1"
  json::object doc;
};
const std::vector<V3Doc>& V3Docs() {
  static const std::vector<V3Doc>* docs = [] {
    auto* d = new std::vector<V3Doc>;
    for (const auto& [group, version] : GroupVersions())
      d->push_back({GroupVersionPath(group, version), BuildV3Doc(group, version)});
    return d;
  }();
  return *docs;
}

}  // namespace

json::object OpenApiV3RootDoc() {
  json::object paths;
  for (const V3Doc& d : V3Docs()) {
    // A stable content hash for the cache-busting URLs.
    std::string hash = Hex64(Fnv1a64(json::serialize(d.doc)));
    paths[d.path] = json::object{{"serverRelativeURL", fmt::format("/openapi/v3/{}?hash={}", d.path, hash)}};
  }
  return json::object{{"paths", std::move(paths)}};
}

Result<json::object> OpenApiV3Doc(std::string_view api_path) {
  if (size_t q = api_path.find('?'); q != std::string_view::npos) api_path = api_path.substr(0, q);
  while (!api_path.empty() && api_path.front() == '/') api_path.remove_prefix(1);
  while (!api_path.empty() && api_path.back() == '/') api_path.remove_suffix(1);
  if (api_path.starts_with("openapi/v3/")) api_path.remove_prefix(11);
  for (const V3Doc& d : V3Docs())
    if (d.path == api_path) return d.doc;
  return Status::NotFound(fmt::format("openapi/v3/{}: no such group-version", api_path));
}

json::object OpenApiV2Doc() {
  json::object paths;
  json::object definitions;
  for (const model::KindInfo* k : model::AllKinds()) {
    for (const auto& [path, ops] : KindPaths(*k)) {
      json::object item;
      for (const Op& op : ops) item[op.method] = ToV2Operation(OperationV3(*k, op), *k, op.method);
      paths[path] = std::move(item);
    }
    // Same GVK rule as v3 (see KindSchema).
    definitions[SchemaName(*k)] = KindSchema(*k);
    definitions[SchemaName(*k) + "List"] = ListSchema(*k, false);
  }
  definitions[kStatusSchema] = StatusSchema();
  return json::object{{"swagger", "2.0"},
                      {"info", json::object{{"title", "threatwall"}, {"version", "v" TW_VERSION}}},
                      {"paths", std::move(paths)},
                      {"definitions", std::move(definitions)}};
}

std::string OpenApiV2ProtobufDoc() { return std::string(); }

}  // namespace tw::api
