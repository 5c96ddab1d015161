#include "controllers/replicaset/replica_set.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using api::apps::v1::ReplicaSetCondition;
using api::apps::v1::ReplicaSetStatus;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

constexpr char kReplicaFailure[] = "ReplicaFailure";

bool LabelsContain(const std::map<std::string, std::string>& labels,
                   const std::map<std::string, std::string>& wanted) {
  for (const auto& [key, value] : wanted) {
    auto found = labels.find(key);
    if (found == labels.end() || found->second != value) return false;
  }
  return true;
}

}  // namespace

const ReplicaSetKind& ReplicaSetKindInfo() {
  static const ReplicaSetKind kind{"apps/v1", "ReplicaSet", "replicasets"};
  return kind;
}

const ReplicaSetKind& ReplicationControllerKindInfo() {
  static const ReplicaSetKind kind{"v1", "ReplicationController", "replicationcontrollers"};
  return kind;
}

ReplicaSet FromReplicationController(const api::core::v1::ReplicationController& rc) {
  ReplicaSet rs;
  rs.api_version = "v1";
  rs.kind = "ReplicationController";
  rs.metadata = rc.metadata;
  rs.spec.replicas = rc.spec.replicas;
  rs.spec.min_ready_seconds = rc.spec.min_ready_seconds;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = rc.spec.selector;
  rs.spec.selector = selector;
  if (rc.spec.template_) rs.spec.template_ = *rc.spec.template_;
  rs.status.replicas = rc.status.replicas;
  rs.status.fully_labeled_replicas = rc.status.fully_labeled_replicas;
  rs.status.ready_replicas = rc.status.ready_replicas;
  rs.status.available_replicas = rc.status.available_replicas;
  rs.status.observed_generation = rc.status.observed_generation;
  for (const auto& condition : rc.status.conditions) {
    rs.status.conditions.push_back({condition.type, condition.status,
                                    condition.last_transition_time, condition.reason,
                                    condition.message});
  }
  return rs;
}

Result<Pod> PodFromTemplate(const api::core::v1::PodTemplateSpec& pod_template,
                            const std::string& ns, const std::string& owner_name,
                            const api::meta::v1::OwnerReference& owner_ref) {
  if (pod_template.metadata.labels.empty()) {
    return InvalidError("unable to create pods, no labels");
  }
  Pod pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.metadata.namespace_ = ns;
  pod.metadata.generate_name = owner_name + "-";
  pod.metadata.labels = pod_template.metadata.labels;
  pod.metadata.annotations = pod_template.metadata.annotations;
  pod.metadata.finalizers = pod_template.metadata.finalizers;
  pod.metadata.owner_references.push_back(owner_ref);
  pod.spec = pod_template.spec;
  return pod;
}

ReplicaSetStatus CalculateReplicaSetStatus(const ReplicaSet& rs,
                                           const std::vector<std::shared_ptr<const Pod>>& pods,
                                           const std::optional<Error>& manage_error,
                                           Clock::TimePoint now) {
  ReplicaSetStatus status = rs.status;
  status.replicas = static_cast<int32_t>(pods.size());
  status.fully_labeled_replicas = 0;
  status.ready_replicas = 0;
  status.available_replicas = 0;
  for (const auto& pod : pods) {
    if (LabelsContain(pod->metadata.labels, rs.spec.template_.metadata.labels)) {
      ++status.fully_labeled_replicas;
    }
    if (IsPodReady(*pod)) {
      ++status.ready_replicas;
      if (IsPodAvailable(*pod, rs.spec.min_ready_seconds, now)) ++status.available_replicas;
    }
  }
  auto failure =
      std::find_if(status.conditions.begin(), status.conditions.end(),
                   [](const auto& condition) { return condition.type == kReplicaFailure; });
  if (manage_error && failure == status.conditions.end()) {
    const int32_t want = rs.spec.replicas.value_or(1);
    ReplicaSetCondition condition;
    condition.type = kReplicaFailure;
    condition.status = "True";
    condition.last_transition_time = TimeOf(now);
    condition.reason = static_cast<int32_t>(pods.size()) < want ? "FailedCreate" : "FailedDelete";
    condition.message = manage_error->message();
    status.conditions.push_back(condition);
  } else if (!manage_error && failure != status.conditions.end()) {
    status.conditions.erase(failure);
  }
  status.observed_generation = rs.metadata.generation;
  return status;
}

