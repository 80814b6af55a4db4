// Conformance suite for every Datastore backend: the same typed tests run
// against MemStore and SqliteStore.  Backend-specific tests (reopen, file
// locking, corruption detection) follow at the end.
#include <gtest/gtest.h>

#include "base/test_temp_dir.h"
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/chunked_store.h"
#include "store/datastore.h"
#include "store/mem_store.h"
#include "store/sqlite_store.h"
#include "store/store_options.h"

namespace tw::store {
namespace {

using std::chrono::milliseconds;

// Next() with nothing pending must not wait: tests never sleep.
constexpr milliseconds kNoWait{0};
// Long enough to never expire in a passing test, so that a broken wakeup
// shows up as a hang (caught by ctest's timeout), not as a flaky result.
constexpr milliseconds kForever = std::chrono::hours(1);

using tw::testing::TempDir;

struct MemBackend {
  std::unique_ptr<Datastore> Open(const StoreOptions& options) { return std::make_unique<MemStore>(options); }
};

struct SqliteBackend {
  TempDir dir;
  std::string DbPath() const { return dir.path() + "/store.db"; }
  std::unique_ptr<Datastore> Open(const StoreOptions& options) {
    SqliteStore::Options o;
    o.limits = options;
    // Semantics do not depend on the sync mode, and FULL costs an fsync per
    // write; durability is tested by tests/store (SIGKILL) in both modes.
    o.sync = SqliteStore::Sync::kNormal;
    auto store = SqliteStore::Open(DbPath(), o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return nullptr;
    return std::move(*store);
  }
};

// ChunkedStore over each backend with tiny pieces, so that every value over
// 64 bytes is chunked: the decorator must keep the whole contract.
constexpr size_t kTinyChunk = 64;
template <typename Inner>
struct ChunkedBackend {
  Inner inner;
  std::unique_ptr<Datastore> Open(const StoreOptions& options) {
    auto store = inner.Open(options);
    if (!store) return nullptr;
    ChunkedStore::Options o;
    o.chunk_bytes = kTinyChunk;
    return std::make_unique<ChunkedStore>(std::move(store), o);
  }
};
using ChunkedMemBackend = ChunkedBackend<MemBackend>;
using ChunkedSqliteBackend = ChunkedBackend<SqliteBackend>;
template <typename T>
constexpr bool kIsChunked = std::is_same_v<T, ChunkedMemBackend> || std::is_same_v<T, ChunkedSqliteBackend>;

template <typename Backend>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(StoreOptions()); }
  void Reopen(const StoreOptions& options) {
    store_.reset();
    store_ = backend_.Open(options);
    ASSERT_NE(store_, nullptr);
  }
  Datastore& store() { return *store_; }

  Backend backend_;
  std::unique_ptr<Datastore> store_;
};

using Backends = ::testing::Types<MemBackend, SqliteBackend, ChunkedMemBackend, ChunkedSqliteBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if constexpr (std::is_same_v<T, MemBackend>) return "Mem";
    if constexpr (std::is_same_v<T, SqliteBackend>) return "Sqlite";
    if constexpr (std::is_same_v<T, ChunkedMemBackend>) return "ChunkedMem";
    return "ChunkedSqlite";
  }
};
TYPED_TEST_SUITE(StoreTest, Backends, BackendNames);

const std::string kFeed = "projectcalico.org/GlobalThreatFeed";
const std::string kSet = "projectcalico.org/GlobalNetworkSet";
const std::string kPod = "core/Pod";

Key K(const std::string& kind, const std::string& ns, const std::string& name) { return Key{kind, ns, name}; }

// Drains everything a watch has ready now (no waiting).
std::vector<WatchEvent> Drain(Watch& w) {
  std::vector<WatchEvent> out;
  while (auto e = w.Next(kNoWait)) out.push_back(std::move(*e));
  return out;
}

std::vector<int64_t> Revisions(const std::vector<WatchEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.record.mod_revision);
  return out;
}

std::vector<int64_t> Range(int64_t first, int64_t last) {
  std::vector<int64_t> out;
  for (int64_t r = first; r <= last; ++r) out.push_back(r);
  return out;
}

