// ChunkedStore over MemStore and SqliteStore, with tiny pieces so that the
// layout in the inner store can be counted.  The Datastore contract itself
// is the conformance suite in store_test.cc (which also runs on
// ChunkedStore).
#include "store/chunked_store.h"

#include <gtest/gtest.h>

#include "base/test_temp_dir.h"
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/mem_store.h"
#include "store/sqlite_store.h"

namespace tw::store {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kNoWait{0};
constexpr size_t kChunk = 64;
const std::string kBlob = ChunkedStore::Options().blob_kind;
const std::string kSet = "projectcalico.org/GlobalNetworkSet";
const std::string kFeed = "projectcalico.org/GlobalThreatFeed";
const std::string kMagic("\0twchunks1\n", 11);

using tw::testing::TempDir;

struct MemInner {
  std::unique_ptr<Datastore> Open() { return std::make_unique<MemStore>(); }
};

struct SqliteInner {
  TempDir dir;
  std::unique_ptr<Datastore> Open() {
    SqliteStore::Options o;
    o.sync = SqliteStore::Sync::kNormal;
    auto s = SqliteStore::Open(dir.path() + "/store.db", o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return nullptr;
    return std::move(*s);
  }
};

// `n` pseudo-random bytes (all 256 values, so also NULs): every piece of
// every value differs.
std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

size_t Pieces(size_t size) { return (size + kChunk - 1) / kChunk; }

std::vector<WatchEvent> Drain(Watch& w) {
  std::vector<WatchEvent> out;
  while (auto e = w.Next(kNoWait)) out.push_back(std::move(*e));
  return out;
}

template <typename Inner>
class ChunkedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(kChunk); }
  void Open(size_t chunk) {
    store_.reset();
    auto inner = inner_.Open();
    ASSERT_NE(inner, nullptr);
    ChunkedStore::Options o;
    o.chunk_bytes = chunk;
    store_ = std::make_unique<ChunkedStore>(std::move(inner), o);
  }
  ChunkedStore& store() { return *store_; }
  Datastore& inner() { return store_->inner(); }

  std::vector<Record> BlobRecords() {
    auto list = inner().List(Scope{kBlob, std::nullopt});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? list->records : std::vector<Record>{};
  }
  size_t Blobs() { return BlobRecords().size(); }
  // Names of the blob records, to see which generation survives.
  std::set<std::string> BlobNames() {
    std::set<std::string> out;
    for (const auto& r : BlobRecords()) out.insert(r.key.name);
    return out;
  }

  // No inner value may exceed a piece plus a small manifest: pieces are at
  // most kChunk, a manifest holds a 64-hex line per (current or previous)
  // piece plus a header, and inline bytes only when it has no pieces.
  void ExpectInnerValuesBounded(const std::string& kind) {
    for (const auto& r : BlobRecords()) EXPECT_LE(r.value.size(), kChunk) << r.key.name;
    auto list = inner().List(Scope{kind, std::nullopt});
    ASSERT_TRUE(list.ok());
    const size_t blobs = Blobs();
    for (const auto& r : list->records) {
      EXPECT_LE(r.value.size(), kChunk + kMagic.size() + 64 + 65 * blobs) << r.key.name;
    }
  }

  Inner inner_;
  std::unique_ptr<ChunkedStore> store_;
};

using Inners = ::testing::Types<MemInner, SqliteInner>;
class InnerNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemInner> ? "Mem" : "Sqlite";
  }
};
TYPED_TEST_SUITE(ChunkedStoreTest, Inners, InnerNames);