std::string ReplicaSetStatusPatch(const ReplicaSetStatus& status) {
  boost::json::object fields{{"replicas", status.replicas},
                             {"fullyLabeledReplicas", status.fully_labeled_replicas},
                             {"readyReplicas", status.ready_replicas},
                             {"availableReplicas", status.available_replicas},
                             {"observedGeneration", status.observed_generation}};
  if (status.conditions.empty()) {
    fields["conditions"] = nullptr;
  } else {
    boost::json::array conditions;
    for (const auto& condition : status.conditions) {
      boost::json::object item{{"type", condition.type}, {"status", condition.status}};
      if (!condition.last_transition_time.IsZero()) {
        item["lastTransitionTime"] = condition.last_transition_time.ToString();
      }
      if (!condition.reason.empty()) item["reason"] = condition.reason;
      if (!condition.message.empty()) item["message"] = condition.message;
      conditions.push_back(std::move(item));
    }
    fields["conditions"] = std::move(conditions);
  }
  return boost::json::serialize(boost::json::object{{"status", std::move(fields)}});
}

Result<std::vector<std::shared_ptr<const Pod>>> ReplicaSetSyncer::ClaimPods(
    const ReplicaSet& rs, const labels::Selector& selector) {
  std::vector<std::shared_ptr<const Pod>> owned;
  std::optional<Error> first_error;
  std::optional<Status> can_adopt;  // checked once, before the first adoption
  for (auto& pod : pods_.List(rs.metadata.namespace_)) {
    if (!IsPodActive(*pod)) continue;
    const auto* controller_ref = ControllerRefOf(pod->metadata);
    const bool matches = selector.Matches(pod->metadata.labels);
    if (controller_ref != nullptr) {
      if (controller_ref->uid != rs.metadata.uid) continue;
      if (matches) {
        owned.push_back(pod);
        continue;
      }
      auto released = client_.PatchPod(pod->metadata.namespace_, pod->metadata.name,
                                       ReleasePatch(rs.metadata.uid, pod->metadata.uid));
      if (!released.ok() && !client::IsNotFound(released.error()) && !first_error) {
        first_error = std::move(released).error();
      }
      continue;
    }
    if (!matches || rs.metadata.deletion_timestamp.has_value()) continue;
    if (!can_adopt) can_adopt = CanAdopt(client_, kind_.resource, kind_.kind, rs.metadata);
    if (!can_adopt->ok()) {
      if (!first_error) first_error = can_adopt->error();
      continue;
    }
    auto adopted = client_.PatchPod(
        pod->metadata.namespace_, pod->metadata.name,
        AdoptPatch(ControllerRef(kind_.api_version, kind_.kind, rs.metadata), pod->metadata.uid));
    if (adopted.ok()) {
      owned.push_back(pod);
    } else if (!client::IsNotFound(adopted.error()) && !first_error) {
      first_error = std::move(adopted).error();
    }
  }
  if (first_error) return *first_error;
  return owned;
}

Status ReplicaSetSyncer::ManageReplicas(const std::string& key,
                                        const std::vector<std::shared_ptr<const Pod>>& pods,
                                        const ReplicaSet& rs) {
  const int want = rs.spec.replicas.value_or(1);
  int diff = static_cast<int>(pods.size()) - want;
  const auto reference = ReferenceOf(kind_.api_version, kind_.kind, rs.metadata);
  if (diff < 0) {
    diff = std::min(-diff, burst_replicas_);
    expectations_.Expect(key, diff);
    const auto owner_ref = ControllerRef(kind_.api_version, kind_.kind, rs.metadata);
    KLOG_V(2, "too few replicas for {} {}, need {}, creating {}", kind_.kind, key, want, diff);
    auto batch = SlowStartBatch(diff, 1, [&]() -> Status {
      auto pod =
          PodFromTemplate(rs.spec.template_, rs.metadata.namespace_, rs.metadata.name, owner_ref);
      if (!pod.ok()) return std::move(pod).error();
      auto created = client_.CreatePod(*pod);
      if (!created.ok()) {
        events_.Event(reference, "Warning", "FailedCreate",
                      fmt::format("Error creating: {}", created.error().message()));
        return std::move(created).error();
      }
      events_.Event(reference, "Normal", "SuccessfulCreate",
                    fmt::format("Created pod: {}", created->metadata.name));
      return Ok();
    });
    // The pods never created will never be observed.
    if (const int skipped = diff - batch.successes; skipped > 0) {
      expectations_.CreationObserved(key, skipped);
    }
    if (batch.error) return *batch.error;
    return Ok();
  }
  if (diff > 0) {
    diff = std::min(diff, burst_replicas_);
    auto ranked = pods;
    SortPodsForDeletion(ranked, clock_.Now());
    ranked.resize(diff);
    std::set<std::string> deleting;
    for (const auto& pod : ranked)
      deleting.insert(KeyOf(pod->metadata));
    expectations_.Expect(key, 0, deleting);
    KLOG_V(2, "too many replicas for {} {}, need {}, deleting {}", kind_.kind, key, want, diff);
    std::optional<Error> first_error;
    for (const auto& pod : ranked) {
      auto deleted = client_.DeletePod(pod->metadata.namespace_, pod->metadata.name);
      if (!deleted.ok()) {
        expectations_.DeletionObserved(key, KeyOf(pod->metadata));
        if (client::IsNotFound(deleted.error())) continue;
        events_.Event(reference, "Warning", "FailedDelete",
                      fmt::format("Error deleting: {}", deleted.error().message()));
        if (!first_error) first_error = std::move(deleted).error();
        continue;
      }
      events_.Event(reference, "Normal", "SuccessfulDelete",
                    fmt::format("Deleted pod: {}", pod->metadata.name));
    }
    if (first_error) return *first_error;
  }
  return Ok();
}

