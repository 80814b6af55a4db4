#include "policy/explain.h"

#include <algorithm>
#include <charconv>

#include "base/strings.h"

namespace tw::policy {

namespace json = boost::json;

namespace {

constexpr std::string_view kApiVersion = "threatwall.io/v1";
constexpr std::string_view kKind = "Explanation";

bool IsPortProtocol(uint8_t p) { return p == 6 || p == 17 || p == 132 || p == 136; }
bool IsIcmpProtocol(uint8_t p) { return p == 1 || p == 58; }

// One side of the query, resolved: the pod (if any) and the addresses the
// flow may use for it.
struct Side {
  std::string flag;      // "--from"
  std::string arg;       // as given
  std::string endpoint;  // "ns/name" or ""
  std::vector<net::IpAddr> ips;
  bool by_name = false;  // named as a pod (not as an address)
};

const EndpointProgram* FindPod(const Program& program, std::string_view ns, std::string_view name) {
  for (const auto& [iface, ep] : program.endpoints) {
    if (ep.ns == ns && ep.name == name) return &ep;
  }
  return nullptr;
}

const EndpointProgram* FindPodByIp(const Program& program, const net::IpAddr& ip) {
  for (const auto& [iface, ep] : program.endpoints) {
    if (std::find(ep.ips.begin(), ep.ips.end(), ip) != ep.ips.end()) return &ep;
  }
  return nullptr;
}

Result<Side> ResolveSide(const Program& program, std::string flag, const std::string& arg,
                         const std::string& default_ns) {
  Side side{std::move(flag), arg, "", {}, false};
  if (TrimSpace(arg).empty()) {
    return Status::InvalidArgument(side.flag + ": required (a pod name, NS/NAME or an IP address)");
  }
  if (auto ip = net::IpAddr::Parse(arg); ip.ok()) {
    side.ips.push_back(*ip);
    if (const EndpointProgram* ep = FindPodByIp(program, *ip)) side.endpoint = ep->ns + "/" + ep->name;
    return side;
  }
  std::string ns = default_ns.empty() ? "default" : default_ns;
  std::string name = arg;
  if (size_t slash = arg.find('/'); slash != std::string::npos) {
    ns = arg.substr(0, slash);
    name = arg.substr(slash + 1);
    if (ns.empty() || name.empty() || name.find('/') != std::string::npos) {
      return Status::InvalidArgument(side.flag + " " + arg + ": expected a pod name, NS/NAME or an IP address");
    }
  }
  const EndpointProgram* ep = FindPod(program, ns, name);
  if (ep == nullptr) return Status::NotFound(side.flag + " " + arg + ": no pod " + ns + "/" + name);
  side.endpoint = ns + "/" + name;
  side.by_name = true;
  if (ep->ips.empty()) return Status::Unavailable(side.flag + " " + arg + ": pod " + side.endpoint + " has no IP yet");
  side.ips = ep->ips;
  return side;
}

std::optional<net::IpAddr> FirstOfFamily(const std::vector<net::IpAddr>& ips, bool v4) {
  for (const net::IpAddr& ip : ips) {
    if (ip.is_v4() == v4) return ip;
  }
  return std::nullopt;
}

// Picks one address per side, of one family (IPv4 first).
Status PickAddresses(const Side& from, const Side& to, Flow* flow) {
  for (bool v4 : {true, false}) {
    auto a = FirstOfFamily(from.ips, v4), b = FirstOfFamily(to.ips, v4);
    if (a && b) {
      flow->src = *a;
      flow->dst = *b;
      return Status::Ok();
    }
  }
  auto family = [](const net::IpAddr& ip) { return std::string(ip.is_v4() ? "IPv4" : "IPv6"); };
  if (from.by_name && to.by_name) {
    return Status::InvalidArgument(from.flag + " " + from.arg + " and " + to.flag + " " + to.arg + ": pods " +
                                   from.endpoint + " and " + to.endpoint + " have no address family in common");
  }
  if (from.by_name || to.by_name) {
    const Side& pod = from.by_name ? from : to;
    const Side& addr = from.by_name ? to : from;
    return Status::InvalidArgument(pod.flag + " " + pod.arg + ": pod " + pod.endpoint + " has no " +
                                   family(addr.ips.front()) + " address (" + addr.flag + " " + addr.arg + " is " +
                                   family(addr.ips.front()) + ")");
  }
  return Status::InvalidArgument(from.flag + " " + from.arg + " and " + to.flag + " " + to.arg +
                                 ": one is IPv4 and the other IPv6");
}

Status FillProtocol(const ExplainQuery& q, Flow* flow) {
  TW_ASSIGN_OR_RETURN(flow->protocol, ParseExplainProtocol(q.protocol));
  std::string name = ProtocolName(flow->protocol);
  if (IsPortProtocol(flow->protocol)) {
    if (!q.port) return Status::InvalidArgument("--port: required for protocol " + name + " (the destination port)");
    if (*q.port == 0) return Status::InvalidArgument("--port 0: must be 1-65535");
    flow->dst_port = *q.port;
  } else if (q.port) {
    return Status::InvalidArgument("--port: protocol " + name + " has no ports");
  }
  if (!IsIcmpProtocol(flow->protocol) && (q.icmp_type || q.icmp_code)) {
    return Status::InvalidArgument(std::string(q.icmp_type ? "--icmp-type" : "--icmp-code") +
                                   ": only with protocol ICMP or ICMPv6, not " + name);
  }
  if (q.icmp_code && !q.icmp_type) return Status::InvalidArgument("--icmp-code: needs --icmp-type");
  flow->icmp_type = q.icmp_type;
  flow->icmp_code = q.icmp_code;
  return Status::Ok();
}

Status CheckIcmpFamily(const Flow& flow) {
  if (flow.protocol == 1 && !flow.src.is_v4()) {
    return Status::InvalidArgument("--protocol ICMP: the addresses are IPv6 (use ICMPv6)");
  }
  if (flow.protocol == 58 && flow.src.is_v4()) {
    return Status::InvalidArgument("--protocol ICMPv6: the addresses are IPv4 (use ICMP)");
  }
  return Status::Ok();
}

}  // namespace

Result<uint8_t> ParseExplainProtocol(std::string_view text) {
  std::string t = ToLower(TrimSpace(text));
  if (t == "tcp") return uint8_t{6};
  if (t == "udp") return uint8_t{17};
  if (t == "sctp") return uint8_t{132};
  if (t == "udplite") return uint8_t{136};
  if (t == "icmp") return uint8_t{1};
  if (t == "icmpv6") return uint8_t{58};
  unsigned n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (!t.empty() && ec == std::errc() && p == t.data() + t.size() && n >= 1 && n <= 255) {
    return static_cast<uint8_t>(n);
  }
  return Status::InvalidArgument("--protocol " + std::string(text) +
                                 ": must be TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or 1-255");
}

std::string ProtocolName(uint8_t protocol) {
  switch (protocol) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "ICMPv6";
    case 132: return "SCTP";
    case 136: return "UDPLite";
  }
  return std::to_string(protocol);
}

