// Kubernetes `Status` bodies (meta/v1 Status) for API errors, and the
// ApiResponse every ResourceService call returns.
//
// Messages follow the Kubernetes API server's wording so that kubectl and
// users see familiar errors:
//   NotFound       `globalthreatfeeds.projectcalico.org "x" not found`
//   AlreadyExists  `globalthreatfeeds.projectcalico.org "x" already exists`
//   Conflict       `Operation cannot be fulfilled on ... "x": the object has
//                   been modified; please apply your changes to the latest
//                   version and try again`
//   Invalid (422)  `GlobalThreatFeed.projectcalico.org "x" is invalid: F: R`
#ifndef TW_API_STATUS_BODY_H_
#define TW_API_STATUS_BODY_H_

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/kinds.h"

namespace tw::api {

// What one API call answers: an HTTP code and a JSON body (an object, a
// List, a Table or a Status).  `warnings` become `Warning: 299 - "..."`
// headers (fieldValidation=Warn).
struct ApiResponse {
  int code = 200;
  boost::json::value body;
  // When set, the JSON text sent instead of `body` (large objects served
  // without building a DOM).
  std::string raw_body;
  std::vector<std::string> warnings;

  bool ok() const { return code >= 200 && code < 300; }
};

// A Failure Status body.  `details` may be empty.
boost::json::object StatusBody(int code, std::string_view reason, std::string_view message,
                               boost::json::object details = {});
ApiResponse ErrorResponse(int code, std::string_view reason, std::string_view message,
                          boost::json::object details = {});

// The canonical reason for an HTTP error code ("NotFound" for 404, ...).
std::string_view ReasonForCode(int code);

// A plain tw::Status without Kubernetes context: the code picks the HTTP
// code (InvalidArgument 400, NotFound 404, AlreadyExists/Conflict 409,
// Gone 410, Unauthenticated 401, PermissionDenied 403, Unsupported 415,
// TooLarge 413, Unavailable 503, else 500); the message is kept, causes
// become details.causes.
ApiResponse FromStatus(const Status& status);

// Errors about one object of `kind`, worded as Kubernetes does.
ApiResponse NotFoundError(const model::KindInfo& kind, std::string_view name);
ApiResponse AlreadyExistsError(const model::KindInfo& kind, std::string_view name);
ApiResponse ConflictError(const model::KindInfo& kind, std::string_view name);
// 409 with a custom explanation: `Operation cannot be fulfilled on
// tiers.projectcalico.org "x": <why>`.
ApiResponse ConflictError(const model::KindInfo& kind, std::string_view name, std::string_view why);
// 422 `Kind.group "name" is invalid: <first cause>` with every cause.
ApiResponse InvalidError(const model::KindInfo& kind, std::string_view name,
                         const std::vector<StatusCause>& causes);
// 403 `tiers.projectcalico.org "default" is forbidden: <why>`.
ApiResponse ForbiddenError(const model::KindInfo& kind, std::string_view name, std::string_view why);

}  // namespace tw::api

#endif  // TW_API_STATUS_BODY_H_
