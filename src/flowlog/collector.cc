#include "flowlog/collector.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "base/file.h"
#include "flowlog/conntrack_msg.h"
#include "flowlog/packet.h"
#include "flowlog/wire.h"
#include "node/netns.h"

namespace tw::flowlog {
namespace {

using std::chrono::steady_clock;

using wire::kNfgenLen;
using wire::kNlmsgHeaderLen;
// One NFLOG message holds up to 0xffff packet bytes plus attributes; a
// dump reply is at most a few pages.
constexpr size_t kRecvBufferSize = 256 * 1024;
// How long setup waits for one netlink ACK, and a dump for the next reply.
constexpr int kAckTimeoutMs = 5000;
// Buffers read from one socket before looking at the others again.
constexpr int kMaxReadsPerWake = 64;
// How often an unknown interface index may trigger a re-read of the list.
constexpr auto kIfaceRefreshInterval = std::chrono::seconds(1);

std::string Errno(int err) { return std::strerror(err); }

void PutHost16(std::vector<uint8_t>* b, size_t at, uint16_t v) { std::memcpy(&(*b)[at], &v, 2); }

// nlmsghdr + nfgenmsg of an NFULNL_MSG_CONFIG request for `group`.
std::vector<uint8_t> NflogConfigHeader(uint8_t family, uint16_t group, uint32_t seq) {
  std::vector<uint8_t> b(kNlmsgHeaderLen + kNfgenLen, 0);
  nlmsghdr h{};
  h.nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h.nlmsg_seq = seq;
  std::memcpy(b.data(), &h, sizeof h);
  b[16] = family;
  b[17] = NFNETLINK_V0;
  b[18] = static_cast<uint8_t>(group >> 8);  // res_id, big-endian
  b[19] = static_cast<uint8_t>(group);
  return b;
}

void AppendAttr(std::vector<uint8_t>* b, uint16_t type, const void* value, size_t len) {
  const size_t at = b->size();
  b->resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
  PutHost16(b, at, static_cast<uint16_t>(NLA_HDRLEN + len));
  PutHost16(b, at + 2, type);
  std::memcpy(b->data() + at + NLA_HDRLEN, value, len);
}

void FinishMessage(std::vector<uint8_t>* b) {
  const uint32_t len = static_cast<uint32_t>(b->size());
  std::memcpy(b->data(), &len, 4);
}

using Fd = UniqueFd;

// Moves the calling thread into /run/netns/<name> for good.
Status JoinNetns(const std::string& name) {
  TW_ASSIGN_OR_RETURN(int ns, node::OpenNetns(name));
  Fd fd(ns);
  if (::setns(fd.get(), CLONE_NEWNET) != 0) {
    return Status::IoError("collector: netns '" + name + "': setns: " + Errno(errno));
  }
  return Status::Ok();
}

// Interface names of the namespace the calling thread is in, cached; an
// unknown index re-reads the whole list (at most once per second).
class IfaceCache {
 public:
  std::string Name(uint32_t ifindex) {
    if (auto it = names_.find(ifindex); it != names_.end()) return it->second;
    const auto now = steady_clock::now();
    if (refreshed_ && now - last_refresh_ < kIfaceRefreshInterval) return "";
    Refresh();
    refreshed_ = true;
    last_refresh_ = now;
    auto it = names_.find(ifindex);
    return it == names_.end() ? "" : it->second;
  }

 private:
  void Refresh() {
    names_.clear();
    struct if_nameindex* list = ::if_nameindex();
    if (list == nullptr) return;
    for (struct if_nameindex* i = list; i->if_index != 0 && i->if_name != nullptr; ++i) names_[i->if_index] = i->if_name;
    ::if_freenameindex(list);
  }