TYPED_TEST(StoreTest, CreateThenGetRoundTrips) {
  auto& s = this->store();
  EXPECT_EQ(s.CurrentRevision(), 0);
  const std::string binary("a\0b\xff", 4);
  auto created = s.Create(K(kFeed, "", "snort"), binary);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->create_revision, 1);
  EXPECT_EQ(created->mod_revision, 1);
  EXPECT_EQ(created->value, binary);
  auto got = s.Get(K(kFeed, "", "snort"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->key, K(kFeed, "", "snort"));
  EXPECT_EQ(got->value, binary);
  EXPECT_EQ(got->create_revision, 1);
  EXPECT_EQ(got->mod_revision, 1);
  ASSERT_TRUE(s.Create(K(kPod, "default", "empty"), "").ok());
  EXPECT_EQ(s.Get(K(kPod, "default", "empty"))->value, "");
  EXPECT_EQ(s.CurrentRevision(), 2);
}

TYPED_TEST(StoreTest, CreateOfExistingIsAlreadyExistsAndChangesNothing) {
  auto& s = this->store();
  ASSERT_TRUE(s.Create(K(kFeed, "", "a"), "v1").ok());
  auto again = s.Create(K(kFeed, "", "a"), "v2");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().IsAlreadyExists()) << again.error().ToString();
  EXPECT_NE(again.error().message().find("already exists"), std::string::npos);
  EXPECT_EQ(s.Get(K(kFeed, "", "a"))->value, "v1");
  EXPECT_EQ(s.CurrentRevision(), 1);
  // The same name in another kind or namespace is a different object.
  EXPECT_TRUE(s.Create(K(kSet, "", "a"), "x").ok());
  EXPECT_TRUE(s.Create(K(kPod, "ns1", "a"), "x").ok());
  EXPECT_TRUE(s.Create(K(kPod, "ns2", "a"), "x").ok());
}

TYPED_TEST(StoreTest, MissingObjectIsNotFound) {
  auto& s = this->store();
  auto get = s.Get(K(kFeed, "", "nope"));
  ASSERT_FALSE(get.ok());
  EXPECT_TRUE(get.error().IsNotFound());
  EXPECT_NE(get.error().message().find("nope"), std::string::npos) << get.error().message();
  auto upd = s.Update(K(kFeed, "", "nope"), "v", 0);
  ASSERT_FALSE(upd.ok());
  EXPECT_TRUE(upd.error().IsNotFound());
  auto del = s.Delete(K(kFeed, "", "nope"), 0);
  ASSERT_FALSE(del.ok());
  EXPECT_TRUE(del.error().IsNotFound());
  EXPECT_EQ(s.CurrentRevision(), 0);
}

TYPED_TEST(StoreTest, InvalidKeysAndValuesAreRejected) {
  auto& s = this->store();
  EXPECT_TRUE(s.Create(K("", "", "x"), "v").error().IsInvalidArgument());
  EXPECT_TRUE(s.Create(K(kFeed, "", ""), "v").error().IsInvalidArgument());
  EXPECT_TRUE(s.Get(K(kFeed, "", "")).error().IsInvalidArgument());
  EXPECT_TRUE(s.List(Scope{"", std::nullopt}).error().IsInvalidArgument());
  ASSERT_TRUE(s.Create(K(kFeed, "", "x"), "v").ok());
  EXPECT_TRUE(s.Update(K(kFeed, "", "x"), "v", -1).error().IsInvalidArgument());
  EXPECT_TRUE(s.WatchFrom(Scope{}, -5).error().IsInvalidArgument());
  EXPECT_EQ(s.CurrentRevision(), 1);

  StoreOptions small;
  small.max_value_bytes = 10;
  this->Reopen(small);
  auto& t = this->store();
  const int64_t before = t.CurrentRevision();
  auto big = t.Create(K(kSet, "", "big"), std::string(11, 'x'));
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(big.error().IsTooLarge()) << big.error().ToString();
  EXPECT_TRUE(t.Create(K(kSet, "", "fits"), std::string(10, 'x')).ok());
  EXPECT_TRUE(t.Update(K(kSet, "", "fits"), std::string(11, 'x'), 0).error().IsTooLarge());
  EXPECT_EQ(t.CurrentRevision(), before + 1);
}

