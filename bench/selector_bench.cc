// Selector parse and evaluation rates (./run bench; reported, not asserted).
//
// Selectors: the seed manifests' (a single ==, and the apiserver && pair)
// and a larger mixed one; labels: a typical pod's ~10 labels.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <string_view>

#include "selector/selector.h"

namespace {

using tw::selector::LabelLookup;
using tw::selector::Labels;
using tw::selector::Selector;

constexpr const char* kSelectors[] = {
    // 0: the most common shape in the seed manifests.
    R"(app == "frontend")",
    // 1: the seed's apiserver rule.
    R"((component == "apiserver"&&endpoints.projectcalico.org/serviceName == "kubernetes"))",
    // 2: a larger selector using every operator family.
    R"((app in {"frontend", "checkoutservice", "cartservice"} && projectcalico.org/namespace == "default")
       || (has(tier) && environment not in {"dev", "staging"} && version starts with "v"
           && !app.kubernetes.io/name contains "test"))",
};

const Labels& PodLabels() {
  static const Labels labels = {
      {"app", "frontend"},
      {"pod-template-hash", "86c57db685"},
      {"projectcalico.org/namespace", "default"},
      {"projectcalico.org/orchestrator", "k8s"},
      {"projectcalico.org/serviceaccount", "default"},
      {"app.kubernetes.io/name", "frontend"},
      {"app.kubernetes.io/part-of", "online-boutique"},
      {"version", "v1"},
      {"tier", "web"},
      {"environment", "production"},
  };
  return labels;
}

std::string Flatten(std::string_view s) {
  // The raw string above spans lines for reading; selectors may not.
  std::string out;
  for (char c : s) out += (c == '\n') ? ' ' : c;
  return out;
}

void BM_SelectorParse(benchmark::State& state) {
  const std::string text = Flatten(kSelectors[state.range(0)]);
  for (auto _ : state) {
    auto sel = Selector::Parse(text);
    benchmark::DoNotOptimize(sel);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_SelectorParse)->DenseRange(0, 2);

void BM_SelectorMatchMap(benchmark::State& state) {
  auto sel = Selector::Parse(Flatten(kSelectors[state.range(0)]));
  if (!sel.ok()) {
    state.SkipWithError(sel.error().message().c_str());
    return;
  }
  const Labels& labels = PodLabels();
  bool any = false;
  for (auto _ : state) {
    any ^= sel->Matches(labels);
    benchmark::DoNotOptimize(any);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorMatchMap)->DenseRange(0, 2);

void BM_SelectorMatchLookup(benchmark::State& state) {
  auto sel = Selector::Parse(Flatten(kSelectors[state.range(0)]));
  if (!sel.ok()) {
    state.SkipWithError(sel.error().message().c_str());
    return;
  }
  const Labels& labels = PodLabels();
  const LabelLookup lookup = [&labels](std::string_view key) -> std::optional<std::string_view> {
    auto it = labels.find(key);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  };
  bool any = false;
  for (auto _ : state) {
    any ^= sel->Matches(lookup);
    benchmark::DoNotOptimize(any);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorMatchLookup)->DenseRange(0, 2);

void BM_SelectorString(benchmark::State& state) {
  auto sel = Selector::Parse(Flatten(kSelectors[state.range(0)]));
  if (!sel.ok()) {
    state.SkipWithError(sel.error().message().c_str());
    return;
  }
  for (auto _ : state) {
    std::string s = sel->String();
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorString)->DenseRange(0, 2);

}  // namespace
