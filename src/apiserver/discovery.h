// The discovery documents clients use to learn what the server serves: /api, /api/v1, /apis,
// /apis/<group> and /apis/<group>/<version>, built once from the generated kind table.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime/kinds.h"

namespace kpp::apiserver {

class Discovery {
 public:
  explicit Discovery(std::span<const api::KindInfo> kinds);

  // The JSON document for a discovery path, or nullopt when `path` is not one. `server_address`
  // (host:port) goes into /api's serverAddressByClientCIDRs. Thread-safe (immutable).
  std::optional<std::string> Document(std::string_view path, std::string_view server_address) const;

  // The aggregated document (apidiscovery.k8s.io APIGroupDiscoveryList) for "/api" (the core
  // group) or "/apis" (all others), in `version` "v2" or "v2beta1"; nullopt for other paths.
  std::optional<std::string> AggregatedDocument(std::string_view path,
                                                std::string_view version) const;

  // Group/versions in the order clients should prefer them, e.g. {"v1", "apps/v1", ...}.
  const std::vector<std::string>& GroupVersions() const { return group_versions_; }

 private:
  void BuildAggregated(std::span<const api::KindInfo> kinds,
                       std::map<std::string, std::vector<std::string>> versions_by_group);

  std::map<std::string, std::string> resource_lists_;  // "api/v1" or "apis/apps/v1" -> JSON
  std::map<std::string, std::string> groups_;          // "apis/apps" -> APIGroup JSON
  std::string group_list_;                             // /apis
  // Aggregated discovery by apidiscovery version: the core group (/api) and the others (/apis).
  std::map<std::string, std::string, std::less<>> aggregated_core_;
  std::map<std::string, std::string, std::less<>> aggregated_groups_;
  std::vector<std::string> core_versions_;
  std::vector<std::string> group_versions_;
};

// Upstream's storageVersionHash: base64 of the first 8 bytes of sha256("group/version/kind").
std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind);

// Kubernetes version priority (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > others): true when `a`
// is preferred over `b`.
bool PreferVersion(std::string_view a, std::string_view b);

}  // namespace kpp::apiserver
