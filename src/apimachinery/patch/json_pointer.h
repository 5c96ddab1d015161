// JSON Pointer (RFC 6901): the path syntax of JSON Patch, e.g. "/spec/containers/0/image".
//
// JsonPointer is a value type; the lookup functions are pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kpp::patch {

class JsonPointer {
 public:
  // The pointer to the whole document ("").
  JsonPointer() = default;
  explicit JsonPointer(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // Parses RFC 6901 text: "" is the whole document, otherwise each "/" starts a reference token
  // in which "~1" stands for "/" and "~0" for "~".
  // Errors: kBadRequest when the text does not start with "/" or has a "~" not followed by 0 or 1.
  static Result<JsonPointer> Parse(std::string_view text);

  // The unescaped reference tokens, outermost first.
  const std::vector<std::string>& tokens() const { return tokens_; }
  bool IsRoot() const { return tokens_.empty(); }
  // True when `other` points strictly inside the value this pointer names.
  bool IsProperPrefixOf(const JsonPointer& other) const;
  // The canonical text form, which Parse() turns back into an equal pointer.
  std::string ToString() const;

  bool operator==(const JsonPointer&) const = default;

 private:
  std::vector<std::string> tokens_;
};

// "~" → "~0" and "/" → "~1", so that `token` can be one reference token of a pointer's text.
std::string EscapePointerToken(std::string_view token);

// An array index token as RFC 6901 allows it: decimal digits without leading zeros ("0" alone is
// fine). Signs, exponents and "-" are not indices; nullopt for them and for overflow.
std::optional<std::size_t> ParseArrayIndex(std::string_view token);

// The value `pointer` names inside `document`, or nullptr together with an explanation.
// Errors: kNotFound naming the first token that does not resolve (missing member, index out of
// range, malformed index, or a scalar where a container was needed).
Result<const boost::json::value*> FindValue(const boost::json::value& document,
                                            const JsonPointer& pointer);
Result<boost::json::value*> FindValue(boost::json::value& document, const JsonPointer& pointer);

}  // namespace kpp::patch
