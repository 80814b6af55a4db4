// Node networking against the real kernel: two pod sandboxes behind a node
// namespace, TCP between them through the node, and cleanup.
//
// Everything lives in namespaces these tests create: the node is
// "twt-<pid>-node", pods are "tw-twt-<pid>-<pod>" (SandboxNetnsName of
// namespace "twt-<pid>").  The host's own namespace is only read (its
// ip_forward, to prove it is left alone).  TearDown deletes every namespace
// carrying the test's pid, also after a failed assertion.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/strings.h"
#include "net/cidr.h"
#include "node/ipam.h"
#include "node/names.h"
#include "node/netns.h"
#include "node/sandbox.h"

namespace tw::node {
namespace {

std::string Tag() { return "twt-" + std::to_string(::getpid()); }

// Runs `ip` in `netns`, expecting success; returns its output.
std::string Ip(const std::string& netns, std::vector<std::string> args) {
  args.insert(args.begin(), IpTool());
  auto r = Exec(netns, args);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  EXPECT_EQ(r->exit_code, 0) << Join(args, " ") << ": " << r->output;
  return r->output;
}

std::string ReadSysctl(const std::string& netns, const std::string& key) {
  std::string value;
  Status s = RunInNetns(netns, [&]() -> Status {
    TW_ASSIGN_OR_RETURN(value, ReadFile("/proc/sys/" + key));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::string(TrimSpace(value));
}

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in SockAddr(const net::IpAddr& ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.v4());
  return sa;
}

// A listening TCP socket on ip:<any port> inside `netns`.
Result<Socket> Listen(const std::string& netns, const net::IpAddr& ip, uint16_t* port) {
  Socket sock;
  TW_RETURN_IF_ERROR(RunInNetns(netns, [&]() -> Status {
    sock = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa = SockAddr(ip, 0);
    if (sock.get() < 0 || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
        ::listen(sock.get(), 4) != 0) {
      return Status::IoError("listen on " + ip.ToString() + ": " + std::strerror(errno));
    }
    socklen_t len = sizeof(sa);
    ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    *port = ntohs(sa.sin_port);
    return Status::Ok();
  }));
  return sock;
}

// Connects from inside `netns`; the poll bound only keeps a broken network
// from hanging the test (it is not a timing assertion).
Result<Socket> Connect(const std::string& netns, const net::IpAddr& ip, uint16_t port) {
  Socket sock;
  TW_RETURN_IF_ERROR(RunInNetns(netns, [&]() -> Status {
    sock = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in sa = SockAddr(ip, port);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
      return Status::IoError("connect " + ip.ToString() + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }));
  pollfd p{sock.get(), POLLOUT, 0};
  if (::poll(&p, 1, 10000) != 1) return Status::Unavailable("connect: no answer");
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Status::IoError(std::string("connect: ") + std::strerror(err));
  ::fcntl(sock.get(), F_SETFL, 0);
  return sock;
}

class NodeRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    node_ = Tag() + "-node";
    host_forward_ = ReadSysctl("", "net/ipv4/ip_forward");
    ASSERT_TRUE(CreateNetns(node_).ok());
    // The node's uplink: a veth whose peer stays in the node too, carrying
    // the default route that proxy ARP for 169.254.1.1 needs.
    Ip(node_, {"link", "add", "twup0", "type", "veth", "peer", "name", "twup1"});
    Ip(node_, {"link", "set", "twup1", "up"});
    Ip(node_, {"link", "set", "twup0", "up"});
    Ip(node_, {"route", "add", "default", "dev", "twup0"});
  }

  void TearDown() override {
    if (node_.empty()) return;
    auto names = ListNetns();
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) {
      if (name.find(Tag() + "-") != std::string::npos) {
        EXPECT_TRUE(RemoveNetnsEtc(name).ok());
        Status s = DeleteNetns(name);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
    EXPECT_EQ(Ours(), std::vector<std::string>{}) << "namespaces left behind";
    EXPECT_EQ(ReadSysctl("", "net/ipv4/ip_forward"), host_forward_) << "host namespace touched";
  }

  // Our namespaces still present.
  std::vector<std::string> Ours() {
    std::vector<std::string> out;
    std::vector<std::string> all = ListNetns().value();
    for (const auto& name : all) {
      if (name.find(Tag() + "-") != std::string::npos) out.push_back(name);
    }
    return out;
  }

  struct Pod {
    std::string netns, iface;
    net::IpAddr ip;
  };
  Pod MakePod(Ipam& ipam, const std::string& name) {
    Pod pod{SandboxNetnsName(Tag(), name).value(), HostIfaceName(Tag(), name).value(),
            ipam.Allocate().value()};
    Status s = CreateSandbox(node_, pod.netns, pod.iface, pod.ip);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return pod;
  }

  std::string node_;
  std::string host_forward_;
};

TEST_F(NodeRootTest, TwoPodsTalkThroughTheNodeAndLeaveNothingBehind) {
  Ipam ipam(net::Cidr::Parse("10.244.0.0/16").value());
  Pod a = MakePod(ipam, "client");
  Pod b = MakePod(ipam, "server");
  EXPECT_EQ(a.netns, "tw-" + Tag() + "-client");
  EXPECT_EQ(b.ip.ToString(), "10.244.0.2");

  // Pod side: /32 address, gateway route, default route.
  EXPECT_NE(Ip(a.netns, {"-o", "addr", "show", "dev", "eth0"}).find("inet 10.244.0.1/32"), std::string::npos);
  std::string routes = Ip(a.netns, {"route", "show"});
  EXPECT_NE(routes.find("default via 169.254.1.1 dev eth0"), std::string::npos) << routes;
  EXPECT_NE(routes.find("169.254.1.1 dev eth0 scope link"), std::string::npos) << routes;
  // Node side: route per pod, proxy ARP, forwarding.
  std::string node_routes = Ip(node_, {"route", "show"});
  EXPECT_NE(node_routes.find("10.244.0.1 dev " + a.iface + " scope link"), std::string::npos) << node_routes;
  EXPECT_NE(node_routes.find("10.244.0.2 dev " + b.iface + " scope link"), std::string::npos) << node_routes;
  EXPECT_EQ(ReadSysctl(node_, "net/ipv4/conf/" + a.iface + "/proxy_arp"), "1");
  EXPECT_EQ(ReadSysctl(node_, "net/ipv4/neigh/" + a.iface + "/proxy_delay"), "0");
  EXPECT_EQ(ReadSysctl(node_, "net/ipv4/ip_forward"), "1");
  EXPECT_NE(Ip(node_, {"-o", "link", "show", "dev", a.iface}).find("ee:ee:ee:ee:ee:ee"), std::string::npos);

  // TCP from client to server, routed by the node (the server sees the
  // client's own address: no NAT on the way).
  uint16_t port = 0;
  auto listener = Listen(b.netns, b.ip, &port);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  auto client = Connect(a.netns, b.ip, port);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  Socket conn(::accept(listener->get(), reinterpret_cast<sockaddr*>(&peer), &len));
  ASSERT_GE(conn.get(), 0);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), a.ip.v4());
  ASSERT_EQ(::send(client->get(), "ping", 4, 0), 4);
  timeval guard{10, 0};  // only keeps a broken network from hanging the test
  ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  char buf[8] = {};
  ASSERT_EQ(::recv(conn.get(), buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");

  // Exec returns the command's exit code, inside the pod.
  auto r = Exec(a.netns, {"sh", "-c", "ip -o addr show dev eth0 >/dev/null && exit 7"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7) << r->output;

  // Delete: both ends, the routes and the namespaces go; twice is fine.
  for (const Pod* pod : {&a, &b}) {
    Status s = DeleteSandbox(node_, pod->netns, pod->iface);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(DeleteSandbox(node_, pod->netns, pod->iface).ok());
    EXPECT_FALSE(LinkExists(node_, pod->iface).value());
    EXPECT_FALSE(NetnsExists(pod->netns).value());
  }
  EXPECT_EQ(Ip(node_, {"route", "show", "root", "10.244.0.0/16"}), "");
  EXPECT_EQ(Ours(), std::vector<std::string>{node_});
}

TEST_F(NodeRootTest, TakenNamesAreRefusedAndLeaveTheOwnerIntact) {
  Ipam ipam(net::Cidr::Parse("10.244.0.0/16").value());
  Pod a = MakePod(ipam, "first");
  net::IpAddr other = ipam.Allocate().value();

  // Same pod namespace: refused, the existing veth is kept.
  Status s = CreateSandbox(node_, a.netns, "twother0", other);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_FALSE(LinkExists(node_, "twother0").value());
  // Same host interface: refused before the new namespace is made.
  std::string fresh = Tag() + "-fresh";
  s = CreateSandbox(node_, fresh, a.iface, other);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_FALSE(NetnsExists(fresh).value());
  EXPECT_TRUE(LinkExists(node_, a.iface).value());
  EXPECT_NE(Ip(a.netns, {"-o", "addr", "show", "dev", "eth0"}).find(a.ip.ToString() + "/32"),
            std::string::npos);
  // Missing node namespace.
  s = CreateSandbox(Tag() + "-nonode", fresh, "twx0", other);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_FALSE(NetnsExists(fresh).value());

  // A failure at any later step is rolled back: neither the namespace nor
  // the veth nor the node route is left.
  for (int step = 1; step <= 3; ++step) {
    FailSandboxAfterStepForTest(step);
    s = CreateSandbox(node_, fresh, "twhalf0", other);
    FailSandboxAfterStepForTest(0);
    EXPECT_TRUE(s.IsIoError()) << step << ": " << s.ToString();
    EXPECT_NE(s.message().find("injected"), std::string::npos) << s.message();
    EXPECT_FALSE(NetnsExists(fresh).value()) << step;
    EXPECT_FALSE(LinkExists(node_, "twhalf0").value()) << step;
    EXPECT_EQ(Ip(node_, {"route", "show", other.ToString()}), "") << step;
  }
  // And the same call without the hook works.
  s = CreateSandbox(node_, fresh, "twhalf0", other);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(DeleteSandbox(node_, fresh, "twhalf0").ok());

  EXPECT_TRUE(DeleteSandbox(node_, a.netns, a.iface).ok());
  EXPECT_EQ(Ours(), std::vector<std::string>{node_});
}

TEST_F(NodeRootTest, ExecSeesThePodsEtcFilesAndTheHostKeepsItsOwn) {
  std::string host_resolv = ReadFile("/etc/resolv.conf").value_or("");
  std::string pod = Tag() + "-etc";
  ASSERT_TRUE(CreateNetns(pod).ok());
  ASSERT_TRUE(WriteNetnsEtcFile(pod, "resolv.conf", "nameserver 198.51.100.53\n").ok());
  // A file with no /etc namesake is not bound (ip netns exec does the same).
  ASSERT_TRUE(WriteNetnsEtcFile(pod, "tw-no-such-file", "x\n").ok());
  auto r = Exec(pod, {"cat", "/etc/resolv.conf"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "nameserver 198.51.100.53\n");
  auto missing = Exec(pod, {"cat", "/etc/tw-no-such-file"});
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->exit_code, 0);
  // The bind lives in the child's own mount namespace only.
  EXPECT_EQ(ReadFile("/etc/resolv.conf").value_or(""), host_resolv);
  EXPECT_FALSE(WriteNetnsEtcFile(pod, "../escape", "x").ok());
  ASSERT_TRUE(RemoveNetnsEtc(pod).ok());
  EXPECT_FALSE(std::filesystem::exists(std::string(kNetnsEtcDir) + "/" + pod));
  auto plain = Exec(pod, {"cat", "/etc/resolv.conf"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->output, host_resolv);
  EXPECT_TRUE(RemoveNetnsEtc(pod).ok()) << "removing twice is fine";
}

}  // namespace
}  // namespace tw::node
