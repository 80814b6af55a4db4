#include "api/auth.h"

#include "base/strings.h"

namespace tw::api {

namespace {

// Constant-time in the length of `expected`: no early exit on the first
// differing byte, so response times do not leak a token prefix.
bool SecureEquals(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

}  // namespace

Authenticator::Authenticator(std::string admin_token, std::string readonly_token)
    : admin_token_(std::move(admin_token)), readonly_token_(std::move(readonly_token)) {}

Result<Role> Authenticator::Authenticate(std::string_view authorization) const {
  std::string_view value = TrimSpace(authorization);
  if (value.empty()) return Status::Unauthenticated("Unauthorized");
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size() || !EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer))
    return Status::Unauthenticated("Unauthorized");
  std::string_view token = TrimSpace(value.substr(kBearer.size()));
  bool admin = SecureEquals(token, admin_token_);
  bool readonly = SecureEquals(token, readonly_token_);
  if (admin) return Role::kAdmin;
  if (readonly) return Role::kReadOnly;
  return Status::Unauthenticated("Unauthorized");
}

Status Authenticator::Authorize(Role role, std::string_view method) {
  if (role == Role::kAdmin) return Status::Ok();
  if (method == "GET" || method == "HEAD") return Status::Ok();
  return Status::PermissionDenied("the read-only token may only read (GET); " + std::string(method) +
                                  " needs the admin token");
}

}  // namespace tw::api
