#include "api/resource_service.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <random>

#include "api/label_selector.h"
#include "api/patch.h"
#include "base/json_text.h"
#include "base/strings.h"
#include "model/admit.h"
#include "model/table.h"

namespace tw::api {

namespace json = boost::json;

namespace {

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
// base64("REDACTED"): keeps Secret.data decodable for clients that decode it.
constexpr std::string_view kRedactedBase64 = "UkVEQUNURUQ=";
constexpr std::string_view kRedacted = "REDACTED";

const model::KindInfo& NamespaceKind() {
  static const model::KindInfo* k = model::FindKind("v1", "Namespace");
  return *k;
}
const model::KindInfo& TierKind() {
  static const model::KindInfo* k = model::FindKind("projectcalico.org/v3", "Tier");
  return *k;
}
// Calico policy kinds that name a tier in spec.tier.
bool IsTieredPolicy(const model::KindInfo& kind) {
  return kind.group == "projectcalico.org" &&
         (kind.kind == "GlobalNetworkPolicy" || kind.kind == "NetworkPolicy" ||
          kind.kind == "StagedGlobalNetworkPolicy");
}
bool IsNamespace(const model::KindInfo& kind) { return &kind == &NamespaceKind(); }
bool IsTier(const model::KindInfo& kind) { return &kind == &TierKind(); }
// Objects at least this large are served by Get without parsing them.
constexpr size_t kRawServeBytes = size_t{256} << 10;

bool IsSecret(const model::KindInfo& kind) { return kind.group.empty() && kind.kind == "Secret"; }

store::Key KeyOf(const model::KindInfo& kind, const std::string& ns, const std::string& name) {
  return store::Key{kind.StoreKind(), kind.namespaced ? ns : std::string(), name};
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}
json::object& EnsureObject(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.get_object();
}
std::string StringAt(const json::object* o, std::string_view key) {
  if (o == nullptr) return "";
  auto it = o->find(key);
  return it != o->end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
}
std::string MetaString(const json::object& obj, std::string_view key) {
  return StringAt(ObjectAt(obj, "metadata"), key);
}

bool ParseRevision(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && *out >= 0;
}

// DNS-1123 subdomain characters; what every served kind allows in a name
// (the per-kind rules are Admit's).  Path names that fail this cannot name
// a stored object.
Status ValidatePathName(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 253 && name != "." && name != "..";
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) ok = false;
  if (!ok)
    return Status::InvalidArgument("invalid " + std::string(what) + " name " + Quote(name) +
                                   ": must consist of lower case alphanumeric characters, '-' or '.' "
                                   "(at most 253 characters)");
  return Status::Ok();
}

// The object as served: the stored JSON plus metadata.resourceVersion.
Result<json::object> Decode(const store::Record& record) {
  boost::system::error_code ec;
  json::value v = json::parse(record.value, ec);
  if (ec || !v.is_object())
    return Status::Internal("stored value of " + record.key.kind + " " + record.key.ns + "/" + record.key.name +
                            " is not a JSON object");
  json::object obj = std::move(v.get_object());
  EnsureObject(obj, "metadata")["resourceVersion"] = std::to_string(record.mod_revision);
  return obj;
}

// A large value's JSON with every big array replaced by an array of nulls of
// the same length: what selectors and table cells need (they read metadata
// and count nets) at a fraction of a full DOM's memory.
json::value ParseSummarized(std::string_view text, int depth) {
  constexpr size_t kBigMember = size_t{64} << 10;
  if (text.size() >= kBigMember && !text.empty()) {
    if (text.front() == '[') {
      if (auto n = CountArrayElements(text)) return json::array(*n, nullptr);
    } else if (text.front() == '{' && depth < 4) {
      if (auto members = ObjectMembers(text)) {
        json::object out;
        for (const auto& [key, value] : *members) out[key] = ParseSummarized(value, depth + 1);
        return out;
      }
    }
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

Result<json::object> DecodeSummary(const store::Record& record) {
  if (record.value.size() < kRawServeBytes) return Decode(record);
  json::value v = ParseSummarized(record.value, 0);
  if (!v.is_object()) return Decode(record);
  json::object obj = std::move(v.get_object());
  EnsureObject(obj, "metadata")["resourceVersion"] = std::to_string(record.mod_revision);
  return obj;
}

void Redact(const model::KindInfo& kind, Role role, json::object& obj) {
  if (role != Role::kReadOnly || !IsSecret(kind)) return;
  for (std::string_view field : {"data", "stringData"}) {
    auto it = obj.find(field);
    if (it == obj.end() || !it->value().is_object()) continue;
    for (auto& kv : it->value().get_object()) kv.value() = field == "data" ? kRedactedBase64 : kRedacted;
  }
  // kubectl apply keeps the whole manifest (values included) here.
  if (auto* meta = obj.if_contains("metadata"); meta && meta->is_object())
    if (auto* ann = meta->get_object().if_contains("annotations"); ann && ann->is_object())
      if (auto* last = ann->get_object().if_contains(kLastApplied)) *last = kRedacted;
}

// Everything but metadata and status: what bumps metadata.generation.
json::object SpecPart(const json::object& obj) {
  json::object out;
  for (const auto& kv : obj)
    if (kv.key() != "metadata" && kv.key() != "status" && kv.key() != "apiVersion" && kv.key() != "kind")
      out.emplace(kv.key(), kv.value());
  return out;
}

bool IsUnknownFieldCause(const StatusCause& c) {
  return c.reason == "FieldValueUnknown" || c.message.find("unknown field") != std::string::npos;
}

// Removes the member at a field path such as "spec.egress[0].foo".
bool RemoveFieldPath(json::value& root, std::string_view path) {
  json::value* cur = &root;
  std::vector<std::string> parts;
  std::string token;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '.' || path[i] == '[') {
      if (!token.empty()) parts.push_back(token);
      token.clear();
      if (i < path.size() && path[i] == '[') {
        size_t end = path.find(']', i);
        if (end == std::string_view::npos) return false;
        parts.push_back("[" + std::string(path.substr(i + 1, end - i - 1)));
        i = end;
      }
    } else {
      token.push_back(path[i]);
    }
  }
  if (parts.empty()) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p[0] == '[') {
      size_t idx = 0;
      if (!cur->is_array() || std::from_chars(p.data() + 1, p.data() + p.size(), idx).ec != std::errc() ||
          idx >= cur->get_array().size())
        return false;
      cur = &cur->get_array()[idx];
    } else {
      if (!cur->is_object()) return false;
      cur = cur->get_object().if_contains(p);
      if (cur == nullptr) return false;
    }
  }
  if (!cur->is_object()) return false;
  return cur->get_object().erase(parts.back()) > 0;
}

