#!/usr/bin/env bash
# ./run bench: the side-by-side comparisons against peer tools (same run, same
# input, outputs checked equal), then every benchmark of bin/tw_bench.
# Numbers are reported, never asserted.
#   ./run bench [--benchmark_filter=REGEX]   (the filter applies to tw_bench)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/bin
FEEDS=$ROOT/../shared/feeds
TMP=$(mktemp -d /tmp/tw-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
echo "threatwall benchmarks on $(nproc) cores, $(date -u +%FT%TZ)"

now() { date +%s.%N; }
# best_of N CMD...: the fastest of N wall-clock runs, in seconds (stdout to $TMP/out).
best_of() {
  local n=$1; shift; local best=
  for _ in $(seq "$n"); do
    local t0 t1; t0=$(now); "$@" >"$TMP/out" 2>/dev/null; t1=$(now)
    best=$(echo "$t1 - $t0" | bc -l | awk -v b="${best:-1e9}" '{print ($1 < b) ? $1 : b}')
  done
  echo "$best"
}

# ---- feed ingest: threatwall feeds parse vs iprange -------------------------
# Same input, outputs compared byte for byte, ratio = iprange s / threatwall s
# (wall clock, best of 5, whole processes: read + parse + merge + print).
# lines/s is threatwall's; peak RSS (KiB, /usr/bin/time %M) is of one run each.
if command -v iprange >/dev/null; then
  # 1,000,000 lines: random IPv4 addresses and 20% CIDRs (/16../31), seeded.
  awk 'BEGIN { srand(42); for (i = 0; i < 1000000; i++) {
         a = int(rand()*224); b = int(rand()*256); c = int(rand()*256); d = int(rand()*256);
         if (rand() < 0.2) printf "%d.%d.%d.%d/%d\n", a, b, c, d, 16 + int(rand()*16);
         else printf "%d.%d.%d.%d\n", a, b, c, d } }' >"$TMP/gen1m.txt"
  peak_kb() {  # peak_kb CMD...: the peak resident set of one run, in KiB
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -f %M -o "$TMP/rss" "$@" >/dev/null 2>&1 && cat "$TMP/rss"
    else
      echo "?"
    fi
  }
  printf '\n%-28s %10s %10s %12s %8s %12s %10s %10s %s\n' "feed ingest (parse+merge)" "lines" "iprange s" \
    "threatwall s" "ratio" "tw lines/s" "iprange KB" "tw KB" "same set"
  for f in "$FEEDS/firehol_level4.netset" "$TMP/gen1m.txt"; do
    [ -f "$f" ] || continue
    lines=$(grep -cvE '^\s*(#|$)' "$f")
    t_ip=$(best_of 5 iprange "$f"); cp "$TMP/out" "$TMP/ip.out"
    t_tw=$(best_of 5 "$BIN/threatwall" feeds parse "$f"); cp "$TMP/out" "$TMP/tw.out"
    same=no; cmp -s "$TMP/ip.out" "$TMP/tw.out" && same=yes
    printf '%-28s %10d %10.3f %12.3f %7.1fx %12.0f %10s %10s %s\n' "$(basename "$f")" "$lines" "$t_ip" "$t_tw" \
      "$(echo "$t_ip / $t_tw" | bc -l)" "$(echo "$lines / $t_tw" | bc -l)" \
      "$(peak_kb iprange "$f")" "$(peak_kb "$BIN/threatwall" feeds parse "$f")" "$same"
    [ "$same" = yes ] || echo "!! outputs differ for $f"
  done
  # Memory per stored prefix of a 1M-line set (counters of one benchmark run).
  "$BIN/tw_bench" --benchmark_filter='^BM_CidrSetMemory' --benchmark_counters_tabular=true 2>/dev/null |
    awk '/^-+$/ {next} /BM_CidrSetMemory|Benchmark/ {print "  " $0}' || true
else
  echo "iprange not installed: feed ingest comparison skipped (apt-get install iprange)"
fi

# ---- side-by-side scripts (each skips itself when its peer tool or root is missing) --
for script in nft_kernel_bench.sh seed_bench.sh hunt_bench.sh; do
  if [ -x "$ROOT/bench/$script" ]; then
    echo; echo "== bench/$script"
    "$ROOT/bench/$script" || echo "!! bench/$script failed (exit $?)"
  fi
done

# ---- micro-benchmarks ------------------------------------------------------
echo
"$BIN/tw_bench" --benchmark_counters_tabular=true "$@"
