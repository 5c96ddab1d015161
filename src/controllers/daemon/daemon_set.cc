#include "controllers/daemon/daemon_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "apimachinery/intstr/int_or_string.h"
#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using api::core::v1::NodeSelectorRequirement;
using api::core::v1::Toleration;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

constexpr char kApiVersion[] = "apps/v1";
constexpr char kKind[] = "DaemonSet";

bool IsTerminating(const Pod& pod) {
  return pod.metadata.deletion_timestamp.has_value();
}
bool IsFinished(const Pod& pod) {
  return pod.status.phase == "Failed" || pod.status.phase == "Succeeded";
}
std::string HashOf(const Pod& pod) {
  auto found = pod.metadata.labels.find(kControllerRevisionHashLabel);
  return found == pod.metadata.labels.end() ? "" : found->second;
}

bool RequirementMatches(const NodeSelectorRequirement& requirement,
                        const std::map<std::string, std::string>& values) {
  auto found = values.find(requirement.key);
  const bool has = found != values.end();
  const auto& listed = requirement.values;
  const auto& op = requirement.operator_;
  if (op == "In") return has && std::count(listed.begin(), listed.end(), found->second) > 0;
  if (op == "NotIn") return !has || std::count(listed.begin(), listed.end(), found->second) == 0;
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if ((op == "Gt" || op == "Lt") && has && listed.size() == 1) {
    try {
      const long long value = std::stoll(found->second);
      const long long bound = std::stoll(listed[0]);
      return op == "Gt" ? value > bound : value < bound;
    } catch (...) {
      return false;
    }
  }
  return false;
}

bool Tolerates(const Toleration& toleration, const api::core::v1::Taint& taint) {
  if (!toleration.effect.empty() && toleration.effect != taint.effect) return false;
  if (toleration.key.empty()) return toleration.operator_ == "Exists";
  if (toleration.key != taint.key) return false;
  if (toleration.operator_ == "Exists") return true;
  return toleration.value == taint.value;  // "Equal" or empty
}

void AddToleration(std::vector<Toleration>& tolerations, const std::string& key,
                   const std::string& effect) {
  for (const auto& existing : tolerations) {
    if (existing.key == key && existing.effect == effect && existing.operator_ == "Exists") return;
  }
  Toleration toleration;
  toleration.key = key;
  toleration.operator_ = "Exists";
  toleration.effect = effect;
  tolerations.push_back(std::move(toleration));
}

int32_t Scaled(const std::optional<api::IntOrString>& value, int default_value, int32_t total) {
  const auto given = value.value_or(api::IntOrString::FromInt(default_value));
  const auto converted = given.is_string ? intstr::IntOrString::FromString(given.string_value)
                                         : intstr::IntOrString::FromInt32(given.int_value);
  auto scaled = intstr::GetScaledValueFromIntOrPercent(converted, total, true);
  return scaled.ok() ? static_cast<int32_t>(*scaled) : default_value;
}

}  // namespace

api::core::v1::PodSpec WithDaemonTolerations(api::core::v1::PodSpec spec) {
  AddToleration(spec.tolerations, "node.kubernetes.io/not-ready", "NoExecute");
  AddToleration(spec.tolerations, "node.kubernetes.io/unreachable", "NoExecute");
  AddToleration(spec.tolerations, "node.kubernetes.io/disk-pressure", "NoSchedule");
  AddToleration(spec.tolerations, "node.kubernetes.io/memory-pressure", "NoSchedule");
  AddToleration(spec.tolerations, "node.kubernetes.io/pid-pressure", "NoSchedule");
  AddToleration(spec.tolerations, "node.kubernetes.io/unschedulable", "NoSchedule");
  if (spec.host_network) {
    AddToleration(spec.tolerations, "node.kubernetes.io/network-unavailable", "NoSchedule");
  }
  return spec;
}

bool NodeSelectorMatches(const api::core::v1::NodeSelector& required, const Node& node) {
  const std::map<std::string, std::string> fields = {{"metadata.name", node.metadata.name}};
  for (const auto& term : required.node_selector_terms) {
    if (term.match_expressions.empty() && term.match_fields.empty()) continue;
    bool matches = true;
    for (const auto& requirement : term.match_expressions)
      matches = matches && RequirementMatches(requirement, node.metadata.labels);
    for (const auto& requirement : term.match_fields)
      matches = matches && RequirementMatches(requirement, fields);
    if (matches) return true;
  }
  return false;
}