Result<ExplainResult> Explain(const Program& program, const ExplainQuery& q) {
  TW_ASSIGN_OR_RETURN(Side from, ResolveSide(program, "--from", q.from, q.from_ns));
  TW_ASSIGN_OR_RETURN(Side to, ResolveSide(program, "--to", q.to, q.to_ns));
  ExplainResult result;
  TW_RETURN_IF_ERROR(FillProtocol(q, &result.flow));
  TW_RETURN_IF_ERROR(PickAddresses(from, to, &result.flow));
  TW_RETURN_IF_ERROR(CheckIcmpFamily(result.flow));
  result.from_endpoint = from.endpoint;
  result.to_endpoint = to.endpoint;
  result.verdict = Evaluate(program, result.flow);
  return result;
}

// ---------------------------------------------------------------- JSON

json::value ExplainToJson(const ExplainResult& r) {
  json::object flow{
      {"protocol", ProtocolName(r.flow.protocol)},
      {"srcIP", r.flow.src.ToString()},
      {"dstIP", r.flow.dst.ToString()},
      {"srcPort", r.flow.src_port},
      {"dstPort", r.flow.dst_port},
  };
  if (r.flow.icmp_type) flow["icmpType"] = *r.flow.icmp_type;
  if (r.flow.icmp_code) flow["icmpCode"] = *r.flow.icmp_code;
  json::array path;
  for (const Step& s : r.verdict.path) {
    path.push_back(json::object{
        {"direction", s.direction == Direction::kIngress ? "ingress" : "egress"},
        {"endpoint", s.endpoint},
        {"tier", s.tier},
        {"policy", s.policy},
        {"rule", s.rule},
        {"action", ActionName(s.action)},
        {"staged", s.staged},
        {"what", s.what},
    });
  }
  return json::object{
      {"apiVersion", kApiVersion},
      {"kind", kKind},
      {"from", r.from_endpoint},
      {"to", r.to_endpoint},
      {"flow", std::move(flow)},
      {"allowed", r.verdict.allowed},
      {"verdict", r.verdict.allowed ? "allow" : "deny"},
      {"path", std::move(path)},
  };
}

