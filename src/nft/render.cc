#include "nft/render.h"

#include <cstdio>
#include <set>
#include <unordered_map>
#include <utility>

#include "base/strings.h"

namespace tw::nft {
namespace {

using policy::Action;
using policy::Direction;

std::string Hex(uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

std::string Mark(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

bool SafeNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

// Text safe inside an nft double-quoted string or a comment line.
std::string SafeText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  return out;
}

void AppendAddr(const net::IpAddr& a, std::string* out) {
  char buf[net::IpAddr::kMaxTextLen];
  out->append(buf, a.FormatTo(buf));
}

bool HasFamily(const net::CidrSet& s, net::Family f) {
  return f == net::Family::kV4 ? !s.v4_ranges().empty() : !s.v6_ranges().empty();
}

// "{ a, b }" or "a" for the `family` part of `s` as CIDRs (compact hosts).
std::string AnonNets(const net::CidrSet& s, net::Family f) {
  std::vector<std::string> items;
  char buf[net::Cidr::kMaxTextLen];
  for (const net::Cidr& c : s.ToCidrs()) {
    if (c.family() != f) continue;
    items.emplace_back(buf, c.FormatCompactTo(buf));
  }
  if (items.size() == 1) return items[0];
  return "{ " + Join(items, ", ") + " }";
}

std::string PortText(const policy::PortRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

std::string AnonPorts(const std::vector<policy::PortRange>& ports) {
  std::vector<std::string> items;
  for (const auto& r : ports) items.push_back(PortText(r));
  if (items.size() == 1) return items[0];
  return "{ " + Join(items, ", ") + " }";
}

std::string ProtoName(uint8_t p) {
  switch (p) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 58: return "icmpv6";
    case 132: return "sctp";
    default: return std::to_string(p);
  }
}

std::string JoinExprs(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

// One way one side (source or destination) of a rule can match.
struct Alt {
  std::string text;
  bool uses_ports = false;  // `th` numeric ports: needs an l4proto guard
};

class Builder {
 public:
  Builder(const policy::Program& p, const RenderOptions& o) : program_(p), options_(o) {
    for (const policy::IpSet& s : p.sets) sets_.emplace(s.id, &s);
  }

  Ruleset Build() {
    Ruleset rs;
    for (const policy::IpSet& s : program_.sets) {
      for (net::Family f : {net::Family::kV4, net::Family::kV6}) {
        if (!HasFamily(s.members, f)) continue;
        for (bool interval : {false, true}) {
          rs.sets.push_back({SetName(s.id, f, interval, options_.set_suffix), s.id, f, interval, &s.members});
        }
      }
    }
    // Names first: endpoint chains jump into policy chains.
    std::set<std::string> used = {"forward"};
    auto unique = [&used](std::string name, size_t index) {
      if (!used.insert(name).second) {
        name = ShortName("", name + "-" + std::to_string(index));
        used.insert(name);
      }
      return name;
    };
    for (size_t i = 0; i < program_.policies.size(); ++i) {
      const policy::Policy& pol = program_.policies[i];
      policy_chains_.push_back(
          unique(ShortName(pol.direction == Direction::kIngress ? "pi-" : "po-", pol.key), i));
    }
    ChainSpec forward{"forward", "type filter hook forward priority filter; policy accept;", {}};
    std::vector<std::string> from, to, ifaces;
    std::vector<ChainSpec> endpoint_chains;
    size_t i = 0;
    for (const auto& [iface, ep] : program_.endpoints) {
      ++i;
      if (!ValidIfaceName(iface)) continue;
      std::string fw = unique(ShortName("fw-", iface), i);
      std::string tw = unique(ShortName("tw-", iface), i);
      from.push_back("\"" + iface + "\" : jump " + fw);
      ifaces.push_back("\"" + iface + "\"");
      to.push_back("\"" + iface + "\" : jump " + tw);
      endpoint_chains.push_back(EndpointChain(fw, ep, Direction::kEgress));
      endpoint_chains.push_back(EndpointChain(tw, ep, Direction::kIngress));
    }
    if (!from.empty() && options_.log_dns) AddDnsCopies(ifaces, &forward);
    if (!from.empty()) {
      forward.rules.push_back("iifname vmap { " + Join(from, ", ") + " }");
      forward.rules.push_back("oifname vmap { " + Join(to, ", ") + " }");
    }
    rs.chains.push_back(std::move(forward));
    for (ChainSpec& c : endpoint_chains) rs.chains.push_back(std::move(c));
    for (size_t p = 0; p < program_.policies.size(); ++p) {
      rs.chains.push_back(PolicyChain(policy_chains_[p], program_.policies[p]));
    }
    return rs;
  }

 private:
  uint16_t Group(Direction d) const {
    return d == Direction::kIngress ? options_.ingress_group : options_.egress_group;
  }
  std::string Log(std::string_view prefix, Direction d) const {
    return "log prefix \"" + NflogPrefix(prefix) + "\" snaplen " + std::to_string(options_.snaplen) +
           " group " + std::to_string(Group(d));
  }
  // NFLOG copies of DNS packets to and from the pods behind `ifaces`
  // (quoted names), whole packets, no verdict (render.h).
  void AddDnsCopies(const std::vector<std::string>& ifaces, ChainSpec* forward) const {
    const std::string pods = ifaces.size() == 1 ? ifaces[0] : "{ " + Join(ifaces, ", ") + " }";
    const std::string log = "log prefix \"DNS\" group " + std::to_string(options_.dns_group);
    forward->rules.push_back("# DNS queries from pods and their answers: NFLOG copies, no verdict");
    forward->rules.push_back("meta l4proto { tcp, udp } th dport 53 iifname " + pods + " " + log);
    forward->rules.push_back("meta l4proto { tcp, udp } th sport 53 th dport != 53 oifname " + pods + " " + log);
  }
  const policy::IpSet* FindSet(std::optional<policy::SetId> id) const {
    if (!id) return nullptr;
    auto it = sets_.find(*id);
    return it == sets_.end() ? nullptr : it->second;
  }

  ChainSpec EndpointChain(const std::string& name, const policy::EndpointProgram& ep, Direction d) {
    const bool ingress = d == Direction::kIngress;
    const std::string allow = ingress ? "accept" : "return";
    const std::string dir = ingress ? "I" : "E";
    const uint32_t a = options_.accept_mark, p = options_.pass_mark;
    ChainSpec c{name, "", {}};
    // Both directions accept established flows: their first packet already
    // passed the sender's egress and the receiver's ingress.
    c.rules.push_back("ct state established,related accept");
    c.rules.push_back("ct state invalid drop");
    c.rules.push_back("meta mark set meta mark & " + Mark(~(a | p)));
    for (const policy::TierStep& tier : ingress ? ep.ingress : ep.egress) {
      c.rules.push_back("# tier " + SafeText(tier.tier));
      c.rules.push_back("meta mark set meta mark & " + Mark(~p));
      for (uint32_t index : tier.policies) {
        if (index >= program_.policies.size()) continue;
        c.rules.push_back("meta mark & " + Mark(p) + " == 0 jump " + policy_chains_[index]);
        if (!program_.policies[index].staged) {
          c.rules.push_back("meta mark & " + Mark(a) + " != 0 " + allow);
        }
      }
      std::string prefix = tier.end_of_tier_prefix;
      if (tier.end_of_tier_deny) {
        if (prefix.empty()) prefix = "DP" + dir + "|" + tier.tier;
        c.rules.push_back("meta mark & " + Mark(p) + " == 0 " + Log(prefix, d) + " drop");
      } else if (!prefix.empty() && options_.log_allows) {
        c.rules.push_back("meta mark & " + Mark(p) + " == 0 " + Log(prefix, d));
      }
    }
    c.rules.push_back("# profile kns." + SafeText(ep.ns));
    c.rules.push_back(options_.log_allows ? Log("AR" + dir + "0|kns." + ep.ns, d) + " " + allow
                                          : allow);
    return c;
  }

  ChainSpec PolicyChain(const std::string& name, const policy::Policy& pol) {
    ChainSpec c{name, "", {}};
    const Direction d = pol.direction;
    for (const policy::Rule& rule : pol.rules) {
      std::string stmt;
      std::string prefix = rule.nflog_prefix;
      if (pol.staged) {
        // Staged: flow-log entries only.  A Log rule writes to the kernel
        // log, which is a side effect the policy must not have yet.
        if (rule.action == Action::kLog) continue;
        stmt = Log(prefix, d) + " return";
      } else {
        std::string log = options_.log_allows ? " " + Log(prefix, d) : "";
        switch (rule.action) {
          case Action::kAllow:
            stmt = "meta mark set meta mark | " + Mark(options_.accept_mark) + log + " return";
            break;
          case Action::kPass:
            stmt = "meta mark set meta mark | " + Mark(options_.pass_mark) + log + " return";
            break;
          case Action::kDeny:
            stmt = Log(prefix, d) + " drop";
            break;
          case Action::kLog:
            stmt = "log prefix \"" + SafeText(options_.log_action_prefix) + "\"";
            break;
        }
      }
      for (const std::string& m : Variants(rule.match)) {
        c.rules.push_back(m.empty() ? stmt : m + " " + stmt);
      }
    }
    if (pol.staged) {
      c.rules.push_back(Log(std::string("DP") + (d == Direction::kIngress ? "I" : "E") + "|" + pol.key, d));
    }
    return c;
  }

  // The alternatives of one side for `family` (nullopt: a rule without
  // address constraints).  Empty result: the side cannot match.
  std::vector<Alt> SideAlts(const policy::Match::Side& side, std::optional<net::Family> family,
                            bool source) const {
    const std::string port_word = source ? "sport" : "dport";
    std::vector<std::string> common;
    std::string addr;
    if (family) {
      addr = std::string(*family == net::Family::kV4 ? "ip " : "ip6 ") + (source ? "saddr" : "daddr");
      if (side.nets) {
        if (!HasFamily(*side.nets, *family)) return {};
        common.push_back(addr + " " + AnonNets(*side.nets, *family));
      }
      if (side.not_nets && HasFamily(*side.not_nets, *family)) {
        common.push_back(addr + " != " + AnonNets(*side.not_nets, *family));
      }
      if (const policy::IpSet* s = FindSet(side.not_set); s && HasFamily(s->members, *family)) {
        common.push_back(addr + " != @" + SetName(s->id, *family, false, options_.set_suffix));
        common.push_back(addr + " != @" + SetName(s->id, *family, true, options_.set_suffix));
      }
    }
    bool not_ports = !side.not_ports.empty();
    if (not_ports) common.push_back("th " + port_word + " != " + AnonPorts(side.not_ports));
    std::string base = Join(common, " ");

    std::vector<Alt> alts;
    std::vector<std::string> set_choices = {""};
    if (side.set) {
      set_choices.clear();
      const policy::IpSet* s = FindSet(side.set);
      if (family && s && HasFamily(s->members, *family)) {
        set_choices.push_back(addr + " @" + SetName(s->id, *family, false, options_.set_suffix));
        set_choices.push_back(addr + " @" + SetName(s->id, *family, true, options_.set_suffix));
      }
    }
    if (!side.ports_present || !side.ports.empty()) {
      std::string ports = side.ports.empty() ? "" : "th " + port_word + " " + AnonPorts(side.ports);
      for (const std::string& sc : set_choices) {
        alts.push_back({JoinExprs({base, sc, ports}), not_ports || !ports.empty()});
      }
    }
    if (family && !side.named_ports.empty()) {
      std::vector<std::string> items;
      for (const policy::PortSetMember& m : side.named_ports) {
        if (m.ip.family() != *family) continue;
        std::string item;
        AppendAddr(m.ip, &item);
        items.push_back(item + " . " + ProtoName(m.protocol) + " . " + std::to_string(m.port));
      }
      if (!items.empty()) {
        alts.push_back({JoinExprs({base, addr + " . meta l4proto . th " + port_word + " { " +
                                             Join(items, ", ") + " }"}),
                        not_ports});
      }
    }
    return alts;
  }

  static bool SideNeedsFamily(const policy::Match::Side& s) {
    return s.nets || s.not_nets || s.set || s.not_set || !s.named_ports.empty();
  }

  // The match texts of the disjoint variants of `m` (one "" = match all).
  std::vector<std::string> Variants(const policy::Match& m) const {
    std::vector<std::optional<net::Family>> families;
    if (m.ip_version == 4) {
      families = {net::Family::kV4};
    } else if (m.ip_version == 6) {
      families = {net::Family::kV6};
    } else if (m.ip_version) {
      return {};  // no such IP version: matches nothing
    } else if (SideNeedsFamily(m.src) || SideNeedsFamily(m.dst)) {
      families = {net::Family::kV4, net::Family::kV6};
    } else {
      families = {std::nullopt};
    }
    std::string proto;
    if (m.protocol) proto = "meta l4proto " + ProtoName(*m.protocol);
    if (m.not_protocol) proto = JoinExprs({proto, "meta l4proto != " + ProtoName(*m.not_protocol)});
    const std::string icmp_word = (m.protocol == 58 || m.ip_version == 6) ? "icmpv6" : "icmp";
    std::string icmp;
    if (m.icmp) {
      if (m.icmp->type) icmp = icmp_word + " type " + std::to_string(*m.icmp->type);
      if (m.icmp->code) icmp = JoinExprs({icmp, icmp_word + " code " + std::to_string(*m.icmp->code)});
    }
    if (m.not_icmp) {
      if (m.not_icmp->type && m.not_icmp->code) {
        icmp = JoinExprs({icmp, icmp_word + " type . " + icmp_word + " code != { " +
                                    std::to_string(*m.not_icmp->type) + " . " +
                                    std::to_string(*m.not_icmp->code) + " }"});
      } else if (m.not_icmp->type) {
        icmp = JoinExprs({icmp, icmp_word + " type != " + std::to_string(*m.not_icmp->type)});
      } else if (m.not_icmp->code) {
        icmp = JoinExprs({icmp, icmp_word + " code != " + std::to_string(*m.not_icmp->code)});
      }
    }
    std::vector<std::string> out;
    for (const auto& f : families) {
      std::vector<Alt> src = SideAlts(m.src, f, true);
      std::vector<Alt> dst = SideAlts(m.dst, f, false);
      for (const Alt& s : src) {
        for (const Alt& d : dst) {
          std::string guard;
          if ((s.uses_ports || d.uses_ports) && !m.protocol) guard = "meta l4proto { tcp, udp, sctp }";
          std::string addr_text = JoinExprs({s.text, d.text});
          std::string nfproto;
          if (f && addr_text.find(*f == net::Family::kV4 ? "ip " : "ip6 ") == std::string::npos) {
            nfproto = *f == net::Family::kV4 ? "meta nfproto ipv4" : "meta nfproto ipv6";
          }
          out.push_back(JoinExprs({nfproto, proto, guard, addr_text, icmp}));
        }
      }
    }
    return out;
  }

  const policy::Program& program_;
  const RenderOptions& options_;
  std::unordered_map<policy::SetId, const policy::IpSet*> sets_;
  std::vector<std::string> policy_chains_;
};

}  // namespace

uint64_t NameHash(std::string_view text) { return Fnv1a64(text); }

std::string ShortName(std::string_view prefix, std::string_view text) {
  bool safe = !text.empty();
  for (char c : text) safe = safe && SafeNameChar(c);
  if (safe && prefix.size() + text.size() <= kMaxNameLen) return std::string(prefix) + std::string(text);
  constexpr size_t kHashLen = 10;
  std::string out(prefix);
  size_t keep = kMaxNameLen > out.size() + kHashLen + 1 ? kMaxNameLen - out.size() - kHashLen - 1 : 0;
  for (size_t i = 0; i < text.size() && i < keep; ++i) out += SafeNameChar(text[i]) ? text[i] : '_';
  out += '-';
  out += Hex(NameHash(text) >> 24, kHashLen);
  return out;
}

std::string NflogPrefix(std::string_view text) {
  std::string safe = SafeText(text);
  if (safe.size() < kMaxPrefixLen) return safe;
  // Hash of the original text so sanitising cannot merge two prefixes.
  return safe.substr(0, 10) + Hex(NameHash(text), 16) + "_" + safe.substr(safe.size() - 10);
}

bool ValidIfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || c == '"' || c == '\\' || u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string SetName(policy::SetId id, net::Family family, bool interval, std::string_view suffix) {
  return "s" + std::to_string(id) + (interval ? "i" : "h") + (family == net::Family::kV6 ? "6" : "") +
         std::string(suffix);
}

std::vector<Element> SetElements(const net::CidrSet& members, net::Family family, bool interval) {
  std::vector<Element> out;
  if (family == net::Family::kV4) {
    for (const net::V4Range& r : members.v4_ranges()) {
      if ((r.first == r.last) != interval) out.push_back({net::IpAddr::V4(r.first), net::IpAddr::V4(r.last)});
    }
  } else {
    for (const net::V6Range& r : members.v6_ranges()) {
      if ((r.first == r.last) != interval) out.push_back({net::IpAddr::V6(r.first), net::IpAddr::V6(r.last)});
    }
  }
  return out;
}

std::vector<Element> SetElements(const SetSpec& set) {
  if (set.members == nullptr) return {};
  return SetElements(*set.members, set.family, set.interval);
}

void AppendElements(const std::vector<Element>& elements, std::string* out) {
  bool first = true;
  for (const Element& e : elements) {
    if (!first) out->append(", ");
    first = false;
    AppendAddr(e.first, out);
    if (e.last != e.first) {
      out->push_back('-');
      AppendAddr(e.last, out);
    }
  }
}

size_t ElementKey(const net::IpAddr& a, uint8_t* out) {
  size_t len = a.is_v4() ? 4 : 16;
  net::Uint128 bits = a.bits();
  for (size_t i = 0; i < len; ++i) out[len - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  return len;
}

bool NextAddress(const net::IpAddr& a, net::IpAddr* next) {
  if (a.is_v4()) {
    if (a.v4() == 0xffffffffu) return false;
    *next = net::IpAddr::V4(a.v4() + 1);
    return true;
  }
  if (a.bits() == ~net::Uint128{0}) return false;
  *next = net::IpAddr::V6(a.bits() + 1);
  return true;
}

std::string RenderSet(const SetSpec& set, bool with_elements) {
  std::string out = "\tset " + set.name + " {\n\t\ttype " +
                    (set.family == net::Family::kV4 ? "ipv4_addr" : "ipv6_addr") + "\n";
  if (set.interval) out += "\t\tflags interval\n";
  if (with_elements) {
    std::vector<Element> elements = SetElements(set);
    if (!elements.empty()) {
      out += "\t\telements = { ";
      AppendElements(elements, &out);
      out += " }\n";
    }
  }
  out += "\t}\n";
  return out;
}

Ruleset BuildRuleset(const policy::Program& program, const RenderOptions& options) {
  return Builder(program, options).Build();
}

std::string RenderRuleset(const Ruleset& rs, const RenderOptions& options) {
  std::string t(kTableName);
  std::string out = "add table inet " + t + "\ndelete table inet " + t + "\ntable inet " + t + " {\n";
  for (const SetSpec& s : rs.sets) out += RenderSet(s, options.set_elements);
  for (const ChainSpec& c : rs.chains) {
    out += "\tchain " + c.name + " {\n";
    if (!c.hook.empty()) out += "\t\t" + c.hook + "\n";
    for (const std::string& r : c.rules) out += "\t\t" + r + "\n";
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

std::string RenderRuleset(const policy::Program& program, const RenderOptions& options) {
  return RenderRuleset(BuildRuleset(program, options), options);
}

Status ValidateProgram(const policy::Program& program) {
  std::vector<std::string> problems;
  std::set<policy::SetId> ids;
  for (const policy::IpSet& s : program.sets) {
    if (!ids.insert(s.id).second) problems.push_back("set id " + std::to_string(s.id) + " appears twice");
  }
  auto check_set = [&](std::optional<policy::SetId> id, const std::string& where) {
    if (id && !ids.contains(*id)) {
      problems.push_back(where + ": set id " + std::to_string(*id) + " is not in Program.sets");
    }
  };
  for (const policy::Policy& p : program.policies) {
    for (const policy::Rule& r : p.rules) {
      std::string where = "policy " + Quote(p.key) + " rule " + std::to_string(r.index);
      check_set(r.match.src.set, where + " source selector");
      check_set(r.match.src.not_set, where + " source notSelector");
      check_set(r.match.dst.set, where + " destination selector");
      check_set(r.match.dst.not_set, where + " destination notSelector");
    }
  }
  for (const auto& [iface, ep] : program.endpoints) {
    if (!ValidIfaceName(iface)) {
      problems.push_back("endpoint " + Quote(ep.ns + "/" + ep.name) + ": interface " + Quote(iface) +
                         " is not a valid interface name");
    }
    for (const auto* steps : {&ep.ingress, &ep.egress}) {
      for (const policy::TierStep& t : *steps) {
        for (uint32_t index : t.policies) {
          if (index >= program.policies.size()) {
            problems.push_back("endpoint " + Quote(ep.ns + "/" + ep.name) + " tier " + Quote(t.tier) +
                               ": policy index " + std::to_string(index) + " out of range");
          }
        }
      }
    }
  }
  if (problems.empty()) return Status::Ok();
  return Status::InvalidArgument("nft: program has parts the kernel cannot take: " + Join(problems, "; "));
}

}  // namespace tw::nft
