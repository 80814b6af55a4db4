#include "flowlog/dns.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tw::flowlog {
namespace {

using Bytes = std::vector<uint8_t>;

void Put16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}

// Wire form of a dotted name ("" = root); labels may not contain dots.
void PutName(Bytes* b, std::string_view name) {
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    b->push_back(static_cast<uint8_t>(label.size()));
    b->insert(b->end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  }
  b->push_back(0);
}
void PutPointer(Bytes* b, uint16_t offset) { Put16(b, static_cast<uint16_t>(0xc000 | offset)); }

Bytes Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
  Bytes b;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) Put16(&b, v);
  return b;
}

// Record header after the owner name: type, class IN, ttl, rdlength.
void PutRrHeader(Bytes* b, uint16_t type, uint32_t ttl, uint16_t rdlen) {
  Put16(b, type);
  Put16(b, kDnsClassIn);
  Put32(b, ttl);
  Put16(b, rdlen);
}

// Query for `name`/A with id 0xbeef, RD.
Bytes Query(std::string_view name, uint16_t type = kDnsTypeA) {
  Bytes b = Header(0xbeef, 0x0100, 1, 0);
  PutName(&b, name);
  Put16(&b, type);
  Put16(&b, kDnsClassIn);
  return b;
}

TEST(DnsTest, Query) {
  Bytes q = Query("WWW.Example.COM");
  auto m = ParseDnsMessage(q);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->complete()) << m->error.ToString();
  EXPECT_EQ(m->header.id, 0xbeef);
  EXPECT_FALSE(m->header.qr);
  EXPECT_TRUE(m->header.rd);
  EXPECT_EQ(m->header.opcode, 0);
  ASSERT_EQ(m->questions.size(), 1u);
  EXPECT_EQ(m->questions[0].name, "www.example.com");
  EXPECT_EQ(m->questions[0].type, kDnsTypeA);
  EXPECT_EQ(m->questions[0].klass, kDnsClassIn);
  EXPECT_TRUE(m->answers.empty());
  EXPECT_EQ(m->trailing_bytes, 0u);
}

// A real-world shaped answer: www.github.com CNAME github.com, A x1, plus
// an authority NS and an OPT record; names compressed as servers do.
Bytes CnameChainAnswer() {
  Bytes b = Header(0x1234, 0x8180, 1, 4, 1, 1);
  PutName(&b, "www.GitHub.com");  // at 12: 3 www 6 github 3 com 0 -> 12..27
  Put16(&b, kDnsTypeA);
  Put16(&b, kDnsClassIn);
  // answer 0: www.github.com CNAME cdn.github.com
  PutPointer(&b, 12);
  const uint16_t cname_rdata_at = static_cast<uint16_t>(b.size() + 10);
  PutRrHeader(&b, kDnsTypeCname, 3600, 6);
  b.push_back(3); b.insert(b.end(), {'c', 'd', 'n'});
  PutPointer(&b, 16);  // github.com
  // answers 1-2: cdn.github.com A 140.82.121.3, 140.82.121.4
  for (uint8_t last : {3, 4}) {
    PutPointer(&b, cname_rdata_at);
    PutRrHeader(&b, kDnsTypeA, 60, 4);
    b.insert(b.end(), {140, 82, 121, last});
  }
  // answer 3: www.github.com CNAME again (same rrset as answer 0)
  PutPointer(&b, 12);
  PutRrHeader(&b, kDnsTypeCname, 3600, 2);
  PutPointer(&b, 16);
  // authority: github.com NS ns1.p16.dynect.net
  PutPointer(&b, 16);
  Bytes ns;
  PutName(&ns, "ns1.p16.dynect.net");
  PutRrHeader(&b, kDnsTypeNs, 900, static_cast<uint16_t>(ns.size()));
  b.insert(b.end(), ns.begin(), ns.end());
  // additional: OPT, udp size 1232, extended rcode 0
  b.push_back(0);
  Put16(&b, kDnsTypeOpt);
  Put16(&b, 1232);
  Put32(&b, 0);
  Put16(&b, 0);
  return b;
}

