#include "api/api_handler.h"

#include <algorithm>
#include <charconv>

#include "api/discovery.h"
#include "api/log_routes.h"
#include "api/openapi.h"
#include "base/log.h"
#include "base/strings.h"
#include "model/codec.h"

namespace tw::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kJson = "application/json";

void SendJson(ResponseWriter& w, int code, const json::value& body, const std::vector<std::string>& warnings = {}) {
  HttpHeaders headers;
  for (const std::string& warning : warnings) {
    std::string escaped;
    for (char c : warning) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    headers.emplace_back("Warning", "299 - \"" + escaped + "\"");
  }
  w.Send(code, kJson, json::serialize(body) + "\n", headers);
}

void SendResponse(ResponseWriter& w, ApiResponse r) {
  if (!r.raw_body.empty() && r.warnings.empty()) {
    r.raw_body.push_back('\n');
    return w.Send(r.code, kJson, std::move(r.raw_body), {});
  }
  SendJson(w, r.code, r.body, r.warnings);
}

void SendError(ResponseWriter& w, int code, std::string_view message) {
  SendJson(w, code, StatusBody(code, ReasonForCode(code), message));
}

void NotFound(ResponseWriter& w) { SendError(w, 404, "the server could not find the requested resource"); }

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  for (std::string_view s : Split(path, '/'))
    if (!s.empty()) out.push_back(s);
  return out;
}

bool IsTrue(std::string_view v) { return v == "1" || v == "true" || v == "True"; }

// The media type without parameters, lower-cased.
std::string MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  return ToLower(TrimSpace(content_type.substr(0, semi)));
}


void HandleDiscovery(const HttpRequest& request, const std::vector<std::string_view>& seg, ResponseWriter& writer) {
  if (seg.empty()) {
    json::array paths;
    for (const char* p : {"/api", "/api/v1", "/apis", "/healthz", "/openapi/v2", "/openapi/v3", "/version"})
      paths.push_back(json::string(p));
    for (const model::KindInfo* k : model::AllKinds()) {
      if (k->group.empty()) continue;
      json::value gv = json::string("/apis/" + k->ApiVersion());
      if (std::find(paths.begin(), paths.end(), gv) == paths.end()) paths.push_back(gv);
    }
    return SendJson(writer, 200, json::object{{"paths", std::move(paths)}});
  }
  if (seg[0] == "version") {
    if (seg.size() != 1) return NotFound(writer);
    return SendJson(writer, 200, VersionDoc());
  }
  if (seg[0] == "openapi") {
    if (seg.size() == 2 && seg[1] == "v2") {
      std::string accept = request.Header("accept");
      // kubectl asks for protobuf only; see openapi.h for why an empty
      // document is the right answer.
      if (accept.find("protobuf") != std::string::npos && accept.find("json") == std::string::npos)
        return writer.Send(200, kOpenApiV2ProtobufContentType, OpenApiV2ProtobufDoc());
      return SendJson(writer, 200, OpenApiV2Doc());
    }
    if (seg.size() == 2 && seg[1] == "v3") return SendJson(writer, 200, OpenApiV3RootDoc());
    if (seg.size() > 2 && seg[1] == "v3") {
      std::string path;
      for (size_t i = 2; i < seg.size(); ++i) path += (i > 2 ? "/" : "") + std::string(seg[i]);
      auto doc = OpenApiV3Doc(path);
      if (!doc.ok()) return NotFound(writer);
      return SendJson(writer, 200, *doc);
    }
    return NotFound(writer);
  }
  if (seg[0] == "api") {
    if (seg.size() == 1) return SendJson(writer, 200, ApiVersionsDoc());
    auto doc = ApiResourceListDoc("", seg[1]);
    if (!doc.ok()) return NotFound(writer);
    return SendJson(writer, 200, *doc);
  }
  // seg[0] == "apis"
  if (seg.size() == 1) return SendJson(writer, 200, ApiGroupListDoc());
  if (seg.size() == 2) {
    json::object list = ApiGroupListDoc();
    if (auto* groups = list.if_contains("groups"); groups && groups->is_array())
      for (json::value& g : groups->get_array())
        if (auto* name = g.is_object() ? g.get_object().if_contains("name") : nullptr;
            name && name->is_string() && name->get_string() == seg[1]) {
          json::object group = g.get_object();
          group["kind"] = "APIGroup";
          group["apiVersion"] = "v1";
          return SendJson(writer, 200, group);
        }
    return NotFound(writer);
  }
  auto doc = ApiResourceListDoc(seg[1], seg[2]);
  if (!doc.ok()) return NotFound(writer);
  SendJson(writer, 200, *doc);
}

}  // namespace

