#include "nft/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "node/netns.h"

namespace tw::nft {
namespace {

// nft's datatypes for set keys (TYPE_IPADDR / TYPE_IP6ADDR) and the key
// byte order it stores in the set's user data (BYTEORDER_BIG_ENDIAN).
constexpr uint32_t kTypeIpAddr = 7;
constexpr uint32_t kTypeIp6Addr = 8;
constexpr uint32_t kByteOrderBigEndian = 2;
// Room kept free in a page for one message: the largest message plus its
// header and the longest element.
constexpr size_t kMessageRoom = kMaxMessageBytes + 1024;
// Receive buffer for ACKs and dumps.
constexpr size_t kRecvBytes = 256 * 1024;

std::string Errno(int err) { return std::strerror(err); }
std::string_view Str(const char* s) { return s == nullptr ? std::string_view() : std::string_view(s); }

const char* OpName(uint16_t type) {
  switch (type) {
    case NFT_MSG_NEWTABLE: return "add table";
    case NFT_MSG_DELTABLE: return "delete table";
    case NFT_MSG_NEWSET: return "add set";
    case NFT_MSG_DELSET: return "delete set";
    case NFT_MSG_NEWSETELEM: return "add elements to set";
    case NFT_MSG_DELSETELEM: return "delete elements from set";
    default: return "netlink message";
  }
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// ---- encoding helpers -----------------------------------------------------

size_t EncodeRange(const net::IpAddr& first, const net::IpAddr& last, bool interval, ElementRecord out[2]) {
  out[0] = ElementRecord{};
  out[0].key_len = static_cast<uint8_t>(ElementKey(first, out[0].key));
  if (!interval) return 1;
  net::IpAddr end;
  if (!NextAddress(last, &end)) {
    out[0].open_end = true;
    return 1;
  }
  out[1] = ElementRecord{};
  out[1].key_len = static_cast<uint8_t>(ElementKey(end, out[1].key));
  out[1].interval_end = true;
  return 2;
}

size_t ElementRecordBytes(const ElementRecord& r) {
  size_t n = MNL_ATTR_HDRLEN;                               // NFTA_LIST_ELEM nest
  n += MNL_ATTR_HDRLEN + MNL_ATTR_HDRLEN + MNL_ALIGN(r.key_len);  // key nest + value
  if (r.interval_end) n += MNL_ATTR_HDRLEN + sizeof(uint32_t);  // NFTA_SET_ELEM_FLAGS
  if (r.open_end) n += MNL_ATTR_HDRLEN + MNL_ALIGN(6);          // NFTA_SET_ELEM_USERDATA
  return n;
}

size_t BatchPageBytes(size_t bytes_so_far) {
  size_t page = size_t{1} << 20;
  return bytes_so_far / 64 > page ? MNL_ALIGN(bytes_so_far / 64) : page;
}

// ---- Transaction ------------------------------------------------------------

struct Transaction::Impl {
  struct Page {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0, used = 0;
  };
  struct MsgInfo {
    uint16_t type;
    uint32_t object;  // index into objects
  };
  uint32_t first_seq = 0, next_seq = 0;
  std::vector<Page> pages;
  size_t bytes = 0, largest = 0;
  std::vector<std::string> objects;
  std::vector<MsgInfo> msgs;  // by seq - first_seq - 1
  std::vector<std::pair<std::string, uint32_t>> new_sets;  // name -> NFTA_SET_ID
  bool ended = false;

  // A buffer with room for one message of at most kMessageRoom bytes.
  char* Room() {
    if (pages.empty() || pages.back().size - pages.back().used < kMessageRoom) {
      Page p;
      p.size = BatchPageBytes(bytes);
      p.data = std::make_unique_for_overwrite<uint8_t[]>(p.size);
      pages.push_back(std::move(p));
    }
    return reinterpret_cast<char*>(pages.back().data.get() + pages.back().used);
  }
  void Done(const nlmsghdr* nlh) {
    pages.back().used += nlh->nlmsg_len;
    bytes += nlh->nlmsg_len;
    largest = std::max<size_t>(largest, nlh->nlmsg_len);
  }
  uint32_t Object(std::string_view name) {
    if (objects.empty() || objects.back() != name) objects.emplace_back(name);
    return static_cast<uint32_t>(objects.size() - 1);
  }
  // A message header for `type` on `object`; records it for error reports.
  nlmsghdr* Begin(uint16_t type, uint16_t flags, std::string_view object) {
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(Room(), type, NFPROTO_INET, flags | NLM_F_ACK, next_seq++);
    msgs.push_back({type, Object(object)});
    return nlh;
  }
  uint32_t SetId(std::string_view name) const {
    for (const auto& [n, id] : new_sets) {
      if (n == name) return id;
    }
    return 0;
  }
};

Transaction::Transaction(uint32_t first_seq) : impl_(std::make_unique<Impl>()) {
  impl_->first_seq = first_seq;
  impl_->next_seq = first_seq;
  impl_->Done(nftnl_batch_begin(impl_->Room(), impl_->next_seq++));
}
Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&&) noexcept = default;
Transaction::~Transaction() = default;

size_t Transaction::messages() const { return impl_->msgs.size(); }
size_t Transaction::pages() const { return impl_->pages.size(); }
size_t Transaction::largest_message() const { return impl_->largest; }
size_t Transaction::bytes() const { return impl_->bytes + (impl_->ended ? 0 : NLMSG_ALIGN(sizeof(nlmsghdr) + sizeof(nfgenmsg))); }

void Transaction::AddTable() {
  nftnl_table* t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, std::string(kTableName).c_str());
  nlmsghdr* nlh = impl_->Begin(NFT_MSG_NEWTABLE, NLM_F_CREATE, kTableName);
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  impl_->Done(nlh);
}

void Transaction::DeleteTable() {
  nftnl_table* t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, std::string(kTableName).c_str());
  nlmsghdr* nlh = impl_->Begin(NFT_MSG_DELTABLE, 0, kTableName);
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  impl_->Done(nlh);
}

