#include "controllers/statefulset/stateful_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

constexpr char kApiVersion[] = "apps/v1";
constexpr char kKind[] = "StatefulSet";

bool IsTerminating(const Pod& pod) {
  return pod.metadata.deletion_timestamp.has_value();
}
bool IsFinished(const Pod& pod) {
  return pod.status.phase == "Failed" || pod.status.phase == "Succeeded";
}
bool IsRunningAndReady(const Pod& pod) {
  return pod.status.phase == "Running" && IsPodReady(pod);
}
bool IsHealthy(const Pod& pod) {
  return IsRunningAndReady(pod) && !IsTerminating(pod);
}
std::string RevisionOf(const Pod& pod) {
  auto found = pod.metadata.labels.find(kControllerRevisionHashLabel);
  return found == pod.metadata.labels.end() ? "" : found->second;
}
int32_t Replicas(const StatefulSet& set) {
  return set.spec.replicas.value_or(1);
}
int32_t StartOrdinal(const StatefulSet& set) {
  return set.spec.ordinals ? set.spec.ordinals->start : 0;
}
bool DeleteClaimsWhen(const StatefulSet& set, bool scaled) {
  const auto& policy = set.spec.persistent_volume_claim_retention_policy;
  if (!policy) return false;
  return (scaled ? policy->when_scaled : policy->when_deleted) == "Delete";
}

}  // namespace

int ParseOrdinal(const std::string& set_name, const std::string& pod_name) {
  if (pod_name.size() <= set_name.size() + 1 ||
      pod_name.compare(0, set_name.size(), set_name) != 0 || pod_name[set_name.size()] != '-') {
    return -1;
  }
  const std::string digits = pod_name.substr(set_name.size() + 1);
  if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoi(digits);
}

std::string ClaimName(const std::string& claim_template, const std::string& set_name, int ordinal) {
  return fmt::format("{}-{}-{}", claim_template, set_name, ordinal);
}

std::vector<PersistentVolumeClaim> ClaimsFor(const StatefulSet& set, int ordinal) {
  std::vector<PersistentVolumeClaim> out;
  for (const auto& claim_template : set.spec.volume_claim_templates) {
    PersistentVolumeClaim claim;
    claim.api_version = "v1";
    claim.kind = "PersistentVolumeClaim";
    claim.metadata.name = ClaimName(claim_template.metadata.name, set.metadata.name, ordinal);
    claim.metadata.namespace_ = set.metadata.namespace_;
    claim.metadata.labels = claim_template.metadata.labels;
    claim.metadata.annotations = claim_template.metadata.annotations;
    if (set.spec.selector) {
      for (const auto& [key, value] : set.spec.selector->match_labels)
        claim.metadata.labels[key] = value;
    }
    claim.spec = claim_template.spec;
    if (DeleteClaimsWhen(set, /*scaled=*/false)) {
      claim.metadata.owner_references.push_back(ControllerRef(kApiVersion, kKind, set.metadata));
    }
    out.push_back(std::move(claim));
  }
  return out;
}

Pod NewStatefulSetPod(const StatefulSet& set, const api::core::v1::PodTemplateSpec& pod_template,
                      const std::string& revision_name, int ordinal) {
  Pod pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.metadata.name = fmt::format("{}-{}", set.metadata.name, ordinal);
  pod.metadata.namespace_ = set.metadata.namespace_;
  pod.metadata.labels = pod_template.metadata.labels;
  pod.metadata.annotations = pod_template.metadata.annotations;
  pod.metadata.finalizers = pod_template.metadata.finalizers;
  pod.metadata.owner_references.push_back(ControllerRef(kApiVersion, kKind, set.metadata));
  pod.metadata.labels[kStatefulSetPodNameLabel] = pod.metadata.name;
  pod.metadata.labels[kPodIndexLabel] = std::to_string(ordinal);
  pod.metadata.labels[kControllerRevisionHashLabel] = revision_name;
  pod.spec = pod_template.spec;
  pod.spec.hostname = pod.metadata.name;
  pod.spec.subdomain = set.spec.service_name;
  for (const auto& claim_template : set.spec.volume_claim_templates) {
    api::core::v1::Volume volume;
    volume.name = claim_template.metadata.name;
    volume.volume_source.persistent_volume_claim.emplace();
    volume.volume_source.persistent_volume_claim->claim_name =
        ClaimName(claim_template.metadata.name, set.metadata.name, ordinal);
    auto existing = std::find_if(pod.spec.volumes.begin(), pod.spec.volumes.end(),
                                 [&](const auto& v) { return v.name == volume.name; });
    if (existing != pod.spec.volumes.end()) {
      *existing = std::move(volume);
    } else {
      pod.spec.volumes.push_back(std::move(volume));
    }
  }
  return pod;
}

