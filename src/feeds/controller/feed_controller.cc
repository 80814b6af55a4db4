#include "feeds/controller/feed_controller.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>

#include "base/json_text.h"
#include "base/log.h"
#include "base/strings.h"
#include "model/kind_rules.h"
#include "model/kinds.h"
#include "model/validators.h"

namespace tw::feeds {

namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

constexpr size_t kMaxConditions = 10;
constexpr int kStatusWriteAttempts = 5;
constexpr milliseconds kLoopTick{100};

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

// The top-level "metadata" object of a stored object, parsed alone: a set's
// metadata is a few hundred bytes in front of megabytes of nets.
json::object MetadataOf(std::string_view doc) {
  auto member = FindTopLevelMember(doc, "metadata");
  return member ? ParseObject(doc.substr(member->first, member->second - member->first)) : json::object();
}

// A GlobalNetworkSet the feed controller made (Calico's creator label).
bool CreatedByFeeds(std::string_view gns_json) {
  json::object meta_obj = MetadataOf(gns_json);
  const json::object* meta = &meta_obj;
  const json::object* labels = model::GetObject(*meta, "labels");
  auto creator = labels ? model::GetString(*labels, kCreatorLabel) : std::nullopt;
  return creator && *creator == kCreatorValue;
}

// Go's Duration.String() rounded for people: "412µs", "12.3ms", "1.234s", "83.1s".
std::string FormatSeconds(nanoseconds d) {
  double ns = static_cast<double>(d.count());
  char buf[32];
  if (ns < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0fµs", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, ns < 1e10 ? "%.3fs" : "%.1fs", ns / 1e9);
  }
  return buf;
}

// errorConditions: a ring of 10, oldest dropped.
void AddCondition(json::object& status, std::string_view type, std::string message) {
  json::value& v = status["errorConditions"];
  if (!v.is_array()) v = json::array();
  json::array& conds = v.as_array();
  conds.push_back(json::object{{"type", type}, {"message", std::move(message)}});
  while (conds.size() > kMaxConditions) conds.erase(conds.begin());
}

void ClearConditions(json::object& status, std::string_view type) {
  auto it = status.find("errorConditions");
  if (it == status.end() || !it->value().is_array()) return;
  json::array& conds = it->value().as_array();
  json::array kept;
  for (auto& c : conds) {
    const json::object* o = c.if_object();
    auto t = o ? model::GetString(*o, "type") : std::nullopt;
    if (!t || *t != type) kept.push_back(std::move(c));
  }
  conds = std::move(kept);
}

}  // namespace

// ---------------------------------------------------------------------------

struct FeedController::FeedState {
  FeedSpec spec;
  std::string spec_error;  // ReadFeedSpec failed: reported, nothing pulled
  FeedStatusView status;
  std::optional<TimePoint> due;
  int attempt = 0;  // transient failures in a row
  bool in_flight = false;
  int64_t gns_written_revision = 0;
  bool has_data = false;
  FeedDataMeta data;
};

struct FeedController::PullJob {
  std::string feed;
  std::string uid;  // a feed deleted and re-created under the same name is another feed
  int64_t generation = 0;
  std::string sync_request;  // the token without ";force"
  bool force = false;
  Content content = Content::kIPSet;
  FeedFormat format;
  FetchRequest request;
  TimePoint started;
};

struct FeedController::PullOutcome {
  PullJob job;
  Status error;  // fetch or ingest failure
  bool not_modified = false;
  FetchResult fetch;  // body released after ingest
  IngestResult ingest;  // counts; sets released
  std::string entries;  // the set as FeedData entries text
  nanoseconds duration{0};
};