  std::map<uint32_t, std::string> names_;
  bool refreshed_ = false;
  steady_clock::time_point last_refresh_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Pure conversions

TimePoint NflogPacketTime(const NflogPacket& packet, TimePoint received) {
  if (!packet.timestamp || packet.timestamp->usec >= 1000000 ||
      packet.timestamp->sec > static_cast<uint64_t>(INT64_MAX / 1000000)) {
    return received;
  }
  const auto stamp = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(packet.timestamp->sec) + std::chrono::microseconds(packet.timestamp->usec)));
  const auto diff = stamp > received ? stamp - received : received - stamp;
  return diff <= std::chrono::hours(1) ? stamp : received;
}

Result<PolicyPacket> ToPolicyPacket(const NflogPacket& packet, policy::Direction direction, TimePoint received,
                                    const IfaceNamer& namer) {
  auto info = ParsePacket(packet.payload);
  if (!info.ok()) return info.error().WithPrefix("nflog group " + std::to_string(packet.group));
  PolicyPacket out;
  out.time = NflogPacketTime(packet, received);
  out.direction = direction;
  const std::optional<uint32_t>& dev = direction == policy::Direction::kIngress ? packet.outdev : packet.indev;
  if (dev && namer) out.iface = namer(*dev);
  out.tuple.src = info->src;
  out.tuple.dst = info->dst;
  out.tuple.proto = info->protocol;
  out.tuple.sport = info->src_port.value_or(0);
  out.tuple.dport = info->dst_port.value_or(0);
  out.ip_bytes = info->total_length != 0 ? info->total_length : static_cast<uint32_t>(packet.payload.size());
  out.prefix = std::string(packet.prefix);
  return out;
}

Result<DnsPacket> ToDnsPacket(const NflogPacket& packet, TimePoint received) {
  auto info = ParsePacket(packet.payload);
  if (!info.ok()) return info.error().WithPrefix("nflog group " + std::to_string(packet.group));
  if (info->protocol != kProtoUdp && info->protocol != kProtoTcp) {
    return Status::Unsupported("nflog group " + std::to_string(packet.group) + ": DNS copy of protocol " +
                               ProtocolName(info->protocol) + " (only udp and tcp carry DNS)");
  }
  DnsPacket out;
  out.time = NflogPacketTime(packet, received);
  out.tuple.src = info->src;
  out.tuple.dst = info->dst;
  out.tuple.proto = info->protocol;
  out.tuple.sport = info->src_port.value_or(0);
  out.tuple.dport = info->dst_port.value_or(0);
  const auto payload = PacketPayload(packet.payload, *info);
  out.dns.assign(payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> BuildNflogConfigCommand(uint8_t family, uint16_t group, uint8_t command, uint32_t seq) {
  std::vector<uint8_t> b = NflogConfigHeader(family, group, seq);
  nfulnl_msg_config_cmd cmd{command};
  AppendAttr(&b, NFULA_CFG_CMD, &cmd, sizeof cmd);
  FinishMessage(&b);
  return b;
}

std::vector<uint8_t> BuildNflogCopyPacketMode(uint16_t group, uint32_t range, uint32_t seq) {
  std::vector<uint8_t> b = NflogConfigHeader(AF_UNSPEC, group, seq);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(range);
  mode.copy_mode = NFULNL_COPY_PACKET;
  AppendAttr(&b, NFULA_CFG_MODE, &mode, sizeof mode);
  FinishMessage(&b);
  return b;
}

std::vector<uint8_t> BuildNflogQueueThreshold(uint16_t group, uint32_t qthreshold, uint32_t seq) {
  std::vector<uint8_t> b = NflogConfigHeader(AF_UNSPEC, group, seq);
  const uint32_t value = htonl(qthreshold);
  AppendAttr(&b, NFULA_CFG_QTHRESH, &value, sizeof value);
  FinishMessage(&b);
  return b;
}

// ---------------------------------------------------------------------------
// MessageDecoder

MessageDecoder::MessageDecoder(CollectorOptions options, CollectorSink* sink, IfaceNamer namer)
    : options_(std::move(options)), sink_(sink), namer_(std::move(namer)) {}

void MessageDecoder::HandleBuffer(std::span<const uint8_t> buffer, TimePoint received) {
  std::vector<NetlinkMessageView> messages;
  Status split = SplitNetlinkMessages(buffer, &messages);
  for (const auto& m : messages) HandleMessage(m, received);
  if (!split.ok()) {
    CountMessage();
    CountMalformed(split.message());
  }
}

void MessageDecoder::HandleMessage(const NetlinkMessageView& message, TimePoint received) {
  CountMessage();
  if (message.type == kNflogPacketMsgType) {
    HandleNflog(message.bytes, received);
  } else if (IsConntrackMessageType(message.type)) {
    HandleConntrack(message.bytes, received);
  } else {
    ignored_.fetch_add(1, std::memory_order_relaxed);  // acks, NLMSG_DONE, config replies
  }
}

void MessageDecoder::HandleNflog(std::span<const uint8_t> bytes, TimePoint received) {
  auto pkt = ParseNflogMessage(bytes);
  if (!pkt.ok()) return CountMalformed(pkt.error().message());
  const uint16_t group = pkt->group;
  if (group != 0 && (group == options_.ingress_group || group == options_.egress_group)) {
    const auto dir = group == options_.ingress_group ? policy::Direction::kIngress : policy::Direction::kEgress;
    auto p = ToPolicyPacket(*pkt, dir, received, namer_);
    if (!p.ok()) return CountMalformed(p.error().message());
    p->seq = next_seq_++;
    policy_packets_.fetch_add(1, std::memory_order_relaxed);
    sink_->OnPolicyPacket(std::move(*p));
  } else if (group != 0 && group == options_.dns_group) {
    auto d = ToDnsPacket(*pkt, received);
    if (!d.ok()) {
      if (d.error().IsUnsupported()) {
        ignored_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      return CountMalformed(d.error().message());
    }
    if (d->dns.empty()) {  // TCP handshake / ACK segments of a DNS connection
      ignored_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    dns_packets_.fetch_add(1, std::memory_order_relaxed);
    sink_->OnDnsPacket(std::move(*d));
  } else {
    ignored_.fetch_add(1, std::memory_order_relaxed);
  }
}

void MessageDecoder::HandleConntrack(std::span<const uint8_t> bytes, TimePoint received) {
  if (!options_.conntrack) {
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto flow = ParseConntrackMessage(bytes);
  if (!flow.ok()) return CountMalformed(flow.error().message());
  flow->time = received;
  conntrack_entries_.fetch_add(1, std::memory_order_relaxed);
  sink_->OnConntrack(std::move(*flow));
}

void MessageDecoder::CountKernelDrop(std::string_view what) {
  kernel_drops_.fetch_add(1, std::memory_order_relaxed);
  RecordError(std::string(what));
}

void MessageDecoder::CountMalformed(std::string_view what) {
  malformed_.fetch_add(1, std::memory_order_relaxed);
  RecordError(std::string(what));
}

void MessageDecoder::RecordError(std::string text) {
  std::lock_guard lock(error_mu_);
  last_error_ = std::move(text);
}

CollectorStats MessageDecoder::stats() const {
  CollectorStats s;
  s.messages = messages_.load(std::memory_order_relaxed);
  s.policy_packets = policy_packets_.load(std::memory_order_relaxed);
  s.dns_packets = dns_packets_.load(std::memory_order_relaxed);
  s.conntrack_entries = conntrack_entries_.load(std::memory_order_relaxed);
  s.malformed = malformed_.load(std::memory_order_relaxed);
  s.ignored = ignored_.load(std::memory_order_relaxed);
  s.kernel_drops = kernel_drops_.load(std::memory_order_relaxed);
  std::lock_guard lock(error_mu_);
  s.last_error = last_error_;
  return s;
}

// ---------------------------------------------------------------------------
// Collector

struct Collector::Impl {
  Impl(const CollectorOptions& o, CollectorSink* s)
      : options(o), decoder(o, s, [this](uint32_t i) { return ifaces.Name(i); }) {}

  // Reader thread --------------------------------------------------------
  void Run(std::promise<Status>* ready);
  Status Setup();
  Result<int> OpenNetlink(const char* what, bool big_buffer);
  Status SendAndAwaitAck(int fd, const std::vector<uint8_t>& request, const std::string& what);
  Status ConfigureNflog();
  Status EnableAccounting();
  void Loop();
  // Reads and decodes what `fd` holds now, at most kMaxReadsPerWake
  // buffers (then the other sockets get their turn).
  void Drain(int fd, const char* what);
  // One recvmsg from the kernel; >0 bytes, 0 = nothing (EAGAIN or a
  // message that was not the kernel's), <0 = a counted error.
  ssize_t ReceiveFromKernel(int fd, const char* what, int flags);
  Status DoDump();
  Status DumpFamily(uint8_t family);

  const CollectorOptions options;
  IfaceCache ifaces;  // reader thread only
  MessageDecoder decoder;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kRecvBufferSize);
  uint32_t next_seq = 1;

  Fd wake;       // eventfd: Stop and DumpConntrack
  Fd nflog;      // NFLOG groups
  Fd ct_events;  // NFNLGRP_CONNTRACK_DESTROY
  Fd ct_dump;    // dump requests and replies
  std::thread thread;
  std::thread::id reader_id;

  // Shared with the callers of Stop / DumpConntrack.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool stopped = false;     // the reader thread has left its loop
  uint64_t dump_requested = 0, dump_done = 0;
  Status dump_status;
  std::mutex dump_callers;  // one DumpConntrack at a time

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake.get(), &one, sizeof one);
  }
};

void Collector::Impl::Run(std::promise<Status>* ready) {
  reader_id = std::this_thread::get_id();
  Status s = Setup();
  const bool ok = s.ok();
  ready->set_value(std::move(s));
  if (ok) Loop();
  std::lock_guard lock(mu);
  stopped = true;
  cv.notify_all();
}

Status Collector::Impl::Setup() {
  if (!options.netns.empty()) TW_RETURN_IF_ERROR(JoinNetns(options.netns));
  if (options.ingress_group != 0 || options.egress_group != 0 || options.dns_group != 0) {
    TW_ASSIGN_OR_RETURN(int fd, OpenNetlink("nflog", true));
    nflog.Reset(fd);
    TW_RETURN_IF_ERROR(ConfigureNflog());
  }
  if (options.conntrack) {
    TW_ASSIGN_OR_RETURN(int events, OpenNetlink("conntrack events", true));
    ct_events.Reset(events);
    const int group = NFNLGRP_CONNTRACK_DESTROY;
    if (::setsockopt(events, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
      return Status::IoError("collector: conntrack events: join NFNLGRP_CONNTRACK_DESTROY: " + Errno(errno));
    }
    TW_ASSIGN_OR_RETURN(int dump, OpenNetlink("conntrack dump", false));
    ct_dump.Reset(dump);
    TW_RETURN_IF_ERROR(EnableAccounting());
  }
  return Status::Ok();
}

Result<int> Collector::Impl::OpenNetlink(const char* what, bool big_buffer) {
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
  if (fd.get() < 0) return Status::IoError(std::string("collector: ") + what + ": netlink socket: " + Errno(errno));
  if (big_buffer && options.rcvbuf > 0 &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &options.rcvbuf, sizeof options.rcvbuf) != 0 &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.rcvbuf, sizeof options.rcvbuf) != 0) {
    return Status::IoError(std::string("collector: ") + what + ": SO_RCVBUF " + std::to_string(options.rcvbuf) +
                           ": " + Errno(errno));
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Status::IoError(std::string("collector: ") + what + ": bind: " + Errno(errno));
  }
  return fd.Release();
}

ssize_t Collector::Impl::ReceiveFromKernel(int fd, const char* what, int flags) {
  sockaddr_nl from{};
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  const ssize_t n = ::recvmsg(fd, &msg, flags);
  if (n < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return 0;
    if (err == ENOBUFS) {
      decoder.CountKernelDrop(std::string("collector: ") + what + ": the kernel dropped messages (ENOBUFS)");
    } else {
      decoder.RecordError(std::string("collector: ") + what + ": recvmsg: " + Errno(err));
    }
    return -1;
  }
  if (from.nl_pid != 0) return 0;  // not from the kernel: never trusted
  if (msg.msg_flags & MSG_TRUNC) {
    decoder.CountMessage();
    decoder.CountMalformed(std::string("collector: ") + what + ": message longer than the " +
                           std::to_string(buffer.size()) + "-byte receive buffer");
    return 0;
  }
  return n;
}

// Sends one request and reads until its ACK (NLMSG_ERROR with our seq);
// messages read meanwhile (packets already logged) are decoded.
Status Collector::Impl::SendAndAwaitAck(int fd, const std::vector<uint8_t>& request, const std::string& what) {
  uint32_t seq;
  std::memcpy(&seq, request.data() + 8, 4);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    return Status::IoError("collector: " + what + ": send: " + Errno(errno));
  }
  const auto deadline = steady_clock::now() + std::chrono::milliseconds(kAckTimeoutMs);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) return Status::Unavailable("collector: " + what + ": no answer from the kernel");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ReceiveFromKernel(fd, "nflog", 0);
    if (n <= 0) continue;
    std::vector<NetlinkMessageView> messages;
    const std::span<const uint8_t> got(buffer.data(), static_cast<size_t>(n));
    (void)SplitNetlinkMessages(got, &messages);
    std::optional<int> error;
    for (const auto& m : messages) {
      if (m.type == NLMSG_ERROR && m.seq == seq && m.bytes.size() >= kNlmsgHeaderLen + 4) {
        int e;
        std::memcpy(&e, m.bytes.data() + kNlmsgHeaderLen, 4);
        error = -e;
        decoder.CountMessage();
      } else {
        decoder.HandleMessage(m, std::chrono::system_clock::now());
      }
    }
    if (!error) continue;
    if (*error == 0) return Status::Ok();
    if (*error == EBUSY || *error == EPERM) {  // the kernel answers EPERM for a group another socket holds
      return Status::Unavailable("collector: " + what + ": " + Errno(*error) +
                                 " (is another socket bound to it? binding needs CAP_NET_ADMIN too)");
    }
    return Status::IoError("collector: " + what + ": " + Errno(*error));
  }
}