TYPED_TEST(ChunkedStoreTest, RoundTripsAtChunkBoundaries) {
  auto& s = this->store();
  const std::vector<size_t> sizes = {0, kChunk - 1, kChunk, kChunk + 1, 10 * kChunk + 3};
  uint32_t seed = 1;
  for (size_t size : sizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const Key key{kSet, "", "v" + std::to_string(size)};
    const std::string v1 = Bytes(size, seed++);
    const int64_t before = s.CurrentRevision();
    auto created = s.Create(key, v1);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    EXPECT_EQ(created->value, v1);
    // One revision per piece, then one for the object.
    const int64_t cost = size <= kChunk ? 1 : static_cast<int64_t>(Pieces(size)) + 1;
    EXPECT_EQ(created->mod_revision, before + cost);
    EXPECT_EQ(created->create_revision, created->mod_revision);
    EXPECT_EQ(s.CurrentRevision(), before + cost);

    auto got = s.Get(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->value == v1);
    EXPECT_EQ(got->mod_revision, created->mod_revision);
    auto raw = this->inner().Get(key);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw->mod_revision, created->mod_revision);
    // Small values are stored byte-identical; larger ones as a manifest.
    if (size <= kChunk) {
      EXPECT_TRUE(raw->value == v1);
    } else {
      EXPECT_TRUE(raw->value.starts_with(kMagic));
    }

    const std::string v2 = Bytes(size, seed++);
    auto updated = s.Update(key, v2, created->mod_revision);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    EXPECT_EQ(updated->value, v2);
    EXPECT_EQ(updated->create_revision, created->create_revision);
    EXPECT_TRUE(s.Get(key)->value == v2);
    this->ExpectInnerValuesBounded(kSet);
  }
}

TYPED_TEST(ChunkedStoreTest, UpdatesKeepExactlyOnePreviousGeneration) {
  auto& s = this->store();
  const Key key{kSet, "", "gen"};
  const size_t big = 10 * kChunk + 3;  // 11 distinct pieces
  const std::string a = Bytes(big, 11), b = Bytes(big, 12), c = Bytes(big, 13);
  ASSERT_TRUE(s.Create(key, a).ok());
  EXPECT_EQ(this->Blobs(), 11u);
  const auto gen_a = this->BlobNames();

  ASSERT_TRUE(s.Update(key, b, 0).ok());  // big -> big: a is kept as previous
  EXPECT_EQ(this->Blobs(), 22u);
  auto names = this->BlobNames();
  EXPECT_TRUE(std::includes(names.begin(), names.end(), gen_a.begin(), gen_a.end()));
  std::set<std::string> gen_b;
  std::set_difference(names.begin(), names.end(), gen_a.begin(), gen_a.end(),
                      std::inserter(gen_b, gen_b.end()));

  ASSERT_TRUE(s.Update(key, c, 0).ok());  // a is collected now, b kept
  EXPECT_EQ(this->Blobs(), 22u);
  names = this->BlobNames();
  for (const auto& n : gen_a) EXPECT_FALSE(names.contains(n)) << n;
  for (const auto& n : gen_b) EXPECT_TRUE(names.contains(n)) << n;
  EXPECT_TRUE(s.Get(key)->value == c);

  ASSERT_TRUE(s.Update(key, "small", 0).ok());  // big -> small: b collected, c kept
  EXPECT_EQ(this->Blobs(), 11u);
  for (const auto& n : gen_b) EXPECT_FALSE(this->BlobNames().contains(n)) << n;
  EXPECT_EQ(s.Get(key)->value, "small");
  // Inline in a manifest, which remembers c's pieces.
  EXPECT_TRUE(this->inner().Get(key)->value.starts_with(kMagic));

  ASSERT_TRUE(s.Update(key, "smaller", 0).ok());  // small -> small: c collected
  EXPECT_EQ(this->Blobs(), 0u);
  EXPECT_EQ(this->inner().Get(key)->value, "smaller");  // byte-identical again
  EXPECT_EQ(s.Get(key)->value, "smaller");

  ASSERT_TRUE(s.Update(key, a, 0).ok());  // small -> big
  EXPECT_EQ(this->Blobs(), 11u);
  EXPECT_TRUE(s.Get(key)->value == a);
  this->ExpectInnerValuesBounded(kSet);
}

TYPED_TEST(ChunkedStoreTest, PiecesSharedBetweenGenerationsAreNeverCollectedTooEarly) {
  auto& s = this->store();
  const Key key{kSet, "", "shared"};
  const std::string a = Bytes(10 * kChunk, 21);
  std::string b = a;
  b.replace(0, kChunk, Bytes(kChunk, 22));  // shares 9 pieces with a
  const std::string c = Bytes(3 * kChunk, 23);
  const std::vector<std::string> steps = {a, b, a, b, b + "x", c, a, a, c};
  ASSERT_TRUE(s.Create(key, steps[0]).ok());
  for (size_t i = 1; i < steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    ASSERT_TRUE(s.Update(key, steps[i], 0).ok());
    auto got = s.Get(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->value == steps[i]);
  }
  // Left: the pieces of c (current) and of a (previous) only.
  EXPECT_EQ(this->Blobs(), 10u + 3u);
  EXPECT_EQ(*s.CollectGarbage(), 0u);
}

