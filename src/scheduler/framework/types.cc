#include "scheduler/framework/types.h"

#include <algorithm>

#include "apimachinery/resource/quantity.h"

namespace kpp::scheduler {
namespace {

int64_t ValueOf(const std::string& name, const api::Quantity& quantity) {
  auto parsed = resource::Quantity::Parse(quantity.text);
  if (!parsed.ok()) return 0;
  if (name == kResourceCpu) return parsed->MilliValue();
  return parsed->Value();
}

void AddTo(Resource& resource, const std::string& name, int64_t value) {
  if (name == kResourceCpu) {
    resource.milli_cpu += value;
  } else if (name == kResourceMemory) {
    resource.memory += value;
  } else if (name == kResourceEphemeralStorage) {
    resource.ephemeral_storage += value;
  } else if (name == kResourcePods) {
    resource.allowed_pod_number += value;
  } else if (IsScalarResourceName(name)) {
    resource.scalar[name] += value;
  }
}

Resource ContainerRequests(const api::core::v1::Container& container, bool non_zero_defaults) {
  Resource out = Resource::FromList(container.resources.requests);
  if (non_zero_defaults) {
    if (!container.resources.requests.contains(kResourceCpu))
      out.milli_cpu = kDefaultMilliCpuRequest;
    if (!container.resources.requests.contains(kResourceMemory)) out.memory = kDefaultMemoryRequest;
  }
  return out;
}

bool HasRequiredTerms(const std::vector<api::core::v1::PodAffinityTerm>& terms) {
  return !terms.empty();
}

}  // namespace

bool IsScalarResourceName(const std::string& name) {
  if (name.starts_with("hugepages-") || name.starts_with("attachable-volumes-")) return true;
  // Extended resources: a domain-prefixed name outside kubernetes.io, and not requests.*.
  const auto slash = name.find('/');
  if (slash == std::string::npos) return false;
  const std::string domain = name.substr(0, slash);
  if (domain == "kubernetes.io" || domain.ends_with(".kubernetes.io")) return false;
  return !name.starts_with("requests.");
}

Resource Resource::FromList(const std::map<std::string, api::Quantity>& list) {
  Resource out;
  for (const auto& [name, quantity] : list)
    AddTo(out, name, ValueOf(name, quantity));
  return out;
}

void Resource::Add(const Resource& other) {
  milli_cpu += other.milli_cpu;
  memory += other.memory;
  ephemeral_storage += other.ephemeral_storage;
  allowed_pod_number += other.allowed_pod_number;
  for (const auto& [name, value] : other.scalar)
    scalar[name] += value;
}

void Resource::Sub(const Resource& other) {
  milli_cpu -= other.milli_cpu;
  memory -= other.memory;
  ephemeral_storage -= other.ephemeral_storage;
  allowed_pod_number -= other.allowed_pod_number;
  for (const auto& [name, value] : other.scalar)
    scalar[name] -= value;
}

void Resource::SetMax(const Resource& other) {
  milli_cpu = std::max(milli_cpu, other.milli_cpu);
  memory = std::max(memory, other.memory);
  ephemeral_storage = std::max(ephemeral_storage, other.ephemeral_storage);
  allowed_pod_number = std::max(allowed_pod_number, other.allowed_pod_number);
  for (const auto& [name, value] : other.scalar) {
    auto& mine = scalar[name];
    mine = std::max(mine, value);
  }
}

int64_t Resource::Get(const std::string& name) const {
  // Called per node and resource in every cycle: the length picks the one candidate to compare.
  switch (name.size()) {
    case 3:
      if (name == kResourceCpu) return milli_cpu;
      break;
    case 6:
      if (name == kResourceMemory) return memory;
      break;
    case 17:
      if (name == kResourceEphemeralStorage) return ephemeral_storage;
      break;
    case 4:
      if (name == kResourcePods) return allowed_pod_number;
      break;
    default: break;
  }
  if (scalar.empty()) return 0;
  auto it = scalar.find(name);
  return it == scalar.end() ? 0 : it->second;
}

bool Resource::IsZero() const {
  if (milli_cpu != 0 || memory != 0 || ephemeral_storage != 0) return false;
  return std::all_of(scalar.begin(), scalar.end(), [](const auto& e) { return e.second == 0; });
}

Resource PodRequests(const Pod& pod, bool non_zero_defaults) {
  Resource requests;
  for (const auto& container : pod.spec.containers) {
    requests.Add(ContainerRequests(container, non_zero_defaults));
  }
  Resource sidecars;
  Resource init_max;
  for (const auto& container : pod.spec.init_containers) {
    Resource container_requests = ContainerRequests(container, non_zero_defaults);
    if (container.restart_policy == std::optional<std::string>("Always")) {
      // A sidecar keeps running next to the containers and the init containers after it.
      requests.Add(container_requests);
      sidecars.Add(container_requests);
      container_requests = sidecars;
    } else {
      container_requests.Add(sidecars);
    }
    init_max.SetMax(container_requests);
  }
  requests.SetMax(init_max);
  if (!pod.spec.overhead.empty()) requests.Add(Resource::FromList(pod.spec.overhead));
  requests.allowed_pod_number = 0;
  return requests;
}

std::vector<HostPort> PodHostPorts(const Pod& pod) {
  std::vector<HostPort> out;
  auto collect = [&](const std::vector<api::core::v1::Container>& containers) {
    for (const auto& container : containers) {
      for (const auto& port : container.ports) {
        if (port.host_port <= 0) continue;
        out.push_back({port.host_ip.empty() ? "0.0.0.0" : port.host_ip,
                       port.protocol.empty() ? "TCP" : port.protocol, port.host_port});
      }
    }
  };
  collect(pod.spec.containers);
  collect(pod.spec.init_containers);
  return out;
}

bool HostPortsConflict(const HostPort& a, const HostPort& b) {
  if (a.port != b.port || a.protocol != b.protocol) return false;
  return a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0";
}

bool PodHasAffinity(const Pod& pod) {
  const auto& affinity = pod.spec.affinity;
  return affinity && (affinity->pod_affinity || affinity->pod_anti_affinity);
}

bool PodHasRequiredAntiAffinity(const Pod& pod) {
  const auto& affinity = pod.spec.affinity;
  return affinity && affinity->pod_anti_affinity &&
         HasRequiredTerms(
             affinity->pod_anti_affinity->required_during_scheduling_ignored_during_execution);
}

PodInfo::PodInfo(PodPtr pod_in)
    : pod(std::move(pod_in)),
      requests(PodRequests(*pod)),
      non_zero_requests(PodRequests(*pod, /*non_zero_defaults=*/true)),
      host_ports(PodHostPorts(*pod)),
      has_affinity(PodHasAffinity(*pod)),
      has_required_anti_affinity(PodHasRequiredAntiAffinity(*pod)) {}

const std::string& NodeInfo::name() const {
  static const std::string kEmpty;
  return node ? node->metadata.name : kEmpty;
}

void NodeInfo::ClearNode() {
  node = nullptr;
  unschedulable = false;
  tainted = false;
  name_view = {};
}

void NodeInfo::SetNode(NodePtr node_in) {
  node = std::move(node_in);
  name_view = node->metadata.name;
  unschedulable = node->spec.unschedulable;
  tainted = !node->spec.taints.empty();
  allocatable = Resource::FromList(node->status.allocatable);
  images.clear();
  for (const auto& image : node->status.images) {
    for (const auto& name : image.names)
      images[NormalizedImageName(name)] = image.size_bytes;
  }
  ++generation;
}

void NodeInfo::AddPod(const PodInfoPtr& pod) {
  pods.push_back(pod);
  if (pod->has_affinity) pods_with_affinity.push_back(pod);
  if (pod->has_required_anti_affinity) pods_with_required_anti_affinity.push_back(pod);
  requested.Add(pod->requests);
  non_zero_requested.Add(pod->non_zero_requests);
  used_ports.insert(used_ports.end(), pod->host_ports.begin(), pod->host_ports.end());
  ++generation;
}

bool NodeInfo::RemovePod(const std::string& uid) {
  auto it = std::find_if(pods.begin(), pods.end(), [&](const auto& p) { return p->uid() == uid; });
  if (it == pods.end()) return false;
  PodInfoPtr pod = *it;
  pods.erase(it);
  auto drop = [&](std::vector<PodInfoPtr>& list) {
    std::erase_if(list, [&](const auto& p) { return p->uid() == uid; });
  };
  drop(pods_with_affinity);
  drop(pods_with_required_anti_affinity);
  requested.Sub(pod->requests);
  non_zero_requested.Sub(pod->non_zero_requests);
  for (const auto& port : pod->host_ports) {
    auto used = std::find(used_ports.begin(), used_ports.end(), port);
    if (used != used_ports.end()) used_ports.erase(used);
  }
  ++generation;
  return true;
}

std::string NormalizedImageName(const std::string& name) {
  const auto slash = name.rfind('/');
  const std::string_view last = slash == std::string::npos
                                    ? std::string_view(name)
                                    : std::string_view(name).substr(slash + 1);
  if (last.find(':') == std::string_view::npos && name.find('@') == std::string::npos) {
    return name + ":latest";
  }
  return name;
}

}  // namespace kpp::scheduler
