// The scheduler's cache (upstream's internal/cache): nodes and the pods placed on them, both
// the pods the API server reports bound and the pods this scheduler assumed (placed in memory
// at the end of a cycle, before the binding is written), so that the next cycle already counts
// them. Thread-safe: informer handlers write, the scheduling thread takes snapshots.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "base/result.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/types.h"

namespace kpp::scheduler {

class Cache {
 public:
  void AddNode(NodePtr node);
  void UpdateNode(NodePtr node) { AddNode(std::move(node)); }
  void RemoveNode(const std::string& name);

  // `pod` carries the chosen node in spec.nodeName.
  Status AssumePod(PodInfoPtr pod);
  // The binding was written; the pod stays assumed until the informer reports it bound.
  void FinishBinding(const std::string& uid);
  // Undoes AssumePod (the binding failed).
  void ForgetPod(const std::string& uid);
  bool IsAssumedPod(const std::string& uid) const;

  // Pods bound to a node, as the informer reports them.
  void AddPod(PodPtr pod);
  void UpdatePod(PodPtr pod) { AddPod(std::move(pod)); }
  void RemovePod(const std::string& uid);

  // Brings `snapshot` up to date, replacing only the nodes that changed since its generation.
  void UpdateSnapshot(Snapshot& snapshot);

  size_t NodeCount() const;
  size_t PodCount() const;

 private:
  struct PodState {
    PodInfoPtr info;
    std::string node;
    bool assumed = false;
    bool binding_finished = false;
  };

  // The node's NodeInfo, ready to be changed: copied first when a snapshot shares it.
  NodeInfo& MutableNode(const std::string& name);
  void AddPodLocked(const PodInfoPtr& pod, const std::string& node);
  void RemovePodLocked(const std::string& uid);
  void CountImages(const NodeInfo& info, int delta);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<NodeInfo>> nodes_;
  std::unordered_map<std::string, PodState> pods_;  // by uid
  std::unordered_map<std::string, int> image_nodes_;
  std::set<std::string> dirty_nodes_;
  bool node_list_changed_ = true;
  bool images_changed_ = true;
  bool affinity_changed_ = true;
  int64_t generation_ = 0;
};

}  // namespace kpp::scheduler
