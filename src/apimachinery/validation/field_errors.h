// Field-level validation errors with upstream's paths and wording (k8s.io/apimachinery's
// field.Error), and their conversion into an Invalid error carrying one cause per field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace kpp::validation {

// A path into an object, written as upstream writes it: spec.containers[0].image,
// metadata.labels[app].
class FieldPath {
 public:
  FieldPath() = default;
  explicit FieldPath(std::string_view root) : text_(root) {}

  FieldPath Child(std::string_view name) const;
  FieldPath Index(size_t index) const;
  FieldPath Key(std::string_view key) const;
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

enum class FieldErrorType {
  kRequired,      // "Required value"
  kInvalid,       // "Invalid value"
  kNotSupported,  // "Unsupported value"
  kDuplicate,     // "Duplicate value"
  kForbidden,     // "Forbidden"
  kTooLong,       // "Too long"
  kTooMany,       // "Too many"
  kNotFound,      // "Not found"
  kTypeInvalid,   // "Invalid value", for a value of the wrong JSON type
};

// The StatusCause reason of a type, e.g. "FieldValueRequired".
std::string_view CauseReason(FieldErrorType type);

struct FieldError {
  FieldErrorType type;
  std::string field;
  // The offending value as upstream quotes it ("\"Foo\"", "5"); empty when it has none to show.
  std::string value;
  std::string detail;

  // "Invalid value: \"Foo\": a lowercase RFC 1123 label must ...": what a StatusCause says.
  std::string Body() const;
  // The field path, then the body: "spec.containers[0].name: Invalid value: ...".
  std::string ToString() const;
};

// Builders with upstream's semantics. Values are quoted as Go's %q/%v would print them.
FieldError Required(const FieldPath& path, std::string detail = {});
FieldError Invalid(const FieldPath& path, std::string_view value, std::string detail);
FieldError InvalidInt(const FieldPath& path, int64_t value, std::string detail);
FieldError NotSupported(const FieldPath& path, std::string_view value,
                        const std::vector<std::string>& supported);
FieldError Duplicate(const FieldPath& path, std::string_view value);
FieldError Forbidden(const FieldPath& path, std::string detail);
FieldError TooLong(const FieldPath& path, size_t max_length);

using FieldErrors = std::vector<FieldError>;

// The Invalid error the API server answers with: `Pod "web" is invalid: <errors>` (errors in
// brackets when there are several), one cause per field error. `kind` is the Kind, qualified
// with the group for non-core groups ("Deployment.apps").
Error ToInvalidError(std::string_view qualified_kind, std::string_view name,
                     const FieldErrors& errors);

}  // namespace kpp::validation
