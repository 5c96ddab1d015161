// Internal: how upstream (Go, unstructured JSON) sees and prints JSON values.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace kpp::apiextensions::schema::internal {

// The Go type a decoded JSON value has in an unstructured object: integers that fit int64 are
// int64, every other number (fractions, exponents, beyond int64) float64.
enum class Kind { kNull, kBool, kInteger, kNumber, kString, kArray, kObject };

Kind KindOf(const boost::json::value& value);
// The OpenAPI type name of a kind: "integer", "number", "string", "boolean", "array", "object",
// "null".
std::string_view TypeName(Kind kind);
double AsDouble(const boost::json::value& number);

// Go's %v of a float64 ("1e+06", "0.5", "10").
std::string GoFloat(double value);
// reflect.DeepEqual of two unstructured values (an int64 never equals a float64).
bool DeepEqual(const boost::json::value& a, const boost::json::value& b, int depth = 0);
// How apimachinery's field.Error prints a bad value: strings quoted (%q), numbers and bools as
// %v, null as the quoted string "null", objects and arrays in Go's %#v syntax.
std::string ErrorValue(const boost::json::value& value);
// Go's json.Marshal of a value (map keys sorted), as upstream prints non-string enum values.
std::string GoJson(const boost::json::value& value);

}  // namespace kpp::apiextensions::schema::internal
