// Status: the one error vocabulary of threatwall (leveldb style).
//
// A Status is a code plus a human-readable message; an OK status carries
// nothing.  Messages name the input, the field and the reason, e.g.
//   "41-tf-gnp.yaml: document 1: spec.egress[0].action: must be one of ...".
// Optional causes carry per-field details (they become the `details.causes`
// of a Kubernetes Status body in the API).
//
// Thread-compatible value type.
#ifndef TW_BASE_STATUS_H_
#define TW_BASE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tw {

// The short, fixed list of error codes.  Each maps to one HTTP status.
enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad input: syntax, type, validation (HTTP 400/422)
  kNotFound,          // no such object (404)
  kAlreadyExists,     // create of an existing object (409)
  kConflict,          // stale resourceVersion / concurrent update (409)
  kGone,              // watch from a compacted revision (410)
  kUnauthenticated,   // no or unknown token (401)
  kPermissionDenied,  // token may not do this (403)
  kUnsupported,       // kind or operation not served (400/404/405/415)
  kTooLarge,          // body or value over a limit (413)
  kUnavailable,       // transient: retry later (503)
  kIoError,           // filesystem / database failure (500)
  kInternal,          // a bug (500)
};

std::string_view CodeName(Code code);

// One field-level detail of an error ("spec.selector", "FieldValueInvalid",
// "unexpected '=' at column 12").
struct StatusCause {
  std::string field;
  std::string reason;
  std::string message;
  bool operator==(const StatusCause&) const = default;
};

class Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status Gone(std::string msg) { return {Code::kGone, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
  static Status Unsupported(std::string msg) { return {Code::kUnsupported, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsGone() const { return code_ == Code::kGone; }
  bool IsUnauthenticated() const { return code_ == Code::kUnauthenticated; }
  bool IsPermissionDenied() const { return code_ == Code::kPermissionDenied; }
  bool IsUnsupported() const { return code_ == Code::kUnsupported; }
  bool IsTooLarge() const { return code_ == Code::kTooLarge; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsIoError() const { return code_ == Code::kIoError; }
  bool IsInternal() const { return code_ == Code::kInternal; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }

  // Returns a copy with `prefix + ": "` put in front of the message
  // (e.g. the file and document number); causes are kept.
  Status WithPrefix(std::string_view prefix) const;
  Status WithCause(StatusCause cause) &&;
  Status WithCauses(std::vector<StatusCause> causes) &&;

  // "InvalidArgument: <message>" ("OK" for ok()).
  std::string ToString() const;

  bool operator==(const Status&) const = default;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::vector<StatusCause> causes_;
};

}  // namespace tw

#endif  // TW_BASE_STATUS_H_
