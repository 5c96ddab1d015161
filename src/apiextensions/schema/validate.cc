// Validate: a custom resource against its schema, as upstream's kube-openapi SchemaValidator
// (messages "<path> in body must be of type integer: \"string\"" and the rest), turned into field
// errors as apiextensions-apiserver does, then the embedded resources' metadata and the
// list-type set/map uniqueness.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cfloat>
#include <cmath>
#include <map>
#include <set>

#include "apiextensions/schema/formats.h"
#include "apiextensions/schema/pattern.h"
#include "apiextensions/schema/schema.h"
#include "apiextensions/schema/validate_internal.h"
#include "apiextensions/schema/values.h"
#include "apimachinery/labels/validation.h"
#include "base/go_quote.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;
using internal::Kind;
using internal::KindOf;

namespace internal {
namespace {

// kube-openapi's error codes that apiextensions maps to their own field error types.
enum class Code {
  kPlain,  // not a validation error: an Invalid at the base path with value ""
  kRequired,
  kEnum,
  kTooLong,
  kMaxItems,
  kTooManyProperties,
  kInvalidType,
  kOther,
};

struct Problem {
  Code code = Code::kOther;
  std::string name;  // the kube-openapi path, e.g. "spec.replicas" or ".spec"
  std::optional<json::value> value;
  int64_t valid = -1;  // the limit of too-long / too-many errors
  std::vector<json::value> enum_values;
  std::string message;
};

struct Outcome {
  std::vector<Problem> errors;
  int match_count = 0;
  bool valid() const { return errors.empty(); }
  void Merge(Outcome&& other) {
    for (auto& e : other.errors)
      errors.push_back(std::move(e));
    match_count += other.match_count;
  }
  void Add(Problem problem) { errors.push_back(std::move(problem)); }
};

std::string In(const std::string& name, std::string_view rest) {
  return name + " in body " + std::string(rest);
}

Problem InvalidType(const std::string& path, std::string_view type, std::string value) {
  Problem p{Code::kInvalidType, path, json::value(value)};
  p.message = In(path, fmt::format("must be of type {}: {}", type, GoQuote(value)));
  return p;
}

Problem Plain(std::string message) {
  Problem p{Code::kPlain};
  p.message = std::move(message);
  return p;
}

bool ContainsType(const std::vector<std::string>& types, std::string_view t) {
  return std::find(types.begin(), types.end(), t) != types.end();
}

bool IsFloat64AJsonInteger(double f) {
  if (std::isnan(f) || std::isinf(f)) return false;
  if (std::fabs(f) > 9007199254740992.0) return false;  // 2^53
  return std::trunc(f) == f;
}

std::string JoinTypes(const std::vector<std::string>& types) {
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) out += ",";
    out += types[i];
  }
  return out;
}

// strconv.FormatFloat(f, 'f', -1, 64).
std::string PlainFloat(double f) {
  if (std::isnan(f) || std::isinf(f)) return GoFloat(f);
  std::string shortest = GoFloat(f);
  if (shortest.find('e') == std::string::npos) return shortest;
  // Expand the exponent form.
  char buffer[512];
  for (int precision = 0; precision < 400; ++precision) {
    int n = std::snprintf(buffer, sizeof(buffer), "%.*f", precision, f);
    if (n > 0 && std::strtod(buffer, nullptr) == f) return std::string(buffer, n);
  }
  return shortest;
}

