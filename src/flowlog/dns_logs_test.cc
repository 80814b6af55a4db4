#include "flowlog/dns_logs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tw::flowlog {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;
namespace json = boost::json;

// ---- DNS messages built by hand (RFC 1035 wire format) ----

void Put16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
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

struct Rr {
  std::string name;
  uint16_t type;
  Bytes rdata;  // wire rdata (names uncompressed)
};
Rr A(std::string name, uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {std::move(name), kDnsTypeA, {a, b, c, d}}; }
Rr Aaaa(std::string name, uint8_t last) {
  Bytes r = {0x20, 0x01, 0x0d, 0xb8};
  r.resize(16, 0);
  r[15] = last;
  return {std::move(name), kDnsTypeAaaa, r};
}
Rr Cname(std::string name, std::string_view target) {
  Bytes r;
  PutName(&r, target);
  return {std::move(name), kDnsTypeCname, r};
}

// A message: id, flags (QR, RD, RA, rcode), one question unless `qname`
// is null, the answers.
Bytes Message(uint16_t id, bool response, uint16_t rcode, const char* qname, uint16_t qtype,
              const std::vector<Rr>& answers = {}) {
  Bytes b;
  Put16(&b, id);
  Put16(&b, static_cast<uint16_t>((response ? 0x8180 : 0x0100) | rcode));
  Put16(&b, qname ? 1 : 0);
  Put16(&b, static_cast<uint16_t>(answers.size()));
  Put16(&b, 0);
  Put16(&b, 0);
  if (qname) {
    PutName(&b, qname);
    Put16(&b, qtype);
    Put16(&b, kDnsClassIn);
  }
  for (const Rr& r : answers) {
    PutName(&b, r.name);
    Put16(&b, r.type);
    Put16(&b, kDnsClassIn);
    Put32(&b, 300);
    Put16(&b, static_cast<uint16_t>(r.rdata.size()));
    b.insert(b.end(), r.rdata.begin(), r.rdata.end());
  }
  return b;
}
Bytes Query(uint16_t id, const char* qname, uint16_t qtype = kDnsTypeA) { return Message(id, false, 0, qname, qtype); }
Bytes Answer(uint16_t id, const char* qname, uint16_t qtype, const std::vector<Rr>& answers, uint16_t rcode = 0) {
  return Message(id, true, rcode, qname, qtype, answers);
}
Bytes Tcp(const Bytes& msg) {
  Bytes b;
  Put16(&b, static_cast<uint16_t>(msg.size()));
  b.insert(b.end(), msg.begin(), msg.end());
  return b;
}

// ---- addresses, pods, packets ----

net::IpAddr Ip(const char* text) { return *net::IpAddr::Parse(text); }

