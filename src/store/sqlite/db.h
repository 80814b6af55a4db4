// Thin RAII layer over the SQLite C API for the store's backend: a
// connection with a cache of prepared statements, a scoped query, and a
// scoped transaction.  Every failure becomes a tw::Status (IoError, or
// TooLarge for SQLITE_TOOBIG) naming the database path and SQLite's reason.
//
// Not thread-safe: a Db (and its queries) is used by one thread at a time;
// callers lock.
#ifndef TW_STORE_SQLITE_DB_H_
#define TW_STORE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"

namespace tw::store::sqlite {

class Db {
 public:
  // `flags` as for sqlite3_open_v2 (SQLITE_OPEN_NOMUTEX is added).
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int flags);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows of interest.
  Status Exec(const std::string& sql);
  // A prepared statement, compiled once per connection and cached by text.
  Result<sqlite3_stmt*> Prepare(const std::string& sql);
  // Runs a single-row, single-column query (PRAGMA user_version, ...).
  Result<int64_t> QueryInt(const std::string& sql);
  Result<std::string> QueryText(const std::string& sql);

  // An error for return code `rc`: "<path>: <what>: <sqlite message>".
  Status Error(int rc, std::string_view what) const;

  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// One execution of a cached statement.  Binds are by reference: the bound
// strings must outlive the Query.  The destructor resets the statement.
class Query {
 public:
  // An invalid statement result makes every call fail with its status.
  Query(Db& db, Result<sqlite3_stmt*> stmt);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // Parameters are 1-based, as in SQLite.
  Query& Bind(int index, int64_t value);
  Query& BindText(int index, std::string_view value);
  Query& BindBlob(int index, std::string_view value);
  Query& BindNull(int index);

  // true: a row is available; false: done.
  Result<bool> Step();
  // Steps to completion (for writes); the number of rows changed.
  Result<int> Run();

  int64_t Int(int column);
  std::string Text(int column);
  std::string Blob(int column);

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;  // first bind error, reported by Step()
};

// BEGIN (IMMEDIATE for writers) ... COMMIT; rolls back unless committed.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(Db& db, bool immediate);
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db& db) : db_(db) {}
  Db& db_;
  bool done_ = false;
};

// Takes the exclusive lock `path`.lock (flock, non-blocking) that keeps a
// second process off one database; returns the lock's fd (the caller closes
// it to release).  Unavailable "<path>: <what> is in use by another process"
// when it is held, IoError otherwise.
Result<int> LockDatabaseFile(const std::string& path, std::string_view what);

// Read connections to one database file, kept for reuse (WAL readers do
// not wait for each other or for the writer).  Each new connection is
// opened read-write (WAL needs it), set up by `configure`, then made
// query_only.  Thread-safe.
class ReaderPool {
 public:
  // Until Init, Acquire fails.
  void Init(std::string path, size_t max_idle, std::function<Status(Db&)> configure);

  // A connection on loan; goes back to the pool when destroyed.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&& other) noexcept = default;
    ~Lease() {
      if (db_) pool_->Release(std::move(db_));
    }
    Db& operator*() { return *db_; }
    Db* operator->() { return db_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Db> db_;
  };

  Result<Lease> Acquire();
  // Closes the idle connections (before the database goes away).
  void Clear();

 private:
  void Release(std::unique_ptr<Db> db);

  std::string path_;
  size_t max_idle_ = 0;
  std::function<Status(Db&)> configure_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> idle_;  // guarded by mu_
};

}  // namespace tw::store::sqlite

#endif  // TW_STORE_SQLITE_DB_H_
