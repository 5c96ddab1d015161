#include "apimachinery/managedfields/type_model.h"

namespace kpp::managedfields {

namespace {

std::string_view StringMember(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string_view(value->as_string()) : "";
}

bool IsAtomicMapType(const boost::json::object& schema) {
  return StringMember(schema, "x-kubernetes-map-type") == "atomic";
}

// A schema that only wraps a reference, as OpenAPI v3 writes {"allOf":[{"$ref":...}]}.
std::string_view ReferenceOf(const boost::json::object& schema) {
  if (auto ref = StringMember(schema, "$ref"); !ref.empty()) return ref;
  if (const auto* all_of = schema.if_contains("allOf"); all_of != nullptr && all_of->is_array()) {
    const auto& items = all_of->as_array();
    if (items.size() == 1 && items[0].is_object())
      return StringMember(items[0].as_object(), "$ref");
  }
  return "";
}

std::string_view DefinitionName(std::string_view ref) {
  for (std::string_view prefix : {"#/definitions/", "#/components/schemas/"}) {
    if (ref.starts_with(prefix)) return ref.substr(prefix.size());
  }
  return ref;
}

}  // namespace

const TypeNode* DeducedType() {
  static const TypeNode deduced;
  return &deduced;
}

const TypeNode* TypeNode::Member(std::string_view name) const {
  if (kind == Kind::kStruct) {
    auto it = fields.find(name);
    return it == fields.end() ? DeducedType() : it->second;
  }
  if (kind == Kind::kMap && element != nullptr) return element;
  return DeducedType();
}

TypeModel::TypeModel(const boost::json::object& definitions) : definitions_(definitions) {
  // Built at once, so that lookups never write and any number of threads may read.
  for (const auto& member : definitions_)
    Definition(member.key());
}

const TypeNode* TypeModel::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const TypeNode* TypeModel::Add(const boost::json::object& schema) {
  std::lock_guard lock(add_mutex_);
  return Build(schema);
}

const TypeNode* TypeModel::Definition(std::string_view name) {
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  const auto* schema = definitions_.if_contains(name);
  if (schema == nullptr || !schema->is_object()) return DeducedType();
  // Registered before it is filled in, so recursive types (JSONSchemaProps) end.
  TypeNode& node = nodes_.emplace_back();
  by_name_.emplace(std::string(name), &node);
  node = *Build(schema->as_object());
  return &node;
}

const TypeNode* TypeModel::Build(const boost::json::object& schema) {
  if (auto ref = ReferenceOf(schema); !ref.empty()) return Definition(DefinitionName(ref));
  TypeNode node;
  const std::string_view type = StringMember(schema, "type");
  const auto* properties = schema.if_contains("properties");
  const auto* additional = schema.if_contains("additionalProperties");
  if (StringMember(schema, "format") == "int-or-string" ||
      schema.if_contains("x-kubernetes-int-or-string") != nullptr) {
    node.kind = TypeNode::Kind::kScalar;
  } else if (type == "array") {
    node.kind = TypeNode::Kind::kList;
    const auto* items = schema.if_contains("items");
    node.element =
        items != nullptr && items->is_object() ? Build(items->as_object()) : DeducedType();
    const std::string_view list_type = StringMember(schema, "x-kubernetes-list-type");
    const std::string_view strategy = StringMember(schema, "x-kubernetes-patch-strategy");
    const std::string_view merge_key = StringMember(schema, "x-kubernetes-patch-merge-key");
    if (list_type == "map") {
      node.list_type = TypeNode::ListType::kMap;
      if (const auto* keys = schema.if_contains("x-kubernetes-list-map-keys");
          keys != nullptr && keys->is_array()) {
        for (const auto& key : keys->as_array()) {
          if (key.is_string()) node.keys.emplace_back(key.as_string());
        }
      }
    } else if (list_type == "set") {
      node.list_type = TypeNode::ListType::kSet;
    } else if (list_type.empty() && strategy.find("merge") != std::string_view::npos) {
      // Schemas older than list types: a merged list is keyed by its merge key, or a set.
      if (merge_key.empty()) {
        node.list_type = TypeNode::ListType::kSet;
      } else {
        node.list_type = TypeNode::ListType::kMap;
        node.keys.emplace_back(merge_key);
      }
    }
  } else if (properties != nullptr && properties->is_object()) {
    node.kind = TypeNode::Kind::kStruct;
    node.atomic = IsAtomicMapType(schema);
    for (const auto& member : properties->as_object()) {
      if (!member.value().is_object()) continue;
      const auto& field_schema = member.value().as_object();
      node.fields.emplace(member.key(), Build(field_schema));
      if (const auto* value = field_schema.if_contains("default")) {
        node.defaults.emplace(member.key(), *value);
      }
    }
  } else if (additional != nullptr && additional->is_object()) {
    node.kind = TypeNode::Kind::kMap;
    node.atomic = IsAtomicMapType(schema);
    node.element = Build(additional->as_object());
  } else if (type == "string" || type == "integer" || type == "number" || type == "boolean") {
    node.kind = TypeNode::Kind::kScalar;
  } else {
    return DeducedType();
  }
  return &nodes_.emplace_back(std::move(node));
}

}  // namespace kpp::managedfields
