// Admission rules for the Calico kinds other than policies:
// GlobalThreatFeed, GlobalNetworkSet, NetworkSet, Tier, IPPool,
// SecurityEventWebhook (docs/calico-semantics.md §1, §2.3, §3, §4.1).
#include <set>

#include "model/jsonpath.h"
#include "model/kind_rules.h"
#include "model/validators.h"

namespace tw::model {
namespace {

using S = Schema;
using boost::json::object;

constexpr std::string_view kCalicoV3 = "projectcalico.org/v3";
constexpr int64_t kMinPullPeriodNs = 5LL * 60 * 1000000000;

std::string InvalidValue(std::string_view v, std::string_view why) {
  return "invalid value \"" + std::string(v) + "\": " + std::string(why);
}

// ---- GlobalThreatFeed -----------------------------------------------------------

Schema HeaderValueFromSchema() {
  return S::Object({Field("configMapKeyRef", KeyRefSchema()), Field("secretKeyRef", KeyRefSchema())});
}

Schema ThreatFeedSchema() {
  Schema csv = S::Object({
      Field("fieldNum", S::Integer().Min(0).Describe("0-based column holding the entry (default 0).")),
      Field("fieldName", S::String().Describe("Header name of the column holding the entry; needs header.")),
      Field("columnDelimiter", S::String().Describe("One character; default ','.")),
      Field("commentDelimiter", S::String().Describe("Lines starting with this character are skipped.")),
      Field("recordSize", S::Integer().Describe("Exact number of fields per record.")),
      Field("header", S::Boolean()),
      Field("disableRecordSizeValidation", S::Boolean()),
  });
  Schema format = S::Object({
      Field("newlineDelimited", S::Object({})),
      Field("json", S::Object({RequiredField("path", S::String().Describe("JSONPath selecting an array of strings."))})),
      Field("csv", std::move(csv)),
  });
  Schema http = S::Object({
      RequiredField("url", S::String().Describe("http(s):// or file:// URL of the feed.")),
      Field("headers", S::Array(S::Object({
                           RequiredField("name", S::String()),
                           Field("value", S::String()),
                           Field("valueFrom", HeaderValueFromSchema()),
                       }))),
      Field("format", std::move(format)),
  });
  Schema spec = S::Object({
      Field("content", S::String().Enum({"IPSet", "DomainNameSet"}).Describe("What the feed lists; default IPSet.")),
      Field("mode", S::String().Enum({"Enabled", "Disabled"}).Describe("Whether logs are searched; default Enabled.")),
      Field("description", S::String().MaxLength(256)),
      Field("feedType", S::String().Enum({"Builtin", "Custom"})),
      Field("globalNetworkSet", S::Object({Field("labels", S::Map(S::String()))})
                                    .Describe("Sync the feed into GlobalNetworkSet threatfeed.<name>.")),
      Field("pull", S::Object({
                        Field("period", S::String().Describe("Go duration, default 24h, at least 5m.")),
                        RequiredField("http", std::move(http)),
                    })),
  });
  // Written by the feed controller; fields beyond Calico's are ours.
  Schema status = S::Object({
                      Field("lastSuccessfulSync", S::String()),
                      Field("lastSuccessfulSearch", S::String()),
                      Field("errorConditions",
                            S::Array(S::Object({Field("type", S::String()), Field("message", S::String())})
                                         .PreserveUnknownFields())),
                  })
                      .PreserveUnknownFields();
  return DocumentSchema(std::move(spec), std::move(status));
}

void ThreatFeedDefaults(object& doc) {
  object& spec = EnsureObject(doc, "spec");
  if (!spec.contains("content")) spec["content"] = "IPSet";
  if (!spec.contains("mode")) spec["mode"] = "Enabled";
  if (!spec.contains("feedType")) spec["feedType"] = "Custom";
  if (object* pull = GetObject(spec, "pull")) {
    auto period = GetString(*pull, "period");
    if (!period || period->empty()) (*pull)["period"] = "24h";
  }
}

void ValidateCsvDelimiter(const object& csv, std::string_view key, const std::string& path, FieldErrors& errors) {
  auto d = GetString(csv, key);
  if (!d) return;
  std::string p = ChildPath(path, key);
  int len = Utf8Length(*d);
  if (len < 0)
    errors.Invalid(p, "must be valid UTF-8");
  else if (len != 1)
    errors.Invalid(p, InvalidValue(*d, "must be exactly one character"));
  else if (*d == "\"" || *d == "\r" || *d == "\n")
    errors.Invalid(p, "must not be '\"', '\\r' or '\\n'");
}

void ValidateCsv(const object& csv, const std::string& path, FieldErrors& errors) {
  bool has_num = csv.contains("fieldNum"), has_name = csv.contains("fieldName");
  if (has_num && has_name) errors.Invalid(path, "fieldNum and fieldName are mutually exclusive");
  if (has_name && !GetBool(csv, "header")) errors.Invalid(ChildPath(path, "fieldName"), "requires header: true");
  ValidateCsvDelimiter(csv, "columnDelimiter", path, errors);
  ValidateCsvDelimiter(csv, "commentDelimiter", path, errors);
  auto comment = GetString(csv, "commentDelimiter");
  std::string_view column = GetString(csv, "columnDelimiter").value_or(",");
  if (comment && *comment == column)
    errors.Invalid(ChildPath(path, "commentDelimiter"),
                   InvalidValue(*comment, "must differ from the column delimiter"));
  if (auto it = csv.find("recordSize"); it != csv.end() && it->value().is_number()) {
    if (it->value().to_number<double>() <= 0)
      errors.Invalid(ChildPath(path, "recordSize"), "must be greater than 0");
    else if (GetBool(csv, "disableRecordSizeValidation"))
      errors.Invalid(path, "recordSize and disableRecordSizeValidation are mutually exclusive");
  }
}

void ValidateHeaders(const boost::json::array& headers, const std::string& path, FieldErrors& errors) {
  for (size_t i = 0; i < headers.size(); ++i) {
    if (!headers[i].is_object()) continue;
    const object& h = headers[i].as_object();
    std::string p = IndexPath(path, i);
    if (auto name = GetString(h, "name")) {
      bool ok = !name->empty();
      for (unsigned char c : *name) ok = ok && c > 0x20 && c < 0x7f && c != ':';
      if (!ok) errors.Invalid(ChildPath(p, "name"), InvalidValue(*name, "must be printable ASCII without spaces or ':'"));
    }
    const object* from = GetObject(h, "valueFrom");
    if (h.contains("value") && from) errors.Invalid(p, "value and valueFrom are mutually exclusive");
    if (from) ValidateValueFrom(*from, ChildPath(p, "valueFrom"), errors);
  }
}

void ThreatFeedValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  const object* gns = GetObject(spec, "globalNetworkSet");
  if (gns) {
    if (const object* labels = GetObject(*gns, "labels"))
      ValidateLabelMap(*labels, "spec.globalNetworkSet.labels", errors);
    if (GetString(spec, "content") == "DomainNameSet")
      errors.Invalid("spec.globalNetworkSet", "not supported with content DomainNameSet (only IP feeds sync a GlobalNetworkSet)");
  }
  const object* pull = GetObject(spec, "pull");
  if (!pull) return;
  if (auto period = GetString(*pull, "period")) {
    auto ns = ParseGoDuration(*period);
    if (!ns.ok())
      errors.Invalid("spec.pull.period", InvalidValue(*period, ns.error().message()));
    else if (*ns < kMinPullPeriodNs)
      errors.Invalid("spec.pull.period", InvalidValue(*period, "must be at least 5m"));
  }
  const object* http = GetObject(*pull, "http");
  if (!http) return;
  if (auto url = GetString(*http, "url")) {
    // file:// is ours (DESIGN.md §6); Calico allows only http(s).
    std::string e = CheckFeedUrl(*url, /*allow_file=*/true);
    if (!e.empty()) errors.Invalid("spec.pull.http.url", InvalidValue(*url, e));
  }
  if (const auto* headers = GetArray(*http, "headers")) ValidateHeaders(*headers, "spec.pull.http.headers", errors);
  const object* format = GetObject(*http, "format");
  if (!format) return;
  int formats = 0;
  for (auto f : {"newlineDelimited", "json", "csv"}) formats += format->contains(f) ? 1 : 0;
  if (formats > 1) errors.Invalid("spec.pull.http.format", "multiple formats are not supported: set one of newlineDelimited, json, csv");
  if (const object* json = GetObject(*format, "json")) {
    if (auto path = GetString(*json, "path")) {
      auto compiled = JsonPath::Compile(*path);
      if (!compiled.ok())
        errors.Invalid("spec.pull.http.format.json.path", InvalidValue(*path, "invalid JSONPath: " + compiled.error().message()));
    }
  }
  if (const object* csv = GetObject(*format, "csv")) ValidateCsv(*csv, "spec.pull.http.format.csv", errors);
}

// ---- GlobalNetworkSet / NetworkSet ---------------------------------------------------

Schema NetworkSetSchema() {
  return DocumentSchema(S::Object({
      Field("nets", S::Array(S::String()).Describe("CIDRs or IP addresses (IPv4 and IPv6 may be mixed).")),
      Field("allowedEgressDomains", S::Array(S::String()).Describe("Exact or wildcard (*.example.com) domains.")),
  }));
}

void NetworkSetValidate(object& doc, FieldErrors& errors) {
  const object* spec = GetObject(doc, "spec");
  if (!spec) return;
  if (const auto* nets = GetArray(*spec, "nets")) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < nets->size(); ++i) {
      if (!(*nets)[i].is_string()) continue;
      std::string_view n = (*nets)[i].as_string();
      std::string p = IndexPath("spec.nets", i);
      if (!ParseCidrOrIp(n).ok()) errors.Invalid(p, InvalidValue(n, "must be a valid CIDR or IP address"));
      else if (!seen.insert(n).second) errors.Duplicate(p, n);
    }
  }
  if (const auto* domains = GetArray(*spec, "allowedEgressDomains")) {
    for (size_t i = 0; i < domains->size(); ++i) {
      if (!(*domains)[i].is_string()) continue;
      std::string_view d = (*domains)[i].as_string();
      std::string e = CheckWildcardDomain(d);
      if (!e.empty()) errors.Invalid(IndexPath("spec.allowedEgressDomains", i), InvalidValue(d, e));
    }
  }
}

