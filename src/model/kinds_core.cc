// Admission rules for the Kubernetes core kinds we serve: v1 Namespace, Pod,
// Secret, ConfigMap.
//
// A Pod here is a network sandbox (DESIGN.md §7): images are not run, but
// manifests written for Kubernetes must still be accepted.  The commonly
// used PodSpec and container fields are modelled precisely; sub-objects
// that we never interpret (affinity, securityContext, lifecycle,
// topologySpreadConstraints, volume sources, ...) are accepted as
// free-form objects, without checking their contents.
#include <set>

#include "base/strings.h"
#include "model/kind_rules.h"
#include "model/validators.h"

namespace tw::model {
namespace {

using S = Schema;
using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr size_t kMaxDataBytes = 1024 * 1024;  // Kubernetes' MaxSecretSize / ConfigMap limit

std::string InvalidValue(std::string_view v, std::string_view why) {
  return "invalid value \"" + std::string(v) + "\": " + std::string(why);
}

// ---- Namespace ----------------------------------------------------------------------

Schema NamespaceSchema() {
  return DocumentSchema(S::Object({Field("finalizers", S::Array(S::String()))}),
                        S::Object({
                            Field("phase", S::String().Enum({"Active", "Terminating"})),
                            Field("conditions", S::Array(S::FreeObject())),
                        })
                            .PreserveUnknownFields());
}

void NamespaceDefaults(object& doc) {
  object& status = EnsureObject(doc, "status");
  if (!status.contains("phase")) status["phase"] = "Active";
}

// ---- Pod -------------------------------------------------------------------------------

Schema NameRefSchema() { return S::Object({Field("name", S::String()), Field("optional", S::Boolean())}); }

Schema ProbeSchema() {
  return S::Object({
      Field("exec", S::Object({Field("command", S::Array(S::String()))})),
      Field("httpGet", S::Object({
                           Field("path", S::String()),
                           RequiredField("port", S::IntOrString()),
                           Field("host", S::String()),
                           Field("scheme", S::String().Enum({"HTTP", "HTTPS"})),
                           Field("httpHeaders", S::Array(S::Object({RequiredField("name", S::String()),
                                                                    RequiredField("value", S::String())}))),
                       })),
      Field("tcpSocket", S::Object({RequiredField("port", S::IntOrString()), Field("host", S::String())})),
      Field("grpc", S::Object({RequiredField("port", S::Integer()), Field("service", S::String())})),
      Field("initialDelaySeconds", S::Integer().Min(0)),
      Field("timeoutSeconds", S::Integer().Min(0)),
      Field("periodSeconds", S::Integer().Min(0)),
      Field("successThreshold", S::Integer().Min(0)),
      Field("failureThreshold", S::Integer().Min(0)),
      Field("terminationGracePeriodSeconds", S::Integer()),
  });
}

Schema ContainerSchema() {
  return S::Object({
      RequiredField("name", S::String()),
      Field("image", S::String()),
      Field("command", S::Array(S::String())),
      Field("args", S::Array(S::String())),
      Field("workingDir", S::String()),
      Field("ports", S::Array(S::Object({
                         Field("name", S::String()),
                         RequiredField("containerPort", S::Integer()),
                         Field("protocol", S::String().Enum({"TCP", "UDP", "SCTP"})),
                         Field("hostPort", S::Integer()),
                         Field("hostIP", S::String()),
                     }))),
      Field("env", S::Array(S::Object({
                       RequiredField("name", S::String()),
                       Field("value", S::String()),
                       Field("valueFrom", S::Object({
                                              Field("configMapKeyRef", KeyRefSchema()),
                                              Field("secretKeyRef", KeyRefSchema()),
                                              Field("fieldRef", S::Object({RequiredField("fieldPath", S::String()),
                                                                           Field("apiVersion", S::String())})),
                                              Field("resourceFieldRef",
                                                    S::Object({RequiredField("resource", S::String()),
                                                               Field("containerName", S::String()),
                                                               Field("divisor", S::IntOrString())})),
                                          })),
                   }))),
      Field("envFrom", S::Array(S::Object({Field("prefix", S::String()), Field("configMapRef", NameRefSchema()),
                                           Field("secretRef", NameRefSchema())}))),
      Field("resources", S::Object({Field("limits", S::Map(S::IntOrString())),
                                    Field("requests", S::Map(S::IntOrString())),
                                    Field("claims", S::Array(S::FreeObject()))})),
      Field("resizePolicy", S::Array(S::FreeObject())),
      Field("restartPolicy", S::String().Enum({"Always"})),  // sidecar init containers
      Field("imagePullPolicy", S::String().Enum({"Always", "Never", "IfNotPresent"})),
      Field("securityContext", S::FreeObject()),
      Field("volumeMounts", S::Array(S::Object({
                                RequiredField("name", S::String()),
                                RequiredField("mountPath", S::String()),
                                Field("readOnly", S::Boolean()),
                                Field("recursiveReadOnly", S::String()),
                                Field("subPath", S::String()),
                                Field("subPathExpr", S::String()),
                                Field("mountPropagation", S::String().Enum({"None", "HostToContainer", "Bidirectional"})),
                            }))),
      Field("volumeDevices", S::Array(S::Object({RequiredField("name", S::String()),
                                                 RequiredField("devicePath", S::String())}))),
      Field("livenessProbe", ProbeSchema()),
      Field("readinessProbe", ProbeSchema()),
      Field("startupProbe", ProbeSchema()),
      Field("lifecycle", S::FreeObject()),
      Field("terminationMessagePath", S::String()),
      Field("terminationMessagePolicy", S::String().Enum({"File", "FallbackToLogsOnError"})),
      Field("stdin", S::Boolean()),
      Field("stdinOnce", S::Boolean()),
      Field("tty", S::Boolean()),
  });
}

Schema PodSchema() {
  Schema spec = S::Object({
      RequiredField("containers", S::Array(ContainerSchema())),
      Field("initContainers", S::Array(ContainerSchema())),
      Field("ephemeralContainers", S::Array(S::FreeObject())),
      // Volume sources (hostPath, emptyDir, configMap, secret, ...) are not
      // modelled: only the name is checked.
      Field("volumes", S::Array(S::Object({RequiredField("name", S::String())}).PreserveUnknownFields())),
      Field("restartPolicy", S::String().Enum({"Always", "OnFailure", "Never"})),
      Field("terminationGracePeriodSeconds", S::Integer().Min(0)),
      Field("activeDeadlineSeconds", S::Integer().Min(1)),
      Field("dnsPolicy", S::String().Enum({"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"})),
      Field("dnsConfig", S::Object({Field("nameservers", S::Array(S::String())),
                                    Field("searches", S::Array(S::String())),
                                    Field("options", S::Array(S::Object({Field("name", S::String()),
                                                                         Field("value", S::String())})))})),
      Field("nodeSelector", S::Map(S::String())),
      Field("nodeName", S::String()),
      Field("serviceAccountName", S::String()),
      Field("serviceAccount", S::String()),
      Field("automountServiceAccountToken", S::Boolean()),
      Field("hostNetwork", S::Boolean()),
      Field("hostPID", S::Boolean()),
      Field("hostIPC", S::Boolean()),
      Field("hostUsers", S::Boolean()),
      Field("shareProcessNamespace", S::Boolean()),
      Field("securityContext", S::FreeObject()),
      Field("imagePullSecrets", S::Array(S::Object({Field("name", S::String())}))),
      Field("hostname", S::String()),
      Field("subdomain", S::String()),
      Field("setHostnameAsFQDN", S::Boolean()),
      Field("affinity", S::FreeObject()),
      Field("schedulerName", S::String()),
      Field("tolerations", S::Array(S::Object({
                               Field("key", S::String()),
                               Field("operator", S::String().Enum({"Exists", "Equal"})),
                               Field("value", S::String()),
                               Field("effect", S::String().Enum({"NoSchedule", "PreferNoSchedule", "NoExecute"})),
                               Field("tolerationSeconds", S::Integer()),
                           }))),
      Field("hostAliases", S::Array(S::Object({Field("ip", S::String()), Field("hostnames", S::Array(S::String()))}))),
      Field("priorityClassName", S::String()),
      Field("priority", S::Integer()),
      Field("preemptionPolicy", S::String().Enum({"PreemptLowerPriority", "Never"})),
      Field("readinessGates", S::Array(S::Object({RequiredField("conditionType", S::String())}))),
      Field("runtimeClassName", S::String()),
      Field("enableServiceLinks", S::Boolean()),
      Field("overhead", S::Map(S::IntOrString())),
      Field("topologySpreadConstraints", S::Array(S::FreeObject())),
      Field("os", S::Object({RequiredField("name", S::String().Enum({"linux", "windows"}))})),
      Field("schedulingGates", S::Array(S::Object({RequiredField("name", S::String())}))),
      Field("resourceClaims", S::Array(S::FreeObject())),
      Field("resources", S::FreeObject()),
  });
  // Pod status is written by the node agent: free-form.
  return DocumentSchema(std::move(spec), S::FreeObject());
}

void CheckNameField(const object& o, std::string_view key, const std::string& path, bool label, FieldErrors& errors) {
  auto v = GetString(o, key);
  if (!v || v->empty()) return;
  std::string e = label ? CheckDns1123Label(*v) : CheckDns1123Subdomain(*v);
  if (!e.empty()) errors.Invalid(ChildPath(path, key), InvalidValue(*v, e));
}

void ValidateContainer(const object& c, const std::string& path, const std::set<std::string_view>& volumes,
                       FieldErrors& errors) {
  CheckNameField(c, "name", path, true, errors);
  auto image = GetString(c, "image");
  if (!image || TrimSpace(*image).empty()) errors.Required(ChildPath(path, "image"));
  if (const array* ports = GetArray(c, "ports")) {
    std::set<std::string_view> names;
    for (size_t i = 0; i < ports->size(); ++i) {
      if (!(*ports)[i].is_object()) continue;
      const object& p = (*ports)[i].as_object();
      std::string pp = IndexPath(ChildPath(path, "ports"), i);
      if (const value* cp = p.if_contains("containerPort"); cp && cp->is_int64() &&
                                                             (cp->as_int64() < 1 || cp->as_int64() > 65535))
        errors.Invalid(ChildPath(pp, "containerPort"), "must be between 1 and 65535, inclusive");
      if (const value* hp = p.if_contains("hostPort"); hp && hp->is_int64() &&
                                                        (hp->as_int64() < 0 || hp->as_int64() > 65535))
        errors.Invalid(ChildPath(pp, "hostPort"), "must be between 0 and 65535, inclusive");
      if (auto name = GetString(p, "name")) {
        std::string e = CheckIanaSvcName(*name);
        if (!e.empty()) errors.Invalid(ChildPath(pp, "name"), InvalidValue(*name, e));
        else if (!names.insert(*name).second) errors.Duplicate(ChildPath(pp, "name"), *name);
      }
      if (auto ip = GetString(p, "hostIP"); ip && !ip->empty()) {
        auto net = ParseCidrOrIp(*ip);
        if (!net.ok() || net->has_prefix) errors.Invalid(ChildPath(pp, "hostIP"), InvalidValue(*ip, "must be a valid IP address"));
      }
    }
  }
  if (const array* env = GetArray(c, "env")) {
    for (size_t i = 0; i < env->size(); ++i) {
      if (!(*env)[i].is_object()) continue;
      const object& e = (*env)[i].as_object();
      std::string ep = IndexPath(ChildPath(path, "env"), i);
      if (auto name = GetString(e, "name")) {
        std::string err = CheckEnvVarName(*name);
        if (!err.empty()) errors.Invalid(ChildPath(ep, "name"), InvalidValue(*name, err));
      }
      const object* from = GetObject(e, "valueFrom");
      if (from && GetString(e, "value").value_or("") != "")
        errors.Invalid(ChildPath(ep, "valueFrom"), "may not be specified when `value` is not empty");
      if (from) {
        if (from->size() != 1)
          errors.Invalid(ChildPath(ep, "valueFrom"), "must specify exactly one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef");
        for (auto ref : {"configMapKeyRef", "secretKeyRef"})
          if (const object* r = GetObject(*from, ref)) ValidateKeyRef(*r, ChildPath(ChildPath(ep, "valueFrom"), ref), errors);
      }
    }
  }
  if (const array* mounts = GetArray(c, "volumeMounts")) {
    for (size_t i = 0; i < mounts->size(); ++i) {
      if (!(*mounts)[i].is_object()) continue;
      auto name = GetString((*mounts)[i].as_object(), "name");
      if (name && !volumes.contains(*name))
        errors.Add(ChildPath(IndexPath(ChildPath(path, "volumeMounts"), i), "name"), "FieldValueNotFound",
                   "volume \"" + std::string(*name) + "\" not found in spec.volumes");
    }
  }
}

void PodValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  std::set<std::string_view> volumes;
  if (const array* vols = GetArray(spec, "volumes")) {
    for (size_t i = 0; i < vols->size(); ++i) {
      if (!(*vols)[i].is_object()) continue;
      std::string vp = IndexPath("spec.volumes", i);
      CheckNameField((*vols)[i].as_object(), "name", vp, true, errors);
      if (auto name = GetString((*vols)[i].as_object(), "name"); name && !volumes.insert(*name).second)
        errors.Duplicate(ChildPath(vp, "name"), *name);
    }
  }
  const array* containers = GetArray(spec, "containers");
  if (containers && containers->empty()) errors.Required("spec.containers");
  std::set<std::string_view> names;
  for (auto key : {"initContainers", "containers"}) {
    const array* list = GetArray(spec, key);
    if (!list) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_object()) continue;
      std::string cp = IndexPath(ChildPath("spec", key), i);
      ValidateContainer((*list)[i].as_object(), cp, volumes, errors);
      if (auto name = GetString((*list)[i].as_object(), "name"); name && !names.insert(*name).second)
        errors.Duplicate(ChildPath(cp, "name"), *name);
    }
  }
  if (const object* sel = GetObject(spec, "nodeSelector")) ValidateLabelMap(*sel, "spec.nodeSelector", errors);
  CheckNameField(spec, "hostname", "spec", true, errors);
  CheckNameField(spec, "subdomain", "spec", true, errors);
  CheckNameField(spec, "nodeName", "spec", false, errors);
  CheckNameField(spec, "serviceAccountName", "spec", false, errors);
  CheckNameField(spec, "serviceAccount", "spec", false, errors);
  if (const array* tols = GetArray(spec, "tolerations")) {
    for (size_t i = 0; i < tols->size(); ++i) {
      if (!(*tols)[i].is_object()) continue;
      const object& t = (*tols)[i].as_object();
      std::string tp = IndexPath("spec.tolerations", i);
      auto key = GetString(t, "key").value_or("");
      if (!key.empty()) {
        std::string e = CheckQualifiedName(key);
        if (!e.empty()) errors.Invalid(ChildPath(tp, "key"), InvalidValue(key, e));
      }
      auto op = GetString(t, "operator").value_or("Equal");
      if (op == "Exists" && !GetString(t, "value").value_or("").empty())
        errors.Invalid(ChildPath(tp, "operator"), "value must be empty when `operator` is 'Exists'");
      if (key.empty() && op != "Exists")
        errors.Invalid(ChildPath(tp, "operator"), "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
    }
  }
  if (const array* aliases = GetArray(spec, "hostAliases"))
    for (size_t i = 0; i < aliases->size(); ++i)
      if ((*aliases)[i].is_object())
        if (auto ip = GetString((*aliases)[i].as_object(), "ip")) {
          auto net = ParseCidrOrIp(*ip);
          if (!net.ok() || net->has_prefix)
            errors.Invalid(ChildPath(IndexPath("spec.hostAliases", i), "ip"), InvalidValue(*ip, "must be a valid IP address"));
        }
}

