#include "flowlog/flows.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <set>
#include <utility>

#include "base/strings.h"
#include "flowlog/packet.h"

namespace tw::flowlog {
namespace {

namespace json = boost::json;

bool IsIcmp(uint8_t proto) { return proto == kProtoIcmp || proto == kProtoIcmpv6; }

FlowTuple Normalised(FlowTuple t) {
  if (IsIcmp(t.proto)) t.sport = t.dport = 0;
  return t;
}

// Protocols with ports (DCCP is 33).
bool HasPorts(uint8_t proto) {
  return proto == kProtoTcp || proto == kProtoUdp || proto == 33 || proto == kProtoSctp || proto == kProtoUdpLite;
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

int64_t UnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool Terminal(const PolicyHit& h) {
  return h.known && !h.staged && (h.action == "allow" || h.action == "deny");
}

std::string HitString(size_t index, const PolicyHit& h) {
  return std::to_string(index) + "|" + h.tier + "|" + h.name + "|" + h.action + "|" + std::to_string(h.rule_index);
}

// "ns/staged:tier.x" -> "ns/tier.x"; "" when `key` is not a staged name.
std::string EnforcedTwin(std::string_view key) {
  size_t at = key.find("staged:");
  if (at == std::string_view::npos) return "";
  return std::string(key.substr(0, at)) + std::string(key.substr(at + 7));
}

std::vector<const PolicyHit*> PendingHits(const std::vector<PolicyHit>& hits) {
  std::set<std::string, std::less<>> twins;
  for (const PolicyHit& h : hits) {
    if (h.staged) twins.insert(EnforcedTwin(h.name));
  }
  std::vector<const PolicyHit*> out;
  const PolicyHit* tentative = nullptr;  // a staged no-match: end-of-tier deny unless overridden
  std::string_view skip_tier;  // after a pass: the rest of this tier is skipped
  bool skipping = false;
  for (const PolicyHit& h : hits) {
    if (!h.staged && h.rule_index >= 0 && twins.contains(h.name)) continue;  // replaced by its staged twin
    if (tentative != nullptr && h.tier != tentative->tier) {
      out.push_back(tentative);
      return out;
    }
    if (skipping) {
      if (h.tier == skip_tier) continue;
      skipping = false;
    }
    if (h.rule_index == -1 && h.staged) {
      if (h.action == "deny") {  // the staged policy's no-match
        tentative = &h;
        continue;
      }
      // The pass at the end of a tier of staged policies only: the tier ends.
      if (tentative != nullptr) {
        out.push_back(tentative);
        return out;
      }
      continue;
    }
    if (h.rule_index == -1 && tentative != nullptr) {  // the tier's own end, after a staged no-match
      out.push_back(tentative);
      return out;
    }
    tentative = nullptr;
    out.push_back(&h);
    if (h.action == "allow" || (h.action == "deny" && h.known)) return out;
    if (h.action == "pass") {
      skip_tier = h.tier;
      skipping = true;
    }
  }
  if (tentative != nullptr) out.push_back(tentative);
  return out;
}

json::value LabelsValue(const EndpointInfo& e, const std::vector<std::string>& labels) {
  if (e.type == "net") return nullptr;
  json::array arr;
  for (const std::string& l : labels) arr.emplace_back(l);
  return json::object{{"labels", std::move(arr)}};
}

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const std::string& s : v) a.emplace_back(s);
  return a;
}

void AppendField(std::string* key, std::string_view field) {
  key->append(field);
  key->push_back('\x1f');
}

}  // namespace

PolicyStrings FormatPolicyHits(const std::vector<PolicyHit>& hits) {
  PolicyStrings out;
  for (size_t i = 0; i < hits.size(); ++i) {
    out.all.push_back(HitString(i, hits[i]));
    if (!hits[i].staged) out.enforced.push_back(HitString(out.enforced.size(), hits[i]));
  }
  std::vector<const PolicyHit*> pending = PendingHits(hits);
  for (size_t i = 0; i < pending.size(); ++i) out.pending.push_back(HitString(i, *pending[i]));
  return out;
}