TEST(DnsTest, CnameChainAnswerAndRrsets) {
  Bytes a = CnameChainAnswer();
  auto m = ParseDnsMessage(a);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->complete()) << m->error.ToString();
  EXPECT_TRUE(m->header.qr);
  EXPECT_TRUE(m->header.ra);
  EXPECT_EQ(m->rcode, 0);
  EXPECT_EQ(m->questions[0].name, "www.github.com");
  ASSERT_EQ(m->answers.size(), 4u);
  EXPECT_EQ(m->answers[0].name, "www.github.com");
  EXPECT_EQ(m->answers[0].rdata, "cdn.github.com");
  EXPECT_EQ(m->answers[0].ttl, 3600u);
  EXPECT_EQ(m->answers[1].name, "cdn.github.com");
  EXPECT_EQ(m->answers[1].rdata, "140.82.121.3");
  EXPECT_EQ(m->answers[2].rdata, "140.82.121.4");
  EXPECT_EQ(m->answers[3].rdata, "github.com");
  ASSERT_EQ(m->authorities.size(), 1u);
  EXPECT_EQ(m->authorities[0].rdata, "ns1.p16.dynect.net");
  ASSERT_EQ(m->additionals.size(), 1u);
  EXPECT_EQ(m->additionals[0].type, kDnsTypeOpt);
  EXPECT_EQ(m->additionals[0].name, "");
  EXPECT_EQ(m->additionals[0].klass, 1232);

  auto sets = GroupRrsets(m->answers);
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].name, "www.github.com");
  EXPECT_EQ(DnsTypeName(sets[0].type), "CNAME");
  EXPECT_EQ(DnsClassName(sets[0].klass), "IN");
  EXPECT_EQ(sets[0].rdata, (std::vector<std::string>{"cdn.github.com", "github.com"}));
  EXPECT_EQ(sets[1].name, "cdn.github.com");
  EXPECT_EQ(DnsTypeName(sets[1].type), "A");
  EXPECT_EQ(sets[1].rdata, (std::vector<std::string>{"140.82.121.3", "140.82.121.4"}));
}

TEST(DnsTest, EveryTruncationIsSafeAndKeepsTheQuestion) {
  const Bytes a = CnameChainAnswer();
  for (size_t n = 0; n < a.size(); ++n) {
    Bytes c(a.begin(), a.begin() + static_cast<long>(n));
    auto m = ParseDnsMessage(c);
    if (n < kDnsHeaderLen) {
      EXPECT_FALSE(m.ok()) << n;
      continue;
    }
    ASSERT_TRUE(m.ok()) << n;
    EXPECT_FALSE(m->complete()) << n;
    EXPECT_TRUE(m->error.IsInvalidArgument()) << n;
    if (n >= 32) {  // the question is 12..32
      ASSERT_EQ(m->questions.size(), 1u) << n;
      EXPECT_EQ(m->questions[0].name, "www.github.com");
    }
  }
}

TEST(DnsTest, GarbageAfterTheAnswerDoesNotHideIt) {
  Bytes a = Header(1, 0x8180, 1, 1, 0, 2);
  PutName(&a, "evil.example");
  Put16(&a, kDnsTypeA);
  Put16(&a, kDnsClassIn);
  PutPointer(&a, 12);
  PutRrHeader(&a, kDnsTypeA, 5, 4);
  a.insert(a.end(), {6, 6, 6, 6});
  a.insert(a.end(), {0xc0, 0xff});  // additional 0: pointer past the end
  auto m = ParseDnsMessage(a);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->complete());
  EXPECT_NE(m->error.message().find("additional 0"), std::string::npos) << m->error.message();
  EXPECT_EQ(m->questions[0].name, "evil.example");
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(m->answers[0].rdata, "6.6.6.6");
}

