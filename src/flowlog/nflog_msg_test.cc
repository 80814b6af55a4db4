#include "flowlog/nflog_msg.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tw::flowlog {
namespace {

using Bytes = std::vector<uint8_t>;

// Builds one netlink message the way the kernel lays it out.
class MsgBuilder {
 public:
  MsgBuilder(uint16_t type, uint16_t group, uint8_t family = AF_INET) {
    b_.resize(16, 0);
    Host16(4, type);
    b_.push_back(family);
    b_.push_back(NFNETLINK_V0);
    b_.push_back(static_cast<uint8_t>(group >> 8));
    b_.push_back(static_cast<uint8_t>(group));
  }
  MsgBuilder& Attr(uint16_t type, const Bytes& value) {
    const uint16_t len = static_cast<uint16_t>(4 + value.size());
    size_t at = b_.size();
    b_.resize(at + 4);
    std::memcpy(&b_[at], &len, 2);
    std::memcpy(&b_[at + 2], &type, 2);
    b_.insert(b_.end(), value.begin(), value.end());
    while (b_.size() % 4 != 0) b_.push_back(0);
    return *this;
  }
  MsgBuilder& Be32(uint16_t type, uint32_t v) {
    return Attr(type, {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                       static_cast<uint8_t>(v)});
  }
  MsgBuilder& Raw(const Bytes& bytes) {
    b_.insert(b_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  Bytes Done() {
    const uint32_t len = static_cast<uint32_t>(b_.size());
    std::memcpy(&b_[0], &len, 4);
    return b_;
  }

 private:
  void Host16(size_t at, uint16_t v) { std::memcpy(&b_[at], &v, 2); }
  Bytes b_;
};

Bytes Str(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes DenyPacketMessage() {
  Bytes ts(16, 0);
  ts[7] = 100;  // sec = 100
  ts[15] = 7;   // usec = 7
  Bytes ip = {0x45, 0, 0, 20};
  ip.resize(20, 0);
  return MsgBuilder(kNflogPacketMsgType, 2)
      .Attr(NFULA_PACKET_HDR, {0x08, 0x00, 1 /*NF_INET_LOCAL_IN*/, 0})
      .Be32(NFULA_MARK, 0x10000)
      .Attr(NFULA_TIMESTAMP, ts)
      .Be32(NFULA_IFINDEX_INDEV, 7)
      .Be32(NFULA_IFINDEX_OUTDEV, 3)
      .Attr(NFULA_PREFIX, Str(std::string("DPE|security.block-snort") + '\0'))
      .Be32(NFULA_UID, 1000)
      .Attr(99, {1, 2, 3})  // unknown attribute: skipped
      .Attr(NFULA_PAYLOAD, ip)
      .Done();
}

TEST(NflogMsgTest, PacketMessage) {
  Bytes m = DenyPacketMessage();
  auto p = ParseNflogMessage(m);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->family, AF_INET);
  EXPECT_EQ(p->group, 2);
  EXPECT_EQ(p->hw_protocol, 0x0800);
  EXPECT_EQ(p->hook, 1);
  EXPECT_EQ(p->mark, 0x10000u);
  ASSERT_TRUE(p->timestamp.has_value());
  EXPECT_EQ(p->timestamp->sec, 100u);
  EXPECT_EQ(p->timestamp->usec, 7u);
  EXPECT_EQ(p->indev, 7u);
  EXPECT_EQ(p->outdev, 3u);
  EXPECT_FALSE(p->physindev.has_value());
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_FALSE(p->gid.has_value());
  EXPECT_EQ(p->prefix, "DPE|security.block-snort");
  ASSERT_EQ(p->payload.size(), 20u);
  EXPECT_EQ(p->payload[0], 0x45);
  EXPECT_TRUE(p->ct.empty());
}

TEST(NflogMsgTest, NestedAndByteOrderFlagsAreMasked) {
  Bytes m = MsgBuilder(kNflogPacketMsgType, 3, AF_INET6)
                .Attr(NFULA_PREFIX | NLA_F_NET_BYTEORDER, Str("DNS"))  // no NUL: all bytes
                .Attr(NFULA_CT | NLA_F_NESTED, {8, 0, 1, 0, 0, 0, 0, 0})
                .Done();
  auto p = ParseNflogMessage(m);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->group, 3);
  EXPECT_EQ(p->family, AF_INET6);
  EXPECT_EQ(p->prefix, "DNS");
  EXPECT_EQ(p->ct.size(), 8u);
  EXPECT_TRUE(p->payload.empty());
}

TEST(NflogMsgTest, Errors) {
  // Another message type.
  Bytes cfg = MsgBuilder((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, 1).Done();
  auto p = ParseNflogMessage(cfg);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("0x0401"), std::string::npos) << p.error().message();
  // Short.
  EXPECT_FALSE(ParseNflogMessage(Bytes(19, 0)).ok());
  // nlmsg_len larger than the bytes.
  Bytes m = DenyPacketMessage();
  Bytes cut(m.begin(), m.end() - 4);
  EXPECT_FALSE(ParseNflogMessage(cut).ok());
  // An attribute length below its header, and past the message.
  for (uint16_t bad_len : {uint16_t{2}, uint16_t{200}}) {
    Bytes a = MsgBuilder(kNflogPacketMsgType, 1).Be32(NFULA_MARK, 1).Done();
    std::memcpy(&a[20], &bad_len, 2);
    p = ParseNflogMessage(a);
    ASSERT_FALSE(p.ok()) << bad_len;
    EXPECT_NE(p.error().message().find("NFULA_MARK"), std::string::npos) << p.error().message();
  }
  // A fixed-size attribute that is too short.
  Bytes short_mark = MsgBuilder(kNflogPacketMsgType, 1).Attr(NFULA_MARK, {1, 2}).Done();
  p = ParseNflogMessage(short_mark);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message().find("shorter than 4"), std::string::npos) << p.error().message();
  Bytes short_ts = MsgBuilder(kNflogPacketMsgType, 1).Attr(NFULA_TIMESTAMP, Bytes(8, 0)).Done();
  EXPECT_FALSE(ParseNflogMessage(short_ts).ok());
  // Trailing bytes shorter than an attribute header.
  Bytes tail = MsgBuilder(kNflogPacketMsgType, 1).Raw({1, 2}).Done();
  EXPECT_FALSE(ParseNflogMessage(tail).ok());
  // Every truncation of a valid message fails cleanly once nlmsg_len is fixed up.
  for (size_t n = 0; n < m.size(); ++n) {
    Bytes c(m.begin(), m.begin() + static_cast<long>(n));
    if (c.size() >= 4) {
      const uint32_t len = static_cast<uint32_t>(n);
      std::memcpy(&c[0], &len, 4);
    }
    auto r = ParseNflogMessage(c);
    if (r.ok()) {  // only possible when the cut falls on an attribute boundary
      EXPECT_LE(r->payload.size(), 20u);
    }
  }
}

TEST(NflogMsgTest, LastAttributeWithoutPadding) {
  Bytes m = MsgBuilder(kNflogPacketMsgType, 1).Attr(NFULA_PAYLOAD, {0x45, 1, 2}).Done();
  m.pop_back();  // drop the padding byte
  const uint32_t len = static_cast<uint32_t>(m.size());
  std::memcpy(&m[0], &len, 4);
  auto p = ParseNflogMessage(m);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->payload.size(), 3u);
}

