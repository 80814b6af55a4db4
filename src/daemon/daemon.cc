#include "daemon/daemon.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <span>
#include <thread>

#include <unistd.h>

#include "agent/sandboxes.h"
#include "api/api_handler.h"
#include "api/auth.h"
#include "api/http_server.h"
#include "api/resource_service.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/log.h"
#include "daemon/flow_pipeline.h"
#include "daemon/metrics.h"
#include "daemon/tls_cert.h"
#include "daemon/tokens.h"
#include "detect/detector.h"
#include "feeds/fetch/fetcher.h"
#include "flowlog/collector.h"
#include "logstore/log_store.h"
#include "nft/dataplane.h"
#include "node/netns.h"
#include "store/chunked_store.h"
#include "store/sqlite_store.h"
#include "webhook/dispatcher.h"
#include "webhook/http_poster.h"

namespace tw::daemon {

namespace {

// mkdir -p; the last component gets `mode` when it is created here.
Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::InvalidArgument("--data-dir: empty path");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    bool last = pos == path.size();
    if (mkdir(prefix.c_str(), last ? mode : 0755) != 0 && errno != EEXIST)
      return Status::IoError(prefix + ": " + std::strerror(errno));
    if (last && errno != EEXIST) chmod(prefix.c_str(), mode);  // umask must not widen or narrow it
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::IoError(path + ": not a directory");
  return Status::Ok();
}

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

Result<ListenAddress> ParseListen(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return Status::InvalidArgument("--listen " + text + ": expected HOST:PORT");
  ListenAddress out;
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty()) out.host = "127.0.0.1";
  std::string_view port = std::string_view(text).substr(colon + 1);
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535)
    return Status::InvalidArgument("--listen " + text + ": port must be a number from 0 to 65535");
  out.port = static_cast<uint16_t>(value);
  return out;
}

int Fail(const Status& status) {
  TW_LOG_ERROR("threatwalld: {}", status.message());
  return 1;
}

// The node namespace exists afterwards (made here when missing).
Status EnsureNodeNetns(const std::string& name) {
  if (name.empty()) return Status::Ok();
  TW_ASSIGN_OR_RETURN(bool exists, node::NetnsExists(name));
  if (exists) return Status::Ok();
  TW_LOG_INFO("threatwalld: creating node network namespace {}", name);
  Status st = node::CreateNetns(name);
  return st.IsAlreadyExists() ? Status::Ok() : st.WithPrefix("--node-netns " + name);
}

// The parts of the agent.  Stop(): the agent, then the pipeline's last
// flush (it still dumps conntrack), then the collector.  Members are
// destroyed in reverse order, so the collector (which calls into the
// pipeline) goes before the pipeline.
struct AgentParts {
  std::unique_ptr<agent::NodeSandboxes> sandboxes;
  std::unique_ptr<nft::NftDataplane> dataplane;
  std::unique_ptr<FlowPipeline> pipeline;
  std::unique_ptr<flowlog::Collector> collector;
  std::unique_ptr<agent::Agent> agent;

  void Stop() {
    if (agent) agent->Stop();
    if (pipeline) pipeline->Stop();
    if (collector) collector->Stop();
  }
};

// `logs` and `detector` must outlive the parts.
Result<AgentParts> StartAgent(const Options& options, store::Datastore& store, logstore::LogStore& logs,
                              detect::Detector& detector) {
  AgentParts parts;
  TW_RETURN_IF_ERROR(EnsureNodeNetns(options.node_netns));
  parts.sandboxes = std::make_unique<agent::NodeSandboxes>(options.node_netns, options.pod_dns);
  TW_ASSIGN_OR_RETURN(parts.dataplane, nft::NftDataplane::Open(options.node_netns));
  agent::AgentOptions agent_options = options.agent;
  if (options.run_flow_logs) {
    // Flow logs: the collector reads NFLOG and conntrack in the node
    // namespace before the first program is applied, so the first
    // connections are seen.
    FlowPipelineOptions pipeline_options = options.flow_logs;
    char host[256] = {};
    if (pipeline_options.flows.host.empty() && ::gethostname(host, sizeof(host) - 1) == 0) {
      pipeline_options.flows.host = host;
    }
    if (pipeline_options.dns.host.empty()) pipeline_options.dns.host = pipeline_options.flows.host;
    parts.pipeline = std::make_unique<FlowPipeline>(logs, Clock::Real(), pipeline_options);
    parts.pipeline->set_on_flows([&detector](std::span<const boost::json::object> r) { detector.OnFlows(r); });
    parts.pipeline->set_on_dns([&detector](std::span<const boost::json::object> r) { detector.OnDns(r); });
    flowlog::CollectorOptions collector_options;
    collector_options.netns = options.node_netns;
    TW_ASSIGN_OR_RETURN(parts.collector, flowlog::Collector::Open(collector_options, parts.pipeline.get()));
    flowlog::Collector* collector = parts.collector.get();
    parts.pipeline->set_conntrack_dump([collector] { return collector->DumpConntrack(); });
    parts.pipeline->Start();
    FlowPipeline* pipeline = parts.pipeline.get();
    agent_options.on_applied = [pipeline](agent::AppliedSnapshot snapshot) {
      pipeline->SetSnapshot(std::move(snapshot));
    };
  }
  parts.agent = std::make_unique<agent::Agent>(store, *parts.sandboxes, *parts.dataplane, Clock::Real(),
                                               agent_options);
  if (Status st = parts.agent->Start(); !st.ok()) {
    parts.Stop();
    return st;
  }
  TW_LOG_INFO("threatwalld: agent running in {}", options.node_netns.empty()
                                                      ? std::string("the host's network namespace")
                                                      : "network namespace " + options.node_netns);
  return parts;
}

