#include "controllers/namespace/namespace_controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <set>

#include "base/log.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using api::core::v1::Namespace;
using api::core::v1::Pod;

constexpr char kBackgroundDelete[] =
    R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})";

std::string CollectionPath(const GroupVersionResource& resource, const std::string& ns) {
  if (resource.group.empty()) {
    return fmt::format("/api/{}/namespaces/{}/{}", resource.version, ns, resource.resource);
  }
  return fmt::format("/apis/{}/{}/namespaces/{}/{}", resource.group, resource.version, ns,
                     resource.resource);
}

Result<boost::json::value> GetJson(client::rest::RestClient& client, const std::string& path) {
  KPP_ASSIGN_OR_RETURN(auto response, client.Do({.path = path}));
  boost::system::error_code error;
  auto json = boost::json::parse(response.body, error);
  if (error || !json.is_object()) {
    return InternalError(fmt::format("{}: the answer is not a JSON object", path));
  }
  return json;
}

std::string StringAt(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

}  // namespace

Result<Namespace> RestNamespaceDeleterClient::GetNamespace(const std::string& name) {
  return client::TypedResource<Namespace>(client_).Get(name);
}

Result<Namespace> RestNamespaceDeleterClient::UpdateNamespaceStatus(const Namespace& ns) {
  return client::TypedResource<Namespace>(client_).UpdateStatus(ns);
}

Result<Namespace> RestNamespaceDeleterClient::FinalizeNamespace(const Namespace& ns) {
  Namespace body = ns;
  body.api_version = "v1";
  body.kind = "Namespace";
  const client::TypedResource<Namespace> namespaces(client_);
  KPP_ASSIGN_OR_RETURN(std::string json,
                       namespaces.dynamic().WriteJson("PUT", ns.metadata.name, "finalize",
                                                      api::ToJson(body), client::WriteOptions{}));
  KPP_ASSIGN_OR_RETURN(auto decoded, api::FromJson<Namespace>(json));
  return std::move(decoded.object);
}

Discovery RestNamespaceDeleterClient::DiscoverNamespacedResources() {
  Discovery discovery;
  // Each group's versions, the preferred one first.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  auto core = GetJson(*client_, "/api");
  if (!core.ok()) {
    discovery.error = std::move(core).error();
    return discovery;
  }
  std::vector<std::string> core_versions;
  if (const auto* versions = core->as_object().if_contains("versions");
      versions != nullptr && versions->is_array()) {
    for (const auto& version : versions->as_array()) {
      if (version.is_string()) core_versions.emplace_back(version.as_string());
    }
  }
  groups.emplace_back("", std::move(core_versions));
  auto listed = GetJson(*client_, "/apis");
  if (!listed.ok()) {
    discovery.error = std::move(listed).error();
    return discovery;
  }
  if (const auto* items = listed->as_object().if_contains("groups");
      items != nullptr && items->is_array()) {
    for (const auto& item : items->as_array()) {
      if (!item.is_object()) continue;
      const auto& group = item.as_object();
      std::vector<std::string> versions;
      if (const auto* preferred = group.if_contains("preferredVersion");
          preferred != nullptr && preferred->is_object()) {
        versions.push_back(StringAt(preferred->as_object(), "version"));
      }
      if (const auto* all = group.if_contains("versions"); all != nullptr && all->is_array()) {
        for (const auto& version : all->as_array()) {
          if (!version.is_object()) continue;
          std::string name = StringAt(version.as_object(), "version");
          if (std::find(versions.begin(), versions.end(), name) == versions.end()) {
            versions.push_back(std::move(name));
          }
        }
      }
      groups.emplace_back(StringAt(group, "name"), std::move(versions));
    }
  }

  for (const auto& [group, versions] : groups) {
    std::set<std::string> seen;  // resources of this group already taken from a version
    for (const auto& version : versions) {
      if (version.empty()) continue;
      const std::string group_version = group.empty() ? version : group + "/" + version;
      auto document =
          GetJson(*client_, group.empty() ? "/api/" + version : "/apis/" + group_version);
      if (!document.ok()) {
        discovery.failed_group_versions[group_version] = document.error().message();
        continue;
      }
      DiscoveredGroupVersion found{group_version, {}};
      const auto* resources = document->as_object().if_contains("resources");
      if (resources == nullptr || !resources->is_array()) continue;
      for (const auto& entry : resources->as_array()) {
        if (!entry.is_object()) continue;
        const auto& resource = entry.as_object();
        std::string name = StringAt(resource, "name");
        if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
        const auto* namespaced = resource.if_contains("namespaced");
        if (namespaced == nullptr || !namespaced->is_bool() || !namespaced->as_bool()) continue;
        if (!seen.insert(name).second) continue;
        DiscoveredResource discovered{std::move(name), {}};
        if (const auto* verbs = resource.if_contains("verbs"); verbs && verbs->is_array()) {
          for (const auto& verb : verbs->as_array()) {
            if (verb.is_string()) discovered.verbs.emplace_back(verb.as_string());
          }
        }
        found.resources.push_back(std::move(discovered));
      }
      if (!found.resources.empty()) discovery.group_versions.push_back(std::move(found));
    }
  }
  return discovery;
}

