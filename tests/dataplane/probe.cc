// tw_probe: the two ends of a connection for the dataplane matrix
// (tests/dataplane/matrix.sh).  Runs inside a network namespace (a pod's, the
// lab's world) and touches nothing but its own sockets.
//
//   tw_probe serve [--tcp PORT]... [--udp PORT]...
//       Listens on 0.0.0.0 on every port given.  TCP: accepts, writes "ok\n"
//       and closes.  UDP: echoes every datagram to its sender.  Prints "ready"
//       on stdout once every socket is bound, then runs until SIGTERM or
//       SIGINT (exit 0).  Exit 2 when a port cannot be bound.
//
//   tw_probe connect tcp|udp|icmp ADDRESS [PORT] [--timeout-ms N] [--bind ADDRESS]
//       One attempt, answered within N ms (default 1000).  Prints one line and
//       exits with its code:
//         open         0  TCP connected; UDP echo received; ICMP echo reply
//         refused      1  TCP RST; UDP or ICMP answered by "port/host unreachable"
//         timeout      1  nothing came back in time (what a policy drop looks like)
//         unreachable  1  no route, or an ICMP host/net unreachable
//       tcp and udp need PORT; icmp (IPv4 echo request) takes none.  --bind
//       picks the source address (the lab's world has several).  Exit 2 on a
//       usage or system error (message on stderr).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitOpen = 0;
constexpr int kExitClosed = 1;  // refused, timeout, unreachable
constexpr int kExitError = 2;

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "tw_probe: %s\n"
               "usage: tw_probe serve [--tcp PORT]... [--udp PORT]...\n"
               "       tw_probe connect tcp|udp|icmp ADDRESS [PORT] [--timeout-ms N] [--bind ADDRESS]\n",
               why.c_str());
  return kExitError;
}

int SysError(const std::string& what) {
  std::fprintf(stderr, "tw_probe: %s: %s\n", what.c_str(), std::strerror(errno));
  return kExitError;
}

// A decimal number in [lo, hi]; nullopt otherwise.
std::optional<long> ParseNumber(std::string_view text, long lo, long hi) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

// A numeric IPv4 or IPv6 address with `port`; nullopt when `text` is neither.
std::optional<sockaddr_storage> ParseAddress(const std::string& text, uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return ss;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return ss;
  }
  return std::nullopt;
}

// ---- serve ------------------------------------------------------------------

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct Listener {
  int fd;
  bool tcp;
};

// A socket of `type` bound to 0.0.0.0:port (listening for TCP); -1 + errno.
int BindAny(int type, uint16_t port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 64) != 0)) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Accepts every pending connection, answers "ok\n" and closes it.
void ServeTcp(int fd) {
  for (;;) {
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;  // EAGAIN: nothing more pending
    static constexpr char kAnswer[] = "ok\n";
    (void)!::write(c, kAnswer, sizeof kAnswer - 1);
    ::close(c);
  }
}

// Echoes every pending datagram to its sender.
void ServeUdp(int fd) {
  char buf[2048];
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
    if (n < 0) return;
    ::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&peer), len);
  }
}

int Serve(const std::vector<std::string>& args) {
  std::vector<Listener> listeners;
  for (size_t i = 0; i < args.size(); ++i) {
    bool tcp = args[i] == "--tcp";
    if (!tcp && args[i] != "--udp") return Usage("serve: unknown argument " + args[i]);
    if (i + 1 >= args.size()) return Usage("serve: " + args[i] + " needs a port");
    auto port = ParseNumber(args[++i], 1, 65535);
    if (!port) return Usage("serve: " + args[i - 1] + " " + args[i] + ": not a port (1-65535)");
    int fd = BindAny(tcp ? SOCK_STREAM : SOCK_DGRAM, static_cast<uint16_t>(*port));
    if (fd < 0) return SysError(std::string("serve: bind ") + (tcp ? "tcp" : "udp") + " port " + args[i]);
    listeners.push_back({fd, tcp});
  }
  if (listeners.empty()) return Usage("serve: give at least one --tcp or --udp port");

  // SIGTERM/SIGINT stay blocked except inside ppoll: no stop is missed.
  struct sigaction sa{};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  sigset_t blocked, during_poll;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  ::sigprocmask(SIG_BLOCK, &blocked, &during_poll);
  sigdelset(&during_poll, SIGTERM);
  sigdelset(&during_poll, SIGINT);

  std::printf("ready\n");
  std::fflush(stdout);
  std::vector<pollfd> fds;
  for (const Listener& l : listeners) fds.push_back({l.fd, POLLIN, 0});
  while (!g_stop) {
    int n = ::ppoll(fds.data(), fds.size(), nullptr, &during_poll);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError("serve: ppoll");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      if (listeners[i].tcp) {
        ServeTcp(fds[i].fd);
      } else {
        ServeUdp(fds[i].fd);
      }
    }
  }
  for (const Listener& l : listeners) ::close(l.fd);
  return 0;
}

