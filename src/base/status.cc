#include "base/status.h"

namespace tw {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kGone: return "Gone";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kUnsupported: return "Unsupported";
    case Code::kTooLarge: return "TooLarge";
    case Code::kUnavailable: return "Unavailable";
    case Code::kIoError: return "IoError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::WithPrefix(std::string_view prefix) const {
  Status s = *this;
  if (!ok()) s.message_ = std::string(prefix) + ": " + message_;
  return s;
}

Status Status::WithCause(StatusCause cause) && {
  causes_.push_back(std::move(cause));
  return std::move(*this);
}

Status Status::WithCauses(std::vector<StatusCause> causes) && {
  for (auto& c : causes) causes_.push_back(std::move(c));
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace tw
