#include "controllers/resourcequota/resource_quota_controller.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/admission/json_access.h"
#include "apiserver/admission/quota_evaluator.h"
#include "base/log.h"
#include "base/version.h"
#include "client/rest/loopback_transport.h"

namespace kpp::controllers {
namespace {

namespace json = apiserver::admission::json;
namespace quota = apiserver::admission::quota;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

std::string UserAgent() {
  return fmt::format("kube-controller-manager/{} (linux/amd64) kubernetes/kpp",
                     KubernetesGitVersion());
}

const api::KindInfo* StoredKind(std::string_view group, std::string_view plural) {
  for (const auto& kind : api::AllKinds()) {
    if (kind.group == group && kind.plural == plural && kind.storage == nullptr &&
        kind.namespaced && !kind.list_kind.empty()) {
      return &kind;
    }
  }
  return nullptr;
}

// Upstream replenishes on updates only for the kinds whose usage an update can change.
bool UpdateCanChangeUsage(const api::KindInfo& kind) {
  return kind.group.empty() && (kind.plural == "pods" || kind.plural == "services" ||
                                kind.plural == "persistentvolumeclaims");
}

}  // namespace

ResourceQuotaController::ResourceQuotaController(Call call,
                                                 const apiserver::admission::Reader& reader,
                                                 Clock& clock,
                                                 ResourceQuotaControllerOptions options)
    : ResourceQuotaController(client::rest::NewLoopbackClient(std::move(call), UserAgent()), reader,
                              clock, options) {}

ResourceQuotaController::ResourceQuotaController(std::shared_ptr<client::rest::RestClient> client,
                                                 const apiserver::admission::Reader& reader,
                                                 Clock& clock,
                                                 ResourceQuotaControllerOptions options)
    : reader_(reader),
      clock_(clock),
      options_(options),
      client_(std::move(client)),
      workers_(queue_, [this](const std::string& key) { return SyncKey(key); },
               {.what = "syncing resource quota"}) {}

ResourceQuotaController::~ResourceQuotaController() {
  Stop();
}

void ResourceQuotaController::Start() {
  const auto& kind = *StoredKind("", "resourcequotas");
  auto informer =
      std::make_unique<client::informers::SharedInformer>(client::DynamicResource(client_, kind));
  quotas_ = informer.get();
  {
    std::lock_guard lock(mutex_);
    informers_[&kind] = std::move(informer);
  }
  quotas_->AddEventHandler({.on_add =
                                [this](const ObjectRef& object, bool) {
                                  WatchCountedResources(*object);
                                  // A new quota counts among its namespace's quotas too.
                                  EnqueueNamespace(object->metadata().namespace_);
                                },
                            .on_update =
                                [this](const ObjectRef&, const ObjectRef& object) {
                                  WatchCountedResources(*object);
                                  queue_.Add(KeyOf(object->metadata()));
                                },
                            .on_delete =
                                [this](const DeletedObject& deleted) {
                                  if (deleted.object)
                                    EnqueueNamespace(deleted.object->metadata().namespace_);
                                }},
                           options_.full_resync);
  quotas_->Run();
  workers_.Start(options_.workers);
}

void ResourceQuotaController::Stop() {
  std::vector<client::informers::SharedInformer*> informers;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [kind, informer] : informers_)
      informers.push_back(informer.get());
  }
  workers_.Stop();
  for (auto* informer : informers)
    informer->Stop();
}

void ResourceQuotaController::EnqueueNamespace(const std::string& ns) {
  if (quotas_ == nullptr) return;
  for (const auto& object : quotas_->store().List()) {
    if (object->metadata().namespace_ == ns) queue_.Add(KeyOf(object->metadata()));
  }
}

void ResourceQuotaController::WatchCountedResources(const api::Object& quota) {
  auto value = boost::json::parse(quota.ToJson());
  if (!value.is_object()) return;
  const auto* hard = json::Object(json::Object(&value.as_object(), "spec"), "hard");
  if (hard == nullptr) return;
  for (const auto& [name, quantity] : *hard) {
    const auto counted = quota::GroupResourceOf(name);
    if (!counted || (counted->group.empty() && counted->resource == "resourcequotas")) continue;
    if (const auto* kind = StoredKind(counted->group, counted->resource)) WatchResource(*kind);
  }
}

