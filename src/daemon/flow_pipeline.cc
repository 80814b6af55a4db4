#include "daemon/flow_pipeline.h"

#include <algorithm>

#include "base/log.h"
#include "flowlog/flow_context.h"

namespace tw::daemon {

namespace json = boost::json;

Status ValidateFlowPipelineOptions(const FlowPipelineOptions& options) {
  if (options.flush < std::chrono::milliseconds(100)) {
    return Status::InvalidArgument("--flow-flush " + std::to_string(options.flush.count()) +
                                   "ms: must be at least 100ms");
  }
  if (options.dns.aggregation_kind < 0 || options.dns.aggregation_kind > 1) {
    return Status::InvalidArgument("--dns-aggregation " + std::to_string(options.dns.aggregation_kind) +
                                   ": must be 0 or 1");
  }
  return flowlog::ValidateFlowAggregatorOptions(options.flows);
}

FlowPipeline::FlowPipeline(logstore::LogStore& store, Clock& clock, FlowPipelineOptions options)
    : store_(store), clock_(clock), options_(std::move(options)), flows_(options_.flows), dns_(options_.dns) {}

FlowPipeline::~FlowPipeline() { Stop(); }

void FlowPipeline::SetSnapshot(agent::AppliedSnapshot snapshot) {
  auto context = flowlog::FlowContext::Build(std::move(snapshot.program), std::move(snapshot.pods),
                                             std::move(snapshot.netsets));
  std::lock_guard lock(mu_);
  flows_.SetContext(context);
  dns_.SetLookup([context](const net::IpAddr& ip) { return context->Lookup(ip); });
}

void FlowPipeline::OnPolicyPacket(flowlog::PolicyPacket&& packet) {
  std::lock_guard lock(mu_);
  flows_.AddPolicyPacket(packet);
}

void FlowPipeline::OnDnsPacket(flowlog::DnsPacket&& packet) {
  std::lock_guard lock(mu_);
  dns_.AddPacket(packet);
}

void FlowPipeline::OnConntrack(flowlog::ConntrackFlow&& flow) {
  std::lock_guard lock(mu_);
  flows_.AddConntrack(flow);
}

Status FlowPipeline::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  auto t0 = std::chrono::steady_clock::now();
  if (dump_) {
    // Outside mu_: the dump's entries come back through OnConntrack.
    if (Status st = dump_(); !st.ok()) TW_LOG_WARN("flow logs: conntrack dump: {}", st.message());
  }
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.Now();
    for (json::object& r : flows_.Flush(now)) pending_flows_.push_back(std::move(r));
    for (json::object& r : dns_.Flush(now)) pending_dns_.push_back(std::move(r));
    ++stats_.flushes;
  }
  Status st = StoreAndPublish();
  std::lock_guard lock(mu_);
  stats_.last_flush = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  return st;
}

Status FlowPipeline::StoreAndPublish() {
  Status first_error;
  // A batch the store refuses stays pending for the next flush, oldest
  // records first, within the cap.
  auto store = [&](std::vector<json::object>& pending, bool is_flows) {
    if (pending.empty()) return;
    auto stored = is_flows ? store_.AppendFlows(pending) : store_.AppendDns(pending);
    if (!stored.ok()) {
      if (first_error.ok()) first_error = stored.error();
      std::lock_guard lock(mu_);
      ++stats_.store_failures;
      if (pending.size() > options_.max_pending_records) {
        const size_t drop = pending.size() - options_.max_pending_records;
        stats_.dropped_records += drop;
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(drop));
      }
      return;
    }
    {
      std::lock_guard lock(mu_);
      (is_flows ? stats_.flow_records : stats_.dns_records) += pending.size();
    }
    const RecordsFn& fn = is_flows ? on_flows_ : on_dns_;
    if (fn) fn(pending);
    pending.clear();
  };
  store(pending_flows_, true);
  store(pending_dns_, false);
  if (!first_error.ok()) TW_LOG_ERROR("flow logs: storing: {} (kept for the next flush)", first_error.message());
  return first_error;
}

void FlowPipeline::Start() {
  std::lock_guard lock(run_mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(run_mu_);
    while (!stop_) {
      run_cv_.wait_for(lock, options_.flush, [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      (void)Flush();
      lock.lock();
    }
  });
}

void FlowPipeline::Stop() {
  {
    std::lock_guard lock(run_mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  run_cv_.notify_all();
  thread_.join();
  (void)Flush();  // what the last interval saw
}

FlowPipelineStats FlowPipeline::stats() const {
  std::lock_guard lock(mu_);
  FlowPipelineStats s = stats_;
  s.flows = flows_.stats();
  s.dns = dns_.stats();
  return s;
}

}  // namespace tw::daemon