// Admit with ?fieldValidation: Strict fails on unknown fields; Warn and
// Ignore drop them (Warn also reports them) and admit the rest.
Result<model::Admitted> AdmitWith(json::object doc, const std::string& ns, FieldValidation fv,
                                  std::vector<std::string>* warnings) {
  json::value v(std::move(doc));
  for (int round = 0; round < 64; ++round) {
    auto admitted = model::Admit(v, ns.empty() ? "default" : ns);
    if (admitted.ok() || fv == FieldValidation::kStrict) return admitted;
    const Status& err = admitted.error();
    if (err.causes().empty()) return admitted;
    bool removed_any = false;
    for (const StatusCause& c : err.causes()) {
      if (!IsUnknownFieldCause(c)) return admitted;
      if (RemoveFieldPath(v, c.field)) {
        removed_any = true;
        if (fv == FieldValidation::kWarn) warnings->push_back("unknown field \"" + c.field + "\"");
      }
    }
    if (!removed_any) return admitted;
  }
  return model::Admit(v, ns.empty() ? "default" : ns);
}

// An Admit failure as the API reports it: unserved kinds are 400, the rest
// 422 Invalid with causes.
ApiResponse AdmitError(const model::KindInfo& kind, std::string_view name, const Status& err) {
  if (err.IsUnsupported()) return ErrorResponse(400, "BadRequest", err.message());
  std::vector<StatusCause> causes = err.causes();
  if (causes.empty()) {
    // "FIELD.PATH: REASON" -> one cause.
    StatusCause c;
    c.reason = "FieldValueInvalid";
    size_t colon = err.message().find(": ");
    if (colon != std::string::npos && err.message().find(' ') >= colon) {
      c.field = err.message().substr(0, colon);
      c.message = err.message().substr(colon + 2);
    } else {
      c.message = err.message();
    }
    causes.push_back(std::move(c));
  }
  return InvalidError(kind, name, causes);
}

// The kind named by a body's apiVersion/kind must be the one of the URL.
ApiResponse CheckBodyKind(const model::KindInfo& kind, json::object& doc) {
  std::string api_version = doc.contains("apiVersion") && doc["apiVersion"].is_string()
                                ? std::string(doc["apiVersion"].get_string())
                                : "";
  std::string kind_name =
      doc.contains("kind") && doc["kind"].is_string() ? std::string(doc["kind"].get_string()) : "";
  if (api_version.empty()) doc["apiVersion"] = kind.ApiVersion();
  if (kind_name.empty()) doc["kind"] = kind.kind;
  if (!api_version.empty() && api_version != kind.ApiVersion())
    return ErrorResponse(400, "BadRequest",
                         "the API version in the data (" + api_version +
                             ") does not match the expected API version (" + kind.ApiVersion() + ")");
  if (!kind_name.empty() && kind_name != kind.kind) {
    if (model::FindKind(api_version.empty() ? kind.ApiVersion() : api_version, kind_name) == nullptr)
      return ErrorResponse(400, "BadRequest",
                           "kind not served: " + (api_version.empty() ? kind.ApiVersion() : api_version) + " " +
                               kind_name);
    return ErrorResponse(400, "BadRequest",
                         "the kind in the data (" + kind_name + ") does not match the expected kind (" +
                             std::string(kind.kind) + ")");
  }
  return ApiResponse{};
}