TEST(DnsTest, CompressionLoopsAndBadPointers) {
  // A pointer to itself.
  Bytes self = Header(1, 0, 1, 0);
  PutPointer(&self, 12);
  Put32(&self, 0x00010001);
  auto m = ParseDnsMessage(self);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->complete());
  EXPECT_NE(m->error.message().find("does not point backwards"), std::string::npos) << m->error.message();

  // Two labels pointing at each other: 12: "a" -> ptr 17; 17: "b" -> ptr 12.
  Bytes pair = Header(1, 0, 2, 0);
  pair.insert(pair.end(), {1, 'a'});
  PutPointer(&pair, 17);
  pair.push_back(0);  // pad so that 17 is the next label
  pair.insert(pair.end(), {1, 'b'});
  PutPointer(&pair, 12);
  size_t next = 0;
  auto n = ReadDnsName(pair, 17, &next);
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(n.error().IsInvalidArgument());
  n = ReadDnsName(pair, 12, &next);
  EXPECT_FALSE(n.ok());  // forward pointer

  // Pointer out of range, and a pointer cut in half.
  Bytes far = Header(1, 0, 0, 0);
  PutPointer(&far, 0x3fff);
  EXPECT_FALSE(ReadDnsName(far, 12, &next).ok());
  Bytes half = Header(1, 0, 0, 0);
  half.push_back(0xc0);
  EXPECT_FALSE(ReadDnsName(half, 12, &next).ok());

  // A legal chain of backward pointers.
  Bytes chain = Header(1, 0, 0, 0);
  PutName(&chain, "com");  // 12
  chain.insert(chain.end(), {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e'});  // 17
  PutPointer(&chain, 12);
  chain.insert(chain.end(), {3, 'w', 'w', 'w'});  // 27
  PutPointer(&chain, 17);
  n = ReadDnsName(chain, 27, &next);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(*n, "www.example.com");
  EXPECT_EQ(next, 33u);
}

TEST(DnsTest, PointerHopBound) {
  // Each name is a 1-byte label + a pointer to the previous name: legal
  // compression, but 200 deep hits the hop bound (at 65 hops the name has
  // only 131 wire bytes, so the length bound is not what stops it).
  Bytes b = Header(1, 0, 0, 0);
  b.push_back(0);  // root at 12
  size_t prev = 12;
  for (int i = 0; i < 200; ++i) {
    size_t at = b.size();
    b.insert(b.end(), {1, 'x'});
    PutPointer(&b, static_cast<uint16_t>(prev));
    prev = at;
  }
  size_t next = 0;
  auto n = ReadDnsName(b, prev, &next);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message().find("pointers"), std::string::npos) << n.error().message();
  // kMaxDnsPointerHops labels deep is fine.
  size_t ok_start = 12 + 1 + static_cast<size_t>(kMaxDnsPointerHops - 1) * 4;
  n = ReadDnsName(b, ok_start, &next);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->size(), static_cast<size_t>(kMaxDnsPointerHops) * 2 - 1);
}

TEST(DnsTest, LabelAndNameLimits) {
  size_t next = 0;
  // Label of 64: the length byte 0x40 is a reserved label type.
  Bytes l64 = Header(1, 0, 0, 0);
  l64.push_back(64);
  l64.insert(l64.end(), 64, 'a');
  l64.push_back(0);
  auto n = ReadDnsName(l64, 12, &next);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message().find("label type"), std::string::npos);
  // Label of 63 is fine.
  Bytes l63 = Header(1, 0, 0, 0);
  l63.push_back(63);
  l63.insert(l63.end(), 63, 'a');
  l63.push_back(0);
  n = ReadDnsName(l63, 12, &next);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 63u);
  // 255 wire bytes is the maximum: 3 x 63-byte labels + one 61-byte label.
  Bytes max = Header(1, 0, 0, 0);
  for (int i = 0; i < 3; ++i) {
    max.push_back(63);
    max.insert(max.end(), 63, 'b');
  }
  max.push_back(61);
  max.insert(max.end(), 61, 'c');
  max.push_back(0);
  n = ReadDnsName(max, 12, &next);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->size(), 253u);
  EXPECT_EQ(next, max.size());
  // One more byte is too long.
  Bytes over = max;
  over[12 + 3 * 64] = 62;
  over.insert(over.end() - 1, 'c');
  n = ReadDnsName(over, 12, &next);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message().find("longer than 255"), std::string::npos);
  // The same limit across compression pointers.
  Bytes comp = max;
  const size_t tail = comp.size();
  comp.insert(comp.end(), {1, 'z'});
  PutPointer(&comp, 12);
  n = ReadDnsName(comp, tail, &next);
  EXPECT_FALSE(n.ok());
}

