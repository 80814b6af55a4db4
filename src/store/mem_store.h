// MemStore: the in-memory Datastore, the fake for unit tests.
//
// Complete semantics of the interface (datastore.h): one global revision,
// preconditions, list consistency, watch replay from the retained history
// plus live events, Compact and automatic compaction (StoreOptions),
// Gone for slow watchers.  Nothing survives destruction.
//
// Thread-safe: one mutex guards everything; watch replay pages are read
// under it, live events come from the shared WatchHub.
#ifndef TW_STORE_MEM_STORE_H_
#define TW_STORE_MEM_STORE_H_

#include <memory>

#include "store/datastore.h"
#include "store/store_options.h"

namespace tw::store {

class MemStore : public Datastore {
 public:
  explicit MemStore(StoreOptions options = {});
  ~MemStore() override;
  MemStore(const MemStore&) = delete;
  MemStore& operator=(const MemStore&) = delete;

  Result<Record> Get(const Key& key) override;
  Result<ListResult> List(const Scope& scope) override;
  Result<Record> Create(const Key& key, std::string value) override;
  Result<Record> Update(const Key& key, std::string value, int64_t expected_mod_revision) override;
  Result<Record> Delete(const Key& key, int64_t expected_mod_revision) override;
  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after_revision) override;
  int64_t CurrentRevision() override;
  int64_t CompactedRevision() override;
  Status Compact(int64_t revision) override;

  class Impl;

 private:
  // Shared with watches (as their HistorySource), which may outlive us.
  std::shared_ptr<Impl> impl_;
};

}  // namespace tw::store

#endif  // TW_STORE_MEM_STORE_H_