// ---- Tier ------------------------------------------------------------------------------

Schema TierSchema() {
  return DocumentSchema(S::Object({
      Field("order", S::Number().Describe("Lower orders are evaluated first; unset = last.")),
      Field("defaultAction", S::String().Enum({"Deny", "Pass"}).Describe("End-of-tier action; default Deny.")),
  }));
}

void TierDefaults(object& doc) {
  object& spec = EnsureObject(doc, "spec");
  if (!spec.contains("defaultAction")) spec["defaultAction"] = "Deny";
}

void TierValidate(object& doc, FieldErrors& errors) {
  // The built-in tiers keep Calico's fixed order and action.
  const object* meta = GetObject(doc, "metadata");
  const object* spec = GetObject(doc, "spec");
  if (!meta || !spec || GetString(*meta, "name") != "default") return;
  if (auto it = spec->find("order"); it != spec->end() && it->value().is_number() &&
                                     it->value().to_number<double>() != 1000000)
    errors.Invalid("spec.order", "the default tier's order is fixed at 1000000");
  if (GetString(*spec, "defaultAction") != "Deny")
    errors.Invalid("spec.defaultAction", "the default tier's defaultAction is fixed at Deny");
}

// ---- IPPool ----------------------------------------------------------------------------

Schema IpPoolSchema() {
  std::vector<std::string> modes = {"Never", "Always", "CrossSubnet"};
  return DocumentSchema(S::Object({
      RequiredField("cidr", S::String().Describe("The pool's CIDR.")),
      Field("blockSize", S::Integer().Describe("Prefix length of per-node blocks: 20-32 (IPv4, default 26), 116-128 (IPv6, default 122).")),
      Field("ipipMode", S::String().Enum(modes)),
      Field("vxlanMode", S::String().Enum(modes)),
      Field("natOutgoing", S::Boolean()),
      Field("disabled", S::Boolean()),
      Field("disableBGPExport", S::Boolean()),
      Field("nodeSelector", S::String()),
      Field("namespaceSelector", S::String()),
      Field("awsSubnetID", S::String()),
      Field("allowedUses", S::Array(S::String().Enum({"Workload", "Tunnel", "LoadBalancer"}))),
      Field("assignmentMode", S::String().Enum({"Automatic", "Manual"})),
  }));
}

