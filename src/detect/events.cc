#include "detect/events.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/clock.h"
#include "base/strings.h"

namespace tw::detect {

namespace json = boost::json;

namespace {

const json::value* Field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

// A field as Go's StringPtrWrapper / Int64PtrWrapper print it: the text or
// number, "-" when null or absent.
std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = Field(o, key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  if (v->is_double()) return std::to_string(static_cast<int64_t>(v->as_double()));
  return json::serialize(*v);
}

// A plain string field ("" when absent or not a string).
std::string_view String(const json::object& o, std::string_view key) {
  const json::value* v = Field(o, key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

// Copies o[key] into `out` under `as` unless it is absent, null or "" (Go's
// omitempty on the event's pointer and string fields).
void CopyField(const json::object& from, std::string_view key, json::object& out, std::string_view as) {
  const json::value* v = Field(from, key);
  if (v == nullptr || v->is_null()) return;
  if (v->is_string() && v->as_string().empty()) return;
  out[as] = *v;
}

json::array StringArray(const std::vector<std::string>& items) {
  json::array a;
  a.reserve(items.size());
  for (const std::string& s : items) a.emplace_back(s);
  return a;
}

std::vector<std::string> Union(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The common head of both event types.
json::object EventHead(std::string id, int64_t detected, std::string_view type, std::string description,
                       std::string_view origin, std::string_view mitre_tactic, std::string_view mitre_id,
                       std::string_view mitigation) {
  json::object e;
  e["id"] = std::move(id);
  e["time"] = detected;
  e["type"] = type;
  e["description"] = std::move(description);
  e["severity"] = 100;
  e["origin"] = origin;
  e["name"] = origin;
  e["attack_vector"] = "Network";
  e["mitre_tactic"] = mitre_tactic;
  e["mitre_ids"] = json::array{json::value(mitre_id)};
  e["mitigations"] = json::array{json::value(mitigation)};
  return e;
}

bool ParseIp(const json::object& o, std::string_view key, net::IpAddr* out) {
  const json::value* v = Field(o, key);
  if (v == nullptr || !v->is_string()) return false;
  return net::TryParseIpAddr(std::string_view(v->as_string()), out) == net::ParseError::kOk;
}

std::optional<SideHit> SideOf(const ThreatIndex& index, const net::IpAddr& a) {
  IpMatch m = index.MatchIp(a);
  if (m.feeds.empty()) return std::nullopt;
  return SideHit{index.NamesOf(m.feeds), m.prefix ? m.prefix->ToString() : std::string()};
}


}  // namespace

int64_t StartTimeUnix(const json::object& record) {
  const json::value* v = Field(record, "start_time");
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(std::floor(v->as_double()));
  if (v->is_string()) {
    auto t = ParseRfc3339(std::string_view(v->as_string()));
    if (t) return std::chrono::floor<std::chrono::seconds>(t->time_since_epoch()).count();
  }
  return 0;
}

json::object BuildFlowEvent(const json::object& flow, const FlowHit& hit, int64_t detected_unix) {
  static const std::vector<std::string> kNone;
  const std::vector<std::string>& src_feeds = hit.source ? hit.source->feeds : kNone;
  const std::vector<std::string>& dst_feeds = hit.dest ? hit.dest->feeds : kNone;
  std::vector<std::string> feeds = Union(src_feeds, dst_feeds);

  std::string description;
  std::string prefix;
  if (hit.source) {
    description = "suspicious IP " + Text(flow, "source_ip") + ", listed in Global Threat Feed " +
                  Join(src_feeds, ", ") + ", connected to " + Text(flow, "dest_namespace") + "/" +
                  Text(flow, "dest_name");
    prefix = hit.source->prefix;
  } else {
    description = "pod " + Text(flow, "source_namespace") + "/" + Text(flow, "source_name") +
                  " connected to suspicious IP " + Text(flow, "dest_ip") + " which is listed in Global Threat Feed " +
                  Join(dst_feeds, ", ");
    prefix = hit.dest ? hit.dest->prefix : std::string();
  }
  std::string proto = Text(flow, "proto");
  std::string id = (feeds.empty() ? std::string("unknown") : Join(feeds, "~")) + "_" +
                   std::to_string(StartTimeUnix(flow)) + "_" + proto + "_" + Text(flow, "source_ip") + "_" +
                   Text(flow, "source_port") + "_" + Text(flow, "dest_ip") + "_" + Text(flow, "dest_port");

  bool dst_reporter = String(flow, "reporter") == "dst";
  std::string_view action = String(flow, "action");
  // Ours: an allowed and a denied flow of the same interval and addresses
  // (a connection before and after a policy) would share Calico's id, and
  // the second event would be lost as a duplicate.
  if (action == "deny") id += "_deny";
  std::string_view mitigation =
      action == "deny" ? "No mitigation needed. This network traffic was blocked by Calico"
      : dst_reporter   ? "Create a global network policy to prevent traffic to this IP address"
                       : "Create a global network policy to prevent traffic from this IP address";
  json::object e = EventHead(std::move(id), detected_unix, kSuspiciousFlowType, std::move(description),
                             "Suspicious Flow", dst_reporter ? "Command and Control" : "Exfiltration",
                             dst_reporter ? "T1090" : "T1041", mitigation);
  for (std::string_view side : {"source", "dest"}) {
    for (std::string_view field : {"_ip", "_port", "_namespace", "_name", "_name_aggr", "_labels"}) {
      std::string key = std::string(side) + std::string(field);
      CopyField(flow, key, e, key);
    }
  }
  json::object record;
  record["flow_action"] = action;
  record["flow_log_id"] = Text(flow, "id") == "-" ? std::string() : Text(flow, "id");
  record["protocol"] = proto == "-" ? std::string() : proto;
  record["feeds"] = StringArray(feeds);
  record["suspicious_prefix"] = prefix.empty() ? json::value(nullptr) : json::value(prefix);
  e["record"] = std::move(record);
  return e;
}

json::object BuildDnsEvent(const json::object& dns, const DnsHit& hit, int64_t detected_unix) {
  std::string_view ns = String(dns, "client_namespace");
  std::string_view client_name = String(dns, "client_name");
  std::string source_name(client_name == "-" || client_name.empty() ? String(dns, "client_name_aggr")
                                                                    : client_name);
  std::string feeds = Join(hit.feeds, ", ");
  std::string domains = Join(hit.domains, ", ");
  std::string who = std::string(ns) + "/" + source_name;
  std::string description;
  switch (hit.kind) {
    case DnsHitKind::kQname:
      description = who + " queried the domain name " + (hit.domains.empty() ? std::string() : hit.domains[0]) +
                    " from global threat feed(s) " + feeds;
      break;
    case DnsHitKind::kRrsetName:
      description = "A request originating from " + who + " queried the domain name " + domains +
                    ", which is listed in the threat feed " + feeds;
      break;
    case DnsHitKind::kRdata:
      description = who + " got DNS query results including suspicious domain(s) " + domains +
                    " from global threat feed(s) " + feeds;
      break;
  }
  std::string id = (hit.feeds.empty() ? std::string("unknown") : Join(hit.feeds, "~")) + "_" +
                   std::to_string(StartTimeUnix(dns)) + "_" + Text(dns, "client_ip") + "_" +
                   (hit.domains.empty() ? std::string("unknown") : Join(hit.domains, "~"));
  json::object e = EventHead(std::move(id), detected_unix, kSuspiciousDnsType, std::move(description),
                             "Suspicious DNS Query", "Exfiltration", "T1041",
                             "Create a global network policy to prevent traffic from this IP address");
  CopyField(dns, "client_ip", e, "source_ip");
  CopyField(dns, "client_namespace", e, "source_namespace");
  if (source_name.ends_with('*')) source_name = "-";
  if (!source_name.empty()) e["source_name"] = source_name;
  CopyField(dns, "client_name_aggr", e, "source_name_aggr");
  CopyField(dns, "client_labels", e, "source_labels");
  json::object record;
  record["dns_log_id"] = Text(dns, "id") == "-" ? std::string() : Text(dns, "id");
  record["feeds"] = StringArray(hit.feeds);
  record["suspicious_domains"] = StringArray(hit.domains);
  e["record"] = std::move(record);
  return e;
}

std::optional<FlowHit> MatchFlow(const ThreatIndex& index, const json::object& flow) {
  if (!index.has_ip_feeds()) return std::nullopt;
  FlowHit hit;
  net::IpAddr a;
  if (ParseIp(flow, "source_ip", &a)) hit.source = SideOf(index, a);
  if (ParseIp(flow, "dest_ip", &a)) hit.dest = SideOf(index, a);
  if (!hit.source && !hit.dest) return std::nullopt;
  return hit;
}

std::vector<std::pair<size_t, FlowHit>> MatchFlows(const ThreatIndex& index, std::span<const json::object> flows) {
  std::vector<std::pair<size_t, FlowHit>> out;
  if (!index.has_ip_feeds() || flows.empty()) return out;
  // Every address of the batch: IPv4 ones through the batched matcher,
  // IPv6 ones one by one; only records with a listed address go on.
  std::vector<uint32_t> keys;
  std::vector<uint32_t> key_record;  // position of the record a key came from
  std::vector<uint8_t> candidate(flows.size(), 0);
  keys.reserve(flows.size() * 2);
  key_record.reserve(flows.size() * 2);
  for (size_t i = 0; i < flows.size(); ++i) {
    for (std::string_view key : {"source_ip", "dest_ip"}) {
      net::IpAddr a;
      if (!ParseIp(flows[i], key, &a)) continue;
      if (a.is_v4()) {
        keys.push_back(a.v4());
        key_record.push_back(static_cast<uint32_t>(i));
      } else if (index.ContainsIp(a)) {
        candidate[i] = 1;
      }
    }
  }
  std::vector<uint8_t> listed(keys.size());
  index.ContainsBatchV4(keys, listed);
  for (size_t k = 0; k < keys.size(); ++k)
    if (listed[k]) candidate[key_record[k]] = 1;
  for (size_t i = 0; i < flows.size(); ++i) {
    if (!candidate[i]) continue;
    if (auto hit = MatchFlow(index, flows[i])) out.emplace_back(i, std::move(*hit));
  }
  return out;
}

std::vector<DnsHit> MatchDns(const ThreatIndex& index, const json::object& dns) {
  std::vector<DnsHit> out;
  if (!index.has_domain_feeds()) return out;
  // The candidates of each level: qname, rrset names, rdata values.
  std::vector<std::string> levels[3];
  if (std::string q = CanonicalDomain(String(dns, "qname")); !q.empty()) levels[0].push_back(std::move(q));
  if (const json::value* rrsets = Field(dns, "rrsets"); rrsets != nullptr && rrsets->is_array()) {
    for (const json::value& rr : rrsets->as_array()) {
      if (!rr.is_object()) continue;
      if (std::string n = CanonicalDomain(String(rr.as_object(), "name")); !n.empty()) levels[1].push_back(std::move(n));
      const json::value* values = Field(rr.as_object(), "rdata");
      if (values == nullptr || !values->is_array()) continue;
      for (const json::value& v : values->as_array())
        if (v.is_string())
          if (std::string d = CanonicalDomain(std::string_view(v.as_string())); !d.empty())
            levels[2].push_back(std::move(d));
    }
  }
  // Per feed: the first level that matched and the names that matched there.
  std::map<ThreatIndex::FeedId, std::pair<int, std::vector<std::string>>> per_feed;
  for (int level = 0; level < 3; ++level) {
    std::vector<std::string>& names = levels[level];
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string& name : names)
      for (ThreatIndex::FeedId id : index.MatchDomain(name)) {
        auto [it, inserted] = per_feed.try_emplace(id, level, std::vector<std::string>());
        if (it->second.first == level) it->second.second.push_back(name);  // names are sorted
      }
  }
  // Feeds with the same (level, names) share a hit; feed ids ascend.
  std::map<std::pair<int, std::vector<std::string>>, std::vector<ThreatIndex::FeedId>> groups;
  for (const auto& [id, hit] : per_feed) groups[hit].push_back(id);
  for (auto& [hit, ids] : groups) {
    DnsHit h;
    h.kind = static_cast<DnsHitKind>(hit.first);
    h.domains = hit.second;
    h.feeds = index.NamesOf(ids);
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace tw::detect
