// threatwalld's lifecycle: data directory, tokens, datastore, API server,
// signals.  main.cc only parses flags into Options and calls Run().
#ifndef TW_DAEMON_DAEMON_H_
#define TW_DAEMON_DAEMON_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <chrono>
#include <vector>

#include "agent/agent.h"
#include "daemon/flow_pipeline.h"
#include "feeds/controller/feed_controller.h"
#include "logstore/log_store.h"

namespace tw::daemon {

struct Options {
  std::string data_dir = "/var/lib/threatwall";
  std::string listen = "127.0.0.1:7780";  // HOST:PORT; port 0 = any free port
  std::string log_level = "info";         // debug | info | warn | error
  size_t max_body_bytes = size_t{32} << 20;
  int max_connections = 512;
  // Watch history kept by the store before automatic compaction (revisions;
  // 0 = unlimited).  Small values let tests reach 410 Gone quickly.
  int64_t history_max_revisions = 10000;
  // TLS on the API port (same port as plain HTTP).  Empty: DIR/tls.crt and
  // DIR/tls.key, a self-signed pair generated on first start.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The feed controller (pulls GlobalThreatFeeds, writes their sets).
  bool run_feeds = true;
  feeds::FeedControllerOptions feeds;
  // The agent (pods, policy, nftables).  Needs root; skipped with a warning
  // otherwise.
  bool run_agent = true;
  // The node's network namespace (created when missing); "" = the host's own.
  // Feeds are pulled from it too.
  std::string node_netns;
  agent::AgentOptions agent;
  // The pods' DNS servers, written to each pod's /etc/netns/<pod>/resolv.conf
  // (empty: pods use the host's /etc/resolv.conf).
  std::vector<std::string> pod_dns;
  // Flow and DNS logs from the node's NFLOG and conntrack (needs the agent),
  // kept in DIR/logs.db with these limits; detection runs on them.
  bool run_flow_logs = true;
  FlowPipelineOptions flow_logs;
  logstore::LogStoreOptions log_store;
  std::chrono::seconds retention_interval{60};
};

// threatwalld --cleanup: removes what the agent leaves in the node namespace
// (table inet threatwall, pod sandboxes).  0 on success, 1 on failure.
int Cleanup(const Options& options);

// Runs the daemon until SIGTERM or SIGINT:
//  1. creates data_dir (mode 0700) if needed;
//  2. reads or creates DIR/admin.token and DIR/readonly.token (0600);
//     and DIR/tls.crt + DIR/tls.key (self-signed, unless --tls-cert/--tls-key);
//  3. opens DIR/threatwall.db (SqliteStore behind a ChunkedStore, so no
//     stored value exceeds 512 KiB), collects orphaned pieces, and ensures
//     the built-ins (Namespace default, Tier default);
//  3b. opens DIR/logs.db (flow logs, DNS logs, events; retention enforced
//      at start and every retention_interval), starts the detector and the
//      webhook dispatcher, the feed controller (unless run_feeds is false) and
//      the agent (unless run_agent is false or we are not root) with its
//      NFLOG/conntrack collector and flow pipeline (unless run_flow_logs is
//      false);
//  4. serves the API on `listen` and writes "http://HOST:PORT\n" to
//     DIR/address once bound;
//  5. on a signal: stops accepting, finishes in-flight requests, ends
//     watches, closes the store.
// Returns the process exit code: 0 after a clean stop, 1 on a startup
// failure (logged, naming the path or address and the reason).
// Must be called before any other thread is started (it blocks SIGTERM and
// SIGINT so that only its own sigwait sees them).
int Run(const Options& options);

}  // namespace tw::daemon

#endif  // TW_DAEMON_DAEMON_H_
