#include "policy/inputs.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <utility>

#include "selector/rewrite.h"

namespace tw::policy {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using selector::Labels;
using selector::Selector;

constexpr std::string_view kNamespaceLabel = "projectcalico.org/namespace";
constexpr std::string_view kOrchestratorLabel = "projectcalico.org/orchestrator";
constexpr std::string_view kServiceAccountLabel = "projectcalico.org/serviceaccount";
constexpr std::string_view kNameLabel = "projectcalico.org/name";
constexpr std::string_view kNamespacePrefix = "pcns.";
constexpr std::string_view kServiceAccountPrefix = "pcsa.";
constexpr std::string_view kIfaceAnnotation = "threatwall.io/iface";
constexpr std::string_view kCalicoV3 = "projectcalico.org/v3";
constexpr double kDefaultTierOrder = 1000000;
constexpr double kKnpOrder = 1000;

// ---- JSON access that never throws -------------------------------------------------

const object* GetObj(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

const array* GetArr(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

std::optional<std::string_view> GetStr(const object& o, std::string_view key) {
  const value* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->as_string());
}

std::optional<int64_t> AsInt(const value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.as_uint64());
  if (v.is_double() && std::floor(v.as_double()) == v.as_double() && std::abs(v.as_double()) < 1e15)
    return static_cast<int64_t>(v.as_double());
  return std::nullopt;
}

std::string Path(std::string_view base, std::string_view key) { return std::string(base) + "." + std::string(key); }
std::string Index(std::string_view base, size_t i) { return std::string(base) + "[" + std::to_string(i) + "]"; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::optional<uint32_t> ParseUint(std::string_view s) {
  if (!AllDigits(s) || s.size() > 9) return std::nullopt;
  uint32_t n = 0;
  std::from_chars(s.data(), s.data() + s.size(), n);
  return n;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// ---- Errors ---------------------------------------------------------------------------

// Errors read "<Kind> <[ns/]name>: <field>: <reason>".
class Where {
 public:
  Where(std::string_view kind, std::string_view ns, std::string_view name) {
    what_ = std::string(kind.empty() ? "object" : kind) + " ";
    if (!ns.empty()) what_ += std::string(ns) + "/";
    what_ += name.empty() ? std::string("<unnamed>") : std::string(name);
  }
  Status Error(std::string_view field, std::string_view reason) const {
    return Status::InvalidArgument(what_ + ": " + std::string(field) + ": " + std::string(reason));
  }
  Status Unsupported(std::string_view field, std::string_view reason) const {
    return Status::Unsupported(what_ + ": " + std::string(field) + ": " + std::string(reason));
  }

 private:
  std::string what_;
};

struct Meta {
  std::string kind, api_version, name, ns;
};

Meta MetaOf(const object& o) {
  Meta m;
  m.kind = std::string(GetStr(o, "kind").value_or(""));
  m.api_version = std::string(GetStr(o, "apiVersion").value_or(""));
  if (const object* meta = GetObj(o, "metadata")) {
    m.name = std::string(GetStr(*meta, "name").value_or(""));
    m.ns = std::string(GetStr(*meta, "namespace").value_or(""));
  }
  return m;
}

Status RequireName(const Meta& m, const Where& where, bool namespaced) {
  if (m.name.empty()) return where.Error("metadata.name", "required");
  if (namespaced && m.ns.empty()) return where.Error("metadata.namespace", "required");
  return Status::Ok();
}

Result<Labels> LabelsOf(const object& o, const Where& where) {
  Labels labels;
  const object* meta = GetObj(o, "metadata");
  if (!meta) return labels;
  const value* v = meta->if_contains("labels");
  if (!v || v->is_null()) return labels;
  if (!v->is_object()) return where.Error("metadata.labels", "must be a map of strings");
  for (const auto& kv : v->as_object()) {
    if (!kv.value().is_string())
      return where.Error("metadata.labels." + std::string(kv.key()), "must be a string");
    labels.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  return labels;
}

// The selector text at `o[key]`: nullopt when absent or empty (Calico
// treats "" as "not given").
Result<std::optional<Selector>> OptSelector(const object& o, std::string_view key, std::string_view path,
                                            const Where& where) {
  const value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<Selector>();
  if (!v->is_string()) return where.Error(path, "must be a string");
  if (v->as_string().empty()) return std::optional<Selector>();
  auto s = Selector::Parse(v->as_string());
  if (!s.ok()) return where.Error(path, s.error().message());
  return std::optional<Selector>(*s);
}

Result<std::optional<double>> OptOrder(const object& spec, std::string_view path, const Where& where) {
  const value* v = spec.if_contains("order");
  if (!v || v->is_null()) return std::optional<double>();
  if (v->is_double()) return std::optional<double>(v->as_double());
  if (v->is_int64()) return std::optional<double>(static_cast<double>(v->as_int64()));
  if (v->is_uint64()) return std::optional<double>(static_cast<double>(v->as_uint64()));
  return where.Error(path, "must be a number");
}

// ---- Protocols and ports -----------------------------------------------------------

Result<uint8_t> ProtocolNumber(const value& v, std::string_view path, const Where& where) {
  if (v.is_string()) {
    std::string_view s = v.as_string();
    static constexpr std::pair<std::string_view, uint8_t> kNames[] = {
        {"TCP", 6}, {"UDP", 17}, {"ICMP", 1}, {"ICMPv6", 58}, {"SCTP", 132}, {"UDPLite", 136}};
    for (const auto& [name, number] : kNames)
      if (EqualsIgnoreCase(s, name)) return number;
    if (auto n = ParseUint(s); n && *n >= 1 && *n <= 255) return static_cast<uint8_t>(*n);
    return where.Error(path, "invalid protocol \"" + std::string(s) +
                                 "\": must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255");
  }
  auto n = AsInt(v);
  if (!n || *n < 1 || *n > 255) return where.Error(path, "protocol number must be between 1 and 255");
  return static_cast<uint8_t>(*n);
}

bool ValidPortName(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-';
  });
}

// A Calico port: integer, "n", "min:max" or a named port.
Result<PortSpec> CalicoPort(const value& v, std::string_view path, const Where& where) {
  auto range = [&](uint32_t first, uint32_t last) -> Result<PortSpec> {
    if (first > 65535 || last > 65535) return where.Error(path, "port must be between 0 and 65535");
    if (first > last) return where.Error(path, "port range minimum is greater than its maximum");
    PortSpec p;
    p.range = PortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
    return p;
  };
  if (!v.is_string()) {
    auto n = AsInt(v);
    if (!n || *n < 0 || *n > 65535) return where.Error(path, "port must be between 0 and 65535");
    return range(static_cast<uint32_t>(*n), static_cast<uint32_t>(*n));
  }
  std::string_view s = v.as_string();
  if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    auto first = ParseUint(s.substr(0, colon)), last = ParseUint(s.substr(colon + 1));
    if (!first || !last) return where.Error(path, "invalid port range \"" + std::string(s) + "\": must be min:max");
    return range(*first, *last);
  }
  if (AllDigits(s)) {
    auto n = ParseUint(s);
    if (!n) return where.Error(path, "port must be between 0 and 65535");
    return range(*n, *n);
  }
  if (!ValidPortName(s)) return where.Error(path, "invalid port \"" + std::string(s) + "\"");
  PortSpec p;
  p.name = std::string(s);
  return p;
}

Result<std::vector<PortSpec>> CalicoPorts(const object& e, std::string_view key, std::string_view base,
                                          const Where& where) {
  std::vector<PortSpec> out;
  const value* v = e.if_contains(key);
  if (!v || v->is_null()) return out;
  std::string path = Path(base, key);
  if (!v->is_array()) return where.Error(path, "must be a list");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    TW_ASSIGN_OR_RETURN(PortSpec p, CalicoPort(v->as_array()[i], Index(path, i), where));
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<std::string>> StringList(const object& o, std::string_view key, std::string_view path,
                                            const Where& where) {
  std::vector<std::string> out;
  const value* v = o.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return where.Error(path, "must be a list of strings");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const value& item = v->as_array()[i];
    if (!item.is_string()) return where.Error(Index(path, i), "must be a string");
    out.emplace_back(item.as_string());
  }
  return out;
}

Result<std::vector<net::Cidr>> Nets(const object& e, std::string_view key, std::string_view base, const Where& where) {
  std::string path = Path(base, key);
  TW_ASSIGN_OR_RETURN(std::vector<std::string> texts, StringList(e, key, path, where));
  std::vector<net::Cidr> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto c = net::Cidr::Parse(texts[i]);
    if (!c.ok()) return where.Error(Index(path, i), c.error().message());
    out.push_back(*c);
  }
  return out;
}

