#!/usr/bin/env bash
# Kernel dataplane benchmark (root): programming a 1,000,000-line IPv4 feed
# into nftables through NftDataplane (netlink batches + one nft chain
# switch) vs `nft -f`, then 1,000 element adds and deletes, then the
# per-packet cost of the loaded sets.  Reported, never asserted.
#
#   bench/nft_kernel_bench.sh [BUILD_DIR]     (default: build; needs bin/nft_bench_tool)
#
# Input: the generator of run_benchmarks.sh (random IPv4, 20% CIDRs
# /16../31, awk srand(42)), merged with CidrSet.  Everything runs in
# network namespaces this script creates (tw-test-<pid>-*) and deletes on
# exit; nft steps are capped with `timeout 120`.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
TOOL=$BUILD/bin/nft_bench_tool
CAP=120
[[ $(id -u) == 0 ]] || { echo "nft kernel bench: needs root, skipped"; exit 0; }
command -v nft >/dev/null || { echo "nft kernel bench: nft not installed, skipped"; exit 0; }
[[ -x $TOOL ]] || { echo "nft kernel bench: $TOOL missing (cmake --build $BUILD --target nft_bench_tool)"; exit 1; }
TMP=$(mktemp -d /tmp/tw-nftbench.XXXXXX)
P=tw-test-$$-
cleanup() {
  for n in $(ip netns list | awk '{print $1}' | grep "^$P"); do ip netns del "$n"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

now() { date +%s.%N; }
# timed NS CMD...: runs CMD in NS under `timeout $CAP`; sets T (seconds or
# ">CAP") and KB (peak RSS of CMD, "?" without /usr/bin/time).
timed() {
  local ns=$1; shift
  local t0 t1 rc
  t0=$(now)
  if [[ -x /usr/bin/time ]]; then
    timeout "$CAP" ip netns exec "$ns" /usr/bin/time -f %M -o "$TMP/rss" "$@" >"$TMP/out" 2>&1; rc=$?
  else
    timeout "$CAP" ip netns exec "$ns" "$@" >"$TMP/out" 2>&1; rc=$?
  fi
  t1=$(now)
  KB=$(tail -1 "$TMP/rss" 2>/dev/null || echo "?")
  if [[ $rc == 124 ]]; then T=">$CAP"; KB="?"; elif [[ $rc != 0 ]]; then T="failed"; cat "$TMP/out" | head -5;
  else T=$(printf '%.3f' "$(echo "$t1 - $t0" | bc -l)"); fi
}
ratio() { [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && printf '%.0fx' "$(echo "$1 / $2" | bc -l)" || echo "-"; }

echo "nft kernel dataplane benchmark, $(uname -r), $(nft --version), $(nproc) cores, $(date -u +%FT%TZ)"
awk 'BEGIN { srand(42); for (i = 0; i < 1000000; i++) {
       a = int(rand()*224); b = int(rand()*256); c = int(rand()*256); d = int(rand()*256);
       if (rand() < 0.2) printf "%d.%d.%d.%d/%d\n", a, b, c, d, 16 + int(rand()*16);
       else printf "%d.%d.%d.%d\n", a, b, c, d } }' >"$TMP/gen1m.txt"
PREP=$("$TOOL" prepare "$TMP/gen1m.txt" "$TMP" 1000)
echo "input: 1,000,000 lines -> $PREP"
RANGES=$(awk '{print $2}' <<<"$PREP")

# (a) ours: full sync, then +1000 / -1000 as incremental applies.
ip netns add "${P}ours"
timed "${P}ours" "$TOOL" sync "${P}ours" "$TMP/gen1m.txt" "$TMP"
cp "$TMP/out" "$TMP/ours.txt"
OURS_PROC=$T OURS_KB=$KB
get() { awk -v k="$1" '$1 == k {print $2}' "$TMP/ours.txt"; }
O_FULL=$(printf '%.3f' "$(get full_total_s)") O_ADD=$(printf '%.4f' "$(get add_total_s)") O_DEL=$(printf '%.4f' "$(get del_total_s)")
ip netns del "${P}ours"

# (b) nft -f, one interval set; then add.nft / del.nft on it.
ip netns add "${P}nft"
timed "${P}nft" nft -f "$TMP/interval.nft"; N_FULL=$T N_KB=$KB
if [[ $N_FULL =~ ^[0-9] ]]; then
  timed "${P}nft" nft -f "$TMP/add.nft"; N_ADD=$T
  timed "${P}nft" nft -f "$TMP/del.nft"; N_DEL=$T
