#include "store/mem_store.h"

#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "store/checks.h"
#include "store/watch_hub.h"

namespace tw::store {

class MemStore::Impl : public HistorySource {
 public:
  explicit Impl(StoreOptions options) : options_(options), hub_(options) {}

  Result<Record> Get(const Key& key) {
    TW_RETURN_IF_ERROR(CheckKey("get", key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFoundError("get", key);
    return it->second;
  }

  Result<ListResult> List(const Scope& scope) {
    TW_RETURN_IF_ERROR(CheckListScope(scope));
    std::lock_guard lock(mu_);
    ListResult result;
    result.revision = revision_;
    // Keys order by (kind, ns, name), so a scope is one contiguous range.
    Key start{scope.kind, scope.ns.value_or(""), ""};
    for (auto it = objects_.lower_bound(start); it != objects_.end() && InScope(scope, it->first); ++it) {
      result.records.push_back(it->second);
    }
    return result;
  }

  Result<Record> Create(const Key& key, std::string value) {
    TW_RETURN_IF_ERROR(CheckKey("create", key));
    TW_RETURN_IF_ERROR(CheckValue("create", key, value, options_));
    std::lock_guard lock(mu_);
    if (objects_.contains(key)) return AlreadyExistsError(key);
    const int64_t rev = revision_ + 1;
    Record record{key, std::move(value), rev, rev};
    objects_.emplace(key, record);
    CommitLocked(EventType::kAdded, record);
    return record;
  }

  Result<Record> Update(const Key& key, std::string value, int64_t expected) {
    TW_RETURN_IF_ERROR(CheckKey("update", key));
    TW_RETURN_IF_ERROR(CheckValue("update", key, value, options_));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFoundError("update", key);
    TW_RETURN_IF_ERROR(CheckPrecondition("update", key, expected, it->second.mod_revision));
    it->second.value = std::move(value);
    it->second.mod_revision = revision_ + 1;
    Record record = it->second;
    CommitLocked(EventType::kModified, record);
    return record;
  }

  Result<Record> Delete(const Key& key, int64_t expected) {
    TW_RETURN_IF_ERROR(CheckKey("delete", key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFoundError("delete", key);
    TW_RETURN_IF_ERROR(CheckPrecondition("delete", key, expected, it->second.mod_revision));
    Record record = std::move(it->second);
    objects_.erase(it);
    record.mod_revision = revision_ + 1;
    CommitLocked(EventType::kDeleted, record);
    return record;
  }

  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after,
                                           std::weak_ptr<HistorySource> self) {
    std::lock_guard lock(mu_);
    TW_RETURN_IF_ERROR(CheckWatchFrom(after, compacted_));
    return hub_.NewWatch(scope, after, revision_, std::move(self));
  }

  int64_t CurrentRevision() {
    std::lock_guard lock(mu_);
    return revision_;
  }

  int64_t CompactedRevision() {
    std::lock_guard lock(mu_);
    return compacted_;
  }

  Status Compact(int64_t revision) {
    std::lock_guard lock(mu_);
    if (revision > revision_) {
      return Status::InvalidArgument("compact: revision " + std::to_string(revision) +
                                     " is in the future (current: " + std::to_string(revision_) + ")");
    }
    CompactLocked(revision);
    return Status::Ok();
  }

  Result<std::vector<WatchEvent>> ReadHistory(const Scope& scope, int64_t after, int64_t until,
                                              size_t max_events, size_t max_bytes) override {
    std::lock_guard lock(mu_);
    if (after < compacted_) {
      return Status::Gone("watch: revision " + std::to_string(after) +
                          " was compacted while the watch replayed it");
    }
    std::vector<WatchEvent> out;
    size_t bytes = 0;
    // history_ holds exactly the revisions (compacted_, revision_], in order.
    size_t index = static_cast<size_t>(after - compacted_);
    for (; index < history_.size() && out.size() < max_events; ++index) {
      const WatchEvent& e = history_[index];
      if (e.record.mod_revision > until) break;
      if (!InScope(scope, e.record.key)) continue;
      if (!out.empty() && bytes + e.record.value.size() > max_bytes) break;
      bytes += e.record.value.size();
      out.push_back(e);
    }
    return out;
  }

 private:
  void CommitLocked(EventType type, const Record& record) {
    revision_ = record.mod_revision;
    history_bytes_ += static_cast<int64_t>(EventBytes(record));
    hub_.Publish(type, record);
    history_.push_back(WatchEvent{type, record});
    if (int64_t target = RevisionCompactionTarget(options_, revision_, compacted_); target > 0) {
      CompactLocked(target);
    }
    if (NeedsByteCompaction(options_, history_bytes_)) {
      const int64_t goal = ByteCompactionGoal(options_);
      int64_t target = compacted_;
      int64_t bytes = history_bytes_;
      for (const WatchEvent& e : history_) {
        if (bytes <= goal) break;
        bytes -= static_cast<int64_t>(EventBytes(e.record));
        target = e.record.mod_revision;
      }
      CompactLocked(target);
    }
  }

  void CompactLocked(int64_t revision) {
    while (!history_.empty() && history_.front().record.mod_revision <= revision) {
      history_bytes_ -= static_cast<int64_t>(EventBytes(history_.front().record));
      history_.pop_front();
    }
    compacted_ = std::max(compacted_, revision);
  }

  const StoreOptions options_;
  std::mutex mu_;
  std::map<Key, Record> objects_;   // guarded by mu_
  std::deque<WatchEvent> history_;  // guarded by mu_
  int64_t history_bytes_ = 0;       // guarded by mu_
  int64_t revision_ = 0;            // guarded by mu_
  int64_t compacted_ = 0;           // guarded by mu_
  WatchHub hub_;                    // Publish/NewWatch called under mu_
};

MemStore::MemStore(StoreOptions options) : impl_(std::make_shared<Impl>(options)) {}
MemStore::~MemStore() = default;

Result<Record> MemStore::Get(const Key& key) { return impl_->Get(key); }
Result<ListResult> MemStore::List(const Scope& scope) { return impl_->List(scope); }
Result<Record> MemStore::Create(const Key& key, std::string value) {
  return impl_->Create(key, std::move(value));
}
Result<Record> MemStore::Update(const Key& key, std::string value, int64_t expected_mod_revision) {
  return impl_->Update(key, std::move(value), expected_mod_revision);
}
Result<Record> MemStore::Delete(const Key& key, int64_t expected_mod_revision) {
  return impl_->Delete(key, expected_mod_revision);
}
Result<std::unique_ptr<Watch>> MemStore::WatchFrom(const Scope& scope, int64_t after_revision) {
  return impl_->WatchFrom(scope, after_revision, impl_);
}
int64_t MemStore::CurrentRevision() { return impl_->CurrentRevision(); }
int64_t MemStore::CompactedRevision() { return impl_->CompactedRevision(); }
Status MemStore::Compact(int64_t revision) { return impl_->Compact(revision); }

}  // namespace tw::store
