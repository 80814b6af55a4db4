// Conntrack netlink messages (ctnetlink, <linux/netfilter/nfnetlink_conntrack.h>),
// as read from a NETLINK_NETFILTER socket: the replies of a dump and the
// DESTROY events of NFNLGRP_CONNTRACK_DESTROY.
//
// One message is nlmsghdr + nfgenmsg (family, version, res_id) + attributes.
// Its nlmsg_type is NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW (dump
// replies, NEW/UPDATE events) or | IPCTNL_MSG_CT_DELETE (DESTROY events).
// The attributes read are:
//   CTA_TUPLE_ORIG, CTA_TUPLE_REPLY   nested: CTA_TUPLE_IP {CTA_IP_V4_SRC/DST
//                                     (4 bytes), CTA_IP_V6_SRC/DST (16)},
//                                     CTA_TUPLE_PROTO {CTA_PROTO_NUM (u8),
//                                     CTA_PROTO_SRC_PORT/DST_PORT (be16)}
//   CTA_COUNTERS_ORIG/REPLY           nested: CTA_COUNTERS_PACKETS/BYTES (be64)
//                                     or the old CTA_COUNTERS32_* (be32)
//   CTA_ID                            be32
// ICMP / ICMPv6 tuples carry id, type and code instead of ports; they are
// skipped and the ports stay 0 (flow_types.h: FlowTuple).
//
// Bounds: as nflog_msg.h.  Every nlattr length is checked against the
// bytes that hold it (also inside nests); an attribute shorter than its
// type's fixed size is InvalidArgument naming the attribute path and the
// reason, e.g.
//   "conntrack message: CTA_TUPLE_ORIG.CTA_TUPLE_IP.CTA_IP_V4_SRC: value of 3 bytes is shorter than 4".
// Unknown attributes are skipped; later duplicates win.  The last attribute
// may lack its alignment padding.  The nested-attribute flag
// (NLA_F_NESTED) and byte-order flag are ignored.
//
// Required: CTA_TUPLE_ORIG with both addresses of one family and
// CTA_PROTO_NUM.  CTA_TUPLE_REPLY is optional (the kernel always sends it);
// when it is there it must be complete as well, when it is absent `reply`
// is the inverse of `orig`.  Counters are 0 when absent (accounting off).
//
// Pure; thread-safe.
#ifndef TW_FLOWLOG_CONNTRACK_MSG_H_
#define TW_FLOWLOG_CONNTRACK_MSG_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "flowlog/flow_types.h"

namespace tw::flowlog {

// nlmsg_type values of ctnetlink (NFNL_SUBSYS_CTNETLINK = 1).
inline constexpr uint16_t kConntrackNewMsgType = (1 << 8) | 0;     // IPCTNL_MSG_CT_NEW
inline constexpr uint16_t kConntrackGetMsgType = (1 << 8) | 1;     // IPCTNL_MSG_CT_GET
inline constexpr uint16_t kConntrackDeleteMsgType = (1 << 8) | 2;  // IPCTNL_MSG_CT_DELETE

// True for a message ParseConntrackMessage decodes: NEW (dump reply or
// NEW/UPDATE event) or DELETE (DESTROY event).
constexpr bool IsConntrackMessageType(uint16_t nlmsg_type) {
  return nlmsg_type == kConntrackNewMsgType || nlmsg_type == kConntrackDeleteMsgType;
}
// True for a DESTROY event (the connection is gone; its final counters).
constexpr bool IsConntrackDestroyType(uint16_t nlmsg_type) { return nlmsg_type == kConntrackDeleteMsgType; }

// Decodes one ctnetlink message (any buffer starting at an nlmsghdr; bytes
// past nlmsg_len are ignored).  `ended` is true for a DELETE message;
// `time` is left at its default (the reader sets the receive time).
// InvalidArgument for another message type, a short or inconsistent
// header, a malformed attribute or a missing required one.
Result<ConntrackFlow> ParseConntrackMessage(std::span<const uint8_t> message);

// The bytes of one IPCTNL_MSG_CT_GET request with NLM_F_REQUEST | NLM_F_DUMP
// for `family` (AF_INET, AF_INET6; AF_UNSPEC dumps both on current kernels):
// nlmsghdr (nlmsg_pid 0) + nfgenmsg {family, NFNETLINK_V0, res_id 0}.
std::vector<uint8_t> BuildConntrackDumpRequest(uint8_t family, uint32_t seq);

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_CONNTRACK_MSG_H_