void Transaction::AddSet(std::string_view name, net::Family family, bool interval, uint32_t size) {
  const bool v4 = family == net::Family::kV4;
  const uint32_t id = static_cast<uint32_t>(impl_->new_sets.size() + 1);
  impl_->new_sets.emplace_back(std::string(name), id);
  std::string n(name);
  nftnl_set* s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, std::string(kTableName).c_str());
  nftnl_set_set_str(s, NFTNL_SET_NAME, n.c_str());
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v4 ? 4 : 16);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v4 ? kTypeIpAddr : kTypeIp6Addr);
  nftnl_set_set_u32(s, NFTNL_SET_FLAGS, interval ? NFT_SET_INTERVAL : 0);
  nftnl_set_set_u32(s, NFTNL_SET_ID, id);
  if (size != 0) nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
  nftnl_udata_buf* ud = nftnl_udata_buf_alloc(64);
  nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, kByteOrderBigEndian);
  nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
  nftnl_udata_buf_free(ud);
  nlmsghdr* nlh = impl_->Begin(NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, name);
  nftnl_set_nlmsg_build_payload(nlh, s);
  nftnl_set_free(s);
  impl_->Done(nlh);
}

void Transaction::DeleteSet(std::string_view name) {
  std::string n(name);
  nftnl_set* s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, std::string(kTableName).c_str());
  nftnl_set_set_str(s, NFTNL_SET_NAME, n.c_str());
  nlmsghdr* nlh = impl_->Begin(NFT_MSG_DELSET, 0, name);
  nftnl_set_nlmsg_build_payload(nlh, s);
  nftnl_set_free(s);
  impl_->Done(nlh);
}

