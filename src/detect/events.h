// Security events from flow and DNS log records, in Calico's exact shape
// (calico-semantics.md §2.2; IDC feeds/events/convert.go), and the
// matching of records against a ThreatIndex.  Pure: no I/O, no clock (the
// detection time is an argument).
//
// gtf_suspicious_flow, from a flow-log record (the JSON the flow
// aggregator writes, §6.1 field names; its "id" is the flow_log_id):
//   id          "<feeds joined ~>_<start_time>_<proto>_<source_ip>_
//               <source_port>_<dest_ip>_<dest_port>" ("-" for null/absent),
//               plus "_deny" for a denied flow (ours: Calico's id would be
//               the same for the allowed and the denied flow of one interval
//               and address pair, and the second event would be lost)
//   time        detection time, Unix seconds
//   description source listed: "suspicious IP <src>, listed in Global
//               Threat Feed <feeds>, connected to <dest_ns>/<dest_name>";
//               else "pod <src_ns>/<src_name> connected to suspicious IP
//               <dst> which is listed in Global Threat Feed <feeds>"
//               (<feeds>: the feeds holding that side, joined ", ")
//   severity 100, origin = name = "Suspicious Flow", attack_vector "Network"
//   mitre       reporter dst: ["T1090"] "Command and Control", else
//               ["T1041"] "Exfiltration"
//   mitigations action deny: "No mitigation needed. This network traffic
//               was blocked by Calico"; else "Create a global network
//               policy to prevent traffic to this IP address" (reporter
//               dst) / "... from this IP address"
//   source_/dest_ ip, port, namespace, name, name_aggr: copied (absent when
//               the record has null or nothing, as Go's omitempty)
//   source_labels, dest_labels (ours): copied from the record when present
//               and not null ({"labels": ["k=v", ...]})
//   record      {flow_action, flow_log_id, protocol, feeds,
//               suspicious_prefix} -- Calico leaves the prefix null; we
//               fill it: the prefix text ("5.196.58.96/32") of the side
//               the description names.
// One event per record whatever side(s) matched: `feeds` (record and id)
// is the sorted union of the feeds holding either address, and the
// description names the source when it is listed (Calico's source query
// runs first and its event id ignores the side, so the source text wins).
// Allowed and denied flows are matched alike.
//
// gtf_suspicious_dns_query, from a DNS-log record (§6.2):
//   which hit   per feed, the qname beats an rrset name beats an rdata
//               value (Calico searches each feed with these three queries
//               in that order and keeps the first hit of a record); feeds
//               with the same hit (kind and domains) share one event, so a
//               record gives one event unless feeds matched it differently
//   id          "<feeds ~>_<start_time unix>_<client_ip>_<domains ~>"
//               (start_time: RFC 3339 text as DNS logs carry it, or a
//               number; client_ip "-" when null)
//   description qname: "<ns>/<name> queried the domain name <qname> from
//               global threat feed(s) <feeds>"; rrset name: "A request
//               originating from <ns>/<name> queried the domain name
//               <domains>, which is listed in the threat feed <feeds>";
//               rdata: "<ns>/<name> got DNS query results including
//               suspicious domain(s) <domains> from global threat feed(s)
//               <feeds>" (<name>: client_name, or client_name_aggr when
//               that is "-" or empty)
//   origin = name = "Suspicious DNS Query", mitre ["T1041"] "Exfiltration",
//   mitigations ["Create a global network policy to prevent traffic from
//   this IP address"]
//   source_ip = client_ip, source_namespace = client_namespace,
//   source_name = that <name> ("-" when it ends in "*"), source_name_aggr
//   = client_name_aggr, source_labels (ours) = client_labels as stored
//   record      {dns_log_id, feeds, suspicious_domains}: the qname, or the
//               matching rrset names / rdata values, sorted, unique.
// A subdomain match (feed annotation threatwall.io/match-subdomains)
// reports the queried name (a.evil.com), not the listed parent.
#ifndef TW_DETECT_EVENTS_H_
#define TW_DETECT_EVENTS_H_

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detect/threat_index.h"

namespace tw::detect {

inline constexpr std::string_view kSuspiciousFlowType = "gtf_suspicious_flow";
inline constexpr std::string_view kSuspiciousDnsType = "gtf_suspicious_dns_query";

// What one address of a flow matched.
struct SideHit {
  std::vector<std::string> feeds;  // sorted names
  std::string prefix;              // "5.196.58.96/32"
};

// A flow record's match: at least one side set.
struct FlowHit {
  std::optional<SideHit> source;
  std::optional<SideHit> dest;
};

enum class DnsHitKind { kQname, kRrsetName, kRdata };

struct DnsHit {
  DnsHitKind kind = DnsHitKind::kQname;
  std::vector<std::string> feeds;    // sorted names
  std::vector<std::string> domains;  // sorted, unique
};

// The event for `flow` and its match (see the file comment).
boost::json::object BuildFlowEvent(const boost::json::object& flow, const FlowHit& hit, int64_t detected_unix);
// The event for `dns` and its match.
boost::json::object BuildDnsEvent(const boost::json::object& dns, const DnsHit& hit, int64_t detected_unix);

// Matching one flow record against `index`; nullopt when no address is
// listed.  Addresses that are not text, or not addresses, match nothing.
std::optional<FlowHit> MatchFlow(const ThreatIndex& index, const boost::json::object& flow);
// The DNS hits of one record, one per group of feeds that matched it the
// same way (see the file comment), qname hits first; empty when none.
std::vector<DnsHit> MatchDns(const ThreatIndex& index, const boost::json::object& dns);

// MatchFlow over a batch with the IPv4 lookups batched (the live path):
// returns the positions in `flows` that matched, with their hits.
std::vector<std::pair<size_t, FlowHit>> MatchFlows(const ThreatIndex& index,
                                                   std::span<const boost::json::object> flows);

// A record's start_time in Unix seconds: a number (truncated), or RFC 3339
// text; 0 when neither.
int64_t StartTimeUnix(const boost::json::object& record);

}  // namespace tw::detect

#endif  // TW_DETECT_EVENTS_H_
