#include "daemon/metrics.h"

#include <sstream>

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
  // Every sample line belongs to the family whose # TYPE line came last.
  std::istringstream lines(text);
  std::string line, family;
  size_t samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
    } else if (!line.empty() && line[0] != '#') {
      const std::string name = line.substr(0, line.find_first_of("{ "));
      EXPECT_EQ(name, family) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 10u);
}

}  // namespace
}  // namespace tw::daemon
