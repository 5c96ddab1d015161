// Reading and writing the JSON form of objects in admission plugins: absent, null and wrongly
// typed fields all read as "not set".
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kpp::apiserver::admission::json {

inline const boost::json::object* Object(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return nullptr;
  const auto* value = parent->if_contains(key);
  return value != nullptr && value->is_object() ? &value->as_object() : nullptr;
}

inline const boost::json::array* Array(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return nullptr;
  const auto* value = parent->if_contains(key);
  return value != nullptr && value->is_array() ? &value->as_array() : nullptr;
}

inline std::string_view String(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return {};
  const auto* value = parent->if_contains(key);
  return value != nullptr && value->is_string() ? std::string_view(value->as_string())
                                                : std::string_view();
}

inline bool Has(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return false;
  const auto* value = parent->if_contains(key);
  return value != nullptr && !value->is_null();
}

inline std::optional<bool> Bool(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return std::nullopt;
  const auto* value = parent->if_contains(key);
  if (value == nullptr || !value->is_bool()) return std::nullopt;
  return value->as_bool();
}

inline std::optional<int64_t> Int(const boost::json::object* parent, std::string_view key) {
  if (parent == nullptr) return std::nullopt;
  const auto* value = parent->if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64()) return static_cast<int64_t>(value->as_uint64());
  return std::nullopt;
}

// The object at `key`, created (replacing a non-object) when missing.
inline boost::json::object& EnsureObject(boost::json::object& parent, std::string_view key) {
  auto& value = parent[key];
  if (!value.is_object()) value = boost::json::object();
  return value.as_object();
}

inline boost::json::array& EnsureArray(boost::json::object& parent, std::string_view key) {
  auto& value = parent[key];
  if (!value.is_array()) value = boost::json::array();
  return value.as_array();
}

}  // namespace kpp::apiserver::admission::json