TYPED_TEST(ChunkedStoreTest, DeleteRemovesBothGenerationsAndReturnsTheLastValue) {
  auto& s = this->store();
  const Key key{kSet, "", "d"};
  const std::string v1 = Bytes(5 * kChunk, 31), v2 = Bytes(4 * kChunk + 1, 32);
  ASSERT_TRUE(s.Create(key, v1).ok());
  auto upd = s.Update(key, v2, 0);
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(this->Blobs(), 5u + 5u);
  EXPECT_TRUE(s.Delete(key, upd->mod_revision - 1).error().IsConflict());
  EXPECT_EQ(this->Blobs(), 10u);
  auto del = s.Delete(key, upd->mod_revision);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_TRUE(del->value == v2);
  EXPECT_EQ(del->create_revision, upd->create_revision);
  EXPECT_EQ(this->Blobs(), 0u);
  EXPECT_TRUE(s.Get(key).error().IsNotFound());
  // Another object's pieces are its own.
  const Key other{kSet, "", "other"};
  ASSERT_TRUE(s.Create(key, v1).ok());
  ASSERT_TRUE(s.Create(other, v1).ok());
  EXPECT_EQ(this->Blobs(), 10u);
  ASSERT_TRUE(s.Delete(key, 0).ok());
  EXPECT_TRUE(s.Get(other)->value == v1);
}

TYPED_TEST(ChunkedStoreTest, FailedPreconditionsWriteNothing) {
  auto& s = this->store();
  const Key key{kSet, "", "p"};
  const std::string v1 = Bytes(3 * kChunk, 41);
  auto created = s.Create(key, v1);
  ASSERT_TRUE(created.ok());
  const int64_t rev = s.CurrentRevision();
  const auto names = this->BlobNames();

  auto stale = s.Update(key, Bytes(4 * kChunk, 42), created->mod_revision - 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().IsConflict()) << stale.error().ToString();
  auto exists = s.Create(key, Bytes(4 * kChunk, 43));
  ASSERT_FALSE(exists.ok());
  EXPECT_TRUE(exists.error().IsAlreadyExists()) << exists.error().ToString();
  auto missing = s.Update(Key{kSet, "", "nope"}, Bytes(4 * kChunk, 44), 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().IsNotFound()) << missing.error().ToString();
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
  EXPECT_TRUE(s.Update(key, Bytes(4 * kChunk, 45), -1).error().IsInvalidArgument());

  EXPECT_EQ(s.CurrentRevision(), rev);
  EXPECT_EQ(this->BlobNames(), names);
  EXPECT_TRUE(s.Get(key)->value == v1);
}

TYPED_TEST(ChunkedStoreTest, WatchSeesWholeValuesAndNoPieces) {
  auto& s = this->store();
  ASSERT_TRUE(s.Create(Key{kFeed, "", "first"}, "v").ok());
  auto all = s.WatchFrom(Scope{}, 0);
  auto sets = s.WatchFrom(Scope{kSet, std::nullopt}, 0);
  auto blobs = s.WatchFrom(Scope{kBlob, std::nullopt}, 0);
  ASSERT_TRUE(all.ok() && sets.ok() && blobs.ok());
  const Key key{kSet, "", "w"};
  const std::string v1 = Bytes(6 * kChunk, 51), v2 = Bytes(7 * kChunk + 5, 52);

  auto created = s.Create(key, v1);
  ASSERT_TRUE(created.ok());
  for (Watch* w : {all->get(), sets->get()}) {
    auto events = Drain(*w);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, EventType::kAdded);
    EXPECT_EQ(events[0].record.key, key);
    EXPECT_TRUE(events[0].record.value == v1);
    EXPECT_EQ(events[0].record.mod_revision, created->mod_revision);
  }
  auto updated = s.Update(key, v2, 0);
  ASSERT_TRUE(updated.ok());
  for (Watch* w : {all->get(), sets->get()}) {
    auto events = Drain(*w);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, EventType::kModified);
    EXPECT_TRUE(events[0].record.value == v2);
    EXPECT_EQ(events[0].record.mod_revision, updated->mod_revision);
    EXPECT_EQ(events[0].record.create_revision, created->mod_revision);
  }
  auto deleted = s.Delete(key, 0);
  ASSERT_TRUE(deleted.ok());
  for (Watch* w : {all->get(), sets->get()}) {
    auto events = Drain(*w);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, EventType::kDeleted);
    EXPECT_EQ(events[0].record.mod_revision, deleted->mod_revision);
    // Delete removed the pieces before this watcher read the event.
    EXPECT_EQ(events[0].record.value, "");
  }
  // A watch of the blob kind itself sees the raw pieces come and go.
  auto raw = Drain(**blobs);
  EXPECT_EQ(raw.size(), 6u + 8u + 6u + 8u);
  for (const auto& e : raw) {
    EXPECT_EQ(e.record.key.kind, kBlob);
    EXPECT_LE(e.record.value.size(), kChunk);
  }
  EXPECT_TRUE((*all)->status().ok());
}

