// WebhookDispatcher: delivers security events to SecurityEventWebhooks
// (calico-semantics.md §2.3; Calico's webhooks-processor).  The detector
// calls Publish(event) for every new event; the dispatcher follows the
// SecurityEventWebhook objects in the datastore (list + watch) and posts
// each event to every webhook whose state and query want it.
//
// Threads and guarantees:
//  * Publish() never blocks on the network or the store: it appends to a
//    bounded in-memory queue (options.queue_capacity) under a short lock;
//    a full queue drops the event and counts it (Stats().overflow).
//  * A router thread matches each published event against every webhook's
//    query and appends the rendered payload to that webhook's own bounded
//    queue (options.webhook_queue_capacity; full = dropped, counted).
//  * Every webhook has its own worker thread, so a slow or dead receiver
//    delays only its own events.  A worker picks the pending event whose
//    next attempt is due first (events of one webhook are not strictly
//    FIFO while some of them wait for a retry).
//  * A watch thread follows the store; objects are re-read on every change
//    (a status write of ours that leaves spec and annotations alone is a
//    no-op).  Secret / ConfigMap values (config valueFrom) are read from
//    options.secrets_namespace (Calico: tigera-intrusion-detection) at
//    each post, so a rotated token is used at once.
//
// Per webhook (spec.state, Calico's meaning):
//  * Enabled  -- events that match spec.query are delivered.
//  * Disabled -- nothing is delivered; events pending for it are abandoned.
//  * Debug    -- matching events are logged (payload at info level), not
//    sent (Calico: "Processing Security Events for a webhook in 'Debug'
//    state", no request made).
//  * Test     -- one test event (a gtf_suspicious_flow sample whose
//    description starts with "[TEST]") is delivered with the usual retries;
//    then, as Calico does, the annotation webhooks.projectcalico.org/
//    testResult records the outcome and spec.state is set to Enabled.
//    Real events are not delivered while the state is Test.
//
// Generic consumer (the only one implemented; Slack / Jira / AlertManager
// webhooks are reported unhealthy with reason ConsumerDiscovery):
//  * POST to config "url" of the event JSON plus "labels": the key:value
//    pairs of annotation webhooks.projectcalico.org/labels ("k:v,k2:v2";
//    spaces around keys and values trimmed) -- Calico's
//    GenericProviderPayload.  When the event already has a "labels" object
//    the annotation's pairs are merged over it.
//  * Content-Type: application/json unless config "headers" (Calico: lines
//    "Name: value", names [A-Za-z0-9_-]+) sets it.  Config "template"
//    (Calico's Go template) is not supported: the webhook is reported
//    unhealthy rather than sent a payload of another shape.
//  * Retries: 2xx = delivered.  HTTP 408, 429, 5xx and transport errors
//    (connection refused, timeout, reset) are retried after retry_base,
//    2x, 4x ... capped at retry_max, up to max_attempts attempts in all;
//    other statuses (3xx, 4xx) and configuration errors fail at once.
//  * Rate limit (Calico's Generic provider: 100 events per hour): events
//    over options.rate_limit_count per rate_limit_window are dropped and
//    counted (0 = no limit).
//
// Status written to the object, only when something changed.  Calico's
// status is a bare list of conditions; ours is an object holding that list
// (our schema types status as an object, so `get -o yaml | replace` of a
// webhook keeps validating):
//   status.conditions: [{type: Healthy, status: "True"|"False", reason,
//     message, lastTransitionTime}] with Calico's reasons: WebhookValidation
//     ("the webhook is healthy"), WebhookState ("the webhook has been
//     disabled"), QueryParsing, ConfigurationParsing, ConsumerDiscovery,
//     ConsumerConfigurationValidation, SecurityEventsProcessing (after a
//     delivery), TestFireProcedure.
//   status.lastDelivery: {time, eventId, result: Delivered|Failed,
//     attempts, httpStatus, message}.
// Counters (Stats()) live in memory only.
//
// Testing: every time comes from the Clock.  With a FakeClock, Advance()
// the clock and call Kick() to wake the workers; WaitIdle() returns once
// nothing is due now (no queued event, no due retry, no post in flight).
#ifndef TW_WEBHOOK_DISPATCHER_H_
#define TW_WEBHOOK_DISPATCHER_H_

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "store/datastore.h"
#include "webhook/http_poster.h"