class Validator {
 public:
  Outcome Validate(const json::value& data, const Schema& schema, const std::string& path,
                   int depth) {
    Outcome result;
    if (depth > kMaxValueDepth) {
      result.Add(Plain(fmt::format("{} nested more than {} levels deep", path, kMaxValueDepth)));
      return result;
    }
    std::vector<std::string> types;
    if (schema.int_or_string) {
      types = {"integer", "string"};
    } else if (!schema.type.empty()) {
      types = {schema.type};
    }
    std::string format =
        EffectiveFormat(types.size() == 1 ? std::string_view(types[0]) : "", schema.format);

    if (data.is_null()) {
      result.Merge(TypeCheck(data, types, format, schema.nullable, path));
      result.Merge(EnumCheck(data, schema, path));
      return result;
    }
    Kind kind = KindOf(data);
    bool numeric = kind == Kind::kInteger || kind == Kind::kNumber;

    if (!types.empty() || !format.empty()) {
      result.Merge(TypeCheck(data, types, format, schema.nullable, path));
      result.match_count++;
    }
    result.Merge(Composition(data, schema, path, depth));
    result.match_count++;
    if (kind == Kind::kString) {
      result.Merge(StringCheck(data.get_string(), schema, path));
      result.match_count++;
      if (!format.empty() && IsStringFormat(format)) {
        if (!StringMatchesFormat(format, data.get_string())) {
          Problem p = InvalidType(path, format, std::string(data.get_string()));
          p.value = json::value(data.get_string());
          p.message =
              In(path, fmt::format("must be of type {}: {}", format, GoQuote(data.get_string())));
          result.Add(std::move(p));
        }
        result.match_count++;
      }
    }
    if (numeric) {
      result.Merge(NumberCheck(data, schema, types, format, path));
      result.match_count++;
    }
    if (kind == Kind::kArray) {
      result.Merge(SliceCheck(data.get_array(), schema, path, depth));
      result.match_count++;
    }
    result.Merge(EnumCheck(data, schema, path));
    result.match_count++;
    if (kind == Kind::kObject) {
      result.Merge(ObjectCheck(data.get_object(), schema, path, depth));
      result.match_count++;
    }
    result.match_count++;
    return result;
  }

 private:
  Outcome TypeCheck(const json::value& data, const std::vector<std::string>& types,
                    const std::string& format, bool nullable, const std::string& path) {
    Outcome result;
    result.match_count++;
    if (data.is_null()) {
      if (!types.empty() && !ContainsType(types, "null") && !nullable) {
        result.Add(InvalidType(path, JoinTypes(types), "null"));
      }
      return result;
    }
    Kind kind = KindOf(data);
    std::string sch_type(TypeName(kind));
    std::string data_format = kind == Kind::kInteger  ? "int64"
                              : kind == Kind::kNumber ? "float64"
                                                      : "";
    bool is_float_int = kind == Kind::kNumber && IsFloat64AJsonInteger(AsDouble(data)) &&
                        ContainsType(types, "integer");
    bool is_int_float = kind == Kind::kInteger && ContainsType(types, "number");
    bool string_or_slice = kind == Kind::kString || kind == Kind::kArray;
    if (!string_or_slice && !format.empty() &&
        !(ContainsType(types, sch_type) || data_format == format || is_float_int || is_int_float)) {
      result.Add(InvalidType(path, format, data_format));
      return result;
    }
    if (!(ContainsType(types, "number") || ContainsType(types, "integer")) && !format.empty() &&
        string_or_slice) {
      return result;
    }
    if (!(ContainsType(types, sch_type) || is_float_int || is_int_float)) {
      result.Add(InvalidType(path, JoinTypes(types), sch_type));
    }
    return result;
  }

  Outcome StringCheck(std::string_view data, const Schema& schema, const std::string& path) {
    Outcome result;
    int64_t runes = 0;
    for (unsigned char c : data) {
      if ((c & 0xC0) != 0x80) ++runes;
    }
    if (schema.max_length && runes > *schema.max_length) {
      Problem p{Code::kTooLong, path, json::value(data), *schema.max_length};
      p.message = In(path, fmt::format("should be at most {} chars long", *schema.max_length));
      result.Add(std::move(p));
      return result;
    }
    if (schema.min_length && runes < *schema.min_length) {
      Problem p{Code::kOther, path, json::value(data)};
      p.message = In(path, fmt::format("should be at least {} chars long", *schema.min_length));
      result.Add(std::move(p));
      return result;
    }
    if (!schema.pattern.empty()) {
      const internal::Pattern* re = schema.compiled_pattern.get();
      if (re == nullptr || !re->ok()) {
        Problem p{Code::kOther, path, json::value(data)};
        p.message = In(path, fmt::format("should match '{}, but pattern is invalid: {}'",
                                         schema.pattern, re ? re->error() : ""));
        result.Add(std::move(p));
      } else if (!re->Matches(data)) {
        Problem p{Code::kOther, path, json::value(data)};
        p.message = In(path, fmt::format("should match '{}'", schema.pattern));
        result.Add(std::move(p));
      }
    }
    return result;
  }