TYPED_TEST(ChunkedStoreTest, LaggingWatchFallsBackToTheCurrentValue) {
  auto& s = this->store();
  ASSERT_TRUE(s.Create(Key{kFeed, "", "first"}, "v").ok());
  auto w = s.WatchFrom(Scope{kSet, std::nullopt}, 0);
  ASSERT_TRUE(w.ok());
  const Key key{kSet, "", "lag"};
  const std::string v1 = Bytes(3 * kChunk, 61), v2 = Bytes(3 * kChunk, 62), v3 = Bytes(3 * kChunk, 63);
  auto r1 = s.Create(key, v1);
  auto r2 = s.Update(key, v2, 0);
  auto r3 = s.Update(key, v3, 0);  // collects v1's pieces
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  auto events = Drain(**w);
  ASSERT_EQ(events.size(), 3u);
  // v1 is gone: its event carries the current value, at its own revision.
  EXPECT_EQ(events[0].type, EventType::kAdded);
  EXPECT_EQ(events[0].record.mod_revision, r1->mod_revision);
  EXPECT_TRUE(events[0].record.value == v3);
  EXPECT_TRUE(events[1].record.value == v2);  // kept as the previous generation
  EXPECT_EQ(events[1].record.mod_revision, r2->mod_revision);
  EXPECT_TRUE(events[2].record.value == v3);
  EXPECT_EQ(events[2].record.mod_revision, r3->mod_revision);

  // Lagging behind a deletion: the updates of a vanished object are
  // skipped, its deletion still arrives.
  const Key gone{kSet, "", "gone"};
  ASSERT_TRUE(s.Create(gone, v1).ok());
  ASSERT_TRUE(s.Update(gone, v2, 0).ok());
  auto del = s.Delete(gone, 0);
  ASSERT_TRUE(del.ok());
  const std::string small = "small";
  ASSERT_TRUE(s.Create(Key{kSet, "", "plain"}, small).ok());
  events = Drain(**w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::kDeleted);
  EXPECT_EQ(events[0].record.key, gone);
  EXPECT_EQ(events[0].record.mod_revision, del->mod_revision);
  EXPECT_EQ(events[0].record.value, "");
  EXPECT_EQ(events[1].record.value, small);
}

TYPED_TEST(ChunkedStoreTest, ValuesStartingWithTheMagicRoundTrip) {
  auto& s = this->store();
  const std::vector<std::string> values = {
      kMagic,
      kMagic + "5 0 0\nhello",  // looks like an inline manifest
      kMagic + Bytes(3 * kChunk, 71),
      std::string("x") + kMagic,  // magic later: plain
  };
  for (size_t i = 0; i < values.size(); ++i) {
    const Key key{kSet, "", "m" + std::to_string(i)};
    ASSERT_TRUE(s.Create(key, values[i]).ok()) << i;
    EXPECT_TRUE(s.Get(key)->value == values[i]) << i;
  }
  EXPECT_TRUE(this->inner().Get(Key{kSet, "", "m3"})->value == values[3]);
  auto list = s.List(Scope{kSet, std::nullopt});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->records.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_TRUE(list->records[i].value == values[i]) << i;
}

