// resource.Quantity as in k8s.io/apimachinery/pkg/api/resource: the fixed-point numbers used for
// CPU, memory and other resource amounts ("100m", "1.5Gi", "1e3").
//
// Parsing accepts every form upstream accepts: an optional sign, digits with an optional
// fraction ("1.", ".5"), and a suffix: decimal SI (n u m "" k M G T P E), binary SI
// (Ki Mi Gi Ti Pi Ei) or a decimal exponent (e3, E-3, e+6). Values are exact; anything finer
// than 1n is rounded up, away from zero (0.1n becomes 1n). BinarySI values are capped at 2^63-1.
// A quantity remembers its format and serializes canonically the way upstream does: the
// largest suffix of its format that keeps the mantissa an integer ("1.5Gi" is "1536Mi", "0.1" is
// "100m", "1000m" is "1", "1e3" stays "1e3"); and, like upstream, a parsed string that is
// already in that form is echoed verbatim (which keeps e.g. "+1" and "01" as written).
// DecimalSI values beyond "E" and BinarySI values beyond "Ei" fall back to exponent notation
// ("1e21"), as current upstream does instead of dropping the magnitude.
//
// Representation and limits: sign plus an arbitrary-precision count of nano-units (10^-9), which
// holds every value a parse or the arithmetic here can produce. Unlike upstream (whose
// decimal-exponent values are unbounded but cost memory proportional to the exponent), Parse
// rejects values with more than kMaxIntegerDigits digits before the decimal point.
//
// Errors: Parse fails with ErrorCode::kBadRequest and upstream's messages ("quantities must
// match the regular expression ...", "unable to parse quantity's suffix", "unable to parse
// numeric part of quantity").
// Thread safety: a value type; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "apimachinery/resource/big_unsigned.h"
#include "base/result.h"

namespace kpp::resource {

// Powers of ten used by ScaledValue / RoundUp / FromScaled, as upstream's resource.Scale.
inline constexpr int32_t kNano = -9;
inline constexpr int32_t kMicro = -6;
inline constexpr int32_t kMilli = -3;
inline constexpr int32_t kKilo = 3;
inline constexpr int32_t kMega = 6;
inline constexpr int32_t kGiga = 9;
inline constexpr int32_t kTera = 12;
inline constexpr int32_t kPeta = 15;
inline constexpr int32_t kExa = 18;

inline constexpr uint64_t kMaxIntegerDigits = 1000;

class Quantity {
 public:
  enum class Format {
    kDecimalExponent,  // 12e6
    kBinarySI,         // 12Mi
    kDecimalSI,        // 12M
  };

  // Zero in DecimalSI.
  Quantity() = default;

  static Result<Quantity> Parse(std::string_view text);
  // Whether Parse(text) succeeds with String() == text, found without parsing the value (the
  // usual case for API objects: "500m", "1Gi", "2"); false does not mean the text is invalid.
  static bool IsCanonicalText(std::string_view text);
  // value (NewQuantity).
  static Quantity FromInt64(int64_t value, Format format = Format::kDecimalSI);
  // value / 1000 (NewMilliQuantity).
  static Quantity FromMilli(int64_t milli_value, Format format = Format::kDecimalSI);
  // value * 10^scale in DecimalSI (NewScaledQuantity); scales below kNano round up to 1n steps.
  static Quantity FromScaled(int64_t value, int32_t scale);

  Format format() const { return format_; }
  void set_format(Format format);

  bool IsZero() const { return nanos_.IsZero(); }
  // -1, 0 or 1.
  int Sign() const { return IsZero() ? 0 : (negative_ ? -1 : 1); }
  // -1, 0 or 1 as *this is less than, equal to or greater than `other` (formats ignored).
  int Cmp(const Quantity& other) const;
  int CmpInt64(int64_t value) const;
  // Numeric equality, as upstream's Equal (the format is ignored).
  bool operator==(const Quantity& other) const { return Cmp(other) == 0; }

  // Exact arithmetic. Adding to / subtracting from a zero quantity takes the other's format.
  void Add(const Quantity& other);
  void Sub(const Quantity& other);
  void Neg();
  void Mul(int64_t factor);

  // ceil(q / 10^scale), rounding away from zero; saturates at the int64 limits.
  int64_t ScaledValue(int32_t scale) const;
  // The value rounded up to an integer (saturating), e.g. for bytes.
  int64_t Value() const { return ScaledValue(0); }
  // The value in thousandths rounded up (saturating), e.g. millicores.
  int64_t MilliValue() const { return ScaledValue(kMilli); }
  // The value as an int64 when it is an integer that fits.
  std::optional<int64_t> AsInt64() const;
  // Rounds the value up (away from zero) to a multiple of 10^scale; returns whether it was
  // already one (nothing lost).
  bool RoundUp(int32_t scale);
  // Nearest double (may lose precision).
  double AsApproximateDouble() const;

  // The canonical form, or the parsed text when that was already canonical.
  std::string String() const;

 private:
  std::string Canonical() const;
  Quantity WithFormat(Format format) &&;

  bool negative_ = false;        // never true when the value is zero
  internal::BigUnsigned nanos_;  // |value| * 10^9
  Format format_ = Format::kDecimalSI;
  std::string verbatim_;  // the parsed text, kept only when upstream would echo it
};

// Upstream's spelling of `format`: "DecimalExponent", "BinarySI" or "DecimalSI".
std::string_view FormatName(Quantity::Format format);

}  // namespace kpp::resource
