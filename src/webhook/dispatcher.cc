#include "webhook/dispatcher.h"

#include <algorithm>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "model/kind_rules.h"
#include "model/kinds.h"
#include "model/validators.h"
#include "webhook/event_query.h"

namespace tw::webhook {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

constexpr int kWriteAttempts = 5;
constexpr milliseconds kWatchPoll{200};
constexpr milliseconds kMaxSleep{1000};
constexpr std::string_view kHealthy = "Healthy";
constexpr std::string_view kHealthyMessage = "the webhook is healthy";

std::string StoreKindOf(std::string_view api_version, std::string_view kind) {
  const model::KindInfo* info = model::FindKind(api_version, kind);
  return info ? info->StoreKind() : std::string(kind);
}

json::object ParseObject(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string StringOr(const json::object* o, std::string_view key, std::string fallback = "") {
  if (o == nullptr) return fallback;
  auto s = model::GetString(*o, key);
  return s ? std::string(*s) : fallback;
}

bool Retryable(int http_status) { return http_status == 408 || http_status == 429 || http_status >= 500; }

bool ValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

const json::object* HealthyCondition(const json::object& obj) {
  const json::object* status = model::GetObject(obj, "status");
  const json::array* conditions = status ? model::GetArray(*status, "conditions") : nullptr;
  if (conditions == nullptr) return nullptr;
  for (const json::value& c : *conditions)
    if (c.is_object() && StringOr(&c.as_object(), "type") == kHealthy) return &c.as_object();
  return nullptr;
}

bool IsHealthy(const json::object& obj) {
  const json::object* c = HealthyCondition(obj);
  return c != nullptr && StringOr(c, "status") == "True";
}

// Sets Calico's single Healthy condition; lastTransitionTime moves only
// when status, reason or message change.
void PutCondition(json::object& obj, bool healthy, const std::string& reason, const std::string& message,
                  const std::string& now) {
  std::string status_text = healthy ? "True" : "False";
  if (const json::object* c = HealthyCondition(obj))
    if (StringOr(c, "status") == status_text && StringOr(c, "reason") == reason &&
        StringOr(c, "message") == message)
      return;
  json::object cond{{"type", kHealthy},
                    {"status", status_text},
                    {"reason", reason},
                    {"message", message},
                    {"lastTransitionTime", now}};
  model::EnsureObject(obj, "status")["conditions"] = json::array{std::move(cond)};
}

}  // namespace

// ---- Pure helpers ----------------------------------------------------------------------

json::object ParseLabelsAnnotation(std::string_view text) {
  json::object out;
  for (std::string_view entry : Split(text, ',')) {
    size_t colon = entry.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = TrimSpace(entry.substr(0, colon));
    if (key.empty()) continue;
    out[key] = TrimSpace(entry.substr(colon + 1));
  }
  return out;
}

std::string GenericPayload(const json::object& event, const json::object& labels) {
  json::object payload = event;
  json::object merged;
  if (const json::object* own = model::GetObject(event, "labels")) merged = *own;
  for (const auto& kv : labels) merged[kv.key()] = kv.value();
  payload["labels"] = std::move(merged);
  return json::serialize(payload);
}

Result<std::vector<std::pair<std::string, std::string>>> ParseHeaderLines(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (TrimSpace(line).empty()) continue;
    size_t colon = line.find(':');
    std::string where = "config headers: line " + std::to_string(line_no);
    if (colon == std::string_view::npos) return Status::InvalidArgument(where + ": expected \"Name: value\"");
    std::string_view name = TrimSpace(line.substr(0, colon));
    if (!ValidHeaderName(name))
      return Status::InvalidArgument(where + ": header name " + Quote(name) +
                                     " may hold only letters, digits, '_' and '-'");
    std::string_view value = TrimSpace(line.substr(colon + 1));
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        return Status::InvalidArgument(where + ": header " + std::string(name) +
                                       ": control character in the value");
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

json::object TestEvent(TimePoint now) {
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json::object e;
  e["id"] = "test_" + std::to_string(t);
  e["time"] = t;
  e["type"] = "gtf_suspicious_flow";
  e["description"] =
      "[TEST] pod default/tf-ubuntu connected to suspicious IP 5.196.58.96 which is listed in Global Threat "
      "Feed "
      "test-feed";
  e["severity"] = 100;
  e["origin"] = "Suspicious Flow";
  e["name"] = "Suspicious Flow";
  e["attack_vector"] = "Network";
  e["mitre_tactic"] = "Exfiltration";
  e["mitre_ids"] = json::array{"T1041"};
  e["mitigations"] =
      json::array{"This event is generated for the purpose of webhook testing, no action is required",
                  "Its payload has the shape of a real gtf_suspicious_flow event"};
  e["source_ip"] = "10.244.0.10";
  e["source_port"] = 40000;
  e["source_namespace"] = "default";
  e["source_name"] = "tf-ubuntu";
  e["source_name_aggr"] = "tf-ubuntu";
  e["dest_ip"] = "5.196.58.96";
  e["dest_port"] = 443;
  e["dest_namespace"] = "-";
  e["dest_name"] = "-";
  e["dest_name_aggr"] = "pub";
  e["record"] = json::object{{"flow_action", "deny"},
                             {"flow_log_id", "test"},
                             {"protocol", "tcp"},
                             {"feeds", json::array{"test-feed"}},
                             {"suspicious_prefix", "5.196.58.96/32"}};
  return e;
}

// ---- State -----------------------------------------------------------------------------

// One webhook object, as last seen.
struct WebhookDispatcher::Config {
  std::string fingerprint;  // spec + labels annotation: what a change is
  std::string state;        // Enabled | Disabled | Debug | Test
  EventQuery query;
  json::object labels;
  json::array config;  // spec.config as stored
  // Why nothing can be delivered ("" = valid): a Calico condition reason.
  std::string bad_reason, bad_message;
  bool valid() const { return bad_reason.empty(); }
  bool Delivers() const { return valid() && (state == "Enabled" || state == "Debug"); }
};

struct WebhookDispatcher::Pending {
  std::string event_id;
  std::string payload;
  int attempts = 0;  // made so far
  TimePoint due;
  bool test = false;
};

struct WebhookDispatcher::Hook {
  std::string name;
  std::shared_ptr<const Config> config;
  std::vector<Pending> queue;
  std::deque<TimePoint> recent;  // first attempts inside the rate window
  bool in_flight = false;
  bool stop = false;
  std::atomic<bool> cancel{false};
  std::condition_variable cv;
  std::thread worker;
};

struct WebhookDispatcher::Outcome {
  enum Kind { kDelivered, kFailed, kRetry, kLogged } kind = kFailed;
  int http_status = 0;
  std::string message;
  std::string reason = "SecurityEventsProcessing";  // condition reason on failure
};

WebhookDispatcher::WebhookDispatcher(store::Datastore& store, const Clock& clock, HttpPoster& poster,
                                     WebhookOptions options)
    : store_(store),
      clock_(clock),
      poster_(poster),
      options_(std::move(options)),
      kind_(StoreKindOf("projectcalico.org/v3", "SecurityEventWebhook")),
      secret_kind_(StoreKindOf("v1", "Secret")),
      configmap_kind_(StoreKindOf("v1", "ConfigMap")) {
  options_.max_attempts = std::max(1, options_.max_attempts);
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

// ---- Lifecycle -------------------------------------------------------------------------

Status WebhookDispatcher::Start() {
  if (started_) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    TW_RETURN_IF_ERROR(ListAndApply(/*rewatch=*/true));
  }
  started_ = true;
  router_ = std::thread([this] { RouterLoop(); });
  watcher_ = std::thread([this] { WatchLoop(); });
  return Status::Ok();
}

void WebhookDispatcher::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    unrouted_ += inbound_.size();
    inbound_.clear();
  }
  in_cv_.notify_all();
  if (router_.joinable()) router_.join();
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (watch_) watch_->Cancel();  // wakes the watch thread at once
  }
  if (watcher_.joinable()) watcher_.join();
  std::vector<std::thread> to_join;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, hook] : hooks_) {
      hook->stop = true;
      hook->cancel = true;
      hook->cv.notify_all();
      if (hook->worker.joinable()) to_join.push_back(std::move(hook->worker));
    }
  }
  for (auto& t : to_join) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, hook] : hooks_) {
    stats_[name].abandoned += hook->queue.size();
    hook->queue.clear();
  }
  idle_cv_.notify_all();
}

