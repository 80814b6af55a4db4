#!/usr/bin/env bash
# The rendered rulesets (testdata/nft/*.nft, the golden files of
# src/nft/render_test.cc) load into a real kernel with the real nft: each in a
# network namespace this test creates and deletes (never the host's own).
# Exit 77 (skipped) without root or without nft.
set -uo pipefail
DIR=$1
[[ $(id -u) == 0 ]] || { echo "needs root: skipped"; exit 77; }
command -v nft >/dev/null || { echo "nft not installed (apt-get install nftables): skipped"; exit 77; }
NS=twt-$$-nft
cleanup() { ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
FAILED=0
for f in "$DIR"/*.nft; do
  ip netns add "$NS" || exit 1
  if ! out=$(ip netns exec "$NS" nft -f "$f" 2>&1); then
    echo "FAIL $f does not load:"; echo "$out"; FAILED=1
  elif ! ip netns exec "$NS" nft list table inet threatwall >/dev/null 2>&1; then
    echo "FAIL $f: table inet threatwall missing after load"; FAILED=1
  elif ! ip netns exec "$NS" nft -f "$f" >/dev/null 2>&1; then
    echo "FAIL $f: loading it a second time (replace) fails"; FAILED=1
  else
    echo "ok   $(basename "$f") loads and replaces itself ($(ip netns exec "$NS" nft list table inet threatwall | grep -c 'chain ') chains)"
  fi
  ip netns del "$NS"
done
exit $FAILED
