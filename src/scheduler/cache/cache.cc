#include "scheduler/cache/cache.h"

#include <algorithm>

#include "base/error.h"

namespace kpp::scheduler {

NodeInfo& Cache::MutableNode(const std::string& name) {
  auto& slot = nodes_[name];
  if (!slot) {
    slot = std::make_shared<NodeInfo>();
    node_list_changed_ = true;
  } else if (slot.use_count() > 1) {
    slot = std::make_shared<NodeInfo>(*slot);
  }
  dirty_nodes_.insert(name);
  slot->generation = ++generation_;
  return *slot;
}

void Cache::CountImages(const NodeInfo& info, int delta) {
  for (const auto& [image, size] : info.images) {
    auto& count = image_nodes_[image];
    count += delta;
    if (count <= 0) image_nodes_.erase(image);
  }
  if (!info.images.empty()) images_changed_ = true;
}

void Cache::AddNode(NodePtr node) {
  std::lock_guard lock(mutex_);
  const std::string name = node->metadata.name;
  auto existing = nodes_.find(name);
  const bool was_known = existing != nodes_.end() && existing->second->node != nullptr;
  if (existing != nodes_.end()) CountImages(*existing->second, -1);
  NodeInfo& info = MutableNode(name);
  info.SetNode(std::move(node));
  info.generation = generation_;
  CountImages(info, +1);
  if (!was_known) node_list_changed_ = true;
}

void Cache::RemoveNode(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  CountImages(*it->second, -1);
  if (it->second->pods.empty()) {
    nodes_.erase(it);
  } else {
    // Pods still name the node: keep them counted until their deletes arrive (upstream does).
    MutableNode(name).ClearNode();
  }
  dirty_nodes_.insert(name);
  node_list_changed_ = true;
  affinity_changed_ = true;
}

void Cache::AddPodLocked(const PodInfoPtr& pod, const std::string& node) {
  MutableNode(node).AddPod(pod);
  if (pod->has_affinity || pod->has_required_anti_affinity) affinity_changed_ = true;
}

void Cache::RemovePodLocked(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  const std::string node = it->second.node;
  if (it->second.info->has_affinity || it->second.info->has_required_anti_affinity) {
    affinity_changed_ = true;
  }
  pods_.erase(it);
  if (!nodes_.contains(node)) return;
  NodeInfo& info = MutableNode(node);
  info.RemovePod(uid);
  if (info.node == nullptr && info.pods.empty()) {
    nodes_.erase(node);
    node_list_changed_ = true;
  }
}

Status Cache::AssumePod(PodInfoPtr pod) {
  std::lock_guard lock(mutex_);
  const std::string uid = pod->uid();
  if (pods_.contains(uid)) {
    return InvalidError("pod " + pod->pod->metadata.namespace_ + "/" + pod->pod->metadata.name +
                        " is in the cache, so can't be assumed");
  }
  const std::string node = pod->pod->spec.node_name;
  AddPodLocked(pod, node);
  pods_[uid] = PodState{std::move(pod), node, true, false};
  return Ok();
}

void Cache::FinishBinding(const std::string& uid) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find(uid);
  if (it != pods_.end() && it->second.assumed) it->second.binding_finished = true;
}

void Cache::ForgetPod(const std::string& uid) {
  std::lock_guard lock(mutex_);
  auto it = pods_.find(uid);
  if (it != pods_.end() && it->second.assumed) RemovePodLocked(uid);
}

bool Cache::IsAssumedPod(const std::string& uid) const {
  std::lock_guard lock(mutex_);
  auto it = pods_.find(uid);
  return it != pods_.end() && it->second.assumed;
}

void Cache::AddPod(PodPtr pod) {
  auto info = std::make_shared<const PodInfo>(std::move(pod));
  std::lock_guard lock(mutex_);
  const std::string uid = info->uid();
  const std::string node = info->pod->spec.node_name;
  RemovePodLocked(uid);
  AddPodLocked(info, node);
  pods_[uid] = PodState{std::move(info), node, false, false};
}

void Cache::RemovePod(const std::string& uid) {
  std::lock_guard lock(mutex_);
  RemovePodLocked(uid);
}

void Cache::UpdateSnapshot(Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  if (snapshot.generation == generation_) return;
  if (node_list_changed_ || snapshot.generation < 0) {
    std::vector<std::string> names;
    names.reserve(nodes_.size());
    for (const auto& [name, info] : nodes_) {
      if (info->node != nullptr) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    snapshot.nodes.clear();
    snapshot.index.clear();
    snapshot.nodes.reserve(names.size());
    for (const auto& name : names) {
      snapshot.index[name] = snapshot.nodes.size();
      snapshot.nodes.push_back(nodes_.at(name));
    }
    node_list_changed_ = false;
  } else {
    for (const auto& name : dirty_nodes_) {
      auto at = snapshot.index.find(name);
      auto node = nodes_.find(name);
      if (at != snapshot.index.end() && node != nodes_.end())
        snapshot.nodes[at->second] = node->second;
    }
  }
  if (images_changed_) {
    snapshot.image_nodes = image_nodes_;
    images_changed_ = false;
  }
  if (affinity_changed_ || !dirty_nodes_.empty()) {
    // Only nodes with affinity pods are listed; rebuilt when any of them could have changed.
    bool rebuild = affinity_changed_;
    for (const auto& name : dirty_nodes_) {
      if (rebuild) break;
      auto node = nodes_.find(name);
      if (node != nodes_.end() && (!node->second->pods_with_affinity.empty() ||
                                   !node->second->pods_with_required_anti_affinity.empty())) {
        rebuild = true;
      }
    }
    if (rebuild) {
      snapshot.nodes_with_affinity_pods.clear();
      snapshot.nodes_with_required_anti_affinity_pods.clear();
      for (const auto& info : snapshot.nodes) {
        if (!info->pods_with_affinity.empty()) snapshot.nodes_with_affinity_pods.push_back(info);
        if (!info->pods_with_required_anti_affinity.empty()) {
          snapshot.nodes_with_required_anti_affinity_pods.push_back(info);
        }
      }
    }
    affinity_changed_ = false;
  }
  dirty_nodes_.clear();
  snapshot.generation = generation_;
}

size_t Cache::NodeCount() const {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (const auto& [name, info] : nodes_)
    count += info->node != nullptr;
  return count;
}

size_t Cache::PodCount() const {
  std::lock_guard lock(mutex_);
  return pods_.size();
}

}  // namespace kpp::scheduler
