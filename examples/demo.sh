#!/usr/bin/env bash
# The seed scenario (../shared/seed/module-8-threatfeed.md), as far as threatwall
# implements it today: start the daemon, apply the seed's manifests with the
# threatwall CLI, and show them.  Every command is printed with its real output.
#
#   examples/demo.sh          leave the daemon running afterwards
#   examples/demo.sh --once   stop it at the end; exit 0 only if every step behaved
#
# Only loopback is used; the host's network configuration is not touched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/bin
MANIFESTS=$ROOT/examples/manifests
ONCE=0
for a in "$@"; do case $a in --once) ONCE=1 ;; *) echo "usage: $0 [--once]" >&2; exit 2 ;; esac; done

DATA=${THREATWALL_DEMO_DIR:-/tmp/threatwall-demo}
PORT=${THREATWALL_DEMO_PORT:-7780}
mkdir -p "$DATA"
if [ -f "$DATA/daemon.pid" ] && kill -0 "$(cat "$DATA/daemon.pid")" 2>/dev/null; then
  echo "stopping the previous demo daemon (pid $(cat "$DATA/daemon.pid"))"
  kill "$(cat "$DATA/daemon.pid")"; sleep 1
fi
rm -rf "${DATA:?}"/*
rm -f "$DATA/address"

"$BIN/threatwalld" --data-dir "$DATA" --listen "127.0.0.1:$PORT" --feed-offline >"$DATA/daemon.log" 2>&1 &
PID=$!
echo "$PID" >"$DATA/daemon.pid"
stop() { kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -f "$DATA/daemon.pid"; }
if [ $ONCE = 1 ]; then trap 'stop; rm -rf "$DATA"' EXIT; else trap '[ $? = 0 ] || stop' EXIT; fi

for _ in $(seq 100); do [ -s "$DATA/address" ] && break; sleep 0.1; done
[ -s "$DATA/address" ] || { echo "threatwalld did not start:"; cat "$DATA/daemon.log"; exit 1; }
export THREATWALL_SERVER; THREATWALL_SERVER=$(cat "$DATA/address")
export THREATWALL_TOKEN; THREATWALL_TOKEN=$(cat "$DATA/admin.token")
# The CLI's kubeconfig uses the daemon's https side and CA when it knows the data dir.
export THREATWALL_DATA_DIR=$DATA
export PATH="$BIN:$PATH"

FAILED=0
# The command line as a user would type it (quotes only where needed).
show() {
  local out= a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then out+=" $a"
    elif [[ $a != *[\"\$\`\\]* ]]; then out+=" \"$a\""
    else out+=" $(printf %q "$a")"; fi
  done
  printf '%s' "${out# }"
}
# step CMD...: print the command and its output; remember failures.
step() {
  printf '\n\033[1m$ %s\033[0m\n' "$(show "$@")"
  if ! "$@"; then echo "!! step failed: $*"; FAILED=1; fi
}
# expect_fail CMD...: a step that must be refused.
expect_fail() {
  printf '\n\033[1m$ %s\033[0m   (must be refused)\n' "$(show "$@")"
  if "$@"; then echo "!! step should have failed: $*"; FAILED=1; fi
}

echo "threatwalld is up at $THREATWALL_SERVER (data in $DATA)"
cd "$MANIFESTS"
step threatwall version
step threatwall validate -f 40-snort-ip-block-list.yaml -f 41-tf-gnp.yaml -f 42-tf-ubuntu.yaml
step threatwall create -f 40-snort-ip-block-list.yaml
step threatwall get globalthreatfeeds
step threatwall create -f 42-tf-ubuntu.yaml
step threatwall get pods
step threatwall create -f 01-security-tier.yaml
step threatwall create -f 41-tf-gnp.yaml
step threatwall get gnp -o wide
step threatwall create -f 00-namespaces.yaml -f 31-east-west-traffic.yaml
step threatwall get networkpolicies.projectcalico.org -A
step threatwall get netpol -n dev
step threatwall get gtf snort-ip-block-list -o yaml
step threatwall apply -f 41-tf-gnp.yaml
expect_fail threatwall create -f 41-tf-gnp.yaml
step threatwall selector test "threatfeed == 'snort'" threatfeed=snort
# A typo in a policy is refused with the file, document, field and reason.
sed "s/threatfeed == 'snort'$/threatfeed = 'snort'/" 41-tf-gnp.yaml >"$DATA/41-tf-gnp-typo.yaml"
expect_fail threatwall validate -f "$DATA/41-tf-gnp-typo.yaml"
expect_fail threatwall apply -f "$DATA/41-tf-gnp-typo.yaml"
# Stock kubectl, pointed at threatwalld by the kubeconfig the CLI prints.
if command -v kubectl >/dev/null; then
  threatwall kubeconfig >"$DATA/kubeconfig"
  step kubectl --kubeconfig "$DATA/kubeconfig" get globalthreatfeeds
  step kubectl --kubeconfig "$DATA/kubeconfig" get gnp security.block-snort -o yaml
fi

if [ $ONCE = 1 ]; then
  [ $FAILED = 0 ] && echo -e "\ndemo: every step behaved as expected" || echo -e "\ndemo: some steps failed"
  exit $FAILED
fi
cat <<MSG

threatwalld keeps running (pid $PID, log $DATA/daemon.log).
  export THREATWALL_SERVER=$THREATWALL_SERVER THREATWALL_TOKEN=\$(cat $DATA/admin.token)
  threatwall get gtf
  threatwall kubeconfig > /tmp/threatwall.kubeconfig && kubectl --kubeconfig /tmp/threatwall.kubeconfig get gtf
Stop it with: kill $PID
MSG
exit $FAILED
