#include "apimachinery/resource/quantity.h"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

namespace kpp::resource {
namespace {

using internal::BigUnsigned;

constexpr std::string_view kFormatWrongMessage =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kNumericMessage = "unable to parse numeric part of quantity";
constexpr std::string_view kSuffixMessage = "unable to parse quantity's suffix";
constexpr int64_t kNanosPerUnit = 1'000'000'000;
constexpr int32_t kMaxExponent = std::numeric_limits<int32_t>::max();

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// The pieces of a quantity string, split the way upstream's scanner splits them.
struct Pieces {
  bool positive = true;
  bool has_digits = false;  // whether the numeric part has any digit at all
  std::string_view num;     // integer digits without leading zeros ("0" when none are left)
  std::string_view denom;   // fraction digits
  std::string_view suffix;
};

std::optional<Pieces> Scan(std::string_view text) {
  Pieces pieces;
  const size_t end = text.size();
  size_t pos = 0;
  if (pos < end && (text[0] == '-' || text[0] == '+')) {
    pieces.positive = text[0] == '+';
    ++pos;
  }
  size_t start = pos;
  while (pos < end && text[pos] == '0')
    ++pos;
  pieces.has_digits = pos > start;
  if (pos >= end) {
    pieces.num = "0";
    return pieces;
  }
  start = pos;
  while (pos < end && IsDigit(text[pos]))
    ++pos;
  pieces.num = text.substr(start, pos - start);
  pieces.has_digits = pieces.has_digits || !pieces.num.empty();
  if (pieces.num.empty()) pieces.num = "0";
  if (pos < end && text[pos] == '.') {
    start = ++pos;
    while (pos < end && IsDigit(text[pos]))
      ++pos;
    pieces.denom = text.substr(start, pos - start);
    pieces.has_digits = pieces.has_digits || !pieces.denom.empty();
  }
  const size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(text[pos]) != std::string_view::npos)
    ++pos;
  if (pos < end && (text[pos] == '-' || text[pos] == '+')) ++pos;
  while (pos < end && IsDigit(text[pos]))
    ++pos;
  if (pos < end) return std::nullopt;
  pieces.suffix = text.substr(suffix_start);
  return pieces;
}

struct SuffixMeaning {
  int base;          // 10 or 2
  int32_t exponent;  // power of the base
  Quantity::Format format;
};

std::optional<SuffixMeaning> InterpretSuffix(std::string_view suffix) {
  using Format = Quantity::Format;
  static constexpr std::pair<std::string_view, int32_t> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
      {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18},
  };
  static constexpr std::pair<std::string_view, int32_t> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60},
  };
  for (const auto& [name, exponent] : kDecimal) {
    if (suffix == name) return SuffixMeaning{10, exponent, Format::kDecimalSI};
  }
  for (const auto& [name, exponent] : kBinary) {
    if (suffix == name) return SuffixMeaning{2, exponent, Format::kBinarySI};
  }
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    // strconv.ParseInt semantics: optional sign, then digits only.
    std::string_view digits = suffix.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty()) return std::nullopt;
    int64_t magnitude = 0;
    for (char c : digits) {
      if (!IsDigit(c)) return std::nullopt;
      magnitude = magnitude * 10 + (c - '0');
      // Exponents beyond int32 are rejected rather than truncated (as current upstream does).
      if (magnitude > kMaxExponent) return std::nullopt;
    }
    return SuffixMeaning{10, static_cast<int32_t>(negative ? -magnitude : magnitude),
                         Format::kDecimalExponent};
  }
  return std::nullopt;
}

