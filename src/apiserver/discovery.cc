#include "apiserver/discovery.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "api/apidiscovery.k8s.io/v2/codec.h"
#include "api/meta/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "apiserver/registry/legacy_scale.h"
#include "base/encoding.h"

namespace kpp::apiserver {
namespace {

using api::apidiscovery_k8s_io::v2::APIGroupDiscovery;
using api::apidiscovery_k8s_io::v2::APIGroupDiscoveryList;
using api::apidiscovery_k8s_io::v2::APIResourceDiscovery;
using api::apidiscovery_k8s_io::v2::APISubresourceDiscovery;
using api::apidiscovery_k8s_io::v2::APIVersionDiscovery;
using api::meta::v1::APIGroup;
using api::meta::v1::APIGroupList;
using api::meta::v1::APIResource;
using api::meta::v1::APIResourceList;
using api::meta::v1::APIVersions;
using api::meta::v1::GroupVersionForDiscovery;

std::vector<std::string> SplitCommas(std::string_view text) {
  std::vector<std::string> parts;
  while (!text.empty()) {
    const auto comma = text.find(',');
    parts.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

// What upstream serves for each subresource: verbs, and the kind of its body when that is not
// the parent's own kind.
struct SubresourceShape {
  std::string_view name;
  std::string_view verbs;
  std::string_view group;    // empty: the parent's group
  std::string_view version;  // empty: the parent's version
  std::string_view kind;     // empty: the parent's kind; "*ProxyOptions": <Kind>ProxyOptions
};

constexpr SubresourceShape kSubresources[] = {
    {"status", "get,patch,update", "", "", ""},
    {"scale", "get,patch,update", "autoscaling", "v1", "Scale"},
    {"binding", "create", "", "", "Binding"},
    {"eviction", "create", "policy", "v1", "Eviction"},
    {"log", "get", "", "", ""},
    {"exec", "create,get", "", "", "PodExecOptions"},
    {"attach", "create,get", "", "", "PodAttachOptions"},
    {"portforward", "create,get", "", "", "PodPortForwardOptions"},
    {"proxy", "create,delete,get,patch,update", "", "", "*ProxyOptions"},
    {"ephemeralcontainers", "get,patch,update", "", "", ""},
    {"token", "create", "authentication.k8s.io", "v1", "TokenRequest"},
    {"approval", "get,patch,update", "", "", ""},
    {"finalize", "update", "", "", ""},
};

// The old apps and extensions versions answer their scale subresources with a Scale of their own
// version, not autoscaling/v1's.
bool ServesOwnScale(const api::KindInfo& kind, std::string_view subresource) {
  return subresource == "scale" && LegacyScaleOf(kind) != LegacyScale::kNone;
}

const SubresourceShape* FindSubresource(std::string_view name) {
  const auto* shape = std::find_if(std::begin(kSubresources), std::end(kSubresources),
                                   [&](const auto& s) { return s.name == name; });
  return shape == std::end(kSubresources) ? nullptr : shape;
}

int VersionRank(std::string_view version, int& major, int& minor) {
  // v<major>[(alpha|beta)<minor>]; anything else ranks last.
  major = minor = 0;
  if (version.size() < 2 || version[0] != 'v' ||
      !std::isdigit(static_cast<unsigned char>(version[1]))) {
    return 0;
  }
  size_t pos = 1;
  while (pos < version.size() && std::isdigit(static_cast<unsigned char>(version[pos]))) {
    major = major * 10 + (version[pos++] - '0');
  }
  if (pos == version.size()) return 3;
  int rank = 0;
  if (version.substr(pos).starts_with("beta")) {
    rank = 2;
    pos += 4;
  } else if (version.substr(pos).starts_with("alpha")) {
    rank = 1;
    pos += 5;
  } else {
    return 0;
  }
  while (pos < version.size() && std::isdigit(static_cast<unsigned char>(version[pos]))) {
    minor = minor * 10 + (version[pos++] - '0');
  }
  return pos == version.size() ? rank : 0;
}

std::string GroupVersionOf(std::string_view group, std::string_view version) {
  return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
}

// Whether every kind of `group` is stored in another group: an old group kept for old
// manifests (extensions). Clients map a resource name to the first group that serves it, so
// such groups come last, after the groups that own their resources.
bool ServesOnlyOtherGroups(std::span<const api::KindInfo> kinds, std::string_view group) {
  bool any = false;
  for (const auto& kind : kinds) {
    if (kind.group != group) continue;
    if (api::StorageKind(kind).group == group) return false;
    any = true;
  }
  return any;
}

// Groups in the order clients should prefer them: by name, old groups last.
template <typename Item, typename NameOf>
void PutOldGroupsLast(std::span<const api::KindInfo> kinds, std::vector<Item>& items,
                      NameOf name_of) {
  std::stable_partition(items.begin(), items.end(), [&](const Item& item) {
    return !ServesOnlyOtherGroups(kinds, name_of(item));
  });
}

}  // namespace

std::string StorageVersionHash(std::string_view group, std::string_view version,
                               std::string_view kind) {
  const std::string text =
      std::string(group) + "/" + std::string(version) + "/" + std::string(kind);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

bool PreferVersion(std::string_view a, std::string_view b) {
  int a_major, a_minor, b_major, b_minor;
  const int a_rank = VersionRank(a, a_major, a_minor);
  const int b_rank = VersionRank(b, b_major, b_minor);
  // GA before beta before alpha before others; then higher numbers first; others by name.
  if (a_rank != b_rank) return a_rank > b_rank;
  if (a_rank == 0) return a < b;
  return std::tie(a_major, a_minor) > std::tie(b_major, b_minor);
}

Discovery::Discovery(std::span<const api::KindInfo> kinds) {
  std::map<std::string, std::vector<std::string>> versions_by_group;
  std::map<std::string, APIResourceList> lists;
  for (const auto& kind : kinds) {
    const std::string group_version = GroupVersionOf(kind.group, kind.version);
    const std::string path = (kind.group.empty() ? "api/" : "apis/") + group_version;
    auto& versions = versions_by_group[std::string(kind.group)];
    if (std::find(versions.begin(), versions.end(), kind.version) == versions.end()) {
      versions.emplace_back(kind.version);
    }
    APIResourceList& list = lists[path];
    list.kind = "APIResourceList";
    list.api_version = "v1";
    list.group_version = group_version;
    APIResource resource;
    resource.name = kind.plural;
    resource.singular_name = kind.singular;
    resource.namespaced = kind.namespaced;
    resource.kind = kind.kind;
    resource.verbs = SplitCommas(kind.verbs);
    resource.short_names = SplitCommas(kind.short_names);
    resource.categories = SplitCommas(kind.categories);
    // Upstream hashes the version the objects are stored in, so that clients see that every
    // version of a resource shares one storage.
    const api::KindInfo& stored = api::StorageKind(kind);
    resource.storage_version_hash = StorageVersionHash(stored.group, stored.version, stored.kind);
    list.resources.push_back(std::move(resource));
    for (const auto& subresource : SplitCommas(kind.subresources)) {
      const auto* shape = FindSubresource(subresource);
      APIResource sub;
      sub.name = std::string(kind.plural) + "/" + subresource;
      sub.namespaced = kind.namespaced;
      sub.kind = kind.kind;
      sub.verbs = {"get", "patch", "update"};
      if (shape != nullptr) {
        sub.verbs = SplitCommas(shape->verbs);
        if (shape->kind == "*ProxyOptions") {
          sub.kind = std::string(kind.kind) + "ProxyOptions";
        } else if (!shape->kind.empty()) {
          sub.kind = shape->kind;
        }
        if (!shape->group.empty() && shape->group != kind.group &&
            !ServesOwnScale(kind, subresource)) {
          sub.group = shape->group;
          sub.version = shape->version;
        }
      }
      list.resources.push_back(std::move(sub));
    }
  }
  for (auto& [path, list] : lists) {
    std::sort(list.resources.begin(), list.resources.end(),
              [](const APIResource& a, const APIResource& b) { return a.name < b.name; });
    resource_lists_[path] = api::ToJson(list);
  }
  BuildAggregated(kinds, versions_by_group);

  APIGroupList group_list;
  group_list.kind = "APIGroupList";
  group_list.api_version = "v1";
  for (auto& [group, versions] : versions_by_group) {
    std::sort(versions.begin(), versions.end(),
              [](const std::string& a, const std::string& b) { return PreferVersion(a, b); });
    if (group.empty()) {
      core_versions_ = versions;
      for (const auto& version : versions)
        group_versions_.push_back(version);
      continue;
    }
    APIGroup api_group;
    api_group.name = group;
    for (const auto& version : versions) {
      api_group.versions.push_back({group + "/" + version, version});
    }
    api_group.preferred_version = api_group.versions.front();
    APIGroup with_type = api_group;
    with_type.kind = "APIGroup";
    with_type.api_version = "v1";
    groups_["apis/" + group] = api::ToJson(with_type);
    group_list.groups.push_back(std::move(api_group));
  }
  PutOldGroupsLast(kinds, group_list.groups,
                   [](const APIGroup& group) -> const std::string& { return group.name; });
  for (const auto& group : group_list.groups) {
    for (const auto& version : group.versions)
      group_versions_.push_back(version.group_version);
  }
  group_list_ = api::ToJson(group_list);
}

void Discovery::BuildAggregated(std::span<const api::KindInfo> kinds,
                                std::map<std::string, std::vector<std::string>> versions_by_group) {
  APIGroupDiscoveryList core;
  APIGroupDiscoveryList others;
  for (auto& [group, versions] : versions_by_group) {
    std::sort(versions.begin(), versions.end(),
              [](const std::string& a, const std::string& b) { return PreferVersion(a, b); });
    APIGroupDiscovery entry;
    entry.metadata.name = group;
    for (const auto& version : versions) {
      APIVersionDiscovery version_entry;
      version_entry.version = version;
      version_entry.freshness = "Current";
      for (const auto& kind : kinds) {
        if (kind.group != group || kind.version != version) continue;
        APIResourceDiscovery resource;
        resource.resource = kind.plural;
        resource.response_kind = api::meta::v1::GroupVersionKind{
            std::string(kind.group), std::string(kind.version), std::string(kind.kind)};
        resource.scope = kind.namespaced ? "Namespaced" : "Cluster";
        resource.singular_resource = kind.singular;
        resource.verbs = SplitCommas(kind.verbs);
        resource.short_names = SplitCommas(kind.short_names);
        resource.categories = SplitCommas(kind.categories);
        for (const auto& name : SplitCommas(kind.subresources)) {
          APISubresourceDiscovery subresource;
          subresource.subresource = name;
          api::meta::v1::GroupVersionKind response{
              std::string(kind.group), std::string(kind.version), std::string(kind.kind)};
          subresource.verbs = {"get", "patch", "update"};
          const auto* shape = FindSubresource(name);
          if (shape != nullptr) {
            subresource.verbs = SplitCommas(shape->verbs);
            if (shape->kind == "*ProxyOptions") {
              response.kind = std::string(kind.kind) + "ProxyOptions";
            } else if (!shape->kind.empty()) {
              response.kind = shape->kind;
            }
            if (!shape->group.empty() && !ServesOwnScale(kind, name)) {
              response.group = shape->group;
              response.version = shape->version;
            }
          }
          subresource.response_kind = std::move(response);
          resource.subresources.push_back(std::move(subresource));
        }
        version_entry.resources.push_back(std::move(resource));
      }
      std::sort(version_entry.resources.begin(), version_entry.resources.end(),
                [](const auto& a, const auto& b) { return a.resource < b.resource; });
      entry.versions.push_back(std::move(version_entry));
    }
    (group.empty() ? core : others).items.push_back(std::move(entry));
  }
  PutOldGroupsLast(kinds, others.items, [](const APIGroupDiscovery& group) -> const std::string& {
    return group.metadata.name;
  });
  core.kind = others.kind = "APIGroupDiscoveryList";
  for (std::string_view version : {"v2", "v2beta1"}) {
    // v2beta1 has the same shape as v2.
    core.api_version = others.api_version = fmt::format("apidiscovery.k8s.io/{}", version);
    aggregated_core_.emplace(version, api::ToJson(core));
    aggregated_groups_.emplace(version, api::ToJson(others));
  }
}

std::optional<std::string> Discovery::AggregatedDocument(std::string_view path,
                                                         std::string_view version) const {
  while (path.ends_with('/'))
    path.remove_suffix(1);
  const auto& documents = path == "/api" ? aggregated_core_ : aggregated_groups_;
  if (path != "/api" && path != "/apis") return std::nullopt;
  auto it = documents.find(version);
  if (it == documents.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Discovery::Document(std::string_view path,
                                               std::string_view server_address) const {
  while (path.starts_with('/'))
    path.remove_prefix(1);
  while (path.ends_with('/'))
    path.remove_suffix(1);
  if (path == "api") {
    APIVersions versions;
    versions.kind = "APIVersions";
    versions.versions = core_versions_;
    versions.server_address_by_client_cidrs.push_back({"0.0.0.0/0", std::string(server_address)});
    return api::ToJson(versions);
  }
  if (path == "apis") return group_list_;
  if (auto it = groups_.find(std::string(path)); it != groups_.end()) return it->second;
  if (auto it = resource_lists_.find(std::string(path)); it != resource_lists_.end()) {
    return it->second;
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver
