#include "store/watch_hub.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <string>
#include <utility>

namespace tw::store {

bool InScope(const Scope& scope, const Key& key) {
  if (!scope.kind.empty() && scope.kind != key.kind) return false;
  if (scope.ns.has_value() && *scope.ns != key.ns) return false;
  return true;
}

size_t EventBytes(const Record& record) {
  const Key& k = record.key;
  return record.value.size() + k.kind.size() + k.ns.size() + k.name.size() + 64;
}

namespace internal {

struct WatcherState {
  WatcherState(Scope s, int64_t after, size_t max_events, size_t max_bytes)
      : scope(std::move(s)), live_after(after), max_events(max_events), max_bytes(max_bytes) {}

  const Scope scope;
  const int64_t live_after;  // only events above it come from the hub
  const size_t max_events;
  const size_t max_bytes;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<WatchEvent>> queue;  // guarded by mu; shared by watchers
  size_t queued_bytes = 0;                        // guarded by mu
  bool closed = false;                            // guarded by mu
  Status status;                                  // guarded by mu

  // Returns false if the watcher is closed (for the hub to prune it).
  bool Offer(const std::shared_ptr<WatchEvent>& event, size_t bytes) {
    std::lock_guard lock(mu);
    if (closed) return false;
    if (event->record.mod_revision <= live_after || !InScope(scope, event->record.key)) return true;
    if (!queue.empty() && (queue.size() >= max_events || queued_bytes + bytes > max_bytes)) {
      // Dropping the backlog is what bounds memory: the client re-lists.
      CloseLocked(Status::Gone("watch fell behind: more than " + std::to_string(queue.size()) + " events (" +
                               std::to_string(queued_bytes) + " bytes) unread; re-list and watch again"));
      return false;
    }
    queue.push_back(event);
    queued_bytes += bytes;
    cv.notify_all();
    return true;
  }

  void Close(Status why) {
    std::lock_guard lock(mu);
    if (!closed) CloseLocked(std::move(why));
  }

  void CloseLocked(Status why) {
    closed = true;
    status = std::move(why);
    queue.clear();
    queued_bytes = 0;
    cv.notify_all();
  }

  bool IsClosed() {
    std::lock_guard lock(mu);
    return closed;
  }
};

}  // namespace internal

namespace {

// Replay pages: small enough that a replay of a long history (or of huge
// values) never holds much memory at once.
constexpr size_t kReplayPageEvents = 256;
constexpr size_t kReplayPageBytes = size_t{16} << 20;

class HubWatch : public Watch {
 public:
  HubWatch(std::shared_ptr<internal::WatcherState> state, int64_t replay_after, int64_t replay_until,
           std::weak_ptr<HistorySource> history)
      : state_(std::move(state)),
        replay_after_(replay_after),
        replay_until_(replay_until),
        history_(std::move(history)) {}

  ~HubWatch() override { Cancel(); }

  std::optional<WatchEvent> Next(std::chrono::milliseconds timeout) override {
    if (state_->IsClosed()) return std::nullopt;
    if (replay_.empty() && replay_after_ < replay_until_) FillReplay();
    if (!replay_.empty()) {
      if (state_->IsClosed()) return std::nullopt;
      WatchEvent event = std::move(replay_.front());
      replay_.pop_front();
      return event;
    }
    std::unique_lock lock(state_->mu);
    state_->cv.wait_for(lock, timeout, [&] { return state_->closed || !state_->queue.empty(); });
    if (state_->closed || state_->queue.empty()) return std::nullopt;
    std::shared_ptr<WatchEvent> event = std::move(state_->queue.front());
    state_->queue.pop_front();
    state_->queued_bytes -= std::min(state_->queued_bytes, EventBytes(event->record));
    lock.unlock();
    // Only queues hold events once Publish has returned, so a sole owner
    // can take the (possibly huge) value instead of copying it.
    if (event.use_count() == 1) return std::move(*event);
    return *event;
  }

  void Cancel() override { state_->Close(Status::Ok()); }

  Status status() const override {
    std::lock_guard lock(state_->mu);
    return state_->status;
  }

 private:
  void FillReplay() {
    std::shared_ptr<HistorySource> history = history_.lock();
    if (!history) {
      state_->Close(Status::Unavailable("watch: the datastore was closed"));
      return;
    }
    Result<std::vector<WatchEvent>> page = history->ReadHistory(state_->scope, replay_after_, replay_until_,
                                                                kReplayPageEvents, kReplayPageBytes);
    if (!page.ok()) {
      state_->Close(page.error());
      return;
    }
    // A byte-capped page may be short, so only an empty page ends replay.
    if (page->empty()) {
      replay_after_ = replay_until_;
      return;
    }
    replay_after_ = page->back().record.mod_revision;
    for (WatchEvent& e : *page) replay_.push_back(std::move(e));
  }

  std::shared_ptr<internal::WatcherState> state_;
  // Replay cursor; only touched by the thread calling Next().
  int64_t replay_after_;
  const int64_t replay_until_;
  std::deque<WatchEvent> replay_;
  std::weak_ptr<HistorySource> history_;
};

}  // namespace

WatchHub::WatchHub(const StoreOptions& options) : options_(options) {}

WatchHub::~WatchHub() {
  std::lock_guard lock(mu_);
  for (auto& w : watchers_) w->Close(Status::Unavailable("watch: the datastore was closed"));
  watchers_.clear();
}

void WatchHub::Publish(EventType type, const Record& record) {
  std::lock_guard lock(mu_);
  if (watchers_.empty()) return;
  auto shared = std::make_shared<WatchEvent>(WatchEvent{type, record});
  const size_t bytes = EventBytes(record);
  std::erase_if(watchers_,
                [&](const std::shared_ptr<internal::WatcherState>& w) { return !w->Offer(shared, bytes); });
}

std::unique_ptr<Watch> WatchHub::NewWatch(const Scope& scope, int64_t after_revision,
                                          int64_t current_revision, std::weak_ptr<HistorySource> history) {
  if (after_revision == 0) after_revision = current_revision;  // "from now"
  const int64_t live_after = std::max(after_revision, current_revision);
  auto state = std::make_shared<internal::WatcherState>(scope, live_after, options_.watch_queue_max_events,
                                                        options_.watch_queue_max_bytes);
  {
    std::lock_guard lock(mu_);
    PruneLocked();
    watchers_.push_back(state);
  }
  return std::make_unique<HubWatch>(std::move(state), after_revision, current_revision, std::move(history));
}

size_t WatchHub::WatcherCountForTest() {
  std::lock_guard lock(mu_);
  PruneLocked();
  return watchers_.size();
}

void WatchHub::PruneLocked() {
  std::erase_if(watchers_, [](const std::shared_ptr<internal::WatcherState>& w) { return w->IsClosed(); });
}

}  // namespace tw::store