template <typename ForEach>
void Transaction::Elements(uint16_t msg_type, std::string_view set, bool interval, net::Family family,
                           const ForEach& for_each) {
  const std::string table(kTableName);
  const std::string name(set);
  const uint32_t set_id = impl_->SetId(set);
  const bool add = msg_type == NFT_MSG_NEWSETELEM;
  nlmsghdr* nlh = nullptr;
  nlattr* list = nullptr;
  auto start = [&]() {
    nlh = impl_->Begin(msg_type, add ? NLM_F_CREATE : 0, set);
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name.c_str());
    if (set_id != 0) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
    list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  };
  auto finish = [&]() {
    if (nlh == nullptr) return;
    mnl_attr_nest_end(nlh, list);
    impl_->Done(nlh);
    nlh = nullptr;
  };
  // nft's NFTNL_UDATA_SET_ELEM_FLAGS = NFTNL_SET_ELEM_F_INTERVAL_OPEN, host order.
  uint8_t open_udata[6] = {NFTNL_UDATA_SET_ELEM_FLAGS, 4, 0, 0, 0, 0};
  const uint32_t open_flag = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
  std::memcpy(open_udata + 2, &open_flag, sizeof(open_flag));
  size_t count = 0;
  ElementRecord rec[2];
  for_each([&](const net::IpAddr& first, const net::IpAddr& last) {
    if (first.family() != family) return;
    size_t n = EncodeRange(first, last, interval, rec);
    for (size_t i = 0; i < n; ++i) {
      const ElementRecord& r = rec[i];
      if (nlh != nullptr && nlh->nlmsg_len + ElementRecordBytes(r) > kMaxMessageBytes) finish();
      if (nlh == nullptr) start();
      nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
      if (r.interval_end) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
      nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
      mnl_attr_put(nlh, NFTA_DATA_VALUE, r.key_len, r.key);
      mnl_attr_nest_end(nlh, key);
      if (r.open_end && add) mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof(open_udata), open_udata);
      mnl_attr_nest_end(nlh, elem);
      ++count;
    }
  });
  finish();
  elements_ += count;
}

void Transaction::AddElements(std::string_view set, const net::CidrSet& members, net::Family family,
                              bool interval) {
  Elements(NFT_MSG_NEWSETELEM, set, interval, family, [&](const auto& emit) {
    if (family == net::Family::kV4) {
      for (const net::V4Range& r : members.v4_ranges()) {
        if ((r.first == r.last) != interval) emit(net::IpAddr::V4(r.first), net::IpAddr::V4(r.last));
      }
    } else {
      for (const net::V6Range& r : members.v6_ranges()) {
        if ((r.first == r.last) != interval) emit(net::IpAddr::V6(r.first), net::IpAddr::V6(r.last));
      }
    }
  });
}

void Transaction::AddElements(std::string_view set, std::span<const Element> elements, bool interval) {
  if (elements.empty()) return;
  Elements(NFT_MSG_NEWSETELEM, set, interval, elements.front().first.family(), [&](const auto& emit) {
    for (const Element& e : elements) emit(e.first, e.last);
  });
}

void Transaction::DeleteElements(std::string_view set, std::span<const Element> elements, bool interval) {
  if (elements.empty()) return;
  Elements(NFT_MSG_DELSETELEM, set, interval, elements.front().first.family(), [&](const auto& emit) {
    for (const Element& e : elements) emit(e.first, e.last);
  });
}

// ---- NetlinkClient -----------------------------------------------------------

NetlinkClient::NetlinkClient(std::string netns, mnl_socket* nl) : netns_(std::move(netns)), nl_(nl) {
  portid_ = mnl_socket_get_portid(nl_);
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  seq_ = static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

NetlinkClient::~NetlinkClient() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

Result<std::unique_ptr<NetlinkClient>> NetlinkClient::Open(std::string_view netns) {
  mnl_socket* nl = nullptr;
  Status s = node::RunInNetns(netns, [&]() -> Status {
    nl = mnl_socket_open(NETLINK_NETFILTER);
    if (nl == nullptr) return Status::IoError("netfilter netlink socket: " + Errno(errno));
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
      int err = errno;
      mnl_socket_close(nl);
      nl = nullptr;
      return Status::IoError("netfilter netlink socket: bind: " + Errno(err));
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.WithPrefix("nft netlink in netns \"" + std::string(netns) + "\"");
  int one = 1;
  // Capped ACKs (no copy of our 60 KiB messages) with the kernel's
  // extended error text; older kernels without either still work.
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
  mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
  return std::unique_ptr<NetlinkClient>(new NetlinkClient(std::string(netns), nl));
}

Transaction NetlinkClient::NewTransaction() {
  Transaction tx(seq_);
  return tx;
}

Status NetlinkClient::EnsureBuffers(size_t send_bytes, size_t acks) {
  const int fd = mnl_socket_get_fd(nl_);
  auto raise = [fd](int force_opt, int opt, size_t want, size_t* have, const char* what) -> Status {
    if (want <= *have) return Status::Ok();
    int v = want > (1u << 30) ? (1 << 30) : static_cast<int>(want);
    if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) != 0 &&
        setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) != 0) {
      return Status::IoError(std::string("nft netlink: raising ") + what + " to " + std::to_string(v) + ": " +
                             Errno(errno));
    }
    *have = want;
    return Status::Ok();
  };
  // The kernel doubles the value; a message must be < sndbuf - 32.
  TW_RETURN_IF_ERROR(raise(SO_SNDBUFFORCE, SO_SNDBUF, send_bytes + 4096, &sndbuf_, "SO_SNDBUF"));
  // An ACK skb costs about 1 KiB of receive buffer (truesize).
  return raise(SO_RCVBUFFORCE, SO_RCVBUF, acks * 1024 + (1u << 20), &rcvbuf_, "SO_RCVBUF");
}

