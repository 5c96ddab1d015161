#include "controllers/disruption/disruption.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>

#include "apimachinery/intstr/int_or_string.h"
#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using api::apps::v1::StatefulSet;
using api::core::v1::ReplicationController;
using api::meta::v1::OwnerReference;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

std::string GroupOf(const std::string& api_version) {
  const auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

bool IsKind(const OwnerReference& ref, std::string_view kind,
            std::initializer_list<std::string_view> groups) {
  if (ref.kind != kind) return false;
  const std::string group = GroupOf(ref.api_version);
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

intstr::IntOrString Convert(const api::IntOrString& value) {
  return value.is_string ? intstr::IntOrString::FromString(value.string_value)
                         : intstr::IntOrString::FromInt32(value.int_value);
}

// apimeta.SetStatusCondition: the transition time moves only when the status changes.
void SetStatusCondition(std::vector<api::meta::v1::Condition>& conditions,
                        api::meta::v1::Condition condition, api::Time now) {
  for (auto& existing : conditions) {
    if (existing.type != condition.type) continue;
    if (existing.status != condition.status) {
      existing.status = condition.status;
      existing.last_transition_time = now;
    }
    existing.reason = condition.reason;
    existing.message = condition.message;
    existing.observed_generation = condition.observed_generation;
    return;
  }
  condition.last_transition_time = now;
  conditions.push_back(std::move(condition));
}

// Whether the DisruptionAllowed condition already says what status.disruptionsAllowed does
// (upstream's ConditionsAreUpToDate).
bool ConditionsAreUpToDate(const PodDisruptionBudget& pdb) {
  if (pdb.status.observed_generation != pdb.metadata.generation) return false;
  for (const auto& condition : pdb.status.conditions) {
    if (condition.type != kDisruptionAllowedCondition) continue;
    if (pdb.status.disruptions_allowed > 0) {
      return condition.status == "True" && condition.reason == kSufficientPodsReason;
    }
    return condition.status == "False" && condition.reason == kInsufficientPodsReason;
  }
  return false;
}

api::core::v1::ObjectReference BudgetReference(const PodDisruptionBudget& pdb) {
  return ReferenceOf("policy/v1", "PodDisruptionBudget", pdb.metadata);
}

std::string SelectorText(const PodDisruptionBudget& pdb) {
  auto selector = SelectorOf(pdb.spec.selector ? &*pdb.spec.selector : nullptr);
  return selector.ok() ? selector->String() : "";
}

}  // namespace

void UpdateDisruptionAllowedCondition(PodDisruptionBudget& pdb, api::Time now) {
  api::meta::v1::Condition condition;
  condition.type = kDisruptionAllowedCondition;
  condition.observed_generation = pdb.status.observed_generation;
  if (pdb.status.disruptions_allowed > 0) {
    condition.status = "True";
    condition.reason = kSufficientPodsReason;
  } else {
    condition.status = "False";
    condition.reason = kInsufficientPodsReason;
  }
  SetStatusCondition(pdb.status.conditions, std::move(condition), now);
}

std::optional<std::chrono::seconds> StaleDisruptionWait(const Pod& pod, api::Time now) {
  if (pod.metadata.deletion_timestamp) return std::nullopt;
  if (pod.status.phase == "Succeeded" || pod.status.phase == "Failed") return std::nullopt;
  for (const auto& condition : pod.status.conditions) {
    if (condition.type != "DisruptionTarget") continue;
    if (condition.status != "True" || condition.reason == "TerminationByKubelet") {
      return std::nullopt;
    }
    const int64_t age = now.unix_seconds - condition.last_transition_time.unix_seconds;
    return std::chrono::seconds(std::max<int64_t>(0, kStalePodDisruptionTimeout.count() - age));
  }
  return std::nullopt;
}

// --- the REST client ---

Status RestDisruptionClient::UpdateStatus(const PodDisruptionBudget& pdb) {
  auto updated = client::TypedResource<PodDisruptionBudget>(client_, pdb.metadata.namespace_)
                     .UpdateStatus(pdb);
  if (!updated.ok()) return std::move(updated).error();
  return Ok();
}

Result<std::optional<ControllerScale>> RestDisruptionClient::GetScale(const OwnerReference& ref,
                                                                      const std::string& ns) {
  if (ref.api_version.empty()) return InvalidError("owner reference without apiVersion");
  // Upstream's RESTMapper: the kind's resource, from discovery.
  KPP_ASSIGN_OR_RETURN(auto mapping, discovery_.ResourceFor(ref.api_version, ref.kind));
  if (!mapping.HasSubresource("scale")) {
    return InvalidError(fmt::format("{}{}{} does not implement the scale subresource",
                                    mapping.resource, mapping.group.empty() ? "" : ".",
                                    mapping.group));
  }
  auto response =
      client_->Do({.path = fmt::format("{}/namespaces/{}/{}/{}/scale", mapping.GroupVersionPath(),
                                       ns, mapping.resource, ref.name)});
  if (!response.ok()) {
    if (client::IsNotFound(response.error())) return std::optional<ControllerScale>();
    return std::move(response).error();
  }
  boost::system::error_code parse_error;
  auto scale = boost::json::parse(response->body, parse_error);
  if (parse_error || !scale.is_object()) return InternalError("scale: not JSON");
  ControllerScale found;
  if (const auto* uid = scale.as_object().if_contains("metadata");
      uid != nullptr && uid->is_object()) {
    if (const auto* value = uid->as_object().if_contains("uid"); value && value->is_string()) {
      found.uid = std::string(value->as_string());
    }
  }
  if (const auto* spec = scale.as_object().if_contains("spec"); spec && spec->is_object()) {
    if (const auto* replicas = spec->as_object().if_contains("replicas");
        replicas && replicas->is_int64()) {
      found.replicas = static_cast<int32_t>(replicas->as_int64());
    }
  }
  return std::optional<ControllerScale>(found);
}

Status RestDisruptionClient::ResetDisruptionTarget(const std::string& ns, const std::string& name,
                                                   api::Time now) {
  const std::string body =
      fmt::format(R"({{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{}","namespace":"{}"}},)"
                  R"("status":{{"conditions":[{{"type":"DisruptionTarget","status":"False",)"
                  R"("lastTransitionTime":"{}"}}]}}}})",
                  name, ns, now.ToString());
  client::WriteOptions options;
  options.field_manager = "DisruptionController";
  options.force = true;
  auto applied = client::TypedResource<Pod>(client_, ns)
                     .Patch(name, client::PatchType::kApply, body, options, "status");
  if (!applied.ok()) return std::move(applied).error();
  return Ok();
}

