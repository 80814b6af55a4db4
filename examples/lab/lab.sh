# The demo's and the root tests' lab: a node namespace with an uplink to a
# "world" namespace that plays the internet.  Source this file, then
#
#   lab_up PREFIX STATE_DIR FEED_FILE [DOMAIN_FEED_FILE]
#                                       creates PREFIX-node and PREFIX-world and starts the servers
#   lab_down                            stops the servers and deletes both namespaces (idempotent)
#
#   PREFIX-node   uplink 192.0.2.1/24, default route via the world (threatwalld --node-netns)
#   PREFIX-world  wan0 192.0.2.254/24; 5.196.58.96 and 5.196.58.97 (listed in the SNORT
#                 fixture / added by the demo) answer TLS on 443 with a certificate of the
#                 lab CA for another name (curl trusting the lab CA: exit 60, "no alternative
#                 certificate subject name matches", as in the seed); 203.0.113.10 stands in for snort.org and
#                 serves FEED_FILE at https://snort.org/downloads/ip-block-list with a
#                 certificate of the lab's own CA, and DOMAIN_FEED_FILE (default: the
#                 URLhaus hosts list in testdata/feeds) as malware-filter.gitlab.io's
#                 /malware-filter/urlhaus-filter-hosts.txt.  198.51.100.53 is a DNS server
#                 (dnsmasq) for the pods: 0daydreams.net (listed by URLhaus) and its subdomains
#                 resolve to 203.0.113.66, example.com to 203.0.113.80, anything else is
#                 refused.  Routes back to the pods (10.244.0.0/16) go via the node: no NAT,
#                 addresses are seen as they are.
#
# After lab_up: LAB_NODE, LAB_WORLD, LAB_CA (the lab CA: threatwalld --feed-ca-file, and
# CURL_CA_BUNDLE for curl in pods -- real pods trust the public CA that signed the real
# 5.196.58.96's certificate), LAB_FEED_HOST (snort.org=203.0.113.10 for --feed-host), LAB_FEED
# (the served file: edit it to change the feed), LAB_DOMAIN_FEED_HOST, LAB_DOMAIN_FEED, LAB_DNS
# (threatwalld --pod-dns).  Nothing outside the two namespaces
# is touched; every process started here runs inside the world namespace.

LAB_FEED_ADDR=203.0.113.10
LAB_FEED_HOST="snort.org=$LAB_FEED_ADDR"
LAB_DOMAIN_FEED_HOST="malware-filter.gitlab.io=$LAB_FEED_ADDR"
LAB_DNS=198.51.100.53
LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

lab_up() {
  local prefix=$1 state=$2 feed=$3 domain_feed=${4:-$LAB_LIB_DIR/../../testdata/feeds/urlhaus-filter-hosts.txt}
  if ! command -v dnsmasq >/dev/null; then
    echo "lab: dnsmasq is not installed (apt-get install dnsmasq-base; ./run deps does it)" >&2
    return 1
  fi
  LAB_NODE=$prefix-node LAB_WORLD=$prefix-world LAB_STATE=$state
  mkdir -p "$state/www/downloads" "$state/www/malware-filter"
  lab_down
  ip netns add "$LAB_NODE"
  ip netns add "$LAB_WORLD"
  ip -n "$LAB_NODE" link set lo up
  ip -n "$LAB_WORLD" link set lo up
  ip link add uplink netns "$LAB_NODE" type veth peer name wan0 netns "$LAB_WORLD"
  ip -n "$LAB_NODE" addr add 192.0.2.1/24 dev uplink
  ip -n "$LAB_NODE" link set uplink up
  ip -n "$LAB_NODE" route add default via 192.0.2.254
  ip -n "$LAB_WORLD" addr add 192.0.2.254/24 dev wan0
  ip -n "$LAB_WORLD" link set wan0 up
  for a in 5.196.58.96 5.196.58.97 $LAB_FEED_ADDR $LAB_DNS 203.0.113.66 203.0.113.80; do ip -n "$LAB_WORLD" addr add "$a/32" dev lo; done
  ip -n "$LAB_WORLD" route add 10.244.0.0/16 via 192.0.2.1

  # Certificates: a lab CA; snort.org's certificate from it; and the one the
  # blocked addresses present (self-signed, for a name that is not theirs).
  local c=$state/certs
  mkdir -p "$c"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=threatwall lab CA" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=snort.org" -keyout "$c/snort.key" -out "$c/snort.csr" 2>/dev/null
  printf 'subjectAltName=DNS:snort.org,DNS:malware-filter.gitlab.io\n' >"$c/snort.ext"
  openssl x509 -req -in "$c/snort.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
    -extfile "$c/snort.ext" -out "$c/snort.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=blocked.example" -keyout "$c/blocked.key" -out "$c/blocked.csr" \
    2>/dev/null
  printf 'subjectAltName=DNS:blocked.example\n' >"$c/blocked.ext"
  openssl x509 -req -in "$c/blocked.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
    -extfile "$c/blocked.ext" -out "$c/blocked.crt" 2>/dev/null
  LAB_CA=$c/ca.crt
  LAB_FEED=$state/www/downloads/ip-block-list
  cp "$feed" "$LAB_FEED"
  LAB_DOMAIN_FEED=$state/www/malware-filter/urlhaus-filter-hosts.txt
  cp "$domain_feed" "$LAB_DOMAIN_FEED"

  : >"$state/pids"
  local a
  for a in 5.196.58.96 5.196.58.97; do
    ip netns exec "$LAB_WORLD" openssl s_server -quiet -accept "$a:443" -cert "$c/blocked.crt" -key "$c/blocked.key" \
      -www </dev/null >"$state/s_server-$a.log" 2>&1 &
    echo $! >>"$state/pids"
  done
  (cd "$state/www" && exec ip netns exec "$LAB_WORLD" openssl s_server -quiet -accept "$LAB_FEED_ADDR:443" \
    -cert "$c/snort.crt" -key "$c/snort.key" -WWW </dev/null >"$state/s_server-feed.log" 2>&1) &
  echo $! >>"$state/pids"
  ip netns exec "$LAB_WORLD" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces --listen-address="$LAB_DNS" --pid-file= --user=root \
    --address=/0daydreams.net/203.0.113.66 --address=/example.com/203.0.113.80 \
    </dev/null >"$state/dnsmasq.log" 2>&1 &
  echo $! >>"$state/pids"
  # Wait until the three TLS servers and the DNS server listen.
  local i
  for i in $(seq 50); do
    if [ "$(ip netns exec "$LAB_WORLD" ss -Hltn 'sport = :443' | wc -l)" -ge 3 ] &&
      [ "$(ip netns exec "$LAB_WORLD" ss -Hlun 'sport = :53' | wc -l)" -ge 1 ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "lab: the world's servers did not start" >&2
  cat "$state"/s_server-*.log "$state/dnsmasq.log" >&2
  return 1
}

lab_down() {
  [ -n "${LAB_NODE:-}" ] || return 0
  if [ -f "${LAB_STATE:-/nonexistent}/pids" ]; then
    local p
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$LAB_STATE/pids"
    rm -f "$LAB_STATE/pids"
  fi
  # Anything still running inside the lab (servers, a curl left behind).
  local ns pid
  for ns in "$LAB_WORLD" "$LAB_NODE"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  ip netns del "$LAB_WORLD" 2>/dev/null || true
  ip netns del "$LAB_NODE" 2>/dev/null || true
}