// ---- Selector scoping (calico-semantics.md §4.5) --------------------------------------

// namespaceSelector of a rule or a k8s peer: labels get pcns., all() means
// "every namespaced thing", global() "only non-namespaced things".
Selector ScopeFromNamespaceSelector(const Selector& ns_selector) {
  return selector::PrefixLabels(ns_selector, kNamespacePrefix, kNamespaceLabel, kNamespaceLabel);
}

// The parts of an entity rule that make up its effective selector.
struct SelectorParts {
  std::optional<Selector> selector, not_selector, namespace_selector;
  std::optional<Selector> service_accounts;  // already in endpoint-label terms
};

// Final = (scope) && ((sa) && (selector)); the scope only when the rule
// selects by labels at all, so nets-only rules stay unscoped.  `policy_ns`
// is empty for global policies (no implicit scope).
std::optional<Selector> EffectiveSelector(const SelectorParts& p, std::string_view policy_ns) {
  bool selects = p.selector || p.not_selector || p.namespace_selector || p.service_accounts;
  if (!selects) return std::nullopt;
  std::optional<Selector> scope;
  if (p.namespace_selector) scope = ScopeFromNamespaceSelector(*p.namespace_selector);
  else if (!policy_ns.empty()) scope = selector::LabelEquals(kNamespaceLabel, policy_ns);
  if (!scope && !p.service_accounts && !p.selector) return std::nullopt;  // only a notSelector, in a GNP
  Selector out = p.selector.value_or(Selector::All());
  if (p.service_accounts) out = selector::And(*p.service_accounts, out);
  if (scope) out = selector::And(*scope, out);
  return out;
}