const TimePoint kT0 = TimePoint(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z

constexpr const char* kPodA = "10.244.0.5";   // default/tf-ubuntu
constexpr const char* kPodB = "10.244.0.6";   // default/web-7d9f-abcde (generateName web-7d9f-)
constexpr const char* kPodC = "10.244.0.7";   // default/web-7d9f-fghij
constexpr const char* kDnsPod = "10.244.0.2";  // kube-system/coredns-1
constexpr const char* kWorld = "203.0.113.53";

EndpointInfo TestLookup(const net::IpAddr& ip) {
  const std::string s = ip.ToString();
  if (s == kPodA) return {"wep", "tf-ubuntu", "tf-ubuntu", "default", {"app=ubuntu", "tier=test"}};
  if (s == kPodB) return {"wep", "web-7d9f-abcde", "web-7d9f-*", "default", {"app=web", "pod=b"}};
  if (s == kPodC) return {"wep", "web-7d9f-fghij", "web-7d9f-*", "default", {"app=web", "pod=c"}};
  if (s == kDnsPod) return {"wep", "coredns-1", "coredns-1", "kube-system", {"k8s-app=kube-dns"}};
  return {"net", "-", "pub", "-", {}};
}

DnsPacket QueryPacket(TimePoint t, const char* client, uint16_t port, const char* server, Bytes dns,
                      uint8_t proto = 17) {
  return DnsPacket{t, FlowTuple{Ip(client), Ip(server), proto, port, 53}, std::move(dns)};
}
DnsPacket ResponsePacket(TimePoint t, const char* client, uint16_t port, const char* server, Bytes dns,
                         uint8_t proto = 17) {
  return DnsPacket{t, FlowTuple{Ip(server), Ip(client), proto, 53, port}, std::move(dns)};
}

DnsLogBuilder NewBuilder(int aggregation = 0) {
  DnsLogOptions o;
  o.aggregation_kind = aggregation;
  o.host = "node-1";
  DnsLogBuilder b(o);
  b.SetLookup(TestLookup);
  return b;
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

// ---- tests ----

TEST(DnsLogsTest, FormatGoTimeLikeGo) {
  EXPECT_EQ(FormatGoTime(kT0), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatGoTime(kT0 + 1500us), "2026-01-01T00:00:00.0015Z");
  EXPECT_EQ(FormatGoTime(kT0 + 3723s + 123456789ns), "2026-01-01T01:02:03.123456789Z");
  EXPECT_EQ(FormatGoTime(kT0 - 1ns), "2025-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatGoTime(kT0 + 100ms), "2026-01-01T00:00:00.1Z");
}

TEST(DnsLogsTest, RcodeMnemonics) {
  EXPECT_EQ(DnsRcodeMnemonic(0), "NoError");
  EXPECT_EQ(DnsRcodeMnemonic(2), "ServFail");
  EXPECT_EQ(DnsRcodeMnemonic(3), "NXDomain");
  EXPECT_EQ(DnsRcodeMnemonic(5), "Refused");
  EXPECT_EQ(DnsRcodeMnemonic(16), "BADVERS");
  EXPECT_EQ(DnsRcodeMnemonic(3000), "RCODE3000");
}

TEST(DnsLogsTest, QueryAndAnswerMakeOneRecordWithEveryField) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0 + 1s, kPodA, 40000, kDnsPod, Query(0x1234, "WWW.Example.COM.")));
  b.AddPacket(ResponsePacket(kT0 + 1s + 3ms, kPodA, 40000, kDnsPod,
                             Answer(0x1234, "www.example.com", kDnsTypeA, {A("www.example.com", 93, 184, 216, 34)})));
  EXPECT_EQ(b.pending_queries(), 0u);
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  const json::object& r = recs[0];
  EXPECT_EQ(Str(r.at("start_time")), "2026-01-01T00:00:01Z");  // first packet: the first interval's start
  EXPECT_EQ(Str(r.at("end_time")), "2026-01-01T00:00:15Z");
  EXPECT_EQ(Str(r.at("type")), "log");
  EXPECT_EQ(r.at("count").to_number<int64_t>(), 1);
  EXPECT_EQ(Str(r.at("client_ip")), kPodA);
  EXPECT_EQ(Str(r.at("client_name")), "tf-ubuntu");
  EXPECT_EQ(Str(r.at("client_name_aggr")), "tf-ubuntu");
  EXPECT_EQ(Str(r.at("client_namespace")), "default");
  EXPECT_EQ(json::serialize(r.at("client_labels")), R"({"app":"ubuntu","tier":"test"})");
  EXPECT_EQ(Str(r.at("qname")), "www.example.com");
  EXPECT_EQ(Str(r.at("qtype")), "A");
  EXPECT_EQ(Str(r.at("qclass")), "IN");
  EXPECT_EQ(Str(r.at("rcode")), "NoError");
  EXPECT_EQ(json::serialize(r.at("rrsets")),
            R"([{"name":"www.example.com","class":"IN","type":"A","rdata":["93.184.216.34"]}])");
  EXPECT_EQ(json::serialize(r.at("servers")),
            R"([{"ip":"10.244.0.2","name":"coredns-1","name_aggr":"coredns-1","namespace":"kube-system",)"
            R"("labels":{"k8s-app":"kube-dns"}}])");
  EXPECT_EQ(json::serialize(r.at("latency")), R"({"count":1,"mean":3000000,"max":3000000})");
  EXPECT_EQ(r.at("latency_count").to_number<int64_t>(), 1);
  EXPECT_EQ(r.at("latency_mean").to_number<int64_t>(), 3000000);
  EXPECT_EQ(r.at("latency_max").to_number<int64_t>(), 3000000);
  EXPECT_EQ(Str(r.at("host")), "node-1");
  EXPECT_EQ(Str(r.at("id")).size(), 4u + 32u);
  EXPECT_EQ(Str(r.at("id")).rfind("dns-", 0), 0u);
  // Field order follows calico-semantics §6.2.
  std::vector<std::string> keys;
  for (const auto& kv : r) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"start_time", "end_time", "type", "count", "client_ip", "client_name",
                                            "client_name_aggr", "client_namespace", "client_labels", "qname", "qtype",
                                            "qclass", "rcode", "rrsets", "servers", "latency", "latency_count",
                                            "latency_mean", "latency_max", "host", "id"}));
  const DnsLogStats& s = b.stats();
  EXPECT_EQ(s.packets, 2u);
  EXPECT_EQ(s.queries, 1u);
  EXPECT_EQ(s.responses, 1u);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.malformed + s.unmatched_responses + s.unanswered, 0u);

  // The next interval starts at the previous flush.
  b.AddPacket(QueryPacket(kT0 + 20s, kPodA, 40001, kDnsPod, Query(7, "a.example.com")));
  b.AddPacket(ResponsePacket(kT0 + 20s, kPodA, 40001, kDnsPod, Answer(7, "a.example.com", kDnsTypeA, {})));
  recs = b.Flush(kT0 + 30s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("start_time")), "2026-01-01T00:00:15Z");
  EXPECT_EQ(Str(recs[0].at("end_time")), "2026-01-01T00:00:30Z");
  EXPECT_TRUE(b.Flush(kT0 + 45s).empty());
}