void WebhookDispatcher::Publish(const json::object& event) {
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    ++published_;
    if (stopping_ || inbound_.size() >= options_.queue_capacity) {
      ++overflow_;
      return;
    }
    inbound_.push_back(event);
  }
  in_cv_.notify_one();
}

Status WebhookDispatcher::Sync() {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return ListAndApply(/*rewatch=*/false);
}

void WebhookDispatcher::Kick() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, hook] : hooks_) hook->cv.notify_all();
}

bool WebhookDispatcher::IdleLocked() const {
  {
    std::lock_guard<std::mutex> in_lock(in_mu_);
    if (!inbound_.empty() || routing_) return false;
  }
  TimePoint now = clock_.Now();
  for (const auto& [name, hook] : hooks_) {
    if (hook->in_flight) return false;
    for (const Pending& p : hook->queue)
      if (p.due <= now) return false;
  }
  return true;
}

bool WebhookDispatcher::WaitIdle(milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::unique_lock<std::mutex> lock(mu_);
  while (!IdleLocked()) {
    // Re-check on every change and at least every 10 ms (the publish queue
    // does not signal idle_cv_).
    if (idle_cv_.wait_for(lock, milliseconds(10)) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline)
      return IdleLocked();
  }
  return true;
}

DispatcherStats WebhookDispatcher::Stats() const {
  DispatcherStats out;
  {
    std::lock_guard<std::mutex> lock(in_mu_);
    out.published = published_;
    out.overflow = overflow_;
    out.unrouted = unrouted_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.webhooks = stats_;
  return out;
}

// ---- Following the store ---------------------------------------------------------------

Status WebhookDispatcher::ListAndApply(bool rewatch) {
  TW_ASSIGN_OR_RETURN(store::ListResult list, store_.List({kind_, std::nullopt}));
  std::set<std::string> seen;
  for (const store::Record& r : list.records) {
    seen.insert(r.key.name);
    ApplyObject(r.key.name, r.value, /*deleted=*/false);
  }
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, hook] : hooks_)
      if (!seen.contains(name)) gone.push_back(name);
  }
  for (const std::string& name : gone) ApplyObject(name, "", /*deleted=*/true);
  applied_revision_ = std::max(applied_revision_, list.revision);
  if (rewatch) {
    TW_ASSIGN_OR_RETURN(std::unique_ptr<store::Watch> watch,
                        store_.WatchFrom({kind_, std::nullopt}, list.revision));
    std::lock_guard<std::mutex> lock(watch_mu_);
    watch_ = std::move(watch);
  }
  return Status::Ok();
}