// --- the sync ---

Result<std::vector<std::shared_ptr<const Pod>>> DisruptionSyncer::PodsFor(
    const PodDisruptionBudget& pdb) const {
  KPP_ASSIGN_OR_RETURN(auto selector,
                       SelectorOf(pdb.spec.selector ? &*pdb.spec.selector : nullptr));
  std::vector<std::shared_ptr<const Pod>> pods;
  for (const auto& pod : listers_.pods.List(pdb.metadata.namespace_)) {
    if (selector.Matches(pod->metadata.labels)) pods.push_back(pod);
  }
  return pods;
}

// Upstream's finders, in upstream's order: ReplicationController, Deployment (through its
// ReplicaSet), ReplicaSet, StatefulSet, then any kind with a scale subresource.
Result<std::optional<ControllerScale>> DisruptionSyncer::FindController(const OwnerReference& ref,
                                                                        const std::string& ns) {
  using Found = std::optional<ControllerScale>;
  if (IsKind(ref, "ReplicationController", {""})) {
    auto rc = listers_.replication_controllers.Get(ns, ref.name);
    if (rc && rc->metadata.uid == ref.uid) {
      return Found(ControllerScale{rc->metadata.uid, rc->spec.replicas.value_or(1)});
    }
  }
  if (IsKind(ref, "ReplicaSet", {"apps", "extensions"})) {
    auto rs = listers_.replica_sets.Get(ns, ref.name);
    if (rs && rs->metadata.uid == ref.uid) {
      const auto* owner = ControllerRefOf(rs->metadata);
      if (owner != nullptr && owner->kind == "Deployment") {
        if (IsKind(*owner, "Deployment", {"apps", "extensions"})) {
          auto deployment = listers_.deployments.Get(ns, owner->name);
          if (deployment && deployment->metadata.uid == owner->uid) {
            return Found(
                ControllerScale{deployment->metadata.uid, deployment->spec.replicas.value_or(1)});
          }
        }
      } else {
        return Found(ControllerScale{rs->metadata.uid, rs->spec.replicas.value_or(1)});
      }
    }
  }
  if (IsKind(ref, "StatefulSet", {"apps"})) {
    auto set = listers_.stateful_sets.Get(ns, ref.name);
    if (set && set->metadata.uid == ref.uid) {
      return Found(ControllerScale{set->metadata.uid, set->spec.replicas.value_or(1)});
    }
  }
  KPP_ASSIGN_OR_RETURN(auto scale, client_.GetScale(ref, ns));
  if (!scale || scale->uid != ref.uid) return Found();
  return scale;
}

