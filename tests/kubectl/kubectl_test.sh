#!/usr/bin/env bash
# Stock kubectl against a real threatwalld (issue 2, item 8).
#
#   kubectl_test.sh THREATWALLD_BINARY THREATWALL_BINARY TEST_DIR [SEED_DIR]
#
# Starts the daemon on 127.0.0.1 (port 0) with a temporary data dir, takes the
# kubeconfig that `threatwall kubeconfig` prints, and for every manifest in
# TEST_DIR/manifests runs, with the real kubectl and WITHOUT --validate=false:
#   create -f, get (table, by resource name, -o yaml, -o json), replace -f,
#   delete -f, apply -f (new: created / again: unchanged / edited: configured /
#   again: unchanged), delete -f, get (NotFound).
# Then the seed manifests (SEED_DIR, default: the copies in examples/manifests),
# `kubectl get globalthreatfeeds|gtf`, label/field selectors, `kubectl patch`
# with each patch type, and invalid manifests (non-zero exit, the field path
# in the message).
#
# Every step runs; failures are listed at the end with the HTTP requests and
# responses kubectl logged (-v=8).  Exit 0 = all passed, 1 = some failed,
# 77 = skipped (kubectl not installed).  Only loopback is used.
# KUBECTL_TEST_TRACE=FILE appends every step's requests and output to FILE.
set -euo pipefail

USAGE="usage: $0 THREATWALLD THREATWALL TEST_DIR [SEED_DIR]"
DAEMON=${1:?$USAGE}
CLI=${2:?$USAGE}
HERE=${3:?$USAGE}
SEED=${4:-}

if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl is not installed (Debian package 'kubectl'); nothing to test"
  exit 77
fi
if [ ! -x "$DAEMON" ]; then
  echo "FAIL: daemon binary '$DAEMON' does not exist or is not executable"
  exit 1
fi
[ -n "$SEED" ] || SEED=$(cd "$HERE/../.." && pwd)/examples/manifests

