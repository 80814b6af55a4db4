#include "node/names.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace tw::node {
namespace {

Status CheckObjectName(std::string_view field, std::string_view value) {
  if (value.empty()) return Status::InvalidArgument(std::string(field) + ": must not be empty");
  for (char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return Status::InvalidArgument(std::string(field) + ": " + Quote(value) +
                                     ": only lower-case letters, digits, '-' and '.' are allowed");
    }
  }
  return Status::Ok();
}

Status CheckNames(std::string_view ns, std::string_view pod) {
  TW_RETURN_IF_ERROR(CheckObjectName("namespace", ns));
  return CheckObjectName("pod name", pod);
}

}  // namespace

uint64_t NameHash(std::string_view ns, std::string_view pod) {
  // '/' never occurs in either name, so (ns, pod) is unambiguous.
  std::string key;
  key.reserve(ns.size() + 1 + pod.size());
  key.append(ns).append("/").append(pod);
  return Fnv1a64(key);
}

Result<std::string> SandboxNetnsName(std::string_view ns, std::string_view pod) {
  TW_RETURN_IF_ERROR(CheckNames(ns, pod));
  std::string full = fmt::format("tw-{}-{}", ns, pod);
  if (full.size() <= kMaxNetnsNameLen) return full;
  std::string suffix = fmt::format("-{:012x}", NameHash(ns, pod) & 0xffffffffffffull);
  full.resize(kMaxNetnsNameLen - suffix.size());
  return full + suffix;
}

Result<std::string> HostIfaceName(std::string_view ns, std::string_view pod) {
  TW_RETURN_IF_ERROR(CheckNames(ns, pod));
  return fmt::format("tw{:011x}", NameHash(ns, pod) >> 20);
}

}  // namespace tw::node