NodeFit DaemonPodFits(const api::core::v1::PodSpec& template_spec, const Node& node) {
  const api::core::v1::PodSpec spec = WithDaemonTolerations(template_spec);
  for (const auto& [key, value] : spec.node_selector) {
    auto found = node.metadata.labels.find(key);
    if (found == node.metadata.labels.end() || found->second != value) return {};
  }
  if (spec.affinity && spec.affinity->node_affinity &&
      spec.affinity->node_affinity->required_during_scheduling_ignored_during_execution &&
      !NodeSelectorMatches(
          *spec.affinity->node_affinity->required_during_scheduling_ignored_during_execution,
          node)) {
    return {};
  }
  NodeFit fit{.should_run = true, .should_continue_running = true};
  for (const auto& taint : node.spec.taints) {
    if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
    const bool tolerated = std::any_of(spec.tolerations.begin(), spec.tolerations.end(),
                                       [&](const auto& t) { return Tolerates(t, taint); });
    if (tolerated) continue;
    fit.should_run = false;
    if (taint.effect == "NoExecute") fit.should_continue_running = false;
  }
  return fit;
}

std::string TargetNodeOf(const Pod& pod) {
  if (!pod.spec.node_name.empty()) return pod.spec.node_name;
  const auto& affinity = pod.spec.affinity;
  if (!affinity || !affinity->node_affinity ||
      !affinity->node_affinity->required_during_scheduling_ignored_during_execution) {
    return "";
  }
  for (const auto& term :
       affinity->node_affinity->required_during_scheduling_ignored_during_execution
           ->node_selector_terms) {
    for (const auto& field : term.match_fields) {
      if (field.key == "metadata.name" && field.operator_ == "In" && field.values.size() == 1) {
        return field.values[0];
      }
    }
  }
  return "";
}

Pod NewDaemonPod(const DaemonSet& ds, const std::string& hash, const std::string& node_name) {
  Pod pod;
  pod.api_version = "v1";
  pod.kind = "Pod";
  pod.metadata.generate_name = ds.metadata.name + "-";
  pod.metadata.namespace_ = ds.metadata.namespace_;
  pod.metadata.labels = ds.spec.template_.metadata.labels;
  pod.metadata.annotations = ds.spec.template_.metadata.annotations;
  pod.metadata.finalizers = ds.spec.template_.metadata.finalizers;
  pod.metadata.labels[kControllerRevisionHashLabel] = hash;
  pod.metadata.labels["pod-template-generation"] = std::to_string(ds.metadata.generation);
  pod.metadata.owner_references.push_back(ControllerRef(kApiVersion, kKind, ds.metadata));
  pod.spec = WithDaemonTolerations(ds.spec.template_.spec);
  // The node, as a required matchFields term: in every term when there are some (upstream's
  // ReplaceDaemonSetPodNodeNameNodeAffinity).
  NodeSelectorRequirement by_name;
  by_name.key = "metadata.name";
  by_name.operator_ = "In";
  by_name.values = {node_name};
  auto& affinity = pod.spec.affinity;
  if (!affinity) affinity.emplace();
  if (!affinity->node_affinity) affinity->node_affinity.emplace();
  auto& required = affinity->node_affinity->required_during_scheduling_ignored_during_execution;
  if (!required) required.emplace();
  if (required->node_selector_terms.empty()) required->node_selector_terms.emplace_back();
  for (auto& term : required->node_selector_terms)
    term.match_fields = {by_name};
  return pod;
}

std::string DaemonSetStatusPatch(const api::apps::v1::DaemonSetStatus& status) {
  boost::json::object fields;
  fields["currentNumberScheduled"] = status.current_number_scheduled;
  fields["numberMisscheduled"] = status.number_misscheduled;
  fields["desiredNumberScheduled"] = status.desired_number_scheduled;
  fields["numberReady"] = status.number_ready;
  fields["observedGeneration"] = status.observed_generation;
  fields["updatedNumberScheduled"] = status.updated_number_scheduled;
  fields["numberAvailable"] = status.number_available;
  fields["numberUnavailable"] = status.number_unavailable;
  if (status.collision_count) {
    fields["collisionCount"] = *status.collision_count;
  } else {
    fields["collisionCount"] = nullptr;
  }
  return boost::json::serialize(boost::json::object{{"status", fields}});
}

