#!/usr/bin/env bash
# The seed scenario (../shared/seed/module-8-threatfeed.md) end to end, on a lab
# (examples/lab/lab.sh): a node namespace whose uplink leads to a "world" namespace where
# 5.196.58.96 answers TLS with a certificate for another name, snort.org serves the
# real SNORT list and a DNS server answers the pods.  threatwalld runs with --node-netns;
# the pod tf-ubuntu gets its own namespace; every command is printed with its real
# output.  After the seed's steps: the flow logs that confirm the deny, the security
# events with the pod's context, and a domain feed catching a DNS query.
#
#   examples/demo.sh          leave the daemon and the lab running afterwards
#   examples/demo.sh --once   tear everything down at the end; exit 0 only if every step
#                             behaved as the seed says
#   examples/demo.sh --stop   tear down what a previous run left running
#
# Needs root (namespaces).  The host's own network namespace is never touched.
# THREATWALL_DEMO_DIR, THREATWALL_DEMO_PORT (0 = any) and THREATWALL_DEMO_PREFIX
# (namespace names) let tests run it beside a running demo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${THREATWALL_DEMO_BIN:-$ROOT/build/bin}
MANIFESTS=$ROOT/examples/manifests
FEED_FIXTURE=$ROOT/testdata/feeds/firehol_snort_ipfilter.ipset
ONCE=0 STOP=0
for a in "$@"; do case $a in --once) ONCE=1 ;; --stop) STOP=1 ;; *) echo "usage: $0 [--once|--stop]" >&2; exit 2 ;; esac; done
[ "$(id -u)" = 0 ] || { echo "demo: needs root (it creates network namespaces)" >&2; exit 1; }

DATA=${THREATWALL_DEMO_DIR:-/tmp/threatwall-demo}
PORT=${THREATWALL_DEMO_PORT:-7780}
PREFIX=${THREATWALL_DEMO_PREFIX:-tw-demo}
# shellcheck source=lab/lab.sh
source "$ROOT/examples/lab/lab.sh"
LAB_NODE=$PREFIX-node LAB_WORLD=$PREFIX-world LAB_STATE=$DATA/lab

teardown() {
  if [ -f "$DATA/daemon.pid" ]; then
    local pid; pid=$(cat "$DATA/daemon.pid")
    kill "$pid" 2>/dev/null && { for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; }
    rm -f "$DATA/daemon.pid"
  fi
  if ip netns list | grep -qw "$LAB_NODE"; then
    "$BIN/threatwalld" --cleanup --node-netns "$LAB_NODE" --log-level warn || true
  fi
  lab_down
}
if [ $STOP = 1 ]; then teardown; rm -rf "${DATA:?}"; echo "demo stopped and removed"; exit 0; fi
teardown
rm -rf "${DATA:?}"
mkdir -p "$DATA"
export -n https_proxy http_proxy HTTPS_PROXY HTTP_PROXY all_proxy ALL_PROXY 2>/dev/null || true
unset https_proxy http_proxy HTTPS_PROXY HTTP_PROXY all_proxy ALL_PROXY

echo "building the lab: $LAB_NODE (the node) and $LAB_WORLD (the internet)"
lab_up "$PREFIX" "$LAB_STATE" "$FEED_FIXTURE"

# snort.org and malware-filter.gitlab.io resolve to the lab's server (no DNS query
# leaves this machine) and its certificate comes from the lab CA.  Pods resolve names
# with the lab's DNS server.  Flow logs are flushed every 5 s (default 15 s) so the
# demo does not wait long.
"$BIN/threatwalld" --data-dir "$DATA" --listen "127.0.0.1:$PORT" --node-netns "$LAB_NODE" \
  --feed-offline --feed-host "$LAB_FEED_HOST" --feed-host "$LAB_DOMAIN_FEED_HOST" --feed-ca-file "$LAB_CA" \
  --pod-dns "$LAB_DNS" --flow-flush 5s >"$DATA/daemon.log" 2>&1 &
