// Admission rules for policies: Calico GlobalNetworkPolicy, NetworkPolicy,
// StagedGlobalNetworkPolicy (docs/calico-semantics.md §4.2-4.6) and
// Kubernetes networking.k8s.io/v1 NetworkPolicy.
//
// The tier/name rule (calico-semantics.md §4.3) -- our decision, valid for
// both Calico generations:
//  * The tier is spec.tier, defaulted to "default"; it is never inferred
//    from the name.  (Older Calico also defaulted an unset tier to
//    "default" and accepted any name there, so `security.x` without
//    spec.tier is a default-tier policy in both generations.)
//  * In tier "default" any name is accepted, "default.x" included (the seed
//    writes `default.adservice`).
//  * In another tier T, "T.x" (older Calico's required form) and names
//    without a dot (newer Calico) are accepted; a dotted name whose prefix
//    is not T is rejected, because older Calico would read it as a policy
//    of another tier -- the message says how to name it.
//  * "knp." names are reserved for rendered Kubernetes NetworkPolicies.
#include <set>

#include "model/kind_rules.h"
#include "model/validators.h"

namespace tw::model {
namespace {

using S = Schema;
using boost::json::array;
using boost::json::object;
using boost::json::value;

constexpr std::string_view kCalicoV3 = "projectcalico.org/v3";

std::string InvalidValue(std::string_view v, std::string_view why) {
  return "invalid value \"" + std::string(v) + "\": " + std::string(why);
}

std::string ValueText(const value& v) {
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

// ---- Calico schemas ------------------------------------------------------------------

Schema EntityRuleSchema() {
  return S::Object({
      Field("nets", S::Array(S::String()).MaxItems(256)),
      Field("notNets", S::Array(S::String()).MaxItems(256)),
      Field("selector", S::String()),
      Field("notSelector", S::String()),
      Field("namespaceSelector", S::String()),
      Field("ports", S::Array(S::IntOrString()).MaxItems(50)),
      Field("notPorts", S::Array(S::IntOrString()).MaxItems(50)),
      Field("serviceAccounts", S::Object({Field("names", S::Array(S::String())), Field("selector", S::String())})),
      Field("services", S::Object({RequiredField("name", S::String()), Field("namespace", S::String())})),
      Field("domains", S::Array(S::String())),
  });
}

Schema IcmpSchema() { return S::Object({Field("type", S::Integer()), Field("code", S::Integer())}); }

Schema RuleSchema() {
  return S::Object({
      RequiredField("action", S::String().Enum({"Allow", "Deny", "Log", "Pass"})),
      Field("ipVersion", S::Integer()),
      Field("protocol", S::IntOrString().Describe("TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1-255.")),
      Field("notProtocol", S::IntOrString()),
      Field("icmp", IcmpSchema()),
      Field("notICMP", IcmpSchema()),
      Field("source", EntityRuleSchema()),
      Field("destination", EntityRuleSchema()),
      Field("http", S::Object({
                        Field("methods", S::Array(S::String())),
                        Field("paths", S::Array(S::Object({Field("exact", S::String()), Field("prefix", S::String())}))),
                        Field("headers", S::Array(S::Object({
                                             RequiredField("header", S::String()),
                                             RequiredField("operator", S::String().Enum({"Exists", "DoesNotExist",
                                                                                         "HasPrefix", "HasSuffix", "In",
                                                                                         "NotIn", "MatchesRegex"})),
                                             Field("values", S::Array(S::String())),
                                         }))),
                    })),
      Field("metadata", S::Object({Field("annotations", S::Map(S::String()))})),
  });
}

enum class PolicyKind { kGlobal, kNamespaced, kStagedGlobal };

Schema CalicoPolicySchema(PolicyKind k) {
  std::vector<SchemaField> fields = {
      Field("tier", S::String().Describe("Tier of the policy; default \"default\".")),
      Field("order", S::Number().Describe("Lower orders are evaluated first; unset = last.")),
      Field("selector", S::String().Describe("Endpoints the policy applies to; empty = all().")),
      Field("serviceAccountSelector", S::String()),
      Field("types", S::Array(S::String().Enum({"Ingress", "Egress"})).MaxItems(2)),
      Field("ingress", S::Array(RuleSchema()).MaxItems(1024)),
      Field("egress", S::Array(RuleSchema()).MaxItems(1024)),
      Field("performanceHints", S::Array(S::String().Enum({"AssumeNeededOnEveryNode"}))),
  };
  if (k != PolicyKind::kNamespaced) {
    fields.push_back(Field("namespaceSelector", S::String()));
    fields.push_back(Field("doNotTrack", S::Boolean()));
    fields.push_back(Field("preDNAT", S::Boolean()));
    fields.push_back(Field("applyOnForward", S::Boolean()));
  }
  if (k == PolicyKind::kStagedGlobal)
    fields.push_back(Field("stagedAction", S::String().Enum({"Set", "Delete", "Learn", "Ignore"})));
  return DocumentSchema(S::Object(std::move(fields)));
}

// ---- Calico defaults ----------------------------------------------------------------------

bool NonEmptyArray(const object& o, std::string_view key) {
  const array* a = GetArray(o, key);
  return a && !a->empty();
}

void CanonicaliseProtocols(object& spec) {
  for (auto dir : {"ingress", "egress"}) {
    array* rules = GetArray(spec, dir);
    if (!rules) continue;
    for (value& r : *rules) {
      if (!r.is_object()) continue;
      for (auto key : {"protocol", "notProtocol"}) {
        auto p = GetString(r.as_object(), key);
        if (!p) continue;
        if (auto canon = CanonicalProtocolName(*p)) r.as_object()[key] = *canon;
      }
    }
  }
}

void CalicoPolicyDefaults(object& doc, bool staged) {
  object& spec = EnsureObject(doc, "spec");
  auto tier = GetString(spec, "tier");
  if (!tier || tier->empty()) spec["tier"] = "default";
  const array* types = GetArray(spec, "types");
  if (!types || types->empty()) {
    bool in = NonEmptyArray(spec, "ingress"), out = NonEmptyArray(spec, "egress");
    if (out && in) spec["types"] = array{"Ingress", "Egress"};
    else if (out) spec["types"] = array{"Egress"};
    else spec["types"] = array{"Ingress"};
  }
  if (staged && !spec.contains("stagedAction")) spec["stagedAction"] = "Set";
  CanonicaliseProtocols(spec);
}

void GnpDefaults(object& doc) { CalicoPolicyDefaults(doc, false); }
void SgnpDefaults(object& doc) { CalicoPolicyDefaults(doc, true); }

// ---- Calico validation ----------------------------------------------------------------------

// The protocol as a number when it is one we can name, else -1.
int ProtocolNumber(const value* p) {
  if (!p) return -1;
  if (p->is_int64()) return static_cast<int>(p->as_int64());
  if (p->is_uint64()) return p->as_uint64() > 255 ? -1 : static_cast<int>(p->as_uint64());
  if (!p->is_string()) return -1;
  std::string_view s = p->as_string();
  if (s == "TCP") return 6;
  if (s == "UDP") return 17;
  if (s == "ICMP") return 1;
  if (s == "ICMPv6") return 58;
  if (s == "SCTP") return 132;
  if (s == "UDPLite") return 136;
  return -1;
}

void ValidateProtocol(const value& p, const std::string& path, FieldErrors& errors) {
  if (p.is_string()) {
    if (!CanonicalProtocolName(p.as_string()))
      errors.Invalid(path, InvalidValue(p.as_string(), "must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255"));
    return;
  }
  int64_t n = p.is_int64() ? p.as_int64() : p.is_uint64() ? 256 : -1;
  if (n < 1 || n > 255) errors.Invalid(path, InvalidValue(ValueText(p), "protocol number must be between 1 and 255"));
}

void ValidateIcmp(const object& icmp, const std::string& path, FieldErrors& errors) {
  auto type = icmp.find("type");
  auto code = icmp.find("code");
  if (type != icmp.end() && type->value().is_int64()) {
    int64_t t = type->value().as_int64();
    if (t < 0 || t > 254) errors.Invalid(ChildPath(path, "type"), "must be between 0 and 254");
  }
  if (code != icmp.end()) {
    if (type == icmp.end()) errors.Invalid(ChildPath(path, "code"), "requires type to be set");
    if (code->value().is_int64() && (code->value().as_int64() < 0 || code->value().as_int64() > 255))
      errors.Invalid(ChildPath(path, "code"), "must be between 0 and 255");
  }
}

struct RuleContext {
  std::string path;
  bool egress = false;
  std::string_view action;
  int protocol = -1;  // -1: unset or unknown
  bool protocol_set = false;
  int ip_version = 0;  // 0: unset
  std::set<int> families;
};

void ValidateEntity(const object& e, const std::string& path, bool is_destination, RuleContext& rc,
                    FieldErrors& errors) {
  for (auto key : {"nets", "notNets"}) {
    const array* nets = GetArray(e, key);
    if (!nets) continue;
    for (size_t i = 0; i < nets->size(); ++i) {
      if (!(*nets)[i].is_string()) continue;
      std::string_view n = (*nets)[i].as_string();
      std::string p = IndexPath(ChildPath(path, key), i);
      auto net = ParseCidrOrIp(n);
      if (!net.ok()) {
        errors.Invalid(p, InvalidValue(n, "must be a valid CIDR or IP address"));
        continue;
      }
      rc.families.insert(net->family);
      if (rc.ip_version != 0 && rc.ip_version != net->family)
        errors.Invalid(p, InvalidValue(n, "IPv" + std::to_string(net->family) + " address does not match ipVersion " +
                                              std::to_string(rc.ip_version)));
    }
  }
  if (auto s = GetString(e, "selector")) ValidateSelector(*s, ChildPath(path, "selector"), GlobalUse::kForbidden, errors);
  if (auto s = GetString(e, "notSelector"))
    ValidateSelector(*s, ChildPath(path, "notSelector"), GlobalUse::kForbidden, errors);
  if (auto s = GetString(e, "namespaceSelector"))
    ValidateSelector(*s, ChildPath(path, "namespaceSelector"), GlobalUse::kWholeSelectorOnly, errors);

  bool ports_ok = rc.protocol == 6 || rc.protocol == 17 || rc.protocol == 132;
  for (auto key : {"ports", "notPorts"}) {
    const array* ports = GetArray(e, key);
    if (!ports || ports->empty()) continue;
    std::string pp = ChildPath(path, key);
    if (!ports_ok) errors.Invalid(pp, "ports require protocol TCP, UDP or SCTP");
    for (size_t i = 0; i < ports->size(); ++i) {
      std::string err = CheckCalicoPort((*ports)[i]);
      if (!err.empty()) errors.Invalid(IndexPath(pp, i), err);
    }
  }

  if (const object* sa = GetObject(e, "serviceAccounts")) {
    std::string sp = ChildPath(path, "serviceAccounts");
    if (auto s = GetString(*sa, "selector")) ValidateSelector(*s, ChildPath(sp, "selector"), GlobalUse::kForbidden, errors);
    if (const array* names = GetArray(*sa, "names"))
      for (size_t i = 0; i < names->size(); ++i)
        if ((*names)[i].is_string()) {
          std::string err = CheckDns1123Subdomain((*names)[i].as_string());
          if (!err.empty()) errors.Invalid(IndexPath(ChildPath(sp, "names"), i), InvalidValue((*names)[i].as_string(), err));
        }
  }

  if (const object* svc = GetObject(e, "services")) {
    std::string sp = ChildPath(path, "services");
    for (auto other : {"selector", "notSelector", "namespaceSelector", "nets", "notNets", "serviceAccounts"})
      if (e.contains(other)) errors.Invalid(sp, std::string("cannot be combined with ") + other);
    if (is_destination && (NonEmptyArray(e, "ports") || NonEmptyArray(e, "notPorts")))
      errors.Invalid(sp, "ports and notPorts cannot be combined with destination services");
    if (auto n = GetString(*svc, "name")) {
      std::string err = CheckDns1123Label(*n);
      if (!err.empty()) errors.Invalid(ChildPath(sp, "name"), InvalidValue(*n, err));
    }
    if (auto n = GetString(*svc, "namespace")) {
      std::string err = CheckDns1123Label(*n);
      if (!err.empty()) errors.Invalid(ChildPath(sp, "namespace"), InvalidValue(*n, err));
    }
  }

  if (const array* domains = GetArray(e, "domains"); domains && !domains->empty()) {
    std::string dp = ChildPath(path, "domains");
    if (!is_destination || !rc.egress || rc.action != "Allow")
      errors.Invalid(dp, "only allowed in the destination of an egress Allow rule");
    else if (NonEmptyArray(e, "nets") || e.contains("selector"))
      errors.Invalid(dp, "cannot be combined with nets or selector");
    for (size_t i = 0; i < domains->size(); ++i)
      if ((*domains)[i].is_string()) {
        std::string err = CheckWildcardDomain((*domains)[i].as_string());
        if (!err.empty()) errors.Invalid(IndexPath(dp, i), InvalidValue((*domains)[i].as_string(), err));
      }
  }
}

void ValidateRule(const object& r, const std::string& path, bool egress, FieldErrors& errors) {
  RuleContext rc;
  rc.path = path;
  rc.egress = egress;
  rc.action = GetString(r, "action").value_or("");
  const value* protocol = r.if_contains("protocol");
  if (protocol) {
    ValidateProtocol(*protocol, ChildPath(path, "protocol"), errors);
    rc.protocol = ProtocolNumber(protocol);
  }
  if (const value* np = r.if_contains("notProtocol")) ValidateProtocol(*np, ChildPath(path, "notProtocol"), errors);
  if (const value* v = r.if_contains("ipVersion"); v && v->is_int64()) {
    if (v->as_int64() != 4 && v->as_int64() != 6)
      errors.NotSupported(ChildPath(path, "ipVersion"), std::to_string(v->as_int64()), {"4", "6"});
    else
      rc.ip_version = static_cast<int>(v->as_int64());
  }
  if (rc.protocol == 1 && rc.ip_version == 6)
    errors.Invalid(ChildPath(path, "ipVersion"), "must be 4 (or unset) for protocol ICMP");
  if (rc.protocol == 58 && rc.ip_version == 4)
    errors.Invalid(ChildPath(path, "ipVersion"), "must be 6 (or unset) for protocol ICMPv6");
  for (auto key : {"icmp", "notICMP"}) {
    const object* icmp = GetObject(r, key);
    if (!icmp) continue;
    if (rc.protocol != 1 && rc.protocol != 58) errors.Invalid(ChildPath(path, key), "requires protocol ICMP or ICMPv6");
    ValidateIcmp(*icmp, ChildPath(path, key), errors);
  }
  if (const object* src = GetObject(r, "source")) ValidateEntity(*src, ChildPath(path, "source"), false, rc, errors);
  if (const object* dst = GetObject(r, "destination"))
    ValidateEntity(*dst, ChildPath(path, "destination"), true, rc, errors);
  if (rc.families.size() > 1) errors.Invalid(path, "rule mixes IPv4 and IPv6 addresses; use one address family per rule");

  if (const object* http = GetObject(r, "http")) {
    std::string hp = ChildPath(path, "http");
    if (rc.action != "Allow") errors.Invalid(hp, "only allowed with action Allow");
    if (protocol && rc.protocol != 6) errors.Invalid(hp, "requires protocol TCP (or no protocol)");
    if (egress) errors.Invalid(hp, "only allowed in ingress rules");
    if (const array* paths = GetArray(*http, "paths"))
      for (size_t i = 0; i < paths->size(); ++i)
        if ((*paths)[i].is_object()) {
          const object& m = (*paths)[i].as_object();
          if (m.contains("exact") == m.contains("prefix"))
            errors.Invalid(IndexPath(ChildPath(hp, "paths"), i), "exactly one of exact or prefix is required");
        }
    if (const array* headers = GetArray(*http, "headers"))
      for (size_t i = 0; i < headers->size(); ++i)
        if ((*headers)[i].is_object()) {
          const object& h = (*headers)[i].as_object();
          auto op = GetString(h, "operator").value_or("");
          bool has_values = NonEmptyArray(h, "values");
          std::string p = IndexPath(ChildPath(hp, "headers"), i);
          if ((op == "Exists" || op == "DoesNotExist") && has_values)
            errors.Invalid(ChildPath(p, "values"), "may not be specified with operator " + std::string(op));
          if (op != "Exists" && op != "DoesNotExist" && !has_values) errors.Required(ChildPath(p, "values"));
        }
  }
}

void ValidatePolicyName(const object& doc, std::string_view tier, FieldErrors& errors) {
  const object* meta = GetObject(doc, "metadata");
  auto name = meta ? GetString(*meta, "name") : std::nullopt;
  if (!name) return;
  if (name->starts_with("knp."))
    errors.Invalid("metadata.name", InvalidValue(*name, "names starting with \"knp.\" are reserved for Kubernetes NetworkPolicies"));
  size_t dot = name->find('.');
  if (tier == "default" || dot == std::string_view::npos) return;
  std::string_view prefix = name->substr(0, dot);
  if (prefix != tier)
    errors.Invalid("metadata.name",
                   InvalidValue(*name, "name prefix \"" + std::string(prefix) + ".\" contradicts spec.tier \"" +
                                           std::string(tier) + "\": name a policy of tier " + std::string(tier) +
                                           " either \"" + std::string(tier) + ".<name>\" or without a dot"));
}

void CalicoPolicyValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  std::string_view tier = GetString(spec, "tier").value_or("default");
  std::string err = CheckDns1123Label(tier);
  if (!err.empty()) errors.Invalid("spec.tier", InvalidValue(tier, err));
  ValidatePolicyName(doc, tier, errors);

  if (auto s = GetString(spec, "selector")) ValidateSelector(*s, "spec.selector", GlobalUse::kForbidden, errors);
  if (auto s = GetString(spec, "namespaceSelector"))
    ValidateSelector(*s, "spec.namespaceSelector", GlobalUse::kForbidden, errors);
  if (auto s = GetString(spec, "serviceAccountSelector"))
    ValidateSelector(*s, "spec.serviceAccountSelector", GlobalUse::kForbidden, errors);

  bool has_egress_type = false;
  if (const array* types = GetArray(spec, "types")) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < types->size(); ++i) {
      if (!(*types)[i].is_string()) continue;
      std::string_view t = (*types)[i].as_string();
      if (!seen.insert(t).second) errors.Duplicate(IndexPath("spec.types", i), t);
      has_egress_type = has_egress_type || t == "Egress";
    }
  }
  for (auto dir : {"ingress", "egress"}) {
    const array* rules = GetArray(spec, dir);
    if (!rules) continue;
    for (size_t i = 0; i < rules->size(); ++i)
      if ((*rules)[i].is_object())
        ValidateRule((*rules)[i].as_object(), IndexPath(ChildPath("spec", dir), i), std::string_view(dir) == "egress",
                     errors);
  }

