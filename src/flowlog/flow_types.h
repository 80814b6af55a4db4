// The values that travel between the kernel readers (collector.h), the
// flow aggregator (flows.h) and the DNS log builder (dns_logs.h).  Plain
// data, no behaviour beyond comparison: the readers turn netlink messages
// into these, the pure cores turn these into Calico-shaped JSON records.
#ifndef TW_FLOWLOG_FLOW_TYPES_H_
#define TW_FLOWLOG_FLOW_TYPES_H_

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "net/ip_addr.h"
#include "policy/inputs.h"

namespace tw::flowlog {

using TimePoint = std::chrono::system_clock::time_point;

// A connection's tuple in its original direction (the first packet's
// addresses and ports).  Ports are 0 for protocols without them; for ICMP
// echo the kernel's conntrack uses the identifier, which we do not: ICMP
// tuples have both ports 0.
struct FlowTuple {
  net::IpAddr src, dst;
  uint8_t proto = 0;  // IANA number
  uint16_t sport = 0, dport = 0;
  friend auto operator<=>(const FlowTuple&, const FlowTuple&) = default;
  friend bool operator==(const FlowTuple&, const FlowTuple&) = default;
};

// One NFLOG'd packet of group 1 (ingress policy) or 2 (egress policy): a
// policy verdict on the first packet of a connection (or on every packet
// of one that is denied, since a dropped packet creates no conntrack
// entry).  Every rule hit of one packet's traversal arrives as its own
// message, in evaluation order, and the aggregator relies on that order;
// `seq` numbers them (per collector, +1 per message) so tests can check it.
struct PolicyPacket {
  TimePoint time;
  uint64_t seq = 0;
  policy::Direction direction = policy::Direction::kIngress;  // group 1 / 2
  // The pod's host-side interface: indev for egress (group 2), outdev for
  // ingress (group 1).  Empty when the kernel sent no device.
  std::string iface;
  FlowTuple tuple;
  uint32_t ip_bytes = 0;  // the IP header's total length (not the snapped length)
  std::string prefix;     // the NFLOG prefix (policy/nflog.h)
};

// Conntrack's counters for one connection, from a dump or a DESTROY event
// (needs net.netfilter.nf_conntrack_acct=1 in the node namespace).
struct ConntrackFlow {
  FlowTuple orig;              // original direction
  FlowTuple reply;             // reply direction (differs under NAT)
  uint32_t id = 0;             // CTA_ID
  uint64_t packets_orig = 0, bytes_orig = 0;    // original direction
  uint64_t packets_reply = 0, bytes_reply = 0;  // reply direction
  bool ended = false;          // a DESTROY event: the final counters
  TimePoint time;              // when it was read
};

// A DNS packet copied by NFLOG group 3 (a query from or an answer to a
// pod).  `dns` is the DNS message: the UDP payload, or for TCP the
// segment's payload (2-byte length + message when it fits one segment).
struct DnsPacket {
  TimePoint time;
  FlowTuple tuple;  // this packet's own addresses/ports (a response: server -> client)
  std::vector<uint8_t> dns;
};

// What a flow or DNS log says about one side (calico-semantics.md §6.1).
struct EndpointInfo {
  std::string type = "net";  // wep (pod) | ns (network set) | net (unknown address)
  std::string name = "-";    // pod name / network set name; "-" otherwise
  std::string name_aggr = "pub";  // pod: generateName + "*" or the name; set: name; ip: pub | pvt
  std::string ns = "-";      // namespace; "-" for global sets and addresses
  std::vector<std::string> labels;  // "k=v", sorted: the pod's or set's own labels
};

// A pod as flow logs name it.
struct PodInfo {
  std::string ns, name;
  std::string generate_name;  // metadata.generateName ("" if none)
  std::string iface;          // host-side veth
  std::vector<net::IpAddr> ips;
  std::vector<std::string> labels;  // "k=v", sorted: metadata.labels only
};

using EndpointLookup = std::function<EndpointInfo(const net::IpAddr&)>;

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_FLOW_TYPES_H_
