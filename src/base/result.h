// Result<T>: a value or an Error, which the caller must look at ([[nodiscard]]).
// Deliberately ignoring a Result is spelled `IgnoreError(expr)` so it can be grepped.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>
#include <variant>

#include "base/error.h"

namespace kpp {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Accessing the value of a failed Result (or the error of a good one) is a bug: it aborts.
  T& value() & { return Checked<0>(); }
  const T& value() const& { return Checked<0>(); }
  T&& value() && { return std::move(Checked<0>()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return Checked<1>(); }
  Error&& error() && { return std::move(Checked<1>()); }

 private:
  template <std::size_t I>
  auto& Checked() {
    if (state_.index() != I) std::abort();
    return std::get<I>(state_);
  }
  template <std::size_t I>
  const auto& Checked() const {
    if (state_.index() != I) std::abort();
    return std::get<I>(state_);
  }

  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  const Error& error() const& {
    if (!error_) std::abort();
    return *error_;
  }
  Error&& error() && {
    if (!error_) std::abort();
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() {
  return {};
}

// Marks a place where an error is dropped on purpose.
template <typename T>
void IgnoreError(Result<T>&&) {}

}  // namespace kpp

// Returns the error of `expr` from the enclosing function when it failed.
#define KPP_RETURN_IF_ERROR(expr)                       \
  do {                                                  \
    if (auto kpp_result_ = (expr); !kpp_result_.ok()) { \
      return std::move(kpp_result_).error();            \
    }                                                   \
  } while (false)

#define KPP_CONCAT_INNER(a, b) a##b
#define KPP_CONCAT(a, b) KPP_CONCAT_INNER(a, b)

// `KPP_ASSIGN_OR_RETURN(auto x, Compute());` binds the value or returns the error.
#define KPP_ASSIGN_OR_RETURN(lhs, expr) \
  KPP_ASSIGN_OR_RETURN_IMPL(KPP_CONCAT(kpp_result_, __LINE__), lhs, expr)
#define KPP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).error();   \
  lhs = std::move(tmp).value()
