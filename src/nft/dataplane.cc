#include "nft/dataplane.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>

#include "base/strings.h"
#include "nft/diff.h"
#include "node/netns.h"

namespace tw::nft {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string FindNft() {
  for (const char* p : {"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "nft";
}

// Writes `text` to a new private temporary file; returns its path.
Result<std::string> TempScript(const std::string& text) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir != nullptr && *dir ? dir : "/tmp") + "/threatwall-nft-XXXXXX";
  int fd = ::mkstemp(path.data());
  if (fd < 0) return Status::IoError("nft script: creating a temporary file in " + path + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::IoError("nft script: writing " + path + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

constexpr size_t kMinHashSetSize = 65536;

size_t CountElements(const SetSpec& set) {
  if (set.members == nullptr) return 0;
  size_t n = 0;
  if (set.family == net::Family::kV4) {
    for (const net::V4Range& r : set.members->v4_ranges()) n += (r.first == r.last) != set.interval;
  } else {
    for (const net::V6Range& r : set.members->v6_ranges()) n += (r.first == r.last) != set.interval;
  }
  return n;
}

// The declared size of a hash set: twice its elements, at least 64 Ki.
// With a size the kernel picks its fixed-size hash backend, which takes a
// 1M-element fill ~4x faster than the resizable one; the size is also a
// limit, so Incremental falls back to a full sync (new sets, new sizes)
// before a set outgrows it.  Interval sets (rbtree) get no size: no limit.
uint32_t HashSetSize(const SetSpec& set) {
  if (set.interval) return 0;
  size_t n = std::max<size_t>(kMinHashSetSize / 2, CountElements(set));
  return static_cast<uint32_t>(std::min<size_t>(2 * n, 0x7fffffff));
}

}  // namespace

const char* SyncKindName(SyncKind kind) {
  switch (kind) {
    case SyncKind::kNone: return "none";
    case SyncKind::kFull: return "full";
    case SyncKind::kIncremental: return "incremental";
    case SyncKind::kUnchanged: return "unchanged";
  }
  return "?";
}

uint64_t SetGeneration(std::string_view name) {
  size_t pos = name.rfind("_g");
  if (pos == std::string_view::npos || pos + 2 == name.size() || name.size() - pos - 2 > 18) return 0;
  uint64_t g = 0;
  for (char c : name.substr(pos + 2)) {
    if (c < '0' || c > '9') return 0;
    g = g * 10 + static_cast<uint64_t>(c - '0');
  }
  return g;
}

std::string GenerationSuffix(uint64_t generation) { return "_g" + std::to_string(generation); }

NftDataplane::NftDataplane(std::string netns, RenderOptions options, std::unique_ptr<NetlinkClient> client)
    : netns_(std::move(netns)), options_(std::move(options)), client_(std::move(client)), nft_(FindNft()) {}

Result<std::unique_ptr<NftDataplane>> NftDataplane::Open(std::string netns, RenderOptions options) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<NetlinkClient> client, NetlinkClient::Open(netns));
  return std::unique_ptr<NftDataplane>(new NftDataplane(std::move(netns), std::move(options), std::move(client)));
}

RenderOptions NftDataplane::OptionsFor(uint64_t generation) const {
  RenderOptions o = options_;
  o.set_elements = false;
  o.set_suffix = GenerationSuffix(generation);
  return o;
}

Status NftDataplane::CommitTimed(Transaction tx) {
  CommitStats cs;
  stats_.elements_sent += tx.elements();
  Status s = client_->Commit(std::move(tx), &cs);
  stats_.netlink_seconds += cs.seconds;
  stats_.netlink_bytes += cs.bytes;
  return s;
}

Status NftDataplane::RunNft(const std::string& script) {
  if (script.empty()) return Status::Ok();
  const auto t0 = Clock::now();
  TW_ASSIGN_OR_RETURN(std::string path, TempScript(script));
  auto r = node::Exec(netns_, {nft_, "-f", path});
  ::unlink(path.c_str());
  stats_.nft_seconds += Since(t0);
  if (!r.ok()) return r.status().WithPrefix("nft -f");
  if (r->exit_code != 0) {
    size_t lines = static_cast<size_t>(std::count(script.begin(), script.end(), '\n'));
    return Status::IoError("nft -f (" + std::to_string(lines) + " commands, table inet " + std::string(kTableName) +
                           ", netns " + Quote(netns_) + ") exited with " + std::to_string(r->exit_code) + ": " +
                           std::string(TrimSpace(r->output)));
  }
  return Status::Ok();
}

Status NftDataplane::Apply(std::shared_ptr<const policy::Program> program) {
  if (program == nullptr) return Status::InvalidArgument("nft dataplane: Apply: program is null");
  const auto t0 = Clock::now();
  stats_ = ApplyStats{};
  Status s = last_ == nullptr ? FullSync(*program) : Incremental(*program);
  stats_.total_seconds = Since(t0);
  stats_.generation = generation_;
  if (!s.ok()) {
    last_.reset();  // the next Apply is a full sync
    return s;
  }
  last_ = std::move(program);
  return Status::Ok();
}

Status NftDataplane::FullSync(const policy::Program& program) {
  stats_.kind = SyncKind::kFull;
  capacity_.clear();
  TW_ASSIGN_OR_RETURN(NetlinkClient::TableContents old, client_->ListTable());
  uint64_t gen = generation_;
  for (const std::string& s : old.sets) gen = std::max(gen, SetGeneration(s));
  ++gen;
  const RenderOptions options = OptionsFor(gen);
  const auto t_encode = Clock::now();
  Ruleset rs = BuildRuleset(program, options);
  Transaction tx = client_->NewTransaction();
  tx.AddTable();
  // `gen` is above every generation in the table, so no new name exists.
  std::vector<std::string> created;
  for (const SetSpec& set : rs.sets) {
    const uint32_t size = HashSetSize(set);
    tx.AddSet(set.name, set.family, set.interval, size);
    capacity_[set.name] = size;
    if (set.members != nullptr) tx.AddElements(set.name, *set.members, set.family, set.interval);
    created.push_back(set.name);
  }
  stats_.encode_seconds = Since(t_encode);
  stats_.sets_created = created.size();
  TW_RETURN_IF_ERROR(CommitTimed(std::move(tx)).WithPrefix("full sync: creating the sets of generation " +
                                                          std::to_string(gen)));
  std::set<std::string> keep(created.begin(), created.end());
  std::vector<std::string> drop;
  for (const std::string& s : old.sets) {
    if (!keep.contains(s)) drop.push_back(s);
  }
  stats_.sets_deleted = drop.size();
  stats_.chains_written = rs.chains.size();
  Status s = RunNft(RenderChainSwitch(rs, old.chains, drop));
  if (!s.ok()) {
    // The previous rules are still in force; drop the unused new sets.
    Transaction undo = client_->NewTransaction();
    for (const std::string& name : created) undo.DeleteSet(name);
    (void)client_->Commit(std::move(undo));
    return s.WithPrefix("full sync: switching the chains to generation " + std::to_string(gen));
  }
  generation_ = gen;
  return Status::Ok();
}

Status NftDataplane::Incremental(const policy::Program& program) {
  stats_.kind = SyncKind::kIncremental;
  const RenderOptions options = OptionsFor(generation_);
  const auto t_encode = Clock::now();
  Diff diff = DiffPrograms(*last_, program, options);
  if (diff.empty()) {
    stats_.kind = SyncKind::kUnchanged;
    stats_.encode_seconds = Since(t_encode);
    return Status::Ok();
  }
  for (const SetChange& c : diff.sets) {
    if (c.kind == ChangeKind::kRemoved || c.set.interval) continue;
    auto it = capacity_.find(c.set.name);
    if (it == capacity_.end() || CountElements(c.set) > it->second) {
      // Outgrows its declared size: new sets of a new generation.
      stats_.encode_seconds = Since(t_encode);
      return FullSync(program);
    }
  }
  Transaction tx = client_->NewTransaction();
  std::vector<std::string> removed;
  for (const SetChange& c : diff.sets) {
    switch (c.kind) {
      case ChangeKind::kAdded:
        capacity_[c.set.name] = HashSetSize(c.set);
        tx.AddSet(c.set.name, c.set.family, c.set.interval, capacity_[c.set.name]);
        tx.AddElements(c.set.name, c.added, c.set.interval);
        ++stats_.sets_created;
        break;
      case ChangeKind::kChanged:
        // Deletes first: an interval set rejects an overlapping add.
        tx.DeleteElements(c.set.name, c.removed, c.set.interval);
        tx.AddElements(c.set.name, c.added, c.set.interval);
        ++stats_.sets_changed;
        break;
      case ChangeKind::kRemoved:
        removed.push_back(c.set.name);
        capacity_.erase(c.set.name);
        break;
    }
  }
  stats_.encode_seconds = Since(t_encode);
  TW_RETURN_IF_ERROR(CommitTimed(std::move(tx)).WithPrefix("incremental apply: set changes"));
  for (const ChainChange& c : diff.chains) {
    if (c.kind != ChangeKind::kRemoved) ++stats_.chains_written;
  }
  TW_RETURN_IF_ERROR(RunNft(RenderChainDiff(diff)).WithPrefix("incremental apply: chain changes"));
  if (!removed.empty()) {
    Transaction del = client_->NewTransaction();
    for (const std::string& name : removed) del.DeleteSet(name);
    stats_.sets_deleted = removed.size();
    TW_RETURN_IF_ERROR(CommitTimed(std::move(del)).WithPrefix("incremental apply: deleting removed sets"));
  }
  return Status::Ok();
}

Status NftDataplane::Remove() {
  last_.reset();
  return client_->DeleteTable().WithPrefix("nft dataplane: removing table inet " + std::string(kTableName));
}

}  // namespace tw::nft