Result<EntityIn> CalicoEntity(const object& rule, std::string_view key, std::string_view rule_path,
                              std::string_view policy_ns, const Where& where) {
  EntityIn out;
  const value* v = rule.if_contains(key);
  if (!v || v->is_null()) return out;
  std::string base = Path(rule_path, key);
  if (!v->is_object()) return where.Error(base, "must be an object");
  const object& e = v->as_object();

  if (e.contains("services")) return where.Unsupported(Path(base, "services"), "Service matches are not supported");
  if (const array* d = GetArr(e, "domains"); d && !d->empty())
    return where.Unsupported(Path(base, "domains"), "domain matches are not supported");

  SelectorParts parts;
  TW_ASSIGN_OR_RETURN(parts.selector, OptSelector(e, "selector", Path(base, "selector"), where));
  TW_ASSIGN_OR_RETURN(parts.not_selector, OptSelector(e, "notSelector", Path(base, "notSelector"), where));
  TW_ASSIGN_OR_RETURN(parts.namespace_selector,
                      OptSelector(e, "namespaceSelector", Path(base, "namespaceSelector"), where));
  if (const value* sa = e.if_contains("serviceAccounts"); sa && !sa->is_null()) {
    std::string sa_path = Path(base, "serviceAccounts");
    if (!sa->is_object()) return where.Error(sa_path, "must be an object");
    TW_ASSIGN_OR_RETURN(std::vector<std::string> names,
                        StringList(sa->as_object(), "names", Path(sa_path, "names"), where));
    TW_ASSIGN_OR_RETURN(std::optional<Selector> sa_sel,
                        OptSelector(sa->as_object(), "selector", Path(sa_path, "selector"), where));
    // (pcsa.-prefixed selector) && (serviceaccount in {names}), in Calico's order.
    std::optional<Selector> combined;
    if (sa_sel) combined = selector::PrefixLabels(*sa_sel, kServiceAccountPrefix);
    if (!names.empty()) {
      Selector in = selector::LabelIn(kServiceAccountLabel, std::move(names));
      combined = combined ? selector::And(*combined, in) : in;
    }
    parts.service_accounts = std::move(combined);
  }
  out.selector = EffectiveSelector(parts, policy_ns);
  out.not_selector = parts.not_selector;  // never scoped
  TW_ASSIGN_OR_RETURN(out.nets, Nets(e, "nets", base, where));
  TW_ASSIGN_OR_RETURN(out.not_nets, Nets(e, "notNets", base, where));
  TW_ASSIGN_OR_RETURN(out.ports, CalicoPorts(e, "ports", base, where));
  TW_ASSIGN_OR_RETURN(out.not_ports, CalicoPorts(e, "notPorts", base, where));
  return out;
}

Result<std::optional<IcmpMatch>> Icmp(const object& rule, std::string_view key, std::string_view rule_path,
                                      const Where& where) {
  const value* v = rule.if_contains(key);
  if (!v || v->is_null()) return std::optional<IcmpMatch>();
  std::string path = Path(rule_path, key);
  if (!v->is_object()) return where.Error(path, "must be an object");
  IcmpMatch m;
  if (const value* t = v->as_object().if_contains("type")) {
    auto n = AsInt(*t);
    if (!n || *n < 0 || *n > 254) return where.Error(Path(path, "type"), "must be between 0 and 254");
    m.type = static_cast<uint8_t>(*n);
  }
  if (const value* c = v->as_object().if_contains("code")) {
    auto n = AsInt(*c);
    if (!n || *n < 0 || *n > 255) return where.Error(Path(path, "code"), "must be between 0 and 255");
    if (!m.type) return where.Error(Path(path, "code"), "requires type to be set");
    m.code = static_cast<uint8_t>(*n);
  }
  return std::optional<IcmpMatch>(m);
}

