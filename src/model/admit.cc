#include "model/admit.h"

#include "model/kind_rules.h"
#include "model/schema.h"
#include "model/validators.h"

namespace tw::model {
namespace {

constexpr size_t kMaxAnnotationBytes = 256 * 1024;  // Kubernetes' TotalAnnotationSizeLimitB

void CheckTypeField(const boost::json::object& doc, std::string_view key, FieldErrors& errors) {
  auto it = doc.find(key);
  if (it == doc.end() || it->value().is_null() ||
      (it->value().is_string() && it->value().as_string().empty()))
    errors.Required(std::string(key));
  else if (!it->value().is_string())
    errors.TypeInvalid(std::string(key), "must be a string, got " + std::string(JsonTypeName(it->value())));
}

void AdmitMetadata(const KindInfo& kind, const KindRules& rules, boost::json::object& meta,
                   const std::string& default_namespace, FieldErrors& errors) {
  // Server-side-apply bookkeeping that we do not keep.
  meta.erase("managedFields");

  auto name = GetString(meta, "name");
  if (!name || name->empty()) {
    meta.erase("name");
    if (!GetString(meta, "generateName")) errors.Required("metadata.name");
  } else {
    std::string e = rules.name_rule == NameRule::kLabel ? CheckDns1123Label(*name) : CheckDns1123Subdomain(*name);
    if (!e.empty()) errors.Invalid("metadata.name", "invalid value \"" + std::string(*name) + "\": " + e);
  }

  auto ns = GetString(meta, "namespace");
  if (kind.namespaced) {
    if (!ns || ns->empty()) {
      if (default_namespace.empty()) errors.Required("metadata.namespace");
      else meta["namespace"] = default_namespace;
      ns = GetString(meta, "namespace");
    }
    if (ns && !ns->empty()) {
      std::string e = CheckDns1123Label(*ns);
      if (!e.empty()) errors.Invalid("metadata.namespace", "invalid value \"" + std::string(*ns) + "\": " + e);
    }
  } else if (ns) {
    if (ns->empty())
      meta.erase("namespace");
    else
      errors.Invalid("metadata.namespace", "not allowed: " + std::string(kind.kind) + " is cluster-scoped");
  }

  if (const auto* labels = GetObject(meta, "labels")) ValidateLabelMap(*labels, "metadata.labels", errors);

  if (const auto* annotations = GetObject(meta, "annotations")) {
    size_t total = 0;
    for (const auto& [key, value] : *annotations) {
      total += key.size() + (value.is_string() ? value.as_string().size() : 0);
      // Kubernetes checks annotation keys lower-cased.
      std::string lower(key);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string e = CheckQualifiedName(lower);
      if (!e.empty()) errors.Invalid("metadata.annotations", "invalid annotation key \"" + std::string(key) + "\": " + e);
    }
    if (total > kMaxAnnotationBytes)
      errors.TooLong("metadata.annotations", "may not be more than " + std::to_string(kMaxAnnotationBytes) +
                                                 " bytes in total (keys and values)");
  }

  if (const auto* finalizers = GetArray(meta, "finalizers")) {
    for (size_t i = 0; i < finalizers->size(); ++i) {
      if (!(*finalizers)[i].is_string()) continue;
      std::string_view f = (*finalizers)[i].as_string();
      std::string e = CheckQualifiedName(f);
      if (!e.empty())
        errors.Invalid(IndexPath("metadata.finalizers", i), "invalid value \"" + std::string(f) + "\": " + e);
    }
  }
}

}  // namespace

Result<Admitted> Admit(const boost::json::value& doc, const std::string& default_namespace) {
  if (!doc.is_object())
    return Status::InvalidArgument("document must be an object, got " + std::string(JsonTypeName(doc)))
        .WithCause({"", "FieldValueTypeInvalid", "document must be an object"});
  const boost::json::object& in = doc.as_object();

  FieldErrors errors;
  CheckTypeField(in, "apiVersion", errors);
  CheckTypeField(in, "kind", errors);
  if (!errors.empty()) return errors.ToStatus();
  std::string api_version(in.at("apiVersion").as_string());
  std::string kind_name(in.at("kind").as_string());
  const KindInfo* kind = FindKind(api_version, kind_name);
  const KindRules* rules = kind ? FindKindRules(*kind) : nullptr;
  if (rules == nullptr) return Status::Unsupported("kind not served: " + api_version + " " + kind_name);

  boost::json::value out = doc;
  CheckSchema(rules->schema, out, "", errors);
  if (!errors.empty()) return errors.ToStatus();
  boost::json::object& obj = out.as_object();

  AdmitMetadata(*kind, *rules, EnsureObject(obj, "metadata"), default_namespace, errors);
  if (rules->apply_defaults) rules->apply_defaults(obj);
  if (rules->validate) rules->validate(obj, errors);
  if (!errors.empty()) return errors.ToStatus();
  return Admitted{kind, std::move(obj)};
}

}  // namespace tw::model