std::string StatefulSetStatusPatch(const api::apps::v1::StatefulSetStatus& status) {
  boost::json::object fields;
  fields["observedGeneration"] = status.observed_generation;
  fields["replicas"] = status.replicas;
  fields["readyReplicas"] = status.ready_replicas;
  fields["currentReplicas"] = status.current_replicas;
  fields["updatedReplicas"] = status.updated_replicas;
  fields["availableReplicas"] = status.available_replicas;
  fields["currentRevision"] = status.current_revision;
  fields["updateRevision"] = status.update_revision;
  if (status.collision_count) {
    fields["collisionCount"] = *status.collision_count;
  } else {
    fields["collisionCount"] = nullptr;
  }
  boost::json::object patch;
  patch["status"] = std::move(fields);
  return boost::json::serialize(patch);
}

struct StatefulSetSyncer::Context {
  std::string key;
  const StatefulSet& set;
  std::vector<std::shared_ptr<const Pod>> pods;
  std::vector<std::shared_ptr<const ControllerRevision>> revisions;
  ControllerRevision current_revision;
  ControllerRevision update_revision;
  api::core::v1::PodTemplateSpec current_template;
  api::apps::v1::StatefulSetStatus status;
  int32_t collision_count = 0;
  bool waiting_for_available = false;
};

SyncResult StatefulSetSyncer::Sync(const std::string& key, const StatefulSet* set) {
  if (set == nullptr) return {};
  Context context{.key = key, .set = *set};
  auto selector = SelectorOf(set->spec.selector ? &*set->spec.selector : nullptr);
  if (!selector.ok()) return {.status = selector.error()};
  // Upstream's ClaimPods with isMemberOf: only orphans named like our pods are adopted.
  auto claimed = ClaimPods(
      ControllerRef(kApiVersion, kKind, set->metadata), set->metadata, *selector,
      pods_.List(set->metadata.namespace_),
      [this](const std::string& ns, const std::string& name, const std::string& patch) {
        return client_.PatchPod(ns, name, patch);
      },
      [&](const Pod& pod) { return ParseOrdinal(set->metadata.name, pod.metadata.name) >= 0; });
  if (!claimed.ok()) return {.status = claimed.error()};
  context.pods = std::move(claimed).value();
  // Upstream's ListRevisions and adoptOrphanRevisions: the revisions the selector matches that
  // are ours, or orphans, which are adopted.
  std::vector<std::shared_ptr<const ControllerRevision>> matching;
  for (const auto& revision : revisions_.List(set->metadata.namespace_)) {
    if (selector->Matches(revision->metadata.labels)) matching.push_back(revision);
  }
  auto revisions = ClaimRevisions(client_, kApiVersion, kKind, set->metadata, *selector, matching);
  if (!revisions.ok()) return {.status = revisions.error()};
  context.revisions = std::move(revisions).value();

  context.collision_count = set->status.collision_count.value_or(0);
  auto update_revision = EnsureUpdateRevision(
      client_, kApiVersion, kKind, set->metadata, set->spec.template_.metadata.labels,
      TemplatePatch(set->spec.template_), context.revisions, context.collision_count);
  if (!update_revision.ok()) return {.status = update_revision.error()};
  context.update_revision = *update_revision;
  context.current_revision = context.update_revision;
  context.current_template = set->spec.template_;
  for (const auto& revision : context.revisions) {
    if (revision->metadata.name == set->status.current_revision &&
        revision->metadata.name != context.update_revision.metadata.name) {
      auto current_template = TemplateOfRevision(*revision);
      if (current_template.ok()) {
        context.current_revision = *revision;
        context.current_template = std::move(*current_template);
      }
    }
  }

  Status updated = UpdatePods(context);
  Status status_written = WriteStatus(context);
  if (!updated.ok()) return {.status = updated};
  if (!status_written.ok()) return {.status = status_written};

  std::vector<std::string> live = {context.current_revision.metadata.name,
                                   context.update_revision.metadata.name};
  for (const auto& pod : context.pods)
    live.push_back(RevisionOf(*pod));
  Status truncated = TruncateHistory(client_, context.revisions, live,
                                     set->spec.revision_history_limit.value_or(10));
  SyncResult result{.status = truncated};
  if (context.waiting_for_available) {
    result.requeue_after = std::chrono::seconds(std::max(set->spec.min_ready_seconds, 1));
  }
  return result;
}

