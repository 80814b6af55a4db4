#!/usr/bin/env bash
# Runs examples/demo.sh --once against the binaries of this build, in namespaces
# and a data dir of its own; passes when every step behaved as the seed says
# (curl exit 60 before the policy, 28 after; the feed update blocks the new
# address) and nothing is left behind.
set -euo pipefail
SRC=$1 BIN=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip nft openssl curl; do command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }; done
# Pod namespaces are named after the pod (tw-default-tf-ubuntu): a demo left
# running owns that name, and this test must not touch it.
if ip netns list | grep -qw tw-default-tf-ubuntu; then echo "SKIP: tw-default-tf-ubuntu exists (a demo is running)"; exit 77; fi
PREFIX=tw-test-$$
DIR=$(mktemp -d /tmp/tw-test-seed.XXXXXX)
export THREATWALL_DEMO_DIR=$DIR/demo THREATWALL_DEMO_PORT=0 THREATWALL_DEMO_PREFIX=$PREFIX THREATWALL_DEMO_BIN=$BIN
rc=0
"$SRC/examples/demo.sh" --once >"$DIR/out" 2>&1 || rc=$?
cat "$DIR/out"
left=$(ip netns list | grep -E "^($PREFIX-|tw-default-tf-ubuntu)" || true)
rm -rf "$DIR"
if [ -n "$left" ]; then echo "FAIL: namespaces left behind: $left"; exit 1; fi
[ $rc = 0 ] || { echo "FAIL: demo exit $rc"; exit 1; }
echo "PASS: seed scenario"
