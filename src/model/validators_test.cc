#include "model/validators.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/strings.h"

namespace tw::model {
namespace {

TEST(ModelValidators, GoDurationTable) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/admit/durations.txt");
  ASSERT_TRUE(in) << "missing testdata/admit/durations.txt";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    std::string input = line.substr(0, tab), want = line.substr(tab + 1);
    if (input == "<empty>") input.clear();
    auto got = ParseGoDuration(input);
    if (want.starts_with("error: ")) {
      ASSERT_FALSE(got.ok()) << input << " parsed as " << *got;
      EXPECT_EQ(got.error().message(), want.substr(7)) << input;
    } else {
      ASSERT_TRUE(got.ok()) << input << ": " << got.error().message();
      EXPECT_EQ(*got, std::stoll(want)) << input;
    }
    ++cases;
  }
  EXPECT_GE(cases, 50);
}

TEST(ModelValidators, Dns1123) {
  EXPECT_EQ(CheckDns1123Label("a"), "");
  EXPECT_EQ(CheckDns1123Label("123-abc"), "");
  EXPECT_EQ(CheckDns1123Label(std::string(63, 'a')), "");
  EXPECT_EQ(CheckDns1123Label(std::string(64, 'a')), "must be no more than 63 characters");
  EXPECT_NE(CheckDns1123Label("a.b"), "");
  EXPECT_NE(CheckDns1123Label("-a"), "");
  EXPECT_NE(CheckDns1123Label(""), "");
  EXPECT_EQ(CheckDns1123Subdomain("a.b-c.d"), "");
  EXPECT_NE(CheckDns1123Subdomain("a..b"), "");
  EXPECT_NE(CheckDns1123Subdomain("a.-b"), "");
  EXPECT_NE(CheckDns1123Subdomain("A"), "");
  EXPECT_EQ(CheckDns1123Subdomain(std::string(254, 'a')), "must be no more than 253 characters");
}

TEST(ModelValidators, QualifiedNamesAndLabelValues) {
  for (auto ok : {"a", "A_b.c-D", "example.com/x", "app.kubernetes.io/name", "1"})
    EXPECT_EQ(CheckQualifiedName(ok), "") << ok;
  EXPECT_EQ(CheckQualifiedName("/x"), "prefix part must be non-empty");
  EXPECT_EQ(CheckQualifiedName("example.com/"), "name part must be non-empty");
  EXPECT_NE(CheckQualifiedName("_x"), "");
  EXPECT_NE(CheckQualifiedName("a b"), "");
  EXPECT_NE(CheckQualifiedName(std::string(254, 'a') + "/x"), "");
  EXPECT_EQ(CheckLabelValue(""), "");
  EXPECT_EQ(CheckLabelValue("v1.2_3-x"), "");
  EXPECT_NE(CheckLabelValue("-x"), "");
  EXPECT_NE(CheckLabelValue("a/b"), "");
}

TEST(ModelValidators, OtherKubernetesNames) {
  EXPECT_EQ(CheckConfigMapKey("tls.crt"), "");
  EXPECT_EQ(CheckConfigMapKey(".dockerconfigjson"), "");
  EXPECT_EQ(CheckConfigMapKey("."), "must not be '.'");
  EXPECT_EQ(CheckConfigMapKey("..a"), "must not start with '..'");
  EXPECT_NE(CheckConfigMapKey(""), "");
  EXPECT_EQ(CheckIanaSvcName("http"), "");
  EXPECT_EQ(CheckIanaSvcName("h2-c"), "");
  EXPECT_EQ(CheckIanaSvcName("a--b"), "must not contain consecutive hyphens");
  EXPECT_EQ(CheckIanaSvcName("123"), "must contain at least one letter (a-z)");
  EXPECT_EQ(CheckIanaSvcName("-ab"), "must not begin or end with a hyphen");
  EXPECT_EQ(CheckEnvVarName("PATH"), "");
  EXPECT_EQ(CheckEnvVarName("my.var-1"), "");
  EXPECT_NE(CheckEnvVarName(""), "");
}

TEST(ModelValidators, CidrsAndAddresses) {
  auto v4 = ParseCidrOrIp("10.1.2.3");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, 4);
  EXPECT_EQ(v4->prefix_len, 32);
  EXPECT_FALSE(v4->has_prefix);
  auto v6 = ParseCidrOrIp("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, 6);
  EXPECT_EQ(v6->prefix_len, 32);
  EXPECT_TRUE(ParseCidrOrIp("::").ok());
  EXPECT_TRUE(ParseCidrOrIp("0.0.0.0/0").ok());
  EXPECT_TRUE(ParseCidrOrIp("::ffff:1.2.3.4").ok());
  for (auto bad : {"", "1.2.3", "1.2.3.4/", "1.2.3.4/33", "::/129", "1.2.3.4/-1", "1.2.3.04", "a.b.c.d",
                   "1.2.3.4 ", "1.2.3.4/8/8", "[::1]"})
    EXPECT_FALSE(ParseCidrOrIp(bad).ok()) << bad;
  EXPECT_FALSE(ParseCidr("1.2.3.4").ok());
  EXPECT_TRUE(ParseCidr("1.2.3.4/32").ok());
  EXPECT_TRUE(NetContains(*ParseCidr("10.0.0.0/8"), *ParseCidr("10.200.0.0/16")));
  EXPECT_TRUE(NetContains(*ParseCidr("10.0.0.0/9"), *ParseCidr("10.127.0.0/16")));
  EXPECT_FALSE(NetContains(*ParseCidr("10.0.0.0/9"), *ParseCidr("10.128.0.0/16")));
  EXPECT_FALSE(NetContains(*ParseCidr("10.0.0.0/16"), *ParseCidr("10.0.0.0/8")));
  EXPECT_FALSE(NetContains(*ParseCidr("::/0"), *ParseCidr("10.0.0.0/8")));
}

