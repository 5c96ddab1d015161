#include "controllers/nodelifecycle/node_lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using api::core::v1::NodeCondition;
using api::core::v1::Pod;
using api::core::v1::Taint;

constexpr const char* kWatchedConditions[] = {"Ready", "MemoryPressure", "DiskPressure",
                                              "PIDPressure"};

client::WriteOptions Writes() {
  client::WriteOptions options;
  options.field_manager = "kube-controller-manager";
  return options;
}

const NodeCondition* FindCondition(const Node& node, const std::string& type) {
  for (const auto& condition : node.status.conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

std::string ReadyStatus(const Node& node) {
  const auto* ready = FindCondition(node, "Ready");
  return ready == nullptr ? "Unknown" : ready->status;
}

api::Time TimeAt(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

// The NoSchedule taints that follow a node condition (upstream's TaintNodesByCondition):
// condition type, the status that wants the taint, taint key.
struct ConditionTaint {
  const char* condition;
  const char* status;
  const char* key;
};
constexpr ConditionTaint kConditionTaints[] = {
    {"Ready", "False", kNotReadyTaint},
    {"Ready", "Unknown", kUnreachableTaint},
    {"MemoryPressure", "True", kMemoryPressureTaint},
    {"DiskPressure", "True", kDiskPressureTaint},
    {"NetworkUnavailable", "True", kNetworkUnavailableTaint},
    {"PIDPressure", "True", kPIDPressureTaint},
};

bool IsReadyTaintKey(const std::string& key) {
  return key == kUnreachableTaint || key == kNotReadyTaint;
}

// A taint this controller owns: a condition or unschedulable NoSchedule taint, or the
// not-ready/unreachable NoExecute taint.
bool IsControllerTaint(const Taint& taint) {
  if (taint.effect == "NoExecute") return IsReadyTaintKey(taint.key);
  if (taint.effect != "NoSchedule") return false;
  if (taint.key == kUnschedulableTaint) return true;
  return std::any_of(std::begin(kConditionTaints), std::end(kConditionTaints),
                     [&](const ConditionTaint& entry) { return taint.key == entry.key; });
}

bool IsConditionTaint(const Taint& taint) {
  return IsReadyTaintKey(taint.key) &&
         (taint.effect == "NoSchedule" || taint.effect == "NoExecute");
}

std::string ZoneOf(const Node& node) {
  auto found = node.metadata.labels.find(kZoneLabel);
  return found == node.metadata.labels.end() ? "" : found->second;
}

std::string TaintsPatch(const Node& node, const std::vector<Taint>& taints) {
  boost::json::array items;
  for (const auto& taint : taints) {
    boost::json::object item{{"key", taint.key}, {"effect", taint.effect}};
    if (!taint.value.empty()) item["value"] = taint.value;
    if (taint.time_added) item["timeAdded"] = taint.time_added->ToString();
    items.push_back(std::move(item));
  }
  boost::json::object spec;
  if (items.empty()) {
    spec["taints"] = nullptr;
  } else {
    spec["taints"] = std::move(items);
  }
  return boost::json::serialize(boost::json::object{
      {"metadata", boost::json::object{{"resourceVersion", node.metadata.resource_version}}},
      {"spec", std::move(spec)}});
}

}  // namespace

Status RestNodeLifecycleClient::UpdateNodeStatus(const Node& node) {
  auto updated = client::TypedResource<Node>(client_).UpdateStatus(node, Writes());
  if (!updated.ok()) return std::move(updated).error();
  return Ok();
}

Status RestNodeLifecycleClient::PatchNode(const std::string& name, const std::string& patch) {
  auto patched =
      client::TypedResource<Node>(client_).Patch(name, client::PatchType::kMerge, patch, Writes());
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

Status RestNodeLifecycleClient::PatchPodStatus(const std::string& ns, const std::string& name,
                                               const std::string& patch) {
  auto patched = client::TypedResource<Pod>(client_, ns)
                     .Patch(name, client::PatchType::kStrategicMerge, patch, Writes(), "status");
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

Status RestNodeLifecycleClient::DeletePod(const std::string& ns, const std::string& name,
                                          const std::string& uid) {
  client::DeleteOptions options;
  options.precondition_uid = uid;
  return client::TypedResource<Pod>(client_, ns).Delete(name, options);
}

ZoneState ComputeZoneState(int ready, int not_ready, double unhealthy_zone_threshold) {
  if (ready == 0 && not_ready > 0) return ZoneState::kFullDisruption;
  if (not_ready > 2 && static_cast<double>(not_ready) / static_cast<double>(not_ready + ready) >=
                           unhealthy_zone_threshold) {
    return ZoneState::kPartialDisruption;
  }
  return ZoneState::kNormal;
}

bool Tolerates(const api::core::v1::Toleration& toleration, const Taint& taint) {
  if (!toleration.effect.empty() && toleration.effect != taint.effect) return false;
  if (toleration.key.empty()) return toleration.operator_ == "Exists";
  if (toleration.key != taint.key) return false;
  if (toleration.operator_ == "Exists") return true;
  return (toleration.operator_.empty() || toleration.operator_ == "Equal") &&
         toleration.value == taint.value;
}

std::vector<PodNotReadyMark> PodsToMarkNotReady(const std::vector<PodPtr>& pods,
                                                const std::string& node_name, api::Time now) {
  std::vector<PodNotReadyMark> marks;
  for (const auto& pod : pods) {
    if (pod->spec.node_name != node_name) continue;
    for (const auto& condition : pod->status.conditions) {
      if (condition.type != "Ready") continue;
      if (condition.status != "False") {
        // A strategic merge patch merges conditions by type: reason, message and
        // lastProbeTime of the pod's Ready condition stay, as upstream's copy of it keeps them.
        boost::json::object ready{
            {"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", now.ToString()}};
        marks.push_back(PodNotReadyMark{
            pod, boost::json::serialize(boost::json::object{
                     {"status", boost::json::object{
                                    {"conditions", boost::json::array{std::move(ready)}}}}})});
      }
      break;
    }
  }
  return marks;
}

Status MarkPodsNotReady(NodeLifecycleClient& client, EventSink& events,
                        const std::vector<PodPtr>& pods, const std::string& node_name,
                        api::Time now) {
  std::optional<Error> first_error;
  for (const auto& mark : PodsToMarkNotReady(pods, node_name, now)) {
    const auto& metadata = mark.pod->metadata;
    KLOG_V(2, "node {} not ready: marking pod {}/{} not ready", node_name, metadata.namespace_,
           metadata.name);
    auto patched = client.PatchPodStatus(metadata.namespace_, metadata.name, mark.patch);
    if (!patched.ok()) {
      if (client::IsNotFound(patched.error())) continue;
      KLOG_INFO("marking pod {}/{} not ready: {}", metadata.namespace_, metadata.name,
                patched.error().message());
      if (!first_error) first_error = std::move(patched).error();
    }
    events.Event(ReferenceOf("v1", "Pod", metadata), "Warning", "NodeNotReady",
                 "Node is not ready");
  }
  if (first_error) return *first_error;
  return Ok();
}

void NodeHealthSyncer::RecordNodeEvent(const std::string& name, const std::string& uid,
                                       const std::string& reason, const std::string& message) {
  if (events_ == nullptr) return;
  api::core::v1::ObjectReference node;
  node.api_version = "v1";
  node.kind = "Node";
  node.name = name;
  node.uid = uid;
  events_->Event(node, "Normal", reason, message);
}

std::optional<Node> NodeHealthSyncer::CheckHealth(const Node& node, const Lease* lease) {
  const auto now = clock_.Now();
  const auto* ready = FindCondition(node, "Ready");
  const api::Time heartbeat = ready ? ready->last_heartbeat_time : api::Time();
  const api::Time transition = ready ? ready->last_transition_time : api::Time();
  std::optional<api::MicroTime> renew;
  if (lease != nullptr) renew = lease->spec.renew_time;
  // A kubelet that never posted status gets --node-startup-grace-period from the node's
  // creation, as upstream's; afterwards --node-monitor-grace-period from its last sign of life.
  const bool never_posted = ready == nullptr;
  const auto grace_period =
      never_posted ? options_.node_startup_grace_period : options_.node_monitor_grace_period;
  auto [entry, added] = health_.try_emplace(node.metadata.name);
  Health& health = entry->second;
  if (added && never_posted && !node.metadata.creation_timestamp.IsZero()) {
    health.probe =
        Clock::TimePoint(std::chrono::seconds(node.metadata.creation_timestamp.unix_seconds));
    health.renew = renew;
    if (renew) health.probe = std::max(health.probe, now);
  } else if (added || health.heartbeat != heartbeat || health.ready_transition != transition ||
             (renew && health.renew != renew)) {
    health.probe = now;
    health.heartbeat = heartbeat;
    health.ready_transition = transition;
    health.renew = renew;
  }
  if (now - health.probe <= grace_period) return std::nullopt;
  Node updated = node;
  bool changed = false;
  for (const char* type : kWatchedConditions) {
    auto condition =
        std::find_if(updated.status.conditions.begin(), updated.status.conditions.end(),
                     [&](const auto& c) { return c.type == type; });
    if (condition == updated.status.conditions.end()) {
      NodeCondition unknown;
      unknown.type = type;
      unknown.status = "Unknown";
      unknown.reason = "NodeStatusNeverUpdated";
      unknown.message = "Kubelet never posted node status.";
      unknown.last_heartbeat_time = node.metadata.creation_timestamp;
      unknown.last_transition_time = TimeAt(now);
      updated.status.conditions.push_back(unknown);
      changed = true;
    } else if (condition->status != "Unknown") {
      condition->status = "Unknown";
      condition->reason = "NodeStatusUnknown";
      condition->message = "Kubelet stopped posting node status.";
      condition->last_transition_time = TimeAt(now);
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return updated;
}

std::optional<std::vector<Taint>> DesiredConditionTaints(const Node& node, bool allow_no_execute,
                                                         api::Time now) {
  std::vector<std::string> wanted_no_schedule;
  for (const auto& condition : node.status.conditions) {
    for (const auto& entry : kConditionTaints) {
      if (condition.type == entry.condition && condition.status == entry.status) {
        wanted_no_schedule.push_back(entry.key);
      }
    }
  }
  if (node.spec.unschedulable) wanted_no_schedule.push_back(kUnschedulableTaint);
  const std::string ready = ReadyStatus(node);
  std::string wanted_no_execute;
  if (allow_no_execute && ready == "False") wanted_no_execute = kNotReadyTaint;
  if (allow_no_execute && ready == "Unknown") wanted_no_execute = kUnreachableTaint;

  // As upstream's taint swaps: taints kept stay where they are (with their timeAdded), new ones
  // are appended with the time they were added.
  auto wanted = [&](const Taint& taint) {
    if (taint.effect == "NoExecute") return taint.key == wanted_no_execute;
    return std::find(wanted_no_schedule.begin(), wanted_no_schedule.end(), taint.key) !=
           wanted_no_schedule.end();
  };
  std::vector<Taint> taints;
  for (const auto& taint : node.spec.taints) {
    if (!IsControllerTaint(taint) || wanted(taint)) taints.push_back(taint);
  }
  auto present = [&](const std::string& key, const std::string& effect) {
    return std::any_of(taints.begin(), taints.end(), [&](const Taint& taint) {
      return taint.key == key && taint.effect == effect;
    });
  };
  for (const auto& key : wanted_no_schedule) {
    if (!present(key, "NoSchedule")) taints.push_back(Taint{key, "", "NoSchedule", now});
  }
  if (!wanted_no_execute.empty() && !present(wanted_no_execute, "NoExecute")) {
    taints.push_back(Taint{wanted_no_execute, "", "NoExecute", now});
  }
  if (taints == node.spec.taints) return std::nullopt;
  return taints;
}

Status SyncNoScheduleTaints(NodeLifecycleClient& client, const Node& node, api::Time now) {
  auto desired = DesiredConditionTaints(node, true, now);
  if (!desired) return Ok();
  const bool had_no_execute = std::any_of(
      node.spec.taints.begin(), node.spec.taints.end(),
      [](const Taint& taint) { return IsConditionTaint(taint) && taint.effect == "NoExecute"; });
  if (!had_no_execute) {
    std::erase_if(*desired, [](const Taint& taint) {
      return IsConditionTaint(taint) && taint.effect == "NoExecute";
    });
    if (*desired == node.spec.taints) return Ok();
  }
  return client.PatchNode(node.metadata.name, TaintsPatch(node, *desired));
}

bool NodeHealthSyncer::TakeEvictionToken(const std::string& zone, double rate) {
  if (rate <= 0) return false;
  const auto now = clock_.Now();
  auto [entry, added] = buckets_.try_emplace(zone, Bucket{1, now});
  Bucket& bucket = entry->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
  bucket.tokens = std::min(1.0, bucket.tokens + elapsed * rate);
  bucket.refilled = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

Status NodeHealthSyncer::Monitor(const std::vector<NodePtr>& nodes,
                                 const std::map<std::string, std::shared_ptr<const Lease>>& leases,
                                 const PodsOfNode& pods_of) {
  std::optional<Error> first_error;
  std::vector<Node> current;
  std::set<std::string> names;
  for (const auto& node : nodes)
    names.insert(node->metadata.name);
  // Upstream's classifyNodes: nodes this controller had not seen, and those it saw that left.
  for (const auto& node : nodes) {
    const auto& name = node->metadata.name;
    if (known_nodes_.contains(name)) continue;
    known_nodes_[name] = node->metadata.uid;
    RecordNodeEvent(name, node->metadata.uid, "RegisteredNode",
                    fmt::format("Node {} event: Registered Node {} in Controller", name, name));
  }
  for (auto known = known_nodes_.begin(); known != known_nodes_.end();) {
    if (names.contains(known->first)) {
      ++known;
      continue;
    }
    RecordNodeEvent(
        known->first, known->second, "RemovingNode",
        fmt::format("Node {} event: Removing Node {} from Controller", known->first, known->first));
    mark_retries_.erase(known->first);
    known = known_nodes_.erase(known);
  }
  const auto mark_pods = [&](const Node& node) {
    if (events_ == nullptr || !pods_of) return;
    auto marked = MarkPodsNotReady(client_, *events_, pods_of(node.metadata.name),
                                   node.metadata.name, TimeAt(clock_.Now()));
    if (marked.ok()) {
      mark_retries_.erase(node.metadata.name);
    } else {
      mark_retries_.insert(node.metadata.name);
      if (!first_error) first_error = std::move(marked).error();
    }
  };
  for (const auto& node : nodes) {
    auto lease = leases.find(node->metadata.name);
    auto updated = CheckHealth(*node, lease == leases.end() ? nullptr : lease->second.get());
    if (updated) {
      KLOG_INFO("node {} stopped posting status: conditions set to Unknown", node->metadata.name);
      if (auto written = client_.UpdateNodeStatus(*updated); !written.ok()) {
        if (!first_error) first_error = std::move(written).error();
        current.push_back(*node);
        continue;
      }
      // Upstream reports the change once, when this controller turns Ready from True.
      if (ReadyStatus(*node) == "True" && ReadyStatus(*updated) != "True") {
        RecordNodeEvent(
            node->metadata.name, node->metadata.uid, "NodeNotReady",
            fmt::format("Node {} status is now: {}", node->metadata.name, "NodeNotReady"));
        mark_pods(*updated);
      } else if (mark_retries_.contains(node->metadata.name) && ReadyStatus(*node) != "True") {
        mark_pods(*updated);
      }
      // The taints below follow the status just written (the patch is guarded by the
      // resourceVersion, which the write moved on: the next pass does them).
      continue;
    }
    if (mark_retries_.contains(node->metadata.name)) {
      if (ReadyStatus(*node) == "True") {
        mark_retries_.erase(node->metadata.name);
      } else {
        mark_pods(*node);
      }
    }
    current.push_back(*node);
  }
  std::erase_if(health_, [&](const auto& entry) { return !names.contains(entry.first); });

  std::map<std::string, std::pair<int, int>> zones;  // ready, not ready
  for (const auto& node : nodes) {
    auto& [ready, not_ready] = zones[ZoneOf(*node)];
    (ReadyStatus(*node) == "True" ? ready : not_ready) += 1;
  }
  std::map<std::string, ZoneState> states;
  bool all_fully_disrupted = !zones.empty();
  for (const auto& [zone, counts] : zones) {
    states[zone] = ComputeZoneState(counts.first, counts.second, options_.unhealthy_zone_threshold);
    all_fully_disrupted = all_fully_disrupted && states[zone] == ZoneState::kFullDisruption;
  }
  const auto now = TimeAt(clock_.Now());
  for (const auto& node : current) {
    const std::string zone = ZoneOf(node);
    bool allow_no_execute = !all_fully_disrupted;
    const bool has_no_execute = std::any_of(
        node.spec.taints.begin(), node.spec.taints.end(),
        [](const Taint& taint) { return IsConditionTaint(taint) && taint.effect == "NoExecute"; });
    auto desired = DesiredConditionTaints(node, allow_no_execute, now);
    if (!desired) continue;
    const bool adds_no_execute =
        std::any_of(desired->begin(), desired->end(),
                    [](const Taint& taint) {
                      return IsConditionTaint(taint) && taint.effect == "NoExecute";
                    }) &&
        !has_no_execute;
    if (adds_no_execute) {
      double rate = options_.node_eviction_rate;
      if (states[zone] == ZoneState::kPartialDisruption) {
        const int size = zones[zone].first + zones[zone].second;
        rate = size > options_.large_cluster_size_threshold ? options_.secondary_node_eviction_rate
                                                            : 0;
      }
      if (!TakeEvictionToken(zone, rate)) {
        desired = DesiredConditionTaints(node, false, now);
        if (!desired) continue;
      }
    }
    KLOG_INFO("node {}: taints {}", node.metadata.name, TaintsPatch(node, *desired));
    if (auto patched = client_.PatchNode(node.metadata.name, TaintsPatch(node, *desired));
        !patched.ok() && !first_error) {
      first_error = std::move(patched).error();
    }
  }
  if (first_error) return *first_error;
  return Ok();
}

std::vector<std::string> TaintEvictionSyncer::Evict(const std::vector<NodePtr>& nodes,
                                                    const std::vector<PodPtr>& pods) {
  std::map<std::string, std::vector<Taint>> no_execute;
  for (const auto& node : nodes) {
    for (const auto& taint : node->spec.taints) {
      if (taint.effect == "NoExecute") no_execute[node->metadata.name].push_back(taint);
    }
  }
  const auto now = clock_.Now();
  std::vector<std::string> deleted;
  std::set<std::string> seen;
  for (const auto& pod : pods) {
    if (pod->metadata.deletion_timestamp) continue;
    auto taints = no_execute.find(pod->spec.node_name);
    if (taints == no_execute.end()) continue;
    const std::string& uid = pod->metadata.uid;
    if (evicted_.contains(uid)) continue;
    seen.insert(uid);
    bool all_tolerated = true;
    int64_t min_seconds = std::numeric_limits<int64_t>::max();
    bool forever = true;
    for (const auto& taint : taints->second) {
      bool tolerated = false;
      for (const auto& toleration : pod->spec.tolerations) {
        if (!Tolerates(toleration, taint)) continue;
        tolerated = true;
        if (toleration.toleration_seconds) {
          forever = false;
          min_seconds = std::min(min_seconds, std::max<int64_t>(0, *toleration.toleration_seconds));
        }
      }
      all_tolerated = all_tolerated && tolerated;
    }
    auto [first, added] = first_seen_.try_emplace(uid, now);
    bool due = !all_tolerated;
    if (all_tolerated && !forever) {
      due = now - first->second >= std::chrono::seconds(min_seconds);
    }
    if (!due) continue;
    const std::string key = pod->metadata.namespace_ + "/" + pod->metadata.name;
    events_.Event(ReferenceOf("v1", "Pod", pod->metadata), "Normal", "TaintManagerEviction",
                  fmt::format("Marking for deletion Pod {}", key));
    boost::json::object condition{{"type", "DisruptionTarget"},
                                  {"status", "True"},
                                  {"reason", "DeletionByTaintManager"},
                                  {"message", "Taint manager: deleting due to NoExecute taint"},
                                  {"lastTransitionTime", TimeAt(now).ToString()}};
    auto patched = client_.PatchPodStatus(
        pod->metadata.namespace_, pod->metadata.name,
        boost::json::serialize(boost::json::object{
            {"status", boost::json::object{{"conditions", boost::json::array{condition}}}}}));
    if (!patched.ok() && !client::IsNotFound(patched.error())) {
      KLOG_ERROR("taint eviction: {}: {}", key, patched.error().message());
      continue;
    }
    auto removed = client_.DeletePod(pod->metadata.namespace_, pod->metadata.name, uid);
    if (!removed.ok() && !client::IsNotFound(removed.error())) {
      KLOG_ERROR("taint eviction: deleting {}: {}", key, removed.error().message());
      continue;
    }
    evicted_.insert(uid);
    deleted.push_back(key);
  }
  // Pods no longer on a tainted node start over if it is tainted again.
  std::erase_if(first_seen_, [&](const auto& entry) { return !seen.contains(entry.first); });
  std::erase_if(evicted_, [&](const std::string& uid) {
    return std::none_of(pods.begin(), pods.end(),
                        [&](const PodPtr& pod) { return pod->metadata.uid == uid; });
  });
  return deleted;
}

// --- the controller around the syncers ---

NodeLifecycleController::NodeLifecycleController(client::informers::SharedInformerFactory& factory,
                                                 NodeLifecycleClient& client, EventSink& events,
                                                 NodeLifecycleOptions options)
    : nodes_informer_(factory.InformerFor<Node>()),
      leases_informer_(factory.InformerFor<Lease>()),
      pods_informer_(factory.InformerFor<Pod>()),
      options_(options),
      health_(client, options, RealClock(), &events),
      client_(client),
      eviction_(client, events, RealClock()) {
  auto changed = [this](const client::informers::ObjectRef& object) {
    {
      std::lock_guard lock(mutex_);
      changed_nodes_.insert(object->metadata().name);
    }
    stop_.notify_all();
  };
  nodes_informer_.AddEventHandler(
      {.on_add = [changed](const client::informers::ObjectRef& object, bool) { changed(object); },
       .on_update = [changed](const client::informers::ObjectRef&,
                              const client::informers::ObjectRef& object) { changed(object); }});
}

void NodeLifecycleController::SyncChangedNodes() {
  std::unique_lock lock(mutex_);
  while (true) {
    stop_.wait(lock, [this] { return stopping_ || !changed_nodes_.empty(); });
    if (stopping_) return;
    std::set<std::string> names;
    names.swap(changed_nodes_);
    lock.unlock();
    client::informers::Lister<Node> lister(nodes_informer_);
    for (const auto& name : names) {
      auto node = lister.Get(name);
      if (!node) continue;
      // A failed patch (a conflict with the kubelet's write, mostly) comes back with the
      // node's next update.
      auto synced = SyncNoScheduleTaints(client_, *node, TimeAt(RealClock().Now()));
      if (!synced.ok()) KLOG_V(2, "node {}: taints: {}", name, synced.error().message());
    }
    lock.lock();
  }
}

NodeLifecycleController::~NodeLifecycleController() {
  Stop();
}

void NodeLifecycleController::Loop(std::chrono::milliseconds period,
                                   const std::function<void()>& pass) {
  std::unique_lock lock(mutex_);
  while (!stop_.wait_for(lock, period, [this] { return stopping_; })) {
    lock.unlock();
    pass();
    lock.lock();
  }
}

void NodeLifecycleController::Run() {
  threads_.emplace_back([this] { SyncChangedNodes(); });
  threads_.emplace_back([this] {
    Loop(options_.node_monitor_period, [this] {
      std::map<std::string, std::shared_ptr<const Lease>> leases;
      for (auto& lease :
           client::informers::Lister<Lease>(leases_informer_).ListNamespace("kube-node-lease")) {
        leases[lease->metadata.name] = lease;
      }
      auto pods_of = [this](const std::string& node_name) {
        std::vector<PodPtr> pods;
        for (auto& pod : client::informers::Lister<Pod>(pods_informer_).List()) {
          if (pod->spec.node_name == node_name) pods.push_back(pod);
        }
        return pods;
      };
      auto status =
          health_.Monitor(client::informers::Lister<Node>(nodes_informer_).List(), leases, pods_of);
      if (!status.ok()) KLOG_V(2, "node lifecycle: {}", status.error().message());
    });
  });
  threads_.emplace_back([this] {
    Loop(std::chrono::seconds(1), [this] {
      std::vector<NodePtr> tainted;
      std::set<std::string> names;
      for (auto& node : client::informers::Lister<Node>(nodes_informer_).List()) {
        for (const auto& taint : node->spec.taints) {
          if (taint.effect == "NoExecute") {
            tainted.push_back(node);
            names.insert(node->metadata.name);
            break;
          }
        }
      }
      std::vector<PodPtr> pods;
      if (!tainted.empty()) {
        for (auto& pod : client::informers::Lister<Pod>(pods_informer_).List()) {
          if (names.contains(pod->spec.node_name)) pods.push_back(pod);
        }
      }
      eviction_.Evict(tainted, pods);
    });
  });
}

void NodeLifecycleController::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
}

}  // namespace kpp::controllers