void WebhookDispatcher::WatchLoop() {
  while (!stopping_) {
    std::optional<store::WatchEvent> ev = watch_->Next(kWatchPoll);
    if (stopping_) break;
    std::lock_guard<std::mutex> lock(apply_mu_);
    if (!ev) {
      Status s = watch_->status();
      if (!s.ok() && !stopping_) {
        TW_LOG_WARN("webhooks: watch ended ({}); listing again", s.message());
        Status relisted = ListAndApply(/*rewatch=*/true);
        if (!relisted.ok()) TW_LOG_WARN("webhooks: list failed: {}", relisted.message());
      }
      continue;
    }
    if (ev->record.mod_revision <= applied_revision_) continue;  // a list already had it
    applied_revision_ = ev->record.mod_revision;
    ApplyObject(ev->record.key.name, ev->record.value, ev->type == store::EventType::kDeleted);
  }
}

void WebhookDispatcher::RemoveHookLocked(const std::string& name, std::vector<std::thread>* to_join) {
  auto it = hooks_.find(name);
  if (it == hooks_.end()) return;
  Hook& hook = *it->second;
  hook.stop = true;
  hook.cancel = true;
  stats_[name].abandoned += hook.queue.size();
  hook.queue.clear();
  hook.cv.notify_all();
  if (hook.worker.joinable()) to_join->push_back(std::move(hook.worker));
  hooks_.erase(it);
  idle_cv_.notify_all();
}

