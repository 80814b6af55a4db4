#include "net/ip_addr.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/strings.h"
#include "net/cidr.h"

namespace tw::net {
namespace {

struct ParseCase {
  int line;
  std::string input;
  bool ok;
  std::string expected;  // canonical text, or a substring of the error
};

// Reads "INPUT<TAB>ok X" / "INPUT<TAB>err X" lines; "<SP>" is a space.
std::vector<ParseCase> ReadCases(const std::string& name) {
  std::ifstream in(std::string(TW_SOURCE_DIR) + "/testdata/net/" + name);
  EXPECT_TRUE(in) << name;
  std::vector<ParseCase> cases;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << name << ":" << n;
    if (tab == std::string::npos) continue;
    ParseCase c{n, line.substr(0, tab), false, ""};
    for (size_t p; (p = c.input.find("<SP>")) != std::string::npos;) c.input.replace(p, 4, " ");
    std::string rest = line.substr(tab + 1);
    if (rest.starts_with("ok ")) {
      c.ok = true;
      c.expected = rest.substr(3);
    } else {
      EXPECT_TRUE(rest.starts_with("err ")) << name << ":" << n;
      c.expected = rest.substr(4);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(NetIpAddr, TableCases) {
  auto cases = ReadCases("addresses.txt");
  ASSERT_GT(cases.size(), 50u);
  for (const ParseCase& c : cases) {
    SCOPED_TRACE("addresses.txt:" + std::to_string(c.line) + " '" + c.input + "'");
    Result<IpAddr> r = IpAddr::Parse(c.input);
    if (c.ok) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->ToString(), c.expected);
      // The canonical form parses back to the same value.
      Result<IpAddr> again = IpAddr::Parse(r->ToString());
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *r);
    } else {
      ASSERT_FALSE(r.ok()) << "parsed as " << r->ToString();
      EXPECT_TRUE(r.error().IsInvalidArgument());
      EXPECT_NE(r.error().message().find(c.expected), std::string::npos) << r.error().message();
      EXPECT_TRUE(r.error().message().starts_with("'" + c.input + "': ")) << r.error().message();
    }
  }
}

TEST(NetCidr, TableCases) {
  auto cases = ReadCases("cidrs.txt");
  ASSERT_GT(cases.size(), 30u);
  for (const ParseCase& c : cases) {
    SCOPED_TRACE("cidrs.txt:" + std::to_string(c.line) + " '" + c.input + "'");
    Result<Cidr> r = Cidr::Parse(c.input);
    if (c.ok) {
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->ToString(), c.expected);
      Result<Cidr> again = Cidr::Parse(r->ToString());
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *r);
    } else {
      ASSERT_FALSE(r.ok()) << "parsed as " << r->ToString();
      EXPECT_NE(r.error().message().find(c.expected), std::string::npos) << r.error().message();
    }
  }
}

TEST(NetIpAddr, FamilyAndOrder) {
  IpAddr v4 = *IpAddr::Parse("255.255.255.255");
  IpAddr v6 = *IpAddr::Parse("::");
  EXPECT_TRUE(v4.is_v4());
  EXPECT_EQ(v4.v4(), 0xffffffffu);
  EXPECT_TRUE(v6.is_v6());
  EXPECT_LT(v4, v6);  // every IPv4 before every IPv6
  EXPECT_NE(IpAddr::V4(1), IpAddr::V6(1));
}

TEST(NetIpAddr, Rfc5952RoundTripOnEveryZeroPattern) {
  // Every pattern of zero / non-zero groups formats to a text that parses
  // back to the same address and never has more than one "::".
  for (int mask = 0; mask < 256; ++mask) {
    Uint128 bits = 0;
    for (int g = 0; g < 8; ++g) bits = (bits << 16) | ((mask >> g) & 1 ? 0xab0 + g : 0);
    IpAddr a = IpAddr::V6(bits);
    std::string text = a.ToString();
    SCOPED_TRACE(text);
    EXPECT_LE(text.size(), IpAddr::kMaxTextLen);
    size_t first = text.find("::");
    if (first != std::string::npos) {
      EXPECT_EQ(text.find("::", first + 1), std::string::npos);
    }
    IpAddr back;
    ASSERT_EQ(TryParseIpAddr(text, &back), ParseError::kOk);
    if ((bits >> 32) == 0xffff) continue;  // would read back as IPv4
    EXPECT_EQ(back, a);
  }
}

TEST(NetCidr, ContainsAndBounds) {
  Cidr c = *Cidr::Parse("192.168.1.77/27");
  EXPECT_EQ(c.first(), 0xc0a80140u);
  EXPECT_EQ(c.last(), 0xc0a8015fu);
  EXPECT_TRUE(c.Contains(*IpAddr::Parse("192.168.1.95")));
  EXPECT_FALSE(c.Contains(*IpAddr::Parse("192.168.1.96")));
  EXPECT_TRUE(c.Contains(*IpAddr::Parse("::ffff:c0a8:140")));  // mapped = IPv4
  EXPECT_FALSE(c.Contains(*IpAddr::Parse("::c0a8:140")));       // other family
  Cidr all6 = *Cidr::Parse("::/0");
  EXPECT_EQ(all6.last(), ~Uint128{0});
  char buf[Cidr::kMaxTextLen];
  Cidr host = *Cidr::Parse("1.2.3.4");
  EXPECT_EQ(std::string(buf, host.FormatCompactTo(buf)), "1.2.3.4");
  EXPECT_EQ(std::string(buf, host.FormatTo(buf)), "1.2.3.4/32");
}

}  // namespace
}  // namespace tw::net