TEST(DnsTest, ZeroLengthAndRootAndShort) {
  EXPECT_FALSE(ParseDnsMessage(Bytes{}).ok());
  EXPECT_FALSE(ParseDnsMessage(Bytes(11, 0)).ok());
  auto m = ParseDnsMessage(Bytes(12, 0));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->complete());
  Bytes root = Query("", 2);
  m = ParseDnsMessage(root);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->complete());
  EXPECT_EQ(m->questions[0].name, "");
  EXPECT_EQ(DnsTypeName(m->questions[0].type), "NS");
  // Counts larger than the message: stops cleanly.
  Bytes lies = Header(1, 0x8000, 0xffff, 0xffff, 0xffff, 0xffff);
  m = ParseDnsMessage(lies);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->complete());
  EXPECT_NE(m->error.message().find("question 0"), std::string::npos) << m->error.message();
}

TEST(DnsTest, EscapingLikeDig) {
  Bytes b = Header(1, 0, 0, 0);
  const std::string label = std::string("A.b\\c d\"") + '\x01' + '\xff' + "(x);@$";
  b.push_back(static_cast<uint8_t>(label.size()));
  b.insert(b.end(), label.begin(), label.end());
  PutName(&b, "CoM");
  size_t next = 0;
  auto n = ReadDnsName(b, 12, &next);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "a\\.b\\\\c\\032d\\\"\\001\\255\\(x\\)\\;\\@\\$.com");
}

TEST(DnsTest, RdataTypes) {
  Bytes b = Header(7, 0x8183, 0, 8);  // NXDOMAIN, odd but allowed with answers
  auto rr = [&](uint16_t type, const Bytes& rdata) {
    PutName(&b, "x.test");
    PutRrHeader(&b, type, 1, static_cast<uint16_t>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
  };
  Bytes aaaa = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  rr(kDnsTypeAaaa, aaaa);
  Bytes mx = {0, 10};
  PutName(&mx, "Mail.x.test");
  rr(kDnsTypeMx, mx);
  Bytes srv = {0, 1, 0, 5, 0x13, 0xc4};
  PutName(&srv, "sip.x.test");
  rr(kDnsTypeSrv, srv);
  Bytes soa;
  PutName(&soa, "ns1.x.test");
  PutName(&soa, "hostmaster.x.test");
  for (uint32_t v : {2024010101u, 7200u, 3600u, 1209600u, 300u}) Put32(&soa, v);
  rr(kDnsTypeSoa, soa);
  rr(kDnsTypeTxt, {5, 'v', '=', 's', '"', '1', 0, 2, 'a', 0x07});
  rr(kDnsTypeA, {1, 2, 3});           // malformed A
  rr(65, {1, 0, 0});                  // HTTPS: not decoded, generic
  rr(kDnsTypeAaaa, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4});
  auto m = ParseDnsMessage(b);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->complete()) << m->error.ToString();
  EXPECT_EQ(DnsRcodeName(m->rcode), "NXDOMAIN");
  ASSERT_EQ(m->answers.size(), 8u);
  EXPECT_EQ(m->answers[0].rdata, "2001:db8::1");
  EXPECT_EQ(m->answers[1].rdata, "10 mail.x.test");
  EXPECT_EQ(m->answers[2].rdata, "1 5 5060 sip.x.test");
  EXPECT_EQ(m->answers[3].rdata, "ns1.x.test hostmaster.x.test 2024010101 7200 3600 1209600 300");
  EXPECT_EQ(m->answers[4].rdata, "\"v=s\\\"1\" \"\" \"a\\007\"");
  EXPECT_EQ(m->answers[5].rdata, "\\# 3 010203");
  EXPECT_TRUE(m->answers[5].rdata_malformed);
  EXPECT_EQ(m->answers[6].rdata, "\\# 3 010000");
  EXPECT_FALSE(m->answers[6].rdata_malformed);
  EXPECT_EQ(DnsTypeName(m->answers[6].type), "HTTPS");
  EXPECT_EQ(m->answers[7].rdata, "::ffff:1.2.3.4");
}

