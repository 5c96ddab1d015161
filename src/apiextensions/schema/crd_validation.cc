// ValidateCrdSchema: the checks upstream's CRD validation makes on a version's openAPIV3Schema
// (validateCustomResourceDefinitionValidation): structural-schema rules (schema.ValidateStructural,
// errors sorted by text), defaults that validate and are pruned (defaulting.ValidateDefaults),
// and the OpenAPI checks (ValidateCustomResourceDefinitionOpenAPISchema).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <set>

#include "apiextensions/schema/pattern.h"
#include "apiextensions/schema/schema.h"
#include "apiextensions/schema/validate_internal.h"
#include "apiextensions/schema/values.h"
#include "base/go_quote.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;
using validation::FieldError;
using validation::FieldErrors;
using validation::FieldErrorType;
using validation::FieldPath;

namespace {

// --- Structural rules (schema.ValidateStructural) ---------------------------------------------

enum class Level { kRoot, kItem, kField };

FieldError InvalidValue(const FieldPath& path, std::string_view value, std::string detail) {
  return validation::Invalid(path, value, std::move(detail));
}

FieldError InvalidBool(const FieldPath& path, bool value, std::string detail) {
  return {FieldErrorType::kInvalid, path.str(), value ? "true" : "false", std::move(detail)};
}

bool HasValueValidation(const Schema& s) {
  return !s.format.empty() || s.maximum || s.exclusive_maximum || s.minimum ||
         s.exclusive_minimum || s.max_length || s.min_length || !s.pattern.empty() || s.max_items ||
         s.min_items || s.unique_items || s.multiple_of || s.enum_values || s.max_properties ||
         s.min_properties || !s.required.empty() || !s.all_of.empty() || !s.one_of.empty() ||
         !s.any_of.empty() || s.not_schema != nullptr;
}

// A nested value validation that is exactly `type: <type>` and nothing else.
bool IsOnlyType(const Schema& s, std::string_view type) {
  Schema expected;
  expected.type = std::string(type);
  return s.type == type && s.properties.empty() && s.items == nullptr && !s.additional_properties &&
         s.description.empty() && s.title.empty() && !s.default_value && !s.example &&
         !s.nullable && !s.external_docs && !HasValueValidation(s) && !s.preserve_unknown_fields &&
         !s.embedded_resource && !s.int_or_string && !s.list_type && s.list_map_keys.empty() &&
         !s.map_type && s.validations.empty();
}

bool IsIntOrStringAnyOf(const std::vector<Schema>& any_of) {
  return any_of.size() == 2 && IsOnlyType(any_of[0], "integer") && IsOnlyType(any_of[1], "string");
}

void ValidateNestedValueValidation(const Schema* v, bool skip_any_of, bool skip_all_of_any_of,
                                   Level level, const FieldPath& path, FieldErrors& errors);

void ValidateValueValidation(const Schema& v, bool skip_any_of, bool skip_first_all_of_any_of,
                             Level level, const FieldPath& path, FieldErrors& errors) {
  if (!skip_any_of) {
    for (size_t i = 0; i < v.any_of.size(); ++i) {
      ValidateNestedValueValidation(&v.any_of[i], false, false, level, path.Child("anyOf").Index(i),
                                    errors);
    }
  }
  for (size_t i = 0; i < v.all_of.size(); ++i) {
    bool skip = skip_first_all_of_any_of && i == 0;
    ValidateNestedValueValidation(&v.all_of[i], skip, false, level, path.Child("allOf").Index(i),
                                  errors);
  }
  for (size_t i = 0; i < v.one_of.size(); ++i) {
    ValidateNestedValueValidation(&v.one_of[i], false, false, level, path.Child("oneOf").Index(i),
                                  errors);
  }
  ValidateNestedValueValidation(v.not_schema.get(), false, false, level, path.Child("not"), errors);
  if (!v.pattern.empty() && v.compiled_pattern && !v.compiled_pattern->ok()) {
    errors.push_back(InvalidValue(
        path.Child("pattern"), v.pattern,
        "must be a valid regular expression, but isn't: " + v.compiled_pattern->error()));
  }
}

void ValidateNestedValueValidation(const Schema* v, bool skip_any_of, bool skip_all_of_any_of,
                                   Level level, const FieldPath& path, FieldErrors& errors) {
  if (v == nullptr) return;
  ValidateValueValidation(*v, skip_any_of, skip_all_of_any_of, level, path, errors);
  ValidateNestedValueValidation(v->items.get(), false, false, level, path.Child("items"), errors);
  for (const auto& [name, property] : v->properties) {
    ValidateNestedValueValidation(&property, false, false, Level::kField,
                                  path.Child("properties").Key(name), errors);
  }
  if (!v->type.empty())
    errors.push_back(validation::Forbidden(path.Child("type"), "must be empty to be structural"));
  if (v->additional_properties && v->additional_properties->schema) {
    errors.push_back(validation::Forbidden(path.Child("additionalProperties"),
                                           "must be undefined to be structural"));
  }
  if (v->default_value && !v->default_value->is_null()) {
    errors.push_back(
        validation::Forbidden(path.Child("default"), "must be undefined to be structural"));
  }
  if (!v->title.empty())
    errors.push_back(validation::Forbidden(path.Child("title"), "must be empty to be structural"));
  if (!v->description.empty()) {
    errors.push_back(
        validation::Forbidden(path.Child("description"), "must be empty to be structural"));
  }
  if (v->nullable)
    errors.push_back(
        validation::Forbidden(path.Child("nullable"), "must be false to be structural"));
  if (v->PreservesUnknownFields()) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-preserve-unknown-fields"),
                                           "must be false to be structural"));
  }
  if (v->embedded_resource) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-embedded-resource"),
                                           "must be false to be structural"));
  }
  if (v->int_or_string) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-int-or-string"),
                                           "must be false to be structural"));
  }
  if (!v->list_map_keys.empty()) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-list-map-keys"),
                                           "must be empty to be structural"));
  }
  if (v->list_type) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-list-type"),
                                           "must be undefined to be structural"));
  }
  if (v->map_type) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-map-type"),
                                           "must be undefined to be structural"));
  }
  if (!v->validations.empty()) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-validations"),
                                           "must be empty to be structural"));
  }
  if (v->properties.count("metadata") > 0) {
    errors.push_back(validation::Forbidden(path.Child("properties").Key("metadata"),
                                           "must not be specified in a nested context"));
  }
}