Status DisruptionSyncer::ExpectedScale(const std::vector<std::shared_ptr<const Pod>>& pods,
                                       int32_t& expected, std::vector<std::string>& unmanaged) {
  // The sum of the scales of the pods' controllers, each counted once.
  std::map<std::string, int32_t> scale_by_controller;
  std::set<std::string> seen_refs;
  for (const auto& pod : pods) {
    const auto* ref = ControllerRefOf(pod->metadata);
    if (ref == nullptr) {
      unmanaged.push_back(pod->metadata.name);
      continue;
    }
    if (seen_refs.contains(ref->uid)) continue;
    KPP_ASSIGN_OR_RETURN(auto found, FindController(*ref, pod->metadata.namespace_));
    if (!found) {
      return InternalError(fmt::format("found no controllers for pod \"{}\"", pod->metadata.name));
    }
    seen_refs.insert(ref->uid);
    scale_by_controller[found->uid] = found->replicas;
  }
  expected = 0;
  for (const auto& [uid, replicas] : scale_by_controller)
    expected += replicas;
  return Ok();
}

Status DisruptionSyncer::ExpectedPodCount(const PodDisruptionBudget& pdb,
                                          const std::vector<std::shared_ptr<const Pod>>& pods,
                                          int32_t& expected, int32_t& desired_healthy,
                                          std::vector<std::string>& unmanaged) {
  expected = 0;
  desired_healthy = 0;
  if (pdb.spec.max_unavailable) {
    KPP_RETURN_IF_ERROR(ExpectedScale(pods, expected, unmanaged));
    KPP_ASSIGN_OR_RETURN(
        auto max_unavailable,
        intstr::GetScaledValueFromIntOrPercent(Convert(*pdb.spec.max_unavailable), expected, true));
    desired_healthy = std::max<int32_t>(0, expected - static_cast<int32_t>(max_unavailable));
  } else if (pdb.spec.min_available) {
    if (!pdb.spec.min_available->is_string) {
      desired_healthy = pdb.spec.min_available->int_value;
      expected = static_cast<int32_t>(pods.size());
    } else {
      KPP_RETURN_IF_ERROR(ExpectedScale(pods, expected, unmanaged));
      KPP_ASSIGN_OR_RETURN(
          auto min_available,
          intstr::GetScaledValueFromIntOrPercent(Convert(*pdb.spec.min_available), expected, true));
      desired_healthy = static_cast<int32_t>(min_available);
    }
  }
  return Ok();
}

