// Per-kind admission rules: the schema, the name rule, defaulting and
// validation of each served kind, plus the helpers the kind groups share.
// Internal to model/: admit.h and openapi.h are the public faces.
//
// The rules live in one file per kind group:
//   kinds_calico.cc  GlobalThreatFeed, GlobalNetworkSet, NetworkSet, Tier,
//                    IPPool, SecurityEventWebhook
//   kinds_policy.cc  GlobalNetworkPolicy, NetworkPolicy (Calico),
//                    StagedGlobalNetworkPolicy, networking.k8s.io NetworkPolicy
//   kinds_core.cc    v1 Namespace, Pod, Secret, ConfigMap
#ifndef TW_MODEL_KIND_RULES_H_
#define TW_MODEL_KIND_RULES_H_

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/kinds.h"
#include "model/schema.h"

namespace tw::model {

enum class NameRule {
  kSubdomain,  // DNS-1123 subdomain, <= 253 (the Kubernetes default)
  kLabel,      // DNS-1123 label, <= 63, no dots (Namespace, Tier)
};

struct KindRules {
  std::string_view api_version;  // "projectcalico.org/v3"
  std::string_view kind;         // "GlobalThreatFeed"
  NameRule name_rule = NameRule::kSubdomain;
  // The whole document: apiVersion, kind, metadata, spec, status, ...
  Schema schema = Schema::Any();
  // Fills Calico/Kubernetes defaults; runs after a clean structural check,
  // so every field present has its schema type.  May be null.
  void (*apply_defaults)(boost::json::object& doc) = nullptr;
  // Semantic checks after defaulting; may canonicalise values in place
  // (protocol names).  May be null.
  void (*validate)(boost::json::object& doc, FieldErrors& errors) = nullptr;
};

// The rules of a served kind; never null for a kind of AllKinds() (a test
// checks that every kind has rules).
const KindRules* FindKindRules(const KindInfo& kind);

// Provided by the kind-group files.
std::vector<KindRules> CalicoKindRules();
std::vector<KindRules> PolicyKindRules();
std::vector<KindRules> CoreKindRules();

// ---- Shared schema pieces ----------------------------------------------------

// Kubernetes ObjectMeta (the fields admission accepts; see admit.h).
Schema ObjectMetaSchema();
// {apiVersion, kind, metadata, spec?, status?}; `status` defaults to a
// free-form object (written by controllers).
Schema DocumentSchema(std::optional<Schema> spec, Schema status = Schema::FreeObject());
// {name, key, optional} of configMapKeyRef / secretKeyRef.
Schema KeyRefSchema();
// Kubernetes metav1.LabelSelector.
Schema LabelSelectorSchema();

// ---- Shared checks -------------------------------------------------------------

// Label keys and values per Kubernetes rules.
void ValidateLabelMap(const boost::json::object& labels, const std::string& path, FieldErrors& errors);

enum class GlobalUse { kForbidden, kWholeSelectorOnly };
// A Calico selector: at most 1024 characters, parses ("PATH: unexpected '='
// at column 12"), and uses global() only as allowed.
void ValidateSelector(std::string_view text, const std::string& path, GlobalUse global,
                      FieldErrors& errors);

// Kubernetes LabelSelector (matchLabels / matchExpressions).
void ValidateLabelSelector(const boost::json::object& sel, const std::string& path, FieldErrors& errors);

// {name, key} of a key reference: name a DNS-1123 subdomain, key a valid
// ConfigMap/Secret key.
void ValidateKeyRef(const boost::json::object& ref, const std::string& path, FieldErrors& errors);
// `valueFrom` of a feed header or a webhook config entry: exactly one of
// configMapKeyRef / secretKeyRef, each a valid key reference.
void ValidateValueFrom(const boost::json::object& from, const std::string& path, FieldErrors& errors);

// Small accessors: the member if present and of that type, else null.
const boost::json::object* GetObject(const boost::json::object& o, std::string_view key);
boost::json::object* GetObject(boost::json::object& o, std::string_view key);
const boost::json::array* GetArray(const boost::json::object& o, std::string_view key);
boost::json::array* GetArray(boost::json::object& o, std::string_view key);
std::optional<std::string_view> GetString(const boost::json::object& o, std::string_view key);
bool GetBool(const boost::json::object& o, std::string_view key);  // false if absent
// Returns o[key] as an object, creating it (or replacing a non-object).
boost::json::object& EnsureObject(boost::json::object& o, std::string_view key);

}  // namespace tw::model

#endif  // TW_MODEL_KIND_RULES_H_
