// API errors as client-go's k8s.io/apimachinery/pkg/api/errors sees them: a failed answer's
// Status (reason, code, message, causes) becomes a kpp::Error with the reason's code, so callers
// branch with IsNotFound(error) and friends.
#pragma once

#include <string_view>

#include "base/error.h"

namespace kpp::client {

// The error for an answer with HTTP status `http_status` and `body`: the Status it carries, or,
// when the body is not a Status, one made from the HTTP code as client-go does.
Error ErrorFromResponse(int http_status, std::string_view body);

inline bool IsNotFound(const Error& error) {
  return error.code() == ErrorCode::kNotFound;
}
inline bool IsAlreadyExists(const Error& error) {
  return error.code() == ErrorCode::kAlreadyExists;
}
inline bool IsConflict(const Error& error) {
  return error.code() == ErrorCode::kConflict;
}
inline bool IsInvalid(const Error& error) {
  return error.code() == ErrorCode::kInvalid;
}
inline bool IsForbidden(const Error& error) {
  return error.code() == ErrorCode::kForbidden;
}
inline bool IsUnauthorized(const Error& error) {
  return error.code() == ErrorCode::kUnauthorized;
}
inline bool IsBadRequest(const Error& error) {
  return error.code() == ErrorCode::kBadRequest;
}
inline bool IsTooManyRequests(const Error& error) {
  return error.code() == ErrorCode::kTooManyRequests;
}
// 410: a resourceVersion too old to list or watch from (reason Expired or Gone).
inline bool IsResourceExpired(const Error& error) {
  return error.code() == ErrorCode::kExpired || error.code() == ErrorCode::kGone;
}
inline bool IsServiceUnavailable(const Error& error) {
  return error.code() == ErrorCode::kServiceUnavailable;
}

}  // namespace kpp::client
