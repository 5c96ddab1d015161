// Printers of the core group: pods, nodes, services and the other core/v1 kinds.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/core/v1/types.h"
#include "apiserver/printers/registry.h"

namespace kpp::apiserver::printers {
namespace {

namespace core = api::core::v1;

// --- Pod -------------------------------------------------------------------------------------

bool IsRestartableInitContainer(const core::Container* container) {
  return container != nullptr && container->restart_policy &&
         *container->restart_policy == "Always";
}

bool HasTrueCondition(const core::PodStatus& status, std::string_view type) {
  for (const auto& condition : status.conditions) {
    if (condition.type == type && condition.status == "True") return true;
  }
  return false;
}

// Whether `time` is later than `latest`, the zero Time being the earliest of all.
void KeepLatest(api::Time& latest, const api::Time& time) {
  if (time.IsZero()) return;
  if (latest.IsZero() || latest.unix_seconds < time.unix_seconds) latest = time;
}

std::string TerminatedReason(const core::ContainerStateTerminated& terminated,
                             std::string_view prefix) {
  if (!terminated.reason.empty()) return fmt::format("{}{}", prefix, terminated.reason);
  if (terminated.signal != 0) return fmt::format("{}Signal:{}", prefix, terminated.signal);
  return fmt::format("{}ExitCode:{}", prefix, terminated.exit_code);
}

void PrintPod(const core::Pod& pod, const PrintContext& context, Row& row) {
  int64_t restarts = 0;
  int64_t restartable_init_restarts = 0;
  int64_t total_containers = static_cast<int64_t>(pod.spec.containers.size());
  int64_t ready_containers = 0;
  api::Time last_restart;
  api::Time last_restartable_init_restart;

  const std::string& phase = pod.status.phase;
  std::string reason = pod.status.reason.empty() ? phase : pod.status.reason;
  for (const auto& condition : pod.status.conditions) {
    if (condition.type == "PodScheduled" && condition.reason == "SchedulingGated") {
      reason = "SchedulingGated";
    }
  }
  if (phase == "Succeeded") {
    row.conditions.push_back(
        {"Completed", "True", "Succeeded", "The pod has completed successfully."});
  } else if (phase == "Failed") {
    row.conditions.push_back({"Completed", "True", "Failed", "The pod failed."});
  }

  std::map<std::string, const core::Container*> init_containers;
  for (const auto& container : pod.spec.init_containers) {
    init_containers[container.name] = &container;
    if (IsRestartableInitContainer(&container)) ++total_containers;
  }
  const auto init_container = [&](const std::string& name) -> const core::Container* {
    const auto found = init_containers.find(name);
    return found == init_containers.end() ? nullptr : found->second;
  };

  bool initializing = false;
  const auto& init_statuses = pod.status.init_container_statuses;
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const core::ContainerStatus& container = init_statuses[i];
    restarts += container.restart_count;
    if (container.last_state.terminated) {
      KeepLatest(last_restart, container.last_state.terminated->finished_at);
    }
    const bool restartable = IsRestartableInitContainer(init_container(container.name));
    if (restartable) {
      restartable_init_restarts += container.restart_count;
      if (container.last_state.terminated) {
        KeepLatest(last_restartable_init_restart, container.last_state.terminated->finished_at);
      }
    }
    const auto& state = container.state;
    if (state.terminated && state.terminated->exit_code == 0) continue;
    if (restartable && container.started.value_or(false)) {
      if (container.ready) ++ready_containers;
      continue;
    }
    if (state.terminated) {
      reason = TerminatedReason(*state.terminated, "Init:");
    } else if (state.waiting && !state.waiting->reason.empty() &&
               state.waiting->reason != "PodInitializing") {
      reason = "Init:" + state.waiting->reason;
    } else {
      reason = fmt::format("Init:{}/{}", i, pod.spec.init_containers.size());
    }
    initializing = true;
    break;
  }