namespace tw::webhook {

inline constexpr std::string_view kLabelsAnnotation = "webhooks.projectcalico.org/labels";
inline constexpr std::string_view kTestResultAnnotation = "webhooks.projectcalico.org/testResult";

struct WebhookOptions {
  std::string secrets_namespace = "tigera-intrusion-detection";
  size_t queue_capacity = 10000;         // Publish() queue
  size_t webhook_queue_capacity = 1000;  // events waiting per webhook
  int max_attempts = 5;                  // first try + 4 retries
  std::chrono::milliseconds retry_base{std::chrono::seconds(1)};
  std::chrono::milliseconds retry_max{std::chrono::minutes(1)};
  int rate_limit_count = 100;  // per window; 0 = no limit
  std::chrono::milliseconds rate_limit_window{std::chrono::hours(1)};
  PostOptions post;          // timeouts, ca_file, allow_dns
  bool write_status = true;  // status.conditions / lastDelivery
};

// Counters of one webhook since the dispatcher started.
struct WebhookStats {
  uint64_t matched = 0;       // events its query accepted
  uint64_t sent = 0;          // delivered (2xx)
  uint64_t failed = 0;        // given up: non-retryable answer or attempts exhausted
  uint64_t retried = 0;       // attempts after the first
  uint64_t dropped = 0;       // its queue was full, or over the rate limit
  uint64_t rate_limited = 0;  // of `dropped`: over the rate limit
  uint64_t abandoned = 0;     // pending when it was disabled, deleted or the dispatcher stopped
  uint64_t logged = 0;        // Debug state: logged instead of sent
};

struct DispatcherStats {
  uint64_t published = 0;                        // Publish() calls
  uint64_t overflow = 0;                         // dropped by Publish(): queue full
  uint64_t unrouted = 0;                         // still in the Publish() queue at Stop()
  std::map<std::string, WebhookStats> webhooks;  // by webhook name (also deleted ones)
};

class WebhookDispatcher {
 public:
  // `store`, `clock` and `poster` must outlive the dispatcher.
  WebhookDispatcher(store::Datastore& store, const Clock& clock, HttpPoster& poster, WebhookOptions options);
  ~WebhookDispatcher();  // Stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Lists the webhooks, starts the watch, router and worker threads.
  // Errors: the store's (list / watch).
  Status Start();
  // Stops every thread (posts in flight are cancelled) and counts the
  // events still pending as abandoned.  Idempotent; no thread is left.
  void Stop();

  // Thread-safe, never blocks on I/O.  Events published before Start() wait
  // in the queue.
  void Publish(const boost::json::object& event);

  // Re-lists the webhooks now and applies them (the watch does this on its
  // own; tests call it to be sure a store write has been seen).
  Status Sync();
  // Wakes the workers to re-check the clock (after FakeClock::Advance).
  void Kick();
  // Blocks until nothing is due at clock.Now(): the publish queue is empty
  // and no webhook has a post in flight or an event due.  `limit` guards
  // against a hung test; false when it passed.
  bool WaitIdle(std::chrono::milliseconds limit = std::chrono::seconds(30));

  DispatcherStats Stats() const;

 private:
  struct Config;
  struct Pending;
  struct Hook;

  void RouterLoop();
  void WatchLoop();
  void WorkerLoop(std::shared_ptr<Hook> hook);
  Status ListAndApply(bool rewatch);
  void ApplyObject(const std::string& name, const std::string& value, bool deleted);
  void Route(const boost::json::object& event);
  struct Outcome;
  Outcome Deliver(Hook& hook, const Config& config, const Pending& item);
  void Record(const std::string& name, const Pending& item, const Outcome& outcome);
  Result<std::vector<std::pair<std::string, std::string>>> ResolveConfig(const Config& config,
                                                                         std::string* url);
  // Re-reads object `name`, applies `mutate` to it and writes it back when
  // it changed (5 tries on conflicts).  NotFound is OK (deleted meanwhile).
  Status WriteObject(const std::string& name, const std::function<void(boost::json::object&)>& mutate);
  // Writes the Healthy condition; keep_healthy: not over a "True" one.
  void SetCondition(const std::string& name, bool healthy, const std::string& reason,
                    const std::string& message, bool keep_healthy = false);
  void RemoveHookLocked(const std::string& name, std::vector<std::thread>* to_join);
  bool IdleLocked() const;
  std::chrono::nanoseconds Backoff(int attempt) const;

  store::Datastore& store_;
  const Clock& clock_;
  HttpPoster& poster_;
  WebhookOptions options_;
  std::string kind_, secret_kind_, configmap_kind_;

  // Publish queue.
  mutable std::mutex in_mu_;
  std::condition_variable in_cv_;
  std::deque<boost::json::object> inbound_;
  bool routing_ = false;  // the router holds an event it has not placed yet
  uint64_t published_ = 0, overflow_ = 0, unrouted_ = 0;

  // Webhooks, their queues and stats.
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::string, std::shared_ptr<Hook>> hooks_;
  std::map<std::string, WebhookStats> stats_;

  std::mutex apply_mu_;  // serialises ListAndApply / watch events
  int64_t applied_revision_ = 0;
  std::mutex watch_mu_;  // guards replacing watch_ (Stop cancels it)
  std::unique_ptr<store::Watch> watch_;

  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::thread router_, watcher_;
};

// The Generic consumer's payload: `event` plus "labels" (see above).
std::string GenericPayload(const boost::json::object& event, const boost::json::object& labels);
// Annotation "k:v,k2:v2" -> {"k": "v", "k2": "v2"} (entries without ':' ignored).
boost::json::object ParseLabelsAnnotation(std::string_view text);
// Config "headers": lines "Name: value".  InvalidArgument naming the line.
Result<std::vector<std::pair<std::string, std::string>>> ParseHeaderLines(std::string_view text);
// The event sent in the Test state (Generic consumer), at `now`.
boost::json::object TestEvent(std::chrono::system_clock::time_point now);

}  // namespace tw::webhook

#endif  // TW_WEBHOOK_DISPATCHER_H_