json::object TableDoc(const model::KindInfo& kind, const std::vector<json::object>& items,
                      const json::object& list_meta, bool include_object,
                      std::chrono::system_clock::time_point now) {
  json::array columns;
  for (const model::TableColumn& c : model::TableColumns(kind)) {
    json::object col;
    col["name"] = c.name;
    col["type"] = c.type;
    col["format"] = c.format;
    col["description"] = c.description;
    col["priority"] = c.priority;
    columns.push_back(std::move(col));
  }
  json::array rows;
  for (const json::object& item : items) {
    json::object row;
    row["cells"] = model::TableCells(kind, item, now);
    if (include_object) {
      row["object"] = item;
    } else {
      json::object partial;
      partial["kind"] = "PartialObjectMetadata";
      partial["apiVersion"] = "meta.k8s.io/v1";
      if (const json::object* meta = ObjectAt(item, "metadata")) partial["metadata"] = *meta;
      row["object"] = std::move(partial);
    }
    rows.push_back(std::move(row));
  }
  json::object t;
  t["kind"] = "Table";
  t["apiVersion"] = "meta.k8s.io/v1";
  t["metadata"] = list_meta;
  t["columnDefinitions"] = std::move(columns);
  t["rows"] = std::move(rows);
  return t;
}

struct Filters {
  LabelSelector labels;
  FieldSelector fields;
  std::string name;  // single-object watch/list

  bool Matches(const json::object& obj) const {
    if (!name.empty() && MetaString(obj, "name") != name) return false;
    const json::object* meta = ObjectAt(obj, "metadata");
    const json::object* lbls = meta ? ObjectAt(*meta, "labels") : nullptr;
    return labels.Matches(lbls) && fields.Matches(obj);
  }
};

Result<Filters> MakeFilters(const ReadOptions& options) {
  auto labels = LabelSelector::Parse(options.label_selector);
  if (!labels.ok()) return Status::InvalidArgument("labelSelector: " + labels.error().message());
  auto fields = FieldSelector::Parse(options.field_selector);
  if (!fields.ok()) return Status::InvalidArgument("fieldSelector: " + fields.error().message());
  return Filters{std::move(*labels), std::move(*fields), {}};
}

ApiResponse WithRv(json::object obj, int code) { return ApiResponse{code, std::move(obj), {}}; }

class WatchImpl : public ResourceWatch {
 public:
  WatchImpl(const model::KindInfo& kind, Role role, Filters filters, std::deque<json::object> initial,
            std::unique_ptr<store::Watch> watch)
      : kind_(kind), role_(role), filters_(std::move(filters)), initial_(std::move(initial)),
        watch_(std::move(watch)) {}
  ~WatchImpl() override { watch_->Cancel(); }

  std::optional<json::object> Next(std::chrono::milliseconds wait) override {
    if (!initial_.empty()) {
      json::object ev = std::move(initial_.front());
      initial_.pop_front();
      return ev;
    }
    if (done_) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      std::optional<store::WatchEvent> ev = watch_->Next(left);
      if (!ev) {
        Status st = watch_->status();
        if (!st.ok()) {
          done_ = true;
          return Event("ERROR", StatusBody(410, "Gone", "too old resource version: the watch fell behind (" +
                                                             st.message() + ")"));
        }
        return std::nullopt;
      }
      if (ev->type == store::EventType::kDeleted && ev->record.value.empty()) {
        // A chunked object's pieces can be gone by the time a late watcher
        // reads its deletion: identify it by its key.
        json::object meta{{"name", ev->record.key.name}};
        if (!ev->record.key.ns.empty()) meta["namespace"] = ev->record.key.ns;
        ev->record.value = json::serialize(json::object{
            {"apiVersion", kind_.ApiVersion()}, {"kind", kind_.kind}, {"metadata", std::move(meta)}});
      }
      auto obj = Decode(ev->record);
      if (obj.ok() && filters_.Matches(*obj)) {
        Redact(kind_, role_, *obj);
        const char* type = ev->type == store::EventType::kAdded      ? "ADDED"
                           : ev->type == store::EventType::kModified ? "MODIFIED"
                                                                      : "DELETED";
        return Event(type, std::move(*obj));
      }
      // Filtered out: keep reading (with whatever wait is left; a ready
      // event still comes back at once when the deadline has passed).
    }
  }

  bool done() const override { return done_ && initial_.empty(); }

  static json::object Event(std::string_view type, json::object obj) {
    json::object ev;
    ev["type"] = type;
    ev["object"] = std::move(obj);
    return ev;
  }

 private:
  const model::KindInfo& kind_;
  Role role_;
  Filters filters_;
  std::deque<json::object> initial_;
  std::unique_ptr<store::Watch> watch_;
  bool done_ = false;
};

}  // namespace

bool AcceptsTable(std::string_view accept) { return accept.find("as=Table") != std::string_view::npos; }

struct ResourceService::Stored {
  store::Record record;
  json::object object;  // with resourceVersion
};