TYPED_TEST(ChunkedStoreTest, ListAssemblesAndListOfTheBlobKindShowsPieces) {
  auto& s = this->store();
  const std::vector<std::string> values = {"a", Bytes(kChunk * 2 + 7, 81), "", Bytes(kChunk * 5, 82)};
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(s.Create(Key{kSet, i % 2 ? "ns" : "", "l" + std::to_string(i)}, values[i]).ok());
  }
  auto list = s.List(Scope{kSet, std::nullopt});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->revision, s.CurrentRevision());
  ASSERT_EQ(list->records.size(), 4u);  // sorted by (ns, name)
  EXPECT_EQ(list->records[0].key.name, "l0");
  EXPECT_EQ(list->records[1].key.name, "l2");
  EXPECT_EQ(list->records[2].key.name, "l1");
  EXPECT_EQ(list->records[3].key.name, "l3");
  EXPECT_EQ(list->records[0].value, values[0]);
  EXPECT_EQ(list->records[1].value, values[2]);
  EXPECT_TRUE(list->records[2].value == values[1]);
  EXPECT_TRUE(list->records[3].value == values[3]);
  auto ns = s.List(Scope{kSet, "ns"});
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(ns->records.size(), 2u);
  EXPECT_TRUE(ns->records[1].value == values[3]);
  auto pieces = s.List(Scope{kBlob, std::nullopt});
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(pieces->records.size(), 3u + 5u);
  for (const auto& r : pieces->records) {
    EXPECT_LE(r.value.size(), kChunk);
    EXPECT_TRUE(r.key.name.starts_with(kSet + "|"));
  }
}

TYPED_TEST(ChunkedStoreTest, BlobKindIsReservedForWrites) {
  auto& s = this->store();
  const Key piece{kBlob, "", "x"};
  EXPECT_TRUE(s.Create(piece, "v").error().IsInvalidArgument());
  EXPECT_TRUE(s.Update(piece, "v", 0).error().IsInvalidArgument());
  EXPECT_TRUE(s.Delete(piece, 0).error().IsInvalidArgument());
  EXPECT_EQ(s.CurrentRevision(), 0);
}

TYPED_TEST(ChunkedStoreTest, MissingPieceOrCorruptManifestIsIoErrorNamingTheKey) {
  auto& s = this->store();
  const Key key{kSet, "", "broken"};
  ASSERT_TRUE(s.Create(key, Bytes(3 * kChunk, 91)).ok());
  auto pieces = this->BlobRecords();
  ASSERT_EQ(pieces.size(), 3u);
  ASSERT_TRUE(this->inner().Delete(pieces[1].key, 0).ok());
  auto got = s.Get(key);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error().IsIoError()) << got.error().ToString();
  EXPECT_NE(got.error().message().find("broken"), std::string::npos) << got.error().message();
  EXPECT_NE(got.error().message().find("missing"), std::string::npos) << got.error().message();
  auto list = s.List(Scope{kSet, std::nullopt});
  ASSERT_FALSE(list.ok());
  EXPECT_TRUE(list.error().IsIoError());
  EXPECT_NE(list.error().message().find("broken"), std::string::npos) << list.error().message();

  const std::vector<std::string> corrupt = {
      kMagic,
      kMagic + "3 1 0\n",
      kMagic + "x 0 0\n",
      kMagic + "5 0 0\nabc",
      kMagic + "3 1 0\n" + std::string(64, 'g') + "\n",
  };
  for (const auto& value : corrupt) {
    ASSERT_TRUE(this->inner().Update(key, value, 0).ok());
    auto bad = s.Get(key);
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(bad.error().IsIoError()) << bad.error().ToString();
    EXPECT_NE(bad.error().message().find("corrupt chunk manifest"), std::string::npos)
        << bad.error().message();
  }
  // A broken object can still be overwritten and deleted.
  ASSERT_TRUE(s.Update(key, Bytes(2 * kChunk, 92), 0).ok());
  EXPECT_TRUE(s.Get(key).ok());
  EXPECT_TRUE(s.Delete(key, 0).ok());
}

TYPED_TEST(ChunkedStoreTest, CollectGarbageKeepsOnlyReferencedPieces) {
  auto& s = this->store();
  const Key live{kSet, "", "live"};
  ASSERT_TRUE(s.Create(live, Bytes(3 * kChunk, 101)).ok());
  ASSERT_TRUE(s.Update(live, Bytes(2 * kChunk, 102), 0).ok());  // 3 previous + 2 current
  const auto kept = this->BlobNames();
  ASSERT_EQ(kept.size(), 5u);
  // Debris of a crash: pieces of an object whose manifest was never
  // written, an extra piece of the live object, a name we never write.
  auto& in = this->inner();
  const std::string hash(64, 'a');
  ASSERT_TRUE(in.Create(Key{kBlob, "", kSet + "||crashed|" + hash}, "p").ok());
  ASSERT_TRUE(in.Create(Key{kBlob, "", kSet + "||live|" + std::string(64, 'b')}, "p").ok());
  ASSERT_TRUE(in.Create(Key{kBlob, "", "junk"}, "p").ok());
  auto collected = s.CollectGarbage();
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(*collected, 3u);
  EXPECT_EQ(this->BlobNames(), kept);
  EXPECT_TRUE(s.Get(live).ok());
  EXPECT_EQ(*s.CollectGarbage(), 0u);
}

