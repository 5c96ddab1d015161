#include "apimachinery/resource/big_unsigned.h"

#include <algorithm>

namespace kpp::resource::internal {
namespace {

constexpr uint32_t kPow10[] = {1,      10,      100,      1000,      10000,
                               100000, 1000000, 10000000, 100000000, 1000000000};

}  // namespace

BigUnsigned::BigUnsigned(uint64_t value) {
  while (value > 0) {
    limbs_.push_back(static_cast<uint32_t>(value % kBase));
    value /= kBase;
  }
}

BigUnsigned BigUnsigned::FromDecimal(std::string_view digits) {
  BigUnsigned result;
  size_t end = digits.size();
  while (end > 0) {
    const size_t start = end >= kBaseDigits ? end - kBaseDigits : 0;
    uint32_t limb = 0;
    for (size_t i = start; i < end; ++i)
      limb = limb * 10 + static_cast<uint32_t>(digits[i] - '0');
    result.limbs_.push_back(limb);
    end = start;
  }
  result.Trim();
  return result;
}

void BigUnsigned::Trim() {
  while (!limbs_.empty() && limbs_.back() == 0)
    limbs_.pop_back();
}

int BigUnsigned::Compare(const BigUnsigned& other) const {
  if (limbs_.size() != other.limbs_.size()) return limbs_.size() < other.limbs_.size() ? -1 : 1;
  for (size_t i = limbs_.size(); i-- > 0;) {
    if (limbs_[i] != other.limbs_[i]) return limbs_[i] < other.limbs_[i] ? -1 : 1;
  }
  return 0;
}

void BigUnsigned::Add(const BigUnsigned& other) {
  if (limbs_.size() < other.limbs_.size()) limbs_.resize(other.limbs_.size(), 0);
  uint32_t carry = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    uint64_t sum = uint64_t{limbs_[i]} + carry + (i < other.limbs_.size() ? other.limbs_[i] : 0);
    carry = sum >= kBase ? 1 : 0;
    limbs_[i] = static_cast<uint32_t>(sum - (carry ? kBase : 0));
    if (carry == 0 && i >= other.limbs_.size()) break;
  }
  if (carry) limbs_.push_back(carry);
}

void BigUnsigned::Subtract(const BigUnsigned& other) {
  int64_t borrow = 0;
  for (size_t i = 0; i < limbs_.size(); ++i) {
    int64_t difference =
        int64_t{limbs_[i]} - borrow - (i < other.limbs_.size() ? int64_t{other.limbs_[i]} : 0);
    borrow = difference < 0 ? 1 : 0;
    limbs_[i] = static_cast<uint32_t>(difference + (borrow ? kBase : 0));
    if (borrow == 0 && i >= other.limbs_.size()) break;
  }
  Trim();
}

void BigUnsigned::Multiply(const BigUnsigned& other) {
  if (IsZero() || other.IsZero()) {
    limbs_.clear();
    return;
  }
  std::vector<uint64_t> product(limbs_.size() + other.limbs_.size() + 1, 0);
  for (size_t i = 0; i < limbs_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < other.limbs_.size(); ++j) {
      const uint64_t current = product[i + j] + uint64_t{limbs_[i]} * other.limbs_[j] + carry;
      product[i + j] = current % kBase;
      carry = current / kBase;
    }
    size_t k = i + other.limbs_.size();
    while (carry > 0) {
      const uint64_t current = product[k] + carry;
      product[k] = current % kBase;
      carry = current / kBase;
      ++k;
    }
  }
  limbs_.assign(product.begin(), product.end());
  Trim();
}

void BigUnsigned::MultiplySmall(uint32_t factor) {
  if (factor == 0) {
    limbs_.clear();
    return;
  }
  uint64_t carry = 0;
  for (auto& limb : limbs_) {
    const uint64_t current = uint64_t{limb} * factor + carry;
    limb = static_cast<uint32_t>(current % kBase);
    carry = current / kBase;
  }
  while (carry > 0) {
    limbs_.push_back(static_cast<uint32_t>(carry % kBase));
    carry /= kBase;
  }
}

void BigUnsigned::MultiplyPow10(uint64_t exponent) {
  if (IsZero() || exponent == 0) return;
  limbs_.insert(limbs_.begin(), exponent / kBaseDigits, 0);
  MultiplySmall(kPow10[exponent % kBaseDigits]);
}

void BigUnsigned::MultiplyPow2(uint32_t exponent) {
  for (; exponent >= 30; exponent -= 30)
    MultiplySmall(uint32_t{1} << 30);
  MultiplySmall(uint32_t{1} << exponent);
}

uint32_t BigUnsigned::DivideSmall(uint32_t divisor) {
  uint64_t remainder = 0;
  for (size_t i = limbs_.size(); i-- > 0;) {
    const uint64_t current = remainder * kBase + limbs_[i];
    limbs_[i] = static_cast<uint32_t>(current / divisor);
    remainder = current % divisor;
  }
  Trim();
  return static_cast<uint32_t>(remainder);
}

bool BigUnsigned::DividePow10(uint64_t exponent) {
  const uint64_t whole_limbs = exponent / kBaseDigits;
  if (whole_limbs >= limbs_.size()) {
    const bool dropped = !IsZero();
    limbs_.clear();
    return dropped;
  }
  const bool dropped_limbs =
      std::any_of(limbs_.begin(), limbs_.begin() + static_cast<std::ptrdiff_t>(whole_limbs),
                  [](uint32_t limb) { return limb != 0; });
  limbs_.erase(limbs_.begin(), limbs_.begin() + static_cast<std::ptrdiff_t>(whole_limbs));
  const bool dropped_rest = DivideSmall(kPow10[exponent % kBaseDigits]) != 0;
  return dropped_limbs || dropped_rest;
}

uint64_t BigUnsigned::DecimalDigits() const {
  if (IsZero()) return 0;
  uint64_t digits = (limbs_.size() - 1) * kBaseDigits;
  for (uint32_t top = limbs_.back(); top > 0; top /= 10)
    ++digits;
  return digits;
}

uint64_t BigUnsigned::TrailingDecimalZeros() const {
  uint64_t zeros = 0;
  for (uint32_t limb : limbs_) {
    if (limb == 0) {
      zeros += kBaseDigits;
      continue;
    }
    for (; limb % 10 == 0; limb /= 10)
      ++zeros;
    return zeros;
  }
  return 0;
}

std::string BigUnsigned::ToDecimal() const {
  if (IsZero()) return "0";
  std::string out = std::to_string(limbs_.back());
  for (size_t i = limbs_.size() - 1; i-- > 0;) {
    const std::string limb = std::to_string(limbs_[i]);
    out.append(kBaseDigits - limb.size(), '0');
    out += limb;
  }
  return out;
}

std::optional<uint64_t> BigUnsigned::ToUint64() const {
  uint64_t value = 0;
  for (size_t i = limbs_.size(); i-- > 0;) {
    if (value > (UINT64_MAX - limbs_[i]) / kBase) return std::nullopt;
    value = value * kBase + limbs_[i];
  }
  return value;
}

}  // namespace kpp::resource::internal
