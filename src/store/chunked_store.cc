#include "store/chunked_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "base/check.h"
#include "store/checks.h"

namespace tw::store {
namespace {

constexpr std::string_view kMagic("\0twchunks1\n", 11);
constexpr size_t kHashHexLen = 64;
// Reads retry when a piece vanished under them: that needs two further
// writes of the same object in between, so a couple of attempts suffice.
constexpr int kReadAttempts = 3;
// Update re-reads after a Conflict it did not ask for (another process
// wrote the object between our read and our write).
constexpr int kWriteAttempts = 5;

bool HasMagic(std::string_view value) { return value.starts_with(kMagic); }

struct Manifest {
  uint64_t size = 0;
  std::vector<std::string> pieces;  // sha256 hex, in value order
  std::vector<std::string> prev;    // distinct, not in `pieces`
  std::string_view inline_data;     // points into the stored value
};

bool IsHashHex(std::string_view s) {
  return s.size() == kHashHexLen && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string EncodeManifest(uint64_t size, const std::vector<std::string>& pieces,
                           const std::vector<std::string>& prev, std::string_view inline_data) {
  std::string out(kMagic);
  out +=
      std::to_string(size) + ' ' + std::to_string(pieces.size()) + ' ' + std::to_string(prev.size()) + '\n';
  out.reserve(out.size() + (pieces.size() + prev.size()) * (kHashHexLen + 1) + inline_data.size());
  for (const auto& h : pieces) (out += h) += '\n';
  for (const auto& h : prev) (out += h) += '\n';
  out += inline_data;
  return out;
}

// IoError (message without the key; callers prefix it) if malformed.
Result<Manifest> ParseManifest(std::string_view value) {
  auto corrupt = [](const std::string& why) { return Status::IoError("corrupt chunk manifest: " + why); };
  if (!HasMagic(value)) return corrupt("missing magic");
  std::string_view rest = value.substr(kMagic.size());
  size_t eol = rest.find('\n');
  if (eol == std::string_view::npos) return corrupt("header line not terminated");
  std::string_view header = rest.substr(0, eol);
  rest.remove_prefix(eol + 1);
  uint64_t numbers[3] = {0, 0, 0};
  const char* p = header.data();
  const char* end = header.data() + header.size();
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (p == end || *p != ' ') return corrupt("header \"" + std::string(header) + "\": expected 3 numbers");
      ++p;
    }
    auto [next, ec] = std::from_chars(p, end, numbers[i]);
    if (ec != std::errc() || next == p) {
      return corrupt("header \"" + std::string(header) + "\": expected 3 numbers");
    }
    p = next;
  }
  if (p != end) return corrupt("header \"" + std::string(header) + "\": trailing characters");
  const uint64_t lines = numbers[1] + numbers[2];
  if (numbers[1] > rest.size() / (kHashHexLen + 1) || lines > rest.size() / (kHashHexLen + 1)) {
    return corrupt("lists " + std::to_string(lines) + " pieces but has only " + std::to_string(rest.size()) +
                   " bytes");
  }
  Manifest m;
  m.size = numbers[0];
  for (uint64_t i = 0; i < lines; ++i) {
    std::string_view line = rest.substr(0, kHashHexLen);
    if (!IsHashHex(line) || rest[kHashHexLen] != '\n') {
      return corrupt("piece line " + std::to_string(i + 1) + " is not a sha256 hex digest");
    }
    (i < numbers[1] ? m.pieces : m.prev).emplace_back(line);
    rest.remove_prefix(kHashHexLen + 1);
  }
  if (!m.pieces.empty() && !rest.empty()) return corrupt("both pieces and inline bytes");
  m.inline_data = rest;
  if (m.pieces.empty() && m.inline_data.size() != m.size) {
    return corrupt("size " + std::to_string(m.size) + " but " + std::to_string(m.inline_data.size()) +
                   " inline bytes");
  }
  return m;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest with SHA-256 fails only on allocation failure.
  TW_CHECK(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) == 1) << "EVP_Digest";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

// Piece names are "<kind>|<ns>|<name>|<hash>"; escaping '%' and '|' keeps
// the owner recoverable whatever characters its key holds.
std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
    } else if (s.substr(i, 3) == "%25") {
      out += '%';
      i += 2;
    } else if (s.substr(i, 3) == "%7C") {
      out += '|';
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string OwnerPrefix(const Key& owner) {
  return Escape(owner.kind) + '|' + Escape(owner.ns) + '|' + Escape(owner.name) + '|';
}

Key PieceKey(const std::string& blob_kind, const std::string& owner_prefix, std::string_view hash) {
  return Key{blob_kind, "", owner_prefix + std::string(hash)};
}

// The owner and hash of a piece name; nullopt if it is not one of ours.
std::optional<std::pair<Key, std::string>> ParsePieceName(std::string_view name) {
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    size_t bar = name.find('|');
    if (bar == std::string_view::npos) return std::nullopt;
    parts[i] = name.substr(0, bar);
    name.remove_prefix(bar + 1);
  }
  parts[3] = name;
  if (!IsHashHex(parts[3])) return std::nullopt;
  auto kind = Unescape(parts[0]);
  auto ns = Unescape(parts[1]);
  auto owner_name = Unescape(parts[2]);
  if (!kind || !ns || !owner_name || kind->empty() || owner_name->empty()) return std::nullopt;
  return std::make_pair(Key{*kind, *ns, *owner_name}, std::string(parts[3]));
}

