#!/usr/bin/env bash
# threatwall hunt vs grepcidr -f (issue 5, "Measure"): a 2M-line log of
# realistic lines (syslog/sshd, iptables kernel lines, web access logs,
# timestamps, ports, some IPv6) against a 100k-CIDR feed (IPv4 hosts and
# CIDRs, a few IPv6 prefixes), seeded.  Outputs are compared byte for byte;
# wall time best of 3 (whole processes: load feed + scan + print);
# ratio = grepcidr s / threatwall s.  threatwall runs with its default
# threads (one per core); a second line shows it on one thread
# (--threads 1).  Reported, never asserted.
#   bench/hunt_bench.sh [BIN_DIR]      (default: build/bin)
# Last, the scanner alone in memory per classifier instruction set (tw_bench).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build/bin}
command -v grepcidr >/dev/null || { echo "grepcidr not installed: hunt comparison skipped (apt-get install grepcidr)"; exit 0; }
[ -x "$BIN/threatwall" ] || { echo "no $BIN/threatwall: build first"; exit 1; }
TMP=$(mktemp -d /tmp/tw-hunt-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
# best_of N CMD...: the fastest of N wall-clock runs, in seconds (stdout to $TMP/out).
best_of() {
  local n=$1; shift; local best=
  for _ in $(seq "$n"); do
    local t0 t1; t0=$(now); "$@" >"$TMP/out" 2>/dev/null || true; t1=$(now)
    best=$(echo "$t1 - $t0" | bc -l | awk -v b="${best:-1e9}" '{print ($1 < b) ? $1 : b}')
  done
  echo "$best"
}

# 100,000 feed entries: 80% IPv4 hosts, 19% IPv4 CIDRs /16../31, 1% IPv6 /32../64.
awk 'BEGIN { srand(5)
  for (i = 0; i < 100000; i++) {
    r = rand()
    a = sprintf("%d.%d.%d.%d", 1 + int(rand()*222), int(rand()*256), int(rand()*256), int(rand()*256))
    if (r < 0.80) print a
    else if (r < 0.99) printf "%s/%d\n", a, 16 + int(rand()*16)
    else printf "2a0%x:%x::/%d\n", int(rand()*16), int(rand()*65536), 32 + int(rand()*33)
  } }' >"$TMP/feed.txt"

# 2,000,000 log lines; 2% of the addresses are taken from the feed's hosts.
awk -v FEED="$TMP/feed.txt" 'BEGIN { srand(9)
  while ((getline l < FEED) > 0) if (l !~ /[\/:]/) hosts[nh++] = l
  split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mon, " ")
  split("GET POST PUT HEAD", meth, " ")
  split("/ /index.html /api/v1/items /login /static/app.js /wp-login.php", path, " ")
  for (i = 0; i < 2000000; i++) {
    if (rand() < 0.02) ip = hosts[int(rand()*nh)]
    else ip = sprintf("%d.%d.%d.%d", 1 + int(rand()*222), int(rand()*256), int(rand()*256), int(rand()*256))
    h = int(rand()*24); m = int(rand()*60); s = int(rand()*60); k = i % 10
    if (k < 4)
      printf "2026-11-28T%02d:%02d:%02d.%06dZ node-%d sshd[%d]: Failed password for invalid user admin from %s port %d ssh2\n",
        h, m, s, int(rand()*1000000), i % 40, 1000 + i % 30000, ip, 1024 + int(rand()*64000)
    else if (k < 7)
      printf "%s 28 %02d:%02d:%02d node-%d kernel: [%d.%06d] DROP IN=eth0 OUT= SRC=%s DST=10.%d.%d.%d LEN=60 TTL=52 PROTO=TCP SPT=%d DPT=443 SYN\n",
        mon[11], h, m, s, i % 40, i, int(rand()*1000000), ip, int(rand()*256), int(rand()*256), int(rand()*256), int(rand()*65536)
    else if (k < 9)
      printf "%s - - [28/Nov/2026:%02d:%02d:%02d +0000] \"%s %s HTTP/1.1\" %d %d \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
        ip, h, m, s, meth[1 + int(rand()*4)], path[1 + int(rand()*6)], (rand() < 0.9 ? 200 : 404), int(rand()*50000)
    else
      printf "2026-11-28 %02d:%02d:%02d resolver: client [2a0%x:%x:%x::%x]:%d query example%d.com A from %s\n",
        h, m, s, int(rand()*16), int(rand()*65536), int(rand()*65536), int(rand()*65536), int(rand()*65536), i % 999, ip
  } }' >"$TMP/log.txt"

