#include "scheduler/pod_trim.h"

#include <utility>
#include <vector>

namespace kpp::scheduler {
namespace v1 = api::core::v1;

namespace {

// Empties `value` and frees what it held (clear() keeps a vector's or string's buffer).
template <typename T>
void Release(T& value) {
  T().swap(value);
}

// Keeps what fit, ports, image locality, sidecar accounting and volume-device checks read.
void TrimContainer(v1::Container& container) {
  v1::Container kept;
  kept.name = std::move(container.name);
  kept.image = std::move(container.image);
  kept.ports = std::move(container.ports);
  kept.resources = std::move(container.resources);
  kept.restart_policy = std::move(container.restart_policy);
  kept.volume_devices = std::move(container.volume_devices);
  container = std::move(kept);
}

// Upstream's volume plugins (VolumeBinding, VolumeRestrictions, NodeVolumeLimits, VolumeZone)
// look at claims and at disks attached to the node, never at the node-local kinds below, whose
// whole VolumeSource (every kind's struct, ~4 KB) would otherwise stay with each cached pod.
bool NodeLocalVolume(const v1::VolumeSource& source) {
  return source.secret || source.config_map || source.downward_api || source.projected ||
         source.empty_dir || source.host_path;
}

}  // namespace

v1::Pod TrimPodForScheduling(v1::Pod pod) {
  Release(pod.metadata.managed_fields);
  Release(pod.metadata.annotations);
  for (auto& container : pod.spec.init_containers)
    TrimContainer(container);
  for (auto& container : pod.spec.containers)
    TrimContainer(container);
  Release(pod.spec.ephemeral_containers);  // they request no resources
  std::erase_if(pod.spec.volumes,
                [](const v1::Volume& volume) { return NodeLocalVolume(volume.volume_source); });
  if (pod.spec.volumes.empty()) Release(pod.spec.volumes);
  pod.spec.volumes.shrink_to_fit();
  Release(pod.spec.host_aliases);
  pod.spec.dns_config.reset();
  Release(pod.spec.image_pull_secrets);

  auto& status = pod.status;
  Release(status.message);
  Release(status.reason);
  Release(status.host_ip);
  Release(status.host_ips);
  Release(status.pod_ip);
  Release(status.pod_ips);
  Release(status.init_container_statuses);
  Release(status.container_statuses);
  Release(status.ephemeral_container_statuses);
  return pod;
}

}  // namespace kpp::scheduler
