#include "flowlog/conntrack_msg.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "flowlog/nflog_msg.h"
#include "flowlog/netlink_test_util.h"

namespace tw::flowlog {
namespace {

using testing::Attrs;
using testing::BeBytes;
using testing::Bytes;
using testing::Message;




Attrs Tuple4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport) {
  return Attrs()
      .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(src, 4)).Add(CTA_IP_V4_DST, BeBytes(dst, 4)))
      .Nest(CTA_TUPLE_PROTO, Attrs()
                                 .Add(CTA_PROTO_NUM, {proto})
                                 .Add(CTA_PROTO_SRC_PORT, BeBytes(sport, 2))
                                 .Add(CTA_PROTO_DST_PORT, BeBytes(dport, 2)));
}

Attrs Counters(uint64_t packets, uint64_t bytes) {
  return Attrs().Add(CTA_COUNTERS_PACKETS, BeBytes(packets, 8)).Add(CTA_COUNTERS_BYTES, BeBytes(bytes, 8));
}

net::IpAddr Ip(const char* s) { return net::IpAddr::Parse(s).value(); }

// A TCP flow 10.0.1.2:40000 -> 10.0.2.2:8080 as a dump reply.
Bytes TcpFlowMessage(uint16_t type = kConntrackNewMsgType) {
  return Message(type, AF_INET, 0,
                 Attrs()
                     .Nest(CTA_TUPLE_ORIG, Tuple4(0x0a000102, 0x0a000202, 6, 40000, 8080))
                     .Nest(CTA_TUPLE_REPLY, Tuple4(0x0a000202, 0x0a000102, 6, 8080, 40000))
                     .Add(CTA_STATUS, BeBytes(0x18e, 4))
                     .Add(CTA_TIMEOUT, BeBytes(120, 4))
                     .Nest(CTA_COUNTERS_ORIG, Counters(6, 400))
                     .Nest(CTA_COUNTERS_REPLY, Counters(4, 0x100000000ull))
                     .Add(CTA_ID, BeBytes(0xdeadbeef, 4))
                     .Add(CTA_USE, BeBytes(1, 4)));
}

TEST(ConntrackMsgTest, TypeHelpers) {
  EXPECT_EQ(kConntrackNewMsgType, 0x0100);
  EXPECT_EQ(kConntrackDeleteMsgType, 0x0102);
  EXPECT_TRUE(IsConntrackMessageType(kConntrackNewMsgType));
  EXPECT_TRUE(IsConntrackMessageType(kConntrackDeleteMsgType));
  EXPECT_FALSE(IsConntrackMessageType(kConntrackGetMsgType));
  EXPECT_FALSE(IsConntrackMessageType(kNflogPacketMsgType));
  EXPECT_TRUE(IsConntrackDestroyType(kConntrackDeleteMsgType));
  EXPECT_FALSE(IsConntrackDestroyType(kConntrackNewMsgType));
}

TEST(ConntrackMsgTest, Ipv4DumpReply) {
  auto f = ParseConntrackMessage(TcpFlowMessage());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->orig.src, Ip("10.0.1.2"));
  EXPECT_EQ(f->orig.dst, Ip("10.0.2.2"));
  EXPECT_EQ(f->orig.proto, 6);
  EXPECT_EQ(f->orig.sport, 40000);
  EXPECT_EQ(f->orig.dport, 8080);
  EXPECT_EQ(f->reply.src, Ip("10.0.2.2"));
  EXPECT_EQ(f->reply.sport, 8080);
  EXPECT_EQ(f->reply.dport, 40000);
  EXPECT_EQ(f->packets_orig, 6u);
  EXPECT_EQ(f->bytes_orig, 400u);
  EXPECT_EQ(f->packets_reply, 4u);
  EXPECT_EQ(f->bytes_reply, 0x100000000ull);
  EXPECT_EQ(f->id, 0xdeadbeefu);
  EXPECT_FALSE(f->ended);
}

TEST(ConntrackMsgTest, DestroyEventIsEnded) {
  auto f = ParseConntrackMessage(TcpFlowMessage(kConntrackDeleteMsgType));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->ended);
  EXPECT_EQ(f->packets_orig, 6u);
}

