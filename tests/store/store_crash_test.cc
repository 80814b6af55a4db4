// Crash safety of SqliteStore: every write acknowledged before SIGKILL is
// on disk afterwards, and the database reopens consistent.
//
// Each round starts store_crash_writer on the same database, reads its
// acknowledgements from a pipe, SIGKILLs it after a random number of them
// (so the kill lands in the middle of a write), reopens the store and checks
// every acknowledgement of every round so far.  Rounds alternate between
// synchronous=FULL and NORMAL (both must survive a process crash).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "store/sqlite_store.h"

namespace tw::store {
namespace {

constexpr const char* kKind = "test/CrashKind";

struct Ack {
  char op;  // 'C', 'U' or 'D'
  int64_t revision;
  std::string value;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "tw_store_crash_XXXXXX";
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Key ParseKey(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return Key{kKind, "", s};
  return Key{kKind, s.substr(0, slash), s.substr(slash + 1)};
}

// Runs the writer until `kill_after` acknowledgements were read, SIGKILLs
// it, and returns every complete acknowledgement line it printed.
std::vector<std::string> RunAndKill(const std::string& db, int run, bool normal, int kill_after) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe";
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::string run_id = std::to_string(run);
    execl(TW_STORE_CRASH_WRITER, TW_STORE_CRASH_WRITER, db.c_str(), run_id.c_str(),
          normal ? "normal" : "full", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::vector<std::string> lines;
  std::string buf;
  char chunk[65536];
  bool killed = false;
  while (true) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // EOF: the writer is dead (killed or failed)
    buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(buf.substr(start, nl - start));
    }
    buf.erase(0, start);
    if (!killed && static_cast<int>(lines.size()) >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;  // keep reading: lines already in the pipe were acknowledged too
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own (status " << status << ") after " << lines.size() << " acks";
  return lines;  // a partial last line (buf) was not acknowledged
}

// The writer's step n of an ack line: "C k-<n>", "D k-<n-3>" (step n
// deletes the key of step n-3), "U" with value "hot-<run>-<n>".
long WriterStep(char op, const std::string& key, const std::string& value) {
  const std::string& text = op == 'U' ? value : key;
  size_t dash = text.rfind('-');
  long n = dash == std::string::npos ? 0 : std::atol(text.c_str() + dash + 1);
  return op == 'D' ? n + 3 : n;
}

// The writer deletes k-<n> at step n+3 when n+3 is a multiple of 7.  A
// delete that committed just before the SIGKILL has no ack line, so such a
// key may be gone -- but only if no step at or after n+3 was acknowledged
// (acks are written in step order, and the delete's ack would come first).
bool MayBeDeletedUnacked(const Key& key, const std::map<int, long>& max_step) {
  if (key.ns.rfind("ns-", 0) != 0 || key.name.rfind("k-", 0) != 0) return false;
  int run = std::atoi(key.ns.c_str() + 3);
  long n = std::atol(key.name.c_str() + 2);
  auto it = max_step.find(run);
  long last = it == max_step.end() ? 0 : it->second;
  return (n + 3) % 7 == 0 && n + 3 > last;
}

TEST(StoreCrash, AcknowledgedWritesSurviveSigkill) {
  TempDir dir;
  const std::string db = dir.path() + "/store.db";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::map<Key, Ack> acked;  // the last acknowledged write per key, over all rounds
  std::map<int, long> max_step;  // per round (= writer run): the highest step n acknowledged
  int64_t max_acked = 0;
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    const bool normal = round % 2 == 1;
    const int kill_after = std::uniform_int_distribution<int>(1, 800)(rng);
    SCOPED_TRACE("round " + std::to_string(round) + (normal ? " (NORMAL)" : " (FULL)") + ", kill after " +
                 std::to_string(kill_after) + " acks");
    std::vector<std::string> lines = RunAndKill(db, round, normal, kill_after);
    ASSERT_GE(static_cast<int>(lines.size()), kill_after);
    int64_t previous = max_acked;
    for (const std::string& line : lines) {
      std::istringstream in(line);
      char op = 0;
      std::string key;
      Ack ack;
      in >> op >> key >> ack.revision;
      ASSERT_TRUE(in && (op == 'C' || op == 'U' || op == 'D')) << "bad ack line: " << line;
      if (op != 'D') in >> ack.value;
      ack.op = op;
      // Acks of one writer come in commit order.
      ASSERT_GT(ack.revision, previous) << line;
      previous = ack.revision;
      acked[ParseKey(key)] = ack;
      max_step[round] = std::max(max_step[round], WriterStep(op, key, ack.value));
    }
    max_acked = previous;

    auto store = SqliteStore::Open(db);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->CheckConsistency().ok()) << (*store)->CheckConsistency().ToString();
    EXPECT_GE((*store)->CurrentRevision(), max_acked);
    int missing = 0;
    for (const auto& [key, ack] : acked) {
      auto got = (*store)->Get(key);
      if (ack.op == 'D') {
        EXPECT_TRUE(!got.ok() && got.error().IsNotFound())
            << key.ns << "/" << key.name << " was deleted at " << ack.revision;
        continue;
      }
      if (!got.ok() && got.error().IsNotFound() && MayBeDeletedUnacked(key, max_step)) continue;
      if (!got.ok()) {
        if (++missing <= 5)
          ADD_FAILURE() << key.ns << "/" << key.name << " acked at " << ack.revision << ": "
                        << got.status().ToString();
        continue;
      }
      // A later, unacknowledged write to the same key may have committed.
      EXPECT_GE(got->mod_revision, ack.revision) << key.name;
      if (got->mod_revision == ack.revision) {
        EXPECT_EQ(got->value, ack.value) << key.name;
      }
    }
    EXPECT_EQ(missing, 0);
    // The revision recovered on open continues without reuse.
    auto next = (*store)->Create(Key{kKind, "check", "after-round-" + std::to_string(round)}, "v");
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_GT(next->mod_revision, max_acked);
    max_acked = next->mod_revision;
  }
}

}  // namespace
}  // namespace tw::store
