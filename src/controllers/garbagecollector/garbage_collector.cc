#include "controllers/garbagecollector/garbage_collector.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <functional>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using api::meta::v1::OwnerReference;
using api::meta::v1::PartialObjectMetadata;

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

const OwnerReference* ReferenceTo(const std::vector<OwnerReference>& owners,
                                  const std::string& uid) {
  for (const auto& owner : owners) {
    if (owner.uid == uid) return &owner;
  }
  return nullptr;
}

boost::json::object OwnerReferenceJson(const OwnerReference& owner) {
  boost::json::object json{{"apiVersion", owner.api_version},
                           {"kind", owner.kind},
                           {"name", owner.name},
                           {"uid", owner.uid}};
  if (owner.controller) json["controller"] = *owner.controller;
  if (owner.block_owner_deletion) json["blockOwnerDeletion"] = *owner.block_owner_deletion;
  return json;
}

// Patches that drop the references to `removed` (both forms, see ObjectAccess).
std::pair<std::string, std::string> RemoveReferencesPatches(
    const ObjectId& id, const std::vector<OwnerReference>& owners,
    const std::set<std::string>& removed, const std::string& resource_version) {
  boost::json::array deletions;
  boost::json::array remaining;
  for (const auto& owner : owners) {
    if (removed.count(owner.uid) > 0) {
      deletions.push_back(boost::json::object{{"$patch", "delete"}, {"uid", owner.uid}});
    } else {
      remaining.push_back(OwnerReferenceJson(owner));
    }
  }
  const std::string strategic = boost::json::serialize(boost::json::object{
      {"metadata", {{"ownerReferences", std::move(deletions)}, {"uid", id.uid}}}});
  boost::json::object merge_metadata{{"resourceVersion", resource_version}};
  if (remaining.empty()) {
    merge_metadata["ownerReferences"] = nullptr;
  } else {
    merge_metadata["ownerReferences"] = std::move(remaining);
  }
  const std::string merge =
      boost::json::serialize(boost::json::object{{"metadata", std::move(merge_metadata)}});
  return {strategic, merge};
}

}  // namespace

bool GarbageCollector::DeletingDependents(const Node& node) const {
  return node.observed && node.being_deleted && Contains(node.finalizers, kForegroundFinalizer);
}

bool GarbageCollector::OrphanPending(const Node& node) const {
  return node.observed && node.being_deleted && Contains(node.finalizers, kOrphanFinalizer);
}

void GarbageCollector::Observe(const api::Object& object) {
  const auto& metadata = object.metadata();
  if (metadata.uid.empty()) return;
  std::lock_guard lock(mutex_);
  const bool is_new = nodes_.count(metadata.uid) == 0 || !nodes_[metadata.uid].observed;
  Node& node = nodes_[metadata.uid];
  const auto old_owners = node.owners;
  const bool was_deleting_dependents = DeletingDependents(node);
  auto& typed = dynamic_cast<const api::TypedObject<PartialObjectMetadata>&>(object).value();
  node.id = {typed.api_version, typed.kind, metadata.namespace_, metadata.name, metadata.uid};
  node.owners = metadata.owner_references;
  node.finalizers = metadata.finalizers;
  node.resource_version = metadata.resource_version;
  node.being_deleted = metadata.deletion_timestamp.has_value();
  node.observed = true;

  for (const auto& old_owner : old_owners) {
    if (ReferenceTo(node.owners, old_owner.uid) != nullptr) continue;
    auto owner = nodes_.find(old_owner.uid);
    if (owner == nodes_.end()) continue;
    owner->second.dependents.erase(metadata.uid);
    // A blocking dependent that went may let a foreground deletion finish.
    if (DeletingDependents(owner->second)) to_delete_.insert(old_owner.uid);
  }
  for (const auto& new_owner : node.owners) {
    auto [owner, inserted] = nodes_.try_emplace(new_owner.uid);
    if (inserted) {
      owner->second.id = {new_owner.api_version, new_owner.kind, metadata.namespace_,
                          new_owner.name, new_owner.uid};
      to_delete_.insert(new_owner.uid);  // is that owner there at all?
    }
    owner->second.dependents.insert(metadata.uid);
  }
  if (!node.owners.empty() && (is_new || node.owners != old_owners)) {
    to_delete_.insert(metadata.uid);
  }
  if (OrphanPending(node)) to_orphan_.insert(metadata.uid);
  if (DeletingDependents(node)) {
    to_delete_.insert(metadata.uid);
    if (!was_deleting_dependents) {
      for (const auto& dependent : node.dependents)
        to_delete_.insert(dependent);
    }
  }
}

