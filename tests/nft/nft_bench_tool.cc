// Helper of bench/nft_kernel_bench.sh (root): programs a large IPv4 set
// through NftDataplane, writes the equivalent `nft -f` scripts for the
// comparison, and measures per-packet cost with a UDP blast.
//
//   nft_bench_tool prepare INPUT DIR CHANGES
//       reads INPUT (one address or CIDR per line), merges it (CidrSet) and
//       writes DIR/interval.nft (one interval set with every range),
//       DIR/split.nft (hash set for single addresses + interval set),
//       DIR/add.nft / DIR/del.nft (CHANGES new addresses added to, and
//       CHANGES existing ranges deleted from, the interval set) and
//       DIR/add.txt / DIR/del.txt (the same changes, for `sync`).
//   nft_bench_tool sync NETNS INPUT DIR [EXCLUDE]
//       full sync of a program denying the set (minus the CIDR EXCLUDE, so
//       a test server stays reachable), then the add and the delete
//       changes as incremental applies; prints "key value" lines.
//   nft_bench_tool blast SRC_NETNS DST_NETNS DST_ADDR SECONDS
//       one-way UDP from SRC_NETNS to DST_ADDR:9 (never answered, so the
//       flow stays in conntrack state "new" and every packet walks the
//       rules and set lookups); prints the packets per second received in
//       DST_NETNS after a warm-up fifth of SECONDS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "net/cidr_set.h"
#include "nft/dataplane.h"
#include "nft/render.h"
#include "node/netns.h"
#include "policy/ir.h"

