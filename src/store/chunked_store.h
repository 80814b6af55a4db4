// ChunkedStore: a Datastore decorator that keeps every value it writes to
// the inner store at most Options::chunk_bytes long (plus a small
// manifest), so that a 1M-entry GlobalNetworkSet (~19 MB of JSON) fits
// backends with a per-value limit (etcd rejects requests over 1.5 MiB;
// DESIGN.md §5).  Callers see whole values: Get/List/Watch/Create/Update/
// Delete behave as the inner store's, with the same keys, error codes and
// revisions.
//
// Layout in the inner store:
//  * a value of at most chunk_bytes is stored as is (byte-identical: no
//    overhead for normal objects), unless it starts with the manifest magic
//    or pieces of the previous value must be kept (see Garbage); it is then
//    stored inline in a manifest, so reads are unambiguous;
//  * a larger value is cut into pieces of chunk_bytes, each stored as a
//    record of kind Options::blob_kind in namespace "" named
//    "<kind>|<ns>|<name>|<sha256 hex of the piece>" ('%' and '|' inside the
//    owner's kind/ns/name are escaped as %25 and %7C), so pieces are per
//    owner and deleting one object never breaks another.  Pieces are written
//    first (a piece that already exists with the same content is reused);
//    then the object's own record gets a small manifest value in one write:
//    the atomic switch, guarded by the caller's expected revision.
//  * Manifest: "\0twchunks1\n" "<total size> <n pieces> <n previous>\n",
//    then one line per piece (its sha256 hex, in order), then one line per
//    piece of the previous value that this one no longer uses, then the
//    inline bytes (only when there are no pieces).
//  * Garbage: pieces of a value are kept until the value after the next one
//    is written (one generation: the manifest lists them as "previous"), so
//    a watcher that reads an event a little late still finds them.  Update
//    deletes the generation before the previous one just before its
//    switch; Delete removes the pieces of both generations right after the
//    record.  Pieces of a write
//    that fails (AlreadyExists, Conflict, NotFound) are deleted again; a
//    crash between the pieces and the manifest leaves orphans, which
//    CollectGarbage() deletes.
// Revisions: a chunked write costs one revision per new piece and per
// collected piece, then one for the object (the last one of a Create or
// Update; a Delete's piece deletions follow its record's).  Callers must not
// assume consecutive revisions (Kubernetes clients never do).  Reported
// revisions are the inner store's; a record's mod_revision is its
// manifest's.
//
// Reads: Get and List assemble the pieces; a piece missing even after a
// re-read (only when something else deleted it) is IoError naming the key.
// Watches and lists never show blob records (a watch of every kind skips
// them); a list or watch of blob_kind itself shows the raw pieces.  If a
// watcher lags so far that a piece is gone, an ADDED/MODIFIED event carries
// the object's current value instead (a later state, never a torn one) with
// the event's own revisions (so they stay monotonic), and is skipped if the
// object no longer exists; a DELETED event carries the value "" (Delete
// removes the pieces right after the record, so a DELETED event of a
// chunked value usually has "").
//
// Writes take a per-key lock (except the Create of a small value, which
// touches no piece), so that the garbage collection of one write never
// races with another write of the same key in this process.  Several
// processes writing the same inner store (etcd) can leave orphan pieces for
// CollectGarbage, or make a lagging reader fall back as above, but never
// store a torn value: Update re-checks the revision it read.
//
// Thread-safe when the inner store is.  Watches may outlive the
// ChunkedStore; they then end like the inner store's (Unavailable).
#ifndef TW_STORE_CHUNKED_STORE_H_
#define TW_STORE_CHUNKED_STORE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "store/datastore.h"

namespace tw::store {

class ChunkedStore : public Datastore {
 public:
  struct Options {
    // Largest piece (> 0).
    size_t chunk_bytes = size_t{512} << 10;
    // Reserved for the pieces: writes of this kind are InvalidArgument.
    std::string blob_kind = "threatwall.io/Blob";
    // Create/Update of a larger whole value fails with TooLarge (the inner
    // store's own limit applies to each piece).
    size_t max_value_bytes = size_t{128} << 20;
  };
  ChunkedStore(std::unique_ptr<Datastore> inner, Options options);
  explicit ChunkedStore(std::unique_ptr<Datastore> inner) : ChunkedStore(std::move(inner), Options()) {}
  ~ChunkedStore() override;
  ChunkedStore(const ChunkedStore&) = delete;
  ChunkedStore& operator=(const ChunkedStore&) = delete;

  Result<Record> Get(const Key& key) override;
  Result<ListResult> List(const Scope& scope) override;
  Result<Record> Create(const Key& key, std::string value) override;
  Result<Record> Update(const Key& key, std::string value, int64_t expected_mod_revision) override;
  Result<Record> Delete(const Key& key, int64_t expected_mod_revision) override;
  Result<std::unique_ptr<Watch>> WatchFrom(const Scope& scope, int64_t after_revision) override;
  int64_t CurrentRevision() override;
  int64_t CompactedRevision() override;
  Status Compact(int64_t revision) override;

  // Deletes blob records that no current object references (neither as a
  // piece nor as a previous piece).  Returns how many were deleted.  Meant
  // for startup; safe alongside writes of this ChunkedStore (it takes each
  // owner's key lock), but not alongside another process writing the same
  // inner store.  Lists every blob record with its value at once, so it
  // needs memory for all stored pieces.
  Result<size_t> CollectGarbage();

  Datastore& inner() { return *inner_; }

 private:
  class KeyLocks;

  Result<Record> WriteLocked(const Key& key, std::string value, bool create, int64_t expected);
  void DeletePieces(const Key& owner, const std::vector<std::string>& hashes);

  // Shared with watches (weakly), which read pieces while they deliver.
  std::shared_ptr<Datastore> inner_;
  Options options_;
  std::unique_ptr<KeyLocks> locks_;
};

}  // namespace tw::store

#endif  // TW_STORE_CHUNKED_STORE_H_
