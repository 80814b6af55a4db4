// ResourceService: the REST semantics of the Kubernetes-style API, one call
// per route, as pure logic over a store::Datastore and the model.  No
// sockets: the HTTP layer (api_handler.h) parses the request and renders
// the ApiResponse; unit tests call this directly with a MemStore.
//
// Storage form: the object's JSON without metadata.resourceVersion (that is
// the record's mod_revision, added on every read).  The service sets
// metadata.uid, creationTimestamp and generation on create and keeps them
// on update (generation +1 when anything outside metadata/status changes).
//
// Rules beyond model::Admit (which validates one object alone):
//  - namespaced objects need their Namespace (404 `namespaces "x" not
//    found`); deleting a Namespace deletes everything in it;
//  - a policy's spec.tier must exist (422 on spec.tier); a Tier that still
//    has policies cannot be deleted (409);
//  - built-ins: Namespace `default` and Tier `default` cannot be deleted
//    (403) and the default tier's spec cannot change (422);
//  - kinds with a status subresource: writes to the main resource keep the
//    stored status, writes to /status change only status;
//  - read-only callers see Secret data/stringData values redacted.
//
// Thread-safe (the Datastore is; the service keeps no mutable state).
#ifndef TW_API_RESOURCE_SERVICE_H_
#define TW_API_RESOURCE_SERVICE_H_

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/auth.h"
#include "api/status_body.h"
#include "base/clock.h"
#include "model/kinds.h"
#include "store/datastore.h"

namespace tw::api {

// What a resource URL addresses.
struct ResourceTarget {
  const model::KindInfo* kind = nullptr;
  std::string ns;       // namespaced kinds: "" = all namespaces (list/watch only)
  std::string name;     // "" = the collection
  bool status = false;  // the /status subresource
};

struct ReadOptions {
  Role role = Role::kAdmin;
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;           // 0 = no limit
  std::string continue_token;  // from a previous list's metadata.continue
  bool as_table = false;       // meta.k8s.io/v1 Table instead of objects
  bool table_include_object = false;  // rows carry the full object (else PartialObjectMetadata)
};

enum class FieldValidation { kStrict, kWarn, kIgnore };

struct WriteOptions {
  FieldValidation field_validation = FieldValidation::kStrict;
  bool dry_run = false;
};

enum class PatchType { kMerge, kJson, kStrategic };

// A running watch.  Next() returns the next event object
// ({"type":"ADDED|MODIFIED|DELETED|ERROR","object":{...}}), or nullopt if
// none arrived within `wait`.  After an ERROR event, or when the store
// closes the watch, done() is true.  Not thread-safe (one reader).
class ResourceWatch {
 public:
  virtual ~ResourceWatch() = default;
  virtual std::optional<boost::json::object> Next(std::chrono::milliseconds wait) = 0;
  virtual bool done() const = 0;
};

struct WatchStart {
  ApiResponse error;  // when watch == nullptr: the response to send instead (e.g. 410)
  std::unique_ptr<ResourceWatch> watch;
};

class ResourceService {
 public:
  // `store` and `clock` must outlive the service.
  ResourceService(store::Datastore& store, const Clock& clock);

  ApiResponse Get(const ResourceTarget& target, const ReadOptions& options);
  ApiResponse List(const ResourceTarget& target, const ReadOptions& options);
  // `resource_version`: "" or "0" = send ADDED for every existing object
  // first, then changes; "N" = every change after revision N (410 Gone when
  // compacted).  Selectors in `options` filter the events.
  WatchStart Watch(const ResourceTarget& target, const ReadOptions& options,
                   const std::string& resource_version);

  ApiResponse Create(const ResourceTarget& target, const boost::json::value& body,
                     const WriteOptions& options);
  ApiResponse Replace(const ResourceTarget& target, const boost::json::value& body,
                      const WriteOptions& options);
  ApiResponse Patch(const ResourceTarget& target, PatchType type, const boost::json::value& patch,
                    const WriteOptions& options);
  // `body` is an optional DeleteOptions (preconditions.resourceVersion/uid);
  // null when the request had none.
  ApiResponse Delete(const ResourceTarget& target, const boost::json::value& body,
                     const WriteOptions& options);

  // Creates Namespace `default` and Tier `default` (order 1000000,
  // defaultAction Deny) when missing.
  Status EnsureBuiltins();

 private:
  struct Stored;
  // Reads the object `target` names into `out`; the error response when it
  // cannot (404 with Kubernetes' wording, or the store's error).
  std::optional<ApiResponse> Load(const ResourceTarget& target, Stored* out);
  ApiResponse Write(const ResourceTarget& target, boost::json::object doc, const Stored* existing,
                    int64_t expected_revision, const WriteOptions& options);
  ApiResponse CheckReferences(const model::KindInfo& kind, const boost::json::object& object);
  ApiResponse DeleteNamespaceContents(const std::string& ns);

  store::Datastore& store_;
  const Clock& clock_;
};

// Kubernetes Table detection: true when an Accept header asks for
// `as=Table` (kubectl's get).
bool AcceptsTable(std::string_view accept);

}  // namespace tw::api

#endif  // TW_API_RESOURCE_SERVICE_H_