// Upstream parses in one of two ways, and which one is observable: its int64 fast path (taken
// when the digits fit a precision budget) echoes the input string when the digits already have
// the canonical shape, and only its arbitrary-precision path needs the number to have a digit.
// Returns nullopt when upstream would not take the fast path, else whether it keeps the text.
std::optional<bool> UpstreamFastPathKeepsText(const Pieces& pieces, const SuffixMeaning& meaning) {
  const auto num_length = static_cast<int64_t>(pieces.num.size());
  const auto denom_length = static_cast<int64_t>(pieces.denom.size());
  int64_t precision = -1;
  int64_t scale = 0;
  if (meaning.format == Quantity::Format::kBinarySI) {
    if (meaning.exponent >= 0 && denom_length == 0)
      precision = 15 - num_length - meaning.exponent * 3 / 10 - 1;
  } else {
    scale = meaning.exponent;
    precision = 18 - (num_length + denom_length);
  }
  if (precision < 0) return std::nullopt;
  scale -= denom_length;
  if (scale < kNano) return std::nullopt;
  const std::string shifted = std::string(pieces.num) + std::string(pieces.denom);
  const uint64_t value = std::strtoull(shifted.c_str(), nullptr, 10);
  if (meaning.format == Quantity::Format::kBinarySI) {
    // The product with 2^exponent must fit an int64 for the fast path.
    if (value > ((uint64_t{1} << 63) - 1) >> meaning.exponent) return std::nullopt;
    return meaning.exponent % 10 == 0 && (value & 0x07) != 0;
  }
  return scale % 3 == 0 && !shifted.ends_with("000") && shifted[0] != '0';
}

// Rounds a magnitude given as `digits` * 10^exponent up to whole nano-units.
Result<BigUnsigned> DecimalToNanos(std::string_view digits, int64_t exponent) {
  while (!digits.empty() && digits.front() == '0')
    digits.remove_prefix(1);
  if (digits.empty()) return BigUnsigned();
  // Whatever the suffix: with a fraction and "n", more digits before the point than the bound
  // would otherwise pass, and the canonical form could not be parsed back.
  if (static_cast<int64_t>(digits.size()) + exponent > static_cast<int64_t>(kMaxIntegerDigits)) {
    return BadRequestError(fmt::format(
        "quantity too large: more than {} digits before the decimal point", kMaxIntegerDigits));
  }
  const int64_t shift = exponent + 9;  // power of ten to apply to reach nano-units
  if (shift >= 0) {
    BigUnsigned nanos = BigUnsigned::FromDecimal(digits);
    nanos.MultiplyPow10(static_cast<uint64_t>(shift));
    return nanos;
  }
  if (static_cast<uint64_t>(-shift) > digits.size()) return BigUnsigned(1);
  BigUnsigned nanos = BigUnsigned::FromDecimal(digits);
  if (nanos.DividePow10(static_cast<uint64_t>(-shift))) nanos.Add(BigUnsigned(1));
  return nanos;
}

BigUnsigned MaxBinaryNanos() {
  BigUnsigned max(static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  max.MultiplyPow10(9);
  return max;
}

std::string_view DecimalSuffix(int64_t exponent) {
  switch (exponent) {
    case -9: return "n";
    case -6: return "u";
    case -3: return "m";
    case 0: return "";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
    default: return "?";
  }
}

std::string_view BinarySuffix(uint32_t power_of_1024) {
  static constexpr std::string_view kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  return kSuffixes[power_of_1024];
}

// A signed magnitude as an int64, saturating at the limits.
int64_t SaturatingInt64(bool negative, const BigUnsigned& magnitude) {
  const auto value = magnitude.ToUint64();
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (!value || *value > kMaxPositive) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(*value);
  }
  if (!value || *value > kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
  if (*value == kMaxPositive + 1) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(*value);
}

}  // namespace

std::string_view FormatName(Quantity::Format format) {
  switch (format) {
    case Quantity::Format::kDecimalExponent: return "DecimalExponent";
    case Quantity::Format::kBinarySI: return "BinarySI";
    case Quantity::Format::kDecimalSI: return "DecimalSI";
  }
  return "";
}

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return BadRequestError(std::string(kFormatWrongMessage));
  if (text == "0") {
    Quantity zero;
    zero.verbatim_ = "0";
    return zero;
  }
  const auto pieces = Scan(text);
  if (!pieces) return BadRequestError(std::string(kFormatWrongMessage));
  const auto meaning = InterpretSuffix(pieces->suffix);
  if (!meaning) return BadRequestError(std::string(kSuffixMessage));

  Quantity quantity;
  quantity.format_ = meaning->format;
  const std::optional<bool> keeps_text = UpstreamFastPathKeepsText(*pieces, *meaning);
  if (!keeps_text && !pieces->has_digits) return BadRequestError(std::string(kNumericMessage));

  const std::string digits = std::string(pieces->num) + std::string(pieces->denom);
  const auto denom_length = static_cast<int64_t>(pieces->denom.size());
  if (meaning->base == 10) {
    KPP_ASSIGN_OR_RETURN(quantity.nanos_,
                         DecimalToNanos(digits, int64_t{meaning->exponent} - denom_length));
  } else {
    BigUnsigned scaled = BigUnsigned::FromDecimal(digits);
    scaled.MultiplyPow2(static_cast<uint32_t>(meaning->exponent));
    if (denom_length <= 9) {
      scaled.MultiplyPow10(static_cast<uint64_t>(9 - denom_length));
    } else if (scaled.DividePow10(static_cast<uint64_t>(denom_length - 9))) {
      scaled.Add(BigUnsigned(1));
    }
    const BigUnsigned max = MaxBinaryNanos();
    if (scaled.Compare(max) > 0) scaled = max;
    quantity.nanos_ = std::move(scaled);
    // A binary quantity below one is shown in decimal, to avoid rounding it.
    if (!quantity.nanos_.IsZero() && quantity.nanos_.Compare(BigUnsigned(kNanosPerUnit)) < 0)
      quantity.format_ = Format::kDecimalSI;
  }
  quantity.negative_ = !pieces->positive && !quantity.nanos_.IsZero();
  if (keeps_text.value_or(false)) quantity.verbatim_ = std::string(text);
  return quantity;
}