// ---- Secret and ConfigMap -------------------------------------------------------------

Schema SecretSchema() {
  return DocumentSchema(std::nullopt).WithFields({
      Field("data", S::Map(S::String()).Describe("Base64-encoded values.")),
      Field("stringData", S::Map(S::String()).Describe("Plain values, merged into data on write.")),
      Field("type", S::String()),
      Field("immutable", S::Boolean()),
  });
}

void SecretDefaults(object& doc) {
  // As Kubernetes does: stringData wins over data for the same key and is
  // never stored.
  if (const object* plain = GetObject(doc, "stringData")) {
    object merged = *plain;
    object& data = EnsureObject(doc, "data");
    for (const auto& [k, v] : merged)
      if (v.is_string()) data[k] = Base64Encode(v.as_string());
    doc.erase("stringData");
  }
  auto type = GetString(doc, "type");
  if (!type || type->empty()) doc["type"] = "Opaque";
}

size_t DecodedSize(std::string_view b64) {
  size_t n = 0, pad = 0;
  for (char c : b64) {
    if (c == '\r' || c == '\n') continue;
    if (c == '=') ++pad;
    ++n;
  }
  return n / 4 * 3 - pad;
}

void ValidateDataKeys(const object& data, const std::string& path, bool base64, size_t& total, FieldErrors& errors) {
  for (const auto& [key, v] : data) {
    std::string e = CheckConfigMapKey(key);
    if (!e.empty()) errors.Invalid(path, "invalid key \"" + std::string(key) + "\": " + e);
    if (!v.is_string()) continue;
    if (base64) {
      if (!IsValidBase64(v.as_string()))
        errors.Invalid(KeyPath(path, key), "must be valid base64 (standard encoding, with padding)");
      else
        total += DecodedSize(v.as_string());
    } else {
      total += v.as_string().size();
    }
  }
}

