#include "flowlog/conntrack_msg.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "flowlog/packet.h"
#include "flowlog/wire.h"

namespace tw::flowlog {
namespace {

static_assert(kConntrackNewMsgType == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW));
static_assert(kConntrackGetMsgType == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET));
static_assert(kConntrackDeleteMsgType == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE));

using namespace wire;  // NOLINT: header sizes, Align4, HostLoad, Be16/32/64

using Bytes = std::span<const uint8_t>;


Status Invalid(std::string reason) { return Status::InvalidArgument("conntrack message: " + std::move(reason)); }

std::string JoinPath(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return std::string(path) + "." + std::string(name);
}

// Attribute names per nesting level, for error messages.
std::string_view TopName(uint16_t t) {
  switch (t) {
    case CTA_TUPLE_ORIG: return "CTA_TUPLE_ORIG";
    case CTA_TUPLE_REPLY: return "CTA_TUPLE_REPLY";
    case CTA_COUNTERS_ORIG: return "CTA_COUNTERS_ORIG";
    case CTA_COUNTERS_REPLY: return "CTA_COUNTERS_REPLY";
    case CTA_ID: return "CTA_ID";
    default: return "attribute";
  }
}
std::string_view TupleName(uint16_t t) {
  switch (t) {
    case CTA_TUPLE_IP: return "CTA_TUPLE_IP";
    case CTA_TUPLE_PROTO: return "CTA_TUPLE_PROTO";
    default: return "attribute";
  }
}
std::string_view IpName(uint16_t t) {
  switch (t) {
    case CTA_IP_V4_SRC: return "CTA_IP_V4_SRC";
    case CTA_IP_V4_DST: return "CTA_IP_V4_DST";
    case CTA_IP_V6_SRC: return "CTA_IP_V6_SRC";
    case CTA_IP_V6_DST: return "CTA_IP_V6_DST";
    default: return "attribute";
  }
}
std::string_view ProtoName(uint16_t t) {
  switch (t) {
    case CTA_PROTO_NUM: return "CTA_PROTO_NUM";
    case CTA_PROTO_SRC_PORT: return "CTA_PROTO_SRC_PORT";
    case CTA_PROTO_DST_PORT: return "CTA_PROTO_DST_PORT";
    default: return "attribute";
  }
}
std::string_view CountersName(uint16_t t) {
  switch (t) {
    case CTA_COUNTERS_PACKETS: return "CTA_COUNTERS_PACKETS";
    case CTA_COUNTERS_BYTES: return "CTA_COUNTERS_BYTES";
    case CTA_COUNTERS32_PACKETS: return "CTA_COUNTERS32_PACKETS";
    case CTA_COUNTERS32_BYTES: return "CTA_COUNTERS32_BYTES";
    default: return "attribute";
  }
}

// One attribute handed to a visitor: its type (flags masked off), its value
// and its path for error messages ("CTA_TUPLE_ORIG.CTA_TUPLE_IP").
struct Attr {
  uint16_t type;
  Bytes value;
  std::string_view parent;  // path of the enclosing attribute; "" at the top
  std::string_view (*name)(uint16_t);
  std::string Path() const { return JoinPath(parent, name(type)); }
};

// InvalidArgument unless `a` holds at least `n` bytes.
Status Need(const Attr& a, size_t n) {
  if (a.value.size() >= n) return Status::Ok();
  return Invalid(a.Path() + ": value of " + std::to_string(a.value.size()) + " bytes is shorter than " +
                 std::to_string(n));
}

// Walks the attributes in `attrs` (the value of `parent`, or the message
// body after nfgenmsg), calling visit(const Attr&) -> Status for each.
template <typename Visit>
Status ForEachAttr(Bytes attrs, std::string_view parent, std::string_view (*name)(uint16_t), Visit visit) {
  size_t off = 0;
  while (off < attrs.size()) {
    const size_t left = attrs.size() - off;
    const std::string where = parent.empty() ? std::string() : std::string(parent) + ": ";
    if (left < kNlattrHeaderLen) {
      return Invalid(where + std::to_string(left) + " trailing bytes at attribute offset " + std::to_string(off) +
                     " are shorter than an attribute header");
    }
    const uint16_t alen = HostLoad<uint16_t>(&attrs[off]);
    const uint16_t atype = HostLoad<uint16_t>(&attrs[off + 2]) & NLA_TYPE_MASK;
    if (alen < kNlattrHeaderLen || alen > left) {
      return Invalid(JoinPath(parent, name(atype)) + " (type " + std::to_string(atype) + ") at offset " +
                     std::to_string(off) + ": length " + std::to_string(alen) + " is outside [4, " +
                     std::to_string(left) + "]");
    }
    TW_RETURN_IF_ERROR(
        visit(Attr{atype, attrs.subspan(off + kNlattrHeaderLen, alen - kNlattrHeaderLen), parent, name}));
    off += std::min<size_t>(Align4(alen), left);
  }
  return Status::Ok();
}