bool Quantity::IsCanonicalText(std::string_view text) {
  if (text == "0") return true;
  const auto pieces = Scan(text);
  if (!pieces) return false;
  const auto meaning = InterpretSuffix(pieces->suffix);
  // The condition under which Parse keeps the text (verbatim_), short of huge exponents, which
  // Parse may refuse (kMaxIntegerDigits; found by the quantity fuzzer: "8e+00006000").
  return meaning && (meaning->base == 2 || meaning->exponent <= kExa) &&
         UpstreamFastPathKeepsText(*pieces, *meaning).value_or(false);
}

Quantity Quantity::FromInt64(int64_t value, Format format) {
  return FromScaled(value, 0).WithFormat(format);
}

Quantity Quantity::FromMilli(int64_t milli_value, Format format) {
  return FromScaled(milli_value, kMilli).WithFormat(format);
}

Quantity Quantity::FromScaled(int64_t value, int32_t scale) {
  Quantity quantity;
  const uint64_t magnitude =
      value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  BigUnsigned nanos(magnitude);
  const int64_t shift = int64_t{scale} + 9;
  if (shift >= 0) {
    nanos.MultiplyPow10(static_cast<uint64_t>(shift));
  } else if (nanos.DividePow10(static_cast<uint64_t>(-shift))) {
    nanos.Add(BigUnsigned(1));
  }
  quantity.nanos_ = std::move(nanos);
  quantity.negative_ = value < 0;
  return quantity;
}

Quantity Quantity::WithFormat(Format format) && {
  format_ = format;
  return std::move(*this);
}

void Quantity::set_format(Format format) {
  format_ = format;
  verbatim_.clear();
}

int Quantity::Cmp(const Quantity& other) const {
  const int sign = Sign();
  const int other_sign = other.Sign();
  if (sign != other_sign) return sign < other_sign ? -1 : 1;
  const int magnitude = nanos_.Compare(other.nanos_);
  return negative_ ? -magnitude : magnitude;
}

int Quantity::CmpInt64(int64_t value) const {
  return Cmp(FromInt64(value));
}

void Quantity::Add(const Quantity& other) {
  verbatim_.clear();
  if (IsZero()) format_ = other.format_;
  if (other.IsZero()) return;
  if (IsZero() || negative_ == other.negative_) {
    negative_ = other.negative_;
    nanos_.Add(other.nanos_);
    return;
  }
  if (nanos_.Compare(other.nanos_) >= 0) {
    nanos_.Subtract(other.nanos_);
  } else {
    BigUnsigned difference = other.nanos_;
    difference.Subtract(nanos_);
    nanos_ = std::move(difference);
    negative_ = other.negative_;
  }
  if (nanos_.IsZero()) negative_ = false;
}

void Quantity::Sub(const Quantity& other) {
  Quantity negated = other;
  negated.Neg();
  Add(negated);
}

void Quantity::Neg() {
  verbatim_.clear();
  if (!IsZero()) negative_ = !negative_;
}

void Quantity::Mul(int64_t factor) {
  verbatim_.clear();
  const uint64_t magnitude =
      factor < 0 ? uint64_t{0} - static_cast<uint64_t>(factor) : static_cast<uint64_t>(factor);
  nanos_.Multiply(BigUnsigned(magnitude));
  negative_ = !nanos_.IsZero() && (negative_ != (factor < 0));
}

