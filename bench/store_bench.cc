// Datastore benchmarks: create throughput (SQLite FULL / NORMAL, MemStore)
// and Get / List latency with 50,000 stored objects.  Reported, not asserted.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "store/datastore.h"
#include "store/mem_store.h"
#include "store/sqlite_store.h"

namespace tw::store {
namespace {

constexpr int kObjects = 50000;
constexpr int kNamespaces = 50;
const std::string kKind = "projectcalico.org/NetworkSet";

// A typical small resource: ~450 bytes of JSON.
std::string Value(int i) {
  return R"({"apiVersion":"projectcalico.org/v3","kind":"NetworkSet","metadata":{"name":"set-)" +
         std::to_string(i) +
         R"(","namespace":"ns","labels":{"app":"bench","tier":"backend"}},"spec":{"nets":["10.0.0.0/24",)"
         R"("10.0.1.0/24","10.0.2.0/24","10.0.3.0/24","192.168.0.0/16","172.16.0.0/12","198.51.100.0/24",)"
         R"("203.0.113.0/24","2001:db8::/32","2001:db8:1::/48","2001:db8:2::/48","fd00::/8"]}})";
}

// A scratch directory under /tmp, removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/tw_store_bench_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string NewDbPath() { return path_ + "/db" + std::to_string(++count_) + ".sqlite"; }

 private:
  std::string path_;
  int count_ = 0;
};

ScratchDir& Scratch() {
  static ScratchDir dir;
  return dir;
}

enum Backend { kMem, kSqliteFull, kSqliteNormal };

std::unique_ptr<Datastore> NewStore(Backend backend) {
  if (backend == kMem) return std::make_unique<MemStore>();
  SqliteStore::Options o;
  o.sync = backend == kSqliteFull ? SqliteStore::Sync::kFull : SqliteStore::Sync::kNormal;
  auto s = SqliteStore::Open(Scratch().NewDbPath(), o);
  if (!s.ok()) std::abort();
  return std::move(*s);
}

void BM_StoreCreate(benchmark::State& state) {
  auto store = NewStore(static_cast<Backend>(state.range(0)));
  int i = 0;
  for (auto _ : state) {
    auto r = store->Create(Key{kKind, "ns" + std::to_string(i % kNamespaces), "set-" + std::to_string(i)},
                           Value(i));
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreCreate)
    ->ArgName("mem0_full1_normal2")
    ->Arg(kMem)
    ->Arg(kSqliteFull)
    ->Arg(kSqliteNormal)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// 50,000 objects in 50 namespaces, built once per backend (NORMAL sync:
// the read paths do not depend on it).
Datastore& Populated(Backend backend) {
  static std::unique_ptr<Datastore> stores[3];
  auto& s = stores[backend];
  if (!s) {
    s = NewStore(backend);
    for (int i = 0; i < kObjects; ++i) {
      if (!s->Create(Key{kKind, "ns" + std::to_string(i % kNamespaces), "set-" + std::to_string(i)}, Value(i))
               .ok()) {
        std::abort();
      }
    }
  }
  return *s;
}

void BM_StoreGet50k(benchmark::State& state) {
  Datastore& store = Populated(static_cast<Backend>(state.range(0)));
  std::mt19937 rng(1);
  for (auto _ : state) {
    int i = static_cast<int>(rng() % kObjects);
    auto r = store.Get(Key{kKind, "ns" + std::to_string(i % kNamespaces), "set-" + std::to_string(i)});
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreGet50k)
    ->ArgName("mem0_sqlite2")
    ->Arg(kMem)
    ->Arg(kSqliteNormal)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The whole kind (50,000 records) in one List.
void BM_StoreListAll50k(benchmark::State& state) {
  Datastore& store = Populated(static_cast<Backend>(state.range(0)));
  for (auto _ : state) {
    auto r = store.List(Scope{kKind, std::nullopt});
    if (!r.ok() || r->records.size() != kObjects) state.SkipWithError("list");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kObjects);
}
BENCHMARK(BM_StoreListAll50k)
    ->ArgName("mem0_sqlite2")
    ->Arg(kMem)
    ->Arg(kSqliteNormal)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// One namespace (1,000 of the 50,000 records).
void BM_StoreListNamespace50k(benchmark::State& state) {
  Datastore& store = Populated(static_cast<Backend>(state.range(0)));
  int n = 0;
  for (auto _ : state) {
    auto r = store.List(Scope{kKind, "ns" + std::to_string(n++ % kNamespaces)});
    if (!r.ok() || r->records.size() != kObjects / kNamespaces) state.SkipWithError("list");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * (kObjects / kNamespaces));
}
BENCHMARK(BM_StoreListNamespace50k)
    ->ArgName("mem0_sqlite2")
    ->Arg(kMem)
    ->Arg(kSqliteNormal)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Write-to-watcher latency: one Create, until a watcher blocked in Next()
// on another thread has received it (includes the write itself).
void BM_StoreWatchDelivery(benchmark::State& state) {
  auto store = NewStore(static_cast<Backend>(state.range(0)));
  auto watch = store->WatchFrom(Scope{kKind, std::nullopt}, 0);
  if (!watch.ok()) std::abort();
  std::atomic<int64_t> seen{0};
  std::thread reader([&] {
    while (auto e = (*watch)->Next(std::chrono::seconds(10))) seen.store(e->record.mod_revision);
  });
  int i = 0;
  for (auto _ : state) {
    auto r = store->Create(Key{kKind, "ns", "w-" + std::to_string(i++)}, Value(i));
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
    while (r.ok() && seen.load() < r->mod_revision) std::this_thread::yield();
  }
  (*watch)->Cancel();
  reader.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreWatchDelivery)
    ->ArgName("mem0_normal2")
    ->Arg(kMem)
    ->Arg(kSqliteNormal)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tw::store