void WebhookDispatcher::ApplyObject(const std::string& name, const std::string& value, bool deleted) {
  if (deleted) {
    std::vector<std::thread> to_join;
    {
      std::lock_guard<std::mutex> lock(mu_);
      RemoveHookLocked(name, &to_join);
    }
    for (auto& t : to_join) t.join();
    return;
  }
  json::object obj = ParseObject(value);
  const json::object* meta = model::GetObject(obj, "metadata");
  const json::object* spec = model::GetObject(obj, "spec");
  const json::object* annotations = meta ? model::GetObject(*meta, "annotations") : nullptr;

  auto cfg = std::make_shared<Config>();
  std::string labels_text = StringOr(annotations, kLabelsAnnotation);
  cfg->fingerprint = (spec ? json::serialize(*spec) : std::string("null")) + "\n" + labels_text;
  cfg->labels = ParseLabelsAnnotation(labels_text);
  cfg->state = StringOr(spec, "state");
  std::string consumer = StringOr(spec, "consumer");
  if (spec != nullptr)
    if (const json::array* c = model::GetArray(*spec, "config")) cfg->config = *c;

  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hooks_.find(name);
    if (it != hooks_.end() && it->second->config->fingerprint == cfg->fingerprint)
      return;  // e.g. our status write
  }

  // Validation, in Calico's order (webhooks-processor startNewInstance).
  auto bad = [&](std::string reason, std::string message) {
    if (cfg->valid()) {
      cfg->bad_reason = std::move(reason);
      cfg->bad_message = std::move(message);
    }
  };
  if (spec == nullptr) bad("WebhookValidation", "the webhook has no spec");
  if (cfg->state == "Disabled") bad("WebhookState", "the webhook has been disabled");
  if (cfg->valid()) {
    auto q = EventQuery::Parse(StringOr(spec, "query"));
    if (q.ok())
      cfg->query = std::move(*q);
    else
      bad("QueryParsing", "spec.query: " + q.error().message());
  }
  if (cfg->valid()) {
    std::string url;
    auto resolved = ResolveConfig(*cfg, &url);
    if (!resolved.ok()) bad("ConfigurationParsing", resolved.error().message());
    if (consumer != "Generic")
      bad("ConsumerDiscovery",
          "unknown consumer: " + consumer + " (threatwall delivers to Generic webhooks only)");
    if (resolved.ok() && url.empty())
      bad("ConsumerConfigurationValidation", "url field is not present in webhook configuration");
    for (const json::value& c : cfg->config)
      if (c.is_object() && StringOr(&c.as_object(), "name") == "template")
        bad("ConsumerConfigurationValidation", "config template: payload templates are not supported");
  }

  bool created = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Hook>& hook = hooks_[name];
    if (!hook) {
      hook = std::make_shared<Hook>();
      hook->name = name;
      created = true;
    }
    hook->config = cfg;
    stats_[name];  // present from now on
    if (!cfg->Delivers()) {
      stats_[name].abandoned += hook->queue.size();
      hook->queue.clear();
    }
    if (cfg->valid() && cfg->state == "Test") {
      Pending p;
      p.test = true;
      p.due = clock_.Now();
      json::object event = TestEvent(p.due);
      p.event_id = std::string(event["id"].as_string());
      p.payload = GenericPayload(event, cfg->labels);
      hook->queue.push_back(std::move(p));
    }
    if (created) hook->worker = std::thread([this, h = hook] { WorkerLoop(h); });
    hook->cv.notify_all();
  }
  TW_LOG_INFO("webhooks: {} {} (state {}{}{})", name, created ? "added" : "changed", cfg->state,
              cfg->valid() ? "" : ", not delivering: ", cfg->bad_message);
  if (!cfg->valid()) SetCondition(name, false, cfg->bad_reason, cfg->bad_message);
  // A healthy condition (a delivery, a test fire) is not overwritten.
  else if (cfg->state != "Test")
    SetCondition(name, true, "WebhookValidation", std::string(kHealthyMessage), /*keep_healthy=*/true);
}