// ---- connect ----------------------------------------------------------------

enum class Outcome { kOpen, kRefused, kTimeout, kUnreachable };

int Report(Outcome o) {
  switch (o) {
    case Outcome::kOpen: std::printf("open\n"); return kExitOpen;
    case Outcome::kRefused: std::printf("refused\n"); return kExitClosed;
    case Outcome::kTimeout: std::printf("timeout\n"); return kExitClosed;
    case Outcome::kUnreachable: std::printf("unreachable\n"); return kExitClosed;
  }
  return kExitError;
}

// The outcome a socket error stands for; nullopt for errors that are not an
// answer from the network (reported as system errors).
std::optional<Outcome> OutcomeOfErrno(int err) {
  switch (err) {
    case ECONNREFUSED: return Outcome::kRefused;
    case ETIMEDOUT: return Outcome::kTimeout;
    case EHOSTUNREACH:
    case ENETUNREACH: return Outcome::kUnreachable;
    default: return std::nullopt;
  }
}

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline` (0 when past).
int MsLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on `fd` until `deadline`: 1 ready, 0 timed out, -1 error.
int WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, MsLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? -1 : (n == 0 ? 0 : 1);
  }
}

struct Target {
  sockaddr_storage addr;
  socklen_t len;
  std::optional<sockaddr_storage> bind;
  socklen_t bind_len = 0;
  Clock::time_point deadline;
};

// A socket of the target's family bound to --bind when given; -1 on error.
int OpenSocket(const Target& t, int type, int protocol) {
  int fd = ::socket(t.addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd < 0) return -1;
  if (t.bind && ::bind(fd, reinterpret_cast<const sockaddr*>(&*t.bind), t.bind_len) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Nonblocking connect; the outcome or a system error (nullopt, errno set).
std::optional<Outcome> ConnectTcp(const Target& t) {
  int fd = OpenSocket(t, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  std::optional<Outcome> out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) == 0) {
    out = Outcome::kOpen;
  } else if (errno != EINPROGRESS) {
    out = OutcomeOfErrno(errno);
  } else {
    int ready = WaitFor(fd, POLLOUT, t.deadline);
    if (ready == 0) {
      out = Outcome::kTimeout;
    } else if (ready > 0) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        out = Outcome::kOpen;
      } else {
        out = OutcomeOfErrno(err);
        errno = err;
      }
    }
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return out;
}

// One datagram out, its echo back (a connected socket reports ICMP port
// unreachable as ECONNREFUSED).
std::optional<Outcome> ConnectUdp(const Target& t) {
  int fd = OpenSocket(t, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  std::optional<Outcome> out;
  static constexpr char kPayload[] = "tw_probe\n";
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) != 0 ||
      ::send(fd, kPayload, sizeof kPayload - 1, 0) < 0) {
    out = OutcomeOfErrno(errno);
  } else {
    for (;;) {
      int ready = WaitFor(fd, POLLIN, t.deadline);
      if (ready == 0) {
        out = Outcome::kTimeout;
        break;
      }
      if (ready < 0) break;
      char buf[64];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n >= 0) {
        out = Outcome::kOpen;
        break;
      }
      if (errno != EAGAIN && errno != EINTR) {
        out = OutcomeOfErrno(errno);
        break;
      }
    }
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return out;
}

uint16_t InternetChecksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len % 2 == 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// The ICMP message in a datagram read from `fd`: raw sockets deliver the IP
// header too, ping sockets do not.
const uint8_t* IcmpPayload(const uint8_t* buf, ssize_t n, bool raw, ssize_t* icmp_len) {
  size_t skip = 0;
  if (raw) {
    if (n < static_cast<ssize_t>(sizeof(iphdr))) return nullptr;
    skip = static_cast<size_t>(reinterpret_cast<const iphdr*>(buf)->ihl) * 4;
  }
  if (n < static_cast<ssize_t>(skip + 8)) return nullptr;
  *icmp_len = n - static_cast<ssize_t>(skip);
  return buf + skip;
}

// An IPv4 echo request, waiting for its reply.  A raw socket (root) when
// possible, else a ping socket (net.ipv4.ping_group_range).
std::optional<Outcome> ConnectIcmp(const Target& t) {
  if (t.addr.ss_family != AF_INET) {
    errno = EAFNOSUPPORT;
    return std::nullopt;
  }
  bool raw = true;
  int fd = OpenSocket(t, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0 && (errno == EPERM || errno == EACCES)) {
    raw = false;
    fd = OpenSocket(t, SOCK_DGRAM, IPPROTO_ICMP);
  }
  if (fd < 0) return std::nullopt;
  // A ping socket picks its own id (the local "port"); a raw one uses ours,
  // so that parallel probes in one namespace do not take each other's replies.
  uint16_t id = static_cast<uint16_t>(::getpid() & 0xffff);
  uint8_t req[8 + 16] = {};
  req[0] = ICMP_ECHO;
  std::memcpy(req + 4, &id, 2);  // network order does not matter: we compare bytes
  req[7] = 1;                    // sequence 1
  std::memcpy(req + 8, "tw_probe-payload", 16);
  uint16_t sum = InternetChecksum(req, sizeof req);
  std::memcpy(req + 2, &sum, 2);
  std::optional<Outcome> out;
  const auto* dst = reinterpret_cast<const sockaddr_in*>(&t.addr);
  if (::sendto(fd, req, sizeof req, 0, reinterpret_cast<const sockaddr*>(&t.addr), t.len) < 0) {
    out = OutcomeOfErrno(errno);
  } else {
    for (;;) {
      int ready = WaitFor(fd, POLLIN, t.deadline);
      if (ready == 0) {
        out = Outcome::kTimeout;
        break;
      }
      if (ready < 0) break;
      uint8_t buf[1500];
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        out = OutcomeOfErrno(errno);
        break;
      }
      ssize_t len = 0;
      const uint8_t* icmp = IcmpPayload(buf, n, raw, &len);
      if (icmp == nullptr) continue;
      if (icmp[0] == ICMP_ECHOREPLY && from.sin_addr.s_addr == dst->sin_addr.s_addr &&
          (!raw || std::memcmp(icmp + 4, &id, 2) == 0)) {
        out = Outcome::kOpen;
        break;
      }
      // An error about our request: it quotes the IP header and the first
      // 8 bytes of our echo request (type, code, checksum, id, sequence).
      if (icmp[0] == ICMP_DEST_UNREACH && len >= 8 + static_cast<ssize_t>(sizeof(iphdr)) + 8) {
        const auto* quoted = reinterpret_cast<const iphdr*>(icmp + 8);
        const uint8_t* quoted_icmp = icmp + 8 + quoted->ihl * 4;
        if (quoted_icmp + 8 <= icmp + len && quoted->daddr == dst->sin_addr.s_addr &&
            quoted_icmp[0] == ICMP_ECHO && (!raw || std::memcmp(quoted_icmp + 4, &id, 2) == 0)) {
          bool host = icmp[1] == ICMP_HOST_UNREACH || icmp[1] == ICMP_NET_UNREACH;
          out = host ? Outcome::kUnreachable : Outcome::kRefused;
          break;
        }
      }
    }
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return out;
}

int Connect(const std::vector<std::string>& args) {
  std::vector<std::string> pos;
  long timeout_ms = 1000;
  std::string bind;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--timeout-ms" || args[i] == "--bind") {
      if (i + 1 >= args.size()) return Usage("connect: " + args[i] + " needs a value");
      if (args[i] == "--bind") {
        bind = args[++i];
        continue;
      }
      auto v = ParseNumber(args[++i], 1, 600000);
      if (!v) return Usage("connect: --timeout-ms " + args[i] + ": must be 1-600000");
      timeout_ms = *v;
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() < 2) return Usage("connect: expected PROTOCOL ADDRESS [PORT]");
  const std::string& proto = pos[0];
  bool needs_port = proto == "tcp" || proto == "udp";
  if (!needs_port && proto != "icmp") return Usage("connect: protocol " + proto + ": must be tcp, udp or icmp");
  if (needs_port && pos.size() != 3) return Usage("connect: " + proto + " needs ADDRESS and PORT");
  if (!needs_port && pos.size() != 2) return Usage("connect: icmp takes ADDRESS only");
  uint16_t port = 0;
  if (needs_port) {
    auto p = ParseNumber(pos[2], 1, 65535);
    if (!p) return Usage("connect: port " + pos[2] + ": must be 1-65535");
    port = static_cast<uint16_t>(*p);
  }
  Target t{};
  auto addr = ParseAddress(pos[1], port, &t.len);
  if (!addr) return Usage("connect: address " + pos[1] + ": not an IPv4 or IPv6 address");
  t.addr = *addr;
  if (!bind.empty()) {
    t.bind = ParseAddress(bind, 0, &t.bind_len);
    if (!t.bind) return Usage("connect: --bind " + bind + ": not an IPv4 or IPv6 address");
    if (t.bind->ss_family != t.addr.ss_family) return Usage("connect: --bind and ADDRESS are of different families");
  }
  t.deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);

  std::optional<Outcome> out;
  if (proto == "tcp") {
    out = ConnectTcp(t);
  } else if (proto == "udp") {
    out = ConnectUdp(t);
  } else {
    out = ConnectIcmp(t);
  }
  if (!out) return SysError("connect " + proto + " " + pos[1] + (needs_port ? " port " + pos[2] : ""));
  return Report(*out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("expected serve or connect");
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "serve") return Serve(args);
  if (cmd == "connect") return Connect(args);
  return Usage("unknown command " + cmd);
}
