#include "controllers/deployment/deployment.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <climits>
#include <cmath>
#include <deque>

#include "apimachinery/intstr/int_or_string.h"
#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using api::apps::v1::DeploymentCondition;
using api::apps::v1::DeploymentStatus;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

constexpr char kAvailable[] = "Available";
constexpr char kProgressing[] = "Progressing";
constexpr char kReplicaFailure[] = "ReplicaFailure";
constexpr char kNewRSAvailableReason[] = "NewReplicaSetAvailable";
constexpr char kTimedOutReason[] = "ProgressDeadlineExceeded";
constexpr char kPausedReason[] = "DeploymentPaused";
constexpr char kResumedReason[] = "DeploymentResumed";

int32_t Replicas(const Deployment& d) {
  return d.spec.replicas.value_or(1);
}
int32_t Replicas(const ReplicaSet& rs) {
  return rs.spec.replicas.value_or(1);
}

std::optional<int64_t> IntAnnotation(const api::meta::v1::ObjectMeta& metadata,
                                     const std::string& name) {
  auto found = metadata.annotations.find(name);
  if (found == metadata.annotations.end()) return std::nullopt;
  int64_t value = 0;
  const auto& text = found->second;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int64_t Revision(const ReplicaSet& rs) {
  return IntAnnotation(rs.metadata, kRevisionAnnotation).value_or(0);
}

intstr::IntOrString Convert(const api::IntOrString& value) {
  return value.is_string ? intstr::IntOrString::FromString(value.string_value)
                         : intstr::IntOrString::FromInt32(value.int_value);
}

api::core::v1::PodTemplateSpec WithoutHash(api::core::v1::PodTemplateSpec pod_template) {
  pod_template.metadata.labels.erase(kPodTemplateHashLabel);
  return pod_template;
}

bool EqualIgnoreHash(const api::core::v1::PodTemplateSpec& a,
                     const api::core::v1::PodTemplateSpec& b) {
  return WithoutHash(a) == WithoutHash(b);
}

const DeploymentCondition* FindCondition(const DeploymentStatus& status, const std::string& type) {
  for (const auto& condition : status.conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

void RemoveCondition(DeploymentStatus& status, const std::string& type) {
  std::erase_if(status.conditions, [&](const auto& condition) { return condition.type == type; });
}

// Upstream's SetDeploymentCondition: the same status and reason is no change; the same status
// keeps its transition time.
void SetCondition(DeploymentStatus& status, DeploymentCondition condition) {
  const auto* current = FindCondition(status, condition.type);
  if (current != nullptr && current->status == condition.status &&
      current->reason == condition.reason) {
    return;
  }
  if (current != nullptr && current->status == condition.status) {
    condition.last_transition_time = current->last_transition_time;
  }
  RemoveCondition(status, condition.type);
  status.conditions.push_back(std::move(condition));
}

DeploymentCondition NewCondition(const std::string& type, const std::string& status,
                                 const std::string& reason, const std::string& message,
                                 Clock::TimePoint now) {
  return {type, status, TimeOf(now), TimeOf(now), reason, message};
}

bool HasProgressDeadline(const Deployment& d) {
  return d.spec.progress_deadline_seconds.has_value() &&
         *d.spec.progress_deadline_seconds != INT32_MAX;
}

Status StatusOf(Result<bool> result) {
  if (!result.ok()) return std::move(result).error();
  return Ok();
}

bool IsRollingUpdate(const Deployment& d) {
  return d.spec.strategy.type != "Recreate";
}

int32_t SumReplicas(const std::vector<ReplicaSet*>& sets) {
  int32_t total = 0;
  for (const auto* rs : sets) {
    if (rs != nullptr) total += Replicas(*rs);
  }
  return total;
}

std::vector<ReplicaSet*> FilterActive(const std::vector<ReplicaSet*>& sets) {
  std::vector<ReplicaSet*> active;
  for (auto* rs : sets) {
    if (rs != nullptr && Replicas(*rs) > 0) active.push_back(rs);
  }
  return active;
}

bool CreatedBefore(const ReplicaSet* a, const ReplicaSet* b) {
  if (a->metadata.creation_timestamp != b->metadata.creation_timestamp) {
    return a->metadata.creation_timestamp < b->metadata.creation_timestamp;
  }
  return a->metadata.name < b->metadata.name;
}

// Upstream's ReplicaSetsBySizeOlder (larger first, then older) and BySizeNewer (then newer).
void SortBySize(std::vector<ReplicaSet*>& sets, bool newer_first) {
  std::stable_sort(sets.begin(), sets.end(), [&](const ReplicaSet* a, const ReplicaSet* b) {
    if (Replicas(*a) != Replicas(*b)) return Replicas(*a) > Replicas(*b);
    return newer_first ? CreatedBefore(b, a) : CreatedBefore(a, b);
  });
}

}  // namespace

std::string SafeEncodeString(std::string_view text) {
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(text.size(), ' ');
  for (size_t i = 0; i < text.size(); ++i) {
    out[i] = kAlphanums[static_cast<unsigned char>(text[i]) % kAlphanums.size()];
  }
  return out;
}

std::string ComputePodTemplateHash(const api::core::v1::PodTemplateSpec& pod_template,
                                   std::optional<int32_t> collision_count) {
  uint32_t hash = 2166136261u;
  auto add = [&](std::string_view bytes) {
    for (unsigned char byte : bytes) {
      hash ^= byte;
      hash *= 16777619u;
    }
  };
  add(api::ToJson(pod_template));
  if (collision_count) {
    const auto count = static_cast<uint32_t>(*collision_count);
    const char bytes[4] = {static_cast<char>(count & 0xff), static_cast<char>((count >> 8) & 0xff),
                           static_cast<char>((count >> 16) & 0xff),
                           static_cast<char>((count >> 24) & 0xff)};
    add(std::string_view(bytes, 4));
  }
  return SafeEncodeString(std::to_string(hash));
}

Result<std::pair<int32_t, int32_t>> ResolveFenceposts(
    const std::optional<api::IntOrString>& max_surge,
    const std::optional<api::IntOrString>& max_unavailable, int32_t desired) {
  const auto default_value = api::IntOrString::FromString("25%");
  KPP_ASSIGN_OR_RETURN(int64_t surge,
                       intstr::GetScaledValueFromIntOrPercent(
                           Convert(max_surge.value_or(default_value)), desired, true));
  KPP_ASSIGN_OR_RETURN(int64_t unavailable,
                       intstr::GetScaledValueFromIntOrPercent(
                           Convert(max_unavailable.value_or(default_value)), desired, false));
  if (surge == 0 && unavailable == 0) unavailable = 1;
  return std::pair<int32_t, int32_t>(static_cast<int32_t>(surge),
                                     static_cast<int32_t>(unavailable));
}

namespace {
std::pair<int32_t, int32_t> Fenceposts(const Deployment& d) {
  std::optional<api::IntOrString> surge, unavailable;
  if (d.spec.strategy.rolling_update) {
    surge = d.spec.strategy.rolling_update->max_surge;
    unavailable = d.spec.strategy.rolling_update->max_unavailable;
  }
  auto resolved = ResolveFenceposts(surge, unavailable, Replicas(d));
  // Validation refuses bad values; treat any that slip through as upstream's defaults would.
  return resolved.ok() ? *resolved : std::pair<int32_t, int32_t>(0, 1);
}
}  // namespace

int32_t MaxSurge(const Deployment& d) {
  if (!IsRollingUpdate(d)) return 0;
  return Fenceposts(d).first;
}

int32_t MaxUnavailable(const Deployment& d) {
  if (!IsRollingUpdate(d) || Replicas(d) == 0) return 0;
  return std::min(Fenceposts(d).second, Replicas(d));
}

int32_t NewRSNewReplicas(const Deployment& d, const std::vector<const ReplicaSet*>& all,
                         const ReplicaSet& new_rs) {
  if (!IsRollingUpdate(d)) return Replicas(d);
  int32_t current = 0;
  for (const auto* rs : all)
    current += Replicas(*rs);
  const int32_t max_total = Replicas(d) + MaxSurge(d);
  if (current >= max_total) return Replicas(new_rs);
  const int32_t scale_up = std::min(max_total - current, Replicas(d) - Replicas(new_rs));
  return Replicas(new_rs) + scale_up;
}

bool DeploymentComplete(const Deployment& d, const DeploymentStatus& status) {
  return status.updated_replicas == Replicas(d) && status.replicas == Replicas(d) &&
         status.available_replicas == Replicas(d) &&
         status.observed_generation >= d.metadata.generation;
}

std::string DeploymentStatusPatch(const DeploymentStatus& status) {
  boost::json::object fields{{"observedGeneration", status.observed_generation},
                             {"replicas", status.replicas},
                             {"updatedReplicas", status.updated_replicas},
                             {"readyReplicas", status.ready_replicas},
                             {"availableReplicas", status.available_replicas},
                             {"unavailableReplicas", status.unavailable_replicas}};
  if (status.collision_count) fields["collisionCount"] = *status.collision_count;
  if (status.conditions.empty()) {
    fields["conditions"] = nullptr;
  } else {
    boost::json::array conditions;
    for (const auto& condition : status.conditions) {
      boost::json::object item{{"type", condition.type}, {"status", condition.status}};
      if (!condition.last_update_time.IsZero()) {
        item["lastUpdateTime"] = condition.last_update_time.ToString();
      }
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

struct DeploymentSyncer::Context {
  std::string key;
  Deployment d;
  std::deque<ReplicaSet> owned;  // copies, edited as the sync writes them
  std::vector<std::shared_ptr<const Pod>> pods;
  ReplicaSet* new_rs = nullptr;
  std::vector<ReplicaSet*> old_rss;
  std::optional<std::chrono::seconds> requeue_after;

  std::vector<ReplicaSet*> All() const {
    auto all = old_rss;
    if (new_rs != nullptr) all.push_back(new_rs);
    return all;
  }
  api::core::v1::ObjectReference Reference() const {
    return ReferenceOf("apps/v1", "Deployment", d.metadata);
  }
};

Status DeploymentSyncer::Claim(Context& context, const labels::Selector& selector) {
  const auto& d = context.d;
  std::optional<Error> first_error;
  std::optional<Status> can_adopt;  // checked once, before the first adoption
  for (const auto& rs : replica_sets_.List(d.metadata.namespace_)) {
    const auto* controller_ref = ControllerRefOf(rs->metadata);
    const bool matches = selector.Matches(rs->metadata.labels);
    if (controller_ref != nullptr) {
      if (controller_ref->uid != d.metadata.uid) continue;
      if (matches || rs->metadata.deletion_timestamp) {
        if (matches) context.owned.push_back(*rs);
        continue;
      }
      auto released = client_.PatchReplicaSet(rs->metadata.namespace_, rs->metadata.name,
                                              ReleasePatch(d.metadata.uid, rs->metadata.uid));
      if (!released.ok() && !client::IsNotFound(released.error()) && !first_error) {
        first_error = std::move(released).error();
      }
      continue;
    }
    if (!matches || d.metadata.deletion_timestamp || rs->metadata.deletion_timestamp) continue;
    if (!can_adopt) can_adopt = CanAdopt(client_, "deployments", "Deployment", d.metadata);
    if (!can_adopt->ok()) {
      if (!first_error) first_error = can_adopt->error();
      continue;
    }
    auto adopted = client_.PatchReplicaSet(
        rs->metadata.namespace_, rs->metadata.name,
        AdoptPatch(ControllerRef("apps/v1", "Deployment", d.metadata), rs->metadata.uid));
    if (adopted.ok()) {
      context.owned.push_back(*rs);
    } else if (!client::IsNotFound(adopted.error()) && !first_error) {
      first_error = std::move(adopted).error();
    }
  }
  if (first_error) return *first_error;
  // The pods of the owned replica sets (the Recreate strategy waits for them to go).
  for (const auto& pod : pods_.List(d.metadata.namespace_)) {
    const auto* ref = ControllerRefOf(pod->metadata);
    if (ref == nullptr) continue;
    for (const auto& rs : context.owned) {
      if (rs.metadata.uid == ref->uid) context.pods.push_back(pod);
    }
  }
  return Ok();
}

Result<bool> DeploymentSyncer::ScaleReplicaSet(Context& context, ReplicaSet& rs,
                                               int32_t new_scale) {
  const auto& d = context.d;
  const bool size_changes = Replicas(rs) != new_scale;
  const std::string desired = std::to_string(Replicas(d));
  const std::string max = std::to_string(Replicas(d) + MaxSurge(d));
  const bool annotations_change = rs.metadata.annotations[kDesiredReplicasAnnotation] != desired ||
                                  rs.metadata.annotations[kMaxReplicasAnnotation] != max;
  if (!size_changes && !annotations_change) return false;
  ReplicaSet copy = rs;
  const int32_t old_scale = Replicas(rs);
  copy.spec.replicas = new_scale;
  copy.metadata.annotations[kDesiredReplicasAnnotation] = desired;
  copy.metadata.annotations[kMaxReplicasAnnotation] = max;
  KPP_ASSIGN_OR_RETURN(ReplicaSet updated, client_.UpdateReplicaSet(copy));
  rs = std::move(updated);
  if (size_changes) {
    events_.Event(
        context.Reference(), "Normal", "ScalingReplicaSet",
        fmt::format("Scaled {} replica set {} from {} to {}", new_scale > old_scale ? "up" : "down",
                    rs.metadata.name, old_scale, new_scale));
  }
  return size_changes;
}

Status DeploymentSyncer::GetNewReplicaSet(Context& context, bool create) {
  auto& d = context.d;
  const auto now = clock_.Now();
  // The oldest replica set with the deployment's template is the new one.
  std::vector<ReplicaSet*> by_age;
  for (auto& rs : context.owned)
    by_age.push_back(&rs);
  std::sort(by_age.begin(), by_age.end(), CreatedBefore);
  ReplicaSet* existing = nullptr;
  for (auto* rs : by_age) {
    if (EqualIgnoreHash(rs->spec.template_, d.spec.template_)) {
      existing = rs;
      break;
    }
  }
  int64_t max_old_revision = 0;
  for (auto* rs : by_age) {
    if (rs != existing) max_old_revision = std::max(max_old_revision, Revision(*rs));
  }
  const std::string new_revision = std::to_string(max_old_revision + 1);
  context.old_rss.clear();
  for (auto* rs : by_age) {
    if (rs != existing) context.old_rss.push_back(rs);
  }

  bool deployment_revision_changes = false;
  if (existing != nullptr) {
    ReplicaSet copy = *existing;
    bool changed = false;
    const auto current = IntAnnotation(copy.metadata, kRevisionAnnotation);
    if (!current || *current < max_old_revision + 1) {
      if (current) {
        // Upstream keeps the revisions a template had in revision-history.
        auto& history = copy.metadata.annotations[kRevisionHistoryAnnotation];
        history =
            history.empty() ? std::to_string(*current) : history + "," + std::to_string(*current);
      }
      copy.metadata.annotations[kRevisionAnnotation] = new_revision;
      changed = true;
    }
    if (copy.spec.min_ready_seconds != d.spec.min_ready_seconds) {
      copy.spec.min_ready_seconds = d.spec.min_ready_seconds;
      changed = true;
    }
    if (changed) {
      KPP_ASSIGN_OR_RETURN(ReplicaSet updated, client_.UpdateReplicaSet(copy));
      *existing = std::move(updated);
    }
    context.new_rs = existing;
    const std::string revision = existing->metadata.annotations[kRevisionAnnotation];
    if (d.metadata.annotations[kRevisionAnnotation] != revision) {
      deployment_revision_changes = true;
      d.metadata.annotations[kRevisionAnnotation] = revision;
    }
    if (deployment_revision_changes) {
      KPP_RETURN_IF_ERROR(client_.PatchDeployment(
          d.metadata.namespace_, d.metadata.name,
          boost::json::serialize(boost::json::object{
              {"metadata", {{"annotations", {{kRevisionAnnotation, revision}}}}}})));
    }
    if (FindCondition(d.status, kProgressing) == nullptr && HasProgressDeadline(d)) {
      auto status = d.status;
      SetCondition(
          status,
          NewCondition(kProgressing, "True", "FoundNewReplicaSet",
                       fmt::format("Found new replica set \"{}\"", existing->metadata.name), now));
      KPP_RETURN_IF_ERROR(WriteStatus(context, status));
    }
    return Ok();
  }
  if (!create) return Ok();

  const std::string hash = ComputePodTemplateHash(d.spec.template_, d.status.collision_count);
  ReplicaSet rs;
  rs.api_version = "apps/v1";
  rs.kind = "ReplicaSet";
  rs.metadata.name = d.metadata.name + "-" + hash;
  rs.metadata.namespace_ = d.metadata.namespace_;
  rs.metadata.owner_references.push_back(ControllerRef("apps/v1", "Deployment", d.metadata));
  rs.metadata.labels = d.spec.template_.metadata.labels;
  rs.metadata.labels[kPodTemplateHashLabel] = hash;
  // Upstream copies the deployment's annotations, but not the ones about its own history.
  for (const auto& [name, value] : d.metadata.annotations) {
    if (name == kRevisionAnnotation || name == kRevisionHistoryAnnotation ||
        name == kDesiredReplicasAnnotation || name == kMaxReplicasAnnotation ||
        name == "kubectl.kubernetes.io/last-applied-configuration" ||
        name == "deprecated.deployment.rollback.to") {
      continue;
    }
    rs.metadata.annotations[name] = value;
  }
  rs.metadata.annotations[kRevisionAnnotation] = new_revision;
  rs.metadata.annotations[kDesiredReplicasAnnotation] = std::to_string(Replicas(d));
  rs.metadata.annotations[kMaxReplicasAnnotation] = std::to_string(Replicas(d) + MaxSurge(d));
  rs.spec.min_ready_seconds = d.spec.min_ready_seconds;
  rs.spec.template_ = d.spec.template_;
  rs.spec.template_.metadata.labels[kPodTemplateHashLabel] = hash;
  api::meta::v1::LabelSelector selector = d.spec.selector.value_or(api::meta::v1::LabelSelector{});
  selector.match_labels[kPodTemplateHashLabel] = hash;
  rs.spec.selector = selector;
  std::vector<const ReplicaSet*> all;
  for (auto* old : context.old_rss)
    all.push_back(old);
  rs.spec.replicas = 0;
  all.push_back(&rs);
  rs.spec.replicas = NewRSNewReplicas(d, all, rs);

  auto created = client_.CreateReplicaSet(rs);
  if (!created.ok() && client::IsAlreadyExists(created.error())) {
    // Ours already, or a hash collision: count a collision so the next hash differs. A cache
    // that has not seen the replica set yet (its watch lags the create) is neither, so that sync
    // fails and is retried, as upstream's does when its lister misses it.
    auto found = replica_sets_.Get(rs.metadata.namespace_, rs.metadata.name);
    if (!found) return std::move(created).error();
    const auto* ref = ControllerRefOf(found->metadata);
    if (ref != nullptr && ref->uid == d.metadata.uid &&
        EqualIgnoreHash(found->spec.template_, d.spec.template_)) {
      context.owned.push_back(*found);
      context.new_rs = &context.owned.back();
      return Ok();
    }
    auto status = d.status;
    status.collision_count = status.collision_count.value_or(0) + 1;
    KPP_RETURN_IF_ERROR(WriteStatus(context, status));
    return std::move(created).error();
  }
  if (!created.ok()) {
    const std::string message = fmt::format("Failed to create new replica set \"{}\": {}",
                                            rs.metadata.name, created.error().message());
    events_.Event(context.Reference(), "Warning", "FailedCreate", message);
    if (HasProgressDeadline(d)) {
      auto status = d.status;
      SetCondition(status,
                   NewCondition(kProgressing, "False", "ReplicaSetCreateError", message, now));
      (void)WriteStatus(context, status);
    }
    return std::move(created).error();
  }
  if (Replicas(*created) > 0) {
    events_.Event(context.Reference(), "Normal", "ScalingReplicaSet",
                  fmt::format("Scaled up replica set {} from 0 to {}", created->metadata.name,
                              Replicas(*created)));
  }
  context.owned.push_back(*created);
  context.new_rs = &context.owned.back();
  if (d.metadata.annotations[kRevisionAnnotation] != new_revision) {
    d.metadata.annotations[kRevisionAnnotation] = new_revision;
    KPP_RETURN_IF_ERROR(client_.PatchDeployment(
        d.metadata.namespace_, d.metadata.name,
        boost::json::serialize(boost::json::object{
            {"metadata", {{"annotations", {{kRevisionAnnotation, new_revision}}}}}})));
  }
  if (HasProgressDeadline(d)) {
    auto status = d.status;
    SetCondition(
        status,
        NewCondition(kProgressing, "True", "NewReplicaSetCreated",
                     fmt::format("Created new replica set \"{}\"", created->metadata.name), now));
    KPP_RETURN_IF_ERROR(WriteStatus(context, status));
  }
  return Ok();
}

Status DeploymentSyncer::GetAllReplicaSetsAndSyncRevision(Context& context, bool create) {
  return GetNewReplicaSet(context, create);
}

Status DeploymentSyncer::WriteStatus(Context& context, const DeploymentStatus& status) {
  if (status == context.d.status) return Ok();
  KPP_RETURN_IF_ERROR(client_.PatchStatus("deployments", context.d.metadata.namespace_,
                                          context.d.metadata.name, DeploymentStatusPatch(status)));
  context.d.status = status;
  return Ok();
}

DeploymentStatus DeploymentSyncer::CalculateStatus(const Context& context) const {
  const auto& d = context.d;
  const auto all = context.All();
  DeploymentStatus status;
  int32_t available = 0, total = 0, actual = 0, ready = 0;
  for (const auto* rs : all) {
    available += rs->status.available_replicas;
    total += Replicas(*rs);
    actual += rs->status.replicas;
    ready += rs->status.ready_replicas;
  }
  status.observed_generation = d.metadata.generation;
  status.replicas = actual;
  status.updated_replicas = context.new_rs != nullptr ? context.new_rs->status.replicas : 0;
  status.ready_replicas = ready;
  status.available_replicas = available;
  status.unavailable_replicas = std::max(0, total - available);
  status.collision_count = d.status.collision_count;
  status.conditions = d.status.conditions;
  const auto now = clock_.Now();
  if (available >= Replicas(d) - MaxUnavailable(d)) {
    SetCondition(status, NewCondition(kAvailable, "True", "MinimumReplicasAvailable",
                                      "Deployment has minimum availability.", now));
  } else {
    SetCondition(status, NewCondition(kAvailable, "False", "MinimumReplicasUnavailable",
                                      "Deployment does not have minimum availability.", now));
  }
  return status;
}

Status DeploymentSyncer::SyncRolloutStatus(Context& context) {
  const auto& d = context.d;
  auto status = CalculateStatus(context);
  const auto now = clock_.Now();
  if (!HasProgressDeadline(d)) RemoveCondition(status, kProgressing);
  const auto* current = FindCondition(status, kProgressing);
  const bool complete_before = status.replicas == status.updated_replicas && current != nullptr &&
                               current->reason == kNewRSAvailableReason;
  if (HasProgressDeadline(d) && !complete_before) {
    const std::string rs_name = context.new_rs ? context.new_rs->metadata.name : "";
    const int32_t old_replicas_before = d.status.replicas - d.status.updated_replicas;
    const int32_t old_replicas_now = status.replicas - status.updated_replicas;
    const bool progressing = status.updated_replicas > d.status.updated_replicas ||
                             old_replicas_now < old_replicas_before ||
                             status.ready_replicas > d.status.ready_replicas ||
                             status.available_replicas > d.status.available_replicas;
    bool timed_out = false;
    if (current != nullptr && current->reason != kNewRSAvailableReason) {
      if (current->reason == kTimedOutReason) {
        timed_out = true;
      } else {
        const auto deadline =
            current->last_update_time.unix_seconds + *d.spec.progress_deadline_seconds;
        timed_out = deadline < TimeOf(now).unix_seconds;
      }
    }
    if (DeploymentComplete(d, status)) {
      const std::string message =
          context.new_rs ? fmt::format("ReplicaSet \"{}\" has successfully progressed.", rs_name)
                         : "Deployment has successfully progressed.";
      SetCondition(status, NewCondition(kProgressing, "True", kNewRSAvailableReason, message, now));
    } else if (progressing) {
      const std::string message = context.new_rs
                                      ? fmt::format("ReplicaSet \"{}\" is progressing.", rs_name)
                                      : "Deployment is progressing.";
      auto condition = NewCondition(kProgressing, "True", "ReplicaSetUpdated", message, now);
      // Progress moves lastUpdateTime on even when nothing else about the condition changes.
      if (current != nullptr && current->status == "True") {
        condition.last_transition_time = current->last_transition_time;
      }
      RemoveCondition(status, kProgressing);
      status.conditions.push_back(condition);
    } else if (timed_out) {
      const std::string message =
          context.new_rs ? fmt::format("ReplicaSet \"{}\" has timed out progressing.", rs_name)
                         : "Deployment has timed out progressing.";
      SetCondition(status, NewCondition(kProgressing, "False", kTimedOutReason, message, now));
    }
  }
  // A replica set's failure to create pods shows on the deployment.
  const api::apps::v1::ReplicaSetCondition* failure = nullptr;
  for (const auto* rs : context.All()) {
    for (const auto& condition : rs->status.conditions) {
      if (condition.type == kReplicaFailure) failure = &condition;
    }
  }
  if (failure != nullptr) {
    DeploymentCondition condition{kReplicaFailure, failure->status,
                                  TimeOf(now),     failure->last_transition_time,
                                  failure->reason, failure->message};
    SetCondition(status, condition);
  } else {
    RemoveCondition(status, kReplicaFailure);
  }
  // A rollout still in progress is looked at again when its deadline passes.
  const auto* progressing = FindCondition(status, kProgressing);
  if (HasProgressDeadline(d) && progressing != nullptr &&
      progressing->reason != kNewRSAvailableReason && progressing->reason != kTimedOutReason) {
    const int64_t due =
        progressing->last_update_time.unix_seconds + *d.spec.progress_deadline_seconds;
    const int64_t wait = std::max<int64_t>(1, due - TimeOf(now).unix_seconds + 1);
    context.requeue_after = std::chrono::seconds(wait);
  }
  return WriteStatus(context, status);
}

Result<bool> DeploymentSyncer::ReconcileNewReplicaSet(Context& context) {
  auto& d = context.d;
  ReplicaSet& new_rs = *context.new_rs;
  if (Replicas(new_rs) == Replicas(d)) return false;
  if (Replicas(new_rs) > Replicas(d)) return ScaleReplicaSet(context, new_rs, Replicas(d));
  std::vector<const ReplicaSet*> all;
  for (auto* rs : context.All())
    all.push_back(rs);
  return ScaleReplicaSet(context, new_rs, NewRSNewReplicas(d, all, new_rs));
}

Result<bool> DeploymentSyncer::ReconcileOldReplicaSets(Context& context) {
  auto& d = context.d;
  auto old_active = FilterActive(context.old_rss);
  const int32_t old_pods = SumReplicas(old_active);
  if (old_pods == 0) return false;
  const int32_t all_pods = SumReplicas(context.All());
  const int32_t min_available = Replicas(d) - MaxUnavailable(d);
  const ReplicaSet& new_rs = *context.new_rs;
  const int32_t new_unavailable = Replicas(new_rs) - new_rs.status.available_replicas;
  const int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;

  // First the old replica sets' unhealthy pods, which cannot lower availability.
  std::sort(old_active.begin(), old_active.end(), CreatedBefore);
  int32_t cleaned = 0;
  for (auto* rs : old_active) {
    if (cleaned >= max_scaled_down) break;
    if (Replicas(*rs) == 0) continue;
    const int32_t unhealthy = Replicas(*rs) - rs->status.available_replicas;
    if (unhealthy <= 0) continue;
    const int32_t down = std::min(max_scaled_down - cleaned, unhealthy);
    KPP_ASSIGN_OR_RETURN(bool scaled, ScaleReplicaSet(context, *rs, Replicas(*rs) - down));
    (void)scaled;
    cleaned += down;
  }
  // Then as many available ones as minAvailable allows.
  int32_t available = 0;
  for (const auto* rs : context.All())
    available += rs->status.available_replicas;
  int32_t scaled_down = 0;
  if (available > min_available) {
    const int32_t total = available - min_available;
    for (auto* rs : old_active) {
      if (scaled_down >= total) break;
      if (Replicas(*rs) == 0) continue;
      const int32_t down = std::min(Replicas(*rs), total - scaled_down);
      KPP_ASSIGN_OR_RETURN(bool scaled, ScaleReplicaSet(context, *rs, Replicas(*rs) - down));
      (void)scaled;
      scaled_down += down;
    }
  }
  return cleaned + scaled_down > 0;
}

Status DeploymentSyncer::CleanupDeployment(Context& context) {
  const auto& d = context.d;
  if (!d.spec.revision_history_limit) return Ok();
  std::vector<ReplicaSet*> cleanable;
  for (auto* rs : context.old_rss) {
    if (!rs->metadata.deletion_timestamp) cleanable.push_back(rs);
  }
  const int diff = static_cast<int>(cleanable.size()) - *d.spec.revision_history_limit;
  if (diff <= 0) return Ok();
  std::sort(cleanable.begin(), cleanable.end(), [](const ReplicaSet* a, const ReplicaSet* b) {
    if (Revision(*a) != Revision(*b)) return Revision(*a) < Revision(*b);
    return CreatedBefore(a, b);
  });
  for (int i = 0; i < diff; ++i) {
    const ReplicaSet& rs = *cleanable[i];
    if (rs.status.replicas != 0 || Replicas(rs) != 0 ||
        rs.metadata.generation > rs.status.observed_generation) {
      continue;
    }
    auto deleted = client_.DeleteReplicaSet(rs.metadata.namespace_, rs.metadata.name);
    if (!deleted.ok() && !client::IsNotFound(deleted.error())) return deleted;
  }
  return Ok();
}

Status DeploymentSyncer::RolloutRolling(Context& context) {
  KPP_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(context, true));
  KPP_ASSIGN_OR_RETURN(bool scaled_up, ReconcileNewReplicaSet(context));
  if (scaled_up) return SyncRolloutStatus(context);
  KPP_ASSIGN_OR_RETURN(bool scaled_down, ReconcileOldReplicaSets(context));
  if (scaled_down) return SyncRolloutStatus(context);
  if (DeploymentComplete(context.d, context.d.status)) {
    KPP_RETURN_IF_ERROR(CleanupDeployment(context));
  }
  return SyncRolloutStatus(context);
}

Status DeploymentSyncer::RolloutRecreate(Context& context) {
  KPP_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(context, false));
  bool scaled_down = false;
  for (auto* rs : FilterActive(context.old_rss)) {
    KPP_ASSIGN_OR_RETURN(bool scaled, ScaleReplicaSet(context, *rs, 0));
    scaled_down = scaled_down || scaled;
  }
  if (scaled_down) return SyncRolloutStatus(context);
  // Wait until every pod of the old replica sets is gone (or finished).
  for (const auto& pod : context.pods) {
    const auto* ref = ControllerRefOf(pod->metadata);
    const bool of_new = context.new_rs != nullptr && ref->uid == context.new_rs->metadata.uid;
    if (!of_new && pod->status.phase != "Failed" && pod->status.phase != "Succeeded") {
      return SyncRolloutStatus(context);
    }
  }
  if (context.new_rs == nullptr) KPP_RETURN_IF_ERROR(GetNewReplicaSet(context, true));
  KPP_ASSIGN_OR_RETURN(bool scaled_up,
                       ScaleReplicaSet(context, *context.new_rs, Replicas(context.d)));
  (void)scaled_up;
  if (DeploymentComplete(context.d, context.d.status)) {
    KPP_RETURN_IF_ERROR(CleanupDeployment(context));
  }
  return SyncRolloutStatus(context);
}

// Upstream's scale(): one active replica set takes the new size; otherwise, during a rolling
// update, the change is shared out in proportion to each replica set's size.
Status DeploymentSyncer::Scale(Context& context) {
  auto& d = context.d;
  // The only active replica set, or the newest one when none is active.
  {
    auto old_sorted = context.old_rss;
    std::sort(old_sorted.begin(), old_sorted.end(),
              [](const ReplicaSet* a, const ReplicaSet* b) { return CreatedBefore(b, a); });
    auto candidates = old_sorted;
    if (context.new_rs != nullptr) candidates.push_back(context.new_rs);
    auto active = FilterActive(candidates);
    ReplicaSet* target = nullptr;
    if (active.size() == 1) {
      target = active[0];
    } else if (active.empty()) {
      target = context.new_rs != nullptr ? context.new_rs
                                         : (old_sorted.empty() ? nullptr : old_sorted[0]);
    }
    if (active.size() <= 1) {
      if (target == nullptr || Replicas(*target) == Replicas(d)) return Ok();
      return StatusOf(ScaleReplicaSet(context, *target, Replicas(d)));
    }
  }
  // A saturated new replica set: the old ones go.
  if (context.new_rs != nullptr && Replicas(*context.new_rs) == Replicas(d) &&
      IntAnnotation(context.new_rs->metadata, kDesiredReplicasAnnotation) ==
          std::optional<int64_t>(Replicas(d)) &&
      context.new_rs->status.available_replicas == Replicas(d)) {
    for (auto* rs : FilterActive(context.old_rss)) {
      KPP_RETURN_IF_ERROR(StatusOf(ScaleReplicaSet(context, *rs, 0)));
    }
    return Ok();
  }
  if (!IsRollingUpdate(d)) return Ok();
  auto all = FilterActive(context.All());
  const int32_t all_replicas = SumReplicas(all);
  const int32_t allowed = Replicas(d) > 0 ? Replicas(d) + MaxSurge(d) : 0;
  const int32_t to_add = allowed - all_replicas;
  if (to_add > 0) {
    SortBySize(all, true);
  } else if (to_add < 0) {
    SortBySize(all, false);
  }
  std::map<std::string, int32_t> sizes;
  int32_t added = 0;
  for (auto* rs : all) {
    int32_t proportion = 0;
    if (to_add != 0 && Replicas(*rs) != 0 && to_add != added) {
      int32_t fraction;
      if (Replicas(d) == 0) {
        fraction = -Replicas(*rs);
      } else {
        const int32_t deployment_replicas = Replicas(d) + MaxSurge(d);
        const int64_t annotated =
            IntAnnotation(rs->metadata, kMaxReplicasAnnotation).value_or(d.status.replicas);
        const double size = annotated == 0
                                ? 0.0
                                : static_cast<double>(Replicas(*rs)) * deployment_replicas /
                                      static_cast<double>(annotated);
        fraction = static_cast<int32_t>(std::lround(size)) - Replicas(*rs);
      }
      const int32_t allowed_left = to_add - added;
      proportion = to_add > 0 ? std::min(fraction, allowed_left) : std::max(fraction, allowed_left);
    }
    sizes[rs->metadata.name] = Replicas(*rs) + proportion;
    added += proportion;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    auto* rs = all[i];
    int32_t size = sizes[rs->metadata.name];
    // The leftover goes to the largest one.
    if (i == 0 && to_add != 0) size = std::max(0, size + to_add - added);
    KPP_RETURN_IF_ERROR(StatusOf(ScaleReplicaSet(context, *rs, size)));
  }
  return Ok();
}

bool DeploymentSyncer::IsScalingEvent(Context& context) {
  for (auto* rs : FilterActive(context.All())) {
    auto desired = IntAnnotation(rs->metadata, kDesiredReplicasAnnotation);
    if (desired && *desired != Replicas(context.d)) return true;
  }
  return false;
}

Status DeploymentSyncer::SyncScaleOnly(Context& context) {
  KPP_RETURN_IF_ERROR(Scale(context));
  if (context.d.spec.paused) KPP_RETURN_IF_ERROR(CleanupDeployment(context));
  return WriteStatus(context, CalculateStatus(context));
}

SyncResult DeploymentSyncer::Sync(const std::string& key, const Deployment* deployment) {
  if (deployment == nullptr) return {};
  Context context;
  context.key = key;
  context.d = *deployment;
  auto& d = context.d;
  const auto now = clock_.Now();
  auto selector = SelectorOf(d.spec.selector ? &*d.spec.selector : nullptr);
  if (!selector.ok()) {
    KLOG_ERROR("deployment {} has an invalid selector: {}", key, selector.error().message());
    return {};
  }
  if (selector->Empty()) {
    events_.Event(context.Reference(), "Warning", "SelectingAll",
                  "This deployment is selecting all pods. A non-empty selector is required.");
    if (d.status.observed_generation < d.metadata.generation) {
      auto status = d.status;
      status.observed_generation = d.metadata.generation;
      return {WriteStatus(context, status), std::nullopt};
    }
    return {};
  }
  auto run = [&]() -> Status {
    KPP_RETURN_IF_ERROR(Claim(context, *selector));
    if (d.metadata.deletion_timestamp) {
      KPP_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(context, false));
      return WriteStatus(context, CalculateStatus(context));
    }
    // Paused and resumed show in the Progressing condition.
    if (HasProgressDeadline(d)) {
      const auto* progressing = FindCondition(d.status, kProgressing);
      auto status = d.status;
      if (d.spec.paused && (progressing == nullptr || progressing->reason != kPausedReason)) {
        SetCondition(status, NewCondition(kProgressing, "Unknown", kPausedReason,
                                          "Deployment is paused", now));
        KPP_RETURN_IF_ERROR(WriteStatus(context, status));
      } else if (!d.spec.paused && progressing != nullptr && progressing->reason == kPausedReason) {
        SetCondition(status, NewCondition(kProgressing, "Unknown", kResumedReason,
                                          "Deployment is resumed", now));
        KPP_RETURN_IF_ERROR(WriteStatus(context, status));
      }
    }
    KPP_RETURN_IF_ERROR(GetAllReplicaSetsAndSyncRevision(context, false));
    if (d.spec.paused || IsScalingEvent(context)) return SyncScaleOnly(context);
    if (d.spec.strategy.type == "Recreate") return RolloutRecreate(context);
    return RolloutRolling(context);
  };
  SyncResult result;
  result.status = run();
  result.requeue_after = context.requeue_after;
  return result;
}

// --- the controller around the syncer ---

DeploymentController::DeploymentController(client::informers::SharedInformerFactory& factory,
                                           ControllerClient& client, EventSink& events,
                                           DeploymentControllerOptions options, Clock& clock)
    : deployments_informer_(factory.InformerFor<Deployment>()),
      replica_sets_informer_(factory.InformerFor<ReplicaSet>()),
      pods_informer_(factory.InformerFor<Pod>()),
      deployments_(deployments_informer_),
      replica_sets_(replica_sets_informer_),
      pods_(pods_informer_),
      options_(options),
      syncer_(replica_sets_, pods_, client, events, clock),
      workers_(queue_,
               [this](const std::string& key) -> KeySyncResult {
                 const auto [ns, name] = SplitKey(key);
                 auto deployment = deployments_.Get(ns, name);
                 return syncer_.Sync(key, deployment.get());
               },
               // Upstream retries a deployment 15 times, then drops it until the next change.
               {.what = "syncing deployment", .max_retries = 15}) {
  deployments_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { queue_.Add(KeyOf(object->metadata())); },
       .on_update = [this](const ObjectRef&,
                           const ObjectRef& object) { queue_.Add(KeyOf(object->metadata())); },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) queue_.Add(KeyOf(deleted.object->metadata()));
           }});
  replica_sets_informer_.AddEventHandler(
      {.on_add =
           [this](const ObjectRef& object, bool) {
             if (auto rs = As<ReplicaSet>(object)) EnqueueForReplicaSet(*rs);
           },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             auto old_rs = As<ReplicaSet>(old_object);
             auto new_rs = As<ReplicaSet>(new_object);
             if (old_rs) EnqueueForReplicaSet(*old_rs);
             if (new_rs) EnqueueForReplicaSet(*new_rs);
           },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) EnqueueOwnerOf(deleted.object->metadata());
           }});
  // Recreate waits for the old pods to be gone.
  pods_informer_.AddEventHandler({.on_delete = [this](const DeletedObject& deleted) {
    if (!deleted.object) return;
    const auto* ref = ControllerRefOf(deleted.object->metadata());
    if (ref == nullptr || ref->kind != "ReplicaSet") return;
    auto rs = replica_sets_.Get(deleted.object->metadata().namespace_, ref->name);
    if (rs) EnqueueOwnerOf(rs->metadata);
  }});
}

DeploymentController::~DeploymentController() {
  Stop();
}

void DeploymentController::EnqueueOwnerOf(const api::meta::v1::ObjectMeta& metadata) {
  const auto* ref = ControllerRefOf(metadata);
  if (ref == nullptr || ref->kind != "Deployment") return;
  auto d = deployments_.Get(metadata.namespace_, ref->name);
  if (d && d->metadata.uid == ref->uid) queue_.Add(KeyOf(d->metadata));
}

void DeploymentController::EnqueueForReplicaSet(const ReplicaSet& rs) {
  if (ControllerRefOf(rs.metadata) != nullptr) {
    EnqueueOwnerOf(rs.metadata);
    return;
  }
  // An orphan: the deployments that may adopt it.
  for (const auto& d : deployments_.List(rs.metadata.namespace_)) {
    auto selector = SelectorOf(d->spec.selector ? &*d->spec.selector : nullptr);
    if (selector.ok() && !selector->Empty() && selector->Matches(rs.metadata.labels)) {
      queue_.Add(KeyOf(d->metadata));
    }
  }
}

void DeploymentController::Run() {
  workers_.Start(options_.workers);
}

void DeploymentController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