void IpPoolDefaults(object& doc) {
  object& spec = EnsureObject(doc, "spec");
  if (!spec.contains("blockSize")) {
    auto cidr = GetString(spec, "cidr");
    auto net = cidr ? ParseCidrOrIp(*cidr) : Result<IpNet>(Status::InvalidArgument(""));
    if (net.ok()) spec["blockSize"] = net->family == 4 ? 26 : 122;
  }
  if (!spec.contains("ipipMode")) spec["ipipMode"] = "Never";
  if (!spec.contains("vxlanMode")) spec["vxlanMode"] = "Never";
  if (!spec.contains("nodeSelector")) spec["nodeSelector"] = "all()";
  if (!spec.contains("allowedUses")) spec["allowedUses"] = boost::json::array{"Workload", "Tunnel"};
}

void IpPoolValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  auto cidr = GetString(spec, "cidr");
  if (!cidr) return;
  auto net = ParseCidr(*cidr);
  if (!net.ok()) {
    errors.Invalid("spec.cidr", InvalidValue(*cidr, "must be a valid CIDR"));
    return;
  }
  if (auto it = spec.find("blockSize"); it != spec.end() && it->value().is_int64()) {
    int64_t bs = it->value().as_int64();
    int64_t lo = net->family == 4 ? 20 : 116, hi = net->family == 4 ? 32 : 128;
    if (bs < lo || bs > hi)
      errors.Invalid("spec.blockSize", "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                           " for an IPv" + std::to_string(net->family) + " pool");
    else if (net->prefix_len > bs)
      errors.Invalid("spec.cidr", InvalidValue(*cidr, "the pool is smaller than one block (/" + std::to_string(bs) + ")"));
  }
  auto ipip = GetString(spec, "ipipMode").value_or("Never");
  auto vxlan = GetString(spec, "vxlanMode").value_or("Never");
  if (ipip != "Never" && vxlan != "Never")
    errors.Invalid("spec.vxlanMode", "IPIP and VXLAN cannot both be enabled on one pool");
  if (ipip != "Never" && net->family == 6) errors.Invalid("spec.ipipMode", "IPIP is not supported on an IPv6 pool");
  if (auto sel = GetString(spec, "nodeSelector")) ValidateSelector(*sel, "spec.nodeSelector", GlobalUse::kForbidden, errors);
  if (auto sel = GetString(spec, "namespaceSelector"))
    ValidateSelector(*sel, "spec.namespaceSelector", GlobalUse::kForbidden, errors);
  if (const auto* uses = GetArray(spec, "allowedUses")) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < uses->size(); ++i)
      if ((*uses)[i].is_string() && !seen.insert((*uses)[i].as_string()).second)
        errors.Duplicate(IndexPath("spec.allowedUses", i), (*uses)[i].as_string());
  }
}

