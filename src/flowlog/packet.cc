#include "flowlog/packet.h"

#include <algorithm>
#include <string>

#include "flowlog/wire.h"

namespace tw::flowlog {
namespace {

using wire::Be128;
using wire::Be16;
using wire::Be32;

Status Invalid(std::string reason) { return Status::InvalidArgument("packet: " + std::move(reason)); }

// Fills the IPv4 fields; sets *limit to the end of the datagram within the
// captured bytes.
Status ParseIpv4(std::span<const uint8_t> b, PacketInfo* info, size_t* limit) {
  if (b.size() < 20) {
    return Invalid("IPv4 header needs 20 bytes, have " + std::to_string(b.size()));
  }
  const size_t ihl = b[0] & 0x0f;
  if (ihl < 5) return Invalid("IPv4 IHL " + std::to_string(ihl) + " is below 5");
  const size_t header_len = ihl * 4;
  if (b.size() < header_len) {
    return Invalid("IPv4 header with options needs " + std::to_string(header_len) + " bytes, have " +
                   std::to_string(b.size()));
  }
  const uint16_t total = Be16(&b[2]);
  if (total != 0 && total < header_len) {
    return Invalid("IPv4 total length " + std::to_string(total) + " is below the header length " +
                   std::to_string(header_len));
  }
  const uint16_t frag = Be16(&b[6]);
  info->ip_version = 4;
  info->total_length = total;
  info->ttl = b[8];
  info->protocol = b[9];
  info->src = net::IpAddr::V4(Be32(&b[12]));
  info->dst = net::IpAddr::V4(Be32(&b[16]));
  info->fragment_offset = frag & 0x1fff;
  info->fragment = (frag & 0x2000) != 0 || info->fragment_offset != 0;
  info->l4_offset = header_len;
  *limit = total == 0 ? b.size() : std::min<size_t>(b.size(), total);
  return Status::Ok();
}

bool IsGenericExtension(uint8_t next) {
  // Hop-by-hop, routing, destination options, mobility, HIP, shim6: all
  // "next header, length in 8-byte units not counting the first 8".
  return next == 0 || next == 43 || next == 60 || next == 135 || next == 139 || next == 140;
}

// Fills the IPv6 fields and walks the extension header chain.
Status ParseIpv6(std::span<const uint8_t> b, PacketInfo* info, size_t* limit) {
  if (b.size() < 40) {
    return Invalid("IPv6 header needs 40 bytes, have " + std::to_string(b.size()));
  }
  const uint16_t payload_len = Be16(&b[4]);
  info->ip_version = 6;
  info->total_length = payload_len == 0 ? 0 : 40u + payload_len;
  info->ttl = b[7];
  info->src = net::IpAddr::V6(Be128(&b[8]));
  info->dst = net::IpAddr::V6(Be128(&b[24]));
  *limit = payload_len == 0 ? b.size() : std::min<size_t>(b.size(), 40u + payload_len);

  uint8_t next = b[6];
  size_t off = 40;
  for (int walked = 0;; ++walked) {
    const bool generic = IsGenericExtension(next);
    if (!generic && next != 44 && next != 51) break;  // a transport (or unknown) header
    if (walked == kMaxIpv6ExtensionHeaders) {
      return Invalid("more than " + std::to_string(kMaxIpv6ExtensionHeaders) + " IPv6 extension headers");
    }
    info->protocol = next;
    info->l4_offset = off;
    if (off + 8 > *limit) {  // every extension header has at least 8 bytes
      info->truncated = true;
      return Status::Ok();
    }
    size_t len;
    if (next == 44) {
      len = 8;
      const uint16_t frag = Be16(&b[off + 2]);
      info->fragment = true;
      info->fragment_offset = frag >> 3;
    } else if (next == 51) {
      len = (size_t{b[off + 1]} + 2) * 4;  // AH: 4-byte units, minus 2
    } else {
      len = (size_t{b[off + 1]} + 1) * 8;
    }
    const uint8_t following = b[off];
    if (off + len > *limit) {
      info->truncated = true;
      return Status::Ok();
    }
    off += len;
    next = following;
    if (info->fragment_offset != 0) break;  // the rest is not a header
  }
  info->protocol = next;
  info->l4_offset = off;
  return Status::Ok();
}

// Reads the transport header at info->l4_offset, bounded by `limit`.  When
// the header is incomplete or broken the payload is left empty.
void ParseTransport(std::span<const uint8_t> b, size_t limit, PacketInfo* info) {
  const size_t off = info->l4_offset;
  info->payload_offset = off;
  info->payload_end = limit;
  if (info->fragment_offset != 0) return;  // the payload of a fragment
  const size_t have = limit - off;
  auto need = [&](size_t n) {
    if (have >= n) return true;
    info->truncated = true;
    info->payload_offset = limit;
    return false;
  };
  switch (info->protocol) {
    case kProtoTcp: {
      if (!need(4)) return;
      info->src_port = Be16(&b[off]);
      info->dst_port = Be16(&b[off + 2]);
      if (!need(14)) return;
      info->tcp_flags = b[off + 13];
      const size_t data_offset = size_t{static_cast<uint8_t>(b[off + 12] >> 4)} * 4;
      if (data_offset < 20) {  // a broken header: where the payload starts is unknown
        info->payload_offset = limit;
        return;
      }
      if (!need(data_offset)) return;
      info->payload_offset = off + data_offset;
      return;
    }
    case kProtoUdp:
    case kProtoUdpLite: {
      if (!need(4)) return;
      info->src_port = Be16(&b[off]);
      info->dst_port = Be16(&b[off + 2]);
      if (!need(8)) return;
      info->payload_offset = off + 8;
      const uint16_t udp_len = Be16(&b[off + 4]);
      // UDP: the datagram length (0 = jumbogram); UDP-Lite: the checksum coverage.
      if (info->protocol == kProtoUdp && udp_len >= 8) {
        info->payload_end = std::min(info->payload_end, off + udp_len);
      }
      return;
    }
    case kProtoSctp:
      if (!need(4)) return;
      info->src_port = Be16(&b[off]);
      info->dst_port = Be16(&b[off + 2]);
      if (!need(12)) return;
      info->payload_offset = off + 12;
      return;
    case kProtoIcmp:
    case kProtoIcmpv6:
      // ICMP in IPv6 or ICMPv6 in IPv4 is odd but harmless: read as given.
      if (!need(2)) return;
      info->icmp_type = b[off];
      info->icmp_code = b[off + 1];
      if (!need(8)) return;
      info->payload_offset = off + 8;
      return;
    default:
      return;
  }
}

}  // namespace

Result<PacketInfo> ParsePacket(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Invalid("empty");
  PacketInfo info;
  size_t limit = 0;
  const uint8_t version = bytes[0] >> 4;
  if (version == 4) {
    TW_RETURN_IF_ERROR(ParseIpv4(bytes, &info, &limit));
  } else if (version == 6) {
    TW_RETURN_IF_ERROR(ParseIpv6(bytes, &info, &limit));
  } else {
    return Invalid("IP version " + std::to_string(version) + " is neither 4 nor 6");
  }
  if (info.truncated) {  // cut inside the IPv6 extension header chain
    info.l4_offset = std::min(info.l4_offset, bytes.size());
    info.payload_offset = info.l4_offset;
    info.payload_end = info.l4_offset;
    return info;
  }
  ParseTransport(bytes, limit, &info);
  return info;
}

std::span<const uint8_t> PacketPayload(std::span<const uint8_t> bytes, const PacketInfo& info) {
  const size_t begin = std::min(info.payload_offset, bytes.size());
  const size_t end = std::clamp(info.payload_end, begin, bytes.size());
  return bytes.subspan(begin, end - begin);
}

std::string ProtocolName(uint8_t protocol) {
  switch (protocol) {
    case kProtoTcp: return "tcp";
    case kProtoUdp: return "udp";
    case kProtoIcmp: return "icmp";
    case kProtoIcmpv6: return "icmp6";
    case kProtoSctp: return "sctp";
    case 4: return "ipip";
    case 50: return "esp";
    default: return std::to_string(protocol);
  }
}

}  // namespace tw::flowlog
