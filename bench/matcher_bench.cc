// PrefixMatcher lookups (issue 5, "Measure"): a 1M-prefix IPv4 set like the
// one bench/run_benchmarks.sh generates (random addresses below 224.0.0.0,
// 20% of them CIDRs /16../31, seeded), looked up with uniformly random keys.
//
// BM_MatcherContainsV4      = one ContainsV4 per key (dependent loop, no batching)
// BM_MatcherBatchV4         = ContainsBatchV4 over the key array (prefetching)
// BM_CidrSetContainsV4      = the baseline: CidrSet::Contains (binary search)
// BM_MatcherBuild           = building the matcher from the merged set
// Counters: lookups/s (items_per_second); bytes_per_prefix = matcher heap
// bytes / input prefixes (1M), bytes_per_cidr = per CIDR of the merged set.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "net/cidr_set.h"
#include "net/matcher.h"

namespace tw::net {
namespace {

constexpr int kPrefixes = 1'000'000;

const CidrSet& MillionPrefixes() {
  static const CidrSet* set = [] {
    std::mt19937 rng(42);
    CidrSet::Builder b;
    b.Reserve(kPrefixes);
    for (int i = 0; i < kPrefixes; ++i) {
      uint32_t a = rng() % (224u << 24);
      int len = rng() % 5 == 0 ? 16 + static_cast<int>(rng() % 16) : 32;
      b.Add(Cidr(IpAddr::V4(a), len));
    }
    return new CidrSet(b.Build());
  }();
  return *set;
}

const PrefixMatcher& Matcher() {
  static const PrefixMatcher* m = new PrefixMatcher(MillionPrefixes());
  return *m;
}

const std::vector<uint32_t>& RandomKeys() {
  static const std::vector<uint32_t>* keys = [] {
    auto* k = new std::vector<uint32_t>(1 << 22);
    std::mt19937 rng(7);
    for (uint32_t& x : *k) x = rng();
    return k;
  }();
  return *keys;
}

void SetCounters(benchmark::State& state) {
  const PrefixMatcher& m = Matcher();
  state.counters["bytes_per_prefix"] = static_cast<double>(m.MemoryBytes()) / kPrefixes;
  state.counters["bytes_per_cidr"] =
      static_cast<double>(m.MemoryBytes()) / static_cast<double>(MillionPrefixes().CidrCount());
  state.counters["leaves"] = static_cast<double>(m.leaf_count());
}

void BM_MatcherContainsV4(benchmark::State& state) {
  const PrefixMatcher& m = Matcher();
  const std::vector<uint32_t>& keys = RandomKeys();
  size_t hits = 0;
  for (auto _ : state) {
    for (uint32_t k : keys) hits += m.ContainsV4(k);
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
  state.counters["hit_ratio"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations() * keys.size());
  SetCounters(state);
}
BENCHMARK(BM_MatcherContainsV4)->Unit(benchmark::kMillisecond);

void BM_MatcherBatchV4(benchmark::State& state) {
  const PrefixMatcher& m = Matcher();
  const std::vector<uint32_t>& keys = RandomKeys();
  std::vector<uint8_t> out(keys.size());
  for (auto _ : state) {
    m.ContainsBatchV4(keys, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
  SetCounters(state);
}
BENCHMARK(BM_MatcherBatchV4)->Unit(benchmark::kMillisecond);

void BM_CidrSetContainsV4(benchmark::State& state) {
  const CidrSet& set = MillionPrefixes();
  const std::vector<uint32_t>& keys = RandomKeys();
  size_t hits = 0;
  for (auto _ : state) {
    for (uint32_t k : keys) hits += set.Contains(IpAddr::V4(k));
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
  state.counters["bytes_per_prefix"] = static_cast<double>(set.MemoryBytes()) / kPrefixes;
}
BENCHMARK(BM_CidrSetContainsV4)->Unit(benchmark::kMillisecond);

void BM_MatcherBuild(benchmark::State& state) {
  const CidrSet& set = MillionPrefixes();
  for (auto _ : state) {
    PrefixMatcher m(set);
    benchmark::DoNotOptimize(m.leaf_count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * set.size()));
}
BENCHMARK(BM_MatcherBuild)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tw::net