namespace {

// Field readers: errors name the field path ("flow.dstPort: ...").
Result<const json::value*> Field(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Status::InvalidArgument("explanation: " + std::string(where) + ": missing");
  return v;
}

Result<std::string> StringField(const json::object& o, std::string_view key, std::string_view where) {
  TW_ASSIGN_OR_RETURN(const json::value* v, Field(o, key, where));
  if (!v->is_string()) return Status::InvalidArgument("explanation: " + std::string(where) + ": must be a string");
  return std::string(v->get_string());
}

Result<int64_t> IntField(const json::object& o, std::string_view key, std::string_view where, int64_t lo,
                         int64_t hi) {
  TW_ASSIGN_OR_RETURN(const json::value* v, Field(o, key, where));
  std::optional<int64_t> n;
  if (v->is_int64()) n = v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= uint64_t(INT64_MAX)) n = static_cast<int64_t>(v->get_uint64());
  if (!n || *n < lo || *n > hi) {
    return Status::InvalidArgument("explanation: " + std::string(where) + ": must be an integer " +
                                   std::to_string(lo) + ".." + std::to_string(hi));
  }
  return *n;
}

Result<bool> BoolField(const json::object& o, std::string_view key, std::string_view where) {
  TW_ASSIGN_OR_RETURN(const json::value* v, Field(o, key, where));
  if (!v->is_bool()) return Status::InvalidArgument("explanation: " + std::string(where) + ": must be true or false");
  return v->get_bool();
}

Result<const json::object*> ObjectField(const json::object& o, std::string_view key, std::string_view where) {
  TW_ASSIGN_OR_RETURN(const json::value* v, Field(o, key, where));
  if (!v->is_object()) return Status::InvalidArgument("explanation: " + std::string(where) + ": must be an object");
  return &v->get_object();
}

Result<net::IpAddr> IpField(const json::object& o, std::string_view key, std::string_view where) {
  TW_ASSIGN_OR_RETURN(std::string text, StringField(o, key, where));
  auto ip = net::IpAddr::Parse(text);
  if (!ip.ok()) return Status::InvalidArgument("explanation: " + std::string(where) + ": " + ip.error().message());
  return *ip;
}

Result<Action> ParseAction(std::string_view text, std::string_view where) {
  for (Action a : {Action::kAllow, Action::kDeny, Action::kPass, Action::kLog}) {
    if (ActionName(a) == text) return a;
  }
  return Status::InvalidArgument("explanation: " + std::string(where) + ": " + Quote(text) +
                                 " is not Allow, Deny, Pass or Log");
}

Result<Flow> FlowFromJson(const json::object& o) {
  Flow f;
  TW_ASSIGN_OR_RETURN(std::string proto, StringField(o, "protocol", "flow.protocol"));
  auto p = ParseExplainProtocol(proto);
  if (!p.ok()) return Status::InvalidArgument("explanation: flow.protocol: " + Quote(proto) + " is not a protocol");
  f.protocol = *p;
  TW_ASSIGN_OR_RETURN(f.src, IpField(o, "srcIP", "flow.srcIP"));
  TW_ASSIGN_OR_RETURN(f.dst, IpField(o, "dstIP", "flow.dstIP"));
  TW_ASSIGN_OR_RETURN(int64_t sport, IntField(o, "srcPort", "flow.srcPort", 0, 65535));
  TW_ASSIGN_OR_RETURN(int64_t dport, IntField(o, "dstPort", "flow.dstPort", 0, 65535));
  f.src_port = static_cast<uint16_t>(sport);
  f.dst_port = static_cast<uint16_t>(dport);
  if (o.contains("icmpType")) {
    TW_ASSIGN_OR_RETURN(int64_t t, IntField(o, "icmpType", "flow.icmpType", 0, 255));
    f.icmp_type = static_cast<uint8_t>(t);
  }
  if (o.contains("icmpCode")) {
    TW_ASSIGN_OR_RETURN(int64_t c, IntField(o, "icmpCode", "flow.icmpCode", 0, 255));
    f.icmp_code = static_cast<uint8_t>(c);
  }
  return f;
}

