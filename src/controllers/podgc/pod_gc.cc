#include "controllers/podgc/pod_gc.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

using api::core::v1::Node;
using api::core::v1::Pod;

bool IsTerminated(const Pod& pod) {
  return pod.status.phase == "Succeeded" || pod.status.phase == "Failed";
}

bool IsEvicted(const Pod& pod) {
  return pod.status.phase == "Failed" && pod.status.reason == "Evicted";
}

bool NodeReady(const Node& node) {
  for (const auto& condition : node.status.conditions) {
    if (condition.type == "Ready") return condition.status == "True";
  }
  return false;
}

bool HasOutOfServiceTaint(const Node& node) {
  return std::any_of(node.spec.taints.begin(), node.spec.taints.end(), [](const auto& taint) {
    return taint.key == kOutOfServiceTaint && taint.effect == "NoExecute";
  });
}

api::Time TimeAt(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

}  // namespace

Result<bool> RestPodGCClient::NodeExists(const std::string& name) {
  auto node = client::TypedResource<Node>(client_).Get(name);
  if (node.ok()) return true;
  if (client::IsNotFound(node.error())) return false;
  return std::move(node).error();
}

Status RestPodGCClient::PatchPodStatus(const std::string& ns, const std::string& name,
                                       const std::string& patch) {
  client::WriteOptions options;
  options.field_manager = "kube-controller-manager";
  auto patched = client::TypedResource<Pod>(client_, ns)
                     .Patch(name, client::PatchType::kStrategicMerge, patch, options, "status");
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

Status RestPodGCClient::ForceDeletePod(const std::string& ns, const std::string& name,
                                       const std::string& uid) {
  client::DeleteOptions options;
  options.grace_period_seconds = 0;
  options.precondition_uid = uid;
  return client::TypedResource<Pod>(client_, ns).Delete(name, options);
}

std::string PodGCFailedStatusPatch(const Pod&, const std::string& message, api::Time now) {
  boost::json::object status{{"phase", "Failed"}};
  if (!message.empty()) {
    status["conditions"] = boost::json::array{boost::json::object{
        {"type", "DisruptionTarget"},
        {"status", "True"},
        {"reason", "DeletionByPodGC"},
        {"message", message},
        {"lastTransitionTime", now.ToString()},
    }};
  }
  return boost::json::serialize(boost::json::object{{"status", std::move(status)}});
}

bool PodGCSyncer::MarkFailedAndDelete(const Pod& pod, const std::string& message) {
  const std::string key = pod.metadata.namespace_ + "/" + pod.metadata.name;
  // A pod with no kubelet left would stay Running forever: it is marked Failed first (finished
  // pods keep their phase).
  if (!IsTerminated(pod)) {
    auto patched =
        client_.PatchPodStatus(pod.metadata.namespace_, pod.metadata.name,
                               PodGCFailedStatusPatch(pod, message, TimeAt(clock_.Now())));
    if (!patched.ok() && !client::IsNotFound(patched.error())) {
      KLOG_ERROR("pod gc: marking {} failed: {}", key, patched.error().message());
      return false;
    }
  }
  auto deleted =
      client_.ForceDeletePod(pod.metadata.namespace_, pod.metadata.name, pod.metadata.uid);
  if (!deleted.ok() && !client::IsNotFound(deleted.error())) {
    KLOG_ERROR("pod gc: deleting {}: {}", key, deleted.error().message());
    return false;
  }
  KLOG_INFO("pod gc: deleted pod {}", key);
  deleted_.push_back(key);
  return true;
}

void PodGCSyncer::GcTerminated(const std::vector<PodPtr>& pods) {
  if (terminated_pod_threshold_ <= 0) return;
  std::vector<PodPtr> terminated;
  for (const auto& pod : pods) {
    if (IsTerminated(*pod)) terminated.push_back(pod);
  }
  const long excess = static_cast<long>(terminated.size()) - terminated_pod_threshold_;
  if (excess <= 0) return;
  std::stable_sort(terminated.begin(), terminated.end(), [](const PodPtr& a, const PodPtr& b) {
    if (IsEvicted(*a) != IsEvicted(*b)) return IsEvicted(*a);
    return a->metadata.creation_timestamp < b->metadata.creation_timestamp;
  });
  for (long i = 0; i < excess; ++i)
    MarkFailedAndDelete(*terminated[static_cast<size_t>(i)], "");
}

void PodGCSyncer::GcTerminating(const std::vector<PodPtr>& pods,
                                const std::vector<NodePtr>& nodes) {
  std::set<std::string> out_of_service;
  for (const auto& node : nodes) {
    if (!NodeReady(*node) && HasOutOfServiceTaint(*node)) {
      out_of_service.insert(node->metadata.name);
    }
  }
  if (out_of_service.empty()) return;
  for (const auto& pod : pods) {
    if (!pod->metadata.deletion_timestamp || IsTerminated(*pod)) continue;
    if (!out_of_service.contains(pod->spec.node_name)) continue;
    MarkFailedAndDelete(*pod, "");
  }
}

void PodGCSyncer::GcOrphaned(const std::vector<PodPtr>& pods, const std::vector<NodePtr>& nodes) {
  std::set<std::string> known;
  for (const auto& node : nodes)
    known.insert(node->metadata.name);
  std::set<std::string> missing;
  for (const auto& pod : pods) {
    if (!pod->spec.node_name.empty() && !known.contains(pod->spec.node_name)) {
      missing.insert(pod->spec.node_name);
    }
  }
  const auto now = clock_.Now();
  std::erase_if(missing_since_, [&](const auto& entry) { return !missing.contains(entry.first); });
  std::set<std::string> gone;
  for (const auto& name : missing) {
    auto [entry, added] = missing_since_.try_emplace(name, now);
    if (added || now - entry->second < kOrphanQuarantine) continue;
    auto exists = client_.NodeExists(name);
    if (!exists.ok()) {
      KLOG_ERROR("pod gc: reading node {}: {}", name, exists.error().message());
      continue;
    }
    if (*exists) {
      missing_since_.erase(name);
      continue;
    }
    gone.insert(name);
  }
  for (const auto& pod : pods) {
    if (!gone.contains(pod->spec.node_name)) continue;
    MarkFailedAndDelete(*pod, "PodGC: node no longer exists");
  }
}

void PodGCSyncer::GcUnscheduledTerminating(const std::vector<PodPtr>& pods) {
  for (const auto& pod : pods) {
    if (pod->metadata.deletion_timestamp && pod->spec.node_name.empty()) {
      MarkFailedAndDelete(*pod, "");
    }
  }
}

std::vector<std::string> PodGCSyncer::Gc(const std::vector<PodPtr>& pods,
                                         const std::vector<NodePtr>& nodes) {
  deleted_.clear();
  GcTerminated(pods);
  GcTerminating(pods, nodes);
  GcOrphaned(pods, nodes);
  GcUnscheduledTerminating(pods);
  return deleted_;
}

// --- the controller around the syncer ---

PodGCController::PodGCController(client::informers::SharedInformerFactory& factory,
                                 PodGCClient& client, PodGCControllerOptions options)
    : pods_informer_(factory.InformerFor<Pod>()),
      nodes_informer_(factory.InformerFor<Node>()),
      options_(options),
      syncer_(client, options.terminated_pod_gc_threshold, RealClock()) {}

PodGCController::~PodGCController() {
  Stop();
}

void PodGCController::Run() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_.wait_for(lock, options_.period, [this] { return stopping_; })) {
      lock.unlock();
      auto pods = client::informers::Lister<Pod>(pods_informer_).List();
      auto nodes = client::informers::Lister<Node>(nodes_informer_).List();
      syncer_.Gc(pods, nodes);
      lock.lock();
    }
  });
}

void PodGCController::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kpp::controllers
