#include "nft/diff.h"

#include <map>
#include <set>

namespace tw::nft {
namespace {

// Linear merge of two sorted, disjoint range lists, looking only at the
// ranges of one kind (single addresses or not); only the changed ranges
// become Elements, so a 1M-range set with a few changes stays cheap.
template <typename Range, typename Make>
void DiffRanges(const std::vector<Range>& old_r, const std::vector<Range>& new_r, bool interval, Make make,
                std::vector<Element>* added, std::vector<Element>* removed) {
  auto mine = [interval](const Range& r) { return (r.first == r.last) != interval; };
  size_t i = 0, j = 0;
  for (;;) {
    while (i < old_r.size() && !mine(old_r[i])) ++i;
    while (j < new_r.size() && !mine(new_r[j])) ++j;
    if (i == old_r.size() && j == new_r.size()) return;
    if (j == new_r.size() || (i < old_r.size() && old_r[i].first < new_r[j].first)) {
      removed->push_back({make(old_r[i].first), make(old_r[i].last)});
      ++i;
    } else if (i == old_r.size() || new_r[j].first < old_r[i].first) {
      added->push_back({make(new_r[j].first), make(new_r[j].last)});
      ++j;
    } else {
      if (old_r[i].last != new_r[j].last) {
        removed->push_back({make(old_r[i].first), make(old_r[i].last)});
        added->push_back({make(new_r[j].first), make(new_r[j].last)});
      }
      ++i;
      ++j;
    }
  }
}

void DiffElements(const SetSpec& o, const SetSpec& n, std::vector<Element>* added,
                  std::vector<Element>* removed) {
  static const net::CidrSet kEmpty;
  const net::CidrSet& os = o.members ? *o.members : kEmpty;
  const net::CidrSet& ns = n.members ? *n.members : kEmpty;
  if (n.family == net::Family::kV4) {
    DiffRanges(os.v4_ranges(), ns.v4_ranges(), n.interval, [](uint32_t v) { return net::IpAddr::V4(v); },
               added, removed);
  } else {
    DiffRanges(os.v6_ranges(), ns.v6_ranges(), n.interval, [](net::Uint128 v) { return net::IpAddr::V6(v); },
               added, removed);
  }
}

std::string Table() { return "inet " + std::string(kTableName); }

void AppendElementCommand(const char* verb, const SetChange& c, const std::vector<Element>& elements,
                          std::string* out) {
  if (elements.empty()) return;
  *out += std::string(verb) + " element " + Table() + " " + c.set.name + " { ";
  AppendElements(elements, out);
  *out += " }\n";
}

}  // namespace

Diff DiffRulesets(const Ruleset& old_rules, const Ruleset& new_rules) {
  Diff diff;
  std::map<std::string, const SetSpec*> old_sets;
  for (const SetSpec& s : old_rules.sets) old_sets.emplace(s.name, &s);
  std::map<std::string, const SetSpec*> new_sets;
  for (const SetSpec& s : new_rules.sets) new_sets.emplace(s.name, &s);
  for (const SetSpec& s : new_rules.sets) {
    auto it = old_sets.find(s.name);
    if (it == old_sets.end()) {
      diff.sets.push_back({ChangeKind::kAdded, s, SetElements(s), {}});
      continue;
    }
    const SetSpec& o = *it->second;
    // Same members: nothing to compare (the common case for every set a
    // feed update does not touch).
    if (o.members == s.members || (o.members && s.members && *o.members == *s.members)) continue;
    SetChange c{ChangeKind::kChanged, s, {}, {}};
    DiffElements(o, s, &c.added, &c.removed);
    if (!c.added.empty() || !c.removed.empty()) diff.sets.push_back(std::move(c));
  }
  for (const SetSpec& s : old_rules.sets) {
    if (!new_sets.contains(s.name)) diff.sets.push_back({ChangeKind::kRemoved, s, {}, {}});
  }

  std::map<std::string, const ChainSpec*> old_chains;
  for (const ChainSpec& c : old_rules.chains) old_chains.emplace(c.name, &c);
  std::map<std::string, const ChainSpec*> new_chains;
  for (const ChainSpec& c : new_rules.chains) new_chains.emplace(c.name, &c);
  for (const ChainSpec& c : new_rules.chains) {
    auto it = old_chains.find(c.name);
    if (it == old_chains.end()) {
      diff.chains.push_back({ChangeKind::kAdded, c});
    } else if (!(*it->second == c)) {
      diff.chains.push_back({ChangeKind::kChanged, c});
    }
  }
  for (const ChainSpec& c : old_rules.chains) {
    if (!new_chains.contains(c.name)) diff.chains.push_back({ChangeKind::kRemoved, c});
  }
  return diff;
}

Diff DiffPrograms(const policy::Program& old_program, const policy::Program& new_program,
                  const RenderOptions& options) {
  return DiffRulesets(BuildRuleset(old_program, options), BuildRuleset(new_program, options));
}

std::string RenderDiff(const Diff& diff) {
  std::string out;
  const std::string table = Table();
  for (const SetChange& c : diff.sets) {
    if (c.kind != ChangeKind::kAdded) continue;
    out += "add set " + table + " " + c.set.name + " { type " +
           (c.set.family == net::Family::kV4 ? "ipv4_addr" : "ipv6_addr") + "; " +
           (c.set.interval ? "flags interval; " : "") + "}\n";
    AppendElementCommand("add", c, c.added, &out);
  }
  for (const SetChange& c : diff.sets) {
    if (c.kind == ChangeKind::kChanged) AppendElementCommand("delete", c, c.removed, &out);
  }
  for (const SetChange& c : diff.sets) {
    if (c.kind == ChangeKind::kChanged) AppendElementCommand("add", c, c.added, &out);
  }
  out += RenderChainDiff(diff);
  for (const SetChange& c : diff.sets) {
    if (c.kind == ChangeKind::kRemoved) out += "delete set " + table + " " + c.set.name + "\n";
  }
  return out;
}

std::string RenderChainDiff(const Diff& diff) {
  std::string out;
  const std::string table = Table();
  for (const ChainChange& c : diff.chains) {
    if (c.kind != ChangeKind::kAdded) continue;
    out += "add chain " + table + " " + c.chain.name;
    if (!c.chain.hook.empty()) out += " { " + c.chain.hook + " }";
    out += "\n";
  }
  for (const ChainChange& c : diff.chains) {
    if (c.kind == ChangeKind::kRemoved) continue;
    if (c.kind == ChangeKind::kChanged) out += "flush chain " + table + " " + c.chain.name + "\n";
    for (const std::string& r : c.chain.rules) {
      if (!r.empty() && r[0] == '#') continue;
      out += "add rule " + table + " " + c.chain.name + " " + r + "\n";
    }
  }
  for (const ChainChange& c : diff.chains) {
    if (c.kind != ChangeKind::kRemoved) continue;
    out += "flush chain " + table + " " + c.chain.name + "\n";
    out += "delete chain " + table + " " + c.chain.name + "\n";
  }
  return out;
}

std::string RenderChainSwitch(const Ruleset& ruleset, const std::vector<std::string>& existing_chains,
                              const std::vector<std::string>& delete_sets) {
  const std::string table = Table();
  std::string out = "add table " + table + "\n";
  std::set<std::string> wanted;
  for (const ChainSpec& c : ruleset.chains) {
    wanted.insert(c.name);
    out += "add chain " + table + " " + c.name;
    if (!c.hook.empty()) out += " { " + c.hook + " }";
    out += "\n";
  }
  for (const std::string& name : existing_chains) out += "flush chain " + table + " " + name + "\n";
  for (const std::string& name : existing_chains) {
    if (!wanted.contains(name)) out += "delete chain " + table + " " + name + "\n";
  }
  for (const ChainSpec& c : ruleset.chains) {
    for (const std::string& r : c.rules) {
      if (!r.empty() && r[0] == '#') continue;
      out += "add rule " + table + " " + c.name + " " + r + "\n";
    }
  }
  for (const std::string& name : delete_sets) out += "delete set " + table + " " + name + "\n";
  return out;
}

}  // namespace tw::nft