  // IsValueValidAgainstRange: whether `value` fits the type and format of the schema.
  static std::optional<std::string> RangeCheck(const json::value& value, std::string_view type,
                                               std::string_view format, std::string_view prefix,
                                               const std::string& path) {
    bool bad = false;
    std::string text =
        value.is_int64() ? std::to_string(value.get_int64()) : PlainFloat(AsDouble(value));
    if (type == "integer") {
      bool integral = !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos;
      if (!integral) {
        bad = true;
      } else {
        errno = 0;
        long long n = std::strtoll(text.c_str(), nullptr, 10);
        if (errno == ERANGE) bad = true;
        if (format == "int32" && (n < INT32_MIN || n > INT32_MAX)) bad = true;
      }
    } else if (format == "float") {
      double d = AsDouble(value);
      if (std::fabs(d) > static_cast<double>(FLT_MAX) * (1 + 1e-8)) bad = true;
    }
    if (!bad) return std::nullopt;
    if (!format.empty()) {
      return fmt::format("{} value must be of type {} with format {} in {}", prefix, type, format,
                         path);
    }
    return fmt::format("{} value must be of type {} (default format) in {}", prefix, type, path);
  }

  static Problem Exceeds(const std::string& path, bool maximum, std::string bound, bool exclusive,
                         const json::value& data) {
    Problem p{Code::kOther, path, data};
    std::string_view relation = maximum ? (exclusive ? "less than" : "less than or equal to")
                                        : (exclusive ? "greater than" : "greater than or equal to");
    p.message = In(path, fmt::format("should be {} {}", relation, bound));
    return p;
  }

  Outcome NumberCheck(const json::value& data, const Schema& schema,
                      const std::vector<std::string>& types, const std::string& format,
                      const std::string& path) {
    Outcome result;
    std::string type = types.size() == 1 ? types[0] : "";
    if (type != "integer" && type != "number") type.clear();
    std::string number_format;
    if (type == "integer" && (format == "int32" || format == "int64")) number_format = format;
    if (type == "number" && (format == "float" || format == "double")) number_format = format;
    bool is_int = data.is_int64();
    double value = AsDouble(data);

    if (auto error = RangeCheck(data, type, number_format, "Checked", path)) {
      result.Add(Plain(*error));
    }
    Outcome multiple, minimum, maximum;
    if (schema.multiple_of) {
      double factor = *schema.multiple_of;
      bool factor_fits =
          !RangeCheck(json::value(factor), type, number_format, "MultipleOf", path).has_value();
      if (factor_fits && is_int) {
        int64_t f = static_cast<int64_t>(factor);
        if (f <= 0) {
          multiple.Add(Plain(
              fmt::format("factor MultipleOf declared for {} must be positive: {}", path, f)));
        } else if (data.get_int64() % f != 0) {
          Problem p{Code::kOther, path, data};
          p.message = In(path, fmt::format("should be a multiple of {}", f));
          multiple.Add(std::move(p));
        }
      } else if (factor <= 0) {
        multiple.Add(Plain(fmt::format("factor MultipleOf declared for {} must be positive: {}",
                                       path, internal::GoFloat(factor))));
      } else {
        double mult = factor < 1 ? 1 / factor * value : value / factor;
        if (!IsFloat64AJsonInteger(mult)) {
          Problem p{Code::kOther, path, data};
          p.message = In(path, fmt::format("should be a multiple of {}", GoFloat(factor)));
          multiple.Add(std::move(p));
        }
      }
    }
    if (schema.maximum) {
      double max = *schema.maximum;
      bool fits = !RangeCheck(json::value(max), type, number_format, "Maximum boundary", path);
      bool ex = schema.exclusive_maximum;
      if (fits && is_int) {
        int64_t m = static_cast<int64_t>(max);
        int64_t v = data.get_int64();
        if ((!ex && v > m) || (ex && v >= m)) {
          maximum.Add(Exceeds(path, true, std::to_string(m), ex, data));
        }
      } else if ((!ex && value > max) || (ex && value >= max)) {
        maximum.Add(Exceeds(path, true, GoFloat(max), ex, data));
      }
    }
    if (schema.minimum) {
      double min = *schema.minimum;
      bool fits = !RangeCheck(json::value(min), type, number_format, "Minimum boundary", path);
      bool ex = schema.exclusive_minimum;
      if (fits && is_int) {
        int64_t m = static_cast<int64_t>(min);
        int64_t v = data.get_int64();
        if ((!ex && v < m) || (ex && v <= m)) {
          minimum.Add(Exceeds(path, false, std::to_string(m), ex, data));
        }
      } else if ((!ex && value < min) || (ex && value <= min)) {
        minimum.Add(Exceeds(path, false, GoFloat(min), ex, data));
      }
    }
    result.Merge(std::move(multiple));
    result.Merge(std::move(minimum));
    result.Merge(std::move(maximum));
    result.match_count++;
    return result;
  }

