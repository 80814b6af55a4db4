#include "daemon/metrics.h"

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace tw::daemon {

namespace {

class Writer {
 public:
  // One metric family: HELP, TYPE, then its samples.
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void Sample(std::string_view name, double value, std::string_view labels = {}) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    char buf[64];
    if (value == static_cast<double>(static_cast<int64_t>(value))) {
      snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(value));
    } else {
      snprintf(buf, sizeof(buf), "%.6g", value);
    }
    out_ += buf;
    out_ += '\n';
  }
  void Counter(std::string_view name, std::string_view help, double value) {
    Family(name, "counter", help);
    Sample(name, value);
  }
  void Gauge(std::string_view name, std::string_view help, double value) {
    Family(name, "gauge", help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// A label value with \, " and newlines escaped (the format's rule).
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

double Seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

}  // namespace

std::string FormatMetrics(const MetricsInput& in) {
  Writer w;
  if (in.agent) {
    const agent::AgentStats& a = *in.agent;
    w.Counter("threatwall_policy_applies_total", "Policy programs applied to the kernel.", a.applies);
    w.Counter("threatwall_policy_apply_failures_total", "Policy programs the kernel refused.", a.apply_failures);
    w.Gauge("threatwall_policy_last_compile_seconds", "Time of the last policy compile.", Seconds(a.last_compile));
    w.Gauge("threatwall_policy_last_apply_seconds", "Time of the last kernel apply.", Seconds(a.last_apply));
  }
  if (in.collector) {
    const flowlog::CollectorStats& c = *in.collector;
    w.Counter("threatwall_netlink_messages_total", "NFLOG and conntrack netlink messages read.", c.messages);
    w.Counter("threatwall_nflog_policy_packets_total", "Policy verdicts read from NFLOG groups 1 and 2.",
              c.policy_packets);
    w.Counter("threatwall_nflog_dns_packets_total", "DNS packets read from NFLOG group 3.", c.dns_packets);
    w.Counter("threatwall_conntrack_entries_total", "Conntrack entries read (events and dumps).",
              c.conntrack_entries);
    w.Counter("threatwall_netlink_malformed_total", "Undecodable netlink messages or packets, dropped.",
              c.malformed);
    w.Counter("threatwall_netlink_kernel_drops_total", "Receive overruns: messages the kernel dropped.",
              c.kernel_drops);
  }
  if (in.pipeline) {
    const FlowPipelineStats& p = *in.pipeline;
    w.Counter("threatwall_flow_records_total", "Flow log records stored.", p.flow_records);
    w.Counter("threatwall_dns_records_total", "DNS log records stored.", p.dns_records);
    w.Counter("threatwall_log_flushes_total", "Flow/DNS log flushes.", p.flushes);
    w.Counter("threatwall_log_store_failures_total", "Flushes the log store refused (records kept).",
              p.store_failures);
    w.Counter("threatwall_log_dropped_records_total", "Records dropped while the log store kept failing.",
              p.dropped_records);
    w.Gauge("threatwall_log_last_flush_seconds", "Duration of the last flush.", Seconds(p.last_flush));
    w.Counter("threatwall_flow_unknown_prefixes_total", "NFLOG prefixes no policy of the program explains.",
              p.flows.unknown_prefixes);
    w.Gauge("threatwall_flow_connections", "Connections tracked by the flow aggregator.", p.flows.connections);
    w.Counter("threatwall_dns_messages_total", "DNS messages seen (queries and responses).",
              p.dns.queries + p.dns.responses);
    w.Counter("threatwall_dns_malformed_total", "DNS packets that did not parse, dropped.", p.dns.malformed);
    w.Counter("threatwall_dns_unanswered_total", "DNS queries without a response in time.", p.dns.unanswered);
  }
  if (in.detector) {
    const detect::DetectorStats& d = *in.detector;
    w.Counter("threatwall_detect_flows_checked_total", "Flow records matched against the feeds.", d.flows_checked);
    w.Counter("threatwall_detect_dns_checked_total", "DNS records matched against the feeds.", d.dns_checked);
    w.Counter("threatwall_events_total", "Security events stored (new ids).", d.events_new);
    w.Counter("threatwall_events_duplicate_total", "Matches whose event id already existed.", d.events_duplicate);
    w.Counter("threatwall_event_errors_total", "Events the log store refused.", d.event_errors);
    w.Counter("threatwall_retro_hunts_total", "Searches of retained logs after a feed gained entries.", d.hunts);
    w.Counter("threatwall_retro_hunt_failures_total", "Retro-hunts that failed.", d.hunt_failures);
    w.Gauge("threatwall_retro_hunt_last_seconds", "Duration of the last retro-hunt.", Seconds(d.last_hunt_duration));
    w.Gauge("threatwall_detect_feeds", "Enabled feeds in the detector's index.", d.feeds);
    w.Gauge("threatwall_detect_ip_prefixes", "IP prefixes in the detector's index.", d.ip_prefixes);
    w.Gauge("threatwall_detect_domains", "Domain names in the detector's index.", d.domains);
    w.Gauge("threatwall_detect_index_bytes", "Memory of the detector's index.", d.index_bytes);
  }
  if (in.webhooks) {
    const webhook::DispatcherStats& h = *in.webhooks;
    w.Counter("threatwall_webhook_published_total", "Events handed to the webhook dispatcher.", h.published);
    w.Counter("threatwall_webhook_overflow_total", "Events dropped: the dispatcher queue was full.", h.overflow);
    struct Field {
      std::string_view name, help;
      uint64_t webhook::WebhookStats::*member;
    };
    static constexpr Field kFields[] = {
        {"threatwall_webhook_sent_total", "Events delivered (2xx).", &webhook::WebhookStats::sent},
        {"threatwall_webhook_failed_total", "Events given up on.", &webhook::WebhookStats::failed},
        {"threatwall_webhook_retried_total", "Delivery attempts after the first.", &webhook::WebhookStats::retried},
        {"threatwall_webhook_dropped_total", "Events dropped (queue full or rate limit).",
         &webhook::WebhookStats::dropped},
    };
    for (const Field& f : kFields) {
      w.Family(f.name, "counter", f.help);
      for (const auto& [name, stats] : h.webhooks) {
        w.Sample(f.name, static_cast<double>(stats.*f.member), "webhook=\"" + LabelValue(name) + "\"");
      }
    }
  }
  if (in.logs) {
    const logstore::LogStoreStats& l = *in.logs;
    w.Gauge("threatwall_log_store_flows", "Flow log records retained.", static_cast<double>(l.flows));
    w.Gauge("threatwall_log_store_dns", "DNS log records retained.", static_cast<double>(l.dns));
    w.Gauge("threatwall_log_store_events", "Security events retained.", static_cast<double>(l.events));
    w.Gauge("threatwall_log_store_bytes", "Live bytes of the log database.", static_cast<double>(l.data_bytes));
  }
  return w.Take();
}

}  // namespace tw::daemon
