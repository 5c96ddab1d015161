#include "apimachinery/validation/field_errors.h"

#include <fmt/format.h>

#include "base/go_quote.h"

namespace kpp::validation {

FieldPath FieldPath::Child(std::string_view name) const {
  FieldPath child;
  child.text_ = text_.empty() ? std::string(name) : text_ + "." + std::string(name);
  return child;
}

FieldPath FieldPath::Index(size_t index) const {
  FieldPath child;
  child.text_ = fmt::format("{}[{}]", text_, index);
  return child;
}

FieldPath FieldPath::Key(std::string_view key) const {
  FieldPath child;
  child.text_ = fmt::format("{}[{}]", text_, key);
  return child;
}

std::string_view CauseReason(FieldErrorType type) {
  switch (type) {
    case FieldErrorType::kRequired: return "FieldValueRequired";
    case FieldErrorType::kInvalid: return "FieldValueInvalid";
    case FieldErrorType::kNotSupported: return "FieldValueNotSupported";
    case FieldErrorType::kDuplicate: return "FieldValueDuplicate";
    case FieldErrorType::kForbidden: return "FieldValueForbidden";
    case FieldErrorType::kTooLong: return "FieldValueTooLong";
    case FieldErrorType::kTooMany: return "FieldValueTooMany";
    case FieldErrorType::kNotFound: return "FieldValueNotFound";
    case FieldErrorType::kTypeInvalid: return "FieldValueTypeInvalid";
  }
  return "FieldValueInvalid";
}

namespace {

std::string_view TypeText(FieldErrorType type) {
  switch (type) {
    case FieldErrorType::kRequired: return "Required value";
    case FieldErrorType::kInvalid: return "Invalid value";
    case FieldErrorType::kNotSupported: return "Unsupported value";
    case FieldErrorType::kDuplicate: return "Duplicate value";
    case FieldErrorType::kForbidden: return "Forbidden";
    case FieldErrorType::kTooLong: return "Too long";
    case FieldErrorType::kTooMany: return "Too many";
    case FieldErrorType::kNotFound: return "Not found";
    case FieldErrorType::kTypeInvalid: return "Invalid value";
  }
  return "Invalid value";
}

}  // namespace

std::string FieldError::Body() const {
  std::string text(TypeText(type));
  if (!value.empty()) text += ": " + value;
  if (!detail.empty()) text += ": " + detail;
  return text;
}

std::string FieldError::ToString() const {
  return field.empty() ? Body() : field + ": " + Body();
}

FieldError Required(const FieldPath& path, std::string detail) {
  return {FieldErrorType::kRequired, path.str(), {}, std::move(detail)};
}

FieldError Invalid(const FieldPath& path, std::string_view value, std::string detail) {
  return {FieldErrorType::kInvalid, path.str(), GoQuote(value), std::move(detail)};
}

FieldError InvalidInt(const FieldPath& path, int64_t value, std::string detail) {
  return {FieldErrorType::kInvalid, path.str(), std::to_string(value), std::move(detail)};
}

FieldError NotSupported(const FieldPath& path, std::string_view value,
                        const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i > 0) detail += ", ";
      detail += GoQuote(supported[i]);
    }
  }
  return {FieldErrorType::kNotSupported, path.str(), GoQuote(value), std::move(detail)};
}

FieldError Duplicate(const FieldPath& path, std::string_view value) {
  return {FieldErrorType::kDuplicate, path.str(), GoQuote(value), {}};
}

FieldError Forbidden(const FieldPath& path, std::string detail) {
  return {FieldErrorType::kForbidden, path.str(), {}, std::move(detail)};
}

FieldError TooLong(const FieldPath& path, size_t max_length) {
  return {FieldErrorType::kTooLong,
          path.str(),
          {},
          fmt::format("may not be more than {} bytes", max_length)};
}

Error ToInvalidError(std::string_view qualified_kind, std::string_view name,
                     const FieldErrors& errors) {
  std::string list;
  std::vector<ErrorCause> causes;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) list += ", ";
    list += errors[i].ToString();
    causes.push_back({std::string(CauseReason(errors[i].type)), errors[i].Body(), errors[i].field});
  }
  if (errors.size() > 1) list = "[" + list + "]";
  return Error(ErrorCode::kInvalid,
               fmt::format("{} {} is invalid: {}", qualified_kind, GoQuote(name), list),
               std::move(causes));
}

}  // namespace kpp::validation
