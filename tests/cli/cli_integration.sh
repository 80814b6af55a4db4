#!/usr/bin/env bash
# End-to-end test of the threatwall CLI: starts threatwalld on 127.0.0.1:0
# with a temporary data dir and runs every command against it, comparing exit
# codes and output exactly where the output is ours to define.
#
#   cli_integration.sh THREATWALL THREATWALLD MANIFEST_DIR
#
# MANIFEST_DIR holds the seed's manifests (examples/manifests: byte copies of
# ../shared/seed/manifests plus 00-namespaces.yaml and 01-security-tier.yaml).
set -u
TW_BIN=$1
TWD_BIN=$2
SEED=$3

WORK=$(mktemp -d /tmp/tw-cli-it-XXXXXX)
DATA=$WORK/data
DAEMON_PID=
WATCH_PID=
cleanup() {
  [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); printf 'FAIL: %s\n' "$1"; shift; for l in "$@"; do printf '  %s\n' "$l"; done; }

# run CMD...: runs the CLI, leaving $CODE, $OUT, $ERR.
run() {
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  CODE=$?
  OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
}
# run_stdin TEXT CMD...: the same with TEXT on stdin.
run_stdin() {
  local text=$1; shift
  printf '%s' "$text" | "$@" >"$WORK/out" 2>"$WORK/err"
  CODE=$?
  OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
}
# expect NAME CODE OUT ERR: exact comparison of the last run.
expect() {
  local name=$1 code=$2 out=$3 err=$4
  if [ "$CODE" = "$code" ] && [ "$OUT" = "$out" ] && [ "$ERR" = "$err" ]; then ok; else
    bad "$name" "exit $CODE (want $code)" "stdout: $OUT" "want:   $out" "stderr: $ERR" "want:   $err"; fi
}
# expect_has NAME CODE STREAM SUBSTRING: exit code + substring of out|err.
expect_has() {
  local name=$1 code=$2 stream=$3 needle=$4 text
  if [ "$stream" = out ]; then text=$OUT; else text=$ERR; fi
  if [ "$CODE" = "$code" ] && [[ "$text" == *"$needle"* ]]; then ok; else
    bad "$name" "exit $CODE (want $code)" "$stream: $text" "want substring: $needle" "stderr: $ERR"; fi
}

tw() { "$TW_BIN" "$@"; }

# --- start the daemon ---------------------------------------------------------
"$TWD_BIN" --data-dir "$DATA" --listen 127.0.0.1:0 --feed-offline --no-agent >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 200); do [ -s "$DATA/address" ] && break; kill -0 $DAEMON_PID 2>/dev/null || break; sleep 0.05; done
if [ ! -s "$DATA/address" ]; then echo "threatwalld did not start:"; cat "$WORK/daemon.log"; exit 1; fi
SERVER=$(tr -d '[:space:]' <"$DATA/address")
ADMIN=$(tr -d '[:space:]' <"$DATA/admin.token")
READONLY=$(tr -d '[:space:]' <"$DATA/readonly.token")
# The CLI finds the server and token through the data dir (config.h step 4).
export THREATWALL_DATA_DIR=$DATA HOME=$WORK
unset THREATWALL_SERVER THREATWALL_TOKEN THREATWALL_CONFIG

# --- version, kubeconfig, offline commands -------------------------------------
run tw version
expect_has "version shows the server" 0 out "Server Version: v0.1.0-threatwall"
expect_has "version shows the client" 0 out "Client Version: v"
run tw version --client
expect_has "version --client" 0 out "Client Version: v"
run tw kubeconfig
printf '%s\n' "$OUT" >"$WORK/kubeconfig"
expect_has "kubeconfig token" 0 out "token: $ADMIN"
if [ -f "$DATA/tls.crt" ]; then
  # kubectl sends tokens only over TLS: the local daemon's kubeconfig uses
  # https on the same port with the daemon's certificate.
  expect_has "kubeconfig https server" 0 out "server: https://${SERVER#http://}"
  expect_has "kubeconfig CA" 0 out "certificate-authority-data: $(base64 -w0 <"$DATA/tls.crt")"
else
  expect_has "kubeconfig server" 0 out "server: $SERVER"
  expect_has "kubeconfig warns that kubectl needs https" 0 err "kubectl sends the token only over https"
fi

