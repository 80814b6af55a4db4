#include "policy/compile.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <tuple>
#include <utility>

#include "policy/nflog.h"

namespace tw::policy {
namespace {

// -1 / 0 / 1 for (order asc, nullopt = +infinity last).
// NaN counts as no order, so the comparison stays a strict weak ordering.
int CompareOrder(const std::optional<double>& a, const std::optional<double>& b) {
  bool ha = a.has_value() && !std::isnan(*a), hb = b.has_value() && !std::isnan(*b);
  if (ha != hb) return ha ? -1 : 1;
  if (!ha || *a == *b) return 0;
  return *a < *b ? -1 : 1;
}

// The key of a staged policy's enforced twin ("ns/staged:t.n" -> "ns/t.n"),
// so that the two sort next to each other.
std::string TwinKey(std::string_view key) {
  std::string out(key);
  if (size_t at = out.find("staged:"); at != std::string::npos) out.erase(at, 7);
  return out;
}

class Compiler {
 public:
  explicit Compiler(const Inputs& in) : in_(in) {}

  Program Run() {
    SortTiers();
    SortPolicies();
    for (const PolicyIn* p : policies_) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        bool governs = d == Direction::kIngress ? p->ingress : p->egress;
        if (!governs) continue;
        policy_index_[{p, d}] = static_cast<uint32_t>(prog_.policies.size());
        prog_.policies.push_back(CompilePolicy(*p, d));
      }
    }
    FillSets();
    for (const Endpoint& ep : in_.endpoints) {
      // An endpoint without a host interface has nothing the kernel could
      // enforce on; leaving it out keeps explain equal to the kernel.
      if (ep.iface.empty() || prog_.endpoints.contains(ep.iface)) continue;
      EndpointProgram out;
      out.ns = ep.ns;
      out.name = ep.name;
      out.iface = ep.iface;
      out.ips = ep.ips;
      out.ingress = Steps(ep, Direction::kIngress);
      out.egress = Steps(ep, Direction::kEgress);
      prog_.endpoints.emplace(ep.iface, std::move(out));
    }
    return std::move(prog_);
  }

 private:
  void SortTiers() {
    for (const Tier& t : in_.tiers) tiers_.push_back(t);
    // `default` always exists in Calico (order 1e6, Deny at end).
    if (std::none_of(tiers_.begin(), tiers_.end(), [](const Tier& t) { return t.name == "default"; })) {
      tiers_.push_back(Tier{"default", 1000000.0, false});
    }
    std::stable_sort(tiers_.begin(), tiers_.end(), [](const Tier& a, const Tier& b) {
      int c = CompareOrder(a.order, b.order);
      return c != 0 ? c < 0 : a.name < b.name;
    });
    // A duplicate tier name keeps its first (lowest) position.
    for (size_t i = 0; i < tiers_.size(); ++i) tier_rank_.emplace(tiers_[i].name, i);
  }

  void SortPolicies() {
    for (const PolicyIn& p : in_.policies) {
      // A policy of a tier that does not exist is not enforced (Calico
      // rejects it at admission; here it may race with a tier deletion).
      if (tier_rank_.contains(p.tier)) policies_.push_back(&p);
    }
    std::stable_sort(policies_.begin(), policies_.end(), [&](const PolicyIn* a, const PolicyIn* b) {
      size_t ta = tier_rank_.at(a->tier), tb = tier_rank_.at(b->tier);
      if (ta != tb) return ta < tb;
      int c = CompareOrder(a->order, b->order);
      if (c != 0) return c < 0;
      std::string twa = TwinKey(a->key), twb = TwinKey(b->key);
      if (twa != twb) return twa < twb;
      if (a->staged != b->staged) return a->staged;
      return a->key < b->key;
    });
  }

  SetId Intern(const selector::Selector& sel) {
    std::string text = sel.String();
    auto [it, inserted] = set_ids_.emplace(text, static_cast<SetId>(prog_.sets.size()));
    if (inserted) {
      prog_.sets.push_back(IpSet{it->second, text, {}});
      set_selectors_.push_back(sel);
    }
    return it->second;
  }

  void FillSets() {
    for (size_t i = 0; i < prog_.sets.size(); ++i) {
      const selector::Selector& sel = set_selectors_[i];
      net::CidrSet::Builder b;
      for (const Endpoint& ep : in_.endpoints) {
        if (!sel.Matches(ep.labels)) continue;
        for (const net::IpAddr& ip : ep.ips) b.Add(net::Cidr(ip, ip.bit_len()));
      }
      for (const NetSet& ns : in_.netsets) {
        if (!sel.Matches(ns.labels)) continue;
        for (const net::V4Range& r : ns.nets.v4_ranges()) b.AddRange(net::IpAddr::V4(r.first), net::IpAddr::V4(r.last));
        for (const net::V6Range& r : ns.nets.v6_ranges()) b.AddRange(net::IpAddr::V6(r.first), net::IpAddr::V6(r.last));
      }
      prog_.sets[i].members = b.Build();
    }
  }

  // Endpoints a side's selector picks for named ports (all endpoints when the
  // side has no selector; for ingress that includes the protected one).
  std::vector<const Endpoint*> NamedPortEndpoints(const EntityIn& e) const {
    std::vector<const Endpoint*> out;
    for (const Endpoint& ep : in_.endpoints) {
      if (!e.selector || e.selector->Matches(ep.labels)) out.push_back(&ep);
    }
    return out;
  }

