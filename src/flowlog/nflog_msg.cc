#include "flowlog/nflog_msg.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "flowlog/wire.h"

namespace tw::flowlog {
namespace {

static_assert(kNflogPacketMsgType == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET));

using namespace wire;  // NOLINT: header sizes, Align4, HostLoad, Be16/32/64


Status Invalid(std::string reason) { return Status::InvalidArgument("nflog message: " + std::move(reason)); }

std::string_view AttrName(uint16_t type) {
  switch (type) {
    case NFULA_PACKET_HDR: return "NFULA_PACKET_HDR";
    case NFULA_MARK: return "NFULA_MARK";
    case NFULA_TIMESTAMP: return "NFULA_TIMESTAMP";
    case NFULA_IFINDEX_INDEV: return "NFULA_IFINDEX_INDEV";
    case NFULA_IFINDEX_OUTDEV: return "NFULA_IFINDEX_OUTDEV";
    case NFULA_IFINDEX_PHYSINDEV: return "NFULA_IFINDEX_PHYSINDEV";
    case NFULA_IFINDEX_PHYSOUTDEV: return "NFULA_IFINDEX_PHYSOUTDEV";
    case NFULA_UID: return "NFULA_UID";
    case NFULA_GID: return "NFULA_GID";
    case NFULA_SEQ: return "NFULA_SEQ";
    case NFULA_CT_INFO: return "NFULA_CT_INFO";
    default: return "attribute";
  }
}

// The fixed value size of an attribute type we decode; 0 = variable.
size_t FixedSize(uint16_t type) {
  switch (type) {
    case NFULA_PACKET_HDR: return 4;   // struct nfulnl_msg_packet_hdr
    case NFULA_TIMESTAMP: return 16;   // struct nfulnl_msg_packet_timestamp
    case NFULA_MARK:
    case NFULA_IFINDEX_INDEV:
    case NFULA_IFINDEX_OUTDEV:
    case NFULA_IFINDEX_PHYSINDEV:
    case NFULA_IFINDEX_PHYSOUTDEV:
    case NFULA_UID:
    case NFULA_GID:
    case NFULA_SEQ:
    case NFULA_CT_INFO:
      return 4;
    default:
      return 0;
  }
}

// Stores one attribute value into *pkt (value length already checked).
void StoreAttr(uint16_t type, std::span<const uint8_t> v, NflogPacket* pkt) {
  const uint8_t* p = v.data();
  switch (type) {
    case NFULA_PACKET_HDR:
      pkt->hw_protocol = Be16(p);
      pkt->hook = p[2];
      break;
    case NFULA_TIMESTAMP: pkt->timestamp = NflogTimestamp{Be64(p), Be64(p + 8)}; break;
    case NFULA_MARK: pkt->mark = Be32(p); break;
    case NFULA_IFINDEX_INDEV: pkt->indev = Be32(p); break;
    case NFULA_IFINDEX_OUTDEV: pkt->outdev = Be32(p); break;
    case NFULA_IFINDEX_PHYSINDEV: pkt->physindev = Be32(p); break;
    case NFULA_IFINDEX_PHYSOUTDEV: pkt->physoutdev = Be32(p); break;
    case NFULA_UID: pkt->uid = Be32(p); break;
    case NFULA_GID: pkt->gid = Be32(p); break;
    case NFULA_SEQ: pkt->seq = Be32(p); break;
    case NFULA_CT_INFO: pkt->ct_info = Be32(p); break;
    case NFULA_CT: pkt->ct = v; break;
    case NFULA_PAYLOAD: pkt->payload = v; break;
    case NFULA_PREFIX: {
      std::string_view s(reinterpret_cast<const char*>(p), v.size());
      pkt->prefix = s.substr(0, s.find('\0'));
      break;
    }
    default: break;  // unknown or not needed (HWADDR, HWHEADER, VLAN, ...)
  }
}

}  // namespace