# CPU seconds (user + system) of one more run each: wall time on a shared,
# loaded machine also counts waiting for a core.
cpu_s() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%U %S' -o "$TMP/cpu" "$@" >/dev/null 2>&1 || true
    awk '{ printf "%.3f", $1 + $2 }' "$TMP/cpu"
  else
    echo "?"
  fi
}
load=$(cut -d' ' -f1-3 /proc/loadavg)  # the machine may be shared: wall times depend on it
lines=$(wc -l <"$TMP/log.txt")
bytes=$(wc -c <"$TMP/log.txt")
t_gc=$(best_of 3 grepcidr -f "$TMP/feed.txt" "$TMP/log.txt"); cp "$TMP/out" "$TMP/gc.out"
t_tw=$(best_of 3 "$BIN/threatwall" hunt --feed "$TMP/feed.txt" "$TMP/log.txt"); cp "$TMP/out" "$TMP/tw.out"
t_tw1=$(best_of 3 "$BIN/threatwall" hunt --threads 1 --feed "$TMP/feed.txt" "$TMP/log.txt"); cp "$TMP/out" "$TMP/tw1.out"
same=no; cmp -s "$TMP/gc.out" "$TMP/tw.out" && cmp -s "$TMP/gc.out" "$TMP/tw1.out" && same=yes
printf '\n%-28s %10s %10s %10s %12s %8s %12s %12s %10s %s\n' "hunt (log vs 100k CIDRs)" "lines" "MB" "grepcidr s" \
  "threatwall s" "ratio" "gc lines/s" "tw lines/s" "matched" "same output"
printf '%-28s %10d %10.1f %10.3f %12.3f %7.1fx %12.0f %12.0f %10d %s\n' "2M-line log" "$lines" \
  "$(echo "$bytes / 1048576" | bc -l)" "$t_gc" "$t_tw" "$(echo "$t_gc / $t_tw" | bc -l)" \
  "$(echo "$lines / $t_gc" | bc -l)" "$(echo "$lines / $t_tw" | bc -l)" "$(wc -l <"$TMP/tw.out")" "$same"
printf '%-28s %10s %10s %10s %12.3f %7.1fx %12s %12.0f\n' "  threatwall --threads 1" "" "" "" "$t_tw1" \
  "$(echo "$t_gc / $t_tw1" | bc -l)" "" "$(echo "$lines / $t_tw1" | bc -l)"
c_gc=$(cpu_s grepcidr -f "$TMP/feed.txt" "$TMP/log.txt")
c_tw=$(cpu_s "$BIN/threatwall" hunt --feed "$TMP/feed.txt" "$TMP/log.txt")
printf '%-28s %10s %10s %10s %12s %7.1fx   (CPU seconds, user + system, one run each)\n' "  cpu" "" "" "$c_gc" "$c_tw" \
  "$(echo "$c_gc / $c_tw" | bc -l)"
echo "  load average before the runs: $load"
[ "$same" = yes ] || echo "!! outputs differ"
# The scanner alone, in memory, with each classifier this CPU runs (the
# command above uses the fastest): see bench/hunt_scan_bench.cc.
if [ -x "$BIN/tw_bench" ]; then
  echo "  scanner in memory, one thread, per classifier (bytes/s; lines/s = items_per_second):"
  "$BIN/tw_bench" --benchmark_filter='^BM_HuntScan' 2>/dev/null | awk '/^BM_HuntScan/ {print "    " $0}' || true
fi