void SecretValidate(object& doc, FieldErrors& errors) {
  size_t total = 0;
  if (const object* data = GetObject(doc, "data")) ValidateDataKeys(*data, "data", true, total, errors);
  if (total > kMaxDataBytes)
    errors.TooLong("data", "may not be more than " + std::to_string(kMaxDataBytes) + " bytes in total");
  // Keys some built-in secret types must carry.
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kRequiredKeys = {
      {"kubernetes.io/tls", {"tls.crt", "tls.key"}},
      {"kubernetes.io/ssh-auth", {"ssh-privatekey"}},
      {"kubernetes.io/dockerconfigjson", {".dockerconfigjson"}},
      {"kubernetes.io/dockercfg", {".dockercfg"}},
  };
  std::string_view type = GetString(doc, "type").value_or("Opaque");
  const object* data = GetObject(doc, "data");
  for (const auto& [t, keys] : kRequiredKeys) {
    if (t != type) continue;
    for (std::string_view k : keys)
      if (!data || !data->contains(k)) errors.Required(KeyPath("data", k));
  }
}

Schema ConfigMapSchema() {
  return DocumentSchema(std::nullopt).WithFields({
      Field("data", S::Map(S::String())),
      Field("binaryData", S::Map(S::String()).Describe("Base64-encoded values.")),
      Field("immutable", S::Boolean()),
  });
}