Status Collector::Impl::ConfigureNflog() {
  // No NFULNL_CFG_CMD_PF_UNBIND / PF_BIND: kernels since 3.17 deliver
  // `log group N` without them, and on those kernels they would replace
  // the namespace's default logger (what conntrack's invalid-packet logging
  // uses) with NFLOG group 0.
  const std::pair<uint16_t, uint32_t> groups[] = {{options.ingress_group, options.policy_snaplen},
                                                  {options.egress_group, options.policy_snaplen},
                                                  {options.dns_group, options.dns_snaplen}};
  for (const auto& [group, range] : groups) {
    if (group == 0) continue;
    const std::string what = "nflog group " + std::to_string(group);
    TW_RETURN_IF_ERROR(
        SendAndAwaitAck(nflog.get(), BuildNflogConfigCommand(AF_UNSPEC, group, NFULNL_CFG_CMD_BIND, next_seq++), what));
    TW_RETURN_IF_ERROR(SendAndAwaitAck(nflog.get(), BuildNflogCopyPacketMode(group, range, next_seq++),
                                       what + ": copy mode"));
    if (options.nflog_qthreshold != 0) {
      TW_RETURN_IF_ERROR(SendAndAwaitAck(
          nflog.get(), BuildNflogQueueThreshold(group, options.nflog_qthreshold, next_seq++), what + ": qthreshold"));
    }
  }
  return Status::Ok();
}