TYPED_TEST(ChunkedStoreTest, TwentyMegabytesInRealSizePieces) {
  this->Open(ChunkedStore::Options().chunk_bytes);
  auto& s = this->store();
  std::string big;
  std::mt19937 rng(7);
  while (big.size() < (20u << 20))
    big += "\"10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ".0/24\",";
  const Key key{kSet, "", "threatfeed.huge"};
  ASSERT_TRUE(s.Create(Key{kFeed, "", "first"}, "v").ok());
  auto w = s.WatchFrom(Scope{kSet, std::nullopt}, 0);
  ASSERT_TRUE(w.ok());
  auto created = s.Create(key, big);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(s.Get(key)->value == big);
  const std::string bigger = big + big.substr(0, 1 << 20);
  ASSERT_TRUE(s.Update(key, bigger, created->mod_revision).ok());
  EXPECT_TRUE(s.Get(key)->value == bigger);
  for (const auto& r : this->BlobRecords()) EXPECT_LE(r.value.size(), size_t{512} << 10);
  EXPECT_LT(this->inner().Get(key)->value.size(), 8000u);  // the manifest
  auto events = Drain(**w);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].record.value == big);
  EXPECT_TRUE(events[1].record.value == bigger);
  auto replay = s.WatchFrom(Scope{}, created->mod_revision - 1);
  ASSERT_TRUE(replay.ok());
  auto replayed = Drain(**replay);
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_TRUE(replayed[1].record.value == bigger);
}

// ---- failure injection (MemStore inside) ---------------------------------

// Forwards to a MemStore; can fail the next writes of objects (not pieces)
// with Conflict, and piece deletions (a crash before the cleanup).
class FlakyStore : public Datastore {
 public:
  int fail_object_writes = 0;
  bool fail_piece_deletes = false;

  Result<Record> Get(const Key& key) override { return mem_.Get(key); }
  Result<ListResult> List(const Scope& scope) override { return mem_.List(scope); }
  Result<Record> Create(const Key& key, std::string value) override {
    if (TakeFailure(key)) return Status::AlreadyExists("injected");
    return mem_.Create(key, std::move(value));
  }
  Result<Record> Update(const Key& key, std::string value, int64_t expected) override {
    if (TakeFailure(key)) return Status::Conflict("injected");
    return mem_.Update(key, std::move(value), expected);
  }
  Result<Record> Delete(const Key& key, int64_t expected) override {
    if (fail_piece_deletes && key.kind == kBlob) return Status::IoError("injected");
    return mem_.Delete(key, expected);
  }
  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after) override {
    return mem_.WatchFrom(scope, after);
  }
  int64_t CurrentRevision() override { return mem_.CurrentRevision(); }
  int64_t CompactedRevision() override { return mem_.CompactedRevision(); }
  Status Compact(int64_t revision) override { return mem_.Compact(revision); }

 private:
  bool TakeFailure(const Key& key) {
    if (key.kind == kBlob || fail_object_writes == 0) return false;
    --fail_object_writes;
    return true;
  }
  MemStore mem_;
};

struct FlakyFixture {
  FlakyFixture() {
    auto inner = std::make_unique<FlakyStore>();
    flaky = inner.get();
    ChunkedStore::Options o;
    o.chunk_bytes = kChunk;
    store = std::make_unique<ChunkedStore>(std::move(inner), o);
  }
  size_t Blobs() { return store->inner().List(Scope{kBlob, std::nullopt})->records.size(); }
  FlakyStore* flaky;
  std::unique_ptr<ChunkedStore> store;
};

