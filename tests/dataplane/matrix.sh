#!/usr/bin/env bash
# The root semantics matrix (issue 4): real connections between pods, and
# between pods and the lab's world, against `threatwall explain`.
#
#   matrix.sh THREATWALL THREATWALLD TW_PROBE
#
# Builds the lab (examples/lab/lab.sh) as tw-test-<pid>-node/-world, runs
# threatwalld --node-netns on it, creates policies.yaml and pods.yaml (with
# namespaces test-<pid>-a/-b, so every pod sandbox is tw-test-<pid>-*),
# starts `tw_probe serve` in every pod and in the world, and checks every
# flow of cases.txt twice: the kernel (tw_probe connect: open = allow,
# timeout = deny) and `threatwall explain -o json` (its verdict); both must
# equal the expected verdict.  Then: the IPv6 members of the feed set in the
# kernel sets, a policy change (apply, probe, delete, probe), restart
# convergence (kill -TERM: enforcement stays while the daemon is down; a
# restart leaves the same number of rules and the same verdicts), cleanup
# (deleted pods lose their namespaces; threatwalld --cleanup removes the
# rest and the table), and the lab is removed.
#
# One PASS/FAIL line per check and a summary; exit 1 on any failure, 77
# (skipped) without root, nft or ip.  Everything it starts or creates is
# removed on exit, also on failure or interrupt.  Nothing outside its own
# namespaces is touched; no DNS.  Takes 15-50 s (longer when the agent is
# slow to apply: see the first checks).  Debugging: TW_DP_LOG_LEVEL=debug,
# TW_DP_LOG_COPY=FILE (keep the daemon's log), TW_DP_HOLD=SECONDS (keep
# everything up that long after a fatal error).
set -uo pipefail
if [[ $# -ne 3 ]]; then echo "usage: $0 THREATWALL THREATWALLD TW_PROBE" >&2; exit 2; fi
CLI=$(realpath "$1") DAEMON=$(realpath "$2") PROBE=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces): skipped"; exit 77; }
for tool in nft ip openssl ss; do
  command -v "$tool" >/dev/null || { echo "$tool not installed: skipped"; exit 77; }
done

PREFIX=tw-test-$$
NSA=test-$$-a NSB=test-$$-b
WORK=$(mktemp -d "/tmp/tw-dataplane-$$-XXXXXX")
DATA=$WORK/data
mkdir -p "$DATA"
# Timeouts of one probe: an expected deny must time out (a drop); an
# expected allow answers in milliseconds, the margin is for a loaded machine.
DENY_MS=${TW_DP_DENY_MS:-500}
ALLOW_MS=${TW_DP_ALLOW_MS:-3000}
PARALLEL=${TW_DP_PARALLEL:-10}
SERVE_ARGS=(--tcp 8080 --tcp 8081 --tcp 8082 --tcp 9005 --tcp 9011 --tcp 5353 --udp 5353 --udp 5354 --udp 8080)
unset https_proxy http_proxy HTTPS_PROXY HTTP_PROXY all_proxy ALL_PROXY THREATWALL_CONFIG
export HOME=$WORK  # no ~/.config/threatwall of the caller

# shellcheck source=../../examples/lab/lab.sh
source "$ROOT/examples/lab/lab.sh"
LAB_NODE=$PREFIX-node LAB_WORLD=$PREFIX-world LAB_STATE=$WORK/lab

DPID=
WATCH_PID=
SERVER_PIDS=()

# Every namespace of this run: the lab's and the pods' sandboxes.
my_netns() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true; }