Result<Step> StepFromJson(const json::value& v, const std::string& where) {
  if (!v.is_object()) return Status::InvalidArgument("explanation: " + where + ": must be an object");
  const json::object& o = v.get_object();
  Step s;
  TW_ASSIGN_OR_RETURN(std::string dir, StringField(o, "direction", where + ".direction"));
  if (dir != "ingress" && dir != "egress") {
    return Status::InvalidArgument("explanation: " + where + ".direction: " + Quote(dir) + " is not ingress or egress");
  }
  s.direction = dir == "ingress" ? Direction::kIngress : Direction::kEgress;
  TW_ASSIGN_OR_RETURN(s.endpoint, StringField(o, "endpoint", where + ".endpoint"));
  TW_ASSIGN_OR_RETURN(s.tier, StringField(o, "tier", where + ".tier"));
  TW_ASSIGN_OR_RETURN(s.policy, StringField(o, "policy", where + ".policy"));
  TW_ASSIGN_OR_RETURN(int64_t rule, IntField(o, "rule", where + ".rule", -1, 65535));
  s.rule = static_cast<int>(rule);
  TW_ASSIGN_OR_RETURN(std::string action, StringField(o, "action", where + ".action"));
  TW_ASSIGN_OR_RETURN(s.action, ParseAction(action, where + ".action"));
  TW_ASSIGN_OR_RETURN(s.staged, BoolField(o, "staged", where + ".staged"));
  TW_ASSIGN_OR_RETURN(s.what, StringField(o, "what", where + ".what"));
  return s;
}

}  // namespace

Result<ExplainResult> ExplainFromJson(const json::value& value) {
  if (!value.is_object()) return Status::InvalidArgument("explanation: must be a JSON object");
  const json::object& o = value.get_object();
  if (const json::value* kind = o.if_contains("kind"); kind && !(kind->is_string() && kind->get_string() == kKind)) {
    return Status::InvalidArgument("explanation: kind: must be " + std::string(kKind));
  }
  ExplainResult r;
  TW_ASSIGN_OR_RETURN(r.from_endpoint, StringField(o, "from", "from"));
  TW_ASSIGN_OR_RETURN(r.to_endpoint, StringField(o, "to", "to"));
  TW_ASSIGN_OR_RETURN(const json::object* flow, ObjectField(o, "flow", "flow"));
  TW_ASSIGN_OR_RETURN(r.flow, FlowFromJson(*flow));
  TW_ASSIGN_OR_RETURN(r.verdict.allowed, BoolField(o, "allowed", "allowed"));
  TW_ASSIGN_OR_RETURN(const json::value* path, Field(o, "path", "path"));
  if (!path->is_array()) return Status::InvalidArgument("explanation: path: must be a list");
  for (size_t i = 0; i < path->get_array().size(); ++i) {
    TW_ASSIGN_OR_RETURN(Step s, StepFromJson(path->get_array()[i], "path[" + std::to_string(i) + "]"));
    r.verdict.path.push_back(std::move(s));
  }
  return r;
}

// ---------------------------------------------------------------- text

