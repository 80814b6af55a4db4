// Log store benchmarks: flow-log append throughput (records/s, batches of
// 10,000 realistic Calico flow documents, one transaction each) and query
// latency over 1,000,000 stored flows (pod filter, action + namespace,
// policy substring, the newest page, a filter matching nothing), retention
// by size on that store (delete time, file size before and after, file size
// after refilling), and Open() with its integrity check.  Reported, not
// asserted.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "logstore/log_store.h"

namespace tw::logstore {
namespace {

namespace json = boost::json;

constexpr int kBatch = 10000;
constexpr int kStoredFlows = 1000000;
constexpr int kNamespaces = 20;
constexpr int kPodsPerNamespace = 25;  // 500 pods
constexpr int64_t kT0 = 1767225600;    // 2026-01-01T00:00:00Z

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/tw_logstore_bench_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string NewDbPath() { return path_ + "/logs" + std::to_string(++count_) + ".db"; }

 private:
  std::string path_;
  int count_ = 0;
};

ScratchDir& Scratch() {
  static ScratchDir dir;
  return dir;
}

std::string Ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) +
         "." + std::to_string(v & 255);
}

// A flow as the flusher writes it (~750 bytes of JSON): pod to a public or
// in-cluster address, 1 in 10 denied by security.block-snort.
json::object RealisticFlow(std::mt19937_64& rng, int64_t end_time) {
  const int ns = static_cast<int>(rng() % kNamespaces);
  const int pod = static_cast<int>(rng() % kPodsPerNamespace);
  const bool deny = rng() % 10 == 0;
  const std::string src_ns = "ns-" + std::to_string(ns);
  const std::string src_name = "app-" + std::to_string(pod) + "-7d9f8c6b5-x" + std::to_string(pod % 7);
  json::array all;
  if (deny) {
    all.emplace_back("0|security|security.block-snort|deny|0");
  } else {
    all.emplace_back("0|security|security.block-snort|pass|-1");
    all.emplace_back("1|default|" + src_ns + "/default.allow-egress|allow|0");
  }
  return json::object{
      {"start_time", end_time - 15},
      {"end_time", end_time},
      {"source_ip", Ip(0x0af40000u | (ns << 8) | pod)},
      {"source_name", src_name},
      {"source_name_aggr", "app-" + std::to_string(pod) + "-7d9f8c6b5-*"},
      {"source_namespace", src_ns},
      {"source_type", "wep"},
      {"source_port", nullptr},
      {"source_labels", json::object{{"labels", json::array{"app=app-" + std::to_string(pod), "tier=backend"}}}},
      {"dest_ip", Ip(0x05000000u | static_cast<uint32_t>(rng() % 0xffffff))},
      {"dest_name", "-"},
      {"dest_name_aggr", "pub"},
      {"dest_namespace", "-"},
      {"dest_type", "net"},
      {"dest_port", static_cast<int64_t>(rng() % 2 ? 443 : 80)},
      {"dest_service_namespace", "-"},
      {"dest_service_name", "-"},
      {"dest_service_port", "-"},
      {"dest_service_port_num", nullptr},
      {"dest_domains", nullptr},
      {"proto", "tcp"},
      {"action", deny ? "deny" : "allow"},
      {"reporter", "src"},
      {"policies", json::object{{"all_policies", all}, {"enforced_policies", all}, {"pending_policies", json::array{}}}},
      {"bytes_in", static_cast<int64_t>(deny ? 0 : rng() % 100000)},
      {"bytes_out", static_cast<int64_t>(rng() % 10000)},
      {"packets_in", static_cast<int64_t>(deny ? 0 : rng() % 100)},
      {"packets_out", static_cast<int64_t>(rng() % 100)},
      {"num_flows", 1},
      {"num_flows_started", 1},
      {"num_flows_completed", 1},
  };
}

std::vector<json::object> Batch(std::mt19937_64& rng, int64_t end_time) {
  std::vector<json::object> batch;
  batch.reserve(kBatch);
  for (int i = 0; i < kBatch; ++i) batch.push_back(RealisticFlow(rng, end_time + i / 1000));
  return batch;
}

std::unique_ptr<LogStore> OpenOrDie(const std::string& path, const LogStoreOptions& options = {}) {
  auto store = LogStore::Open(path, options);
  if (!store.ok()) {
    fprintf(stderr, "open %s: %s\n", path.c_str(), store.status().ToString().c_str());
    std::abort();
  }
  return std::move(*store);
}

void BM_AppendFlows(benchmark::State& state) {
  auto store = OpenOrDie(Scratch().NewDbPath());
  std::mt19937_64 rng(1);
  int64_t t = kT0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<json::object> batch = Batch(rng, t);
    t += 10;
    state.ResumeTiming();
    auto r = store->AppendFlows(batch);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AppendFlows)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// One store of kStoredFlows flows, 10,000 per 10 s of record time.
struct Populated {
  std::string path;
  std::unique_ptr<LogStore> store;
  double fill_seconds = 0;
  int64_t last_time = 0;
};

