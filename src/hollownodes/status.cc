#include "hollownodes/status.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <sys/utsname.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <set>

#include "api/core/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "apimachinery/labels/validation.h"
#include "apimachinery/resource/quantity.h"
#include "base/version.h"
#include "hollownodes/usage.h"

namespace kpp::hollownodes {

namespace v1 = api::core::v1;

namespace {

Result<std::string> CanonicalOf(std::string_view flag, const std::string& text) {
  auto quantity = resource::Quantity::Parse(text);
  if (!quantity.ok() || quantity->Sign() < 0) {
    return BadRequestError(fmt::format("{} \"{}\": not a non-negative quantity", flag, text));
  }
  return quantity->String();
}

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

// A stable UUID-shaped id from a seed (machine id, boot id, system uuid of a hollow node).
std::string StableUuid(std::string_view seed) {
  std::string hex = Sha256Hex(seed).substr(0, 32);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string ThisKernelVersion() {
  struct utsname name {};
  if (uname(&name) != 0) return "unknown";
  return name.release;
}

std::string GoArch() {
  const std::string platform = Platform();  // "linux/amd64"
  const auto slash = platform.find('/');
  return slash == std::string::npos ? platform : platform.substr(slash + 1);
}

// Keeps `condition.last_transition_time` from the condition of the same type in `previous`
// when its status is unchanged.
template <typename Condition>
void KeepTransitionTime(Condition& condition, const std::vector<Condition>& previous) {
  for (const auto& old : previous) {
    if (old.type == condition.type && old.status == condition.status &&
        !old.last_transition_time.IsZero()) {
      condition.last_transition_time = old.last_transition_time;
      return;
    }
  }
}

v1::PodCondition PodConditionOf(std::string type, std::string status, api::Time now,
                                const std::vector<v1::PodCondition>& previous,
                                std::string reason = "") {
  v1::PodCondition condition;
  condition.type = std::move(type);
  condition.status = std::move(status);
  condition.reason = std::move(reason);
  condition.last_transition_time = now;
  KeepTransitionTime(condition, previous);
  return condition;
}

bool IsRestartableInit(const v1::Container& container) {
  return container.restart_policy.has_value() && *container.restart_policy == "Always";
}

v1::ContainerStatus BaseStatus(const v1::Pod& pod, const v1::Container& container) {
  v1::ContainerStatus status;
  status.name = container.name;
  status.image = container.image;
  status.image_id = FakeImageId(container.image);
  status.container_id = FakeContainerId(pod.metadata.uid, container.name);
  status.restart_count = 0;
  return status;
}

v1::ContainerStatus Running(const v1::Pod& pod, const v1::Container& container, api::Time started) {
  v1::ContainerStatus status = BaseStatus(pod, container);
  status.state.running = v1::ContainerStateRunning{started};
  status.ready = true;
  status.started = true;
  return status;
}

v1::ContainerStatus Completed(const v1::Pod& pod, const v1::Container& container, api::Time started,
                              api::Time finished) {
  v1::ContainerStatus status = BaseStatus(pod, container);
  v1::ContainerStateTerminated terminated;
  terminated.exit_code = 0;
  terminated.reason = "Completed";
  terminated.started_at = started;
  terminated.finished_at = finished;
  terminated.container_id = status.container_id;
  status.state.terminated = std::move(terminated);
  status.ready = false;
  status.started = false;
  return status;
}

// When the pod's containers started: the pod's startTime, else `fallback`.
api::Time StartedAt(const v1::Pod& pod, api::Time fallback) {
  return pod.status.start_time.has_value() ? *pod.status.start_time : fallback;
}

}  // namespace

std::string Ipv4ToString(uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 255, (address >> 8) & 255,
                     address & 255);
}

Result<Ipv4Cidr> Ipv4Cidr::Parse(std::string_view text) {
  const auto bad = [&]() -> Error {
    return BadRequestError(fmt::format("\"{}\" is not an IPv4 CIDR (a.b.c.d/n)", text));
  };
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad();
  uint32_t address = 0;
  std::string_view rest = text.substr(0, slash);
  for (int part = 0; part < 4; ++part) {
    unsigned octet = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), octet);
    if (ec != std::errc() || end == rest.data() || octet > 255) return bad();
    address = (address << 8) | octet;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (part < 3) {
      if (rest.empty() || rest.front() != '.') return bad();
      rest.remove_prefix(1);
    }
  }
  if (!rest.empty()) return bad();
  int prefix = -1;
  std::string_view prefix_text = text.substr(slash + 1);
  auto [end, ec] =
      std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix < 0 ||
      prefix > 32) {
    return bad();
  }
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return Ipv4Cidr{address & mask, prefix};
}