TEST(DnsLogsTest, CnameChainAndAaaaRrsets) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0, kPodA, 41000, kWorld, Query(1, "www.github.com", kDnsTypeAaaa)));
  b.AddPacket(ResponsePacket(kT0 + 10ms, kPodA, 41000, kWorld,
                             Answer(1, "www.github.com", kDnsTypeAaaa,
                                    {Cname("www.github.com", "Cdn.GitHub.com"), Cname("cdn.github.com", "edge.fastly.net"),
                                     Aaaa("edge.fastly.net", 2), Aaaa("edge.fastly.net", 1)})));
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("qtype")), "AAAA");
  EXPECT_EQ(json::serialize(recs[0].at("rrsets")),
            R"([{"name":"www.github.com","class":"IN","type":"CNAME","rdata":["cdn.github.com"]},)"
            R"({"name":"cdn.github.com","class":"IN","type":"CNAME","rdata":["edge.fastly.net"]},)"
            R"({"name":"edge.fastly.net","class":"IN","type":"AAAA","rdata":["2001:db8::1","2001:db8::2"]}])");
  EXPECT_EQ(json::serialize(recs[0].at("servers")),
            R"([{"ip":"203.0.113.53","name":"-","name_aggr":"pub","namespace":"-","labels":{}}])");
}