TYPED_TEST(StoreTest, UpdateHonoursPreconditions) {
  auto& s = this->store();
  auto a = s.Create(K(kFeed, "", "a"), "v1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(s.Create(K(kFeed, "", "other"), "x").ok());  // revision 2
  auto stale = s.Update(K(kFeed, "", "a"), "v2", a->mod_revision + 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().IsConflict()) << stale.error().ToString();
  EXPECT_EQ(s.Get(K(kFeed, "", "a"))->value, "v1");
  EXPECT_EQ(s.CurrentRevision(), 2);

  auto ok = s.Update(K(kFeed, "", "a"), "v2", a->mod_revision);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->create_revision, 1);
  EXPECT_EQ(ok->mod_revision, 3);
  EXPECT_EQ(ok->value, "v2");
  // The old revision is now stale.
  EXPECT_TRUE(s.Update(K(kFeed, "", "a"), "v3", a->mod_revision).error().IsConflict());
  // 0 means unconditional.
  auto blind = s.Update(K(kFeed, "", "a"), "v4", 0);
  ASSERT_TRUE(blind.ok());
  EXPECT_EQ(blind->mod_revision, 4);
  auto got = s.Get(K(kFeed, "", "a"));
  EXPECT_EQ(got->value, "v4");
  EXPECT_EQ(got->create_revision, 1);
  EXPECT_EQ(got->mod_revision, 4);
}

TYPED_TEST(StoreTest, DeleteHonoursPreconditionsAndReturnsLastValue) {
  auto& s = this->store();
  auto a = s.Create(K(kPod, "ns", "p"), "v1");
  ASSERT_TRUE(a.ok());
  auto b = s.Update(K(kPod, "ns", "p"), "v2", 0);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(s.Delete(K(kPod, "ns", "p"), a->mod_revision).error().IsConflict());
  auto del = s.Delete(K(kPod, "ns", "p"), b->mod_revision);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->value, "v2");
  EXPECT_EQ(del->create_revision, 1);
  EXPECT_EQ(del->mod_revision, 3);
  EXPECT_EQ(s.CurrentRevision(), 3);
  EXPECT_TRUE(s.Get(K(kPod, "ns", "p")).error().IsNotFound());
  EXPECT_TRUE(s.Delete(K(kPod, "ns", "p"), 0).error().IsNotFound());
  // A re-created object starts a new life.
  auto again = s.Create(K(kPod, "ns", "p"), "v3");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->create_revision, 4);
  EXPECT_TRUE(s.Delete(K(kPod, "ns", "p"), 0).ok());  // unconditional
}

TYPED_TEST(StoreTest, RevisionIsGlobalAndMonotonic) {
  auto& s = this->store();
  std::vector<int64_t> revs;
  const std::vector<std::string> kinds = {kFeed, kSet, kPod};
  for (int i = 0; i < 9; ++i) {
    auto r = s.Create(K(kinds[i % 3], i % 2 ? "ns" : "", "o" + std::to_string(i)), "v");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    revs.push_back(r->mod_revision);
    (void)s.Create(K(kinds[i % 3], i % 2 ? "ns" : "", "o" + std::to_string(i)), "dup");  // fails, no bump
  }
  EXPECT_EQ(revs, Range(1, 9));
  EXPECT_EQ(s.CurrentRevision(), 9);
  auto list = s.List(Scope{kSet, std::nullopt});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->revision, 9);
}