Status RestNamespaceDeleterClient::DeleteCollection(const GroupVersionResource& resource,
                                                    const std::string& ns) {
  KPP_ASSIGN_OR_RETURN(auto response, client_->Do({.method = "DELETE",
                                                   .path = CollectionPath(resource, ns),
                                                   .body = kBackgroundDelete}));
  return Ok();
}

Result<std::vector<RemainingObject>> RestNamespaceDeleterClient::List(
    const GroupVersionResource& resource, const std::string& ns) {
  KPP_ASSIGN_OR_RETURN(auto list, GetJson(*client_, CollectionPath(resource, ns)));
  std::vector<RemainingObject> objects;
  const auto* items = list.as_object().if_contains("items");
  if (items == nullptr || !items->is_array()) return objects;
  for (const auto& item : items->as_array()) {
    const auto* metadata = item.is_object() ? item.as_object().if_contains("metadata") : nullptr;
    if (metadata == nullptr || !metadata->is_object()) continue;
    RemainingObject object{StringAt(metadata->as_object(), "name"), {}};
    if (const auto* finalizers = metadata->as_object().if_contains("finalizers");
        finalizers != nullptr && finalizers->is_array()) {
      for (const auto& finalizer : finalizers->as_array()) {
        if (finalizer.is_string()) object.finalizers.emplace_back(finalizer.as_string());
      }
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

Status RestNamespaceDeleterClient::Delete(const GroupVersionResource& resource,
                                          const std::string& ns, const std::string& name) {
  KPP_ASSIGN_OR_RETURN(auto response,
                       client_->Do({.method = "DELETE",
                                    .path = CollectionPath(resource, ns) + "/" + name,
                                    .body = kBackgroundDelete}));
  return Ok();
}

Result<std::vector<Pod>> RestNamespaceDeleterClient::ListPods(const std::string& ns) {
  KPP_ASSIGN_OR_RETURN(auto pods, client::TypedResource<Pod>(client_, ns).List());
  return std::move(pods.items);
}

// --- the controller ---

NamespaceController::NamespaceController(client::informers::SharedInformerFactory& factory,
                                         NamespaceDeleterClient& client,
                                         NamespaceControllerOptions options)
    : namespaces_(factory.InformerFor<Namespace>()),
      deleter_(client),
      options_(options),
      queue_(std::make_unique<client::workqueue::MaxOfRateLimiter>([] {
        // Upstream's limiter for this controller: 5 ms doubling up to 60 s per namespace, 10 qps
        // with a burst of 100 overall.
        std::vector<std::unique_ptr<client::workqueue::RateLimiter>> limiters;
        limiters.push_back(std::make_unique<client::workqueue::ItemExponentialFailureRateLimiter>(
            std::chrono::milliseconds(5), std::chrono::seconds(60)));
        limiters.push_back(std::make_unique<client::workqueue::BucketRateLimiter>(10, 100));
        return limiters;
      }())),
      workers_(queue_,
               SyncCached<Namespace>(
                   namespaces_,
                   [this](const std::string& name, const Namespace* ns) { return Sync(name, ns); }),
               {.what = "deletion of namespace"}) {
  namespaces_.AddEventHandler(
      {.on_add = [this](const client::informers::ObjectRef& object, bool) { Enqueue(object); },
       .on_update = [this](const client::informers::ObjectRef&,
                           const client::informers::ObjectRef& object) { Enqueue(object); }},
      options_.resync_period);
}

NamespaceController::~NamespaceController() {
  Stop();
}

void NamespaceController::Enqueue(const client::informers::ObjectRef& object) {
  auto ns = client::informers::As<Namespace>(object);
  if (!ns || !ns->metadata.deletion_timestamp) return;
  // A pause first, so that other API servers refuse new content and late creations show.
  queue_.AddAfter(ns->metadata.name, options_.deletion_grace_period);
}

KeySyncResult NamespaceController::Sync(const std::string& name, const Namespace* ns) {
  Result<int64_t> remaining = ns != nullptr ? deleter_.Delete(name) : Result<int64_t>(0);
  if (!remaining.ok()) {
    KLOG_ERROR("deletion of namespace {} failed: {}", name, remaining.error().message());
    return KeySyncResult(std::move(remaining).error());
  }
  KeySyncResult result;
  if (*remaining > 0) {
    const int64_t wait = *remaining / 2 + 1;
    KLOG_V(4, "content remaining in namespace {}: looking again in {} s", name, wait);
    result.requeue_after = std::chrono::seconds(wait);
  }
  return result;
}

void NamespaceController::Run() {
  workers_.Start(options_.workers);
}

void NamespaceController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