Result<RuleIn> CalicoRule(const value& v, std::string_view path, std::string_view policy_ns, const Where& where) {
  if (!v.is_object()) return where.Error(path, "must be an object");
  const object& r = v.as_object();
  RuleIn rule;
  std::string_view action = GetStr(r, "action").value_or("");
  if (action == "Allow") rule.action = Action::kAllow;
  else if (action == "Deny") rule.action = Action::kDeny;
  else if (action == "Pass") rule.action = Action::kPass;
  else if (action == "Log") rule.action = Action::kLog;
  else if (action.empty()) return where.Error(Path(path, "action"), "required");
  else return where.Error(Path(path, "action"), "unsupported value \"" + std::string(action) + "\": must be Allow, Deny, Pass or Log");

  if (const value* ipv = r.if_contains("ipVersion"); ipv && !ipv->is_null()) {
    auto n = AsInt(*ipv);
    if (!n || (*n != 4 && *n != 6)) return where.Error(Path(path, "ipVersion"), "must be 4 or 6");
    rule.ip_version = static_cast<uint8_t>(*n);
  }
  if (const value* p = r.if_contains("protocol"); p && !p->is_null()) {
    TW_ASSIGN_OR_RETURN(rule.protocol, ProtocolNumber(*p, Path(path, "protocol"), where));
  }
  if (const value* p = r.if_contains("notProtocol"); p && !p->is_null()) {
    TW_ASSIGN_OR_RETURN(rule.not_protocol, ProtocolNumber(*p, Path(path, "notProtocol"), where));
  }
  TW_ASSIGN_OR_RETURN(rule.icmp, Icmp(r, "icmp", path, where));
  TW_ASSIGN_OR_RETURN(rule.not_icmp, Icmp(r, "notICMP", path, where));
  TW_ASSIGN_OR_RETURN(rule.source, CalicoEntity(r, "source", path, policy_ns, where));
  TW_ASSIGN_OR_RETURN(rule.destination, CalicoEntity(r, "destination", path, policy_ns, where));
  bool has_ports = !rule.source.ports.empty() || !rule.source.not_ports.empty() ||
                   !rule.destination.ports.empty() || !rule.destination.not_ports.empty();
  if (has_ports && !(rule.protocol == 6 || rule.protocol == 17 || rule.protocol == 132))
    return where.Error(path, "ports require protocol TCP, UDP or SCTP");
  return rule;
}

Result<std::vector<RuleIn>> CalicoRules(const object& spec, std::string_view key, std::string_view policy_ns,
                                        const Where& where) {
  std::vector<RuleIn> out;
  const value* v = spec.if_contains(key);
  if (!v || v->is_null()) return out;
  std::string path = Path("spec", key);
  if (!v->is_array()) return where.Error(path, "must be a list");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    TW_ASSIGN_OR_RETURN(RuleIn r, CalicoRule(v->as_array()[i], Index(path, i), policy_ns, where));
    out.push_back(std::move(r));
  }
  return out;
}

// spec.types (or policyTypes); absent or empty: Ingress, plus Egress when
// there are egress rules (§4.2; Kubernetes defaults the same way).
Status Types(const object& spec, std::string_view key, bool has_ingress_rules, bool has_egress_rules,
             const Where& where, PolicyIn& out) {
  std::string path = Path("spec", key);
  const value* v = spec.if_contains(key);
  if (v && !v->is_null() && !v->is_array()) return where.Error(path, "must be a list");
  if (!v || v->is_null() || v->as_array().empty()) {
    out.egress = has_egress_rules;
    out.ingress = has_ingress_rules || !has_egress_rules;
    return Status::Ok();
  }
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const value& t = v->as_array()[i];
    if (t.is_string() && t.as_string() == "Ingress") out.ingress = true;
    else if (t.is_string() && t.as_string() == "Egress") out.egress = true;
    else return where.Error(Index(path, i), "must be Ingress or Egress");
  }
  return Status::Ok();
}