  bool dnt = GetBool(spec, "doNotTrack"), pre_dnat = GetBool(spec, "preDNAT");
  if (dnt && pre_dnat) errors.Invalid("spec.preDNAT", "preDNAT and doNotTrack cannot both be true");
  if ((dnt || pre_dnat) && !GetBool(spec, "applyOnForward"))
    errors.Invalid("spec.applyOnForward", "must be true if either preDNAT or doNotTrack is true");
  if (pre_dnat && NonEmptyArray(spec, "egress")) errors.Invalid("spec.egress", "egress rules are not allowed with preDNAT");
  if (pre_dnat && has_egress_type) errors.Invalid("spec.types", "Egress is not allowed with preDNAT");
}

// ---- networking.k8s.io/v1 NetworkPolicy ---------------------------------------------------

Schema K8sNetworkPolicySchema() {
  Schema port = S::Object({
      Field("protocol", S::String().Enum({"TCP", "UDP", "SCTP"})),
      Field("port", S::IntOrString()),
      Field("endPort", S::Integer()),
  });
  Schema peer = S::Object({
      Field("podSelector", LabelSelectorSchema()),
      Field("namespaceSelector", LabelSelectorSchema()),
      Field("ipBlock", S::Object({RequiredField("cidr", S::String()), Field("except", S::Array(S::String()))})),
  });
  return DocumentSchema(S::Object({
      Field("podSelector", LabelSelectorSchema()),
      Field("policyTypes", S::Array(S::String().Enum({"Ingress", "Egress"})).MaxItems(2)),
      Field("ingress", S::Array(S::Object({Field("ports", S::Array(port)), Field("from", S::Array(peer))}))),
      Field("egress", S::Array(S::Object({Field("ports", S::Array(port)), Field("to", S::Array(peer))}))),
  }));
}