TEST(ChunkedStoreFailure, FailedMainWriteDeletesTheNewPieces) {
  FlakyFixture f;
  const Key key{kSet, "", "f"};
  const std::string v1 = Bytes(3 * kChunk, 111);
  f.flaky->fail_object_writes = 1;
  auto create = f.store->Create(key, v1);
  ASSERT_FALSE(create.ok());
  EXPECT_TRUE(create.error().IsAlreadyExists());
  EXPECT_EQ(f.Blobs(), 0u);
  auto created = f.store->Create(key, v1);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(f.Blobs(), 3u);

  // Conflict on the switch with an explicit precondition: the caller's.
  f.flaky->fail_object_writes = 1;
  auto update = f.store->Update(key, Bytes(4 * kChunk, 112), created->mod_revision);
  ASSERT_FALSE(update.ok());
  EXPECT_TRUE(update.error().IsConflict());
  EXPECT_EQ(f.Blobs(), 3u);  // the old pieces stay, the new ones are gone
  EXPECT_TRUE(f.store->Get(key)->value == v1);

  // Unconditional: a Conflict we did not ask for is retried.
  f.flaky->fail_object_writes = 2;
  const std::string v2 = Bytes(4 * kChunk, 113);
  ASSERT_TRUE(f.store->Update(key, v2, 0).ok());
  EXPECT_TRUE(f.store->Get(key)->value == v2);
  EXPECT_EQ(f.Blobs(), 3u + 4u);
  f.flaky->fail_object_writes = 100;
  auto give_up = f.store->Update(key, Bytes(4 * kChunk, 114), 0);
  ASSERT_FALSE(give_up.ok());
  EXPECT_TRUE(give_up.error().IsConflict());
  // The new pieces are gone again; v1's (the generation before) were
  // collected before the switch was tried.
  EXPECT_EQ(f.Blobs(), 4u);
  EXPECT_TRUE(f.store->Get(key)->value == v2);
}

TEST(ChunkedStoreFailure, CollectGarbageAfterACrashBetweenPiecesAndManifest) {
  FlakyFixture f;
  const Key live{kSet, "", "live"};
  const std::string v = Bytes(2 * kChunk, 121);
  ASSERT_TRUE(f.store->Create(live, v).ok());
  // The "crash": pieces written, manifest not, no cleanup.
  f.flaky->fail_piece_deletes = true;
  f.flaky->fail_object_writes = 1;
  EXPECT_FALSE(f.store->Create(Key{kSet, "", "crashed"}, Bytes(5 * kChunk, 122)).ok());
  f.flaky->fail_object_writes = 1;
  EXPECT_FALSE(f.store->Update(live, Bytes(3 * kChunk, 123), f.store->Get(live)->mod_revision).ok());
  f.flaky->fail_piece_deletes = false;
  EXPECT_TRUE(f.store->Get(live).ok());
  const size_t orphans = f.Blobs() - 2;
  EXPECT_EQ(orphans, 5u + 3u);
  auto collected = f.store->CollectGarbage();
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(*collected, orphans);
  EXPECT_EQ(f.Blobs(), 2u);
  EXPECT_TRUE(f.store->Get(live)->value == v);
}

TEST(ChunkedStoreConcurrency, WritersOfOneKeyLeaveExactlyTwoGenerations) {
  ChunkedStore::Options o;
  o.chunk_bytes = kChunk;
  ChunkedStore s(std::make_unique<MemStore>(), o);
  const Key key{kSet, "", "counter"};
  ASSERT_TRUE(s.Create(key, "0|" + Bytes(4 * kChunk, 0)).ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {
          auto cur = s.Get(key);
          ASSERT_TRUE(cur.ok()) << cur.status().ToString();
          const int n = std::stoi(cur->value.substr(0, cur->value.find('|')));
          const std::string next = std::to_string(n + 1) + "|" + Bytes(4 * kChunk, n + 1);
          auto upd = s.Update(key, next, cur->mod_revision);
          if (upd.ok()) break;
          ASSERT_TRUE(upd.error().IsConflict()) << upd.error().ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = s.Get(key);
  ASSERT_TRUE(got.ok());
  constexpr int kTotal = kThreads * kIncrements;
  EXPECT_EQ(got->value, std::to_string(kTotal) + "|" + Bytes(4 * kChunk, kTotal));
  // Every value has 5 distinct pieces: the current and the previous
  // generation are all that is left.
  EXPECT_EQ(s.inner().List(Scope{kBlob, std::nullopt})->records.size(), 10u);
  EXPECT_EQ(*s.CollectGarbage(), 0u);
}

}  // namespace
}  // namespace tw::store
