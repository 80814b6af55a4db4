// The kernel readers of flow and DNS logs: NFLOG (policy verdicts on
// groups 1/2, DNS packet copies on group 3) and conntrack (DESTROY events
// and dumps), read in the node's network namespace (DESIGN.md §8,
// docs/dataplane.md).
//
// Two layers:
//   - MessageDecoder (pure apart from its counters): turns the bytes of one
//     recv() into PolicyPacket / DnsPacket / ConntrackFlow values handed to
//     a CollectorSink, counting what it saw.  Malformed messages are
//     counted and dropped, never fatal.
//   - Collector (the I/O edge): one reader thread that joins the node
//     namespace (setns, that thread only), opens the netlink sockets there,
//     enables conntrack accounting there, and feeds what it reads to a
//     MessageDecoder.
//
// Threading: every sink call comes from the collector's reader thread, one
// at a time, also the entries of DumpConntrack (the reader thread does the
// dump while the caller waits).  A sink must not block for long: while it
// runs nothing is read and the kernel drops messages once the socket buffer
// (CollectorOptions::rcvbuf) is full -- counted as kernel_drops.
#ifndef TW_FLOWLOG_COLLECTOR_H_
#define TW_FLOWLOG_COLLECTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "flowlog/flow_types.h"
#include "flowlog/nflog_msg.h"
#include "policy/nflog.h"

namespace tw::flowlog {

struct CollectorOptions {
  // Network namespace to read in: /run/netns/<netns>; "" = the caller's.
  std::string netns;
  // NFLOG groups (Calico's numbers); 0 = do not read that group.
  uint16_t ingress_group = policy::kNflogGroupIngress;
  uint16_t egress_group = policy::kNflogGroupEgress;
  uint16_t dns_group = policy::kNflogGroupDns;
  // Receive buffer of the NFLOG and conntrack event sockets, set with
  // SO_RCVBUFFORCE (falls back to SO_RCVBUF, capped by rmem_max, without
  // CAP_NET_ADMIN).
  int rcvbuf = 8 << 20;
  // NFULNL_COPY_PACKET copy range per group: the most bytes of a packet the
  // kernel sends (a rule's own `snaplen` caps it further).
  uint32_t policy_snaplen = 0xffff;
  uint32_t dns_snaplen = 0xffff;
  // NFULA_CFG_QTHRESH per group: how many messages the kernel collects
  // before it sends them (else it sends after 1 s).  1: every verdict at
  // once, so the verdicts of groups 1 and 2 for one packet arrive in
  // evaluation order and without delay.  0: the kernel's default (100).
  uint32_t nflog_qthreshold = 1;
  // Read conntrack: DESTROY events, DumpConntrack, and
  // net.netfilter.nf_conntrack_acct=1 written in the namespace.
  bool conntrack = true;
};

// Receives what the collector reads (see "Threading" above).
class CollectorSink {
 public:
  virtual ~CollectorSink() = default;
  virtual void OnPolicyPacket(PolicyPacket&& packet) = 0;
  virtual void OnDnsPacket(DnsPacket&& packet) = 0;
  virtual void OnConntrack(ConntrackFlow&& flow) = 0;
};

struct CollectorStats {
  uint64_t messages = 0;           // netlink messages read (every socket, acks and dump replies included)
  uint64_t policy_packets = 0;     // delivered to OnPolicyPacket
  uint64_t dns_packets = 0;        // delivered to OnDnsPacket
  uint64_t conntrack_entries = 0;  // delivered to OnConntrack (events and dump entries)
  uint64_t malformed = 0;          // undecodable messages or packets, dropped
  uint64_t ignored = 0;            // well-formed but of no use: other groups, DNS segments without payload, ...
  uint64_t kernel_drops = 0;       // ENOBUFS on a receive: the kernel dropped messages
  std::string last_error;          // the latest malformed / failed read, "" if none
};

// The function that names an interface index of the node namespace ("" if
// unknown).
using IfaceNamer = std::function<std::string(uint32_t ifindex)>;

// The time of an NFLOG'd packet: its NFULA_TIMESTAMP when present and
// within an hour of `received` (a kernel may stamp forwarded packets with
// a monotonic clock), else `received`.
TimePoint NflogPacketTime(const NflogPacket& packet, TimePoint received);

// A group 1/2 message as a PolicyPacket (`seq` left 0): tuple and ip_bytes
// from the packet's IP header (ip_bytes falls back to the captured length
// when the header says 0: GSO/jumbo), iface = namer(outdev) for ingress,
// namer(indev) for egress ("" when the kernel sent no device), prefix.
// InvalidArgument when the payload is not an IP packet (packet.h).
Result<PolicyPacket> ToPolicyPacket(const NflogPacket& packet, policy::Direction direction, TimePoint received,
                                    const IfaceNamer& namer);

// A group 3 message as a DnsPacket: the UDP payload, or the TCP segment's
// payload (possibly empty: a handshake segment).  InvalidArgument when the
// payload is not an IP packet; Unsupported for another transport protocol.
Result<DnsPacket> ToDnsPacket(const NflogPacket& packet, TimePoint received);

// Decodes receive buffers (see the file comment).  Counters are atomics:
// stats() may be called from any thread while another decodes.
class MessageDecoder {
 public:
  MessageDecoder(CollectorOptions options, CollectorSink* sink, IfaceNamer namer);

