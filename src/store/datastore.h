// Datastore: the one source of truth for every resource (DESIGN.md §5).
//
// etcd's model: objects keyed by (kind, namespace, name), each write bumps
// one global, monotonically increasing revision; an object remembers the
// revision that created it and the one that last modified it.  Values are
// opaque bytes to the store (the API keeps JSON there).  Watches deliver
// every change after a given revision, in revision order, and fail with
// Gone when that revision has been compacted away.
//
// Implementations are thread-safe.  Backends: SqliteStore (embedded default,
// crash safe: an acknowledged write survives SIGKILL) and MemStore (the fake
// for unit tests).
#ifndef TW_STORE_DATASTORE_H_
#define TW_STORE_DATASTORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace tw::store {

struct Key {
  std::string kind;       // opaque kind id, e.g. "projectcalico.org/GlobalThreatFeed"
  std::string ns;         // "" for cluster-scoped kinds
  std::string name;
  bool operator==(const Key&) const = default;
  auto operator<=>(const Key&) const = default;
};

struct Record {
  Key key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;  // for a deletion event: the revision of the delete
};

struct ListResult {
  std::vector<Record> records;  // sorted by (ns, name)
  int64_t revision = 0;         // store revision the list is consistent with
};

enum class EventType { kAdded, kModified, kDeleted };

struct WatchEvent {
  EventType type;
  Record record;  // kDeleted: the last value before deletion
};

// What a list or watch covers.  Empty kind = every kind (watch only);
// nullopt ns = every namespace.
struct Scope {
  std::string kind;
  std::optional<std::string> ns;
};

// A stream of events.  Next() blocks up to `timeout`; nullopt on timeout or
// once the watch is cancelled/closed (then status() says why: OK when
// cancelled, Gone when the watcher fell too far behind and events were
// compacted before it read them).
class Watch {
 public:
  virtual ~Watch() = default;
  virtual std::optional<WatchEvent> Next(std::chrono::milliseconds timeout) = 0;
  virtual void Cancel() = 0;
  virtual Status status() const = 0;
};

class Datastore {
 public:
  virtual ~Datastore() = default;

  // NotFound if absent.
  virtual Result<Record> Get(const Key& key) = 0;
  virtual Result<ListResult> List(const Scope& scope) = 0;
  // AlreadyExists if present.  Returns the stored record (with revisions).
  virtual Result<Record> Create(const Key& key, std::string value) = 0;
  // expected_mod_revision == 0: unconditional.  Otherwise Conflict unless it
  // equals the current mod_revision.  NotFound if absent.
  virtual Result<Record> Update(const Key& key, std::string value, int64_t expected_mod_revision) = 0;
  // Same precondition rule; returns the deleted record with mod_revision set
  // to the revision of the delete.
  virtual Result<Record> Delete(const Key& key, int64_t expected_mod_revision) = 0;
  // Events with revision > after_revision.  after_revision == 0 means "from
  // now".  Gone if after_revision < CompactedRevision().
  virtual Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after_revision) = 0;

  virtual int64_t CurrentRevision() = 0;
  virtual int64_t CompactedRevision() = 0;
  // Forgets the history at or below `revision` (objects themselves stay).
  virtual Status Compact(int64_t revision) = 0;
};

}  // namespace tw::store

#endif  // TW_STORE_DATASTORE_H_