std::string Ipv4Cidr::ToString() const {
  return fmt::format("{}/{}", Ipv4ToString(base), prefix);
}

Result<std::map<std::string, std::string>> ParseLabels(std::string_view text) {
  std::map<std::string, std::string> labels;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto equal = item.find('=');
    if (equal == std::string_view::npos) {
      return BadRequestError(fmt::format("label \"{}\": want key=value", item));
    }
    std::string key(item.substr(0, equal));
    std::string value(item.substr(equal + 1));
    auto key_errors = validation::IsQualifiedName(key);
    auto value_errors = validation::IsValidLabelValue(value);
    if (!key_errors.empty() || !value_errors.empty()) {
      return BadRequestError(
          fmt::format("label \"{}\": {}", item,
                      !key_errors.empty() ? key_errors.front() : value_errors.front()));
    }
    labels[key] = value;
  }
  return labels;
}

Result<std::vector<v1::Taint>> ParseTaints(std::string_view text) {
  std::vector<v1::Taint> taints;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos) {
      return BadRequestError(fmt::format("taint \"{}\": want key[=value]:effect", item));
    }
    v1::Taint taint;
    taint.effect = std::string(item.substr(colon + 1));
    std::string_view key_value = item.substr(0, colon);
    const auto equal = key_value.find('=');
    taint.key = std::string(key_value.substr(0, equal));
    if (equal != std::string_view::npos) taint.value = std::string(key_value.substr(equal + 1));
    if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" &&
        taint.effect != "NoExecute") {
      return BadRequestError(fmt::format(
          "taint \"{}\": effect must be NoSchedule, PreferNoSchedule or NoExecute", item));
    }
    auto key_errors = validation::IsQualifiedName(taint.key);
    auto value_errors = validation::IsValidLabelValue(taint.value);
    if (!key_errors.empty() || !value_errors.empty()) {
      return BadRequestError(
          fmt::format("taint \"{}\": {}", item,
                      !key_errors.empty() ? key_errors.front() : value_errors.front()));
    }
    taints.push_back(std::move(taint));
  }
  return taints;
}

Result<std::vector<NodeIdentity>> PlanNodes(const NodeTemplate& node_template, int count) {
  if (count < 0) return BadRequestError("--count must not be negative");
  for (const auto& [flag, text] :
       {std::pair<std::string_view, const std::string&>{"--cpu", node_template.cpu},
        {"--memory", node_template.memory},
        {"--pods", node_template.pods},
        {"--ephemeral-storage", node_template.ephemeral_storage}}) {
    if (auto canonical = CanonicalOf(flag, text); !canonical.ok()) return canonical.error();
  }
  KPP_ASSIGN_OR_RETURN(Ipv4Cidr pods, Ipv4Cidr::Parse(node_template.pod_cidr_base));
  KPP_ASSIGN_OR_RETURN(Ipv4Cidr nodes, Ipv4Cidr::Parse(node_template.node_ip_base));
  if (node_template.node_cidr_prefix < pods.prefix || node_template.node_cidr_prefix > 30) {
    return BadRequestError(fmt::format("a node's pod range /{} does not fit in {}",
                                       node_template.node_cidr_prefix, pods.ToString()));
  }
  const uint64_t ranges = uint64_t{1} << (node_template.node_cidr_prefix - pods.prefix);
  if (static_cast<uint64_t>(count) > ranges) {
    return BadRequestError(fmt::format("--pod-cidr-base {} holds {} /{} ranges, not {}",
                                       pods.ToString(), ranges, node_template.node_cidr_prefix,
                                       count));
  }
  if (static_cast<uint64_t>(count) + 2 > nodes.Size()) {
    return BadRequestError(
        fmt::format("node addresses {} are too few for {} nodes", nodes.ToString(), count));
  }
  std::vector<NodeIdentity> identities;
  identities.reserve(static_cast<size_t>(count));
  for (int index = 0; index < count; ++index) {
    NodeIdentity identity;
    identity.index = index;
    identity.name = node_template.name_prefix + std::to_string(index);
    if (index == 0) {
      auto errors = validation::IsDNS1123Subdomain(identity.name);
      if (!errors.empty()) {
        return BadRequestError(
            fmt::format("node name \"{}\" (--name-prefix): {}", identity.name, errors.front()));
      }
    }
    identity.internal_ip = Ipv4ToString(nodes.base + 1 + static_cast<uint32_t>(index));
    identity.pod_cidr.prefix = node_template.node_cidr_prefix;
    identity.pod_cidr.base =
        pods.base + (static_cast<uint32_t>(index) << (32 - node_template.node_cidr_prefix));
    identities.push_back(std::move(identity));
  }
  return identities;
}

