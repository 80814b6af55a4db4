// NFLOG netlink messages (nfnetlink_log), as read from the socket.
//
// A recv() buffer holds one or more netlink messages back to back, each
// aligned to 4 bytes.  SplitNetlinkMessages cuts it into messages by their
// nlmsghdr lengths; ParseNflogMessage decodes one NFNL_SUBSYS_ULOG /
// NFULNL_MSG_PACKET message: nlmsghdr + nfgenmsg (family, version, group)
// + attributes (<linux/netfilter/nfnetlink_log.h>).
//
// Byte orders: the nlmsghdr and the nlattr headers are host order; the
// group (nfgenmsg.res_id) and every attribute value are big-endian.
//
// Bounds: every length is checked against the bytes that hold it; an
// attribute shorter than its type's fixed size, a length below its header,
// or one running past the message is InvalidArgument naming the attribute
// and the reason.  Unknown attributes are skipped; later duplicates win.
// The last attribute may lack its alignment padding.
//
// Views: the prefix and payload point into the caller's buffer, which must
// outlive the result.  Pure, allocation-free on success.
#ifndef TW_FLOWLOG_NFLOG_MSG_H_
#define TW_FLOWLOG_NFLOG_MSG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tw::flowlog {

// One netlink message inside a receive buffer.
struct NetlinkMessageView {
  uint16_t type = 0;   // nlmsg_type (for nfnetlink: subsystem << 8 | message)
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t pid = 0;
  std::span<const uint8_t> bytes;  // the whole message, header included, nlmsg_len bytes
};

// Appends the messages of `buffer` to `out`, in order.  Stops at the first
// malformed header (nlmsg_len below the 16-byte header or past the end of
// the buffer) and returns InvalidArgument naming its offset; the messages
// before it stay in `out`.  Trailing bytes shorter than a header are an
// error too.  An empty buffer is OK.
Status SplitNetlinkMessages(std::span<const uint8_t> buffer, std::vector<NetlinkMessageView>* out);

// nlmsg_type of an NFLOG packet message.
inline constexpr uint16_t kNflogPacketMsgType = (4 /*NFNL_SUBSYS_ULOG*/ << 8) | 0 /*NFULNL_MSG_PACKET*/;

struct NflogTimestamp {
  uint64_t sec = 0;
  uint64_t usec = 0;
  bool operator==(const NflogTimestamp&) const = default;
};

// One logged packet.  Optional fields are absent when the kernel did not
// send the attribute (e.g. no outdev on the input hook, no timestamp before
// the packet had one).
struct NflogPacket {
  uint8_t family = 0;    // nfgen_family: AF_INET, AF_INET6, AF_BRIDGE, ...
  uint16_t group = 0;    // nfgenmsg.res_id: the NFLOG group
  std::optional<uint16_t> hw_protocol;  // NFULA_PACKET_HDR: ethertype (0x0800, 0x86dd)
  std::optional<uint8_t> hook;          // NFULA_PACKET_HDR: NF_INET_* hook
  std::optional<uint32_t> mark;
  std::optional<NflogTimestamp> timestamp;
  std::optional<uint32_t> indev;        // ifindex
  std::optional<uint32_t> outdev;
  std::optional<uint32_t> physindev;    // bridge ports
  std::optional<uint32_t> physoutdev;
  std::optional<uint32_t> uid;          // owner of the local socket
  std::optional<uint32_t> gid;
  std::optional<uint32_t> seq;          // NFULA_SEQ (only with NFULNL_CFG_F_SEQ)
  std::optional<uint32_t> ct_info;      // enum ip_conntrack_info (with NFULNL_CFG_F_CONNTRACK)
  std::span<const uint8_t> ct;          // NFULA_CT: nested conntrack attributes, undecoded
  std::string_view prefix;              // up to the first NUL; empty when absent
  std::span<const uint8_t> payload;     // the packet from its network header, maybe cut at the snaplen
};

// Decodes one NFLOG packet message (the `bytes` of a NetlinkMessageView or
// any buffer starting at an nlmsghdr; bytes past nlmsg_len are ignored).
// InvalidArgument for another message type, a short or inconsistent
// header, or a malformed attribute.
Result<NflogPacket> ParseNflogMessage(std::span<const uint8_t> message);

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_NFLOG_MSG_H_