DisruptionSyncResult DisruptionSyncer::TrySync(const PodDisruptionBudget& pdb) {
  DisruptionSyncResult result;
  auto pods = PodsFor(pdb);
  if (!pods.ok()) {
    events_.Event(BudgetReference(pdb), "Warning", "NoPods",
                  "Failed to get pods: " + pods.error().message());
    result.status = std::move(pods).error();
    return result;
  }
  if (pods->empty())
    events_.Event(BudgetReference(pdb), "Normal", "NoPods", "No matching pods found");
  int32_t expected = 0;
  int32_t desired_healthy = 0;
  std::vector<std::string> unmanaged;
  if (auto counted = ExpectedPodCount(pdb, *pods, expected, desired_healthy, unmanaged);
      !counted.ok()) {
    events_.Event(BudgetReference(pdb), "Warning", "CalculateExpectedPodCountFailed",
                  "Failed to calculate the number of expected pods: " + counted.error().message());
    result.status = counted;
    return result;
  }
  if (!unmanaged.empty()) {
    events_.Event(
        BudgetReference(pdb), "Warning", "UnmanagedPods",
        fmt::format("Pods selected by this PodDisruptionBudget (selector: {}) were found to be "
                    "unmanaged. As a result, the status of the PDB cannot be calculated "
                    "correctly, which may result in undefined behavior. To account for these pods "
                    "please set \".spec.minAvailable\" field of the PDB to an integer value.",
                    SelectorText(pdb)));
  }

  const api::Time now = TimeOf(clock_.Now());
  const int64_t timeout = kDisruptionDeletionTimeout.count();
  // Entries of pods still there and not being deleted are kept until they expire.
  std::map<std::string, api::Time> disrupted;
  std::optional<int64_t> recheck_at;
  for (const auto& pod : *pods) {
    if (pod->metadata.deletion_timestamp) continue;
    auto entry = pdb.status.disrupted_pods.find(pod->metadata.name);
    if (entry == pdb.status.disrupted_pods.end()) continue;
    const int64_t expected_deletion = entry->second.unix_seconds + timeout;
    if (expected_deletion < now.unix_seconds) {
      KLOG_V(1, "disruption: pod {}/{} was expected to be deleted but it wasn't",
             pod->metadata.namespace_, pod->metadata.name);
      events_.Event(ReferenceOf("v1", "Pod", pod->metadata), "Warning", "NotDeleted",
                    fmt::format("Pod was expected by PDB {}/{} to be deleted but it wasn't",
                                pdb.metadata.namespace_, pdb.metadata.name));
      continue;
    }
    if (!recheck_at || expected_deletion < *recheck_at) recheck_at = expected_deletion;
    disrupted[pod->metadata.name] = entry->second;
  }
  int32_t current_healthy = 0;
  for (const auto& pod : *pods) {
    if (pod->metadata.deletion_timestamp) continue;
    auto entry = disrupted.find(pod->metadata.name);
    if (entry != disrupted.end() && entry->second.unix_seconds + timeout > now.unix_seconds) {
      continue;
    }
    if (IsPodReady(*pod)) ++current_healthy;
  }

  // No disruption is allowed while no pod is expected: the budget is then safe when its first
  // pods appear before it is synced again.
  int32_t allowed = current_healthy - desired_healthy;
  if (expected <= 0 || allowed <= 0) allowed = 0;
  const auto& status = pdb.status;
  const bool up_to_date =
      status.current_healthy == current_healthy && status.desired_healthy == desired_healthy &&
      status.expected_pods == expected && status.disruptions_allowed == allowed &&
      status.disrupted_pods == disrupted && status.observed_generation == pdb.metadata.generation &&
      ConditionsAreUpToDate(pdb);
  if (!up_to_date) {
    PodDisruptionBudget updated = pdb;
    updated.status.current_healthy = current_healthy;
    updated.status.desired_healthy = desired_healthy;
    updated.status.expected_pods = expected;
    updated.status.disruptions_allowed = allowed;
    updated.status.disrupted_pods = std::move(disrupted);
    updated.status.observed_generation = pdb.metadata.generation;
    UpdateDisruptionAllowedCondition(updated, now);
    result.status = client_.UpdateStatus(updated);
  }
  if (result.status.ok() && recheck_at) {
    result.requeue_after =
        std::chrono::seconds(std::max<int64_t>(1, *recheck_at - now.unix_seconds));
  }
  return result;
}

Status DisruptionSyncer::FailSafe(const PodDisruptionBudget& pdb, const Error& error) {
  // Fail closed: whatever went wrong, the eviction subresource allows no disruption.
  PodDisruptionBudget updated = pdb;
  updated.status.disruptions_allowed = 0;
  api::meta::v1::Condition condition;
  condition.type = kDisruptionAllowedCondition;
  condition.status = "False";
  condition.reason = kSyncFailedReason;
  condition.message = error.message();
  condition.observed_generation = updated.status.observed_generation;
  SetStatusCondition(updated.status.conditions, std::move(condition), TimeOf(clock_.Now()));
  return client_.UpdateStatus(updated);
}

DisruptionSyncResult DisruptionSyncer::Sync(const PodDisruptionBudget& pdb) {
  auto result = TrySync(pdb);
  if (result.status.ok() || client::IsConflict(result.status.error())) return result;
  KLOG_ERROR("disruption: syncing PDB {}/{}: {}", pdb.metadata.namespace_, pdb.metadata.name,
             result.status.error().message());
  // As upstream: once the fail-safe status is written, the budget waits for its next resync.
  result.status = FailSafe(pdb, result.status.error());
  result.requeue_after.reset();
  return result;
}

DisruptionSyncResult DisruptionSyncer::SyncStalePodDisruption(const Pod& pod) {
  DisruptionSyncResult result;
  const api::Time now = TimeOf(clock_.Now());
  auto wait = StaleDisruptionWait(pod, now);
  if (!wait) return result;
  if (wait->count() > 0) {
    result.requeue_after = *wait;
    return result;
  }
  result.status = client_.ResetDisruptionTarget(pod.metadata.namespace_, pod.metadata.name, now);
  if (result.status.ok()) {
    KLOG_V(2, "disruption: reset stale DisruptionTarget condition of pod {}/{} to False",
           pod.metadata.namespace_, pod.metadata.name);
  }
  return result;
}

