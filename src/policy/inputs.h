// Policy inputs: the stored objects an agent sees, turned into what the
// policy compiler needs -- effective labels of endpoints and network sets,
// and policies with their effective (scoped) selectors, exactly as
// docs/calico-semantics.md §4.2-4.6 describe.  Pure: no I/O.  See
// docs/dataplane.md for where this sits.
#ifndef TW_POLICY_INPUTS_H_
#define TW_POLICY_INPUTS_H_

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "selector/selector.h"

namespace tw::policy {

enum class Direction { kIngress, kEgress };
enum class Action { kAllow, kDeny, kPass, kLog };
// "Allow", "Deny", "Pass", "Log" (Calico's spelling).
std::string_view ActionName(Action a);

struct NamedPort {
  std::string name;
  uint8_t protocol = 6;  // IANA number: 6 TCP, 17 UDP, 132 SCTP
  uint16_t port = 0;
};

// One pod.  `labels` are the effective labels selectors see: the pod's
// labels plus projectcalico.org/namespace=<ns>,
// projectcalico.org/orchestrator=k8s,
// projectcalico.org/serviceaccount=<sa> (when set), pcns.<k>=<v> for every
// label of its Namespace and pcns.projectcalico.org/name=<ns> (and
// pcsa.projectcalico.org/name=<sa> when set).  Reserved labels win over pod
// labels of the same key.
struct Endpoint {
  std::string ns, name;
  std::string iface;  // host-side interface in the node namespace
  std::vector<net::IpAddr> ips;
  selector::Labels labels;
  std::vector<NamedPort> ports;
};

// A GlobalNetworkSet (ns empty) or NetworkSet.  NetworkSet labels get
// projectcalico.org/namespace and the namespace's pcns.* labels.
struct NetSet {
  std::string ns, name;
  selector::Labels labels;
  net::CidrSet nets;
};

struct Tier {
  std::string name;
  std::optional<double> order;  // nullopt = +infinity (last)
  bool pass_at_end = false;     // spec.defaultAction: Pass
};

struct PortRange {
  uint16_t first = 0, last = 0;  // inclusive
  bool operator==(const PortRange&) const = default;
};

// A port as written in a rule: a number, a range, or a named port (resolved
// per destination endpoint by the compiler).
struct PortSpec {
  std::optional<PortRange> range;
  std::string name;  // named port when range is empty
};

struct IcmpMatch {
  std::optional<uint8_t> type, code;
};

// EntityRule with selectors already scoped (§4.5).  An absent selector
// means "no constraint"; `selector` matches endpoints and network sets.
struct EntityIn {
  std::optional<selector::Selector> selector;
  std::optional<selector::Selector> not_selector;  // never scoped
  std::vector<net::Cidr> nets, not_nets;
  std::vector<PortSpec> ports, not_ports;
};

struct RuleIn {
  Action action = Action::kAllow;
  std::optional<uint8_t> ip_version;          // 4 or 6
  std::optional<uint8_t> protocol, not_protocol;
  std::optional<IcmpMatch> icmp, not_icmp;
  EntityIn source, destination;
};

struct PolicyIn {
  std::string tier;
  // Calico's backend name, used for ordering ties, flow logs and explain:
  // "tier.name" (GNP), "ns/tier.name" (NP), "ns/knp.default.name" (k8s NP),
  // "staged:tier.name" / "ns/staged:tier.name" (staged).
  std::string key;
  std::optional<double> order;  // nullopt = +infinity
  bool staged = false;
  selector::Selector applies_to;  // effective: endpoints only
  bool ingress = false, egress = false;  // spec.types after defaulting
  std::vector<RuleIn> ingress_rules, egress_rules;
};

struct Inputs {
  std::vector<Tier> tiers;
  std::vector<PolicyIn> policies;
  std::vector<Endpoint> endpoints;
  std::vector<NetSet> netsets;
};

// Conversions from stored objects (the JSON the datastore keeps; see
// model/).  Errors name the object and the field; the caller skips the
// object (logged, shown in status) rather than failing the whole program.
Result<Tier> TierFromObject(const boost::json::object& tier);
// GlobalNetworkPolicy, NetworkPolicy (Calico), StagedGlobalNetworkPolicy
// (StagedNetworkPolicy too) and networking.k8s.io NetworkPolicy (->
// knp.default.<name>, tier default, order 1000; one Allow rule per peer and
// protocol, as Calico converts it).  A staged policy with stagedAction
// Delete governs no direction.  Rule `services` / `domains` are
// Unsupported errors; `http` is ignored.  Errors read
// "<Kind> [<ns>/]<name>: <field path>: <reason>".
Result<PolicyIn> PolicyFromObject(const boost::json::object& policy);
// `namespace_labels`: the labels of the pod's Namespace.  `iface` and `ips`
// come from the node (the Pod's status.podIP if present).
Result<Endpoint> EndpointFromPod(const boost::json::object& pod, const selector::Labels& namespace_labels);
// Entries of spec.nets that are not CIDRs or addresses are skipped (as
// Calico does for entries that slipped past validation).
Result<NetSet> NetSetFromObject(const boost::json::object& set, const selector::Labels& namespace_labels);

}  // namespace tw::policy

#endif  // TW_POLICY_INPUTS_H_
