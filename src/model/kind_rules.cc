#include "model/kind_rules.h"

#include <map>

#include "model/validators.h"
#include "selector/ast.h"
#include "selector/selector.h"

namespace tw::model {

const KindRules* FindKindRules(const KindInfo& kind) {
  // Built once; the table is immutable afterwards.
  static const auto* table = [] {
    auto* m = new std::map<std::pair<std::string, std::string>, KindRules>();
    for (auto group : {CalicoKindRules(), PolicyKindRules(), CoreKindRules()})
      for (KindRules& r : group)
        m->emplace(std::make_pair(std::string(r.api_version), std::string(r.kind)), std::move(r));
    return m;
  }();
  auto it = table->find({kind.ApiVersion(), std::string(kind.kind)});
  return it == table->end() ? nullptr : &it->second;
}

Schema ObjectMetaSchema() {
  using S = Schema;
  return S::Object({
      Field("name", S::String().Describe("Name of the object, unique within its kind (and namespace).")),
      Field("namespace", S::String().Describe("Namespace of a namespaced object.")),
      Field("labels", S::Map(S::String()).Describe("Labels, matched by selectors.")),
      Field("annotations", S::Map(S::String())),
      Field("resourceVersion", S::String()),
      Field("uid", S::String()),
      Field("creationTimestamp", S::String()),
      Field("generation", S::Integer()),
      Field("generateName", S::String()),
      Field("finalizers", S::Array(S::String())),
      Field("ownerReferences", S::Array(S::Object({
                                   RequiredField("apiVersion", S::String()),
                                   RequiredField("kind", S::String()),
                                   RequiredField("name", S::String()),
                                   RequiredField("uid", S::String()),
                                   Field("controller", S::Boolean()),
                                   Field("blockOwnerDeletion", S::Boolean()),
                               }))),
      Field("deletionTimestamp", S::String()),
      Field("deletionGracePeriodSeconds", S::Integer()),
      Field("selfLink", S::String()),
      // Server-side-apply bookkeeping: accepted and dropped (see admit.h).
      Field("managedFields", S::Any()),
  });
}

Schema DocumentSchema(std::optional<Schema> spec, Schema status) {
  std::vector<SchemaField> fields = {
      Field("apiVersion", Schema::String()),
      Field("kind", Schema::String()),
      Field("metadata", ObjectMetaSchema()),
  };
  if (spec) fields.push_back(Field("spec", std::move(*spec)));
  fields.push_back(Field("status", std::move(status)));
  return Schema::Object(std::move(fields));
}

Schema KeyRefSchema() {
  return Schema::Object({
      Field("name", Schema::String()),
      RequiredField("key", Schema::String()),
      Field("optional", Schema::Boolean()),
  });
}

Schema LabelSelectorSchema() {
  using S = Schema;
  return S::Object({
      Field("matchLabels", S::Map(S::String())),
      Field("matchExpressions", S::Array(S::Object({
                                    RequiredField("key", S::String()),
                                    RequiredField("operator", S::String().Enum({"In", "NotIn", "Exists",
                                                                                "DoesNotExist"})),
                                    Field("values", S::Array(S::String())),
                                }))),
  });
}

void ValidateLabelMap(const boost::json::object& labels, const std::string& path, FieldErrors& errors) {
  for (const auto& [key, value] : labels) {
    std::string e = CheckQualifiedName(key);
    if (!e.empty()) errors.Invalid(path, "invalid label key \"" + std::string(key) + "\": " + e);
    if (!value.is_string()) continue;  // reported by the schema check
    e = CheckLabelValue(value.as_string());
    if (!e.empty())
      errors.Invalid(KeyPath(path, key), "invalid value \"" + std::string(value.as_string()) + "\": " + e);
  }
}

namespace {

// Whether the parsed selector calls global() anywhere.
bool CallsGlobal(const selector::Selector& sel) {
  bool found = false;
  selector::ForEachNode(sel.root(), [&](const selector::Node& n) { found |= n.kind == selector::NodeKind::kGlobal; });
  return found;
}

}  // namespace

void ValidateSelector(std::string_view text, const std::string& path, GlobalUse global, FieldErrors& errors) {
  if (text.size() > 1024) {
    errors.TooLong(path, "may not be more than 1024 characters");
    return;
  }
  auto parsed = selector::Selector::Parse(text);
  if (!parsed.ok()) {
    errors.Invalid(path, parsed.error().message());
    return;
  }
  bool whole_global = parsed->root().kind == selector::NodeKind::kGlobal;
  if (CallsGlobal(*parsed) && !(global == GlobalUse::kWholeSelectorOnly && whole_global)) {
    errors.Invalid(path, global == GlobalUse::kWholeSelectorOnly
                             ? "global() is only allowed as the whole namespaceSelector"
                             : "global() is not allowed here (only as a rule's whole namespaceSelector)");
  }
}

void ValidateLabelSelector(const boost::json::object& sel, const std::string& path, FieldErrors& errors) {
  if (const auto* labels = GetObject(sel, "matchLabels"))
    ValidateLabelMap(*labels, ChildPath(path, "matchLabels"), errors);
  if (const auto* exprs = GetArray(sel, "matchExpressions")) {
    for (size_t i = 0; i < exprs->size(); ++i) {
      if (!(*exprs)[i].is_object()) continue;
      const auto& e = (*exprs)[i].as_object();
      std::string p = IndexPath(ChildPath(path, "matchExpressions"), i);
      if (auto key = GetString(e, "key")) {
        std::string err = CheckQualifiedName(*key);
        if (!err.empty()) errors.Invalid(ChildPath(p, "key"), "invalid value \"" + std::string(*key) + "\": " + err);
      }
      auto op = GetString(e, "operator");
      const auto* values = GetArray(e, "values");
      bool has_values = values && !values->empty();
      if (op && (*op == "In" || *op == "NotIn") && !has_values)
        errors.Required(ChildPath(p, "values"));
      if (op && (*op == "Exists" || *op == "DoesNotExist") && has_values)
        errors.Invalid(ChildPath(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      if (values)
        for (size_t j = 0; j < values->size(); ++j)
          if ((*values)[j].is_string()) {
            std::string err = CheckLabelValue((*values)[j].as_string());
            if (!err.empty())
              errors.Invalid(IndexPath(ChildPath(p, "values"), j),
                             "invalid value \"" + std::string((*values)[j].as_string()) + "\": " + err);
          }
    }
  }
}

void ValidateKeyRef(const boost::json::object& ref, const std::string& path, FieldErrors& errors) {
  auto name = GetString(ref, "name");
  if (!name || name->empty()) {
    errors.Required(ChildPath(path, "name"));
  } else {
    std::string e = CheckDns1123Subdomain(*name);
    if (!e.empty()) errors.Invalid(ChildPath(path, "name"), "invalid value \"" + std::string(*name) + "\": " + e);
  }
  if (auto key = GetString(ref, "key")) {
    std::string e = CheckConfigMapKey(*key);
    if (!e.empty()) errors.Invalid(ChildPath(path, "key"), "invalid value \"" + std::string(*key) + "\": " + e);
  }
}

void ValidateValueFrom(const boost::json::object& from, const std::string& path, FieldErrors& errors) {
  const boost::json::object* cm = GetObject(from, "configMapKeyRef");
  const boost::json::object* sec = GetObject(from, "secretKeyRef");
  if (cm && sec) errors.Invalid(path, "configMapKeyRef and secretKeyRef are mutually exclusive");
  if (!cm && !sec) errors.Invalid(path, "one of configMapKeyRef or secretKeyRef is required");
  if (cm) ValidateKeyRef(*cm, ChildPath(path, "configMapKeyRef"), errors);
  if (sec) ValidateKeyRef(*sec, ChildPath(path, "secretKeyRef"), errors);
}

const boost::json::object* GetObject(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}
boost::json::object* GetObject(boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}
const boost::json::array* GetArray(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}
boost::json::array* GetArray(boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}
std::optional<std::string_view> GetString(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string_view(it->value().as_string());
}
bool GetBool(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}
boost::json::object& EnsureObject(boost::json::object& o, std::string_view key) {
  boost::json::value& v = o[key];
  if (!v.is_object()) v = boost::json::object();
  return v.as_object();
}

}  // namespace tw::model