SyncResult DaemonSetSyncer::Sync(const std::string&, const DaemonSet* ds_pointer) {
  if (ds_pointer == nullptr) return {};
  const DaemonSet& ds = *ds_pointer;
  const auto reference = ReferenceOf(kApiVersion, kKind, ds.metadata);
  auto selector = SelectorOf(ds.spec.selector ? &*ds.spec.selector : nullptr);
  if (!selector.ok()) return {.status = selector.error()};

  if (ds.spec.selector && ds.spec.selector->match_labels.empty() &&
      ds.spec.selector->match_expressions.empty()) {
    events_.Event(reference, "Warning", "SelectingAll",
                  "This daemon set is selecting all pods. A non-empty selector is required.");
    return {};
  }
  // Being deleted: its revisions may be going or orphaned, so neither they nor its status can be
  // trusted (upstream returns here too).
  if (ds.metadata.deletion_timestamp) return {};

  // Upstream's controlledHistories: orphans the selector matches are adopted, ours that stopped
  // matching released.
  auto claimed_revisions = ClaimRevisions(client_, kApiVersion, kKind, ds.metadata, *selector,
                                          revisions_.List(ds.metadata.namespace_));
  if (!claimed_revisions.ok()) return {.status = claimed_revisions.error()};
  std::vector<std::shared_ptr<const ControllerRevision>> revisions =
      std::move(claimed_revisions).value();
  int32_t collision_count = ds.status.collision_count.value_or(0);
  const std::string data = TemplatePatch(ds.spec.template_);
  auto labels = ds.spec.template_.metadata.labels;
  labels[kControllerRevisionHashLabel] = HashRevisionData(data, collision_count);
  auto update_revision = EnsureUpdateRevision(client_, kApiVersion, kKind, ds.metadata, labels,
                                              data, revisions, collision_count);
  if (!update_revision.ok()) return {.status = update_revision.error()};
  const std::string hash =
      update_revision->metadata.name.substr(RevisionName(ds.metadata.name, "").size());

  std::map<std::string, std::vector<std::shared_ptr<const Pod>>> by_node;
  auto claimed =
      ClaimPods(ControllerRef(kApiVersion, kKind, ds.metadata), ds.metadata, *selector,
                pods_.List(ds.metadata.namespace_),
                [this](const std::string& ns, const std::string& name, const std::string& patch) {
                  return client_.PatchPod(ns, name, patch);
                });
  if (!claimed.ok()) return {.status = claimed.error()};
  for (const auto& pod : *claimed)
    by_node[TargetNodeOf(*pod)].push_back(pod);
  for (auto& [node, pods] : by_node) {
    std::sort(pods.begin(), pods.end(), [](const auto& a, const auto& b) {
      return a->metadata.creation_timestamp < b->metadata.creation_timestamp;
    });
  }

  const auto now = clock_.Now();
  const int32_t min_ready = ds.spec.min_ready_seconds;
  std::vector<std::string> creates;
  std::vector<std::shared_ptr<const Pod>> deletes;
  api::apps::v1::DaemonSetStatus status;
  struct Eligible {
    std::string node;
    std::vector<std::shared_ptr<const Pod>> pods;  // live ones, oldest first
  };
  std::vector<Eligible> eligible;
  bool waiting_for_available = false;
  for (const auto& node : nodes_.List("")) {
    const NodeFit fit = DaemonPodFits(ds.spec.template_.spec, *node);
    std::vector<std::shared_ptr<const Pod>> live;
    for (const auto& pod : by_node[node->metadata.name]) {
      if (IsTerminating(*pod)) continue;
      if (IsFinished(*pod)) {
        if (fit.should_continue_running) {
          // Upstream's events for a finished daemon pod it replaces (on the next sync).
          const bool failed = pod->status.phase == "Failed";
          events_.Event(
              reference, failed ? "Warning" : "Normal",
              failed ? "FailedDaemonPod" : "SucceededDaemonPod",
              fmt::format("Found {} daemon pod {}/{} on node {}, will try to {} it",
                          failed ? "failed" : "succeeded", pod->metadata.namespace_,
                          pod->metadata.name, node->metadata.name, failed ? "kill" : "delete"));
        }
        deletes.push_back(pod);
        continue;
      }
      live.push_back(pod);
    }
    if (!fit.should_run && !live.empty()) status.number_misscheduled++;
    if (fit.should_run) {
      status.desired_number_scheduled++;
      if (!live.empty()) {
        status.current_number_scheduled++;
        // The newest pod speaks for the node (the surge pod during a rolling update).
        const Pod& pod = *live.back();
        if (IsPodReady(pod)) {
          status.number_ready++;
          if (IsPodAvailable(pod, min_ready, now)) {
            status.number_available++;
          } else {
            waiting_for_available = true;
          }
        }
        if (HashOf(pod) == hash) status.updated_number_scheduled++;
      }
    }
    if (fit.should_run && live.empty()) {
      creates.push_back(node->metadata.name);
    } else if (!fit.should_continue_running) {
      deletes.insert(deletes.end(), live.begin(), live.end());
    } else {
      // More than one pod: keep the oldest, or an old and a new one during a surge.
      std::vector<std::shared_ptr<const Pod>> kept;
      for (const auto& pod : live) {
        const bool same_hash_kept = std::any_of(kept.begin(), kept.end(), [&](const auto& k) {
          return (HashOf(*k) == hash) == (HashOf(*pod) == hash);
        });
        if (same_hash_kept || kept.size() >= 2) {
          deletes.push_back(pod);
        } else {
          kept.push_back(pod);
        }
      }
      if (fit.should_run) eligible.push_back({node->metadata.name, kept});
    }
  }
  status.number_unavailable = status.desired_number_scheduled - status.number_available;

  // The rolling update, once the set of pods is settled.
  if (creates.empty() && deletes.empty() && ds.spec.update_strategy.type != "OnDelete") {
    const auto& rolling = ds.spec.update_strategy.rolling_update;
    const int32_t desired = status.desired_number_scheduled;
    const int32_t max_surge = Scaled(rolling ? rolling->max_surge : std::nullopt, 0, desired);
    int32_t max_unavailable = Scaled(rolling ? rolling->max_unavailable : std::nullopt, 1, desired);
    if (max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
    if (max_surge == 0) {
      int32_t unavailable = 0;
      for (const auto& node : eligible) {
        if (node.pods.empty() || !IsPodAvailable(*node.pods.back(), min_ready, now)) ++unavailable;
      }
      // Old pods that are unavailable anyway go first, then available ones within the budget.
      for (const auto& node : eligible) {
        if (node.pods.size() == 1 && HashOf(*node.pods[0]) != hash &&
            !IsPodAvailable(*node.pods[0], min_ready, now)) {
          deletes.push_back(node.pods[0]);
        }
      }
      for (const auto& node : eligible) {
        if (unavailable >= max_unavailable) break;
        if (node.pods.size() == 1 && HashOf(*node.pods[0]) != hash &&
            IsPodAvailable(*node.pods[0], min_ready, now)) {
          deletes.push_back(node.pods[0]);
          ++unavailable;
        }
      }
    } else {
      int32_t surging = 0;
      for (const auto& node : eligible)
        surging += node.pods.size() == 2 ? 1 : 0;
      for (const auto& node : eligible) {
        if (node.pods.size() == 2) {
          // Old and new: the old one goes once the new one is available.
          if (IsPodAvailable(*node.pods[1], min_ready, now) && HashOf(*node.pods[1]) == hash) {
            deletes.push_back(node.pods[0]);
          } else if (HashOf(*node.pods[0]) == hash) {
            deletes.push_back(node.pods[1]);
          }
        } else if (node.pods.size() == 1 && HashOf(*node.pods[0]) != hash) {
          if (!IsPodAvailable(*node.pods[0], min_ready, now)) {
            deletes.push_back(node.pods[0]);
          } else if (surging < max_surge) {
            creates.push_back(node.node);
            ++surging;
          }
        }
      }
    }
  }

  Status result = Ok();
  for (const auto& node_name : creates) {
    auto created = client_.CreatePod(NewDaemonPod(ds, hash, node_name));
    if (!created.ok()) {
      events_.Event(reference, "Warning", "FailedCreate",
                    fmt::format("Error creating: {}", created.error().message()));
      result = std::move(created).error();
      break;
    }
    events_.Event(reference, "Normal", "SuccessfulCreate",
                  fmt::format("Created pod: {}", created->metadata.name));
  }
  for (const auto& pod : deletes) {
    Status deleted = client_.DeletePod(pod->metadata.namespace_, pod->metadata.name);
    if (!deleted.ok() && !client::IsNotFound(deleted.error())) {
      events_.Event(reference, "Warning", "FailedDelete",
                    fmt::format("Error deleting: {}", deleted.error().message()));
      result = deleted;
      break;
    }
    events_.Event(reference, "Normal", "SuccessfulDelete",
                  fmt::format("Deleted pod: {}", pod->metadata.name));
  }

  status.observed_generation = ds.metadata.generation;
  if (collision_count != 0 || ds.status.collision_count) status.collision_count = collision_count;
  api::apps::v1::DaemonSetStatus old = ds.status;
  old.conditions.clear();
  if (!(old == status)) {
    Status written = client_.PatchStatus("daemonsets", ds.metadata.namespace_, ds.metadata.name,
                                         DaemonSetStatusPatch(status));
    if (result.ok()) result = written;
  }
  if (!result.ok()) return {.status = result};

  std::vector<std::string> live = {update_revision->metadata.name};
  for (const auto& revision : revisions) {
    for (const auto& [node, pods] : by_node) {
      for (const auto& pod : pods) {
        auto found = revision->metadata.labels.find(kControllerRevisionHashLabel);
        if (found != revision->metadata.labels.end() && found->second == HashOf(*pod)) {
          live.push_back(revision->metadata.name);
        }
      }
    }
  }
  SyncResult out{.status = TruncateHistory(client_, revisions, live,
                                           ds.spec.revision_history_limit.value_or(10))};
  if (waiting_for_available) out.requeue_after = std::chrono::seconds(std::max(min_ready, 1));
  return out;
}

DaemonSetController::DaemonSetController(client::informers::SharedInformerFactory& factory,
                                         WorkloadClient& client, EventSink& events, int workers,
                                         Clock& clock)
    : sets_informer_(factory.InformerFor<DaemonSet>()),
      pods_informer_(factory.InformerFor<Pod>()),
      nodes_informer_(factory.InformerFor<Node>()),
      revisions_informer_(factory.InformerFor<ControllerRevision>()),
      pods_(pods_informer_),
      nodes_(nodes_informer_),
      revisions_(revisions_informer_),
      workers_count_(workers),
      syncer_(pods_, nodes_, revisions_, client, events, clock),
      workers_(queue_,
               SyncCached<DaemonSet>(sets_informer_,
                                     [this](const std::string& key, const DaemonSet* object) {
                                       return syncer_.Sync(key, object);
                                     }),
               {.what = "syncing DaemonSet"}) {
  auto enqueue_set = [this](const api::meta::v1::ObjectMeta& metadata) {
    queue_.Add(KeyOf(metadata));
  };
  sets_informer_.AddEventHandler(
      {.on_add = [enqueue_set](const ObjectRef& object, bool) { enqueue_set(object->metadata()); },
       .on_update = [enqueue_set](const ObjectRef&,
                                  const ObjectRef& object) { enqueue_set(object->metadata()); },
       .on_delete =
           [enqueue_set](const DeletedObject& deleted) {
             if (deleted.object) enqueue_set(deleted.object->metadata());
           }});
  auto enqueue_owner = [this](const ObjectRef& object) {
    auto pod = As<Pod>(object);
    if (!pod) return;
    const auto* ref = ControllerRefOf(pod->metadata);
    if (ref != nullptr && ref->kind == kKind)
      queue_.Add(pod->metadata.namespace_ + "/" + ref->name);
  };
  pods_informer_.AddEventHandler(
      {.on_add = [enqueue_owner](const ObjectRef& object, bool) { enqueue_owner(object); },
       .on_update = [enqueue_owner](const ObjectRef&,
                                    const ObjectRef& object) { enqueue_owner(object); },
       .on_delete =
           [enqueue_owner](const DeletedObject& deleted) {
             if (deleted.object) enqueue_owner(deleted.object);
           }});
  // Any node change may change where daemons run.
  nodes_informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef&, bool) { EnqueueAll(); },
       .on_update =
           [this](const ObjectRef& old_object, const ObjectRef& new_object) {
             auto old_node = As<Node>(old_object);
             auto new_node = As<Node>(new_object);
             if (!old_node || !new_node || old_node->metadata.labels != new_node->metadata.labels ||
                 old_node->spec != new_node->spec) {
               EnqueueAll();
             }
           },
       .on_delete = [this](const DeletedObject&) { EnqueueAll(); }});
}

DaemonSetController::~DaemonSetController() {
  Stop();
}

void DaemonSetController::EnqueueAll() {
  for (const auto& ds : client::informers::Lister<DaemonSet>(sets_informer_).List())
    queue_.Add(KeyOf(ds->metadata));
}

void DaemonSetController::Run() {
  workers_.Start(workers_count_);
}

void DaemonSetController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