TYPED_TEST(StoreTest, ListIsSortedAndScoped) {
  auto& s = this->store();
  // Inserted out of order; names chosen so that prefix mistakes show.
  const std::vector<Key> keys = {
      K(kPod, "b", "z"), K(kPod, "a", "y"),       K(kPod, "b", "a"),      K(kPod, "a2", "a"),
      K(kPod, "a", "b"), K(kPod + "s", "a", "a"), K("core/Po", "a", "a"), K(kSet, "", "n2"),
      K(kSet, "", "n1"), K(kSet, "", "n10"),
  };
  for (const Key& k : keys) ASSERT_TRUE(s.Create(k, k.ns + "/" + k.name).ok());
  auto pods = s.List(Scope{kPod, std::nullopt});
  ASSERT_TRUE(pods.ok()) << pods.status().ToString();
  std::vector<std::string> names;
  for (const auto& r : pods->records) {
    EXPECT_EQ(r.key.kind, kPod);
    EXPECT_EQ(r.value, r.key.ns + "/" + r.key.name);
    names.push_back(r.key.ns + "/" + r.key.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a/b", "a/y", "a2/a", "b/a", "b/z"}));
  EXPECT_EQ(pods->revision, static_cast<int64_t>(keys.size()));

  auto in_a = s.List(Scope{kPod, "a"});
  ASSERT_TRUE(in_a.ok());
  ASSERT_EQ(in_a->records.size(), 2u);
  EXPECT_EQ(in_a->records[0].key.name, "b");
  EXPECT_EQ(in_a->records[1].key.name, "y");
  EXPECT_EQ(in_a->records[0].create_revision, 5);

  auto sets = s.List(Scope{kSet, std::nullopt});
  ASSERT_TRUE(sets.ok());
  ASSERT_EQ(sets->records.size(), 3u);
  EXPECT_EQ(sets->records[0].key.name, "n1");
  EXPECT_EQ(sets->records[1].key.name, "n10");
  EXPECT_EQ(sets->records[2].key.name, "n2");
  // Cluster-scoped objects live in namespace "".
  EXPECT_EQ(s.List(Scope{kSet, ""})->records.size(), 3u);
  EXPECT_TRUE(s.List(Scope{kFeed, std::nullopt})->records.empty());
  EXPECT_TRUE(s.List(Scope{kPod, "c"})->records.empty());
}

TYPED_TEST(StoreTest, WatchFromNowSeesOnlyLaterEventsOfItsScope) {
  auto& s = this->store();
  ASSERT_TRUE(s.Create(K(kFeed, "", "before"), "v").ok());
  auto w = s.WatchFrom(Scope{kFeed, std::nullopt}, 0);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE((*w)->Next(kNoWait).has_value());
  ASSERT_TRUE(s.Create(K(kFeed, "", "a"), "v1").ok());         // 2
  ASSERT_TRUE(s.Create(K(kSet, "", "a"), "other kind").ok());  // 3
  ASSERT_TRUE(s.Update(K(kFeed, "", "a"), "v2", 2).ok());      // 4
  ASSERT_TRUE(s.Delete(K(kFeed, "", "before"), 0).ok());       // 5
  auto events = Drain(**w);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::kAdded);
  EXPECT_EQ(events[0].record.key, K(kFeed, "", "a"));
  EXPECT_EQ(events[0].record.value, "v1");
  EXPECT_EQ(events[0].record.mod_revision, 2);
  EXPECT_EQ(events[1].type, EventType::kModified);
  EXPECT_EQ(events[1].record.value, "v2");
  EXPECT_EQ(events[1].record.create_revision, 2);
  EXPECT_EQ(events[1].record.mod_revision, 4);
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ(events[2].record.key.name, "before");
  EXPECT_EQ(events[2].record.value, "v");  // the last value
  EXPECT_EQ(events[2].record.create_revision, 1);
  EXPECT_EQ(events[2].record.mod_revision, 5);
  EXPECT_TRUE((*w)->status().ok());
}

TYPED_TEST(StoreTest, WatchFromPastReplaysThenFollowsWithoutGapsOrDuplicates) {
  auto& s = this->store();
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(s.Create(K(kSet, "", "s" + std::to_string(i)), "v").ok());
  auto w = s.WatchFrom(Scope{kSet, std::nullopt}, 2);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Writes between the watch's start and its first read are live events.
  ASSERT_TRUE(s.Create(K(kSet, "", "s6"), "v").ok());
  auto first = (*w)->Next(kForever);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->record.mod_revision, 3);
  ASSERT_TRUE(s.Create(K(kSet, "", "s7"), "v").ok());
  auto rest = Drain(**w);
  EXPECT_EQ(Revisions(rest), Range(4, 7));
  EXPECT_EQ(rest.front().record.key.name, "s4");
  EXPECT_EQ(rest.front().type, EventType::kAdded);
  // From the current revision: nothing to replay.
  auto now = s.WatchFrom(Scope{kSet, std::nullopt}, s.CurrentRevision());
  ASSERT_TRUE(now.ok());
  EXPECT_FALSE((*now)->Next(kNoWait).has_value());
}

TYPED_TEST(StoreTest, LongReplayIsPagedAndComplete) {
  auto& s = this->store();
  // More events than one replay page (256), in two kinds.
  for (int i = 1; i <= 700; ++i) {
    ASSERT_TRUE(s.Create(K(i % 2 ? kSet : kPod, i % 2 ? "" : "ns", "o" + std::to_string(i)), "v").ok());
  }
  auto all = s.WatchFrom(Scope{}, 1);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Revisions(Drain(**all)), Range(2, 700));
  auto pods = s.WatchFrom(Scope{kPod, "ns"}, 1);
  ASSERT_TRUE(pods.ok());
  auto events = Drain(**pods);
  ASSERT_EQ(events.size(), 350u);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].record.mod_revision, 2 * (int64_t(i) + 1));
}

