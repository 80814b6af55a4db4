#!/usr/bin/env bash
# The seed's timings on the lab (examples/lab/lab.sh), root only:
#   policy  -- from `threatwall create -f 41-tf-gnp.yaml` returning to the first
#              connection attempt from tf-ubuntu to 5.196.58.96:443 that is blocked;
#   feed    -- from `threatwall feeds sync` returning (the new set is written) to the
#              first blocked attempt to the newly listed 5.196.58.97.
# Attempts are TCP connects with a 30 ms timeout (the lab answers in well under
# 1 ms), one after another: the numbers include up to one attempt (~35 ms with process
# start-up).  Repeated RUNS times (default 5);
# min / median / max printed.  Calico is not installable here, so there is no peer
# number in the same run; the seed shows the block by hand, and Calico documents
# policy programming as asynchronous (Felix batches datastore updates).
#   bench/seed_bench.sh [RUNS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${THREATWALL_BENCH_BIN:-$ROOT/build/bin}
RUNS=${1:-5}
[ "$(id -u)" = 0 ] || { echo "seed bench: skipped (needs root)"; exit 0; }
source "$ROOT/examples/lab/lab.sh"
DIR=$(mktemp -d /tmp/tw-bench-seed.XXXXXX)
PREFIX=tw-bench-$$
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  ip netns list | grep -qw "$PREFIX-node" && "$BIN/threatwalld" --cleanup --node-netns "$PREFIX-node" --log-level warn || true
  lab_down
  rm -rf "$DIR"
}
trap cleanup EXIT
lab_up "$PREFIX" "$DIR/lab" "$ROOT/testdata/feeds/firehol_snort_ipfilter.ipset" >/dev/null
"$BIN/threatwalld" --data-dir "$DIR/data" --listen 127.0.0.1:0 --node-netns "$LAB_NODE" --feed-offline \
  --feed-host "$LAB_FEED_HOST" --feed-ca-file "$LAB_CA" --log-level warn >"$DIR/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -s "$DIR/data/address" ] && break; sleep 0.1; done
export THREATWALL_SERVER; THREATWALL_SERVER=$(cat "$DIR/data/address")
export THREATWALL_TOKEN; THREATWALL_TOKEN=$(cat "$DIR/data/admin.token")
TW=$BIN/threatwall
M=$ROOT/examples/manifests
$TW create -f "$M/40-snort-ip-block-list.yaml" -f "$M/42-tf-ubuntu.yaml" -f "$M/01-security-tier.yaml" >/dev/null
for _ in $(seq 100); do
  [ "$($TW get pod tf-ubuntu -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ] &&
    $TW get gns threatfeed.snort-ip-block-list >/dev/null 2>&1 && break
  sleep 0.1
done
POD_NS=tw-default-tf-ubuntu  # node::SandboxNetnsName(default, tf-ubuntu)

now() { date +%s.%N; }
# attempt ADDR: 0 connected, 124 timed out (blocked), else refused/unreachable.
attempt() { local rc=0; ip netns exec "$POD_NS" timeout 0.03 bash -c "exec 3<>/dev/tcp/$1/443" 2>/dev/null || rc=$?; return $rc; }
# blocked_after T0 ADDR: seconds from T0 to the end of the first attempt that times out.
blocked_after() {
  local t0=$1 addr=$2 rc
  for _ in $(seq 300); do
    rc=0; attempt "$addr" || rc=$?
    if [ $rc = 124 ]; then echo "$(now) - $t0" | bc -l; return 0; fi
    [ $rc = 0 ] || { echo "seed bench: $addr refused or unreachable (exit $rc), not blocked" >&2; exit 1; }
  done
  echo "seed bench: $addr never blocked" >&2; exit 1
}
# open_again ADDR: wait until ADDR connects.
open_again() {
  for _ in $(seq 100); do attempt "$1" && return 0; sleep 0.05; done
  echo "seed bench: $1 stays blocked" >&2; exit 1
}
stats() { sort -g | awk '{a[NR]=$1} END {printf "min %.3f s  median %.3f s  max %.3f s  (%d runs)\n", a[1], a[int((NR+1)/2)], a[NR], NR}'; }

: >"$DIR/policy" ; : >"$DIR/feed"
for i in $(seq "$RUNS"); do
  t0=$(now); $TW create -f "$M/41-tf-gnp.yaml" >/dev/null
  blocked_after "$t0" 5.196.58.96 >>"$DIR/policy"
  $TW delete gnp security.block-snort >/dev/null
  open_again 5.196.58.96
done
$TW create -f "$M/41-tf-gnp.yaml" >/dev/null
for i in $(seq "$RUNS"); do
  addr=5.196.58.97
  grep -vx "$addr" "$LAB_FEED" >"$DIR/feed.tmp" && cp "$DIR/feed.tmp" "$LAB_FEED"
  $TW feeds sync snort-ip-block-list --force >/dev/null
  open_again "$addr"
  echo "$addr" >>"$LAB_FEED"
  $TW feeds sync snort-ip-block-list >/dev/null
  blocked_after "$(now)" "$addr" >>"$DIR/feed"
done
echo "create -f 41-tf-gnp.yaml -> blocked:  $(stats <"$DIR/policy")"
echo "feeds sync (set written) -> blocked: $(stats <"$DIR/feed")"