  Match::Side CompileSide(const EntityIn& e, const RuleIn& rule) {
    Match::Side s;
    if (e.selector) s.set = Intern(*e.selector);
    if (e.not_selector) s.not_set = Intern(*e.not_selector);
    if (!e.nets.empty()) s.nets = net::CidrSet::FromCidrs(e.nets);
    if (!e.not_nets.empty()) s.not_nets = net::CidrSet::FromCidrs(e.not_nets);
    s.ports_present = !e.ports.empty();
    bool named = false, not_named = false;
    for (const PortSpec& p : e.ports) {
      if (p.range) s.ports.push_back(*p.range);
      else named = true;
    }
    for (const PortSpec& p : e.not_ports) {
      if (p.range) s.not_ports.push_back(*p.range);
      else not_named = true;
    }
    if (!named && !not_named) return s;
    std::vector<const Endpoint*> eps = NamedPortEndpoints(e);
    auto proto_ok = [&](const NamedPort& np) { return !rule.protocol || *rule.protocol == np.protocol; };
    for (const PortSpec& p : e.ports) {
      if (p.range) continue;
      for (const Endpoint* ep : eps) {
        for (const NamedPort& np : ep->ports) {
          if (np.name != p.name || !proto_ok(np)) continue;
          for (const net::IpAddr& ip : ep->ips) s.named_ports.push_back(PortSetMember{ip, np.protocol, np.port});
        }
      }
    }
    // The IR has no named not-ports; a named notPort excludes its number on
    // every selected endpoint (narrower than Calico's per-address exclusion,
    // never wider).
    for (const PortSpec& p : e.not_ports) {
      if (p.range) continue;
      for (const Endpoint* ep : eps) {
        for (const NamedPort& np : ep->ports) {
          if (np.name == p.name && proto_ok(np)) s.not_ports.push_back(PortRange{np.port, np.port});
        }
      }
    }
    auto key = [](const PortSetMember& m) { return std::tuple(m.ip, m.protocol, m.port); };
    std::sort(s.named_ports.begin(), s.named_ports.end(), [&](const auto& a, const auto& b) { return key(a) < key(b); });
    s.named_ports.erase(std::unique(s.named_ports.begin(), s.named_ports.end(),
                                    [&](const auto& a, const auto& b) { return key(a) == key(b); }),
                        s.named_ports.end());
    auto rkey = [](const PortRange& r) { return std::pair(r.first, r.last); };
    std::sort(s.not_ports.begin(), s.not_ports.end(), [&](const auto& a, const auto& b) { return rkey(a) < rkey(b); });
    s.not_ports.erase(std::unique(s.not_ports.begin(), s.not_ports.end()), s.not_ports.end());
    return s;
  }

  Match CompileMatch(const RuleIn& r) {
    Match m;
    m.ip_version = r.ip_version;
    m.protocol = r.protocol;
    m.not_protocol = r.not_protocol;
    m.icmp = r.icmp;
    m.not_icmp = r.not_icmp;
    m.src = CompileSide(r.source, r);
    m.dst = CompileSide(r.destination, r);
    if (!m.ip_version) {
      // Calico renders a rule with CIDRs only for their family (§4.2), so a
      // notNets-only v4 rule must not match IPv6 traffic.
      bool v4 = false, v6 = false;
      for (const EntityIn* e : {&r.source, &r.destination}) {
        for (const auto* list : {&e->nets, &e->not_nets}) {
          for (const net::Cidr& c : *list) (c.is_v4() ? v4 : v6) = true;
        }
      }
      if (v4 != v6) m.ip_version = v4 ? 4 : 6;
    }
    return m;
  }

  Policy CompilePolicy(const PolicyIn& p, Direction d) {
    Policy out;
    out.key = p.key;
    out.tier = p.tier;
    out.staged = p.staged;
    out.direction = d;
    const std::vector<RuleIn>& rules = d == Direction::kIngress ? p.ingress_rules : p.egress_rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      Rule r;
      r.match = CompileMatch(rules[i]);
      r.action = rules[i].action;
      r.index = static_cast<uint16_t>(i);
      r.nflog_prefix = RuleNflogPrefix(r.action, d, static_cast<uint32_t>(i), p.key);
      out.rules.push_back(std::move(r));
    }
    return out;
  }

  std::vector<TierStep> Steps(const Endpoint& ep, Direction d) {
    std::vector<TierStep> steps;
    size_t next = 0;  // policies_ is sorted by tier rank first
    for (size_t t = 0; t < tiers_.size(); ++t) {
      if (tier_rank_.at(tiers_[t].name) != t) continue;  // duplicate tier name
      TierStep step;
      step.tier = tiers_[t].name;
      bool enforced = false;
      for (; next < policies_.size() && tier_rank_.at(policies_[next]->tier) == t; ++next) {
        const PolicyIn* p = policies_[next];
        bool governs = d == Direction::kIngress ? p->ingress : p->egress;
        if (!governs || !p->applies_to.Matches(ep.labels)) continue;
        step.policies.push_back(policy_index_.at({p, d}));
        enforced = enforced || !p->staged;
      }
      if (step.policies.empty()) continue;
      step.end_of_tier_deny = enforced && !tiers_[t].pass_at_end;
      step.end_of_tier_prefix = EndOfTierNflogPrefix(step.end_of_tier_deny, d, step.tier);
      steps.push_back(std::move(step));
    }
    return steps;
  }

  const Inputs& in_;
  std::vector<Tier> tiers_;
  std::map<std::string, size_t, std::less<>> tier_rank_;
  std::vector<const PolicyIn*> policies_;
  std::map<std::pair<const PolicyIn*, Direction>, uint32_t> policy_index_;
  std::map<std::string, SetId, std::less<>> set_ids_;
  std::vector<selector::Selector> set_selectors_;
  Program prog_;
};

}  // namespace

Program Compile(const Inputs& inputs) { return Compiler(inputs).Run(); }

}  // namespace tw::policy
