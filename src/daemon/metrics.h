// GET /metrics: the daemon's counters in the Prometheus text format
// (version 0.0.4), so a user sees what the flow-log, detection and webhook
// machinery did -- packets read, malformed input dropped, kernel drops,
// records stored, events raised, deliveries retried -- instead of guessing.
// Pure: formats the stats it is given.
#ifndef TW_DAEMON_METRICS_H_
#define TW_DAEMON_METRICS_H_

#include <optional>
#include <string>

#include "agent/agent.h"
#include "daemon/flow_pipeline.h"
#include "detect/detector.h"
#include "flowlog/collector.h"
#include "logstore/log_store.h"
#include "webhook/dispatcher.h"

namespace tw::daemon {

// Whatever is running; absent parts are left out of the text.
struct MetricsInput {
  std::optional<agent::AgentStats> agent;
  std::optional<flowlog::CollectorStats> collector;
  std::optional<FlowPipelineStats> pipeline;
  std::optional<detect::DetectorStats> detector;
  std::optional<webhook::DispatcherStats> webhooks;
  std::optional<logstore::LogStoreStats> logs;
};

std::string FormatMetrics(const MetricsInput& in);

}  // namespace tw::daemon

#endif  // TW_DAEMON_METRICS_H_