ResourceService::ResourceService(store::Datastore& store, const Clock& clock) : store_(store), clock_(clock) {}

std::optional<ApiResponse> ResourceService::Load(const ResourceTarget& target, Stored* out) {
  const model::KindInfo& kind = *target.kind;
  auto rec = store_.Get(KeyOf(kind, target.ns, target.name));
  if (!rec.ok()) return rec.error().IsNotFound() ? NotFoundError(kind, target.name) : FromStatus(rec.error());
  auto obj = Decode(*rec);
  if (!obj.ok()) return FromStatus(obj.error());
  *out = Stored{std::move(*rec), std::move(*obj)};
  return std::nullopt;
}

namespace {

// Validates the ns/name of a target; returns an error response or nothing.
std::optional<ApiResponse> CheckTarget(const ResourceTarget& t, bool need_name) {
  if (t.kind == nullptr) return ErrorResponse(404, "NotFound", "the server could not find the requested resource");
  if (!t.ns.empty()) {
    if (auto st = ValidatePathName("namespace", t.ns); !st.ok()) return ErrorResponse(400, "BadRequest", st.message());
  }
  if (need_name && t.name.empty())
    return ErrorResponse(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  if (!t.name.empty()) {
    if (auto st = ValidatePathName("resource", t.name); !st.ok()) return ErrorResponse(400, "BadRequest", st.message());
  }
  return std::nullopt;
}

}  // namespace

ApiResponse ResourceService::Get(const ResourceTarget& target, const ReadOptions& options) {
  if (auto err = CheckTarget(target, true)) return *err;
  const model::KindInfo& kind = *target.kind;
  if (kind.namespaced && target.ns.empty())
    return ErrorResponse(404, "NotFound", "the server could not find the requested resource");
  Stored stored;
  if (!options.as_table && !(options.role == Role::kReadOnly && IsSecret(kind))) {
    // A large object (a 1M-entry GlobalNetworkSet is ~19 MB) is served as
    // its stored JSON with resourceVersion spliced in as text, without a
    // ~100 MB DOM.  Small ones take the ordinary path below.
    auto rec = store_.Get(KeyOf(kind, target.ns, target.name));
    if (!rec.ok()) return rec.error().IsNotFound() ? NotFoundError(kind, target.name) : FromStatus(rec.error());
    if (rec->value.size() >= kRawServeBytes) {
      if (auto text = WithResourceVersionText(rec->value, rec->mod_revision)) {
        ApiResponse response;
        response.raw_body = std::move(*text);
        return response;
      }
    }
    auto obj = Decode(*rec);
    if (!obj.ok()) return FromStatus(obj.error());
    stored = Stored{std::move(*rec), std::move(*obj)};
  } else if (options.as_table && !options.table_include_object) {
    auto rec = store_.Get(KeyOf(kind, target.ns, target.name));
    if (!rec.ok()) return rec.error().IsNotFound() ? NotFoundError(kind, target.name) : FromStatus(rec.error());
    auto obj = DecodeSummary(*rec);
    if (!obj.ok()) return FromStatus(obj.error());
    rec->value = std::string();  // the summary is all a table needs
    stored = Stored{std::move(*rec), std::move(*obj)};
  } else if (auto err = Load(target, &stored)) {
    return *err;
  }
  json::object& obj = stored.object;
  Redact(kind, options.role, obj);
  if (options.as_table) {
    json::object meta;
    meta["resourceVersion"] = std::to_string(stored.record.mod_revision);
    std::vector<json::object> one;
    one.push_back(std::move(obj));
    return WithRv(TableDoc(kind, one, meta, options.table_include_object, clock_.Now()), 200);
  }
  return WithRv(std::move(obj), 200);
}

ApiResponse ResourceService::List(const ResourceTarget& target, const ReadOptions& options) {
  if (auto err = CheckTarget(target, false)) return *err;
  const model::KindInfo& kind = *target.kind;
  auto filters = MakeFilters(options);
  if (!filters.ok()) return ErrorResponse(400, "BadRequest", filters.error().message());
  store::Scope scope{kind.StoreKind(), std::nullopt};
  if (kind.namespaced && !target.ns.empty()) scope.ns = target.ns;
  auto list = store_.List(scope);
  if (!list.ok()) return FromStatus(list.error());

  // continue token: "ns/name" of the last item returned (records are sorted
  // by (ns, name), so everything after it comes next).
  std::string after_ns, after_name;
  bool has_after = false;
  if (!options.continue_token.empty()) {
    size_t slash = options.continue_token.find('/');
    if (slash == std::string::npos)
      return ErrorResponse(400, "BadRequest", "invalid continue token " + Quote(options.continue_token));
    after_ns = options.continue_token.substr(0, slash);
    after_name = options.continue_token.substr(slash + 1);
    has_after = true;
  }
  std::vector<json::object> items;
  // Large objects in a JSON list are sent as their stored text (no DOM):
  // raw[i] non-empty replaces items[i] in the output.
  std::vector<std::string> raw;
  bool raw_ok = !options.as_table && !(options.role == Role::kReadOnly && IsSecret(kind));
  bool any_raw = false;
  std::string next_token;
  for (store::Record& rec : list->records) {
    if (has_after && std::tie(rec.key.ns, rec.key.name) <= std::tie(after_ns, after_name)) continue;
    bool large = rec.value.size() >= kRawServeBytes && !(options.as_table && options.table_include_object);
    auto obj = large ? DecodeSummary(rec) : Decode(rec);
    if (!obj.ok()) return FromStatus(obj.error());
    if (!filters->Matches(*obj)) continue;
    if (options.limit > 0 && static_cast<int64_t>(items.size()) >= options.limit) {
      const json::object& last = items.back();
      next_token = MetaString(last, "namespace") + "/" + MetaString(last, "name");
      break;
    }
    Redact(kind, options.role, *obj);
    std::optional<std::string> text;
    if (large && raw_ok) text = WithResourceVersionText(rec.value, rec.mod_revision);
    rec.value = std::string();
    any_raw = any_raw || text.has_value();
    raw.push_back(text ? std::move(*text) : std::string());
    items.push_back(std::move(*obj));
  }
  json::object meta;
  meta["resourceVersion"] = std::to_string(list->revision);
  if (!next_token.empty()) meta["continue"] = next_token;
  if (options.as_table)
    return WithRv(TableDoc(kind, items, meta, options.table_include_object, clock_.Now()), 200);
  if (any_raw) {
    ApiResponse response;
    std::string& out = response.raw_body;
    out = "{\"kind\":" + json::serialize(json::value(std::string(kind.kind) + "List")) +
          ",\"apiVersion\":" + json::serialize(json::value(kind.ApiVersion())) +
          ",\"metadata\":" + json::serialize(meta) + ",\"items\":[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out.push_back(',');
      if (raw[i].empty()) {
        out += json::serialize(items[i]);
      } else {
        out += raw[i];
        raw[i] = std::string();
      }
    }
    out += "]}";
    return response;
  }
  json::object out;
  out["kind"] = std::string(kind.kind) + "List";
  out["apiVersion"] = kind.ApiVersion();
  out["metadata"] = std::move(meta);
  json::array arr;
  arr.reserve(items.size());
  for (json::object& item : items) arr.push_back(std::move(item));
  out["items"] = std::move(arr);
  return WithRv(std::move(out), 200);
}