Result<PolicyIn> CalicoPolicy(const object& obj, const Meta& m, bool namespaced, bool staged) {
  Where where(m.kind, m.ns, m.name);
  TW_RETURN_IF_ERROR(RequireName(m, where, namespaced));
  const object* spec = GetObj(obj, "spec");
  if (!spec) return where.Error("spec", "required");
  std::string policy_ns = namespaced ? m.ns : "";

  PolicyIn p;
  p.tier = std::string(GetStr(*spec, "tier").value_or(""));
  if (p.tier.empty()) p.tier = "default";
  // Both naming generations (§4.3): "tier.x" and plain "x" name the same
  // policy; the key always carries the tier prefix.
  std::string tiered = m.name.starts_with(p.tier + ".") ? m.name : p.tier + "." + m.name;
  p.staged = staged;
  p.key = (namespaced ? m.ns + "/" : "") + (staged ? "staged:" : "") + tiered;
  TW_ASSIGN_OR_RETURN(p.order, OptOrder(*spec, "spec.order", where));

  TW_ASSIGN_OR_RETURN(std::optional<Selector> sel, OptSelector(*spec, "selector", "spec.selector", where));
  TW_ASSIGN_OR_RETURN(std::optional<Selector> sa_sel,
                      OptSelector(*spec, "serviceAccountSelector", "spec.serviceAccountSelector", where));
  Selector applies = sel.value_or(Selector::All());
  if (namespaced) {
    applies = selector::And(applies, selector::LabelEquals(kNamespaceLabel, m.ns));
  } else {
    TW_ASSIGN_OR_RETURN(std::optional<Selector> ns_sel,
                        OptSelector(*spec, "namespaceSelector", "spec.namespaceSelector", where));
    if (ns_sel) {
      // Calico replaces the text "all()" in the whole combined selector.
      applies = selector::And(selector::ReplaceAll(applies, kNamespaceLabel),
                              selector::PrefixLabels(*ns_sel, kNamespacePrefix, kNamespaceLabel));
    }
  }
  if (sa_sel) {
    if (namespaced) {
      applies = selector::And(applies, selector::PrefixLabels(*sa_sel, kServiceAccountPrefix));
    } else {
      // GNP only: again "all()" is replaced in the whole combined selector,
      // so an all() policy selector then requires a service account.
      applies = selector::And(selector::ReplaceAll(applies, kServiceAccountLabel),
                              selector::PrefixLabels(*sa_sel, kServiceAccountPrefix, kServiceAccountLabel));
    }
  }
  p.applies_to = std::move(applies);

  TW_ASSIGN_OR_RETURN(p.ingress_rules, CalicoRules(*spec, "ingress", policy_ns, where));
  TW_ASSIGN_OR_RETURN(p.egress_rules, CalicoRules(*spec, "egress", policy_ns, where));
  TW_RETURN_IF_ERROR(Types(*spec, "types", !p.ingress_rules.empty(), !p.egress_rules.empty(), where, p));

  if (staged && GetStr(*spec, "stagedAction").value_or("Set") == "Delete") {
    // Nothing is rendered for a staged delete: it governs no direction.
    p.ingress = p.egress = false;
    p.ingress_rules.clear();
    p.egress_rules.clear();
  }
  return p;
}

// ---- Kubernetes NetworkPolicy (Calico's k8s/conversion) -----------------------------

// A metav1.LabelSelector as a Calico selector.  Pod selectors also require
// projectcalico.org/orchestrator == "k8s"; an empty namespace selector is
// all() (every namespace).
Result<Selector> K8sLabelSelector(const object& ls, bool pod, std::string_view path, const Where& where) {
  Selector out = pod ? selector::LabelEquals(kOrchestratorLabel, "k8s") : Selector::All();
  if (const value* ml = ls.if_contains("matchLabels"); ml && !ml->is_null()) {
    if (!ml->is_object()) return where.Error(Path(path, "matchLabels"), "must be a map of strings");
    // std::map order: Calico sorts the keys too.
    std::map<std::string, std::string> sorted;
    for (const auto& kv : ml->as_object()) {
      if (!kv.value().is_string())
        return where.Error(Path(Path(path, "matchLabels"), kv.key()), "must be a string");
      sorted.emplace(std::string(kv.key()), std::string(kv.value().as_string()));
    }
    for (const auto& [k, v] : sorted) {
      out = selector::And(out, selector::LabelEquals(k, v));
    }
  }
  if (const value* me = ls.if_contains("matchExpressions"); me && !me->is_null()) {
    std::string me_path = Path(path, "matchExpressions");
    if (!me->is_array()) return where.Error(me_path, "must be a list");
    for (size_t i = 0; i < me->as_array().size(); ++i) {
      std::string ep = Index(me_path, i);
      if (!me->as_array()[i].is_object()) return where.Error(ep, "must be an object");
      const object& e = me->as_array()[i].as_object();
      std::string key(GetStr(e, "key").value_or(""));
      if (key.empty()) return where.Error(Path(ep, "key"), "required");
      std::string_view op = GetStr(e, "operator").value_or("");
      TW_ASSIGN_OR_RETURN(std::vector<std::string> values, StringList(e, "values", Path(ep, "values"), where));
      Selector term;
      if (op == "In") term = selector::LabelIn(key, std::move(values));
      else if (op == "NotIn") term = selector::LabelNotIn(key, std::move(values));
      else if (op == "Exists") term = selector::HasLabel(key);
      else if (op == "DoesNotExist") term = selector::Not(selector::HasLabel(key));
      else return where.Error(Path(ep, "operator"), "must be In, NotIn, Exists or DoesNotExist");
      out = selector::And(out, term);
    }
  }
  return out;
}

struct K8sPortGroup {
  std::optional<uint8_t> protocol;  // nullopt: no ports given at all
  bool any_port = false;            // an entry without a port: the whole protocol
  std::vector<PortSpec> ports;
};