// The root's metadata may only name name and generateName (metadata is implicitly specified).
bool RootMetadataIsEmpty(const Schema& s) {
  bool only_names = true;
  bool has_name = s.properties.count("name") > 0;
  bool has_generate_name = s.properties.count("generateName") > 0;
  if (!s.properties.empty()) {
    only_names = (has_name && has_generate_name && s.properties.size() == 2) ||
                 ((has_name || has_generate_name) && s.properties.size() == 1);
  }
  return only_names && s.items == nullptr && !s.additional_properties && s.description.empty() &&
         s.title.empty() && !s.example && !s.nullable && !s.external_docs &&
         !HasValueValidation(s) && !s.preserve_unknown_fields && !s.embedded_resource &&
         !s.int_or_string && !s.list_type && s.list_map_keys.empty() && !s.map_type &&
         s.validations.empty();
}

void ValidateStructuralInvariants(const Schema* s, Level level, const FieldPath& path,
                                  FieldErrors& errors) {
  if (s == nullptr) return;
  if (s->type == "array" && s->items == nullptr) {
    errors.push_back(validation::Required(path.Child("items"), "must be specified"));
  }
  ValidateStructuralInvariants(s->items.get(), Level::kItem, path.Child("items"), errors);
  for (const auto& [name, property] : s->properties) {
    ValidateStructuralInvariants(&property, Level::kField, path.Child("properties").Key(name),
                                 errors);
  }
  if (s->additional_properties) {
    if (level == Level::kRoot) {
      errors.push_back(validation::Forbidden(path.Child("additionalProperties"),
                                             "must not be used at the root"));
    }
    ValidateStructuralInvariants(s->additional_properties->schema.get(), Level::kField,
                                 path.Child("additionalProperties"), errors);
  }
  if (s->int_or_string && s->PreservesUnknownFields()) {
    errors.push_back(InvalidBool(path.Child("x-kubernetes-preserve-unknown-fields"), true,
                                 "must be false if x-kubernetes-int-or-string is true"));
  }
  if (s->int_or_string && s->embedded_resource) {
    errors.push_back(InvalidBool(path.Child("x-kubernetes-embedded-resource"), true,
                                 "must be false if x-kubernetes-int-or-string is true"));
  }
  bool skip_any_of = IsIntOrStringAnyOf(s->any_of);
  bool skip_first_all_of_any_of = !s->all_of.empty() && IsIntOrStringAnyOf(s->all_of[0].any_of);
  ValidateValueValidation(*s, skip_any_of, skip_first_all_of_any_of, level, path, errors);

  bool check_metadata = level == Level::kRoot || s->embedded_resource;
  if (s->embedded_resource && s->type != "object") {
    if (s->type.empty()) {
      errors.push_back(validation::Required(
          path.Child("type"), "must be object if x-kubernetes-embedded-resource is true"));
    } else {
      errors.push_back(InvalidValue(path.Child("type"), s->type,
                                    "must be object if x-kubernetes-embedded-resource is true"));
    }
  } else if (s->type.empty() && !s->int_or_string && !s->PreservesUnknownFields()) {
    std::string detail = level == Level::kRoot   ? "must not be empty at the root"
                         : level == Level::kItem ? "must not be empty for specified array items"
                                                 : "must not be empty for specified object fields";
    errors.push_back(validation::Required(path.Child("type"), detail));
  }
  if (s->embedded_resource && s->additional_properties) {
    errors.push_back(
        validation::Forbidden(path.Child("additionalProperties"),
                              "must not be used if x-kubernetes-embedded-resource is set"));
  }
  if (level == Level::kRoot && !s->type.empty() && s->type != "object") {
    errors.push_back(InvalidValue(path.Child("type"), s->type, "must be object at the root"));
  }
  for (std::string_view meta : {"kind", "apiVersion"}) {
    auto it = s->properties.find(std::string(meta));
    if (it != s->properties.end() && check_metadata && it->second.type != "string") {
      errors.push_back(InvalidValue(path.Child("properties").Key(meta).Child("type"),
                                    it->second.type, "must be string"));
    }
  }
  if (auto it = s->properties.find("metadata"); it != s->properties.end()) {
    FieldPath meta_path = path.Child("properties").Key("metadata");
    if (check_metadata && it->second.type != "object") {
      errors.push_back(InvalidValue(meta_path.Child("type"), it->second.type, "must be object"));
    }
    if (level == Level::kRoot && !RootMetadataIsEmpty(it->second)) {
      errors.push_back(validation::Forbidden(
          meta_path,
          "must not specify anything other than name and generateName, but metadata is "
          "implicitly specified"));
    }
  }
  if (s->embedded_resource && !s->PreservesUnknownFields() && s->properties.empty()) {
    errors.push_back(
        validation::Required(path.Child("properties"),
                             "must not be empty if x-kubernetes-embedded-resource is true without "
                             "x-kubernetes-preserve-unknown-fields"));
  }
}