// ---- Routing and delivery --------------------------------------------------------------

void WebhookDispatcher::RouterLoop() {
  for (;;) {
    json::object event;
    {
      std::unique_lock<std::mutex> lock(in_mu_);
      in_cv_.wait(lock, [&] { return stopping_ || !inbound_.empty(); });
      if (stopping_) return;
      event = std::move(inbound_.front());
      inbound_.pop_front();
      routing_ = true;
    }
    Route(event);
    {
      std::lock_guard<std::mutex> lock(in_mu_);
      routing_ = false;
    }
    std::lock_guard<std::mutex> lock(mu_);
    idle_cv_.notify_all();
  }
}

void WebhookDispatcher::Route(const json::object& event) {
  std::lock_guard<std::mutex> lock(mu_);
  TimePoint now = clock_.Now();
  for (auto& [name, hook] : hooks_) {
    const Config& cfg = *hook->config;
    if (!cfg.Delivers() || !cfg.query.Matches(event)) continue;
    WebhookStats& st = stats_[name];
    ++st.matched;
    if (hook->queue.size() >= options_.webhook_queue_capacity) {
      ++st.dropped;
      continue;
    }
    Pending p;
    if (auto id = model::GetString(event, "id")) p.event_id = std::string(*id);
    p.payload = GenericPayload(event, cfg.labels);
    p.due = now;
    hook->queue.push_back(std::move(p));
    hook->cv.notify_all();
  }
}

std::chrono::nanoseconds WebhookDispatcher::Backoff(int attempt) const {
  // attempt 1 failed -> base, 2 -> 2 base, 3 -> 4 base ... capped.
  nanoseconds d = options_.retry_base;
  for (int i = 1; i < attempt && d < options_.retry_max; ++i) d *= 2;
  return std::min<nanoseconds>(d, options_.retry_max);
}

void WebhookDispatcher::WorkerLoop(std::shared_ptr<Hook> hook) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!hook->stop) {
    if (hook->queue.empty()) {
      hook->cv.wait(lock);
      continue;
    }
    TimePoint now = clock_.Now();
    auto next = std::min_element(hook->queue.begin(), hook->queue.end(),
                                 [](const Pending& a, const Pending& b) { return a.due < b.due; });
    if (next->due > now) {
      hook->cv.wait_for(lock, std::min<nanoseconds>(next->due - now, kMaxSleep));
      continue;
    }
    Pending item = std::move(*next);
    hook->queue.erase(next);
    std::shared_ptr<const Config> cfg = hook->config;
    WebhookStats& st = stats_[hook->name];  // entries are never erased: stays valid
    // Rate limit: first attempts of real events only.
    if (!item.test && item.attempts == 0 && cfg->state == "Enabled" && options_.rate_limit_count > 0) {
      while (!hook->recent.empty() && hook->recent.front() <= now - options_.rate_limit_window)
        hook->recent.pop_front();
      if (hook->recent.size() >= static_cast<size_t>(options_.rate_limit_count)) {
        ++st.dropped;
        ++st.rate_limited;
        idle_cv_.notify_all();
        continue;
      }
      hook->recent.push_back(now);
    }
    hook->in_flight = true;
    lock.unlock();
    Outcome outcome = Deliver(*hook, *cfg, item);
    ++item.attempts;
    bool stopped;
    lock.lock();
    stopped = hook->stop;
    if (outcome.kind == Outcome::kRetry && item.attempts >= options_.max_attempts)
      outcome.kind = Outcome::kFailed;
    switch (outcome.kind) {
      case Outcome::kDelivered:
        ++st.sent;
        break;
      case Outcome::kFailed:
        ++st.failed;
        break;
      case Outcome::kLogged:
        ++st.logged;
        break;
      case Outcome::kRetry:
        if (stopped) {
          ++st.abandoned;
        } else {
          ++st.retried;
          item.due = clock_.Now() + Backoff(item.attempts);
          hook->queue.push_back(item);
        }
        break;
    }
    bool final_outcome = outcome.kind == Outcome::kDelivered || outcome.kind == Outcome::kFailed;
    if (final_outcome && !stopped) {
      // Status write outside the lock, still "in flight" for WaitIdle.
      lock.unlock();
      Record(hook->name, item, outcome);
      lock.lock();
    }
    hook->in_flight = false;
    idle_cv_.notify_all();
  }
}

