#include "node/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "base/strings.h"

namespace tw::node {
namespace {

std::string NetnsPath(std::string_view name) { return std::string(kNetnsDir) + "/" + std::string(name); }

std::string Errno(int err) { return std::strerror(err); }

using Fd = UniqueFd;

}  // namespace

Result<int> OpenNetns(std::string_view name) {
  TW_RETURN_IF_ERROR(CheckNetnsName(name));
  std::string path = NetnsPath(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("netns " + Quote(name) + ": does not exist");
    return Status::IoError("netns " + Quote(name) + ": open " + path + ": " + Errno(err));
  }
  return fd;
}

namespace {

// What the child reports through the close-on-exec pipe when it fails
// before exec succeeds (the pipe closes silently on success).
struct ChildFailure {
  int stage;  // 1 = setns, 2 = exec, 3 = mount namespace for /etc/netns files
  int err;
};

// The bind mounts `ip netns exec` makes: /etc/netns/<name>/<file> over
// /etc/<file>, for every file whose target exists.  Sorted.
std::vector<std::pair<std::string, std::string>> EtcBinds(std::string_view netns) {
  std::vector<std::pair<std::string, std::string>> binds;
  if (netns.empty()) return binds;
  std::error_code ec;
  std::string dir = std::string(kNetnsEtcDir) + "/" + std::string(netns);
  for (std::filesystem::directory_iterator it(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    std::string target = "/etc/" + it->path().filename().string();
    std::error_code exists_ec;
    if (std::filesystem::exists(target, exists_ec)) binds.emplace_back(it->path().string(), target);
  }
  std::sort(binds.begin(), binds.end());
  return binds;
}

}  // namespace

const std::string& IpTool() {
  static const std::string* const tool = [] {
    for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(path, X_OK) == 0) return new std::string(path);
    }
    return new std::string("ip");
  }();
  return *tool;
}

Status CheckNetnsName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("netns name " + Quote(name) +
                                   ": must be 1..255 bytes without '/' and not '.' or '..'");
  }
  return Status::Ok();
}

Result<bool> NetnsExists(std::string_view name) {
  TW_RETURN_IF_ERROR(CheckNetnsName(name));
  struct stat st;
  std::string path = NetnsPath(name);
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return Status::IoError("netns " + Quote(name) + ": stat " + path + ": " + Errno(errno));
}

Status CreateNetns(std::string_view name) {
  TW_ASSIGN_OR_RETURN(bool exists, NetnsExists(name));
  if (exists) return Status::AlreadyExists("netns " + Quote(name) + ": already exists");
  // `ip netns add` also sets up the shared bind mount of /run/netns that
  // makes the namespace visible to every mount namespace; not worth
  // reimplementing.
  TW_ASSIGN_OR_RETURN(ExecResult r, Exec("", {IpTool(), "netns", "add", std::string(name)}));
  if (r.exit_code != 0) {
    return Status::IoError("netns " + Quote(name) + ": ip netns add: exit " + std::to_string(r.exit_code) +
                           ": " + std::string(TrimSpace(r.output)));
  }
  return Status::Ok();
}

Status DeleteNetns(std::string_view name) {
  TW_ASSIGN_OR_RETURN(bool exists, NetnsExists(name));
  if (!exists) return Status::NotFound("netns " + Quote(name) + ": does not exist");
  TW_ASSIGN_OR_RETURN(ExecResult r, Exec("", {IpTool(), "netns", "delete", std::string(name)}));
  if (r.exit_code != 0) {
    return Status::IoError("netns " + Quote(name) + ": ip netns delete: exit " + std::to_string(r.exit_code) +
                           ": " + std::string(TrimSpace(r.output)));
  }
  return Status::Ok();
}

Status WriteNetnsEtcFile(std::string_view netns, std::string_view file, std::string_view content) {
  TW_RETURN_IF_ERROR(CheckNetnsName(netns));
  if (file.empty() || file.find('/') != std::string_view::npos || file == "." || file == "..") {
    return Status::InvalidArgument("netns " + Quote(netns) + ": bad /etc file name " + Quote(file));
  }
  std::string dir = std::string(kNetnsEtcDir) + "/" + std::string(netns);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("netns " + Quote(netns) + ": create " + dir + ": " + ec.message());
  return WriteFileAtomic(dir + "/" + std::string(file), std::string(content));
}

Status RemoveNetnsEtc(std::string_view netns) {
  TW_RETURN_IF_ERROR(CheckNetnsName(netns));
  std::string dir = std::string(kNetnsEtcDir) + "/" + std::string(netns);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::IoError("netns " + Quote(netns) + ": remove " + dir + ": " + ec.message());
  return Status::Ok();
}