Result<std::vector<K8sPortGroup>> K8sPorts(const object& rule, std::string_view rule_path, const Where& where) {
  std::vector<K8sPortGroup> groups;
  const array* ports = GetArr(rule, "ports");
  if (!ports || ports->empty()) {
    groups.emplace_back();
    return groups;
  }
  std::string base = Path(rule_path, "ports");
  for (size_t i = 0; i < ports->size(); ++i) {
    std::string pp = Index(base, i);
    if (!(*ports)[i].is_object()) return where.Error(pp, "must be an object");
    const object& port = (*ports)[i].as_object();
    uint8_t proto = 6;
    if (const value* pr = port.if_contains("protocol"); pr && !pr->is_null()) {
      TW_ASSIGN_OR_RETURN(proto, ProtocolNumber(*pr, Path(pp, "protocol"), where));
      if (proto != 6 && proto != 17 && proto != 132) return where.Error(Path(pp, "protocol"), "must be TCP, UDP or SCTP");
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const K8sPortGroup& g) { return g.protocol == proto; });
    if (it == groups.end()) {
      groups.push_back(K8sPortGroup{proto, false, {}});
      it = groups.end() - 1;
    }
    const value* pv = port.if_contains("port");
    if (!pv || pv->is_null()) {
      it->any_port = true;
      continue;
    }
    PortSpec spec;
    if (pv->is_string()) {
      if (!ValidPortName(pv->as_string())) return where.Error(Path(pp, "port"), "invalid named port");
      spec.name = std::string(pv->as_string());
    } else {
      auto n = AsInt(*pv);
      if (!n || *n < 1 || *n > 65535) return where.Error(Path(pp, "port"), "must be between 1 and 65535");
      int64_t last = *n;
      if (const value* end = port.if_contains("endPort"); end && !end->is_null()) {
        auto e = AsInt(*end);
        if (!e || *e < *n || *e > 65535)
          return where.Error(Path(pp, "endPort"), "must be between port and 65535");
        last = *e;
      }
      spec.range = PortRange{static_cast<uint16_t>(*n), static_cast<uint16_t>(last)};
    }
    it->ports.push_back(std::move(spec));
  }
  for (auto& g : groups)
    if (g.any_port) g.ports.clear();
  return groups;
}

// One peer (from/to entry) as an EntityIn; nullopt peer = anything.
Result<EntityIn> K8sPeer(const object* peer, std::string_view path, std::string_view ns, const Where& where) {
  EntityIn out;
  if (!peer) return out;
  if (const object* block = GetObj(*peer, "ipBlock")) {
    std::string bp = Path(path, "ipBlock");
    auto cidr_text = GetStr(*block, "cidr");
    if (!cidr_text) return where.Error(Path(bp, "cidr"), "required");
    auto cidr = net::Cidr::Parse(*cidr_text);
    if (!cidr.ok()) return where.Error(Path(bp, "cidr"), cidr.error().message());
    out.nets.push_back(*cidr);
    TW_ASSIGN_OR_RETURN(out.not_nets, Nets(*block, "except", bp, where));
    return out;
  }
  SelectorParts parts;
  if (const object* ps = GetObj(*peer, "podSelector")) {
    TW_ASSIGN_OR_RETURN(parts.selector, K8sLabelSelector(*ps, true, Path(path, "podSelector"), where));
  }
  if (const object* nss = GetObj(*peer, "namespaceSelector")) {
    TW_ASSIGN_OR_RETURN(parts.namespace_selector,
                        K8sLabelSelector(*nss, false, Path(path, "namespaceSelector"), where));
  }
  if (!parts.selector && !parts.namespace_selector)
    return where.Error(path, "must specify a peer: podSelector, namespaceSelector or ipBlock");
  out.selector = EffectiveSelector(parts, ns);
  return out;
}

Result<std::vector<RuleIn>> K8sRules(const object& spec, bool ingress, std::string_view ns, const Where& where) {
  std::vector<RuleIn> out;
  std::string_view key = ingress ? "ingress" : "egress";
  std::string_view peers_key = ingress ? "from" : "to";
  const value* v = spec.if_contains(key);
  if (!v || v->is_null()) return out;
  std::string base = Path("spec", key);
  if (!v->is_array()) return where.Error(base, "must be a list");
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    std::string rp = Index(base, i);
    if (!v->as_array()[i].is_object()) return where.Error(rp, "must be an object");
    const object& r = v->as_array()[i].as_object();
    TW_ASSIGN_OR_RETURN(std::vector<K8sPortGroup> groups, K8sPorts(r, rp, where));
    // An absent or empty peer list means every peer.
    std::vector<EntityIn> peers;
    const array* list = GetArr(r, peers_key);
    if (!list || list->empty()) peers.emplace_back();
    else
      for (size_t j = 0; j < list->size(); ++j) {
        std::string pp = Index(Path(rp, peers_key), j);
        if (!(*list)[j].is_object()) return where.Error(pp, "must be an object");
        TW_ASSIGN_OR_RETURN(EntityIn e, K8sPeer(&(*list)[j].as_object(), pp, ns, where));
        peers.push_back(std::move(e));
      }
    // Calico renders one Allow rule per peer and protocol.
    for (const EntityIn& peer : peers)
      for (const K8sPortGroup& g : groups) {
        RuleIn rule;
        rule.action = Action::kAllow;
        rule.protocol = g.protocol;
        (ingress ? rule.source : rule.destination) = peer;
        for (const PortSpec& p : g.ports) rule.destination.ports.push_back(p);
        out.push_back(std::move(rule));
      }
  }
  return out;
}

