// Bearer-token authentication and the two roles of the API.
//
// The daemon holds two tokens: admin (everything) and read-only (GET only,
// watches and discovery included).  Thread-safe after construction.
#ifndef TW_API_AUTH_H_
#define TW_API_AUTH_H_

#include <string>
#include <string_view>

#include "base/result.h"

namespace tw::api {

enum class Role { kAdmin, kReadOnly };

class Authenticator {
 public:
  // Empty tokens never match anything.
  Authenticator(std::string admin_token, std::string readonly_token);

  // `authorization` is the Authorization header value ("Bearer <token>").
  // Unauthenticated ("Unauthorized") when it is missing, not a bearer
  // token, or unknown.  Tokens are compared in constant time.
  Result<Role> Authenticate(std::string_view authorization) const;

  // PermissionDenied unless `role` may use `method` (read-only: GET and
  // HEAD only).
  static Status Authorize(Role role, std::string_view method);

 private:
  std::string admin_token_;
  std::string readonly_token_;
};

}  // namespace tw::api

#endif  // TW_API_AUTH_H_
