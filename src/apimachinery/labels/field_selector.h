// Field selectors as in k8s.io/apimachinery/pkg/fields: the `?fieldSelector=` syntax
// ("metadata.name=x,status.phase!=Running"), matching against an object's selectable field
// values, and the canonical String().
//
// Syntax: comma-separated terms `field=value`, `field==value` or `field!=value`. In values, `\,`,
// `\=` and `\\` stand for `,`, `=` and `\`; any other backslash sequence and any unescaped `,` or
// `=` in a value is an error. Field names are not checked here: the API server checks them
// against each kind's supported fields (see FieldNames() and Transform()).
//
// Errors: parsing fails with ErrorCode::kBadRequest and upstream's message, e.g.
// "invalid selector: 'a'; can't understand 'a'".
// Thread safety: immutable values; const use from many threads is safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace kpp::fields {

// The selectable fields of an object and their values, e.g. {"metadata.name": "web-0"}.
// A field missing from the map has the value "".
using Set = std::map<std::string, std::string>;

struct Requirement {
  enum class Operator { kEquals, kNotEquals };

  std::string field;
  Operator op = Operator::kEquals;
  std::string value;  // unescaped

  bool operator==(const Requirement&) const = default;
};

// Maps a (field, value) pair to a new pair, e.g. to translate a field label of an older API
// version, or fails to reject an unsupported field. Returning {"", ""} drops the term.
using TransformFunction = std::function<Result<std::pair<std::string, std::string>>(
    std::string_view field, std::string_view value)>;

class Selector {
 public:
  // Everything().
  Selector() = default;

  // Matches every object; Empty() is true, String() is "".
  static Selector Everything() { return Selector(); }
  // Matches no object; Empty() is false, String() is "".
  static Selector Nothing();
  // Parses the string form. Terms are sorted as strings before parsing (so String() is
  // canonical); empty terms are skipped. Fails with kBadRequest.
  static Result<Selector> Parse(std::string_view text);
  // `field=value`.
  static Selector OneTermEqual(std::string field, std::string value);
  // `field!=value`.
  static Selector OneTermNotEqual(std::string field, std::string value);
  // One `field=value` term per entry.
  static Selector FromSet(const Set& fields);

  bool Matches(const Set& fields) const;
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool MatchesNothing() const { return nothing_; }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // The field names the selector uses, each once, in term order.
  std::vector<std::string> FieldNames() const;
  // The value `field` must have exactly, when some term is `field=value`.
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;
  // Applies `transform` to every term; terms transformed to ("", "") are dropped. Fails with the
  // first error `transform` returns.
  Result<Selector> Transform(const TransformFunction& transform) const;
  // Terms joined by ",", values escaped, e.g. "metadata.name=a\,b,status.phase!=Running".
  std::string String() const;

  bool operator==(const Selector&) const = default;

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;
};

// Escapes `\`, `,` and `=` in a value with a backslash.
std::string EscapeValue(std::string_view value);
// The inverse of EscapeValue; fails (kBadRequest) on an unknown escape sequence, a trailing
// backslash, or an unescaped `,` or `=`.
Result<std::string> UnescapeValue(std::string_view escaped);

}  // namespace kpp::fields
