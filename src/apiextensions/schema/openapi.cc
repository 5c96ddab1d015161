// OpenAPI: a CRD version's schema as upstream's builder publishes it (structural.ToKubeOpenAPI
// after Unfold; for v2 also ToStructuralOpenAPIV2 and the pruning of defaults).
#include <boost/json.hpp>
#include <cmath>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;

namespace {

constexpr std::string_view kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
constexpr std::string_view kListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
constexpr std::string_view kMetadataDescription =
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
constexpr std::string_view kListMetadataDescription =
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";
constexpr std::string_view kApiVersionDescription =
    "The versioned schema of this representation of an object: servers convert recognized "
    "schemas to the latest internal value and may reject unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#resources";
constexpr std::string_view kKindDescription =
    "The REST resource this object represents, in CamelCase; servers may infer it from the "
    "endpoint the client submits requests to. Cannot be updated. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#types-kinds";

bool IsIntOrStringAnyOf(const std::vector<Schema>& any_of) {
  return any_of.size() == 2 && any_of[0].type == "integer" && any_of[1].type == "string";
}

json::object IntOrStringAnyOf() {
  return {
      {"anyOf", json::array{json::object{{"type", "integer"}}, json::object{{"type", "string"}}}}};
}

json::value Number(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 9.2e18) return json::value(static_cast<int64_t>(d));
  return json::value(d);
}

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items)
    out.emplace_back(item);
  return out;
}

json::array Rules(const std::vector<ValidationRule>& rules) {
  json::array out;
  for (const auto& rule : rules) {
    json::object r{{"rule", rule.rule}};
    if (!rule.message.empty()) r["message"] = rule.message;
    if (!rule.message_expression.empty()) r["messageExpression"] = rule.message_expression;
    if (rule.reason) r["reason"] = *rule.reason;
    if (!rule.field_path.empty()) r["fieldPath"] = rule.field_path;
    if (rule.optional_old_self) r["optionalOldSelf"] = *rule.optional_old_self;
    out.push_back(std::move(r));
  }
  return out;
}

class Converter {
 public:
  explicit Converter(bool v2) : v2_(v2) {}

  // A node of the structural schema (properties, items, additionalProperties).
  json::object Structural(const Schema& s, int depth) {
    json::object out;
    if (depth > kMaxSchemaDepth) return out;
    std::string type = s.type;
    bool drop_children = false;
    bool nullable = s.nullable;
    if (v2_) {
      if (nullable) {
        type.clear();
        nullable = false;
        drop_children = true;
      }
      if (s.PreservesUnknownFields()) drop_children = true;
      if ((drop_children || s.items == nullptr) && type == "array") type.clear();
      if (s.PreservesUnknownFields() && type == "object") type.clear();
    }
    if (!type.empty()) out["type"] = type;
    if (nullable) out["nullable"] = true;
    if (!s.description.empty()) out["description"] = s.description;
    if (!s.title.empty()) out["title"] = s.title;
    if (s.default_value && !v2_) out["default"] = *s.default_value;
    if (s.external_docs) out["externalDocs"] = *s.external_docs;
    if (s.example) out["example"] = *s.example;
    ValueValidation(s, out, depth, v2_ ? RequiredForV2(s) : s.required);
    if (!v2_ && s.int_or_string) {
      // Unfold: int-or-string spelled out as anyOf, unless the schema already says so.
      bool has_pattern = IsIntOrStringAnyOf(s.any_of) ||
                         (!s.all_of.empty() && IsIntOrStringAnyOf(s.all_of[0].any_of));
      if (!has_pattern) {
        if (s.any_of.empty()) {
          out["anyOf"] = IntOrStringAnyOf()["anyOf"];
        } else {
          json::array all_of{IntOrStringAnyOf()};
          if (auto* existing = out.if_contains("allOf")) {
            for (auto& item : existing->get_array())
              all_of.push_back(item);
          }
          out["allOf"] = std::move(all_of);
        }
      }
    }
    if (!drop_children) {
      if (s.items != nullptr) out["items"] = Structural(*s.items, depth + 1);
      if (!s.properties.empty()) {
        json::object properties;
        for (const auto& [name, property] : s.properties) {
          properties[name] = Structural(property, depth + 1);
        }
        out["properties"] = std::move(properties);
      }
    }
    if (s.additional_properties) {
      if (s.additional_properties->schema != nullptr) {
        out["additionalProperties"] = Structural(*s.additional_properties->schema, depth + 1);
      } else {
        out["additionalProperties"] = s.additional_properties->allows;
      }
    }
    Extensions(s, out);
    return out;
  }

