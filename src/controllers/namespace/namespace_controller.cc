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

Discovery RestNamespaceDeleterClient::DiscoverNamespacedResources(Clock::TimePoint fetched_after) {
  Discovery discovery;
  auto groups = discovery_.Groups(fetched_after);
  if (!groups.ok()) {
    discovery.error = std::move(groups).error();
    return discovery;
  }
  for (const auto& group : *groups) {
    std::set<std::string> seen;  // resources of this group already taken from a version
    for (const auto& version : group.versions) {
      if (version.empty()) continue;
      const std::string group_version = group.name.empty() ? version : group.name + "/" + version;
      auto resources = discovery_.Resources(group_version, fetched_after);
      if (!resources.ok()) {
        discovery.failed_group_versions[group_version] = resources.error().message();
        continue;
      }
      DiscoveredGroupVersion found{group_version, {}};
      for (const auto& resource : **resources) {
        if (!resource.namespaced || resource.name.find('/') != std::string::npos) continue;
        if (!seen.insert(resource.name).second) continue;
        found.resources.push_back({resource.name, resource.verbs});
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