run tw validate -f "$SEED/40-snort-ip-block-list.yaml" -f "$SEED/41-tf-gnp.yaml" -f "$SEED/42-tf-ubuntu.yaml"
expect "validate seed" 0 $'GlobalThreatFeed/snort-ip-block-list valid\nGlobalNetworkPolicy/security.block-snort valid\nPod/tf-ubuntu valid' ""
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\nspec:\n  nets: ["1.2.3.4/32"]\n  bogus: 1\n' >"$WORK/bad-field.yaml"
run tw validate -f "$WORK/bad-field.yaml"
expect "validate unknown field" 1 "" "$WORK/bad-field.yaml: document 1: spec.bogus: unknown field"
run tw selector test "threatfeed == 'snort'" threatfeed=snort
expect "selector true" 0 "true" ""
run tw selector test "threatfeed == 'snort'" threatfeed=x
expect "selector false" 0 "false" ""
run tw selector test "threatfeed = 'snort'"
expect_has "selector invalid" 2 err "threatwall: invalid selector: "
expect_has "selector invalid caret" 2 err $'  threatfeed = \'snort\'\n             ^'

# --- create --------------------------------------------------------------------
run_stdin $'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n' tw create -f -
expect "create namespace from stdin" 0 "namespace/dev created" ""
run tw create -f "$SEED/01-security-tier.yaml"
expect "create tier" 0 "tier.projectcalico.org/security created" ""
run tw create -f "$SEED/40-snort-ip-block-list.yaml" -f "$SEED/41-tf-gnp.yaml" -f "$SEED/42-tf-ubuntu.yaml"
expect "create seed" 0 $'globalthreatfeed.projectcalico.org/snort-ip-block-list created\nglobalnetworkpolicy.projectcalico.org/security.block-snort created\npod/tf-ubuntu created' ""
run tw create -f "$SEED/31-east-west-traffic.yaml"
expect_has "create east-west (knp)" 0 out $'networkpolicy.networking.k8s.io/nginx created\nnetworkpolicy.networking.k8s.io/netshoot created\nnetworkpolicy.projectcalico.org/default.adservice created'
[ "$(printf '%s\n' "$OUT" | grep -c ' created$')" = 14 ] && ok || bad "east-west: 14 objects created" "$OUT"

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: dev\ndata:\n  a: b\n' >"$WORK/cm.yaml"
run tw create -f "$WORK/cm.yaml" -n default
expect_has "namespace mismatch with -n" 1 err "$WORK/cm.yaml: document 1: the namespace from the provided object 'dev' does not match the namespace 'default'"
run tw create -f "$WORK/cm.yaml" -n dev
expect "namespace matching -n" 0 "configmap/cm created" ""
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\ndata:\n  a: b\n' | "$TW_BIN" create -f - -n nowhere >"$WORK/out" 2>"$WORK/err"; CODE=$?
OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
expect "namespace does not exist" 1 "" "-: document 1: namespaces \"nowhere\" not found"
run tw create -f "$SEED/40-snort-ip-block-list.yaml"
expect "create existing" 1 "" "$SEED/40-snort-ip-block-list.yaml: document 1: globalthreatfeeds.projectcalico.org \"snort-ip-block-list\" already exists"

printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n' >"$WORK/deploy.yaml"
run tw create -f "$WORK/deploy.yaml"
expect "kind not served" 1 "" "$WORK/deploy.yaml: document 1: kind not served: apps/v1 Deployment"

# A bad document in the middle: the others are still created.
cat >"$WORK/mixed.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: gns-a
  labels:
    team: a
spec:
  nets: ["10.0.0.0/8"]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: gns-bad
spec:
  nets: ["10.0.0.0/8"]
  bogus: true
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: gns-c
spec:
  nets: ["192.168.0.0/16"]
YAML
run tw create -f "$WORK/mixed.yaml"
expect_has "bad document: others created" 1 out $'globalnetworkset.projectcalico.org/gns-a created\nglobalnetworkset.projectcalico.org/gns-c created'
[ "$ERR" = "$WORK/mixed.yaml: document 2: GlobalNetworkSet.projectcalico.org \"gns-bad\" is invalid: spec.bogus: unknown field" ] &&
  ok || bad "bad document: exactly one line naming file, document, field and reason" "$ERR"
run tw get gns gns-bad
expect "bad document not stored" 1 "" "Error from server (NotFound): globalnetworksets.projectcalico.org \"gns-bad\" not found"

printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [oops\n' >"$WORK/syntax.yaml"
run tw create -f "$WORK/syntax.yaml"
expect_has "syntax error names the file" 1 err "$WORK/syntax.yaml: "
run tw create -f "$WORK/nope.yaml"
expect_has "missing file" 1 err "$WORK/nope.yaml"

# --- get -----------------------------------------------------------------------
run tw get gtf
expect_has "get gtf table header" 0 out "NAME"
expect_has "get gtf table row" 0 out "snort-ip-block-list"
run tw get globalthreatfeeds snort-ip-block-list -o name
expect "get -o name" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
run tw get gtf/snort-ip-block-list -o name
expect "get KIND/NAME" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
run tw get gtf snort-ip-block-list -o yaml
expect_has "get -o yaml" 0 out "kind: GlobalThreatFeed"
expect_has "get -o yaml name" 0 out "name: snort-ip-block-list"
expect_has "get -o yaml resourceVersion" 0 out "resourceVersion:"
run tw get gtf -o json
expect_has "get list -o json is a v1 List" 0 out '"kind": "List"'
run tw get gtf,tier -o name
expect "get two kinds" 0 $'globalthreatfeed.projectcalico.org/snort-ip-block-list\ntier.projectcalico.org/default\ntier.projectcalico.org/security' ""
run tw get netpol -n dev -o name
expect "get knp in dev" 0 $'networkpolicy.networking.k8s.io/netshoot\nnetworkpolicy.networking.k8s.io/nginx' ""
run tw get networkpolicies.projectcalico.org -A
expect_has "get -A has NAMESPACE column" 0 out "NAMESPACE"
expect_has "get -A row" 0 out "default.adservice"
run tw get gnp -o wide
expect_has "get -o wide" 0 out "security.block-snort"
run tw get pods -l threatfeed=snort -o name
expect "label selector match" 0 "pod/tf-ubuntu" ""
run tw get pods -l 'threatfeed!=snort'
expect "label selector no match" 0 "" "No resources found in default namespace."
run tw get pods -n dev
expect "empty namespaced list" 0 "" "No resources found in dev namespace."
run tw get ippools
expect "empty cluster list" 0 "" "No resources found"
run tw get gtf nope
expect "get not found" 1 "" "Error from server (NotFound): globalthreatfeeds.projectcalico.org \"nope\" not found"
run tw get deployments
expect "get unknown kind" 1 "" "threatwall: the server doesn't have a resource type \"deployments\""

# --- kubectl with the printed kubeconfig ----------------------------------------
if command -v kubectl >/dev/null; then
  run kubectl --kubeconfig "$WORK/kubeconfig" get globalthreatfeeds -o name --request-timeout=10s
  expect "kubectl with threatwall kubeconfig" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
else
  echo "SKIP: kubectl not installed"
fi

# --- describe ------------------------------------------------------------------
run tw describe gtf snort-ip-block-list
expect_has "describe name" 0 out "Name:         snort-ip-block-list"
expect_has "describe kind" 0 out "Kind:         GlobalThreatFeed"
expect_has "describe spec" 0 out "Spec:"
[ "$(printf '%s\n' "$OUT" | tail -1 | tr -s ' ')" = "Events: <none>" ] && ok || bad "describe ends with Events: <none>" "$OUT"
run tw describe pod tf-ubuntu
expect_has "describe namespaced" 0 out "Namespace:    default"

# --- apply ---------------------------------------------------------------------
run tw apply -f "$SEED/40-snort-ip-block-list.yaml"
expect_has "apply over create: configured" 0 out "globalthreatfeed.projectcalico.org/snort-ip-block-list configured"
expect_has "apply over create: warning" 0 err "last-applied-configuration"
run tw apply -f "$SEED/40-snort-ip-block-list.yaml"
expect "apply again: unchanged" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list unchanged" ""
sed 's/threatfeed: snort/threatfeed: snort2/' "$SEED/40-snort-ip-block-list.yaml" >"$WORK/40-edited.yaml"
run tw apply -f "$WORK/40-edited.yaml"
expect "apply edit: configured" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list configured" ""
run tw get gtf snort-ip-block-list -o yaml
expect_has "apply edit visible" 0 out "threatfeed: snort2"
cat >"$WORK/gns-apply.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: applied
  labels:
    a: "1"
    b: "2"
spec:
  nets: ["10.1.0.0/16"]
YAML
run tw apply -f "$WORK/gns-apply.yaml"
expect "apply new: created" 0 "globalnetworkset.projectcalico.org/applied created" ""
run tw apply -f "$WORK/gns-apply.yaml"
expect "apply new again: unchanged" 0 "globalnetworkset.projectcalico.org/applied unchanged" ""
sed '/b: "2"/d' "$WORK/gns-apply.yaml" >"$WORK/gns-apply2.yaml"
run tw apply -f "$WORK/gns-apply2.yaml"
expect "apply removed label: configured" 0 "globalnetworkset.projectcalico.org/applied configured" ""
run tw get gns -l b -o name
expect "apply removed the label" 0 "" "No resources found"
run_stdin "$(cat "$WORK/gns-apply2.yaml")" tw apply -f -
expect "apply from stdin: unchanged" 0 "globalnetworkset.projectcalico.org/applied unchanged" ""

# --- replace -------------------------------------------------------------------
run tw get gns gns-a -o yaml
printf '%s\n' "$OUT" >"$WORK/gns-a.yaml"
sed 's/team: a/team: b/' "$WORK/gns-a.yaml" >"$WORK/gns-a-new.yaml"
run tw replace -f "$WORK/gns-a-new.yaml"
expect "replace" 0 "globalnetworkset.projectcalico.org/gns-a replaced" ""
run tw replace -f "$WORK/gns-a-new.yaml"
expect_has "replace with a stale resourceVersion: conflict" 1 err "the object has been modified"
expect_has "replace conflict names file and document" 1 err "$WORK/gns-a-new.yaml: document 1: "
run tw get gns -l team=b -o name
expect "replace visible" 0 "globalnetworkset.projectcalico.org/gns-a" ""

# --- auth ----------------------------------------------------------------------
run tw get gtf -o name --token "$READONLY"
expect "read-only token can read" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
run tw delete -f "$SEED/40-snort-ip-block-list.yaml" --token "$READONLY"
expect_has "read-only token cannot write" 1 err "$SEED/40-snort-ip-block-list.yaml: document 1: "
run tw get gtf -o name
expect "nothing deleted by the read-only token" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
run tw get gtf --token wrong
expect_has "bad token" 1 err "Error from server (Unauthorized)"
run env THREATWALL_DATA_DIR=$WORK/none "$TW_BIN" get gtf --server "$SERVER"
expect_has "no token" 1 err "Error from server (Unauthorized)"
run env THREATWALL_SERVER="$SERVER" THREATWALL_TOKEN="$ADMIN" THREATWALL_DATA_DIR=$WORK/none "$TW_BIN" get gtf -o name
expect "env server and token" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""
printf 'server: %s\ntoken-file: %s\n' "$SERVER" "$DATA/admin.token" >"$WORK/config.yaml"
run env THREATWALL_DATA_DIR=$WORK/none "$TW_BIN" --config "$WORK/config.yaml" get gtf -o name
expect "config file" 0 "globalthreatfeed.projectcalico.org/snort-ip-block-list" ""

# --- watch ---------------------------------------------------------------------
"$TW_BIN" get gns -w -o name >"$WORK/watch.out" 2>"$WORK/watch.err" &
WATCH_PID=$!
for _ in $(seq 100); do grep -q 'gns-c' "$WORK/watch.out" 2>/dev/null && break; sleep 0.05; done
run_stdin $'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: watched\nspec:\n  nets: ["1.1.1.1/32"]\n' tw create -f -
for _ in $(seq 100); do grep -q 'watched' "$WORK/watch.out" 2>/dev/null && break; sleep 0.05; done
if grep -q 'globalnetworkset.projectcalico.org/gns-a' "$WORK/watch.out" && grep -q 'globalnetworkset.projectcalico.org/watched' "$WORK/watch.out"; then ok; else
  bad "watch sees existing and new objects" "$(cat "$WORK/watch.out" "$WORK/watch.err")"; fi
kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null; WATCH_PID=

# --- delete --------------------------------------------------------------------
run tw delete -f "$SEED/40-snort-ip-block-list.yaml"
expect "delete -f" 0 "globalthreatfeed.projectcalico.org \"snort-ip-block-list\" deleted" ""
run tw delete -f "$SEED/40-snort-ip-block-list.yaml"
expect "delete missing" 1 "" "$SEED/40-snort-ip-block-list.yaml: document 1: globalthreatfeeds.projectcalico.org \"snort-ip-block-list\" not found"
run tw delete -f "$SEED/40-snort-ip-block-list.yaml" --ignore-not-found
expect "delete --ignore-not-found" 0 "" ""
run tw delete gns watched applied
expect "delete KIND NAME..." 0 $'globalnetworkset.projectcalico.org "watched" deleted\nglobalnetworkset.projectcalico.org "applied" deleted' ""
run tw delete gns/gns-a
expect "delete KIND/NAME" 0 'globalnetworkset.projectcalico.org "gns-a" deleted' ""

# --- connection errors ---------------------------------------------------------
run tw get gtf --server http://127.0.0.1:1
expect "connection refused" 1 "" "threatwall: cannot connect to http://127.0.0.1:1: Connection refused"
run tw get gtf --server https://127.0.0.1:1
expect_has "https not supported" 1 err "https:// is not supported yet"
run tw frobnicate
expect_has "unknown command" 2 err "unknown command"
run tw get gtf --frob
expect_has "unknown flag" 2 err "unknown flag: --frob"

# --- clean stop ----------------------------------------------------------------
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; CODE=$?; DAEMON_PID=
[ "$CODE" = 0 ] && ok || bad "threatwalld exits 0 on SIGTERM" "exit $CODE"

echo "cli_integration: $PASS passed, $FAIL failed"
if [ "$FAIL" != 0 ]; then echo "--- daemon log (tail)"; tail -30 "$WORK/daemon.log"; exit 1; fi
exit 0