TEST(ConntrackMsgTest, Ipv6UdpWithNatReply) {
  Bytes src(16, 0), dst(16, 0), nat(16, 0);
  src[0] = 0xfd;
  src[15] = 2;
  dst[0] = 0x20;
  dst[1] = 0x01;
  dst[2] = 0x0d;
  dst[3] = 0xb8;
  dst[15] = 0x53;
  nat = src;
  nat[15] = 9;  // the reply goes to a translated address
  auto tuple6 = [](const Bytes& s, const Bytes& d, uint16_t sp, uint16_t dp) {
    return Attrs()
        .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V6_SRC, s).Add(CTA_IP_V6_DST, d))
        .Nest(CTA_TUPLE_PROTO, Attrs()
                                   .Add(CTA_PROTO_NUM, {17})
                                   .Add(CTA_PROTO_SRC_PORT, BeBytes(sp, 2))
                                   .Add(CTA_PROTO_DST_PORT, BeBytes(dp, 2)));
  };
  auto f = ParseConntrackMessage(Message(kConntrackDeleteMsgType, AF_INET6, 0,
                                         Attrs()
                                             .Nest(CTA_TUPLE_ORIG, tuple6(src, dst, 5353, 53))
                                             .Nest(CTA_TUPLE_REPLY, tuple6(dst, nat, 53, 5353))
                                             .Nest(CTA_COUNTERS_ORIG, Counters(1, 80))
                                             .Nest(CTA_COUNTERS_REPLY, Counters(1, 120))));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->orig.src, Ip("fd00::2"));
  EXPECT_EQ(f->orig.dst, Ip("2001:db8::53"));
  EXPECT_EQ(f->orig.proto, 17);
  EXPECT_EQ(f->orig.sport, 5353);
  EXPECT_EQ(f->orig.dport, 53);
  EXPECT_EQ(f->reply.dst, Ip("fd00::9"));
  EXPECT_EQ(f->bytes_reply, 120u);
  EXPECT_EQ(f->id, 0u);  // no CTA_ID
  EXPECT_TRUE(f->ended);
}

TEST(ConntrackMsgTest, IcmpHasNoPorts) {
  auto icmp = Attrs()
                  .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(1, 4)).Add(CTA_IP_V4_DST, BeBytes(2, 4)))
                  .Nest(CTA_TUPLE_PROTO, Attrs()
                                             .Add(CTA_PROTO_NUM, {1})
                                             .Add(CTA_PROTO_ICMP_ID, BeBytes(0x1234, 2))
                                             .Add(CTA_PROTO_ICMP_TYPE, {8})
                                             .Add(CTA_PROTO_ICMP_CODE, {0}));
  auto f = ParseConntrackMessage(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, icmp)));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->orig.proto, 1);
  EXPECT_EQ(f->orig.sport, 0);
  EXPECT_EQ(f->orig.dport, 0);
  // No reply tuple: the inverse of the original.
  EXPECT_EQ(f->reply.src, f->orig.dst);
  EXPECT_EQ(f->reply.dst, f->orig.src);
  EXPECT_EQ(f->packets_orig, 0u);  // no counters: accounting off
}

TEST(ConntrackMsgTest, Old32BitCounters) {
  auto counters = Attrs().Add(CTA_COUNTERS32_PACKETS, BeBytes(7, 4)).Add(CTA_COUNTERS32_BYTES, BeBytes(900, 4));
  auto short64 = Attrs().Add(CTA_COUNTERS_PACKETS, BeBytes(3, 4)).Add(CTA_COUNTERS_BYTES, BeBytes(300, 4));
  auto f = ParseConntrackMessage(Message(kConntrackNewMsgType, AF_INET, 0,
                                         Attrs()
                                             .Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 17, 3, 4))
                                             .Nest(CTA_COUNTERS_ORIG, counters)
                                             .Nest(CTA_COUNTERS_REPLY, short64)));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->packets_orig, 7u);
  EXPECT_EQ(f->bytes_orig, 900u);
  EXPECT_EQ(f->packets_reply, 3u);
  EXPECT_EQ(f->bytes_reply, 300u);
}

TEST(ConntrackMsgTest, UnknownAttributesAndPaddingAreSkipped) {
  auto tuple = Tuple4(1, 2, 6, 3, 4).Add(CTA_TUPLE_ZONE, BeBytes(0, 2)).Add(77, {1, 2, 3});
  auto counters = Counters(1, 2).Add(CTA_COUNTERS_PAD, {}).Add(99, {9});
  Bytes m = Message(kConntrackNewMsgType, AF_INET, 0,
                    Attrs()
                        .Add(200, {1, 2, 3, 4, 5})
                        .Nest(CTA_TUPLE_ORIG, tuple)
                        .Nest(CTA_COUNTERS_ORIG, counters)
                        .Nest(CTA_PROTOINFO, Attrs().Nest(CTA_PROTOINFO_TCP, Attrs().Add(1, {3}))));
  auto f = ParseConntrackMessage(m);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->orig.dport, 4);
  EXPECT_EQ(f->bytes_orig, 2u);
}

TEST(ConntrackMsgTest, LaterDuplicatesWin) {
  auto f = ParseConntrackMessage(Message(kConntrackNewMsgType, AF_INET, 0,
                                         Attrs()
                                             .Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4))
                                             .Add(CTA_ID, BeBytes(1, 4))
                                             .Add(CTA_ID, BeBytes(2, 4))));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, 2u);
}

