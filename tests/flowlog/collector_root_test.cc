// The collector against the real kernel: NFLOG verdicts and DNS copies from
// an nft table, conntrack dumps and DESTROY events, all in a node namespace
// this test creates, with two "pods" (namespaces with a veth into the node)
// sending real UDP and TCP through it.
//
// Names: node tw-test-<pid>-node, pods tw-test-<pid>-a and -b.  The host
// namespace is only read (its nf_conntrack_acct, to prove it is left
// alone).  TearDown stops the collector and deletes every namespace
// carrying the test's pid, also after a failed assertion.  Waits are
// bounded only so that a broken kernel path cannot hang the test; nothing
// asserts on time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "base/strings.h"
#include "base/test_temp_dir.h"
#include "flowlog/collector.h"
#include "node/netns.h"

namespace tw::flowlog {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

std::string Tag() { return "tw-test-" + std::to_string(::getpid()); }

bool HaveTool(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Runs argv in `netns`, expecting exit 0; returns the output.
std::string RunOk(const std::string& netns, const std::vector<std::string>& argv) {
  auto r = node::Exec(netns, argv);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << Join(argv, " ") << ": " << r->output;
  return r->output;
}

std::string Ip(const std::string& netns, std::vector<std::string> args) {
  args.insert(args.begin(), node::IpTool());
  return RunOk(netns, args);
}

std::string ReadSysctl(const std::string& netns, const std::string& key) {
  std::string value;
  Status s = node::RunInNetns(netns, [&]() -> Status {
    TW_ASSIGN_OR_RETURN(value, ReadFile("/proc/sys/" + key));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::string(TrimSpace(value));
}

size_t ThreadCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A socket closed on destruction.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Socket() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};
Addr MakeAddr(const std::string& ip, uint16_t port) {
  Addr a;
  if (ip.find(':') == std::string::npos) {
    auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &s->sin_addr);
    a.len = sizeof(sockaddr_in);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &s->sin6_addr);
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}
uint16_t PortOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// A socket of `type` made inside `netns`, bound to ip:port (port 0: any).
Socket BoundSocket(const std::string& netns, int type, const std::string& ip, uint16_t port) {
  Socket sock;
  Status s = node::RunInNetns(netns, [&]() -> Status {
    Addr a = MakeAddr(ip, port);
    sock = Socket(::socket(a.ss.ss_family, type | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sock.get() < 0 || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0) {
      return Status::IoError("bind " + ip + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    if (type == SOCK_STREAM && ::listen(sock.get(), 8) != 0) return Status::IoError("listen");
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sock;
}

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 10000) == 1;  // only keeps a broken network from hanging the test
}

// What the collector delivered, for the test thread to wait on.
class WaitingSink : public CollectorSink {
 public:
  void OnPolicyPacket(PolicyPacket&& p) override { Add([&] { policy.push_back(std::move(p)); }); }
  void OnDnsPacket(DnsPacket&& p) override { Add([&] { dns.push_back(std::move(p)); }); }
  void OnConntrack(ConntrackFlow&& f) override { Add([&] { conntrack.push_back(std::move(f)); }); }

  // Waits until `pred` holds (checked under the lock); false after `limit`.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::seconds limit = seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, pred);
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<PolicyPacket> policy;
  std::vector<DnsPacket> dns;
  std::vector<ConntrackFlow> conntrack;

 private:
  void Add(const std::function<void()>& f) {
    std::lock_guard lock(mu);
    f();
    cv.notify_all();
  }
};

constexpr char kAcct[] = "net/netfilter/nf_conntrack_acct";

class CollectorRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    if (!HaveTool("nft")) GTEST_SKIP() << "needs nft";
    node_ = Tag() + "-node";
    a_ = Tag() + "-a";
    b_ = Tag() + "-b";
    host_acct_ = ReadSysctl("", kAcct);
    for (const auto& ns : {node_, a_, b_}) ASSERT_TRUE(node::CreateNetns(ns).ok()) << ns;
    Ip(node_, {"link", "set", "lo", "up"});
    Pod(a_, "va", "1");
    Pod(b_, "vb", "2");
    ASSERT_TRUE(node::WriteSysctl(node_, "net/ipv4/ip_forward", "1").ok());
    ASSERT_TRUE(node::WriteSysctl(node_, "net/ipv6/conf/all/forwarding", "1").ok());
    LoadRules();
    // A closed TCP connection leaves conntrack after 1 s instead of 2 min.
    ASSERT_TRUE(node::WriteSysctl(node_, "net/netfilter/nf_conntrack_tcp_timeout_time_wait", "1").ok());
  }

  // veth <host_if> in the node <-> eth0 in `pod`: 10.99.<n>.0/24 and fd99:<n>::/64.
  void Pod(const std::string& pod, const std::string& host_if, const std::string& n) {
    Ip(node_, {"link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", pod});
    Ip(node_, {"addr", "add", "10.99." + n + ".1/24", "dev", host_if});
    Ip(node_, {"addr", "add", "fd99:" + n + "::1/64", "dev", host_if, "nodad"});
    Ip(node_, {"link", "set", host_if, "up"});
    Ip(pod, {"link", "set", "lo", "up"});
    Ip(pod, {"addr", "add", "10.99." + n + ".2/24", "dev", "eth0"});
    Ip(pod, {"addr", "add", "fd99:" + n + "::2/64", "dev", "eth0", "nodad"});
    Ip(pod, {"link", "set", "eth0", "up"});
    Ip(pod, {"route", "add", "default", "via", "10.99." + n + ".1"});
    Ip(pod, {"-6", "route", "add", "default", "via", "fd99:" + n + "::1"});
  }

  // Pod a's egress is logged on group 2 (UDP to 9999 denied), pod b's
  // ingress on group 1, DNS both ways on group 3 -- the dataplane's shapes.
  void LoadRules() {
    tw::testing::TempDir dir("tw_flowlog_root");
    const std::string path = dir.path() + "/rules.nft";
    ASSERT_TRUE(WriteFileAtomic(path, R"(table inet twtest {
  chain forward {
    type filter hook forward priority 0; policy accept;
    udp dport 53 log prefix "DNS" group 3
    udp sport 53 log prefix "DNS" group 3
    ct state established,related accept
    ct state invalid drop
    iifname "va" udp dport 9999 log prefix "DPE0|default.deny-9999" group 2 snaplen 80 drop
    iifname "va" log prefix "APE1|default.allow-a" group 2 snaplen 80
    oifname "vb" log prefix "API0|default.allow-b" group 1 snaplen 80 accept
  }
}
)").ok());
    RunOk(node_, {"nft", "-f", path});
  }

  void TearDown() override {
    if (node_.empty()) return;
    if (collector_) collector_->Stop();
    collector_.reset();
    auto names = node::ListNetns();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) {
      if (name.rfind(Tag() + "-", 0) == 0) {
        Status s = node::DeleteNetns(name);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
    EXPECT_EQ(ReadSysctl("", kAcct), host_acct_) << "host namespace touched";
  }

  void OpenCollector() {
    CollectorOptions o;
    o.netns = node_;
    auto c = Collector::Open(o, &sink_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collector_ = std::move(*c);
  }

  // UDP datagram from `pod` (a socket bound there) to ip:port.
  static void SendUdp(const Socket& s, const std::string& ip, uint16_t port, const std::string& data) {
    Addr to = MakeAddr(ip, port);
    ASSERT_EQ(::sendto(s.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to.ss), to.len),
              static_cast<ssize_t>(data.size()))
        << std::strerror(errno);
  }

  std::string node_, a_, b_;
  std::string host_acct_;
  WaitingSink sink_;
  std::unique_ptr<Collector> collector_;
};

net::IpAddr Addr4(const char* s) { return net::IpAddr::Parse(s).value(); }

TEST_F(CollectorRootTest, PolicyDnsAndConntrackFromTheKernel) {
  const size_t threads_before = ThreadCount();
  ASSERT_NO_FATAL_FAILURE(OpenCollector());
  EXPECT_EQ(ReadSysctl(node_, kAcct), "1");
  EXPECT_EQ(ReadSysctl("", kAcct), host_acct_);

  // A second reader of the same groups in the same namespace is refused.
  {
    CollectorOptions o;
    o.netns = node_;
    o.conntrack = false;
    auto second = Collector::Open(o, &sink_);
    ASSERT_FALSE(second.ok());
    EXPECT_TRUE(second.error().IsUnavailable()) << second.error().ToString();
  }

  // 1. Denied UDP: every datagram is logged (a dropped packet makes no conntrack entry).
  Socket udp_a = BoundSocket(a_, SOCK_DGRAM, "10.99.1.2", 0);
  Socket sink_b = BoundSocket(b_, SOCK_DGRAM, "10.99.2.2", 9999);
  for (int i = 0; i < 3; ++i) SendUdp(udp_a, "10.99.2.2", 9999, "denied-" + std::to_string(i));
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.policy.size() >= 3; }))
      << "policy packets: " << sink_.policy.size() << "; " << collector_->stats().last_error;
  {
    std::lock_guard lock(sink_.mu);
    for (int i = 0; i < 3; ++i) {
      const PolicyPacket& p = sink_.policy[i];
      EXPECT_EQ(p.prefix, "DPE0|default.deny-9999");
      EXPECT_EQ(p.direction, policy::Direction::kEgress);
      EXPECT_EQ(p.iface, "va");
      EXPECT_EQ(p.tuple.src, Addr4("10.99.1.2"));
      EXPECT_EQ(p.tuple.dst, Addr4("10.99.2.2"));
      EXPECT_EQ(p.tuple.proto, 17);
      EXPECT_EQ(p.tuple.sport, PortOf(udp_a.get()));
      EXPECT_EQ(p.tuple.dport, 9999);
      EXPECT_EQ(p.ip_bytes, 20u + 8u + 8u);
      if (i > 0) {
        EXPECT_GT(p.seq, sink_.policy[i - 1].seq);
      }
      const auto age = std::chrono::system_clock::now() - p.time;
      EXPECT_LT(age, std::chrono::minutes(1));
      EXPECT_GT(age, -std::chrono::minutes(1));
    }
    sink_.policy.clear();
  }

  // 2. DNS: the query and the answer are copied whole on group 3.
  Socket dns_server = BoundSocket(b_, SOCK_DGRAM, "10.99.2.2", 53);
  const std::string query("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x03lan\x00\x00\x01\x00\x01", 26);
  std::string answer = query;
  answer[2] = '\x81';
  answer[3] = '\x83';  // NXDOMAIN
  SendUdp(udp_a, "10.99.2.2", 53, query);
  ASSERT_TRUE(Readable(dns_server.get()));
  char buf[512];
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ASSERT_EQ(::recvfrom(dns_server.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len),
            static_cast<ssize_t>(query.size()));
  ASSERT_EQ(::sendto(dns_server.get(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len),
            static_cast<ssize_t>(answer.size()));
  ASSERT_TRUE(Readable(udp_a.get()));
  ASSERT_TRUE(sink_.WaitFor([&] { return sink_.dns.size() >= 2; })) << "dns packets: " << sink_.dns.size();
  {
    std::lock_guard lock(sink_.mu);
    EXPECT_EQ(std::string(sink_.dns[0].dns.begin(), sink_.dns[0].dns.end()), query);
    EXPECT_EQ(sink_.dns[0].tuple.dport, 53);
    EXPECT_EQ(sink_.dns[0].tuple.src, Addr4("10.99.1.2"));
    EXPECT_EQ(std::string(sink_.dns[1].dns.begin(), sink_.dns[1].dns.end()), answer);
    EXPECT_EQ(sink_.dns[1].tuple.sport, 53);
    EXPECT_EQ(sink_.dns[1].tuple.src, Addr4("10.99.2.2"));
  }

  // 3. Allowed TCP: egress (group 2) and ingress (group 1) verdicts on the SYN,
  //    conntrack counters in a dump, a DESTROY event once it is closed.
  Socket listener = BoundSocket(b_, SOCK_STREAM, "10.99.2.2", 8080);
  Socket client;
  ASSERT_TRUE(node::RunInNetns(a_, [&]() -> Status {
                client = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                Addr to = MakeAddr("10.99.2.2", 8080);
                if (::connect(client.get(), reinterpret_cast<sockaddr*>(&to.ss), to.len) != 0) {
                  return Status::IoError(std::string("connect: ") + std::strerror(errno));
                }
                return Status::Ok();
              }).ok());
  Socket conn(::accept(listener.get(), nullptr, nullptr));
  ASSERT_GE(conn.get(), 0);
  const uint16_t client_port = PortOf(client.get());
  const std::string hello(1000, 'h');
  ASSERT_EQ(::send(client.get(), hello.data(), hello.size(), 0), static_cast<ssize_t>(hello.size()));
  ASSERT_TRUE(Readable(conn.get()));
  std::string got(hello.size(), '\0');  // all of it: unread data would make close() send a RST
  ASSERT_EQ(::recv(conn.get(), got.data(), got.size(), MSG_WAITALL), static_cast<ssize_t>(got.size()));

  auto is_tcp = [&](const FlowTuple& t) {
    return t.proto == 6 && t.src == Addr4("10.99.1.2") && t.dst == Addr4("10.99.2.2") && t.sport == client_port &&
           t.dport == 8080;
  };
  ASSERT_TRUE(sink_.WaitFor([&] {
    int n = 0;
    for (const auto& p : sink_.policy) n += is_tcp(p.tuple);
    return n >= 2;
  }));
  {
    std::lock_guard lock(sink_.mu);
    std::vector<PolicyPacket> tcp;
    for (const auto& p : sink_.policy) {
      if (is_tcp(p.tuple)) tcp.push_back(p);
    }
    ASSERT_EQ(tcp.size(), 2u);  // only the SYN: the rest is established
    EXPECT_EQ(tcp[0].prefix, "APE1|default.allow-a");
    EXPECT_EQ(tcp[0].direction, policy::Direction::kEgress);
    EXPECT_EQ(tcp[0].iface, "va");
    EXPECT_EQ(tcp[1].prefix, "API0|default.allow-b");
    EXPECT_EQ(tcp[1].direction, policy::Direction::kIngress);
    EXPECT_EQ(tcp[1].iface, "vb");
    EXPECT_GE(tcp[0].ip_bytes, 40u);
    EXPECT_EQ(tcp[1].seq, tcp[0].seq + 1);
  }

  ASSERT_TRUE(collector_->DumpConntrack().ok());
  {
    std::lock_guard lock(sink_.mu);
    const ConntrackFlow* found = nullptr;
    for (const auto& f : sink_.conntrack) {
      if (is_tcp(f.orig) && !f.ended) found = &f;
    }
    ASSERT_NE(found, nullptr) << sink_.conntrack.size() << " entries dumped";
    EXPECT_GE(found->packets_orig, 3u);  // SYN, ACK, data
    EXPECT_GE(found->bytes_orig, 1000u);
    EXPECT_GE(found->packets_reply, 2u);
    EXPECT_GT(found->bytes_reply, 0u);
    EXPECT_EQ(found->reply.src, Addr4("10.99.2.2"));
    EXPECT_EQ(found->reply.dport, client_port);
    EXPECT_NE(found->id, 0u);
  }

  // The server closes first, so the client's port is free again at once:
  // after conntrack's TIME_WAIT (1 s here) a new SYN on the same tuple makes
  // the kernel destroy the old entry right away (the periodic conntrack GC
  // may take a minute).
  conn.Close();
  ASSERT_TRUE(Readable(client.get()));  // the server's FIN
  client.Close();
  std::this_thread::sleep_for(milliseconds(1500));
  const auto reconnect = steady_clock::now();
  Socket again;
  ASSERT_TRUE(node::RunInNetns(a_, [&]() -> Status {
                again = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
                const int one = 1;
                ::setsockopt(again.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                Addr self = MakeAddr("10.99.1.2", client_port);
                if (::bind(again.get(), reinterpret_cast<sockaddr*>(&self.ss), self.len) != 0) {
                  return Status::IoError(std::string("bind: ") + std::strerror(errno));
                }
                Addr to = MakeAddr("10.99.2.2", 8080);
                ::connect(again.get(), reinterpret_cast<sockaddr*>(&to.ss), to.len);  // EINPROGRESS
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(sink_.WaitFor(
      [&] {
        for (const auto& f : sink_.conntrack) {
          if (is_tcp(f.orig) && f.ended) return true;
        }
        return false;
      },
      seconds(90)))
      << "no DESTROY event; " << collector_->stats().last_error;
  std::printf("[ measure  ] DESTROY event %.3f s after the new SYN\n",
              std::chrono::duration<double>(steady_clock::now() - reconnect).count());
  {
    std::lock_guard lock(sink_.mu);
    for (const auto& f : sink_.conntrack) {
      if (!is_tcp(f.orig) || !f.ended) continue;
      EXPECT_GE(f.packets_orig, 4u);  // SYN, ACK, data, FIN/ACK
      EXPECT_GE(f.bytes_orig, 1000u);
      EXPECT_GE(f.packets_reply, 3u);
      break;
    }
  }
  again.Close();

  // 4. IPv6 through the same rules; the dump covers both families.
  Socket udp6_a = BoundSocket(a_, SOCK_DGRAM, "fd99:1::2", 0);
  Socket udp6_b = BoundSocket(b_, SOCK_DGRAM, "fd99:2::2", 7777);
  SendUdp(udp6_a, "fd99:2::2", 7777, "v6");
  ASSERT_TRUE(Readable(udp6_b.get()));
  auto is_v6 = [&](const FlowTuple& t) {
    return t.proto == 17 && t.src == net::IpAddr::Parse("fd99:1::2").value() && t.dport == 7777;
  };
  ASSERT_TRUE(sink_.WaitFor([&] {
    int n = 0;
    for (const auto& p : sink_.policy) n += is_v6(p.tuple);
    return n >= 2;
  }));
  ASSERT_TRUE(collector_->DumpConntrack().ok());
  {
    std::lock_guard lock(sink_.mu);
    bool dumped = false;
    for (const auto& f : sink_.conntrack) dumped |= is_v6(f.orig) && !f.ended && f.bytes_orig == 40u + 8u + 2u;
    EXPECT_TRUE(dumped);
    for (const auto& p : sink_.policy) {
      if (is_v6(p.tuple)) {
        EXPECT_EQ(p.ip_bytes, 40u + 8u + 2u);
      }
    }
  }

  CollectorStats s = collector_->stats();
  EXPECT_EQ(s.malformed, 0u) << s.last_error;
  EXPECT_EQ(s.kernel_drops, 0u);
  EXPECT_GE(s.policy_packets, 7u);
  EXPECT_EQ(s.dns_packets, 2u);
  EXPECT_GE(s.conntrack_entries, 3u);

  collector_->Stop();
  EXPECT_TRUE(collector_->DumpConntrack().IsUnavailable());
  collector_.reset();
  EXPECT_EQ(ThreadCount(), threads_before) << "a thread was left running";
}

// Not a timing assertion: how many verdicts per second the collector takes
// from the kernel (every denied datagram is one NFLOG message), with the
// kernel sending each at once (qthreshold 1, the default) and batching
// (qthreshold 0 = the kernel's 100).
TEST_F(CollectorRootTest, Throughput) {
  for (uint32_t qthreshold : {1u, 0u}) {
    class CountingSink : public CollectorSink {
     public:
      void OnPolicyPacket(PolicyPacket&&) override { n.fetch_add(1); }
      void OnDnsPacket(DnsPacket&&) override {}
      void OnConntrack(ConntrackFlow&&) override {}
      std::atomic<uint64_t> n{0};
    } counter;
    CollectorOptions o;
    o.netns = node_;
    o.nflog_qthreshold = qthreshold;
    auto c = Collector::Open(o, &counter);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Socket udp_a = BoundSocket(a_, SOCK_DGRAM, "10.99.1.2", 0);
    constexpr int kPackets = 100000;
    const auto start = steady_clock::now();
    Addr to = MakeAddr("10.99.2.2", 9999);
    int sent = 0;
    for (int i = 0; i < kPackets; ++i) {
      if (::sendto(udp_a.get(), "0123456789abcdef", 16, 0, reinterpret_cast<sockaddr*>(&to.ss), to.len) == 16) ++sent;
    }
    const double send_secs = std::chrono::duration<double>(steady_clock::now() - start).count();
    // Wait until all arrived or the count stops growing.
    uint64_t last = 0;
    auto last_change = steady_clock::now();
    while (counter.n.load() < static_cast<uint64_t>(sent) && steady_clock::now() - last_change < seconds(3)) {
      std::this_thread::sleep_for(milliseconds(10));
      if (counter.n.load() != last) {
        last = counter.n.load();
        last_change = steady_clock::now();
      }
    }
    const uint64_t got = counter.n.load();
    const double secs = std::chrono::duration<double>(
                            (got >= static_cast<uint64_t>(sent) ? steady_clock::now() : last_change) - start)
                            .count();
    const CollectorStats s = (*c)->stats();
    std::printf("[ measure  ] qthreshold %u: sent %d datagrams in %.3f s; collector delivered %llu verdicts in "
                "%.3f s = %.0f/s; kernel drops (ENOBUFS) %llu; malformed %llu\n",
                qthreshold, sent, send_secs, static_cast<unsigned long long>(got), secs, got / secs,
                static_cast<unsigned long long>(s.kernel_drops), static_cast<unsigned long long>(s.malformed));
    EXPECT_GT(got, 0u);
    EXPECT_EQ(s.malformed, 0u) << s.last_error;
    (*c)->Stop();
  }
}

}  // namespace
}  // namespace tw::flowlog