  if (!initializing || HasTrueCondition(pod.status, "Initialized")) {
    restarts = restartable_init_restarts;
    last_restart = last_restartable_init_restart;
    bool has_running = false;
    const auto& statuses = pod.status.container_statuses;
    for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
      const core::ContainerStatus& container = *it;
      restarts += container.restart_count;
      if (container.last_state.terminated) {
        KeepLatest(last_restart, container.last_state.terminated->finished_at);
      }
      const auto& state = container.state;
      if (state.waiting && !state.waiting->reason.empty()) {
        reason = state.waiting->reason;
      } else if (state.terminated) {
        reason = TerminatedReason(*state.terminated, "");
      } else if (container.ready && state.running) {
        has_running = true;
        ++ready_containers;
      }
    }
    // A pod whose last container completed while another still runs is still running.
    if (reason == "Completed" && has_running) {
      reason = HasTrueCondition(pod.status, "Ready") ? "Running" : "NotReady";
    }
  }

  if (pod.metadata.deletion_timestamp && pod.status.reason == "NodeLost") {
    reason = "Unknown";
  } else if (pod.metadata.deletion_timestamp && phase != "Failed" && phase != "Succeeded") {
    reason = "Terminating";
  }

  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && !last_restart.IsZero()) {
    restarts_text = fmt::format("{} ({} ago)", restarts, TimestampSince(last_restart, context));
  }

  row.cells.push_back(Cell(pod.metadata.name));
  row.cells.push_back(Cell(fmt::format("{}/{}", ready_containers, total_containers)));
  row.cells.push_back(Cell(reason));
  row.cells.push_back(Cell(restarts_text));
  row.cells.push_back(Cell(Age(pod.metadata, context)));

  std::string pod_ip = pod.status.pod_ips.empty() ? "" : pod.status.pod_ips.front().ip;
  std::string readiness_gates = "<none>";
  if (!pod.spec.readiness_gates.empty()) {
    size_t true_conditions = 0;
    for (const auto& gate : pod.spec.readiness_gates) {
      for (const auto& condition : pod.status.conditions) {
        if (condition.type == gate.condition_type) {
          if (condition.status == "True") ++true_conditions;
          break;
        }
      }
    }
    readiness_gates = fmt::format("{}/{}", true_conditions, pod.spec.readiness_gates.size());
  }
  row.cells.push_back(Cell(OrElse(pod_ip, "<none>")));
  row.cells.push_back(Cell(OrElse(pod.spec.node_name, "<none>")));
  row.cells.push_back(Cell(OrElse(pod.status.nominated_node_name, "<none>")));
  row.cells.push_back(Cell(readiness_gates));
}

Printer PodPrinter() {
  return {{NameColumn(),
           {"Ready", "string", "", "How many of the pod's containers are ready.", 0},
           {"Status", "string", "", "The pod's aggregate status, from its containers' states.", 0},
           {"Restarts", "string", "",
            "How often the pod's containers restarted, and when the last restart was.", 0},
           AgeColumn(),
           {"IP", "string", "", "The pod's primary IP address.", 1},
           {"Node", "string", "", "The node the pod is bound to.", 1},
           {"Nominated Node", "string", "", "The node the pod may run on after preemption.", 1},
           {"Readiness Gates", "string", "", "How many of the readiness gates are met.", 1}},
          &PrintAs<core::Pod, PrintPod>};
}

// --- PodTemplate -----------------------------------------------------------------------------

void PrintPodTemplate(const core::PodTemplate& object, const PrintContext&, Row& row) {
  const auto [names, images] = ContainerCells(object.template_.spec.containers);
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(names));
  row.cells.push_back(Cell(images));
  row.cells.push_back(Cell(FormatLabels(object.template_.metadata.labels)));
}

constexpr std::string_view kContainersDescription = "The names of the template's containers.";
constexpr std::string_view kImagesDescription = "The images of the template's containers.";

Printer PodTemplatePrinter() {
  return {{NameColumn(),
           {"Containers", "string", "", kContainersDescription, 0},
           {"Images", "string", "", kImagesDescription, 0},
           {"Pod Labels", "string", "", "The labels of the template's pods.", 0}},
          &PrintAs<core::PodTemplate, PrintPodTemplate>};
}

// --- ReplicationController -------------------------------------------------------------------

