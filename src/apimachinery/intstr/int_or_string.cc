#include "apimachinery/intstr/int_or_string.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

#include "base/go_quote.h"

namespace kpp::intstr {
namespace {

// The part of Go's strconv.Atoi error after its prefix: "invalid syntax" or "value out of range".
struct AtoiResult {
  std::optional<int64_t> value;
  std::string_view problem;
};

// Go's strconv.Atoi on a 64-bit platform: optional sign, then decimal digits.
AtoiResult Atoi(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return {std::nullopt, "invalid syntax"};
  uint64_t magnitude = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return {std::nullopt, "invalid syntax"};
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    // Like Go, overflow is reported as soon as it happens, before any later bad character.
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      return {std::nullopt, "value out of range"};
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0)) return {std::nullopt, "value out of range"};
  if (negative) {
    return {magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                  : -static_cast<int64_t>(magnitude),
            ""};
  }
  return {static_cast<int64_t>(magnitude), ""};
}

}  // namespace

IntOrString IntOrString::FromInt32(int32_t value) {
  IntOrString result;
  result.int_value_ = value;
  return result;
}

IntOrString IntOrString::FromString(std::string value) {
  IntOrString result;
  result.type_ = Type::kString;
  result.string_value_ = std::move(value);
  return result;
}

IntOrString IntOrString::Parse(std::string_view text) {
  const auto parsed = Atoi(text);
  if (parsed.value && *parsed.value >= std::numeric_limits<int32_t>::min() &&
      *parsed.value <= std::numeric_limits<int32_t>::max()) {
    return FromInt32(static_cast<int32_t>(*parsed.value));
  }
  return FromString(std::string(text));
}

int64_t IntOrString::IntValue() const {
  if (type_ == Type::kInt) return int_value_;
  return Atoi(string_value_).value.value_or(0);
}

std::string IntOrString::String() const {
  if (type_ == Type::kInt) return std::to_string(int_value_);
  return string_value_;
}

Result<int64_t> GetScaledValueFromIntOrPercent(const IntOrString& value, int64_t total,
                                               bool round_up) {
  if (value.is_int()) return int64_t{value.int_value()};
  const std::string& text = value.string_value();
  if (!text.ends_with('%')) {
    return InvalidError("invalid value for IntOrString: invalid type: string is not a percentage");
  }
  const std::string_view number = std::string_view(text).substr(0, text.size() - 1);
  const auto parsed = Atoi(number);
  if (!parsed.value) {
    return InvalidError(
        fmt::format("invalid value for IntOrString: invalid value {}: strconv.Atoi: parsing {}: {}",
                    GoQuote(text), GoQuote(number), parsed.problem));
  }
  // Same floating-point steps as upstream, so results agree at the edges.
  const double scaled = static_cast<double>(*parsed.value) * static_cast<double>(total) / 100;
  return static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

}  // namespace kpp::intstr
