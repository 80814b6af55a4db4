#include "flowlog/flow_context.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "net/matcher.h"
#include "policy/nflog.h"

namespace tw::flowlog {
namespace {

using policy::Action;
using policy::Direction;

constexpr std::string_view kProfileTier = "__PROFILE__";
constexpr std::string_view kNoMatch = "__NO_MATCH__";

size_t DirIndex(Direction d) { return d == Direction::kIngress ? 0 : 1; }

std::string ActionText(Action a) {
  switch (a) {
    case Action::kAllow: return "allow";
    case Action::kDeny: return "deny";
    case Action::kPass: return "pass";
    case Action::kLog: break;
  }
  return "log";
}

bool ReservedLabel(std::string_view key) {
  return key.starts_with("projectcalico.org/") || key.starts_with("pcns.") || key.starts_with("pcsa.");
}

std::vector<std::string> SetLabels(const selector::Labels& labels) {
  std::vector<std::string> out;
  for (const auto& [k, v] : labels) {
    if (!ReservedLabel(k)) out.push_back(k + "=" + v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Prefix length of the CIDR (of `set`'s minimal decomposition) holding
// `addr`, or -1 when `set` does not contain it.
int ContainingPrefixLen(const net::CidrSet& set, const net::IpAddr& addr) {
  const std::optional<net::Cidr> cidr = set.CoveringCidr(addr);
  return cidr ? cidr->prefix_len() : -1;
}

PolicyHit Hit(std::string tier, std::string name, std::string action, int rule, bool staged) {
  return PolicyHit{std::move(tier), std::move(name), std::move(action), rule, staged, true};
}

PolicyHit NoProfileHit() { return Hit(std::string(kProfileTier), std::string(kNoMatch), "deny", -1, false); }

PolicyHit ProfileHit(std::string_view profile, Action action, int index) {
  return Hit(std::string(kProfileTier), std::string(kProfileTier) + "." + std::string(profile), ActionText(action),
             index, false);
}

}  // namespace

size_t IpAddrHash::operator()(const net::IpAddr& a) const noexcept {
  const net::Uint128 b = a.bits();
  uint64_t h = static_cast<uint64_t>(b) ^ (static_cast<uint64_t>(b >> 64) * 0x9e3779b97f4a7c15ull);
  h ^= static_cast<uint64_t>(a.family());
  h *= 0xff51afd7ed558ccdull;
  return static_cast<size_t>(h ^ (h >> 33));
}

std::string TierOfPolicyKey(std::string_view key) {
  if (size_t slash = key.find('/'); slash != std::string_view::npos) key.remove_prefix(slash + 1);
  if (key.starts_with("staged:")) key.remove_prefix(7);
  if (key.starts_with("knp.")) return "default";
  size_t dot = key.find('.');
  return dot == std::string_view::npos ? std::string() : std::string(key.substr(0, dot));
}

std::string_view PrivateOrPublic(const net::IpAddr& addr) {
  if (addr.is_v4()) {
    const uint32_t a = addr.v4();
    const bool pvt = (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168);
    return pvt ? "pvt" : "pub";
  }
  return (addr.bits() >> 121) == (0xfc >> 1) ? "pvt" : "pub";
}

PolicyHit DecodePolicyHit(std::string_view prefix) {
  auto parsed = policy::ParseNflogPrefix(prefix);
  if (!parsed.has_value() || parsed->hashed) {
    return PolicyHit{"__UNKNOWN__", std::string(kNoMatch), "deny", -2, false, false};
  }
  const policy::ParsedNflogPrefix& p = *parsed;
  if (p.profile) {
    if (p.name.empty()) return NoProfileHit();
    return ProfileHit(p.name, p.action, p.index ? static_cast<int>(*p.index) : -1);
  }
  if (p.index) {
    const bool staged = p.name.find("staged:") != std::string::npos;
    return Hit(TierOfPolicyKey(p.name), p.name, ActionText(p.action), static_cast<int>(*p.index), staged);
  }
  // "DP<D>|name": a staged policy's no-match, or an end of tier.
  if (p.name.find("staged:") != std::string::npos) {
    return Hit(TierOfPolicyKey(p.name), p.name, "deny", -1, true);
  }
  return Hit(p.name, std::string(kNoMatch), ActionText(p.action), -1, false);
}

std::shared_ptr<const FlowContext> FlowContext::Build(std::shared_ptr<const policy::Program> program,
                                                      std::vector<PodInfo> pods,
                                                      std::vector<policy::NetSet> netsets) {
  std::shared_ptr<FlowContext> ctx(new FlowContext());
  ctx->program_ = std::move(program);

  ctx->pods_.reserve(pods.size());
  for (PodInfo& pod : pods) {
    EndpointInfo info;
    info.type = "wep";
    info.name_aggr = pod.generate_name.empty() ? pod.name : pod.generate_name + "*";
    info.name = std::move(pod.name);
    info.ns = std::move(pod.ns);
    info.labels = std::move(pod.labels);
    const uint32_t index = static_cast<uint32_t>(ctx->pods_.size());
    for (const net::IpAddr& ip : pod.ips) ctx->pod_by_ip_.emplace(ip, index);
    ctx->AddProfile(info.ns);
    ctx->pods_.push_back(std::make_shared<const EndpointInfo>(std::move(info)));
  }

  std::stable_sort(netsets.begin(), netsets.end(), [](const policy::NetSet& a, const policy::NetSet& b) {
    if (a.ns.empty() != b.ns.empty()) return !a.ns.empty();
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  ctx->sets_.reserve(netsets.size());
  for (policy::NetSet& set : netsets) {
    SetEntry e;
    e.namespaced = !set.ns.empty();
    EndpointInfo info;
    info.type = "ns";
    info.name = set.name;
    info.name_aggr = std::move(set.name);
    info.ns = e.namespaced ? std::move(set.ns) : std::string("-");
    info.labels = SetLabels(set.labels);
    e.info = std::make_shared<const EndpointInfo>(std::move(info));
    e.nets = std::move(set.nets);
    if (e.namespaced) ++ctx->namespaced_sets_;
    ctx->sets_.push_back(std::move(e));
  }

  ctx->IndexProgram();
  return ctx;
}

void FlowContext::AddProfile(const std::string& ns) {
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    std::string prefix = policy::ProfileNflogPrefix(Action::kAllow, d, 0, "kns." + ns);
    if (global_hits_.contains(prefix)) continue;
    global_hits_.emplace(std::move(prefix), ProfileHit("kns." + ns, Action::kAllow, 0));
  }
}

void FlowContext::IndexProgram() {
  for (Direction d : {Direction::kIngress, Direction::kEgress}) {
    global_hits_.emplace(policy::NoProfileNflogPrefix(d), NoProfileHit());
  }
  if (program_ == nullptr) return;
  const policy::Program& prog = *program_;
  for (const policy::Policy& pol : prog.policies) {
    for (const policy::Rule& rule : pol.rules) {
      if (rule.nflog_prefix.empty() || rule.action == Action::kLog) continue;
      global_hits_.emplace(rule.nflog_prefix,
                           Hit(pol.tier, pol.key, ActionText(rule.action), rule.index, pol.staged));
    }
    if (pol.staged) {
      global_hits_.emplace(policy::StagedNoMatchNflogPrefix(pol.direction, pol.key),
                           Hit(pol.tier, pol.key, "deny", -1, true));
    }
  }
  for (const auto& [iface, ep] : prog.endpoints) {
    AddProfile(ep.ns);
    EndpointHits& hits = endpoint_hits_[iface];
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const std::vector<policy::TierStep>& steps = d == Direction::kIngress ? ep.ingress : ep.egress;
      for (const policy::TierStep& step : steps) {
        // §6.1: the last enforced policy of the step; a staged-only step
        // names its last policy.
        const policy::Policy* named = nullptr;
        for (uint32_t index : step.policies) {
          if (index >= prog.policies.size()) continue;
          const policy::Policy& pol = prog.policies[index];
          if (!pol.staged || named == nullptr || named->staged) named = &pol;
        }
        std::string prefix = step.end_of_tier_prefix.empty()
                                 ? policy::EndOfTierNflogPrefix(true, d, step.tier)
                                 : step.end_of_tier_prefix;
        PolicyHit hit = named == nullptr
                            ? Hit(step.tier, std::string(kNoMatch), "deny", -1, false)
                            : Hit(step.tier, named->key, "deny", -1, named->staged);
        hit.action = step.end_of_tier_deny ? "deny" : "pass";
        hits.by_direction[DirIndex(d)].insert_or_assign(std::move(prefix), std::move(hit));
      }
    }
  }
}

const std::shared_ptr<const EndpointInfo>* FlowContext::FindSet(const net::IpAddr& addr) const {
  // Namespaced sets occupy [0, namespaced_sets_), global ones the rest;
  // the first group with a containing set wins, then the longest prefix.
  auto best_in = [&](size_t begin, size_t end) -> const std::shared_ptr<const EndpointInfo>* {
    const std::shared_ptr<const EndpointInfo>* best = nullptr;
    int best_len = -1;
    for (size_t i = begin; i < end; ++i) {
      const int len = ContainingPrefixLen(sets_[i].nets, addr);
      if (len > best_len) {
        best_len = len;
        best = &sets_[i].info;
      }
    }
    return best;
  };
  if (const auto* e = best_in(0, namespaced_sets_)) return e;
  return best_in(namespaced_sets_, sets_.size());
}

const std::shared_ptr<const EndpointInfo>& PlainAddressInfo(const net::IpAddr& addr) {
  using Info = std::shared_ptr<const EndpointInfo>;
  static const Info* const kPvt = new Info(new EndpointInfo{"net", "-", "pvt", "-", {}});
  static const Info* const kPub = new Info(new EndpointInfo{"net", "-", "pub", "-", {}});
  return PrivateOrPublic(addr) == "pvt" ? *kPvt : *kPub;
}

const std::shared_ptr<const EndpointInfo>& FlowContext::FindShared(const net::IpAddr& addr) const {
  if (auto it = pod_by_ip_.find(addr); it != pod_by_ip_.end()) return pods_[it->second];
  if (const auto* set = FindSet(addr)) return *set;
  return PlainAddressInfo(addr);
}

const PolicyHit* FlowContext::FindHit(std::string_view iface, Direction direction, std::string_view prefix) const {
  if (auto ep = endpoint_hits_.find(iface); ep != endpoint_hits_.end()) {
    const HitMap& m = ep->second.by_direction[DirIndex(direction)];
    if (auto it = m.find(prefix); it != m.end()) return &it->second;
  }
  if (auto it = global_hits_.find(prefix); it != global_hits_.end()) return &it->second;
  return nullptr;
}

PolicyHit FlowContext::ResolveHit(std::string_view iface, Direction direction, std::string_view prefix) const {
  if (const PolicyHit* hit = FindHit(iface, direction, prefix)) return *hit;
  return DecodePolicyHit(prefix);
}

}  // namespace tw::flowlog