// Writes 1 to nf_conntrack_acct of the namespace this thread is in (the
// /proc/sys/net files belong to the opener's namespace).
Status Collector::Impl::EnableAccounting() {
  const char* path = "/proc/sys/net/netfilter/nf_conntrack_acct";
  const std::string where = options.netns.empty() ? "" : "netns '" + options.netns + "': ";
  Fd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Status::IoError("collector: " + where + "enable conntrack accounting: open " + path + ": " + Errno(errno) +
                           (errno == ENOENT ? " (is nf_conntrack loaded?)" : ""));
  }
  if (::write(fd.get(), "1", 1) != 1) {
    return Status::IoError("collector: " + where + "enable conntrack accounting: write " + path + ": " +
                           Errno(errno));
  }
  return Status::Ok();
}

void Collector::Impl::Drain(int fd, const char* what) {
  for (int i = 0; i < kMaxReadsPerWake; ++i) {
    const ssize_t n = ReceiveFromKernel(fd, what, MSG_DONTWAIT);
    if (n == 0) {
      // EAGAIN or a foreign sender: check whether more is queued.
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return;
      continue;
    }
    if (n < 0) continue;  // ENOBUFS: counted; the socket is readable again
    decoder.HandleBuffer(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)),
                         std::chrono::system_clock::now());
  }
}

