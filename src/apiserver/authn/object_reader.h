// Reads the objects token authentication depends on (service accounts, pods, secrets, nodes)
// through the API server itself, as an in-process client: gets are answered from the watch
// caches, so checking that a bound object still exists costs no store read; only what the cache
// lacks is read from the store.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/server.h"

namespace kpp::apiserver {

class ObjectReader {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  explicit ObjectReader(Call call) : call_(std::move(call)) {}

  // The object at the API path `path`, or nullopt when it does not exist (or cannot be read).
  std::optional<boost::json::object> Get(const std::string& path) const;
  std::optional<boost::json::object> ServiceAccount(std::string_view ns,
                                                    std::string_view name) const;
  std::optional<boost::json::object> Pod(std::string_view ns, std::string_view name) const;
  std::optional<boost::json::object> Secret(std::string_view ns, std::string_view name) const;
  std::optional<boost::json::object> Node(std::string_view name) const;

  http::Response Send(http::Request request) const { return call_(request); }

 private:
  Call call_;
};

// A string at a path of keys in a JSON object; empty when absent or not a string.
std::string StringAt(const boost::json::object& object,
                     std::initializer_list<std::string_view> path);

}  // namespace kpp::apiserver