Status SplitNetlinkMessages(std::span<const uint8_t> buffer, std::vector<NetlinkMessageView>* out) {
  size_t off = 0;
  while (off < buffer.size()) {
    const size_t left = buffer.size() - off;
    if (left < kNlmsgHeaderLen) {
      return Status::InvalidArgument("netlink buffer: " + std::to_string(left) +
                                     " trailing bytes at offset " + std::to_string(off) +
                                     " are shorter than a message header");
    }
    const uint8_t* h = buffer.data() + off;
    const uint32_t len = HostLoad<uint32_t>(h);
    if (len < kNlmsgHeaderLen || len > left) {
      return Status::InvalidArgument("netlink buffer: message at offset " + std::to_string(off) +
                                     ": nlmsg_len " + std::to_string(len) + " is outside [16, " +
                                     std::to_string(left) + "]");
    }
    NetlinkMessageView m;
    m.type = HostLoad<uint16_t>(h + 4);
    m.flags = HostLoad<uint16_t>(h + 6);
    m.seq = HostLoad<uint32_t>(h + 8);
    m.pid = HostLoad<uint32_t>(h + 12);
    m.bytes = buffer.subspan(off, len);
    out->push_back(m);
    off += std::min<size_t>(Align4(len), left);
  }
  return Status::Ok();
}

Result<NflogPacket> ParseNflogMessage(std::span<const uint8_t> message) {
  if (message.size() < kNlmsgHeaderLen + kNfgenLen) {
    return Invalid(std::to_string(message.size()) + " bytes are shorter than nlmsghdr + nfgenmsg (20)");
  }
  const uint32_t len = HostLoad<uint32_t>(message.data());
  if (len < kNlmsgHeaderLen + kNfgenLen || len > message.size()) {
    return Invalid("nlmsg_len " + std::to_string(len) + " is outside [20, " + std::to_string(message.size()) + "]");
  }
  const uint16_t type = HostLoad<uint16_t>(message.data() + 4);
  if (type != kNflogPacketMsgType) {
    return Invalid("nlmsg_type 0x" + [&] {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04x", type);
      return std::string(buf);
    }() + " is not NFULNL_MSG_PACKET of NFNL_SUBSYS_ULOG (0x0400)");
  }
  const std::span<const uint8_t> body = message.subspan(kNlmsgHeaderLen, len - kNlmsgHeaderLen);
  NflogPacket pkt;
  pkt.family = body[0];
  pkt.group = Be16(&body[2]);

  size_t off = kNfgenLen;
  while (off < body.size()) {
    const size_t left = body.size() - off;
    if (left < kNlattrHeaderLen) {
      return Invalid(std::to_string(left) + " trailing bytes at attribute offset " + std::to_string(off) +
                     " are shorter than an attribute header");
    }
    const uint16_t alen = HostLoad<uint16_t>(&body[off]);
    const uint16_t atype = HostLoad<uint16_t>(&body[off + 2]) & NLA_TYPE_MASK;
    if (alen < kNlattrHeaderLen || alen > left) {
      return Invalid(std::string(AttrName(atype)) + " (type " + std::to_string(atype) + ") at offset " +
                     std::to_string(off) + ": length " + std::to_string(alen) + " is outside [4, " +
                     std::to_string(left) + "]");
    }
    const std::span<const uint8_t> value = body.subspan(off + kNlattrHeaderLen, alen - kNlattrHeaderLen);
    const size_t fixed = FixedSize(atype);
    if (fixed != 0 && value.size() < fixed) {
      return Invalid(std::string(AttrName(atype)) + ": value of " + std::to_string(value.size()) +
                     " bytes is shorter than " + std::to_string(fixed));
    }
    StoreAttr(atype, value, &pkt);
    off += std::min<size_t>(Align4(alen), left);
  }
  return pkt;
}

}  // namespace tw::flowlog