else N_ADD="-"; N_DEL="-"; fi
ip netns del "${P}nft"

# (c) nft -f, hash set for the single addresses + interval set for the rest.
ip netns add "${P}split"
timed "${P}split" nft -f "$TMP/split.nft"; S_FULL=$T S_KB=$KB
ip netns del "${P}split"

printf '\n%-44s %12s %12s %12s %8s\n' "1M-line feed ($RANGES ranges)" "threatwall" "nft interval" "nft hash+int" "ratio"
printf '%-44s %12s %12s %12s %8s\n' "program the set (s, Apply / nft -f)" "$O_FULL" "$N_FULL" "$S_FULL" "$(ratio "$N_FULL" "$O_FULL")"
printf '%-44s %12s %12s %12s %8s\n' "  whole process incl. parse+merge (s)" "$OURS_PROC" "" "" ""
printf '%-44s %12s %12s %12s %8s\n' "  peak RSS (KB)" "$OURS_KB" "$N_KB" "$S_KB" "$(ratio "$N_KB" "$OURS_KB")"
printf '%-44s %12s %12s %12s %8s\n' "add 1,000 elements (s)" "$O_ADD" "$N_ADD" "" "$(ratio "$N_ADD" "$O_ADD")"
printf '%-44s %12s %12s %12s %8s\n' "delete 1,000 elements (s)" "$O_DEL" "$N_DEL" "" "$(ratio "$N_DEL" "$O_DEL")"
echo "threatwall detail: $(grep -E '^(full|add|del)_(netlink_s|nft_s|encode_s|elements|bytes)' "$TMP/ours.txt" | tr '\n' ' ')"

# ---- per-packet cost: one-way UDP client -> node (forwarding) -> server -----
C=${P}c N=${P}n S=${P}s
ip netns add "$C"; ip netns add "$N"; ip netns add "$S"
ip -n "$N" link add twbench0 type veth peer name eth0 netns "$C"
ip -n "$N" link add twbench1 type veth peer name eth0 netns "$S"
ip -n "$N" addr add 10.98.1.1/24 dev twbench0; ip -n "$N" addr add 10.98.2.1/24 dev twbench1
ip -n "$N" link set twbench0 up; ip -n "$N" link set twbench1 up
ip -n "$C" addr add 10.98.1.2/24 dev eth0; ip -n "$C" link set eth0 up; ip -n "$C" route add default via 10.98.1.1
ip -n "$S" addr add 10.98.2.2/24 dev eth0; ip -n "$S" link set eth0 up; ip -n "$S" route add default via 10.98.2.1
ip netns exec "$N" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
# Best of 3 runs of 2 s (the machine is shared: take the least disturbed).
pps() {
  for _ in 1 2 3; do "$TOOL" blast "$C" "$S" 10.98.2.2 2 | awk '{print $6}'; done | sort -n | tail -1
}
P_EMPTY=$(pps)
# The same ruleset with a ~1,000-element set: separates the cost of the
# rules themselves (conntrack, marks, NFLOG of the profile allow) from the
# cost of looking up a 1M set.
printf '1.1.1.1\n1.2.0.0/16\n' >"$TMP/small.txt"
"$TOOL" sync "$N" "$TMP/small.txt" "$TMP" 10.98.2.0/24 >/dev/null
P_SMALL=$(pps)
ip netns exec "$N" nft delete table inet threatwall
# Our ruleset with the 1M set minus the server's /24 (random /16s cover
# it otherwise): every packet walks the endpoint chain and both set
# lookups (hash + interval), then is accepted.
"$TOOL" sync "$N" "$TMP/gen1m.txt" "$TMP" 10.98.2.0/24 >/dev/null
P_OURS=$(pps)
printf '\n%-44s %12s\n' "UDP forwarding, 16-byte payload, best of 3" "received/s"
printf '%-44s %12s\n' "no ruleset" "$P_EMPTY"
printf '%-44s %12s\n' "threatwall table, ~1k set" "$P_SMALL"
printf '%-44s %12s\n' "threatwall table, 1M set (hash + interval)" "$P_OURS"
ns_per() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $1 -gt 0 && $2 -gt 0 ]] &&
  printf '%.0f' "$(echo "(1 / $1 - 1 / $2) * 1000000000" | bc -l)" || echo "-"; }
printf '%-44s %12s\n' "ns/packet: ruleset with ~1k set vs none" "$(ns_per "$P_SMALL" "$P_EMPTY")"
printf '%-44s %12s\n' "ns/packet: 1M set vs ~1k set (set lookups)" "$(ns_per "$P_OURS" "$P_SMALL")"
