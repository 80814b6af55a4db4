// flows, dnslogs, events, events dismiss: the daemon's log store through
// the log routes (api/log_routes.h), printed as kubectl-style tables or as
// the records themselves (-o json|yaml: {"items": [...]} exactly as the
// server sent them).
//
// Every string in a log came from the network or from a feed: cells go
// through SafeText() and JSON output through EscapeJsonForTerminal(), so no
// record can send escape sequences to the user's terminal.  YAML output
// double-quotes and escapes control characters itself, but shows the
// bidirectional overrides (U+202A-202E, U+2066-2069) as they are.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "base/clock.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "model/codec.h"

namespace tw::cli {

namespace json = boost::json;

namespace {

constexpr std::string_view kApiPrefix = "/threatwall/v1/";

// ---------------------------------------------------------------- escaping

// Code points a terminal acts on: C0 and C1 controls, DEL, and the
// bidirectional overrides/isolates that reorder what is shown.
bool IsTerminalControl(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

std::string Hex(const char* format, uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::string SafeText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(s, i, &cp);
    if (n == 0) {  // not UTF-8: the byte itself
      out += Hex("\\x%02x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x80 && IsTerminalControl(cp)) {
      out += Hex("\\x%02x", cp);
    } else if (IsTerminalControl(cp)) {
      out += Hex("\\u%04x", cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string EscapeJsonForTerminal(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (size_t i = 0; i < json_text.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8(json_text, i, &cp);
    if (n == 0) {  // the CLI's JSON printer never emits this; be safe anyway
      out += "\\ufffd";
      ++i;
      continue;
    }
    // Below 0x20 the printer has escaped already (raw ones would be
    // invalid JSON inside strings, and are whitespace outside them).
    if (cp >= 0x20 && IsTerminalControl(cp)) {
      out += Hex("\\u%04x", cp);
    } else {
      out.append(json_text.substr(i, n));
    }
    i += n;
  }
  return out;
}

namespace {

// ---------------------------------------------------------------- fields

const json::value* Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

const json::value* Nested(const json::object& o, std::string_view key, std::string_view inner) {
  const json::value* v = Field(o, key);
  return v != nullptr && v->is_object() ? Field(v->as_object(), inner) : nullptr;
}

// A scalar as text ("" when absent or null); objects/arrays as JSON.
std::string Text(const json::value* v) {
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  return CellText(*v);
}
std::string Text(const json::object& o, std::string_view key) { return Text(Field(o, key)); }

// A cell: escaped, "-" when empty.
std::string Cell(std::string_view text) { return text.empty() ? "-" : SafeText(text); }

// The strings of an array joined by `sep` (other elements as text).
std::string JoinArray(const json::value* v, std::string_view sep) {
  if (v == nullptr || !v->is_array()) return Text(v);
  std::vector<std::string> parts;
  for (const json::value& e : v->as_array()) parts.push_back(Text(&e));
  return Join(parts, sep);
}

// Labels as Calico writes them ({"labels": ["k=v", ...]}), a plain list,
// or a {"k": "v"} map: "k=v,k2=v2".
std::string LabelsText(const json::value* v) {
  if (v == nullptr) return "";
  if (v->is_object()) {
    const json::object& o = v->as_object();
    if (const json::value* list = o.if_contains("labels"); list != nullptr && list->is_array()) {
      return JoinArray(list, ",");
    }
    std::vector<std::string> parts;
    for (const auto& kv : o) parts.push_back(std::string(kv.key()) + "=" + Text(&kv.value()));
    return Join(parts, ",");
  }
  return JoinArray(v, ",");
}

// Unix seconds (a number) or an RFC 3339 string, as RFC 3339 UTC seconds.
std::string TimeText(const json::value* v) {
  if (v == nullptr) return "";
  if (v->is_number()) {
    double secs = v->to_number<double>();
    if (!std::isfinite(secs) || std::fabs(secs) > 1e12) return Text(v);
    return FormatRfc3339(std::chrono::system_clock::time_point(
        std::chrono::seconds(static_cast<int64_t>(std::floor(secs)))));
  }
  if (v->is_string()) {
    if (auto t = ParseRfc3339(v->as_string())) return FormatRfc3339(*t);
  }
  return Text(v);
}

// One side of a record: "NS/NAME" for a pod, else the address, else the
// (set or aggregated) name.  `prefix` is "source_", "dest_" or "client_".
std::string EndpointText(const json::object& r, std::string_view prefix) {
  auto get = [&](std::string_view field) {
    std::string s = Text(r, std::string(prefix) + std::string(field));
    return s == "-" ? std::string() : s;
  };
  std::string name = get("name"), ns = get("namespace"), ip = get("ip"), type = get("type");
  auto qualified = [&](const std::string& n) { return ns.empty() ? n : ns + "/" + n; };
  if (!name.empty() && (type.empty() || type == "wep")) return qualified(name);
  if (!ip.empty()) return ip;
  if (!name.empty()) return qualified(name);
  std::string aggr = get("name_aggr");
  return aggr.empty() ? "" : qualified(aggr);
}

// "IN/OUT" of two counters ("-" parts when absent).
std::string InOut(const json::object& r, std::string_view in, std::string_view out) {
  std::string a = Text(r, in), b = Text(r, out);
  return (a.empty() ? "-" : a) + "/" + (b.empty() ? "-" : b);
}

// The policy that decided: the last enforced policy hit without its hit
// index ("security|security.block-snort|deny|0").
std::string DecidingPolicy(const json::object& r) {
  const json::value* list = Nested(r, "policies", "enforced_policies");
  if (list == nullptr || !list->is_array() || list->as_array().empty()) return "";
  std::string hit = Text(&list->as_array().back());
  size_t bar = hit.find('|');
  bool indexed = bar != std::string::npos && bar > 0 &&
                 std::all_of(hit.begin(), hit.begin() + static_cast<long>(bar), [](char c) { return c >= '0' && c <= '9'; });
  return indexed ? hit.substr(bar + 1) : hit;
}

// Nanoseconds as "350us", "12.3ms", "1.5s".
std::string LatencyText(const json::value* v) {
  if (v == nullptr || !v->is_number()) return Text(v);
  double ns = v->to_number<double>();
  char buf[32];
  if (ns < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0fus", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", ns / 1e9);
  }
  return buf;
}

// ---------------------------------------------------------------- tables

TextTable FlowsTable(const json::array& items, bool wide) {
  TextTable t;
  t.header = {"TIME", "SOURCE", "DEST", "PORT", "PROTO", "ACTION", "REPORTER", "POLICY", "PACKETS", "BYTES"};
  if (wide) {
    for (const char* h : {"SOURCE_LABELS", "DEST_LABELS", "ALL_POLICIES", "FLOWS", "STARTED", "COMPLETED"})
      t.header.push_back(h);
  }
  for (const json::value& item : items) {
    if (!item.is_object()) continue;
    const json::object& r = item.as_object();
    const json::value* time = Field(r, "end_time");
    std::vector<std::string> row = {
        Cell(TimeText(time != nullptr ? time : Field(r, "start_time"))),
        Cell(EndpointText(r, "source_")),
        Cell(EndpointText(r, "dest_")),
        Cell(Text(r, "dest_port")),
        Cell(Text(r, "proto")),
        Cell(Text(r, "action")),
        Cell(Text(r, "reporter")),
        Cell(DecidingPolicy(r)),
        SafeText(InOut(r, "packets_in", "packets_out")),
        SafeText(InOut(r, "bytes_in", "bytes_out")),
    };
    if (wide) {
      row.push_back(Cell(LabelsText(Field(r, "source_labels"))));
      row.push_back(Cell(LabelsText(Field(r, "dest_labels"))));
      row.push_back(Cell(JoinArray(Nested(r, "policies", "all_policies"), ",")));
      row.push_back(Cell(Text(r, "num_flows")));
      row.push_back(Cell(Text(r, "num_flows_started")));
      row.push_back(Cell(Text(r, "num_flows_completed")));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

// Every rdata of the answer's rrsets.
std::string AnswersText(const json::object& r) {
  const json::value* rrsets = Field(r, "rrsets");
  if (rrsets == nullptr || !rrsets->is_array()) return "";
  std::vector<std::string> parts;
  for (const json::value& set : rrsets->as_array()) {
    if (!set.is_object()) continue;
    const json::value* rdata = Field(set.as_object(), "rdata");
    if (rdata != nullptr && rdata->is_array()) {
      for (const json::value& d : rdata->as_array()) parts.push_back(Text(&d));
    } else if (rdata != nullptr) {
      parts.push_back(Text(rdata));
    }
  }
  return Join(parts, ",");
}

std::string ServersText(const json::object& r) {
  const json::value* servers = Field(r, "servers");
  if (servers == nullptr || !servers->is_array()) return "";
  std::vector<std::string> parts;
  for (const json::value& s : servers->as_array()) {
    if (!s.is_object()) continue;
    std::string name = Text(s.as_object(), "name"), ip = Text(s.as_object(), "ip");
    parts.push_back(!name.empty() && name != "-" ? name : ip);
  }
  return Join(parts, ",");
}

TextTable DnsTable(const json::array& items, bool wide) {
  TextTable t;
  t.header = {"TIME", "CLIENT", "QNAME", "QTYPE", "RCODE", "ANSWERS", "LATENCY", "COUNT"};
  if (wide) t.header.insert(t.header.end(), {"SERVERS", "CLIENT_LABELS"});
  for (const json::value& item : items) {
    if (!item.is_object()) continue;
    const json::object& r = item.as_object();
    const json::value* time = Field(r, "end_time");
    const json::value* latency = Nested(r, "latency", "mean");
    if (latency == nullptr) latency = Field(r, "latency_mean");
    std::vector<std::string> row = {
        Cell(TimeText(time != nullptr ? time : Field(r, "start_time"))),
        Cell(EndpointText(r, "client_")),
        Cell(Text(r, "qname")),
        Cell(Text(r, "qtype")),
        Cell(Text(r, "rcode")),
        Cell(AnswersText(r)),
        Cell(LatencyText(latency)),
        Cell(Text(r, "count")),
    };
    if (wide) {
      row.push_back(Cell(ServersText(r)));
      row.push_back(Cell(LabelsText(Field(r, "client_labels"))));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

// The pod labels of an event: its own "labels", else the source's and the
// destination's ("src: ...; dst: ...").
std::string EventLabelsText(const json::object& r) {
  if (const json::value* own = Field(r, "labels")) return LabelsText(own);
  std::string src = LabelsText(Field(r, "source_labels")), dst = LabelsText(Field(r, "dest_labels"));
  if (src.empty() || dst.empty()) return src + dst;
  return "src: " + src + "; dst: " + dst;
}

TextTable EventsTable(const json::array& items, bool wide, bool with_dismissed) {
  TextTable t;
  t.header = {"ID", "TIME", "TYPE", "SOURCE", "DEST", "FEEDS", "ACTION"};
  if (with_dismissed) t.header.push_back("DISMISSED");
  if (wide) t.header.insert(t.header.end(), {"SEVERITY", "MITRE", "LABELS", "MITIGATIONS"});
  t.header.push_back("DESCRIPTION");
  for (const json::value& item : items) {
    if (!item.is_object()) continue;
    const json::object& r = item.as_object();
    std::vector<std::string> row = {
        Cell(Text(r, "id")),
        Cell(TimeText(Field(r, "time"))),
        Cell(Text(r, "type")),
        Cell(EndpointText(r, "source_")),
        Cell(EndpointText(r, "dest_")),
        Cell(JoinArray(Nested(r, "record", "feeds"), ",")),
        Cell(Text(Nested(r, "record", "flow_action"))),
    };
    if (with_dismissed) {
      const json::value* d = Field(r, "dismissed");
      row.push_back(d != nullptr && d->is_bool() && d->as_bool() ? "true" : "false");
    }
    if (wide) {
      std::string mitre = JoinArray(Field(r, "mitre_ids"), ",");
      if (std::string tactic = Text(r, "mitre_tactic"); !tactic.empty()) {
        mitre += (mitre.empty() ? "" : " ") + ("(" + tactic + ")");
      }
      row.push_back(Cell(Text(r, "severity")));
      row.push_back(Cell(mitre));
      row.push_back(Cell(EventLabelsText(r)));
      row.push_back(Cell(JoinArray(Field(r, "mitigations"), " | ")));
    }
    row.push_back(Cell(Text(r, "description")));
    t.rows.push_back(std::move(row));
  }
  return t;
}

// ---------------------------------------------------------------- requests

// A flag copied to a query parameter when given.
struct FlagParam {
  std::string_view flag, param;
};

// "NS/NAME" as given, or NAME in `ns`.
std::string PodParam(const std::string& pod, const std::string& ns) {
  return pod.find('/') != std::string::npos ? pod : ns + "/" + pod;
}

}  // namespace

Result<std::string> LogsRequestPath(std::string_view command, const ParsedArgs& args) {
  std::vector<std::pair<std::string, std::string>> query;
  auto copy = [&](std::initializer_list<FlagParam> flags) {
    for (const FlagParam& f : flags) {
      if (args.Has(f.flag)) query.emplace_back(std::string(f.param), args.Get(f.flag));
    }
  };
  copy({{"since", "since"}, {"until", "until"}});
  std::string route;
  if (command == "flows") {
    route = "flowlogs";
    if (args.Has("action")) {
      std::string action = args.Get("action");
      if (action != "allow" && action != "deny") {
        return Status::InvalidArgument("--action " + Quote(action) + ": must be allow or deny");
      }
    }
    copy({{"action", "action"}, {"policy", "policy"}, {"reporter", "reporter"}, {"protocol", "proto"}});
    if (args.Has("pod")) query.emplace_back("pod", PodParam(args.Get("pod"), args.Get("namespace", "default")));
    if (args.Has("namespace")) query.emplace_back("namespace", args.Get("namespace"));
  } else if (command == "dnslogs") {
    route = "dnslogs";
    copy({{"qname", "qname"}, {"qtype", "qtype"}, {"rcode", "rcode"}});
    if (args.Has("pod")) query.emplace_back("pod", PodParam(args.Get("pod"), args.Get("namespace", "default")));
    if (args.Has("namespace")) query.emplace_back("client_namespace", args.Get("namespace"));
  } else {
    route = "events";
    copy({{"type", "type"}, {"feed", "feed"}});
    if (args.Has("pod")) query.emplace_back("pod", PodParam(args.Get("pod"), "default"));
    if (!args.Has("all")) query.emplace_back("dismissed", "false");
  }
  copy({{"limit", "limit"}});
  return PathWithQuery(std::string(kApiPrefix) + route, query);
}

namespace {

// What the server's error means for the user; kExitFailure.
int ServerError(const Context& ctx, const ApiClient& api, const ApiResponse& r, std::string_view route) {
  if (r.code == 404 && r.Message() == "the server could not find the requested resource") {
    return ctx.Fail("the server at " + api.server().text + " has no log API (" + std::string(kApiPrefix) +
                    std::string(route) + "): is threatwalld older than this CLI?");
  }
  *ctx.err << SafeText(r.ErrorLine()) << "\n";
  return kExitFailure;
}

int Dismiss(Context& ctx) {
  std::vector<std::string> ids(ctx.args.positionals.begin() + 1, ctx.args.positionals.end());
  if (ids.empty()) return ctx.Usage("dismiss needs at least one event ID (the ID column of `threatwall events`)");
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  int code = kExitOk;
  for (const std::string& id : ids) {
    auto r = api->Call("POST", std::string(kApiPrefix) + "events/" + EscapeQuery(id) + "/dismiss");
    if (!r) return ctx.Fail(r.error().message());
    if (!r->ok()) {
      code = ServerError(ctx, *api, *r, "events/ID/dismiss");
      continue;
    }
    *ctx.out << "event " << SafeText(id) << " dismissed\n";
  }
  return code;
}

int RunLogs(Context& ctx) {
  std::string output = ctx.args.Get("output");
  if (output != "" && output != "wide" && output != "json" && output != "yaml") {
    return ctx.Usage("--output " + Quote(output) + ": must be wide, json or yaml");
  }
  if (!ctx.args.positionals.empty()) return ctx.Usage("unexpected argument " + Quote(ctx.args.positionals[0]));
  auto path = LogsRequestPath(ctx.command, ctx.args);
  if (!path) return ctx.Usage(path.error().message());
  auto api = ctx.Client();
  if (!api) return ctx.Fail(api.error().message());
  auto r = api->Call("GET", *path);
  if (!r) return ctx.Fail(r.error().message());
  std::string route = path->substr(kApiPrefix.size(), path->find('?') - kApiPrefix.size());
  if (!r->ok()) return ServerError(ctx, *api, *r, route);
  const json::value* items = r->body.is_object() ? r->body.as_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) return ctx.Fail("the server's answer has no items list");
  if (output == "json") {
    *ctx.out << EscapeJsonForTerminal(model::ToPrettyJson(r->body)) << "\n";
    return kExitOk;
  }
  if (output == "yaml") {
    *ctx.out << model::ToYaml(r->body);
    return kExitOk;
  }
  const json::array& list = items->as_array();
  if (list.empty()) {
    std::string_view what = ctx.command == "flows" ? "flow logs" : ctx.command == "dnslogs" ? "DNS logs" : "events";
    *ctx.err << "No " << what << " found.\n";
    return kExitOk;
  }
  bool wide = output == "wide";
  TextTable table = ctx.command == "flows"   ? FlowsTable(list, wide)
                    : ctx.command == "dnslogs" ? DnsTable(list, wide)
                                               : EventsTable(list, wide, ctx.args.Has("all"));
  if (ctx.args.Has("no-headers")) table.header.clear();
  *ctx.out << RenderTable(table);
  return kExitOk;
}

}  // namespace

int RunFlows(Context& ctx) { return RunLogs(ctx); }

int RunDnsLogs(Context& ctx) { return RunLogs(ctx); }

int RunEvents(Context& ctx) {
  if (!ctx.args.positionals.empty() && ctx.args.positionals[0] == "dismiss") return Dismiss(ctx);
  return RunLogs(ctx);
}

}  // namespace tw::cli