TMP=$(mktemp -d /tmp/tw-kubectl-test.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- start the daemon ----------------------------------------------------------
DATA=$TMP/data
"$DAEMON" --data-dir "$DATA" --listen 127.0.0.1:0 --log-level info --feed-offline --no-agent >"$TMP/daemon.log" 2>&1 &
PID=$!
for _ in $(seq 200); do
  [ -s "$DATA/address" ] && [ -s "$DATA/admin.token" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "FAIL: threatwalld exited during start-up:"; cat "$TMP/daemon.log"; exit 1
  fi
  sleep 0.05
done
if [ ! -s "$DATA/address" ]; then
  echo "FAIL: threatwalld wrote no $DATA/address within 10 s:"; cat "$TMP/daemon.log"; exit 1
fi
SERVER=$(tr -d '[:space:]' <"$DATA/address")
TOKEN=$(tr -d '[:space:]' <"$DATA/admin.token")
echo "threatwalld pid $PID at $SERVER"

# The kubeconfig a user gets: `threatwall kubeconfig` (https on the daemon's
# port with its self-signed CA; client-go sends bearer tokens only over https).
export KUBECONFIG=$TMP/kubeconfig
export HOME=$TMP/home  # kubectl's discovery/http cache stays in the temp dir
mkdir -p "$HOME"
THREATWALL_DATA_DIR=$DATA "$CLI" kubeconfig >"$KUBECONFIG"
grep -q 'server: https://' "$KUBECONFIG" || { echo "FAIL: threatwall kubeconfig printed no https server:"; cat "$KUBECONFIG"; exit 1; }

# ---- step runner ---------------------------------------------------------------
PASSED=0
FAILED=()
# run NAME WANT PATTERN kubectl-args...
#   WANT: "ok" (exit 0) or "fail" (non-zero exit)
#   PATTERN: extended regex that stdout or kubectl's own stderr must match ("" = any)
run() {
  local name=$1 want=$2 pattern=$3
  shift 3
  local rc=0
  kubectl --request-timeout=30s -v=8 "$@" >"$TMP/out" 2>"$TMP/err.all" || rc=$?
  # kubectl's own messages (mawk: no {n} intervals): drop klog lines and their multi-line values
  # (bodies: tab-indented up to " >"; helpers.go's "server response object"
  # dump up to "}]").
  awk '/^[IWEF][0-9][0-9][0-9][0-9] / { if ($0 ~ /server response object: %s\[\{$/) dump = 1; next }
       dump { if ($0 == "}]") dump = 0; next }
       /^\t/ || $0 == " >" { next }
       { print }' "$TMP/err.all" >"$TMP/err"
  if [ -n "${KUBECTL_TEST_TRACE:-}" ]; then  # every request kubectl made, for debugging
    { echo "=== $name: kubectl $*"
      grep -E '\] (GET|POST|PUT|PATCH|DELETE) |Content-Type: application/[a-z-]*patch|"Request Body"|Request Body:' "$TMP/err.all" |
        grep -v '/openapi/\|/apis\?/\?[a-z.0-9]*/\?[a-z0-9]*?timeout' | cut -c1-400
      cat "$TMP/out" "$TMP/err"; } >>"$KUBECTL_TEST_TRACE"
  fi
  local ok=1
  if [ "$want" = ok ] && [ $rc -ne 0 ]; then ok=0; fi
  if [ "$want" = fail ] && [ $rc -eq 0 ]; then ok=0; fi
  if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$TMP/out" "$TMP/err"; then ok=0; fi
  if [ $ok = 1 ]; then
    PASSED=$((PASSED + 1))
    echo "PASS  $name"
    return 0
  fi
  FAILED+=("$name")
  echo "FAIL  $name"
  echo "      command: kubectl $*"
  echo "      exit code $rc (wanted: $want); output must match: ${pattern:-<anything>}"
  sed -e 's/^/      stdout| /' "$TMP/out" | head -20
  sed -e 's/^/      stderr| /' "$TMP/err" | head -20
  # The HTTP exchanges kubectl logged, newest last, long bodies cut.
  grep -E 'round_trippers.go.*\] (GET|POST|PUT|PATCH|DELETE) |Response Status:|Request Body:|Response Body:' \
    "$TMP/err.all" | grep -Ev 'Response Body: \{"kind":"(APIResourceList|APIGroupList|APIVersions)"|/openapi/v[23]' |
    tail -12 | cut -c1-700 | sed -e 's/^/      http| /'
  return 0
}

# Copy of MANIFEST with an annotation added: the "edited" version of kinds
# that have no hand-written *.edit.yaml.
annotate() {
  sed -e 's/^metadata:$/metadata:\n  annotations:\n    ktedited: "yes"/' "$1" >"$2"
}

# ---- every kind ----------------------------------------------------------------
# file | resource as a user types it | name | namespace | jsonpath check after the edit (path=value)
KINDS=(
  "01-namespace|namespaces|kt-ns||{.metadata.annotations.ktedited}=yes"
  "02-pod|pods|kt-pod|kt|{.spec.containers[*].name}=main"
  "03-secret|secrets|kt-secret|kt|{.metadata.annotations.ktedited}=yes"
  "04-configmap|cm|kt-cm|kt|{.metadata.annotations.ktedited}=yes"
  "05-k8s-networkpolicy|networkpolicies.networking.k8s.io|kt-knp|kt|{.spec.policyTypes[*]}=Egress"
  "06-tier|tiers|kt-tier||{.metadata.annotations.ktedited}=yes"
  "07-globalthreatfeed|gtf|kt-feed||{.metadata.annotations.ktedited}=yes"
  "08-globalnetworkset|globalnetworksets|kt-gns||{.spec.nets[*]}=203.0.113.0/24"
  "09-networkset|networksets.projectcalico.org|kt-netset|kt|{.metadata.annotations.ktedited}=yes"
  "10-globalnetworkpolicy|gnp|kt-gnp||{.metadata.annotations.ktedited}=yes"
  "11-calico-networkpolicy|networkpolicies.projectcalico.org|kt-cnp|kt|{.spec.order}=110"
  "12-stagedglobalnetworkpolicy|stagedglobalnetworkpolicies|kt-sgnp||{.metadata.annotations.ktedited}=yes"
  "13-ippool|ippools|kt-pool||{.metadata.annotations.ktedited}=yes"
  "14-securityeventwebhook|securityeventwebhooks|kt-webhook||{.metadata.annotations.ktedited}=yes"
)

# Namespaces are created from manifests: kubectl's generators (`create
# namespace NAME`) send protobuf bodies, which threatwalld does not decode.
ns_manifest() { printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n' "$1" >"$TMP/ns-$1.yaml"; }
ns_manifest kt
ns_manifest dev
run "setup: create -f namespace kt" ok 'namespace/kt created' create -f "$TMP/ns-kt.yaml"
run "setup: kubectl version" ok 'Server Version: v' version

for entry in "${KINDS[@]}"; do
  IFS='|' read -r file res name ns check <<<"$entry"
  f=$HERE/manifests/$file.yaml
  edit=$HERE/manifests/$file.edit.yaml
  if [ ! -f "$edit" ]; then edit=$TMP/$file.edit.yaml; annotate "$f" "$edit"; fi
  nsflag=()
  [ -n "$ns" ] && nsflag=(-n "$ns")
  path=${check%%=*}
  want=${check#*=}

  run "$file: create -f" ok ' created$' create -f "$f"
  run "$file: get -f (table)" ok "^NAME +" get -f "$f"
  run "$file: get $res $name (table)" ok "^$name " get "$res" "$name" "${nsflag[@]}"
  run "$file: get -o yaml" ok "^  name: $name$" get -f "$f" -o yaml
  run "$file: get -o json" ok "\"resourceVersion\": \"[0-9]+\"" get -f "$f" -o json
  run "$file: get $res (list)" ok "^$name " get "$res" "${nsflag[@]}"
  run "$file: replace -f (edited)" ok ' replaced$' replace -f "$edit"
  run "$file: after replace $path" ok "^$want\$" get -f "$f" -o "jsonpath=$path"
  run "$file: delete -f" ok ' deleted' delete -f "$f"
  run "$file: apply -f (new object)" ok ' created$' apply -f "$f"
  run "$file: apply -f (again: unchanged)" ok ' unchanged$' apply -f "$f"
  run "$file: apply -f (edited: configured)" ok ' configured$' apply -f "$edit"
  run "$file: after apply $path" ok "^$want\$" get -f "$f" -o "jsonpath=$path"
  run "$file: apply -f (edited again: unchanged)" ok ' unchanged$' apply -f "$edit"
  run "$file: delete -f (after apply)" ok ' deleted' delete -f "$f"
  run "$file: get after delete is NotFound" fail 'NotFound|not found' get "$res" "$name" "${nsflag[@]}"
done

# ---- the seed's manifests ------------------------------------------------------
mkdir -p "$TMP/seed"
cp "$SEED"/3[0-9]-*.yaml "$SEED"/4[0-9]-*.yaml "$TMP/seed/"
cat >"$TMP/tier-security.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 600
EOF
run "seed: create -f namespace dev" ok 'namespace/dev created' create -f "$TMP/ns-dev.yaml"
run "seed: create tier security" ok 'tier.projectcalico.org/security created' create -f "$TMP/tier-security.yaml"
for f in "$TMP"/seed/*.yaml; do
  run "seed: create -f $(basename "$f")" ok ' created$' create -f "$f"
done
run "seed: get globalthreatfeeds" ok '^snort-ip-block-list ' get globalthreatfeeds
run "seed: get gtf" ok '^snort-ip-block-list ' get gtf
run "seed: get globalthreatfeed snort-ip-block-list -o yaml" ok 'url: https://snort.org/downloads/ip-block-list' \
  get globalthreatfeed snort-ip-block-list -o yaml
run "seed: get gnp" ok '^security.block-snort ' get gnp
run "seed: get networkpolicies -n dev (k8s kind)" ok '^netshoot ' get networkpolicies -n dev
run "seed: get networkpolicies.projectcalico.org" ok '^default.adservice ' get networkpolicies.projectcalico.org
run "seed: get pods" ok '^tf-ubuntu ' get pods
# Label and field selectors (the API's ?labelSelector= / ?fieldSelector=).
run "seed: get pods -l threatfeed=snort" ok '^tf-ubuntu ' get pods -l threatfeed=snort
run "seed: get pods -l 'threatfeed notin (snort)'" ok 'No resources found' get pods -l 'threatfeed notin (snort)'
run "seed: get gnp -l '!nolabel'" ok '^security.block-snort ' get gnp -l '!nolabel'
run "seed: get gtf --field-selector metadata.name=snort-ip-block-list" ok '^snort-ip-block-list ' \
  get gtf --field-selector metadata.name=snort-ip-block-list
run "seed: get gtf --field-selector metadata.name!=snort-ip-block-list" ok 'No resources found' \
  get gtf --field-selector metadata.name!=snort-ip-block-list
run "seed: invalid label selector is a 400 naming the problem" fail 'unable to parse requirement|found' \
  get pods -l 'a in (x'
# kubectl patch with each patch type.
run "patch: --type=strategic (Pod)" ok 'patched' patch pod tf-ubuntu --type=strategic \
  -p '{"metadata":{"labels":{"patched":"smp"}},"spec":{"containers":[{"name":"test","image":"ubuntu:24.04"}]}}'
run "patch: strategic kept the container's command" ok '^sleep 3600$' \
  get pod tf-ubuntu -o 'jsonpath={.spec.containers[0].command[*]}'
run "patch: --type=merge (GlobalThreatFeed)" ok 'patched' patch gtf snort-ip-block-list --type=merge \
  -p '{"metadata":{"labels":{"patched":"merge"}}}'
run "patch: --type=json (GlobalThreatFeed)" ok 'patched' patch gtf snort-ip-block-list --type=json \
  -p '[{"op":"add","path":"/metadata/labels/jsonpatch","value":"yes"}]'
run "patch: labels after merge + json patches" ok '^merge yes$' \
  get gtf snort-ip-block-list -o 'jsonpath={.metadata.labels.patched} {.metadata.labels.jsonpatch}'
run "patch: failing json patch names the operation" fail 'operation 0' patch gtf snort-ip-block-list \
  --type=json -p '[{"op":"remove","path":"/spec/nope"}]'
run "seed: apply -f (objects made by create)" ok ' configured$' apply -f "$TMP/seed"
run "seed: apply -f again: all unchanged" ok '' apply -f "$TMP/seed"
if grep -qv ' unchanged$' "$TMP/out"; then
  FAILED+=("seed: apply -f again: every object unchanged")
  echo "FAIL  seed: apply -f again: every object unchanged"
  sed -e 's/^/      stdout| /' "$TMP/out"
else
  PASSED=$((PASSED + 1)); echo "PASS  seed: apply -f again: every object unchanged"
fi
run "seed: delete -f" ok ' deleted' delete -f "$TMP/seed"

# ---- bad input -------------------------------------------------------------------
run "invalid: unknown field names its path" fail 'spec\.pull\.http\.urll' create -f "$HERE/manifests/invalid-unknown-field.yaml"
run "invalid: apply with unknown field names its path" fail 'spec\.pull\.http\.urll' apply -f "$HERE/manifests/invalid-unknown-field.yaml"
run "invalid: bad selector names spec.selector" fail 'spec\.selector' create -f "$HERE/manifests/invalid-selector.yaml"
run "invalid: nothing stored from a rejected document" fail 'NotFound|not found' get gnp kt-bad-gnp
cat >"$TMP/deployment.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kt-deploy
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers: [{name: x, image: x}]
EOF
run "invalid: kind not served" fail 'no matches for kind "Deployment"|not served' create -f "$TMP/deployment.yaml"
run "teardown: delete namespace kt" ok 'deleted' delete namespace kt
run "protobuf: kubectl create namespace NAME (protobuf body) is refused with 415, not a crash" fail 'nsupported|415' create namespace kt-proto

# ---- clean stop ------------------------------------------------------------------
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
if [ $rc -eq 0 ]; then
  PASSED=$((PASSED + 1)); echo "PASS  threatwalld exits 0 on SIGTERM"
else
  FAILED+=("threatwalld exits 0 on SIGTERM (got $rc)"); echo "FAIL  threatwalld exit code $rc on SIGTERM"
  tail -20 "$TMP/daemon.log" | sed -e 's/^/      daemon| /'
fi

echo
echo "kubectl test: ${PASSED} passed, ${#FAILED[@]} failed"
if [ ${#FAILED[@]} -ne 0 ]; then
  printf '  failed: %s\n' "${FAILED[@]}"
  exit 1
fi
exit 0
