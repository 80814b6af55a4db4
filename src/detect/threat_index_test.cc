#include "detect/threat_index.h"

#include <gtest/gtest.h>

namespace tw::detect {
namespace {

using feeds::Content;

net::IpAddr Ip(std::string_view text) { return net::IpAddr::Parse(text).value(); }

std::vector<std::string> Domains(const FeedSet& set) {
  std::vector<std::string> out;
  for (size_t i = 0; i < set.domain_count(); ++i) out.emplace_back(set.domain(i));
  return out;
}

TEST(CanonicalDomainTest, LowerCaseDotsAndPunycode) {
  EXPECT_EQ(CanonicalDomain("WWW.Evil.COM."), "www.evil.com");
  EXPECT_EQ(CanonicalDomain("..a...b.."), "a.b");
  EXPECT_EQ(CanonicalDomain(""), "");
  // As the feed normaliser stores names: an xn-- label that decodes to
  // nothing stays, so a listed "xn--.evil.com" matches a query for it.
  EXPECT_EQ(CanonicalDomain("XN--.Evil.COM"), "xn--.evil.com");
  EXPECT_EQ(CanonicalDomain("XN--.Evil.COM"), feeds::NormalizeDomain("xn--.evil.com").name);
  EXPECT_EQ(CanonicalDomain("xn--bcher-kva.example"), "bücher.example");
  EXPECT_EQ(CanonicalDomain("xn--!!.example"), "xn--!!.example");  // does not decode: kept
}

TEST(FeedSetTest, IpEntriesParseAndSkipBadLines) {
  auto set = FeedSet::FromEntries("snort", Content::kIPSet, "5.196.58.96/32\n10.0.0.0/8\nnot-an-ip\n\n2001:db8::/32\n");
  EXPECT_EQ(set->skipped(), 1u);
  EXPECT_EQ(set->entry_count(), 3u);
  EXPECT_EQ(set->PrefixOf(Ip("10.1.2.3"))->ToString(), "10.0.0.0/8");
  EXPECT_EQ(set->PrefixOf(Ip("2001:db8::1"))->ToString(), "2001:db8::/32");
  EXPECT_EQ(set->PrefixOf(Ip("5.196.58.96"))->ToString(), "5.196.58.96/32");
  EXPECT_FALSE(set->PrefixOf(Ip("5.196.58.97")));
}

TEST(FeedSetTest, DomainsSortedAndUnique) {
  auto set = FeedSet::FromEntries("d", Content::kDomainNameSet, "b.com\na.com\nb.com\n\nc.com");
  EXPECT_EQ(Domains(*set), (std::vector<std::string>{"a.com", "b.com", "c.com"}));
  auto sorted = FeedSet::FromEntries("d", Content::kDomainNameSet, "a.com\nb.com\n");
  EXPECT_EQ(Domains(*sorted), (std::vector<std::string>{"a.com", "b.com"}));
}

TEST(FeedSetTest, GainedSince) {
  auto v1 = FeedSet::FromEntries("f", Content::kIPSet, "1.1.1.0/24\n2.2.2.2/32\n");
  auto v2 = FeedSet::FromEntries("f", Content::kIPSet, "1.1.1.0/25\n3.3.3.3/32\n");
  auto gained = v2->GainedSince(v1.get());
  EXPECT_EQ(gained->ips().ToText(false), "3.3.3.3/32\n");
  EXPECT_TRUE(v1->GainedSince(v1.get())->empty());
  EXPECT_EQ(v2->GainedSince(nullptr).get(), v2.get());  // everything, shared

  auto d1 = FeedSet::FromDomains("d", {"a.com", "c.com"});
  auto d2 = FeedSet::FromDomains("d", {"a.com", "b.com", "d.com"});
  EXPECT_EQ(Domains(*d2->GainedSince(d1.get())), (std::vector<std::string>{"b.com", "d.com"}));
  EXPECT_EQ(Domains(*d1->GainedSince(d2.get())), (std::vector<std::string>{"c.com"}));
}

TEST(ThreatIndexTest, IpFeedsNamedInOrderWithMostSpecificPrefix) {
  auto index = ThreatIndex::Build({
      {FeedSet::FromEntries("zeta", Content::kIPSet, "5.196.0.0/16\n"), false},
      {FeedSet::FromEntries("snort", Content::kIPSet, "5.196.58.96/32\n8.8.8.8/32\n"), false},
      {FeedSet::FromEntries("empty", Content::kIPSet, ""), false},
  });
  EXPECT_EQ(index->feed_names(), (std::vector<std::string>{"snort", "zeta"}));
  IpMatch m = index->MatchIp(Ip("5.196.58.96"));
  EXPECT_EQ(index->NamesOf(m.feeds), (std::vector<std::string>{"snort", "zeta"}));
  EXPECT_EQ(m.prefix->ToString(), "5.196.58.96/32");
  m = index->MatchIp(Ip("5.196.1.1"));
  EXPECT_EQ(index->NamesOf(m.feeds), (std::vector<std::string>{"zeta"}));
  EXPECT_EQ(m.prefix->ToString(), "5.196.0.0/16");
  EXPECT_TRUE(index->MatchIp(Ip("9.9.9.9")).feeds.empty());
  EXPECT_FALSE(index->ContainsIp(Ip("9.9.9.9")));

  std::vector<uint32_t> keys = {0x05C43A60, 0x09090909, 0x08080808};
  std::vector<uint8_t> out(keys.size());
  index->ContainsBatchV4(keys, out);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(index->ip_prefix_count(), 3u);
}

TEST(ThreatIndexTest, DomainsExactAndSubdomainsOnlyWhenAsked) {
  auto index = ThreatIndex::Build({
      {FeedSet::FromDomains("exact", {"evil.com", "bad.org"}), false},
      {FeedSet::FromDomains("subs", {"evil.com", "tracker.net"}), true},
  });
  auto names = [&](std::string_view q) { return index->NamesOf(index->MatchDomain(q)); };
  EXPECT_EQ(names("evil.com"), (std::vector<std::string>{"exact", "subs"}));
  EXPECT_EQ(names("a.b.evil.com"), (std::vector<std::string>{"subs"}));
  EXPECT_EQ(names("x.bad.org"), (std::vector<std::string>{}));
  EXPECT_EQ(names("bad.org"), (std::vector<std::string>{"exact"}));
  EXPECT_EQ(names("cdn.tracker.net"), (std::vector<std::string>{"subs"}));
  EXPECT_EQ(names("notevil.com"), (std::vector<std::string>{}));
  EXPECT_EQ(names("com"), (std::vector<std::string>{}));
  EXPECT_EQ(index->domain_count(), 3u);
  EXPECT_FALSE(index->has_ip_feeds());
  EXPECT_TRUE(index->has_domain_feeds());
}

TEST(ThreatIndexTest, ManyDomainsAllFound) {
  std::vector<std::string> a, b;
  for (int i = 0; i < 20000; ++i) (i % 3 ? a : b).push_back("host" + std::to_string(i) + ".example");
  for (int i = 0; i < 20000; i += 7) b.push_back("host" + std::to_string(i) + ".example");  // some in both
  auto index = ThreatIndex::Build({{FeedSet::FromDomains("a", a), false}, {FeedSet::FromDomains("b", b), false}});
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> expected;
    if (i % 3) expected.push_back("a");
    if (i % 3 == 0 || i % 7 == 0) expected.push_back("b");
    ASSERT_EQ(index->NamesOf(index->MatchDomain("host" + std::to_string(i) + ".example")), expected) << i;
  }
  EXPECT_TRUE(index->MatchDomain("host20000.example").empty());
}

TEST(ThreatIndexTest, EmptyIndexMatchesNothing) {
  auto index = ThreatIndex::Empty();
  EXPECT_FALSE(index->ContainsIp(Ip("1.2.3.4")));
  EXPECT_TRUE(index->MatchDomain("a.com").empty());
  std::vector<uint32_t> keys = {1, 2};
  std::vector<uint8_t> out(2, 7);
  index->ContainsBatchV4(keys, out);
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 0}));
}

}  // namespace
}  // namespace tw::detect