 private:
  // Required fields without the nullable ones (a v2 client would insist on a null value).
  static std::vector<std::string> RequiredForV2(const Schema& s) {
    if (s.additional_properties && s.additional_properties->schema &&
        s.additional_properties->schema->nullable) {
      return {};
    }
    std::vector<std::string> out;
    for (const auto& name : s.required) {
      auto it = s.properties.find(name);
      if (it != s.properties.end() && it->second.nullable) continue;
      out.push_back(name);
    }
    return out;
  }

  void ValueValidation(const Schema& s, json::object& out, int depth,
                       const std::vector<std::string>& required) {
    if (!s.format.empty()) out["format"] = s.format;
    if (s.maximum) out["maximum"] = Number(*s.maximum);
    if (s.exclusive_maximum) out["exclusiveMaximum"] = true;
    if (s.minimum) out["minimum"] = Number(*s.minimum);
    if (s.exclusive_minimum) out["exclusiveMinimum"] = true;
    if (s.max_length) out["maxLength"] = *s.max_length;
    if (s.min_length) out["minLength"] = *s.min_length;
    if (!s.pattern.empty()) out["pattern"] = s.pattern;
    if (s.max_items) out["maxItems"] = *s.max_items;
    if (s.min_items) out["minItems"] = *s.min_items;
    if (s.unique_items) out["uniqueItems"] = true;
    if (s.multiple_of) out["multipleOf"] = Number(*s.multiple_of);
    if (s.enum_values) out["enum"] = json::array(s.enum_values->begin(), s.enum_values->end());
    if (s.max_properties) out["maxProperties"] = *s.max_properties;
    if (s.min_properties) out["minProperties"] = *s.min_properties;
    if (!required.empty()) out["required"] = Strings(required);
    if (v2_) return;  // v2 has no allOf/anyOf/oneOf/not for custom resources
    auto nested = [&](const std::vector<Schema>& list) {
      json::array array;
      for (const auto& item : list)
        array.push_back(Nested(item, depth + 1));
      return array;
    };
    if (!s.all_of.empty()) out["allOf"] = nested(s.all_of);
    if (!s.any_of.empty()) out["anyOf"] = nested(s.any_of);
    if (!s.one_of.empty()) out["oneOf"] = nested(s.one_of);
    if (s.not_schema != nullptr) out["not"] = Nested(*s.not_schema, depth + 1);
  }

  // A value validation inside allOf/anyOf/oneOf/not.
  json::object Nested(const Schema& s, int depth) {
    json::object out;
    if (depth > kMaxSchemaDepth) return out;
    ValueValidation(s, out, depth, s.required);
    if (!s.validations.empty()) out["x-kubernetes-validations"] = Rules(s.validations);
    if (s.items != nullptr) out["items"] = Nested(*s.items, depth + 1);
    if (!s.properties.empty()) {
      json::object properties;
      for (const auto& [name, property] : s.properties)
        properties[name] = Nested(property, depth + 1);
      out["properties"] = std::move(properties);
    }
    if (!s.type.empty()) out["type"] = s.type;
    return out;
  }

  static void Extensions(const Schema& s, json::object& out) {
    if (s.PreservesUnknownFields()) out["x-kubernetes-preserve-unknown-fields"] = true;
    if (s.embedded_resource) out["x-kubernetes-embedded-resource"] = true;
    if (s.int_or_string) out["x-kubernetes-int-or-string"] = true;
    if (!s.list_map_keys.empty()) out["x-kubernetes-list-map-keys"] = Strings(s.list_map_keys);
    if (s.list_type) out["x-kubernetes-list-type"] = *s.list_type;
    if (s.map_type) out["x-kubernetes-map-type"] = *s.map_type;
    if (!s.validations.empty()) out["x-kubernetes-validations"] = Rules(s.validations);
  }

  bool v2_;
};

std::string Ref(std::string_view name, OpenApiVersion version) {
  return std::string(version == OpenApiVersion::kV2 ? "#/definitions/" : "#/components/schemas/") +
         std::string(name);
}

json::object RefWithDescription(std::string_view name, std::string_view description,
                                OpenApiVersion version) {
  if (version == OpenApiVersion::kV2) {
    return {{"$ref", Ref(name, version)}, {"description", description}};
  }
  // OpenAPI 3.0 ignores the siblings of $ref.
  return {{"allOf", json::array{json::object{{"$ref", Ref(name, version)}}}},
          {"description", description}};
}

void AddTypeMeta(json::object& schema) {
  json::object& properties = schema["properties"].is_object()
                                 ? schema["properties"].get_object()
                                 : schema["properties"].emplace_object();
  properties["apiVersion"] =
      json::object{{"type", "string"}, {"description", kApiVersionDescription}};
  properties["kind"] = json::object{{"type", "string"}, {"description", kKindDescription}};
}

