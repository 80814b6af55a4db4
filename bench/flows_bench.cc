// Flow aggregation (issue 5, "flow records ingested per second"): the seed's
// program (tier security: block-snort Deny to the feed set then Pass; tier
// default: allow-all), 100 pods, a 100k-prefix threat-feed GlobalNetworkSet
// and 10,000 connections from the pods to random public addresses, each
// one packet walk of two NFLOG messages (pass + allow) and one conntrack
// report; aggregation kind 1 (one record per connection).
//
// BM_FlowsAddPolicyPacket  AddPolicyPacket only (items = NFLOG messages)
// BM_FlowsFlush            Flush of the 10k connections (items = records)
// BM_FlowsEndToEnd         messages + conntrack + Flush, a fresh aggregator
//                          each round (items = messages; records_per_s)
// BM_FlowsDeniedRetransmits one connection's SYN denied again and again
//                          (items = messages): the repeated-traversal path
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include "flowlog/flow_context.h"
#include "flowlog/flows.h"
#include "policy/compile.h"
#include "selector/selector.h"

namespace tw::flowlog {
namespace {

constexpr int kPods = 100;
constexpr int kConnections = 10'000;

selector::Selector Sel(std::string_view text) { return *selector::Selector::Parse(text); }

std::string Iface(int pod) { return "twbench" + std::to_string(pod); }

net::IpAddr PodIp(int pod) { return net::IpAddr::V4(0x0af40000u + 10 + static_cast<uint32_t>(pod)); }

std::shared_ptr<const FlowContext> Context() {
  static const std::shared_ptr<const FlowContext> ctx = [] {
    policy::Inputs in;
    in.tiers = {policy::Tier{"security", 600.0, false}, policy::Tier{"default", 1e6, false}};
    std::vector<PodInfo> pods;
    for (int i = 0; i < kPods; ++i) {
      selector::Labels labels{{"app", "bench"}, {"projectcalico.org/namespace", "default"}};
      in.endpoints.push_back(policy::Endpoint{"default", "pod-" + std::to_string(i), Iface(i), {PodIp(i)}, labels, {}});
      pods.push_back(PodInfo{"default", "pod-" + std::to_string(i), "pod-", Iface(i), {PodIp(i)}, {"app=bench"}});
    }
    std::mt19937 rng(42);
    net::CidrSet::Builder feed;
    for (int i = 0; i < 100'000; ++i) feed.Add(net::Cidr(net::IpAddr::V4(rng() % (224u << 24)), 32));
    in.netsets = {policy::NetSet{"", "threatfeed.bench", {{"threatfeed", "bench"}}, feed.Build()}};
    policy::PolicyIn block;
    block.tier = "security";
    block.key = "security.block-snort";
    block.order = 150.0;
    block.applies_to = Sel("app == 'bench'");
    block.egress = true;
    policy::RuleIn deny;
    deny.action = policy::Action::kDeny;
    deny.destination.selector = Sel("threatfeed == 'bench'");
    policy::RuleIn pass;
    pass.action = policy::Action::kPass;
    block.egress_rules = {deny, pass};
    policy::PolicyIn allow;
    allow.tier = "default";
    allow.key = "default.allow-all";
    allow.applies_to = Sel("app == 'bench'");
    allow.egress = true;
    policy::RuleIn all;
    all.action = policy::Action::kAllow;
    allow.egress_rules = {all};
    in.policies = {block, allow};
    auto program = std::make_shared<const policy::Program>(policy::Compile(in));
    return FlowContext::Build(program, std::move(pods), in.netsets);
  }();
  return ctx;
}

struct Workload {
  std::vector<PolicyPacket> packets;
  std::vector<ConntrackFlow> conntrack;
};

const Workload& Load() {
  static const Workload* w = [] {
    auto* out = new Workload;
    std::mt19937 rng(7);
    const TimePoint t0 = TimePoint(std::chrono::seconds(1'800'000'000));
    for (int i = 0; i < kConnections; ++i) {
      const int pod = i % kPods;
      FlowTuple t{PodIp(pod), net::IpAddr::V4(0x01000000u + rng() % (200u << 24)), 6,
                  static_cast<uint16_t>(32768 + i % 28000), 443};
      for (const char* prefix : {"PPE1|security.block-snort", "APE0|default.allow-all"}) {
        PolicyPacket p;
        p.time = t0;
        p.seq = out->packets.size();
        p.direction = policy::Direction::kEgress;
        p.iface = Iface(pod);
        p.tuple = t;
        p.ip_bytes = 60;
        p.prefix = prefix;
        out->packets.push_back(std::move(p));
      }
      ConntrackFlow f;
      f.orig = t;
      f.reply = FlowTuple{t.dst, t.src, 6, t.dport, t.sport};
      f.packets_orig = 10;
      f.bytes_orig = 1000;
      f.packets_reply = 12;
      f.bytes_reply = 15000;
      f.time = t0;
      out->conntrack.push_back(f);
    }
    return out;
  }();
  return *w;
}

const TimePoint kFlushAt = TimePoint(std::chrono::seconds(1'800'000'015));

void BM_FlowsAddPolicyPacket(benchmark::State& state) {
  const Workload& w = Load();
  auto ctx = Context();
  for (auto _ : state) {
    state.PauseTiming();
    auto agg = std::make_unique<FlowAggregator>();
    agg->SetContext(ctx);
    state.ResumeTiming();
    for (const PolicyPacket& p : w.packets) agg->AddPolicyPacket(p);
    benchmark::DoNotOptimize(agg->stats().packets);
    state.PauseTiming();
    agg.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.packets.size()));
}
BENCHMARK(BM_FlowsAddPolicyPacket)->Unit(benchmark::kMillisecond);

void BM_FlowsFlush(benchmark::State& state) {
  const Workload& w = Load();
  auto ctx = Context();
  size_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto agg = std::make_unique<FlowAggregator>();
    agg->SetContext(ctx);
    for (const PolicyPacket& p : w.packets) agg->AddPolicyPacket(p);
    for (const ConntrackFlow& f : w.conntrack) agg->AddConntrack(f);
    state.ResumeTiming();
    std::vector<boost::json::object> out = agg->Flush(kFlushAt);
    records += out.size();
    state.PauseTiming();
    out.clear();
    agg.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(records));
  state.counters["records"] = static_cast<double>(records) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_FlowsFlush)->Unit(benchmark::kMillisecond);

void BM_FlowsEndToEnd(benchmark::State& state) {
  const Workload& w = Load();
  auto ctx = Context();
  size_t records = 0;
  for (auto _ : state) {
    FlowAggregator agg;
    agg.SetContext(ctx);
    for (const PolicyPacket& p : w.packets) agg.AddPolicyPacket(p);
    for (const ConntrackFlow& f : w.conntrack) agg.AddConntrack(f);
    records += agg.Flush(kFlushAt).size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * w.packets.size()));
  state.counters["records_per_s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["connections_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kConnections), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FlowsEndToEnd)->Unit(benchmark::kMillisecond);

void BM_FlowsDeniedRetransmits(benchmark::State& state) {
  auto ctx = Context();
  FlowAggregator agg;
  agg.SetContext(ctx);
  PolicyPacket p;
  p.direction = policy::Direction::kEgress;
  p.iface = Iface(0);
  p.tuple = FlowTuple{PodIp(0), net::IpAddr::V4(0x05c43a60), 6, 40000, 443};
  p.ip_bytes = 60;
  p.prefix = "DPE0|security.block-snort";
  for (auto _ : state) agg.AddPolicyPacket(p);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FlowsDeniedRetransmits);

}  // namespace
}  // namespace tw::flowlog