  Outcome SliceCheck(const json::array& data, const Schema& schema, const std::string& path,
                     int depth) {
    Outcome result;
    int64_t size = static_cast<int64_t>(data.size());
    if (schema.items != nullptr && !schema.items_is_array) {
      for (size_t i = 0; i < data.size(); ++i) {
        result.Merge(Validate(data[i], *schema.items, fmt::format("{}[{}]", path, i), depth + 1));
      }
    }
    if (schema.min_items && size < *schema.min_items) {
      Problem p{Code::kOther, path, json::value(size)};
      p.message = In(path, fmt::format("should have at least {} items", *schema.min_items));
      result.Add(std::move(p));
    }
    if (schema.max_items && size > *schema.max_items) {
      Problem p{Code::kMaxItems, path, json::value(size), *schema.max_items};
      p.message = In(path, fmt::format("should have at most {} items", *schema.max_items));
      result.Add(std::move(p));
    }
    if (schema.unique_items) {
      bool duplicate = false;
      for (size_t i = 0; i < data.size() && !duplicate; ++i) {
        for (size_t j = 0; j < i && !duplicate; ++j) {
          duplicate = DeepEqual(data[i], data[j]);
        }
      }
      if (duplicate) {
        Problem p{Code::kOther, path};
        p.message = In(path, "shouldn't contain duplicates");
        result.Add(std::move(p));
      }
    }
    result.match_count++;
    return result;
  }