// The whole value of `key` from its manifest.  NotFound when a piece is
// missing (the caller decides: re-read, fall back, or IoError); IoError when
// the manifest is corrupt or the sizes disagree.  Messages omit the key.
Result<std::string> Assemble(Datastore& inner, const std::string& blob_kind, const Key& key,
                             std::string_view stored) {
  TW_ASSIGN_OR_RETURN(Manifest m, ParseManifest(stored));
  if (m.pieces.empty()) return std::string(m.inline_data);
  std::string out;
  // The size comes from the store; do not let a corrupt one reserve
  // gigabytes (the string still grows if it was honest).
  out.reserve(std::min<uint64_t>(m.size, uint64_t{256} << 20));
  const std::string prefix = OwnerPrefix(key);
  for (const auto& hash : m.pieces) {
    const Key piece_key = PieceKey(blob_kind, prefix, hash);
    auto piece = inner.Get(piece_key);
    if (!piece.ok()) {
      if (piece.error().IsNotFound())
        return Status::NotFound("chunk piece " + piece_key.name + " is missing");
      return piece.error();
    }
    if (out.size() + piece->value.size() > m.size) break;  // reported below
    out += piece->value;
  }
  if (out.size() != m.size) {
    return Status::IoError("chunk pieces do not add up to the manifest's size of " + std::to_string(m.size) +
                           " bytes");
  }
  return out;
}

// Get through the manifest, re-reading when a piece vanished meanwhile.
// `op` starts error messages.
Result<Record> GetAssembled(Datastore& inner, const std::string& blob_kind, const Key& key,
                            std::string_view op) {
  for (int attempt = 1;; ++attempt) {
    TW_ASSIGN_OR_RETURN(Record record, inner.Get(key));
    if (!HasMagic(record.value)) return record;
    auto value = Assemble(inner, blob_kind, key, record.value);
    if (value.ok()) {
      record.value = std::move(*value);
      return record;
    }
    if (!value.error().IsNotFound() || attempt == kReadAttempts) {
      return Status::IoError(std::string(op) + " " + KeyString(key) + ": " + value.error().message());
    }
  }
}

// Wraps a watch of every kind or of one (non-blob) kind.
class ChunkedWatch : public Watch {
 public:
  ChunkedWatch(std::unique_ptr<Watch> inner, std::weak_ptr<Datastore> store, std::string blob_kind)
      : inner_(std::move(inner)), store_(std::move(store)), blob_kind_(std::move(blob_kind)) {}

  std::optional<WatchEvent> Next(std::chrono::milliseconds timeout) override {
    using Clock = std::chrono::steady_clock;
    // Skipped events must not stretch the caller's timeout.
    timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::hours(24 * 365));
    const auto deadline = Clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto event = inner_->Next(std::max(left, std::chrono::milliseconds(0)));
      if (!event) return std::nullopt;
      if (event->record.key.kind == blob_kind_) continue;  // only in a watch of every kind
      if (!HasMagic(event->record.value)) return event;
      auto store = store_.lock();
      if (!store) {
        std::lock_guard lock(mu_);
        closed_ = Status::Unavailable("watch: store closed");
        return std::nullopt;
      }
      if (Resolve(*store, *event)) return event;
    }
  }

  void Cancel() override { inner_->Cancel(); }

  Status status() const override {
    {
      std::lock_guard lock(mu_);
      if (!closed_.ok()) return closed_;
    }
    return inner_->status();
  }

 private:
  // Fills in the whole value; false to skip the event.
  bool Resolve(Datastore& store, WatchEvent& event) {
    auto value = Assemble(store, blob_kind_, event.record.key, event.record.value);
    if (value.ok()) {
      event.record.value = std::move(*value);
      return true;
    }
    // The pieces are gone: the watcher lags two writes behind (or this is
    // a deletion).  A DELETED event's object has no current value (a
    // current record would be a new incarnation), so it carries "".
    if (event.type == EventType::kDeleted) {
      event.record.value.clear();
      return true;
    }
    auto current = GetAssembled(store, blob_kind_, event.record.key, "watch");
    if (!current.ok()) return false;  // deleted since: its DELETED event follows
    event.record.value = std::move(current->value);
    return true;
  }

  std::unique_ptr<Watch> inner_;
  std::weak_ptr<Datastore> store_;
  const std::string blob_kind_;
  mutable std::mutex mu_;
  Status closed_;  // guarded by mu_
};

}  // namespace

