// Datastore benchmarks: create throughput (SQLite FULL / NORMAL, MemStore)
// and Get / List latency with 50,000 stored objects; create / get / update
// of a 19 MB value through ChunkedStore.  Reported, not asserted.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "store/chunked_store.h"
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

// ---- A 19 MB value: SqliteStore NORMAL alone (arg 0) and inside a
// ChunkedStore with 512 KiB pieces (arg 1) ---------------------------------

// The JSON of a GlobalNetworkSet with 1,000,000 distinct /32s (~19 MB).
// `variant` shifts every piece boundary (leading spaces), so that variants
// share no piece.
const std::string& HugeSetJson() {
  static const std::string json = [] {
    std::string out =
        R"({"apiVersion":"projectcalico.org/v3","kind":"GlobalNetworkSet","metadata":{"name":"threatfeed.huge",)"
        R"("labels":{"threatfeed":"huge"}},"spec":{"nets":[)";
    out.reserve(20u << 20);
    for (uint32_t i = 0; i < 1000000; ++i) {
      const uint32_t a = 0x0b000000u + i * 7919u;  // distinct, spread out
      if (i) out += ',';
      out += '"' + std::to_string(a >> 24) + '.' + std::to_string((a >> 16) & 255) + '.' +
             std::to_string((a >> 8) & 255) + '.' + std::to_string(a & 255) + "/32\"";
    }
    out += "]}}";
    return out;
  }();
  return json;
}
std::string HugeVariant(int variant) { return std::string(variant % 3, ' ') + HugeSetJson(); }

std::unique_ptr<Datastore> NewHugeStore(const benchmark::State& state) {
  if (state.range(0) == 0) return NewStore(kSqliteNormal);
  return std::make_unique<ChunkedStore>(NewStore(kSqliteNormal));
}

const Key kHugeKey{"projectcalico.org/GlobalNetworkSet", "", "threatfeed.huge"};

void BM_ChunkedHugeCreate(benchmark::State& state) {
  auto store = NewHugeStore(state);
  const std::string value = HugeVariant(0);
  for (auto _ : state) {
    auto r = store->Create(kHugeKey, value);
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
    state.PauseTiming();
    if (!store->Delete(kHugeKey, 0).ok()) state.SkipWithError("delete");
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(value.size()));
  state.counters["value_MB"] = static_cast<double>(value.size()) / 1e6;
}
BENCHMARK(BM_ChunkedHugeCreate)
    ->ArgName("chunked")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(5)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

long StatusKb(const std::string& field) {  // NOLINT(runtime/int)
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

void BM_ChunkedHugeGet(benchmark::State& state) {
  auto store = NewHugeStore(state);
  const std::string value = HugeVariant(0);
  if (!store->Create(kHugeKey, value).ok()) std::abort();
  // Peak memory of one Get: return freed heap to the kernel, reset the
  // high-water mark (clear_refs 5), Get, and compare.
  malloc_trim(0);
  const long rss_before = StatusKb("VmRSS");  // NOLINT(runtime/int)
  double peak_extra_mb = -1;
  if (std::ofstream("/proc/self/clear_refs") << "5") {
    auto r = store->Get(kHugeKey);
    if (!r.ok() || r->value != value) std::abort();
    peak_extra_mb = static_cast<double>(StatusKb("VmHWM") - rss_before) / 1024.0;
  }
  for (auto _ : state) {
    auto r = store->Get(kHugeKey);
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(value.size()));
  state.counters["get_peak_extra_MB"] = peak_extra_mb;
}
BENCHMARK(BM_ChunkedHugeGet)
    ->ArgName("chunked")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(10)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Each update replaces every piece (three variants in turn, so the target's
// pieces were collected two writes ago) and collects one generation.
void BM_ChunkedHugeUpdate(benchmark::State& state) {
  auto store = NewHugeStore(state);
  const std::string variants[3] = {HugeVariant(0), HugeVariant(1), HugeVariant(2)};
  if (!store->Create(kHugeKey, variants[0]).ok()) std::abort();
  int i = 0;
  for (auto _ : state) {
    auto r = store->Update(kHugeKey, variants[++i % 3], 0);
    if (!r.ok()) state.SkipWithError(r.error().ToString().c_str());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(variants[0].size()));
}
BENCHMARK(BM_ChunkedHugeUpdate)
    ->ArgName("chunked")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(6)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tw::store
