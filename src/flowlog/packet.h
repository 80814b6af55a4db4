// Packet headers as NFLOG delivers them: the bytes start at the IP header
// and may be cut at the rule's snaplen (80 bytes for policy verdicts).
//
// ParsePacket reads the IPv4 or IPv6 header, walks IPv6 extension headers
// (hop-by-hop, routing, fragment, destination options, AH, mobility, HIP,
// shim6; at most kMaxIpv6ExtensionHeaders of them), and reads the first
// bytes of the transport header: ports of TCP, UDP, UDP-Lite and SCTP, the
// TCP flags and data offset, ICMP / ICMPv6 type and code.
//
// Errors vs. truncation (the contract):
//   - InvalidArgument when the bytes are not an IP packet at all: empty,
//     version not 4/6, IPv4 IHL < 5, IPv4 total length smaller than its own
//     header, more extension headers than the bound.  The message names the
//     field and the reason ("packet: IPv4 IHL 3 is below 5").
//   - InvalidArgument as well when the fixed IP header (IPv4: IHL*4 bytes
//     with options, IPv6: 40 bytes) is not all there: without addresses
//     there is nothing to log.
//   - Everything after the fixed header is best effort: when the bytes end
//     inside an extension header or the transport header, the result is
//     returned with `truncated` set and only the fields that were complete
//     filled in.  When the cut falls inside the IPv6 extension header chain,
//     `protocol` is the number of the header that was cut (0, 43, 44, ...)
//     and `l4_offset` is where that header starts.  Whenever the transport
//     header is incomplete, or a TCP data offset is below 20, the payload
//     is empty (PacketPayload never returns header bytes).
//
// The transport header is looked for within min(captured bytes, the
// header's total length); a total length of 0 (IPv4 TSO/GSO, IPv6 jumbo)
// means "unknown" and the captured bytes are used.  Non-first fragments
// (offset != 0) carry no transport header: no ports, flags or ICMP fields.
//
// Pure, allocation-free, never reads outside `bytes`.
#ifndef TW_FLOWLOG_PACKET_H_
#define TW_FLOWLOG_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "net/ip_addr.h"

namespace tw::flowlog {

// IP protocol numbers used here.
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoSctp = 132;
inline constexpr uint8_t kProtoUdpLite = 136;

// Longest IPv6 extension header chain walked.
inline constexpr int kMaxIpv6ExtensionHeaders = 16;

// TCP flag bits (the low byte of the flags field; kTcpNs is not included).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

struct PacketInfo {
  uint8_t ip_version = 0;  // 4 or 6
  net::IpAddr src;
  net::IpAddr dst;
  // Transport protocol (after IPv6 extension headers); see the header
  // comment for a chain cut by the snaplen.
  uint8_t protocol = 0;
  uint8_t ttl = 0;  // IPv4 TTL / IPv6 hop limit
  // IPv4 total length; IPv6 40 + payload length.  0 = unknown (GSO/jumbo).
  uint32_t total_length = 0;

  bool fragment = false;        // part of a fragmented datagram
  uint16_t fragment_offset = 0; // in 8-byte units; != 0: no transport header

  std::optional<uint16_t> src_port;  // TCP, UDP, UDP-Lite, SCTP
  std::optional<uint16_t> dst_port;
  std::optional<uint8_t> tcp_flags;  // kTcp* bits
  std::optional<uint8_t> icmp_type;  // ICMP for v4, ICMPv6 for v6
  std::optional<uint8_t> icmp_code;

  // Offset of the transport header and of the transport payload (after
  // the TCP header with options, the 8-byte UDP header, the 12-byte SCTP
  // common header, the 8-byte ICMP header; = l4_offset for other
  // protocols).  Both are <= the captured size.
  size_t l4_offset = 0;
  size_t payload_offset = 0;
  // End of the transport payload within the captured bytes: bounded by the
  // captured size, the IP total length and the UDP length field.
  size_t payload_end = 0;

  // The bytes ended before a header that the packet announces.
  bool truncated = false;
};

// Parses one packet starting at its IP header (see the contract above).
Result<PacketInfo> ParsePacket(std::span<const uint8_t> bytes);

// The transport payload of a parsed packet: bytes[payload_offset, payload_end).
std::span<const uint8_t> PacketPayload(std::span<const uint8_t> bytes, const PacketInfo& info);

// Calico's protocol names for flow logs: "tcp", "udp", "icmp", "icmp6",
// "sctp", "ipip", "esp", else the number in decimal ("47").
std::string ProtocolName(uint8_t protocol);

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_PACKET_H_