void ValidateCompleteness(const Schema* v, const Schema* s, const FieldPath& s_path,
                          const FieldPath& v_path, FieldErrors& errors);

void ValidateNestedCompleteness(const Schema* v, const Schema* s, const FieldPath& s_path,
                                const FieldPath& v_path, FieldErrors& errors) {
  if (v == nullptr) return;
  if (s == nullptr) {
    errors.push_back(validation::Required(s_path, "because it is defined in " + v_path.str()));
    return;
  }
  ValidateCompleteness(v, s, s_path, v_path, errors);
  ValidateNestedCompleteness(v->items.get(), s->items.get(), s_path.Child("items"),
                             v_path.Child("items"), errors);
  for (const auto& [name, property] : v->properties) {
    auto it = s->properties.find(name);
    if (it == s->properties.end()) {
      errors.push_back(validation::Required(
          s_path.Child("properties").Key(name),
          "because it is defined in " + v_path.Child("properties").Key(name).str()));
    } else {
      ValidateNestedCompleteness(&property, &it->second, s_path.Child("properties").Key(name),
                                 v_path.Child("properties").Key(name), errors);
    }
  }
}

// The value validations (allOf, anyOf, oneOf, not) of `v` may only name properties and items
// that the structural schema `s` specifies.
void ValidateCompleteness(const Schema* v, const Schema* s, const FieldPath& s_path,
                          const FieldPath& v_path, FieldErrors& errors) {
  ValidateNestedCompleteness(v->not_schema.get(), s, s_path, v_path.Child("not"), errors);
  for (size_t i = 0; i < v->all_of.size(); ++i) {
    ValidateNestedCompleteness(&v->all_of[i], s, s_path, v_path.Child("allOf").Index(i), errors);
  }
  for (size_t i = 0; i < v->any_of.size(); ++i) {
    ValidateNestedCompleteness(&v->any_of[i], s, s_path, v_path.Child("anyOf").Index(i), errors);
  }
  for (size_t i = 0; i < v->one_of.size(); ++i) {
    ValidateNestedCompleteness(&v->one_of[i], s, s_path, v_path.Child("oneOf").Index(i), errors);
  }
}

