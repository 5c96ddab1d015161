#include "controllers/common/controller_utils.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <future>

#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

constexpr auto kExpectationsTimeout = std::chrono::minutes(5);

const api::core::v1::PodCondition* ReadyCondition(const Pod& pod) {
  for (const auto& condition : pod.status.conditions) {
    if (condition.type == "Ready") return &condition;
  }
  return nullptr;
}

int PhaseRank(const std::string& phase) {
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

int MaxRestarts(const Pod& pod) {
  int restarts = 0;
  for (const auto& status : pod.status.container_statuses) {
    restarts = std::max(restarts, status.restart_count);
  }
  return restarts;
}

}  // namespace

api::core::v1::ObjectReference ReferenceOf(const std::string& api_version, const std::string& kind,
                                           const api::meta::v1::ObjectMeta& metadata) {
  api::core::v1::ObjectReference reference;
  reference.kind = kind;
  reference.api_version = api_version;
  reference.namespace_ = metadata.namespace_;
  reference.name = metadata.name;
  reference.uid = metadata.uid;
  reference.resource_version = metadata.resource_version;
  return reference;
}

bool Expectations::Satisfied(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) return true;
  const Entry& entry = found->second;
  if (entry.adds <= 0 && entry.deletes.empty()) return true;
  return clock_.Monotonic() - entry.set_at > kExpectationsTimeout;
}

void Expectations::Expect(const std::string& key, int adds, std::set<std::string> deletes) {
  std::lock_guard lock(mutex_);
  entries_[key] = Entry{adds, std::move(deletes), clock_.Monotonic()};
}

void Expectations::CreationObserved(const std::string& key, int count) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found != entries_.end()) found->second.adds -= count;
}

void Expectations::DeletionObserved(const std::string& key, const std::string& pod_key) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(key);
  if (found != entries_.end()) found->second.deletes.erase(pod_key);
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

bool IsPodActive(const Pod& pod) {
  return pod.status.phase != "Succeeded" && pod.status.phase != "Failed" &&
         !pod.metadata.deletion_timestamp.has_value();
}

bool IsPodReady(const Pod& pod) {
  const auto* ready = ReadyCondition(pod);
  return ready != nullptr && ready->status == "True";
}

bool IsPodAvailable(const Pod& pod, int32_t min_ready_seconds, Clock::TimePoint now) {
  const auto* ready = ReadyCondition(pod);
  if (ready == nullptr || ready->status != "True") return false;
  if (min_ready_seconds == 0) return true;
  if (ready->last_transition_time.IsZero()) return false;
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return ready->last_transition_time.unix_seconds + min_ready_seconds <= now_seconds;
}

void SortPodsForDeletion(std::vector<std::shared_ptr<const Pod>>& pods, Clock::TimePoint now) {
  // Rank: active pods of this set of pods on the same node.
  std::map<std::string, int> per_node;
  for (const auto& pod : pods) {
    if (!pod->spec.node_name.empty() && IsPodActive(*pod)) ++per_node[pod->spec.node_name];
  }
  auto rank = [&](const Pod& pod) {
    if (pod.spec.node_name.empty()) return 0;
    return per_node[pod.spec.node_name];
  };
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  // floor(log2(age in ns)) as upstream's logarithmicRankDiff; -1 for no age.
  auto log_age = [&](const api::Time& time) -> int64_t {
    const int64_t age = now_ns - time.unix_seconds * 1'000'000'000;
    return age > 0 ? static_cast<int64_t>(std::log2(static_cast<double>(age))) : -1;
  };
  // -1: a first, 1: b first, 0: undecided. A zero time sorts first, as upstream's afterOrZero.
  auto compare_times = [&](const api::Time& a, const api::Time& b, const Pod& pa,
                           const Pod& pb) -> int {
    if (a == b) return 0;
    if (a.IsZero() || b.IsZero()) return a.IsZero() ? -1 : 1;
    const int64_t diff = log_age(a) - log_age(b);
    if (diff == 0) return pa.metadata.uid < pb.metadata.uid ? -1 : 1;
    return diff < 0 ? -1 : 1;
  };
  std::stable_sort(pods.begin(), pods.end(), [&](const auto& a_ptr, const auto& b_ptr) {
    const Pod& a = *a_ptr;
    const Pod& b = *b_ptr;
    if (a.spec.node_name.empty() != b.spec.node_name.empty()) return a.spec.node_name.empty();
    if (PhaseRank(a.status.phase) != PhaseRank(b.status.phase)) {
      return PhaseRank(a.status.phase) < PhaseRank(b.status.phase);
    }
    const bool a_ready = IsPodReady(a);
    const bool b_ready = IsPodReady(b);
    if (a_ready != b_ready) return !a_ready;
    if (rank(a) != rank(b)) return rank(a) > rank(b);
    if (a_ready && b_ready) {
      if (int order = compare_times(ReadyCondition(a)->last_transition_time,
                                    ReadyCondition(b)->last_transition_time, a, b)) {
        return order < 0;
      }
    }
    if (MaxRestarts(a) != MaxRestarts(b)) return MaxRestarts(a) > MaxRestarts(b);
    if (int order =
            compare_times(a.metadata.creation_timestamp, b.metadata.creation_timestamp, a, b)) {
      return order < 0;
    }
    return false;
  });
}