void GarbageCollector::ObserveDeleted(const api::Object& object) {
  const auto& uid = object.metadata().uid;
  std::lock_guard lock(mutex_);
  auto found = nodes_.find(uid);
  if (found == nodes_.end()) return;
  Node& node = found->second;
  for (const auto& owner_ref : node.owners) {
    auto owner = nodes_.find(owner_ref.uid);
    if (owner == nodes_.end()) continue;
    owner->second.dependents.erase(uid);
    if (DeletingDependents(owner->second)) to_delete_.insert(owner_ref.uid);
    if (!owner->second.observed && owner->second.dependents.empty()) nodes_.erase(owner);
  }
  if (node.dependents.empty()) {
    nodes_.erase(uid);
    return;
  }
  // Its dependents now point at an owner that is gone.
  for (const auto& dependent : node.dependents)
    to_delete_.insert(dependent);
  node.owners.clear();
  node.observed = false;
  node.being_deleted = false;
  node.finalizers.clear();
}

std::vector<std::string> GarbageCollector::TakeToDelete() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(to_delete_.begin(), to_delete_.end());
  to_delete_.clear();
  return out;
}

std::vector<std::string> GarbageCollector::TakeToOrphan() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(to_orphan_.begin(), to_orphan_.end());
  to_orphan_.clear();
  return out;
}

bool GarbageCollector::Has(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  return nodes_.count(uid) > 0;
}

std::set<std::string> GarbageCollector::DependentsOf(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  auto found = nodes_.find(uid);
  return found == nodes_.end() ? std::set<std::string>{} : found->second.dependents;
}

std::optional<GarbageCollector::Node> GarbageCollector::Find(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  auto found = nodes_.find(uid);
  if (found == nodes_.end()) return std::nullopt;
  return found->second;
}

Result<GarbageCollector::OwnerState> GarbageCollector::Classify(const Node& dependent,
                                                                const OwnerReference& owner) {
  {
    std::lock_guard lock(mutex_);
    auto found = nodes_.find(owner.uid);
    if (found != nodes_.end() && found->second.observed) {
      return DeletingDependents(found->second) ? OwnerState::kWaiting : OwnerState::kSolid;
    }
  }
  // Not seen by an informer (yet): ask the API server, as upstream does, before calling it gone.
  ObjectId id{owner.api_version, owner.kind, dependent.id.ns, owner.name, owner.uid};
  KPP_ASSIGN_OR_RETURN(auto uid, access_.GetUid(id));
  if (uid && *uid == owner.uid) return OwnerState::kSolid;
  return OwnerState::kDangling;
}

Status GarbageCollector::RemoveFinalizer(const Node& node, const std::string& finalizer) {
  std::vector<std::string> remaining;
  for (const auto& name : node.finalizers) {
    if (name != finalizer) remaining.push_back(name);
  }
  auto status = access_.SetFinalizers(node.id, remaining, node.resource_version);
  if (!status.ok() && client::IsNotFound(status.error())) return Ok();
  return status;
}

Status GarbageCollector::ProcessDeletingDependents(const Node& owner) {
  std::vector<std::string> blocking;
  {
    std::lock_guard lock(mutex_);
    for (const auto& dependent_uid : owner.dependents) {
      auto dependent = nodes_.find(dependent_uid);
      if (dependent == nodes_.end() || !dependent->second.observed) continue;
      const auto* ref = ReferenceTo(dependent->second.owners, owner.id.uid);
      if (ref != nullptr && ref->block_owner_deletion.value_or(false)) {
        blocking.push_back(dependent_uid);
        if (!dependent->second.being_deleted) to_delete_.insert(dependent_uid);
      }
    }
  }
  if (!blocking.empty()) return Ok();  // each dependent's deletion brings this back
  return RemoveFinalizer(owner, kForegroundFinalizer);
}

