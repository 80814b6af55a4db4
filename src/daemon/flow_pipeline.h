// FlowPipeline: from kernel observations to stored, matched logs.
//
//   Collector (reader thread) --OnPolicyPacket/OnConntrack--> FlowAggregator
//                             --OnDnsPacket-->                 DnsLogBuilder
//   every `flush` (own thread): conntrack dump -> Flush() both -> LogStore
//                               -> on_flows / on_dns (the detector)
//
// The agent hands it what it last applied (SetSnapshot): who an address is
// and which policy an NFLOG prefix names.  Records are stored first and
// then given to the detector, so an event's flow_log_id always names a
// stored record.  A batch the store refuses (disk full, I/O error) is kept
// and retried at the next flush, up to `max_pending_records`; past that the
// oldest records are dropped and counted -- never silently.
//
// Thread-safe: the sink methods run on the collector's thread, SetSnapshot
// on the agent's, Flush on the pipeline's own (or a test's).
#ifndef TW_DAEMON_FLOW_PIPELINE_H_
#define TW_DAEMON_FLOW_PIPELINE_H_

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "base/clock.h"
#include "base/status.h"
#include "flowlog/collector.h"
#include "flowlog/dns_logs.h"
#include "flowlog/flows.h"
#include "logstore/log_store.h"

namespace tw::daemon {

struct FlowPipelineOptions {
  std::chrono::milliseconds flush{std::chrono::seconds(15)};  // --flow-flush
  flowlog::FlowAggregatorOptions flows;
  flowlog::DnsLogOptions dns;
  size_t max_pending_records = 200000;  // kept for a retry when the store fails
};

// InvalidArgument naming the flag for a bad combination.
Status ValidateFlowPipelineOptions(const FlowPipelineOptions& options);

struct FlowPipelineStats {
  uint64_t flushes = 0;
  uint64_t flow_records = 0;  // stored
  uint64_t dns_records = 0;   // stored
  uint64_t store_failures = 0;
  uint64_t dropped_records = 0;  // past max_pending_records while the store failed
  std::chrono::microseconds last_flush{0};
  flowlog::FlowAggregatorStats flows;
  flowlog::DnsLogStats dns;
};

class FlowPipeline : public flowlog::CollectorSink {
 public:
  using RecordsFn = std::function<void(std::span<const boost::json::object>)>;

  // `store` and `clock` must outlive the pipeline.
  FlowPipeline(logstore::LogStore& store, Clock& clock, FlowPipelineOptions options);
  ~FlowPipeline() override;
  FlowPipeline(const FlowPipeline&) = delete;
  FlowPipeline& operator=(const FlowPipeline&) = delete;

  // Set before Start(): called after each stored batch (flows, DNS logs).
  void set_on_flows(RecordsFn fn) { on_flows_ = std::move(fn); }
  void set_on_dns(RecordsFn fn) { on_dns_ = std::move(fn); }
  // Called at the start of every flush to refresh conntrack counters
  // (Collector::DumpConntrack); its entries arrive through OnConntrack.
  void set_conntrack_dump(std::function<Status()> fn) { dump_ = std::move(fn); }

  // What the agent applied; the aggregator and the DNS builder use it from
  // the next observation on.
  void SetSnapshot(agent::AppliedSnapshot snapshot);

  // flowlog::CollectorSink
  void OnPolicyPacket(flowlog::PolicyPacket&& packet) override;
  void OnDnsPacket(flowlog::DnsPacket&& packet) override;
  void OnConntrack(flowlog::ConntrackFlow&& flow) override;

  // One flush now (the thread calls it every `flush`).  Returns the store's
  // error, if any (the records are kept for the next flush).
  Status Flush();

  // A thread that flushes every `flush`; Stop() flushes a last time.
  void Start();
  void Stop();

  FlowPipelineStats stats() const;

 private:
  Status StoreAndPublish();

  logstore::LogStore& store_;
  Clock& clock_;
  FlowPipelineOptions options_;
  RecordsFn on_flows_, on_dns_;
  std::function<Status()> dump_;

  mutable std::mutex mu_;  // guards the builders and stats_
  flowlog::FlowAggregator flows_;
  flowlog::DnsLogBuilder dns_;
  FlowPipelineStats stats_;

  std::mutex flush_mu_;  // one flush at a time; guards the pending batches
  std::vector<boost::json::object> pending_flows_, pending_dns_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tw::daemon

#endif  // TW_DAEMON_FLOW_PIPELINE_H_
