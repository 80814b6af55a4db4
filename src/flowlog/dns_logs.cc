#include "flowlog/dns_logs.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <span>
#include <utility>

#include "base/strings.h"
#include "flowlog/packet.h"
#include "flowlog/wire.h"

namespace tw::flowlog {
namespace {

// Appends a length-prefixed component to a key, so no text can fake a
// separator.
void KeyPart(std::string* key, std::string_view part) {
  key->append(std::to_string(part.size()));
  key->push_back(':');
  key->append(part);
}


// {k: v} from "k=v" labels (a label without '=' gets the value "").
boost::json::object LabelObject(const std::vector<std::string>& labels) {
  boost::json::object out;
  for (const std::string& l : labels) {
    size_t eq = l.find('=');
    if (eq == std::string::npos) {
      out[l] = "";
    } else {
      out[l.substr(0, eq)] = l.substr(eq + 1);
    }
  }
  return out;
}

std::vector<std::string> SortedLabels(std::vector<std::string> labels) {
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  return labels;
}

// The answer section as logged: GroupRrsets with each rdata list sorted.
std::vector<DnsRrset> LoggedRrsets(const std::vector<DnsRecord>& answers) {
  std::vector<DnsRrset> sets = GroupRrsets(answers);
  for (DnsRrset& s : sets) std::sort(s.rdata.begin(), s.rdata.end());
  return sets;
}

}  // namespace

std::string FormatGoTime(TimePoint t) {
  using namespace std::chrono;
  const auto ns = duration_cast<nanoseconds>(t.time_since_epoch());
  const auto secs = floor<seconds>(ns);
  const int64_t frac = (ns - secs).count();  // 0..999999999
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    char digits[16];
    std::snprintf(digits, sizeof digits, ".%09lld", static_cast<long long>(frac));
    std::string f(digits);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::string DnsRcodeMnemonic(uint16_t rcode) {
  static constexpr const char* kNames[] = {"NoError", "FormErr",  "ServFail", "NXDomain", "NotImp",   "Refused",
                                           "YXDomain", "YXRRSet", "NXRRSet",  "NotAuth",  "NotZone", "DSOTYPENI"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  // 16..23 are upper case in the IANA registry already.
  return DnsRcodeName(rcode);
}

DnsLogBuilder::DnsLogBuilder(DnsLogOptions options) : options_(std::move(options)) {}

void DnsLogBuilder::SetLookup(EndpointLookup lookup) { lookup_ = std::move(lookup); }

EndpointInfo DnsLogBuilder::Lookup(const net::IpAddr& ip) const {
  return lookup_ ? lookup_(ip) : EndpointInfo{};
}

void DnsLogBuilder::AddPacket(const DnsPacket& packet) {
  ++stats_.packets;
  if (!interval_start_) interval_start_ = packet.time;
  if (packet.tuple.proto == kProtoTcp) {
    AddTcp(packet);
    return;
  }
  Result<DnsMessage> msg = ParseDnsMessage(packet.dns);
  if (!msg.ok()) {
    ++stats_.malformed;
    return;
  }
  AddMessage(packet, *msg);
}

void DnsLogBuilder::AddTcp(const DnsPacket& packet) {
  std::span<const uint8_t> bytes(packet.dns);
  if (bytes.empty()) {
    ++stats_.ignored;
    return;
  }
  if (auto it = tcp_skip_.find(packet.tuple); it != tcp_skip_.end()) {
    if (bytes.size() <= it->second.remaining) {  // the middle or end of a long message
      it->second.remaining -= bytes.size();
      it->second.time = packet.time;
      if (it->second.remaining == 0) tcp_skip_.erase(it);
      ++stats_.ignored;
      return;
    }
    bytes = bytes.subspan(it->second.remaining);
    tcp_skip_.erase(it);
  }
  while (!bytes.empty()) {
    if (bytes.size() < 2) {  // a length prefix cut in half: nothing to resync on
      ++stats_.malformed;
      return;
    }
    const size_t len = wire::Be16(bytes.data());
    const size_t here = std::min(len, bytes.size() - 2);
    // A message that continues in later segments: use what is here (its
    // header and question come first) and skip the rest when it comes.
    if (here < len) tcp_skip_[packet.tuple] = TcpSkip{len - here, packet.time};
    Result<DnsMessage> msg = ParseDnsMessage(bytes.subspan(2, here));
    if (msg.ok()) {
      AddMessage(packet, *msg);
    } else {
      ++stats_.malformed;
    }
    bytes = bytes.subspan(2 + here);
  }
}

void DnsLogBuilder::AddMessage(const DnsPacket& packet, const DnsMessage& msg) {
  if (msg.header.qr) {
    AddResponse(packet, msg);
  } else {
    AddQuery(packet, msg);
  }
}

void DnsLogBuilder::AddQuery(const DnsPacket& packet, const DnsMessage& msg) {
  ++stats_.queries;
  if (msg.questions.empty()) {
    ++stats_.malformed;
    return;
  }
  if (!msg.complete()) ++stats_.partial;
  const FlowTuple& t = packet.tuple;
  const DnsQuestion& q = msg.questions[0];
  QueryKey key{t.src, t.sport, t.dst, t.dport, msg.header.id, q.name, q.type};
  if (pending_.contains(key)) {
    ++stats_.retransmits;
    return;
  }
  if (pending_.size() >= options_.max_pending) {
    ++stats_.pending_overflow;
    ++stats_.unanswered;
    Record(Observation{packet.time, {t.src, t.sport}, {t.dst, t.dport}, q.name, q.type, q.klass,
                       std::string(kDnsNoResponse), {}, std::nullopt});
    return;
  }
  pending_.emplace(std::move(key), Pending{packet.time, q.klass});
}

void DnsLogBuilder::AddResponse(const DnsPacket& packet, const DnsMessage& msg) {
  ++stats_.responses;
  const FlowTuple& t = packet.tuple;
  Observation obs;
  obs.time = packet.time;
  obs.client = {t.dst, t.dport};
  obs.server = {t.src, t.sport};
  auto found = pending_.end();
  if (msg.questions.empty()) {
    // Pair on addresses, ports and id alone: the first pending query with
    // that prefix (qname "" and qtype 0 sort first).
    QueryKey lo{t.dst, t.dport, t.src, t.sport, msg.header.id, "", 0};
    auto it = pending_.lower_bound(lo);
    if (it == pending_.end() || std::get<0>(it->first) != t.dst || std::get<1>(it->first) != t.dport ||
        std::get<2>(it->first) != t.src || std::get<3>(it->first) != t.sport ||
        std::get<4>(it->first) != msg.header.id) {
      ++stats_.malformed;  // nothing to log it under
      return;
    }
    found = it;
    obs.qname = std::get<5>(it->first);
    obs.qtype = std::get<6>(it->first);
    obs.qclass = it->second.qclass;
  } else {
    const DnsQuestion& q = msg.questions[0];
    obs.qname = q.name;
    obs.qtype = q.type;
    obs.qclass = q.klass;
    found = pending_.find(QueryKey{t.dst, t.dport, t.src, t.sport, msg.header.id, q.name, q.type});
  }
  if (!msg.complete()) ++stats_.partial;
  if (found != pending_.end()) {
    obs.latency = std::max(std::chrono::nanoseconds(0),
                           std::chrono::duration_cast<std::chrono::nanoseconds>(packet.time - found->second.time));
    pending_.erase(found);
  } else {
    ++stats_.unmatched_responses;
  }
  obs.rcode = DnsRcodeMnemonic(msg.rcode);
  obs.rrsets = LoggedRrsets(msg.answers);
  Record(std::move(obs));
}

void DnsLogBuilder::ExpirePending(TimePoint now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.time + options_.query_timeout > now) {
      ++it;
      continue;
    }
    const auto& [cip, cport, sip, sport, id, qname, qtype] = it->first;
    ++stats_.unanswered;
    Record(Observation{it->second.time, {cip, cport}, {sip, sport}, qname, qtype, it->second.qclass,
                       std::string(kDnsNoResponse), {}, std::nullopt});
    it = pending_.erase(it);
  }
  for (auto it = tcp_skip_.begin(); it != tcp_skip_.end();) {
    it = it->second.time + options_.query_timeout <= now ? tcp_skip_.erase(it) : std::next(it);
  }
}

void DnsLogBuilder::Record(Observation obs) {
  const bool aggregate = options_.aggregation_kind != 0;
  const EndpointInfo client = Lookup(obs.client.ip);
  const EndpointInfo server = Lookup(obs.server.ip);
  const std::string client_ip = obs.client.ip.ToString();
  const std::string server_ip = obs.server.ip.ToString();

  std::string key;
  KeyPart(&key, aggregate ? "" : client_ip);
  KeyPart(&key, client.type);
  KeyPart(&key, aggregate ? "-" : client.name);
  KeyPart(&key, client.name_aggr);
  KeyPart(&key, client.ns);
  KeyPart(&key, obs.qname);
  KeyPart(&key, std::to_string(obs.qtype));
  KeyPart(&key, std::to_string(obs.qclass));
  KeyPart(&key, obs.rcode);
  KeyPart(&key, std::to_string(obs.rrsets.size()));
  for (const DnsRrset& s : obs.rrsets) {
    KeyPart(&key, s.name);
    KeyPart(&key, std::to_string(s.type));
    KeyPart(&key, std::to_string(s.klass));
    KeyPart(&key, std::to_string(s.rdata.size()));
    for (const std::string& r : s.rdata) KeyPart(&key, r);
  }
  KeyPart(&key, server_ip);
  KeyPart(&key, server.type);
  KeyPart(&key, server.name);
  KeyPart(&key, server.name_aggr);
  KeyPart(&key, server.ns);

  auto [it, added] = aggs_.try_emplace(std::move(key));
  Agg& agg = it->second;
  std::vector<std::string> labels = SortedLabels(client.labels);
  if (added) {
    boost::json::object& f = agg.fields;
    if (aggregate) {
      f["client_ip"] = nullptr;
      f["client_name"] = "-";
    } else {
      f["client_ip"] = client_ip;
      f["client_name"] = client.name;
    }
    f["client_name_aggr"] = client.name_aggr;
    f["client_namespace"] = client.ns;
    f["qname"] = obs.qname;
    f["qtype"] = DnsTypeName(obs.qtype);
    f["qclass"] = DnsClassName(obs.qclass);
    f["rcode"] = obs.rcode;
    boost::json::array rrsets;
    for (const DnsRrset& s : obs.rrsets) {
      boost::json::array rdata;
      for (const std::string& r : s.rdata) rdata.emplace_back(r);
      rrsets.emplace_back(boost::json::object{
          {"name", s.name}, {"class", DnsClassName(s.klass)}, {"type", DnsTypeName(s.type)}, {"rdata", rdata}});
    }
    f["rrsets"] = std::move(rrsets);
    f["servers"] = boost::json::array{boost::json::object{{"ip", server_ip},
                                                          {"name", server.name},
                                                          {"name_aggr", server.name_aggr},
                                                          {"namespace", server.ns},
                                                          {"labels", LabelObject(SortedLabels(server.labels))}}};
    agg.client_labels = std::move(labels);
    agg.first = agg.last = obs.time;
  } else {
    std::vector<std::string> common;
    std::set_intersection(agg.client_labels->begin(), agg.client_labels->end(), labels.begin(), labels.end(),
                          std::back_inserter(common));
    agg.client_labels = std::move(common);
    agg.first = std::min(agg.first, obs.time);
    agg.last = std::max(agg.last, obs.time);
  }
  ++agg.count;
  if (obs.latency) {
    const int64_t ns = obs.latency->count();
    ++agg.latency_count;
    agg.latency_sum += ns;
    agg.latency_max = std::max(agg.latency_max, ns);
  }
}

std::vector<boost::json::object> DnsLogBuilder::Flush(TimePoint now) {
  ExpirePending(now);
  const TimePoint interval_start = interval_start_.value_or(now);
  std::vector<boost::json::object> out;
  out.reserve(aggs_.size());
  for (auto& [key, agg] : aggs_) {
    const std::string start = FormatGoTime(std::min(interval_start, agg.first));
    const std::string end = FormatGoTime(std::max(now, agg.last));
    const int64_t mean =
        agg.latency_count == 0 ? 0 : agg.latency_sum / static_cast<int64_t>(agg.latency_count);
    boost::json::object& f = agg.fields;
    boost::json::object r;
    r["start_time"] = start;
    r["end_time"] = end;
    r["type"] = "log";
    r["count"] = agg.count;
    for (const char* name : {"client_ip", "client_name", "client_name_aggr", "client_namespace"}) {
      r[name] = std::move(f[name]);
    }
    r["client_labels"] = LabelObject(*agg.client_labels);
    for (const char* name : {"qname", "qtype", "qclass", "rcode", "rrsets", "servers"}) {
      r[name] = std::move(f[name]);
    }
    r["latency"] = boost::json::object{
        {"count", agg.latency_count}, {"mean", mean}, {"max", agg.latency_max}};
    r["latency_count"] = agg.latency_count;
    r["latency_mean"] = mean;
    r["latency_max"] = agg.latency_max;
    r["host"] = options_.host;
    // Unique per record: the key is unique within the interval, the
    // interval and host tell intervals and nodes apart.
    std::string id_text = options_.host + '\n' + start + '\n' + end + '\n' + key;
    const uint64_t h1 = Fnv1a64(id_text);
    r["id"] = "dns-" + Hex64(h1) + Hex64(Fnv1a64(Hex64(h1) + id_text));
    out.push_back(std::move(r));
  }
  stats_.records += out.size();
  aggs_.clear();
  interval_start_ = now;
  return out;
}

}  // namespace tw::flowlog
