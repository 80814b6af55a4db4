// A small nf_tables netlink client (libmnl + libnftnl) for the table
// `inet threatwall` in one network namespace: reads (does the table exist,
// which chains and sets it has) and write transactions of tables, sets and
// set elements.  Chains and rules are not written here: they go through
// `nft -f` (dataplane.h).
//
// Transactions.  A Transaction is encoded as it is built, straight into
// netlink messages in large pages (no per-element allocation; a 1M-element
// set is ~40 MB of messages).  Commit() sends it as ONE netfilter batch
// (BATCH_BEGIN .. BATCH_END) with ONE sendmsg() whose iovec points at the
// pages -- like nft, which raises SO_SNDBUF to the batch size: the kernel
// copies the whole batch into one skb (vmalloc'ed when large) and
// processes it synchronously inside sendmsg(), so the batch is applied
// completely or not at all.  Every message asks for an ACK; the ACKs and
// errors are all queued when sendmsg() returns (SO_RCVBUF is raised to
// hold them) and are read until the socket is empty.  An error names the
// operation and the object (set name) from the failing message's sequence
// number, with the kernel's errno text and extended ACK message.
//
// Set elements.  Hash sets get one element per address.  Interval sets get
// the inclusive range [first, last] as the half-open [first, last + 1): a
// start element (key first) and an end element (key last + 1, flag
// NFT_SET_ELEM_INTERVAL_END); when `last` is the family's highest address
// there is no end element and the start element carries nft's "interval
// open" user data, exactly as nft 1.0.6 encodes them.  Ranges must be
// sorted, disjoint and non-adjacent (CidrSet ranges are), so no two
// elements of a set share a key and the kernel never has to merge.
//
// Thread-compatible: one client per thread at a time.
#ifndef TW_NFT_NETLINK_H_
#define TW_NFT_NETLINK_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "nft/render.h"

struct mnl_socket;
struct nlmsghdr;

namespace tw::nft {

// ---- encoding helpers (pure; unit-tested) ---------------------------------

// Largest netlink message we build.  Attribute lengths are 16 bits, so the
// element list nest of one NEWSETELEM message must stay below 64 KiB.
inline constexpr size_t kMaxMessageBytes = 60 * 1024;
// The element records ([first, last] -> keys and flags) of one range in
// the kernel encoding described above.  `out` gets 1 or 2 records.
struct ElementRecord {
  uint8_t key[16];
  uint8_t key_len = 0;
  bool interval_end = false;  // NFT_SET_ELEM_INTERVAL_END
  bool open_end = false;      // start of an interval that runs to the top
};
size_t EncodeRange(const net::IpAddr& first, const net::IpAddr& last, bool interval, ElementRecord out[2]);
// Bytes `r` adds to a NEWSETELEM / DELSETELEM message: list-element nest,
// key nest, key value, the flags attribute of an end element, the user
// data of an open start element.
size_t ElementRecordBytes(const ElementRecord& r);
// Size of the next page of a batch that holds `bytes_so_far`: 1 MiB, or
// 1/64 of what is there when that is more, so a batch grows
// geometrically and stays far below kMaxPages pages (the kernel takes at
// most 1024 iovecs per sendmsg) even at gigabytes.
inline constexpr size_t kMaxPages = 1024;
size_t BatchPageBytes(size_t bytes_so_far);

// ---- transactions ---------------------------------------------------------

// One netfilter batch, built message by message.  Construct through
// NetlinkClient::NewTransaction().  All objects live in table `inet
// threatwall`.
class Transaction {
 public:
  // Messages get sequence numbers from `first_seq` on (BATCH_BEGIN takes
  // `first_seq`).  Normally made by NetlinkClient::NewTransaction().
  explicit Transaction(uint32_t first_seq);
  Transaction(Transaction&&) noexcept;
  Transaction& operator=(Transaction&&) noexcept;
  ~Transaction();

