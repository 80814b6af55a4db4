// Evaluate one flow through a Program: the verdict and the path that led to
// it, for `threatwall explain` and for tests that compare with the kernel.
// Pure.
#ifndef TW_POLICY_EVAL_H_
#define TW_POLICY_EVAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/ip_addr.h"
#include "policy/ir.h"

namespace tw::policy {

struct Flow {
  net::IpAddr src, dst;
  uint8_t protocol = 6;
  uint16_t src_port = 0, dst_port = 0;  // TCP/UDP/SCTP
  std::optional<uint8_t> icmp_type, icmp_code;
};

// One step of the path.  A rule that matched: tier, policy, rule >= 0 and
// its action (Log steps continue; a staged policy's step has staged = true
// and never ends the walk).  Falling off a tier: policy empty, rule -1,
// action kDeny (end-of-tier deny, final) or kPass (on to the next tier).
// The namespace profile: tier and policy empty, action kAllow.
struct Step {
  Direction direction;
  std::string endpoint;  // "ns/name"
  std::string tier;      // empty for the profile step
  std::string policy;    // key; empty for end of tier / profile
  int rule = -1;         // rule index; -1 = end of tier (policy empty) or no rule matched
  Action action = Action::kAllow;  // what this step did (kLog: continued)
  bool staged = false;   // a staged policy's would-be verdict (never final)
  std::string what;      // one line for people: "rule 0: Deny", "end of tier: deny", "profile kns.default: allow"
};

struct Verdict {
  bool allowed = false;
  std::vector<Step> path;  // egress at the source endpoint first, then ingress at the destination
};

// Egress is evaluated when `flow.src` is an endpoint of the program,
// ingress when `flow.dst` is; traffic to or from elsewhere is only checked
// on the endpoint side(s).  An endpoint with no applicable tier allows
// (namespace profile).
Verdict Evaluate(const Program& program, const Flow& flow);

}  // namespace tw::policy

#endif  // TW_POLICY_EVAL_H_
