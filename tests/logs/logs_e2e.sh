#!/usr/bin/env bash
# Issue 5 end to end, as a user drives it, on the lab (examples/lab/lab.sh):
# threatwalld in a node namespace of its own with a 1 s flow flush; a pod in
# namespace logs-e2e; the SNORT feed; a webhook receiver that fails twice.
#   1. an allowed connection to a listed IP (no policy yet) -> an allow flow
#      log and a gtf_suspicious_flow event with flow_action allow;
#   2. the seed's deny policy -> exactly one deny flow record per flush for
#      the blocked connection, naming security.block-snort, and the event
#      with the pod's namespace, name and labels;
#   3. retro-hunt: a connection to 5.196.58.97 is logged while it is not
#      listed (no event), then the feed gains it -> an event for that earlier
#      connection; status.lastSuccessfulSearch is written;
#   4. DNS: the URLhaus domain feed; the pod resolves 0daydreams.net (exact)
#      and www.0daydreams.net (subdomain, annotation on) -> DNS logs and
#      gtf_suspicious_dns_query events; example.com -> a DNS log, no event;
#      with the annotation off, a new subdomain raises nothing;
#   5. the webhook got every new flow event after two 503s (retried);
#   6. `events dismiss`; a restart keeps every flow, DNS log and event;
#   7. a malformed DNS packet is counted (/metrics) and nothing else breaks.
# Root; skipped (77) otherwise.  Leaves no namespace, process or file.
set -euo pipefail
SRC=$1 BIN=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip nft openssl curl jq dnsmasq; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
PREFIX=tw-test-$$
DIR=$(mktemp -d /tmp/tw-test-logs.XXXXXX)
# shellcheck source=../../examples/lab/lab.sh
source "$SRC/examples/lab/lab.sh"
DAEMON= RECEIVER=
cleanup() {
  [ -n "$DAEMON" ] && { kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null || true; }
  [ -n "$RECEIVER" ] && { kill "$RECEIVER" 2>/dev/null; wait "$RECEIVER" 2>/dev/null || true; }
  if ip netns list | grep -qw "$PREFIX-node"; then
    "$BIN/threatwalld" --cleanup --node-netns "$PREFIX-node" --log-level warn >/dev/null 2>&1 || true
  fi
  lab_down
  rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- daemon log (tail)"; tail -40 "$DIR/data/daemon.log" 2>/dev/null || true
  if [ -n "${TW_E2E_DEBUG:-}" ]; then
    echo "--- flows"; threatwall flows --limit 50 -o json | jq -c '.items[]' || true
    echo "--- events"; threatwall events --all -o json | jq -c '.items[]' || true
    echo "--- dnslogs"; threatwall dnslogs -o json | jq -c '.items[]' || true
  fi
  exit 1
}
# wait_for SECONDS DESCRIPTION CMD...
wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out after ${secs}s waiting for $what"
}

lab_up "$PREFIX" "$DIR/lab" "$SRC/testdata/feeds/firehol_snort_ipfilter.ipset"
mkdir -p "$DIR/data"
start_daemon() {
  "$BIN/threatwalld" --data-dir "$DIR/data" --listen 127.0.0.1:0 --node-netns "$PREFIX-node" \
    --feed-offline --feed-host "$LAB_FEED_HOST" --feed-host "$LAB_DOMAIN_FEED_HOST" --feed-ca-file "$LAB_CA" \
    --pod-dns "$LAB_DNS" --flow-flush 1s --log-level info >>"$DIR/data/daemon.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 100); do [ -s "$DIR/data/address" ] && break; sleep 0.1; done
  [ -s "$DIR/data/address" ] || fail "threatwalld did not start"
  export THREATWALL_SERVER; THREATWALL_SERVER=$(cat "$DIR/data/address")
}
stop_daemon() { kill "$DAEMON"; wait "$DAEMON" || true; DAEMON=; rm -f "$DIR/data/address"; }
start_daemon
export THREATWALL_TOKEN; THREATWALL_TOKEN=$(cat "$DIR/data/admin.token")
export PATH="$BIN:$PATH" CURL_CA_BUNDLE=$LAB_CA
NS=logs-e2e

