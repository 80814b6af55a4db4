// Unit tests of the collector's pure parts: the NFLOG -> PolicyPacket /
// DnsPacket conversions, the config requests, and MessageDecoder on
// hand-built receive buffers.  The sockets and the reader thread are
// tested as root in tests/flowlog/collector_root_test.cc.
#include "flowlog/collector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "flowlog/conntrack_msg.h"
#include "flowlog/netlink_test_util.h"

namespace tw::flowlog {
namespace {

using testing::Attrs;
using testing::BeBytes;
using testing::Bytes;
using testing::Message;
using std::chrono::seconds;




// An IPv4 packet 10.0.1.2 -> 10.0.2.2 with a UDP or TCP header and
// `payload`; total length as on the wire, captured bytes cut at `snap`.
Bytes Ipv4Packet(uint8_t proto, uint16_t sport, uint16_t dport, const Bytes& payload, size_t snap = 0xffff) {
  const size_t l4 = proto == 6 ? 20 : 8;
  const uint16_t total = static_cast<uint16_t>(20 + l4 + payload.size());
  Bytes p = {0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 0, 0x40, 0, 64, proto, 0, 0,
             10, 0, 1, 2, 10, 0, 2, 2};
  Bytes ports = BeBytes((uint32_t{sport} << 16) | dport, 4);
  p.insert(p.end(), ports.begin(), ports.end());
  if (proto == 6) {
    Bytes tcp = {0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0};
    p.insert(p.end(), tcp.begin(), tcp.end());
  } else {
    Bytes udp = BeBytes(8 + payload.size(), 2);
    udp.push_back(0);
    udp.push_back(0);
    p.insert(p.end(), udp.begin(), udp.end());
  }
  p.insert(p.end(), payload.begin(), payload.end());
  if (p.size() > snap) p.resize(snap);
  return p;
}

Bytes NflogMessage(uint16_t group, const Bytes& packet, const std::string& prefix, uint32_t indev = 0,
                   uint32_t outdev = 0, std::optional<uint64_t> ts_sec = std::nullopt) {
  Attrs a;
  a.Add(NFULA_PACKET_HDR, {0x08, 0x00, 2 /*NF_INET_FORWARD*/, 0});
  if (ts_sec) {
    Bytes ts = BeBytes(*ts_sec, 8);
    Bytes usec = BeBytes(250000, 8);
    ts.insert(ts.end(), usec.begin(), usec.end());
    a.Add(NFULA_TIMESTAMP, ts);
  }
  if (indev != 0) a.Add(NFULA_IFINDEX_INDEV, BeBytes(indev, 4));
  if (outdev != 0) a.Add(NFULA_IFINDEX_OUTDEV, BeBytes(outdev, 4));
  if (!prefix.empty()) {
    Bytes p(prefix.begin(), prefix.end());
    p.push_back(0);
    a.Add(NFULA_PREFIX, p);
  }
  a.Add(NFULA_PAYLOAD, packet);
  return Message(kNflogPacketMsgType, AF_INET, group, a);
}

Bytes ConntrackDestroy() {
  auto tuple = [](uint32_t s, uint32_t d, uint16_t sp, uint16_t dp) {
    return Attrs()
        .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(s, 4)).Add(CTA_IP_V4_DST, BeBytes(d, 4)))
        .Nest(CTA_TUPLE_PROTO, Attrs()
                                   .Add(CTA_PROTO_NUM, {6})
                                   .Add(CTA_PROTO_SRC_PORT, BeBytes(sp, 2))
                                   .Add(CTA_PROTO_DST_PORT, BeBytes(dp, 2)));
  };
  return Message(kConntrackDeleteMsgType, AF_INET, 0,
                 Attrs()
                     .Nest(CTA_TUPLE_ORIG, tuple(0x0a000102, 0x0a000202, 40000, 8080))
                     .Nest(CTA_TUPLE_REPLY, tuple(0x0a000202, 0x0a000102, 8080, 40000))
                     .Nest(CTA_COUNTERS_ORIG, Attrs()
                                                  .Add(CTA_COUNTERS_PACKETS, BeBytes(5, 8))
                                                  .Add(CTA_COUNTERS_BYTES, BeBytes(321, 8))));
}