SyncResult ReplicaSetSyncer::Sync(const std::string& key, const ReplicaSet* rs) {
  if (rs == nullptr) {
    expectations_.Delete(key);
    return {};
  }
  auto selector = SelectorOf(rs->spec.selector ? &*rs->spec.selector : nullptr);
  if (!selector.ok()) {
    // A selector the API server should have refused; retrying cannot help.
    KLOG_ERROR("{} {} has an invalid selector: {}", kind_.kind, key, selector.error().message());
    return {};
  }
  const bool needs_sync =
      expectations_.Satisfied(key) && !rs->metadata.deletion_timestamp.has_value();
  auto pods = ClaimPods(*rs, *selector);
  if (!pods.ok()) return {std::move(pods).error(), std::nullopt};
  std::optional<Error> manage_error;
  if (needs_sync) {
    if (auto status = ManageReplicas(key, *pods, *rs); !status.ok()) {
      manage_error = std::move(status).error();
    }
  }
  const auto now = clock_.Now();
  auto status = CalculateReplicaSetStatus(*rs, *pods, manage_error, now);
  SyncResult result;
  if (status != rs->status) {
    auto written = client_.PatchStatus(kind_.resource, rs->metadata.namespace_, rs->metadata.name,
                                       ReplicaSetStatusPatch(status));
    if (!written.ok()) {
      result.status = std::move(written).error();
      return result;
    }
  }
  if (manage_error) {
    result.status = *manage_error;
    return result;
  }
  const int want = rs->spec.replicas.value_or(1);
  if (rs->spec.min_ready_seconds > 0 && status.ready_replicas == want &&
      status.available_replicas != want) {
    result.requeue_after = std::chrono::seconds(rs->spec.min_ready_seconds);
  }
  return result;
}

// --- the controller around the syncer ---

namespace {

const api::KindInfo& OwnerKindInfo(const ReplicaSetKind& kind) {
  if (kind.kind == "ReplicationController") {
    return client::KindFor<api::core::v1::ReplicationController>();
  }
  return client::KindFor<ReplicaSet>();
}

}  // namespace

ReplicaSetController::ReplicaSetController(ReplicaSetKind kind,
                                           client::informers::SharedInformerFactory& factory,
                                           ControllerClient& client, EventSink& events,
                                           ReplicaSetControllerOptions options, Clock& clock)
    : kind_(std::move(kind)),
      owners_informer_(factory.InformerFor(OwnerKindInfo(kind_))),
      pods_informer_(factory.InformerFor<Pod>()),
      pods_(pods_informer_),
      client_(client),
      events_(events),
      options_(options),
      clock_(clock),
      expectations_(clock),
      syncer_(kind_, pods_, client_, events_, expectations_, clock_),
      workers_(queue_,
               [this](const std::string& key) -> KeySyncResult {
                 const auto [ns, name] = SplitKey(key);
                 auto rs = Lookup(ns, name);
                 return syncer_.Sync(key, rs.get());
               },
               {.what = "syncing " + kind_.kind}) {
  owners_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { Enqueue(object->metadata()); },
       .on_update = [this](const ObjectRef&,
                           const ObjectRef& object) { Enqueue(object->metadata()); },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) {
               expectations_.Delete(KeyOf(deleted.object->metadata()));
               Enqueue(deleted.object->metadata());
             }
           }});
  pods_informer_.AddEventHandler(
      {.on_add =
           [this](const ObjectRef& object, bool) {
             if (auto pod = As<Pod>(object)) OnPodAdd(*pod);
           },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             auto old_pod = As<Pod>(old_object);
             auto new_pod = As<Pod>(new_object);
             if (old_pod && new_pod) OnPodUpdate(*old_pod, *new_pod);
           },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (auto pod = As<Pod>(deleted.object)) OnPodDelete(*pod);
           }});
}