Status NetlinkClient::Commit(Transaction tx, CommitStats* stats) {
  Transaction::Impl& t = *tx.impl_;
  if (t.msgs.empty()) return Status::Ok();
  t.Done(nftnl_batch_end(t.Room(), t.next_seq++));
  t.ended = true;
  seq_ = t.next_seq;
  if (t.pages.size() > kMaxPages) {
    return Status::TooLarge("nft netlink: batch of " + std::to_string(t.bytes) + " bytes needs " +
                            std::to_string(t.pages.size()) + " pages, more than " + std::to_string(kMaxPages));
  }
  TW_RETURN_IF_ERROR(EnsureBuffers(t.bytes, t.msgs.size()));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<iovec> iov;
  iov.reserve(t.pages.size());
  for (auto& p : t.pages) iov.push_back({p.data.get(), p.used});
  sockaddr_nl dst{};
  dst.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &dst;
  msg.msg_namelen = sizeof(dst);
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  const int fd = mnl_socket_get_fd(nl_);
  ssize_t sent = sendmsg(fd, &msg, 0);
  if (sent < 0) {
    return Status::IoError("nft netlink: sending a batch of " + std::to_string(t.bytes) + " bytes (" +
                           std::to_string(t.msgs.size()) + " messages): " + Errno(errno));
  }
  if (static_cast<size_t>(sent) != t.bytes) {
    return Status::IoError("nft netlink: short send of a batch: " + std::to_string(sent) + " of " +
                           std::to_string(t.bytes) + " bytes");
  }
  // The kernel processed the batch inside sendmsg(): every ACK is queued.
  std::vector<uint8_t> buf(kRecvBytes);
  size_t answered = 0;
  Status first_error;
  bool waited = false;
  while (answered < t.msgs.size()) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && first_error.ok() && !waited) {
        // Not expected (processing is synchronous); allow one second.
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 1000);
        waited = true;
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return Status::IoError("nft netlink: reading ACKs: " + Errno(errno) +
                             " (the batch's outcome is unknown; a full sync follows)");
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(nlh));
      ++answered;
      if (err->error == 0 || !first_error.ok()) continue;
      std::string ext;
      if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
        size_t off = sizeof(nlmsgerr);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
        auto* p = reinterpret_cast<const uint8_t*>(nlh) + NLMSG_HDRLEN + MNL_ALIGN(off);
        const auto* end = reinterpret_cast<const uint8_t*>(nlh) + nlh->nlmsg_len;
        while (p + MNL_ATTR_HDRLEN <= end) {
          const auto* a = reinterpret_cast<const nlattr*>(p);
          if (a->nla_len < MNL_ATTR_HDRLEN || p + a->nla_len > end) break;
          if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && a->nla_len > MNL_ATTR_HDRLEN) {
            ext = " (" + std::string(static_cast<const char*>(mnl_attr_get_payload(a)),
                                     strnlen(static_cast<const char*>(mnl_attr_get_payload(a)),
                                             a->nla_len - MNL_ATTR_HDRLEN)) + ")";
          }
          p += MNL_ALIGN(a->nla_len);
        }
      }
      uint32_t seq = err->msg.nlmsg_seq;
      std::string what = "batch";
      if (seq > t.first_seq && seq - t.first_seq - 1 < t.msgs.size()) {
        const auto& m = t.msgs[seq - t.first_seq - 1];
        what = std::string(OpName(m.type)) + " \"" + t.objects[m.object] + "\"";
      }
      std::string text = "nft netlink: " + what + " in table inet " + std::string(kTableName) + ": " +
                         Errno(-err->error) + ext + " (the whole batch was rolled back)";
      int code = -err->error;
      first_error = code == ENOENT ? Status::NotFound(text)
                  : code == EEXIST ? Status::AlreadyExists(text)
                  : code == EINVAL || code == ERANGE ? Status::InvalidArgument(text)
                  : code == EPERM ? Status::PermissionDenied(text)
                                  : Status::IoError(text);
    }
  }
  if (stats != nullptr) {
    stats->messages = t.msgs.size();
    stats->elements = tx.elements();
    stats->bytes = t.bytes;
    stats->sendmsg_calls = 1;
    stats->seconds = Since(t0);
  }
  if (!first_error.ok()) return first_error;
  if (answered < t.msgs.size()) {
    return Status::Internal("nft netlink: " + std::to_string(t.msgs.size() - answered) + " of " +
                            std::to_string(t.msgs.size()) + " ACKs missing after a batch");
  }
  return Status::Ok();
}

