// A small arbitrary-precision unsigned integer for Quantity: just the operations exact decimal
// fixed-point arithmetic needs (add, subtract, multiply, divide by small numbers and powers of
// ten, decimal conversion). Limbs are base 10^9 so that decimal digits are cheap to reach.
// Not thread-safe for concurrent mutation; const use from many threads is safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kpp::resource::internal {

class BigUnsigned {
 public:
  BigUnsigned() = default;
  explicit BigUnsigned(uint64_t value);
  // `digits` must be all ASCII digits (may be empty, meaning zero).
  static BigUnsigned FromDecimal(std::string_view digits);

  bool IsZero() const { return limbs_.empty(); }
  // -1, 0 or 1.
  int Compare(const BigUnsigned& other) const;
  void Add(const BigUnsigned& other);
  // Requires *this >= other.
  void Subtract(const BigUnsigned& other);
  void Multiply(const BigUnsigned& other);
  void MultiplySmall(uint32_t factor);
  void MultiplyPow10(uint64_t exponent);
  void MultiplyPow2(uint32_t exponent);
  // Divides in place and returns the remainder. `divisor` must not be 0.
  uint32_t DivideSmall(uint32_t divisor);
  // Divides by 10^exponent, truncating; returns whether a non-zero remainder was dropped.
  bool DividePow10(uint64_t exponent);

  // Number of decimal digits (0 for zero).
  uint64_t DecimalDigits() const;
  // Number of trailing decimal zeros (0 for zero).
  uint64_t TrailingDecimalZeros() const;
  std::string ToDecimal() const;
  std::optional<uint64_t> ToUint64() const;

  bool operator==(const BigUnsigned&) const = default;

 private:
  static constexpr uint32_t kBase = 1'000'000'000;
  static constexpr unsigned kBaseDigits = 9;

  void Trim();

  std::vector<uint32_t> limbs_;  // least significant first; no most-significant zero limbs
};

}  // namespace kpp::resource::internal