Status StatefulSetSyncer::CreatePod(Context& context, int ordinal) {
  const StatefulSet& set = context.set;
  const std::string pod_name = fmt::format("{}-{}", set.metadata.name, ordinal);
  const auto reference = ReferenceOf(kApiVersion, kKind, set.metadata);
  for (const auto& claim : ClaimsFor(set, ordinal)) {
    if (claims_.Get(claim.metadata.namespace_, claim.metadata.name)) continue;
    Status created = client_.CreateClaim(claim);
    if (!created.ok() && !client::IsAlreadyExists(created.error())) {
      events_.Event(
          reference, "Warning", "FailedCreate",
          fmt::format("create Claim {} for Pod {} in StatefulSet {} failed error: {}",
                      claim.metadata.name, pod_name, set.metadata.name, created.error().message()));
      return created;
    }
    if (created.ok()) {
      events_.Event(reference, "Normal", "SuccessfulCreate",
                    fmt::format("create Claim {} Pod {} in StatefulSet {} success",
                                claim.metadata.name, pod_name, set.metadata.name));
    }
  }
  // Below the partition (or, without one, below the pods already current) a new pod keeps the
  // current revision, as upstream's newVersionedStatefulSetPod.
  const int index = ordinal - StartOrdinal(set);
  bool use_current = false;
  if (set.spec.update_strategy.type != "OnDelete") {
    const auto& rolling = set.spec.update_strategy.rolling_update;
    if (rolling && rolling->partition) {
      use_current = index < *rolling->partition;
    } else {
      use_current = index < set.status.current_replicas;
    }
  }
  const ControllerRevision& revision =
      use_current ? context.current_revision : context.update_revision;
  Pod pod = NewStatefulSetPod(set, use_current ? context.current_template : set.spec.template_,
                              revision.metadata.name, ordinal);
  auto created = client_.CreatePod(pod);
  if (!created.ok()) {
    if (client::IsAlreadyExists(created.error())) return Ok();
    events_.Event(reference, "Warning", "FailedCreate",
                  fmt::format("create Pod {} in StatefulSet {} failed error: {}", pod_name,
                              set.metadata.name, created.error().message()));
    return std::move(created).error();
  }
  events_.Event(
      reference, "Normal", "SuccessfulCreate",
      fmt::format("create Pod {} in StatefulSet {} successful", pod_name, set.metadata.name));
  context.status.replicas++;
  if (revision.metadata.name == context.current_revision.metadata.name)
    context.status.current_replicas++;
  if (revision.metadata.name == context.update_revision.metadata.name)
    context.status.updated_replicas++;
  return Ok();
}

Status StatefulSetSyncer::DeletePod(Context& context, const Pod& pod, bool scaled_down) {
  const StatefulSet& set = context.set;
  const auto reference = ReferenceOf(kApiVersion, kKind, set.metadata);
  if (scaled_down && DeleteClaimsWhen(set, /*scaled=*/true)) {
    // The claim goes with its pod: the garbage collector deletes it once the pod is gone.
    const int ordinal = ParseOrdinal(set.metadata.name, pod.metadata.name);
    boost::json::object owner{{"apiVersion", "v1"},
                              {"kind", "Pod"},
                              {"name", pod.metadata.name},
                              {"uid", pod.metadata.uid}};
    const std::string patch = boost::json::serialize(boost::json::object{
        {"metadata", boost::json::object{{"ownerReferences", boost::json::array{owner}}}}});
    for (const auto& wanted : ClaimsFor(set, ordinal)) {
      auto claim = claims_.Get(wanted.metadata.namespace_, wanted.metadata.name);
      if (!claim) continue;
      Status patched = client_.PatchClaim(claim->metadata.namespace_, claim->metadata.name, patch);
      if (!patched.ok() && !client::IsNotFound(patched.error())) return patched;
      // The set lets go too (as upstream does), or the collector would keep the claim for it.
      const auto& refs = claim->metadata.owner_references;
      if (std::any_of(refs.begin(), refs.end(),
                      [&](const auto& ref) { return ref.uid == set.metadata.uid; })) {
        patched = client_.PatchClaim(claim->metadata.namespace_, claim->metadata.name,
                                     ReleasePatch(set.metadata.uid, claim->metadata.uid));
        if (!patched.ok() && !client::IsNotFound(patched.error())) return patched;
      }
    }
  }
  Status deleted = client_.DeletePod(pod.metadata.namespace_, pod.metadata.name);
  if (!deleted.ok() && !client::IsNotFound(deleted.error())) {
    events_.Event(reference, "Warning", "FailedDelete",
                  fmt::format("delete Pod {} in StatefulSet {} failed error: {}", pod.metadata.name,
                              set.metadata.name, deleted.error().message()));
    return deleted;
  }
  events_.Event(reference, "Normal", "SuccessfulDelete",
                fmt::format("delete Pod {} in StatefulSet {} successful", pod.metadata.name,
                            set.metadata.name));
  return Ok();
}