Result<PolicyIn> K8sPolicy(const object& obj, const Meta& m) {
  Where where("NetworkPolicy.networking.k8s.io", m.ns, m.name);
  TW_RETURN_IF_ERROR(RequireName(m, where, true));
  const object* spec = GetObj(obj, "spec");
  if (!spec) return where.Error("spec", "required");
  PolicyIn p;
  p.tier = "default";
  p.key = m.ns + "/knp.default." + m.name;
  p.order = kKnpOrder;
  object empty;
  const object* ps = GetObj(*spec, "podSelector");
  TW_ASSIGN_OR_RETURN(Selector sel, K8sLabelSelector(ps ? *ps : empty, true, "spec.podSelector", where));
  p.applies_to = selector::And(sel, selector::LabelEquals(kNamespaceLabel, m.ns));
  TW_ASSIGN_OR_RETURN(p.ingress_rules, K8sRules(*spec, true, m.ns, where));
  TW_ASSIGN_OR_RETURN(p.egress_rules, K8sRules(*spec, false, m.ns, where));
  bool has_egress = false;
  if (const array* e = GetArr(*spec, "egress")) has_egress = !e->empty();
  // Kubernetes: Ingress always, Egress when egress rules exist.
  TW_RETURN_IF_ERROR(Types(*spec, "policyTypes", true, has_egress, where, p));
  return p;
}

// pcns.<k>=<v> for the namespace's labels and pcns.projectcalico.org/name.
void AddNamespaceLabels(std::string_view ns, const Labels& namespace_labels, Labels& labels) {
  for (const auto& [k, v] : namespace_labels) labels[std::string(kNamespacePrefix) + k] = v;
  labels[std::string(kNamespacePrefix) + std::string(kNameLabel)] = std::string(ns);
  labels[std::string(kNamespaceLabel)] = std::string(ns);
}

}  // namespace

Result<Tier> TierFromObject(const object& tier) {
  Meta m = MetaOf(tier);
  Where where(m.kind.empty() ? "Tier" : m.kind, "", m.name);
  TW_RETURN_IF_ERROR(RequireName(m, where, false));
  Tier out;
  out.name = m.name;
  if (const object* spec = GetObj(tier, "spec")) {
    TW_ASSIGN_OR_RETURN(out.order, OptOrder(*spec, "spec.order", where));
    std::string_view action = GetStr(*spec, "defaultAction").value_or("Deny");
    if (action == "Pass") out.pass_at_end = true;
    else if (action != "Deny") return where.Error("spec.defaultAction", "must be Deny or Pass");
  }
  // The built-in default tier's order is fixed (§4.1).
  if (out.name == "default") {
    out.order = kDefaultTierOrder;
    out.pass_at_end = false;
  }
  return out;
}

Result<PolicyIn> PolicyFromObject(const object& policy) {
  Meta m = MetaOf(policy);
  if (m.api_version == "networking.k8s.io/v1" && m.kind == "NetworkPolicy") return K8sPolicy(policy, m);
  if (m.api_version == kCalicoV3 || m.api_version.empty()) {
    if (m.kind == "GlobalNetworkPolicy") return CalicoPolicy(policy, m, false, false);
    if (m.kind == "NetworkPolicy") return CalicoPolicy(policy, m, true, false);
    if (m.kind == "StagedGlobalNetworkPolicy") return CalicoPolicy(policy, m, false, true);
    if (m.kind == "StagedNetworkPolicy") return CalicoPolicy(policy, m, true, true);
  }
  return Where(m.kind, m.ns, m.name).Unsupported("kind", "not a policy kind: " + m.api_version + " " + m.kind);
}

