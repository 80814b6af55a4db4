// DnsLogBuilder: DNS logs (calico-semantics.md §6.2) from the NFLOG
// group-3 copies of pods' DNS packets (DnsPacket, flow_types.h).  The
// forward chain copies every UDP/TCP packet with port 53 that leaves or
// reaches a pod (docs/dataplane.md, "DNS"); this class pairs queries with
// their responses and aggregates them into one JSON record per distinct
// answer and interval.  The collector feeds it packets, the daemon calls
// Flush() every flush interval and appends the records to the LogStore.
//
// Packets.  A message with QR=0 is a query: the client is the packet's
// source, the server its destination.  QR=1 is a response: client =
// destination, server = source.  UDP payloads are one message; TCP
// payloads are the 2-byte-length form (ParseDnsTcpMessage), possibly
// several messages in one segment.  A TCP message longer than its segment
// is parsed from the bytes that are there (header and question come
// first), and the rest of it is skipped in the following segments of the
// same direction (no reassembly: a retransmitted or reordered segment of
// a long TCP message may be counted as malformed).  TCP segments without
// payload (SYN, ACK, FIN) are ignored.
//
// Pairing.  A query is remembered under (client ip, client port, server
// ip, server port, DNS id, qname, qtype).  A response with the same key
// completes it: latency = response time - query time (the first copy of
// the query: a retransmission with the same key keeps the first time and
// is counted in stats().retransmits).  A response without a question (a
// FORMERR, say) pairs with the pending query of the same addresses, ports
// and id.  A response no query is known for is still logged, with no
// latency (stats().unmatched_responses).
//
// Unanswered queries.  A query with no response after query_timeout is
// logged by the first Flush() at or after query time + timeout, with
// rcode "NoResponse" (not an RFC rcode: it cannot clash with a real one),
// no rrsets, the server it was sent to, and no latency.  They are logged
// because a pod asking for a listed name matters to detection even when
// the name does not resolve.  A response arriving after that is logged as
// an unmatched response.
//
// Malformed input.  Messages shorter than the header, TCP segments whose
// length prefix is cut, and messages with no question (that cannot be
// paired either) are counted in stats().malformed and dropped.  A message
// whose question parsed but whose later sections did not (DnsMessage::
// error) is used with the records that parsed (stats().partial): a pod
// cannot hide its question by appending garbage.  Nothing is fatal.
//
// Records.  Flush(now) returns one record per distinct (client identity,
// qname, qtype, qclass, rcode, rrsets, server) seen since the previous
// Flush, in a deterministic order, with:
//   start_time, end_time  RFC 3339 UTC with nanoseconds as Go prints them
//                         (FormatGoTime): the interval (previous Flush, or
//                         the first packet, up to `now`), widened to the
//                         record's packets if they lie outside it
//   type "log", count     responses (+ unanswered queries) in the record
//   client_ip             string; null with aggregation_kind 1
//   client_name           pod name; "-" when not a pod or aggregated
//   client_name_aggr, client_namespace
//   client_labels         {k: v} (with aggregation 1: the labels all the
//                         aggregated clients share)
//   qname, qtype, qclass  canonical name (lower case, no trailing dot, as
//                         dns.h prints it); "A", "AAAA", "IN", "TYPE65280"
//   rcode                 IANA mnemonic: "NoError", "FormErr", "ServFail",
//                         "NXDomain", "NotImp", "Refused", "YXDomain",
//                         "YXRRSet", "NXRRSet", "NotAuth", "NotZone",
//                         "BADVERS", ...; "RCODE<n>" when unassigned;
//                         "NoResponse" for unanswered queries
//   rrsets                [{name, class, type, rdata: [..]}]: the answer
//                         section grouped by GroupRrsets, rrsets in order of
//                         first appearance, each rdata list sorted (so a
//                         round-robin server's rotations aggregate)
//   servers               [{ip, name, name_aggr, namespace, labels}]: the one
//                         server of this record (it is part of the key)
//   latency {count, mean, max}, latency_count, latency_mean, latency_max
//                         nanoseconds over the paired responses (0 when none)
//   host                  DnsLogOptions::host
//   id                    "dns-" + 32 hex digits: a hash of host, interval
//                         and key, unique per record and the same for the
//                         same input
// Calico's client aggregation (aggregation_kind 1, §6.2) keeps the client's
// type, name_aggr and namespace in the key; servers are never aggregated.
//
// Bounds.  At most max_pending queries wait for a response; past that a
// new query is logged at once as unanswered (stats().pending_overflow).
//
// Pure and single-threaded (the caller serialises AddPacket and Flush).
#ifndef TW_FLOWLOG_DNS_LOGS_H_
#define TW_FLOWLOG_DNS_LOGS_H_

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "flowlog/dns.h"
#include "flowlog/flow_types.h"

