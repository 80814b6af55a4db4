#include "daemon/metrics.h"

#include <gtest/gtest.h>

namespace tw::daemon {
namespace {

TEST(Metrics, OnlyRunningPartsWithTheirCounters) {
  MetricsInput in;
  EXPECT_EQ(FormatMetrics(in), "");
  FlowPipelineStats p;
  p.flow_records = 12;
  p.dns.malformed = 3;
  in.pipeline = p;
  webhook::DispatcherStats h;
  h.webhooks["ops \"pager\""].sent = 5;
  h.webhooks["ops \"pager\""].retried = 2;
  in.webhooks = h;
  std::string text = FormatMetrics(in);
  EXPECT_NE(text.find("# TYPE threatwall_flow_records_total counter\nthreatwall_flow_records_total 12\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nthreatwall_dns_malformed_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("threatwall_webhook_sent_total{webhook=\"ops \\\"pager\\\"\"} 5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("threatwall_webhook_retried_total{webhook=\"ops \\\"pager\\\"\"} 2\n"), std::string::npos);
  EXPECT_EQ(text.find("threatwall_detect_"), std::string::npos) << "no detector, no detector metrics";
  // Every sample line belongs to a family declared just before it.
  size_t helps = 0, types = 0;
  for (size_t pos = 0; (pos = text.find("# HELP ", pos)) != std::string::npos; ++pos) ++helps;
  for (size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos) ++types;
  EXPECT_EQ(helps, types);
}

}  // namespace
}  // namespace tw::daemon