TEST(DnsLogsTest, NxdomainAndDistinctAnswersAreSeparateRecordsRotationsAreNot) {
  DnsLogBuilder b = NewBuilder();
  uint16_t port = 42000;
  auto exchange = [&](const char* name, std::vector<Rr> answers, uint16_t rcode) {
    ++port;
    b.AddPacket(QueryPacket(kT0, kPodA, port, kDnsPod, Query(port, name)));
    b.AddPacket(ResponsePacket(kT0 + 1ms, kPodA, port, kDnsPod, Answer(port, name, kDnsTypeA, answers, rcode)));
  };
  exchange("evil.example", {}, 3);
  exchange("evil.example", {}, 3);
  exchange("rr.example", {A("rr.example", 1, 1, 1, 1), A("rr.example", 2, 2, 2, 2)}, 0);
  exchange("rr.example", {A("rr.example", 2, 2, 2, 2), A("rr.example", 1, 1, 1, 1)}, 0);  // rotated
  exchange("rr.example", {A("rr.example", 3, 3, 3, 3)}, 0);                              // different answer
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 3u);
  int nx = 0;
  std::multiset<int64_t> rr_counts;
  for (const json::object& r : recs) {
    if (Str(r.at("rcode")) == "NXDomain") {
      ++nx;
      EXPECT_EQ(Str(r.at("qname")), "evil.example");
      EXPECT_EQ(r.at("count").to_number<int64_t>(), 2);
      EXPECT_TRUE(r.at("rrsets").as_array().empty());
      EXPECT_EQ(r.at("latency_count").to_number<int64_t>(), 2);
    } else {
      rr_counts.insert(r.at("count").to_number<int64_t>());
    }
  }
  EXPECT_EQ(nx, 1);
  EXPECT_EQ(rr_counts, (std::multiset<int64_t>{1, 2}));
}

TEST(DnsLogsTest, LatencyPairsByIdAndPortsAndAggregates) {
  DnsLogBuilder b = NewBuilder();
  // Two queries in flight from the same client, answered out of order.
  b.AddPacket(QueryPacket(kT0, kPodA, 43000, kDnsPod, Query(1, "x.example")));
  b.AddPacket(QueryPacket(kT0 + 1ms, kPodA, 43001, kDnsPod, Query(2, "x.example")));
  b.AddPacket(ResponsePacket(kT0 + 5ms, kPodA, 43001, kDnsPod, Answer(2, "x.example", kDnsTypeA, {})));
  b.AddPacket(ResponsePacket(kT0 + 9ms, kPodA, 43000, kDnsPod, Answer(1, "x.example", kDnsTypeA, {})));
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("count").to_number<int64_t>(), 2);
  // 4 ms and 9 ms.
  EXPECT_EQ(json::serialize(recs[0].at("latency")), R"({"count":2,"mean":6500000,"max":9000000})");
}

TEST(DnsLogsTest, RetransmittedQueryKeepsTheFirstTime) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0, kPodA, 44000, kDnsPod, Query(9, "slow.example")));
  b.AddPacket(QueryPacket(kT0 + 1s, kPodA, 44000, kDnsPod, Query(9, "slow.example")));
  b.AddPacket(ResponsePacket(kT0 + 1500ms, kPodA, 44000, kDnsPod, Answer(9, "slow.example", kDnsTypeA, {})));
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("count").to_number<int64_t>(), 1);
  EXPECT_EQ(recs[0].at("latency_max").to_number<int64_t>(), 1500000000);
  EXPECT_EQ(b.stats().queries, 2u);
  EXPECT_EQ(b.stats().retransmits, 1u);
  EXPECT_EQ(b.stats().unanswered, 0u);
}