Result<std::vector<std::pair<std::string, std::string>>> WebhookDispatcher::ResolveConfig(
    const Config& config, std::string* url) {
  std::vector<std::pair<std::string, std::string>> headers;
  url->clear();
  for (const json::value& v : config.config) {
    if (!v.is_object()) continue;
    const json::object& c = v.as_object();
    std::string name = StringOr(&c, "name");
    if (name != "url" && name != "headers") continue;  // others are not the Generic consumer's
    std::string value;
    if (auto plain = model::GetString(c, "value")) {
      value = std::string(*plain);
    } else if (const json::object* from = model::GetObject(c, "valueFrom")) {
      const json::object* ref = model::GetObject(*from, "secretKeyRef");
      bool secret = ref != nullptr;
      if (!secret) ref = model::GetObject(*from, "configMapKeyRef");
      if (ref == nullptr)
        return Status::InvalidArgument("config " + name + ": valueFrom names no key reference");
      std::string ref_name = StringOr(ref, "name"), ref_key = StringOr(ref, "key");
      std::string what =
          std::string(secret ? "secret " : "configmap ") + options_.secrets_namespace + "/" + ref_name;
      auto record =
          store_.Get({secret ? secret_kind_ : configmap_kind_, options_.secrets_namespace, ref_name});
      if (!record.ok()) {
        if (record.error().IsNotFound())
          return Status::NotFound("config " + name + ": " + what + " not found");
        return record.error();
      }
      json::object obj = ParseObject(record->value);
      const json::object* data = model::GetObject(obj, "data");
      auto raw = data ? model::GetString(*data, ref_key) : std::nullopt;
      if (!raw)
        return Status::NotFound("config " + name + ": key '" + ref_key + "' not found in the " + what);
      if (secret) {
        auto decoded = model::Base64Decode(*raw);
        if (!decoded)
          return Status::InvalidArgument("config " + name + ": " + what + " key " + ref_key +
                                         " is not valid base64");
        value = std::move(*decoded);
      } else {
        value = std::string(*raw);
      }
    } else {
      return Status::InvalidArgument("config " + name + ": one of value or valueFrom is required");
    }
    if (name == "url") {
      *url = std::string(TrimSpace(value));
    } else {
      TW_ASSIGN_OR_RETURN(auto parsed, ParseHeaderLines(value));
      for (auto& h : parsed) headers.push_back(std::move(h));
    }
  }
  return headers;
}

WebhookDispatcher::Outcome WebhookDispatcher::Deliver(Hook& hook, const Config& config, const Pending& item) {
  Outcome out;
  if (config.state == "Debug" && !item.test) {
    TW_LOG_INFO("webhooks: {} (Debug state): not sent: {}", hook.name, item.payload);
    out.kind = Outcome::kLogged;
    return out;
  }
  PostRequest request;
  auto headers = ResolveConfig(config, &request.url);
  if (!headers.ok()) {
    out.kind = Outcome::kFailed;
    out.reason = "ConfigurationParsing";
    out.message = headers.error().message();
    return out;
  }
  request.headers = std::move(*headers);
  request.body = item.payload;
  PostOptions post = options_.post;
  post.cancel = &hook.cancel;
  Result<PostResponse> response = poster_.Post(request, post);
  if (!response.ok()) {
    out.message = response.error().message();
    out.kind = response.error().IsUnavailable() ? Outcome::kRetry : Outcome::kFailed;
    return out;
  }
  out.http_status = response->status;
  if (response->status >= 200 && response->status < 300) {
    out.kind = Outcome::kDelivered;
    out.message = "HTTP " + std::to_string(response->status);
    return out;
  }
  // Calico's wording: "unexpected response [503]:<body>".
  std::string body = response->body.substr(0, 200);
  out.message = "unexpected response [" + std::to_string(response->status) + "]:" + body;
  out.kind = Retryable(response->status) ? Outcome::kRetry : Outcome::kFailed;
  return out;
}

