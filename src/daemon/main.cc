// threatwalld: parses flags into daemon::Options and runs the daemon.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <tuple>
#include <utility>

#include "base/log.h"
#include "daemon/daemon.h"
#include "model/validators.h"

int main(int argc, char** argv) {
  // Big buffers (a feed body, a set's JSON: megabytes) come from mmap and go
  // back to the system when freed.  glibc's default raises this threshold
  // after the first such free, and the daemon would then keep its peak
  // memory for good.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  tw::daemon::Options options;
  CLI::App app{"threatwalld: the threatwall daemon (Calico-style threat feeds and policy, Kubernetes-style API)"};
  app.set_version_flag("--version", std::string("threatwalld ") + TW_VERSION);
  app.add_option("--data-dir", options.data_dir, "data directory (tokens, address, datastore)")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "API address HOST:PORT (port 0 = any free port)")
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "debug | info | warn | error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--max-body-bytes", options.max_body_bytes, "largest accepted request body")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections, "concurrent API connections")
      ->capture_default_str();
  app.add_option("--history-max-revisions", options.history_max_revisions,
                 "watch history kept before compaction (0 = unlimited)")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate for https on the API port (default: DIR/tls.crt, self-signed)");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key for --tls-cert (default: DIR/tls.key)");
  tw::feeds::FeedControllerOptions& feeds = options.feeds;
  std::string retry_base = "10s", stall_timeout = "30s";
  app.add_flag("!--no-feeds", options.run_feeds, "do not run the feed controller");
  app.add_option("--feed-secrets-namespace", feeds.secrets_namespace,
                 "namespace of the Secrets/ConfigMaps that feed headers refer to")
      ->capture_default_str();
  app.add_option("--feed-collapse-threshold", feeds.collapse_threshold,
                 "hold back a pull whose set falls below this fraction of the last good one (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--feed-max-bytes", feeds.fetch.max_body_bytes, "largest feed body (after decompression)")
      ->capture_default_str();
  app.add_option("--feed-max-entries", feeds.ingest.max_entries, "most valid entries in one feed")
      ->capture_default_str();
  app.add_option("--feed-max-retries", feeds.max_retries, "retries of a transient pull failure")
      ->capture_default_str();
  app.add_option("--feed-retry-base", retry_base, "first retry delay (Go duration), doubled each retry")
      ->capture_default_str();
  app.add_option("--feed-stall-timeout", stall_timeout, "abort a pull that receives nothing for this long")
      ->capture_default_str();
  app.add_option("--feed-ca-file", feeds.fetch.ca_file, "PEM CA bundle trusted for https feeds besides the system's");
  std::vector<std::string> feed_hosts;
  bool feed_offline = false;
  app.add_flag("--feed-offline", feed_offline,
               "never resolve feed host names with DNS (IP literals, localhost and --feed-host only)");
  app.add_option("--feed-host", feed_hosts, "HOST=ADDRESS: resolve HOST to ADDRESS for feed pulls (repeatable)");
  app.add_option("--pod-dns", options.pod_dns,
                 "DNS server for the pods (repeatable): written to each pod's resolv.conf");
  app.add_flag("!--no-flow-logs", options.run_flow_logs, "do not collect flow and DNS logs");
  std::string flow_flush = "15s", log_max_age = "168h";
  app.add_option("--flow-flush", flow_flush, "flow and DNS log flush interval (Go duration)")->capture_default_str();
  app.add_option("--flow-aggregation-allowed", options.flow_logs.flows.aggregation_allowed,
                 "aggregation kind 0-3 of allowed flows (Calico's flowLogsFileAggregationKindForAllowed; "
                 "Calico's default 2 hides IPs, ours keeps them)")
      ->capture_default_str();
  app.add_option("--flow-aggregation-denied", options.flow_logs.flows.aggregation_denied,
                 "aggregation kind 0-3 of denied flows")
      ->capture_default_str();
  app.add_option("--dns-aggregation", options.flow_logs.dns.aggregation_kind,
                 "DNS log aggregation kind: 0 per client, 1 clients by name prefix")
      ->capture_default_str();
  app.add_option("--log-max-age", log_max_age, "drop flow logs, DNS logs and events older than this (Go duration)")
      ->capture_default_str();
  app.add_option("--log-max-bytes", options.log_store.max_bytes, "size limit of DIR/logs.db (oldest logs go first)")
      ->capture_default_str();
  bool cleanup = false;
  app.add_flag("!--no-agent", options.run_agent, "do not run the agent (pods, policy enforcement)");
  app.add_option("--node-netns", options.node_netns,
                 "network namespace that is the node (created if missing; its default route is the uplink; "
                 "feeds are pulled from it). Default: the host's own");
  app.add_option("--pod-cidr", options.agent.default_pool, "pod addresses when no IPPool exists")
      ->capture_default_str();
  app.add_flag("--cleanup", cleanup,
               "remove table inet threatwall and every pod sandbox from the node namespace, then exit");
  CLI11_PARSE(app, argc, argv);
  feeds.fetch.allow_dns = !feed_offline;
  for (const std::string& pin : feed_hosts) {
    size_t eq = pin.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pin.size()) {
      std::cerr << "threatwalld: --feed-host " << pin << ": expected HOST=ADDRESS\n";
      return 2;
    }
    feeds.fetch.pinned_hosts.emplace_back(pin.substr(0, eq), pin.substr(eq + 1));
  }
  // A positive Go duration, or nullopt after saying what is wrong with it.
  auto positive_duration = [](const char* flag, const std::string& text) -> std::optional<std::chrono::nanoseconds> {
    auto ns = tw::model::ParseGoDuration(text);
    if (!ns.ok() || *ns <= 0) {
      std::cerr << "threatwalld: " << flag << " " << text << ": "
                << (ns.ok() ? std::string("must be positive") : ns.error().message()) << "\n";
      return std::nullopt;
    }
    return std::chrono::nanoseconds(*ns);
  };
  for (auto [flag, text, out] : {std::tuple{"--feed-retry-base", &retry_base, &feeds.retry_base},
                                 std::tuple{"--feed-stall-timeout", &stall_timeout, &feeds.fetch.stall_timeout},
                                 std::tuple{"--flow-flush", &flow_flush, &options.flow_logs.flush}}) {
    auto d = positive_duration(flag, *text);
    if (!d) return 2;
    *out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  auto max_age = positive_duration("--log-max-age", log_max_age);
  if (!max_age) return 2;
  options.log_store.max_age = std::chrono::duration_cast<std::chrono::seconds>(*max_age);
  if (tw::Status st = tw::daemon::ValidateFlowPipelineOptions(options.flow_logs); !st.ok()) {
    std::cerr << "threatwalld: " << st.message() << "\n";
    return 2;
  }
  feeds.fetch.netns = options.node_netns;
  tw::InitLogging(options.log_level);
  if (cleanup) return tw::daemon::Cleanup(options);
  return tw::daemon::Run(options);
}
