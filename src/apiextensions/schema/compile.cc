// Compile: the JSON form of a JSONSchemaProps into a Schema tree.
#include <boost/json.hpp>
#include <cmath>

#include "apiextensions/schema/pattern.h"
#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;

namespace {

// Reads one schema object; `path` names it in errors ("openAPIV3Schema.properties[spec]").
class Compiler {
 public:
  Result<Schema> Read(const json::value& value, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) {
      return BadRequestError(path + ": schema nested more than " + std::to_string(kMaxSchemaDepth) +
                             " levels deep");
    }
    if (!value.is_object()) return ShapeError(path, "an object");
    Schema out;
    for (const auto& [key_view, field] : value.get_object()) {
      std::string key(key_view);
      if (field.is_null()) continue;  // Go leaves a null field at its zero value
      std::string at = path + "." + key;
      if (auto ok = ReadField(out, key, field, at, depth); !ok.ok()) return ok.error();
    }
    return out;
  }

 private:
  static Error ShapeError(const std::string& path, std::string_view expected) {
    return BadRequestError(path + ": must be " + std::string(expected));
  }

  static Result<std::string> String(const json::value& v, const std::string& at) {
    if (!v.is_string()) return ShapeError(at, "a string");
    return std::string(v.get_string());
  }
  static Result<bool> Bool(const json::value& v, const std::string& at) {
    if (!v.is_bool()) return ShapeError(at, "a boolean");
    return v.get_bool();
  }
  static Result<double> Number(const json::value& v, const std::string& at) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_double()) return v.get_double();
    return ShapeError(at, "a number");
  }
  static Result<int64_t> Integer(const json::value& v, const std::string& at) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
      double d = v.get_double();
      if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
    }
    return ShapeError(at, "an integer");
  }
  static Result<std::vector<std::string>> Strings(const json::value& v, const std::string& at) {
    if (!v.is_array()) return ShapeError(at, "an array of strings");
    std::vector<std::string> out;
    for (const auto& item : v.get_array()) {
      if (!item.is_string()) return ShapeError(at, "an array of strings");
      out.emplace_back(item.get_string());
    }
    return out;
  }

  Result<std::vector<Schema>> Schemas(const json::value& v, const std::string& at, int depth) {
    if (!v.is_array()) return ShapeError(at, "an array of schemas");
    std::vector<Schema> out;
    const auto& array = v.get_array();
    for (size_t i = 0; i < array.size(); ++i) {
      auto one = Read(array[i], at + "[" + std::to_string(i) + "]", depth + 1);
      if (!one.ok()) return one.error();
      out.push_back(std::move(one).value());
    }
    return out;
  }

  Result<std::map<std::string, Schema>> SchemaMap(const json::value& v, const std::string& at,
                                                  int depth) {
    if (!v.is_object()) return ShapeError(at, "an object of schemas");
    std::map<std::string, Schema> out;
    for (const auto& [name, item] : v.get_object()) {
      auto one = Read(item, at + "[" + std::string(name) + "]", depth + 1);
      if (!one.ok()) return one.error();
      out.insert_or_assign(std::string(name), std::move(one).value());
    }
    return out;
  }

  Result<SchemaPtr> One(const json::value& v, const std::string& at, int depth) {
    auto one = Read(v, at, depth + 1);
    if (!one.ok()) return one.error();
    return std::make_shared<const Schema>(std::move(one).value());
  }

  Result<std::vector<ValidationRule>> Rules(const json::value& v, const std::string& at) {
    if (!v.is_array()) return ShapeError(at, "an array of validation rules");
    std::vector<ValidationRule> out;
    const auto& array = v.get_array();
    for (size_t i = 0; i < array.size(); ++i) {
      std::string item_at = at + "[" + std::to_string(i) + "]";
      if (!array[i].is_object()) return ShapeError(item_at, "an object");
      ValidationRule rule;
      for (const auto& [key, field] : array[i].get_object()) {
        if (field.is_null()) continue;
        std::string field_at = item_at + "." + std::string(key);
        if (key == "optionalOldSelf") {
          auto b = Bool(field, field_at);
          if (!b.ok()) return b.error();
          rule.optional_old_self = *b;
          continue;
        }
        std::string* target = key == "rule"                ? &rule.rule
                              : key == "message"           ? &rule.message
                              : key == "messageExpression" ? &rule.message_expression
                              : key == "fieldPath"         ? &rule.field_path
                                                           : nullptr;
        if (key == "reason") {
          auto s = String(field, field_at);
          if (!s.ok()) return s.error();
          rule.reason = *s;
        } else if (target != nullptr) {
          auto s = String(field, field_at);
          if (!s.ok()) return s.error();
          *target = *s;
        }
      }
      out.push_back(std::move(rule));
    }
    return out;
  }

  // Assigns `*target` from `result`, or returns its error.
  template <typename T, typename U>
  static Result<void> Set(U* target, Result<T> result) {
    if (!result.ok()) return result.error();
    *target = std::move(result).value();
    return {};
  }

  Result<void> ReadField(Schema& out, const std::string& key, const json::value& field,
                         const std::string& at, int depth) {
    if (key == "type") return Set(&out.type, String(field, at));
    if (key == "format") return Set(&out.format, String(field, at));
    if (key == "description") return Set(&out.description, String(field, at));
    if (key == "title") return Set(&out.title, String(field, at));
    if (key == "pattern") {
      auto ok = Set(&out.pattern, String(field, at));
      if (ok.ok() && !out.pattern.empty()) {
        out.compiled_pattern = std::make_shared<const internal::Pattern>(out.pattern);
      }
      return ok;
    }
    if (key == "default") {
      out.default_value = field;
      return {};
    }
    if (key == "example") {
      out.example = field;
      return {};
    }
    if (key == "nullable") return Set(&out.nullable, Bool(field, at));
    if (key == "externalDocs") {
      if (!field.is_object()) return ShapeError(at, "an object");
      out.external_docs = field.get_object();
      return {};
    }
    if (key == "maximum") return Set(&out.maximum, Number(field, at));
    if (key == "minimum") return Set(&out.minimum, Number(field, at));
    if (key == "multipleOf") return Set(&out.multiple_of, Number(field, at));
    if (key == "exclusiveMaximum") return Set(&out.exclusive_maximum, Bool(field, at));
    if (key == "exclusiveMinimum") return Set(&out.exclusive_minimum, Bool(field, at));
    if (key == "uniqueItems") return Set(&out.unique_items, Bool(field, at));
    if (key == "maxLength") return Set(&out.max_length, Integer(field, at));
    if (key == "minLength") return Set(&out.min_length, Integer(field, at));
    if (key == "maxItems") return Set(&out.max_items, Integer(field, at));
    if (key == "minItems") return Set(&out.min_items, Integer(field, at));
    if (key == "maxProperties") return Set(&out.max_properties, Integer(field, at));
    if (key == "minProperties") return Set(&out.min_properties, Integer(field, at));
    if (key == "enum") {
      if (!field.is_array()) return ShapeError(at, "an array");
      out.enum_values.emplace(field.get_array().begin(), field.get_array().end());
      return {};
    }
    if (key == "required") return Set(&out.required, Strings(field, at));
    if (key == "allOf") return Set(&out.all_of, Schemas(field, at, depth));
    if (key == "oneOf") return Set(&out.one_of, Schemas(field, at, depth));
    if (key == "anyOf") return Set(&out.any_of, Schemas(field, at, depth));
    if (key == "not") return Set(&out.not_schema, One(field, at, depth));
    if (key == "properties") return Set(&out.properties, SchemaMap(field, at, depth));
    if (key == "items") {
      if (field.is_array()) {
        // A tuple of schemas: not allowed in a CRD; the first one (if any) stands for all items
        // so the rest of the checks still see a schema.
        out.items_is_array = true;
        auto all = Schemas(field, at, depth);
        if (!all.ok()) return all.error();
        if (!all->empty()) out.items = std::make_shared<const Schema>(std::move(all->front()));
        return {};
      }
      return Set(&out.items, One(field, at, depth));
    }
    if (key == "additionalProperties") {
      AdditionalProperties additional;
      if (field.is_bool()) {
        additional.allows = field.get_bool();
      } else {
        auto one = One(field, at, depth);
        if (!one.ok()) return one.error();
        additional.schema = std::move(one).value();
      }
      out.additional_properties = std::move(additional);
      return {};
    }
    if (key == "x-kubernetes-preserve-unknown-fields") {
      return Set(&out.preserve_unknown_fields, Bool(field, at));
    }
    if (key == "x-kubernetes-embedded-resource")
      return Set(&out.embedded_resource, Bool(field, at));
    if (key == "x-kubernetes-int-or-string") return Set(&out.int_or_string, Bool(field, at));
    if (key == "x-kubernetes-list-type") return Set(&out.list_type, String(field, at));
    if (key == "x-kubernetes-map-type") return Set(&out.map_type, String(field, at));
    if (key == "x-kubernetes-list-map-keys") return Set(&out.list_map_keys, Strings(field, at));
    if (key == "x-kubernetes-validations") return Set(&out.validations, Rules(field, at));
    // Keywords a CRD may not use: remember that they were there (their shape is the codec's).
    if (key == "id") return Set(&out.has_id, Result<bool>(true));
    if (key == "$schema") return Set(&out.has_schema_uri, Result<bool>(true));
    if (key == "$ref") return Set(&out.has_ref, Result<bool>(true));
    if (key == "additionalItems") return Set(&out.has_additional_items, Result<bool>(true));
    if (key == "patternProperties") {
      out.has_pattern_properties = field.is_object() && !field.get_object().empty();
      return {};
    }
    if (key == "definitions") {
      out.has_definitions = field.is_object() && !field.get_object().empty();
      return {};
    }
    if (key == "dependencies") return Set(&out.has_dependencies, Result<bool>(true));
    return {};  // unknown keywords are the strict decoder's business
  }
};

}  // namespace

Result<SchemaPtr> Compile(const json::value& json_schema_props) {
  Compiler compiler;
  auto schema = compiler.Read(json_schema_props, "openAPIV3Schema", 0);
  if (!schema.ok()) return std::move(schema).error();
  return std::make_shared<const Schema>(std::move(schema).value());
}

}  // namespace kpp::apiextensions::schema