TEST(ModelValidators, ProtocolsAndPorts) {
  EXPECT_EQ(CanonicalProtocolName("tcp"), "TCP");
  EXPECT_EQ(CanonicalProtocolName("ICMPV6"), "ICMPv6");
  EXPECT_EQ(CanonicalProtocolName("udplite"), "UDPLite");
  EXPECT_EQ(CanonicalProtocolName("http"), std::nullopt);
  namespace json = boost::json;
  for (auto ok : {json::value(0), json::value(65535), json::value("80"), json::value("1:2"),
                  json::value("http_alt.x-1")})
    EXPECT_EQ(CheckCalicoPort(ok), "") << ok;
  for (auto bad : {json::value(-1), json::value(65536), json::value("2:1"), json::value(":"), json::value("1:"),
                   json::value("a b"), json::value(1.5), json::value("")})
    EXPECT_NE(CheckCalicoPort(bad), "") << bad;
  EXPECT_TRUE(IsNamedCalicoPort(json::value("http")));
  EXPECT_FALSE(IsNamedCalicoPort(json::value("80")));
  EXPECT_FALSE(IsNamedCalicoPort(json::value(80)));
}

TEST(ModelValidators, Urls) {
  EXPECT_EQ(CheckFeedUrl("https://snort.org/downloads/ip-block-list", false), "");
  EXPECT_EQ(CheckFeedUrl("HTTP://[::1]:8080/x", false), "");
  EXPECT_EQ(CheckFeedUrl("http://user:pw@host/x", false), "");
  EXPECT_EQ(CheckFeedUrl("file:///etc/feed", true), "");
  EXPECT_EQ(CheckFeedUrl("file://localhost/etc/feed", true), "");
  EXPECT_NE(CheckFeedUrl("file:///etc/feed", false), "");
  EXPECT_NE(CheckFeedUrl("file://etc/feed", true), "");
  EXPECT_NE(CheckFeedUrl("http://host:99999/", false), "");
  EXPECT_NE(CheckFeedUrl("http://", false), "");
  EXPECT_NE(CheckFeedUrl("mailto:x@y", true), "");
}

TEST(ModelValidators, WildcardDomains) {
  for (auto ok : {"example.com", "*.example.com", "a.*.example.com", "xn--bcher-kva.example", "localhost"})
    EXPECT_EQ(CheckWildcardDomain(ok), "") << ok;
  for (auto bad : {"", "*", "example.*", "a*.example.com", "*.*.com", "a..b", "-a.com", "a_b.com"})
    EXPECT_NE(CheckWildcardDomain(bad), "") << bad;
}

TEST(ModelValidators, Base64) {
  EXPECT_TRUE(IsValidBase64(""));
  EXPECT_TRUE(IsValidBase64("YWRtaW4="));
  EXPECT_TRUE(IsValidBase64("YQ=="));
  EXPECT_TRUE(IsValidBase64("YWJj\nZGVm"));
  EXPECT_FALSE(IsValidBase64("YQ="));
  EXPECT_FALSE(IsValidBase64("Y==="));
  EXPECT_FALSE(IsValidBase64("YQ=a"));
  EXPECT_FALSE(IsValidBase64("YW-t"));
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
  EXPECT_EQ(Base64Encode(std::string("\xff\x00\x10", 3)), "/wAQ");
  for (std::string s : {"x", "hello world", "\x01\x02\x03\x04"}) EXPECT_TRUE(IsValidBase64(Base64Encode(s)));
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "Bearer s3cr3t!", std::string("\xff\x00\x10", 3)})
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s) << s;
  EXPECT_EQ(Base64Decode("YWJj\nZGVm"), "abcdef");
  EXPECT_EQ(Base64Decode("YQ="), std::nullopt);
}

TEST(ModelValidators, Utf8Length) {
  EXPECT_EQ(Utf8Length(""), 0);
  EXPECT_EQ(Utf8Length("abc"), 3);
  EXPECT_EQ(Utf8Length("\xc2\xa7"), 1);
  EXPECT_EQ(Utf8Length("\xf0\x9f\x98\x80x"), 2);
  EXPECT_EQ(Utf8Length("\xc2"), -1);
  EXPECT_EQ(Utf8Length("\xc0\xaf"), -1);      // overlong
  EXPECT_EQ(Utf8Length("\xed\xa0\x80"), -1);  // surrogate
}

}  // namespace
}  // namespace tw::model
