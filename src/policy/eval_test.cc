// The semantics matrix: table-driven cases from testdata/policy/matrix*.txt
// run through Compile + Evaluate, plus direct tests of Evaluate.
//
// File format (one statement per line; `#` starts a comment line; tokens
// are separated by spaces, and a token may quote spaces as key="a b"):
//
//   world NAME                        start a new, empty world
//   tier NAME [order=N] [pass]        pass = defaultAction: Pass
//   endpoint NS/NAME iface=I ips=A[,B] [labels=k=v[,k=v]] [ports=name:tcp:80[,...]]
//                                     gets projectcalico.org/namespace=NS,
//                                     projectcalico.org/orchestrator=k8s and
//                                     pcns.projectcalico.org/name=NS
//   netset [NS]/NAME nets=C[,C] [labels=...]
//                                     NS empty = GlobalNetworkSet; a
//                                     NetworkSet gets the namespace labels
//   policy KEY [tier=T] [order=N] [staged] [selector=SEL] [types=ingress,egress]
//                                     tier defaults to default; types
//                                     default as Calico's (§4.2)
//   ingress|egress ACTION [ipv=4|6] [proto=P] [notproto=P] [icmp=T[/C]]
//                  [noticmp=T[/C]] [src.sel=S] [src.notsel=S] [src.nets=..]
//                  [src.notnets=..] [src.ports=..] [src.notports=..] [dst.*]
//                                     a rule of the last policy; ports are
//                                     N, A:B or a name
//   flow SRC DST PROTO [sport=N] [dport=N] [type=N] [code=N] expect=allow|deny path=STEPS
//
// STEPS: the evaluation path, steps separated by spaces:
//   E:KEY#IDX:ACTION  rule IDX of policy KEY (egress; I: ingress) did ACTION
//                     (allow, deny, pass, log); "~KEY" = a staged policy
//   E:TIER/end:deny   end of tier (also :pass)
//   E:profile         the namespace profile allowed
// An empty path (path="") means no endpoint was involved.
#include "policy/eval.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/strings.h"
#include "policy/compile.h"
#include "selector/selector.h"

