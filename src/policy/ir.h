// The compiled policy program (IR): what the kernel enforces and what
// `explain` walks -- one structure for both, so they cannot disagree.
// Pure data; built by Compile() (compile.h), rendered by nft/, evaluated by
// Evaluate() (eval.h).  See docs/dataplane.md.
#ifndef TW_POLICY_IR_H_
#define TW_POLICY_IR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/cidr_set.h"
#include "policy/inputs.h"

namespace tw::policy {

using SetId = uint32_t;

// The addresses a rule selector matches: every IP of the endpoints and
// every net of the network sets it selects (merged).  Sets are shared by
// all rules with the same canonical selector text.
struct IpSet {
  SetId id = 0;
  std::string selector;  // canonical text (Selector::String())
  net::CidrSet members;
};

// A named port resolved: the (address, protocol, port) triples of the
// endpoints that selectors of the rule match.
struct PortSetMember {
  net::IpAddr ip;
  uint8_t protocol = 6;
  uint16_t port = 0;
};

// All present fields must hold (AND).  Within a list, any element (OR).
// not_* lists: no element may match.  An empty list / set is "no
// constraint" unless the matching *_present flag says the rule had the
// field (a selector that matches nothing gives an empty set that matches
// nothing).
struct Match {
  std::optional<uint8_t> ip_version;
  std::optional<uint8_t> protocol, not_protocol;
  std::optional<IcmpMatch> icmp, not_icmp;
  struct Side {
    std::optional<SetId> set;              // selector (scoped)
    std::optional<SetId> not_set;          // notSelector
    std::optional<net::CidrSet> nets;      // nets (present = constraint)
    std::optional<net::CidrSet> not_nets;
    std::vector<PortRange> ports;          // numeric ports and ranges
    std::vector<PortSetMember> named_ports;  // resolved named ports
    bool ports_present = false;            // the rule had ports (numeric or named)
    std::vector<PortRange> not_ports;
  } src, dst;
};

struct Rule {
  Match match;
  Action action = Action::kAllow;
  uint16_t index = 0;        // position in the policy's rule list (for logs)
  std::string nflog_prefix;  // Calico's encoding (§7), ≤ 63 bytes
};

// One policy in one direction.
struct Policy {
  std::string key;  // PolicyIn::key
  std::string tier;
  bool staged = false;
  Direction direction = Direction::kIngress;
  std::vector<Rule> rules;
};

// One tier as it applies to one endpoint in one direction: the applicable
// policies in evaluation order (indexes into Program::policies), and
// whether falling off the end denies (§4.4 step 5: the tier has an enforced
// applicable policy and does not pass at end).
struct TierStep {
  std::string tier;
  std::vector<uint32_t> policies;
  bool end_of_tier_deny = false;
  std::string end_of_tier_prefix;  // NFLOG prefix ("DPI|tier" / "PPE|tier")
};

struct EndpointProgram {
  std::string ns, name, iface;
  std::vector<net::IpAddr> ips;
  std::vector<TierStep> ingress, egress;  // tiers in order; empty = no policy applies
};

struct Program {
  std::vector<IpSet> sets;        // index == id
  std::vector<Policy> policies;
  std::map<std::string, EndpointProgram> endpoints;  // by iface
};

}  // namespace tw::policy

#endif  // TW_POLICY_IR_H_
