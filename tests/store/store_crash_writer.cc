// store_crash_writer DB_PATH RUN_ID [full|normal]
//
// Helper for store_crash_test: opens a SqliteStore and writes as fast as it
// can until killed.  After each call returns OK it prints one line to
// stdout with a direct write(2), so a line on the pipe means "acknowledged":
//   C <key> <revision> <value>     created
//   U <key> <revision> <value>     updated
//   D <key> <revision>             deleted
// Keys are unique per run except "hot-<run>", which is updated over and
// over.  Exits 2 on any store error (which the test reports).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/sqlite_store.h"

namespace {

constexpr const char* kKind = "test/CrashKind";

void Ack(const std::string& line) {
  std::string out = line + "\n";
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Fail(const tw::Status& s) {
  std::fprintf(stderr, "store_crash_writer: %s\n", s.ToString().c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: store_crash_writer DB_PATH RUN_ID [full|normal]\n");
    return 1;
  }
  const std::string path = argv[1];
  const std::string run = argv[2];
  tw::store::SqliteStore::Options options;
  if (argc > 3 && std::string(argv[3]) == "normal") options.sync = tw::store::SqliteStore::Sync::kNormal;
  // Small history so that automatic compaction also runs under the kill.
  options.limits.history_max_revisions = 500;
  auto store = tw::store::SqliteStore::Open(path, options);
  if (!store.ok()) Fail(store.error());
  tw::store::Datastore& s = **store;
  const tw::store::Key hot{kKind, "", "hot-" + run};
  for (long n = 1;; ++n) {
    if (n % 4 == 0) {
      std::string value = "hot-" + run + "-" + std::to_string(n);
      auto r = s.Update(hot, value, 0);
      if (!r.ok() && r.error().IsNotFound()) r = s.Create(hot, value);
      if (!r.ok()) Fail(r.error());
      Ack("U " + hot.name + " " + std::to_string(r->mod_revision) + " " + value);
    } else if (n % 7 == 0) {
      // Delete the object created 3 steps ago (n-3 is never a multiple of 4
      // here when it was a create; skip if it was not).
      tw::store::Key key{kKind, "ns-" + run, "k-" + std::to_string(n - 3)};
      auto r = s.Delete(key, 0);
      if (!r.ok() && r.error().IsNotFound()) continue;
      if (!r.ok()) Fail(r.error());
      Ack("D " + key.ns + "/" + key.name + " " + std::to_string(r->mod_revision));
    } else {
      tw::store::Key key{kKind, "ns-" + run, "k-" + std::to_string(n)};
      // Values of varying size, some spanning several database pages.
      std::string value =
          "v-" + run + "-" + std::to_string(n) + "-" + std::string(static_cast<size_t>(n * 37 % 9000), 'x');
      auto r = s.Create(key, value);
      if (!r.ok()) Fail(r.error());
      Ack("C " + key.ns + "/" + key.name + " " + std::to_string(r->mod_revision) + " " + value);
    }
  }
}