void PrintReplicationController(const core::ReplicationController& object,
                                const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(object.spec.replicas.value_or(1)));
  row.cells.push_back(IntCell(object.status.replicas));
  row.cells.push_back(IntCell(object.status.ready_replicas));
  row.cells.push_back(Cell(Age(object.metadata, context)));
  static const std::vector<core::Container> kNoContainers;
  const auto [names, images] = ContainerCells(
      object.spec.template_ ? object.spec.template_->spec.containers : kNoContainers);
  row.cells.push_back(Cell(names));
  row.cells.push_back(Cell(images));
  row.cells.push_back(Cell(FormatLabels(object.spec.selector)));
}

Printer ReplicationControllerPrinter() {
  return {{NameColumn(),
           {"Desired", "integer", "", "How many pods are wanted.", 0},
           {"Current", "integer", "", "How many pods exist.", 0},
           {"Ready", "integer", "", "How many pods are ready.", 0},
           AgeColumn(),
           {"Containers", "string", "", kContainersDescription, 1},
           {"Images", "string", "", kImagesDescription, 1},
           {"Selector", "string", "", "The labels of the pods it manages.", 1}},
          &PrintAs<core::ReplicationController, PrintReplicationController>};
}

// --- Service ---------------------------------------------------------------------------------

constexpr size_t kLoadBalancerWidth = 16;

// The load balancer's addresses, sorted and de-duplicated, clipped to 16 characters.
std::string LoadBalancerText(const std::vector<core::LoadBalancerIngress>& ingress, bool wide) {
  std::set<std::string> addresses;
  for (const auto& entry : ingress) {
    if (!entry.ip.empty()) {
      addresses.insert(entry.ip);
    } else if (!entry.hostname.empty()) {
      addresses.insert(entry.hostname);
    }
  }
  std::string text;
  for (const auto& address : addresses) {
    if (!text.empty()) text += ',';
    text += address;
  }
  if (!wide && text.size() > kLoadBalancerWidth)
    text = text.substr(0, kLoadBalancerWidth - 3) + "...";
  return text;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += separator;
    text += items[i];
  }
  return text;
}