int64_t Quantity::ScaledValue(int32_t scale) const {
  if (IsZero()) return 0;
  BigUnsigned magnitude = nanos_;
  const int64_t shift = -9 - int64_t{scale};  // power of ten from nano-units to the scale
  if (shift > 0) {
    if (static_cast<uint64_t>(shift) > 19) return SaturatingInt64(negative_, BigUnsigned(~0ULL));
    magnitude.MultiplyPow10(static_cast<uint64_t>(shift));
  } else if (shift < 0) {
    if (static_cast<uint64_t>(-shift) > magnitude.DecimalDigits()) {
      magnitude = BigUnsigned(1);
    } else if (magnitude.DividePow10(static_cast<uint64_t>(-shift))) {
      magnitude.Add(BigUnsigned(1));
    }
  }
  return SaturatingInt64(negative_, magnitude);
}

std::optional<int64_t> Quantity::AsInt64() const {
  BigUnsigned whole = nanos_;
  if (whole.DividePow10(9)) return std::nullopt;
  const auto value = whole.ToUint64();
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!value) return std::nullopt;
  if (!negative_) {
    if (*value > kMaxPositive) return std::nullopt;
    return static_cast<int64_t>(*value);
  }
  if (*value > kMaxPositive + 1) return std::nullopt;
  return *value == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min()
                                    : -static_cast<int64_t>(*value);
}

bool Quantity::RoundUp(int32_t scale) {
  if (scale <= kNano) return true;
  verbatim_.clear();
  const int64_t shift = int64_t{scale} + 9;
  if (static_cast<uint64_t>(shift) > nanos_.DecimalDigits()) {
    if (IsZero()) return true;
    // Rounding away from zero reaches the next multiple: 10^scale itself.
    nanos_ = BigUnsigned(1);
    nanos_.MultiplyPow10(static_cast<uint64_t>(shift));
    return false;
  }
  const bool inexact = nanos_.DividePow10(static_cast<uint64_t>(shift));
  if (inexact) nanos_.Add(BigUnsigned(1));
  nanos_.MultiplyPow10(static_cast<uint64_t>(shift));
  return !inexact;
}

double Quantity::AsApproximateDouble() const {
  const std::string text = (negative_ ? "-" : "") + nanos_.ToDecimal() + "e-9";
  return std::strtod(text.c_str(), nullptr);
}

std::string Quantity::String() const {
  if (!verbatim_.empty()) return verbatim_;
  return Canonical();
}

std::string Quantity::Canonical() const {
  if (IsZero()) return "0";
  const std::string sign = negative_ ? "-" : "";
  Format format = format_;
  if (format == Format::kBinarySI) {
    BigUnsigned whole = nanos_;
    const bool fractional = whole.DividePow10(9);
    if (nanos_.Compare(BigUnsigned(uint64_t{1024} * kNanosPerUnit)) < 0 || fractional) {
      // Small or fractional binary values are shown in decimal, so nothing is rounded.
      format = Format::kDecimalSI;
    } else {
      uint32_t power = 0;
      while (power <= 6) {
        BigUnsigned quotient = whole;
        if (quotient.DivideSmall(1024) != 0) break;
        whole = std::move(quotient);
        ++power;
      }
      if (power <= 6) return sign + whole.ToDecimal() + std::string(BinarySuffix(power));
      // No binary suffix is large enough: fall back to exponent notation.
      format = Format::kDecimalExponent;
    }
  }
  // Mantissa * 10^exponent with the exponent a multiple of three and no spare trailing zeros.
  BigUnsigned mantissa = nanos_;
  const uint64_t zeros = mantissa.TrailingDecimalZeros();
  mantissa.DividePow10(zeros);
  int64_t exponent = static_cast<int64_t>(zeros) - 9;
  const int64_t remainder = ((exponent % 3) + 3) % 3;
  mantissa.MultiplyPow10(static_cast<uint64_t>(remainder));
  exponent -= remainder;
  std::string suffix;
  if (format == Format::kDecimalSI && exponent >= -9 && exponent <= 18) {
    suffix = DecimalSuffix(exponent);
  } else if (exponent != 0) {
    suffix = fmt::format("e{}", exponent);
  }
  return sign + mantissa.ToDecimal() + suffix;
}

}  // namespace kpp::resource