Status ValidateFlowAggregatorOptions(const FlowAggregatorOptions& o) {
  auto kind = [](std::string_view field, int v) -> Status {
    if (v < 0 || v > 3) {
      return Status::InvalidArgument("flow aggregation: " + std::string(field) + ": " + std::to_string(v) +
                                     " is not an aggregation kind (0-3)");
    }
    return Status();
  };
  if (Status s = kind("aggregation_allowed", o.aggregation_allowed); !s.ok()) return s;
  if (Status s = kind("aggregation_denied", o.aggregation_denied); !s.ok()) return s;
  if (o.idle_intervals < 1) {
    return Status::InvalidArgument("flow aggregation: idle_intervals: " + std::to_string(o.idle_intervals) +
                                   " must be at least 1");
  }
  return Status();
}

// Counters of one direction, cumulative.
struct Counts {
  uint64_t packets = 0, bytes = 0;
};

// An ordered hit list and its aggregation-key form.
struct FlowAggregator::Trace {
  std::vector<PolicyHit> hits;
  std::string key;
};

struct FlowAggregator::Connection {
  ConnKey key;
  std::shared_ptr<const EndpointInfo> src, dst;
  // The committed trace (null until the first traversal closes).
  std::shared_ptr<const Trace> trace;
  bool allow = false;
  // The traversal being read: while it agrees with the trace only `open_n`
  // counts; once it differs its own copy is in `open_hits`.
  bool open = false;
  bool open_diverged = false;
  size_t open_n = 0;
  std::vector<PolicyHit> open_hits;
  uint32_t open_bytes = 0;
  // Cumulative counters (orig / reply direction) and what was reported.
  Counts orig, reply, reported_orig, reported_reply;
  bool conntrack_seen = false;
  // Interval state.
  bool started = true;  // not reported yet as started
  bool active = false;  // news since the last flush
  bool ended = false;
  int idle = 0;

  const PolicyHit& OpenHit(size_t i) const { return open_diverged ? open_hits[i] : trace->hits[i]; }
  bool committed() const { return trace != nullptr; }
  size_t OpenSize() const { return open_diverged ? open_hits.size() : open_n; }
};

struct FlowAggregator::Aggregate {
  const Connection* first = nullptr;
  int kind = 1;
  std::vector<std::string> src_labels, dst_labels;
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t flows = 0, started = 0, completed = 0;
};

size_t FlowAggregator::ConnKeyHash::operator()(const ConnKey& k) const noexcept {
  IpAddrHash h;
  size_t v = h(k.tuple.src) * 31 + h(k.tuple.dst);
  v ^= (static_cast<size_t>(k.tuple.sport) << 24) ^ (static_cast<size_t>(k.tuple.dport) << 8) ^ k.tuple.proto;
  v ^= k.dst ? 0x9e3779b97f4a7c15ull : 0;
  return v * 0xff51afd7ed558ccdull;
}

FlowAggregator::FlowAggregator(FlowAggregatorOptions options) : options_(std::move(options)) {
  options_.aggregation_allowed = std::clamp(options_.aggregation_allowed, 0, 3);
  options_.aggregation_denied = std::clamp(options_.aggregation_denied, 0, 3);
  options_.idle_intervals = std::max(options_.idle_intervals, 1);
}

FlowAggregator::~FlowAggregator() = default;

void FlowAggregator::SetContext(std::shared_ptr<const FlowContext> context) { context_ = std::move(context); }

FlowAggregatorStats FlowAggregator::stats() const {
  FlowAggregatorStats s = stats_;
  s.connections = connections_.size();
  return s;
}

FlowAggregator::Connection& FlowAggregator::FindOrCreate(const ConnKey& key) {
  auto [it, inserted] = connections_.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<Connection>();
    Connection& c = *it->second;
    c.key = key;
    c.src = context_ ? context_->FindShared(key.tuple.src) : PlainAddressInfo(key.tuple.src);
    c.dst = context_ ? context_->FindShared(key.tuple.dst) : PlainAddressInfo(key.tuple.dst);
  }
  return *it->second;
}