stop_daemon() {
  [[ -n $DPID ]] || return 0
  kill -TERM "$DPID" 2>/dev/null
  local i
  for i in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  DPID=
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p ns pid
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  touch "$WORK/watch.stop" 2>/dev/null
  [[ -n ${WATCH_PID:-} ]] && wait "$WATCH_PID" 2>/dev/null
  stop_daemon
  if netns_exists "$LAB_NODE"; then
    "$DAEMON" --cleanup --data-dir "$DATA" --node-netns "$LAB_NODE" --log-level error >/dev/null 2>&1
  fi
  # Pod sandboxes the daemon did not remove, and anything still running in them.
  for ns in $(my_netns); do
    [[ $ns == "$LAB_NODE" || $ns == "$LAB_WORLD" ]] && continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  lab_down
  if [[ -n ${TW_DP_LOG_COPY:-} ]]; then cp "$WORK/daemon.log" "$TW_DP_LOG_COPY" 2>/dev/null; fi
  if [[ $rc -ne 0 && -f $WORK/daemon.log ]]; then
    echo "--- last lines of threatwalld's log"
    tail -n 40 "$WORK/daemon.log"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS  $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL  $*"; }
# check DESCRIPTION CMD...: PASS when CMD succeeds.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
fatal() {
  echo "FATAL $*"; FAILED=$((FAILED + 1)); summary
  if [[ -n ${TW_DP_HOLD:-} ]]; then
    echo "holding ${TW_DP_HOLD}s: THREATWALL_SERVER=${THREATWALL_SERVER:-} THREATWALL_TOKEN=${THREATWALL_TOKEN:-} WORK=$WORK"
    sleep "$TW_DP_HOLD"
  fi
  exit 1
}
summary() { echo "dataplane matrix: $PASSED passed, $FAILED failed"; }

# ---- the daemon ---------------------------------------------------------------

start_daemon() {
  rm -f "$DATA/address"
  "$DAEMON" --data-dir "$DATA" --listen 127.0.0.1:0 --node-netns "$LAB_NODE" --feed-offline --no-feeds \
    --log-level "${TW_DP_LOG_LEVEL:-info}" >>"$WORK/daemon.log" 2>&1 &
  DPID=$!
  local i
  for i in $(seq 100); do [[ -s $DATA/address ]] && break; sleep 0.1; done
  [[ -s $DATA/address ]] || fatal "threatwalld did not write $DATA/address"
  export THREATWALL_SERVER THREATWALL_TOKEN THREATWALL_DATA_DIR=$DATA
  THREATWALL_SERVER=$(cat "$DATA/address")
  THREATWALL_TOKEN=$(cat "$DATA/admin.token")
}

tw() { "$CLI" "$@"; }

# ---- names ------------------------------------------------------------------------

# a/NAME -> "test-<pid>-a NAME"; b/NAME likewise.
pod_ns() { case $1 in a/*) echo "$NSA" ;; b/*) echo "$NSB" ;; *) return 1 ;; esac; }
pod_name() { echo "${1#*/}"; }
is_pod() { [[ $1 == [ab]/* ]]; }
# The pod's sandbox (node::SandboxNetnsName: short names are not hashed).
pod_netns() { echo "tw-$(pod_ns "$1")-$(pod_name "$1")"; }

declare -A POD_IP
ALL_PODS=()  # a/NAME, b/NAME in pods.yaml order
read_pods() {
  local ns name
  while read -r ns name; do
    case $ns in NS_A) ALL_PODS+=("a/$name") ;; NS_B) ALL_PODS+=("b/$name") ;; esac
  done < <(awk '/^kind: Pod/{p=1} p&&/^  name:/{n=$2} p&&/^  namespace:/{print $2, n; p=0}' "$HERE/pods.yaml")
  [[ ${#ALL_PODS[@]} -gt 0 ]] || fatal "no pods in $HERE/pods.yaml"
}

# The manifests with the namespaces of this run.
render() { sed -e "s/NS_A/$NSA/g" -e "s/NS_B/$NSB/g" "$HERE/$1" >"$WORK/$1"; echo "$WORK/$1"; }

# ---- one flow -------------------------------------------------------------------------

# probe VIA FROM TO PROTO PORT TIMEOUT_MS: prints open|refused|timeout|unreachable
# (or "error: ...").  VIA: exec (threatwall exec, needs the daemon) or netns
# (ip netns exec).  The world side connects with --bind FROM.
probe() {
  local via=$1 from=$2 to=$3 proto=$4 port=$5 ms=$6
  local dst=$to args out
  if is_pod "$to"; then dst=${POD_IP[$to]}; fi
  args=(connect "$proto" "$dst")
  [[ $port != - ]] && args+=("$port")
  args+=(--timeout-ms "$ms")
  if ! is_pod "$from"; then
    out=$(ip netns exec "$LAB_WORLD" "$PROBE" "${args[@]}" --bind "$from" 2>&1)
  elif [[ $via == exec ]]; then
    out=$(tw exec -n "$(pod_ns "$from")" "$(pod_name "$from")" -- "$PROBE" "${args[@]}" 2>&1)
  else
    out=$(ip netns exec "$(pod_netns "$from")" "$PROBE" "${args[@]}" 2>&1)
  fi
  case $out in open | refused | timeout | unreachable) echo "$out" ;; *) echo "error: ${out//$'\n'/ }" ;; esac
}

# explain_verdict FROM TO PROTO PORT: allow|deny, or "error: ..."
explain_verdict() {
  local from=$1 to=$2 proto=$3 port=$4 side args=() out
  for side in from to; do
    local v=${!side}
    if is_pod "$v"; then args+=("--$side" "$(pod_ns "$v")/$(pod_name "$v")"); else args+=("--$side" "$v"); fi
  done
  case $proto in
    icmp) args+=(--protocol ICMP --icmp-type 8 --icmp-code 0) ;;
    *) args+=(--protocol "${proto^^}" --port "$port") ;;
  esac
  if ! out=$(tw explain "${args[@]}" -o json 2>&1); then echo "error: ${out//$'\n'/ }"; return; fi
  out=$(grep -o '"verdict": *"[a-z]*"' <<<"$out" | sed 's/.*"\([a-z]*\)"$/\1/')
  echo "${out:-error: no verdict in the answer}"
}

kernel_verdict() { case $1 in open) echo allow ;; timeout) echo deny ;; *) echo "$1" ;; esac; }

# ---- the case table -------------------------------------------------------------------------

CASES=()  # "FROM TO PROTO PORT EXPECT|COMMENT"
read_cases() {
  local line body comment from to proto port expect extra
  while IFS= read -r line; do
    body=${line%%#*}
    [[ -z ${body//[[:space:]]/} ]] && continue
    comment=
    [[ $line == *#* ]] && comment=${line#*#} && comment=${comment# }
    read -r from to proto port expect extra <<<"$body"
    if [[ -z $expect || -n $extra || ! $expect =~ ^(allow|deny)$ || ! $proto =~ ^(tcp|udp|icmp)$ ]]; then
      fatal "cases.txt: bad line: $line"
    fi
    CASES+=("$from $to $proto $port $expect|$comment")
  done <"$HERE/cases.txt"
}

# run_kernel_pass VIA TAG: every case's real connection, $PARALLEL at a
# time; results in $WORK/TAG.<i>.
run_kernel_pass() {
  local via=$1 tag=$2
  (  # a subshell: its jobs are the probes only (not the servers or the daemon)
    for i in "${!CASES[@]}"; do
      read -r from to proto port expect <<<"${CASES[$i]%%|*}"
      ms=$ALLOW_MS
      [[ $expect == deny ]] && ms=$DENY_MS
      probe "$via" "$from" "$to" "$proto" "$port" "$ms" >"$WORK/$tag.$i" &
      while [[ $(jobs -rp | wc -l) -ge $PARALLEL ]]; do wait -n; done
    done
    wait
  )
}

# check_matrix VIA TAG [explain]: runs the kernel pass and reports one line
# per case (with explain unless the daemon is down).
check_matrix() {
  local via=$1 tag=$2 with_explain=${3:-explain} i from to proto port expect comment got ex line flow
  local t0=$SECONDS
  run_kernel_pass "$via" "$tag"
  for i in "${!CASES[@]}"; do
    read -r from to proto port expect <<<"${CASES[$i]%%|*}"
    comment=${CASES[$i]#*|}
    got=$(cat "$WORK/$tag.$i")
    flow=$proto
    [[ $port != - ]] && flow+=" $port"
    line="[$tag $((i + 1))] $from -> $to $flow: expect $expect, kernel $got"
    if [[ $with_explain == explain ]]; then
      ex=$(explain_verdict "$from" "$to" "$proto" "$port")
      line+=", explain $ex"
    else
      ex=$expect
    fi
    if [[ $(kernel_verdict "$got") == "$expect" && $ex == "$expect" ]]; then
      pass "$line  # $comment"
    else
      fail "$line  # $comment"
    fi
  done
  echo "      ($tag: ${#CASES[@]} cases in $((SECONDS - t0)) s)"
}

# ---- waiting ---------------------------------------------------------------------------------

# wait_until SECONDS CMD...: retries CMD every 0.1 s for SECONDS (wall clock).
wait_until() {
  local end=$((SECONDS + $1)); shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    ((SECONDS >= end)) && return 1
    sleep 0.1
  done
}

pods_running() {
  local phases
  phases=$(tw get pods -A -o jsonpath='{.items[*].status.phase}' 2>/dev/null) || return 1
  [[ $(grep -o -w Running <<<"$phases" | wc -l) -ge ${#ALL_PODS[@]} ]]
}

# The daemon's program knows every pod (explain resolves each by name).
program_has_pods() {
  local p
  for p in "${ALL_PODS[@]}"; do
    tw explain --from "$(pod_ns "$p")/$(pod_name "$p")" --to 192.0.2.254 --protocol TCP --port 8080 -o json \
      >"$WORK/explain-wait.out" 2>&1 || return 1
  done
}

node_nft() { ip netns exec "$LAB_NODE" nft "$@"; }
# Whole outputs are read before grep looks at them: `cmd | grep -q` fails
# under pipefail when grep exits first and cmd gets SIGPIPE.
netns_exists() { local l; l=$(ip netns list 2>/dev/null | awk '{print $1}'); grep -qx -- "$1" <<<"$l"; }
# set_has SET REGEX / set_lacks SET REGEX: a kernel set of table inet
# threatwall in the node (that exists) lists / does not list a match.
set_has() { local l; l=$(node_nft list set inet threatwall "$1" 2>&1) && grep -qE -- "$2" <<<"$l"; }
set_lacks() { local l; l=$(node_nft list set inet threatwall "$1" 2>&1) && ! grep -qE -- "$2" <<<"$l"; }

# Rules of table inet threatwall: lines of `nft -a list table` with a handle
# that are not a table, chain or set header.
rule_count() {
  node_nft -a list table inet threatwall 2>/dev/null |
    grep '# handle' | grep -cvE '^\s*(table|chain|set|map) '
}
# The generation suffix of the kernel sets ("s3h_g5" -> 5; nft/dataplane.h).
table_generation() {
  node_nft list sets table inet threatwall 2>/dev/null | grep -oE '^\s*set s[0-9]+[a-z0-9]*_g[0-9]+' |
    sed -E 's/.*_g//' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
set_count() { node_nft list sets table inet threatwall 2>/dev/null | grep -c '^\s*set '; }

# Listing of the table without handles and generation suffixes (what a
# restart must reproduce).
table_shape() { node_nft list table inet threatwall 2>/dev/null | sed -E 's/_g[0-9]+//g'; }

# ---- start ----------------------------------------------------------------------------------

read_pods
read_cases
echo "lab $PREFIX, namespaces $NSA $NSB, ${#ALL_PODS[@]} pods, ${#CASES[@]} cases"
lab_up "$PREFIX" "$LAB_STATE" "$ROOT/testdata/feeds/firehol_snort_ipfilter.ipset" >/dev/null ||
  fatal "the lab did not come up"
# An address of the world that no set lists (cases.txt: "nobody knows").
ip -n "$LAB_WORLD" addr add 198.51.100.77/32 dev lo
ip netns exec "$LAB_WORLD" "$PROBE" serve "${SERVE_ARGS[@]}" >"$WORK/serve-world.log" 2>&1 &
SERVER_PIDS+=($!)

T0=$SECONDS
start_daemon
echo "threatwalld at $THREATWALL_SERVER (pid $DPID), node $LAB_NODE"
out=$(tw create -f "$(render policies.yaml)" 2>&1) || fatal "creating policies.yaml: $out"
out=$(tw create -f "$(render pods.yaml)" 2>&1) || fatal "creating pods.yaml: $out"
wait_until 60 pods_running || fatal "pods not Running after 60 s: $(tw get pods -A -o wide 2>&1)"
for p in "${ALL_PODS[@]}"; do
  POD_IP[$p]=$(tw get pod "$(pod_name "$p")" -n "$(pod_ns "$p")" -o jsonpath='{.status.podIP}')
  [[ ${POD_IP[$p]} =~ ^10\.244\. ]] || fatal "pod $p: podIP '${POD_IP[$p]}' not from 10.244.0.0/16"
  netns_exists "$(pod_netns "$p")" || fatal "pod $p: no network namespace $(pod_netns "$p")"
done
pass "${#ALL_PODS[@]} pods Running with addresses from 10.244.0.0/16 and namespaces tw-$NSA-*/tw-$NSB-* ($((SECONDS - T0)) s after start)"

# A server in every pod (ip netns exec: its pid is the server's own).
for p in "${ALL_PODS[@]}"; do
  ip netns exec "$(pod_netns "$p")" "$PROBE" serve "${SERVE_ARGS[@]}" >"$WORK/serve-${p/\//-}.log" 2>&1 &
  SERVER_PIDS+=($!)
done
servers_ready() { [[ $(cat "$WORK"/serve-*.log 2>/dev/null | grep -cx ready) -eq $((${#ALL_PODS[@]} + 1)) ]]; }
wait_until 10 servers_ready || fatal "tw_probe servers did not start: $(grep -vx ready "$WORK"/serve-*.log)"
if wait_until 15 program_has_pods; then
  pass "explain knows every pod ($((SECONDS - T0)) s after start)"
else
  # Recorded as a failure; then one unrelated change (a new Namespace) makes
  # the agent recompile, so that the rest of the run still says something.
  fail "explain does not know every pod 15 s after they run: $(cat "$WORK/explain-wait.out")"
  tw create -f - >/dev/null 2>&1 <<<"{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"test-$$-nudge\"}}"
  wait_until 30 program_has_pods || fatal "explain still does not know every pod after a further change"
  echo "      (after a further change, explain knows every pod)"
fi
node_nft list table inet threatwall >/dev/null 2>&1 || fatal "no table inet threatwall in $LAB_NODE"
echo "      (policy program applied; table inet threatwall: $(rule_count) rules, $(set_count) sets)"

# ---- 1. the matrix --------------------------------------------------------------------------

echo "== matrix: real connections (threatwall exec) and explain"
check_matrix exec run1

# ---- 2. IPv6 members of the feed set (pods are IPv4-only: the kernel sets, and explain) ----------

echo "== IPv6 set members"
# The selector set of threatfeed == 'dp-feed': the IPv4 hash set that holds
# 5.196.58.97; its IPv6 siblings carry the same id and generation.
feed_set=
for s in $(node_nft list sets table inet threatwall | awk '$1 == "set" {print $2}'); do
  if set_has "$s" '5\.196\.58\.97\b'; then feed_set=$s; break; fi
done
if [[ -z $feed_set ]]; then
  fail "no kernel set holds 5.196.58.97 (the feed set threatfeed.dp-feed); the sets:"
  node_nft list sets table inet threatwall 2>&1 | head -n 60
else
  base=${feed_set%%_*} gen=${feed_set#"$base"}
  h6=${base/h/h6}$gen i6=${base/h/i6}$gen
  check "kernel set $h6 (IPv6 addresses of the feed set) holds 2001:db8:feed::5" \
    set_has "$h6" '2001:db8:feed::5\b'
  check "kernel set $i6 (IPv6 prefixes of the feed set) holds 2001:db8:bad::/48" \
    set_has "$i6" '2001:db8:bad::/48'
  check "kernel set ${base/h/i}$gen (IPv4 prefixes) is empty, 5.196.58.97 is only in $feed_set" \
    set_lacks "${base/h/i}$gen" '5\.196\.58\.97'
fi
v6_rc=0
v6=$(tw explain --from 2001:db8:bad::1 --to "$NSA/f-target" --protocol TCP --port 8080 -o json 2>&1) || v6_rc=$?
check "explain 2001:db8:bad::1 -> f-target is refused (exit $v6_rc): ${v6//$'\n'/ }" \
  eval "[[ $v6_rc -ne 0 ]] && grep -q 'no IPv6 address' <<<\"\$v6\""

# ---- 3. a policy change takes effect -----------------------------------------------------------------

echo "== policy change"
C_FROM=a/plain C_TO=a/c-target
# first_verdict_ms OUTCOME TIMEOUT_MS: probes plain -> c-target tcp 8080
# until it gives OUTCOME (for up to ~12 s); prints the ms from the call to
# the start of that probe (an upper bound of when the kernel changed).
first_verdict_ms() {
  local want=$1 ms=$2 start=$EPOCHREALTIME t i
  for i in $(seq 60); do
    t=$EPOCHREALTIME
    if [[ $(probe netns $C_FROM $C_TO tcp 8080 "$ms") == "$want" ]]; then
      echo $(((${t/./} - ${start/./}) / 1000)); return 0
    fi
    sleep 0.05
  done
  return 1
}
check "before: plain -> c-target tcp 8080 open (kernel) and allow (explain)" \
  eval "[[ \$(probe exec $C_FROM $C_TO tcp 8080 $ALLOW_MS) == open && \$(explain_verdict $C_FROM $C_TO tcp 8080) == allow ]]"
out=$(tw apply -f "$HERE/change.yaml" 2>&1) || fail "apply change.yaml: $out"
if ms=$(first_verdict_ms timeout 200); then
  pass "apply dp-z.c-block: plain -> c-target dropped (the first dropped probe started ${ms} ms after the apply returned)"
else
  fail "apply dp-z.c-block: plain -> c-target still open after 15 s"
fi
check "after apply: explain plain -> c-target tcp 8080 is deny" eval "[[ \$(explain_verdict $C_FROM $C_TO tcp 8080) == deny ]]"
check "after apply: t-client1 -> c-target tcp 8080 still open (rule 1 allows)" \
  eval "[[ \$(probe netns a/t-client1 $C_TO tcp 8080 $ALLOW_MS) == open ]]"
out=$(tw delete -f "$HERE/change.yaml" 2>&1) || fail "delete change.yaml: $out"
if ms=$(first_verdict_ms open 200); then
  pass "delete dp-z.c-block: plain -> c-target open again (the first open probe started ${ms} ms after the delete returned)"
else
  fail "delete dp-z.c-block: plain -> c-target still dropped after 15 s"
fi
check "after delete: explain plain -> c-target tcp 8080 is allow" eval "[[ \$(explain_verdict $C_FROM $C_TO tcp 8080) == allow ]]"

# ---- 4. restart convergence ---------------------------------------------------------------------------

echo "== restart"
sleep 0.5  # let the agent settle after the delete
rules_before=$(rule_count) sets_before=$(set_count)
shape_before=$(table_shape)
declare -A IP_BEFORE
for p in "${ALL_PODS[@]}"; do IP_BEFORE[$p]=${POD_IP[$p]}; done
gen_before=$(table_generation)
# From now until the restarted daemon has converged, three denied flows are
# tried again and again: none may get through at any moment.
deny_watch() {
  local n=0 c r
  while [[ ! -e $WORK/watch.stop ]]; do
    for c in "a/plain a/l-target tcp 8080" "5.196.58.97 a/f-target tcp 8080" "a/f-target 5.196.58.97 udp 8080"; do
      # shellcheck disable=SC2086
      r=$(probe netns $c 200)
      n=$((n + 1))
      [[ $r == timeout ]] || echo "$c: $r" >>"$WORK/watch.bad"
    done
  done
  echo "$n" >"$WORK/watch.count"
}
deny_watch &
WATCH_PID=$!
stop_daemon
check "threatwalld stopped by SIGTERM: table inet threatwall stays ($(rule_count) rules)" \
  eval "[[ \$(rule_count) -eq $rules_before && $rules_before -gt 0 ]]"
echo "== matrix while threatwalld is down (kernel only, ip netns exec)"
check_matrix netns down noexplain
T1=$EPOCHREALTIME
start_daemon
echo "threatwalld restarted at $THREATWALL_SERVER (pid $DPID)"
wait_until 30 program_has_pods || fail "after restart: explain does not know every pod after 30 s: $(cat "$WORK/explain-wait.out")"
# Converged: the daemon applied a new generation and the rule count is back.
converged() {
  [[ $(table_generation) != "$gen_before" && $(rule_count) -eq $rules_before && $(set_count) -eq $sets_before ]]
}
if wait_until 10 converged; then
  echo "      (restart: converged $(((${EPOCHREALTIME/./} - ${T1/./}) / 1000)) ms after start; set generation $gen_before -> $(table_generation))"
else
  echo "      (restart: not converged after 10 s; set generation $gen_before -> $(table_generation))"
fi
sleep 1
touch "$WORK/watch.stop"
wait "$WATCH_PID"
if [[ -s $WORK/watch.bad ]]; then
  fail "denied flows got through during the stop/restart ($(cat "$WORK/watch.count") tries): $(sort "$WORK/watch.bad" | uniq -c | tr '\n' ';')"
else
  pass "denied flows stayed denied during the stop/restart ($(cat "$WORK/watch.count") tries, none answered)"
fi
rules_after=$(rule_count) sets_after=$(set_count)
check "after restart: $rules_after rules (before $rules_before), $sets_after sets (before $sets_before): no duplicates, no leftovers" \
  eval "[[ $rules_after -eq $rules_before && $sets_after -eq $sets_before ]]"
if [[ $(table_shape) == "$shape_before" ]]; then
  pass "after restart: the table lists the same as before (set generations aside)"
else
  fail "after restart: the table differs from before (set generations aside):"
  diff <(echo "$shape_before") <(table_shape) | head -n 20
fi
same_ips=1
for p in "${ALL_PODS[@]}"; do
  ip=$(tw get pod "$(pod_name "$p")" -n "$(pod_ns "$p")" -o jsonpath='{.status.podIP}')
  [[ $ip == "${IP_BEFORE[$p]}" ]] || { same_ips=0; echo "      pod $p: $ip, was ${IP_BEFORE[$p]}"; }
done
check "after restart: every pod keeps its address and namespace" eval "[[ $same_ips == 1 ]]"
echo "== matrix after the restart"
check_matrix exec run2

# ---- 5. cleanup ----------------------------------------------------------------------------------------

echo "== cleanup"
# Delete the pods of namespace b through the API: their sandboxes go.
b_pods=()
for p in "${ALL_PODS[@]}"; do [[ $p == b/* ]] && b_pods+=("$p"); done
out=$(tw delete pod "${b_pods[@]#b/}" -n "$NSB" 2>&1) || fail "delete pods of $NSB: $out"
b_gone() { [[ -z $(ip netns list | awk '{print $1}' | grep "^tw-$NSB-") ]]; }
check "deleted pods ${b_pods[*]}: their network namespaces are gone" wait_until 15 b_gone
b_unknown() {
  local out
  ! out=$(tw explain --from "$NSB/n-web" --to 192.0.2.254 --protocol TCP --port 8080 2>&1) && [[ $out == *"no pod"* ]]
}
check "deleted pods: explain no longer knows $NSB/n-web" wait_until 10 b_unknown
stop_daemon
for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
SERVER_PIDS=()
cleanup_rc=0
out=$("$DAEMON" --cleanup --data-dir "$DATA" --node-netns "$LAB_NODE" 2>&1) || cleanup_rc=$?
check "threatwalld --cleanup --node-netns $LAB_NODE exits 0 (got $cleanup_rc)" eval "[[ $cleanup_rc == 0 ]]"
[[ $cleanup_rc == 0 ]] || echo "$out"
check "after --cleanup: no table inet threatwall in $LAB_NODE" eval "! node_nft list table inet threatwall >/dev/null 2>&1"
a_gone() { [[ -z $(ip netns list | awk '{print $1}' | grep "^tw-$NSA-") ]]; }
check "after --cleanup: no pod namespaces tw-$NSA-* left" a_gone
check "after --cleanup: no veths left in $LAB_NODE" \
  eval "[[ \$(ip -n '$LAB_NODE' -o link show type veth | grep -cv uplink) -eq 0 ]]"
lab_down
check "the lab is removed: no namespace $PREFIX-* left" eval "[[ -z \$(my_netns) ]]"

summary
[[ $FAILED -eq 0 ]]