namespace tw::policy {
namespace {

std::vector<std::string> Tokenize(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quote = false, have = false;
  for (char c : line) {
    if (c == '"') {
      in_quote = !in_quote;
      have = true;
    } else if (c == ' ' && !in_quote) {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

struct MatrixCase {
  std::string where;  // file:line
  Flow flow;
  bool expect_allowed = false;
  std::string expect_path;
};

struct World {
  std::string name;
  Inputs inputs;
  std::vector<bool> types_given;  // per policy
  std::vector<MatrixCase> cases;
};

std::string PathSummary(const Verdict& v) {
  std::vector<std::string> parts;
  for (const Step& s : v.path) {
    std::string d = s.direction == Direction::kIngress ? "I:" : "E:";
    if (s.tier.empty()) {
      parts.push_back(d + "profile");
    } else if (s.policy.empty()) {
      parts.push_back(d + s.tier + "/end:" + (s.action == Action::kDeny ? "deny" : "pass"));
    } else {
      static const char* kNames[] = {"allow", "deny", "pass", "log"};
      parts.push_back(d + (s.staged ? "~" : "") + s.policy + "#" + std::to_string(s.rule) + ":" +
                      kNames[static_cast<int>(s.action)]);
    }
  }
  return Join(parts, " ");
}

class MatrixParser {
 public:
  explicit MatrixParser(std::string file) : file_(std::move(file)) {}

  // Fills `worlds`; returns errors as "file:line: message".
  std::vector<std::string> Parse(const std::string& text, std::vector<World>* worlds) {
    worlds_ = worlds;
    int line_no = 0;
    for (std::string_view raw : Split(text, '\n')) {
      ++line_no;
      where_ = file_ + ":" + std::to_string(line_no);
      std::string_view line = TrimSpace(raw);
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> tok = Tokenize(line);
      if (std::string err = Statement(tok); !err.empty()) errors_.push_back(where_ + ": " + err);
    }
    for (World& w : *worlds_) FinishTypes(&w);
    return errors_;
  }

 private:
  static std::map<std::string, std::string> KeyValues(const std::vector<std::string>& tok, size_t from,
                                                      std::vector<std::string>* flags) {
    std::map<std::string, std::string> kv;
    for (size_t i = from; i < tok.size(); ++i) {
      size_t eq = tok[i].find('=');
      if (eq == std::string::npos) flags->push_back(tok[i]);
      else kv[tok[i].substr(0, eq)] = tok[i].substr(eq + 1);
    }
    return kv;
  }

  static std::optional<uint8_t> Protocol(const std::string& s) {
    static const std::map<std::string, uint8_t> kNames = {
        {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}};
    if (auto it = kNames.find(ToLower(s)); it != kNames.end()) return it->second;
    int n = std::atoi(s.c_str());
    if (n < 1 || n > 255) return std::nullopt;
    return static_cast<uint8_t>(n);
  }

  std::string ParseLabels(const std::string& text, selector::Labels* labels) {
    if (text.empty()) return "";
    for (std::string_view kv : Split(text, ',')) {
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) return "label '" + std::string(kv) + "' has no '='";
      (*labels)[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    return "";
  }

  std::string ParseCidrs(const std::string& text, std::vector<net::Cidr>* out) {
    for (std::string_view c : Split(text, ',')) {
      auto cidr = net::Cidr::Parse(c);
      if (!cidr) return cidr.error().message();
      out->push_back(*cidr);
    }
    return "";
  }

  std::string ParsePorts(const std::string& text, std::vector<PortSpec>* out) {
    for (std::string_view p : Split(text, ',')) {
      PortSpec spec;
      if (!p.empty() && p[0] >= '0' && p[0] <= '9') {
        size_t colon = p.find(':');
        int a = std::atoi(std::string(p.substr(0, colon)).c_str());
        int b = colon == std::string_view::npos ? a : std::atoi(std::string(p.substr(colon + 1)).c_str());
        spec.range = PortRange{static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
      } else {
        spec.name = std::string(p);
      }
      out->push_back(spec);
    }
    return "";
  }

  std::string ParseIcmp(const std::string& text, std::optional<IcmpMatch>* out) {
    IcmpMatch m;
    size_t slash = text.find('/');
    m.type = static_cast<uint8_t>(std::atoi(text.substr(0, slash).c_str()));
    if (slash != std::string::npos) m.code = static_cast<uint8_t>(std::atoi(text.substr(slash + 1).c_str()));
    *out = m;
    return "";
  }

  std::string ParseSelector(const std::string& text, std::optional<selector::Selector>* out) {
    auto sel = selector::Selector::Parse(text);
    if (!sel) return "selector '" + text + "': " + sel.error().message();
    *out = *sel;
    return "";
  }

  std::string Entity(const std::map<std::string, std::string>& kv, const std::string& side, EntityIn* e) {
    std::string err;
    for (const auto& [k, v] : kv) {
      if (!k.starts_with(side + ".")) continue;
      std::string f = k.substr(side.size() + 1);
      if (f == "sel") err = ParseSelector(v, &e->selector);
      else if (f == "notsel") err = ParseSelector(v, &e->not_selector);
      else if (f == "nets") err = ParseCidrs(v, &e->nets);
      else if (f == "notnets") err = ParseCidrs(v, &e->not_nets);
      else if (f == "ports") err = ParsePorts(v, &e->ports);
      else if (f == "notports") err = ParsePorts(v, &e->not_ports);
      else err = "unknown field '" + k + "'";
      if (!err.empty()) return err;
    }
    return "";
  }

  std::string Statement(const std::vector<std::string>& tok) {
    const std::string& kw = tok[0];
    if (kw == "world") {
      if (tok.size() != 2) return "world needs a name";
      worlds_->push_back(World{tok[1] + " (" + where_ + ")", {}, {}, {}});
      return "";
    }
    if (worlds_->empty()) return "statement before the first world";
    World& w = worlds_->back();
    std::vector<std::string> flags;
    auto kv = KeyValues(tok, 2, &flags);
    if (kw == "tier") {
      Tier t;
      t.name = tok.size() > 1 ? tok[1] : "";
      if (kv.contains("order")) t.order = std::atof(kv["order"].c_str());
      for (const std::string& f : flags) {
        if (f != "pass") return "unknown tier flag '" + f + "'";
        t.pass_at_end = true;
      }
      w.inputs.tiers.push_back(t);
      return "";
    }
    if (kw == "endpoint" || kw == "netset") {
      if (tok.size() < 2 || tok[1].find('/') == std::string::npos) return kw + " needs NS/NAME";
      std::string ns = tok[1].substr(0, tok[1].find('/')), name = tok[1].substr(tok[1].find('/') + 1);
      selector::Labels labels;
      if (std::string err = ParseLabels(kv["labels"], &labels); !err.empty()) return err;
      if (!ns.empty()) {
        labels["projectcalico.org/namespace"] = ns;
        labels["pcns.projectcalico.org/name"] = ns;
      }
      if (kw == "netset") {
        std::vector<net::Cidr> nets;
        if (std::string err = ParseCidrs(kv["nets"], &nets); !err.empty()) return err;
        w.inputs.netsets.push_back(NetSet{ns, name, labels, net::CidrSet::FromCidrs(nets)});
        return "";
      }
      Endpoint ep;
      ep.ns = ns;
      ep.name = name;
      ep.iface = kv["iface"];
      labels["projectcalico.org/orchestrator"] = "k8s";
      ep.labels = labels;
      for (std::string_view ip : Split(kv["ips"], ',')) {
        auto a = net::IpAddr::Parse(ip);
        if (!a) return a.error().message();
        ep.ips.push_back(*a);
      }
      if (kv.contains("ports")) {
        for (std::string_view p : Split(kv["ports"], ',')) {
          std::vector<std::string_view> parts = Split(p, ':');
          if (parts.size() != 3) return "named port '" + std::string(p) + "' is not name:proto:port";
          auto proto = Protocol(std::string(parts[1]));
          if (!proto) return "bad protocol in '" + std::string(p) + "'";
          ep.ports.push_back(NamedPort{std::string(parts[0]), *proto,
                                       static_cast<uint16_t>(std::atoi(std::string(parts[2]).c_str()))});
        }
      }
      w.inputs.endpoints.push_back(ep);
      return "";
    }
    if (kw == "policy") {
      if (tok.size() < 2) return "policy needs a key";
      PolicyIn p;
      p.key = tok[1];
      p.tier = kv.contains("tier") ? kv["tier"] : "default";
      if (kv.contains("order")) p.order = std::atof(kv["order"].c_str());
      for (const std::string& f : flags) {
        if (f != "staged") return "unknown policy flag '" + f + "'";
        p.staged = true;
      }
      if (kv.contains("selector")) {
        auto sel = selector::Selector::Parse(kv["selector"]);
        if (!sel) return "selector: " + sel.error().message();
        p.applies_to = *sel;
      }
      bool given = kv.contains("types");
      if (given) {
        for (std::string_view t : Split(kv["types"], ',')) {
          if (t == "ingress") p.ingress = true;
          else if (t == "egress") p.egress = true;
          else return "unknown type '" + std::string(t) + "'";
        }
      }
      w.inputs.policies.push_back(p);
      w.types_given.push_back(given);
      return "";
    }
    if (kw == "ingress" || kw == "egress") {
      if (w.inputs.policies.empty()) return "rule before any policy";
      if (tok.size() < 2) return "rule needs an action";
      RuleIn r;
      static const std::map<std::string, Action> kActions = {
          {"allow", Action::kAllow}, {"deny", Action::kDeny}, {"pass", Action::kPass}, {"log", Action::kLog}};
      auto a = kActions.find(tok[1]);
      if (a == kActions.end()) return "unknown action '" + tok[1] + "'";
      r.action = a->second;
      if (!flags.empty()) return "unexpected '" + flags[0] + "'";
      std::string err;
      for (const auto& [k, v] : kv) {
        if (k == "ipv") r.ip_version = static_cast<uint8_t>(std::atoi(v.c_str()));
        else if (k == "proto" || k == "notproto") {
          auto p = Protocol(v);
          if (!p) return "bad protocol '" + v + "'";
          (k == "proto" ? r.protocol : r.not_protocol) = p;
        } else if (k == "icmp") err = ParseIcmp(v, &r.icmp);
        else if (k == "noticmp") err = ParseIcmp(v, &r.not_icmp);
        else if (!k.starts_with("src.") && !k.starts_with("dst.")) err = "unknown rule field '" + k + "'";
        if (!err.empty()) return err;
      }
      if (err = Entity(kv, "src", &r.source); !err.empty()) return err;
      if (err = Entity(kv, "dst", &r.destination); !err.empty()) return err;
      PolicyIn& p = w.inputs.policies.back();
      (kw == "ingress" ? p.ingress_rules : p.egress_rules).push_back(std::move(r));
      return "";
    }
    if (kw == "flow") {
      if (tok.size() < 4) return "flow needs SRC DST PROTO";
      MatrixCase c;
      c.where = where_;
      auto src = net::IpAddr::Parse(tok[1]);
      auto dst = net::IpAddr::Parse(tok[2]);
      auto proto = Protocol(tok[3]);
      if (!src || !dst || !proto) return "bad flow SRC DST PROTO";
      c.flow.src = *src;
      c.flow.dst = *dst;
      c.flow.protocol = *proto;
      flags.clear();
      kv = KeyValues(tok, 4, &flags);
      if (!flags.empty()) return "unexpected '" + flags[0] + "'";
      if (kv.contains("sport")) c.flow.src_port = static_cast<uint16_t>(std::atoi(kv["sport"].c_str()));
      if (kv.contains("dport")) c.flow.dst_port = static_cast<uint16_t>(std::atoi(kv["dport"].c_str()));
      if (kv.contains("type")) c.flow.icmp_type = static_cast<uint8_t>(std::atoi(kv["type"].c_str()));
      if (kv.contains("code")) c.flow.icmp_code = static_cast<uint8_t>(std::atoi(kv["code"].c_str()));
      if (kv["expect"] != "allow" && kv["expect"] != "deny") return "expect must be allow or deny";
      if (!kv.contains("path")) return "flow needs path=";
      c.expect_allowed = kv["expect"] == "allow";
      c.expect_path = kv["path"];
      w.cases.push_back(c);
      return "";
    }
    return "unknown statement '" + kw + "'";
  }

  // Calico's defaulting of spec.types (§4.2).
  static void FinishTypes(World* w) {
    for (size_t i = 0; i < w->inputs.policies.size(); ++i) {
      PolicyIn& p = w->inputs.policies[i];
      if (w->types_given[i]) continue;
      p.egress = !p.egress_rules.empty();
      p.ingress = !p.ingress_rules.empty() || p.egress_rules.empty();
    }
  }

  std::string file_, where_;
  std::vector<World>* worlds_ = nullptr;
  std::vector<std::string> errors_;
};

std::vector<World> LoadMatrix(size_t* files) {
  std::vector<World> worlds;
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(std::string(TW_SOURCE_DIR) + "/testdata/policy")) {
    std::string name = e.path().filename().string();
    if (name.starts_with("matrix") && name.ends_with(".txt")) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  *files = paths.size();
  for (const std::string& path : paths) {
    auto text = ReadFile(path);
    if (!text) {
      ADD_FAILURE() << text.error().ToString();
      continue;
    }
    MatrixParser parser(std::filesystem::path(path).filename().string());
    for (const std::string& err : parser.Parse(*text, &worlds)) ADD_FAILURE() << err;
  }
  return worlds;
}

TEST(PolicyMatrixTest, AllCases) {
  size_t files = 0;
  std::vector<World> worlds = LoadMatrix(&files);
  ASSERT_GT(files, 0u);
  size_t cases = 0;
  for (const World& w : worlds) {
    Program prog = Compile(w.inputs);
    for (const MatrixCase& c : w.cases) {
      ++cases;
      Verdict v = Evaluate(prog, c.flow);
      EXPECT_EQ(v.allowed, c.expect_allowed) << c.where << " (world " << w.name << ")";
      EXPECT_EQ(PathSummary(v), c.expect_path) << c.where << " (world " << w.name << ")";
    }
  }
  EXPECT_GE(cases, 30u);
}

TEST(PolicyMatrixTest, ParserRejectsBadLines) {
  std::vector<World> worlds;
  MatrixParser parser("inline");
  auto errors = parser.Parse("tier x\nworld w\nbogus 1\nflow 1.2.3.4 5.6.7.8 tcp expect=maybe path=\n", &worlds);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "inline:1: statement before the first world");
  EXPECT_EQ(errors[1], "inline:3: unknown statement 'bogus'");
  EXPECT_EQ(errors[2], "inline:4: expect must be allow or deny");
}

// Direct tests of Evaluate on hand-built programs.

Program TwoPodProgram() {
  Program p;
  EndpointProgram a{"ns", "a", "ifa", {net::IpAddr::V4(0x0a000001)}, {}, {}};
  EndpointProgram b{"ns", "b", "ifb", {net::IpAddr::V4(0x0a000002)}, {}, {}};
  p.endpoints["ifa"] = a;
  p.endpoints["ifb"] = b;
  return p;
}

Flow TcpFlow(uint32_t src, uint32_t dst, uint16_t dport) {
  Flow f;
  f.src = net::IpAddr::V4(src);
  f.dst = net::IpAddr::V4(dst);
  f.dst_port = dport;
  return f;
}

TEST(PolicyEvalTest, NoEndpointsAllowsWithEmptyPath) {
  Program p;
  Verdict v = Evaluate(p, TcpFlow(0x01020304, 0x05060708, 80));
  EXPECT_TRUE(v.allowed);
  EXPECT_TRUE(v.path.empty());
}

TEST(PolicyEvalTest, PodToPodChecksEgressThenIngress) {
  Program p = TwoPodProgram();
  Verdict v = Evaluate(p, TcpFlow(0x0a000001, 0x0a000002, 80));
  EXPECT_TRUE(v.allowed);
  ASSERT_EQ(v.path.size(), 2u);
  EXPECT_EQ(v.path[0].direction, Direction::kEgress);
  EXPECT_EQ(v.path[0].endpoint, "ns/a");
  EXPECT_EQ(v.path[0].what, "profile kns.ns: allow");
  EXPECT_EQ(v.path[1].direction, Direction::kIngress);
  EXPECT_EQ(v.path[1].endpoint, "ns/b");
}

TEST(PolicyEvalTest, EgressDenySkipsIngress) {
  Program p = TwoPodProgram();
  Policy pol{"t.deny", "t", false, Direction::kEgress, {}};
  pol.rules.push_back(Rule{{}, Action::kDeny, 0, "DPE0|t.deny"});
  p.policies.push_back(pol);
  p.endpoints["ifa"].egress.push_back(TierStep{"t", {0}, true, "DPE|t"});
  Verdict v = Evaluate(p, TcpFlow(0x0a000001, 0x0a000002, 80));
  EXPECT_FALSE(v.allowed);
  ASSERT_EQ(v.path.size(), 1u);
  EXPECT_EQ(v.path[0].policy, "t.deny");
  EXPECT_EQ(v.path[0].rule, 0);
  EXPECT_EQ(v.path[0].what, "rule 0: Deny");
}

TEST(PolicyEvalTest, UnknownSetOrPolicyIndexNeverCrashes) {
  Program p = TwoPodProgram();
  Policy pol{"t.x", "t", false, Direction::kIngress, {}};
  Rule r;
  r.action = Action::kAllow;
  r.match.src.set = 42;  // no such set: the rule matches nothing
  pol.rules.push_back(r);
  p.policies.push_back(pol);
  p.endpoints["ifb"].ingress.push_back(TierStep{"t", {0, 7}, true, "DPI|t"});
  Verdict v = Evaluate(p, TcpFlow(0x0a000001, 0x0a000002, 80));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(PathSummary(v), "E:profile I:t/end:deny");
}

TEST(PolicyEvalTest, PortsNeedAPortProtocol) {
  Program p = TwoPodProgram();
  Policy pol{"t.x", "t", false, Direction::kIngress, {}};
  Rule r;
  r.action = Action::kAllow;
  r.match.dst.ports_present = true;
  r.match.dst.ports.push_back(PortRange{0, 65535});
  pol.rules.push_back(r);
  p.policies.push_back(pol);
  p.endpoints["ifb"].ingress.push_back(TierStep{"t", {0}, true, "DPI|t"});
  Flow icmp = TcpFlow(0x0a000001, 0x0a000002, 0);
  icmp.protocol = 1;
  EXPECT_FALSE(Evaluate(p, icmp).allowed);
  EXPECT_TRUE(Evaluate(p, TcpFlow(0x0a000001, 0x0a000002, 0)).allowed);
}

}  // namespace
}  // namespace tw::policy