Status GarbageCollector::AttemptToDelete(const std::string& uid) {
  auto node = Find(uid);
  if (!node) return Ok();
  if (!node->observed) {
    // Known only from references: is it there?
    KPP_ASSIGN_OR_RETURN(auto found, access_.GetUid(node->id));
    if (found && *found == uid) return Ok();
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(uid);
    if (it != nodes_.end() && !it->second.observed) {
      for (const auto& dependent : it->second.dependents)
        to_delete_.insert(dependent);
      nodes_.erase(it);
    }
    return Ok();
  }
  if (DeletingDependents(*node)) return ProcessDeletingDependents(*node);
  if (node->being_deleted || node->owners.empty()) return Ok();

  std::set<std::string> dangling_or_waiting;
  bool solid = false;
  bool waiting = false;
  for (const auto& owner : node->owners) {
    KPP_ASSIGN_OR_RETURN(OwnerState state, Classify(*node, owner));
    if (state == OwnerState::kSolid) {
      solid = true;
    } else {
      dangling_or_waiting.insert(owner.uid);
      waiting = waiting || state == OwnerState::kWaiting;
    }
  }
  if (solid) {
    if (dangling_or_waiting.empty()) return Ok();
    KLOG_V(2, "garbage collector: removing references to gone owners from {} {}/{}", node->id.kind,
           node->id.ns, node->id.name);
    auto [strategic, merge] = RemoveReferencesPatches(node->id, node->owners, dangling_or_waiting,
                                                      node->resource_version);
    auto status = access_.PatchOwnerReferences(node->id, strategic, merge);
    if (!status.ok() && client::IsNotFound(status.error())) return Ok();
    if (status.ok()) {
      // Until the informer shows the patched object, do not patch it again.
      std::lock_guard lock(mutex_);
      auto it = nodes_.find(uid);
      if (it != nodes_.end()) {
        std::erase_if(it->second.owners,
                      [&](const auto& owner) { return dangling_or_waiting.count(owner.uid) > 0; });
      }
    }
    return status;
  }
  std::string policy = "Background";
  if (Contains(node->finalizers, kOrphanFinalizer)) policy = "Orphan";
  if (Contains(node->finalizers, kForegroundFinalizer)) policy = "Foreground";
  // Under an owner deleted in the foreground, a dependent with dependents of its own goes in the
  // foreground too, so the owner waits for the whole tree.
  if (waiting && !node->dependents.empty()) policy = "Foreground";
  KLOG_V(2, "garbage collector: deleting {} {}/{} ({}), its owners are gone", node->id.kind,
         node->id.ns, node->id.name, policy);
  auto status = access_.Delete(node->id, policy);
  if (!status.ok() && (client::IsNotFound(status.error()) || client::IsConflict(status.error()))) {
    return Ok();
  }
  if (status.ok()) {
    // Until the informer shows the deletion, do not delete it again.
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(uid);
    if (it != nodes_.end()) it->second.being_deleted = true;
  }
  return status;
}

Status GarbageCollector::AttemptToOrphan(const std::string& uid) {
  auto node = Find(uid);
  if (!node || !OrphanPending(*node)) return Ok();
  for (const auto& dependent_uid : node->dependents) {
    auto dependent = Find(dependent_uid);
    if (!dependent || !dependent->observed) continue;
    auto [strategic, merge] = RemoveReferencesPatches(dependent->id, dependent->owners, {uid},
                                                      dependent->resource_version);
    auto status = access_.PatchOwnerReferences(dependent->id, strategic, merge);
    if (!status.ok() && !client::IsNotFound(status.error())) return status;
  }
  return RemoveFinalizer(*node, kOrphanFinalizer);
}

// --- the controller: discovery, informers, workers ---

namespace {

const api::KindCodec& MetadataCodec() {
  static const api::TypedKindCodec<PartialObjectMetadata> codec;
  return codec;
}

std::pair<std::string, std::string> SplitApiVersion(const std::string& api_version) {
  const auto slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

}  // namespace

class GarbageCollectorController::RestAccess final : public ObjectAccess {
 public:
  RestAccess(std::shared_ptr<client::rest::RestClient> client,
             std::function<void()> on_unknown_kind)
      : client_(std::move(client)), on_unknown_kind_(std::move(on_unknown_kind)) {}

  void Register(const api::KindInfo& kind) {
    std::lock_guard lock(mutex_);
    by_version_[fmt::format("{}/{}/{}", kind.group, kind.version, kind.kind)] = &kind;
    by_group_[fmt::format("{}/{}", kind.group, kind.kind)] = &kind;
  }

  Result<const api::KindInfo*> KindOf(const ObjectId& id) {
    const auto [group, version] = SplitApiVersion(id.api_version);
    std::lock_guard lock(mutex_);
    auto exact = by_version_.find(group + "/" + version + "/" + id.kind);
    if (exact != by_version_.end()) return exact->second;
    // Another version of the same group and kind names the same objects.
    auto any = by_group_.find(group + "/" + id.kind);
    if (any != by_group_.end()) return any->second;
    // Perhaps a custom resource defined since the last discovery.
    if (on_unknown_kind_) on_unknown_kind_();
    return NotFoundError(
        fmt::format("no resource is known for {}, Kind={}", id.api_version, id.kind));
  }