std::string ServiceExternalIp(const core::Service& service) {
  const auto& spec = service.spec;
  if (spec.type == "ClusterIP" || spec.type == "NodePort") {
    return spec.external_ips.empty() ? "<none>" : Join(spec.external_ips, ",");
  }
  if (spec.type == "LoadBalancer") {
    // The server prints wide: kubectl shows the same cell with and without -o wide.
    const std::string balancer = LoadBalancerText(service.status.load_balancer.ingress, true);
    if (!spec.external_ips.empty()) {
      std::vector<std::string> all;
      if (!balancer.empty()) {
        size_t start = 0;
        while (true) {
          const size_t comma = balancer.find(',', start);
          all.push_back(balancer.substr(start, comma - start));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      all.insert(all.end(), spec.external_ips.begin(), spec.external_ips.end());
      return Join(all, ",");
    }
    return balancer.empty() ? "<pending>" : balancer;
  }
  if (spec.type == "ExternalName") return spec.external_name;
  return "<unknown>";
}

std::string ServicePorts(const std::vector<core::ServicePort>& ports) {
  std::vector<std::string> pieces;
  for (const auto& port : ports) {
    pieces.push_back(port.node_port > 0
                         ? fmt::format("{}:{}/{}", port.port, port.node_port, port.protocol)
                         : fmt::format("{}/{}", port.port, port.protocol));
  }
  return Join(pieces, ",");
}

void PrintService(const core::Service& service, const PrintContext& context, Row& row) {
  // Upstream's registry always fills clusterIPs from clusterIP; a service stored without that
  // step still shows its address.
  std::string cluster_ip =
      service.spec.cluster_ips.empty() ? service.spec.cluster_ip : service.spec.cluster_ips.front();
  if (cluster_ip.empty()) cluster_ip = "<none>";
  row.cells.push_back(Cell(service.metadata.name));
  row.cells.push_back(Cell(service.spec.type));
  row.cells.push_back(Cell(cluster_ip));
  row.cells.push_back(Cell(ServiceExternalIp(service)));
  row.cells.push_back(Cell(OrElse(ServicePorts(service.spec.ports), "<none>")));
  row.cells.push_back(Cell(Age(service.metadata, context)));
  row.cells.push_back(Cell(FormatLabels(service.spec.selector)));
}

Printer ServicePrinter() {
  return {{NameColumn(),
           {"Type", "string", "", "How the service is exposed.", 0},
           {"Cluster-IP", "string", "", "The service's address inside the cluster.", 0},
           {"External-IP", "string", "", "Addresses the service is reachable at from outside.", 0},
           {"Port(s)", "string", "", "The ports the service exposes.", 0},
           AgeColumn(),
           {"Selector", "string", "", "The labels of the pods traffic goes to.", 1}},
          &PrintAs<core::Service, PrintService>};
}

// --- Endpoints -------------------------------------------------------------------------------

// Up to three addresses (host:port per port), then " + N more...".
std::string FormatEndpoints(const core::Endpoints& endpoints) {
  if (endpoints.subsets.empty()) return "<none>";
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  bool more = false;
  size_t count = 0;
  const auto host_port = [](const std::string& ip, int32_t port) {
    return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                             : fmt::format("{}:{}", ip, port);
  };
  for (const auto& subset : endpoints.subsets) {
    if (subset.ports.empty()) {
      count += subset.addresses.size();
      for (const auto& address : subset.addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(address.ip);
      }
      continue;
    }
    for (const auto& port : subset.ports) {
      count += subset.addresses.size();
      for (const auto& address : subset.addresses) {
        if (list.size() == kMax) {
          more = true;
          break;
        }
        list.push_back(host_port(address.ip, port.port));
      }
    }
  }
  std::string text = Join(list, ",");
  if (more) text += fmt::format(" + {} more...", count - kMax);
  return text;
}

void PrintEndpoints(const core::Endpoints& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(FormatEndpoints(object)));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

Printer EndpointsPrinter() {
  return {{NameColumn(),
           {"Endpoints", "string", "", "The addresses and ports of the service's backends.", 0},
           AgeColumn()},
          &PrintAs<core::Endpoints, PrintEndpoints>};
}

// --- Node ------------------------------------------------------------------------------------

std::string NodeAddress(const core::Node& node, std::string_view type) {
  for (const auto& address : node.status.addresses) {
    if (address.type == type) return address.address;
  }
  return "<none>";
}

// Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label value,
// sorted and de-duplicated.
std::string NodeRoles(const core::Node& node) {
  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  for (const auto& [key, value] : node.metadata.labels) {
    if (key.starts_with(kRolePrefix)) {
      if (key.size() > kRolePrefix.size()) roles.insert(key.substr(kRolePrefix.size()));
    } else if (key == "kubernetes.io/role" && !value.empty()) {
      roles.insert(value);
    }
  }
  std::string text;
  for (const auto& role : roles) {
    if (!text.empty()) text += ',';
    text += role;
  }
  return text.empty() ? "<none>" : text;
}

void PrintNode(const core::Node& node, const PrintContext& context, Row& row) {
  std::vector<std::string> status;
  const core::NodeCondition* ready = nullptr;
  for (const auto& condition : node.status.conditions) {
    // Upstream keeps the last condition of each type.
    if (condition.type == "Ready") ready = &condition;
  }
  if (ready != nullptr) status.push_back(ready->status == "True" ? "Ready" : "NotReady");
  if (status.empty()) status.push_back("Unknown");
  if (node.spec.unschedulable) status.push_back("SchedulingDisabled");
  const auto& info = node.status.node_info;
  row.cells.push_back(Cell(node.metadata.name));
  row.cells.push_back(Cell(Join(status, ",")));
  row.cells.push_back(Cell(NodeRoles(node)));
  row.cells.push_back(Cell(Age(node.metadata, context)));
  row.cells.push_back(Cell(info.kubelet_version));
  row.cells.push_back(Cell(NodeAddress(node, "InternalIP")));
  row.cells.push_back(Cell(NodeAddress(node, "ExternalIP")));
  row.cells.push_back(Cell(OrElse(info.os_image, "<unknown>")));
  row.cells.push_back(Cell(OrElse(info.kernel_version, "<unknown>")));
  row.cells.push_back(Cell(OrElse(info.container_runtime_version, "<unknown>")));
}

Printer NodePrinter() {
  return {{NameColumn(),
           {"Status", "string", "", "Whether the node is ready and schedulable.", 0},
           {"Roles", "string", "", "The node's roles, from its node-role labels.", 0},
           AgeColumn(),
           {"Version", "string", "", "The kubelet version the node reports.", 0},
           {"Internal-IP", "string", "", "The node's internal address.", 1},
           {"External-IP", "string", "", "The node's external address.", 1},
           {"OS-Image", "string", "", "The operating system image the node reports.", 1},
           {"Kernel-Version", "string", "", "The kernel version the node reports.", 1},
           {"Container-Runtime", "string", "", "The container runtime and its version.", 1}},
          &PrintAs<core::Node, PrintNode>};
}

// --- Event -----------------------------------------------------------------------------------

}  // namespace

void PrintEvent(const core::Event& event, const PrintContext& context, Row& row) {
  std::string first_seen = event.first_timestamp.IsZero()
                               ? MicroTimestampSince(event.event_time, context)
                               : TimestampSince(event.first_timestamp, context);
  std::string last_seen =
      event.last_timestamp.IsZero() ? first_seen : TimestampSince(event.last_timestamp, context);
  int64_t count = event.count;
  if (event.series) {
    last_seen = MicroTimestampSince(event.series->last_observed_time, context);
    count = event.series->count;
  } else if (count == 0) {
    count = 1;  // a single event of the new API has no count
  }
  std::string kind = event.involved_object.kind;
  std::transform(kind.begin(), kind.end(), kind.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string target =
      event.involved_object.name.empty() ? kind : kind + "/" + event.involved_object.name;
  const std::string& component =
      event.source.component.empty() ? event.reporting_component : event.source.component;
  const std::string& host =
      event.source.host.empty() ? event.reporting_instance : event.source.host;
  const std::string source = host.empty() ? component : component + ", " + host;
  std::string message = event.message;
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  message.erase(message.begin(), std::find_if(message.begin(), message.end(), not_space));
  message.erase(std::find_if(message.rbegin(), message.rend(), not_space).base(), message.end());

  row.cells.push_back(Cell(last_seen));
  row.cells.push_back(Cell(event.type));
  row.cells.push_back(Cell(event.reason));
  row.cells.push_back(Cell(target));
  row.cells.push_back(Cell(event.involved_object.field_path));
  row.cells.push_back(Cell(source));
  row.cells.push_back(Cell(message));
  row.cells.push_back(Cell(first_seen));
  row.cells.push_back(IntCell(count));
  row.cells.push_back(Cell(event.metadata.name));
}

Printer EventPrinter() {
  return {{{"Last Seen", "string", "", "When the event was last seen.", 0},
           {"Type", "string", "", "Normal or Warning.", 0},
           {"Reason", "string", "", "Why the event happened, in one word.", 0},
           {"Object", "string", "", "The object the event is about.", 0},
           {"Subobject", "string", "", "The part of the object, e.g. a container.", 1},
           {"Source", "string", "", "The component that reported the event.", 1},
           {"Message", "string", "", "What happened.", 0},
           {"First Seen", "string", "", "When the event was first seen.", 1},
           {"Count", "string", "", "How often the event happened.", 1},
           {"Name", "string", "name", kNameDescription, 1}},
          &PrintAs<core::Event, PrintEvent>};
}

namespace {

// --- Namespace, Secret, ServiceAccount, ConfigMap ---------------------------------------------

void PrintNamespace(const core::Namespace& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.status.phase));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintSecret(const core::Secret& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(object.type));
  row.cells.push_back(IntCell(static_cast<int64_t>(object.data.size())));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintServiceAccount(const core::ServiceAccount& object, const PrintContext& context,
                         Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(IntCell(static_cast<int64_t>(object.secrets.size())));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

void PrintConfigMap(const core::ConfigMap& object, const PrintContext& context, Row& row) {
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(
      IntCell(static_cast<int64_t>(object.data.size() + object.binary_data.size())));
  row.cells.push_back(Cell(Age(object.metadata, context)));
}

// --- PersistentVolume, PersistentVolumeClaim -------------------------------------------------

constexpr const char* kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

void PrintPersistentVolume(const core::PersistentVolume& pv, const PrintContext& context,
                           Row& row) {
  std::string claim;
  if (pv.spec.claim_ref) claim = pv.spec.claim_ref->namespace_ + "/" + pv.spec.claim_ref->name;
  std::string phase = pv.metadata.deletion_timestamp ? "Terminating" : pv.status.phase;
  const auto annotation = pv.metadata.annotations.find(kBetaStorageClassAnnotation);
  const std::string storage_class =
      annotation != pv.metadata.annotations.end() ? annotation->second : pv.spec.storage_class_name;
  row.cells.push_back(Cell(pv.metadata.name));
  row.cells.push_back(Cell(ResourceText(pv.spec.capacity, "storage")));
  row.cells.push_back(Cell(AccessModes(pv.spec.access_modes)));
  row.cells.push_back(Cell(pv.spec.persistent_volume_reclaim_policy));
  row.cells.push_back(Cell(phase));
  row.cells.push_back(Cell(claim));
  row.cells.push_back(Cell(storage_class));
  row.cells.push_back(Cell(pv.spec.volume_attributes_class_name.value_or("<unset>")));
  row.cells.push_back(Cell(pv.status.reason));
  row.cells.push_back(Cell(Age(pv.metadata, context)));
  row.cells.push_back(Cell(pv.spec.volume_mode.value_or("<unset>")));
}

Printer PersistentVolumePrinter() {
  return {{NameColumn(),
           {"Capacity", "string", "", "The volume's storage capacity.", 0},
           {"Access Modes", "string", "", "How the volume can be mounted.", 0},
           {"Reclaim Policy", "string", "", "What happens to the volume when released.", 0},
           {"Status", "string", "", "The volume's phase.", 0},
           {"Claim", "string", "", "The claim bound to the volume.", 0},
           {"StorageClass", "string", "", "The storage class of the volume.", 0},
           {"VolumeAttributesClass", "string", "", "The volume attributes class of the volume.", 0},
           {"Reason", "string", "", "Why the volume is in its phase.", 0},
           AgeColumn(),
           {"VolumeMode", "string", "", "Filesystem or Block.", 1}},
          &PrintAs<core::PersistentVolume, PrintPersistentVolume>};
}

void PrintPersistentVolumeClaim(const core::PersistentVolumeClaim& pvc, const PrintContext& context,
                                Row& row) {
  std::string phase = pvc.metadata.deletion_timestamp ? "Terminating" : pvc.status.phase;
  std::string capacity;
  std::string access_modes;
  if (!pvc.spec.volume_name.empty()) {
    access_modes = AccessModes(pvc.status.access_modes);
    capacity = ResourceText(pvc.status.capacity, "storage");
  }
  const auto annotation = pvc.metadata.annotations.find(kBetaStorageClassAnnotation);
  const std::string storage_class = annotation != pvc.metadata.annotations.end()
                                        ? annotation->second
                                        : pvc.spec.storage_class_name.value_or("");
  row.cells.push_back(Cell(pvc.metadata.name));
  row.cells.push_back(Cell(phase));
  row.cells.push_back(Cell(pvc.spec.volume_name));
  row.cells.push_back(Cell(capacity));
  row.cells.push_back(Cell(access_modes));
  row.cells.push_back(Cell(storage_class));
  row.cells.push_back(Cell(pvc.spec.volume_attributes_class_name.value_or("<unset>")));
  row.cells.push_back(Cell(Age(pvc.metadata, context)));
  row.cells.push_back(Cell(pvc.spec.volume_mode.value_or("<unset>")));
}

Printer PersistentVolumeClaimPrinter() {
  return {{NameColumn(),
           {"Status", "string", "", "The claim's phase.", 0},
           {"Volume", "string", "", "The volume bound to the claim.", 0},
           {"Capacity", "string", "", "The bound volume's capacity.", 0},
           {"Access Modes", "string", "", "How the bound volume can be mounted.", 0},
           {"StorageClass", "string", "", "The storage class of the claim.", 0},
           {"VolumeAttributesClass", "string", "", "The volume attributes class of the claim.", 0},
           AgeColumn(),
           {"VolumeMode", "string", "", "Filesystem or Block.", 1}},
          &PrintAs<core::PersistentVolumeClaim, PrintPersistentVolumeClaim>};
}

// --- ResourceQuota, ComponentStatus ----------------------------------------------------------

void PrintResourceQuota(const core::ResourceQuota& quota, const PrintContext& context, Row& row) {
  // Resources sorted by name (the status map is); limits.* go to the Limit column.
  std::string requests;
  std::string limits;
  for (const auto& [resource, hard] : quota.status.hard) {
    std::string& column = resource.starts_with("limits.") ? limits : requests;
    if (!column.empty()) column += ", ";
    column += fmt::format("{}: {}/{}", resource, ResourceText(quota.status.used, resource),
                          QuantityText(hard));
  }
  // Kubernetes 1.32 shows Age before Request and Limit.
  row.cells.push_back(Cell(quota.metadata.name));
  row.cells.push_back(Cell(Age(quota.metadata, context)));
  row.cells.push_back(Cell(requests));
  row.cells.push_back(Cell(limits));
}

Printer ResourceQuotaPrinter() {
  return {{NameColumn(),
           AgeColumn(),
           {"Request", "string", "", "Used and hard amounts of each requested resource.", 0},
           {"Limit", "string", "", "Used and hard amounts of each resource limit.", 0}},
          &PrintAs<core::ResourceQuota, PrintResourceQuota>};
}

void PrintComponentStatus(const core::ComponentStatus& object, const PrintContext&, Row& row) {
  std::string status = "Unknown";
  std::string message;
  std::string error;
  for (const auto& condition : object.conditions) {
    if (condition.type == "Healthy") {
      status = condition.status == "True" ? "Healthy" : "Unhealthy";
      message = condition.message;
      error = condition.error;
      break;
    }
  }
  row.cells.push_back(Cell(object.metadata.name));
  row.cells.push_back(Cell(status));
  row.cells.push_back(Cell(message));
  row.cells.push_back(Cell(error));
}

}  // namespace

void AddCorePrinters(PrinterMap& printers) {
  printers[{"", "Pod"}] = PodPrinter();
  printers[{"", "PodTemplate"}] = PodTemplatePrinter();
  printers[{"", "ReplicationController"}] = ReplicationControllerPrinter();
  printers[{"", "Service"}] = ServicePrinter();
  printers[{"", "Endpoints"}] = EndpointsPrinter();
  printers[{"", "Node"}] = NodePrinter();
  printers[{"", "Event"}] = EventPrinter();
  printers[{"", "Namespace"}] = {
      {NameColumn(), {"Status", "string", "", "The namespace's phase.", 0}, AgeColumn()},
      &PrintAs<core::Namespace, PrintNamespace>};
  printers[{"", "Secret"}] = {{NameColumn(),
                               {"Type", "string", "", "The kind of secret.", 0},
                               {"Data", "string", "", "How many keys the secret holds.", 0},
                               AgeColumn()},
                              &PrintAs<core::Secret, PrintSecret>};
  printers[{"", "ServiceAccount"}] = {
      {NameColumn(), {"Secrets", "string", "", "How many secrets are listed.", 0}, AgeColumn()},
      &PrintAs<core::ServiceAccount, PrintServiceAccount>};
  printers[{"", "ConfigMap"}] = {
      {NameColumn(), {"Data", "string", "", "How many keys the config map holds.", 0}, AgeColumn()},
      &PrintAs<core::ConfigMap, PrintConfigMap>};
  printers[{"", "PersistentVolume"}] = PersistentVolumePrinter();
  printers[{"", "PersistentVolumeClaim"}] = PersistentVolumeClaimPrinter();
  printers[{"", "ResourceQuota"}] = ResourceQuotaPrinter();
  printers[{"", "ComponentStatus"}] = {
      {NameColumn(),
       {"Status", "string", "", "Whether the component is healthy.", 0},
       {"Message", "string", "", "What the component reported.", 0},
       {"Error", "string", "", "The error the component reported.", 0}},
      &PrintAs<core::ComponentStatus, PrintComponentStatus>};
}

}  // namespace kpp::apiserver::printers