PID=$!
echo "$PID" >"$DATA/daemon.pid"
if [ $ONCE = 1 ]; then trap 'teardown; rm -rf "${DATA:?}"' EXIT; else trap '[ $? = 0 ] || teardown' EXIT; fi

for _ in $(seq 100); do [ -s "$DATA/address" ] && break; sleep 0.1; done
[ -s "$DATA/address" ] || { echo "threatwalld did not start:"; cat "$DATA/daemon.log"; exit 1; }
export THREATWALL_SERVER; THREATWALL_SERVER=$(cat "$DATA/address")
export THREATWALL_TOKEN; THREATWALL_TOKEN=$(cat "$DATA/admin.token")
# The CLI's kubeconfig uses the daemon's https side and CA when it knows the data dir.
export THREATWALL_DATA_DIR=$DATA
export PATH="$BIN:$PATH"
# curl inside the pod trusts the lab CA, as a real pod trusts the public CA that
# signed the real 5.196.58.96's certificate.
export CURL_CA_BUNDLE=$LAB_CA

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

# expect_exit N CMD...: a step whose exit code must be N (curl's verdicts).
expect_exit() {
  local want=$1; shift
  printf '\n\033[1m$ %s\033[0m\n' "$(show "$@")"
  local rc=0; "$@" || rc=$?
  if [ "$rc" = "$want" ]; then echo "(exit $rc, as expected)"; else echo "!! expected exit $want, got $rc"; FAILED=1; fi
}
# wait_for DESCRIPTION CMD...: retry CMD for up to 20 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "!! timed out waiting for $what"; FAILED=1; return 1
}
note() { printf '\n\033[2m# %s\033[0m\n' "$*"; }

echo "threatwalld is up at $THREATWALL_SERVER (data in $DATA, node namespace $LAB_NODE)"
cd "$MANIFESTS"
step threatwall version
step threatwall validate -f 40-snort-ip-block-list.yaml -f 41-tf-gnp.yaml -f 42-tf-ubuntu.yaml

note "Create the threatfeed from the YAML manifest"
step threatwall create -f 40-snort-ip-block-list.yaml
wait_for "the SNORT feed's GlobalNetworkSet" threatwall get gns threatfeed.snort-ip-block-list
step threatwall get globalthreatfeeds -o wide
step threatwall get globalnetworksets

note "Create the test ubuntu pod from the YAML manifest"
step threatwall create -f 42-tf-ubuntu.yaml
wait_for "pod tf-ubuntu to run" sh -c "threatwall get pod tf-ubuntu -o jsonpath='{.status.phase}' | grep -qx Running"
step threatwall get pods -o wide
step ip netns list

note "Test via curl a connection to one of these IPs from the ubuntu pod: reachable, but the certificate is for another name"
expect_exit 60 threatwall exec -it tf-ubuntu -- curl -I https://5.196.58.96

note "Apply the global network policy that denies egress to the block list (in the security tier)"
step threatwall create -f 01-security-tier.yaml
step threatwall create -f 41-tf-gnp.yaml
# The agent programs the kernel asynchronously (milliseconds); explain answers from
# the program the kernel has, so once it says deny, the kernel denies.
wait_for "the policy to be enforced" sh -c \
  "threatwall explain --from tf-ubuntu --to 5.196.58.96 --port 443 -o json | grep -q '\"verdict\": *\"deny\"'"
expect_exit 28 threatwall exec -it tf-ubuntu -- curl -I -m3 https://5.196.58.96
step threatwall explain --from tf-ubuntu --to 5.196.58.96 --port 443

note "A feed update reaches the kernel without a restart: 5.196.58.97 is not listed yet"
expect_exit 60 threatwall exec tf-ubuntu -- curl -sS -I -m3 https://5.196.58.97
echo "5.196.58.97" >>"$LAB_FEED"
step threatwall feeds sync snort-ip-block-list
wait_for "the feed update to be enforced" sh -c \
  "threatwall explain --from tf-ubuntu --to 5.196.58.97 --port 443 -o json | grep -q '\"verdict\": *\"deny\"'"