Status NetlinkClient::Request(uint16_t type, bool dump, const std::function<void(nlmsghdr*)>& build,
                              const std::function<void(const nlmsghdr*)>& on_msg, bool* not_found) {
  std::vector<char> buf(kRecvBytes);
  const uint32_t seq = seq_++;
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET,
                                        static_cast<uint16_t>(dump ? NLM_F_DUMP : NLM_F_ACK), seq);
  build(nlh);
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    return Status::IoError("nft netlink: sending a request: " + Errno(errno));
  }
  struct Ctx {
    const std::function<void(const nlmsghdr*)>* on_msg;
  } ctx{&on_msg};
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    (*static_cast<Ctx*>(data)->on_msg)(m);
    return MNL_CB_OK;
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) return Status::IoError("nft netlink: reading an answer: " + Errno(errno));
    int ret = mnl_cb_run(buf.data(), n, seq, portid_, cb, &ctx);
    if (ret == MNL_CB_STOP) return Status::Ok();
    if (ret < 0) {
      if (errno == ENOENT && not_found != nullptr) {
        *not_found = true;
        return Status::Ok();
      }
      return Status::IoError("nft netlink: request for table inet " + std::string(kTableName) + ": " +
                             Errno(errno));
    }
  }
}

Result<bool> NetlinkClient::TableExists() {
  bool not_found = false;
  const std::string table(kTableName);
  TW_RETURN_IF_ERROR(Request(
      NFT_MSG_GETTABLE, false,
      [&](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str()); },
      [](const nlmsghdr*) {}, &not_found));
  return !not_found;
}

Result<NetlinkClient::TableContents> NetlinkClient::ListTable() {
  TableContents out;
  TW_ASSIGN_OR_RETURN(out.exists, TableExists());
  if (!out.exists) return out;
  const std::string table(kTableName);
  TW_RETURN_IF_ERROR(Request(
      NFT_MSG_GETCHAIN, true,
      [&](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str()); },
      [&](const nlmsghdr* m) {
        nftnl_chain* c = nftnl_chain_alloc();
        if (nftnl_chain_nlmsg_parse(m, c) == 0 && Str(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)) == table) {
          out.chains.emplace_back(Str(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
        }
        nftnl_chain_free(c);
      },
      nullptr));
  TW_RETURN_IF_ERROR(Request(
      NFT_MSG_GETSET, true,
      [&](nlmsghdr* nlh) { mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table.c_str()); },
      [&](const nlmsghdr* m) {
        nftnl_set* s = nftnl_set_alloc();
        if (nftnl_set_nlmsg_parse(m, s) == 0 && Str(nftnl_set_get_str(s, NFTNL_SET_TABLE)) == table) {
          // Anonymous sets (vmaps, `{ a, b }` in rules) belong to rules.
          uint32_t flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0;
          if (!(flags & NFT_SET_ANONYMOUS)) out.sets.emplace_back(Str(nftnl_set_get_str(s, NFTNL_SET_NAME)));
        }
        nftnl_set_free(s);
      },
      nullptr));
  return out;
}

Status NetlinkClient::DeleteTable() {
  TW_ASSIGN_OR_RETURN(bool exists, TableExists());
  if (!exists) return Status::Ok();
  Transaction tx = NewTransaction();
  tx.DeleteTable();
  Status s = Commit(std::move(tx));
  return s.IsNotFound() ? Status::Ok() : s;
}

}  // namespace tw::nft