TEST(ConntrackMsgTest, LastAttributeWithoutPadding) {
  Bytes m = Message(kConntrackNewMsgType, AF_INET, 0,
                    Attrs().Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4)).Add(CTA_ID, BeBytes(5, 4)).Add(300, {1}));
  m.resize(m.size() - 3);  // drop the padding of the last attribute
  const uint32_t len = static_cast<uint32_t>(m.size());
  std::memcpy(&m[0], &len, 4);
  auto f = ParseConntrackMessage(m);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->id, 5u);
}

TEST(ConntrackMsgTest, BytesPastNlmsgLenAreIgnored) {
  Bytes m = TcpFlowMessage();
  m.insert(m.end(), {0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_TRUE(ParseConntrackMessage(m).ok());
}

std::string ErrorOf(const Bytes& m) {
  auto f = ParseConntrackMessage(m);
  EXPECT_FALSE(f.ok());
  if (f.ok()) return "";
  EXPECT_TRUE(f.error().IsInvalidArgument());
  return f.error().message();
}

TEST(ConntrackMsgTest, HeaderErrors) {
  EXPECT_EQ(ErrorOf({}), "conntrack message: 0 bytes are shorter than nlmsghdr + nfgenmsg (20)");
  Bytes m = TcpFlowMessage();
  Bytes truncated(m.begin(), m.begin() + 40);
  EXPECT_EQ(ErrorOf(truncated), "conntrack message: nlmsg_len " + std::to_string(m.size()) + " is outside [20, 40]");
  Bytes small = m;
  small[0] = 12;
  small[1] = small[2] = small[3] = 0;
  EXPECT_EQ(ErrorOf(small), "conntrack message: nlmsg_len 12 is outside [20, " + std::to_string(m.size()) + "]");
  Bytes get = Message(kConntrackGetMsgType, AF_INET, 0, Attrs());
  EXPECT_NE(ErrorOf(get).find("nlmsg_type 0x0101 is not IPCTNL_MSG_CT_NEW"), std::string::npos);
}

TEST(ConntrackMsgTest, MissingPieces) {
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Add(CTA_ID, BeBytes(1, 4)))),
            "conntrack message: missing CTA_TUPLE_ORIG");
  auto no_dst = Attrs()
                    .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(1, 4)))
                    .Nest(CTA_TUPLE_PROTO, Attrs().Add(CTA_PROTO_NUM, {6}));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, no_dst))),
            "conntrack message: CTA_TUPLE_ORIG: missing CTA_TUPLE_IP.CTA_IP_V4_DST/CTA_IP_V6_DST");
  auto no_proto =
      Attrs().Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(1, 4)).Add(CTA_IP_V4_DST, BeBytes(2, 4)));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_REPLY, no_proto)
                                                               .Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4)))),
            "conntrack message: CTA_TUPLE_REPLY: missing CTA_TUPLE_PROTO.CTA_PROTO_NUM");
  auto mixed = Attrs()
                   .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, BeBytes(1, 4)).Add(CTA_IP_V6_DST, Bytes(16, 0)))
                   .Nest(CTA_TUPLE_PROTO, Attrs().Add(CTA_PROTO_NUM, {6}));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, mixed))),
            "conntrack message: CTA_TUPLE_ORIG: CTA_TUPLE_IP: source 0.0.0.1 and destination :: are of different "
            "families");
}

TEST(ConntrackMsgTest, ShortValuesNameTheAttributePath) {
  auto short_ip = Attrs()
                      .Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V4_SRC, {1, 2, 3}).Add(CTA_IP_V4_DST, BeBytes(2, 4)))
                      .Nest(CTA_TUPLE_PROTO, Attrs().Add(CTA_PROTO_NUM, {6}));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, short_ip))),
            "conntrack message: CTA_TUPLE_ORIG.CTA_TUPLE_IP.CTA_IP_V4_SRC: value of 3 bytes is shorter than 4");
  auto short_v6 = Attrs().Nest(CTA_TUPLE_IP, Attrs().Add(CTA_IP_V6_DST, Bytes(15, 0)));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET6, 0, Attrs().Nest(CTA_TUPLE_REPLY, short_v6))),
            "conntrack message: CTA_TUPLE_REPLY.CTA_TUPLE_IP.CTA_IP_V6_DST: value of 15 bytes is shorter than 16");
  auto short_port = Attrs().Nest(CTA_TUPLE_PROTO, Attrs().Add(CTA_PROTO_NUM, {6}).Add(CTA_PROTO_DST_PORT, {1}));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, short_port))),
            "conntrack message: CTA_TUPLE_ORIG.CTA_TUPLE_PROTO.CTA_PROTO_DST_PORT: value of 1 bytes is shorter than 2");
  auto empty_num = Attrs().Nest(CTA_TUPLE_PROTO, Attrs().Add(CTA_PROTO_NUM, {}));
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, empty_num))),
            "conntrack message: CTA_TUPLE_ORIG.CTA_TUPLE_PROTO.CTA_PROTO_NUM: value of 0 bytes is shorter than 1");
  auto short_counter = Attrs().Add(CTA_COUNTERS_BYTES, {1, 2});
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0,
                            Attrs().Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4)).Nest(CTA_COUNTERS_REPLY, short_counter))),
            "conntrack message: CTA_COUNTERS_REPLY.CTA_COUNTERS_BYTES: value of 2 bytes is shorter than 4");
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0,
                            Attrs().Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4)).Add(CTA_ID, {0, 1}))),
            "conntrack message: CTA_ID: value of 2 bytes is shorter than 4");
}