# The webhook receiver: 503 twice, then 200.
"$BIN/tw_http_receiver" --port-file "$DIR/hook.port" --out "$DIR/hook.log" --fail 2 &
RECEIVER=$!
for _ in $(seq 50); do [ -s "$DIR/hook.port" ] && break; sleep 0.1; done
threatwall create -f - >/dev/null <<EOF
apiVersion: projectcalico.org/v3
kind: SecurityEventWebhook
metadata: {name: e2e-hook}
spec:
  consumer: Generic
  state: Enabled
  query: type = gtf_suspicious_flow
  config:
  - {name: url, value: "http://127.0.0.1:$(cat "$DIR/hook.port")/hook"}
EOF

threatwall create -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: Pod
metadata:
  name: tf-ubuntu
  namespace: $NS
  labels: {app: tf-ubuntu, tier: test, threatfeed: snort}
spec:
  containers: [{name: ubuntu, image: ubuntu}]
EOF
threatwall create -f "$SRC/examples/manifests/40-snort-ip-block-list.yaml" >/dev/null
wait_for 30 "pod running" sh -c "threatwall get pod tf-ubuntu -n $NS -o jsonpath='{.status.phase}' | grep -qx Running"
wait_for 30 "the SNORT feed set" threatwall get gns threatfeed.snort-ip-block-list
POD_IP=$(threatwall get pod tf-ubuntu -n $NS -o jsonpath='{.status.podIP}')
pod() { threatwall exec tf-ubuntu -n $NS -- "$@"; }
flows() { threatwall flows --pod "$NS/tf-ubuntu" --limit 1000 -o json "$@"; }
events() { threatwall events --all --limit 1000 -o json "$@"; }

echo "== 1. allowed connection to a listed IP (no policy) is a flow log and an event"
rc=0; pod curl -sS -I -m3 https://5.196.58.96 >/dev/null 2>&1 || rc=$?
[ $rc = 60 ] || fail "curl to 5.196.58.96 before the policy: exit $rc, want 60 (connected, wrong certificate)"
has_allow_flow() { flows --action allow | jq -e '.items[] | select(.dest_ip == "5.196.58.96" and .dest_port == 443)'; }
wait_for 15 "the allow flow record" has_allow_flow
flows --action allow | jq -e --arg ip "$POD_IP" '[.items[] | select(.dest_ip == "5.196.58.96")][0] |
  .source_ip == $ip and .source_namespace == "logs-e2e" and .source_name == "tf-ubuntu" and .source_type == "wep"
  and .dest_type == "ns" and .dest_name == "threatfeed.snort-ip-block-list" and .proto == "tcp"
  and .reporter == "src" and .action == "allow" and .packets_out > 0 and .bytes_in > 0
  and (.policies.all_policies | index("0|__PROFILE__|__PROFILE__.kns.logs-e2e|allow|0") != null)
  and (.source_labels.labels | index("app=tf-ubuntu") != null)' >/dev/null ||
  { flows | jq . | head -60; fail "allow flow record fields"; }
has_allow_event() {
  events --type gtf_suspicious_flow | jq -e '.items[] | select(.dest_ip == "5.196.58.96" and .record.flow_action == "allow")'
}
wait_for 15 "the allow event" has_allow_event
events --type gtf_suspicious_flow | jq -e '[.items[] | select(.record.flow_action == "allow")][0] |
  .severity == 100 and .origin == "Suspicious Flow" and .source_namespace == "logs-e2e" and .source_name == "tf-ubuntu"
  and .record.feeds == ["snort-ip-block-list"] and .record.suspicious_prefix == "5.196.58.96/32"
  and (.mitigations[0] | test("global network policy"))
  and .description == "pod logs-e2e/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat Feed snort-ip-block-list"' \
  >/dev/null || { events | jq . | head -60; fail "allow event fields"; }

echo "== 2. the seed policy: one deny record per flush, the event names the pod"
threatwall create -f "$SRC/examples/manifests/01-security-tier.yaml" -f "$SRC/examples/manifests/41-tf-gnp.yaml" >/dev/null
wait_for 20 "the policy in force" sh -c "threatwall explain -n $NS --from tf-ubuntu --to 5.196.58.96 --port 443 -o json | grep -q '\"verdict\": *\"deny\"'"
rc=0; pod curl -sS -I -m3 https://5.196.58.96 >/dev/null 2>&1 || rc=$?
[ $rc = 28 ] || fail "curl to 5.196.58.96 after the policy: exit $rc, want 28"
has_deny_flow() { flows --action deny | jq -e '.items[] | select(.dest_ip == "5.196.58.96")'; }
wait_for 15 "the deny flow record" has_deny_flow
sleep 2.5  # let the retransmissions' flushes land
flows --action deny | jq -e '[.items[] | select(.dest_ip == "5.196.58.96")] |
  (group_by(.start_time) | all(length == 1)) and
  all(.policies.all_policies == ["0|security|security.block-snort|deny|0"] and
      .policies.enforced_policies == ["0|security|security.block-snort|deny|0"] and
      .reporter == "src" and .source_name == "tf-ubuntu" and .packets_out >= 1 and .packets_in == 0)' >/dev/null ||
  { flows --action deny | jq -c '.items[]'; fail "deny records: not exactly one per flush, or wrong policy"; }