// The pieces of one tuple as they are found.
struct TupleParts {
  std::optional<net::IpAddr> src, dst;
  std::optional<uint8_t> proto;
  uint16_t sport = 0, dport = 0;
};

net::IpAddr V6At(const uint8_t* p) { return net::IpAddr::V6(wire::Be128(p)); }

Status ParseTupleIp(const Attr& ip, TupleParts* t) {
  const std::string path = ip.Path();
  return ForEachAttr(ip.value, path, IpName, [&](const Attr& a) -> Status {
    switch (a.type) {
      case CTA_IP_V4_SRC:
      case CTA_IP_V4_DST: {
        TW_RETURN_IF_ERROR(Need(a, 4));
        (a.type == CTA_IP_V4_SRC ? t->src : t->dst) = net::IpAddr::V4(Be32(a.value.data()));
        break;
      }
      case CTA_IP_V6_SRC:
      case CTA_IP_V6_DST: {
        TW_RETURN_IF_ERROR(Need(a, 16));
        (a.type == CTA_IP_V6_SRC ? t->src : t->dst) = V6At(a.value.data());
        break;
      }
      default: break;
    }
    return Status::Ok();
  });
}

Status ParseTupleProto(const Attr& proto, TupleParts* t) {
  const std::string path = proto.Path();
  return ForEachAttr(proto.value, path, ProtoName, [&](const Attr& a) -> Status {
    switch (a.type) {
      case CTA_PROTO_NUM:
        TW_RETURN_IF_ERROR(Need(a, 1));
        t->proto = a.value[0];
        break;
      case CTA_PROTO_SRC_PORT:
        TW_RETURN_IF_ERROR(Need(a, 2));
        t->sport = Be16(a.value.data());
        break;
      case CTA_PROTO_DST_PORT:
        TW_RETURN_IF_ERROR(Need(a, 2));
        t->dport = Be16(a.value.data());
        break;
      default: break;  // ICMP id/type/code, unknown
    }
    return Status::Ok();
  });
}

// Decodes the nested tuple `tuple` into *out; see the header for what is required.
Status ParseTuple(const Attr& tuple, FlowTuple* out) {
  const std::string path = tuple.Path();
  TupleParts t;
  TW_RETURN_IF_ERROR(ForEachAttr(tuple.value, path, TupleName, [&](const Attr& a) -> Status {
    if (a.type == CTA_TUPLE_IP) return ParseTupleIp(a, &t);
    if (a.type == CTA_TUPLE_PROTO) return ParseTupleProto(a, &t);
    return Status::Ok();
  }));
  if (!t.src || !t.dst) {
    return Invalid(path + ": missing CTA_TUPLE_IP." + (t.src ? "CTA_IP_V4_DST/CTA_IP_V6_DST" : "CTA_IP_V4_SRC/CTA_IP_V6_SRC"));
  }
  if (t.src->family() != t.dst->family()) {
    return Invalid(path + ": CTA_TUPLE_IP: source " + t.src->ToString() + " and destination " + t.dst->ToString() +
                   " are of different families");
  }
  if (!t.proto) return Invalid(path + ": missing CTA_TUPLE_PROTO.CTA_PROTO_NUM");
  out->src = *t.src;
  out->dst = *t.dst;
  out->proto = *t.proto;
  const bool icmp = *t.proto == kProtoIcmp || *t.proto == kProtoIcmpv6;
  out->sport = icmp ? 0 : t.sport;
  out->dport = icmp ? 0 : t.dport;
  return Status::Ok();
}

