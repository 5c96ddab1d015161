#include "apimachinery/intstr/duration.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace kpp::intstr {
namespace {

constexpr uint64_t kLimit = uint64_t{1} << 63;  // one past the largest positive duration

// Go's time.quote: printable ASCII is kept (with `"` and `\` escaped), other bytes become \xNN.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || byte < 0x20) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
  }
  return out + "\"";
}

Error InvalidDuration(std::string_view original) {
  return BadRequestError("time: invalid duration " + Quote(original));
}

std::optional<uint64_t> UnitNanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  // "us", micro sign U+00B5 and Greek mu U+03BC.
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return std::nullopt;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Appends the fraction v / 10^precision (".25", nothing when zero) and returns v / 10^precision.
uint64_t PrependFraction(std::string& out, uint64_t value, int precision) {
  std::string fraction;
  bool printing = false;
  for (int i = 0; i < precision; ++i) {
    const auto digit = static_cast<char>('0' + value % 10);
    printing = printing || digit != '0';
    if (printing) fraction.insert(fraction.begin(), digit);
    value /= 10;
  }
  if (printing) out.insert(0, "." + fraction);
  return value;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  const std::string_view original = text;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return Duration(0);
  if (text.empty()) return InvalidDuration(original);

  uint64_t total = 0;
  while (!text.empty()) {
    if (!(text[0] == '.' || IsDigit(text[0]))) return InvalidDuration(original);
    // Integer part; overflow is an error.
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      if (whole > kLimit / 10) return InvalidDuration(original);
      whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
      if (whole > kLimit) return InvalidDuration(original);
    }
    const bool had_whole = i > 0;
    text.remove_prefix(i);
    // Fraction part; digits beyond what fits are ignored, as in Go.
    uint64_t fraction = 0;
    double fraction_scale = 1;
    bool had_fraction = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < text.size() && IsDigit(text[j]); ++j) {
        if (overflow) continue;
        if (fraction > (kLimit - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t next = fraction * 10 + static_cast<uint64_t>(text[j] - '0');
        if (next > kLimit) {
          overflow = true;
          continue;
        }
        fraction = next;
        fraction_scale *= 10;
      }
      had_fraction = j > 0;
      text.remove_prefix(j);
    }
    if (!had_whole && !had_fraction) return InvalidDuration(original);

    size_t unit_length = 0;
    while (unit_length < text.size() && text[unit_length] != '.' && !IsDigit(text[unit_length]))
      ++unit_length;
    if (unit_length == 0)
      return BadRequestError("time: missing unit in duration " + Quote(original));
    const std::string_view unit_name = text.substr(0, unit_length);
    text.remove_prefix(unit_length);
    const auto unit = UnitNanoseconds(unit_name);
    if (!unit) {
      return BadRequestError("time: unknown unit " + Quote(unit_name) + " in duration " +
                             Quote(original));
    }
    if (whole > kLimit / *unit) return InvalidDuration(original);
    whole *= *unit;
    if (fraction > 0) {
      // Go computes the fractional part in floating point (exact enough up to hours).
      whole += static_cast<uint64_t>(static_cast<double>(fraction) *
                                     (static_cast<double>(*unit) / fraction_scale));
      if (whole > kLimit) return InvalidDuration(original);
    }
    total += whole;
    if (total > kLimit) return InvalidDuration(original);
  }
  if (negative) return Duration(static_cast<int64_t>(uint64_t{0} - total));
  if (total > kLimit - 1) return InvalidDuration(original);
  return Duration(static_cast<int64_t>(total));
}

std::string FormatDuration(Duration duration) {
  const int64_t count = duration.count();
  const bool negative = count < 0;
  uint64_t value =
      negative ? uint64_t{0} - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
  std::string out;
  if (value < 1'000'000'000) {
    // Under a second: the largest sub-second unit, with a fraction ("1.5ms").
    int precision = 0;
    if (value == 0) return "0s";
    if (value < 1'000) {
      out = "ns";
    } else if (value < 1'000'000) {
      precision = 3;
      out = "\xC2\xB5s";  // µs
    } else {
      precision = 6;
      out = "ms";
    }
    value = PrependFraction(out, value, precision);
    out.insert(0, std::to_string(value));
  } else {
    out = "s";
    value = PrependFraction(out, value, 9);
    out.insert(0, std::to_string(value % 60));
    value /= 60;
    if (value > 0) {
      out.insert(0, "m");
      out.insert(0, std::to_string(value % 60));
      value /= 60;
      if (value > 0) {
        out.insert(0, "h");
        out.insert(0, std::to_string(value));
      }
    }
  }
  if (negative) out.insert(0, "-");
  return out;
}

}  // namespace kpp::intstr