Result<std::vector<std::string>> ListNetns() {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(kNetnsDir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return names;
    return Status::IoError("list " + std::string(kNetnsDir) + ": " + ec.message());
  }
  // Incremented with an error_code: the range-for form throws.
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return Status::IoError("list " + std::string(kNetnsDir) + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<ExecResult> Exec(std::string_view netns, const std::vector<std::string>& argv,
                        const ExecOptions& options) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidArgument("exec: empty command");
  std::string where = netns.empty() ? std::string() : " in netns " + Quote(netns);
  std::string what = "exec " + Quote(Join(argv, " ")) + where;

  Fd ns_fd;
  if (!netns.empty()) {
    TW_ASSIGN_OR_RETURN(int fd, OpenNetns(netns));
    ns_fd.Reset(fd);
  }
  Fd out_read, out_write, fail_read, fail_write, dev_null;
  int p[2];
  if (options.capture_output) {
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::IoError(what + ": pipe: " + Errno(errno));
    out_read.Reset(p[0]);
    out_write.Reset(p[1]);
    dev_null.Reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (dev_null.get() < 0) return Status::IoError(what + ": open /dev/null: " + Errno(errno));
  }
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::IoError(what + ": pipe: " + Errno(errno));
  fail_read.Reset(p[0]);
  fail_write.Reset(p[1]);

  // Everything the child needs is prepared here: between fork and exec a
  // multi-threaded parent's child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::pair<std::string, std::string>> binds = EtcBinds(netns);

  pid_t pid = ::fork();
  if (pid < 0) return Status::IoError(what + ": fork: " + Errno(errno));
  if (pid == 0) {
    ChildFailure failure{0, 0};
    if (ns_fd.get() >= 0 && ::setns(ns_fd.get(), CLONE_NEWNET) != 0) {
      failure = {1, errno};
    } else if (!binds.empty() &&
               (::unshare(CLONE_NEWNS) != 0 || ::mount("", "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)) {
      failure = {3, errno};
    } else {
      // A file that cannot be bound is skipped, as `ip netns exec` does.
      for (const auto& [from, to] : binds) ::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr);
      if (options.capture_output) {
        ::dup2(dev_null.get(), 0);
        ::dup2(out_write.get(), 1);
        ::dup2(out_write.get(), 2);
      }
      // The parent may ignore SIGPIPE; the command should get the default.
      ::signal(SIGPIPE, SIG_DFL);
      ::execvp(args[0], args.data());
      failure = {2, errno};
    }
    ssize_t ignored = ::write(fail_write.get(), &failure, sizeof(failure));
    (void)ignored;
    ::_exit(127);
  }
  out_write.Reset();
  fail_write.Reset();

  ExecResult result;
  Status read_error;
  if (options.capture_output) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(out_read.get(), buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read_error = Status::IoError(what + ": read output: " + Errno(errno));
        break;
      }
      if (n == 0) break;
      size_t room = options.max_output - std::min(options.max_output, result.output.size());
      size_t take = std::min(room, static_cast<size_t>(n));
      result.output.append(buf, take);
      if (take < static_cast<size_t>(n)) result.output_truncated = true;
    }
    out_read.Reset();
  }
  ChildFailure failure{0, 0};
  ssize_t got;
  do {
    got = ::read(fail_read.get(), &failure, sizeof(failure));
  } while (got < 0 && errno == EINTR);

  int wstatus = 0;
  pid_t waited;
  do {
    waited = ::waitpid(pid, &wstatus, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited < 0) return Status::IoError(what + ": waitpid: " + Errno(errno));

  if (got == static_cast<ssize_t>(sizeof(failure))) {
    if (failure.stage == 1) return Status::IoError(what + ": setns: " + Errno(failure.err));
    if (failure.stage == 3) return Status::IoError(what + ": mount namespace: " + Errno(failure.err));
    if (failure.err == ENOENT) {
      return Status::NotFound(what + ": " + Quote(argv[0]) + ": command not found");
    }
    return Status::IoError(what + ": " + Errno(failure.err));
  }
  TW_RETURN_IF_ERROR(read_error);
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  return result;
}

Status RunInNetns(std::string_view netns, const std::function<Status()>& fn) {
  Fd ns_fd;
  if (!netns.empty()) {
    TW_ASSIGN_OR_RETURN(int fd, OpenNetns(netns));
    ns_fd.Reset(fd);
  }
  Status result;
  // A fresh thread, because setns changes the calling thread for good; the
  // thread ends with `fn`, so no other work ever runs in the namespace.
  std::thread worker([&] {
    if (ns_fd.get() >= 0 && ::setns(ns_fd.get(), CLONE_NEWNET) != 0) {
      result = Status::IoError("netns " + Quote(netns) + ": setns: " + Errno(errno));
      return;
    }
    try {
      result = fn();
    } catch (const std::exception& e) {
      result = Status::Internal("netns " + Quote(netns) + ": exception: " + e.what());
    } catch (...) {
      result = Status::Internal("netns " + Quote(netns) + ": unknown exception");
    }
  });
  worker.join();
  return result;
}

Status WriteSysctl(std::string_view netns, std::string_view key, std::string_view value) {
  if (key.empty() || key.find("..") != std::string_view::npos || key.front() == '/') {
    return Status::InvalidArgument("sysctl key " + Quote(key) + ": must be a relative path");
  }
  std::string path = "/proc/sys/" + std::string(key);
  std::string where = netns.empty() ? std::string() : "netns " + Quote(netns) + ": ";
  return RunInNetns(netns, [&]() -> Status {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError(where + "sysctl " + path + ": open: " + Errno(errno));
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(value.size())) {
      return Status::IoError(where + "sysctl " + path + "=" + std::string(value) +
                             ": write: " + (n < 0 ? Errno(err) : std::string("short write")));
    }
    return Status::Ok();
  });
}

}  // namespace tw::node