expect_exit 28 threatwall exec tf-ubuntu -- curl -sS -I -m3 https://5.196.58.97
step ip netns exec "$LAB_NODE" nft list chain inet threatwall forward

note "The flow logs confirm the deny action (records are flushed every 5 s here)"
wait_for "the deny flow log" sh -c \
  "threatwall flows --pod default/tf-ubuntu --action deny -o json | grep -q '\"dest_ip\": *\"5.196.58.96\"'"
step threatwall flows --pod default/tf-ubuntu --since 10m
step sh -c "threatwall flows --pod default/tf-ubuntu --action deny -o json | jq '[.items[] | select(.dest_ip == \"5.196.58.96\")][0] | {source_namespace, source_name, dest_ip, dest_port, proto, action, reporter, policies, packets_out}'"

note "The security events, with the pod involved (allowed connections to listed IPs are caught too)"
wait_for "the deny event" sh -c \
  "threatwall events -o json | grep -q '\"flow_action\": *\"deny\"'"
step threatwall events
step sh -c "threatwall events --type gtf_suspicious_flow -o json | jq '[.items[] | select(.record.flow_action == \"deny\" and .dest_ip == \"5.196.58.96\")][0]'"

note "A domain feed: a pod resolving a listed name (and a subdomain of one) raises gtf_suspicious_dns_query"
step threatwall create -f "$ROOT/examples/detect/urlhaus-domain-feed.yaml"
wait_for "the domain feed" sh -c \
  "threatwall get gtf urlhaus-malicious-hosts -o jsonpath='{.status.lastSuccessfulSync}' | grep -q ."
step threatwall get gtf -o wide
sleep 1
step threatwall exec tf-ubuntu -- getent hosts 0daydreams.net
step threatwall exec tf-ubuntu -- getent hosts www.0daydreams.net
wait_for "the DNS event" sh -c \
  "threatwall events --type gtf_suspicious_dns_query -o json | grep -q 'www.0daydreams.net'"
step threatwall dnslogs --pod default/tf-ubuntu
step threatwall events --type gtf_suspicious_dns_query

note "The rest of the workshop's manifests, and what threatwall refuses"
step threatwall create -f 00-namespaces.yaml -f 31-east-west-traffic.yaml
step threatwall get networkpolicies.projectcalico.org -A
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
  step kubectl --kubeconfig "$DATA/kubeconfig" get pods -o wide
fi

if [ $ONCE = 1 ]; then
  [ $FAILED = 0 ] && echo -e "\ndemo: every step behaved as expected" || echo -e "\ndemo: some steps failed"
  exit $FAILED
fi
cat <<MSG

threatwalld keeps running (pid $PID, log $DATA/daemon.log), with the lab ($LAB_NODE, $LAB_WORLD).
  export THREATWALL_SERVER=$THREATWALL_SERVER THREATWALL_TOKEN=\$(cat $DATA/admin.token)
  export PATH=$BIN:\$PATH CURL_CA_BUNDLE=$LAB_CA
  threatwall get pods -o wide
  threatwall exec -it tf-ubuntu -- curl -I -m3 https://5.196.58.96
  threatwall explain --from tf-ubuntu --to 5.196.58.96 --port 443
  threatwall flows --since 10m; threatwall dnslogs; threatwall events
  threatwall kubeconfig > /tmp/threatwall.kubeconfig && kubectl --kubeconfig /tmp/threatwall.kubeconfig get gtf
Stop it and remove the lab with: ${THREATWALL_DEMO_DIR:+THREATWALL_DEMO_DIR=$DATA }${THREATWALL_DEMO_PREFIX:+THREATWALL_DEMO_PREFIX=$PREFIX }$ROOT/examples/demo.sh --stop
MSG
exit $FAILED