has_deny_event() {
  events --type gtf_suspicious_flow | jq -e '.items[] | select(.record.flow_action == "deny" and .dest_ip == "5.196.58.96")'
}
wait_for 15 "the deny event" has_deny_event
events --type gtf_suspicious_flow | jq -e '[.items[] | select(.record.flow_action == "deny")][0] |
  .source_namespace == "logs-e2e" and .source_name == "tf-ubuntu" and .source_ip != null
  and (.source_labels.labels | index("tier=test") != null) and .mitre_ids == ["T1041"]
  and (.mitigations[0] | test("blocked"))' >/dev/null || { events | jq .; fail "deny event fields"; }
threatwall flows --pod "$NS/tf-ubuntu" --action deny | grep -q "security.block-snort" ||
  fail "the flows table does not show the denying policy"

echo "== 3. retro-hunt: a feed update after the connection raises an event"
rc=0; pod curl -sS -I -m3 https://5.196.58.97 >/dev/null 2>&1 || rc=$?
[ $rc = 60 ] || fail "curl to 5.196.58.97 (not listed yet): exit $rc, want 60"
has_97_flow() { flows --action allow | jq -e '.items[] | select(.dest_ip == "5.196.58.97")'; }
wait_for 15 "the .97 flow record" has_97_flow
sleep 1
events | jq -e '[.items[] | select(.dest_ip == "5.196.58.97")] | length == 0' >/dev/null ||
  fail "an event for 5.196.58.97 before it was listed"
echo "5.196.58.97" >>"$LAB_FEED"
threatwall feeds sync snort-ip-block-list >/dev/null
has_97_event() { events | jq -e '.items[] | select(.dest_ip == "5.196.58.97" and .record.flow_action == "allow")'; }
wait_for 30 "the retro-hunt event for 5.196.58.97" has_97_event
wait_for 15 "status.lastSuccessfulSearch" sh -c \
  "threatwall get gtf snort-ip-block-list -o json | jq -e '.status.lastSuccessfulSearch | length > 0'"

echo "== 4. DNS logs and domain events (exact, subdomain, not listed)"
threatwall create -f "$SRC/examples/detect/urlhaus-domain-feed.yaml" >/dev/null
wait_for 30 "the domain feed" sh -c \
  "threatwall get gtf urlhaus-malicious-hosts -o json | jq -e '.status.lastSuccessfulSync | length > 0'"
sleep 1  # the detector's index follows the stored set
pod getent hosts 0daydreams.net | grep -q 203.0.113.66 || fail "0daydreams.net did not resolve in the pod"
pod getent hosts www.0daydreams.net | grep -q 203.0.113.66 || fail "www.0daydreams.net did not resolve"
pod getent hosts example.com | grep -q 203.0.113.80 || fail "example.com did not resolve"
dns() { threatwall dnslogs --pod "$NS/tf-ubuntu" --limit 1000 -o json "$@"; }
has_dns() { dns | jq -e --arg q "$1" '.items[] | select(.qname == $q and .rcode == "NoError")'; }
wait_for 15 "the DNS log of 0daydreams.net" has_dns 0daydreams.net
wait_for 15 "the DNS log of example.com" has_dns example.com
dns | jq -e --arg ip "$POD_IP" '[.items[] | select(.qname == "0daydreams.net" and .qtype == "A")][0] |
  .client_ip == $ip and .client_name == "tf-ubuntu" and .client_namespace == "logs-e2e" and .qclass == "IN"
  and (.rrsets[0].rdata | index("203.0.113.66") != null) and .servers[0].ip == "198.51.100.53"
  and .latency_count >= 1' >/dev/null || { dns | jq .; fail "DNS log fields"; }
