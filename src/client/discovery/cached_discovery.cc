#include "client/discovery/cached_discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "client/rest/errors.h"

namespace kpp::client::discovery {
namespace {

Result<boost::json::object> GetObject(rest::RestClient& client, const std::string& path) {
  KPP_ASSIGN_OR_RETURN(auto response, client.Do({.path = path}));
  boost::system::error_code error;
  auto json = boost::json::parse(response.body, error);
  if (error || !json.is_object()) {
    return InternalError(fmt::format("{}: the answer is not a JSON object", path));
  }
  return std::move(json.as_object());
}

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

const boost::json::array* ArrayAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_array() ? &value->as_array() : nullptr;
}

std::string GroupVersionPath(const std::string& group_version) {
  return group_version.find('/') == std::string::npos ? "/api/" + group_version
                                                      : "/apis/" + group_version;
}

std::vector<ApiResource> ParseResources(const boost::json::object& document) {
  std::vector<ApiResource> resources;
  const auto* items = ArrayAt(document, "resources");
  if (items == nullptr) return resources;
  for (const auto& item : *items) {
    if (!item.is_object()) continue;
    const auto& entry = item.as_object();
    ApiResource resource{StringAt(entry, "name"), StringAt(entry, "kind"), false, {}};
    if (resource.name.empty()) continue;
    if (const auto* namespaced = entry.if_contains("namespaced");
        namespaced != nullptr && namespaced->is_bool()) {
      resource.namespaced = namespaced->as_bool();
    }
    if (const auto* verbs = ArrayAt(entry, "verbs")) {
      for (const auto& verb : *verbs) {
        if (verb.is_string()) resource.verbs.emplace_back(verb.as_string());
      }
    }
    resources.push_back(std::move(resource));
  }
  return resources;
}

}  // namespace

bool ResourceMapping::HasSubresource(std::string_view name) const {
  return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

std::string ResourceMapping::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : fmt::format("/apis/{}/{}", group, version);
}

CachedDiscovery::CachedDiscovery(std::shared_ptr<rest::RestClient> client,
                                 CachedDiscoveryOptions options)
    : client_(std::move(client)), options_(options) {}

bool CachedDiscovery::Usable(Clock::TimePoint fetched_at, Clock::TimePoint fetched_after) const {
  return fetched_at >= fetched_after && client_->clock().Now() - fetched_at < options_.max_age;
}

void CachedDiscovery::Invalidate() {
  std::lock_guard lock(mutex_);
  groups_.reset();
  resources_.clear();
}

Result<std::vector<ApiGroup>> CachedDiscovery::FetchGroups() {
  std::vector<ApiGroup> groups;
  KPP_ASSIGN_OR_RETURN(auto core, GetObject(*client_, "/api"));
  ApiGroup core_group;
  if (const auto* versions = ArrayAt(core, "versions")) {
    for (const auto& version : *versions) {
      if (version.is_string()) core_group.versions.emplace_back(version.as_string());
    }
  }
  groups.push_back(std::move(core_group));
  KPP_ASSIGN_OR_RETURN(auto listed, GetObject(*client_, "/apis"));
  if (const auto* items = ArrayAt(listed, "groups")) {
    for (const auto& item : *items) {
      if (!item.is_object()) continue;
      const auto& entry = item.as_object();
      ApiGroup group{StringAt(entry, "name"), {}};
      if (const auto* preferred = entry.if_contains("preferredVersion");
          preferred != nullptr && preferred->is_object()) {
        group.versions.push_back(StringAt(preferred->as_object(), "version"));
      }
      if (const auto* versions = ArrayAt(entry, "versions")) {
        for (const auto& version : *versions) {
          if (!version.is_object()) continue;
          std::string name = StringAt(version.as_object(), "version");
          if (std::find(group.versions.begin(), group.versions.end(), name) ==
              group.versions.end()) {
            group.versions.push_back(std::move(name));
          }
        }
      }
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

Result<std::vector<ApiGroup>> CachedDiscovery::Groups(Clock::TimePoint fetched_after) {
  {
    std::lock_guard lock(mutex_);
    if (groups_ && Usable(groups_->fetched_at, fetched_after)) return groups_->groups;
  }
  const auto fetched_at = client_->clock().Now();
  KPP_ASSIGN_OR_RETURN(auto groups, FetchGroups());
  std::lock_guard lock(mutex_);
  groups_ = GroupsEntry{fetched_at, groups};
  return groups;
}

Result<std::shared_ptr<const std::vector<ApiResource>>> CachedDiscovery::Resources(
    const std::string& group_version, Clock::TimePoint fetched_after) {
  const auto not_served = [&] {
    return NotFoundError(fmt::format("the server could not find the requested resource ({})",
                                     GroupVersionPath(group_version)));
  };
  {
    std::lock_guard lock(mutex_);
    if (auto it = resources_.find(group_version);
        it != resources_.end() && Usable(it->second.fetched_at, fetched_after)) {
      if (!it->second.resources) return not_served();
      return it->second.resources;
    }
  }
  const auto fetched_at = client_->clock().Now();
  auto document = GetObject(*client_, GroupVersionPath(group_version));
  std::shared_ptr<const std::vector<ApiResource>> resources;
  if (document.ok()) {
    resources = std::make_shared<const std::vector<ApiResource>>(ParseResources(*document));
  } else if (!IsNotFound(document.error())) {
    return std::move(document).error();  // not remembered: the next use asks again
  }
  std::lock_guard lock(mutex_);
  resources_[group_version] = ResourcesEntry{fetched_at, resources};
  if (!resources) return not_served();
  return resources;
}

Result<ResourceMapping> CachedDiscovery::ResourceFor(const std::string& api_version,
                                                     const std::string& kind) {
  const auto slash = api_version.find('/');
  ResourceMapping mapping;
  if (slash != std::string::npos) {
    mapping.group = api_version.substr(0, slash);
    mapping.version = api_version.substr(slash + 1);
  } else {
    mapping.version = api_version;
  }
  const auto no_match = [&] {
    return NotFoundError(
        fmt::format("no matches for kind \"{}\" in version \"{}\"", kind, api_version));
  };
  if (mapping.version.empty() || kind.empty()) return no_match();

  const auto find = [&](const std::vector<ApiResource>& resources) {
    for (const auto& resource : resources) {
      if (resource.kind == kind && resource.name.find('/') == std::string::npos) {
        mapping.resource = resource.name;
        mapping.namespaced = resource.namespaced;
        break;
      }
    }
    if (mapping.resource.empty()) return false;
    const std::string prefix = mapping.resource + "/";
    for (const auto& resource : resources) {
      if (resource.name.starts_with(prefix)) {
        mapping.subresources.push_back(resource.name.substr(prefix.size()));
      }
    }
    return true;
  };
  // A miss fetches the group version again unless that copy is younger than the interval.
  const auto recent = client_->clock().Now() - options_.miss_refresh_interval + Clock::Duration(1);
  for (const auto fetched_after : {Clock::TimePoint{}, recent}) {
    auto resources = Resources(api_version, fetched_after);
    if (!resources.ok()) {
      if (!IsNotFound(resources.error())) return std::move(resources).error();
    } else if (find(**resources)) {
      return mapping;
    }
  }
  return no_match();
}

}  // namespace kpp::client::discovery
