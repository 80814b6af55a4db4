// Pure parts of the netlink dataplane: element encoding, batch layout,
// generation names, the chain-switch script, the fake.  No root, no socket.
#include "nft/netlink.h"

#include <gtest/gtest.h>

#include "nft/dataplane.h"
#include "nft/diff.h"
#include "nft/test_programs.h"

namespace tw::nft {
namespace {

net::IpAddr A(std::string_view text) { return net::IpAddr::Parse(text).value(); }

std::vector<uint8_t> Key(const ElementRecord& r) { return {r.key, r.key + r.key_len}; }

TEST(EncodeRangeTest, HashElementIsOneKeyInNetworkOrder) {
  ElementRecord rec[2];
  ASSERT_EQ(EncodeRange(A("10.1.2.3"), A("10.1.2.3"), false, rec), 1u);
  EXPECT_EQ(Key(rec[0]), (std::vector<uint8_t>{10, 1, 2, 3}));
  EXPECT_FALSE(rec[0].interval_end);
  EXPECT_FALSE(rec[0].open_end);
}

TEST(EncodeRangeTest, IntervalIsHalfOpenWithAnEndElement) {
  ElementRecord rec[2];
  ASSERT_EQ(EncodeRange(A("10.0.0.0"), A("10.0.255.255"), true, rec), 2u);
  EXPECT_EQ(Key(rec[0]), (std::vector<uint8_t>{10, 0, 0, 0}));
  EXPECT_FALSE(rec[0].interval_end);
  EXPECT_EQ(Key(rec[1]), (std::vector<uint8_t>{10, 1, 0, 0}));
  EXPECT_TRUE(rec[1].interval_end);
  // Carry across every byte.
  ASSERT_EQ(EncodeRange(A("1.0.0.0"), A("1.255.255.255"), true, rec), 2u);
  EXPECT_EQ(Key(rec[1]), (std::vector<uint8_t>{2, 0, 0, 0}));
}

TEST(EncodeRangeTest, TopAddressHasNoEndElementAndIsMarkedOpen) {
  ElementRecord rec[2];
  ASSERT_EQ(EncodeRange(A("255.255.255.0"), A("255.255.255.255"), true, rec), 1u);
  EXPECT_TRUE(rec[0].open_end);
  EXPECT_EQ(Key(rec[0]), (std::vector<uint8_t>{255, 255, 255, 0}));
  ASSERT_EQ(EncodeRange(A("ffff::"), A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), true, rec), 1u);
  EXPECT_TRUE(rec[0].open_end);
  EXPECT_EQ(rec[0].key_len, 16);
  // A single top address in a hash set is an ordinary element.
  ASSERT_EQ(EncodeRange(A("255.255.255.255"), A("255.255.255.255"), false, rec), 1u);
  EXPECT_FALSE(rec[0].open_end);
}

TEST(EncodeRangeTest, Ipv6EndCarriesIntoHigherWords) {
  ElementRecord rec[2];
  ASSERT_EQ(EncodeRange(A("2001:db8::"), A("2001:db8:0:0:ffff:ffff:ffff:ffff"), true, rec), 2u);
  std::vector<uint8_t> want(16, 0);
  want[0] = 0x20, want[1] = 0x01, want[2] = 0x0d, want[3] = 0xb8, want[7] = 1;
  EXPECT_EQ(Key(rec[1]), want);
}

TEST(ElementRecordBytesTest, MatchesTheAttributeLayout) {
  ElementRecord rec[2];
  EncodeRange(A("1.2.3.4"), A("1.2.3.4"), false, rec);
  EXPECT_EQ(ElementRecordBytes(rec[0]), 16u);  // elem nest 4 + key nest 4 + value 4+4
  EncodeRange(A("1.2.3.0"), A("1.2.3.255"), true, rec);
  EXPECT_EQ(ElementRecordBytes(rec[1]), 24u);  // + flags 8
  EncodeRange(A("2001:db8::1"), A("2001:db8::1"), false, rec);
  EXPECT_EQ(ElementRecordBytes(rec[0]), 28u);
  EncodeRange(A("255.0.0.0"), A("255.255.255.255"), true, rec);
  EXPECT_EQ(ElementRecordBytes(rec[0]), 28u);  // + user data 4+8
}

TEST(BatchPageBytesTest, GrowsSoPagesStayFew) {
  EXPECT_EQ(BatchPageBytes(0), size_t{1} << 20);
  EXPECT_EQ(BatchPageBytes(64u << 20), size_t{1} << 20);
  EXPECT_EQ(BatchPageBytes(640u << 20), size_t{10} << 20);
  // Simulate a 4 GiB batch: far below the kernel's 1024 iovecs.
  size_t total = 0, pages = 0;
  while (total < (size_t{4} << 30)) {
    total += BatchPageBytes(total) - kMaxMessageBytes;
    ++pages;
  }
  EXPECT_LT(pages, kMaxPages / 2);
}

TEST(TransactionTest, MillionElementFillSplitsIntoBoundedMessagesAndFewPages) {
  net::CidrSet::Builder b;
  for (uint32_t i = 0; i < 1000000; ++i) {
    uint32_t a = 0x01000000u + 2 * i;  // non-adjacent singles
    b.AddRange(net::IpAddr::V4(a), net::IpAddr::V4(a));
  }
  net::CidrSet set = b.Build();
  Transaction tx(100);
  tx.AddTable();
  tx.AddSet("s0h_g1", net::Family::kV4, false, 2000000);
  tx.AddElements("s0h_g1", set, net::Family::kV4, false);
  EXPECT_EQ(tx.elements(), 1000000u);
  EXPECT_LE(tx.largest_message(), kMaxMessageBytes);
  // 16 bytes per element, ~60 KiB per message.
  const size_t per_msg = (kMaxMessageBytes - 100) / 16;
  EXPECT_LE(tx.messages(), 2 + 1000000 / per_msg + 1);
  EXPECT_GE(tx.bytes(), 16u * 1000000);
  EXPECT_LE(tx.pages(), 20u);
  // The interval part of the same set is empty: nothing encoded.
  Transaction tx2(1);
  tx2.AddElements("s0i_g1", set, net::Family::kV4, true);
  EXPECT_EQ(tx2.messages(), 0u);
}

TEST(TransactionTest, IntervalElementsCountStartsAndEnds) {
  std::vector<Element> el = {{A("10.0.0.0"), A("10.0.0.255")},
                             {A("10.0.2.0"), A("10.0.2.0")},
                             {A("255.0.0.0"), A("255.255.255.255")}};
  Transaction tx(1);
  tx.DeleteElements("s0i_g1", el, true);
  EXPECT_EQ(tx.elements(), 5u);  // 2 + 2 + 1 (open)
  EXPECT_EQ(tx.messages(), 1u);
}

TEST(GenerationTest, SuffixRoundTrips) {
  EXPECT_EQ(GenerationSuffix(5), "_g5");
  EXPECT_EQ(SetGeneration("s3h_g5"), 5u);
  EXPECT_EQ(SetGeneration("s3i6_g12"), 12u);
  EXPECT_EQ(SetGeneration("s3h"), 0u);
  EXPECT_EQ(SetGeneration("s3h_g"), 0u);
  EXPECT_EQ(SetGeneration("s3h_gx1"), 0u);
  RenderOptions o;
  o.set_suffix = GenerationSuffix(7);
  policy::Program p = testing::SeedProgramForTest();
  Ruleset rs = BuildRuleset(p, o);
  ASSERT_FALSE(rs.sets.empty());
  for (const SetSpec& s : rs.sets) EXPECT_EQ(SetGeneration(s.name), 7u) << s.name;
  std::string text = RenderRuleset(rs, o);
  EXPECT_NE(text.find("@s0h_g7"), std::string::npos);
  EXPECT_EQ(text.find("@s0h "), std::string::npos);
}

TEST(RenderChainSwitchTest, FlushesEveryOldChainBeforeFillingAndDeletesLeftovers) {
  RenderOptions o;
  o.set_suffix = "_g2";
  policy::Program p = testing::SeedProgramForTest();
  Ruleset rs = BuildRuleset(p, o);
  std::string text = RenderChainSwitch(rs, {"forward", "fw-gone", "po-security.block-snort"}, {"s0h_g1", "s0i_g1"});
  const std::string t = "inet threatwall ";
  size_t flush_gone = text.find("flush chain " + t + "fw-gone\n");
  size_t delete_gone = text.find("delete chain " + t + "fw-gone\n");
  size_t first_rule = text.find("add rule ");
  size_t delete_set = text.find("delete set " + t + "s0h_g1\n");
  ASSERT_NE(flush_gone, std::string::npos);
  ASSERT_NE(delete_gone, std::string::npos);
  ASSERT_NE(first_rule, std::string::npos);
  ASSERT_NE(delete_set, std::string::npos);
  EXPECT_NE(text.find("flush chain " + t + "forward\n"), std::string::npos);
  EXPECT_LT(flush_gone, delete_gone);
  EXPECT_LT(delete_gone, first_rule);
  EXPECT_GT(delete_set, text.rfind("add rule "));
  EXPECT_EQ(text.find("add set"), std::string::npos) << "sets come by netlink";
  EXPECT_EQ(text.find("# "), std::string::npos) << "comments are not rules";
  EXPECT_NE(text.find("add chain " + t + "forward { type filter hook forward"), std::string::npos);
}

TEST(RenderChainDiffTest, IsRenderDiffWithoutTheSetParts) {
  policy::Program a = testing::SeedProgramForTest();
  policy::Program b = a;
  b.sets[0].members = testing::NetsForTest({"1.2.3.4", "10.0.0.0/8"});
  b.endpoints.erase("twbeef0002");
  Diff d = DiffPrograms(a, b, RenderOptions{});
  std::string chains = RenderChainDiff(d);
  EXPECT_EQ(chains.find("element"), std::string::npos);
  EXPECT_NE(chains.find("delete chain inet threatwall fw-twbeef0002"), std::string::npos);
  EXPECT_NE(RenderDiff(d).find(chains), std::string::npos);
}

TEST(FakeDataplaneTest, RecordsAppliesAndRemoves) {
  FakeDataplane fake;
  auto p = std::make_shared<const policy::Program>(testing::SeedProgramForTest());
  EXPECT_TRUE(fake.Apply(p).ok());
  fake.set_next_status(Status::Unavailable("x"));
  EXPECT_FALSE(fake.Apply(p).ok());
  EXPECT_FALSE(fake.Remove().ok());
  EXPECT_EQ(fake.applied().size(), 2u);
  EXPECT_EQ(fake.removes(), 1);
}

}  // namespace
}  // namespace tw::nft