TEST(DnsLogsTest, UnansweredQueryIsLoggedAfterTheTimeout) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0, kPodA, 45000, kWorld, Query(3, "listed.evil.example")));
  EXPECT_TRUE(b.Flush(kT0 + 4s).empty());  // still within the 5 s timeout
  EXPECT_EQ(b.pending_queries(), 1u);
  std::vector<json::object> recs = b.Flush(kT0 + 5s);
  ASSERT_EQ(recs.size(), 1u);
  const json::object& r = recs[0];
  EXPECT_EQ(Str(r.at("rcode")), "NoResponse");
  EXPECT_EQ(Str(r.at("qname")), "listed.evil.example");
  EXPECT_EQ(Str(r.at("client_name")), "tf-ubuntu");
  EXPECT_EQ(Str(r.at("servers").as_array()[0].as_object().at("ip")), kWorld);
  EXPECT_TRUE(r.at("rrsets").as_array().empty());
  EXPECT_EQ(r.at("latency_count").to_number<int64_t>(), 0);
  EXPECT_EQ(r.at("count").to_number<int64_t>(), 1);
  // The query was sent before this interval (4 s .. 5 s): start_time covers it.
  EXPECT_EQ(Str(r.at("start_time")), "2026-01-01T00:00:00Z");
  EXPECT_EQ(b.stats().unanswered, 1u);
  EXPECT_EQ(b.pending_queries(), 0u);

  // An answer after the timeout has no query any more.
  b.AddPacket(ResponsePacket(kT0 + 6s, kPodA, 45000, kWorld, Answer(3, "listed.evil.example", kDnsTypeA, {})));
  recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("rcode")), "NoError");
  EXPECT_EQ(b.stats().unmatched_responses, 1u);
}

TEST(DnsLogsTest, ResponseWithoutQueryIsLoggedWithoutLatency) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(ResponsePacket(kT0, kPodA, 46000, kDnsPod,
                             Answer(5, "orphan.example", kDnsTypeA, {A("orphan.example", 192, 0, 2, 1)})));
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("qname")), "orphan.example");
  EXPECT_EQ(json::serialize(recs[0].at("latency")), R"({"count":0,"mean":0,"max":0})");
  EXPECT_EQ(b.stats().unmatched_responses, 1u);
}

TEST(DnsLogsTest, ResponseWithoutQuestionPairsById) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0, kPodA, 47000, kDnsPod, Query(77, "odd.example", kDnsTypeTxt)));
  b.AddPacket(ResponsePacket(kT0 + 2ms, kPodA, 47000, kDnsPod, Message(77, true, 1, nullptr, 0)));  // FORMERR
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("qname")), "odd.example");
  EXPECT_EQ(Str(recs[0].at("qtype")), "TXT");
  EXPECT_EQ(Str(recs[0].at("rcode")), "FormErr");
  EXPECT_EQ(recs[0].at("latency_max").to_number<int64_t>(), 2000000);
  // Without a pending query such a response cannot be logged.
  b.AddPacket(ResponsePacket(kT0 + 20s, kPodA, 47000, kDnsPod, Message(78, true, 1, nullptr, 0)));
  EXPECT_TRUE(b.Flush(kT0 + 30s).empty());
  EXPECT_EQ(b.stats().malformed, 1u);
}

TEST(DnsLogsTest, AggregationKindOneMergesClientsByNamePrefix) {
  for (int kind : {0, 1}) {
    SCOPED_TRACE(kind);
    DnsLogBuilder b = NewBuilder(kind);
    uint16_t id = 100;
    for (const char* pod : {kPodB, kPodC, kPodB}) {
      ++id;
      b.AddPacket(QueryPacket(kT0, pod, 48000, kDnsPod, Query(id, "api.example")));
      b.AddPacket(ResponsePacket(kT0 + 1ms, pod, 48000, kDnsPod,
                                 Answer(id, "api.example", kDnsTypeA, {A("api.example", 198, 51, 100, 1)})));
    }
    std::vector<json::object> recs = b.Flush(kT0 + 15s);
    if (kind == 0) {
      ASSERT_EQ(recs.size(), 2u);
      for (const json::object& r : recs) {
        const std::string ip = Str(r.at("client_ip"));
        EXPECT_EQ(r.at("count").to_number<int64_t>(), ip == kPodB ? 2 : 1);
        EXPECT_EQ(Str(r.at("client_name")), ip == kPodB ? "web-7d9f-abcde" : "web-7d9f-fghij");
      }
      EXPECT_NE(Str(recs[0].at("id")), Str(recs[1].at("id")));
    } else {
      ASSERT_EQ(recs.size(), 1u);
      const json::object& r = recs[0];
      EXPECT_TRUE(r.at("client_ip").is_null());
      EXPECT_EQ(Str(r.at("client_name")), "-");
      EXPECT_EQ(Str(r.at("client_name_aggr")), "web-7d9f-*");
      EXPECT_EQ(Str(r.at("client_namespace")), "default");
      EXPECT_EQ(r.at("count").to_number<int64_t>(), 3);
      EXPECT_EQ(json::serialize(r.at("client_labels")), R"({"app":"web"})");  // the labels they share
    }
  }
}

