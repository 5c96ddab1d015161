#include "apiextensions/schema/values.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <map>

#include "apiextensions/schema/schema.h"
#include "base/go_quote.h"

namespace kpp::apiextensions::schema::internal {
namespace json = boost::json;

Kind KindOf(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return Kind::kNull;
    case json::kind::bool_: return Kind::kBool;
    case json::kind::int64: return Kind::kInteger;
    case json::kind::uint64: return Kind::kNumber;  // beyond int64: Go decodes it as float64
    case json::kind::double_: return Kind::kNumber;
    case json::kind::string: return Kind::kString;
    case json::kind::array: return Kind::kArray;
    case json::kind::object: return Kind::kObject;
  }
  return Kind::kNull;
}

std::string_view TypeName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "boolean";
    case Kind::kInteger: return "integer";
    case Kind::kNumber: return "number";
    case Kind::kString: return "string";
    case Kind::kArray: return "array";
    case Kind::kObject: return "object";
  }
  return "null";
}

double AsDouble(const json::value& number) {
  if (number.is_int64()) return static_cast<double>(number.get_int64());
  if (number.is_uint64()) return static_cast<double>(number.get_uint64());
  if (number.is_double()) return number.get_double();
  return 0;
}

std::string GoFloat(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest digits that round-trip, placed as strconv's 'g' with precision -1 does:
  // exponent form when the exponent is below -4 or at least 21 (%v's threshold).
  char buffer[64];
  auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  if (ec != std::errc()) return "0";
  std::string text(buffer, end);
  size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  int exponent = std::stoi(text.substr(e + 1));
  bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 21) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exponent < 0 ? "e-" : "e+";
    int magnitude = std::abs(exponent);
    if (magnitude < 10) out += "0";
    out += std::to_string(magnitude);
    return out;
  }
  if (exponent < 0) {
    out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    return out;
  }
  size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    out += digits + std::string(integer_digits - digits.size(), '0');
  } else {
    out += digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
  }
  return out;
}

bool DeepEqual(const json::value& a, const json::value& b, int depth) {
  if (depth > kMaxValueDepth) return false;
  Kind kind_a = KindOf(a);
  if (kind_a != KindOf(b)) return false;
  switch (kind_a) {
    case Kind::kNull: return true;
    case Kind::kBool: return a.get_bool() == b.get_bool();
    case Kind::kInteger: return a.get_int64() == b.get_int64();
    case Kind::kNumber: return AsDouble(a) == AsDouble(b);
    case Kind::kString: return a.get_string() == b.get_string();
    case Kind::kArray: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!DeepEqual(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case Kind::kObject: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, item] : x) {
        const json::value* other = y.if_contains(key);
        if (other == nullptr || !DeepEqual(item, *other, depth + 1)) return false;
      }
      return true;
    }
  }
  return false;
}

namespace {

std::string SharpV(const json::value& value, int depth) {
  if (depth > kMaxValueDepth) return "...";
  switch (KindOf(value)) {
    case Kind::kNull: return "interface {}(nil)";
    case Kind::kBool: return value.get_bool() ? "true" : "false";
    case Kind::kInteger: return std::to_string(value.get_int64());
    case Kind::kNumber: return GoFloat(AsDouble(value));
    case Kind::kString: return GoQuote(value.get_string());
    case Kind::kArray: {
      std::string out = "[]interface {}{";
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ", ";
        first = false;
        out += SharpV(item, depth + 1);
      }
      return out + "}";
    }
    case Kind::kObject: {
      std::map<std::string_view, const json::value*> sorted;
      for (const auto& [key, item] : value.get_object())
        sorted[key] = &item;
      std::string out = "map[string]interface {}{";
      bool first = true;
      for (const auto& [key, item] : sorted) {
        if (!first) out += ", ";
        first = false;
        out += GoQuote(key) + ":" + SharpV(*item, depth + 1);
      }
      return out + "}";
    }
  }
  return "";
}

void GoJsonTo(const json::value& value, std::string& out, int depth) {
  if (depth > kMaxValueDepth) return;
  switch (KindOf(value)) {
    case Kind::kObject: {
      std::map<std::string_view, const json::value*> sorted;
      for (const auto& [key, item] : value.get_object())
        sorted[key] = &item;
      out += '{';
      bool first = true;
      for (const auto& [key, item] : sorted) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::value(key));
        out += ':';
        GoJsonTo(*item, out, depth + 1);
      }
      out += '}';
      return;
    }
    case Kind::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        GoJsonTo(item, out, depth + 1);
      }
      out += ']';
      return;
    }
    case Kind::kNumber: {
      // encoding/json: shortest digits, exponent form below 1e-6 or from 1e21.
      double d = AsDouble(value);
      double magnitude = std::fabs(d);
      if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)) {
        char buffer[64];
        auto [end, ec] =
            std::to_chars(buffer, buffer + sizeof(buffer), d, std::chars_format::scientific);
        std::string text(buffer, end);
        // Go writes e-07, not e-7.
        size_t e = text.find('e');
        if (e != std::string::npos && e + 2 < text.size() + 1) {
          std::string exp = text.substr(e + 2);
          if (exp.size() == 1) text = text.substr(0, e + 2) + "0" + exp;
        }
        out += text;
      } else {
        out += GoFloat(d);
      }
      return;
    }
    default: out += json::serialize(value); return;
  }
}

}  // namespace

std::string ErrorValue(const json::value& value) {
  switch (KindOf(value)) {
    case Kind::kNull: return "\"null\"";  // upstream prints a nil value as the string "null"
    case Kind::kString: return GoQuote(value.get_string());
    default: return SharpV(value, 0);
  }
}

std::string GoJson(const json::value& value) {
  std::string out;
  GoJsonTo(value, out, 0);
  return out;
}

}  // namespace kpp::apiextensions::schema::internal
