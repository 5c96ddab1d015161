// An informer's cached object as a JSON object, for controllers that read a few fields by path
// instead of the typed struct.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <utility>

#include "client/informers/store.h"

namespace kpp::client::informers {

// Empty for a missing object or one that does not encode to a JSON object.
inline std::optional<boost::json::object> JsonOf(const ObjectRef& object) {
  if (object == nullptr) return std::nullopt;
  boost::system::error_code error;
  auto value = boost::json::parse(object->ToJson(), error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

}  // namespace kpp::client::informers
