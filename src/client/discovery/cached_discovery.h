// Discovery kept in memory and shared by the controllers that map kinds to resources or list
// what a server serves (client-go's memory-cached discovery client with a deferred RESTMapper
// on top): each document is fetched once and used until it is `max_age` old (upstream's
// controller manager resets its mapper every 30 s); a kind not found fetches its group version
// again first, at most once per `miss_refresh_interval`, so a custom resource defined a moment
// ago is found without a request per lookup for kinds that do not exist. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "client/rest/rest_client.h"

namespace kpp::client::discovery {

// One entry of a group version's discovery document.
struct ApiResource {
  std::string name;  // the plural, "plural/subresource" for a subresource
  std::string kind;
  bool namespaced = false;
  std::vector<std::string> verbs;
};

struct ApiGroup {
  std::string name;                   // "" for the core group
  std::vector<std::string> versions;  // the preferred version first
};

// Where a kind is served (upstream's RESTMapping).
struct ResourceMapping {
  std::string group;
  std::string version;
  std::string resource;  // the plural
  bool namespaced = false;
  std::vector<std::string> subresources;  // "status", "scale", ...

  bool HasSubresource(std::string_view name) const;
  // "/api/v1" or "/apis/<group>/<version>".
  std::string GroupVersionPath() const;
};

struct CachedDiscoveryOptions {
  std::chrono::seconds max_age{30};
  std::chrono::seconds miss_refresh_interval{1};
};

class CachedDiscovery {
 public:
  explicit CachedDiscovery(std::shared_ptr<rest::RestClient> client,
                           CachedDiscoveryOptions options = {});

  // The groups and their versions (/api and /apis). A copy fetched before `fetched_after` is
  // fetched again.
  Result<std::vector<ApiGroup>> Groups(Clock::TimePoint fetched_after = {});
  // The resources of one group version ("v1", "apps/v1"); a NotFound error when the server
  // does not serve it.
  Result<std::shared_ptr<const std::vector<ApiResource>>> Resources(
      const std::string& group_version, Clock::TimePoint fetched_after = {});
  // The resource serving `kind` of `api_version`; upstream's NotFound "no matches for kind" when
  // there is none, even after fetching the group version again.
  Result<ResourceMapping> ResourceFor(const std::string& api_version, const std::string& kind);
  // Everything is fetched again at its next use.
  void Invalidate();

 private:
  struct GroupsEntry {
    Clock::TimePoint fetched_at{};
    std::vector<ApiGroup> groups;
  };
  struct ResourcesEntry {
    Clock::TimePoint fetched_at{};
    std::shared_ptr<const std::vector<ApiResource>> resources;  // null: not served (404)
  };
  // Whether a copy fetched at `fetched_at` may be used now.
  bool Usable(Clock::TimePoint fetched_at, Clock::TimePoint fetched_after) const;
  Result<std::vector<ApiGroup>> FetchGroups();

  std::shared_ptr<rest::RestClient> client_;
  CachedDiscoveryOptions options_;
  std::mutex mutex_;
  std::optional<GroupsEntry> groups_;
  std::map<std::string, ResourcesEntry> resources_;
};

}  // namespace kpp::client::discovery
