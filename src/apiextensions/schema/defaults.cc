// ApplyDefaults: upstream's PruneNonNullableNullsWithoutDefaults, then structural defaulting.
#include <boost/json.hpp>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;

namespace {

bool IsNonNullableNull(const json::value& x, const Schema* s) {
  return x.is_null() && s != nullptr && !s->nullable;
}

const Schema* SchemaOfField(std::string_view field, const Schema* s) {
  if (s == nullptr) return nullptr;
  auto it = s->properties.find(std::string(field));
  if (it != s->properties.end()) return &it->second;
  if (s->additional_properties) return s->additional_properties->schema.get();
  return nullptr;
}

void PruneNonNullableNullsWithoutDefaults(json::value& x, const Schema* s, int depth) {
  if (depth > kMaxValueDepth) return;
  if (x.is_object()) {
    auto& object = x.get_object();
    std::vector<std::string> drop;
    for (auto& [key, value] : object) {
      const Schema* field = SchemaOfField(key, s);
      if (IsNonNullableNull(value, field) && !field->default_value) {
        drop.emplace_back(key);
      } else {
        PruneNonNullableNullsWithoutDefaults(value, field, depth + 1);
      }
    }
    for (const auto& key : drop)
      object.erase(key);
  } else if (x.is_array()) {
    const Schema* items = s == nullptr ? nullptr : s->items.get();
    for (auto& item : x.get_array())
      PruneNonNullableNullsWithoutDefaults(item, items, depth + 1);
  }
}

void Default(json::value& x, const Schema* s, int depth) {
  if (s == nullptr || depth > kMaxValueDepth) return;
  if (x.is_object()) {
    auto& object = x.get_object();
    for (const auto& [name, property] : s->properties) {
      if (!property.default_value || property.default_value->is_null()) continue;
      json::value* current = object.if_contains(name);
      if (current == nullptr || IsNonNullableNull(*current, &property)) {
        object[name] = *property.default_value;
      }
    }
    for (auto& [key, value] : object) {
      auto it = s->properties.find(std::string(key));
      if (it != s->properties.end()) {
        Default(value, &it->second, depth + 1);
      } else if (s->additional_properties) {
        const Schema* values = s->additional_properties->schema.get();
        if (IsNonNullableNull(value, values) && values->default_value) {
          value = *values->default_value;
        }
        Default(value, values, depth + 1);
      }
    }
  } else if (x.is_array()) {
    const Schema* items = s->items.get();
    for (auto& item : x.get_array()) {
      if (IsNonNullableNull(item, items) && items->default_value) item = *items->default_value;
      Default(item, items, depth + 1);
    }
  }
}

}  // namespace

void ApplyDefaults(json::value& object, const Schema& schema) {
  PruneNonNullableNullsWithoutDefaults(object, &schema, 0);
  Default(object, &schema, 0);
}

}  // namespace kpp::apiextensions::schema