  Result<std::optional<std::string>> GetUid(const ObjectId& id) override {
    KPP_ASSIGN_OR_RETURN(const api::KindInfo* kind, KindOf(id));
    auto object = client::DynamicResource(client_, *kind, id.ns).Get(id.name);
    if (!object.ok()) {
      if (client::IsNotFound(object.error())) return std::optional<std::string>();
      return std::move(object).error();
    }
    const auto* metadata = object->if_contains("metadata");
    if (metadata == nullptr || !metadata->is_object()) return std::optional<std::string>();
    const auto* uid = metadata->as_object().if_contains("uid");
    if (uid == nullptr || !uid->is_string()) return std::optional<std::string>();
    return std::optional<std::string>(std::string(uid->as_string()));
  }

  Status Delete(const ObjectId& id, const std::string& propagation_policy) override {
    KPP_ASSIGN_OR_RETURN(const api::KindInfo* kind, KindOf(id));
    client::DeleteOptions options;
    options.propagation_policy = propagation_policy;
    options.precondition_uid = id.uid;
    return client::DynamicResource(client_, *kind, id.ns).Delete(id.name, options);
  }

  Status PatchOwnerReferences(const ObjectId& id, const std::string& strategic_patch,
                              const std::string& merge_patch) override {
    KPP_ASSIGN_OR_RETURN(const api::KindInfo* kind, KindOf(id));
    // Strategic merge patches need the schema only built-in kinds have.
    const bool built_in = client::FindKind(id.api_version, id.kind) != nullptr;
    auto patched =
        client::DynamicResource(client_, *kind, id.ns)
            .Patch(id.name,
                   built_in ? client::PatchType::kStrategicMerge : client::PatchType::kMerge,
                   built_in ? strategic_patch : merge_patch, Writes());
    if (!patched.ok()) return std::move(patched).error();
    return Ok();
  }

  Status SetFinalizers(const ObjectId& id, const std::vector<std::string>& finalizers,
                       const std::string& resource_version) override {
    KPP_ASSIGN_OR_RETURN(const api::KindInfo* kind, KindOf(id));
    boost::json::object metadata{{"resourceVersion", resource_version}};
    if (finalizers.empty()) {
      metadata["finalizers"] = nullptr;
    } else {
      boost::json::array list;
      for (const auto& finalizer : finalizers)
        list.emplace_back(finalizer);
      metadata["finalizers"] = std::move(list);
    }
    auto patched =
        client::DynamicResource(client_, *kind, id.ns)
            .Patch(id.name, client::PatchType::kMerge,
                   boost::json::serialize(boost::json::object{{"metadata", std::move(metadata)}}),
                   Writes());
    if (!patched.ok()) return std::move(patched).error();
    return Ok();
  }

 private:
  static client::WriteOptions Writes() {
    client::WriteOptions options;
    options.field_manager = "kube-controller-manager";
    return options;
  }

