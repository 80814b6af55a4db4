// libFuzzer target for the flow-log parsers that read what pods send
// (./run fuzz): the DNS message parser, the NFLOG netlink message parser
// and the packet header parser.  The same input is fed to all three, and
// the NFLOG path chains into the other two as the flow-log reader will.
//
// Invariants checked on every input:
// - nothing crashes, reads out of bounds or loops (ASan/UBSan, timeouts);
// - DNS: an error only below 12 bytes; names are at most 4 * 255 text
//   bytes; GroupRrsets keeps every answer's rdata; the TCP form of the
//   same bytes agrees with the UDP form of its body;
// - packets: an error only when the fixed IP header is incomplete or
//   invalid; offsets and the payload stay within the bytes;
// - NFLOG: every split message lies inside the buffer, back to back; the
//   prefix and payload views lie inside their message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "flowlog/dns.h"
#include "flowlog/nflog_msg.h"
#include "flowlog/packet.h"

namespace {

using namespace tw::flowlog;  // NOLINT

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Inside(const void* p, size_t n, std::span<const uint8_t> outer) {
  const auto* b = static_cast<const uint8_t*>(p);
  return n == 0 || (b >= outer.data() && b + n <= outer.data() + outer.size());
}

void CheckName(const std::string& name) { Check(name.size() <= 4 * kMaxDnsNameWireLen); }

void FuzzDns(std::span<const uint8_t> data) {
  auto m = ParseDnsMessage(data);
  Check(m.ok() == (data.size() >= kDnsHeaderLen));
  if (!m.ok()) {
    Check(m.error().IsInvalidArgument());
    return;
  }
  Check(m->error.ok() || m->error.IsInvalidArgument());
  Check(m->questions.size() <= m->header.qdcount);
  Check(m->answers.size() <= m->header.ancount);
  for (const auto& q : m->questions) CheckName(q.name);
  size_t records = 0;
  for (const auto* section : {&m->answers, &m->authorities, &m->additionals}) {
    for (const auto& r : *section) {
      CheckName(r.name);
      ++records;
    }
  }
  Check(records * 11 <= data.size());
  size_t rdata = 0;
  for (const auto& set : GroupRrsets(m->answers)) rdata += set.rdata.size();
  Check(rdata == m->answers.size());
  (void)DnsRcodeName(m->rcode);

  size_t used = 0;
  auto t = ParseDnsTcpMessage(data, &used);
  if (t.ok()) {
    Check(used >= 2 && used <= data.size());
    auto again = ParseDnsMessage(data.subspan(2, used - 2));
    Check(again.ok() && again->answers.size() == t->answers.size() &&
          again->complete() == t->complete());
  }
}

void FuzzPacket(std::span<const uint8_t> data) {
  auto p = ParsePacket(data);
  if (!p.ok()) {
    Check(p.error().IsInvalidArgument());
    return;
  }
  Check(data.size() >= 20);
  Check(p->ip_version == 4 || p->ip_version == 6);
  Check(p->l4_offset <= data.size() && p->payload_offset <= data.size());
  Check(p->l4_offset <= p->payload_offset);
  auto payload = PacketPayload(data, *p);
  Check(Inside(payload.data(), payload.size(), data));
  if (p->fragment_offset != 0) Check(!p->src_port.has_value());
  // DNS over UDP, as the group-3 reader will do it.
  if (p->protocol == kProtoUdp && (p->src_port == 53 || p->dst_port == 53)) {
    (void)ParseDnsMessage(payload);
  }
}

void FuzzNflog(std::span<const uint8_t> data) {
  std::vector<NetlinkMessageView> msgs;
  tw::Status s = SplitNetlinkMessages(data, &msgs);
  Check(s.ok() || s.IsInvalidArgument());
  const uint8_t* expect = data.data();
  for (const auto& m : msgs) {
    Check(m.bytes.data() == expect && Inside(m.bytes.data(), m.bytes.size(), data));
    expect += (m.bytes.size() + 3) & ~size_t{3};
    auto pkt = ParseNflogMessage(m.bytes);
    if (!pkt.ok()) {
      Check(pkt.error().IsInvalidArgument());
      continue;
    }
    Check(Inside(pkt->prefix.data(), pkt->prefix.size(), m.bytes));
    Check(Inside(pkt->payload.data(), pkt->payload.size(), m.bytes));
    Check(Inside(pkt->ct.data(), pkt->ct.size(), m.bytes));
    FuzzPacket(pkt->payload);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  FuzzDns(bytes);
  FuzzPacket(bytes);
  FuzzNflog(bytes);
  return 0;
}