void FlowAggregator::AddPolicyPacket(const PolicyPacket& packet) {
  ++stats_.packets;
  if (!first_event_ || packet.time < *first_event_) first_event_ = packet.time;
  const PolicyHit* hit = context_ ? context_->FindHit(packet.iface, packet.direction, packet.prefix) : nullptr;
  PolicyHit decoded;
  if (hit == nullptr) {
    decoded = DecodePolicyHit(packet.prefix);
    hit = &decoded;
  }
  if (hit->known) {
    ++stats_.hits;
  } else {
    ++stats_.unknown_prefixes;
  }
  ConnKey key{Normalised(packet.tuple), packet.direction == policy::Direction::kIngress};
  Connection* c = &FindOrCreate(key);
  if (c->ended && !c->open) {  // the tuple is reused by a new connection
    Retire(*c);
    c = &FindOrCreate(key);
  }
  Step(*c, *hit, packet);
}

void FlowAggregator::Step(Connection& c, const PolicyHit& hit, const PolicyPacket& packet) {
  if (c.open && c.OpenSize() > 0 && c.OpenHit(0) == hit) Close(c, /*allow=*/true);  // the next packet's walk
  if (!c.open) {
    c.open = true;
    c.open_diverged = !c.committed();
    c.open_n = 0;
    c.open_hits.clear();
    c.open_bytes = packet.ip_bytes;
  }
  if (!c.open_diverged && c.open_n < c.trace->hits.size() && c.trace->hits[c.open_n] == hit) {
    ++c.open_n;
  } else {
    if (!c.open_diverged) {
      const std::vector<PolicyHit>& hits = c.trace->hits;
      c.open_hits.assign(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(c.open_n));
      c.open_diverged = true;
    }
    c.open_hits.push_back(hit);
  }
  if (Terminal(hit)) Close(c, hit.action == "allow");
}

void FlowAggregator::Close(Connection& c, bool allow) {
  if (!c.open) return;
  c.open = false;
  const bool same = c.committed() && !c.open_diverged && c.open_n == c.trace->hits.size() && c.allow == allow;
  if (c.committed() && !same) {
    // The policy changed under the connection: report it as it was, go on
    // with the new trace as the same (not newly started) connection.
    auto old = std::make_unique<Connection>(c);
    old->open_hits.clear();
    retired_.push_back(std::move(old));
    c.reported_orig = c.orig;
    c.reported_reply = c.reply;
    c.started = false;
  }
  if (!same) {
    if (!c.open_diverged) {
      const std::vector<PolicyHit>& hits = c.trace->hits;
      c.open_hits.assign(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(c.open_n));
    }
    c.trace = Intern(std::move(c.open_hits));
    c.open_hits.clear();
    c.allow = allow;
  }
  if (!allow || !c.conntrack_seen) {
    ++c.orig.packets;
    c.orig.bytes += c.open_bytes;
  }
  c.active = true;
  c.idle = 0;
}

std::shared_ptr<const FlowAggregator::Trace> FlowAggregator::Intern(std::vector<PolicyHit> hits) {
  std::string key;
  for (const PolicyHit& h : hits) {
    key += h.tier + '\x1e' + h.name + '\x1e' + h.action + '\x1e' + std::to_string(h.rule_index) +
           (h.staged ? "\x1es" : "") + (h.known ? "" : "\x1eu") + '\x1d';
  }
  auto [it, inserted] = traces_.try_emplace(key);
  if (inserted) it->second = std::make_shared<const Trace>(Trace{std::move(hits), key});
  return it->second;
}

void FlowAggregator::Retire(Connection& c) {
  auto it = connections_.find(c.key);
  retired_.push_back(std::move(it->second));
  connections_.erase(it);
}

FlowAggregator::Connection* FlowAggregator::FindForConntrack(const FlowTuple& tuple, bool dst) {
  auto it = connections_.find(ConnKey{tuple, dst});
  return it == connections_.end() ? nullptr : it->second.get();
}