TEST(NflogMsgTest, SplitBuffer) {
  Bytes a = DenyPacketMessage();
  Bytes b = MsgBuilder(kNflogPacketMsgType, 1).Attr(NFULA_PREFIX, Str("APE0|x")).Done();
  Bytes buf = a;
  buf.insert(buf.end(), b.begin(), b.end());
  std::vector<NetlinkMessageView> msgs;
  ASSERT_TRUE(SplitNetlinkMessages(buf, &msgs).ok());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].type, kNflogPacketMsgType);
  EXPECT_EQ(msgs[0].bytes.size(), a.size());
  EXPECT_EQ(msgs[1].bytes.data(), buf.data() + a.size());
  auto p = ParseNflogMessage(msgs[1].bytes);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->prefix, "APE0|x");

  // Garbage after the two: the two are kept, the error names the offset.
  Bytes bad = buf;
  bad.insert(bad.end(), {0xff, 0xff, 0xff, 0x7f});
  bad.resize(bad.size() + 12, 0);
  msgs.clear();
  Status s = SplitNetlinkMessages(bad, &msgs);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("offset " + std::to_string(buf.size())), std::string::npos) << s.message();
  EXPECT_EQ(msgs.size(), 2u);
  // nlmsg_len of 0 would loop forever if accepted.
  Bytes zero(16, 0);
  msgs.clear();
  EXPECT_FALSE(SplitNetlinkMessages(zero, &msgs).ok());
  EXPECT_TRUE(msgs.empty());
  // A short tail.
  msgs.clear();
  Bytes short_tail = a;
  short_tail.resize(a.size() + 3, 0);
  EXPECT_FALSE(SplitNetlinkMessages(short_tail, &msgs).ok());
  EXPECT_EQ(msgs.size(), 1u);
  // Empty.
  msgs.clear();
  EXPECT_TRUE(SplitNetlinkMessages({}, &msgs).ok());
  EXPECT_TRUE(msgs.empty());
}

}  // namespace
}  // namespace tw::flowlog