Result<json::value> ParseJsonBody(std::string_view body) {
  json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write(body.data(), body.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    size_t at = std::min(consumed, body.size());
    if (body.empty()) return Status::InvalidArgument("malformed JSON body: the body is empty");
    int line = 1, column = 1;
    for (size_t i = 0; i < at; ++i) {
      if (body[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status::InvalidArgument("malformed JSON body: line " + std::to_string(line) + ", column " +
                                   std::to_string(column) + ": " + ec.message());
  }
  return parser.release();
}

ApiHandler::ApiHandler(ResourceService& service, const Authenticator& auth, ApiHandlerOptions options)
    : service_(service), auth_(auth), options_(options) {}

HttpHandler ApiHandler::AsHttpHandler() {
  return [this](const HttpRequest& request, ResponseWriter& writer) { Handle(request, writer); };
}

void ApiHandler::Handle(const HttpRequest& request, ResponseWriter& writer) {
  std::vector<std::string_view> seg = PathSegments(request.path);
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz")) {
    writer.Send(200, "text/plain; charset=utf-8", "ok");
    return;
  }
  auto role = auth_.Authenticate(request.Header("authorization"));
  if (!role.ok()) {
    SendJson(writer, 401, StatusBody(401, "Unauthorized", "Unauthorized"));
    return;
  }
  if (Status st = Authenticator::Authorize(*role, request.method); !st.ok()) {
    SendJson(writer, 403, StatusBody(403, "Forbidden", st.message()));
    return;
  }
  bool is_get = request.method == "GET" || request.method == "HEAD";

  if (seg.size() == 1 && seg[0] == "metrics") {
    if (!is_get) return SendError(writer, 405, "the server does not allow this method on the requested resource");
    if (!options_.metrics_provider) return SendError(writer, 503, "metrics: nothing to report");
    writer.Send(200, "text/plain; version=0.0.4; charset=utf-8", options_.metrics_provider());
    return;
  }
  if (IsLogRoute(request.path)) {
    return SendResponse(writer, HandleLogRoute(options_.logs, request, options_.clock->Now()));
  }
  if (!seg.empty() && seg[0] == "threatwall") {
    if (seg.size() != 3 || seg[1] != "v1" || seg[2] != "explain") return NotFound(writer);
    if (!is_get) return SendError(writer, 405, "the server does not allow this method on the requested resource");
    return HandleExplain(request, writer);
  }

  // Discovery and OpenAPI (GET only).
  if (seg.empty() || seg[0] == "version" || seg[0] == "openapi" || (seg[0] == "api" && seg.size() <= 2) ||
      (seg[0] == "apis" && seg.size() <= 3)) {
    if (!is_get) return SendError(writer, 405, "the server does not allow this method on the requested resource");
    return HandleDiscovery(request, seg, writer);
  }

  // Resources: {prefix}/...
  std::string_view group, version;
  size_t rest = 0;
  if (seg[0] == "api" && seg.size() >= 3) {
    version = seg[1];
    rest = 2;
  } else if (seg[0] == "apis" && seg.size() >= 4) {
    group = seg[1];
    version = seg[2];
    rest = 3;
  } else {
    return NotFound(writer);
  }
  std::vector<std::string_view> r(seg.begin() + static_cast<long>(rest), seg.end());
  ResourceTarget target;
  const model::KindInfo* ns_kind = model::FindKindByResource(group, version, "namespaces");
  if (r[0] == "namespaces" && r.size() >= 3 && !(ns_kind != nullptr && r.size() == 3 && r[2] == "status")) {
    // {prefix}/namespaces/NS/PLURAL[/NAME[/status]]
    target.kind = model::FindKindByResource(group, version, r[2]);
    if (target.kind == nullptr || !target.kind->namespaced || r.size() > 5) return NotFound(writer);
    target.ns = std::string(r[1]);
    if (r.size() >= 4) target.name = std::string(r[3]);
    if (r.size() == 5) {
      if (r[4] != "status" || !target.kind->has_status) return NotFound(writer);
      target.status = true;
    }
  } else {
    // {prefix}/PLURAL[/NAME[/status]]
    target.kind = model::FindKindByResource(group, version, r[0]);
    if (target.kind == nullptr || r.size() > 3) return NotFound(writer);
    if (r.size() >= 2) {
      if (target.kind->namespaced) return NotFound(writer);
      target.name = std::string(r[1]);
    }
    if (r.size() == 3) {
      if (r[2] != "status" || !target.kind->has_status) return NotFound(writer);
      target.status = true;
    }
  }
  HandleResource(request, *role, target, writer);
}

void ApiHandler::HandleResource(const HttpRequest& request, Role role, const ResourceTarget& target,
                                ResponseWriter& writer) {
  const std::string& method = request.method;
  ReadOptions read;
  read.role = role;
  read.label_selector = request.Query("labelSelector");
  read.field_selector = request.Query("fieldSelector");
  read.continue_token = request.Query("continue");
  read.as_table = AcceptsTable(request.Header("accept"));
  read.table_include_object = request.Query("includeObject") == "Object";
  if (std::string limit = request.Query("limit"); !limit.empty()) {
    auto [p, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), read.limit);
    if (ec != std::errc() || p != limit.data() + limit.size() || read.limit < 0)
      return SendError(writer, 400, "limit: invalid value " + Quote(limit) + ": must be a non-negative integer");
  }
  WriteOptions write;
  std::string fv = request.Query("fieldValidation");
  if (fv.empty() || EqualsIgnoreCase(fv, "Strict")) {
    write.field_validation = FieldValidation::kStrict;
  } else if (EqualsIgnoreCase(fv, "Warn")) {
    write.field_validation = FieldValidation::kWarn;
  } else if (EqualsIgnoreCase(fv, "Ignore")) {
    write.field_validation = FieldValidation::kIgnore;
  } else {
    return SendError(writer, 400, "fieldValidation: invalid value " + Quote(fv) + ": must be Strict, Warn or Ignore");
  }
  if (request.HasQuery("dryRun")) {
    std::string dry = request.Query("dryRun");
    if (dry != "All") return SendError(writer, 400, "dryRun: invalid value " + Quote(dry) + ": only All is supported");
    write.dry_run = true;
  }

  if (method == "GET" || method == "HEAD") {
    if (IsTrue(request.Query("watch"))) return StreamWatch(request, role, target, writer);
    if (target.name.empty()) return SendResponse(writer, service_.List(target, read));
    return SendResponse(writer, service_.Get(target, read));
  }

  // Writes: parse the body.
  std::string media = MediaType(request.Header("content-type"));
  auto parse_body = [&](bool allow_yaml) -> Result<json::value> {
    if (allow_yaml && (media == "application/yaml" || media == "application/x-yaml")) {
      auto docs = model::ParseYamlDocuments(request.body);
      if (!docs.ok()) return Status::InvalidArgument("malformed YAML body: " + docs.error().message());
      if (docs->size() != 1) return Status::InvalidArgument("the YAML body must hold exactly one document");
      return std::move((*docs)[0]);
    }
    return ParseJsonBody(request.body);
  };
  if (method == "POST" || method == "PUT") {
    if (!media.empty() && media != "application/json" && media != "application/yaml" && media != "application/x-yaml" &&
        media != "*/*" && media != "text/plain")
      return SendError(writer, 415, "unsupported media type " + Quote(media) + ": send application/json");
    auto body = parse_body(true);
    if (!body.ok()) return SendError(writer, 400, body.error().message());
    if (method == "POST") return SendResponse(writer, service_.Create(target, *body, write));
    return SendResponse(writer, service_.Replace(target, *body, write));
  }
  if (method == "PATCH") {
    PatchType type;
    if (media == "application/merge-patch+json") {
      type = PatchType::kMerge;
    } else if (media == "application/json-patch+json") {
      type = PatchType::kJson;
    } else if (media == "application/strategic-merge-patch+json") {
      type = PatchType::kStrategic;
    } else if (media == "application/apply-patch+yaml") {
      return SendError(writer, 415,
                       "server-side apply (application/apply-patch+yaml) is not supported: use client-side "
                       "kubectl apply");
    } else {
      return SendError(writer, 415,
                       "unsupported patch type " + Quote(media) +
                           ": use application/merge-patch+json, application/json-patch+json or "
                           "application/strategic-merge-patch+json");
    }
    auto body = ParseJsonBody(request.body);
    if (!body.ok()) return SendError(writer, 400, body.error().message());
    return SendResponse(writer, service_.Patch(target, type, *body, write));
  }
  if (method == "DELETE") {
    json::value body;  // null: no DeleteOptions
    if (!TrimSpace(request.body).empty()) {
      auto parsed = ParseJsonBody(request.body);
      if (!parsed.ok()) return SendError(writer, 400, parsed.error().message());
      body = std::move(*parsed);
      if (auto* o = body.if_object())
        if (auto* dry = o->if_contains("dryRun"); dry && dry->is_array() && !dry->get_array().empty())
          write.dry_run = true;
    }
    return SendResponse(writer, service_.Delete(target, body, write));
  }
  SendError(writer, 405, "the server does not allow method " + method + " on the requested resource");
}

namespace {

// An optional integer query parameter within [lo, hi].
Result<std::optional<int64_t>> IntQuery(const HttpRequest& request, std::string_view name, int64_t lo, int64_t hi) {
  if (!request.HasQuery(name)) return std::optional<int64_t>();
  std::string text = request.Query(name);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    return Status::InvalidArgument(std::string(name) + ": invalid value " + Quote(text) + ": must be an integer " +
                                   std::to_string(lo) + "-" + std::to_string(hi));
  }
  return std::optional<int64_t>(v);
}

}  // namespace