// ---- SecurityEventWebhook ----------------------------------------------------------------

Schema WebhookSchema() {
  return DocumentSchema(S::Object({
      RequiredField("consumer", S::String().Enum({"Slack", "Jira", "Generic", "AlertManager"})),
      RequiredField("state", S::String().Enum({"Enabled", "Disabled", "Debug", "Test"})),
      RequiredField("query", S::String().Describe("Event query, e.g. type = gtf_suspicious_flow.")),
      RequiredField("config", S::Array(S::Object({
                                  RequiredField("name", S::String()),
                                  Field("value", S::String()),
                                  Field("valueFrom", HeaderValueFromSchema()),
                              }))),
  }));
}

void WebhookValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  const auto* config = GetArray(spec, "config");
  if (!config) return;
  std::set<std::string_view> names;
  for (size_t i = 0; i < config->size(); ++i) {
    if (!(*config)[i].is_object()) continue;
    const object& c = (*config)[i].as_object();
    std::string p = IndexPath("spec.config", i);
    auto name = GetString(c, "name");
    if (name && !names.insert(*name).second) errors.Duplicate(ChildPath(p, "name"), *name);
    const object* from = GetObject(c, "valueFrom");
    bool has_value = c.contains("value");
    if (has_value && from) errors.Invalid(p, "value and valueFrom are mutually exclusive");
    if (!has_value && !from) errors.Invalid(p, "one of value or valueFrom is required");
    if (from) ValidateValueFrom(*from, ChildPath(p, "valueFrom"), errors);
    if (name == "url") {
      if (auto url = GetString(c, "value")) {
        std::string e = CheckFeedUrl(*url, /*allow_file=*/false);
        if (!e.empty()) errors.Invalid(ChildPath(p, "value"), InvalidValue(*url, e));
      }
    }
  }
  // The entries each consumer needs (Calico's webhook providers).
  std::vector<std::string_view> needed = {"url"};
  if (GetString(spec, "consumer") == "Jira") needed = {"url", "project", "issueType", "username", "apiToken"};
  for (std::string_view n : needed)
    if (!names.contains(n))
      errors.Invalid("spec.config", "consumer " + std::string(GetString(spec, "consumer").value_or("")) +
                                        " requires a config entry named \"" + std::string(n) + "\"");
}

}  // namespace

std::vector<KindRules> CalicoKindRules() {
  std::vector<KindRules> rules;
  rules.push_back({kCalicoV3, "GlobalThreatFeed", NameRule::kSubdomain, ThreatFeedSchema(), ThreatFeedDefaults,
                   ThreatFeedValidate});
  rules.push_back({kCalicoV3, "GlobalNetworkSet", NameRule::kSubdomain, NetworkSetSchema(), nullptr,
                   NetworkSetValidate});
  rules.push_back({kCalicoV3, "NetworkSet", NameRule::kSubdomain, NetworkSetSchema(), nullptr, NetworkSetValidate});
  rules.push_back({kCalicoV3, "Tier", NameRule::kLabel, TierSchema(), TierDefaults, TierValidate});
  rules.push_back({kCalicoV3, "IPPool", NameRule::kSubdomain, IpPoolSchema(), IpPoolDefaults, IpPoolValidate});
  rules.push_back({kCalicoV3, "SecurityEventWebhook", NameRule::kSubdomain, WebhookSchema(), nullptr,
                   WebhookValidate});
  return rules;
}

}  // namespace tw::model