// Decodes CTA_COUNTERS_ORIG / _REPLY.  A 64-bit attribute of only 4 bytes
// is read as 32 bits (what kernels before 2.6.27 sent under the same type).
Status ParseCounters(const Attr& counters, uint64_t* packets, uint64_t* bytes) {
  const std::string path = counters.Path();
  return ForEachAttr(counters.value, path, CountersName, [&](const Attr& a) -> Status {
    switch (a.type) {
      case CTA_COUNTERS_PACKETS:
      case CTA_COUNTERS_BYTES: {
        TW_RETURN_IF_ERROR(Need(a, 4));
        const uint64_t v = a.value.size() >= 8 ? Be64(a.value.data()) : Be32(a.value.data());
        *(a.type == CTA_COUNTERS_PACKETS ? packets : bytes) = v;
        break;
      }
      case CTA_COUNTERS32_PACKETS:
      case CTA_COUNTERS32_BYTES:
        TW_RETURN_IF_ERROR(Need(a, 4));
        *(a.type == CTA_COUNTERS32_PACKETS ? packets : bytes) = Be32(a.value.data());
        break;
      default: break;  // CTA_COUNTERS_PAD, unknown
    }
    return Status::Ok();
  });
}

std::string Hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

FlowTuple Inverse(const FlowTuple& t) {
  FlowTuple r = t;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  return r;
}

}  // namespace

Result<ConntrackFlow> ParseConntrackMessage(std::span<const uint8_t> message) {
  if (message.size() < kNlmsgHeaderLen + kNfgenLen) {
    return Invalid(std::to_string(message.size()) + " bytes are shorter than nlmsghdr + nfgenmsg (20)");
  }
  const uint32_t len = HostLoad<uint32_t>(message.data());
  if (len < kNlmsgHeaderLen + kNfgenLen || len > message.size()) {
    return Invalid("nlmsg_len " + std::to_string(len) + " is outside [20, " + std::to_string(message.size()) + "]");
  }
  const uint16_t type = HostLoad<uint16_t>(message.data() + 4);
  if (!IsConntrackMessageType(type)) {
    return Invalid("nlmsg_type 0x" + Hex16(type) +
                   " is not IPCTNL_MSG_CT_NEW (0x0100) or IPCTNL_MSG_CT_DELETE (0x0102) of NFNL_SUBSYS_CTNETLINK");
  }
  const Bytes attrs = message.subspan(kNlmsgHeaderLen + kNfgenLen, len - kNlmsgHeaderLen - kNfgenLen);
  ConntrackFlow flow;
  flow.ended = IsConntrackDestroyType(type);
  bool have_orig = false, have_reply = false;
  TW_RETURN_IF_ERROR(ForEachAttr(attrs, "", TopName, [&](const Attr& a) -> Status {
    switch (a.type) {
      case CTA_TUPLE_ORIG:
        have_orig = true;
        return ParseTuple(a, &flow.orig);
      case CTA_TUPLE_REPLY:
        have_reply = true;
        return ParseTuple(a, &flow.reply);
      case CTA_COUNTERS_ORIG: return ParseCounters(a, &flow.packets_orig, &flow.bytes_orig);
      case CTA_COUNTERS_REPLY: return ParseCounters(a, &flow.packets_reply, &flow.bytes_reply);
      case CTA_ID:
        TW_RETURN_IF_ERROR(Need(a, 4));
        flow.id = Be32(a.value.data());
        return Status::Ok();
      default: return Status::Ok();  // status, timeout, mark, protoinfo, ...
    }
  }));
  if (!have_orig) return Invalid("missing CTA_TUPLE_ORIG");
  if (!have_reply) flow.reply = Inverse(flow.orig);
  return flow;
}

std::vector<uint8_t> BuildConntrackDumpRequest(uint8_t family, uint32_t seq) {
  std::vector<uint8_t> b(kNlmsgHeaderLen + kNfgenLen, 0);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(b.size());
  h.nlmsg_type = kConntrackGetMsgType;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = 0;
  std::memcpy(b.data(), &h, sizeof h);
  b[kNlmsgHeaderLen] = family;
  b[kNlmsgHeaderLen + 1] = NFNETLINK_V0;
  // res_id (big-endian) stays 0.
  return b;
}

}  // namespace tw::flowlog
