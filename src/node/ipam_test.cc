#include "node/ipam.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tw::node {
namespace {

net::Cidr C(const char* text) { return net::Cidr::Parse(text).value(); }
net::IpAddr A(const char* text) { return net::IpAddr::Parse(text).value(); }

std::vector<std::string> AllocateAll(Ipam& ipam) {
  std::vector<std::string> out;
  for (;;) {
    auto r = ipam.Allocate();
    if (!r.ok()) break;
    out.push_back(r->ToString());
  }
  return out;
}

// Which addresses a pool hands out, in order, until it is full.
struct PoolCase {
  const char* pool;
  std::vector<std::string> sequence;
};

TEST(NodeIpam, SkipsNetworkAndBroadcastPerPoolSize) {
  const PoolCase cases[] = {
      {"10.244.0.0/29", {"10.244.0.1", "10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5", "10.244.0.6"}},
      {"10.244.0.0/30", {"10.244.0.1", "10.244.0.2"}},
      {"10.244.0.4/31", {"10.244.0.4", "10.244.0.5"}},
      {"10.244.0.9/32", {"10.244.0.9"}},
      {"fd00::/126", {"fd00::1", "fd00::2", "fd00::3"}},
      {"fd00::8/127", {"fd00::8", "fd00::9"}},
  };
  for (const auto& c : cases) {
    Ipam ipam(C(c.pool));
    EXPECT_EQ(AllocateAll(ipam), c.sequence) << c.pool;
    EXPECT_EQ(ipam.capacity(), c.sequence.size()) << c.pool;
    EXPECT_EQ(ipam.allocated(), c.sequence.size()) << c.pool;
  }
}

TEST(NodeIpam, FullPoolIsUnavailableWithCounts) {
  Ipam ipam(C("10.244.0.0/30"));
  ASSERT_TRUE(ipam.Allocate().ok());
  ASSERT_TRUE(ipam.Allocate().ok());
  auto r = ipam.Allocate();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().IsUnavailable());
  EXPECT_NE(r.error().message().find("10.244.0.0/30"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("2 of 2"), std::string::npos) << r.error().message();
}

TEST(NodeIpam, DefaultPoolStartsAtDotOneAndIsLowestFree) {
  Ipam ipam(C("10.244.0.0/16"));
  EXPECT_EQ(ipam.capacity(), 65534u);
  std::vector<net::IpAddr> got;
  for (int i = 0; i < 300; ++i) got.push_back(ipam.Allocate().value());
  EXPECT_EQ(got[0].ToString(), "10.244.0.1");
  EXPECT_EQ(got[254].ToString(), "10.244.0.255");  // .255 of a /24 inside the /16 is a host
  EXPECT_EQ(got[255].ToString(), "10.244.1.0");
  // Released addresses come back lowest first, whatever the release order.
  ASSERT_TRUE(ipam.Release(got[200]).ok());
  ASSERT_TRUE(ipam.Release(got[7]).ok());
  ASSERT_TRUE(ipam.Release(got[8]).ok());
  EXPECT_EQ(ipam.Allocate().value(), got[7]);
  EXPECT_EQ(ipam.Allocate().value(), got[8]);
  EXPECT_EQ(ipam.Allocate().value(), got[200]);
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.1.45");  // got[300]
  EXPECT_EQ(ipam.allocated(), 301u);
}

TEST(NodeIpam, ReleaseMergesSoTheWholePoolComesBack) {
  Ipam ipam(C("10.0.0.0/28"));
  std::vector<net::IpAddr> got;
  for (int i = 0; i < 14; ++i) got.push_back(ipam.Allocate().value());
  // Release in an order that needs merges on both sides.
  for (int i : {3, 5, 4, 0, 13, 1, 2, 12, 6, 8, 7, 10, 9, 11}) {
    ASSERT_TRUE(ipam.Release(got[i]).ok()) << i;
  }
  EXPECT_EQ(ipam.allocated(), 0u);
  std::vector<std::string> again = AllocateAll(ipam);
  ASSERT_EQ(again.size(), 14u);
  for (size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i], got[i].ToString());
}

TEST(NodeIpam, ReserveAndReleaseErrors) {
  Ipam ipam(C("10.244.0.0/24"));
  Status s = ipam.Reserve(A("10.245.0.1"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("outside the pool"), std::string::npos) << s.message();
  EXPECT_TRUE(ipam.Reserve(A("10.244.0.0")).IsInvalidArgument());
  EXPECT_TRUE(ipam.Reserve(A("10.244.0.255")).IsInvalidArgument());
  EXPECT_TRUE(ipam.Reserve(A("fd00::1")).IsInvalidArgument());
  EXPECT_TRUE(ipam.Release(A("10.244.0.9")).IsNotFound());

  ASSERT_TRUE(ipam.Reserve(A("10.244.0.1")).ok());
  EXPECT_TRUE(ipam.Reserve(A("10.244.0.1")).IsAlreadyExists());
  ASSERT_TRUE(ipam.Reserve(A("10.244.0.3")).ok());
  EXPECT_TRUE(ipam.IsAllocated(A("10.244.0.3")));
  EXPECT_FALSE(ipam.IsAllocated(A("10.244.0.2")));
  EXPECT_FALSE(ipam.IsAllocated(A("10.244.0.0")));
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.2");
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.4");
  ASSERT_TRUE(ipam.Release(A("10.244.0.3")).ok());
  EXPECT_TRUE(ipam.Release(A("10.244.0.3")).IsNotFound());
  EXPECT_FALSE(ipam.IsAllocated(A("10.244.0.3")));
}

TEST(NodeIpam, LoadReplacesStateAndKeepsItOnError) {
  Ipam ipam(C("10.244.0.0/16"));
  ASSERT_TRUE(ipam.Allocate().ok());  // .0.1, forgotten by Load
  std::vector<net::IpAddr> used = {A("10.244.0.2"), A("10.244.0.4"), A("10.244.1.0")};
  ASSERT_TRUE(ipam.Load(used).ok());
  EXPECT_EQ(ipam.allocated(), 3u);
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.1");
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.3");
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.5");

  std::vector<net::IpAddr> dup = {A("10.244.0.7"), A("10.244.0.7")};
  Status s = ipam.Load(dup);
  EXPECT_TRUE(s.IsAlreadyExists());
  EXPECT_NE(s.message().find("used[1]"), std::string::npos) << s.message();
  std::vector<net::IpAddr> outside = {A("10.244.0.8"), A("192.168.0.1")};
  s = ipam.Load(outside);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("192.168.0.1"), std::string::npos) << s.message();
  // Unchanged by the failed loads: 6 in use, next is .0.6.
  EXPECT_EQ(ipam.allocated(), 6u);
  EXPECT_FALSE(ipam.IsAllocated(A("10.244.0.7")));
  EXPECT_EQ(ipam.Allocate().value().ToString(), "10.244.0.6");
}

TEST(NodeIpam, HugeIpv6PoolIsCheap) {
  Ipam ipam(C("fd00:10:244::/64"));
  EXPECT_EQ(ipam.capacity(), (net::Uint128{1} << 64) - 1);
  ASSERT_TRUE(ipam.Reserve(A("fd00:10:244::ffff:ffff:ffff:fffe")).ok());
  EXPECT_EQ(ipam.Allocate().value().ToString(), "fd00:10:244::1");
  EXPECT_EQ(ipam.Allocate().value().ToString(), "fd00:10:244::2");
  EXPECT_TRUE(ipam.Reserve(A("fd00:10:244::")).IsInvalidArgument());
}

}  // namespace
}  // namespace tw::node
