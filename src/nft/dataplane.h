// Dataplane: what the agent calls to make the kernel enforce a compiled
// policy Program (policy/ir.h), and its nftables implementation.
//
// NftDataplane keeps table `inet threatwall` of one network namespace in
// the state RenderRuleset describes, with two differences: kernel set
// names carry a generation suffix ("s3h_g5", RenderOptions::set_suffix),
// and set elements are sent by netlink batches (netlink.h), chains and
// rules by `nft -f` (/usr/sbin/nft) run inside the namespace.
//
// Full sync (first Apply, and every Apply after a failure) -- no moment in
// which a packet sees a partial table, an empty or partly filled set, or a
// rule twice, also over a table left by an earlier run:
//   1. list the table's chains and sets (netlink); the new generation is
//      one above the highest generation suffix found;
//   2. one netlink transaction: add the table (a no-op when it exists),
//      create every set of the new generation and fill it.  Hash sets are
//      declared with a size (twice their elements, at least 64 Ki) so the
//      kernel uses its fixed-size hash: a 1M fill is ~4x faster.  The old rules
//      still point at the old sets; the new sets are referenced by nothing,
//      so traffic is unaffected;
//   3. one `nft -f` transaction (RenderChainSwitch): declare the chains,
//      flush every existing chain, delete chains no longer wanted, fill the
//      chains (their rules name the new, already full sets), delete every
//      other set.  The kernel commits it as a whole: packets see the old
//      rules with the old sets, or the new rules with the new sets.
//   If step 3 fails the new sets are deleted again (best effort) and the
//   kernel still enforces the previous state.
//
// Incremental Apply (the previous Apply succeeded): DiffPrograms against
// the last applied Program with the current generation, then
//   1. one netlink transaction: create and fill added sets, delete then add
//      the changed elements of changed sets (a feed update touches only its
//      sets; elements change atomically per transaction);
//   2. if chains changed, one `nft -f` transaction (RenderChainDiff);
//   3. one netlink transaction deleting removed sets (no rule refers to
//      them any more).
// A hash set that would outgrow its declared size turns the Apply into a
// full sync.  Any error is returned and makes the next Apply a full sync.
//
// Thread-compatible: one caller at a time.
#ifndef TW_NFT_DATAPLANE_H_
#define TW_NFT_DATAPLANE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "nft/netlink.h"
#include "nft/render.h"
#include "policy/ir.h"

namespace tw::nft {

class Dataplane {
 public:
  virtual ~Dataplane() = default;
  // Makes the kernel enforce `program` (the whole desired state).  The first
  // call, and any call after a failure, is a full sync; later calls send
  // only the changes against the last applied program.
  virtual Status Apply(std::shared_ptr<const policy::Program> program) = 0;
  // Deletes table inet threatwall (threatwalld --cleanup).  OK when absent.
  virtual Status Remove() = 0;
};

// Records every applied program and Remove() call; answers with
// `next_status` (OK by default).  Failed applies are recorded too.
// Not thread-safe.
class FakeDataplane : public Dataplane {
 public:
  Status Apply(std::shared_ptr<const policy::Program> program) override {
    applied_.push_back(std::move(program));
    return next_status_;
  }
  Status Remove() override {
    ++removes_;
    return next_status_;
  }
  void set_next_status(Status s) { next_status_ = std::move(s); }
  const std::vector<std::shared_ptr<const policy::Program>>& applied() const { return applied_; }
  int removes() const { return removes_; }

 private:
  std::vector<std::shared_ptr<const policy::Program>> applied_;
  int removes_ = 0;
  Status next_status_;
};

enum class SyncKind { kNone, kFull, kIncremental, kUnchanged };
const char* SyncKindName(SyncKind kind);

// What the last Apply did (for logs and the benchmark).
struct ApplyStats {
  SyncKind kind = SyncKind::kNone;
  uint64_t generation = 0;      // set generation in force
  size_t sets_created = 0, sets_deleted = 0, sets_changed = 0;
  size_t chains_written = 0;    // chains declared or refilled by nft
  size_t elements_sent = 0;     // netlink element records (added + deleted)
  size_t netlink_bytes = 0;
  double encode_seconds = 0;    // building the netlink batches
  double netlink_seconds = 0;   // sendmsg + ACKs
  double nft_seconds = 0;       // the `nft -f` run
  double total_seconds = 0;
};

class NftDataplane : public Dataplane {
 public:
  // A dataplane for table inet threatwall in `netns` ("" = the caller's
  // own namespace).  Opens the netlink socket; touches nothing yet.
  static Result<std::unique_ptr<NftDataplane>> Open(std::string netns, RenderOptions options = {});

  Status Apply(std::shared_ptr<const policy::Program> program) override;
  Status Remove() override;

  const ApplyStats& last_stats() const { return stats_; }
  // Generation of the sets in force (0 before the first full sync).
  uint64_t generation() const { return generation_; }
  // Path of the nft binary used.
  const std::string& nft_path() const { return nft_; }

 private:
  NftDataplane(std::string netns, RenderOptions options, std::unique_ptr<NetlinkClient> client);
  Status FullSync(const policy::Program& program);
  Status Incremental(const policy::Program& program);
  Status RunNft(const std::string& script);
  Status CommitTimed(Transaction tx);
  RenderOptions OptionsFor(uint64_t generation) const;

  std::string netns_;
  RenderOptions options_;
  std::unique_ptr<NetlinkClient> client_;
  std::string nft_;
  std::shared_ptr<const policy::Program> last_;  // null: next Apply is a full sync
  uint64_t generation_ = 0;
  // Declared size of each hash set in force (see HashSetSize).
  std::map<std::string, uint32_t> capacity_;
  ApplyStats stats_;
};

// The generation encoded in a set name's suffix ("s3h_g5" -> 5), 0 when
// the name has none.
uint64_t SetGeneration(std::string_view set_name);
// The suffix for `generation`: "_g<generation>".
std::string GenerationSuffix(uint64_t generation);

}  // namespace tw::nft

#endif  // TW_NFT_DATAPLANE_H_
