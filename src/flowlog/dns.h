// DNS messages (RFC 1035 wire format) for DNS logs: NFLOG group 3 copies
// of pods' queries and answers.  A pod can send anything, so the parser is
// written for hostile bytes: every read is bounded, compression pointers
// must point strictly backwards (no loops, at most kMaxDnsPointerHops), a
// name is at most 255 wire bytes and a label 63, and no count from the
// header is trusted for allocation.
//
// Names are text in presentation form, canonicalised as Calico logs them
// (calico-semantics.md §1.4, §6.2): ASCII letters lower-cased, no trailing
// dot, the root is "" ; bytes outside printable ASCII as \DDD, and '.',
// '\\', '"', '(', ')', ';', '@', '$' inside a label escaped with a
// backslash, like dig ("a\.b.example.com", "x\032y.com").
//
// Rdata is presentation text, names in it canonicalised the same way:
//   A "1.2.3.4"  AAAA "2001:db8::1" (RFC 5952; mapped "::ffff:1.2.3.4")  CNAME/NS/PTR/DNAME "target.com"
//   MX "10 mail.example.com"  SRV "0 5 5060 sip.example.com"
//   SOA "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300"
//   TXT "\"v=spf1 -all\" \"second string\"" (each string quoted, \" \\ \DDD escaped)
//   anything else, and a known type whose rdata does not decode: RFC 3597
//   "\# 4 0a000001" (rdata_malformed is set in the second case).
//
// Partial results.  Only a message shorter than its 12-byte header is an
// error.  Otherwise sections are filled in order until the first framing
// problem (a bad name, a record running past the end); the problem is kept
// in `DnsMessage::error` and the sections hold what came before it.  A
// pod cannot hide its question by appending garbage.
//
// Pure; thread-safe.
#ifndef TW_FLOWLOG_DNS_H_
#define TW_FLOWLOG_DNS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tw::flowlog {

inline constexpr size_t kDnsHeaderLen = 12;
inline constexpr size_t kMaxDnsNameWireLen = 255;
inline constexpr size_t kMaxDnsLabelLen = 63;
inline constexpr int kMaxDnsPointerHops = 64;

// Record types and classes with a name in DnsTypeName / DnsClassName.
inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeNs = 2;
inline constexpr uint16_t kDnsTypeCname = 5;
inline constexpr uint16_t kDnsTypeSoa = 6;
inline constexpr uint16_t kDnsTypePtr = 12;
inline constexpr uint16_t kDnsTypeMx = 15;
inline constexpr uint16_t kDnsTypeTxt = 16;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsTypeSrv = 33;
inline constexpr uint16_t kDnsTypeDname = 39;
inline constexpr uint16_t kDnsTypeOpt = 41;
inline constexpr uint16_t kDnsClassIn = 1;

struct DnsHeader {
  uint16_t id = 0;
  bool qr = false;      // response
  uint8_t opcode = 0;   // 0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY, 5 UPDATE
  bool aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false;
  uint8_t rcode = 0;    // the header's 4 bits (see DnsMessage::rcode)
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

struct DnsQuestion {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;  // for OPT: the requestor's UDP payload size
  uint32_t ttl = 0;    // for OPT: extended rcode, version, flags
  std::string rdata;   // presentation text (see above)
  bool rdata_malformed = false;
};

struct DnsMessage {
  DnsHeader header;
  // Full response code: the header's 4 bits plus, with an OPT record, its
  // 8 extended bits (EDNS: BADVERS = 16).
  uint16_t rcode = 0;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authorities;
  std::vector<DnsRecord> additionals;
  // OK when every section parsed; else why parsing stopped, e.g.
  // "dns message: answer 2: name at offset 40: compression pointer to 300 is past the end (120)".
  Status error;
  size_t trailing_bytes = 0;  // bytes after the last record (complete parses only)
  bool complete() const { return error.ok(); }
};

// Parses one message (a UDP payload).  InvalidArgument only when it is
// shorter than the header; see "Partial results".
Result<DnsMessage> ParseDnsMessage(std::span<const uint8_t> bytes);

// Parses the first message of a DNS-over-TCP stream: a 2-byte big-endian
// length, then the message.  InvalidArgument when fewer than 2 bytes, or
// fewer than the announced length, are there.  `*consumed` (optional)
// gets 2 + the length, to parse the next message of the same segment.
Result<DnsMessage> ParseDnsTcpMessage(std::span<const uint8_t> bytes, size_t* consumed = nullptr);

// Reads the name at `offset` of `message` (canonical presentation text).
// `*next` gets the offset after the name's bytes at `offset` (after the
// first pointer when compressed).  InvalidArgument naming the offset and
// the reason: bounds, reserved label types, loops/forward pointers, label
// or name length.
Result<std::string> ReadDnsName(std::span<const uint8_t> message, size_t offset, size_t* next);

// Calico's rrsets: records grouped by (name, type, class) in the order of
// their first appearance, each with its rdata in record order.
struct DnsRrset {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
  std::vector<std::string> rdata;
};
std::vector<DnsRrset> GroupRrsets(std::span<const DnsRecord> records);

// "A", "AAAA", "CNAME", ... ; "TYPE<n>" for the others (RFC 3597).
std::string DnsTypeName(uint16_t type);
// "IN", "CH", "HS", "NONE", "ANY"; "CLASS<n>" otherwise.
std::string DnsClassName(uint16_t klass);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
// "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "BADVERS"; "RCODE<n>" otherwise.
std::string DnsRcodeName(uint16_t rcode);

}  // namespace tw::flowlog

#endif  // TW_FLOWLOG_DNS_H_