Result<Endpoint> EndpointFromPod(const object& pod, const Labels& namespace_labels) {
  Meta m = MetaOf(pod);
  Where where("Pod", m.ns, m.name);
  if (!m.kind.empty() && m.kind != "Pod") return where.Error("kind", "expected Pod, got " + m.kind);
  TW_RETURN_IF_ERROR(RequireName(m, where, true));
  Endpoint ep;
  ep.ns = m.ns;
  ep.name = m.name;
  TW_ASSIGN_OR_RETURN(ep.labels, LabelsOf(pod, where));
  if (const object* meta = GetObj(pod, "metadata"))
    if (const object* ann = GetObj(*meta, "annotations")) ep.iface = std::string(GetStr(*ann, kIfaceAnnotation).value_or(""));

  object empty;
  const object* spec = GetObj(pod, "spec");
  if (!spec) spec = &empty;
  std::string sa(GetStr(*spec, "serviceAccountName").value_or(""));
  if (sa.empty()) sa = std::string(GetStr(*spec, "serviceAccount").value_or(""));
  // Reserved labels win over pod labels of the same key, as in Calico.
  AddNamespaceLabels(m.ns, namespace_labels, ep.labels);
  ep.labels[std::string(kOrchestratorLabel)] = "k8s";
  if (!sa.empty()) {
    ep.labels[std::string(kServiceAccountLabel)] = sa;
    ep.labels[std::string(kServiceAccountPrefix) + std::string(kNameLabel)] = sa;
  }

  if (const object* status = GetObj(pod, "status")) {
    auto add_ip = [&](std::string_view text, const std::string& path) -> Status {
      auto ip = net::IpAddr::Parse(text);
      if (!ip.ok()) return where.Error(path, ip.error().message());
      if (std::find(ep.ips.begin(), ep.ips.end(), *ip) == ep.ips.end()) ep.ips.push_back(*ip);
      return Status::Ok();
    };
    if (auto ip = GetStr(*status, "podIP"); ip && !ip->empty()) TW_RETURN_IF_ERROR(add_ip(*ip, "status.podIP"));
    if (const array* ips = GetArr(*status, "podIPs"))
      for (size_t i = 0; i < ips->size(); ++i) {
        std::string path = Index("status.podIPs", i);
        if (!(*ips)[i].is_object()) return where.Error(path, "must be an object");
        auto ip = GetStr((*ips)[i].as_object(), "ip");
        if (!ip) return where.Error(Path(path, "ip"), "required");
        TW_RETURN_IF_ERROR(add_ip(*ip, Path(path, "ip")));
      }
  }

  if (const array* containers = GetArr(*spec, "containers"))
    for (size_t i = 0; i < containers->size(); ++i) {
      if (!(*containers)[i].is_object()) continue;
      const array* ports = GetArr((*containers)[i].as_object(), "ports");
      if (!ports) continue;
      for (size_t j = 0; j < ports->size(); ++j) {
        std::string path = Index(Path(Index("spec.containers", i), "ports"), j);
        if (!(*ports)[j].is_object()) return where.Error(path, "must be an object");
        const object& port = (*ports)[j].as_object();
        auto name = GetStr(port, "name");
        if (!name || name->empty()) continue;  // only named ports matter to policy
        NamedPort np;
        np.name = std::string(*name);
        const value* number = port.if_contains("containerPort");
        auto n = number ? AsInt(*number) : std::nullopt;
        if (!n || *n < 1 || *n > 65535) return where.Error(Path(path, "containerPort"), "must be between 1 and 65535");
        np.port = static_cast<uint16_t>(*n);
        if (const value* pr = port.if_contains("protocol"); pr && !pr->is_null()) {
          TW_ASSIGN_OR_RETURN(np.protocol, ProtocolNumber(*pr, Path(path, "protocol"), where));
        }
        ep.ports.push_back(std::move(np));
      }
    }
  return ep;
}

Result<NetSet> NetSetFromObject(const object& set, const Labels& namespace_labels) {
  Meta m = MetaOf(set);
  bool namespaced = m.kind == "NetworkSet";
  Where where(m.kind, m.ns, m.name);
  if (!namespaced && m.kind != "GlobalNetworkSet")
    return where.Error("kind", "expected GlobalNetworkSet or NetworkSet, got " + m.kind);
  TW_RETURN_IF_ERROR(RequireName(m, where, namespaced));
  NetSet out;
  out.name = m.name;
  if (namespaced) out.ns = m.ns;
  TW_ASSIGN_OR_RETURN(out.labels, LabelsOf(set, where));
  if (namespaced) AddNamespaceLabels(m.ns, namespace_labels, out.labels);
  net::CidrSet::Builder builder;
  if (const object* spec = GetObj(set, "spec"))
    if (const array* nets = GetArr(*spec, "nets"))
      for (const value& n : *nets)
        // Calico skips entries that slipped past validation (§3).
        if (n.is_string()) builder.AddText(n.as_string());
  out.nets = builder.Build();
  return out;
}

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow: return "Allow";
    case Action::kDeny: return "Deny";
    case Action::kPass: return "Pass";
    case Action::kLog: return "Log";
  }
  return "?";
}

}  // namespace tw::policy