TEST(ConntrackMsgTest, NestedLengthBounds) {
  // An attribute inside CTA_TUPLE_IP claims 40 bytes; only 8 are left in the nest.
  Bytes bad_inner = {40, 0, CTA_IP_V4_SRC, 0, 1, 2, 3, 4};
  auto tuple = Attrs().Add(CTA_TUPLE_IP | NLA_F_NESTED, bad_inner);
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Nest(CTA_TUPLE_ORIG, tuple))),
            "conntrack message: CTA_TUPLE_ORIG.CTA_TUPLE_IP.CTA_IP_V4_SRC (type 1) at offset 0: length 40 is "
            "outside [4, 8]");
  // Length below the attribute header, inside the counters.
  Bytes tiny = {2, 0, CTA_COUNTERS_BYTES, 0};
  EXPECT_EQ(ErrorOf(Message(kConntrackNewMsgType, AF_INET, 0,
                            Attrs().Nest(CTA_TUPLE_ORIG, Tuple4(1, 2, 6, 3, 4)).Add(CTA_COUNTERS_ORIG, tiny))),
            "conntrack message: CTA_COUNTERS_ORIG.CTA_COUNTERS_BYTES (type 2) at offset 0: length 2 is outside [4, 4]");
  // Trailing bytes inside a nest that cannot hold a header.
  auto trailing = Tuple4(1, 2, 6, 3, 4).Raw({1, 0});
  Bytes m = Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Add(CTA_TUPLE_ORIG, trailing.bytes()));
  EXPECT_NE(ErrorOf(m).find("CTA_TUPLE_ORIG: 2 trailing bytes at attribute offset"), std::string::npos);
  // A top-level attribute running past the message.
  Bytes top = Message(kConntrackNewMsgType, AF_INET, 0, Attrs().Raw({200, 0, CTA_TUPLE_ORIG, 0}));
  EXPECT_EQ(ErrorOf(top), "conntrack message: CTA_TUPLE_ORIG (type 1) at offset 0: length 200 is outside [4, 4]");
}

TEST(ConntrackMsgTest, EveryTruncationFailsCleanly) {
  const Bytes m = TcpFlowMessage();
  for (size_t n = 0; n < m.size(); ++n) {
    Bytes cut(m.begin(), m.begin() + n);
    if (n >= 4) {  // keep nlmsg_len consistent with what is there
      const uint32_t len = static_cast<uint32_t>(n);
      std::memcpy(&cut[0], &len, 4);
    }
    auto f = ParseConntrackMessage(cut);
    if (!f.ok()) {
      EXPECT_TRUE(f.error().IsInvalidArgument()) << n;
    }
  }
}

TEST(ConntrackMsgTest, SplitsAlongsideOtherMessages) {
  Bytes buf = TcpFlowMessage();
  Bytes second = TcpFlowMessage(kConntrackDeleteMsgType);
  buf.insert(buf.end(), second.begin(), second.end());
  std::vector<NetlinkMessageView> msgs;
  ASSERT_TRUE(SplitNetlinkMessages(buf, &msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[1].type, kConntrackDeleteMsgType);
  EXPECT_TRUE(ParseConntrackMessage(msgs[1].bytes)->ended);
}

TEST(ConntrackMsgTest, DumpRequest) {
  Bytes r = BuildConntrackDumpRequest(AF_INET6, 77);
  ASSERT_EQ(r.size(), 20u);
  nlmsghdr h;
  std::memcpy(&h, r.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_len, 20u);
  EXPECT_EQ(h.nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(h.nlmsg_seq, 77u);
  EXPECT_EQ(h.nlmsg_pid, 0u);
  EXPECT_EQ(r[16], AF_INET6);
  EXPECT_EQ(r[17], NFNETLINK_V0);
  EXPECT_EQ(r[18], 0);
  EXPECT_EQ(r[19], 0);
}

}  // namespace
}  // namespace tw::flowlog