WatchStart ResourceService::Watch(const ResourceTarget& target, const ReadOptions& options,
                                  const std::string& resource_version) {
  WatchStart out;
  if (auto err = CheckTarget(target, false)) {
    out.error = *err;
    return out;
  }
  const model::KindInfo& kind = *target.kind;
  auto filters = MakeFilters(options);
  if (!filters.ok()) {
    out.error = ErrorResponse(400, "BadRequest", filters.error().message());
    return out;
  }
  filters->name = target.name;
  store::Scope scope{kind.StoreKind(), std::nullopt};
  if (kind.namespaced && !target.ns.empty()) scope.ns = target.ns;

  std::deque<json::object> initial;
  int64_t from = 0;
  if (resource_version.empty() || resource_version == "0") {
    auto list = store_.List(scope);
    if (!list.ok()) {
      out.error = FromStatus(list.error());
      return out;
    }
    for (const store::Record& rec : list->records) {
      auto obj = Decode(rec);
      if (!obj.ok() || !filters->Matches(*obj)) continue;
      Redact(kind, options.role, *obj);
      initial.push_back(WatchImpl::Event("ADDED", std::move(*obj)));
    }
    from = list->revision;
  } else if (!ParseRevision(resource_version, &from)) {
    out.error = ErrorResponse(400, "BadRequest", "invalid resourceVersion " + Quote(resource_version) +
                                                     ": must be a non-negative integer");
    return out;
  }
  auto watch = store_.WatchFrom(scope, from);
  if (!watch.ok()) {
    if (watch.error().IsGone()) {
      out.error = ErrorResponse(410, "Gone",
                                "too old resource version: " + resource_version + " (" +
                                    std::to_string(store_.CompactedRevision()) + ")");
    } else {
      out.error = FromStatus(watch.error());
    }
    return out;
  }
  out.watch = std::make_unique<WatchImpl>(kind, options.role, std::move(*filters), std::move(initial),
                                          std::move(*watch));
  return out;
}

ApiResponse ResourceService::Create(const ResourceTarget& target, const boost::json::value& body,
                                    const WriteOptions& options) {
  if (auto err = CheckTarget(target, false)) return *err;
  const model::KindInfo& kind = *target.kind;
  if (!target.name.empty() || target.status)
    return ErrorResponse(405, "MethodNotAllowed", "POST is only allowed on a collection");
  if (kind.namespaced && target.ns.empty())
    return ErrorResponse(405, "MethodNotAllowed",
                         "create " + std::string(kind.plural) + " in a namespace: POST to " +
                             kind.ApiPrefix() + "/namespaces/NAMESPACE/" + std::string(kind.plural));
  if (!body.is_object()) return ErrorResponse(400, "BadRequest", "the request body must be a JSON object");
  json::object doc = body.get_object();
  if (auto r = CheckBodyKind(kind, doc); !r.ok()) return r;
  return Write(target, std::move(doc), nullptr, 0, options);
}

