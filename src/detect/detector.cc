#include "detect/detector.h"

#include <algorithm>

#include "base/log.h"
#include "feeds/controller/feed_data.h"
#include "model/kind_rules.h"
#include "model/kinds.h"

namespace tw::detect {

namespace json = boost::json;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

constexpr int kStatusWriteAttempts = 5;
constexpr size_t kMaxConditions = 10;
constexpr milliseconds kLoopTick{100};

json::object ParseObject(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string FeedKind() {
  const model::KindInfo* info = model::FindKind("projectcalico.org/v3", "GlobalThreatFeed");
  return info ? info->StoreKind() : std::string("GlobalThreatFeed");
}

}  // namespace

struct Detector::FeedInfo {
  std::string uid;
  bool enabled = true;
  feeds::Content content = feeds::Content::kIPSet;
  bool match_subdomains = false;
  std::optional<TimePoint> last_search;
  bool operator==(const FeedInfo& o) const {
    // last_search is bookkeeping: it does not change the index.
    return uid == o.uid && enabled == o.enabled && content == o.content && match_subdomains == o.match_subdomains;
  }
};

struct Detector::DataInfo {
  std::string feed_uid;
  feeds::Content content = feeds::Content::kIPSet;
  std::optional<TimePoint> created_at;
  std::string sha256;
  std::shared_ptr<const FeedSet> set;
};

struct Detector::PendingHunt {
  std::string uid;
  IndexedFeed gained;
};

struct Detector::Counters {
  std::atomic<uint64_t> flows_checked{0}, dns_checked{0}, records_matched{0};
  std::atomic<uint64_t> events_new{0}, events_duplicate{0}, event_errors{0};
  std::atomic<uint64_t> hunts{0}, hunt_failures{0}, hunt_records_scanned{0};
  std::atomic<int64_t> last_hunt_us{0};
  std::atomic<uint64_t> index_builds{0};
  std::atomic<int64_t> last_index_build_us{0};
};

Detector::Detector(store::Datastore& store, logstore::LogStore& logs, const Clock& clock, DetectorOptions options,
                   EventSink sink)
    : store_(store),
      logs_(logs),
      clock_(clock),
      options_(options),
      sink_(std::move(sink)),
      feed_kind_(FeedKind()),
      index_(ThreatIndex::Empty()),
      counters_(std::make_unique<Counters>()) {}

Detector::~Detector() { Stop(); }

Status Detector::Start() {
  TW_RETURN_IF_ERROR(LoadLocked());
  stop_ = false;
  loop_ = std::thread([this] { RunLoop(); });
  return Status::Ok();
}

void Detector::Stop() {
  stop_ = true;
  if (loop_.joinable()) loop_.join();
  if (feed_watch_) feed_watch_->Cancel();
  if (data_watch_) data_watch_->Cancel();
}

Status Detector::Load() { return LoadLocked(); }

Status Detector::LoadLocked() {
  int64_t revision = store_.CurrentRevision();
  TW_ASSIGN_OR_RETURN(store::ListResult feeds, store_.List({feed_kind_, std::nullopt}));
  TW_ASSIGN_OR_RETURN(store::ListResult data, store_.List({std::string(feeds::kFeedDataKind), std::nullopt}));
  feeds_.clear();
  for (const store::Record& r : feeds.records) HandleFeed(r);
  // Keep the parsed sets of unchanged data (a reload after a lost watch).
  std::map<std::string, DataInfo> previous = std::move(data_);
  data_.clear();
  for (store::Record& r : data.records) {
    if (auto it = previous.find(r.key.name); it != previous.end()) data_[r.key.name] = std::move(it->second);
    HandleData(r);
    r.value = std::string();
  }
  if (feed_watch_) feed_watch_->Cancel();
  if (data_watch_) data_watch_->Cancel();
  TW_ASSIGN_OR_RETURN(feed_watch_, store_.WatchFrom({feed_kind_, std::nullopt}, revision));
  TW_ASSIGN_OR_RETURN(data_watch_, store_.WatchFrom({std::string(feeds::kFeedDataKind), std::nullopt}, revision));
  Rebuild();
  loaded_once_ = true;
  return Status::Ok();
}

Status Detector::Step(milliseconds wait) {
  if (!feed_watch_) TW_RETURN_IF_ERROR(LoadLocked());
  TW_RETURN_IF_ERROR(ApplyEvents(wait));
  if (dirty_) Rebuild();
  RunHunts();
  return Status::Ok();
}

void Detector::RunLoop() {
  RunHunts();  // the start-up ones
  while (!stop_) {
    if (Status s = ApplyEvents(kLoopTick); !s.ok()) {
      TW_LOG_WARN("detect: watch ended ({}); reloading", s.message());
      if (Status l = LoadLocked(); !l.ok()) {
        TW_LOG_ERROR("detect: reload failed: {}", l.message());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      continue;
    }
    if (dirty_ && std::chrono::steady_clock::now() - last_change_ >= options_.settle) Rebuild();
    RunHunts();
  }
}

Status Detector::ApplyEvents(milliseconds wait) {
  milliseconds next_wait = wait;
  while (!stop_) {
    std::optional<store::WatchEvent> ev = feed_watch_->Next(next_wait);
    next_wait = milliseconds(0);
    if (!ev) break;
    if (ev->type == store::EventType::kDeleted) {
      if (feeds_.erase(ev->record.key.name) > 0) {
        dirty_ = true;
        last_change_ = std::chrono::steady_clock::now();
      }
    } else {
      HandleFeed(ev->record);
    }
  }
  TW_RETURN_IF_ERROR(feed_watch_->status());
  while (std::optional<store::WatchEvent> ev = data_watch_->Next(milliseconds(0))) {
    if (ev->type == store::EventType::kDeleted) {
      if (data_.erase(ev->record.key.name) > 0) {
        dirty_ = true;
        last_change_ = std::chrono::steady_clock::now();
      }
    } else {
      HandleData(ev->record);
    }
  }
  return data_watch_->status();
}

void Detector::HandleFeed(const store::Record& record) {
  json::object obj = ParseObject(record.value);
  FeedInfo info;
  if (const json::object* meta = model::GetObject(obj, "metadata")) {
    info.uid = std::string(model::GetString(*meta, "uid").value_or(""));
    if (const json::object* ann = model::GetObject(*meta, "annotations"))
      info.match_subdomains = model::GetString(*ann, kMatchSubdomainsAnnotation) == "true";
  }
  if (const json::object* spec = model::GetObject(obj, "spec")) {
    info.enabled = model::GetString(*spec, "mode").value_or("Enabled") == "Enabled";  // as ReadFeedSpec
    Result<feeds::Content> content = feeds::ContentFromSpec(json::value(*spec));
    info.content = content.ok() ? *content : feeds::Content::kIPSet;
  }
  if (const json::object* status = model::GetObject(obj, "status"))
    if (auto t = model::GetString(*status, "lastSuccessfulSearch")) info.last_search = ParseRfc3339(*t);
  auto [it, inserted] = feeds_.try_emplace(record.key.name, info);
  if (!inserted && it->second == info) {
    it->second.last_search = info.last_search;
    return;
  }
  it->second = std::move(info);
  dirty_ = true;
  last_change_ = std::chrono::steady_clock::now();
}

void Detector::HandleData(const store::Record& record) {
  std::string_view entries;
  Result<feeds::FeedDataMeta> meta = feeds::DecodeFeedDataView(record.value, &entries);
  if (!meta.ok()) {
    TW_LOG_WARN("detect: ignoring stored set {}: {}", record.key.name, meta.error().message());
    if (data_.erase(record.key.name) > 0) dirty_ = true;
    return;
  }
  DataInfo& d = data_[record.key.name];
  std::optional<TimePoint> created = ParseRfc3339(meta->created_at);
  if (d.set != nullptr && d.sha256 == meta->sha256 && d.content == meta->content && d.feed_uid == meta->feed_uid) {
    d.created_at = created;  // same entries: nothing to re-parse
    return;
  }
  d.feed_uid = meta->feed_uid;
  d.content = meta->content;
  d.created_at = created;
  d.sha256 = meta->sha256;
  d.set = FeedSet::FromEntries(record.key.name, meta->content, entries);
  if (d.set->skipped() > 0)
    TW_LOG_WARN("detect: stored set {}: {} lines are not addresses or CIDRs", record.key.name, d.set->skipped());
  dirty_ = true;
  last_change_ = std::chrono::steady_clock::now();
}

void Detector::Rebuild() {
  dirty_ = false;
  auto started = std::chrono::steady_clock::now();
  std::map<std::string, IndexedFeed> next;
  for (const auto& [name, info] : feeds_) {
    if (!info.enabled) continue;
    auto d = data_.find(name);
    if (d == data_.end() || d->second.set == nullptr) continue;
    if (d->second.feed_uid != info.uid || d->second.content != info.content) continue;  // not (yet) this feed's
    IndexedFeed f{d->second.set, info.match_subdomains && info.content == feeds::Content::kDomainNameSet};

    // What the feed gained since the index was last built.
    std::shared_ptr<const FeedSet> gained;
    auto old = indexed_.find(name);
    if (old == indexed_.end()) {
      bool searched = !loaded_once_ && info.last_search && d->second.created_at &&
                      *d->second.created_at <= *info.last_search;
      if (!searched) gained = f.set;
    } else if (old->second.set == f.set && old->second.match_subdomains == f.match_subdomains) {
      // unchanged
    } else if (f.match_subdomains && !old->second.match_subdomains) {
      gained = f.set;
    } else {
      gained = f.set->GainedSince(old->second.set.get());
    }
    if (gained != nullptr && !gained->empty()) {
      auto [p, inserted] = pending_.try_emplace(name);
      // A hunt still pending from an earlier change: hunt the whole set.
      p->second.uid = info.uid;
      p->second.gained = IndexedFeed{inserted ? gained : f.set, f.match_subdomains};
    }
    next.emplace(name, std::move(f));
  }
  std::vector<IndexedFeed> list;
  list.reserve(next.size());
  for (const auto& [name, f] : next) list.push_back(f);
  std::shared_ptr<const ThreatIndex> index = ThreatIndex::Build(std::move(list));
  indexed_ = std::move(next);
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    index_ = std::move(index);
  }
  auto took = duration_cast<microseconds>(std::chrono::steady_clock::now() - started);
  counters_->index_builds++;
  counters_->last_index_build_us = took.count();
  TW_LOG_INFO("detect: index of {} feeds built in {} ms ({} hunts due)", indexed_.size(), took.count() / 1000,
              pending_.size());
}

void Detector::RunHunts() {
  if (pending_.empty() || stop_) return;
  std::map<std::string, PendingHunt> hunts = std::move(pending_);
  pending_.clear();
  TimePoint started = clock_.Now();
  auto steady_start = std::chrono::steady_clock::now();

  std::vector<IndexedFeed> gained;
  TimePoint since{};  // all retained
  bool all = options_.hunt_scope == HuntScope::kAllRetained;
  std::optional<TimePoint> earliest;
  for (const auto& [name, h] : hunts) {
    gained.push_back(h.gained);
    auto info = feeds_.find(name);
    std::optional<TimePoint> last = info != feeds_.end() ? info->second.last_search : std::nullopt;
    if (!last) {
      all = true;
    } else if (!earliest || *last < *earliest) {
      earliest = last;
    }
  }
  if (!all && earliest) since = *earliest - options_.search_lag;

  std::shared_ptr<const ThreatIndex> delta = ThreatIndex::Build(std::move(gained));
  std::shared_ptr<const ThreatIndex> full = index();
  Status result = Hunt(*delta, *full, since);
  if (stop_ && result.ok()) return;  // abandoned: not a completed search

  auto took = duration_cast<microseconds>(std::chrono::steady_clock::now() - steady_start);
  counters_->hunts++;
  counters_->last_hunt_us = took.count();
  if (!result.ok()) {
    counters_->hunt_failures++;
    TW_LOG_ERROR("detect: retro-hunt failed: {}", result.message());
  }
  TW_LOG_INFO("detect: retro-hunt of {} feeds took {} ms", hunts.size(), took.count() / 1000);
  for (const auto& [name, h] : hunts) WriteSearchStatus(name, h.uid, started, result);
}

Status Detector::Hunt(const ThreatIndex& delta, const ThreatIndex& full, TimePoint since) {
  int64_t now = NowUnix();
  if (delta.has_ip_feeds()) {
    TW_RETURN_IF_ERROR(logs_.ForEachFlowSince(since, [&](const json::object& flow) {
      counters_->hunt_records_scanned++;
      if (!MatchFlow(delta, flow)) return !stop_;
      if (std::optional<FlowHit> hit = MatchFlow(full, flow)) {
        counters_->records_matched++;
        Deliver(BuildFlowEvent(flow, *hit, now));
      }
      return !stop_;
    }));
  }
  if (delta.has_domain_feeds() && !stop_) {
    TW_RETURN_IF_ERROR(logs_.ForEachDnsSince(since, [&](const json::object& dns) {
      counters_->hunt_records_scanned++;
      if (MatchDns(delta, dns).empty()) return !stop_;
      std::vector<DnsHit> hits = MatchDns(full, dns);
      if (!hits.empty()) counters_->records_matched++;
      for (const DnsHit& hit : hits) Deliver(BuildDnsEvent(dns, hit, now));
      return !stop_;
    }));
  }
  return Status::Ok();
}

void Detector::WriteSearchStatus(const std::string& name, const std::string& uid, TimePoint started,
                                 const Status& result) {
  store::Key key{feed_kind_, "", name};
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kStatusWriteAttempts; ++attempt) {
    auto record = store_.Get(key);
    if (!record.ok()) {
      if (!record.error().IsNotFound()) TW_LOG_WARN("detect: {}: reading the feed: {}", name, record.error().message());
      return;
    }
    json::object obj = ParseObject(record->value);
    const json::object* meta = model::GetObject(obj, "metadata");
    if (meta == nullptr || model::GetString(*meta, "uid").value_or("") != uid) return;  // another feed now
    json::object& status = model::EnsureObject(obj, "status");
    json::array conditions;
    if (const json::array* old = model::GetArray(status, "errorConditions"))
      for (const json::value& c : *old)
        if (!result.ok() || !c.is_object() || model::GetString(c.as_object(), "type") != "SearchFailed")
          conditions.push_back(c);
    if (result.ok()) {
      status["lastSuccessfulSearch"] = FormatRfc3339(started);
    } else {
      conditions.push_back(json::object{{"type", "SearchFailed"}, {"message", "retro-hunt: " + result.message()}});
      while (conditions.size() > kMaxConditions) conditions.erase(conditions.begin());
    }
    if (conditions.empty()) {
      status.erase("errorConditions");
    } else {
      status["errorConditions"] = std::move(conditions);
    }
    auto written = store_.Update(key, json::serialize(obj), record->mod_revision);
    if (written.ok()) {
      if (auto it = feeds_.find(name); it != feeds_.end() && result.ok()) it->second.last_search = started;
      return;
    }
    last = written.error();
    if (!last.IsConflict()) break;
  }
  TW_LOG_WARN("detect: {}: status not written: {}", name, last.message());
}

