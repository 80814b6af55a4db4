// Compile: inputs -> Program (ir.h).  Deterministic: the same inputs give
// the same Program (set ids by first use in sorted policy order).  Pure.
#ifndef TW_POLICY_COMPILE_H_
#define TW_POLICY_COMPILE_H_

#include "policy/inputs.h"
#include "policy/ir.h"

namespace tw::policy {

// Tier order: (order asc, nullopt last, name asc); policies within a tier by
// (order asc, nullopt last, key asc), a staged policy just before its
// enforced twin.  A policy applies to an endpoint when applies_to matches
// the endpoint's labels; it governs a direction when that type is set.
//
// Details the IR leaves open, as implemented:
// - The tier `default` (order 1e6, Deny at end) exists even when `inputs`
//   lacks it.  Policies of a tier not in `inputs` are left out (not
//   enforced); with two tiers of one name the first in tier order counts.
// - Endpoints with an empty `iface` are left out of Program::endpoints (the
//   kernel has nothing to enforce on) but still count as set members.
// - Set members: the IPs (/32, /128) of every endpoint and the nets of
//   every NetSet whose labels the selector matches, merged.
// - Named ports: the (ip, protocol, port) of every endpoint that the same
//   side's `selector` matches (every endpoint when the side has none; for
//   ingress that includes the protected one), whose named port has that
//   name and, when the rule has a protocol, that protocol.  Sorted.
//   A named notPort becomes the numeric not_ports of those endpoints (the
//   IR has no named not-ports): narrower than Calico, never wider.
// - A rule without ipVersion whose nets/notNets are all of one family gets
//   that ipVersion (Calico renders it for that family only).
// - Rule::nflog_prefix per nflog.h (empty for Log rules).
Program Compile(const Inputs& inputs);

}  // namespace tw::policy

#endif  // TW_POLICY_COMPILE_H_