Result<policy::ExplainQuery> ExplainQueryFromRequest(const HttpRequest& request) {
  policy::ExplainQuery q;
  q.from = request.Query("from");
  q.to = request.Query("to");
  if (std::string ns = request.Query("fromNamespace"); !ns.empty()) q.from_ns = ns;
  if (std::string ns = request.Query("toNamespace"); !ns.empty()) q.to_ns = ns;
  if (std::string p = request.Query("protocol"); !p.empty()) q.protocol = p;
  TW_ASSIGN_OR_RETURN(auto port, IntQuery(request, "port", 0, 65535));
  if (port) q.port = static_cast<uint16_t>(*port);
  TW_ASSIGN_OR_RETURN(auto type, IntQuery(request, "icmpType", 0, 255));
  if (type) q.icmp_type = static_cast<uint8_t>(*type);
  TW_ASSIGN_OR_RETURN(auto code, IntQuery(request, "icmpCode", 0, 255));
  if (code) q.icmp_code = static_cast<uint8_t>(*code);
  return q;
}

void ApiHandler::HandleExplain(const HttpRequest& request, ResponseWriter& writer) {
  std::shared_ptr<const policy::Program> program;
  if (options_.program_provider) program = options_.program_provider();
  if (program == nullptr) return SendError(writer, 503, "policy agent not running: no policy program to explain");
  auto query = ExplainQueryFromRequest(request);
  if (!query.ok()) return SendError(writer, 400, query.error().message());
  auto result = policy::Explain(*program, *query);
  // Every Explain error is about the query (an unknown pod, a pod without
  // an address yet, ...): 400, whatever its Status code.
  if (!result.ok()) return SendError(writer, 400, result.error().message());
  SendJson(writer, 200, policy::ExplainToJson(*result));
}

void ApiHandler::StreamWatch(const HttpRequest& request, Role role, const ResourceTarget& target,
                             ResponseWriter& writer) {
  ReadOptions read;
  read.role = role;
  read.label_selector = request.Query("labelSelector");
  read.field_selector = request.Query("fieldSelector");
  std::chrono::seconds timeout = options_.max_watch;
  if (std::string t = request.Query("timeoutSeconds"); !t.empty()) {
    int64_t secs = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
    if (ec != std::errc() || p != t.data() + t.size() || secs < 0)
      return SendError(writer, 400, "timeoutSeconds: invalid value " + Quote(t));
    if (secs > 0) timeout = std::min(timeout, std::chrono::seconds(secs));
  }
  WatchStart start = service_.Watch(target, read, request.Query("resourceVersion"));
  if (start.watch == nullptr) return SendResponse(writer, start.error);
  if (!writer.StartStream(200, kJson)) return;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!writer.Stopping() && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto ev = start.watch->Next(std::min(options_.watch_poll, std::max(left, std::chrono::milliseconds(0))));
    if (ev) {
      if (!writer.WriteChunk(json::serialize(*ev) + "\n")) return;
    }
    if (start.watch->done()) break;
  }
  writer.EndStream();
}

}  // namespace tw::api