// --- the controller ---

DisruptionController::DisruptionController(client::informers::SharedInformerFactory& factory,
                                           DisruptionClient& client, EventSink& events,
                                           DisruptionControllerOptions options, Clock& clock)
    : pdbs_informer_(factory.InformerFor<PodDisruptionBudget>()),
      pods_informer_(factory.InformerFor<Pod>()),
      pods_(pods_informer_),
      replica_sets_(factory.InformerFor<ReplicaSet>()),
      deployments_(factory.InformerFor<Deployment>()),
      stateful_sets_(factory.InformerFor<StatefulSet>()),
      replication_controllers_(factory.InformerFor<ReplicationController>()),
      options_(options),
      clock_(clock),
      syncer_({pods_, replica_sets_, deployments_, stateful_sets_, replication_controllers_},
              client, events, clock),
      workers_(queue_,
               SyncCached<PodDisruptionBudget>(
                   pdbs_informer_,
                   [this](const std::string&, const PodDisruptionBudget* pdb) {
                     return pdb != nullptr ? syncer_.Sync(*pdb) : DisruptionSyncResult{};
                   }),
               {.what = "disruption: syncing"}),
      stale_pod_workers_(stale_pods_queue_,
                         SyncCached<Pod>(pods_informer_,
                                         [this](const std::string&, const Pod* pod) {
                                           return pod != nullptr
                                                      ? syncer_.SyncStalePodDisruption(*pod)
                                                      : DisruptionSyncResult{};
                                         }),
                         {.what = "disruption: resetting DisruptionTarget of"}) {
  auto enqueue = [this](const ObjectRef& object) {
    if (object) queue_.Add(KeyOf(object->metadata()));
  };
  pdbs_informer_.AddEventHandler(
      {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object); },
       .on_update = [enqueue](const ObjectRef&, const ObjectRef& object) { enqueue(object); },
       .on_delete = [enqueue](const DeletedObject& deleted) { enqueue(deleted.object); }},
      options_.resync_period);
  pods_informer_.AddEventHandler(
      {.on_add =
           [this](const ObjectRef& object, bool) {
             if (auto pod = As<Pod>(object)) {
               EnqueueForPod(*pod);
               EnqueueIfDisruptionTarget(*pod);
             }
           },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             auto old_pod = As<Pod>(old_object);
             auto new_pod = As<Pod>(new_object);
             if (!new_pod) return;
             if (old_pod &&
                 old_pod->metadata.resource_version == new_pod->metadata.resource_version)
               return;
             EnqueueForPod(*new_pod);
             EnqueueIfDisruptionTarget(*new_pod);
             if (old_pod && old_pod->metadata.labels != new_pod->metadata.labels) {
               EnqueueForPod(*old_pod);
             }
           },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (auto pod = As<Pod>(deleted.object)) EnqueueForPod(*pod);
           }});
}

DisruptionController::~DisruptionController() {
  Stop();
}

void DisruptionController::EnqueueForPod(const Pod& pod) {
  if (pod.metadata.labels.empty()) return;
  client::informers::Lister<PodDisruptionBudget> budgets(pdbs_informer_);
  for (const auto& pdb : budgets.ListNamespace(pod.metadata.namespace_)) {
    auto selector = SelectorOf(pdb->spec.selector ? &*pdb->spec.selector : nullptr);
    if (selector.ok() && selector->Matches(pod.metadata.labels)) {
      queue_.Add(KeyOf(pdb->metadata));
    }
  }
}

void DisruptionController::EnqueueIfDisruptionTarget(const Pod& pod) {
  auto wait = StaleDisruptionWait(pod, TimeOf(clock_.Now()));
  if (!wait) return;
  if (wait->count() > 0) {
    stale_pods_queue_.AddAfter(KeyOf(pod.metadata), *wait);
  } else {
    stale_pods_queue_.Add(KeyOf(pod.metadata));
  }
}

void DisruptionController::Run() {
  workers_.Start(options_.workers);
  stale_pod_workers_.Start(1);
}

void DisruptionController::Stop() {
  workers_.Stop();
  stale_pod_workers_.Stop();
}

}  // namespace kpp::controllers