void Detector::OnFlows(std::span<const json::object> flows) {
  if (flows.empty()) return;
  counters_->flows_checked += flows.size();
  std::shared_ptr<const ThreatIndex> idx = index();
  std::vector<std::pair<size_t, FlowHit>> hits = MatchFlows(*idx, flows);
  if (hits.empty()) return;
  counters_->records_matched += hits.size();
  int64_t now = NowUnix();
  for (const auto& [i, hit] : hits) Deliver(BuildFlowEvent(flows[i], hit, now));
}

void Detector::OnDns(std::span<const json::object> records) {
  if (records.empty()) return;
  counters_->dns_checked += records.size();
  std::shared_ptr<const ThreatIndex> idx = index();
  if (!idx->has_domain_feeds()) return;
  int64_t now = NowUnix();
  for (const json::object& dns : records) {
    std::vector<DnsHit> hits = MatchDns(*idx, dns);
    if (hits.empty()) continue;
    counters_->records_matched++;
    for (const DnsHit& hit : hits) Deliver(BuildDnsEvent(dns, hit, now));
  }
}

void Detector::Deliver(const json::object& event) {
  Result<bool> stored = logs_.PutEvent(event);
  if (!stored.ok()) {
    counters_->event_errors++;
    TW_LOG_WARN("detect: storing event {}: {}", model::GetString(event, "id").value_or(""), stored.error().message());
    return;
  }
  if (!*stored) {
    counters_->events_duplicate++;
    return;
  }
  counters_->events_new++;
  if (sink_) sink_(event);
}

int64_t Detector::NowUnix() const {
  return std::chrono::floor<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

std::shared_ptr<const ThreatIndex> Detector::index() const {
  std::lock_guard<std::mutex> lock(index_mu_);
  return index_;
}

DetectorStats Detector::stats() const {
  DetectorStats s;
  const Counters& c = *counters_;
  s.flows_checked = c.flows_checked;
  s.dns_checked = c.dns_checked;
  s.records_matched = c.records_matched;
  s.events_new = c.events_new;
  s.events_duplicate = c.events_duplicate;
  s.event_errors = c.event_errors;
  s.hunts = c.hunts;
  s.hunt_failures = c.hunt_failures;
  s.hunt_records_scanned = c.hunt_records_scanned;
  s.last_hunt_duration = microseconds(c.last_hunt_us.load());
  s.index_builds = c.index_builds;
  s.last_index_build = microseconds(c.last_index_build_us.load());
  std::shared_ptr<const ThreatIndex> idx = index();
  s.feeds = idx->feed_names().size();
  s.ip_prefixes = idx->ip_prefix_count();
  s.domains = idx->domain_count();
  s.index_bytes = idx->MemoryBytes();
  for (size_t i = 0; i < idx->feed_names().size(); ++i) s.index_bytes += idx->feed(static_cast<uint32_t>(i)).MemoryBytes();
  return s;
}

}  // namespace tw::detect