TYPED_TEST(StoreTest, WatchScopeCoversKindsAndNamespaces) {
  auto& s = this->store();
  auto all = s.WatchFrom(Scope{}, 0);
  auto ns1 = s.WatchFrom(Scope{kPod, "ns1"}, 0);
  auto pods = s.WatchFrom(Scope{kPod, std::nullopt}, 0);
  auto cluster = s.WatchFrom(Scope{kSet, ""}, 0);
  ASSERT_TRUE(all.ok() && ns1.ok() && pods.ok() && cluster.ok());
  ASSERT_TRUE(s.Create(K(kPod, "ns1", "a"), "v").ok());  // 1
  ASSERT_TRUE(s.Create(K(kPod, "ns2", "a"), "v").ok());  // 2
  ASSERT_TRUE(s.Create(K(kSet, "", "a"), "v").ok());     // 3
  ASSERT_TRUE(s.Create(K(kFeed, "", "a"), "v").ok());    // 4
  ASSERT_TRUE(s.Delete(K(kPod, "ns1", "a"), 0).ok());    // 5
  EXPECT_EQ(Revisions(Drain(**all)), Range(1, 5));
  EXPECT_EQ(Revisions(Drain(**ns1)), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(Revisions(Drain(**pods)), (std::vector<int64_t>{1, 2, 5}));
  EXPECT_EQ(Revisions(Drain(**cluster)), (std::vector<int64_t>{3}));
}

TYPED_TEST(StoreTest, CompactMakesOlderWatchesGoneButKeepsObjects) {
  auto& s = this->store();
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(s.Create(K(kFeed, "", "f" + std::to_string(i)), "v").ok());
  EXPECT_EQ(s.CompactedRevision(), 0);
  ASSERT_TRUE(s.Compact(3).ok());
  EXPECT_EQ(s.CompactedRevision(), 3);
  auto gone = s.WatchFrom(Scope{kFeed, std::nullopt}, 2);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().IsGone()) << gone.error().ToString();
  auto at = s.WatchFrom(Scope{kFeed, std::nullopt}, 3);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(Revisions(Drain(**at)), Range(4, 6));
  // From now still works; the objects survive.
  EXPECT_TRUE(s.WatchFrom(Scope{}, 0).ok());
  EXPECT_EQ(s.List(Scope{kFeed, std::nullopt})->records.size(), 6u);
  EXPECT_EQ(s.Get(K(kFeed, "", "f1"))->mod_revision, 1);
  // Compacting backwards is a no-op; into the future is an error.
  EXPECT_TRUE(s.Compact(2).ok());
  EXPECT_EQ(s.CompactedRevision(), 3);
  EXPECT_TRUE(s.Compact(7).IsInvalidArgument());
  ASSERT_TRUE(s.Compact(6).ok());
  EXPECT_TRUE(s.WatchFrom(Scope{}, 5).error().IsGone());
  ASSERT_TRUE(s.Create(K(kFeed, "", "f7"), "v").ok());
  auto after = s.WatchFrom(Scope{}, 6);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Revisions(Drain(**after)), (std::vector<int64_t>{7}));
}

TYPED_TEST(StoreTest, CompactionDuringReplayEndsTheWatchWithGone) {
  auto& s = this->store();
  for (int i = 1; i <= 600; ++i) ASSERT_TRUE(s.Create(K(kSet, "", "s" + std::to_string(i)), "v").ok());
  auto w = s.WatchFrom(Scope{}, 1);
  ASSERT_TRUE(w.ok());
  auto first = (*w)->Next(kNoWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->record.mod_revision, 2);
  ASSERT_TRUE(s.Compact(600).ok());
  // What was already read into the first page may still arrive, but the
  // watch must end with Gone rather than skip the compacted revisions.
  int64_t last = 2;
  while (auto e = (*w)->Next(kNoWait)) {
    EXPECT_EQ(e->record.mod_revision, last + 1);
    last = e->record.mod_revision;
  }
  EXPECT_LT(last, 600);
  EXPECT_TRUE((*w)->status().IsGone()) << (*w)->status().ToString();
}