  // Whether `data` equals `candidate` after Go's reflect conversion of data to the candidate's
  // type (numbers convert to each other, an integer to a one-rune string).
  static bool EnumMatches(const json::value& data, const json::value& candidate) {
    if (DeepEqual(data, candidate)) return true;
    Kind from = KindOf(data);
    Kind to = KindOf(candidate);
    if (from == Kind::kInteger && to == Kind::kNumber) {
      return static_cast<double>(data.get_int64()) == AsDouble(candidate);
    }
    if (from == Kind::kNumber && to == Kind::kInteger) {
      double d = AsDouble(data);
      if (std::isnan(d) || std::fabs(d) >= 9.2e18) return false;
      return static_cast<int64_t>(d) == candidate.get_int64();
    }
    if (from == Kind::kInteger && to == Kind::kString) {
      int64_t n = data.get_int64();
      std::string rune;
      uint32_t cp = (n < 0 || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF))
                        ? 0xFFFD
                        : static_cast<uint32_t>(n);
      if (cp < 0x80) {
        rune += static_cast<char>(cp);
      } else if (cp < 0x800) {
        rune += static_cast<char>(0xC0 | (cp >> 6));
        rune += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        rune += static_cast<char>(0xE0 | (cp >> 12));
        rune += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        rune += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        rune += static_cast<char>(0xF0 | (cp >> 18));
        rune += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        rune += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        rune += static_cast<char>(0x80 | (cp & 0x3F));
      }
      return rune == candidate.get_string();
    }
    return false;
  }

  Outcome EnumCheck(const json::value& data, const Schema& schema, const std::string& path) {
    Outcome result;
    if (!schema.enum_values || schema.enum_values->empty()) return result;
    if (!data.is_null()) {
      for (const auto& candidate : *schema.enum_values) {
        if (!candidate.is_null() && EnumMatches(data, candidate)) return result;
      }
    }
    Problem p{Code::kEnum, path, data};
    p.enum_values = *schema.enum_values;
    std::string listed;
    for (size_t i = 0; i < p.enum_values.size(); ++i) {
      if (i > 0) listed += " ";
      const auto& v = p.enum_values[i];
      listed += v.is_string() ? std::string(v.get_string()) : GoJson(v);
    }
    p.message = In(path, fmt::format("should be one of [{}]", listed));
    result.Add(std::move(p));
    return result;
  }

  Outcome ObjectCheck(const json::object& data, const Schema& schema, const std::string& path,
                      int depth) {
    Outcome result;
    int64_t keys = static_cast<int64_t>(data.size());
    if (schema.min_properties && keys < *schema.min_properties) {
      Problem p{Code::kOther, path, json::value(keys)};
      p.message =
          In(path, fmt::format("should have at least {} properties", *schema.min_properties));
      result.Add(std::move(p));
    }
    if (schema.max_properties && keys > *schema.max_properties) {
      Problem p{Code::kTooManyProperties, path, json::value(keys), *schema.max_properties};
      p.message =
          In(path, fmt::format("should have at most {} properties", *schema.max_properties));
      result.Add(std::move(p));
    }
    const auto& additional = schema.additional_properties;
    if (additional && !additional->allows) {
      for (const auto& [key, value] : data) {
        if (schema.properties.count(std::string(key)) == 0) {
          Problem p{Code::kOther, path, json::value(key)};
          p.message = fmt::format("{}.{} in body is a forbidden property", path, std::string(key));
          result.Add(std::move(p));
        }
      }
    } else if (additional && additional->schema != nullptr) {
      for (const auto& [key, value] : data) {
        if (schema.properties.count(std::string(key)) == 0) {
          result.Merge(
              Validate(value, *additional->schema, path + "." + std::string(key), depth + 1));
        }
      }
    }
    for (const auto& [name, property] : schema.properties) {
      const json::value* value = data.if_contains(name);
      if (value == nullptr) continue;
      std::string child = path.empty() ? name : path + "." + name;
      result.Merge(Validate(*value, property, child, depth + 1));
    }
    for (const auto& name : schema.required) {
      if (!data.contains(name)) {
        Problem p{Code::kRequired, path + "." + name};
        p.message = In(path + "." + name, "is required");
        result.Add(std::move(p));
      }
    }
    return result;
  }

  Outcome Composition(const json::value& data, const Schema& schema, const std::string& path,
                      int depth) {
    Outcome main;
    if (!schema.any_of.empty()) {
      std::optional<Outcome> best_failures;
      std::optional<Outcome> first_success;
      bool succeeded = false;
      for (const auto& alternative : schema.any_of) {
        Outcome result = Validate(data, alternative, path, depth + 1);
        if (result.valid()) {
          best_failures.reset();
          succeeded = true;
          if (!first_success) first_success = std::move(result);
          break;
        }
        if (!best_failures || result.match_count > best_failures->match_count) {
          best_failures = std::move(result);
        }
      }
      if (!succeeded) {
        main.Add(Plain(fmt::format("{} must validate at least one schema (anyOf)", GoQuote(path))));
      }
      if (best_failures) {
        main.Merge(std::move(*best_failures));
      } else if (first_success) {
        main.Merge(std::move(*first_success));
      }
    }
    if (!schema.one_of.empty()) {
      std::optional<Outcome> best_failures;
      std::optional<Outcome> first_success;
      int validated = 0;
      for (const auto& alternative : schema.one_of) {
        Outcome result = Validate(data, alternative, path, depth + 1);
        if (result.valid()) {
          ++validated;
          best_failures.reset();
          if (!first_success) first_success = std::move(result);
          continue;
        }
        if (validated == 0 && (!best_failures || result.match_count > best_failures->match_count)) {
          best_failures = std::move(result);
        }
      }
      if (validated != 1) {
        std::string additional = validated == 0
                                     ? "Found none valid"
                                     : fmt::format("Found {} valid alternatives", validated);
        main.Add(Plain(fmt::format("{} must validate one and only one schema (oneOf). {}",
                                   GoQuote(path), additional)));
        if (best_failures) main.Merge(std::move(*best_failures));
      } else if (first_success) {
        main.Merge(std::move(*first_success));
      }
    }
    if (!schema.all_of.empty()) {
      size_t validated = 0;
      for (const auto& part : schema.all_of) {
        Outcome result = Validate(data, part, path, depth + 1);
        if (result.valid()) ++validated;
        main.Merge(std::move(result));
      }
      if (validated != schema.all_of.size()) {
        main.Add(Plain(fmt::format("{} must validate all the schemas (allOf){}", GoQuote(path),
                                   validated == 0 ? ". None validated" : "")));
      }
    }
    if (schema.not_schema != nullptr) {
      if (Validate(data, *schema.not_schema, path, depth + 1).valid()) {
        main.Add(Plain(fmt::format("{} must not validate the schema (not)", GoQuote(path))));
      }
    }
    main.match_count++;
    return main;
  }
};