// One writer per key at a time: a write's garbage collection (deleting the
// pieces two generations back) must not race with another write of the
// same key reusing those pieces.
class ChunkedStore::KeyLocks {
 public:
  class Guard {
   public:
    Guard(KeyLocks* locks, Key key) : locks_(locks), key_(std::move(key)) {}
    ~Guard() { locks_->Unlock(key_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    KeyLocks* locks_;
    Key key_;
  };

  [[nodiscard]] Guard Lock(const Key& key) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_.contains(key); });
    busy_.insert(key);
    return Guard(this, key);
  }

 private:
  void Unlock(const Key& key) {
    {
      std::lock_guard lock(mu_);
      busy_.erase(key);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Key> busy_;  // guarded by mu_
};

ChunkedStore::ChunkedStore(std::unique_ptr<Datastore> inner, Options options)
    : inner_(std::move(inner)), options_(std::move(options)), locks_(std::make_unique<KeyLocks>()) {
  TW_CHECK(inner_ != nullptr) << "ChunkedStore needs an inner store";
  TW_CHECK(options_.chunk_bytes > 0) << "ChunkedStore: chunk_bytes must be positive";
  TW_CHECK(!options_.blob_kind.empty()) << "ChunkedStore: blob_kind must not be empty";
}

ChunkedStore::~ChunkedStore() = default;

Result<Record> ChunkedStore::Get(const Key& key) {
  if (key.kind == options_.blob_kind) return inner_->Get(key);
  return GetAssembled(*inner_, options_.blob_kind, key, "get");
}

Result<ListResult> ChunkedStore::List(const Scope& scope) {
  if (scope.kind == options_.blob_kind) return inner_->List(scope);
  for (int attempt = 1;; ++attempt) {
    TW_ASSIGN_OR_RETURN(ListResult list, inner_->List(scope));
    bool retry = false;
    for (Record& record : list.records) {
      if (!HasMagic(record.value)) continue;
      auto value = Assemble(*inner_, options_.blob_kind, record.key, record.value);
      if (value.ok()) {
        record.value = std::move(*value);
        continue;
      }
      // A piece vanished after the list's snapshot: list again rather than
      // mix states.
      if (value.error().IsNotFound() && attempt < kReadAttempts) {
        retry = true;
        break;
      }
      return Status::IoError("list " + scope.kind + ": " + KeyString(record.key) + ": " +
                             value.error().message());
    }
    if (!retry) return list;
  }
}

Result<Record> ChunkedStore::Create(const Key& key, std::string value) {
  TW_RETURN_IF_ERROR(CheckKey("create", key));
  if (key.kind == options_.blob_kind) {
    return Status::InvalidArgument("create " + KeyString(key) + ": kind " + key.kind +
                                   " is reserved for chunks");
  }
  // Small values need nothing else: pass them straight through.
  if (value.size() <= options_.chunk_bytes && !HasMagic(value)) return inner_->Create(key, std::move(value));
  StoreOptions limits;
  limits.max_value_bytes = options_.max_value_bytes;
  TW_RETURN_IF_ERROR(CheckValue("create", key, value, limits));
  auto guard = locks_->Lock(key);
  return WriteLocked(key, std::move(value), /*create=*/true, 0);
}

Result<Record> ChunkedStore::Update(const Key& key, std::string value, int64_t expected_mod_revision) {
  TW_RETURN_IF_ERROR(CheckKey("update", key));
  if (key.kind == options_.blob_kind) {
    return Status::InvalidArgument("update " + KeyString(key) + ": kind " + key.kind +
                                   " is reserved for chunks");
  }
  StoreOptions limits;
  limits.max_value_bytes = options_.max_value_bytes;
  TW_RETURN_IF_ERROR(CheckValue("update", key, value, limits));
  if (expected_mod_revision < 0) {  // before any piece is written
    return CheckPrecondition("update", key, expected_mod_revision, 0);
  }
  auto guard = locks_->Lock(key);
  return WriteLocked(key, std::move(value), /*create=*/false, expected_mod_revision);
}

Result<Record> ChunkedStore::WriteLocked(const Key& key, std::string value, bool create, int64_t expected) {
  const std::string op = create ? "create" : "update";
  const bool chunked = value.size() > options_.chunk_bytes;
  const std::string prefix = OwnerPrefix(key);
  std::vector<std::string> hashes;   // pieces of the new value, in order
  std::vector<std::string> created;  // pieces this call created
  bool pieces_written = false;

  // Deletes what this call created, unless the object (written by someone
  // else meanwhile) references it.
  auto fail = [&](Status status) -> Status {
    if (created.empty()) return status;
    std::set<std::string> keep;
    if (auto current = inner_->Get(key); current.ok() && HasMagic(current->value)) {
      if (auto m = ParseManifest(current->value); m.ok()) {
        keep.insert(m->pieces.begin(), m->pieces.end());
        keep.insert(m->prev.begin(), m->prev.end());
      }
    }
    std::vector<std::string> garbage;
    for (const auto& h : created)
      if (!keep.contains(h)) garbage.push_back(h);
    DeletePieces(key, garbage);
    return status;
  };

  for (int attempt = 1; attempt <= kWriteAttempts; ++attempt) {
    // The record being replaced: its revision (the write's real
    // precondition) and its pieces (which become "previous").
    Manifest old;
    int64_t old_revision = 0;
    auto current = inner_->Get(key);
    if (create) {
      if (current.ok()) return fail(AlreadyExistsError(key));
      if (!current.error().IsNotFound()) return fail(current.error());
    } else {
      if (!current.ok())
        return fail(current.error().IsNotFound() ? NotFoundError("update", key) : current.error());
      if (Status s = CheckPrecondition("update", key, expected, current->mod_revision); !s.ok())
        return fail(s);
      old_revision = current->mod_revision;
      // A corrupt old manifest leaves its pieces to CollectGarbage.
      if (HasMagic(current->value)) {
        if (auto m = ParseManifest(current->value); m.ok()) old = std::move(*m);
      }
    }

    if (chunked && !pieces_written) {
      std::unordered_set<std::string> seen;
      for (size_t offset = 0, index = 0; offset < value.size(); offset += options_.chunk_bytes, ++index) {
        std::string_view piece = std::string_view(value).substr(offset, options_.chunk_bytes);
        std::string hash = Sha256Hex(piece);
        hashes.push_back(hash);
        if (!seen.insert(hash).second) continue;
        const Key piece_key = PieceKey(options_.blob_kind, prefix, hash);
        auto made = inner_->Create(piece_key, std::string(piece));
        if (made.ok()) {
          created.push_back(std::move(hash));
          continue;
        }
        const std::string where = op + " " + KeyString(key) + ": piece " + std::to_string(index);
        if (!made.error().IsAlreadyExists()) return fail(made.error().WithPrefix(where));
        // Left by an earlier generation or a failed write: reuse it.  The
        // name is the content's hash, so other content under it was
        // tampered with; overwrite it.
        if (auto existing = inner_->Get(piece_key); existing.ok() && existing->value == piece) continue;
        if (auto fixed = inner_->Update(piece_key, std::string(piece), 0); !fixed.ok()) {
          return fail(fixed.error().WithPrefix(where));
        }
      }
      pieces_written = true;
    }

    const std::set<std::string> now(hashes.begin(), hashes.end());
    std::vector<std::string> prev;
    for (const auto& h : old.pieces) {
      if (!now.contains(h) && std::find(prev.begin(), prev.end(), h) == prev.end()) prev.push_back(h);
    }
    std::string stored;
    if (chunked) {
      stored = EncodeManifest(value.size(), hashes, prev, "");
    } else if (!prev.empty() || HasMagic(value)) {
      stored = EncodeManifest(value.size(), {}, prev, value);
    } else {
      stored = value;  // small: a cheap copy, `value` is returned below
    }

    // The generation before the previous one is garbage.  Collected before
    // the switch, so that the object's write is the operation's last
    // revision; if the switch then fails, only watchers already two writes
    // behind notice (they fall back).
    std::vector<std::string> garbage;
    for (const auto& h : old.prev) {
      if (!now.contains(h) && std::find(prev.begin(), prev.end(), h) == prev.end()) garbage.push_back(h);
    }
    DeletePieces(key, garbage);

    auto written = create ? inner_->Create(key, std::move(stored))
                          : inner_->Update(key, std::move(stored), old_revision);
    if (written.ok()) {
      written->value = std::move(value);
      return written;
    }
    // A Conflict we did not ask for: another process wrote the object
    // between our read and our write.  Read it again.
    if (!create && written.error().IsConflict() && expected == 0) continue;
    return fail(written.error());
  }
  return fail(Status::Conflict(op + " " + KeyString(key) + ": modified concurrently " +
                               std::to_string(kWriteAttempts) + " times in a row"));
}

Result<Record> ChunkedStore::Delete(const Key& key, int64_t expected_mod_revision) {
  TW_RETURN_IF_ERROR(CheckKey("delete", key));
  if (key.kind == options_.blob_kind) {
    return Status::InvalidArgument("delete " + KeyString(key) + ": kind " + key.kind +
                                   " is reserved for chunks");
  }
  auto guard = locks_->Lock(key);
  TW_ASSIGN_OR_RETURN(Record deleted, inner_->Delete(key, expected_mod_revision));
  if (!HasMagic(deleted.value)) return deleted;
  auto m = ParseManifest(deleted.value);
  if (!m.ok()) {
    // The delete happened; a corrupt manifest only costs the last value
    // (and leaves its pieces to CollectGarbage).
    deleted.value.clear();
    return deleted;
  }
  // The pieces are still there: assemble the last value before removing them.
  auto value = Assemble(*inner_, options_.blob_kind, key, deleted.value);
  std::vector<std::string> pieces = m->pieces;
  pieces.insert(pieces.end(), m->prev.begin(), m->prev.end());
  std::sort(pieces.begin(), pieces.end());
  pieces.erase(std::unique(pieces.begin(), pieces.end()), pieces.end());
  deleted.value = value.ok() ? std::move(*value) : std::string();
  DeletePieces(key, pieces);
  return deleted;
}

void ChunkedStore::DeletePieces(const Key& owner, const std::vector<std::string>& hashes) {
  const std::string prefix = OwnerPrefix(owner);
  // Best effort: the object's write already happened, and a piece left
  // behind is only garbage for CollectGarbage.
  for (const auto& hash : hashes) (void)inner_->Delete(PieceKey(options_.blob_kind, prefix, hash), 0);
}

Result<std::unique_ptr<Watch>> ChunkedStore::WatchFrom(const Scope& scope, int64_t after_revision) {
  TW_ASSIGN_OR_RETURN(std::unique_ptr<Watch> watch, inner_->WatchFrom(scope, after_revision));
  if (scope.kind == options_.blob_kind) return watch;
  return std::unique_ptr<Watch>(
      std::make_unique<ChunkedWatch>(std::move(watch), std::weak_ptr<Datastore>(inner_), options_.blob_kind));
}

int64_t ChunkedStore::CurrentRevision() { return inner_->CurrentRevision(); }
int64_t ChunkedStore::CompactedRevision() { return inner_->CompactedRevision(); }
Status ChunkedStore::Compact(int64_t revision) { return inner_->Compact(revision); }

Result<size_t> ChunkedStore::CollectGarbage() {
  TW_ASSIGN_OR_RETURN(ListResult blobs, inner_->List(Scope{options_.blob_kind, std::nullopt}));
  std::map<Key, std::vector<std::string>> by_owner;  // owner -> hashes of its pieces
  size_t deleted = 0;
  for (Record& blob : blobs.records) {
    blob.value.clear();  // only the names matter here
    auto parsed = ParsePieceName(blob.key.name);
    if (!parsed || !blob.key.ns.empty()) {
      // Not a name this class writes: the blob kind is reserved, so it is
      // debris.
      if (inner_->Delete(blob.key, 0).ok()) ++deleted;
      continue;
    }
    by_owner[parsed->first].push_back(std::move(parsed->second));
  }
  for (const auto& [owner, hashes] : by_owner) {
    auto guard = locks_->Lock(owner);
    std::set<std::string> keep;
    auto current = inner_->Get(owner);
    if (current.ok() && HasMagic(current->value)) {
      auto m = ParseManifest(current->value);
      // Keep everything of an owner whose manifest we cannot read: better
      // garbage than a broken object.
      if (!m.ok()) continue;
      keep.insert(m->pieces.begin(), m->pieces.end());
      keep.insert(m->prev.begin(), m->prev.end());
    } else if (!current.ok() && !current.error().IsNotFound()) {
      return current.error().WithPrefix("collect garbage");
    }
    const std::string prefix = OwnerPrefix(owner);
    for (const auto& hash : hashes) {
      if (keep.contains(hash)) continue;
      if (inner_->Delete(PieceKey(options_.blob_kind, prefix, hash), 0).ok()) ++deleted;
    }
  }
  return deleted;
}

}  // namespace tw::store
