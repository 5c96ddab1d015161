// The scalar types of the Kubernetes API that are not plain JSON scalars: timestamps,
// int-or-string, quantities, and embedded raw JSON. Generated API types use these.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace boost::json {
class value;
}  // namespace boost::json

namespace kpp::api {

// metav1.Time: whole seconds, serialized as RFC 3339 in UTC ("2024-01-02T03:04:05Z"). The zero
// Time serializes as null, as upstream's does.
// The instants RFC 3339 can write (years 0000 to 9999, UTC), as seconds since the epoch. Times
// outside cannot be served as JSON, so decoding refuses them.
inline constexpr int64_t kMinRfc3339Seconds = -62167219200;  // 0000-01-01T00:00:00Z
inline constexpr int64_t kMaxRfc3339Seconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr bool InRfc3339Range(int64_t unix_seconds) {
  return unix_seconds >= kMinRfc3339Seconds && unix_seconds <= kMaxRfc3339Seconds;
}

struct Time {
  int64_t unix_seconds = 0;
  bool zero = true;

  static Time FromUnixSeconds(int64_t seconds) { return Time{seconds, false}; }
  bool IsZero() const { return zero; }
  // RFC 3339, e.g. "2024-01-02T03:04:05Z"; empty for the zero Time.
  std::string ToString() const;
  // Accepts RFC 3339 with "Z" or a numeric offset and optional fractional seconds (dropped).
  static Result<Time> Parse(std::string_view text);
  auto operator<=>(const Time&) const = default;
};

// metav1.MicroTime: microsecond precision, serialized as "2024-01-02T03:04:05.000006Z".
struct MicroTime {
  int64_t unix_micros = 0;
  bool zero = true;

  static MicroTime FromUnixMicros(int64_t micros) { return MicroTime{micros, false}; }
  bool IsZero() const { return zero; }
  std::string ToString() const;
  static Result<MicroTime> Parse(std::string_view text);
  auto operator<=>(const MicroTime&) const = default;
};

// intstr.IntOrString: a JSON number or string (e.g. a port number or name, "25%").
struct IntOrString {
  bool is_string = false;
  int32_t int_value = 0;
  std::string string_value;

  static IntOrString FromInt(int32_t value) { return IntOrString{false, value, {}}; }
  static IntOrString FromString(std::string value) {
    return IntOrString{true, 0, std::move(value)};
  }
  bool IsZero() const { return !is_string && int_value == 0; }
  bool operator==(const IntOrString&) const = default;
};

// resource.Quantity, held in its canonical serialized form ("0.5" is kept as "500m", "1024Mi" as
// "1Gi", as upstream serializes them). Arithmetic lives in apimachinery/resource.
struct Quantity {
  std::string text;

  bool IsZero() const { return text.empty(); }
  bool operator==(const Quantity&) const = default;
};

// The canonical form of a quantity's text, or upstream's parse error (BadRequest).
Result<std::string> CanonicalQuantity(std::string_view text);

// Arbitrary embedded JSON (runtime.RawExtension, apiextensions JSON, fieldsV1). Immutable and
// cheap to copy: copies share one value. It is kept as the text Go writes for it, and parsed
// only when value() is first asked for: most objects are decoded and encoded again without
// anyone looking inside (every managedFields entry's fieldsV1, on every decode of an object).
class RawJson {
 public:
  RawJson() = default;
  explicit RawJson(const boost::json::value& value);
  // `text` must be one valid JSON value as an encoder wrote it (an object's ToJson()).
  static RawJson FromEncoded(std::string text);

  bool IsZero() const { return shared_ == nullptr; }
  // The JSON value; null when empty. Parsed from Text() on the first call.
  const boost::json::value& value() const;
  // The value as Go's encoding/json writes it; "null" when empty.
  std::string_view Text() const;
  // The value serialized as compact JSON by boost::json; "null" when empty.
  std::string Serialize() const;
  bool operator==(const RawJson& other) const;

 private:
  struct Shared;
  std::shared_ptr<const Shared> shared_;
};

}  // namespace kpp::api