ReplicaSetController::~ReplicaSetController() {
  Stop();
}

void ReplicaSetController::Enqueue(const api::meta::v1::ObjectMeta& metadata) {
  queue_.Add(KeyOf(metadata));
}

std::shared_ptr<const ReplicaSet> ReplicaSetController::Lookup(const std::string& ns,
                                                               const std::string& name) const {
  if (kind_.kind == "ReplicationController") {
    client::informers::Lister<api::core::v1::ReplicationController> lister(owners_informer_);
    auto rc = lister.Get(ns, name);
    if (!rc) return nullptr;
    return std::make_shared<const ReplicaSet>(FromReplicationController(*rc));
  }
  return client::informers::Lister<ReplicaSet>(owners_informer_).Get(ns, name);
}

std::vector<std::shared_ptr<const ReplicaSet>> ReplicaSetController::ListOwners(
    const std::string& ns) const {
  if (kind_.kind == "ReplicationController") {
    client::informers::Lister<api::core::v1::ReplicationController> lister(owners_informer_);
    std::vector<std::shared_ptr<const ReplicaSet>> out;
    for (const auto& rc : lister.ListNamespace(ns)) {
      out.push_back(std::make_shared<const ReplicaSet>(FromReplicationController(*rc)));
    }
    return out;
  }
  return client::informers::Lister<ReplicaSet>(owners_informer_).ListNamespace(ns);
}

std::string ReplicaSetController::OwnerKey(const Pod& pod) const {
  const auto* ref = ControllerRefOf(pod.metadata);
  if (ref == nullptr || ref->kind != kind_.kind) return "";
  auto owner = Lookup(pod.metadata.namespace_, ref->name);
  if (!owner || owner->metadata.uid != ref->uid) return "";
  return KeyOf(owner->metadata);
}

void ReplicaSetController::EnqueueMatching(const Pod& pod) {
  for (const auto& rs : ListOwners(pod.metadata.namespace_)) {
    auto selector = SelectorOf(rs->spec.selector ? &*rs->spec.selector : nullptr);
    if (selector.ok() && !selector->Empty() && selector->Matches(pod.metadata.labels)) {
      Enqueue(rs->metadata);
    }
  }
}

void ReplicaSetController::OnPodAdd(const Pod& pod) {
  if (pod.metadata.deletion_timestamp) {
    OnPodDelete(pod);
    return;
  }
  if (ControllerRefOf(pod.metadata) != nullptr) {
    const std::string key = OwnerKey(pod);
    if (key.empty()) return;
    expectations_.CreationObserved(key);
    queue_.Add(key);
    return;
  }
  EnqueueMatching(pod);
}

void ReplicaSetController::OnPodUpdate(const Pod& old_pod, const Pod& new_pod) {
  if (new_pod.metadata.resource_version == old_pod.metadata.resource_version) return;
  if (new_pod.metadata.deletion_timestamp) {
    OnPodDelete(new_pod);
    if (old_pod.metadata.labels != new_pod.metadata.labels) OnPodDelete(old_pod);
    return;
  }
  const std::string old_key = OwnerKey(old_pod);
  const std::string new_key = OwnerKey(new_pod);
  if (!old_key.empty() && old_key != new_key) queue_.Add(old_key);
  if (!new_key.empty()) {
    queue_.Add(new_key);
    // A pod that just became ready turns available after minReadySeconds.
    if (!IsPodReady(old_pod) && IsPodReady(new_pod)) {
      const auto [ns, name] = SplitKey(new_key);
      auto owner = Lookup(ns, name);
      if (owner && owner->spec.min_ready_seconds > 0) {
        queue_.AddAfter(new_key, std::chrono::seconds(owner->spec.min_ready_seconds + 1));
      }
    }
    return;
  }
  if (ControllerRefOf(new_pod.metadata) == nullptr &&
      (old_pod.metadata.labels != new_pod.metadata.labels || !old_key.empty())) {
    EnqueueMatching(new_pod);
  }
}

void ReplicaSetController::OnPodDelete(const Pod& pod) {
  const std::string key = OwnerKey(pod);
  if (key.empty()) return;
  expectations_.DeletionObserved(key, KeyOf(pod.metadata));
  queue_.Add(key);
}

void ReplicaSetController::Run() {
  workers_.Start(options_.workers);
}

void ReplicaSetController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
