#include "apiserver/authn/object_reader.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>

namespace kpp::apiserver {
namespace {

// Names come from token claims: nothing that could step out of the one object's path.
bool IsPathSegment(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of("/?#%\\") == std::string_view::npos;
}

}  // namespace

std::optional<boost::json::object> ObjectReader::Get(const std::string& path) const {
  // The watch cache first (resourceVersion=0), then, for what it does not have, the store: a
  // cache a moment behind must not refuse an object just created (upstream's getters fall back
  // to a live lookup the same way).
  http::Response response =
      call_(http::Request::LocalJson("GET", path, "", {{"resourceVersion", "0"}}));
  if (response.status == 404) response = call_(http::Request::LocalJson("GET", path));
  if (response.status != 200) return std::nullopt;
  boost::system::error_code error;
  auto value = boost::json::parse(response.body, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<boost::json::object> ObjectReader::FromCache(std::string_view plural,
                                                           std::string_view ns,
                                                           std::string_view name) const {
  if (!cached_) return std::nullopt;
  std::shared_ptr<const std::string> json = cached_(plural, ns, name);
  if (json == nullptr) return std::nullopt;
  std::string key = fmt::format("{}/{}/{}", plural, ns, name);
  {
    std::lock_guard lock(parsed_mutex_);
    const auto found = parsed_.find(key);
    if (found != parsed_.end() && found->second.json == json) return found->second.object;
  }
  boost::system::error_code error;
  auto value = boost::json::parse(*json, error);
  if (error || !value.is_object()) return std::nullopt;
  constexpr size_t kMaxParsed = 4096;
  std::lock_guard lock(parsed_mutex_);
  if (parsed_.size() >= kMaxParsed) parsed_.clear();
  parsed_.insert_or_assign(std::move(key), Parsed{std::move(json), value.as_object()});
  return std::move(value.as_object());
}

std::optional<boost::json::object> ObjectReader::Read(std::string_view plural, std::string_view ns,
                                                      std::string_view name,
                                                      const std::string& path) const {
  if (auto cached = FromCache(plural, ns, name)) return cached;
  return Get(path);
}

std::optional<boost::json::object> ObjectReader::ServiceAccount(std::string_view ns,
                                                                std::string_view name) const {
  if (!IsPathSegment(ns) || !IsPathSegment(name)) return std::nullopt;
  return Read("serviceaccounts", ns, name,
              fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}", ns, name));
}

std::optional<boost::json::object> ObjectReader::Pod(std::string_view ns,
                                                     std::string_view name) const {
  if (!IsPathSegment(ns) || !IsPathSegment(name)) return std::nullopt;
  return Read("pods", ns, name, fmt::format("/api/v1/namespaces/{}/pods/{}", ns, name));
}

std::optional<boost::json::object> ObjectReader::Secret(std::string_view ns,
                                                        std::string_view name) const {
  if (!IsPathSegment(ns) || !IsPathSegment(name)) return std::nullopt;
  return Read("secrets", ns, name, fmt::format("/api/v1/namespaces/{}/secrets/{}", ns, name));
}

std::optional<boost::json::object> ObjectReader::Node(std::string_view name) const {
  if (!IsPathSegment(name)) return std::nullopt;
  return Read("nodes", "", name, fmt::format("/api/v1/nodes/{}", name));
}

std::string StringAt(const boost::json::object& object,
                     std::initializer_list<std::string_view> path) {
  const boost::json::object* at = &object;
  size_t index = 0;
  for (std::string_view key : path) {
    const auto* value = at->if_contains(key);
    if (value == nullptr) return "";
    if (++index == path.size()) return value->is_string() ? std::string(value->as_string()) : "";
    if (!value->is_object()) return "";
    at = &value->as_object();
  }
  return "";
}

}  // namespace kpp::apiserver
