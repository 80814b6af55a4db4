// Named network namespaces, in iproute2's layout (/run/netns/<name>, so
// `ip netns list` and `ip -n <name>` see them), and running code inside one.
//
// Exec switches the network namespace and, like `ip netns exec`, binds the
// files of /etc/netns/<name>/ over their /etc/ namesakes in a private mount
// namespace (a pod's resolv.conf); unlike `ip netns exec` it does not
// remount /sys, so programs that read /sys/class/net see the caller's
// devices.  Programs that talk netlink or sockets (ip, curl, nc) behave the
// same.  /proc/sys/net follows the namespace, so sysctls written from
// RunInNetns apply to it.
//
// An empty namespace name means "the caller's own namespace" everywhere.
// All functions are thread-safe.  They need CAP_SYS_ADMIN (root) except
// Exec/RunInNetns with an empty name.
#ifndef TW_NODE_NETNS_H_
#define TW_NODE_NETNS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tw::node {

// Directory of the named namespaces.
inline constexpr std::string_view kNetnsDir = "/run/netns";
// Per-namespace /etc files (iproute2's convention): /etc/netns/<name>/<file>
// is seen as /etc/<file> by programs Exec runs in <name>.
inline constexpr std::string_view kNetnsEtcDir = "/etc/netns";

// Writes /etc/netns/<netns>/<file> (directories created; replaced
// atomically).  InvalidArgument for a bad name or a file name with '/'.
Status WriteNetnsEtcFile(std::string_view netns, std::string_view file, std::string_view content);
// Removes /etc/netns/<netns>/ and what is in it; OK when it does not exist.
Status RemoveNetnsEtc(std::string_view netns);

// Path of iproute2's `ip` (/usr/sbin/ip or /sbin/ip when present, so a
// daemon started with a short PATH still finds it; else "ip").
const std::string& IpTool();

// InvalidArgument unless `name` is a usable namespace name: 1..255 bytes, no
// '/', no NUL, not "." or "..".
Status CheckNetnsName(std::string_view name);

// Opens /run/netns/<name> (O_CLOEXEC) for setns; NotFound names the
// namespace.  The caller closes the descriptor.
Result<int> OpenNetns(std::string_view name);

// `ip netns add <name>`.  AlreadyExists when it exists.
Status CreateNetns(std::string_view name);
// `ip netns delete <name>`.  NotFound when it does not exist.  The kernel
// frees the namespace (and the devices left in it) asynchronously, once the
// last process or socket inside it is gone.
Status DeleteNetns(std::string_view name);
Result<bool> NetnsExists(std::string_view name);
// Names under kNetnsDir, sorted.  Empty when the directory does not exist.
Result<std::vector<std::string>> ListNetns();

struct ExecOptions {
  // true: stdin is /dev/null and stdout+stderr are captured together into
  // ExecResult::output.  false: the command shares the caller's stdin,
  // stdout and stderr (`threatwall exec -it`); output stays empty.
  bool capture_output = true;
  // Captured bytes past this are read and dropped (output_truncated).
  size_t max_output = 1u << 20;
};

struct ExecResult {
  int exit_code = 0;  // the command's exit status, or 128 + signal number
  std::string output;
  bool output_truncated = false;
};

// Runs `argv` (argv[0] looked up in PATH) inside `netns` and waits for it.
// A non-zero exit code is a result, not an error.  Errors: InvalidArgument
// (empty argv, bad name), NotFound (no such namespace, or argv[0] not
// found), IoError (fork/pipe/setns/exec failed) -- each naming the command.
Result<ExecResult> Exec(std::string_view netns, const std::vector<std::string>& argv,
                        const ExecOptions& options = {});

// Runs `fn` on a new thread that has joined `netns`, waits for it and
// returns its Status.  Sockets `fn` creates belong to `netns` for their
// whole life, also after `fn` returns; this is how in-process clients and
// servers are placed in a pod.  NotFound when the namespace does not exist.
Status RunInNetns(std::string_view netns, const std::function<Status()>& fn);

// Writes `value` to /proc/sys/<key> (key like "net/ipv4/ip_forward") inside
// `netns`.
Status WriteSysctl(std::string_view netns, std::string_view key, std::string_view value);

}  // namespace tw::node

#endif  // TW_NODE_NETNS_H_