Status StatefulSetSyncer::UpdatePods(Context& context) {
  const StatefulSet& set = context.set;
  const int start = StartOrdinal(set);
  const int replicas = Replicas(set);
  const bool monotonic = set.spec.pod_management_policy != "Parallel";
  const auto now = clock_.Now();

  std::map<int, std::shared_ptr<const Pod>> in_range;
  std::vector<std::shared_ptr<const Pod>> condemned;
  auto& status = context.status;
  for (const auto& pod : context.pods) {
    status.replicas++;
    if (IsRunningAndReady(*pod)) {
      status.ready_replicas++;
      if (IsPodAvailable(*pod, set.spec.min_ready_seconds, now)) {
        status.available_replicas++;
      } else {
        context.waiting_for_available = true;
      }
    }
    // As upstream, a pod on its way out counts for no revision.
    const std::string revision = IsTerminating(*pod) ? "" : RevisionOf(*pod);
    if (revision == context.current_revision.metadata.name) status.current_replicas++;
    if (revision == context.update_revision.metadata.name) status.updated_replicas++;
    const int ordinal = ParseOrdinal(set.metadata.name, pod->metadata.name);
    if (ordinal < 0) continue;
    if (ordinal >= start && ordinal < start + replicas) {
      in_range[ordinal] = pod;
    } else {
      condemned.push_back(pod);
    }
  }
  std::sort(condemned.begin(), condemned.end(), [&](const auto& a, const auto& b) {
    return ParseOrdinal(set.metadata.name, a->metadata.name) >
           ParseOrdinal(set.metadata.name, b->metadata.name);
  });

  // Missing and failed pods first, in order; OrderedReady waits for each to be Running and Ready.
  for (int ordinal = start; ordinal < start + replicas; ++ordinal) {
    auto found = in_range.find(ordinal);
    if (found == in_range.end()) {
      KPP_RETURN_IF_ERROR(CreatePod(context, ordinal));
      if (monotonic) return Ok();
      continue;
    }
    const Pod& pod = *found->second;
    if (IsFinished(pod) && !IsTerminating(pod)) {
      events_.Event(ReferenceOf(kApiVersion, kKind, set.metadata), "Warning", "RecreatingFailedPod",
                    fmt::format("StatefulSet {}/{} is recreating failed Pod {}",
                                set.metadata.namespace_, set.metadata.name, pod.metadata.name));
      KPP_RETURN_IF_ERROR(DeletePod(context, pod, false));
      if (monotonic) return Ok();
      continue;
    }
    // A pod whose claims were deleted under it gets them back.
    for (const auto& claim : ClaimsFor(set, ordinal)) {
      if (claims_.Get(claim.metadata.namespace_, claim.metadata.name)) continue;
      Status created = client_.CreateClaim(claim);
      if (!created.ok() && !client::IsAlreadyExists(created.error())) return created;
    }
    if (monotonic && !IsHealthy(pod)) return Ok();
  }

  // Then the pods beyond the replicas, highest ordinal first.
  std::shared_ptr<const Pod> first_unhealthy;
  for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
    if (!IsHealthy(**it)) {
      first_unhealthy = *it;
      break;
    }
  }
  for (const auto& pod : condemned) {
    if (IsTerminating(*pod)) {
      if (monotonic) return Ok();
      continue;
    }
    if (monotonic && !IsHealthy(*pod) && pod != first_unhealthy) return Ok();
    KPP_RETURN_IF_ERROR(DeletePod(context, *pod, true));
    if (monotonic) return Ok();
  }

  if (set.spec.update_strategy.type == "OnDelete") return Ok();
  const auto& rolling = set.spec.update_strategy.rolling_update;
  const int partition = rolling && rolling->partition ? *rolling->partition : 0;
  for (int index = replicas - 1; index >= partition; --index) {
    auto found = in_range.find(start + index);
    if (found == in_range.end()) return Ok();
    const Pod& pod = *found->second;
    if (RevisionOf(pod) != context.update_revision.metadata.name && !IsTerminating(pod)) {
      return DeletePod(context, pod, false);
    }
    if (!IsHealthy(pod)) return Ok();
  }
  return Ok();
}