// Worker threads for background mode: jobs in, outcomes out.
class FeedController::Workers {
 public:
  Workers(int n, Fetcher& fetcher, FetchLimits limits, IngestOptions ingest)
      : fetcher_(fetcher), limits_(std::move(limits)), ingest_(std::move(ingest)) {
    limits_.cancel = &cancel_;  // Stop() must not wait for a slow feed server
    for (int i = 0; i < std::max(1, n); ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cancel_ = true;
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Submit(PullJob job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  std::vector<PullOutcome> TakeDone() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<PullOutcome> out = std::move(done_);
    done_.clear();
    return out;
  }

 private:
  void Run() {
    while (true) {
      PullJob job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      PullOutcome out = FeedController::Execute(fetcher_, limits_, ingest_, std::move(job));
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(std::move(out));
    }
  }

  Fetcher& fetcher_;
  FetchLimits limits_;
  IngestOptions ingest_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PullJob> jobs_;
  std::vector<PullOutcome> done_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------

FeedController::FeedController(store::Datastore& store, Fetcher& fetcher, const Clock& clock,
                               FeedControllerOptions options)
    : store_(store),
      fetcher_(fetcher),
      clock_(clock),
      options_(std::move(options)),
      feed_kind_(StoreKindOf("projectcalico.org/v3", "GlobalThreatFeed")),
      gns_kind_(StoreKindOf("projectcalico.org/v3", "GlobalNetworkSet")),
      secret_kind_(StoreKindOf("v1", "Secret")),
      configmap_kind_(StoreKindOf("v1", "ConfigMap")),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {}

FeedController::~FeedController() { Stop(); }

Status FeedController::Start() {
  TW_RETURN_IF_ERROR(LoadLocked());
  workers_ = std::make_unique<Workers>(options_.parallel_pulls, fetcher_, options_.fetch, options_.ingest);
  loop_ = std::thread([this] { RunLoop(); });
  return Status::Ok();
}

void FeedController::Stop() {
  stop_ = true;
  if (loop_.joinable()) loop_.join();
  workers_.reset();
  if (feed_watch_) feed_watch_->Cancel();
  if (gns_watch_) gns_watch_->Cancel();
}

Status FeedController::Load() { return LoadLocked(); }

Status FeedController::LoadLocked() {
  int64_t revision = store_.CurrentRevision();
  feeds_.clear();
  TW_ASSIGN_OR_RETURN(store::ListResult feeds, store_.List({feed_kind_, std::nullopt}));
  for (const store::Record& r : feeds.records) HandleFeedObject(r.value);

  // Stored sets: attach to their feed, or collect when the feed is gone.
  TW_ASSIGN_OR_RETURN(store::ListResult data, store_.List({std::string(kFeedDataKind), std::nullopt}));
  for (store::Record& r : data.records) {
    auto it = feeds_.find(r.key.name);
    std::string_view entries;
    auto meta = DecodeFeedDataView(r.value, &entries);
    bool belongs = it != feeds_.end() && meta.ok() && meta->feed_uid == it->second->spec.uid;
    r.value = std::string();
    if (!belongs) {
      if (!meta.ok()) TW_LOG_WARN("feeds: dropping stored set {}: {}", r.key.name, meta.error().message());
      (void)store_.Delete(r.key, r.mod_revision);
      continue;
    }
    it->second->has_data = true;
    it->second->data = std::move(*meta);
  }
  data.records.clear();
  for (auto& [name, st] : feeds_) {
    // Recompute the schedule now that we know which sets are stored.
    if (!st->spec.has_pull || !st->spec_error.empty()) {
      st->due.reset();
      continue;
    }
    TimePoint now = clock_.Now();
    st->due = FirstDue(*st, now);
    if (!st->spec.sync_request.empty() && st->spec.sync_request != st->status.handled_sync_request) st->due = now;
  }

  // GlobalNetworkSets: repair ours, delete orphans.
  TW_ASSIGN_OR_RETURN(store::ListResult sets, store_.List({gns_kind_, std::nullopt}));
  for (store::Record& r : sets.records) {
    std::string value = std::move(r.value);
    if (!r.key.name.starts_with(kGnsPrefix)) continue;
    std::string feed_name = r.key.name.substr(kGnsPrefix.size());
    if (feeds_.count(feed_name) == 0) {
      if (CreatedByFeeds(value)) {
        TW_LOG_INFO("feeds: deleting GlobalNetworkSet {}: no GlobalThreatFeed {}", r.key.name, feed_name);
        (void)store_.Delete(r.key, r.mod_revision);
      }
    }
  }
  for (auto& [name, st] : feeds_)
    if (Status s = ReconcileGns(*st); !s.ok()) TW_LOG_WARN("feeds: {}: {}", name, s.message());

  if (feed_watch_) feed_watch_->Cancel();
  if (gns_watch_) gns_watch_->Cancel();
  TW_ASSIGN_OR_RETURN(feed_watch_, store_.WatchFrom({feed_kind_, std::nullopt}, revision));
  TW_ASSIGN_OR_RETURN(gns_watch_, store_.WatchFrom({gns_kind_, std::nullopt}, revision));
  return Status::Ok();
}

// A feed just seen (start-up or create): due now, unless its stored set
// came from the current spec less than a period ago (a restart does not
// re-pull a fresh feed).
FeedController::TimePoint FeedController::FirstDue(const FeedState& st, TimePoint now) {
  bool fresh = st.has_data && st.status.last_successful_sync && st.status.synced_generation == st.spec.generation;
  if (!fresh) return now;
  return std::max(now, *st.status.last_successful_sync + duration_cast<std::chrono::system_clock::duration>(st.spec.period));
}

std::optional<FeedController::TimePoint> FeedController::NextDue() const {
  std::optional<TimePoint> best;
  for (const auto& [name, st] : feeds_)
    if (st->due && !st->in_flight && (!best || *st->due < *best)) best = st->due;
  return best;
}

Status FeedController::Step(milliseconds wait) {
  if (!feed_watch_) TW_RETURN_IF_ERROR(LoadLocked());
  TW_RETURN_IF_ERROR(ApplyEvents(wait));
  for (int round = 0; round < 1000; ++round) {
    std::vector<PullJob> jobs = TakeDueJobs(clock_.Now());
    if (jobs.empty()) break;
    for (PullJob& job : jobs) Finish(Execute(fetcher_, options_.fetch, options_.ingest, std::move(job)));
    TW_RETURN_IF_ERROR(ApplyEvents(milliseconds(0)));
  }
  return Status::Ok();
}

void FeedController::RunLoop() {
  while (!stop_) {
    milliseconds wait = kLoopTick;
    if (auto due = NextDue()) {
      auto until = duration_cast<milliseconds>(*due - clock_.Now());
      wait = std::clamp(until, milliseconds(0), kLoopTick);
    }
    if (Status s = ApplyEvents(wait); !s.ok()) {
      TW_LOG_WARN("feeds: watch ended ({}); reloading", s.message());
      if (Status l = LoadLocked(); !l.ok()) {
        TW_LOG_ERROR("feeds: reload failed: {}", l.message());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      continue;
    }
    for (PullJob& job : TakeDueJobs(clock_.Now())) workers_->Submit(std::move(job));
    for (PullOutcome& out : workers_->TakeDone()) Finish(std::move(out));
  }
}

Status FeedController::ApplyEvents(milliseconds wait) {
  // Two watches (feeds, sets) rather than one of every kind: the stored
  // sets' own writes (megabytes each) never reach us as events.
  milliseconds next_wait = wait;
  while (true) {
    std::optional<store::WatchEvent> ev = feed_watch_->Next(next_wait);
    next_wait = milliseconds(0);
    if (!ev) break;
    if (ev->type == store::EventType::kDeleted) {
      HandleFeedDeleted(ev->record.key.name);
    } else {
      HandleFeedObject(ev->record.value);
    }
  }
  TW_RETURN_IF_ERROR(feed_watch_->status());
  while (std::optional<store::WatchEvent> ev = gns_watch_->Next(milliseconds(0)))
    if (ev->record.key.name.starts_with(kGnsPrefix)) HandleGnsEvent(*ev);
  return gns_watch_->status();
}

void FeedController::HandleFeedObject(const std::string& value) {
  json::object obj = ParseObject(value);
  const json::object* meta = model::GetObject(obj, "metadata");
  auto name = meta ? model::GetString(*meta, "name") : std::nullopt;
  if (!name) return;
  auto [it, inserted] = feeds_.try_emplace(std::string(*name));
  if (inserted) it->second = std::make_unique<FeedState>();
  FeedState& st = *it->second;
  FeedSpec old = st.spec;
  bool was_known = !inserted;
  Result<FeedSpec> spec = ReadFeedSpec(obj);
  st.status = ReadFeedStatus(obj);
  TimePoint now = clock_.Now();
  if (!spec.ok()) {
    st.spec.name = std::string(*name);
    st.spec_error = spec.error().message();
    st.due.reset();
    std::string message = "the feed's spec cannot be used: " + st.spec_error;
    (void)WriteFeedStatus(st.spec.name, [&](json::object& status) {
      auto conds = status.find("errorConditions");
      bool present = false;
      if (conds != status.end() && conds->value().is_array())
        for (const auto& c : conds->value().as_array())
          if (c.is_object() && model::GetString(c.as_object(), "message") == message) present = true;
      if (!present) AddCondition(status, "PullFailed", message);
    });
    return;
  }
  st.spec_error.clear();
  st.spec = std::move(*spec);
  if (was_known && old.uid != st.spec.uid) {  // deleted and re-created between two events
    st.has_data = false;
    st.data = {};
  }
  if (!st.spec.has_pull) {
    st.due.reset();
  } else if (!was_known || old.uid != st.spec.uid) {
    st.due = FirstDue(st, now);
    st.attempt = 0;
  } else if (old.generation != st.spec.generation) {
    st.due = now;
    st.attempt = 0;
  }
  if (st.spec.has_pull && !st.spec.sync_request.empty() && st.spec.sync_request != st.status.handled_sync_request &&
      st.spec.sync_request != old.sync_request)
    st.due = now;
  bool gns_changed = !was_known || old.gns_labels != st.spec.gns_labels || old.content != st.spec.content ||
                     old.uid != st.spec.uid;
  if (was_known && gns_changed)
    if (Status s = ReconcileGns(st); !s.ok()) TW_LOG_WARN("feeds: {}: {}", st.spec.name, s.message());
}

void FeedController::HandleFeedDeleted(const std::string& name) {
  feeds_.erase(name);
  if (Status s = DeleteOwnedGns(name); !s.ok()) TW_LOG_WARN("feeds: {}: {}", name, s.message());
  store::Key data_key{std::string(kFeedDataKind), "", name};
  (void)store_.Delete(data_key, 0);
}

void FeedController::HandleGnsEvent(const store::WatchEvent& event) {
  std::string feed_name = event.record.key.name.substr(kGnsPrefix.size());
  auto it = feeds_.find(feed_name);
  if (it == feeds_.end()) {
    if (event.type == store::EventType::kDeleted) return;
    if (CreatedByFeeds(event.record.value)) (void)store_.Delete(event.record.key, event.record.mod_revision);
    return;
  }
  FeedState& st = *it->second;
  if (event.type != store::EventType::kDeleted && event.record.mod_revision == st.gns_written_revision) return;
  if (Status s = ReconcileGns(st); !s.ok()) TW_LOG_WARN("feeds: {}: {}", feed_name, s.message());
}

Status FeedController::DeleteOwnedGns(const std::string& feed_name) {
  store::Key key{gns_kind_, "", GnsNameFor(feed_name)};
  auto current = store_.Get(key);
  if (!current.ok()) return current.error().IsNotFound() ? Status::Ok() : current.error();
  if (!CreatedByFeeds(current->value)) return Status::Ok();  // not ours
  auto deleted = store_.Delete(key, current->mod_revision);
  if (!deleted.ok() && !deleted.error().IsNotFound()) return deleted.error();
  TW_LOG_INFO("feeds: deleted GlobalNetworkSet {}", key.name);
  return Status::Ok();
}

Status FeedController::ReconcileGns(FeedState& st) {
  const FeedSpec& spec = st.spec;
  bool wanted = spec.gns_labels.has_value() && spec.has_pull && spec.content == Content::kIPSet;
  if (spec.gns_labels && spec.content == Content::kDomainNameSet) {
    (void)WriteFeedStatus(spec.name, [](json::object& status) {
      ClearConditions(status, "GlobalNetworkSetSyncFailed");
      AddCondition(status, "GlobalNetworkSetSyncFailed", "sync not supported for domain name set");
    });
  }
  if (!wanted) return DeleteOwnedGns(spec.name);
  if (!st.has_data || st.data.content != Content::kIPSet) return Status::Ok();  // nothing pulled yet

  store::Key data_key{std::string(kFeedDataKind), "", spec.name};
  TW_ASSIGN_OR_RETURN(store::Record data_record, store_.Get(data_key));
  std::string_view entries;
  TW_ASSIGN_OR_RETURN(FeedDataMeta meta, DecodeFeedDataView(data_record.value, &entries));
  std::string desired = RenderGns(meta, spec, entries);
  data_record.value = std::string();

  store::Key key{gns_kind_, "", GnsNameFor(spec.name)};
  auto current = store_.Get(key);
  if (current.ok() && current->value == desired) {
    st.gns_written_revision = current->mod_revision;
    return Status::Ok();
  }
  if (!current.ok() && !current.error().IsNotFound()) return current.error();
  Result<store::Record> written = current.ok() ? store_.Update(key, std::move(desired), current->mod_revision)
                                               : store_.Create(key, std::move(desired));
  if (!written.ok()) {
    std::string message = "writing GlobalNetworkSet " + key.name + " failed: " + written.error().message();
    (void)WriteFeedStatus(spec.name, [&](json::object& status) {
      AddCondition(status, "GlobalNetworkSetSyncFailed", message);
    });
    return written.error();
  }
  st.gns_written_revision = written->mod_revision;
  TW_LOG_INFO("feeds: wrote GlobalNetworkSet {} ({} nets, revision {})", key.name, meta.count,
              written->mod_revision);
  (void)WriteFeedStatus(spec.name, [](json::object& status) { ClearConditions(status, "GlobalNetworkSetSyncFailed"); });
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, std::string>>> FeedController::ResolveHeaders(const FeedSpec& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const HeaderSpec& h : spec.headers) {
    if (h.from == HeaderSpec::From::kValue) {
      out.emplace_back(h.name, h.value);
      continue;
    }
    bool secret = h.from == HeaderSpec::From::kSecret;
    std::string what = std::string(secret ? "secret " : "configmap ") + options_.secrets_namespace + "/" + h.ref_name;
    std::string where = "header " + h.name + ": ";
    store::Key key{secret ? secret_kind_ : configmap_kind_, options_.secrets_namespace, h.ref_name};
    auto record = store_.Get(key);
    if (!record.ok()) {
      if (record.error().IsNotFound()) {
        if (h.optional) continue;
        return Status::NotFound(where + what + " not found");
      }
      return record.error();
    }
    json::object obj = ParseObject(record->value);
    const json::object* data = model::GetObject(obj, "data");
    auto value = data ? model::GetString(*data, h.ref_key) : std::nullopt;
    if (!value) {
      if (h.optional) continue;
      return Status::NotFound(where + what + " has no key " + h.ref_key);
    }
    if (secret) {
      auto decoded = model::Base64Decode(*value);
      if (!decoded) return Status::InvalidArgument(where + what + " key " + h.ref_key + " is not valid base64");
      out.emplace_back(h.name, std::move(*decoded));
    } else {
      out.emplace_back(h.name, std::string(*value));
    }
  }
  return out;
}

std::vector<FeedController::PullJob> FeedController::TakeDueJobs(TimePoint now) {
  std::vector<PullJob> jobs;
  for (auto& [name, st] : feeds_) {
    if (!st->due || st->in_flight || *st->due > now) continue;
    if (auto job = PrepareJob(*st, now)) {
      st->in_flight = true;
      jobs.push_back(std::move(*job));
    }
  }
  return jobs;
}

std::optional<FeedController::PullJob> FeedController::PrepareJob(FeedState& st, TimePoint now) {
  const FeedSpec& spec = st.spec;
  PullJob job;
  job.feed = spec.name;
  job.uid = spec.uid;
  job.generation = spec.generation;
  job.content = spec.content;
  job.format = spec.format;
  job.started = now;
  if (!spec.sync_request.empty() && spec.sync_request != st.status.handled_sync_request) {
    job.force = spec.sync_force;
    job.sync_request = spec.sync_request;
  }
  job.request.url = spec.url;
  auto headers = ResolveHeaders(spec);
  if (!headers.ok()) {
    // Calico: an unresolved header fails the pull; the next try is the next period.
    PullOutcome failed;
    failed.job = std::move(job);
    failed.error = headers.error();
    Finish(std::move(failed));
    return std::nullopt;
  }
  job.request.headers = std::move(*headers);
  // Conditional only while the spec that produced the stored set is current.
  if (st.has_data && st.status.synced_generation == spec.generation && !job.force) {
    job.request.if_none_match = st.status.etag;
    job.request.if_modified_since = st.status.last_modified;
  }
  return job;
}

FeedController::PullOutcome FeedController::Execute(Fetcher& fetcher, const FetchLimits& limits,
                                                    const IngestOptions& ingest, PullJob job) {
  auto start = std::chrono::steady_clock::now();
  PullOutcome out;
  out.job = std::move(job);
  Result<FetchResult> fetched = fetcher.Fetch(out.job.request, limits);
  if (!fetched.ok()) {
    out.error = fetched.error();
  } else if (fetched->not_modified) {
    out.not_modified = true;
    out.fetch = std::move(*fetched);
  } else {
    out.fetch = std::move(*fetched);
    Result<IngestResult> ingested = Ingest(out.fetch.body, out.job.format, out.job.content, ingest);
    out.fetch.body.clear();
    out.fetch.body.shrink_to_fit();
    if (!ingested.ok()) {
      out.error = ingested.error();
    } else {
      out.ingest = std::move(*ingested);
      // Room for the meta line EncodeFeedData appends (reserved pages that
      // are never touched cost no memory).
      constexpr size_t kMetaRoom = 1024;
      if (out.ingest.content == Content::kIPSet) {
        out.entries.reserve(out.ingest.ips.CidrCount() * 20 + kMetaRoom);
        out.ingest.ips.AppendCidrs(&out.entries, /*compact=*/false, "", "\n");
        out.ingest.ips = net::CidrSet();
      } else {
        size_t bytes = kMetaRoom;
        for (const auto& d : out.ingest.domains) bytes += d.size() + 1;
        out.entries.reserve(bytes);
        for (const auto& d : out.ingest.domains) {
          out.entries += d;
          out.entries.push_back('\n');
        }
        out.ingest.domains = {};
      }
    }
  }
  out.duration = std::chrono::steady_clock::now() - start;
  return out;
}

std::chrono::nanoseconds FeedController::Backoff(int attempt) {
  double base = static_cast<double>(duration_cast<nanoseconds>(options_.retry_base).count());
  double d = base * std::pow(2.0, std::max(0, attempt - 1));
  d = std::min(d, static_cast<double>(duration_cast<nanoseconds>(options_.retry_max).count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return nanoseconds(static_cast<int64_t>(d * jitter(rng_)));
}

void FeedController::Finish(PullOutcome out) {
  std::string feed = out.job.feed;
  std::string handled = out.job.sync_request;
  FinishPull(std::move(out));
  // A sync request that arrived while this pull ran gets its own pull.
  auto it = feeds_.find(feed);
  if (it == feeds_.end()) return;
  FeedState& st = *it->second;
  const std::string& pending = st.spec.sync_request;
  if (st.spec.has_pull && !pending.empty() && pending != handled && pending != st.status.handled_sync_request)
    st.due = clock_.Now();
}

void FeedController::FinishPull(PullOutcome out) {
  auto it = feeds_.find(out.job.feed);
  if (it == feeds_.end()) return;  // deleted meanwhile
  FeedState& st = *it->second;
  st.in_flight = false;
  // Changed (or re-created) meanwhile: a pull of the current spec is due already.
  if (st.spec.generation != out.job.generation || st.spec.uid != out.job.uid) return;
  TimePoint now = clock_.Now();
  auto period = duration_cast<std::chrono::system_clock::duration>(st.spec.period);
  const std::string& name = st.spec.name;
  std::string sync_request = out.job.sync_request;

  auto common = [&](json::object& status) {
    status["lastAttempt"] = FormatRfc3339(now);
    status["nextPull"] = st.due ? json::value(FormatRfc3339(*st.due)) : json::value(nullptr);
    if (!sync_request.empty()) status["handledSyncRequest"] = sync_request;
  };

  if (!out.error.ok()) {
    std::string message = "pull failed: " + out.error.message();
    std::string kept = st.has_data ? "the last good set stays in force" : "no set has been pulled yet";
    bool transient = out.error.IsUnavailable();
    if (transient && st.attempt < options_.max_retries) {
      ++st.attempt;
      nanoseconds delay = Backoff(st.attempt);
      st.due = now + duration_cast<std::chrono::system_clock::duration>(delay);
      message += " (retry " + std::to_string(st.attempt) + " of " + std::to_string(options_.max_retries) + " in " +
                 FormatSeconds(delay) + "; " + kept + ")";
    } else {
      st.attempt = 0;
      st.due = now + period;
      message += transient && options_.max_retries > 0
                     ? " (retries exhausted; next pull in one period; " + kept + ")"
                     : " (next pull in one period; " + kept + ")";
    }
    TW_LOG_WARN("feeds: {}: {}", name, message);
    (void)WriteFeedStatus(name, [&](json::object& status) {
      AddCondition(status, "PullFailed", message);
      status["lastPullResult"] = "Failed";
      common(status);
    });
    return;
  }
  st.attempt = 0;
  st.due = now + period;

  if (out.not_modified) {
    TW_LOG_INFO("feeds: {}: not modified since the last pull", name);
    (void)WriteFeedStatus(name, [&](json::object& status) {
      ClearConditions(status, "PullFailed");
      status["lastSuccessfulSync"] = FormatRfc3339(now);
      status["syncedGeneration"] = out.job.generation;
      status["lastPullBytes"] = 0;
      status["lastPullDuration"] = FormatSeconds(out.duration);
      status["lastPullResult"] = "NotModified";
      common(status);
    });
    return;
  }

  const IngestResult& in = out.ingest;
  uint64_t count = in.prefixes;
  double threshold = st.spec.collapse_threshold.value_or(options_.collapse_threshold);
  uint64_t last = st.has_data ? st.data.count : 0;
  if (threshold > 0 && last > 0 && !out.job.force &&
      (count == 0 || static_cast<double>(count) < threshold * static_cast<double>(last))) {
    std::string message = "collapse guard: the pull of " + st.spec.url + " gave " + std::to_string(count) +
                          " entries, below " + std::to_string(static_cast<int>(std::lround(threshold * 100))) +
                          "% of the last good set (" + std::to_string(last) +
                          "); the last good set stays in force. To accept it: threatwall feeds sync " + name +
                          " --force";
    TW_LOG_WARN("feeds: {}: {}", name, message);
    (void)WriteFeedStatus(name, [&](json::object& status) {
      AddCondition(status, "PullFailed", message);
      status["lastPullResult"] = "Held";
      common(status);
    });
    return;
  }

  // Store the set (unless the content is byte-identical to the stored one).
  std::string sha = Sha256Hex(out.entries);
  bool changed = !st.has_data || st.data.sha256 != sha || st.data.content != out.job.content;
  if (changed) {
    FeedDataMeta meta = st.has_data ? st.data : FeedDataMeta{};
    meta.feed = name;
    meta.feed_uid = st.spec.uid;
    meta.content = out.job.content;
    meta.version = st.has_data ? st.data.version + 1 : 1;
    meta.created_at = FormatRfc3339(now);
    if (meta.gns_uid.empty()) meta.gns_uid = NewUuid();
    if (meta.gns_created.empty()) meta.gns_created = FormatRfc3339(now);
    meta.count = count;
    meta.sha256 = sha;
    store::Key key{std::string(kFeedDataKind), "", name};
    std::string value = EncodeFeedData(meta, std::move(out.entries));
    out.entries = std::string();
    // The controller is this record's only writer: no read-before-write
    // (that read would assemble the whole previous set, megabytes).
    // If someone else removed it or left a stale one, the next attempt (a
    // third of the period later) starts from the right state.
    Result<store::Record> written =
        st.has_data ? store_.Update(key, std::move(value), 0) : store_.Create(key, std::move(value));
    if (!written.ok() && written.error().IsNotFound()) st.has_data = false;
    if (!written.ok() && written.error().IsAlreadyExists()) (void)store_.Delete(key, 0);
    if (!written.ok()) {
      // Calico reschedules at period/3 when the store write fails.
      st.due = now + period / 3;
      std::string message = "storing the pulled set failed: " + written.error().message() +
                            " (the last good set stays in force; next pull in a third of the period)";
      TW_LOG_ERROR("feeds: {}: {}", name, message);
      (void)WriteFeedStatus(name, [&](json::object& status) {
        AddCondition(status, "PullFailed", message);
        status["lastPullResult"] = "Failed";
        common(status);
      });
      return;
    }
    st.has_data = true;
    st.data = std::move(meta);
  }
  Status gns = ReconcileGns(st);
  if (!gns.ok()) st.due = now + period / 3;

  TW_LOG_INFO("feeds: {}: pulled {} bytes in {}: {} entries read, {} invalid, {} {} in force{}", name,
              out.fetch.wire_bytes, FormatSeconds(out.duration), in.entries, in.invalid, count,
              out.job.content == Content::kIPSet ? "prefixes" : "domains", changed ? "" : " (unchanged)");
  (void)WriteFeedStatus(name, [&](json::object& status) {
    ClearConditions(status, "PullFailed");
    auto prev = ParseRfc3339(status.contains("lastSuccessfulSync") && status["lastSuccessfulSync"].is_string()
                                 ? std::string_view(status["lastSuccessfulSync"].as_string())
                                 : std::string_view());
    if (!prev || *prev < now) status["lastSuccessfulSync"] = FormatRfc3339(now);
    status["syncedGeneration"] = out.job.generation;
    status["entries"] = count;
    status["entriesRead"] = in.entries;
    status["invalidLines"] = in.invalid;
    json::array examples;
    for (const SkippedLine& s : in.examples)
      examples.push_back(json::object{{"line", s.line}, {"reason", s.reason}, {"text", s.text}});
    status["invalidExamples"] = std::move(examples);
    status["lastPullBytes"] = out.fetch.wire_bytes;
    status["lastPullDuration"] = FormatSeconds(out.duration);
    // Validators of the next conditional pull; absent when the server sent none.
    for (auto [key, value] : {std::pair{"etag", &out.fetch.etag}, std::pair{"lastModified", &out.fetch.last_modified}}) {
      if (value->empty()) {
        status.erase(key);
      } else {
        status[key] = *value;
      }
    }
    status["lastPullResult"] = changed ? "Updated" : "Unchanged";
    common(status);
  });
}

Status FeedController::WriteFeedStatus(const std::string& name,
                                       const std::function<void(json::object&)>& mutate) {
  store::Key key{feed_kind_, "", name};
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kStatusWriteAttempts; ++attempt) {
    auto record = store_.Get(key);
    if (!record.ok()) return record.error().IsNotFound() ? Status::Ok() : record.error();
    json::object obj = ParseObject(record->value);
    if (obj.empty()) return Status::IoError("stored GlobalThreatFeed " + name + " is not a JSON object");
    json::object status;
    if (auto it = obj.find("status"); it != obj.end() && it->value().is_object()) status = it->value().as_object();
    json::object before = status;
    mutate(status);
    if (status == before) return Status::Ok();
    obj["status"] = std::move(status);
    auto written = store_.Update(key, json::serialize(obj), record->mod_revision);
    if (written.ok()) {
      // Keep our view in step, so our own event does not look like news.
      if (auto it = feeds_.find(name); it != feeds_.end()) it->second->status = ReadFeedStatus(obj);
      return Status::Ok();
    }
    last = written.error();
    if (!last.IsConflict()) break;
  }
  TW_LOG_WARN("feeds: {}: status not written: {}", name, last.message());
  return last;
}

}  // namespace tw::feeds
