#include "feeds/parse/domain.h"

#include <gtest/gtest.h>

namespace tw::feeds {
namespace {

TEST(FeedDomain, CanonicalForm) {
  EXPECT_EQ(NormalizeDomain("Example.COM").name, "example.com");
  EXPECT_EQ(NormalizeDomain("..a..b.com.").name, "a.b.com");
  EXPECT_EQ(NormalizeDomain("*.Portal.sharjahconnect.online").name, "portal.sharjahconnect.online");
  EXPECT_EQ(NormalizeDomain("*.cealk-my.sharepoint.com/o/g/personal/x").name, "cealk-my.sharepoint.com");
  EXPECT_EQ(NormalizeDomain("https://user@Evil.example:8443/path?q#f").name, "evil.example");
  EXPECT_EQ(NormalizeDomain("http://1.2.3.4:80/x").name, "1.2.3.4");
  EXPECT_EQ(NormalizeDomain("_dmarc.example.com").name, "_dmarc.example.com");
}

TEST(FeedDomain, IdnaToUnicode) {
  EXPECT_EQ(NormalizeDomain("xn--mnchen-3ya.de").name, "m\xC3\xBCnchen.de");
  EXPECT_EQ(NormalizeDomain("XN--BCHER-KVA.example").name, "b\xC3\xBC" "cher.example");
  EXPECT_EQ(PunycodeDecode("ihqwcrb4cv8a8dqg056pqjye"), std::optional<std::string>(
      "\xE4\xBB\x96\xE4\xBB\xAC\xE4\xB8\xBA\xE4\xBB\x80\xE4\xB9\x88\xE4\xB8\x8D\xE8\xAF\xB4\xE4\xB8\xAD"
      "\xE6\x96\x87"));  // RFC 3492 7.1 (B)
  // Bad punycode is kept as written (Calico's lenient ToUnicode).
  EXPECT_EQ(NormalizeDomain("xn--99999999999.com").name, "xn--99999999999.com");
  EXPECT_FALSE(PunycodeDecode("a!").has_value());
}

TEST(FeedDomain, Rejections) {
  for (std::string_view bad : {"", "   ", "user@example.com", "*abuse@example.com*", "plesk[.]page",
                               "hxxp://evil.example", "http://a.appspot.com\xE2\x80\xA6", "185,224,139,151",
                               "a b.com", "*evil.com", "...", "http://[::1]/"}) {
    DomainResult r = NormalizeDomain(bad);
    EXPECT_FALSE(r.ok()) << bad << " -> " << r.name;
    EXPECT_TRUE(r.name.empty());
  }
}

}  // namespace
}  // namespace tw::feeds