void FlowAggregator::AddConntrack(const ConntrackFlow& flow) {
  if (!first_event_ || flow.time < *first_event_) first_event_ = flow.time;
  const FlowTuple orig = Normalised(flow.orig);
  FlowTuple dnat = orig;
  dnat.dst = flow.reply.src;
  dnat.dport = IsIcmp(orig.proto) ? 0 : flow.reply.sport;
  bool matched = false;
  for (bool dst : {false, true}) {
    Connection* c = FindForConntrack(orig, dst);
    if (c == nullptr && dnat != orig) c = FindForConntrack(dnat, dst);
    if (c == nullptr) continue;
    matched = true;
    if (c->open) Close(*c, /*allow=*/true);  // confirmed by the kernel: it was allowed
    if (!c->allow) continue;                 // a denied connection has no conntrack entry of its own
    // Only news makes the connection part of the next record: a connection
    // the kernel still tracks without new packets (idle, TIME_WAIT) is kept
    // (idle = 0) but not reported again with zero counts.
    const bool news = !c->conntrack_seen || flow.packets_orig > c->orig.packets ||
                      flow.packets_reply > c->reply.packets || flow.bytes_orig > c->orig.bytes ||
                      flow.bytes_reply > c->reply.bytes || (flow.ended && !c->ended);
    c->conntrack_seen = true;
    c->orig.packets = std::max(c->orig.packets, flow.packets_orig);
    c->orig.bytes = std::max(c->orig.bytes, flow.bytes_orig);
    c->reply.packets = std::max(c->reply.packets, flow.packets_reply);
    c->reply.bytes = std::max(c->reply.bytes, flow.bytes_reply);
    c->ended = c->ended || flow.ended;
    c->active = c->active || news;
    c->idle = 0;
  }
  ++(matched ? stats_.conntrack_matched : stats_.conntrack_unmatched);
}

void FlowAggregator::Report(Connection& c, std::map<std::string, Aggregate>* out) const {
  const int kind = c.allow ? options_.aggregation_allowed : options_.aggregation_denied;
  const FlowTuple& t = c.key.tuple;
  const bool ports = HasPorts(t.proto);
  std::string key;
  key.reserve(160 + c.trace->key.size());
  AppendField(&key, c.allow ? "allow" : "deny");
  AppendField(&key, c.key.dst ? "dst" : "src");
  AppendField(&key, ProtocolName(t.proto));
  for (const EndpointInfo* e : {c.src.get(), c.dst.get()}) {
    AppendField(&key, e->type);
    AppendField(&key, e->ns);
    AppendField(&key, e->name_aggr);
  }
  if (kind <= 1) {
    AppendField(&key, c.src->name);
    AppendField(&key, t.src.ToString());
    AppendField(&key, c.dst->name);
    AppendField(&key, t.dst.ToString());
  }
  if (kind == 0 && ports) AppendField(&key, std::to_string(t.sport));
  if (kind <= 2 && ports) AppendField(&key, std::to_string(t.dport));
  key += c.trace->key;

  const Counts orig{c.orig.packets - std::min(c.orig.packets, c.reported_orig.packets),
                    c.orig.bytes - std::min(c.orig.bytes, c.reported_orig.bytes)};
  const Counts reply{c.reply.packets - std::min(c.reply.packets, c.reported_reply.packets),
                     c.reply.bytes - std::min(c.reply.bytes, c.reported_reply.bytes)};
  c.reported_orig = c.orig;
  c.reported_reply = c.reply;
  const Counts& out_counts = c.key.dst ? reply : orig;
  const Counts& in_counts = c.key.dst ? orig : reply;

  auto [it, inserted] = out->try_emplace(std::move(key));
  Aggregate& a = it->second;
  if (inserted) {
    a.first = &c;
    a.kind = kind;
    a.src_labels = c.src->labels;
    a.dst_labels = c.dst->labels;
  } else {
    auto intersect = [](std::vector<std::string>* acc, const std::vector<std::string>& other) {
      std::vector<std::string> both;
      std::set_intersection(acc->begin(), acc->end(), other.begin(), other.end(), std::back_inserter(both));
      *acc = std::move(both);
    };
    intersect(&a.src_labels, c.src->labels);
    intersect(&a.dst_labels, c.dst->labels);
  }
  a.packets_out += out_counts.packets;
  a.bytes_out += out_counts.bytes;
  a.packets_in += in_counts.packets;
  a.bytes_in += in_counts.bytes;
  a.flows += 1;
  a.started += c.started ? 1 : 0;
  a.completed += c.ended ? 1 : 0;
  c.started = false;
}