Bytes Done(uint16_t type, uint32_t seq = 0) {
  Bytes b(20, 0);
  uint32_t len = 20;
  std::memcpy(&b[0], &len, 4);
  std::memcpy(&b[4], &type, 2);
  std::memcpy(&b[8], &seq, 4);
  return b;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

net::IpAddr Ip(const char* s) { return net::IpAddr::Parse(s).value(); }

const TimePoint kReceived = TimePoint(seconds(1'800'000'000));

std::string Namer(uint32_t i) { return i == 0 ? "" : "veth" + std::to_string(i); }

NflogPacket Parsed(const Bytes& msg) { return ParseNflogMessage(msg).value(); }

TEST(CollectorTest, PacketTime) {
  NflogPacket p;
  EXPECT_EQ(NflogPacketTime(p, kReceived), kReceived);
  p.timestamp = NflogTimestamp{1'800'000'000 - 5, 250000};
  EXPECT_EQ(NflogPacketTime(p, kReceived), kReceived - seconds(5) + std::chrono::milliseconds(250));
  p.timestamp = NflogTimestamp{12345, 0};  // a monotonic stamp: not a wall-clock time
  EXPECT_EQ(NflogPacketTime(p, kReceived), kReceived);
  p.timestamp = NflogTimestamp{1'800'000'000, 2'000'000};  // usec out of range
  EXPECT_EQ(NflogPacketTime(p, kReceived), kReceived);
  p.timestamp = NflogTimestamp{UINT64_MAX, 0};
  EXPECT_EQ(NflogPacketTime(p, kReceived), kReceived);
}

TEST(CollectorTest, EgressPolicyPacket) {
  Bytes payload(100, 'x');
  // The rule's snaplen cut the packet at 80 bytes; ip_bytes is the wire length.
  Bytes msg = NflogMessage(2, Ipv4Packet(6, 40000, 8080, payload, 80), "APE0|default.x", 7, 9,
                           1'800'000'000 - 1);
  auto p = ToPolicyPacket(Parsed(msg), policy::Direction::kEgress, kReceived, Namer);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->direction, policy::Direction::kEgress);
  EXPECT_EQ(p->iface, "veth7");  // indev: the source pod's interface
  EXPECT_EQ(p->tuple.src, Ip("10.0.1.2"));
  EXPECT_EQ(p->tuple.dst, Ip("10.0.2.2"));
  EXPECT_EQ(p->tuple.proto, 6);
  EXPECT_EQ(p->tuple.sport, 40000);
  EXPECT_EQ(p->tuple.dport, 8080);
  EXPECT_EQ(p->ip_bytes, 140u);
  EXPECT_EQ(p->prefix, "APE0|default.x");
  EXPECT_EQ(p->time, kReceived - seconds(1) + std::chrono::milliseconds(250));
  EXPECT_EQ(p->seq, 0u);
}

TEST(CollectorTest, IngressPolicyPacketUsesOutdev) {
  Bytes msg = NflogMessage(1, Ipv4Packet(17, 5000, 9999, {1, 2, 3}), "DPI|default", 7, 9);
  auto p = ToPolicyPacket(Parsed(msg), policy::Direction::kIngress, kReceived, Namer);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->iface, "veth9");
  EXPECT_EQ(p->ip_bytes, 31u);
  EXPECT_EQ(p->time, kReceived);  // no timestamp
  // No device at all (the kernel sent none): empty.
  Bytes bare = NflogMessage(1, Ipv4Packet(17, 5000, 9999, {}), "x");
  EXPECT_EQ(ToPolicyPacket(Parsed(bare), policy::Direction::kIngress, kReceived, Namer)->iface, "");
}

TEST(CollectorTest, PolicyPacketOfGarbage) {
  Bytes msg = NflogMessage(2, {0x12, 0x34, 0x56}, "x");
  auto p = ToPolicyPacket(Parsed(msg), policy::Direction::kEgress, kReceived, Namer);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().IsInvalidArgument());
  EXPECT_EQ(p.error().message().rfind("nflog group 2: packet:", 0), 0u) << p.error().message();
}

TEST(CollectorTest, DnsPacketUdpAndTcp) {
  Bytes query = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
  auto udp = ToDnsPacket(Parsed(NflogMessage(3, Ipv4Packet(17, 5353, 53, query), "DNS")), kReceived);
  ASSERT_TRUE(udp.ok()) << udp.status().ToString();
  EXPECT_EQ(udp->dns, query);
  EXPECT_EQ(udp->tuple.dport, 53);
  EXPECT_EQ(udp->tuple.proto, 17);
  EXPECT_EQ(udp->time, kReceived);

  Bytes framed = Concat({BeBytes(query.size(), 2), query});
  auto tcp = ToDnsPacket(Parsed(NflogMessage(3, Ipv4Packet(6, 53, 40000, framed), "DNS")), kReceived);
  ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
  EXPECT_EQ(tcp->dns, framed);
  EXPECT_EQ(tcp->tuple.sport, 53);

  Bytes icmp = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 8, 0, 0, 0, 0, 0, 0, 0};
  auto other = ToDnsPacket(Parsed(NflogMessage(3, icmp, "DNS")), kReceived);
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(other.error().IsUnsupported());
}

TEST(CollectorTest, NflogConfigRequests) {
  Bytes bind = BuildNflogConfigCommand(AF_UNSPEC, 258, NFULNL_CFG_CMD_BIND, 9);
  ASSERT_EQ(bind.size(), 28u);  // header 16 + nfgenmsg 4 + attribute 4 + 1, padded
  nlmsghdr h;
  std::memcpy(&h, bind.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_len, 28u);
  EXPECT_EQ(h.nlmsg_type, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(h.nlmsg_seq, 9u);
  EXPECT_EQ(bind[16], AF_UNSPEC);
  EXPECT_EQ(bind[18], 1);  // res_id 258, big-endian
  EXPECT_EQ(bind[19], 2);
  uint16_t alen, atype;
  std::memcpy(&alen, &bind[20], 2);
  std::memcpy(&atype, &bind[22], 2);
  EXPECT_EQ(alen, 5);
  EXPECT_EQ(atype, NFULA_CFG_CMD);
  EXPECT_EQ(bind[24], NFULNL_CFG_CMD_BIND);

  Bytes mode = BuildNflogCopyPacketMode(3, 0xffff, 10);
  ASSERT_EQ(mode.size(), 32u);  // ... + attribute 4 + 6, padded
  std::memcpy(&alen, &mode[20], 2);
  std::memcpy(&atype, &mode[22], 2);
  EXPECT_EQ(alen, 10);
  EXPECT_EQ(atype, NFULA_CFG_MODE);
  EXPECT_EQ(Bytes(mode.begin() + 24, mode.begin() + 29), (Bytes{0, 0, 0xff, 0xff, NFULNL_COPY_PACKET}));
  EXPECT_EQ(mode[19], 3);
}

class RecordingSink : public CollectorSink {
 public:
  void OnPolicyPacket(PolicyPacket&& p) override { policy.push_back(std::move(p)); }
  void OnDnsPacket(DnsPacket&& p) override { dns.push_back(std::move(p)); }
  void OnConntrack(ConntrackFlow&& f) override { conntrack.push_back(std::move(f)); }
  std::vector<PolicyPacket> policy;
  std::vector<DnsPacket> dns;
  std::vector<ConntrackFlow> conntrack;
};

TEST(CollectorTest, DecoderDispatchesAndCounts) {
  RecordingSink sink;
  MessageDecoder decoder(CollectorOptions{}, &sink, Namer);
  Bytes query = {0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  Bytes bad_attr = NflogMessage(2, Ipv4Packet(17, 1, 2, {}), "x");
  bad_attr[20] = 0xff;  // first attribute's length now runs past the message
  Bytes buffer = Concat({
      NflogMessage(2, Ipv4Packet(6, 40000, 8080, {}), "APE0|default.x", 4, 5),
      NflogMessage(1, Ipv4Packet(6, 40000, 8080, {}), "API0|default.y", 4, 5),
      NflogMessage(3, Ipv4Packet(17, 5353, 53, query), "DNS"),
      NflogMessage(3, Ipv4Packet(6, 40000, 53, {}), "DNS"),  // handshake segment: ignored
      NflogMessage(9, Ipv4Packet(17, 1, 2, {}), "other"),    // a group we do not read
      ConntrackDestroy(),
      bad_attr,                                            // malformed NFLOG
      NflogMessage(2, {0x60, 0, 0}, "short"),               // malformed packet
      Done(NLMSG_DONE),
      Done(NLMSG_ERROR),
  });
  decoder.HandleBuffer(buffer, kReceived);

  ASSERT_EQ(sink.policy.size(), 2u);
  EXPECT_EQ(sink.policy[0].direction, policy::Direction::kEgress);
  EXPECT_EQ(sink.policy[0].iface, "veth4");
  EXPECT_EQ(sink.policy[0].prefix, "APE0|default.x");
  EXPECT_EQ(sink.policy[0].seq, 1u);
  EXPECT_EQ(sink.policy[1].direction, policy::Direction::kIngress);
  EXPECT_EQ(sink.policy[1].iface, "veth5");
  EXPECT_EQ(sink.policy[1].seq, 2u);
  ASSERT_EQ(sink.dns.size(), 1u);
  EXPECT_EQ(sink.dns[0].dns, query);
  ASSERT_EQ(sink.conntrack.size(), 1u);
  EXPECT_TRUE(sink.conntrack[0].ended);
  EXPECT_EQ(sink.conntrack[0].packets_orig, 5u);
  EXPECT_EQ(sink.conntrack[0].bytes_orig, 321u);
  EXPECT_EQ(sink.conntrack[0].time, kReceived);

  CollectorStats s = decoder.stats();
  EXPECT_EQ(s.messages, 10u);
  EXPECT_EQ(s.policy_packets, 2u);
  EXPECT_EQ(s.dns_packets, 1u);
  EXPECT_EQ(s.conntrack_entries, 1u);
  EXPECT_EQ(s.malformed, 2u);
  EXPECT_EQ(s.ignored, 4u);
  EXPECT_EQ(s.kernel_drops, 0u);
  EXPECT_NE(s.last_error.find("nflog group 2: packet:"), std::string::npos) << s.last_error;
}

TEST(CollectorTest, DecoderKeepsMessagesBeforeABadHeader) {
  RecordingSink sink;
  MessageDecoder decoder(CollectorOptions{}, &sink, Namer);
  Bytes buffer = Concat({NflogMessage(2, Ipv4Packet(17, 1, 2, {}), "APE0|a"), Bytes{1, 2, 3, 4, 5}});
  decoder.HandleBuffer(buffer, kReceived);
  EXPECT_EQ(sink.policy.size(), 1u);
  CollectorStats s = decoder.stats();
  EXPECT_EQ(s.malformed, 1u);
  EXPECT_EQ(s.messages, 2u);
  EXPECT_NE(s.last_error.find("netlink buffer"), std::string::npos) << s.last_error;
  decoder.CountKernelDrop("collector: nflog: dropped");
  EXPECT_EQ(decoder.stats().kernel_drops, 1u);
  EXPECT_EQ(decoder.stats().last_error, "collector: nflog: dropped");
}

TEST(CollectorTest, DecoderHonoursConfiguredGroups) {
  RecordingSink sink;
  CollectorOptions o;
  o.ingress_group = 11;
  o.egress_group = 12;
  o.dns_group = 0;  // DNS off
  o.conntrack = false;
  MessageDecoder decoder(o, &sink, nullptr);
  decoder.HandleBuffer(Concat({NflogMessage(12, Ipv4Packet(17, 1, 2, {}), "APE0|a", 3),
                               NflogMessage(11, Ipv4Packet(17, 1, 2, {}), "API0|a", 3, 4),
                               NflogMessage(3, Ipv4Packet(17, 1, 53, {1, 2}), "DNS"), ConntrackDestroy()}),
                       kReceived);
  ASSERT_EQ(sink.policy.size(), 2u);
  EXPECT_EQ(sink.policy[0].direction, policy::Direction::kEgress);
  EXPECT_EQ(sink.policy[0].iface, "");  // no namer
  EXPECT_EQ(sink.policy[1].direction, policy::Direction::kIngress);
  EXPECT_TRUE(sink.dns.empty());
  EXPECT_TRUE(sink.conntrack.empty());
  EXPECT_EQ(decoder.stats().ignored, 2u);
}

TEST(CollectorTest, OpenRejectsBadInput) {
  RecordingSink sink;
  CollectorOptions o;
  o.netns = "a/b";
  auto bad = Collector::Open(o, &sink);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().IsInvalidArgument()) << bad.error().ToString();
  o.netns = "tw-unit-no-such-netns-" + std::to_string(::getpid());
  auto missing = Collector::Open(o, &sink);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().IsNotFound()) << missing.error().ToString();
  EXPECT_NE(missing.error().message().find(o.netns), std::string::npos);
  EXPECT_TRUE(Collector::Open(CollectorOptions{}, nullptr).error().IsInvalidArgument());
  CollectorOptions twice;
  twice.dns_group = twice.egress_group;
  auto dup = Collector::Open(twice, &sink);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message(),
            "collector: nflog group 2 is given for two purposes (ingress, egress, dns groups must differ)");
}

// Not a timing assertion: prints how many messages per second the decoder
// handles (NFLOG policy verdicts, as the kernel batches them).
TEST(CollectorTest, DecoderThroughput) {
  class CountingSink : public CollectorSink {
   public:
    void OnPolicyPacket(PolicyPacket&&) override { ++n; }
    void OnDnsPacket(DnsPacket&&) override { ++n; }
    void OnConntrack(ConntrackFlow&&) override { ++n; }
    uint64_t n = 0;
  } sink;
  MessageDecoder decoder(CollectorOptions{}, &sink, Namer);
  Bytes buffer;
  constexpr int kPerBuffer = 64;
  for (int i = 0; i < kPerBuffer; ++i) {
    const Bytes m = i % 8 == 7 ? ConntrackDestroy()
                               : NflogMessage(2, Ipv4Packet(6, static_cast<uint16_t>(30000 + i), 8080, {}, 80),
                                              "APE0|default.allow-web", 4, 5, 1'800'000'000);
    buffer.insert(buffer.end(), m.begin(), m.end());
  }
  constexpr int kRounds = 2000;
  const auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < kRounds; ++r) decoder.HandleBuffer(buffer, kReceived);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(sink.n, uint64_t{kRounds} * kPerBuffer);
  EXPECT_EQ(decoder.stats().malformed, 0u);
  std::printf("[ measure  ] decoder: %d messages in %.3f s = %.2f M messages/s\n", kRounds * kPerBuffer, secs,
              kRounds * kPerBuffer / secs / 1e6);
}

}  // namespace
}  // namespace tw::flowlog
