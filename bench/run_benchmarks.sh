#!/usr/bin/env bash
# ./run bench: every benchmark of bin/tw_bench, then (as later work adds them)
# the side-by-side runs against peer tools.  Numbers are reported, never asserted.
#   ./run bench [--benchmark_filter=REGEX]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/bin
echo "threatwall benchmarks on $(nproc) cores, $(date -u +%FT%TZ)"
"$BIN/tw_bench" --benchmark_counters_tabular=true "$@"
