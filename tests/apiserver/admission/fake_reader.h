// An in-memory admission::Reader for plugin tests: objects by resource, namespace and name.
#pragma once

#include <boost/json/parse.hpp>
#include <map>
#include <string>
#include <tuple>

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class FakeReader final : public Reader {
 public:
  // Adds `json` (an object with metadata.name and, if namespaced, metadata.namespace).
  void Add(std::string group, std::string resource, std::string json) {
    auto object = boost::json::parse(json).as_object();
    const auto& metadata = object.at("metadata").as_object();
    std::string namespace_ =
        metadata.contains("namespace") ? std::string(metadata.at("namespace").as_string()) : "";
    std::string name(metadata.at("name").as_string());
    objects_[{std::move(group), std::move(resource), std::move(namespace_), std::move(name)}] =
        std::move(object);
  }

  Result<std::optional<boost::json::object>> Get(std::string_view group, std::string_view resource,
                                                 std::string_view namespace_,
                                                 std::string_view name) const override {
    auto found = objects_.find(
        {std::string(group), std::string(resource), std::string(namespace_), std::string(name)});
    if (found == objects_.end()) return std::optional<boost::json::object>();
    return std::optional<boost::json::object>(found->second);
  }

  Result<std::vector<boost::json::object>> List(std::string_view group, std::string_view resource,
                                                std::string_view namespace_) const override {
    std::vector<boost::json::object> objects;
    for (const auto& [key, object] : objects_) {
      if (std::get<0>(key) == group && std::get<1>(key) == resource &&
          (namespace_.empty() || std::get<2>(key) == namespace_)) {
        objects.push_back(object);
      }
    }
    return objects;
  }

 private:
  std::map<std::tuple<std::string, std::string, std::string, std::string>, boost::json::object>
      objects_;
};

}  // namespace kpp::apiserver::admission