ApiResponse ResourceService::Replace(const ResourceTarget& target, const boost::json::value& body,
                                     const WriteOptions& options) {
  if (auto err = CheckTarget(target, true)) return *err;
  const model::KindInfo& kind = *target.kind;
  if (!body.is_object()) return ErrorResponse(400, "BadRequest", "the request body must be a JSON object");
  json::object doc = body.get_object();
  if (auto r = CheckBodyKind(kind, doc); !r.ok()) return r;
  Stored existing;
  if (auto err = Load(target, &existing)) return *err;
  int64_t expected = 0;
  std::string rv = MetaString(doc, "resourceVersion");
  if (!rv.empty() && !ParseRevision(rv, &expected))
    return InvalidError(kind, target.name,
                        {{"metadata.resourceVersion", "FieldValueInvalid", "invalid resourceVersion " + Quote(rv)}});
  return Write(target, std::move(doc), &existing, expected, options);
}

ApiResponse ResourceService::Patch(const ResourceTarget& target, PatchType type, const boost::json::value& patch,
                                   const WriteOptions& options) {
  if (auto err = CheckTarget(target, true)) return *err;
  const model::KindInfo& kind = *target.kind;
  // Like the Kubernetes API server, a patch without its own resourceVersion
  // is retried on a concurrent write (it is re-applied to the new object).
  for (int attempt = 0;; ++attempt) {
    Stored existing;
    if (auto err = Load(target, &existing)) return *err;
    json::value current(existing.object);
    Result<json::value> patched = Status::Internal("unreachable");
    switch (type) {
      case PatchType::kMerge: patched = ApplyMergePatch(current, patch); break;
      case PatchType::kJson: patched = ApplyJsonPatch(current, patch); break;
      case PatchType::kStrategic: patched = ApplyStrategicMergePatch(current, patch, kind); break;
    }
    if (!patched.ok()) {
      const Status& e = patched.error();
      // A failed JSON patch "test" is a precondition failure, not bad input.
      return ErrorResponse(e.IsConflict() ? 409 : 422, e.IsConflict() ? "Conflict" : "Invalid", e.message());
    }
    if (!patched->is_object()) return ErrorResponse(422, "Invalid", "the patched object is not a JSON object");
    json::object doc = std::move(patched->get_object());
    if (auto r = CheckBodyKind(kind, doc); !r.ok()) return r;
    std::string rv = MetaString(doc, "resourceVersion");
    int64_t expected = existing.record.mod_revision;
    bool user_precondition = false;
    if (!rv.empty() && rv != std::to_string(existing.record.mod_revision)) {
      if (!ParseRevision(rv, &expected))
        return InvalidError(kind, target.name, {{"metadata.resourceVersion", "FieldValueInvalid",
                                                 "invalid resourceVersion " + Quote(rv)}});
      user_precondition = true;
    }
    ApiResponse resp = Write(target, std::move(doc), &existing, expected, options);
    if (resp.code == 409 && !user_precondition && attempt < 8 && resp.body.is_object() &&
        resp.body.get_object().contains("reason") && resp.body.get_object().at("reason") == "Conflict")
      continue;
    return resp;
  }
}

