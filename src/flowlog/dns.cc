#include "flowlog/dns.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "flowlog/wire.h"
#include "net/ip_addr.h"

namespace tw::flowlog {
namespace {

using wire::Be16;
using wire::Be32;

std::string Num(size_t n) { return std::to_string(n); }

void AppendDecimal3(std::string* out, uint8_t c) {
  out->push_back('\\');
  out->push_back(static_cast<char>('0' + c / 100));
  out->push_back(static_cast<char>('0' + c / 10 % 10));
  out->push_back(static_cast<char>('0' + c % 10));
}

// One label byte in presentation form (lower-cased, escaped like dig).
void AppendLabelByte(std::string* out, uint8_t c) {
  if (c >= 'A' && c <= 'Z') {
    out->push_back(static_cast<char>(c - 'A' + 'a'));
  } else if (c < 0x21 || c > 0x7e) {
    AppendDecimal3(out, c);
  } else {
    switch (c) {
      case '.': case '\\': case '"': case '(': case ')': case ';': case '@': case '$':
        out->push_back('\\');
        break;
      default:
        break;
    }
    out->push_back(static_cast<char>(c));
  }
}

// One character-string of TXT in quotes.
void AppendQuoted(std::string* out, std::span<const uint8_t> s) {
  out->push_back('"');
  for (uint8_t c : s) {
    if (c < 0x20 || c > 0x7e) {
      AppendDecimal3(out, c);
    } else {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// RFC 3597 generic rdata: "\# <len> <hex>".
std::string GenericRdata(std::span<const uint8_t> rdata) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\# " + Num(rdata.size());
  if (!rdata.empty()) out.push_back(' ');
  for (uint8_t c : rdata) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Decodes a name inside rdata [pos, end) that must end exactly at *pos's
// final position <= end; advances *pos.  False when it does not decode.
bool RdataName(std::span<const uint8_t> msg, size_t* pos, size_t end, std::string* out) {
  size_t next = 0;
  auto name = ReadDnsName(msg, *pos, &next);
  if (!name.ok() || next > end) return false;
  out->append(*name);
  *pos = next;
  return true;
}

// Presentation text of the rdata at [start, start + len) of `msg`; false
// when a known type does not decode (the caller then uses GenericRdata).
bool DecodeRdata(std::span<const uint8_t> msg, uint16_t type, size_t start, size_t len, std::string* out) {
  const size_t end = start + len;
  const uint8_t* p = msg.data() + start;
  size_t pos = start;
  switch (type) {
    case kDnsTypeA:
      if (len != 4) return false;
      *out = net::IpAddr::V4(Be32(p)).ToString();
      return true;
    case kDnsTypeAaaa: {
      if (len != 16) return false;
      net::Uint128 v = 0;
      for (int i = 0; i < 16; ++i) v = (v << 8) | p[i];
      if ((v >> 32) == 0xffff) {  // IPv4-mapped: dotted like dig ("::ffff:1.2.3.4")
        *out = "::ffff:" + net::IpAddr::V4(static_cast<uint32_t>(v)).ToString();
      } else {
        *out = net::IpAddr::V6(v).ToString();
      }
      return true;
    }
    case kDnsTypeCname:
    case kDnsTypeNs:
    case kDnsTypePtr:
    case kDnsTypeDname:
      return RdataName(msg, &pos, end, out) && pos == end;
    case kDnsTypeMx:
      if (len < 3) return false;
      *out = Num(Be16(p)) + " ";
      pos += 2;
      return RdataName(msg, &pos, end, out) && pos == end;
    case kDnsTypeSrv:
      if (len < 7) return false;
      *out = Num(Be16(p)) + " " + Num(Be16(p + 2)) + " " + Num(Be16(p + 4)) + " ";
      pos += 6;
      return RdataName(msg, &pos, end, out) && pos == end;
    case kDnsTypeSoa: {
      if (!RdataName(msg, &pos, end, out)) return false;
      out->push_back(' ');
      if (!RdataName(msg, &pos, end, out)) return false;
      if (end - pos != 20) return false;
      for (int i = 0; i < 5; ++i) *out += " " + Num(Be32(msg.data() + pos + 4 * i));
      return true;
    }
    case kDnsTypeTxt:
      if (len == 0) return false;
      while (pos < end) {
        const size_t n = msg[pos];
        if (pos + 1 + n > end) return false;
        if (pos != start) out->push_back(' ');
        AppendQuoted(out, msg.subspan(pos + 1, n));
        pos += 1 + n;
      }
      return true;
    default:
      return false;
  }
}

bool IsDecodedType(uint16_t type) {
  switch (type) {
    case kDnsTypeA: case kDnsTypeAaaa: case kDnsTypeCname: case kDnsTypeNs: case kDnsTypePtr:
    case kDnsTypeDname: case kDnsTypeMx: case kDnsTypeSrv: case kDnsTypeSoa: case kDnsTypeTxt:
      return true;
    default:
      return false;
  }
}

Status ParseQuestion(std::span<const uint8_t> msg, size_t* pos, DnsQuestion* q) {
  TW_ASSIGN_OR_RETURN(q->name, ReadDnsName(msg, *pos, pos));
  if (msg.size() - *pos < 4) {
    return Status::InvalidArgument("type and class at offset " + Num(*pos) + " run past the end (" +
                                   Num(msg.size()) + ")");
  }
  q->type = Be16(&msg[*pos]);
  q->klass = Be16(&msg[*pos + 2]);
  *pos += 4;
  return Status::Ok();
}

Status ParseRecord(std::span<const uint8_t> msg, size_t* pos, DnsRecord* r) {
  TW_ASSIGN_OR_RETURN(r->name, ReadDnsName(msg, *pos, pos));
  if (msg.size() - *pos < 10) {
    return Status::InvalidArgument("record header at offset " + Num(*pos) + " runs past the end (" +
                                   Num(msg.size()) + ")");
  }
  const uint8_t* h = &msg[*pos];
  r->type = Be16(h);
  r->klass = Be16(h + 2);
  r->ttl = Be32(h + 4);
  const size_t rdlen = Be16(h + 8);
  const size_t start = *pos + 10;
  if (msg.size() - start < rdlen) {
    return Status::InvalidArgument("rdata of " + Num(rdlen) + " bytes at offset " + Num(start) +
                                   " runs past the end (" + Num(msg.size()) + ")");
  }
  if (!DecodeRdata(msg, r->type, start, rdlen, &r->rdata)) {
    r->rdata = GenericRdata(msg.subspan(start, rdlen));
    r->rdata_malformed = IsDecodedType(r->type);
  }
  *pos = start + rdlen;
  return Status::Ok();
}

// Parses `count` records of one section; false (with msg->error set) on
// the first one that does not parse.
bool ParseSection(std::span<const uint8_t> bytes, size_t* pos, uint16_t count, const char* what,
                  std::vector<DnsRecord>* out, DnsMessage* msg) {
  for (uint16_t i = 0; i < count; ++i) {
    DnsRecord r;
    Status s = ParseRecord(bytes, pos, &r);
    if (!s.ok()) {
      msg->error = s.WithPrefix("dns message: " + std::string(what) + " " + Num(i));
      return false;
    }
    out->push_back(std::move(r));
  }
  return true;
}

}  // namespace

Result<std::string> ReadDnsName(std::span<const uint8_t> msg, size_t offset, size_t* next) {
  auto fail = [&](size_t at, const std::string& reason) {
    return Status::InvalidArgument("name at offset " + Num(offset) + ": " + reason + " (at " + Num(at) + ")");
  };
  std::string out;
  size_t pos = offset;
  size_t run_start = offset;  // pointers must land strictly before this
  size_t wire_len = 1;        // the root label
  bool jumped = false;
  int hops = 0;
  while (true) {
    if (pos >= msg.size()) return fail(pos, "runs past the end (" + Num(msg.size()) + ")");
    const uint8_t len = msg[pos];
    if (len == 0) {
      if (!jumped) *next = pos + 1;
      return out;
    }
    switch (len & 0xc0) {
      case 0xc0: {
        if (pos + 1 >= msg.size()) return fail(pos, "compression pointer runs past the end");
        const size_t target = ((len & 0x3f) << 8) | msg[pos + 1];
        if (target >= run_start) {
          return fail(pos, "compression pointer to " + Num(target) + " does not point backwards");
        }
        if (++hops > kMaxDnsPointerHops) return fail(pos, "more than " + Num(kMaxDnsPointerHops) + " pointers");
        if (!jumped) *next = pos + 2;
        jumped = true;
        pos = run_start = target;
        continue;
      }
      case 0x40:
      case 0x80:
        return fail(pos, "label type 0x" + std::string(1, "0123456789abcdef"[len >> 4]) + "0 is not supported");
      default:
        break;
    }
    // len <= 63 here: the two top bits are clear.
    wire_len += 1 + len;
    if (wire_len > kMaxDnsNameWireLen) {
      return fail(pos, "longer than " + Num(kMaxDnsNameWireLen) + " bytes");
    }
    if (msg.size() - pos - 1 < len) return fail(pos, "label of " + Num(len) + " bytes runs past the end");
    if (!out.empty()) out.push_back('.');  // every label has at least one byte
    for (size_t i = 1; i <= len; ++i) AppendLabelByte(&out, msg[pos + i]);
    pos += 1 + len;
  }
}

Result<DnsMessage> ParseDnsMessage(std::span<const uint8_t> bytes) {
  if (bytes.size() < kDnsHeaderLen) {
    return Status::InvalidArgument("dns message: " + Num(bytes.size()) + " bytes are shorter than the 12-byte header");
  }
  DnsMessage msg;
  DnsHeader& h = msg.header;
  h.id = Be16(&bytes[0]);
  const uint16_t flags = Be16(&bytes[2]);
  h.qr = flags & 0x8000;
  h.opcode = (flags >> 11) & 0x0f;
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.z = flags & 0x0040;
  h.ad = flags & 0x0020;
  h.cd = flags & 0x0010;
  h.rcode = flags & 0x000f;
  h.qdcount = Be16(&bytes[4]);
  h.ancount = Be16(&bytes[6]);
  h.nscount = Be16(&bytes[8]);
  h.arcount = Be16(&bytes[10]);
  msg.rcode = h.rcode;

  size_t pos = kDnsHeaderLen;
  for (uint16_t i = 0; i < h.qdcount; ++i) {
    DnsQuestion q;
    Status s = ParseQuestion(bytes, &pos, &q);
    if (!s.ok()) {
      msg.error = s.WithPrefix("dns message: question " + Num(i));
      return msg;
    }
    msg.questions.push_back(std::move(q));
  }
  if (!ParseSection(bytes, &pos, h.ancount, "answer", &msg.answers, &msg) ||
      !ParseSection(bytes, &pos, h.nscount, "authority", &msg.authorities, &msg) ||
      !ParseSection(bytes, &pos, h.arcount, "additional", &msg.additionals, &msg)) {
    return msg;
  }
  for (const DnsRecord& r : msg.additionals) {
    if (r.type == kDnsTypeOpt) {
      msg.rcode = static_cast<uint16_t>(((r.ttl >> 24) << 4) | h.rcode);
      break;
    }
  }
  msg.trailing_bytes = bytes.size() - pos;
  return msg;
}

Result<DnsMessage> ParseDnsTcpMessage(std::span<const uint8_t> bytes, size_t* consumed) {
  if (bytes.size() < 2) {
    return Status::InvalidArgument("dns tcp message: " + Num(bytes.size()) + " bytes are shorter than the length prefix");
  }
  const size_t len = Be16(bytes.data());
  if (bytes.size() - 2 < len) {
    return Status::InvalidArgument("dns tcp message: length " + Num(len) + " is more than the " +
                                   Num(bytes.size() - 2) + " bytes that follow it");
  }
  if (consumed != nullptr) *consumed = 2 + len;
  return ParseDnsMessage(bytes.subspan(2, len));
}

std::vector<DnsRrset> GroupRrsets(std::span<const DnsRecord> records) {
  // An index keeps hostile messages (thousands of distinct names) linear-ish.
  using Key = std::tuple<std::string_view, uint16_t, uint16_t>;
  std::map<Key, size_t> index;
  std::vector<DnsRrset> sets;
  for (const DnsRecord& r : records) {
    auto [it, added] = index.try_emplace(Key{r.name, r.type, r.klass}, sets.size());
    if (added) sets.push_back(DnsRrset{r.name, r.type, r.klass, {}});
    sets[it->second].rdata.push_back(r.rdata);
  }
  return sets;
}

std::string DnsTypeName(uint16_t type) {
  switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 24: return "SIG";
    case 25: return "KEY";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 37: return "CERT";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    default: return "TYPE" + Num(type);
  }
}

std::string DnsClassName(uint16_t klass) {
  switch (klass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return "CLASS" + Num(klass);
  }
}

std::string DnsRcodeName(uint16_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                           "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < std::size(kNames)) return kNames[rcode];
  switch (rcode) {
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: return "RCODE" + Num(rcode);
  }
}

}  // namespace tw::flowlog
