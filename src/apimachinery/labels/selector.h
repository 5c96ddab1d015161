// Label selectors as in k8s.io/apimachinery/pkg/labels and the metav1.LabelSelector helpers:
// parsing the string form used in `?labelSelector=` and `kubectl -l`, converting the
// LabelSelector API object, matching against an object's labels, and the canonical String().
//
// Errors: parsing a string fails with ErrorCode::kBadRequest; building requirements from an API
// object fails with ErrorCode::kInvalid. Messages are upstream's texts, e.g.
// "unable to parse requirement: found '', expected: identifier after ','".
// Thread safety: all types are immutable values once built; const use from many threads is safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kpp::labels {

// An object's labels.
using Set = std::map<std::string, std::string>;

// The operators a requirement can use (upstream's selection.Operator).
enum class Operator {
  kEquals,        // a=b
  kDoubleEquals,  // a==b
  kNotEquals,     // a!=b
  kIn,            // a in (b,c)
  kNotIn,         // a notin (b,c)
  kExists,        // a
  kDoesNotExist,  // !a
  kGreaterThan,   // a>1 (integer comparison)
  kLessThan,      // a<1
};

// Upstream's spelling of `op`: "=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt".
std::string_view OperatorName(Operator op);

// One term of a selector: a key, an operator and its values.
class Requirement {
 public:
  // Validates like upstream's NewRequirement: the key must be a qualified name, every value a
  // valid label value, In/NotIn need at least one value, =/==/!= exactly one, Exists/DoesNotExist
  // none, Gt/Lt exactly one integer. Fails with kInvalid and upstream's aggregated message,
  // e.g. `values[0][app]: Invalid value: "a b": a valid label must be ...`.
  static Result<Requirement> Create(std::string key, Operator op, std::vector<std::string> values);

  const std::string& key() const { return key_; }
  Operator op() const { return op_; }
  // The values as given (the string parser hands them over sorted and de-duplicated).
  const std::vector<std::string>& values() const { return values_; }

  // Whether `labels` satisfy this requirement. A missing key satisfies NotIn, != and !key.
  bool Matches(const Set& labels) const;
  // e.g. "app=web", "!canary", "tier in (back,front)" (values sorted).
  std::string String() const;

  bool operator==(const Requirement&) const = default;

 private:
  Requirement(std::string key, Operator op, std::vector<std::string> values)
      : key_(std::move(key)), op_(op), values_(std::move(values)) {}
  friend class Selector;

  std::string key_;
  Operator op_;
  std::vector<std::string> values_;
};

// A conjunction of requirements, or the selector that matches nothing.
class Selector {
 public:
  // The empty selector, same as Everything().
  Selector() = default;

  // Matches every object; String() is "" and Empty() is true.
  static Selector Everything() { return Selector(); }
  // Matches no object; String() is "" but Empty() is false (a nil LabelSelector).
  static Selector Nothing();
  // Parses the string form, e.g. "a=b,c!=d,e in (x,y),f notin (z),!g,h,x==y,n>1".
  // The empty (or all-blank) string gives Everything(). Fails with kBadRequest.
  static Result<Selector> Parse(std::string_view text);
  // One Equals requirement per label, unvalidated (upstream's SelectorFromSet).
  static Selector FromSet(const Set& labels);
  // Like FromSet, validating every key and value (fails with kInvalid).
  static Result<Selector> FromValidatedSet(const Set& labels);

  // A copy with `more` added; requirements are kept sorted by key.
  Selector Add(std::vector<Requirement> more) const;

  bool Matches(const Set& labels) const;
  // True when the selector does not restrict anything (Everything(), or parsed from "").
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  // True only for Nothing().
  bool MatchesNothing() const { return nothing_; }
  // Sorted by key; empty for Nothing().
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // The value a selector requires `label` to have exactly (a=v, a==v, a in (v)), if any.
  std::optional<std::string> RequiresExactMatch(std::string_view label) const;
  // Canonical form: requirements sorted by key, joined by ",", e.g. "a=b,c in (x,y)".
  std::string String() const;

  bool operator==(const Selector&) const = default;

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;
};

// The requirements of a selector string, sorted by key (upstream's ParseToRequirements).
Result<std::vector<Requirement>> ParseToRequirements(std::string_view text);

// metav1.LabelSelectorRequirement. `op` stays a string because any string can arrive in JSON;
// valid ones are "In", "NotIn", "Exists" and "DoesNotExist".
struct LabelSelectorRequirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;

  bool operator==(const LabelSelectorRequirement&) const = default;
};

// metav1.LabelSelector (the generated API type converts to this).
struct LabelSelector {
  Set match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  bool operator==(const LabelSelector&) const = default;
};

// Upstream's LabelSelectorAsSelector: nullptr (an absent selector) gives Nothing(), a selector
// with no terms gives Everything(). Fails with kInvalid, e.g. for an unknown operator:
// `"Foo" is not a valid pod selector operator`.
Result<Selector> LabelSelectorAsSelector(const LabelSelector* selector);
// The map form of a selector that only uses equality (kInvalid otherwise).
Result<Set> LabelSelectorAsMap(const LabelSelector* selector);
// Parses the string form into the API object (kBadRequest on errors).
Result<LabelSelector> ParseToLabelSelector(std::string_view text);
// The string form of an API selector for display: "<none>" when empty, "<error>" when invalid.
std::string FormatLabelSelector(const LabelSelector* selector);

}  // namespace kpp::labels