  // Handles every message of one recv() buffer read at `received`: NFLOG
  // packets of the configured groups, ctnetlink NEW/DELETE messages;
  // NLMSG_ERROR / NLMSG_DONE / NLMSG_NOOP and other types are ignored (the
  // caller reads acks itself).  A buffer that does not split is counted as
  // one malformed message (after the messages before the bad header).
  void HandleBuffer(std::span<const uint8_t> buffer, TimePoint received);
  // Handles one message (the `bytes` of a NetlinkMessageView).
  void HandleMessage(const NetlinkMessageView& message, TimePoint received);

  void CountKernelDrop(std::string_view what);
  void CountMalformed(std::string_view what);
  void RecordError(std::string text);  // last_error only
  void CountMessage() { messages_.fetch_add(1, std::memory_order_relaxed); }

  CollectorStats stats() const;

 private:
  void HandleNflog(std::span<const uint8_t> bytes, TimePoint received);
  void HandleConntrack(std::span<const uint8_t> bytes, TimePoint received);

  const CollectorOptions options_;
  CollectorSink* const sink_;
  const IfaceNamer namer_;
  uint64_t next_seq_ = 1;  // reader thread only
  std::atomic<uint64_t> messages_{0}, policy_packets_{0}, dns_packets_{0}, conntrack_entries_{0}, malformed_{0},
      ignored_{0}, kernel_drops_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;
};

// NFULNL_MSG_CONFIG requests (NLM_F_REQUEST | NLM_F_ACK), as the collector
// sends them: a command (NFULNL_CFG_CMD_*) for `family` and `group`, a copy
// mode (NFULNL_COPY_PACKET, `range` bytes) for `group`.  Each is one
// message: nlmsghdr + nfgenmsg (res_id = group, big-endian) + one attribute.
std::vector<uint8_t> BuildNflogConfigCommand(uint8_t family, uint16_t group, uint8_t command, uint32_t seq);
std::vector<uint8_t> BuildNflogCopyPacketMode(uint16_t group, uint32_t range, uint32_t seq);
// NFULA_CFG_QTHRESH = `qthreshold` for `group`.
std::vector<uint8_t> BuildNflogQueueThreshold(uint16_t group, uint32_t qthreshold, uint32_t seq);

class Collector {
 public:
  // Starts the reader thread, which joins `options.netns`, opens and
  // configures the sockets and writes nf_conntrack_acct=1 there; returns
  // once that is done.  Errors name the step: InvalidArgument (no sink, a
  // bad namespace name, one group number given twice), NotFound (no such
  // namespace), IoError (socket, bind, setns, the sysctl), Unavailable (an
  // NFLOG group already bound by another socket: EPERM/EBUSY).  Nothing
  // keeps running after an error.  `sink` must outlive the collector.
  static Result<std::unique_ptr<Collector>> Open(const CollectorOptions& options, CollectorSink* sink);

  ~Collector();  // Stop()
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Dumps the conntrack table (AF_INET, then AF_INET6) and delivers every
  // entry (ended = false) through the sink before it returns.  Callable
  // from any thread but the reader thread (a sink callback); concurrent
  // calls are serialised.  Unsupported when options.conntrack is off,
  // Unavailable after Stop, IoError / the kernel's error otherwise.
  Status DumpConntrack();

  CollectorStats stats() const;

  // Wakes and joins the reader thread and closes the sockets.  Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_COLLECTOR_H_