// ---- Status ----------------------------------------------------------------------------

void WebhookDispatcher::Record(const std::string& name, const Pending& item, const Outcome& outcome) {
  bool ok = outcome.kind == Outcome::kDelivered;
  if (!ok)
    TW_LOG_WARN("webhooks: {}: event {} not delivered after {} attempt(s): {}", name, item.event_id,
                item.attempts, outcome.message);
  std::string now = FormatRfc3339(clock_.Now());
  if (item.test) {
    // Calico: testResult annotation, Healthy condition and state back to
    // Enabled, in one write.
    std::string result =
        now + ": " + (ok ? "delivered (" + outcome.message + ")" : "failed: " + outcome.message);
    Status s = WriteObject(name, [&](json::object& obj) {
      json::object& meta = model::EnsureObject(obj, "metadata");
      model::EnsureObject(meta, "annotations")[kTestResultAnnotation] = result;
      model::EnsureObject(obj, "spec")["state"] = "Enabled";
      if (options_.write_status)
        PutCondition(obj, ok, "TestFireProcedure", ok ? std::string(kHealthyMessage) : outcome.message, now);
    });
    if (!s.ok()) TW_LOG_WARN("webhooks: {}: test result not written: {}", name, s.message());
    return;
  }
  if (!options_.write_status) return;
  Status s = WriteObject(name, [&](json::object& obj) {
    json::object& status = model::EnsureObject(obj, "status");
    json::object last{{"time", now},
                      {"eventId", item.event_id},
                      {"result", ok ? "Delivered" : "Failed"},
                      {"attempts", item.attempts},
                      {"httpStatus", outcome.http_status},
                      {"message", outcome.message}};
    status["lastDelivery"] = std::move(last);
    PutCondition(obj, ok, ok ? "SecurityEventsProcessing" : outcome.reason,
                 ok ? std::string(kHealthyMessage) : outcome.message, now);
  });
  if (!s.ok()) TW_LOG_WARN("webhooks: {}: status not written: {}", name, s.message());
}

void WebhookDispatcher::SetCondition(const std::string& name, bool healthy, const std::string& reason,
                                     const std::string& message, bool keep_healthy) {
  if (!options_.write_status) return;
  std::string now = FormatRfc3339(clock_.Now());
  Status s = WriteObject(name, [&](json::object& obj) {
    if (keep_healthy && IsHealthy(obj)) return;
    PutCondition(obj, healthy, reason, message, now);
  });
  if (!s.ok()) TW_LOG_WARN("webhooks: {}: condition not written: {}", name, s.message());
}

Status WebhookDispatcher::WriteObject(const std::string& name,
                                      const std::function<void(json::object&)>& mutate) {
  store::Key key{kind_, "", name};
  Status last;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto record = store_.Get(key);
    if (!record.ok()) return record.error().IsNotFound() ? Status::Ok() : record.error();
    json::object obj = ParseObject(record->value);
    if (obj.empty()) return Status::IoError("stored SecurityEventWebhook " + name + " is not a JSON object");
    json::object before = obj;
    mutate(obj);
    if (obj == before) return Status::Ok();
    auto written = store_.Update(key, json::serialize(obj), record->mod_revision);
    if (written.ok()) return Status::Ok();
    last = written.error();
    if (!last.IsConflict()) break;
  }
  return last;
}

}  // namespace tw::webhook