Populated& Million() {
  static Populated* p = [] {
    auto* out = new Populated;
    out->path = Scratch().NewDbPath();
    out->store = OpenOrDie(out->path);
    std::mt19937_64 rng(2);
    const auto start = std::chrono::steady_clock::now();
    int64_t t = kT0;
    for (int done = 0; done < kStoredFlows; done += kBatch, t += 10) {
      auto r = out->store->AppendFlows(Batch(rng, t));
      if (!r.ok()) std::abort();
    }
    out->fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out->last_time = t;
    return out;
  }();
  return *p;
}

void RunQuery(benchmark::State& state, const LogQuery& query) {
  LogStore& store = *Million().store;
  size_t rows = 0;
  for (auto _ : state) {
    auto r = store.QueryFlows(query);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    rows = r->size();
    benchmark::DoNotOptimize(r->data());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["stored"] = kStoredFlows;
}

void BM_QueryFlows_Pod(benchmark::State& state) {
  LogQuery q;
  q.where["pod"] = "ns-3/app-7-7d9f8c6b5-x0";
  RunQuery(state, q);
}
BENCHMARK(BM_QueryFlows_Pod)->Unit(benchmark::kMillisecond);

void BM_QueryFlows_DenyInNamespace(benchmark::State& state) {
  LogQuery q;
  q.where["action"] = "deny";
  q.where["source_namespace"] = "ns-5";
  RunQuery(state, q);
}
BENCHMARK(BM_QueryFlows_DenyInNamespace)->Unit(benchmark::kMillisecond);

void BM_QueryFlows_PolicyLast10Min(benchmark::State& state) {
  LogQuery q;
  q.since = std::chrono::system_clock::time_point(std::chrono::seconds(Million().last_time - 600));
  q.where["policy"] = "security.block-snort|deny";
  RunQuery(state, q);
}
BENCHMARK(BM_QueryFlows_PolicyLast10Min)->Unit(benchmark::kMillisecond);

void BM_QueryFlows_Newest100(benchmark::State& state) {
  LogQuery q;
  q.limit = 100;
  RunQuery(state, q);
}
BENCHMARK(BM_QueryFlows_Newest100)->Unit(benchmark::kMillisecond);

// Nothing matches: the whole time index is walked.
void BM_QueryFlows_NoMatchFullScan(benchmark::State& state) {
  LogQuery q;
  q.where["dest_ip"] = "192.0.2.1";
  RunQuery(state, q);
}
BENCHMARK(BM_QueryFlows_NoMatchFullScan)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_ForEachFlowSince_All(benchmark::State& state) {
  LogStore& store = *Million().store;
  int64_t n = 0;
  for (auto _ : state) {
    n = 0;
    Status s = store.ForEachFlowSince(std::chrono::system_clock::time_point(),
                                      [&](const json::object&) { return ++n > 0; });
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ForEachFlowSince_All)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

void BM_FillMillion(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Million().store.get());
  state.counters["fill_records/s"] = kStoredFlows / Million().fill_seconds;
  auto stats = Million().store->Stats();
  if (stats.ok()) {
    state.counters["file_MB"] = stats->file_bytes / 1e6;
    state.counters["bytes/record"] = static_cast<double>(stats->data_bytes) / kStoredFlows;
  }
}
BENCHMARK(BM_FillMillion)->Iterations(1);

// Reopen of the 1M-flow file, with and without PRAGMA quick_check.
void BM_Open(benchmark::State& state) {
  Populated& m = Million();
  m.store.reset();
  LogStoreOptions o;
  o.check_integrity_on_open = state.range(0) != 0;
  for (auto _ : state) {
    auto s = LogStore::Open(m.path, o);
    if (!s.ok()) state.SkipWithError(s.status().ToString().c_str());
  }
  m.store = OpenOrDie(m.path);
}
BENCHMARK(BM_Open)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);

// Size retention on the 1M-flow store: limit to half its data, then append
// 200,000 more flows and enforce again; the file should not grow.  Runs
// last (it changes the store).
void BM_EnforceHalf(benchmark::State& state) {
  Populated& m = Million();
  auto before = m.store->Stats();
  if (!before.ok()) std::abort();
  m.store.reset();
  LogStoreOptions o;
  o.max_bytes = before->data_bytes / 2;
  o.max_age = std::chrono::hours(24 * 365 * 10);
  m.store = OpenOrDie(m.path, o);
  RetentionReport report;
  for (auto _ : state) {
    auto r = m.store->Enforce();
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    report = *r;
  }
  auto after = m.store->Stats();
  std::mt19937_64 rng(3);
  int64_t t = m.last_time;
  for (int i = 0; i < 20; ++i, t += 10) (void)m.store->AppendFlows(Batch(rng, t));
  auto grown = m.store->Stats();
  (void)m.store->Enforce();
  auto again = m.store->Stats();
  state.counters["deleted"] = static_cast<double>(report.flows_deleted);
  state.counters["vacuumed_MB"] = report.bytes_vacuumed / 1e6;
  state.counters["file_MB_before"] = before->file_bytes / 1e6;
  state.counters["file_MB_after"] = after->file_bytes / 1e6;
  state.counters["file_MB_refilled"] = grown->file_bytes / 1e6;
  state.counters["file_MB_refilled_enforced"] = again->file_bytes / 1e6;
}
BENCHMARK(BM_EnforceHalf)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace tw::logstore