void Collector::Impl::Loop() {
  while (true) {
    pollfd fds[3] = {{wake.get(), POLLIN, 0}, {nflog.get(), POLLIN, 0}, {ct_events.get(), POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      decoder.RecordError("collector: poll: " + Errno(errno));
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake.get(), &count, sizeof count);
      uint64_t dump_to = 0;
      {
        std::lock_guard lock(mu);
        if (stopping) return;
        if (dump_requested > dump_done) dump_to = dump_requested;
      }
      if (dump_to != 0) {
        Status s = DoDump();
        std::lock_guard lock(mu);
        dump_status = std::move(s);
        dump_done = dump_to;
        cv.notify_all();
      }
    }
    if (fds[1].revents & (POLLIN | POLLERR)) Drain(nflog.get(), "nflog");
    if (fds[2].revents & (POLLIN | POLLERR)) Drain(ct_events.get(), "conntrack events");
  }
}

Status Collector::Impl::DoDump() {
  TW_RETURN_IF_ERROR(DumpFamily(AF_INET));
  return DumpFamily(AF_INET6);
}

Status Collector::Impl::DumpFamily(uint8_t family) {
  const std::string what = std::string("conntrack dump (") + (family == AF_INET ? "ipv4" : "ipv6") + ")";
  const uint32_t seq = next_seq++;
  const std::vector<uint8_t> request = BuildConntrackDumpRequest(family, seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(ct_dump.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return Status::IoError("collector: " + what + ": send: " + Errno(errno));
  }
  while (true) {
    pollfd p{ct_dump.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, kAckTimeoutMs);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Status::Unavailable("collector: " + what + ": no answer from the kernel");
    const ssize_t n = ReceiveFromKernel(ct_dump.get(), "conntrack dump", MSG_DONTWAIT);
    if (n < 0) return Status::IoError("collector: " + what + ": " + decoder.stats().last_error);
    if (n == 0) continue;
    const auto now = std::chrono::system_clock::now();
    std::vector<NetlinkMessageView> messages;
    Status split = SplitNetlinkMessages(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)), &messages);
    for (const auto& m : messages) {
      if (m.seq != seq) {  // a late reply of an abandoned dump
        decoder.CountMessage();
        continue;
      }
      if (m.type == NLMSG_DONE) {
        decoder.CountMessage();
        return Status::Ok();
      }
      if (m.type == NLMSG_ERROR) {
        decoder.CountMessage();
        int e = 0;
        if (m.bytes.size() >= kNlmsgHeaderLen + 4) std::memcpy(&e, m.bytes.data() + kNlmsgHeaderLen, 4);
        if (e == 0) return Status::Ok();
        return Status::IoError("collector: " + what + ": " + Errno(-e));
      }
      decoder.HandleMessage(m, now);
    }
    if (!split.ok()) {
      decoder.CountMalformed(split.message());
      return Status::IoError("collector: " + what + ": " + split.message());
    }
  }
}

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Collector>> Collector::Open(const CollectorOptions& options, CollectorSink* sink) {
  if (sink == nullptr) return Status::InvalidArgument("collector: no sink");
  if (!options.netns.empty()) TW_RETURN_IF_ERROR(node::CheckNetnsName(options.netns));
  const uint16_t groups[] = {options.ingress_group, options.egress_group, options.dns_group};
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) {
      if (groups[i] != 0 && groups[i] == groups[j]) {
        return Status::InvalidArgument("collector: nflog group " + std::to_string(groups[i]) +
                                       " is given for two purposes (ingress, egress, dns groups must differ)");
      }
    }
  }
  auto impl = std::make_unique<Impl>(options, sink);
  impl->wake.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (impl->wake.get() < 0) return Status::IoError("collector: eventfd: " + Errno(errno));
  // Shared with the thread: set_value may still run when get() returns.
  auto ready = std::make_shared<std::promise<Status>>();
  std::future<Status> setup = ready->get_future();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw, ready] { raw->Run(ready.get()); });
  Status s = setup.get();
  if (!s.ok()) {
    impl->thread.join();
    return s;
  }
  return std::unique_ptr<Collector>(new Collector(std::move(impl)));
}

Collector::~Collector() { Stop(); }

void Collector::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->Wake();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->nflog.Reset();
  impl_->ct_events.Reset();
  impl_->ct_dump.Reset();
}

Status Collector::DumpConntrack() {
  if (!impl_->options.conntrack) return Status::Unsupported("collector: conntrack is off");
  if (std::this_thread::get_id() == impl_->reader_id) {
    return Status::InvalidArgument("collector: DumpConntrack called from a sink callback (the reader thread)");
  }
  std::lock_guard serial(impl_->dump_callers);
  std::unique_lock lock(impl_->mu);
  if (impl_->stopping || impl_->stopped) return Status::Unavailable("collector: stopped");
  const uint64_t ticket = ++impl_->dump_requested;
  impl_->Wake();
  impl_->cv.wait(lock, [&] { return impl_->dump_done >= ticket || impl_->stopping || impl_->stopped; });
  if (impl_->dump_done < ticket) return Status::Unavailable("collector: stopped during the conntrack dump");
  return impl_->dump_status;
}

CollectorStats Collector::stats() const { return impl_->decoder.stats(); }

}  // namespace tw::flowlog
