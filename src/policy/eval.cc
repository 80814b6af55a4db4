#include "policy/eval.h"

#include <algorithm>

namespace tw::policy {
namespace {

bool IsPortProtocol(uint8_t p) { return p == 6 || p == 17 || p == 132; }
bool IsIcmpProtocol(uint8_t p) { return p == 1 || p == 58; }

bool InRanges(const std::vector<PortRange>& ranges, uint16_t port) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const PortRange& r) { return r.first <= port && port <= r.last; });
}

bool SideMatches(const Program& prog, const Match::Side& s, const net::IpAddr& ip, uint16_t port,
                 uint8_t protocol) {
  // A set id the program does not have makes the rule match nothing (a
  // hand-built or damaged program must not crash explain).
  if (s.set && (*s.set >= prog.sets.size() || !prog.sets[*s.set].members.Contains(ip))) return false;
  if (s.not_set && (*s.not_set >= prog.sets.size() || prog.sets[*s.not_set].members.Contains(ip))) return false;
  if (s.nets && !s.nets->Contains(ip)) return false;
  if (s.not_nets && s.not_nets->Contains(ip)) return false;
  if (s.ports_present) {
    if (!IsPortProtocol(protocol)) return false;
    bool hit = InRanges(s.ports, port) ||
               std::any_of(s.named_ports.begin(), s.named_ports.end(), [&](const PortSetMember& m) {
                 return m.ip == ip && m.protocol == protocol && m.port == port;
               });
    if (!hit) return false;
  }
  if (!s.not_ports.empty() && IsPortProtocol(protocol) && InRanges(s.not_ports, port)) return false;
  return true;
}

bool IcmpMatches(const IcmpMatch& m, const Flow& f) {
  if (!IsIcmpProtocol(f.protocol)) return false;
  if (m.type && f.icmp_type != m.type) return false;
  if (m.code && f.icmp_code != m.code) return false;
  return true;
}

bool RuleMatches(const Program& prog, const Match& m, const Flow& f) {
  if (m.ip_version && *m.ip_version != (f.src.is_v4() ? 4 : 6)) return false;
  if (m.protocol && *m.protocol != f.protocol) return false;
  if (m.not_protocol && *m.not_protocol == f.protocol) return false;
  if (m.icmp && !IcmpMatches(*m.icmp, f)) return false;
  if (m.not_icmp && IcmpMatches(*m.not_icmp, f)) return false;
  return SideMatches(prog, m.src, f.src, f.src_port, f.protocol) &&
         SideMatches(prog, m.dst, f.dst, f.dst_port, f.protocol);
}

const EndpointProgram* FindEndpoint(const Program& prog, const net::IpAddr& ip) {
  for (const auto& [iface, ep] : prog.endpoints) {
    if (std::find(ep.ips.begin(), ep.ips.end(), ip) != ep.ips.end()) return &ep;
  }
  return nullptr;
}

// Walks one endpoint's tiers for one direction (§4.4); appends to `path`
// and returns whether the flow may continue.
bool EvaluateDirection(const Program& prog, const EndpointProgram& ep, Direction d, const Flow& f,
                       std::vector<Step>* path) {
  std::string who = ep.ns + "/" + ep.name;
  auto add = [&](std::string tier, std::string policy, int rule, Action action, bool staged, std::string what) {
    path->push_back(Step{d, who, std::move(tier), std::move(policy), rule, action, staged, std::move(what)});
  };
  const std::vector<TierStep>& steps = d == Direction::kIngress ? ep.ingress : ep.egress;
  for (const TierStep& step : steps) {
    bool passed = false;
    for (uint32_t pi : step.policies) {
      if (pi >= prog.policies.size()) continue;
      const Policy& pol = prog.policies[pi];
      for (const Rule& rule : pol.rules) {
        if (!RuleMatches(prog, rule.match, f)) continue;
        std::string what = (pol.staged ? "staged rule " : "rule ") + std::to_string(rule.index) + ": " +
                           std::string(ActionName(rule.action));
        add(step.tier, pol.key, rule.index, rule.action, pol.staged, what);
        if (rule.action == Action::kLog) continue;
        // A staged policy's verdict is only recorded: its evaluation ends,
        // the enforced ones go on.
        if (pol.staged) break;
        if (rule.action == Action::kAllow) return true;
        if (rule.action == Action::kDeny) return false;
        passed = true;  // Pass: skip the rest of this tier
        break;
      }
      if (passed) break;
    }
    if (passed) continue;
    if (step.end_of_tier_deny) {
      add(step.tier, "", -1, Action::kDeny, false, "end of tier " + step.tier + ": deny");
      return false;
    }
    add(step.tier, "", -1, Action::kPass, false, "end of tier " + step.tier + ": pass");
  }
  add("", "", -1, Action::kAllow, false, "profile kns." + ep.ns + ": allow");
  return true;
}

}  // namespace

Verdict Evaluate(const Program& program, const Flow& flow) {
  Verdict v;
  v.allowed = true;
  if (const EndpointProgram* src = FindEndpoint(program, flow.src)) {
    v.allowed = EvaluateDirection(program, *src, Direction::kEgress, flow, &v.path);
    if (!v.allowed) return v;
  }
  if (const EndpointProgram* dst = FindEndpoint(program, flow.dst)) {
    v.allowed = EvaluateDirection(program, *dst, Direction::kIngress, flow, &v.path);
  }
  return v;
}

}  // namespace tw::policy
