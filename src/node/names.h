// Names of a pod's network objects, derived from (namespace, pod name).
//
// Both names must stay the same across daemon restarts (they are how a
// restarted daemon finds an existing sandbox), so they use a fixed hash
// (64-bit FNV-1a of "<namespace>/<pod>"), never std::hash.
//
// Pure functions, thread-safe.
#ifndef TW_NODE_NAMES_H_
#define TW_NODE_NAMES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::node {

// Longest network-namespace name we create (a file name under /run/netns;
// kept short so `ip netns list` stays readable).
inline constexpr size_t kMaxNetnsNameLen = 63;
// Longest interface name the kernel accepts (IFNAMSIZ - 1).
inline constexpr size_t kMaxIfaceNameLen = 15;

// The pod's network namespace: "tw-<namespace>-<pod>".  When that is longer
// than kMaxNetnsNameLen it becomes "tw-" + the first characters of
// "<namespace>-<pod>" + "-" + 12 hex digits of the hash, exactly
// kMaxNetnsNameLen characters.  Note that "tw-a-b-c" is the name of both
// (a-b, c) and (a, b-c): callers must treat an existing namespace as taken
// (CreateSandbox refuses it) rather than assume it is theirs.
// InvalidArgument unless `ns` and `pod` are non-empty and made of [a-z0-9.-]
// (Kubernetes object names), with the field named in the message.
Result<std::string> SandboxNetnsName(std::string_view ns, std::string_view pod);

// The host-side veth in the node namespace: "tw" + 11 hex digits of the
// hash (13 characters; Calico's "cali" + 11 in spirit).  Same validation.
Result<std::string> HostIfaceName(std::string_view ns, std::string_view pod);

// The stable hash both names use (exposed for tests).
uint64_t NameHash(std::string_view ns, std::string_view pod);

}  // namespace tw::node

#endif  // TW_NODE_NAMES_H_