validation::FieldError ToFieldError(const Problem& problem, const std::string& base) {
  using validation::FieldErrorType;
  std::string path = base;
  if (problem.code != Code::kPlain && !problem.name.empty() && problem.name != ".") {
    std::string name = problem.name;
    if (name[0] == '.') name.erase(0, 1);
    path = path.empty() ? name : path + "." + name;
  }
  auto value_text = [&]() {
    return problem.value ? ErrorValue(*problem.value) : std::string("\"\"");
  };
  switch (problem.code) {
    case Code::kPlain:
      return {FieldErrorType::kInvalid, base.empty() ? "<nil>" : base, "\"\"", problem.message};
    case Code::kRequired: return {FieldErrorType::kRequired, path, {}, {}};
    case Code::kEnum: {
      std::string detail;
      if (!problem.enum_values.empty()) {
        detail = "supported values: ";
        for (size_t i = 0; i < problem.enum_values.size(); ++i) {
          if (i > 0) detail += ", ";
          const auto& v = problem.enum_values[i];
          detail += GoQuote(v.is_string() ? std::string(v.get_string()) : GoJson(v));
        }
      }
      return {FieldErrorType::kNotSupported, path, value_text(), detail};
    }
    case Code::kTooLong:
      return {FieldErrorType::kTooLong,
              path,
              {},
              fmt::format("may not be more than {} {}", problem.valid,
                          problem.valid == 1 ? "byte" : "bytes")};
    case Code::kMaxItems:
    case Code::kTooManyProperties:
      return {FieldErrorType::kTooMany, path, value_text(),
              fmt::format("must have at most {} {}", problem.valid,
                          problem.valid == 1 ? "item" : "items")};
    case Code::kInvalidType:
      return {FieldErrorType::kTypeInvalid, path, value_text(), problem.message};
    case Code::kOther: return {FieldErrorType::kInvalid, path, value_text(), problem.message};
  }
  return {FieldErrorType::kInvalid, path, value_text(), problem.message};
}

}  // namespace

validation::FieldErrors ValidateAgainstSchema(const json::value& value, const Schema& schema,
                                              const std::string& base_path) {
  Validator validator;
  Outcome outcome = validator.Validate(value, schema, "", 0);
  validation::FieldErrors errors;
  for (const auto& problem : outcome.errors)
    errors.push_back(ToFieldError(problem, base_path));
  return errors;
}

// --- Embedded resources' metadata and list types --------------------------------------------

