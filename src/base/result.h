// Result<T>: a value or the Status saying why there is none.
//
// The shape of std::expected<T, Status> (has_value, value, error, operator*,
// operator->), written out because clang 14 -- the compiler of our libFuzzer
// builds -- cannot use libstdc++ 12's <expected>.  Construct an error with
// `return Status::NotFound(...)`: a non-OK Status converts implicitly.
#ifndef TW_BASE_RESULT_H_
#define TW_BASE_RESULT_H_

#include <type_traits>
#include <utility>
#include <variant>

#include "base/check.h"
#include "base/status.h"

namespace tw {

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  // Implicit from a value and from a (non-OK) Status, like std::expected.
  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    TW_CHECK(!std::get<1>(v_).ok()) << "Result constructed from an OK status";
  }

  bool has_value() const { return v_.index() == 0; }
  bool ok() const { return has_value(); }
  explicit operator bool() const { return has_value(); }

  T& value() & { TW_CHECK(has_value()) << error_message(); return std::get<0>(v_); }
  const T& value() const& { TW_CHECK(has_value()) << error_message(); return std::get<0>(v_); }
  T&& value() && { TW_CHECK(has_value()) << error_message(); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& other) const& { return has_value() ? std::get<0>(v_) : T(std::forward<U>(other)); }

  // The error; only valid when !has_value().
  const Status& error() const& { TW_CHECK(!has_value()); return std::get<1>(v_); }
  Status&& error() && { TW_CHECK(!has_value()); return std::get<1>(std::move(v_)); }
  // OK when there is a value.
  Status status() const { return has_value() ? Status() : std::get<1>(v_); }

 private:
  std::string error_message() const { return has_value() ? std::string() : std::get<1>(v_).ToString(); }
  std::variant<T, Status> v_;
};

}  // namespace tw

// Evaluates `expr` (a Status or Result); returns its error from the caller.
#define TW_RETURN_IF_ERROR(expr)                                \
  do {                                                          \
    auto tw_status_ = ::tw::internal::ToStatus((expr));         \
    if (!tw_status_.ok()) return tw_status_;                    \
  } while (0)

#define TW_CONCAT_INNER_(a, b) a##b
#define TW_CONCAT_(a, b) TW_CONCAT_INNER_(a, b)
// `TW_ASSIGN_OR_RETURN(auto x, F());` -- unwraps a Result or returns its error.
#define TW_ASSIGN_OR_RETURN(lhs, expr) \
  TW_ASSIGN_OR_RETURN_IMPL_(TW_CONCAT_(tw_result_, __LINE__), lhs, expr)
#define TW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.has_value()) return std::move(tmp).error(); \
  lhs = std::move(tmp).value()

namespace tw::internal {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) { return r.status(); }
}  // namespace tw::internal

#endif  // TW_BASE_RESULT_H_
