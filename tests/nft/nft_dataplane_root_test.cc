// NftDataplane against the real kernel (root): full sync, incremental
// element changes, restart over an existing table, the atomic switch seen
// by real traffic, and Remove.
//
// Everything happens in network namespaces these tests create,
// "tw-test-<pid>-*", and TearDown deletes them, also after a failed
// assertion.  `nft` runs inside them through node::Exec only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "nft/dataplane.h"
#include "nft/netlink.h"
#include "nft/render.h"
#include "nft/test_programs.h"
#include "node/netns.h"

namespace tw::nft {
namespace {

std::string Prefix() { return "tw-test-" + std::to_string(::getpid()) + "-"; }

// Runs argv in `netns`; expects exit 0; returns the output.
std::string RunIn(const std::string& netns, std::vector<std::string> argv) {
  auto r = node::Exec(netns, argv);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << Join(argv, " ") << ": " << r->output;
  return r->output;
}

std::string NftList(const std::string& netns) {
  return RunIn(netns, {"nft", "list", "table", "inet", kTableName.data()});
}

// `nft list` text with set generations ("_g<N>") and hash set sizes
// removed, every element list sorted and the sets and chains sorted, so
// listings of the same content compare equal whatever the backend's
// iteration order or the order in which chains were created.
std::string Normalize(const std::string& listing) {
  std::string text = std::regex_replace(listing, std::regex("_g[0-9]+\\b"), "");
  text = std::regex_replace(text, std::regex("\n\t\tsize [0-9]+"), "");
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t start = text.find("elements = { ", pos);
    if (start == std::string::npos) break;
    size_t end = text.find('}', start);
    out += text.substr(pos, start - pos);
    std::string body = text.substr(start + 13, end - start - 13);
    std::replace(body.begin(), body.end(), ',', ' ');
    std::istringstream in(body);
    std::vector<std::string> items;
    for (std::string w; in >> w;) items.push_back(w);
    std::sort(items.begin(), items.end());
    out += "elements = { " + Join(items, ", ") + " }";
    pos = end + 1;
  }
  out += text.substr(pos);
  size_t open = out.find("{\n"), close = out.rfind("}");
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::vector<std::string> blocks;
  std::string body = out.substr(open + 2, close - open - 2);
  for (size_t p = 0; p < body.size();) {
    size_t q = body.find("\n\n", p);
    if (q == std::string::npos) q = body.size();
    blocks.push_back(std::string(TrimSpace(body.substr(p, q - p))));
    p = q + 2;
  }
  std::sort(blocks.begin(), blocks.end());
  return out.substr(0, open + 2) + Join(blocks, "\n\n") + "\n}\n";
}

// The union of every named set's elements in the table listing, read back
// as addresses: "a", "a/n" and "a-b".
net::CidrSet KernelMembers(const std::string& netns) {
  std::string text = NftList(netns);
  net::CidrSet::Builder b;
  size_t pos = 0;
  for (;;) {
    size_t start = text.find("elements = { ", pos);
    if (start == std::string::npos) break;
    size_t end = text.find('}', start);
    std::string body = text.substr(start + 13, end - start - 13);
    std::replace(body.begin(), body.end(), ',', ' ');
    std::istringstream in(body);
    for (std::string w; in >> w;) {
      size_t dash = w.find('-');
      if (dash == std::string::npos) {
        EXPECT_TRUE(b.AddText(w)) << w;
        continue;
      }
      auto a = net::IpAddr::Parse(w.substr(0, dash)), z = net::IpAddr::Parse(w.substr(dash + 1));
      EXPECT_TRUE(a.ok() && z.ok()) << w;
      if (a.ok() && z.ok()) b.AddRange(*a, *z);
    }
    pos = end + 1;
  }
  return b.Build();
}

size_t CountRules(const std::string& netns) {
  std::string text = RunIn(netns, {"nft", "-a", "list", "table", "inet", kTableName.data()});
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find("# handle") != std::string::npos && line.find("chain ") == std::string::npos &&
        line.find("table ") == std::string::npos && line.find("set ") == std::string::npos) {
      ++n;
    }
  }
  return n;
}