std::vector<v1::NodeCondition> HealthyNodeConditions(
    api::Time now, const std::vector<v1::NodeCondition>& previous) {
  struct Spec {
    const char* type;
    const char* status;
    const char* reason;
    const char* message;
  };
  static constexpr Spec kConditions[] = {
      {"MemoryPressure", "False", "KubeletHasSufficientMemory",
       "kubelet has sufficient memory available"},
      {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
      {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
      {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
  };
  std::vector<v1::NodeCondition> conditions;
  for (const auto& spec : kConditions) {
    v1::NodeCondition condition;
    condition.type = spec.type;
    condition.status = spec.status;
    condition.reason = spec.reason;
    condition.message = spec.message;
    condition.last_heartbeat_time = now;
    condition.last_transition_time = now;
    KeepTransitionTime(condition, previous);
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

Result<v1::Node> BuildNode(const NodeTemplate& node_template, const NodeIdentity& identity,
                           api::Time now) {
  v1::Node node;
  node.api_version = "v1";
  node.kind = "Node";
  node.metadata.name = identity.name;
  node.metadata.labels = node_template.labels;
  const std::string arch = GoArch();
  node.metadata.labels["kubernetes.io/hostname"] = identity.name;
  node.metadata.labels["kubernetes.io/os"] = "linux";
  node.metadata.labels["kubernetes.io/arch"] = arch;
  node.metadata.labels["beta.kubernetes.io/os"] = "linux";
  node.metadata.labels["beta.kubernetes.io/arch"] = arch;
  // The kubelet's controller-managed-attach-detach annotation: volumes are the controllers' job.
  node.metadata.annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = "true";
  node.metadata.annotations["node.alpha.kubernetes.io/ttl"] = "0";

  node.spec.pod_cidr = identity.pod_cidr.ToString();
  node.spec.pod_cidrs = {node.spec.pod_cidr};
  node.spec.taints = node_template.taints;

  KPP_ASSIGN_OR_RETURN(std::string cpu, CanonicalOf("--cpu", node_template.cpu));
  KPP_ASSIGN_OR_RETURN(std::string memory, CanonicalOf("--memory", node_template.memory));
  KPP_ASSIGN_OR_RETURN(std::string pods, CanonicalOf("--pods", node_template.pods));
  KPP_ASSIGN_OR_RETURN(std::string storage,
                       CanonicalOf("--ephemeral-storage", node_template.ephemeral_storage));
  auto& capacity = node.status.capacity;
  capacity["cpu"] = api::Quantity{cpu};
  capacity["memory"] = api::Quantity{memory};
  capacity["pods"] = api::Quantity{pods};
  capacity["ephemeral-storage"] = api::Quantity{storage};
  capacity["hugepages-1Gi"] = api::Quantity{"0"};
  capacity["hugepages-2Mi"] = api::Quantity{"0"};
  node.status.allocatable = capacity;
  // The kubelet's default hard eviction thresholds come off allocatable:
  // memory.available<100Mi and nodefs.available<10%.
  {
    auto allocatable_memory = *resource::Quantity::Parse(memory);
    allocatable_memory.Sub(*resource::Quantity::Parse("100Mi"));
    if (allocatable_memory.Sign() < 0) allocatable_memory = resource::Quantity::FromInt64(0);
    allocatable_memory.set_format(resource::Quantity::Format::kBinarySI);
    node.status.allocatable["memory"] = api::Quantity{allocatable_memory.String()};
    auto storage_quantity = *resource::Quantity::Parse(storage);
    const int64_t bytes = storage_quantity.Value();
    node.status.allocatable["ephemeral-storage"] =
        api::Quantity{resource::Quantity::FromInt64(bytes - bytes / 10).String()};
  }
  node.status.conditions = HealthyNodeConditions(now);
  node.status.addresses = {v1::NodeAddress{"InternalIP", identity.internal_ip},
                           v1::NodeAddress{"Hostname", identity.name}};
  node.status.daemon_endpoints.kubelet_endpoint.port = kKubeletPort;
  auto& info = node.status.node_info;
  info.machine_id = Sha256Hex("machine-id/" + identity.name).substr(0, 32);
  info.system_uuid = StableUuid("system-uuid/" + identity.name);
  info.boot_id = StableUuid("boot-id/" + identity.name);
  info.kernel_version =
      node_template.kernel_version.empty() ? ThisKernelVersion() : node_template.kernel_version;
  info.os_image = "kpp hollow node";
  info.container_runtime_version = "hollow://" + GetBuildInfo().version;
  info.kubelet_version = KubernetesGitVersion();
  info.operating_system = "linux";
  info.architecture = arch;
  return node;
}

api::coordination_k8s_io::v1::Lease BuildLease(const std::string& node_name,
                                               const std::string& node_uid, api::MicroTime now) {
  api::coordination_k8s_io::v1::Lease lease;
  lease.api_version = "coordination.k8s.io/v1";
  lease.kind = "Lease";
  lease.metadata.name = node_name;
  lease.metadata.namespace_ = kNodeLeaseNamespace;
  if (!node_uid.empty()) {
    api::meta::v1::OwnerReference owner;
    owner.api_version = "v1";
    owner.kind = "Node";
    owner.name = node_name;
    owner.uid = node_uid;
    lease.metadata.owner_references.push_back(std::move(owner));
  }
  lease.spec.holder_identity = node_name;
  lease.spec.lease_duration_seconds = kNodeLeaseDurationSeconds;
  lease.spec.renew_time = now;
  return lease;
}

std::string FakeContainerId(std::string_view pod_uid, std::string_view container_name) {
  return "containerd://" + Sha256Hex(std::string(pod_uid) + "/" + std::string(container_name));
}

std::string FakeImageId(std::string_view image) {
  // The pods of a workload share their image: each thread remembers its last answer (hashing
  // the name again for every pod was ~2% of a busy hollow-node process).
  thread_local std::string last_image;
  thread_local std::string last_id;
  if (!last_id.empty() && image == last_image) return last_id;
  std::string_view repository = image;
  // Drop a tag (a colon after the last slash) or an existing digest.
  if (const auto at = repository.find('@'); at != std::string_view::npos) {
    repository = repository.substr(0, at);
  } else if (const auto colon = repository.rfind(':');
             colon != std::string_view::npos &&
             (repository.rfind('/') == std::string_view::npos || colon > repository.rfind('/'))) {
    repository = repository.substr(0, colon);
  }
  std::string name(repository);
  if (name.find('/') == std::string::npos) {
    name = "docker.io/library/" + name;
  } else if (const auto first = name.substr(0, name.find('/'));
             first.find('.') == std::string::npos && first.find(':') == std::string::npos &&
             first != "localhost") {
    name = "docker.io/" + name;
  }
  last_id = name + "@sha256:" + Sha256Hex(image);
  last_image = image;
  return last_id;
}

v1::PodStatus BuildRunningPodStatus(const v1::Pod& pod, const std::string& host_ip,
                                    const std::string& pod_ip, api::Time started, api::Time now) {
  v1::PodStatus status = pod.status;
  const auto& previous = pod.status.conditions;
  status.phase = "Running";
  status.reason.clear();
  status.message.clear();
  status.host_ip = host_ip;
  status.host_ips = {v1::HostIP{host_ip}};
  status.pod_ip = pod_ip;
  status.pod_ips = {v1::PodIP{pod_ip}};
  status.start_time = StartedAt(pod, started);
  status.init_container_statuses.clear();
  for (const auto& container : pod.spec.init_containers) {
    status.init_container_statuses.push_back(IsRestartableInit(container)
                                                 ? Running(pod, container, started)
                                                 : Completed(pod, container, started, started));
    if (!IsRestartableInit(container)) {
      // A completed init container counts as ready, as the kubelet reports it.
      status.init_container_statuses.back().ready = true;
    }
  }
  status.container_statuses.clear();
  for (const auto& container : pod.spec.containers) {
    status.container_statuses.push_back(Running(pod, container, started));
  }
  // Readiness gates the kubelet does not own: Ready only when each is True.
  bool gates_true = true;
  for (const auto& gate : pod.spec.readiness_gates) {
    bool found = false;
    for (const auto& condition : previous) {
      if (condition.type == gate.condition_type && condition.status == "True") found = true;
    }
    gates_true = gates_true && found;
  }
  std::vector<v1::PodCondition> conditions;
  conditions.push_back(PodConditionOf("PodReadyToStartContainers", "True", now, previous));
  conditions.push_back(PodConditionOf("Initialized", "True", now, previous));
  conditions.push_back(
      gates_true ? PodConditionOf("Ready", "True", now, previous)
                 : PodConditionOf("Ready", "False", now, previous, "ReadinessGatesNotReady"));
  conditions.push_back(PodConditionOf("ContainersReady", "True", now, previous));
  conditions.push_back(PodConditionOf("PodScheduled", "True", now, previous));
  // Conditions others own (readiness gates, DisruptionTarget) stay.
  static const std::set<std::string> kOwned = {"PodReadyToStartContainers", "Initialized", "Ready",
                                               "ContainersReady", "PodScheduled"};
  for (const auto& condition : previous) {
    if (kOwned.count(condition.type) == 0) conditions.push_back(condition);
  }
  status.conditions = std::move(conditions);
  return status;
}

v1::PodStatus BuildSucceededPodStatus(const v1::Pod& pod, api::Time now) {
  v1::PodStatus status = pod.status;
  const auto& previous = pod.status.conditions;
  const api::Time started = StartedAt(pod, now);
  status.phase = "Succeeded";
  status.start_time = started;
  status.init_container_statuses.clear();
  for (const auto& container : pod.spec.init_containers) {
    status.init_container_statuses.push_back(
        Completed(pod, container, started, IsRestartableInit(container) ? now : started));
  }
  status.container_statuses.clear();
  for (const auto& container : pod.spec.containers) {
    status.container_statuses.push_back(Completed(pod, container, started, now));
  }
  std::vector<v1::PodCondition> conditions;
  conditions.push_back(PodConditionOf("PodReadyToStartContainers", "False", now, previous));
  conditions.push_back(PodConditionOf("Initialized", "True", now, previous, "PodCompleted"));
  conditions.push_back(PodConditionOf("Ready", "False", now, previous, "PodCompleted"));
  conditions.push_back(PodConditionOf("ContainersReady", "False", now, previous, "PodCompleted"));
  conditions.push_back(PodConditionOf("PodScheduled", "True", now, previous));
  static const std::set<std::string> kOwned = {"PodReadyToStartContainers", "Initialized", "Ready",
                                               "ContainersReady", "PodScheduled"};
  for (const auto& condition : previous) {
    if (kOwned.count(condition.type) == 0) conditions.push_back(condition);
  }
  status.conditions = std::move(conditions);
  return status;
}

v1::Pod TrimPod(const v1::Pod& pod) {
  v1::Pod trimmed;
  trimmed.api_version = pod.api_version;
  trimmed.kind = pod.kind;
  trimmed.metadata.name = pod.metadata.name;
  trimmed.metadata.namespace_ = pod.metadata.namespace_;
  trimmed.metadata.uid = pod.metadata.uid;
  // The usage report names the pods' labels and reads the usage annotations.
  trimmed.metadata.labels = pod.metadata.labels;
  for (const char* annotation : {kCpuUsageAnnotation, kMemoryUsageAnnotation}) {
    auto it = pod.metadata.annotations.find(annotation);
    if (it != pod.metadata.annotations.end()) trimmed.metadata.annotations.insert(*it);
  }
  trimmed.metadata.resource_version = pod.metadata.resource_version;
  trimmed.metadata.deletion_timestamp = pod.metadata.deletion_timestamp;
  trimmed.metadata.deletion_grace_period_seconds = pod.metadata.deletion_grace_period_seconds;
  trimmed.spec.node_name = pod.spec.node_name;
  trimmed.spec.restart_policy = pod.spec.restart_policy;
  trimmed.spec.host_network = pod.spec.host_network;
  trimmed.spec.termination_grace_period_seconds = pod.spec.termination_grace_period_seconds;
  trimmed.spec.readiness_gates = pod.spec.readiness_gates;
  auto keep = [](const std::vector<v1::Container>& containers) {
    std::vector<v1::Container> kept;
    kept.reserve(containers.size());
    for (const auto& container : containers) {
      v1::Container slim;
      slim.name = container.name;
      slim.image = container.image;
      slim.restart_policy = container.restart_policy;
      kept.push_back(std::move(slim));
    }
    return kept;
  };
  trimmed.spec.init_containers = keep(pod.spec.init_containers);
  trimmed.spec.containers = keep(pod.spec.containers);
  trimmed.status = pod.status;
  return trimmed;
}

std::string PodStatusPatch(const v1::Pod& pod, const v1::PodStatus& status) {
  boost::json::object status_json = boost::json::parse(api::ToJson(status)).as_object();
  // Empty strings are left out of the JSON, which a merge patch reads as "keep".
  for (const char* cleared : {"reason", "message", "nominatedNodeName"}) {
    if (!status_json.contains(cleared)) status_json[cleared] = nullptr;
  }
  boost::json::object metadata;
  metadata["uid"] = pod.metadata.uid;
  metadata["resourceVersion"] = pod.metadata.resource_version;
  boost::json::object patch;
  patch["metadata"] = std::move(metadata);
  patch["status"] = std::move(status_json);
  return boost::json::serialize(patch);
}

}  // namespace kpp::hollownodes