FieldErrors ValidateStructural(const Schema& schema, const FieldPath& path) {
  FieldErrors errors;
  ValidateStructuralInvariants(&schema, Level::kRoot, path, errors);
  ValidateCompleteness(&schema, &schema, path, path, errors);
  std::stable_sort(errors.begin(), errors.end(), [](const FieldError& a, const FieldError& b) {
    return a.ToString() < b.ToString();
  });
  return errors;
}

// The first keyword NewStructural refuses (it visits the root, then nested schemas).
std::optional<std::string> UnsupportedField(const Schema& s, int depth = 0) {
  if (depth > kMaxSchemaDepth) return std::nullopt;
  if (s.items_is_array) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
  if (s.has_id) return "OpenAPIV3Schema 'id' is not supported";
  if (s.has_schema_uri) return "OpenAPIV3Schema 'schema' is not supported";
  if (s.has_ref) return "OpenAPIV3Schema '$ref' is not supported";
  if (s.has_pattern_properties) return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (s.has_dependencies) return "OpenAPIV3Schema 'dependencies' is not supported";
  if (s.has_additional_items) return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (s.has_definitions) return "OpenAPIV3Schema 'definitions' is not supported";
  auto visit = [&](const Schema* child) -> std::optional<std::string> {
    return child == nullptr ? std::nullopt : UnsupportedField(*child, depth + 1);
  };
  if (auto found = visit(s.items.get())) return found;
  for (const auto& [name, property] : s.properties) {
    if (auto found = visit(&property)) return found;
  }
  if (s.additional_properties) {
    if (auto found = visit(s.additional_properties->schema.get())) return found;
  }
  for (const auto* list : {&s.all_of, &s.any_of, &s.one_of}) {
    for (const auto& child : *list) {
      if (auto found = visit(&child)) return found;
    }
  }
  return visit(s.not_schema.get());
}

// --- Defaults (defaulting.ValidateDefaults) ---------------------------------------------------

// `is_resource_root`: `s` is the resource's root, which upstream checks as an embedded resource.
void ValidateDefaults(const Schema& s, const FieldPath& path, bool inside_meta,
                      bool is_resource_root, bool require_pruned, int depth, FieldErrors& errors) {
  if (depth > kMaxSchemaDepth) return;
  bool embedded = s.embedded_resource || is_resource_root;
  if (embedded) inside_meta = false;
  if (s.default_value && !s.default_value->is_null()) {
    const json::value& value = *s.default_value;
    FieldPath at = path.Child("default");
    if (!inside_meta && require_pruned) {
      json::value pruned = value;
      PruneOptions options;
      options.is_resource_root = embedded;
      Prune(pruned, s, options);
      if (!internal::DeepEqual(pruned, value)) {
        errors.push_back({FieldErrorType::kInvalid, at.str(), internal::ErrorValue(value),
                          "must not have unknown fields"});
      }
    }
    FieldErrors meta_errors;
    if (!inside_meta) internal::ValidateEmbeddedResources(value, s, at, embedded, meta_errors);
    if (!meta_errors.empty()) {
      errors.insert(errors.end(), meta_errors.begin(), meta_errors.end());
    } else {
      FieldErrors schema_errors = internal::ValidateAgainstSchema(value, s, at.str());
      errors.insert(errors.end(), schema_errors.begin(), schema_errors.end());
    }
  }
  if (s.items != nullptr) {
    ValidateDefaults(*s.items, path.Child("items"), inside_meta, false, require_pruned, depth + 1,
                     errors);
  }
  for (const auto& [name, property] : s.properties) {
    bool sub_inside_meta = inside_meta;
    if (embedded && (name == "metadata" || name == "apiVersion" || name == "kind")) {
      sub_inside_meta = true;
    }
    ValidateDefaults(property, path.Child("properties").Key(name), sub_inside_meta, false,
                     require_pruned, depth + 1, errors);
  }
}

// --- OpenAPI checks (ValidateCustomResourceDefinitionOpenAPISchema) ---------------------------

struct Context {
  bool allow_defaults = true;
  std::string disallow_defaults_reason;
  bool inside_resource_meta = false;
  bool require_valid_property_type = true;
};

constexpr std::array<std::string_view, 6> kOpenApiTypes = {"array",  "boolean", "integer",
                                                           "number", "object",  "string"};

