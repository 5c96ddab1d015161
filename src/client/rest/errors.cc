#include "client/rest/errors.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <vector>

namespace kpp::client {
namespace {

constexpr ErrorCode kAllCodes[] = {
    ErrorCode::kBadRequest,
    ErrorCode::kUnauthorized,
    ErrorCode::kForbidden,
    ErrorCode::kNotFound,
    ErrorCode::kMethodNotAllowed,
    ErrorCode::kNotAcceptable,
    ErrorCode::kAlreadyExists,
    ErrorCode::kConflict,
    ErrorCode::kGone,
    ErrorCode::kExpired,
    ErrorCode::kRequestEntityTooLarge,
    ErrorCode::kUnsupportedMediaType,
    ErrorCode::kInvalid,
    ErrorCode::kTooManyRequests,
    ErrorCode::kInternalError,
    ErrorCode::kServiceUnavailable,
    ErrorCode::kTimeout,
    ErrorCode::kServerTimeout,
};

// client-go's mapping of a bare HTTP code to a reason (NewGenericServerResponse).
ErrorCode CodeOfHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return ErrorCode::kBadRequest;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 405: return ErrorCode::kMethodNotAllowed;
    case 406: return ErrorCode::kNotAcceptable;
    case 409: return ErrorCode::kConflict;
    case 410: return ErrorCode::kGone;
    case 413: return ErrorCode::kRequestEntityTooLarge;
    case 415: return ErrorCode::kUnsupportedMediaType;
    case 422: return ErrorCode::kInvalid;
    case 429: return ErrorCode::kTooManyRequests;
    case 503: return ErrorCode::kServiceUnavailable;
    case 504: return ErrorCode::kTimeout;
    default: return http_status >= 500 ? ErrorCode::kInternalError : ErrorCode::kBadRequest;
  }
}

std::string StringOf(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

}  // namespace

Error ErrorFromResponse(int http_status, std::string_view body) {
  boost::json::error_code ec;
  const auto document = boost::json::parse(body, ec);
  if (!ec && document.is_object() && StringOf(document.as_object(), "kind") == "Status") {
    const auto& status = document.as_object();
    const std::string reason = StringOf(status, "reason");
    ErrorCode code = CodeOfHttpStatus(http_status);
    for (const ErrorCode candidate : kAllCodes) {
      if (!reason.empty() && ReasonOf(candidate) == reason) {
        code = candidate;
        break;
      }
    }
    std::vector<ErrorCause> causes;
    if (const auto* details = status.if_contains("details"); details && details->is_object()) {
      if (const auto* list = details->as_object().if_contains("causes"); list && list->is_array()) {
        for (const auto& cause : list->as_array()) {
          if (!cause.is_object()) continue;
          causes.push_back({StringOf(cause.as_object(), "reason"),
                            StringOf(cause.as_object(), "message"),
                            StringOf(cause.as_object(), "field")});
        }
      }
    }
    return Error(code, StringOf(status, "message"), std::move(causes));
  }
  // Not a Status: client-go's generic message with the body when it is short text.
  std::string message = fmt::format("the server responded with the status code {}", http_status);
  if (!body.empty() && body.size() < 1024) message += fmt::format(" ({})", body);
  return Error(CodeOfHttpStatus(http_status), std::move(message));
}

}  // namespace kpp::client
