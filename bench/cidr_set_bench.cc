// CidrSet ingest: building a set from 1,000,000 random IPv4 lines.
//
// BM_CidrSetFromLines  = split lines + parse + radix sort + merge (the
//                        normalise/merge part of a feed pull; the numbers
//                        to compare with `iprange` on the same input).
// BM_CidrSetBuildOnly  = sort + merge of pre-parsed CIDRs.
// BM_CidrSetToText     = formatting in the iprange form (AppendCidrs).
// BM_CidrSetMemory     = one 1M-line build, measured: heap bytes held per
//                        stored range and per prefix (CIDR) of the result.
// Counters: lines/s (items_per_second), ranges, bytes per range.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "net/cidr_set.h"

namespace tw::net {
namespace {

// 1M lines: 80% bare addresses, 20% CIDRs /20../31 with host bits set,
// uniformly random (seeded), like a big merged IP blocklist.
const std::string& MillionLines() {
  static const std::string* text = [] {
    auto* s = new std::string;
    std::mt19937 rng(20261127);
    char buf[Cidr::kMaxTextLen + 1];
    for (int i = 0; i < 1'000'000; ++i) {
      IpAddr a = IpAddr::V4(rng());
      size_t n = a.FormatTo(buf);
      if (rng() % 5 == 0) {
        std::string len = "/" + std::to_string(20 + rng() % 12);
        s->append(buf, n).append(len);
      } else {
        s->append(buf, n);
      }
      s->push_back('\n');
    }
    return s;
  }();
  return *text;
}

void BM_CidrSetFromLines(benchmark::State& state) {
  const std::string& text = MillionLines();
  CidrSet::Builder b;
  size_t ranges = 0, bytes = 0;
  for (auto _ : state) {
    std::string_view rest = text;
    size_t lines = 0;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      b.AddText(rest.substr(0, nl));
      ++lines;
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
    CidrSet set = b.Build();
    ranges = set.size();
    bytes = set.MemoryBytes();
    benchmark::DoNotOptimize(set);
    state.SetItemsProcessed(state.items_processed() + static_cast<int64_t>(lines));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.counters["ranges"] = static_cast<double>(ranges);
  state.counters["bytes_per_range"] = ranges ? static_cast<double>(bytes) / ranges : 0;
}
BENCHMARK(BM_CidrSetFromLines)->Unit(benchmark::kMillisecond);

std::vector<Cidr> ParsedMillion() {
  std::vector<Cidr> cidrs;
  std::string_view rest = MillionLines();
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    Cidr c;
    if (TryParseCidr(rest.substr(0, nl), &c) == ParseError::kOk) cidrs.push_back(c);
    rest.remove_prefix(nl + 1);
  }
  return cidrs;
}

void BM_CidrSetBuildOnly(benchmark::State& state) {
  std::vector<Cidr> cidrs = ParsedMillion();
  for (auto _ : state) {
    CidrSet set = CidrSet::FromCidrs(cidrs);
    benchmark::DoNotOptimize(set);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(cidrs.size()));
}
BENCHMARK(BM_CidrSetBuildOnly)->Unit(benchmark::kMillisecond);

void BM_CidrSetToText(benchmark::State& state) {
  CidrSet set = CidrSet::FromCidrs(ParsedMillion());
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = set.ToText(/*compact=*/true);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  const size_t prefixes = set.CidrCount();
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(prefixes));
  state.counters["prefixes"] = static_cast<double>(prefixes);
  state.counters["text_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CidrSetToText)->Unit(benchmark::kMillisecond);

void BM_CidrSetMemory(benchmark::State& state) {
  const std::string& text = MillionLines();
  CidrSet set;
  for (auto _ : state) {
    CidrSet::Builder b;
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      b.AddText(rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
    set = b.Build();
  }
  const double bytes = static_cast<double>(set.MemoryBytes());
  const size_t prefixes = set.CidrCount();
  state.counters["ranges"] = static_cast<double>(set.size());
  state.counters["prefixes"] = static_cast<double>(prefixes);
  state.counters["bytes_per_range"] = set.size() ? bytes / static_cast<double>(set.size()) : 0;
  state.counters["bytes_per_prefix"] = prefixes ? bytes / static_cast<double>(prefixes) : 0;
}
BENCHMARK(BM_CidrSetMemory)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace tw::net
