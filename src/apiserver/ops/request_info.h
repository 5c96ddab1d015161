// What a request is about, read from its method, path and query alone, as upstream's
// RequestInfoFactory reads it: metrics labels and log lines use it, so it must not depend on
// which resources are served (custom resources come and go).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kpp::apiserver::ops {

struct RequestInfo {
  bool is_resource_request = false;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection; or
                     // the lower-case method for non-resource requests
  std::string api_group;
  std::string api_version;
  std::string namespace_;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;
};

// `query` as decoded by the HTTP layer.
RequestInfo ParseRequestInfo(std::string_view method, std::string_view path,
                             const std::vector<std::pair<std::string, std::string>>& query);

// Upstream's metrics scope: "resource" for one named object, "namespace" for a collection in a
// namespace, "cluster" for a cluster-wide collection; empty for non-resource requests.
std::string_view RequestScope(const RequestInfo& info);

}  // namespace kpp::apiserver::ops