void ConfigMapValidate(object& doc, FieldErrors& errors) {
  size_t total = 0;
  const object* data = GetObject(doc, "data");
  const object* binary = GetObject(doc, "binaryData");
  if (data) ValidateDataKeys(*data, "data", false, total, errors);
  if (binary) {
    ValidateDataKeys(*binary, "binaryData", true, total, errors);
    if (data)
      for (const auto& [key, v] : *binary)
        if (data->contains(key)) errors.Invalid(KeyPath("binaryData", key), "duplicate of key present in data");
  }
  if (total > kMaxDataBytes)
    errors.TooLong("data", "may not be more than " + std::to_string(kMaxDataBytes) + " bytes in total");
}

}  // namespace

std::vector<KindRules> CoreKindRules() {
  std::vector<KindRules> rules;
  rules.push_back({"v1", "Namespace", NameRule::kLabel, NamespaceSchema(), NamespaceDefaults, nullptr});
  rules.push_back({"v1", "Pod", NameRule::kSubdomain, PodSchema(), nullptr, PodValidate});
  rules.push_back({"v1", "Secret", NameRule::kSubdomain, SecretSchema(), SecretDefaults, SecretValidate});
  rules.push_back({"v1", "ConfigMap", NameRule::kSubdomain, ConfigMapSchema(), nullptr, ConfigMapValidate});
  return rules;
}

}  // namespace tw::model
