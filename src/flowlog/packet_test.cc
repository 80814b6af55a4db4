#include "flowlog/packet.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tw::flowlog {
namespace {

using Bytes = std::vector<uint8_t>;

void Put16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

// IPv4 header (no options) for 10.0.0.1 -> 5.196.58.96 with `l4` after it.
Bytes Ipv4(uint8_t proto, const Bytes& l4, uint16_t frag = 0, int total_delta = 0) {
  Bytes b = {0x45, 0x00};
  Put16(&b, static_cast<uint16_t>(20 + l4.size() + total_delta));
  Put16(&b, 0x1234);  // id
  Put16(&b, frag);
  b.push_back(64);
  b.push_back(proto);
  Put16(&b, 0);  // checksum (not checked)
  for (uint8_t c : {10, 0, 0, 1, 5, 196, 58, 96}) b.push_back(c);
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// IPv6 header fd00::1 -> 2001:db8::53, next header `next`, then `rest`.
Bytes Ipv6(uint8_t next, const Bytes& rest) {
  Bytes b = {0x60, 0, 0, 0};
  Put16(&b, static_cast<uint16_t>(rest.size()));
  b.push_back(next);
  b.push_back(255);
  Bytes src(16, 0), dst(16, 0);
  src[0] = 0xfd; src[15] = 1;
  dst[0] = 0x20; dst[1] = 0x01; dst[2] = 0x0d; dst[3] = 0xb8; dst[15] = 0x53;
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

Bytes Tcp(uint16_t sport, uint16_t dport, uint8_t flags, size_t options = 0, const Bytes& payload = {}) {
  Bytes b;
  Put16(&b, sport);
  Put16(&b, dport);
  for (int i = 0; i < 8; ++i) b.push_back(0);  // seq, ack
  b.push_back(static_cast<uint8_t>(((20 + options) / 4) << 4));
  b.push_back(flags);
  for (int i = 0; i < 6; ++i) b.push_back(0);  // window, checksum, urgent
  b.insert(b.end(), options, 1);               // NOPs
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes Udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes b;
  Put16(&b, sport);
  Put16(&b, dport);
  Put16(&b, static_cast<uint16_t>(8 + payload.size()));
  Put16(&b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// A generic extension header of `len8` 8-byte units (the first included).
Bytes Ext(uint8_t next, size_t len8) {
  Bytes b = {next, static_cast<uint8_t>(len8 - 1)};
  b.resize(len8 * 8, 0);
  return b;
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes Cut(Bytes b, size_t n) {
  b.resize(std::min(n, b.size()));
  return b;
}

TEST(PacketTest, Ipv4TcpSyn) {
  Bytes p = Ipv4(kProtoTcp, Tcp(40000, 443, kTcpSyn, 12));
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->ip_version, 4);
  EXPECT_EQ(r->src.ToString(), "10.0.0.1");
  EXPECT_EQ(r->dst.ToString(), "5.196.58.96");
  EXPECT_EQ(r->protocol, kProtoTcp);
  EXPECT_EQ(r->ttl, 64);
  EXPECT_EQ(r->total_length, 52u);
  EXPECT_EQ(r->src_port, 40000);
  EXPECT_EQ(r->dst_port, 443);
  EXPECT_EQ(r->tcp_flags, kTcpSyn);
  EXPECT_EQ(r->l4_offset, 20u);
  EXPECT_EQ(r->payload_offset, 52u);
  EXPECT_FALSE(r->truncated);
  EXPECT_FALSE(r->fragment);
  EXPECT_FALSE(r->icmp_type.has_value());
}

TEST(PacketTest, Ipv4UdpPayloadBoundedByUdpAndIpLengths) {
  Bytes p = Ipv4(kProtoUdp, Udp(5353, 53, {1, 2, 3, 4}));
  p.push_back(0xee);  // trailing byte past the IP total length
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->src_port, 5353);
  EXPECT_EQ(r->dst_port, 53);
  auto payload = PacketPayload(p, *r);
  EXPECT_EQ(Bytes(payload.begin(), payload.end()), (Bytes{1, 2, 3, 4}));

  // UDP length shorter than the datagram: the UDP length wins.
  Bytes q = Ipv4(kProtoUdp, Udp(1, 2, {9, 9, 9}));
  q[20 + 5] = 8 + 1;
  r = ParsePacket(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(PacketPayload(q, *r).size(), 1u);
}

TEST(PacketTest, Ipv4WithOptionsAndIcmp) {
  Bytes p = Ipv4(kProtoIcmp, {8, 0, 0, 0, 0, 1, 0, 1, 'x'});
  p[0] = 0x46;  // IHL 6: one option word
  p.insert(p.begin() + 20, {1, 1, 1, 0});
  p[3] += 4;
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->l4_offset, 24u);
  EXPECT_EQ(r->icmp_type, 8);
  EXPECT_EQ(r->icmp_code, 0);
  EXPECT_FALSE(r->src_port.has_value());
  EXPECT_EQ(r->payload_offset, 32u);
  EXPECT_EQ(PacketPayload(p, *r).size(), 1u);
}

TEST(PacketTest, Ipv4Errors) {
  EXPECT_FALSE(ParsePacket(Bytes{}).ok());
  EXPECT_FALSE(ParsePacket(Bytes{0x45, 0, 0}).ok());
  Bytes p = Ipv4(kProtoTcp, Tcp(1, 2, 0));
  p[0] = 0x43;
  auto r = ParsePacket(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("IHL 3"), std::string::npos) << r.error().message();
  p[0] = 0x4f;  // 60-byte header but only 40 bytes
  EXPECT_FALSE(ParsePacket(p).ok());
  p[0] = 0x55;
  r = ParsePacket(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("version 5"), std::string::npos);
  Bytes q = Ipv4(kProtoTcp, Tcp(1, 2, 0));
  q[2] = 0;
  q[3] = 10;  // total length below the header
  EXPECT_FALSE(ParsePacket(q).ok());
}

TEST(PacketTest, Ipv4TotalLengthZeroMeansCaptured) {
  Bytes p = Ipv4(kProtoTcp, Tcp(1, 2, kTcpAck, 0, {7, 7}));
  p[2] = p[3] = 0;
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->total_length, 0u);
  EXPECT_EQ(PacketPayload(p, *r).size(), 2u);
}

TEST(PacketTest, TruncatedTransportKeepsWhatIsKnown) {
  const Bytes full = Ipv4(kProtoTcp, Tcp(1234, 80, kTcpSyn | kTcpAck, 20, Bytes(100, 'a')));
  // At the snaplen (80): complete.
  auto r = ParsePacket(Cut(full, 80));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->total_length, full.size());
  EXPECT_EQ(r->payload_offset, 60u);
  EXPECT_EQ(PacketPayload(Cut(full, 80), *r).size(), 20u);
  // Cut inside the options: ports and flags, no payload.
  r = ParsePacket(Cut(full, 50));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(PacketPayload(Cut(full, 50), *r).size(), 0u);
  // Cut after the ports.
  r = ParsePacket(Cut(full, 24));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->dst_port, 80);
  EXPECT_FALSE(r->tcp_flags.has_value());
  // Cut inside the ports.
  r = ParsePacket(Cut(full, 22));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_FALSE(r->src_port.has_value());
  // Every cut point parses or fails cleanly.
  for (size_t n = 0; n <= full.size(); ++n) {
    Bytes c = Cut(full, n);
    auto x = ParsePacket(c);
    EXPECT_EQ(x.ok(), n >= 20) << n;
    if (x.ok()) {
      EXPECT_LE(x->payload_offset, n);
      EXPECT_LE(PacketPayload(c, *x).size(), n);
    }
  }
}

TEST(PacketTest, TcpBadDataOffset) {
  Bytes p = Ipv4(kProtoTcp, Tcp(1, 2, kTcpRst, 0, {1, 2, 3}));
  p[20 + 12] = 0x20;  // data offset 8 bytes
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tcp_flags, kTcpRst);
  EXPECT_EQ(PacketPayload(p, *r).size(), 0u);
}