BatchResult SlowStartBatch(int count, int initial_batch_size, const std::function<Status()>& fn) {
  BatchResult result;
  int remaining = count;
  for (int batch = std::min(remaining, initial_batch_size); batch > 0;
       batch = std::min(2 * batch, remaining)) {
    std::vector<std::future<Status>> calls;
    calls.reserve(batch);
    for (int i = 0; i < batch; ++i)
      calls.push_back(std::async(std::launch::async, fn));
    for (auto& call : calls) {
      Status status = call.get();
      if (status.ok()) {
        ++result.successes;
      } else if (!result.error) {
        result.error = std::move(status).error();
      }
    }
    if (result.error) break;
    remaining -= batch;
  }
  return result;
}

const api::meta::v1::OwnerReference* ControllerRefOf(const api::meta::v1::ObjectMeta& metadata) {
  for (const auto& reference : metadata.owner_references) {
    if (reference.controller.value_or(false)) return &reference;
  }
  return nullptr;
}

api::meta::v1::OwnerReference ControllerRef(const std::string& api_version, const std::string& kind,
                                            const api::meta::v1::ObjectMeta& owner) {
  api::meta::v1::OwnerReference reference;
  reference.api_version = api_version;
  reference.kind = kind;
  reference.name = owner.name;
  reference.uid = owner.uid;
  reference.controller = true;
  reference.block_owner_deletion = true;
  return reference;
}

std::string AdoptPatch(const api::meta::v1::OwnerReference& owner_ref,
                       const std::string& object_uid) {
  boost::json::object reference{{"apiVersion", owner_ref.api_version},
                                {"kind", owner_ref.kind},
                                {"name", owner_ref.name},
                                {"uid", owner_ref.uid},
                                {"controller", true},
                                {"blockOwnerDeletion", true}};
  boost::json::object metadata{{"ownerReferences", boost::json::array{reference}},
                               {"uid", object_uid}};
  return boost::json::serialize(boost::json::object{{"metadata", metadata}});
}

std::string ReleasePatch(const std::string& owner_uid, const std::string& object_uid) {
  boost::json::object removal{{"$patch", "delete"}, {"uid", owner_uid}};
  boost::json::object metadata{{"ownerReferences", boost::json::array{removal}},
                               {"uid", object_uid}};
  return boost::json::serialize(boost::json::object{{"metadata", metadata}});
}

Status CanAdopt(ControllerClient& client, const std::string& resource, const std::string& kind_name,
                const api::meta::v1::ObjectMeta& owner) {
  KPP_ASSIGN_OR_RETURN(auto fresh, client.GetMetadata(resource, owner.namespace_, owner.name));
  if (fresh.uid != owner.uid) {
    return Error(ErrorCode::kConflict,
                 fmt::format("original {} {}/{} is gone: got uid {}, wanted {}", kind_name,
                             owner.namespace_, owner.name, fresh.uid, owner.uid));
  }
  if (fresh.deletion_timestamp) {
    return Error(ErrorCode::kConflict,
                 fmt::format("{}/{} has just been deleted at {}", owner.namespace_, owner.name,
                             fresh.deletion_timestamp->ToString()));
  }
  return Ok();
}

Result<bool> ClaimObject(const api::meta::v1::OwnerReference& owner_ref,
                         const api::meta::v1::ObjectMeta& owner, const labels::Selector& selector,
                         const api::meta::v1::ObjectMeta& object, const ObjectPatcher& patch,
                         bool may_adopt) {
  const auto* ref = ControllerRefOf(object);
  const bool matches = selector.Matches(object.labels) && !selector.Empty();
  if (ref != nullptr && ref->uid == owner.uid) {
    if (matches) return true;
    if (!owner.deletion_timestamp) {
      Status released = patch(object.namespace_, object.name, ReleasePatch(owner.uid, object.uid));
      if (!released.ok() && !client::IsNotFound(released.error())) return released.error();
    }
    return false;
  }
  if (ref != nullptr || !matches || owner.deletion_timestamp || object.deletion_timestamp ||
      !may_adopt) {
    return false;
  }
  Status adopted = patch(object.namespace_, object.name, AdoptPatch(owner_ref, object.uid));
  if (adopted.ok()) return true;
  if (client::IsNotFound(adopted.error())) return false;
  return adopted.error();
}

Result<std::vector<std::shared_ptr<const Pod>>> ClaimPods(
    const api::meta::v1::OwnerReference& owner_ref, const api::meta::v1::ObjectMeta& owner,
    const labels::Selector& selector, const std::vector<std::shared_ptr<const Pod>>& pods,
    const PodPatcher& patch_pod, const std::function<bool(const Pod&)>& may_adopt) {
  std::vector<std::shared_ptr<const Pod>> claimed;
  for (const auto& pod : pods) {
    KPP_ASSIGN_OR_RETURN(
        bool claims,
        ClaimObject(owner_ref, owner, selector, pod->metadata, patch_pod,
                    !may_adopt || ControllerRefOf(pod->metadata) != nullptr || may_adopt(*pod)));
    if (claims) claimed.push_back(pod);
  }
  return claimed;
}

Result<labels::Selector> SelectorOf(const api::meta::v1::LabelSelector* selector) {
  if (selector == nullptr) return labels::Selector::Nothing();
  labels::LabelSelector converted;
  converted.match_labels = selector->match_labels;
  for (const auto& requirement : selector->match_expressions) {
    converted.match_expressions.push_back(
        {requirement.key, requirement.operator_, requirement.values});
  }
  return labels::LabelSelectorAsSelector(&converted);
}

std::string KeyOf(const api::meta::v1::ObjectMeta& metadata) {
  return metadata.namespace_ + "/" + metadata.name;
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

api::Time TimeOf(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

}  // namespace kpp::controllers
