// Errors as values. Every failure that can reach a client carries one of the canonical codes
// below, which map one-to-one onto Kubernetes Status reasons and HTTP codes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kpp {

// Canonical error codes, named after the Kubernetes StatusReason they become.
enum class ErrorCode {
  kBadRequest,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kNotAcceptable,
  kAlreadyExists,
  kConflict,
  kGone,
  kExpired,
  kRequestEntityTooLarge,
  kUnsupportedMediaType,
  kInvalid,
  kTooManyRequests,
  kInternalError,
  kServiceUnavailable,
  kTimeout,
  kServerTimeout,
};

// The Kubernetes StatusReason string for `code`, e.g. "NotFound".
std::string_view ReasonOf(ErrorCode code);
// The HTTP status code the API server answers with for `code`, e.g. 404.
int HttpStatusOf(ErrorCode code);

// One field-level cause of an error (a StatusCause): type such as "FieldValueRequired",
// a human message, and the JSON path of the field, e.g. "spec.containers[0].image".
struct ErrorCause {
  std::string type;
  std::string message;
  std::string field;

  bool operator==(const ErrorCause&) const = default;
};

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Error(ErrorCode code, std::string message, std::vector<ErrorCause> causes)
      : code_(code), message_(std::move(message)), causes_(std::move(causes)) {}

  ErrorCode code() const { return code_; }
  std::string_view reason() const { return ReasonOf(code_); }
  int http_status() const { return HttpStatusOf(code_); }
  const std::string& message() const { return message_; }
  const std::vector<ErrorCause>& causes() const { return causes_; }

  // Prefixes the message with context, as in "loading tls/ca.crt: <message>".
  Error&& WithContext(std::string_view context) &&;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<ErrorCause> causes_;
};

// Shorthands for the common codes.
inline Error NotFoundError(std::string message) {
  return {ErrorCode::kNotFound, std::move(message)};
}
inline Error InvalidError(std::string message) {
  return {ErrorCode::kInvalid, std::move(message)};
}
inline Error BadRequestError(std::string message) {
  return {ErrorCode::kBadRequest, std::move(message)};
}
inline Error InternalError(std::string message) {
  return {ErrorCode::kInternalError, std::move(message)};
}

}  // namespace kpp