namespace {

using validation::FieldPath;

void ValidateEmbeddedMetadata(const json::object& meta, const FieldPath& path,
                              validation::FieldErrors& errors) {
  // As upstream's ValidateObjectMeta for an embedded object: the name a path segment (a fake one
  // when empty), generateName a path segment prefix, the namespace a DNS label, labels and
  // annotation keys qualified names.
  auto string_at = [&](std::string_view key) -> std::string {
    const json::value* v = meta.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::string name = string_at("name");
  std::string generate_name = string_at("generateName");
  if (!generate_name.empty()) {
    for (const auto& message : validation::IsPathSegmentPrefix(generate_name)) {
      errors.push_back(validation::Invalid(path.Child("generateName"), generate_name, message));
    }
  }
  if (name.empty()) name = "fakename";
  for (const auto& message : validation::IsPathSegmentName(name)) {
    errors.push_back(validation::Invalid(path.Child("name"), name, message));
  }
  std::string ns = string_at("namespace");
  if (!ns.empty()) {
    for (const auto& message : validation::IsDNS1123Label(ns)) {
      errors.push_back(validation::Invalid(path.Child("namespace"), ns, message));
    }
  }
  if (const json::value* labels = meta.if_contains("labels"); labels && labels->is_object()) {
    for (const auto& [key, value] : labels->get_object()) {
      for (const auto& message : validation::IsQualifiedName(key)) {
        errors.push_back(validation::Invalid(path.Child("labels"), key, message));
      }
      if (value.is_string()) {
        for (const auto& message : validation::IsValidLabelValue(value.get_string())) {
          errors.push_back(validation::Invalid(path.Child("labels"), value.get_string(), message));
        }
      }
    }
  }
  if (const json::value* annotations = meta.if_contains("annotations");
      annotations && annotations->is_object()) {
    for (const auto& [key, value] : annotations->get_object()) {
      (void)value;
      for (const auto& message : validation::IsQualifiedName(key)) {
        errors.push_back(validation::Invalid(path.Child("annotations"), key, message));
      }
    }
  }
}

void ValidateEmbeddedResource(const json::object& object, const FieldPath& path,
                              validation::FieldErrors& errors) {
  if (!object.contains("apiVersion"))
    errors.push_back(validation::Required(path.Child("apiVersion")));
  if (!object.contains("kind")) errors.push_back(validation::Required(path.Child("kind")));
  for (const auto& [key, value] : object) {
    if (key == "apiVersion") {
      FieldPath at = path.Child("apiVersion");
      if (!value.is_string()) {
        errors.push_back({validation::FieldErrorType::kInvalid, at.str(), ErrorValue(value),
                          "must be a string"});
      } else if (value.get_string().empty()) {
        errors.push_back(validation::Invalid(at, "", "must not be empty"));
      } else {
        std::string_view gv = value.get_string();
        size_t slash = gv.find('/');
        if (slash != std::string_view::npos && gv.find('/', slash + 1) != std::string_view::npos) {
          errors.push_back(validation::Invalid(
              at, gv, fmt::format("unexpected GroupVersion string: {}", std::string(gv))));
        }
      }
    } else if (key == "kind") {
      FieldPath at = path.Child("kind");
      if (!value.is_string()) {
        errors.push_back({validation::FieldErrorType::kInvalid, at.str(), ErrorValue(value),
                          "must be a string"});
      } else if (value.get_string().empty()) {
        errors.push_back(validation::Invalid(at, "", "must not be empty"));
      } else {
        std::string lower(value.get_string());
        for (char& c : lower)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto problems = validation::IsDNS1035Label(lower);
        if (!problems.empty()) {
          std::string joined;
          for (size_t i = 0; i < problems.size(); ++i)
            joined += (i ? "," : "") + problems[i];
          errors.push_back(
              validation::Invalid(at, value.get_string(),
                                  "may have mixed case, but should otherwise match: " + joined));
        }
      }
    } else if (key == "metadata") {
      if (!value.is_object()) {
        errors.push_back({validation::FieldErrorType::kInvalid, path.Child("metadata").str(),
                          ErrorValue(value), "expected object"});
      } else {
        ValidateEmbeddedMetadata(value.get_object(), path.Child("metadata"), errors);
      }
    }
  }
}

void WalkEmbedded(const json::value& x, const Schema* schema, const FieldPath& path, int depth,
                  validation::FieldErrors& errors, bool root_embedded = false) {
  if (schema == nullptr || depth > kMaxValueDepth) return;
  if (x.is_object()) {
    if (root_embedded || schema->embedded_resource) {
      ValidateEmbeddedResource(x.get_object(), path, errors);
    }
    for (const auto& [key, value] : x.get_object()) {
      auto it = schema->properties.find(std::string(key));
      if (it != schema->properties.end()) {
        WalkEmbedded(value, &it->second, path.Child(key), depth + 1, errors);
      } else if (schema->additional_properties) {
        WalkEmbedded(value, schema->additional_properties->schema.get(), path.Key(key), depth + 1,
                     errors);
      }
    }
  } else if (x.is_array()) {
    const auto& array = x.get_array();
    for (size_t i = 0; i < array.size(); ++i) {
      WalkEmbedded(array[i], schema->items.get(), path.Index(i), depth + 1, errors);
    }
  }
}

// The indices of items equal to an earlier one (reported once per distinct value: the second
// occurrence), as upstream's validateListSet.
std::vector<size_t> NonUnique(const std::vector<json::value>& items) {
  std::vector<size_t> out;
  std::map<std::string, int> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    // int64 and float64 are distinct keys in Go's map[interface{}]: tag numbers by their kind.
    const auto& x = items[i];
    std::string key = x.is_int64()                       ? "i" + std::to_string(x.get_int64())
                      : (x.is_double() || x.is_uint64()) ? "f" + GoJson(x)
                      : x.is_string()                    ? "s" + std::string(x.get_string())
                      : x.is_bool()                      ? (x.get_bool() ? "b1" : "b0")
                      : x.is_null()                      ? "n"
                                                         : "c" + GoJson(x);
    int times = seen[key]++;
    if (times == 1) out.push_back(i);
  }
  return out;
}

void ValidateListTypes(const json::value& x, const Schema* schema, const FieldPath& path, int depth,
                       validation::FieldErrors& errors);

void ValidateListTypesInObject(const json::object& object, const Schema* schema,
                               const FieldPath& path, int depth, validation::FieldErrors& errors) {
  if (schema == nullptr) return;
  if (schema->additional_properties && schema->additional_properties->schema) {
    for (const auto& [key, value] : object) {
      ValidateListTypes(value, schema->additional_properties->schema.get(), path.Key(key),
                        depth + 1, errors);
    }
  }
  for (const auto& [key, value] : object) {
    auto it = schema->properties.find(std::string(key));
    if (it != schema->properties.end()) {
      ValidateListTypes(value, &it->second, path.Child(key), depth + 1, errors);
    }
  }
}

void ValidateListTypes(const json::value& x, const Schema* schema, const FieldPath& path, int depth,
                       validation::FieldErrors& errors) {
  if (schema == nullptr || depth > kMaxValueDepth) return;
  if (x.is_object()) {
    ValidateListTypesInObject(x.get_object(), schema, path, depth, errors);
    return;
  }
  if (!x.is_array()) return;
  const auto& array = x.get_array();
  if (schema->list_type == "set") {
    std::vector<json::value> items(array.begin(), array.end());
    for (size_t i : NonUnique(items)) {
      errors.push_back(
          {validation::FieldErrorType::kDuplicate, path.Index(i).str(), ErrorValue(array[i]), {}});
    }
  } else if (schema->list_type == "map") {
    bool all_objects = true;
    for (size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_null() && !array[i].is_object()) {
        errors.push_back({validation::FieldErrorType::kInvalid, path.Index(i).str(),
                          ErrorValue(array[i]), "must be an object for an array of list-type map"});
        all_objects = false;
        break;
      }
    }
    if (all_objects && array.size() > 1) {
      std::vector<json::value> keys;
      for (const auto& item : array) {
        json::object key;
        if (item.is_object()) {
          for (const auto& field : schema->list_map_keys) {
            if (const json::value* v = item.get_object().if_contains(field)) key[field] = *v;
          }
        }
        keys.emplace_back(std::move(key));
      }
      if (schema->list_map_keys.size() == 1) {
        // One key: the key's value itself is compared (a missing key is its own value).
        std::vector<json::value> single;
        for (const auto& key : keys) {
          const auto& object = key.get_object();
          single.push_back(object.empty() ? json::value(json::object{{"\x01missing", true}})
                                          : object.begin()->value());
        }
        for (size_t i : NonUnique(single)) {
          errors.push_back({validation::FieldErrorType::kDuplicate,
                            path.Index(i).str(),
                            ErrorValue(keys[i]),
                            {}});
        }
      } else {
        for (size_t i : NonUnique(keys)) {
          errors.push_back({validation::FieldErrorType::kDuplicate,
                            path.Index(i).str(),
                            ErrorValue(keys[i]),
                            {}});
        }
      }
    }
  }
  if (schema->items != nullptr) {
    for (size_t i = 0; i < array.size(); ++i) {
      ValidateListTypes(array[i], schema->items.get(), path.Index(i), depth + 1, errors);
    }
  }
}

}  // namespace

void ValidateEmbeddedResources(const json::value& value, const Schema& schema,
                               const validation::FieldPath& path, bool is_resource_root,
                               validation::FieldErrors& errors) {
  WalkEmbedded(value, &schema, path, 0, errors, is_resource_root);
}

}  // namespace internal

validation::FieldErrors Validate(const json::value& object, const Schema& schema,
                                 const ValidateOptions& options) {
  validation::FieldErrors errors = internal::ValidateAgainstSchema(object, schema, "");
  if (options.check_embedded_metadata) {
    internal::ValidateEmbeddedResources(object, schema, validation::FieldPath(), false, errors);
  }
  if (object.is_object()) {
    internal::ValidateListTypesInObject(object.get_object(), &schema, validation::FieldPath(), 0,
                                        errors);
  }
  return errors;
}

}  // namespace kpp::apiextensions::schema