void K8sNetworkPolicyDefaults(object& doc) {
  object& spec = EnsureObject(doc, "spec");
  if (!spec.contains("podSelector")) spec["podSelector"] = object();
  const array* types = GetArray(spec, "policyTypes");
  if (!types || types->empty()) {
    array t{"Ingress"};
    if (NonEmptyArray(spec, "egress")) t.push_back("Egress");
    spec["policyTypes"] = std::move(t);
  }
  for (auto dir : {"ingress", "egress"}) {
    array* rules = GetArray(spec, dir);
    if (!rules) continue;
    for (value& r : *rules) {
      if (!r.is_object()) continue;
      if (array* ports = GetArray(r.as_object(), "ports"))
        for (value& p : *ports)
          if (p.is_object() && !p.as_object().contains("protocol")) p.as_object()["protocol"] = "TCP";
    }
  }
}

void ValidateK8sPeer(const object& peer, const std::string& path, FieldErrors& errors) {
  const object* block = GetObject(peer, "ipBlock");
  bool selectors = peer.contains("podSelector") || peer.contains("namespaceSelector");
  if (!block && !selectors)
    errors.Add(path, "FieldValueRequired", "must specify a peer: podSelector, namespaceSelector or ipBlock");
  if (block && selectors) errors.Invalid(path, "may not specify both ipBlock and another peer");
  if (const object* s = GetObject(peer, "podSelector")) ValidateLabelSelector(*s, ChildPath(path, "podSelector"), errors);
  if (const object* s = GetObject(peer, "namespaceSelector"))
    ValidateLabelSelector(*s, ChildPath(path, "namespaceSelector"), errors);
  if (!block) return;
  std::string bp = ChildPath(path, "ipBlock");
  auto cidr_text = GetString(*block, "cidr");
  if (!cidr_text) return;
  auto cidr = ParseCidr(*cidr_text);
  if (!cidr.ok()) {
    errors.Invalid(ChildPath(bp, "cidr"), InvalidValue(*cidr_text, "must be a valid CIDR"));
    return;
  }
  if (const array* except = GetArray(*block, "except"))
    for (size_t i = 0; i < except->size(); ++i) {
      if (!(*except)[i].is_string()) continue;
      std::string_view e = (*except)[i].as_string();
      std::string ep = IndexPath(ChildPath(bp, "except"), i);
      auto ex = ParseCidr(e);
      if (!ex.ok())
        errors.Invalid(ep, InvalidValue(e, "must be a valid CIDR"));
      else if (!NetContains(*cidr, *ex) || ex->prefix_len <= cidr->prefix_len)
        errors.Invalid(ep, InvalidValue(e, "must be a strict subset of `cidr`"));
    }
}