// Every embedded resource gets apiVersion, kind and metadata, and requires the first two.
void AddEmbeddedProperties(json::object& schema, OpenApiVersion version, int depth) {
  if (depth > kMaxSchemaDepth) return;
  if (auto* properties = schema.if_contains("properties"); properties && properties->is_object()) {
    for (auto& [name, property] : properties->get_object()) {
      if (property.is_object()) AddEmbeddedProperties(property.get_object(), version, depth + 1);
    }
  }
  if (auto* items = schema.if_contains("items"); items && items->is_object()) {
    AddEmbeddedProperties(items->get_object(), version, depth + 1);
  }
  if (auto* additional = schema.if_contains("additionalProperties");
      additional && additional->is_object()) {
    AddEmbeddedProperties(additional->get_object(), version, depth + 1);
  }
  const json::value* preserve = schema.if_contains("x-kubernetes-preserve-unknown-fields");
  if (version == OpenApiVersion::kV2 && preserve && preserve->is_bool() && preserve->get_bool()) {
    return;
  }
  const json::value* embedded = schema.if_contains("x-kubernetes-embedded-resource");
  if (embedded == nullptr || !embedded->is_bool() || !embedded->get_bool()) return;
  AddTypeMeta(schema);
  schema["properties"].get_object()["metadata"] =
      RefWithDescription(kObjectMeta, kMetadataDescription, version);
  json::array required;
  if (auto* existing = schema.if_contains("required"); existing && existing->is_array()) {
    required = existing->get_array();
  }
  for (std::string_view name : {"kind", "apiVersion"}) {
    bool found = false;
    for (const auto& item : required)
      found = found || (item.is_string() && item.get_string() == name);
    if (!found) required.emplace_back(name);
  }
  schema["required"] = std::move(required);
}

json::array GroupVersionKind(std::string_view group, std::string_view version,
                             std::string_view kind) {
  return json::array{json::object{{"group", group}, {"version", version}, {"kind", kind}}};
}

}  // namespace

json::object ToOpenApiV3(const Schema& schema) {
  return Converter(false).Structural(schema, 0);
}

json::object ToOpenApiV2(const Schema& schema) {
  return Converter(true).Structural(schema, 0);
}

json::object BuildKindDefinition(const Schema* schema, std::string_view group,
                                 std::string_view version, std::string_view kind,
                                 OpenApiVersion openapi_version) {
  json::object out;
  bool v2 = openapi_version == OpenApiVersion::kV2;
  if (schema == nullptr || (v2 && schema->PreservesUnknownFields())) {
    out["type"] = "object";
  } else {
    out = v2 ? ToOpenApiV2(*schema) : ToOpenApiV3(*schema);
    json::object& properties = out["properties"].is_object() ? out["properties"].get_object()
                                                             : out["properties"].emplace_object();
    properties["metadata"] = RefWithDescription(kObjectMeta, kMetadataDescription, openapi_version);
    AddTypeMeta(out);
    AddEmbeddedProperties(out, openapi_version, 0);
  }
  out["x-kubernetes-group-version-kind"] = GroupVersionKind(group, version, kind);
  return out;
}

json::object BuildListDefinition(std::string_view group, std::string_view version,
                                 std::string_view list_kind, std::string_view item_definition_name,
                                 OpenApiVersion openapi_version) {
  std::string plural_note = "List of " + std::string(list_kind) + " items.";
  json::object out{
      {"type", "object"},
      {"description", std::string(list_kind) + " is a list of objects of one custom kind"},
      {"required", json::array{"items"}},
      {"properties",
       json::object{
           {"items", json::object{{"type", "array"},
                                  {"description", plural_note},
                                  {"items", json::object{{"$ref", Ref(item_definition_name,
                                                                      openapi_version)}}}}},
           {"metadata", RefWithDescription(kListMeta, kListMetadataDescription, openapi_version)},
       }},
  };
  AddTypeMeta(out);
  out["x-kubernetes-group-version-kind"] = GroupVersionKind(group, version, list_kind);
  return out;
}

std::string DefinitionName(std::string_view group, std::string_view version,
                           std::string_view kind) {
  std::string reversed;
  std::string_view rest = group;
  while (!rest.empty()) {
    size_t dot = rest.rfind('.');
    std::string_view part = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
    if (!reversed.empty()) reversed += '.';
    reversed += part;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(0, dot);
  }
  return reversed + "." + std::string(version) + "." + std::string(kind);
}

}  // namespace kpp::apiextensions::schema
