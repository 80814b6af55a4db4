// `threatwall hunt`'s scanner in memory, per classifier instruction set
// (issue 5, "Measure"): what each of AVX-512BW, AVX2, SSE2 and the portable
// classifier gives on the CPU at hand, without process start, feed loading
// or page faults (bench/hunt_bench.sh measures the whole command against
// grepcidr).  The log: 64 MiB of the line kinds hunt_bench.sh generates
// (sshd, iptables, web access, resolver lines with IPv6), one thread.
//
// BM_HuntClassify/<isa> = ClassifyBlocks alone over the log (bytes/s)
// BM_HuntScan/<isa>     = HuntScanner::ScanFile: classify, parse, look up,
//                         print (bytes/s; lines/s as items_per_second)
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "cli/hunt.h"
#include "cli/hunt_kernels.h"
#include "net/cidr_set.h"
#include "net/ip_addr.h"
#include "net/matcher.h"

namespace tw::cli {
namespace {

struct Input {
  net::CidrSet set;
  std::string log;
  size_t lines = 0;
};

std::string V4(uint32_t a) { return net::IpAddr::V4(a).ToString(); }

const Input& TheInput() {
  static const Input* input = [] {
    auto* in = new Input;
    std::mt19937 rng(9);
    std::vector<uint32_t> hosts;
    net::CidrSet::Builder b;
    for (int i = 0; i < 100000; ++i) {
      const uint32_t a = (1 + rng() % 222) << 24 | (rng() & 0xFFFFFF);
      hosts.push_back(a);
      b.AddText(i % 5 == 0 ? V4(a) + "/" + std::to_string(16 + rng() % 16) : V4(a));
    }
    b.AddText("2a01:1234::/32");
    in->set = b.Build();
    auto ip = [&] { return rng() % 50 == 0 ? V4(hosts[rng() % hosts.size()]) : V4((1 + rng() % 222) << 24 | (rng() & 0xFFFFFF)); };
    while (in->log.size() < (size_t{64} << 20)) {
      const int k = static_cast<int>(in->lines++ % 10);
      const std::string n = std::to_string(rng() % 60);
      if (k < 4)
        in->log += "2026-11-28T08:15:" + n + ".123456Z node-3 sshd[1234]: Failed password for invalid user admin from " +
                   ip() + " port " + std::to_string(1024 + rng() % 64000) + " ssh2\n";
      else if (k < 7)
        in->log += "Nov 28 08:15:" + n + " node-3 kernel: [12345.678901] DROP IN=eth0 OUT= SRC=" + ip() + " DST=10.1.2." +
                   n + " LEN=60 TTL=52 PROTO=TCP SPT=" + std::to_string(rng() % 65536) + " DPT=443 SYN\n";
      else if (k < 9)
        in->log += ip() + " - - [28/Nov/2026:08:15:" + n +
                   " +0000] \"GET /index.html HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n";
      else
        in->log += "2026-11-28 08:15:" + n + " resolver: client [2a0" + std::to_string(rng() % 10) + ":" +
                   std::to_string(rng() % 9999) + "::" + n + "]:53 query example" + n + ".com A from " + ip() + "\n";
    }
    return in;
  }();
  return *input;
}

void Args(benchmark::internal::Benchmark* b) {
  for (hunt::Isa isa : hunt::SupportedIsas()) b->Arg(static_cast<int>(isa));
}

void BM_HuntClassify(benchmark::State& state) {
  const auto isa = static_cast<hunt::Isa>(state.range(0));
  state.SetLabel(std::string(hunt::IsaName(isa)));
  const std::string& log = TheInput().log;
  const hunt::ClassifyFn classify = hunt::Classifier(isa);
  std::vector<hunt::BlockBits> bits(64);
  for (auto _ : state) {
    for (size_t at = 0; at < log.size(); at += 64 * 64) {
      classify(log.data(), at, 64, log.size(), log.size(), true, true, bits.data());
      benchmark::DoNotOptimize(bits.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.size()));
}
BENCHMARK(BM_HuntClassify)->Apply(Args)->Unit(benchmark::kMillisecond);

void BM_HuntScan(benchmark::State& state) {
  const auto isa = static_cast<hunt::Isa>(state.range(0));
  state.SetLabel(std::string(hunt::IsaName(isa)));
  const Input& in = TheInput();
  const net::PrefixMatcher matcher(in.set);
  HuntScanner scanner(matcher, {}, 1, size_t{4} << 20, isa);
  std::string out;
  uint64_t selected = 0;
  for (auto _ : state) {
    out.clear();
    selected = scanner.ScanFile(in.log, "", &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.log.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * in.lines));
  state.counters["selected"] = static_cast<double>(selected);
}
BENCHMARK(BM_HuntScan)->Apply(Args)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tw::cli
