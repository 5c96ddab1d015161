// intstr.IntOrString from k8s.io/apimachinery/pkg/util/intstr: a field that holds either an
// int32 or a string (ports "8080" / "http", rollout surges 1 / "25%"), independent of JSON.
//
// Errors: GetScaledValueFromIntOrPercent fails with ErrorCode::kInvalid and upstream's message,
// e.g. "invalid value for IntOrString: invalid type: string is not a percentage".
// Thread safety: a value type; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::intstr {

class IntOrString {
 public:
  enum class Type { kInt, kString };

  // The int 0.
  IntOrString() = default;

  static IntOrString FromInt32(int32_t value);
  static IntOrString FromString(std::string value);
  // An int when `text` is a decimal int32 ("80", "-1", "+5"), otherwise the string ("http").
  static IntOrString Parse(std::string_view text);

  Type type() const { return type_; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_string() const { return type_ == Type::kString; }
  int32_t int_value() const { return int_value_; }
  const std::string& string_value() const { return string_value_; }

  // Upstream's IntValue(): the int, or the string parsed as an integer (0 when it is not one).
  int64_t IntValue() const;
  // The int in decimal, or the string.
  std::string String() const;

  bool operator==(const IntOrString&) const = default;

 private:
  Type type_ = Type::kInt;
  int32_t int_value_ = 0;
  std::string string_value_;
};

// An int as is, or a percentage string ("25%") applied to `total`, rounded up when `round_up`
// and down otherwise. Fails (kInvalid) for strings without "%" or with a non-integer before it.
Result<int64_t> GetScaledValueFromIntOrPercent(const IntOrString& value, int64_t total,
                                               bool round_up);

}  // namespace kpp::intstr
