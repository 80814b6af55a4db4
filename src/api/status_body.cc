#include "api/status_body.h"

namespace tw::api {

namespace json = boost::json;

boost::json::object StatusBody(int code, std::string_view reason, std::string_view message,
                               boost::json::object details) {
  json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = json::object();
  o["status"] = "Failure";
  o["message"] = message;
  o["reason"] = reason;
  if (!details.empty()) o["details"] = std::move(details);
  o["code"] = code;
  return o;
}

ApiResponse ErrorResponse(int code, std::string_view reason, std::string_view message,
                          boost::json::object details) {
  return ApiResponse{code, StatusBody(code, reason, message, std::move(details)), {}};
}

std::string_view ReasonForCode(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "InternalError";
  }
}

namespace {

json::array CausesJson(const std::vector<StatusCause>& causes) {
  json::array out;
  for (const StatusCause& c : causes) {
    json::object o;
    o["reason"] = c.reason;
    o["message"] = c.message;
    o["field"] = c.field;
    out.push_back(std::move(o));
  }
  return out;
}

json::object Details(const model::KindInfo& kind, std::string_view name, std::string_view kind_field) {
  json::object d;
  d["name"] = name;
  if (!kind.group.empty()) d["group"] = kind.group;
  d["kind"] = kind_field;
  return d;
}

// "Kind.group" as Kubernetes names a kind in Invalid messages ("Pod" for core).
std::string GroupKind(const model::KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.kind) : std::string(kind.kind) + "." + std::string(kind.group);
}

}  // namespace

ApiResponse FromStatus(const Status& status) {
  int code = 500;
  switch (status.code()) {
    case Code::kOk: code = 200; break;
    case Code::kInvalidArgument: code = 400; break;
    case Code::kNotFound: code = 404; break;
    case Code::kAlreadyExists: code = 409; break;
    case Code::kConflict: code = 409; break;
    case Code::kGone: code = 410; break;
    case Code::kUnauthenticated: code = 401; break;
    case Code::kPermissionDenied: code = 403; break;
    case Code::kUnsupported: code = 415; break;
    case Code::kTooLarge: code = 413; break;
    case Code::kUnavailable: code = 503; break;
    case Code::kIoError: code = 500; break;
    case Code::kInternal: code = 500; break;
  }
  json::object details;
  if (!status.causes().empty()) details["causes"] = CausesJson(status.causes());
  std::string_view reason = ReasonForCode(code);
  if (status.code() == Code::kAlreadyExists) reason = "AlreadyExists";
  return ErrorResponse(code, reason, status.message(), std::move(details));
}

ApiResponse NotFoundError(const model::KindInfo& kind, std::string_view name) {
  std::string msg = kind.QualifiedPlural() + " \"" + std::string(name) + "\" not found";
  return ErrorResponse(404, "NotFound", msg, Details(kind, name, kind.plural));
}

ApiResponse AlreadyExistsError(const model::KindInfo& kind, std::string_view name) {
  std::string msg = kind.QualifiedPlural() + " \"" + std::string(name) + "\" already exists";
  return ErrorResponse(409, "AlreadyExists", msg, Details(kind, name, kind.plural));
}

ApiResponse ConflictError(const model::KindInfo& kind, std::string_view name) {
  return ConflictError(kind, name,
                       "the object has been modified; please apply your changes to the latest version and "
                       "try again");
}

ApiResponse ConflictError(const model::KindInfo& kind, std::string_view name, std::string_view why) {
  std::string msg = "Operation cannot be fulfilled on " + kind.QualifiedPlural() + " \"" + std::string(name) +
                    "\": " + std::string(why);
  return ErrorResponse(409, "Conflict", msg, Details(kind, name, kind.plural));
}

ApiResponse InvalidError(const model::KindInfo& kind, std::string_view name,
                         const std::vector<StatusCause>& causes) {
  std::string msg = GroupKind(kind) + " \"" + std::string(name) + "\" is invalid";
  if (!causes.empty()) {
    msg += ": ";
    for (size_t i = 0; i < causes.size(); ++i) {
      if (i > 0) msg += ", ";
      const StatusCause& c = causes[i];
      msg += c.field.empty() ? c.message : c.field + ": " + c.message;
    }
  }
  json::object d = Details(kind, name, kind.kind);
  d["causes"] = CausesJson(causes);
  return ErrorResponse(422, "Invalid", msg, std::move(d));
}

ApiResponse ForbiddenError(const model::KindInfo& kind, std::string_view name, std::string_view why) {
  std::string msg = kind.QualifiedPlural() + " \"" + std::string(name) + "\" is forbidden: " + std::string(why);
  return ErrorResponse(403, "Forbidden", msg, Details(kind, name, kind.plural));
}

}  // namespace tw::api