std::vector<boost::json::object> FlowAggregator::Flush(TimePoint now) {
  const TimePoint start = last_flush_ ? *last_flush_ : first_event_.value_or(now);
  const int64_t start_s = UnixSeconds(start), end_s = UnixSeconds(now);

  // Close every open traversal first: no deny came, so they were allowed.
  for (auto& [key, c] : connections_) {
    if (c->open) Close(*c, /*allow=*/true);
  }
  std::map<std::string, Aggregate> aggregates;
  for (auto& c : retired_) {
    if (c->committed()) Report(*c, &aggregates);
  }
  for (auto& [key, c] : connections_) {
    if (!c->committed()) continue;
    if (c->active) {
      Report(*c, &aggregates);
    } else {
      ++c->idle;
    }
  }

  std::vector<json::object> records;
  records.reserve(aggregates.size());
  std::unordered_map<std::string_view, json::object> policy_lists;  // by trace: most records share a few
  for (const auto& [key, a] : aggregates) {
    const Connection& c = *a.first;
    const FlowTuple& t = c.key.tuple;
    const bool ports = HasPorts(t.proto);
    const bool ips = a.kind <= 1;
    auto [policies, fresh] = policy_lists.try_emplace(c.trace->key);
    if (fresh) {
      PolicyStrings p = FormatPolicyHits(c.trace->hits);
      policies->second = json::object{{"all_policies", StringArray(p.all)},
                                      {"enforced_policies", StringArray(p.enforced)},
                                      {"pending_policies", StringArray(p.pending)}};
    }
    json::object r;
    r.reserve(36);
    r.emplace("start_time", start_s);
    r.emplace("end_time", end_s);
    r.emplace("source_ip", ips ? json::value(t.src.ToString()) : json::value(nullptr));
    r.emplace("source_port", a.kind == 0 && ports ? json::value(int64_t{t.sport}) : json::value(nullptr));
    r.emplace("source_name", ips ? std::string_view(c.src->name) : std::string_view("-"));
    r.emplace("source_name_aggr", c.src->name_aggr);
    r.emplace("source_namespace", c.src->ns);
    r.emplace("source_type", c.src->type);
    r.emplace("source_labels", LabelsValue(*c.src, a.src_labels));
    r.emplace("dest_ip", ips ? json::value(t.dst.ToString()) : json::value(nullptr));
    r.emplace("dest_port", a.kind <= 2 && ports ? json::value(int64_t{t.dport}) : json::value(nullptr));
    r.emplace("dest_name", ips ? std::string_view(c.dst->name) : std::string_view("-"));
    r.emplace("dest_name_aggr", c.dst->name_aggr);
    r.emplace("dest_namespace", c.dst->ns);
    r.emplace("dest_type", c.dst->type);
    r.emplace("dest_labels", LabelsValue(*c.dst, a.dst_labels));
    r.emplace("dest_service_namespace", "-");
    r.emplace("dest_service_name", "-");
    r.emplace("dest_service_port", "-");
    r.emplace("dest_service_port_num", nullptr);
    r.emplace("dest_domains", nullptr);
    r.emplace("proto", ProtocolName(t.proto));
    r.emplace("action", c.allow ? "allow" : "deny");
    r.emplace("reporter", c.key.dst ? "dst" : "src");
    r.emplace("policies", policies->second);
    r.emplace("bytes_in", static_cast<int64_t>(a.bytes_in));
    r.emplace("bytes_out", static_cast<int64_t>(a.bytes_out));
    r.emplace("packets_in", static_cast<int64_t>(a.packets_in));
    r.emplace("packets_out", static_cast<int64_t>(a.packets_out));
    r.emplace("num_flows", static_cast<int64_t>(a.flows));
    r.emplace("num_flows_started", static_cast<int64_t>(a.started));
    r.emplace("num_flows_completed", static_cast<int64_t>(a.completed));
    r.emplace("host", options_.host);
    r.emplace("@timestamp", UnixMillis(now));
    r.emplace("id", Hex64(Fnv1a64(std::to_string(start_s) + '\x1f' + key)));
    records.push_back(std::move(r));
  }

  retired_.clear();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it->second;
    const bool drop = c.ended || c.idle >= options_.idle_intervals || !c.committed();
    c.active = false;
    if (drop) {
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(traces_, [](const auto& kv) { return kv.second.use_count() == 1; });
  stats_.records += records.size();
  last_flush_ = now;
  first_event_.reset();
  return records;
}

}  // namespace tw::flowlog