has_dns_event() {
  events --type gtf_suspicious_dns_query | jq -e --arg q "$1" '.items[] | select(.record.suspicious_domains | index($q) != null)'
}
wait_for 15 "the exact-name DNS event" has_dns_event 0daydreams.net
wait_for 15 "the subdomain DNS event" has_dns_event www.0daydreams.net
events --type gtf_suspicious_dns_query | jq -e '[.items[] | select(.record.suspicious_domains == ["0daydreams.net"])][0] |
  .source_namespace == "logs-e2e" and .source_name == "tf-ubuntu" and .record.feeds == ["urlhaus-malicious-hosts"]
  and (.description | test("queried the domain name 0daydreams.net"))' >/dev/null ||
  { events --type gtf_suspicious_dns_query | jq .; fail "DNS event fields"; }
events | jq -e '[.items[] | select(tostring | test("example.com"))] | length == 0' >/dev/null ||
  fail "an event for example.com, which no feed lists"
sed 's/match-subdomains: "true"/match-subdomains: "false"/' "$SRC/examples/detect/urlhaus-domain-feed.yaml" |
  threatwall apply -f - >/dev/null
sleep 1.5
pod getent hosts mail.0daydreams.net >/dev/null || true
wait_for 15 "the DNS log of mail.0daydreams.net" has_dns mail.0daydreams.net
sleep 1.5
events | jq -e '[.items[] | select(tostring | test("mail.0daydreams.net"))] | length == 0' >/dev/null ||
  fail "a subdomain event although match-subdomains is false"

echo "== 5. the webhook: every new flow event delivered, after two 503s"
want=$(events --type gtf_suspicious_flow | jq -r '.items[].id' | sort)
got_all() {
  local got; got=$(awk '$1 == 200 {print}' "$DIR/hook.log" | cut -d' ' -f4- | jq -r '.id' | sort -u)
  [ "$got" = "$want" ]
}
wait_for 30 "webhook deliveries" got_all
[ "$(awk '$1 == 503' "$DIR/hook.log" | wc -l)" = 2 ] || fail "the receiver did not see the two failed attempts"
awk '$1 == 200' "$DIR/hook.log" | head -1 | cut -d' ' -f4- | jq -e '.type == "gtf_suspicious_flow"' >/dev/null ||
  fail "webhook body is not the event"
awk '{print $3}' "$DIR/hook.log" | sort -u | grep -qx /hook || fail "webhook path"

echo "== 6. dismiss; a restart keeps every log and event"
first=$(events --type gtf_suspicious_flow | jq -r '.items[0].id')
threatwall events dismiss "$first" | grep -q dismissed || fail "events dismiss"
threatwall events -o json | jq -e --arg id "$first" '[.items[] | select(.id == $id)] | length == 0' >/dev/null ||
  fail "a dismissed event is still listed without --all"
snapshot() {
  { threatwall flows --limit 100000 -o json | jq -c '.items[] | .id'
    threatwall dnslogs --limit 100000 -o json | jq -c '.items[] | .id'
    threatwall events --all --limit 100000 -o json | jq -c '.items[] | [.id, .dismissed]'; } | sort
}
snapshot >"$DIR/before"
stop_daemon
start_daemon
snapshot >"$DIR/after"
missing=$(comm -23 "$DIR/before" "$DIR/after" | wc -l)
[ "$missing" = 0 ] || { comm -23 "$DIR/before" "$DIR/after" | head; fail "$missing records lost over a restart"; }
[ "$(wc -l <"$DIR/before")" -gt 5 ] || fail "too few records to prove anything"

echo "== 7. malformed DNS packets are counted and dropped"
metric() { curl -sS -H "Authorization: Bearer $THREATWALL_TOKEN" "$THREATWALL_SERVER/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
metric_above() { [ "$(metric "$1")" -gt "$2" ]; }  # metric_above NAME N: NAME is reported and > N
wait_for 10 "metrics" metric_above threatwall_dns_malformed_total -1
before=$(metric threatwall_dns_malformed_total)
pod bash -c 'printf "\x12\x34garbage-not-dns" >/dev/udp/198.51.100.53/53' || true
wait_for 10 "the malformed counter" metric_above threatwall_dns_malformed_total "$before"
pod getent hosts 0daydreams.net >/dev/null || fail "DNS broken after a malformed packet"
kill -0 "$DAEMON" || fail "the daemon died"
echo "PASS: flow logs, DNS logs, events, retro-hunt, webhook, restart"
