// Prune: upstream's structural pruning (pruning.PruneWithOptions), reporting what it drops.
#include <algorithm>
#include <boost/json.hpp>

#include "apiextensions/schema/schema.h"

namespace kpp::apiextensions::schema {
namespace json = boost::json;

namespace {

bool IsMetaField(std::string_view key) {
  return key == "apiVersion" || key == "kind" || key == "metadata";
}

// Paths as upstream writes them: keys joined with ".", indices as "[i]".
class Pruner {
 public:
  explicit Pruner(const PruneOptions& options) : options_(options) {}

  std::vector<std::string> removed;

  // `root_embedded`: treat `s` as an embedded resource (the resource's root) whatever it says.
  void Prune(json::value& x, const Schema* s, std::string& path, int depth,
             bool root_embedded = false) {
    if (depth > kMaxValueDepth) return;
    if (s != nullptr && s->PreservesUnknownFields()) {
      SkipPrune(x, s, path, depth, root_embedded);
      return;
    }
    size_t length = path.size();
    if (x.is_object()) {
      auto& object = x.get_object();
      if (s != nullptr && s->embedded_resource && !root_embedded) CoerceMetadata(object, path);
      if (s == nullptr) {
        for (const auto& entry : object)
          Record(path, entry.key());
        object.clear();
        return;
      }
      std::vector<std::string> drop;
      for (auto& [key, value] : object) {
        if ((root_embedded || s->embedded_resource) && IsMetaField(key)) continue;
        auto property = s->properties.find(std::string(key));
        if (property != s->properties.end()) {
          AppendKey(path, key);
          Prune(value, &property->second, path, depth + 1);
          path.resize(length);
        } else if (s->additional_properties) {
          AppendKey(path, key);
          Prune(value, s->additional_properties->schema.get(), path, depth + 1);
          path.resize(length);
        } else {
          if (!IsMetaField(key) || !path.empty()) Record(path, key);
          drop.emplace_back(key);
        }
      }
      for (const auto& key : drop)
        object.erase(key);
    } else if (x.is_array()) {
      auto& array = x.get_array();
      for (size_t i = 0; i < array.size(); ++i) {
        path += "[" + std::to_string(i) + "]";
        Prune(array[i], s == nullptr ? nullptr : s->items.get(), path, depth + 1);
        path.resize(length);
      }
    }
  }

 private:
  void SkipPrune(json::value& x, const Schema* s, std::string& path, int depth,
                 bool root_embedded = false) {
    if (s == nullptr || depth > kMaxValueDepth) return;
    size_t length = path.size();
    if (x.is_object()) {
      if (s->embedded_resource && !root_embedded) CoerceMetadata(x.get_object(), path);
      for (auto& [key, value] : x.get_object()) {
        if ((root_embedded || s->embedded_resource) && IsMetaField(key)) continue;
        auto property = s->properties.find(std::string(key));
        if (property != s->properties.end()) {
          AppendKey(path, key);
          Prune(value, &property->second, path, depth + 1);
          path.resize(length);
        } else if (s->additional_properties) {
          AppendKey(path, key);
          Prune(value, s->additional_properties->schema.get(), path, depth + 1);
          path.resize(length);
        }
      }
    } else if (x.is_array()) {
      auto& array = x.get_array();
      for (size_t i = 0; i < array.size(); ++i) {
        path += "[" + std::to_string(i) + "]";
        SkipPrune(array[i], s->items.get(), path, depth + 1);
        path.resize(length);
      }
    }
  }

  void CoerceMetadata(json::object& object, const std::string& path) {
    if (!options_.coerce_embedded_metadata) return;
    json::value* metadata = object.if_contains("metadata");
    if (metadata == nullptr) return;
    std::string at = path;
    AppendKey(at, "metadata");
    for (auto& dropped : options_.coerce_embedded_metadata(*metadata, at)) {
      removed.push_back(std::move(dropped));
    }
  }

  static void AppendKey(std::string& path, std::string_view key) {
    if (!path.empty()) path += '.';
    path += key;
  }

  void Record(const std::string& path, std::string_view key) {
    std::string full = path;
    AppendKey(full, key);
    removed.push_back(std::move(full));
  }

  const PruneOptions& options_;
};

}  // namespace

std::vector<std::string> Prune(json::value& object, const Schema& schema,
                               const PruneOptions& options) {
  Pruner pruner(options);
  std::string path;
  // The resource's root is pruned as an embedded resource: apiVersion, kind, metadata stay.
  pruner.Prune(object, &schema, path, 0, options.is_resource_root);
  std::sort(pruner.removed.begin(), pruner.removed.end());
  return std::move(pruner.removed);
}

}  // namespace kpp::apiextensions::schema