  // Creates the table; no error when it exists (no NLM_F_EXCL).
  void AddTable();
  // Deletes the table and everything in it.
  void DeleteTable();
  // Creates an empty set of ipv4_addr / ipv6_addr keys, with `flags
  // interval` when `interval`; an error when a set of that name exists.
  // `size` (0 = none) is the set's maximum number of elements; with it the
  // kernel may pick a faster backend (a fixed-size hash for IPv4 keys).
  void AddSet(std::string_view name, net::Family family, bool interval, uint32_t size = 0);
  void DeleteSet(std::string_view name);
  // Adds / deletes the elements of `members` selected as SetElements()
  // selects them (single addresses of `family` for hash sets, the other
  // ranges for interval sets), read straight from the CidrSet.
  void AddElements(std::string_view set, const net::CidrSet& members, net::Family family, bool interval);
  // Adds / deletes explicit elements (Diff output) of one family.
  void AddElements(std::string_view set, std::span<const Element> elements, bool interval);
  void DeleteElements(std::string_view set, std::span<const Element> elements, bool interval);

  // Netlink messages so far, batch begin and end excluded.
  size_t messages() const;
  // Set elements encoded so far (an interval range counts 1 or 2).
  size_t elements() const { return elements_; }
  // Bytes of the batch as it will be sent (begin and end included).
  size_t bytes() const;
  // Pages (iovecs of the one sendmsg) and the largest message so far.
  size_t pages() const;
  size_t largest_message() const;

 private:
  friend class NetlinkClient;
  struct Impl;
  template <typename ForEach>
  void Elements(uint16_t msg_type, std::string_view set, bool interval, net::Family family,
                const ForEach& for_each);

  std::unique_ptr<Impl> impl_;
  size_t elements_ = 0;
};

// What one Commit() cost.
struct CommitStats {
  size_t messages = 0;      // without batch begin/end
  size_t elements = 0;
  size_t bytes = 0;
  size_t sendmsg_calls = 0;
  double seconds = 0;       // encode excluded: sendmsg + ACKs
};

class NetlinkClient {
 public:
  // Opens a netfilter netlink socket inside `netns` ("" = the caller's
  // own).  The socket stays in that namespace for its whole life.
  static Result<std::unique_ptr<NetlinkClient>> Open(std::string_view netns);
  ~NetlinkClient();
  NetlinkClient(const NetlinkClient&) = delete;
  NetlinkClient& operator=(const NetlinkClient&) = delete;

  const std::string& netns() const { return netns_; }

  // Does table `inet threatwall` exist?
  Result<bool> TableExists();
  // Names of the chains and sets of table `inet threatwall` (no elements,
  // no rules).  Both empty when the table does not exist.
  struct TableContents {
    bool exists = false;
    std::vector<std::string> chains, sets;
  };
  Result<TableContents> ListTable();

  Transaction NewTransaction();
  // Sends `tx` as one batch and reads every ACK.  OK only when the kernel
  // committed it; otherwise nothing of it was applied and the error names
  // the first failing operation and object.  An empty transaction is OK.
  Status Commit(Transaction tx, CommitStats* stats = nullptr);
  // DeleteTable in its own transaction; OK when the table is absent.
  Status DeleteTable();

 private:
  NetlinkClient(std::string netns, mnl_socket* nl);
  // Sends one request (a get or a dump of `type`) whose payload `build`
  // writes; calls `on_msg` for every answer.  *not_found is set on ENOENT.
  Status Request(uint16_t type, bool dump, const std::function<void(nlmsghdr*)>& build,
                 const std::function<void(const nlmsghdr*)>& on_msg, bool* not_found);
  Status EnsureBuffers(size_t send_bytes, size_t acks);

  std::string netns_;
  mnl_socket* nl_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
  size_t sndbuf_ = 0, rcvbuf_ = 0;
};

}  // namespace tw::nft

#endif  // TW_NFT_NETLINK_H_
