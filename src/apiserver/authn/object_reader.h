// Reads the objects token authentication depends on (service accounts, pods, secrets, nodes)
// through the API server itself, as an in-process client: gets are answered from the watch
// caches, so checking that a bound object still exists costs no store read; only what the cache
// lacks is read from the store.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/server.h"

namespace kpp::apiserver {

class ObjectReader {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  explicit ObjectReader(Call call) : call_(std::move(call)) {}
  // The JSON the watch cache holds for a core/v1 object (`plural`, namespace, name), shared with
  // the cache (immutable: a change makes a new string); null when the cache does not have it.
  using CachedGet = std::function<std::shared_ptr<const std::string>(
      std::string_view plural, std::string_view ns, std::string_view name)>;
  // Reads through `cached` first: on every request a token authenticates, with no request
  // through the server's handler and no JSON parsed while the object is unchanged. Set before
  // the first read.
  void SetCachedGet(CachedGet cached) { cached_ = std::move(cached); }

  // The object at the API path `path`, or nullopt when it does not exist (or cannot be read).
  std::optional<boost::json::object> Get(const std::string& path) const;
  std::optional<boost::json::object> ServiceAccount(std::string_view ns,
                                                    std::string_view name) const;
  std::optional<boost::json::object> Pod(std::string_view ns, std::string_view name) const;
  std::optional<boost::json::object> Secret(std::string_view ns, std::string_view name) const;
  std::optional<boost::json::object> Node(std::string_view name) const;

  // The version of an object the watch cache holds now (null: none, or no cache): equal
  // pointers, the same version.
  std::shared_ptr<const std::string> CachedVersion(std::string_view plural, std::string_view ns,
                                                   std::string_view name) const {
    return cached_ ? cached_(plural, ns, name) : nullptr;
  }

 private:
  // From the watch cache (nullopt: ask the server), parsed once per version of the object.
  std::optional<boost::json::object> FromCache(std::string_view plural, std::string_view ns,
                                               std::string_view name) const;
  std::optional<boost::json::object> Read(std::string_view plural, std::string_view ns,
                                          std::string_view name, const std::string& path) const;

  struct Parsed {
    std::shared_ptr<const std::string> json;  // the cache's; the entry is valid while it is
    boost::json::object object;
  };
  Call call_;
  CachedGet cached_;
  mutable std::mutex parsed_mutex_;
  mutable std::unordered_map<std::string, Parsed> parsed_;
};

// A string at a path of keys in a JSON object; empty when absent or not a string.
std::string StringAt(const boost::json::object& object,
                     std::initializer_list<std::string_view> path);

}  // namespace kpp::apiserver