// A program denying `members` (destination) for endpoint `iface`'s egress
// and passing the rest (then the profile allows), like the seed's
// security.block-snort.
std::shared_ptr<policy::Program> DenyProgram(net::CidrSet members, const std::string& iface = "twa0") {
  auto p = std::make_shared<policy::Program>();
  p->sets.push_back({0, "feed", std::move(members)});
  policy::Policy pol{"security.block", "security", false, policy::Direction::kEgress, {}};
  policy::Rule deny = testing::RuleForTest(policy::Action::kDeny, 0, "DPE0|security.block");
  deny.match.dst.set = 0;
  pol.rules.push_back(deny);
  pol.rules.push_back(testing::RuleForTest(policy::Action::kPass, 1, "PPE1|security.block"));
  p->policies.push_back(pol);
  policy::EndpointProgram ep;
  ep.ns = "test";
  ep.name = "client";
  ep.iface = iface;
  ep.egress.push_back({"security", {0}, true, "DPE|security"});
  p->endpoints[iface] = ep;
  return p;
}

// Random members: `singles` addresses and `ranges` CIDRs of each family,
// plus the edges (a range starting at the lowest address, ranges and
// single addresses ending at the highest).
net::CidrSet RandomMembers(uint32_t seed, size_t singles, size_t ranges, bool edges) {
  std::mt19937_64 rng(seed);
  net::CidrSet::Builder b;
  for (size_t i = 0; i < singles; ++i) {
    uint32_t v4 = static_cast<uint32_t>(rng()) | 0x01000000u;
    b.AddRange(net::IpAddr::V4(v4), net::IpAddr::V4(v4));
    net::Uint128 v6 = (net::Uint128{0x20010db8u} << 96) | rng();
    b.AddRange(net::IpAddr::V6(v6), net::IpAddr::V6(v6));
  }
  for (size_t i = 0; i < ranges; ++i) {
    uint32_t v4 = static_cast<uint32_t>(rng()) | 0x01000000u;
    int len = 16 + static_cast<int>(rng() % 16);
    uint32_t mask = ~((1u << (32 - len)) - 1);
    b.AddRange(net::IpAddr::V4(v4 & mask), net::IpAddr::V4((v4 & mask) | ~mask));
    net::Uint128 base = (net::Uint128{0x20010db8u} << 96) | (rng() << 32);
    b.AddRange(net::IpAddr::V6(base), net::IpAddr::V6(base | 0xffffffffu));
  }
  if (edges) {
    b.AddText("0.0.0.0/24");
    b.AddText("255.255.255.0/24");
    b.AddText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120");
    b.AddText("::/120");
  }
  return b.Build();
}

class NftDataplaneRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/usr/sbin/nft", X_OK) != 0) GTEST_SKIP() << "nft not installed";
    ns_ = NewNetns("node");
  }
  void TearDown() override {
    auto names = node::ListNetns();
    if (!names.ok()) return;
    for (const std::string& n : *names) {
      if (n.starts_with(Prefix())) {
        Status s = node::DeleteNetns(n);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
  }
  std::string NewNetns(const std::string& tag) {
    std::string name = Prefix() + tag;
    Status s = node::CreateNetns(name);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return name;
  }
  std::unique_ptr<NftDataplane> Open(const std::string& netns) {
    auto dp = NftDataplane::Open(netns);
    EXPECT_TRUE(dp.ok()) << dp.status().ToString();
    return dp.ok() ? std::move(*dp) : nullptr;
  }

  std::string ns_;
};

TEST_F(NftDataplaneRootTest, FullSyncListsLikeTheGoldenLoadedByNft) {
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  auto program = std::make_shared<policy::Program>(testing::SeedProgramForTest());
  ASSERT_TRUE(dp->Apply(program).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kFull);
  EXPECT_EQ(dp->generation(), 1u);
  // The same program as one `nft -f` text (the golden path) in a second
  // namespace: both listings must agree up to set names and sizes.
  std::string ref = NewNetns("ref");
  std::string path = "/tmp/" + Prefix() + "seed.nft";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::string text = RenderRuleset(*program, RenderOptions{});
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  RunIn(ref, {"nft", "-f", path});
  ::unlink(path.c_str());
  EXPECT_EQ(Normalize(NftList(ns_)), Normalize(NftList(ref)));
  EXPECT_EQ(CountRules(ns_), CountRules(ref));
}

TEST_F(NftDataplaneRootTest, SetsOfBothFamiliesAndKindsHoldExactlyTheMembers) {
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  net::CidrSet members = RandomMembers(1, 5000, 2000, true);
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  EXPECT_EQ(KernelMembers(ns_), members);
  auto client = NetlinkClient::Open(ns_);
  ASSERT_TRUE(client.ok());
  auto contents = (*client)->ListTable();
  ASSERT_TRUE(contents.ok());
  std::vector<std::string> sets = contents->sets;
  std::sort(sets.begin(), sets.end());
  EXPECT_EQ(sets, (std::vector<std::string>{"s0h6_g1", "s0h_g1", "s0i6_g1", "s0i_g1"}));
  EXPECT_TRUE(std::find(contents->chains.begin(), contents->chains.end(), "forward") != contents->chains.end());
}

TEST_F(NftDataplaneRootTest, IncrementalAddsAndDeletesElementsIncludingEdgesAndMerges) {
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  net::CidrSet base = RandomMembers(2, 3000, 1000, true);
  ASSERT_TRUE(dp->Apply(DenyProgram(base)).ok());
  const size_t rules = CountRules(ns_);
  // Add new singles and ranges, delete some, touch every edge: the top
  // range becomes a single top address (open interval goes, hash gains),
  // the bottom range grows (merge: old element out, merged one in).
  net::CidrSet add = RandomMembers(3, 500, 200, false);
  net::CidrSet::Builder del_b;
  const auto& r4 = base.v4_ranges();
  for (size_t i = 1; i + 1 < r4.size(); i += r4.size() / 300) {
    del_b.AddRange(net::IpAddr::V4(r4[i].first), net::IpAddr::V4(r4[i].last));
  }
  del_b.AddText("255.255.255.0/24");
  del_b.AddText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120");
  net::CidrSet::Builder extra;
  extra.AddText("255.255.255.255");
  extra.AddText("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  extra.AddText("0.0.1.0/24");  // adjacent to 0.0.0.0/24: merges into 0.0.0.0/23
  net::CidrSet next = base.Union(add).Difference(del_b.Build()).Union(extra.Build());
  ASSERT_TRUE(dp->Apply(DenyProgram(next)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kIncremental);
  EXPECT_EQ(dp->last_stats().nft_seconds, 0.0) << "element changes must not run nft";
  EXPECT_EQ(KernelMembers(ns_), next);
  EXPECT_EQ(CountRules(ns_), rules);
  // And back (the top single goes, the open interval returns).
  ASSERT_TRUE(dp->Apply(DenyProgram(base)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kIncremental);
  EXPECT_EQ(KernelMembers(ns_), base);
  // Unchanged program: nothing sent.
  ASSERT_TRUE(dp->Apply(DenyProgram(base)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kUnchanged);
  EXPECT_EQ(dp->last_stats().elements_sent, 0u);
}

TEST_F(NftDataplaneRootTest, ChainAndSetChangesAreIncrementalToo) {
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  ASSERT_TRUE(dp->Apply(DenyProgram(RandomMembers(4, 100, 10, false))).ok());
  // A second endpoint and an IPv4-only set: chains added, IPv6 sets removed.
  auto p = DenyProgram(net::CidrSet());
  net::CidrSet::Builder v4only;
  v4only.AddText("10.1.0.0/16");
  v4only.AddText("10.2.3.4");
  p->sets[0].members = v4only.Build();
  policy::EndpointProgram ep2 = p->endpoints.begin()->second;
  ep2.iface = "twc0";
  p->endpoints[ep2.iface] = ep2;
  ASSERT_TRUE(dp->Apply(p).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kIncremental);
  EXPECT_EQ(dp->last_stats().sets_deleted, 2u);
  EXPECT_GT(dp->last_stats().chains_written, 0u);
  EXPECT_EQ(KernelMembers(ns_), p->sets[0].members);
  // Same as a fresh full sync of the same program elsewhere.
  std::string fresh = NewNetns("fresh");
  auto dp2 = Open(fresh);
  ASSERT_NE(dp2, nullptr);
  ASSERT_TRUE(dp2->Apply(p).ok());
  EXPECT_EQ(Normalize(NftList(ns_)), Normalize(NftList(fresh)));
}

TEST_F(NftDataplaneRootTest, RestartConvergesWithoutDuplicateRulesOrOldSets) {
  auto p1 = DenyProgram(RandomMembers(6, 2000, 500, true));
  auto p2 = DenyProgram(RandomMembers(7, 1000, 300, false));
  p2->endpoints["twd0"] = p2->endpoints.begin()->second;
  p2->endpoints["twd0"].iface = "twd0";
  {
    auto first = Open(ns_);
    ASSERT_NE(first, nullptr);
    ASSERT_TRUE(first->Apply(p1).ok());
  }
  // A new process over the existing table, twice (same and other program).
  for (int round = 0; round < 2; ++round) {
    auto again = Open(ns_);
    ASSERT_NE(again, nullptr);
    ASSERT_TRUE(again->Apply(p2).ok());
    EXPECT_EQ(again->last_stats().kind, SyncKind::kFull);
    EXPECT_EQ(again->generation(), static_cast<uint64_t>(round + 2));
    EXPECT_EQ(KernelMembers(ns_), p2->sets[0].members);
  }
  std::string fresh = NewNetns("fresh");
  auto dp = Open(fresh);
  ASSERT_NE(dp, nullptr);
  ASSERT_TRUE(dp->Apply(p2).ok());
  EXPECT_EQ(CountRules(ns_), CountRules(fresh));
  EXPECT_EQ(Normalize(NftList(ns_)), Normalize(NftList(fresh)));
  auto client = NetlinkClient::Open(ns_);
  ASSERT_TRUE(client.ok());
  auto contents = (*client)->ListTable();
  ASSERT_TRUE(contents.ok());
  for (const std::string& s : contents->sets) EXPECT_EQ(SetGeneration(s), 3u) << s;
}

TEST_F(NftDataplaneRootTest, FailedApplyKeepsTheOldStateAndTheNextApplyIsFull) {
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  net::CidrSet members = RandomMembers(8, 100, 10, false);
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  // A rule nft rejects (a port range whose first port is above its last,
  // "100-1"), together with new element changes: nothing of it may stick.
  auto p = DenyProgram(RandomMembers(10, 100, 10, false));
  p->policies[0].rules[0].match.protocol = 6;
  p->policies[0].rules[0].match.dst.ports = {{100, 1}};
  p->policies[0].rules[0].match.dst.ports_present = true;
  Status s = dp->Apply(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nft -f"), std::string::npos) << s.ToString();
  // The chain script failed after the element batch: the rules are the
  // old ones; the next Apply repairs everything with a full sync.
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kFull);
  EXPECT_EQ(KernelMembers(ns_), members);
}

TEST_F(NftDataplaneRootTest, NetlinkErrorsNameTheObjectAndRollBack) {
  auto client = NetlinkClient::Open(ns_);
  ASSERT_TRUE(client.ok());
  Transaction tx = (*client)->NewTransaction();
  tx.AddTable();
  tx.AddSet("a", net::Family::kV4, false);
  tx.DeleteSet("missing");
  Status s = (*client)->Commit(std::move(tx));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("delete set \"missing\""), std::string::npos) << s.ToString();
  auto exists = (*client)->TableExists();
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists) << "the batch must have been rolled back as a whole";
}

// --- traffic --------------------------------------------------------------

class Udp {
 public:
  ~Udp() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd_ = -1;
};

TEST_F(NftDataplaneRootTest, TrafficIsDroppedThroughEverySwitchAndFlowsAfterRemove) {
  // client (a) -- node (ns_, forwarding, the table) -- server (b).
  std::string a = NewNetns("a"), b = NewNetns("b");
  const std::string ip = node::IpTool();
  RunIn(ns_, {ip, "link", "add", "twa0", "type", "veth", "peer", "name", "eth0", "netns", a});
  RunIn(ns_, {ip, "link", "add", "twb0", "type", "veth", "peer", "name", "eth0", "netns", b});
  RunIn(ns_, {ip, "addr", "add", "10.99.1.1/24", "dev", "twa0"});
  RunIn(ns_, {ip, "addr", "add", "10.99.2.1/24", "dev", "twb0"});
  RunIn(ns_, {ip, "link", "set", "twa0", "up"});
  RunIn(ns_, {ip, "link", "set", "twb0", "up"});
  RunIn(a, {ip, "addr", "add", "10.99.1.2/24", "dev", "eth0"});
  RunIn(a, {ip, "link", "set", "eth0", "up"});
  RunIn(a, {ip, "route", "add", "default", "via", "10.99.1.1"});
  RunIn(b, {ip, "addr", "add", "10.99.2.2/24", "dev", "eth0"});
  RunIn(b, {ip, "link", "set", "eth0", "up"});
  RunIn(b, {ip, "route", "add", "default", "via", "10.99.2.1"});
  ASSERT_TRUE(node::WriteSysctl(ns_, "net/ipv4/ip_forward", "1").ok());

  Udp rx, tx;
  ASSERT_TRUE(node::RunInNetns(b, [&]() -> Status {
                rx.fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
                sockaddr_in addr{};
                addr.sin_family = AF_INET;
                addr.sin_port = htons(9999);
                if (::bind(rx.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
                  return Status::IoError("bind");
                }
                timeval tv{0, 100000};
                ::setsockopt(rx.fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(node::RunInNetns(a, [&]() -> Status {
                tx.fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
                return Status::Ok();
              }).ok());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9999);
  inet_pton(AF_INET, "10.99.2.2", &to.sin_addr);
  auto send_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ::sendto(tx.fd_, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    }
  };
  auto drain = [&]() {
    int got = 0;
    char buf[16];
    while (::recv(rx.fd_, buf, sizeof(buf), 0) > 0) ++got;
    return got;
  };
  // Control: without the table, packets arrive.
  send_some(20);
  ASSERT_GT(drain(), 0) << "the test topology does not forward";

  // A large set (so a non-atomic fill would leave a long window) with the
  // server in its interval part; the client's egress denies it.
  net::CidrSet server = testing::NetsForTest({"10.99.2.0/24"});
  net::CidrSet members = RandomMembers(9, 100000, 20000, false).Union(server);
  auto dp = Open(ns_);
  ASSERT_NE(dp, nullptr);
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  send_some(20);
  EXPECT_EQ(drain(), 0) << "the deny rule does not drop";

  // Probe while restarted dataplanes switch generations again and again.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread probe([&] {
    while (!stop) {
      send_some(1);
      ++sent;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  for (int i = 0; i < 6; ++i) {
    auto again = Open(ns_);
    ASSERT_NE(again, nullptr);
    Status s = again->Apply(DenyProgram(members));
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  stop = true;
  probe.join();
  EXPECT_GT(sent.load(), 100);
  EXPECT_EQ(drain(), 0) << "a packet passed during a switch";

  // The set is what drops: without the server's range (an incremental
  // element delete) traffic flows, with it (element add) it stops again.
  // The first dataplane's sets were replaced by the restarted ones: its
  // incremental apply fails (named set gone) and the next one is full.
  net::CidrSet without = members.Difference(server);
  Status stale = dp->Apply(DenyProgram(without));
  EXPECT_FALSE(stale.ok());
  EXPECT_NE(stale.message().find("_g1"), std::string::npos) << stale.ToString();
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kFull);
  ASSERT_TRUE(dp->Apply(DenyProgram(without)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kIncremental);
  send_some(20);
  EXPECT_GT(drain(), 0) << "traffic to an address outside the set is dropped";
  ASSERT_TRUE(dp->Apply(DenyProgram(members)).ok());
  EXPECT_EQ(dp->last_stats().kind, SyncKind::kIncremental);
  send_some(20);
  EXPECT_EQ(drain(), 0);

  // Remove: no table, traffic flows again.
  ASSERT_TRUE(dp->Remove().ok());
  auto client = NetlinkClient::Open(ns_);
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->TableExists().value());
  EXPECT_TRUE(dp->Remove().ok()) << "Remove of an absent table is OK";
  send_some(20);
  EXPECT_GT(drain(), 0);
}

}  // namespace
}  // namespace tw::nft