TEST(DnsLogsTest, MalformedPacketsAreCountedAndDropped) {
  DnsLogBuilder b = NewBuilder();
  b.AddPacket(QueryPacket(kT0, kPodA, 49000, kDnsPod, Bytes{1, 2, 3}));   // shorter than the header
  b.AddPacket(QueryPacket(kT0, kPodA, 49000, kDnsPod, Message(1, false, 0, nullptr, 0)));  // no question
  Bytes bad_name = Query(2, "x.example");
  bad_name[12] = 0xc0;  // the question's name becomes a forward pointer
  bad_name[13] = 0xff;
  b.AddPacket(QueryPacket(kT0, kPodA, 49000, kDnsPod, bad_name));
  b.AddPacket(QueryPacket(kT0, kPodA, 49000, kDnsPod, Bytes{}));
  EXPECT_TRUE(b.Flush(kT0 + 15s).empty());
  EXPECT_EQ(b.stats().malformed, 4u);
  EXPECT_EQ(b.stats().packets, 4u);
  EXPECT_EQ(b.pending_queries(), 0u);

  // Garbage after the question does not hide it.
  Bytes partial = Message(3, false, 0, "hidden.example", kDnsTypeA);
  partial[7] = 1;  // ancount 1, but no answer follows
  partial.push_back(0xff);
  b.AddPacket(QueryPacket(kT0 + 16s, kPodA, 49001, kDnsPod, partial));
  std::vector<json::object> recs = b.Flush(kT0 + 30s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(Str(recs[0].at("qname")), "hidden.example");
  EXPECT_EQ(Str(recs[0].at("rcode")), "NoResponse");
  EXPECT_EQ(b.stats().partial, 1u);
  EXPECT_EQ(b.stats().malformed, 4u);
}

TEST(DnsLogsTest, TcpLengthPrefixedMessages) {
  DnsLogBuilder b = NewBuilder();
  const uint8_t kTcp = 6;
  b.AddPacket(QueryPacket(kT0, kPodA, 50000, kDnsPod, Bytes{}, kTcp));  // SYN: no payload
  // Two queries in one segment.
  Bytes two = Tcp(Query(1, "one.example"));
  Bytes second = Tcp(Query(2, "two.example"));
  two.insert(two.end(), second.begin(), second.end());
  b.AddPacket(QueryPacket(kT0, kPodA, 50000, kDnsPod, two, kTcp));
  EXPECT_EQ(b.pending_queries(), 2u);
  // The first answer fits its segment; the second is split over three.
  b.AddPacket(ResponsePacket(kT0 + 2ms, kPodA, 50000, kDnsPod,
                             Tcp(Answer(1, "one.example", kDnsTypeA, {A("one.example", 192, 0, 2, 1)})), kTcp));
  std::vector<Rr> many;
  for (uint8_t i = 0; i < 20; ++i) many.push_back(A("two.example", 198, 51, 100, i));
  Bytes big = Tcp(Answer(2, "two.example", kDnsTypeA, many));
  ASSERT_GT(big.size(), 200u);
  b.AddPacket(ResponsePacket(kT0 + 3ms, kPodA, 50000, kDnsPod, Bytes(big.begin(), big.begin() + 100), kTcp));
  b.AddPacket(ResponsePacket(kT0 + 3ms, kPodA, 50000, kDnsPod, Bytes(big.begin() + 100, big.begin() + 200), kTcp));
  b.AddPacket(ResponsePacket(kT0 + 3ms, kPodA, 50000, kDnsPod, Bytes(big.begin() + 200, big.end()), kTcp));
  // A cut length prefix.
  b.AddPacket(QueryPacket(kT0 + 4ms, kPodA, 50001, kDnsPod, Bytes{0}, kTcp));
  EXPECT_EQ(b.pending_queries(), 0u);
  std::vector<json::object> recs = b.Flush(kT0 + 15s);
  ASSERT_EQ(recs.size(), 2u);
  for (const json::object& r : recs) {
    EXPECT_EQ(r.at("latency_count").to_number<int64_t>(), 1);
    if (Str(r.at("qname")) == "one.example") {
      EXPECT_EQ(json::serialize(r.at("rrsets")),
                R"([{"name":"one.example","class":"IN","type":"A","rdata":["192.0.2.1"]}])");
    } else {
      EXPECT_EQ(Str(r.at("qname")), "two.example");
      // Only the records in the first segment are known; the rest was skipped.
      const json::array& rr = r.at("rrsets").as_array();
      ASSERT_EQ(rr.size(), 1u);
      size_t n = rr[0].as_object().at("rdata").as_array().size();
      EXPECT_GT(n, 0u);
      EXPECT_LT(n, many.size());
    }
  }
  EXPECT_EQ(b.stats().ignored, 3u);  // the SYN and the two continuation segments
  EXPECT_EQ(b.stats().partial, 1u);
  EXPECT_EQ(b.stats().malformed, 1u);
  EXPECT_EQ(b.stats().queries, 2u);
  EXPECT_EQ(b.stats().responses, 2u);
}

TEST(DnsLogsTest, IdsAreDeterministicAndUnique) {
  auto run = [](const std::string& host) {
    DnsLogOptions o;
    o.host = host;
    DnsLogBuilder b(o);
    b.SetLookup(TestLookup);
    std::vector<std::string> ids;
    for (int round = 0; round < 2; ++round) {
      TimePoint t = kT0 + std::chrono::seconds(20 * round);
      for (uint16_t i = 0; i < 3; ++i) {
        std::string name = "n" + std::to_string(i) + ".example";
        b.AddPacket(QueryPacket(t, kPodA, 51000, kDnsPod, Query(i, name.c_str())));
        b.AddPacket(ResponsePacket(t, kPodA, 51000, kDnsPod, Answer(i, name.c_str(), kDnsTypeA, {})));
      }
      for (const json::object& r : b.Flush(t + 15s)) ids.emplace_back(r.at("id").as_string());
    }
    return ids;
  };
  std::vector<std::string> a = run("node-1");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a, run("node-1"));
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 6u);
  std::vector<std::string> other = run("node-2");
  for (const std::string& id : other) EXPECT_EQ(std::count(a.begin(), a.end(), id), 0) << id;
}

TEST(DnsLogsTest, PendingQueriesAreBounded) {
  DnsLogOptions o;
  o.max_pending = 2;
  DnsLogBuilder b(o);
  for (uint16_t i = 0; i < 5; ++i) {
    b.AddPacket(QueryPacket(kT0, kPodA, 52000, kDnsPod, Query(i, "flood.example")));
  }
  EXPECT_EQ(b.pending_queries(), 2u);
  EXPECT_EQ(b.stats().pending_overflow, 3u);
  std::vector<json::object> recs = b.Flush(kT0 + 1s);  // the overflowed ones, at once
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("count").to_number<int64_t>(), 3);
  EXPECT_EQ(Str(recs[0].at("rcode")), "NoResponse");
  EXPECT_EQ(Str(recs[0].at("client_name")), "-");  // no lookup: an address
  recs = b.Flush(kT0 + 10s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].at("count").to_number<int64_t>(), 2);
  EXPECT_EQ(b.stats().unanswered, 5u);
}

}  // namespace
}  // namespace tw::flowlog