TEST(PacketTest, Ipv4Fragments) {
  // First fragment (MF set, offset 0): ports present.
  Bytes first = Ipv4(kProtoUdp, Udp(1000, 53, Bytes(16, 0)), 0x2000);
  auto r = ParsePacket(first);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->fragment);
  EXPECT_EQ(r->fragment_offset, 0);
  EXPECT_EQ(r->dst_port, 53);
  // Later fragment: bytes that look like ports are not ports.
  Bytes later = Ipv4(kProtoUdp, Udp(1000, 53, Bytes(16, 0)), 3);
  r = ParsePacket(later);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->fragment);
  EXPECT_EQ(r->fragment_offset, 3);
  EXPECT_FALSE(r->src_port.has_value());
  EXPECT_FALSE(r->dst_port.has_value());
  EXPECT_EQ(r->payload_offset, 20u);
  EXPECT_FALSE(r->truncated);
}

TEST(PacketTest, Ipv6Udp) {
  Bytes p = Ipv6(kProtoUdp, Udp(33000, 53, {0xab}));
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->ip_version, 6);
  EXPECT_EQ(r->src.ToString(), "fd00::1");
  EXPECT_EQ(r->dst.ToString(), "2001:db8::53");
  EXPECT_EQ(r->protocol, kProtoUdp);
  EXPECT_EQ(r->total_length, 49u);
  EXPECT_EQ(r->ttl, 255);
  EXPECT_EQ(r->dst_port, 53);
  EXPECT_EQ(r->payload_offset, 48u);
  EXPECT_EQ(PacketPayload(p, *r).size(), 1u);
}