  std::shared_ptr<client::rest::RestClient> client_;
  std::function<void()> on_unknown_kind_;
  std::mutex mutex_;
  std::map<std::string, const api::KindInfo*> by_version_;
  std::map<std::string, const api::KindInfo*> by_group_;
};

GarbageCollectorController::GarbageCollectorController(
    std::shared_ptr<client::rest::RestClient> client, GarbageCollectorOptions options)
    : client_(std::move(client)),
      options_(options),
      access_(std::make_unique<RestAccess>(client_,
                                           [this] {
                                             std::lock_guard lock(mutex_);
                                             rediscover_ = true;
                                             stop_changed_.notify_all();
                                           })),
      collector_(*access_) {}

GarbageCollectorController::~GarbageCollectorController() {
  Stop();
}

void GarbageCollectorController::Pump() {
  for (const auto& uid : collector_.TakeToDelete())
    delete_queue_.Add(uid);
  for (const auto& uid : collector_.TakeToOrphan())
    orphan_queue_.Add(uid);
}

void GarbageCollectorController::Discover() {
  // The resources of the core group and of each group's preferred version.
  std::vector<std::string> group_versions = {"v1"};
  auto groups = client_->Do({.path = "/apis"});
  if (groups.ok()) {
    boost::system::error_code error;
    auto json = boost::json::parse(groups->body, error);
    if (!error && json.is_object() && json.as_object().contains("groups")) {
      for (const auto& group : json.at("groups").as_array()) {
        const auto* preferred = group.as_object().if_contains("preferredVersion");
        if (preferred != nullptr) {
          group_versions.emplace_back(preferred->at("groupVersion").as_string());
        }
      }
    }
  } else {
    KLOG_WARNING("garbage collector: discovery failed: {}", groups.error().message());
  }
  for (const auto& group_version : group_versions) {
    const std::string path = group_version == "v1" ? "/api/v1" : "/apis/" + group_version;
    auto resources = client_->Do({.path = path});
    if (!resources.ok()) continue;
    boost::system::error_code error;
    auto json = boost::json::parse(resources->body, error);
    if (error || !json.is_object() || !json.as_object().contains("resources")) continue;
    const auto [group, version] = SplitApiVersion(group_version);
    for (const auto& resource : json.at("resources").as_array()) {
      const auto& object = resource.as_object();
      const std::string plural(object.at("name").as_string());
      if (plural.find('/') != std::string::npos) continue;  // a subresource
      if (plural == "events") continue;                     // never owned, many
      std::set<std::string> verbs;
      if (const auto* list = object.if_contains("verbs"); list != nullptr && list->is_array()) {
        for (const auto& verb : list->as_array())
          verbs.emplace(verb.as_string());
      }
      if (!verbs.count("list") || !verbs.count("watch") || !verbs.count("delete")) continue;
      const std::string key = group + "/" + plural;
      std::lock_guard lock(mutex_);
      if (stopping_ || informers_.count(key) > 0) continue;
      auto keep = [&](std::string text) -> std::string_view {
        strings_.push_back(std::move(text));
        return strings_.back();
      };
      api::KindInfo info{};
      info.group = keep(group);
      info.version = keep(version);
      info.kind = keep(std::string(object.at("kind").as_string()));
      info.plural = keep(plural);
      info.namespaced = object.at("namespaced").as_bool();
      info.codec = &MetadataCodec();
      kinds_.push_back(info);
      const api::KindInfo& kind = kinds_.back();
      access_->Register(kind);
      auto informer = std::make_unique<client::informers::SharedInformer>(
          client::DynamicResource(client_, kind));
      informer->AddEventHandler({.on_add =
                                     [this](const client::informers::ObjectRef& added, bool) {
                                       collector_.Observe(*added);
                                       Pump();
                                     },
                                 .on_update =
                                     [this](const client::informers::ObjectRef&,
                                            const client::informers::ObjectRef& updated) {
                                       collector_.Observe(*updated);
                                       Pump();
                                     },
                                 .on_delete =
                                     [this](const client::informers::DeletedObject& deleted) {
                                       if (deleted.object)
                                         collector_.ObserveDeleted(*deleted.object);
                                       Pump();
                                     }});
      informer->Run();
      informers_[key] = std::move(informer);
    }
  }
}

void GarbageCollectorController::DeleteWorker() {
  while (auto uid = delete_queue_.Get()) {
    auto status = collector_.AttemptToDelete(*uid);
    if (status.ok()) {
      delete_queue_.Forget(*uid);
    } else {
      KLOG_V(2, "garbage collector: {}: {}", *uid, status.error().message());
      delete_queue_.AddRateLimited(*uid);
    }
    delete_queue_.Done(*uid);
    Pump();
  }
}

void GarbageCollectorController::OrphanWorker() {
  while (auto uid = orphan_queue_.Get()) {
    auto status = collector_.AttemptToOrphan(*uid);
    if (status.ok()) {
      orphan_queue_.Forget(*uid);
    } else {
      KLOG_V(2, "garbage collector: orphaning {}: {}", *uid, status.error().message());
      orphan_queue_.AddRateLimited(*uid);
    }
    orphan_queue_.Done(*uid);
    Pump();
  }
}

void GarbageCollectorController::Run() {
  // The workers start once every kind discovery knows has its mapping and informer: a dependent
  // whose owner's kind is not mapped yet fails and backs off exponentially, which under a slow
  // start outlasted a minute.
  Discover();
  threads_.emplace_back([this] {
    while (true) {
      std::unique_lock lock(mutex_);
      // At most one discovery a second when references name kinds not known yet.
      if (stop_changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) return;
      if (stop_changed_.wait_for(lock, options_.rediscovery,
                                 [&] { return stopping_ || rediscover_; }) &&
          stopping_) {
        return;
      }
      rediscover_ = false;
      lock.unlock();
      Discover();
    }
  });
  for (int i = 0; i < options_.workers; ++i)
    threads_.emplace_back([this] { DeleteWorker(); });
  threads_.emplace_back([this] { OrphanWorker(); });
}

void GarbageCollectorController::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_changed_.notify_all();
  delete_queue_.ShutDown();
  orphan_queue_.ShutDown();
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
  for (auto& [key, informer] : informers_)
    informer->Stop();
}

}  // namespace kpp::controllers