namespace {

using namespace tw;

net::CidrSet ReadSet(const std::string& path) {
  std::ifstream in(path);
  net::CidrSet::Builder b;
  std::string line;
  while (std::getline(in, line)) b.AddText(line);
  return b.Build();
}

std::string RangesText(const net::CidrSet& s) {
  std::vector<nft::Element> el;
  for (const net::V4Range& r : s.v4_ranges()) el.push_back({net::IpAddr::V4(r.first), net::IpAddr::V4(r.last)});
  std::string out;
  nft::AppendElements(el, &out);
  return out;
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The changes: `n` random addresses outside `set`, and every k-th range.
void MakeChanges(const net::CidrSet& set, size_t n, net::CidrSet* add, net::CidrSet* del) {
  std::mt19937 rng(7);
  net::CidrSet::Builder a;
  size_t added = 0;
  while (added < n) {
    uint32_t v = static_cast<uint32_t>(rng() % (224u << 24));
    if (set.Contains(net::IpAddr::V4(v))) continue;
    a.AddRange(net::IpAddr::V4(v), net::IpAddr::V4(v));
    ++added;
  }
  *add = a.Build();
  net::CidrSet::Builder d;
  const auto& r = set.v4_ranges();
  size_t step = r.size() / n;
  for (size_t i = 0; i < n && i * step < r.size(); ++i) {
    d.AddRange(net::IpAddr::V4(r[i * step].first), net::IpAddr::V4(r[i * step].last));
  }
  *del = d.Build();
}

int Prepare(const std::string& input, const std::string& dir, size_t changes) {
  net::CidrSet set = ReadSet(input);
  net::CidrSet add, del;
  MakeChanges(set, changes, &add, &del);
  const std::string head = "add table inet threatwall\ndelete table inet threatwall\ntable inet threatwall {\n";
  Write(dir + "/interval.nft", head + "\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { " +
                                   RangesText(set) + " }\n\t}\n}\n");
  std::vector<nft::Element> singles = nft::SetElements(set, net::Family::kV4, false);
  std::vector<nft::Element> ranges = nft::SetElements(set, net::Family::kV4, true);
  std::string split = head + "\tset h {\n\t\ttype ipv4_addr\n\t\telements = { ";
  nft::AppendElements(singles, &split);
  split += " }\n\t}\n\tset i {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { ";
  nft::AppendElements(ranges, &split);
  split += " }\n\t}\n}\n";
  Write(dir + "/split.nft", split);
  Write(dir + "/add.nft", "add element inet threatwall s { " + RangesText(add) + " }\n");
  Write(dir + "/del.nft", "delete element inet threatwall s { " + RangesText(del) + " }\n");
  Write(dir + "/add.txt", add.ToText(false));
  Write(dir + "/del.txt", del.ToText(false));
  std::printf("ranges %zu singles %zu intervals %zu add %zu del %zu\n", set.size(), singles.size(), ranges.size(),
              add.size(), del.size());
  return 0;
}

// A program whose only endpoint's egress denies `set` (dst) and passes
// everything else (the seed's block-snort shape).
std::shared_ptr<policy::Program> ProgramFor(net::CidrSet set) {
  auto p = std::make_shared<policy::Program>();
  p->sets.push_back({0, "bench", std::move(set)});
  policy::Policy pol{"security.block", "security", false, policy::Direction::kEgress, {}};
  policy::Rule deny;
  deny.action = policy::Action::kDeny;
  deny.nflog_prefix = "DPE0|security.block";
  deny.match.dst.set = 0;
  pol.rules.push_back(deny);
  policy::Rule pass;  // the rest goes on to the next tier (none): profile allows
  pass.action = policy::Action::kPass;
  pass.index = 1;
  pass.nflog_prefix = "PPE1|security.block";
  pol.rules.push_back(pass);
  p->policies.push_back(pol);
  policy::EndpointProgram ep;
  ep.ns = "bench";
  ep.name = "client";
  ep.iface = "twbench0";
  ep.egress.push_back({"security", {0}, true, "DPE|security"});
  p->endpoints[ep.iface] = ep;
  return p;
}

void PrintStats(const char* step, const nft::ApplyStats& s) {
  std::printf("%s_kind %s\n%s_total_s %.6f\n%s_encode_s %.6f\n%s_netlink_s %.6f\n%s_nft_s %.6f\n%s_elements %zu\n"
              "%s_bytes %zu\n",
              step, nft::SyncKindName(s.kind), step, s.total_seconds, step, s.encode_seconds, step,
              s.netlink_seconds, step, s.nft_seconds, step, s.elements_sent, step, s.netlink_bytes);
}

int Sync(const std::string& netns, const std::string& input, const std::string& dir, const std::string& exclude) {
  net::CidrSet set = ReadSet(input);
  if (!exclude.empty()) {
    net::CidrSet::Builder ex;
    ex.AddText(exclude);
    set = set.Difference(ex.Build());
  }
  net::CidrSet add = ReadSet(dir + "/add.txt"), del = ReadSet(dir + "/del.txt");
  auto dp = nft::NftDataplane::Open(netns);
  if (!dp.ok()) {
    std::cerr << dp.status().ToString() << "\n";
    return 1;
  }
  auto step = [&](const char* name, net::CidrSet s) -> bool {
    Status st = (*dp)->Apply(ProgramFor(std::move(s)));
    if (!st.ok()) {
      std::cerr << name << ": " << st.ToString() << "\n";
      return false;
    }
    PrintStats(name, (*dp)->last_stats());
    return true;
  };
  net::CidrSet with_add = set.Union(add);
  if (!step("full", set) || !step("add", with_add) || !step("del", with_add.Difference(del))) return 1;
  return 0;
}

int Blast(const std::string& src_ns, const std::string& dst_ns, const std::string& dst, double seconds) {
  int rfd = -1;
  Status s = node::RunInNetns(dst_ns, [&]() -> Status {
    rfd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    int big = 16 << 20;
    setsockopt(rfd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    if (bind(rfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return Status::IoError("bind");
    return Status::Ok();
  });
  int sfd = -1;
  Status s2 = node::RunInNetns(src_ns, [&]() -> Status {
    sfd = socket(AF_INET, SOCK_DGRAM, 0);
    return sfd < 0 ? Status::IoError("socket") : Status::Ok();
  });
  if (!s.ok() || !s2.ok()) {
    std::cerr << "blast: sockets: " << s.ToString() << " " << s2.ToString() << "\n";
    return 1;
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  timeval tv{0, 200000};
  setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::thread rx([&] {
    char buf[64];
    while (!stop) {
      if (recv(rfd, buf, sizeof(buf), 0) > 0) received.fetch_add(1, std::memory_order_relaxed);
    }
  });
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  inet_pton(AF_INET, dst.c_str(), &to.sin_addr);
  char payload[16] = {};
  uint64_t sent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  uint64_t r0 = 0;
  auto tm = t0;
  bool warmed = false;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 256; ++i) {
      if (sendto(sfd, payload, sizeof(payload), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) > 0) ++sent;
    }
    if (!warmed && std::chrono::steady_clock::now() - t0 > std::chrono::duration<double>(seconds / 5)) {
      warmed = true;  // measure after a warm-up fifth
      r0 = received.load();
      tm = std::chrono::steady_clock::now();
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  uint64_t r1 = received.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  rx.join();
  close(sfd);
  close(rfd);
  double secs = std::chrono::duration<double>(t1 - tm).count();
  std::printf("sent %llu received %llu pps %.0f\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(received.load()), (r1 - r0) / secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "prepare") return Prepare(a[1], a[2], std::stoul(a[3]));
  if ((a.size() == 4 || a.size() == 5) && a[0] == "sync") return Sync(a[1], a[2], a[3], a.size() == 5 ? a[4] : "");
  if (a.size() == 5 && a[0] == "blast") return Blast(a[1], a[2], a[3], std::stod(a[4]));
  std::cerr << "usage: nft_bench_tool prepare INPUT DIR CHANGES | sync NETNS INPUT DIR [EXCLUDE] | "
               "blast SRC_NETNS DST_NETNS DST_ADDR SECONDS\n";
  return 2;
}