namespace tw::flowlog {

// The rcode of unanswered queries (see "Unanswered queries").
inline constexpr std::string_view kDnsNoResponse = "NoResponse";

struct DnsLogOptions {
  // 0: one record per client IP; 1: clients aggregated by name prefix
  // (client_ip null, client_name "-").  Other values act as 1.
  int aggregation_kind = 0;
  std::string host;  // the node's name, copied into every record
  std::chrono::milliseconds query_timeout = std::chrono::seconds(5);
  size_t max_pending = 65536;  // queries waiting for a response
};

struct DnsLogStats {
  uint64_t packets = 0;             // AddPacket calls
  uint64_t queries = 0;             // query messages (retransmissions included)
  uint64_t responses = 0;           // response messages
  uint64_t malformed = 0;           // messages/segments dropped (see "Malformed input")
  uint64_t partial = 0;             // messages used although a later section did not parse
  uint64_t unmatched_responses = 0; // responses without a known query
  uint64_t retransmits = 0;         // queries whose key was already pending
  uint64_t unanswered = 0;          // queries that timed out (or overflowed)
  uint64_t pending_overflow = 0;    // queries logged at once because max_pending was reached
  uint64_t ignored = 0;             // TCP segments without payload or continuing a message
  uint64_t records = 0;             // records returned by Flush
};

// `t` as Go's time.Time marshals to JSON in UTC (RFC 3339 with up to nine
// fraction digits, trailing zeros dropped): "2026-01-01T00:00:00.0015Z",
// "2026-01-01T00:00:00Z".
std::string FormatGoTime(TimePoint t);

// The IANA mnemonic of `rcode` ("NoError", "NXDomain", ...; see above).
std::string DnsRcodeMnemonic(uint16_t rcode);

class DnsLogBuilder {
 public:
  explicit DnsLogBuilder(DnsLogOptions options = {});

  // Who an address is (client pods, servers).  Without one every address
  // is EndpointInfo{} (type net, name "-", name_aggr "pub").
  void SetLookup(EndpointLookup lookup);

  void AddPacket(const DnsPacket& packet);

  // The records of the interval ending at `now` (see "Records"), after
  // moving queries older than the timeout into it.  Starts a new interval.
  std::vector<boost::json::object> Flush(TimePoint now);

  const DnsLogStats& stats() const { return stats_; }
  size_t pending_queries() const { return pending_.size(); }

 private:
  // (client ip, client port, server ip, server port, DNS id, qname, qtype)
  using QueryKey = std::tuple<net::IpAddr, uint16_t, net::IpAddr, uint16_t, uint16_t, std::string, uint16_t>;
  struct Pending {
    TimePoint time;
    uint16_t qclass = 0;
  };
  // One side of a DNS exchange as it is logged.
  struct Party {
    net::IpAddr ip;
    uint16_t port = 0;
  };
  // One record being aggregated.
  struct Agg {
    boost::json::object fields;  // everything but times, count, latency, labels, id
    std::optional<std::vector<std::string>> client_labels;  // "k=v", sorted (intersection)
    TimePoint first, last;
    uint64_t count = 0;
    uint64_t latency_count = 0;
    int64_t latency_sum = 0, latency_max = 0;
  };
  // What one response (or unanswered query) contributes.
  struct Observation {
    TimePoint time;
    Party client, server;
    std::string qname;
    uint16_t qtype = 0, qclass = 0;
    std::string rcode;
    std::vector<DnsRrset> rrsets;
    std::optional<std::chrono::nanoseconds> latency;
  };
  // Bytes of a TCP message still to come in later segments of one direction.
  struct TcpSkip {
    size_t remaining = 0;
    TimePoint time;
  };

  void AddMessage(const DnsPacket& packet, const DnsMessage& msg);
  void AddQuery(const DnsPacket& packet, const DnsMessage& msg);
  void AddResponse(const DnsPacket& packet, const DnsMessage& msg);
  void AddTcp(const DnsPacket& packet);
  void Record(Observation obs);
  EndpointInfo Lookup(const net::IpAddr& ip) const;
  void ExpirePending(TimePoint now);

  DnsLogOptions options_;
  EndpointLookup lookup_;
  DnsLogStats stats_;
  std::map<QueryKey, Pending> pending_;
  std::map<FlowTuple, TcpSkip> tcp_skip_;
  std::map<std::string, Agg> aggs_;  // by serialised key
  std::optional<TimePoint> interval_start_;
};

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_DNS_LOGS_H_
