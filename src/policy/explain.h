// Explain: answers "would this flow be allowed, and why?" for people
// (`threatwall explain`) and for the API (GET /threatwall/v1/explain).
// Resolves a query naming pods or addresses into a Flow, runs it through
// Evaluate() (eval.h) on the same Program the kernel enforces, and renders
// the verdict with its path as JSON and as text.  Pure: no I/O.
#ifndef TW_POLICY_EXPLAIN_H_
#define TW_POLICY_EXPLAIN_H_

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/eval.h"
#include "policy/ir.h"

namespace tw::policy {

// What to explain.  `from` / `to`: a pod name (looked up in `*_ns`), a pod
// as "NS/NAME", or an IP address (v4 or v6; an address of a pod counts as
// that pod).  `protocol`: TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 (any case)
// or a number 1-255.  `port` is the destination port: required for TCP,
// UDP, SCTP and UDPLite, refused for other protocols.  `icmp_type` /
// `icmp_code` only with ICMP or ICMPv6, and a code needs a type.  The
// source port is always 0 (no rule we compile is worth asking about by
// source port).
struct ExplainQuery {
  std::string from, to;
  std::string from_ns = "default", to_ns = "default";
  std::optional<uint16_t> port;
  std::string protocol = "TCP";
  std::optional<uint8_t> icmp_type, icmp_code;
};

struct ExplainResult {
  Flow flow;                   // what was evaluated
  std::string from_endpoint;   // "ns/name" of the source pod; "" = outside the cluster
  std::string to_endpoint;     // same for the destination
  Verdict verdict;
};

// Resolves `q` against `program.endpoints` and evaluates the flow.  When a
// pod has several addresses, the family both sides have is used (IPv4
// first).  Errors name the argument, e.g.
//   InvalidArgument "--from: required (a pod name, NS/NAME or an IP address)"
//   NotFound        "--from web: no pod default/web"
//   Unavailable     "--to db: pod default/db has no IP yet"   (retry later;
//                   base/status.h has no FailedPrecondition)
//   InvalidArgument "--from web: pod default/web has no IPv6 address (--to 2001:db8::1 is IPv6)"
//   InvalidArgument "--protocol XYZ: must be TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or 1-255"
//   InvalidArgument "--port: required for protocol TCP (the destination port)"
Result<ExplainResult> Explain(const Program& program, const ExplainQuery& q);

// IANA protocol number for a name or number as ExplainQuery takes it
// ("tcp" -> 6); InvalidArgument naming --protocol otherwise.
Result<uint8_t> ParseExplainProtocol(std::string_view text);
// "TCP", "UDP", "SCTP", "UDPLite", "ICMP", "ICMPv6", else the number.
std::string ProtocolName(uint8_t protocol);

// JSON form, stable field names (what GET /threatwall/v1/explain answers):
//   {"apiVersion": "threatwall.io/v1", "kind": "Explanation",
//    "from": "default/web",              // "" = outside the cluster
//    "to": "",
//    "flow": {"protocol": "TCP",         // ProtocolName()
//             "srcIP": "10.244.0.2", "dstIP": "5.196.58.96",
//             "srcPort": 0, "dstPort": 443,
//             "icmpType": 8, "icmpCode": 0},   // only when set
//    "allowed": false,
//    "verdict": "deny",                  // "allow" | "deny" (same as allowed)
//    "path": [{"direction": "egress",    // "ingress" | "egress"
//              "endpoint": "default/web",
//              "tier": "security",       // "" for the profile step
//              "policy": "security.block-snort",  // "" for end of tier / profile
//              "rule": 0,                // -1 for end of tier / profile
//              "action": "Deny",         // Allow | Deny | Pass | Log
//              "staged": false,
//              "what": "rule 0: Deny"}]}
// Fields may be added later; readers ignore the ones they do not know.
boost::json::value ExplainToJson(const ExplainResult& result);
// The inverse of ExplainToJson (the CLI reads the API's answer with it).
// InvalidArgument naming the field on a missing or mistyped field.
Result<ExplainResult> ExplainFromJson(const boost::json::value& value);

// Text for people, kubectl-like (no colours), e.g.
//   FROM     default/tf-ubuntu (10.244.0.2)
//   TO       5.196.58.96 (outside the cluster)
//   FLOW     TCP 10.244.0.2 -> 5.196.58.96:443
//
//   egress at default/tf-ubuntu
//     tier security   policy security.block-snort   rule 0 (Deny)   -> deny
//
//   VERDICT  deny (egress, security.block-snort rule 0)
// One section per direction checked (egress at the source pod, ingress at
// the destination pod); Log steps "-> log, continue", staged steps
// "(staged, does not enforce)", end of tier, the namespace profile, and a
// note when a direction was not reached or no pod is involved.  Ends with
// a newline.
std::string RenderExplain(const ExplainResult& result);

}  // namespace tw::policy

#endif  // TW_POLICY_EXPLAIN_H_