TYPED_TEST(StoreTest, AutomaticCompactionByRevisions) {
  StoreOptions o;
  o.history_max_revisions = 10;
  this->Reopen(o);
  auto& s = this->store();
  const int64_t base = s.CurrentRevision();
  for (int i = 1; i <= 40; ++i) ASSERT_TRUE(s.Create(K(kSet, "", "s" + std::to_string(i)), "v").ok());
  const int64_t current = base + 40;
  const int64_t compacted = s.CompactedRevision();
  EXPECT_GE(current - compacted, 10);  // at least the limit is kept
  EXPECT_LE(current - compacted, 11);  // plus at most the slack (10/8 = 1)
  EXPECT_TRUE(s.WatchFrom(Scope{}, compacted - 1).error().IsGone());
  auto w = s.WatchFrom(Scope{}, compacted);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(Revisions(Drain(**w)), Range(compacted + 1, current));
  EXPECT_EQ(s.List(Scope{kSet, std::nullopt})->records.size(), 40u);
}

TYPED_TEST(StoreTest, AutomaticCompactionByBytes) {
  StoreOptions o;
  o.history_max_revisions = 0;
  o.history_max_bytes = 20000;
  this->Reopen(o);
  auto& s = this->store();
  for (int i = 1; i <= 30; ++i)
    ASSERT_TRUE(s.Update(K(kSet, "", "big"), std::string(3000, 'a' + i % 26), 0).ok() ||
                s.Create(K(kSet, "", "big"), std::string(3000, 'a')).ok());
  const int64_t current = s.CurrentRevision();
  const int64_t compacted = s.CompactedRevision();
  EXPECT_GT(compacted, 0);
  auto w = s.WatchFrom(Scope{}, compacted);
  ASSERT_TRUE(w.ok());
  auto events = Drain(**w);
  size_t bytes = 0;
  for (const auto& e : events) bytes += e.record.value.size();
  EXPECT_LE(bytes, 20000u);
  EXPECT_GE(events.size(), 4u);  // compacts to 7/8 of the limit, not to nothing
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().record.mod_revision, current);
}

TYPED_TEST(StoreTest, CancelUnblocksNext) {
  auto& s = this->store();
  auto w = s.WatchFrom(Scope{}, 0);
  ASSERT_TRUE(w.ok());
  Watch* watch = w->get();
  std::optional<WatchEvent> got;
  std::thread reader([&] { got = watch->Next(kForever); });
  watch->Cancel();
  reader.join();
  EXPECT_FALSE(got.has_value());
  EXPECT_TRUE(watch->status().ok());
  ASSERT_TRUE(s.Create(K(kFeed, "", "after-cancel"), "v").ok());
  EXPECT_FALSE(watch->Next(kNoWait).has_value());
}

TYPED_TEST(StoreTest, NextWakesUpForAWriteFromAnotherThread) {
  auto& s = this->store();
  auto w = s.WatchFrom(Scope{kFeed, std::nullopt}, 0);
  ASSERT_TRUE(w.ok());
  std::thread writer([&] { EXPECT_TRUE(s.Create(K(kFeed, "", "x"), "v").ok()); });
  auto e = (*w)->Next(kForever);
  writer.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->record.key.name, "x");
}

TYPED_TEST(StoreTest, SlowWatcherGetsGoneWithoutBlockingWriters) {
  StoreOptions o;
  o.watch_queue_max_events = 5;
  this->Reopen(o);
  auto& s = this->store();
  ASSERT_TRUE(s.Create(K(kFeed, "", "first"), "v").ok());  // watching from 0 would mean "now"
  auto slow = s.WatchFrom(Scope{}, 0);
  auto fast = s.WatchFrom(Scope{}, 0);
  ASSERT_TRUE(slow.ok() && fast.ok());
  const int64_t base = s.CurrentRevision();
  for (int i = 1; i <= 12; ++i) {
    ASSERT_TRUE(s.Create(K(kSet, "", "s" + std::to_string(i)), "v").ok());
    if (i % 4 == 0) {
      EXPECT_EQ(Drain(**fast).size(), 4u);  // keeps up
    }
  }
  EXPECT_FALSE((*slow)->Next(kNoWait).has_value());
  EXPECT_TRUE((*slow)->status().IsGone()) << (*slow)->status().ToString();
  EXPECT_TRUE((*fast)->status().ok());
  EXPECT_EQ(s.CurrentRevision(), base + 12);
  // The client re-watches from where it was: history still has it.
  auto again = s.WatchFrom(Scope{}, base);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Drain(**again).size(), 12u);
}