void ValidateK8sPort(const object& port, const std::string& path, FieldErrors& errors) {
  const value* p = port.if_contains("port");
  int64_t number = -1;
  if (p && (p->is_int64() || p->is_uint64())) {
    number = p->is_int64() ? p->as_int64() : 65536;
    if (number < 1 || number > 65535) errors.Invalid(ChildPath(path, "port"), "must be between 1 and 65535, inclusive");
  } else if (p && p->is_string()) {
    std::string err = CheckIanaSvcName(p->as_string());
    if (!err.empty()) errors.Invalid(ChildPath(path, "port"), InvalidValue(p->as_string(), err));
  }
  if (const value* end = port.if_contains("endPort"); end && end->is_int64()) {
    std::string ep = ChildPath(path, "endPort");
    if (!p) errors.Invalid(ep, "may not be specified when `port` is not specified");
    else if (number < 0) errors.Invalid(ep, "may not be specified when `port` is non-numeric");
    else if (end->as_int64() < number) errors.Invalid(ep, "must be greater than or equal to `port`");
    else if (end->as_int64() > 65535) errors.Invalid(ep, "must be between 1 and 65535, inclusive");
  }
}

void K8sNetworkPolicyValidate(object& doc, FieldErrors& errors) {
  const object& spec = EnsureObject(doc, "spec");
  if (const object* s = GetObject(spec, "podSelector")) ValidateLabelSelector(*s, "spec.podSelector", errors);
  if (const array* types = GetArray(spec, "policyTypes")) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < types->size(); ++i)
      if ((*types)[i].is_string() && !seen.insert((*types)[i].as_string()).second)
        errors.Duplicate(IndexPath("spec.policyTypes", i), (*types)[i].as_string());
  }
  for (auto [dir, peers] : {std::pair{"ingress", "from"}, std::pair{"egress", "to"}}) {
    const array* rules = GetArray(spec, dir);
    if (!rules) continue;
    for (size_t i = 0; i < rules->size(); ++i) {
      if (!(*rules)[i].is_object()) continue;
      const object& r = (*rules)[i].as_object();
      std::string rp = IndexPath(ChildPath("spec", dir), i);
      if (const array* ports = GetArray(r, "ports"))
        for (size_t j = 0; j < ports->size(); ++j)
          if ((*ports)[j].is_object()) ValidateK8sPort((*ports)[j].as_object(), IndexPath(ChildPath(rp, "ports"), j), errors);
      if (const array* list = GetArray(r, peers))
        for (size_t j = 0; j < list->size(); ++j)
          if ((*list)[j].is_object()) ValidateK8sPeer((*list)[j].as_object(), IndexPath(ChildPath(rp, peers), j), errors);
    }
  }
}

}  // namespace

std::vector<KindRules> PolicyKindRules() {
  std::vector<KindRules> rules;
  rules.push_back({kCalicoV3, "GlobalNetworkPolicy", NameRule::kSubdomain, CalicoPolicySchema(PolicyKind::kGlobal),
                   GnpDefaults, CalicoPolicyValidate});
  rules.push_back({kCalicoV3, "NetworkPolicy", NameRule::kSubdomain, CalicoPolicySchema(PolicyKind::kNamespaced),
                   GnpDefaults, CalicoPolicyValidate});
  rules.push_back({kCalicoV3, "StagedGlobalNetworkPolicy", NameRule::kSubdomain,
                   CalicoPolicySchema(PolicyKind::kStagedGlobal), SgnpDefaults, CalicoPolicyValidate});
  rules.push_back({"networking.k8s.io/v1", "NetworkPolicy", NameRule::kSubdomain, K8sNetworkPolicySchema(),
                   K8sNetworkPolicyDefaults, K8sNetworkPolicyValidate});
  return rules;
}

}  // namespace tw::model