TEST(DnsTest, RdataNameMustEndInsideRdata) {
  Bytes b = Header(1, 0x8180, 0, 2);
  PutName(&b, "a.test");
  PutRrHeader(&b, kDnsTypeCname, 1, 2);  // rdlength 2 but the name is longer
  b.insert(b.end(), {1, 'b'});
  // The next record's bytes follow; the CNAME target would run into them.
  PutName(&b, "c");
  PutRrHeader(&b, kDnsTypeA, 1, 4);
  b.insert(b.end(), {1, 1, 1, 1});
  auto m = ParseDnsMessage(b);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->complete()) << m->error.ToString();
  EXPECT_TRUE(m->answers[0].rdata_malformed);
  EXPECT_EQ(m->answers[0].rdata, "\\# 2 0162");
  EXPECT_EQ(m->answers[1].rdata, "1.1.1.1");
}

TEST(DnsTest, ExtendedRcodeFromOpt) {
  Bytes b = Header(1, 0x8000, 0, 0, 0, 1);
  b.push_back(0);
  Put16(&b, kDnsTypeOpt);
  Put16(&b, 4096);
  Put32(&b, 0x01000000);  // extended rcode 1 -> 16
  Put16(&b, 0);
  auto m = ParseDnsMessage(b);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rcode, 16);
  EXPECT_EQ(DnsRcodeName(m->rcode), "BADVERS");
}

TEST(DnsTest, Tcp) {
  Bytes q = Query("a.test");
  Bytes stream;
  Put16(&stream, static_cast<uint16_t>(q.size()));
  stream.insert(stream.end(), q.begin(), q.end());
  Bytes two = stream;
  two.insert(two.end(), stream.begin(), stream.end());
  size_t used = 0;
  auto m = ParseDnsTcpMessage(two, &used);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(used, stream.size());
  EXPECT_EQ(m->questions[0].name, "a.test");
  m = ParseDnsTcpMessage(std::span(two).subspan(used), &used);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->complete());
  EXPECT_FALSE(ParseDnsTcpMessage(Bytes{0}).ok());
  Bytes cut(stream.begin(), stream.end() - 1);
  auto bad = ParseDnsTcpMessage(cut);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("length"), std::string::npos);
}

TEST(DnsTest, Names) {
  EXPECT_EQ(DnsTypeName(1), "A");
  EXPECT_EQ(DnsTypeName(28), "AAAA");
  EXPECT_EQ(DnsTypeName(12), "PTR");
  EXPECT_EQ(DnsTypeName(65280), "TYPE65280");
  EXPECT_EQ(DnsClassName(3), "CH");
  EXPECT_EQ(DnsClassName(7), "CLASS7");
  EXPECT_EQ(DnsRcodeName(0), "NOERROR");
  EXPECT_EQ(DnsRcodeName(2), "SERVFAIL");
  EXPECT_EQ(DnsRcodeName(3), "NXDOMAIN");
  EXPECT_EQ(DnsRcodeName(5), "REFUSED");
  EXPECT_EQ(DnsRcodeName(12), "RCODE12");
}

}  // namespace
}  // namespace tw::flowlog
