// FlowContext: what flow logs need to know about the cluster at one moment,
// as one immutable snapshot -- who an address is (pod, network set, or a
// plain private / public address) and which tier, policy and rule an NFLOG
// prefix stands for.  Built once per change of pods, sets or policy (the
// agent swaps in a new snapshot; FlowAggregator::SetContext), then shared
// read-only: a const FlowContext may be used by many threads.
//
// Lookup (calico-semantics.md §6.1, source_* / dest_* fields):
//   1. a pod holding the address (any of PodInfo::ips): type "wep", name,
//      name_aggr = generate_name + "*" when the pod has one, else the name,
//      ns, the pod's labels;
//   2. a network set containing it: type "ns", name = the set's name,
//      name_aggr = the name, ns = the NetworkSet's namespace or "-" for a
//      GlobalNetworkSet, labels = the set's own labels without the reserved
//      keys (projectcalico.org/*, pcns.*, pcsa.*), "k=v" sorted.  When
//      several sets contain it: a namespaced NetworkSet before any
//      GlobalNetworkSet; within that, the one whose containing net is the
//      smallest (the CIDR of the set's minimal decomposition that holds the
//      address: sets are merged CidrSets, the original entries are gone);
//      then by (namespace, name).  Each set is searched with a binary
//      search over its ranges: a threat-feed set of a million entries costs
//      ~20 comparisons, and no per-entry data is built;
//   3. else type "net", name "-", ns "-", name_aggr "pvt" for 10/8,
//      172.16/12, 192.168/16 and fc00::/7, else "pub".
//
// ResolveHit: an NFLOG prefix (policy/nflog.h) read on an endpoint's
// interface, as the hit `<idx>|<tier>|<name>|<action>|<rule>` names it:
//   rule hit "APE0|security.x" -> the policy's tier, its key (Policy::key:
//       "security.x", "ns/tier.x", "ns/knp.default.x", "staged:tier.x"),
//       the rule's action and index; staged = the policy is staged;
//   end of tier "DP<D>|tier" / "PP<D>|tier" (TierStep::end_of_tier_prefix,
//       or "DP<D>|tier" when empty) on that endpoint and direction -> the
//       tier, the LAST ENFORCED (non-staged) policy of that tier step
//       (calico-semantics.md §6.1; a step with only staged policies names
//       its last policy, staged), rule -1, action deny or pass;
//   staged no-match "DP<D>|staged:..." -> that staged policy, deny, -1;
//   profile "AR<D>0|kns.<ns>" -> tier "__PROFILE__", name
//       "__PROFILE__.kns.<ns>", allow, 0;
//   no profile "DR<D>" -> tier "__PROFILE__", name "__NO_MATCH__", deny, -1.
// Every prefix the program can produce is precomputed at Build, shortened
// (hashed) forms included, so a lookup is one or two hash-map probes.  A
// prefix the snapshot does not know (a program change racing the log) is
// decoded by ParseNflogPrefix: a rule hit gives tier = the key's tier part,
// name = the key, the parsed action and index; an end of tier gives name
// "__NO_MATCH__", rule -1; a profile hit "__PROFILE__.<name>".  A prefix
// that does not parse (or a hashed one not in the program) gives tier
// "__UNKNOWN__", name "__NO_MATCH__", action "deny", rule -2, known = false.
#ifndef TW_FLOWLOG_FLOW_CONTEXT_H_
#define TW_FLOWLOG_FLOW_CONTEXT_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowlog/flow_types.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "policy/inputs.h"
#include "policy/ir.h"

namespace tw::flowlog {

// One entry of a flow's policy trace.
struct PolicyHit {
  std::string tier;
  std::string name;    // Calico's policyName (see the file comment)
  std::string action;  // "allow" | "deny" | "pass"
  int rule_index = -2;  // rule index; -1 end of tier / no match; -2 unknown
  bool staged = false;
  // False only for a prefix that could not be decoded at all.
  bool known = true;
  friend bool operator==(const PolicyHit&, const PolicyHit&) = default;
};

// Hash of an address for unordered containers.
struct IpAddrHash {
  size_t operator()(const net::IpAddr& a) const noexcept;
};

class FlowContext {
 public:
  // Builds the snapshot.  `program` may be null (no policy: every prefix
  // falls back to parsing).  Pods with an address another pod already
  // claimed lose it (first in `pods` order wins).  Never fails.
  static std::shared_ptr<const FlowContext> Build(std::shared_ptr<const policy::Program> program,
                                                  std::vector<PodInfo> pods,
                                                  std::vector<policy::NetSet> netsets);

  // Who `addr` is (see the file comment).
  EndpointInfo Lookup(const net::IpAddr& addr) const { return Find(addr); }
  // The same without a copy: a reference into the snapshot (or to a static
  // "pvt"/"pub" entry), valid while the snapshot lives.
  const EndpointInfo& Find(const net::IpAddr& addr) const { return *FindShared(addr); }
  // The same as a shared pointer: holders keep that one entry alive, not
  // the snapshot (flow aggregation keeps one per connection side).
  const std::shared_ptr<const EndpointInfo>& FindShared(const net::IpAddr& addr) const;

  // Which policy `prefix` names, read on `iface` in `direction`.
  PolicyHit ResolveHit(std::string_view iface, policy::Direction direction, std::string_view prefix) const;
  // The same without a copy: a pointer into the snapshot, or null when the
  // prefix is not precomputed (ResolveHit then decodes it).
  const PolicyHit* FindHit(std::string_view iface, policy::Direction direction, std::string_view prefix) const;


 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using HitMap = std::unordered_map<std::string, PolicyHit, StringHash, std::equal_to<>>;
  struct SetEntry {
    std::shared_ptr<const EndpointInfo> info;
    net::CidrSet nets;
    bool namespaced = false;
  };
  // End-of-tier hits of one endpoint, by direction (0 ingress, 1 egress).
  struct EndpointHits {
    std::array<HitMap, 2> by_direction;
  };

  FlowContext() = default;
  void IndexProgram();
  void AddProfile(const std::string& ns);
  const std::shared_ptr<const EndpointInfo>* FindSet(const net::IpAddr& addr) const;

  std::shared_ptr<const policy::Program> program_;
  std::vector<std::shared_ptr<const EndpointInfo>> pods_;
  std::unordered_map<net::IpAddr, uint32_t, IpAddrHash> pod_by_ip_;
  std::vector<SetEntry> sets_;  // namespaced first, then by (ns, name)
  size_t namespaced_sets_ = 0;
  HitMap global_hits_;          // rule, staged no-match, profile, no-profile prefixes
  std::unordered_map<std::string, EndpointHits, StringHash, std::equal_to<>> endpoint_hits_;
};

// Decodes `prefix` without a program (the fallback described in the file
// comment).  Exposed for tests and for readers without a snapshot.
PolicyHit DecodePolicyHit(std::string_view prefix);

// The tier part of a policy key: "security.x" -> "security",
// "ns/tier.x" -> "tier", "ns/knp.default.x" -> "default",
// "staged:tier.x" -> "tier"; "" when the key has no '.'.
std::string TierOfPolicyKey(std::string_view key);

// "pvt" for 10/8, 172.16/12, 192.168/16, fc00::/7; else "pub".
std::string_view PrivateOrPublic(const net::IpAddr& addr);
// The "net" endpoint of an address no pod or set holds (shared, immutable).
const std::shared_ptr<const EndpointInfo>& PlainAddressInfo(const net::IpAddr& addr);

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_FLOW_CONTEXT_H_