ApiResponse ResourceService::Write(const ResourceTarget& target, json::object doc, const Stored* existing,
                                   int64_t expected_revision, const WriteOptions& options) {
  const model::KindInfo& kind = *target.kind;
  json::object& meta = EnsureObject(doc, "metadata");
  std::string name = StringAt(&meta, "name");
  if (existing != nullptr) {
    if (name.empty()) meta["name"] = name = target.name;
    if (name != target.name)
      return ErrorResponse(400, "BadRequest",
                           "the name of the object (" + name + ") does not match the name on the URL (" +
                               target.name + ")");
  } else if (name.empty()) {
    return InvalidError(kind, "",
                        {{"metadata.name", "FieldValueRequired", "Required value: name or generateName is required"}});
  }
  if (kind.namespaced) {
    std::string body_ns = StringAt(&meta, "namespace");
    if (!body_ns.empty() && body_ns != target.ns)
      return ErrorResponse(400, "BadRequest",
                           "the namespace of the provided object does not match the namespace sent on the request");
    meta["namespace"] = target.ns;
  } else {
    meta.erase("namespace");
  }

  // Status subresource rules.
  if (kind.has_status) {
    if (target.status) {
      if (existing == nullptr) return NotFoundError(kind, name);
      json::object merged = existing->object;
      if (auto it = doc.find("status"); it != doc.end()) merged["status"] = it->value();
      else merged.erase("status");
      doc = std::move(merged);
    } else if (existing != nullptr) {
      if (auto it = existing->object.find("status"); it != existing->object.end()) doc["status"] = it->value();
      else doc.erase("status");
    } else {
      doc.erase("status");
    }
  } else if (target.status) {
    return ErrorResponse(404, "NotFound", "the server could not find the requested resource");
  }

  std::vector<std::string> warnings;
  auto admitted = AdmitWith(std::move(doc), target.ns, options.field_validation, &warnings);
  if (!admitted.ok()) return AdmitError(kind, name, admitted.error());
  if (admitted->kind != &kind && admitted->kind != nullptr && admitted->kind->StoreKind() != kind.StoreKind())
    return ErrorResponse(400, "BadRequest", "the kind of the object does not match the URL");
  json::object obj = std::move(admitted->object);
  json::object& m = EnsureObject(obj, "metadata");
  m.erase("resourceVersion");
  m.erase("managedFields");
  m.erase("selfLink");
  if (kind.namespaced) m["namespace"] = target.ns;
  if (existing != nullptr) {
    const json::object* old_meta = ObjectAt(existing->object, "metadata");
    m["uid"] = StringAt(old_meta, "uid");
    m["creationTimestamp"] = StringAt(old_meta, "creationTimestamp");
    int64_t gen = 1;
    if (old_meta != nullptr)
      if (auto* g = old_meta->if_contains("generation"); g && g->is_int64()) gen = g->get_int64();
    if (SpecPart(obj) != SpecPart(existing->object)) ++gen;
    m["generation"] = gen;
  } else {
    m["uid"] = NewUuid();
    m["creationTimestamp"] = FormatRfc3339(clock_.Now());
    m["generation"] = 1;
  }
  if (IsNamespace(kind)) {
    json::object& st = EnsureObject(obj, "status");
    if (!st.contains("phase")) st["phase"] = "Active";
  }

  // Rules that need the datastore.
  if (existing == nullptr && kind.namespaced) {
    auto ns = store_.Get(KeyOf(NamespaceKind(), "", target.ns));
    if (!ns.ok()) return ns.error().IsNotFound() ? NotFoundError(NamespaceKind(), target.ns) : FromStatus(ns.error());
  }
  if (auto r = CheckReferences(kind, obj); !r.ok()) return r;
  if (existing != nullptr && IsTier(kind) && name == "default" &&
      SpecPart(obj) != SpecPart(existing->object))
    return InvalidError(kind, name, {{"spec", "FieldValueForbidden",
                                      "Forbidden: the default tier is built in: only its labels and annotations "
                                      "may change"}});
  if (existing != nullptr && expected_revision != 0 && expected_revision != existing->record.mod_revision)
    return ConflictError(kind, name);

  ApiResponse resp;
  resp.warnings = std::move(warnings);
  if (options.dry_run) {
    if (existing != nullptr) m["resourceVersion"] = std::to_string(existing->record.mod_revision);
    resp.code = existing != nullptr ? 200 : 201;
    resp.body = std::move(obj);
    return resp;
  }
  std::string value = json::serialize(obj);
  store::Key key = KeyOf(kind, target.ns, name);
  Result<store::Record> rec = existing == nullptr ? store_.Create(key, std::move(value))
                                                  : store_.Update(key, std::move(value), expected_revision);
  if (!rec.ok()) {
    const Status& e = rec.error();
    if (e.IsAlreadyExists()) return AlreadyExistsError(kind, name);
    if (e.IsConflict()) return ConflictError(kind, name);
    if (e.IsNotFound()) return NotFoundError(kind, name);
    return FromStatus(e);
  }
  EnsureObject(obj, "metadata")["resourceVersion"] = std::to_string(rec->mod_revision);
  resp.code = existing != nullptr ? 200 : 201;
  resp.body = std::move(obj);
  return resp;
}

ApiResponse ResourceService::CheckReferences(const model::KindInfo& kind, const json::object& object) {
  if (!IsTieredPolicy(kind)) return ApiResponse{};
  std::string tier = StringAt(ObjectAt(object, "spec"), "tier");
  if (tier.empty()) tier = "default";
  auto rec = store_.Get(KeyOf(TierKind(), "", tier));
  if (rec.ok()) return ApiResponse{};
  if (!rec.error().IsNotFound()) return FromStatus(rec.error());
  return InvalidError(kind, MetaString(object, "name"),
                      {{"spec.tier", "FieldValueNotFound",
                        "Not found: " + Quote(tier) + ": tier " + Quote(tier) + " does not exist"}});
}

