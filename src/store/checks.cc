#include "store/checks.h"

#include <algorithm>

namespace tw::store {

std::string KeyString(const Key& key) {
  std::string s = key.kind;
  s += ' ';
  if (!key.ns.empty()) {
    s += key.ns;
    s += '/';
  }
  s += key.name;
  return s;
}

Status CheckKey(std::string_view op, const Key& key) {
  if (key.kind.empty())
    return Status::InvalidArgument(std::string(op) + " " + KeyString(key) + ": key.kind: must not be empty");
  if (key.name.empty())
    return Status::InvalidArgument(std::string(op) + " " + KeyString(key) + ": key.name: must not be empty");
  return Status::Ok();
}

Status CheckValue(std::string_view op, const Key& key, const std::string& value,
                  const StoreOptions& options) {
  if (value.size() > options.max_value_bytes) {
    return Status::TooLarge(std::string(op) + " " + KeyString(key) + ": value of " +
                            std::to_string(value.size()) + " bytes exceeds the limit of " +
                            std::to_string(options.max_value_bytes) + " bytes");
  }
  return Status::Ok();
}

Status CheckPrecondition(std::string_view op, const Key& key, int64_t expected, int64_t actual) {
  if (expected < 0) {
    return Status::InvalidArgument(std::string(op) + " " + KeyString(key) + ": expected revision " +
                                   std::to_string(expected) + " is negative");
  }
  if (expected != 0 && expected != actual) {
    return Status::Conflict(std::string(op) + " " + KeyString(key) +
                            ": the object has been modified (revision " + std::to_string(actual) +
                            ", expected " + std::to_string(expected) + ")");
  }
  return Status::Ok();
}

Status NotFoundError(std::string_view op, const Key& key) {
  return Status::NotFound(std::string(op) + " " + KeyString(key) + ": not found");
}

Status AlreadyExistsError(const Key& key) {
  return Status::AlreadyExists("create " + KeyString(key) + ": already exists");
}

Status CheckListScope(const Scope& scope) {
  if (scope.kind.empty()) return Status::InvalidArgument("list: scope.kind: must not be empty");
  return Status::Ok();
}

Status CheckWatchFrom(int64_t after, int64_t compacted) {
  if (after < 0) return Status::InvalidArgument("watch: revision " + std::to_string(after) + " is negative");
  if (after != 0 && after < compacted) {
    return Status::Gone("watch: revision " + std::to_string(after) +
                        " has been compacted (oldest available: " + std::to_string(compacted) + ")");
  }
  return Status::Ok();
}

int64_t RevisionCompactionTarget(const StoreOptions& options, int64_t current, int64_t compacted) {
  const int64_t max = options.history_max_revisions;
  if (max <= 0) return 0;
  // Slack of 1/8 so that compaction runs once per max/8 writes, not on each.
  const int64_t slack = std::max<int64_t>(1, max / 8);
  if (current - compacted <= max + slack - 1) return 0;
  return current - max;
}

bool NeedsByteCompaction(const StoreOptions& options, int64_t retained_bytes) {
  return options.history_max_bytes > 0 && retained_bytes > options.history_max_bytes;
}

int64_t ByteCompactionGoal(const StoreOptions& options) {
  return options.history_max_bytes - options.history_max_bytes / 8;
}

}  // namespace tw::store
