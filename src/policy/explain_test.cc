// Explain on a hand-built Program: query resolution and its errors, the
// JSON form (round trip) and the text people read.
#include "policy/explain.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace tw::policy {
namespace {

namespace json = boost::json;

net::IpAddr Ip(std::string_view text) { return *net::IpAddr::Parse(text); }

net::CidrSet Nets(std::initializer_list<std::string_view> texts) {
  net::CidrSet::Builder b;
  for (std::string_view t : texts) b.AddText(t);
  return b.Build();
}

Rule MakeRule(Action action, uint16_t index) {
  Rule r;
  r.action = action;
  r.index = index;
  return r;
}

// default/tf-ubuntu (10.244.0.2): egress through tier security -- a staged
// policy denying TCP 22, then security.block-snort (Deny to the snort set,
// else Pass) -- then its profile.
// default/web (10.244.0.3, fd00::3): ingress in tier default --
// default.allow-web logs everything (rule 0) and allows TCP 80 (rule 1);
// end-of-tier deny.
// default/bad (10.244.0.9): in the snort set, no policy.
// prod/db: no IP yet.  default/v6only (fd00::4): no policy.
Program TestProgram() {
  Program p;
  p.sets.push_back({0, "threatfeed == \"snort\"", Nets({"5.196.58.96", "5.188.10.0/23", "10.244.0.9"})});

  Policy staged{"staged:security.no-ssh", "security", true, Direction::kEgress, {}};
  Rule ssh = MakeRule(Action::kDeny, 0);
  ssh.match.protocol = 6;
  ssh.match.dst.ports = {{22, 22}};
  ssh.match.dst.ports_present = true;
  staged.rules.push_back(ssh);
  p.policies.push_back(staged);  // 0

  Policy snort{"security.block-snort", "security", false, Direction::kEgress, {}};
  Rule deny = MakeRule(Action::kDeny, 0);
  deny.match.dst.set = 0;
  snort.rules.push_back(deny);
  snort.rules.push_back(MakeRule(Action::kPass, 1));
  p.policies.push_back(snort);  // 1

  Policy web{"default.allow-web", "default", false, Direction::kIngress, {}};
  web.rules.push_back(MakeRule(Action::kLog, 0));
  Rule http = MakeRule(Action::kAllow, 1);
  http.match.protocol = 6;
  http.match.dst.ports = {{80, 80}};
  http.match.dst.ports_present = true;
  web.rules.push_back(http);
  p.policies.push_back(web);  // 2

  EndpointProgram tf{"default", "tf-ubuntu", "tw0001", {Ip("10.244.0.2")}, {}, {}};
  tf.egress.push_back(TierStep{"security", {0, 1}, true, "DPE|security"});
  p.endpoints["tw0001"] = tf;
  EndpointProgram w{"default", "web", "tw0002", {Ip("10.244.0.3"), Ip("fd00::3")}, {}, {}};
  w.ingress.push_back(TierStep{"default", {2}, true, "DPI|default"});
  p.endpoints["tw0002"] = w;
  p.endpoints["tw0003"] = EndpointProgram{"default", "bad", "tw0003", {Ip("10.244.0.9")}, {}, {}};
  p.endpoints["tw0004"] = EndpointProgram{"prod", "db", "tw0004", {}, {}, {}};
  p.endpoints["tw0005"] = EndpointProgram{"default", "v6only", "tw0005", {Ip("fd00::4")}, {}, {}};
  return p;
}

ExplainQuery Q(std::string from, std::string to, std::optional<uint16_t> port = 80, std::string protocol = "TCP") {
  ExplainQuery q;
  q.from = std::move(from);
  q.to = std::move(to);
  q.port = port;
  q.protocol = std::move(protocol);
  return q;
}

ExplainResult MustExplain(const ExplainQuery& q) {
  auto r = Explain(TestProgram(), q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ExplainResult{};
}

TEST(ExplainTest, DenyToAFeedAddressAtEgress) {
  ExplainResult r = MustExplain(Q("tf-ubuntu", "5.196.58.96", 443));
  EXPECT_FALSE(r.verdict.allowed);
  EXPECT_EQ(r.from_endpoint, "default/tf-ubuntu");
  EXPECT_EQ(r.to_endpoint, "");
  EXPECT_EQ(r.flow.src, Ip("10.244.0.2"));
  EXPECT_EQ(r.flow.dst, Ip("5.196.58.96"));
  EXPECT_EQ(r.flow.protocol, 6);
  EXPECT_EQ(r.flow.src_port, 0);
  EXPECT_EQ(r.flow.dst_port, 443);
  EXPECT_EQ(RenderExplain(r),
            "FROM     default/tf-ubuntu (10.244.0.2)\n"
            "TO       5.196.58.96 (outside the cluster)\n"
            "FLOW     TCP 10.244.0.2 -> 5.196.58.96:443\n"
            "\n"
            "egress at default/tf-ubuntu\n"
            "  tier security   policy security.block-snort   rule 0 (Deny)   -> deny\n"
            "\n"
            "VERDICT  deny (egress, security.block-snort rule 0)\n");
}

TEST(ExplainTest, AllowedPodToPodShowsPassProfileLogAndAllow) {
  ExplainResult r = MustExplain(Q("tf-ubuntu", "web", 80));
  EXPECT_TRUE(r.verdict.allowed);
  EXPECT_EQ(r.to_endpoint, "default/web");
  EXPECT_EQ(r.flow.dst, Ip("10.244.0.3"));  // IPv4 first
  EXPECT_EQ(RenderExplain(r),
            "FROM     default/tf-ubuntu (10.244.0.2)\n"
            "TO       default/web (10.244.0.3)\n"
            "FLOW     TCP 10.244.0.2 -> 10.244.0.3:80\n"
            "\n"
            "egress at default/tf-ubuntu\n"
            "  tier security         policy security.block-snort   rule 1 (Pass)    -> pass to the next tier\n"
            "  profile kns.default                                                  -> allow\n"
            "\n"
            "ingress at default/web\n"
            "  tier default          policy default.allow-web      rule 0 (Log)     -> log, continue\n"
            "  tier default          policy default.allow-web      rule 1 (Allow)   -> allow\n"
            "\n"
            "VERDICT  allow (egress, profile kns.default; ingress, default.allow-web rule 1)\n");
}

TEST(ExplainTest, StagedStepAndEndOfTierDenyAtIngress) {
  ExplainResult r = MustExplain(Q("default/tf-ubuntu", "web", 22));
  EXPECT_FALSE(r.verdict.allowed);
  std::string text = RenderExplain(r);
  EXPECT_NE(text.find("  tier security         policy staged:security.no-ssh   rule 0 (Deny)     "
                      "-> deny (staged, does not enforce)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  tier default          end of tier                     no rule matched   -> deny\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("VERDICT  deny (ingress, end of tier default)\n"), std::string::npos) << text;
}

TEST(ExplainTest, IngressNotReachedWhenEgressDenies) {
  ExplainResult r = MustExplain(Q("tf-ubuntu", "bad", 80));
  EXPECT_FALSE(r.verdict.allowed);
  std::string text = RenderExplain(r);
  EXPECT_NE(text.find("\ningress at default/bad: not reached (denied at egress)\n"), std::string::npos) << text;
}

TEST(ExplainTest, NoPolicyAndNoPod) {
  ExplainResult r = MustExplain(Q("bad", "1.1.1.1", 53, "udp"));
  EXPECT_TRUE(r.verdict.allowed);
  EXPECT_NE(RenderExplain(r).find("  profile kns.default   -> allow (no policy applies)\n"), std::string::npos)
      << RenderExplain(r);

  r = MustExplain(Q("1.1.1.1", "8.8.8.8", 53, "UDP"));
  EXPECT_TRUE(r.verdict.allowed);
  EXPECT_TRUE(r.verdict.path.empty());
  EXPECT_EQ(RenderExplain(r),
            "FROM     1.1.1.1 (outside the cluster)\n"
            "TO       8.8.8.8 (outside the cluster)\n"
            "FLOW     UDP 1.1.1.1 -> 8.8.8.8:53\n"
            "\n"
            "VERDICT  allow (no pod of this node is involved; threatwall enforces at pods only)\n");
}

TEST(ExplainTest, AddressesOfPodsArePods) {
  ExplainResult r = MustExplain(Q("10.244.0.2", "10.244.0.3", std::nullopt, "ICMP"));
  EXPECT_EQ(r.from_endpoint, "default/tf-ubuntu");
  EXPECT_EQ(r.to_endpoint, "default/web");

  ExplainQuery q = Q("v6only", "web", std::nullopt, "icmpv6");
  q.icmp_type = 128;
  q.icmp_code = 0;
  r = MustExplain(q);
  EXPECT_EQ(r.flow.src, Ip("fd00::4"));
  EXPECT_EQ(r.flow.dst, Ip("fd00::3"));  // the family both have
  EXPECT_EQ(r.flow.protocol, 58);
  EXPECT_NE(RenderExplain(r).find("FLOW     ICMPv6 fd00::4 -> fd00::3 type 128 code 0\n"), std::string::npos);

  r = MustExplain(Q("v6only", "web", 443));
  EXPECT_NE(RenderExplain(r).find("FLOW     TCP fd00::4 -> [fd00::3]:443\n"), std::string::npos);
}

TEST(ExplainTest, NamespaceDefaultsAndNsSlashName) {
  ExplainQuery q = Q("db", "web");
  q.from_ns = "prod";
  auto r = Explain(TestProgram(), q);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable());
  EXPECT_EQ(r.error().message(), "--from db: pod prod/db has no IP yet");

  r = Explain(TestProgram(), Q("tf-ubuntu", "prod/db"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "--to prod/db: pod prod/db has no IP yet");

  q = Q("web", "tf-ubuntu");
  q.to_ns = "prod";
  r = Explain(TestProgram(), q);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().message(), "--to tf-ubuntu: no pod prod/tf-ubuntu");
}

TEST(ExplainTest, ErrorsNameTheArgument) {
  struct Case {
    ExplainQuery q;
    std::string message;
  };
  auto with = [](ExplainQuery q, auto&& edit) {
    edit(q);
    return q;
  };
  std::vector<Case> cases = {
      {Q("web", "nope"), "--to nope: no pod default/nope"},
      {Q("", "web"), "--from: required (a pod name, NS/NAME or an IP address)"},
      {Q("web", " "), "--to: required (a pod name, NS/NAME or an IP address)"},
      {Q("a/b/c", "web"), "--from a/b/c: expected a pod name, NS/NAME or an IP address"},
      {Q("/web", "web"), "--from /web: expected a pod name, NS/NAME or an IP address"},
      {Q("web", "tf-ubuntu", 80, "GRE"), "--protocol GRE: must be TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or 1-255"},
      {Q("web", "tf-ubuntu", 80, "256"), "--protocol 256: must be TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6 or 1-255"},
      {Q("web", "tf-ubuntu", std::nullopt), "--port: required for protocol TCP (the destination port)"},
      {Q("web", "tf-ubuntu", 0), "--port 0: must be 1-65535"},
      {Q("web", "tf-ubuntu", 80, "ICMP"), "--port: protocol ICMP has no ports"},
      {with(Q("web", "tf-ubuntu"), [](ExplainQuery& q) { q.icmp_type = 8; }),
       "--icmp-type: only with protocol ICMP or ICMPv6, not TCP"},
      {with(Q("web", "tf-ubuntu", std::nullopt, "ICMP"), [](ExplainQuery& q) { q.icmp_code = 0; }),
       "--icmp-code: needs --icmp-type"},
      {Q("tf-ubuntu", "2001:db8::1"), "--from tf-ubuntu: pod default/tf-ubuntu has no IPv6 address "
                                      "(--to 2001:db8::1 is IPv6)"},
      {Q("tf-ubuntu", "v6only"), "--from tf-ubuntu and --to v6only: pods default/tf-ubuntu and default/v6only "
                                 "have no address family in common"},
      {Q("1.2.3.4", "2001:db8::1"), "--from 1.2.3.4 and --to 2001:db8::1: one is IPv4 and the other IPv6"},
      {Q("v6only", "web", std::nullopt, "ICMP"), "--protocol ICMP: the addresses are IPv6 (use ICMPv6)"},
      {Q("tf-ubuntu", "web", std::nullopt, "ICMPv6"), "--protocol ICMPv6: the addresses are IPv4 (use ICMP)"},
  };
  for (const Case& c : cases) {
    auto r = Explain(TestProgram(), c.q);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.error().message(), c.message);
  }
}

TEST(ExplainTest, ProtocolNamesAndNumbers) {
  EXPECT_EQ(*ParseExplainProtocol("tcp"), 6);
  EXPECT_EQ(*ParseExplainProtocol("UDPLite"), 136);
  EXPECT_EQ(*ParseExplainProtocol("icmp"), 1);
  EXPECT_EQ(*ParseExplainProtocol("47"), 47);
  EXPECT_FALSE(ParseExplainProtocol("0").ok());
  EXPECT_FALSE(ParseExplainProtocol("").ok());
  EXPECT_EQ(ProtocolName(47), "47");
  EXPECT_EQ(ProtocolName(132), "SCTP");
  ExplainResult r = MustExplain(Q("tf-ubuntu", "1.1.1.1", std::nullopt, "47"));
  EXPECT_NE(RenderExplain(r).find("FLOW     protocol 47 10.244.0.2 -> 1.1.1.1\n"), std::string::npos);
}

TEST(ExplainTest, JsonFieldsAreStable) {
  ExplainResult r = MustExplain(Q("tf-ubuntu", "5.196.58.96", 443));
  EXPECT_EQ(json::serialize(ExplainToJson(r)),
            R"({"apiVersion":"threatwall.io/v1","kind":"Explanation","from":"default/tf-ubuntu","to":"",)"
            R"("flow":{"protocol":"TCP","srcIP":"10.244.0.2","dstIP":"5.196.58.96","srcPort":0,"dstPort":443},)"
            R"("allowed":false,"verdict":"deny","path":[{"direction":"egress","endpoint":"default/tf-ubuntu",)"
            R"("tier":"security","policy":"security.block-snort","rule":0,"action":"Deny","staged":false,)"
            R"("what":"rule 0: Deny"}]})");
}

TEST(ExplainTest, JsonRoundTrip) {
  ExplainQuery icmp = Q("v6only", "web", std::nullopt, "ICMPv6");
  icmp.icmp_type = 128;
  icmp.icmp_code = 3;
  for (const ExplainQuery& q : {Q("tf-ubuntu", "5.196.58.96", 443), Q("tf-ubuntu", "web", 80),
                                Q("tf-ubuntu", "web", 22), Q("1.1.1.1", "8.8.8.8", 53, "udp"), icmp}) {
    ExplainResult r = MustExplain(q);
    json::value j = ExplainToJson(r);
    auto back = ExplainFromJson(json::parse(json::serialize(j)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(ExplainToJson(*back), j);
    EXPECT_EQ(RenderExplain(*back), RenderExplain(r));
    EXPECT_EQ(back->flow.icmp_type, r.flow.icmp_type);
    EXPECT_EQ(back->verdict.path.size(), r.verdict.path.size());
  }
}

TEST(ExplainTest, JsonErrorsNameTheField) {
  json::value good = ExplainToJson(MustExplain(Q("tf-ubuntu", "web", 22)));
  auto broken = [&](auto&& edit) {
    json::value v = good;
    edit(v.as_object());
    auto r = ExplainFromJson(v);
    return r.ok() ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(broken([](json::object& o) { o.erase("from"); }), "explanation: from: missing");
  EXPECT_EQ(broken([](json::object& o) { o["kind"] = "Pod"; }), "explanation: kind: must be Explanation");
  EXPECT_EQ(broken([](json::object& o) { o["flow"].as_object()["dstPort"] = 70000; }),
            "explanation: flow.dstPort: must be an integer 0..65535");
  EXPECT_EQ(broken([](json::object& o) { o["flow"].as_object()["srcIP"] = "x"; }).substr(0, 28),
            "explanation: flow.srcIP: 'x'");
  EXPECT_EQ(broken([](json::object& o) { o["path"].as_array()[1].as_object()["action"] = "Drop"; }),
            "explanation: path[1].action: 'Drop' is not Allow, Deny, Pass or Log");
  EXPECT_EQ(broken([](json::object& o) { o["path"] = 1; }), "explanation: path: must be a list");
  EXPECT_EQ(broken([](json::object& o) { o["unknown"] = 1; }), "ok");
  EXPECT_FALSE(ExplainFromJson(json::value("x")).ok());
}

}  // namespace
}  // namespace tw::policy