TYPED_TEST(StoreTest, WatchOutlivingTheStoreEndsUnavailable) {
  auto w = this->store().WatchFrom(Scope{}, 0);
  ASSERT_TRUE(w.ok());
  this->store_.reset();
  EXPECT_FALSE((*w)->Next(kNoWait).has_value());
  EXPECT_TRUE((*w)->status().IsUnavailable()) << (*w)->status().ToString();
}

TYPED_TEST(StoreTest, ConcurrentWritersLoseNoUpdates) {
  auto& s = this->store();
  const Key counter = K(kSet, "", "counter");
  ASSERT_TRUE(s.Create(counter, "0").ok());
  auto w = s.WatchFrom(Scope{kSet, std::nullopt}, 0);
  ASSERT_TRUE(w.ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {  // read-modify-write with a precondition
          auto cur = s.Get(counter);
          ASSERT_TRUE(cur.ok()) << cur.status().ToString();
          int n = std::stoi(cur->value);
          auto upd = s.Update(counter, std::to_string(n + 1), cur->mod_revision);
          if (upd.ok()) break;
          ASSERT_TRUE(upd.error().IsConflict()) << upd.error().ToString();
          ++conflicts;
        }
        // Independent creates interleave with the counter updates.
        ASSERT_TRUE(s.Create(K(kPod, "t" + std::to_string(t), std::to_string(i)), "v").ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  constexpr int kTotal = kThreads * kIncrements;
  EXPECT_EQ(s.Get(counter)->value, std::to_string(kTotal));
  EXPECT_EQ(s.CurrentRevision(), 1 + 2 * kTotal);
  EXPECT_EQ(s.List(Scope{kPod, std::nullopt})->records.size(), size_t{kTotal});
  // The watch saw every value in order: 1, 2, ..., kTotal.
  auto events = Drain(**w);
  ASSERT_EQ(events.size(), size_t{kTotal});
  for (int i = 0; i < kTotal; ++i) EXPECT_EQ(events[i].record.value, std::to_string(i + 1));
  this->RecordProperty("conflicts", conflicts.load());
}

TYPED_TEST(StoreTest, TwentyMegabyteValueRoundTrips) {
  if constexpr (kIsChunked<TypeParam>) {
    // 330,000 pieces of 64 bytes would compact the history away; 20 MB in
    // real-size pieces is ChunkedStoreTest.TwentyMegabytes*.
    GTEST_SKIP() << "too many tiny chunks";
  }
  auto& s = this->store();
  std::string big;
  big.reserve(20u << 20);
  std::mt19937 rng(7);
  while (big.size() < (20u << 20))
    big += "\"10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ".0/24\",";
  const Key key = K(kSet, "", "threatfeed.huge");
  ASSERT_TRUE(s.Create(K(kFeed, "", "first"), "v").ok());  // watching from 0 would mean "now"
  auto w = s.WatchFrom(Scope{kSet, std::nullopt}, 0);
  ASSERT_TRUE(w.ok());
  auto created = s.Create(key, big);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto got = s.Get(key);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->value == big) << "value differs (size " << got->value.size() << " vs " << big.size()
                                 << ")";
  std::string bigger = big + big.substr(0, 1 << 20);
  ASSERT_TRUE(s.Update(key, bigger, created->mod_revision).ok());
  EXPECT_TRUE(s.Get(key)->value == bigger);
  auto events = Drain(**w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].record.value == big);
  EXPECT_TRUE(events[1].record.value == bigger);
  auto list = s.List(Scope{kSet, std::nullopt});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].value.size(), bigger.size());
  // Replay of huge values pages by bytes but still delivers each one.
  auto replay = s.WatchFrom(Scope{}, created->mod_revision - 1);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(Drain(**replay).size(), 2u);
}

// ---- SqliteStore only --------------------------------------------------