namespace {

std::string DirName(Direction d) { return d == Direction::kIngress ? "ingress" : "egress"; }

// "10.0.0.1" / "[fd00::1]" when a port follows.
std::string AddrForPort(const net::IpAddr& ip) { return ip.is_v4() ? ip.ToString() : "[" + ip.ToString() + "]"; }

std::string FlowText(const Flow& f) {
  std::string out = ProtocolName(f.protocol);
  if (out[0] >= '0' && out[0] <= '9') out = "protocol " + out;
  if (IsPortProtocol(f.protocol)) {
    out += " " + f.src.ToString() + " -> " + AddrForPort(f.dst) + ":" + std::to_string(f.dst_port);
    return out;
  }
  out += " " + f.src.ToString() + " -> " + f.dst.ToString();
  if (f.icmp_type) out += " type " + std::to_string(*f.icmp_type);
  if (f.icmp_code) out += " code " + std::to_string(*f.icmp_code);
  return out;
}

std::string PartyText(const std::string& endpoint, const net::IpAddr& ip) {
  if (endpoint.empty()) return ip.ToString() + " (outside the cluster)";
  return endpoint + " (" + ip.ToString() + ")";
}

// What a step did, after the arrow.
std::string Outcome(const Step& s) {
  std::string out;
  switch (s.action) {
    case Action::kAllow: out = "allow"; break;
    case Action::kDeny: out = "deny"; break;
    case Action::kLog: out = "log, continue"; break;
    case Action::kPass: out = s.policy.empty() ? "next tier" : "pass to the next tier"; break;
  }
  if (s.staged) out += " (staged, does not enforce)";
  return out;
}

// The cells of one step's line: where, which policy, which rule, outcome.
std::vector<std::string> StepCells(const Step& s, bool only_step) {
  if (s.tier.empty() && s.policy.empty()) {
    std::string profile = "profile kns." + s.endpoint.substr(0, s.endpoint.find('/'));
    return {profile, "", "", "-> allow" + std::string(only_step ? " (no policy applies)" : "")};
  }
  if (s.policy.empty()) {
    std::string why = s.action == Action::kDeny ? "no rule matched" : "no rule decided";
    return {"tier " + s.tier, "end of tier", why, "-> " + Outcome(s)};
  }
  return {"tier " + s.tier, "policy " + s.policy,
          "rule " + std::to_string(s.rule) + " (" + std::string(ActionName(s.action)) + ")", "-> " + Outcome(s)};
}

// "security.block-snort rule 0", "end of tier security", "profile kns.default".
std::string Decider(const Step& s) {
  if (s.tier.empty() && s.policy.empty()) return "profile kns." + s.endpoint.substr(0, s.endpoint.find('/'));
  if (s.policy.empty()) return "end of tier " + s.tier;
  return s.policy + " rule " + std::to_string(s.rule);
}

// The step that decided a direction: its last enforced, non-Log step.
const Step* DecidingStep(const std::vector<Step>& path, Direction d) {
  const Step* found = nullptr;
  for (const Step& s : path) {
    if (s.direction == d && !s.staged && s.action != Action::kLog && s.action != Action::kPass) found = &s;
  }
  return found;
}

std::string VerdictText(const ExplainResult& r) {
  const std::vector<Step>& path = r.verdict.path;
  if (path.empty()) return "allow (no pod of this node is involved; threatwall enforces at pods only)";
  std::vector<std::string> parts;
  for (Direction d : {Direction::kEgress, Direction::kIngress}) {
    if (const Step* s = DecidingStep(path, d)) parts.push_back(DirName(d) + ", " + Decider(*s));
  }
  if (!r.verdict.allowed && !parts.empty()) parts = {parts.back()};
  return std::string(r.verdict.allowed ? "allow" : "deny") + (parts.empty() ? "" : " (" + Join(parts, "; ") + ")");
}

// Lays out rows of cells in columns three spaces apart (no trailing spaces).
std::string Columns(const std::vector<std::vector<std::string>>& rows, std::string_view indent) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      if (width[i] == 0) continue;  // a column no row uses
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string RenderExplain(const ExplainResult& r) {
  std::string out;
  out += "FROM     " + PartyText(r.from_endpoint, r.flow.src) + "\n";
  out += "TO       " + PartyText(r.to_endpoint, r.flow.dst) + "\n";
  out += "FLOW     " + FlowText(r.flow) + "\n";

  // One section per direction the path has, all steps' cells in common
  // columns so the sections line up.
  struct Section {
    std::string title;
    std::vector<std::vector<std::string>> rows;
  };
  std::vector<Section> sections;
  std::vector<std::vector<std::string>> all_rows;
  for (Direction d : {Direction::kEgress, Direction::kIngress}) {
    std::vector<const Step*> steps;
    for (const Step& s : r.verdict.path) {
      if (s.direction == d) steps.push_back(&s);
    }
    if (steps.empty()) continue;
    Section sec{DirName(d) + " at " + steps.front()->endpoint, {}};
    for (const Step* s : steps) sec.rows.push_back(StepCells(*s, steps.size() == 1));
    all_rows.insert(all_rows.end(), sec.rows.begin(), sec.rows.end());
    sections.push_back(std::move(sec));
  }
  std::string table = Columns(all_rows, "  ");
  size_t pos = 0;
  for (const Section& sec : sections) {
    out += "\n" + sec.title + "\n";
    for (size_t i = 0; i < sec.rows.size(); ++i) {
      size_t nl = table.find('\n', pos);
      out += table.substr(pos, nl - pos + 1);
      pos = nl + 1;
    }
  }
  bool egress_denied = !r.verdict.allowed && !r.verdict.path.empty() &&
                       r.verdict.path.back().direction == Direction::kEgress;
  if (egress_denied && !r.to_endpoint.empty()) {
    out += "\ningress at " + r.to_endpoint + ": not reached (denied at egress)\n";
  }
  out += "\nVERDICT  " + VerdictText(r) + "\n";
  return out;
}

}  // namespace tw::policy
