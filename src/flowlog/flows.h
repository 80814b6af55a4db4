// FlowAggregator: NFLOG policy verdicts + conntrack counters -> Calico flow
// log records (calico-semantics.md §6.1), one batch per flush interval.
// Pure and single-threaded: the caller (the collector loop) serialises
// every call.
//
// Model
// - A connection is (reporter, FlowTuple): reporter "src" for the egress
//   verdicts of the sending pod (NFLOG group 2), "dst" for the ingress
//   verdicts of the receiving pod (group 1).  Pod-to-pod traffic therefore
//   gives two connections and two records, as in Calico.  ICMP / ICMPv6
//   tuples have their ports forced to 0.
// - Traversal: the hits of one packet's walk through the policy arrive as
//   consecutive PolicyPackets of one connection; it ends at a terminal hit
//   -- an enforced (non-staged) allow or deny: a rule, an end-of-tier deny,
//   the namespace profile or the no-profile deny.  Pass hits, end-of-tier
//   passes, staged hits and undecodable prefixes do not end it.  A
//   traversal that never reaches a terminal hit (the dataplane logs allows
//   only when flow logs ask for it, but always logs denies) is taken as an
//   ALLOW when it is closed: by conntrack news for the connection (a
//   dropped packet is never confirmed), by a hit equal to its first hit
//   (the next packet's walk) or by a flush.
// - The trace (ordered hit list) and action of a connection come from its
//   first traversal.  A later traversal with the same hits and action (a
//   retransmitted SYN that is denied again) adds only its packet.  One
//   with different hits or action (the policy changed in between) retires
//   the connection as it was -- reported once more at the next flush, then
//   forgotten -- and continues with a connection of the new trace that
//   does not count as started again.  So does a new traversal after
//   conntrack said the connection ended (the tuple was reused).
// - Counters.  Denied: no conntrack entry ever exists, so every terminal
//   deny message is one packet of `ip_bytes` (out for reporter src, in for
//   dst).  Allowed: the NFLOG'd first packet (and further traversals before
//   any conntrack news) count until conntrack reports; conntrack's counters
//   are cumulative, and each flush reports the growth since the previous
//   flush (reporter src: out = original direction, in = reply; dst: the
//   opposite).  Conntrack is matched to connections of both reporters by
//   its original tuple; when none matches, by the DNAT'd form (original
//   source, reply source as destination, original source port, reply
//   source port), the tuple the forward hook saw.
// - Lifetime.  A connection with news (a verdict, or a conntrack report of
//   grown counters or of its end) in the interval is reported at the flush:
//   num_flows 1, num_flows_started 1 in its first interval,
//   num_flows_completed 1 when conntrack said it ended (then it is
//   removed).  One without news is not reported.  A conntrack report
//   without news (an idle or TIME_WAIT entry in a dump) keeps the
//   connection; one that nothing reports is removed after `idle_intervals`
//   flushes in a row (a denied connection thus disappears silently; its
//   completion is unknowable).
//
// Records (Flush): one per aggregation key, for the interval from the
// previous flush (before the first flush: the earliest event) to `now`, in
// ascending key order (stable between runs).  The key: action, reporter,
// proto, source and dest type / namespace / name_aggr, the policy trace,
// and per aggregation kind (FlowAggregatorOptions; allowed and denied
// flows each use their own kind):
//   0: source and dest IP, name and port    1: the same without source port
//   2: dest port only (IPs null, names "-")  3: none of them
// Ports are null for protocols without ports (only TCP, UDP, UDP-Lite,
// DCCP, SCTP have them).  Labels: {"labels": [...]} with the labels every
// aggregated endpoint of that side shares (null for type net).
//
// Policy strings "<hitIdx>|<tier>|<name>|<action>|<ruleIdx>" (PolicyStrings):
//   all_policies      every hit in arrival order, staged ones included, at
//                     their raw positions;
//   enforced_policies the non-staged hits, renumbered from 0;
//   pending_policies  the trace as it would be if the staged policies were
//                     enforced: a staged policy replaces its enforced twin
//                     (same key without "staged:"; the twin's rule hits
//                     are dropped); walking the hits in order, a staged or
//                     enforced allow / deny ends the list, a pass skips the
//                     rest of its tier, a staged no-match (rule -1) becomes
//                     that tier's end-of-tier deny unless a later hit of the
//                     same tier gives a verdict (then it is dropped); an
//                     end-of-tier hit after it (the enforced deny, or the
//                     pass of a tier of staged policies only) is replaced
//                     by it; renumbered from 0.  Without staged hits it equals
//                     enforced_policies.
//
// Other fields: dest_service_namespace/name/port "-", dest_service_port_num
// and dest_domains null, num_flows (connections aggregated), host,
// "@timestamp" = `now` in ms, "id" = 16 hex digits of FNV-1a 64 over the
// start time and the key (unique per record, the same for the same flow
// and interval).
#ifndef TW_FLOWLOG_FLOWS_H_
#define TW_FLOWLOG_FLOWS_H_

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "flowlog/flow_context.h"
#include "flowlog/flow_types.h"

