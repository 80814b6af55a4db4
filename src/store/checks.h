// Argument checks and error wording shared by the Datastore backends, so
// both report the same codes and messages.
#ifndef TW_STORE_CHECKS_H_
#define TW_STORE_CHECKS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/datastore.h"
#include "store/store_options.h"

namespace tw::store {

// "projectcalico.org/GlobalThreatFeed default/name" (no "ns/" when ns is
// empty): how errors name an object.
std::string KeyString(const Key& key);

// InvalidArgument unless kind and name are non-empty.  `op` is "create",
// "get", ... and starts the message.
Status CheckKey(std::string_view op, const Key& key);

// TooLarge past options.max_value_bytes.
Status CheckValue(std::string_view op, const Key& key, const std::string& value, const StoreOptions& options);

// InvalidArgument for a negative precondition; Conflict when
// expected != 0 and expected != actual.
Status CheckPrecondition(std::string_view op, const Key& key, int64_t expected, int64_t actual);

Status NotFoundError(std::string_view op, const Key& key);
Status AlreadyExistsError(const Key& key);

// InvalidArgument unless the scope has a kind (List needs one).
Status CheckListScope(const Scope& scope);

// Gone if a watch from `after` cannot be served; InvalidArgument if negative.
Status CheckWatchFrom(int64_t after, int64_t compacted);

// The revision to compact to (0 = nothing to do) under the automatic
// revision limit, when history (compacted, current] is retained.  The byte
// limit is resolved by the caller walking its oldest events (see
// NeedsByteCompaction and ByteCompactionGoal).
int64_t RevisionCompactionTarget(const StoreOptions& options, int64_t current, int64_t compacted);
bool NeedsByteCompaction(const StoreOptions& options, int64_t retained_bytes);
// How many bytes to keep once byte compaction runs (below the limit, so
// that compaction is not repeated on every write).
int64_t ByteCompactionGoal(const StoreOptions& options);

}  // namespace tw::store

#endif  // TW_STORE_CHECKS_H_