TEST(PacketTest, Ipv6ExtensionHeaderChain) {
  // hop-by-hop -> routing (24 bytes) -> dest options -> AH (16 bytes) -> TCP
  Bytes ah = {kProtoTcp, 2, 0, 0};  // (2 + 2) * 4 = 16 bytes
  ah.resize(16, 0);
  Bytes chain = Cat(Cat(Cat(Ext(43, 1), Ext(60, 3)), Ext(51, 1)), ah);
  Bytes p = Ipv6(0, Cat(chain, Tcp(5, 6, kTcpFin)));
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->protocol, kProtoTcp);
  EXPECT_EQ(r->l4_offset, 40u + 8 + 24 + 8 + 16);
  EXPECT_EQ(r->src_port, 5);
  EXPECT_EQ(r->tcp_flags, kTcpFin);
  EXPECT_FALSE(r->truncated);
}

TEST(PacketTest, Ipv6ChainCutBySnaplen) {
  Bytes p = Ipv6(0, Cat(Cat(Ext(60, 1), Ext(kProtoUdp, 4)), Udp(1, 53, {})));
  auto r = ParsePacket(Cut(p, 60));  // inside the 32-byte dest options header at 48
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->protocol, 60);
  EXPECT_EQ(r->l4_offset, 48u);
  EXPECT_FALSE(r->dst_port.has_value());
  r = ParsePacket(Cut(p, 44));  // inside the first header's 8 bytes
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->protocol, 0);
  EXPECT_EQ(r->l4_offset, 40u);
  EXPECT_FALSE(ParsePacket(Cut(p, 39)).ok());
}

TEST(PacketTest, Ipv6TooManyExtensionHeaders) {
  Bytes chain;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) chain = Cat(chain, Ext(60, 1));
  Bytes ok_chain = chain;
  ok_chain[ok_chain.size() - 8] = kProtoUdp;  // the last one points at UDP
  auto r = ParsePacket(Ipv6(60, Cat(ok_chain, Udp(1, 2, {}))));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->protocol, kProtoUdp);
  EXPECT_EQ(r->dst_port, 2);
  r = ParsePacket(Ipv6(60, Cat(chain, Ext(kProtoUdp, 1))));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("extension headers"), std::string::npos);
}

TEST(PacketTest, Ipv6Fragments) {
  // Fragment header: next UDP, offset 0, M=1 -> first fragment, ports present.
  Bytes frag0 = {kProtoUdp, 0, 0x00, 0x01, 0, 0, 0, 42};
  auto r = ParsePacket(Ipv6(44, Cat(frag0, Udp(7, 53, {1}))));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->fragment);
  EXPECT_EQ(r->fragment_offset, 0);
  EXPECT_EQ(r->protocol, kProtoUdp);
  EXPECT_EQ(r->dst_port, 53);
  // offset 185 (1480 bytes), next header "hop-by-hop" in a later fragment: not walked.
  Bytes frag1 = {0, 0, 0x05, 0xc8, 0, 0, 0, 42};
  r = ParsePacket(Ipv6(44, Cat(frag1, Bytes(16, 0))));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->fragment);
  EXPECT_EQ(r->fragment_offset, 185);
  EXPECT_EQ(r->protocol, 0);
  EXPECT_EQ(r->l4_offset, 48u);
  EXPECT_FALSE(r->src_port.has_value());
  EXPECT_FALSE(r->truncated);
}

TEST(PacketTest, Ipv6PayloadLengthBoundsTheChain) {
  // The payload length says 8 bytes but a 16-byte header is announced.
  Bytes p = Ipv6(60, Cat(Ext(kProtoTcp, 2), Tcp(1, 2, 0)));
  p[4] = 0;
  p[5] = 8;
  auto r = ParsePacket(p);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_FALSE(r->src_port.has_value());
}

TEST(PacketTest, ProtocolNames) {
  EXPECT_EQ(ProtocolName(6), "tcp");
  EXPECT_EQ(ProtocolName(17), "udp");
  EXPECT_EQ(ProtocolName(1), "icmp");
  EXPECT_EQ(ProtocolName(58), "icmp6");
  EXPECT_EQ(ProtocolName(132), "sctp");
  EXPECT_EQ(ProtocolName(4), "ipip");
  EXPECT_EQ(ProtocolName(50), "esp");
  EXPECT_EQ(ProtocolName(47), "47");
}

}  // namespace
}  // namespace tw::flowlog