namespace tw::flowlog {

struct FlowAggregatorOptions {
  int aggregation_allowed = 1;  // kind 0-3 for allowed flows (Calico's default is 2)
  int aggregation_denied = 1;   // kind 0-3 for denied flows
  std::string host;             // the record's `host`
  int idle_intervals = 2;       // flushes without news before a connection is dropped (>= 1)
};

// InvalidArgument naming the field and the reason when a kind is outside
// 0-3 or idle_intervals < 1.
Status ValidateFlowAggregatorOptions(const FlowAggregatorOptions& options);

struct FlowAggregatorStats {
  uint64_t packets = 0;            // PolicyPackets added
  uint64_t hits = 0;               // of which named a policy, tier or profile (snapshot or decoded)
  uint64_t unknown_prefixes = 0;   // of which undecodable (PolicyHit::known false)
  uint64_t connections = 0;        // live connections now
  uint64_t records = 0;            // records flushed, in total
  uint64_t conntrack_matched = 0;  // ConntrackFlows that updated a connection
  uint64_t conntrack_unmatched = 0;
};

// The three policy lists of a trace (see the file comment).
struct PolicyStrings {
  std::vector<std::string> all, enforced, pending;
};
PolicyStrings FormatPolicyHits(const std::vector<PolicyHit>& hits);

class FlowAggregator {
 public:
  // Options out of range are clamped (kinds to 0-3, idle_intervals to >= 1);
  // validate them first with ValidateFlowAggregatorOptions.
  explicit FlowAggregator(FlowAggregatorOptions options = {});
  ~FlowAggregator();
  FlowAggregator(const FlowAggregator&) = delete;
  FlowAggregator& operator=(const FlowAggregator&) = delete;

  // The snapshot used for hits and endpoint names from now on.  Without one
  // prefixes are decoded by DecodePolicyHit and every address is a "net".
  // Connections keep the endpoint names they got when first seen.
  void SetContext(std::shared_ptr<const FlowContext> context);

  void AddPolicyPacket(const PolicyPacket& packet);
  void AddConntrack(const ConntrackFlow& flow);

  // The records of the interval ending at `now` (see the file comment).
  std::vector<boost::json::object> Flush(TimePoint now);

  FlowAggregatorStats stats() const;

 private:
  struct Connection;
  struct Trace;
  struct ConnKey {
    FlowTuple tuple;
    bool dst = false;  // reporter dst (ingress)
    friend bool operator==(const ConnKey&, const ConnKey&) = default;
  };
  struct ConnKeyHash {
    size_t operator()(const ConnKey& k) const noexcept;
  };
  struct Aggregate;

  Connection& FindOrCreate(const ConnKey& key);
  void Step(Connection& c, const PolicyHit& hit, const PolicyPacket& packet);
  void Close(Connection& c, bool allow);
  void Retire(Connection& c);
  std::shared_ptr<const Trace> Intern(std::vector<PolicyHit> hits);
  Connection* FindForConntrack(const FlowTuple& tuple, bool dst);
  void Report(Connection& c, std::map<std::string, Aggregate>* out) const;

  FlowAggregatorOptions options_;
  std::shared_ptr<const FlowContext> context_;
  std::unordered_map<ConnKey, std::unique_ptr<Connection>, ConnKeyHash> connections_;
  std::vector<std::unique_ptr<Connection>> retired_;
  // Traces shared by connections (most share a few); unused ones are
  // dropped at Flush.
  std::unordered_map<std::string, std::shared_ptr<const Trace>> traces_;
  std::optional<TimePoint> last_flush_, first_event_;
  FlowAggregatorStats stats_;
};

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_FLOWS_H_