TEST(SqliteStore, ReopenKeepsDataRevisionAndHistory) {
  TempDir dir;
  const std::string path = dir.path() + "/s.db";
  {
    auto opened = SqliteStore::Open(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Datastore& s = **opened;
    ASSERT_TRUE(s.Create(K(kFeed, "", "a"), "v1").ok());
    ASSERT_TRUE(s.Create(K(kPod, "ns", "p"), "pod").ok());
    ASSERT_TRUE(s.Update(K(kFeed, "", "a"), "v2", 1).ok());
    ASSERT_TRUE(s.Delete(K(kPod, "ns", "p"), 0).ok());
    ASSERT_TRUE(s.Compact(1).ok());
  }
  auto reopened = SqliteStore::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Datastore& r = **reopened;
  EXPECT_EQ(r.CurrentRevision(), 4);
  EXPECT_EQ(r.CompactedRevision(), 1);
  auto a = r.Get(K(kFeed, "", "a"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value, "v2");
  EXPECT_EQ(a->create_revision, 1);
  EXPECT_EQ(a->mod_revision, 3);
  EXPECT_TRUE(r.Get(K(kPod, "ns", "p")).error().IsNotFound());
  auto next = r.Create(K(kFeed, "", "b"), "v");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->mod_revision, 5);
  EXPECT_TRUE(r.WatchFrom(Scope{}, 0).ok());
  auto w = r.WatchFrom(Scope{}, 1);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto events = Drain(**w);
  EXPECT_EQ(Revisions(events), Range(2, 5));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ(events[2].record.value, "pod");
  EXPECT_TRUE((*reopened)->CheckConsistency().ok());
}

TEST(SqliteStore, SecondOpenOfTheSameDatabaseIsUnavailable) {
  TempDir dir;
  auto a = SqliteStore::Open(dir.path() + "/s.db");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = SqliteStore::Open(dir.path() + "/s.db");
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.error().IsUnavailable()) << b.error().ToString();
  EXPECT_TRUE((*a)->CheckConsistency().ok());
  a->reset();
  EXPECT_TRUE(SqliteStore::Open(dir.path() + "/s.db").ok());
}

TEST(SqliteStore, MissingDirectoryIsIoErrorNamingThePath) {
  TempDir dir;
  auto s = SqliteStore::Open(dir.path() + "/no/such/dir/s.db");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().IsIoError());
  EXPECT_NE(s.error().message().find("/no/such/dir/s.db"), std::string::npos) << s.error().message();
}

// Runs SQL on a closed store's file with the plain SQLite API.
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(SqliteStore, OpenDetectsAnInconsistentRevisionCounter) {
  struct Case {
    std::string sql;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"UPDATE meta SET value = 1 WHERE key = 'revision'", "inconsistent revision counter"},
      {"UPDATE meta SET value = 9 WHERE key = 'revision'", "inconsistent revision counter"},
      {"DELETE FROM events WHERE rev = 2", "inconsistent revision counter"},
      {"UPDATE meta SET value = 5 WHERE key = 'compacted'", "inconsistent revision counter"},
      {"PRAGMA user_version = 7", "newer"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    const std::string path = dir.path() + "/s.db";
    {
      auto s = SqliteStore::Open(path);
      ASSERT_TRUE(s.ok());
      for (int i = 0; i < 3; ++i) ASSERT_TRUE((*s)->Create(K(kFeed, "", std::to_string(i)), "v").ok());
    }
    Tamper(path, c.sql);
    auto s = SqliteStore::Open(path);
    ASSERT_FALSE(s.ok()) << c.sql;
    EXPECT_NE(s.error().message().find(c.expect), std::string::npos) << c.sql << ": " << s.error().ToString();
  }
}

TEST(SqliteStore, ForeignDatabaseIsRejected) {
  TempDir dir;
  const std::string path = dir.path() + "/other.db";
  Tamper(path, "CREATE TABLE t(x)");
  auto s = SqliteStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("not a threatwall database"), std::string::npos) << s.error().ToString();

  const std::string junk = dir.path() + "/junk.db";
  FILE* f = fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a database, just some text long enough to have a header.......................", f);
  fclose(f);
  auto j = SqliteStore::Open(junk);
  ASSERT_FALSE(j.ok());
  EXPECT_TRUE(j.error().IsIoError()) << j.error().ToString();
}

TEST(SqliteStore, NormalSyncModeWorksAndPersists) {
  TempDir dir;
  SqliteStore::Options o;
  o.sync = SqliteStore::Sync::kNormal;
  {
    auto s = SqliteStore::Open(dir.path() + "/s.db", o);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*s)->Create(K(kFeed, "", std::to_string(i)), "v").ok());
  }
  auto s = SqliteStore::Open(dir.path() + "/s.db", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->CurrentRevision(), 20);
  EXPECT_EQ((*s)->List(Scope{kFeed, std::nullopt})->records.size(), 20u);
}

}  // namespace
}  // namespace tw::store