void ValidateSpecStandard(const Schema& s, const FieldPath& path, const Context& context,
                          FieldErrors& errors) {
  if (context.require_valid_property_type && !s.type.empty() &&
      std::find(kOpenApiTypes.begin(), kOpenApiTypes.end(), s.type) == kOpenApiTypes.end()) {
    errors.push_back(validation::NotSupported(path.Child("type"), s.type,
                                              {kOpenApiTypes.begin(), kOpenApiTypes.end()}));
  }
  if (s.default_value && !context.allow_defaults) {
    std::string detail = "must not be set";
    if (!context.disallow_defaults_reason.empty()) {
      detail += " " + context.disallow_defaults_reason;
    }
    errors.push_back(validation::Forbidden(path.Child("default"), detail));
  }
  if (s.has_id) errors.push_back(validation::Forbidden(path.Child("id"), "id is not supported"));
  if (s.has_additional_items) {
    errors.push_back(
        validation::Forbidden(path.Child("additionalItems"), "additionalItems is not supported"));
  }
  if (s.has_pattern_properties) {
    errors.push_back(validation::Forbidden(path.Child("patternProperties"),
                                           "patternProperties is not supported"));
  }
  if (s.has_definitions) {
    errors.push_back(
        validation::Forbidden(path.Child("definitions"), "definitions is not supported"));
  }
  if (s.has_dependencies) {
    errors.push_back(
        validation::Forbidden(path.Child("dependencies"), "dependencies is not supported"));
  }
  if (s.has_ref)
    errors.push_back(validation::Forbidden(path.Child("$ref"), "$ref is not supported"));
  if (s.type == "null") {
    errors.push_back(validation::Forbidden(
        path.Child("type"), "type cannot be set to null, use nullable as an alternative"));
  }
  if (s.items_is_array) {
    errors.push_back(validation::Forbidden(path.Child("items"),
                                           "items must be a schema object and not an array"));
  }
  if (context.inside_resource_meta && s.embedded_resource) {
    errors.push_back(validation::Forbidden(path.Child("x-kubernetes-embedded-resource"),
                                           "must not be used inside of resource meta"));
  }
}

std::string GoStringList(const std::vector<std::string>& items) {
  std::string out = "[]string{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(items[i]);
  }
  return out + "}";
}

bool HasLineBreak(std::string_view text) {
  return text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos;
}