ApiResponse ResourceService::Delete(const ResourceTarget& target, const boost::json::value& body,
                                    const WriteOptions& options) {
  if (auto err = CheckTarget(target, true)) return *err;
  const model::KindInfo& kind = *target.kind;
  if (target.status) return ErrorResponse(405, "MethodNotAllowed", "DELETE is not allowed on the status subresource");
  if (kind.namespaced && target.ns.empty())
    return ErrorResponse(404, "NotFound", "the server could not find the requested resource");
  Stored stored;
  if (auto err = Load(target, &stored)) return *err;
  json::object& obj = stored.object;

  int64_t expected = 0;
  if (body.is_object()) {
    if (const json::object* pre = ObjectAt(body.get_object(), "preconditions")) {
      std::string rv = StringAt(pre, "resourceVersion");
      if (!rv.empty() && !ParseRevision(rv, &expected))
        return ErrorResponse(400, "BadRequest", "preconditions.resourceVersion: invalid value " + Quote(rv));
      std::string uid = StringAt(pre, "uid");
      if (!uid.empty() && uid != MetaString(obj, "uid"))
        return ConflictError(kind, target.name,
                             "Precondition failed: UID in precondition: " + uid +
                                 ", UID in object meta: " + MetaString(obj, "uid"));
    }
  }
  if ((IsNamespace(kind) || IsTier(kind)) && target.name == "default")
    return ForbiddenError(kind, target.name,
                          std::string("this ") + (IsTier(kind) ? "tier" : "namespace") + " may not be deleted");
  if (IsTier(kind)) {
    std::vector<std::string> users;
    for (const model::KindInfo* k : model::AllKinds()) {
      if (!IsTieredPolicy(*k)) continue;
      auto list = store_.List(store::Scope{k->StoreKind(), std::nullopt});
      if (!list.ok()) return FromStatus(list.error());
      for (const store::Record& r : list->records) {
        auto p = Decode(r);
        if (!p.ok()) continue;
        std::string tier = StringAt(ObjectAt(*p, "spec"), "tier");
        if (tier.empty()) tier = "default";
        if (tier == target.name)
          users.push_back(std::string(k->kind) + " " + (r.key.ns.empty() ? "" : r.key.ns + "/") + r.key.name);
      }
    }
    if (!users.empty()) {
      std::string list = users.size() > 5 ? Join({users.begin(), users.begin() + 5}, ", ") + ", ..."
                                          : Join(users, ", ");
      return ConflictError(kind, target.name,
                           "the tier still contains " + std::to_string(users.size()) +
                               " polic" + (users.size() == 1 ? "y" : "ies") + " (" + list +
                               "); delete them first");
    }
  }
  if (expected != 0 && expected != stored.record.mod_revision) return ConflictError(kind, target.name);

  json::object deleted = std::move(obj);
  if (!options.dry_run) {
    if (IsNamespace(kind))
      if (auto r = DeleteNamespaceContents(target.name); !r.ok()) return r;
    auto del = store_.Delete(KeyOf(kind, target.ns, target.name), expected);
    if (!del.ok()) {
      if (del.error().IsNotFound()) return NotFoundError(kind, target.name);
      if (del.error().IsConflict()) return ConflictError(kind, target.name);
      return FromStatus(del.error());
    }
    EnsureObject(deleted, "metadata")["resourceVersion"] = std::to_string(del->mod_revision);
  }
  Redact(kind, Role::kAdmin, deleted);
  if (kind.group == "projectcalico.org") {
    // As for custom resources: a Status Success naming what went away.
    json::object details;
    details["name"] = target.name;
    details["group"] = kind.group;
    details["kind"] = kind.plural;
    details["uid"] = MetaString(deleted, "uid");
    json::object st;
    st["kind"] = "Status";
    st["apiVersion"] = "v1";
    st["metadata"] = json::object();
    st["status"] = "Success";
    st["details"] = std::move(details);
    return ApiResponse{200, std::move(st), {}};
  }
  return ApiResponse{200, std::move(deleted), {}};
}

ApiResponse ResourceService::DeleteNamespaceContents(const std::string& ns) {
  for (const model::KindInfo* k : model::AllKinds()) {
    if (!k->namespaced) continue;
    auto list = store_.List(store::Scope{k->StoreKind(), ns});
    if (!list.ok()) return FromStatus(list.error());
    for (const store::Record& r : list->records) {
      auto del = store_.Delete(r.key, 0);
      if (!del.ok() && !del.error().IsNotFound()) return FromStatus(del.error());
    }
  }
  return ApiResponse{};
}

Status ResourceService::EnsureBuiltins() {
  struct Builtin {
    const model::KindInfo* kind;
    const char* json;
  };
  const Builtin builtins[] = {
      {&NamespaceKind(), R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}})"},
      {&TierKind(),
       R"({"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"default"},)"
       R"("spec":{"order":1000000,"defaultAction":"Deny"}})"},
  };
  for (const Builtin& b : builtins) {
    auto rec = store_.Get(KeyOf(*b.kind, "", "default"));
    if (rec.ok()) continue;
    if (!rec.error().IsNotFound()) return rec.error();
    ResourceTarget target{b.kind, "", "", false};
    ApiResponse r = Create(target, json::parse(b.json), WriteOptions{});
    if (!r.ok() && r.code != 409) {
      std::string msg = r.body.is_object() && r.body.get_object().contains("message")
                            ? std::string(r.body.get_object().at("message").as_string())
                            : "error " + std::to_string(r.code);
      return Status::Internal("creating built-in " + std::string(b.kind->kind) + " \"default\": " + msg);
    }
  }
  return Status::Ok();
}

}  // namespace tw::api
