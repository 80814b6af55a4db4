// The kinds threatwall serves (DESIGN.md §4) and how users may name them.
//
// A KindInfo is static, immutable data: group/version/kind, REST names,
// aliases and scope.  Everything that needs to know "which kinds exist"
// (the API's discovery and routing, the CLI's alias resolution, the
// store's keys, admission) reads this one table.
#ifndef TW_MODEL_KINDS_H_
#define TW_MODEL_KINDS_H_

#include <string>
#include <string_view>
#include <vector>

namespace tw::model {

struct KindInfo {
  std::string_view group;      // "projectcalico.org", "networking.k8s.io", "" (core)
  std::string_view version;    // "v3", "v1"
  std::string_view kind;       // "GlobalThreatFeed"
  std::string_view plural;     // "globalthreatfeeds" (the REST resource name)
  std::string_view singular;   // "globalthreatfeed"
  std::vector<std::string_view> short_names;  // {"gtf"}
  bool namespaced = false;
  bool has_status = false;     // status is a subresource: writes via the main
                               // resource ignore it, only controllers set it

  // "projectcalico.org/v3", or "v1" for the core group.
  std::string ApiVersion() const;
  // "/apis/projectcalico.org/v3" or "/api/v1".
  std::string ApiPrefix() const;
  // Opaque, unique key of the kind in the datastore:
  // "projectcalico.org/GlobalThreatFeed", "core/Pod".
  std::string StoreKind() const;
  // "globalthreatfeeds.projectcalico.org", "pods" (kubectl's resource.group).
  std::string QualifiedPlural() const;
};

// Every served kind, in discovery order.  networking.k8s.io comes before
// projectcalico.org so that, as with kubectl on a Calico cluster, plain
// "networkpolicies" means the Kubernetes kind.
const std::vector<const KindInfo*>& AllKinds();

// By apiVersion ("projectcalico.org/v3", "v1") and kind; nullptr if not served.
const KindInfo* FindKind(std::string_view api_version, std::string_view kind);

// By the name a user types: plural, singular, short name or Kind
// (case-insensitive), optionally qualified with the group
// ("networkpolicies.projectcalico.org", "gnp.projectcalico.org",
// "networkpolicy.networking.k8s.io").  nullptr if unknown.
const KindInfo* ResolveKindAlias(std::string_view name);

// By group and REST plural (as found in a URL path); nullptr if not served.
const KindInfo* FindKindByResource(std::string_view group, std::string_view version,
                                   std::string_view plural);

// By StoreKind(); nullptr if unknown.
const KindInfo* FindKindByStoreKind(std::string_view store_kind);

}  // namespace tw::model

#endif  // TW_MODEL_KINDS_H_
