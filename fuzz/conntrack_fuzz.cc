// libFuzzer target for what the collector reads from netlink (./run fuzz):
// a receive buffer is split into messages, and every message goes to the
// ctnetlink parser and the NFLOG parser, then through MessageDecoder (the
// collector's dispatch: NFLOG -> packet -> PolicyPacket / DnsPacket,
// ctnetlink -> ConntrackFlow) with a sink that checks what it gets.
//
// Invariants checked on every input:
// - nothing crashes, reads out of bounds or loops (ASan/UBSan, timeouts);
// - errors are InvalidArgument only;
// - a parsed ConntrackFlow has tuples of one family each, ICMP tuples
//   carry no ports, `ended` is set exactly for DELETE messages;
// - the decoder delivers at most one value per message and counts every
//   message exactly once (delivered + malformed + ignored == messages).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowlog/collector.h"
#include "flowlog/conntrack_msg.h"
#include "flowlog/nflog_msg.h"
#include "flowlog/packet.h"

namespace {

using namespace tw::flowlog;  // NOLINT

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckTuple(const FlowTuple& t) {
  Check(t.src.family() == t.dst.family());
  if (t.proto == kProtoIcmp || t.proto == kProtoIcmpv6) Check(t.sport == 0 && t.dport == 0);
}

class CheckingSink : public CollectorSink {
 public:
  void OnPolicyPacket(PolicyPacket&& p) override {
    ++delivered;
    CheckTuple(p.tuple);
    Check(p.prefix.size() < 0x10000);
  }
  void OnDnsPacket(DnsPacket&& p) override {
    ++delivered;
    Check(!p.dns.empty());
    Check(p.tuple.proto == kProtoUdp || p.tuple.proto == kProtoTcp);
  }
  void OnConntrack(ConntrackFlow&& f) override {
    ++delivered;
    CheckTuple(f.orig);
    CheckTuple(f.reply);
  }
  uint64_t delivered = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  std::vector<NetlinkMessageView> msgs;
  tw::Status s = SplitNetlinkMessages(bytes, &msgs);
  Check(s.ok() || s.IsInvalidArgument());
  for (const auto& m : msgs) {
    auto ct = ParseConntrackMessage(m.bytes);
    if (ct.ok()) {
      Check(IsConntrackMessageType(m.type));
      Check(ct->ended == IsConntrackDestroyType(m.type));
      CheckTuple(ct->orig);
      CheckTuple(ct->reply);
    } else {
      Check(ct.error().IsInvalidArgument());
    }
    auto nf = ParseNflogMessage(m.bytes);
    if (!nf.ok()) Check(nf.error().IsInvalidArgument());
  }
  CheckingSink sink;
  MessageDecoder decoder(CollectorOptions{}, &sink, [](uint32_t i) { return i % 2 ? "eth" : ""; });
  decoder.HandleBuffer(bytes, std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)));
  const CollectorStats st = decoder.stats();
  Check(st.messages == msgs.size() + (s.ok() ? 0 : 1));
  Check(st.policy_packets + st.dns_packets + st.conntrack_entries == sink.delivered);
  Check(sink.delivered + st.malformed + st.ignored == st.messages);
  return 0;
}