void ResourceQuotaController::WatchResource(const api::KindInfo& kind) {
  // Held while the informer starts, so that Stop never misses one a handler is adding.
  std::lock_guard lock(mutex_);
  if (stopping_ || informers_.contains(&kind)) return;
  auto enqueue = [this](const ObjectRef& object) {
    EnqueueNamespace(object->metadata().namespace_);
  };
  client::informers::EventHandler handler{
      .on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object); },
      .on_delete =
          [enqueue](const DeletedObject& deleted) {
            if (deleted.object) enqueue(deleted.object);
          }};
  if (UpdateCanChangeUsage(kind)) {
    handler.on_update = [enqueue](const ObjectRef& old_object, const ObjectRef& object) {
      if (old_object->metadata().resource_version != object->metadata().resource_version) {
        enqueue(object);
      }
    };
  }
  auto& informer = informers_[&kind];
  informer =
      std::make_unique<client::informers::SharedInformer>(client::DynamicResource(client_, kind));
  informer->AddEventHandler(std::move(handler), std::chrono::nanoseconds(-1));
  informer->Run();
}

KeySyncResult ResourceQuotaController::SyncKey(const std::string& key) {
  const auto object = quotas_ != nullptr ? quotas_->store().Get(key) : nullptr;
  if (object == nullptr) {
    std::lock_guard lock(mutex_);
    pending_releases_.erase(key);
    return Ok();
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(object->ToJson(), ec);
  if (ec || !value.is_object()) return Ok();
  return Sync(std::move(value.as_object()));
}

KeySyncResult ResourceQuotaController::Sync(boost::json::object item) {
  const auto now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock_.Now());
  const auto* metadata = json::Object(&item, "metadata");
  const std::string name(json::String(metadata, "name"));
  const std::string namespace_(json::String(metadata, "namespace"));
  if (name.empty() || namespace_.empty()) return Ok();
  auto used = quota::CalculateUsage(item, namespace_, reader_, now);
  if (!used.ok()) return Status(std::move(used).error());
  const quota::ResourceList hard =
      quota::ParseResourceList(json::Object(json::Object(&item, "spec"), "hard"));
  const auto* status = json::Object(&item, "status");
  const std::string key = namespace_ + "/" + name;
  if (quota::Equal(hard, quota::ParseResourceList(json::Object(status, "hard"))) &&
      quota::Equal(*used, quota::ParseResourceList(json::Object(status, "used")))) {
    std::lock_guard lock(mutex_);
    pending_releases_.erase(key);
    return Ok();
  }
  // A lower figure waits for a second sync that agrees on an unchanged quota: admission
  // charges the quota before the object is stored, so a sync that ran in between would
  // otherwise hand the charge back while that object is still on its way.
  const std::string version(json::String(metadata, "resourceVersion"));
  const quota::ResourceList old_used = quota::ParseResourceList(json::Object(status, "used"));
  bool lowers = false;
  for (const auto& [resource, quantity] : old_used) {
    auto it = used->find(resource);
    if (it != used->end() && it->second.Cmp(quantity) < 0) lowers = true;
  }
  {
    std::lock_guard lock(mutex_);
    if (lowers) {
      auto pending = pending_releases_.find(key);
      if (pending == pending_releases_.end() || pending->second.first != version ||
          !quota::Equal(pending->second.second, *used)) {
        pending_releases_[key] = {version, *used};
        KeySyncResult later;
        later.requeue_after = options_.release_delay;
        return later;
      }
    }
    pending_releases_.erase(key);
  }
  auto& new_status = json::EnsureObject(item, "status");
  new_status["hard"] = quota::ToJson(hard);
  new_status["used"] = quota::ToJson(*used);
  item["apiVersion"] = "v1";
  item["kind"] = "ResourceQuota";
  client::rest::Request update;
  update.method = "PUT";
  update.path = fmt::format("/api/v1/namespaces/{}/resourcequotas/{}/status", namespace_, name);
  update.body = boost::json::serialize(item);
  if (auto updated = client_->Do(update); !updated.ok()) {
    // A conflict: admission charged the quota meanwhile; the informer brings the new version.
    return Status(std::move(updated).error().WithContext("status update"));
  }
  return Ok();
}

}  // namespace kpp::controllers