std::string_view Trim(std::string_view text) {
  const char* space = " \t\n\r\f\v";
  size_t begin = text.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

void ValidateOpenApiSchema(const Schema* schema, const FieldPath& path, const Context& context,
                           bool is_root, const CrdSchemaOptions& options, int depth,
                           FieldErrors& errors) {
  if (schema == nullptr || depth > kMaxSchemaDepth) return;
  const Schema& s = *schema;
  ValidateSpecStandard(s, path, context, errors);
  if (s.unique_items) {
    errors.push_back(validation::Forbidden(
        path.Child("uniqueItems"),
        "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
  }
  if (s.additional_properties) {
    if (!s.properties.empty() &&
        (!s.additional_properties->allows || s.additional_properties->schema != nullptr)) {
      errors.push_back(
          validation::Forbidden(path.Child("additionalProperties"),
                                "additionalProperties and properties are mutual exclusive"));
    }
    Context sub = context;
    if (context.inside_resource_meta) {
      sub.allow_defaults = false;
      sub.disallow_defaults_reason = "inside additionalProperties applying to object metadata";
    }
    ValidateOpenApiSchema(s.additional_properties->schema.get(), path.Child("additionalProperties"),
                          sub, false, options, depth + 1, errors);
  }
  for (const auto& [name, property] : s.properties) {
    Context sub = context;
    if ((is_root || s.embedded_resource) &&
        (name == "metadata" || name == "kind" || name == "apiVersion")) {
      sub.inside_resource_meta = true;
      if (is_root) {
        sub.allow_defaults = false;
        sub.disallow_defaults_reason = "in top-level " + name;
      }
    }
    ValidateOpenApiSchema(&property, path.Child("properties").Key(name), sub, false, options,
                          depth + 1, errors);
  }
  ValidateOpenApiSchema(s.not_schema.get(), path.Child("not"), context, false, options, depth + 1,
                        errors);
  for (size_t i = 0; i < s.all_of.size(); ++i) {
    ValidateOpenApiSchema(&s.all_of[i], path.Child("allOf").Index(i), context, false, options,
                          depth + 1, errors);
  }
  for (size_t i = 0; i < s.one_of.size(); ++i) {
    ValidateOpenApiSchema(&s.one_of[i], path.Child("oneOf").Index(i), context, false, options,
                          depth + 1, errors);
  }
  for (size_t i = 0; i < s.any_of.size(); ++i) {
    ValidateOpenApiSchema(&s.any_of[i], path.Child("anyOf").Index(i), context, false, options,
                          depth + 1, errors);
  }
  if (s.items != nullptr && !s.items_is_array) {
    ValidateOpenApiSchema(s.items.get(), path.Child("items"), context, false, options, depth + 1,
                          errors);
  }
  if (s.preserve_unknown_fields && !*s.preserve_unknown_fields) {
    errors.push_back(InvalidBool(path.Child("x-kubernetes-preserve-unknown-fields"), false,
                                 "must be true or undefined"));
  }
  if (s.map_type && s.type != "object") {
    if (s.type.empty()) {
      errors.push_back(validation::Required(
          path.Child("type"), "must be object if x-kubernetes-map-type is specified"));
    } else {
      errors.push_back(InvalidValue(path.Child("type"), s.type,
                                    "must be object if x-kubernetes-map-type is specified"));
    }
  }
  if (s.map_type && *s.map_type != "atomic" && *s.map_type != "granular") {
    errors.push_back(validation::NotSupported(path.Child("x-kubernetes-map-type"), *s.map_type,
                                              {"atomic", "granular"}));
  }
  if (s.list_type && s.type != "array") {
    if (s.type.empty()) {
      errors.push_back(validation::Required(
          path.Child("type"), "must be array if x-kubernetes-list-type is specified"));
    } else {
      errors.push_back(InvalidValue(path.Child("type"), s.type,
                                    "must be array if x-kubernetes-list-type is specified"));
    }
  } else if (options.require_atomic_set_type && s.list_type == "set" && s.items != nullptr) {
    const Schema& items = *s.items;
    if (items.type == "array") {
      if (items.list_type && *items.list_type != "atomic") {
        errors.push_back(
            InvalidValue(path.Child("items").Child("x-kubernetes-list-type"), *items.list_type,
                         "must be atomic as item of a list with x-kubernetes-list-type=set"));
      }
    } else if (items.type == "object") {
      if (!items.map_type || *items.map_type != "atomic") {
        // Upstream reports the item's list type here (a nil pointer prints as "null").
        errors.push_back({FieldErrorType::kInvalid,
                          path.Child("items").Child("x-kubernetes-map-type").str(),
                          items.list_type ? GoQuote(*items.list_type) : "\"null\"",
                          "must be atomic as item of a list with x-kubernetes-list-type=set"});
      }
    }
  }
  if (s.list_type && *s.list_type != "atomic" && *s.list_type != "set" && *s.list_type != "map") {
    errors.push_back(validation::NotSupported(path.Child("x-kubernetes-list-type"), *s.list_type,
                                              {"atomic", "set", "map"}));
  }
  if (!s.list_map_keys.empty()) {
    if (!s.list_type) {
      errors.push_back(
          validation::Required(path.Child("x-kubernetes-list-type"),
                               "must be map if x-kubernetes-list-map-keys is non-empty"));
    } else if (*s.list_type != "map") {
      errors.push_back(InvalidValue(path.Child("x-kubernetes-list-type"), *s.list_type,
                                    "must be map if x-kubernetes-list-map-keys is non-empty"));
    }
  }
  if (s.list_type == "map") {
    if (s.list_map_keys.empty()) {
      errors.push_back(validation::Required(path.Child("x-kubernetes-list-map-keys"),
                                            "must not be empty if x-kubernetes-list-type is map"));
    }
    if (s.items == nullptr) {
      errors.push_back(validation::Required(path.Child("items"),
                                            "must have a schema if x-kubernetes-list-type is map"));
    }
    if (s.items != nullptr && s.items_is_array) {
      errors.push_back({FieldErrorType::kInvalid, path.Child("items").str(), "\"\"",
                        "must only have a single schema if x-kubernetes-list-type is map"});
    }
    if (s.items != nullptr && s.items->type != "object") {
      errors.push_back(
          InvalidValue(path.Child("items").Child("type"), s.items->type,
                       "must be object if parent array's x-kubernetes-list-type is map"));
    }
    if (s.items != nullptr && s.items->type == "object") {
      std::set<std::string> keys;
      for (const auto& key : s.list_map_keys) {
        auto it = s.items->properties.find(key);
        if (it != s.items->properties.end()) {
          if (it->second.type == "array" || it->second.type == "object") {
            errors.push_back(InvalidValue(
                path.Child("items").Child("properties").Key(key).Child("type"), s.items->type,
                "must be a scalar type if parent array's x-kubernetes-list-type is map"));
          }
        } else {
          errors.push_back(
              {FieldErrorType::kInvalid, path.Child("x-kubernetes-list-map-keys").str(),
               GoStringList(s.list_map_keys), "entries must all be names of item properties"});
        }
        if (keys.count(key) > 0) {
          errors.push_back({FieldErrorType::kInvalid,
                            path.Child("x-kubernetes-list-map-keys").str(),
                            GoStringList(s.list_map_keys), "must not contain duplicate entries"});
        }
        keys.insert(key);
      }
    }
  }
  if (options.require_map_list_keys_map_set_validation && s.items != nullptr && !s.items_is_array &&
      (s.list_type == "set" || s.list_type == "map")) {
    const Schema& items = *s.items;
    if (items.nullable) {
      errors.push_back(validation::Forbidden(
          path.Child("items").Child("nullable"),
          "cannot be nullable when x-kubernetes-list-type is " + *s.list_type));
    }
    if (s.list_type == "map") {
      for (const auto& key : s.list_map_keys) {
        auto it = items.properties.find(key);
        if (it == items.properties.end()) continue;
        bool required =
            std::find(items.required.begin(), items.required.end(), key) != items.required.end();
        FieldPath key_path = path.Child("items").Child("properties").Key(key);
        if (!required && !it->second.default_value) {
          errors.push_back(validation::Required(
              key_path.Child("default"),
              "this property is in x-kubernetes-list-map-keys, so it must have a default or be a "
              "required property"));
        }
        if (it->second.nullable) {
          errors.push_back(validation::Forbidden(
              key_path.Child("nullable"),
              "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
        }
      }
    }
  }
  // CEL rules: only their static shape is checked; they are not compiled or evaluated.
  for (size_t i = 0; i < s.validations.size(); ++i) {
    const ValidationRule& rule = s.validations[i];
    FieldPath at = path.Child("x-kubernetes-validations").Index(i);
    std::string_view trimmed_rule = Trim(rule.rule);
    std::string_view trimmed_message = Trim(rule.message);
    if (trimmed_rule.empty()) {
      errors.push_back(validation::Required(at.Child("rule"), "rule is not specified"));
    } else if (!rule.message.empty() && trimmed_message.empty()) {
      errors.push_back(
          InvalidValue(at.Child("message"), rule.message, "must be non-empty if specified"));
    } else if (HasLineBreak(trimmed_message)) {
      errors.push_back(
          InvalidValue(at.Child("message"), rule.message, "must not contain line breaks"));
    } else if (HasLineBreak(trimmed_rule) && trimmed_message.empty()) {
      errors.push_back(validation::Required(
          at.Child("message"), "message must be specified if rule contains line breaks"));
    }
    if (!rule.message_expression.empty() && Trim(rule.message_expression).empty()) {
      errors.push_back(validation::Required(at.Child("messageExpression"),
                                            "messageExpression must be non-empty if specified"));
    }
    if (rule.reason && *rule.reason != "FieldValueDuplicate" &&
        *rule.reason != "FieldValueForbidden" && *rule.reason != "FieldValueInvalid" &&
        *rule.reason != "FieldValueRequired") {
      errors.push_back(validation::NotSupported(at.Child("reason"), *rule.reason,
                                                {"FieldValueDuplicate", "FieldValueForbidden",
                                                 "FieldValueInvalid", "FieldValueRequired"}));
    }
    if (!rule.field_path.empty() && Trim(rule.field_path).empty()) {
      errors.push_back(
          InvalidValue(at.Child("fieldPath"), rule.field_path, "must be non-empty if specified"));
    }
    if (HasLineBreak(rule.field_path)) {
      errors.push_back(
          InvalidValue(at.Child("fieldPath"), rule.field_path, "must not contain line breaks"));
    }
  }
}

// Fields allowed at the root when the status subresource is enabled, in JSONSchemaProps' field
// order (upstream reports the first offending one).
constexpr std::string_view kAllowedAtRootWithStatus =
    "[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
    "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties "
    "ExternalDocs Example XPreserveUnknownFields XValidations]";

// The first root keyword (in JSONSchemaProps' field order) the status subresource forbids, or
// the type error.
void ValidateRootWithStatus(const Schema& s, const json::value& json_schema, const FieldPath& path,
                            FieldErrors& errors) {
  std::string message = fmt::format(
      "only {} fields are allowed at the root of the schema if the status subresource is enabled",
      kAllowedAtRootWithStatus);
  auto forbidden = [&]() {
    errors.push_back({FieldErrorType::kInvalid, path.Child("openAPIV3Schema").str(),
                      internal::ErrorValue(json_schema), message});
  };
  // Order: ID, Schema, Ref, Description, Type, ..., Default (after Title), Enum (after
  // MultipleOf), MaxProperties, MinProperties, Required, Items, AllOf, OneOf, AnyOf, Not,
  // Properties, AdditionalProperties, PatternProperties, Dependencies, AdditionalItems,
  // Definitions, ExternalDocs, Example, Nullable, XPreserveUnknownFields, XEmbeddedResource,
  // XIntOrString, XListMapKeys, XListType, XMapType, XValidations.
  if (s.has_id || s.has_schema_uri || s.has_ref) return forbidden();
  if (!s.type.empty() && s.type != "object") {
    errors.push_back(InvalidValue(
        path.Child("openAPIV3Schema.type"), s.type,
        "only \"object\" is allowed as the type at the root of the schema if the status "
        "subresource is enabled"));
    return;
  }
  if (s.default_value || s.enum_values || s.max_properties || s.min_properties ||
      !s.all_of.empty() || !s.one_of.empty() || !s.any_of.empty() || s.not_schema ||
      s.additional_properties || s.has_pattern_properties || s.has_dependencies ||
      s.has_additional_items || s.has_definitions || s.nullable || s.embedded_resource ||
      s.int_or_string || !s.list_map_keys.empty() || s.list_type || s.map_type) {
    forbidden();
  }
}

}  // namespace

FieldErrors ValidateCrdSchema(const json::value& json_schema_props, const FieldPath& schema_path,
                              const CrdSchemaOptions& options) {
  FieldErrors errors;
  FieldPath root = schema_path.Child("openAPIV3Schema");
  auto compiled = Compile(json_schema_props);
  if (!compiled.ok()) {
    errors.push_back(InvalidValue(root, "", compiled.error().message()));
    return errors;
  }
  const Schema& schema = **compiled;
  if (options.status_enabled)
    ValidateRootWithStatus(schema, json_schema_props, schema_path, errors);
  if (schema.nullable) {
    errors.push_back(validation::Forbidden(schema_path.Child("openAPIV3Schema.nullable"),
                                           "nullable cannot be true at the root"));
  }
  std::optional<std::string> unsupported = UnsupportedField(schema);
  if (!unsupported) {
    FieldErrors structural = ValidateStructural(schema, root);
    if (!structural.empty()) {
      errors.insert(errors.end(), structural.begin(), structural.end());
    } else {
      ValidateDefaults(schema, root, false, true, options.require_pruned_defaults, 0, errors);
    }
  }
  Context context;
  context.allow_defaults = options.allow_defaults;
  context.require_valid_property_type = options.require_valid_property_type;
  ValidateOpenApiSchema(&schema, root, context, true, options, 0, errors);
  if (errors.empty() && unsupported) errors.push_back(InvalidValue(root, "", *unsupported));
  return errors;
}

FieldErrors ValidateCrdSpecSchemas(const json::value& spec, const FieldPath& spec_path) {
  FieldErrors errors;
  const json::value* versions =
      spec.is_object() ? spec.get_object().if_contains("versions") : nullptr;
  if (versions == nullptr || !versions->is_array()) return errors;
  const json::array& list = versions->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    FieldPath version_path = spec_path.Child("versions").Index(i);
    const json::object* version = list[i].if_object();
    const json::value* schema = nullptr;
    if (version != nullptr) {
      if (const json::value* holder = version->if_contains("schema");
          holder && holder->is_object()) {
        schema = holder->get_object().if_contains("openAPIV3Schema");
      }
    }
    if (schema == nullptr || schema->is_null()) {
      errors.push_back(validation::Required(version_path.Child("schema").Child("openAPIV3Schema")));
      continue;
    }
    CrdSchemaOptions options;
    if (const json::value* subresources = version->if_contains("subresources");
        subresources && subresources->is_object()) {
      const json::value* status = subresources->get_object().if_contains("status");
      options.status_enabled = status != nullptr && !status->is_null();
    }
    FieldErrors version_errors = ValidateCrdSchema(*schema, version_path.Child("schema"), options);
    errors.insert(errors.end(), version_errors.begin(), version_errors.end());
  }
  return errors;
}

bool IsStructural(const Schema& schema) {
  return !UnsupportedField(schema) && ValidateStructural(schema, FieldPath()).empty();
}

}  // namespace kpp::apiextensions::schema
