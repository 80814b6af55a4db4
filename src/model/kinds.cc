#include "model/kinds.h"

#include "base/strings.h"

namespace tw::model {
namespace {

constexpr std::string_view kCalico = "projectcalico.org";
constexpr std::string_view kNetworking = "networking.k8s.io";

const std::vector<const KindInfo*>& Table() {
  // Short names follow kubectl for Kubernetes kinds and Calico's API server
  // / calicoctl for Calico kinds.
  static const KindInfo kKinds[] = {
      KindInfo{"", "v1", "Namespace", "namespaces", "namespace", {"ns"}, false, true},
      KindInfo{"", "v1", "Pod", "pods", "pod", {"po"}, true, true},
      KindInfo{"", "v1", "Secret", "secrets", "secret", {}, true, false},
      KindInfo{"", "v1", "ConfigMap", "configmaps", "configmap", {"cm"}, true, false},
      KindInfo{kNetworking, "v1", "NetworkPolicy", "networkpolicies", "networkpolicy",
                   {"netpol"}, true, false},
      KindInfo{kCalico, "v3", "GlobalThreatFeed", "globalthreatfeeds", "globalthreatfeed",
                   {"gtf"}, false, true},
      KindInfo{kCalico, "v3", "GlobalNetworkSet", "globalnetworksets", "globalnetworkset",
                   {"gns"}, false, false},
      KindInfo{kCalico, "v3", "NetworkSet", "networksets", "networkset",
                   {"netset", "netsets"}, true, false},
      KindInfo{kCalico, "v3", "Tier", "tiers", "tier", {}, false, false},
      KindInfo{kCalico, "v3", "GlobalNetworkPolicy", "globalnetworkpolicies",
                   "globalnetworkpolicy", {"gnp", "cgnp", "calicoglobalnetworkpolicies"}, false, false},
      KindInfo{kCalico, "v3", "NetworkPolicy", "networkpolicies", "networkpolicy",
                   {"cnp", "caliconetworkpolicy", "caliconetworkpolicies"}, true, false},
      KindInfo{kCalico, "v3", "StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies",
                   "stagedglobalnetworkpolicy", {"sgnp"}, false, false},
      KindInfo{kCalico, "v3", "IPPool", "ippools", "ippool", {"ipp"}, false, false},
      KindInfo{kCalico, "v3", "SecurityEventWebhook", "securityeventwebhooks",
                   "securityeventwebhook", {}, false, false},
  };
  static const std::vector<const KindInfo*> kinds = [] {
    std::vector<const KindInfo*> v;
    for (const KindInfo& k : kKinds) v.push_back(&k);
    return v;
  }();
  return kinds;
}

bool MatchesName(const KindInfo& k, std::string_view name) {
  if (EqualsIgnoreCase(name, k.plural) || EqualsIgnoreCase(name, k.singular) ||
      EqualsIgnoreCase(name, k.kind))
    return true;
  for (auto s : k.short_names)
    if (EqualsIgnoreCase(name, s)) return true;
  return false;
}

}  // namespace

std::string KindInfo::ApiVersion() const {
  return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
}

std::string KindInfo::ApiPrefix() const {
  return group.empty() ? "/api/" + std::string(version) : "/apis/" + ApiVersion();
}

std::string KindInfo::StoreKind() const {
  return (group.empty() ? std::string("core") : std::string(group)) + "/" + std::string(kind);
}

std::string KindInfo::QualifiedPlural() const {
  return group.empty() ? std::string(plural) : std::string(plural) + "." + std::string(group);
}

const std::vector<const KindInfo*>& AllKinds() { return Table(); }

const KindInfo* FindKind(std::string_view api_version, std::string_view kind) {
  for (const KindInfo* k : Table())
    if (k->ApiVersion() == api_version && k->kind == kind) return k;
  return nullptr;
}

const KindInfo* ResolveKindAlias(std::string_view name) {
  // Unqualified: first match in discovery order.
  for (const KindInfo* k : Table())
    if (MatchesName(*k, name)) return k;
  // "resource.group", possibly "resource.version.group".
  for (const KindInfo* k : Table()) {
    if (k->group.empty()) continue;
    std::string suffix = "." + std::string(k->group);
    if (name.size() <= suffix.size() || !EqualsIgnoreCase(name.substr(name.size() - suffix.size()), suffix))
      continue;
    std::string_view head = name.substr(0, name.size() - suffix.size());
    std::string vsuffix = "." + std::string(k->version);
    if (head.size() > vsuffix.size() && EqualsIgnoreCase(head.substr(head.size() - vsuffix.size()), vsuffix))
      head = head.substr(0, head.size() - vsuffix.size());
    if (MatchesName(*k, head)) return k;
  }
  return nullptr;
}

const KindInfo* FindKindByResource(std::string_view group, std::string_view version,
                                   std::string_view plural) {
  for (const KindInfo* k : Table())
    if (k->group == group && k->version == version && k->plural == plural) return k;
  return nullptr;
}

const KindInfo* FindKindByStoreKind(std::string_view store_kind) {
  for (const KindInfo* k : Table())
    if (k->StoreKind() == store_kind) return k;
  return nullptr;
}

}  // namespace tw::model
