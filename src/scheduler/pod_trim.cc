#include "scheduler/pod_trim.h"

#include <utility>
#include <vector>

namespace kpp::scheduler {
namespace v1 = api::core::v1;

namespace {

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

// Volume plugins look at the claim a volume names and at the kind of its source, not at the
// files a secret, configMap, downwardAPI or projected (token) volume would hold.
void TrimVolume(v1::Volume& volume) {
  auto& source = volume.volume_source;
  if (source.secret) source.secret->items.clear();
  if (source.config_map) source.config_map->items.clear();
  if (source.downward_api) source.downward_api.emplace();
  if (source.projected) source.projected.emplace();
}

}  // namespace

v1::Pod TrimPodForScheduling(v1::Pod pod) {
  pod.metadata.managed_fields.clear();
  pod.metadata.annotations.clear();
  for (auto& container : pod.spec.init_containers)
    TrimContainer(container);
  for (auto& container : pod.spec.containers)
    TrimContainer(container);
  pod.spec.ephemeral_containers.clear();  // they request no resources
  for (auto& volume : pod.spec.volumes)
    TrimVolume(volume);
  pod.spec.host_aliases.clear();
  pod.spec.dns_config.reset();
  pod.spec.image_pull_secrets.clear();

  auto& status = pod.status;
  status.message.clear();
  status.reason.clear();
  status.host_ip.clear();
  status.host_ips.clear();
  status.pod_ip.clear();
  status.pod_ips.clear();
  status.init_container_statuses.clear();
  status.container_statuses.clear();
  status.ephemeral_container_statuses.clear();
  return pod;
}

}  // namespace kpp::scheduler