Status StatefulSetSyncer::WriteStatus(Context& context) {
  const StatefulSet& set = context.set;
  auto& status = context.status;
  status.observed_generation = set.metadata.generation;
  status.current_revision = context.current_revision.metadata.name;
  status.update_revision = context.update_revision.metadata.name;
  if (context.collision_count != 0 || set.status.collision_count) {
    status.collision_count = context.collision_count;
  }
  // A finished rolling update makes the update revision the current one.
  if (set.spec.update_strategy.type != "OnDelete" && status.updated_replicas == status.replicas &&
      status.ready_replicas == status.replicas) {
    status.current_replicas = status.updated_replicas;
    status.current_revision = status.update_revision;
  }
  api::apps::v1::StatefulSetStatus old = set.status;
  old.conditions.clear();
  api::apps::v1::StatefulSetStatus fresh = status;
  fresh.conditions.clear();
  if (old == fresh) return Ok();
  return client_.PatchStatus("statefulsets", set.metadata.namespace_, set.metadata.name,
                             StatefulSetStatusPatch(status));
}

StatefulSetController::StatefulSetController(client::informers::SharedInformerFactory& factory,
                                             WorkloadClient& client, EventSink& events,
                                             StatefulSetControllerOptions options, Clock& clock)
    : sets_informer_(factory.InformerFor<StatefulSet>()),
      pods_informer_(factory.InformerFor<Pod>()),
      claims_informer_(factory.InformerFor<PersistentVolumeClaim>()),
      revisions_informer_(factory.InformerFor<ControllerRevision>()),
      pods_(pods_informer_),
      claims_(claims_informer_),
      revisions_(revisions_informer_),
      options_(options),
      syncer_(pods_, claims_, revisions_, client, events, clock),
      workers_(queue_,
               SyncCached<StatefulSet>(sets_informer_,
                                       [this](const std::string& key, const StatefulSet* object) {
                                         return syncer_.Sync(key, object);
                                       }),
               {.what = "syncing StatefulSet"}) {
  sets_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { queue_.Add(KeyOf(object->metadata())); },
       .on_update = [this](const ObjectRef&,
                           const ObjectRef& object) { queue_.Add(KeyOf(object->metadata())); },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) queue_.Add(KeyOf(deleted.object->metadata()));
           }});
  pods_informer_.AddEventHandler({.on_add =
                                      [this](const ObjectRef& object, bool) {
                                        if (auto pod = As<Pod>(object)) EnqueuePodOwner(*pod);
                                      },
                                  .on_update =
                                      [this](const ObjectRef&, const ObjectRef& object) {
                                        if (auto pod = As<Pod>(object)) EnqueuePodOwner(*pod);
                                      },
                                  .on_delete =
                                      [this](const DeletedObject& deleted) {
                                        if (auto pod = As<Pod>(deleted.object))
                                          EnqueuePodOwner(*pod);
                                      }});
}

StatefulSetController::~StatefulSetController() {
  Stop();
}

void StatefulSetController::EnqueuePodOwner(const Pod& pod) {
  const auto* ref = ControllerRefOf(pod.metadata);
  if (ref == nullptr || ref->kind != kKind) return;
  queue_.Add(pod.metadata.namespace_ + "/" + ref->name);
}

void StatefulSetController::Run() {
  workers_.Start(options_.workers);
}

void StatefulSetController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
