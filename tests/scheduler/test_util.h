// Builders of pods and nodes for the scheduler's unit tests.
#pragma once

#include <memory>
#include <string>

#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/interface.h"

namespace kpp::scheduler::testing {

inline api::Quantity Q(const std::string& text) {
  return api::Quantity{text};
}

struct PodBuilder {
  Pod pod;
  explicit PodBuilder(const std::string& name) {
    pod.metadata.name = name;
    pod.metadata.namespace_ = "default";
    pod.metadata.uid = "uid-" + name;
  }
  PodBuilder& Container(const std::string& cpu, const std::string& memory,
                        const std::string& image = "") {
    api::core::v1::Container c;
    c.name = "c" + std::to_string(pod.spec.containers.size());
    c.image = image;
    if (!cpu.empty()) c.resources.requests["cpu"] = Q(cpu);
    if (!memory.empty()) c.resources.requests["memory"] = Q(memory);
    pod.spec.containers.push_back(c);
    return *this;
  }
  PodBuilder& Init(const std::string& cpu, const std::string& memory, bool sidecar = false) {
    api::core::v1::Container c;
    c.name = "i" + std::to_string(pod.spec.init_containers.size());
    if (!cpu.empty()) c.resources.requests["cpu"] = Q(cpu);
    if (!memory.empty()) c.resources.requests["memory"] = Q(memory);
    if (sidecar) c.restart_policy = "Always";
    pod.spec.init_containers.push_back(c);
    return *this;
  }
  PodBuilder& Request(const std::string& resource, const std::string& amount) {
    if (pod.spec.containers.empty()) Container("", "");
    pod.spec.containers.back().resources.requests[resource] = Q(amount);
    return *this;
  }
  PodBuilder& HostPort(int32_t port, const std::string& protocol = "TCP",
                       const std::string& ip = "") {
    if (pod.spec.containers.empty()) Container("", "");
    api::core::v1::ContainerPort p;
    p.container_port = port;
    p.host_port = port;
    p.protocol = protocol;
    p.host_ip = ip;
    pod.spec.containers.back().ports.push_back(p);
    return *this;
  }
  PodBuilder& Toleration(const std::string& key, const std::string& op, const std::string& value,
                         const std::string& effect) {
    api::core::v1::Toleration t;
    t.key = key;
    t.operator_ = op;
    t.value = value;
    t.effect = effect;
    pod.spec.tolerations.push_back(t);
    return *this;
  }
  PodBuilder& Priority(int32_t priority) {
    pod.spec.priority = priority;
    return *this;
  }
  PodBuilder& Node(const std::string& node) {
    pod.spec.node_name = node;
    return *this;
  }
  PodBuilder& Selector(const std::string& key, const std::string& value) {
    pod.spec.node_selector[key] = value;
    return *this;
  }
  PodPtr Build() const { return std::make_shared<const Pod>(pod); }
  PodInfo Info() const { return PodInfo(Build()); }
};

struct NodeBuilder {
  scheduler::Node node;
  explicit NodeBuilder(const std::string& name, const std::string& cpu = "4",
                       const std::string& memory = "16Gi", const std::string& pods = "110") {
    node.metadata.name = name;
    node.status.allocatable["cpu"] = Q(cpu);
    node.status.allocatable["memory"] = Q(memory);
    node.status.allocatable["pods"] = Q(pods);
    node.status.capacity = node.status.allocatable;
  }
  NodeBuilder& Label(const std::string& key, const std::string& value) {
    node.metadata.labels[key] = value;
    return *this;
  }
  NodeBuilder& Taint(const std::string& key, const std::string& value, const std::string& effect) {
    api::core::v1::Taint t;
    t.key = key;
    t.value = value;
    t.effect = effect;
    node.spec.taints.push_back(t);
    return *this;
  }
  NodeBuilder& Allocatable(const std::string& resource, const std::string& amount) {
    node.status.allocatable[resource] = Q(amount);
    return *this;
  }
  NodeBuilder& Image(const std::string& name, int64_t size) {
    api::core::v1::ContainerImage image;
    image.names = {name};
    image.size_bytes = size;
    node.status.images.push_back(image);
    return *this;
  }
  NodeBuilder& Unschedulable() {
    node.spec.unschedulable = true;
    return *this;
  }
  NodePtr Build() const { return std::make_shared<const scheduler::Node>(node); }
};

inline std::shared_ptr<NodeInfo> MakeNodeInfo(const NodeBuilder& node,
                                              const std::vector<PodPtr>& pods = {}) {
  auto info = std::make_shared<NodeInfo>();
  info->SetNode(node.Build());
  for (const auto& pod : pods)
    info->AddPod(std::make_shared<const PodInfo>(pod));
  return info;
}

class FakeHandle : public Handle {
 public:
  const Snapshot& snapshot() const override { return snapshot_; }
  std::shared_ptr<client::rest::RestClient> client() const override { return nullptr; }
  Snapshot snapshot_;
  void SetNodes(const std::vector<std::shared_ptr<NodeInfo>>& nodes) {
    snapshot_ = Snapshot{};
    for (const auto& node : nodes) {
      snapshot_.index[node->name()] = snapshot_.nodes.size();
      snapshot_.nodes.push_back(node);
      for (const auto& [image, size] : node->images)
        ++snapshot_.image_nodes[image];
    }
    snapshot_.generation = 1;
  }
};

}  // namespace kpp::scheduler::testing