// Applies the log store's retention limits at start and then every
// `interval`, on its own thread (a purge can take seconds).
class Retention {
 public:
  Retention(logstore::LogStore& logs, std::chrono::seconds interval) : logs_(logs), interval_(interval) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Retention() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      auto report = logs_.Enforce();
      if (!report.ok()) {
        TW_LOG_ERROR("log store: retention: {}", report.error().message());
      } else if (report->flows_deleted + report->dns_deleted + report->events_deleted > 0) {
        TW_LOG_INFO("log store: retention removed {} flow logs, {} DNS logs, {} events", report->flows_deleted,
                    report->dns_deleted, report->events_deleted);
      }
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  }

  logstore::LogStore& logs_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int Run(const Options& options) {
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill us

  auto listen = ParseListen(options.listen);
  if (!listen.ok()) return Fail(listen.error());
  if (Status st = MakeDirs(options.data_dir, 0700); !st.ok()) return Fail(st);
  auto admin = EnsureTokenFile(options.data_dir + "/admin.token");
  if (!admin.ok()) return Fail(admin.error());
  auto readonly = EnsureTokenFile(options.data_dir + "/readonly.token");
  if (!readonly.ok()) return Fail(readonly.error());

  std::string cert = options.tls_cert_file.empty() ? options.data_dir + "/tls.crt" : options.tls_cert_file;
  std::string key = options.tls_key_file.empty() ? options.data_dir + "/tls.key" : options.tls_key_file;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return Fail(Status::InvalidArgument("--tls-cert and --tls-key go together"));
  if (options.tls_cert_file.empty())
    if (Status st = EnsureSelfSignedCert(cert, key); !st.ok()) return Fail(st);

  std::string db_path = options.data_dir + "/threatwall.db";
  store::SqliteStore::Options store_options;
  store_options.limits.history_max_revisions = options.history_max_revisions;
  auto sqlite = store::SqliteStore::Open(db_path, store_options);
  if (!sqlite.ok()) return Fail(sqlite.error());
  auto store = std::make_unique<store::ChunkedStore>(std::move(*sqlite));
  auto garbage = store->CollectGarbage();
  if (!garbage.ok()) return Fail(garbage.error());
  TW_LOG_INFO("threatwalld: datastore {} at revision {}{}", db_path, store->CurrentRevision(),
              *garbage ? " (" + std::to_string(*garbage) + " orphaned value pieces removed)" : "");

  api::ResourceService service(*store, Clock::Real());
  if (Status st = service.EnsureBuiltins(); !st.ok()) return Fail(st);

  // Logs, detection and webhooks run whether or not the agent does: the API
  // serves stored logs, and feeds changing still hunt through them.
  auto logs = logstore::LogStore::Open(options.data_dir + "/logs.db", options.log_store);
  if (!logs.ok()) return Fail(logs.error());
  webhook::CurlPoster poster;
  webhook::WebhookOptions webhook_options;
  webhook_options.secrets_namespace = options.feeds.secrets_namespace;
  webhook_options.post.allow_dns = options.feeds.fetch.allow_dns;
  webhook_options.post.ca_file = options.feeds.fetch.ca_file;
  webhook::WebhookDispatcher webhooks(*store, Clock::Real(), poster, webhook_options);
  if (Status st = webhooks.Start(); !st.ok()) return Fail(st);
  detect::Detector detector(*store, **logs, Clock::Real(), detect::DetectorOptions{},
                            [&webhooks](const boost::json::object& event) { webhooks.Publish(event); });
  if (Status st = detector.Start(); !st.ok()) {
    webhooks.Stop();
    return Fail(st);
  }
  Retention retention(**logs, options.retention_interval);

  feeds::CurlFetcher fetcher;
  std::unique_ptr<feeds::FeedController> feed_controller;
  if (options.run_feeds) {
    feed_controller = std::make_unique<feeds::FeedController>(*store, fetcher, Clock::Real(), options.feeds);
    if (Status st = feed_controller->Start(); !st.ok()) return Fail(st);
  }
  AgentParts agent;
  if (options.run_agent && geteuid() != 0) {
    TW_LOG_WARN("threatwalld: not root: the agent (pods, policy enforcement) is off");
  } else if (options.run_agent) {
    auto started = StartAgent(options, *store, **logs, detector);
    if (!started.ok()) {
      if (feed_controller) feed_controller->Stop();
      detector.Stop();
      webhooks.Stop();
      return Fail(started.error());
    }
    agent = std::move(*started);
  }
  api::Authenticator auth(*admin, *readonly);
  api::ApiHandlerOptions handler_options;
  if (agent.agent) {
    agent::Agent* a = agent.agent.get();
    handler_options.program_provider = [a] { return a->program(); };
  }
  handler_options.logs = logs->get();
  handler_options.metrics_provider = [&] {
    MetricsInput in;
    if (agent.agent) in.agent = agent.agent->stats();
    if (agent.collector) in.collector = agent.collector->stats();
    if (agent.pipeline) in.pipeline = agent.pipeline->stats();
    in.detector = detector.stats();
    in.webhooks = webhooks.Stats();
    if (auto stats = (*logs)->Stats(); stats.ok()) in.logs = *stats;
    return FormatMetrics(in);
  };
  api::ApiHandler handler(service, auth, handler_options);

  api::HttpServerOptions http_options;
  http_options.host = listen->host;
  http_options.port = listen->port;
  http_options.max_body_bytes = options.max_body_bytes;
  http_options.max_connections = options.max_connections;
  http_options.tls_cert_file = cert;
  http_options.tls_key_file = key;
  auto server = api::HttpServer::Start(http_options, handler.AsHttpHandler());
  if (!server.ok()) return Fail(server.error());

  std::string host = listen->host == "0.0.0.0" || listen->host == "::" ? "127.0.0.1" : listen->host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string url = "http://" + host + ":" + std::to_string((*server)->port());
  if (Status st = WriteFileAtomic(options.data_dir + "/address", url + "\n", 0644); !st.ok()) {
    (*server)->Shutdown();
    return Fail(st);
  }
  TW_LOG_INFO("threatwalld {}: serving on {} (also https on the same port, certificate {}; data dir {})",
              TW_VERSION, url, cert, options.data_dir);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  TW_LOG_INFO("threatwalld: {} received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (feed_controller) feed_controller->Stop();
  (*server)->Shutdown();
  server->reset();
  // The kernel keeps enforcing the last program; --cleanup removes it.
  agent.Stop();
  agent = {};
  feed_controller.reset();
  retention.Stop();
  detector.Stop();
  webhooks.Stop();
  store.reset();
  TW_LOG_INFO("threatwalld: stopped");
  return 0;
}

int Cleanup(const Options& options) {
  if (geteuid() != 0) return Fail(Status::PermissionDenied("--cleanup needs root"));
  if (!options.node_netns.empty()) {
    auto exists = node::NetnsExists(options.node_netns);
    if (!exists.ok()) return Fail(exists.error());
    if (!*exists) {
      TW_LOG_INFO("threatwalld: network namespace {} does not exist: nothing to clean up", options.node_netns);
      return 0;
    }
  }
  int rc = 0;
  agent::NodeSandboxes sandboxes(options.node_netns);
  if (auto boxes = sandboxes.List(); boxes.ok()) {
    for (const auto& [iface, netns] : *boxes) {
      Status st = sandboxes.Delete(netns, iface);
      TW_LOG_INFO("threatwalld: removed pod sandbox {} ({}){}", netns, iface, st.ok() ? "" : ": " + st.message());
      if (!st.ok()) rc = 1;
    }
  } else {
    TW_LOG_ERROR("threatwalld: listing pod sandboxes: {}", boxes.error().message());
    rc = 1;
  }
  auto dataplane = nft::NftDataplane::Open(options.node_netns);
  Status st = dataplane.ok() ? (*dataplane)->Remove() : dataplane.error();
  if (!st.ok()) return Fail(st);
  TW_LOG_INFO("threatwalld: table inet threatwall removed{}",
              options.node_netns.empty() ? "" : " from network namespace " + options.node_netns);
  return rc;
}

}  // namespace tw::daemon
