// Defaulting of pods, their containers and volumes, replication controllers, persistent volumes
// and claims that depends on other fields, as upstream's SetDefaults_* functions apply it. The
// generated SetDefaults runs these after the field defaults of the schema.
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "api/core/v1/codec.h"

namespace kpp::api::core::v1 {
namespace {

// The grammar of a container image reference (distribution's reference package):
// [domain[:port]/]path[:tag][@digest], with lower-case path components. A separator of dashes
// is one or more: with none allowed, "aaaa...:" (no tag after the colon) backtracks through
// every split of the letters, which took minutes for 60 of them (found by the api_json fuzzer).
const std::regex& ImageReferencePattern() {
  static const std::regex pattern(
      R"(^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))"
      R"((?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*))"
      R"((?::([\w][\w.-]{0,127}))?)"
      R"((?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$)");
  return pattern;
}

// The tag an image reference names, as the kubelet reads it: "latest" when it has neither a tag
// nor a digest, empty when it has only a digest or cannot be parsed.
std::string ImageTag(const std::string& image) {
  std::smatch match;
  if (!std::regex_match(image, match, ImageReferencePattern())) return "";
  const std::string name = match[1].str();
  if (name.size() > 255) return "";
  // A bare 64-character hex string is an image ID, not a name.
  static const std::regex image_id("^[a-f0-9]{64}$");
  if (std::regex_match(name, image_id)) return "";
  if (match[2].matched) return match[2].str();
  if (match[3].matched) return "";
  return "latest";
}

std::string DefaultPullPolicy(const std::string& image) {
  // The regex costs ~10 us, and pods mostly come in runs of one image (a workload's replicas):
  // each thread remembers its last answer.
  thread_local std::string last_image;
  thread_local bool last_is_latest = false;
  if (image != last_image) {
    last_is_latest = ImageTag(image) == "latest";
    last_image = image;
  }
  return last_is_latest ? "Always" : "IfNotPresent";
}

// Requests default to limits for the resources that have only a limit.
void DefaultRequestsToLimits(std::vector<Container>& containers) {
  for (auto& container : containers) {
    for (const auto& [name, quantity] : container.resources.limits) {
      container.resources.requests.emplace(name, quantity);
    }
  }
}

// With host networking, container ports are host ports.
void DefaultHostPorts(std::vector<Container>& containers) {
  for (auto& container : containers) {
    for (auto& port : container.ports) {
      if (port.host_port == 0) port.host_port = port.container_port;
    }
  }
}

}  // namespace

void DefaultPod(Pod& obj) {
  DefaultRequestsToLimits(obj.spec.containers);
  DefaultRequestsToLimits(obj.spec.init_containers);
  // Only pods get this default, not the pod templates of controllers.
  if (!obj.spec.enable_service_links) obj.spec.enable_service_links = true;
  if (obj.spec.host_network) {
    DefaultHostPorts(obj.spec.containers);
    DefaultHostPorts(obj.spec.init_containers);
  }
}

void DefaultPodSpec(PodSpec& obj) {
  if (!obj.security_context) obj.security_context.emplace();
}

void DefaultContainer(Container& obj) {
  if (obj.image_pull_policy.empty()) obj.image_pull_policy = DefaultPullPolicy(obj.image);
}

void DefaultVolume(Volume& obj) {
  if (obj.volume_source == VolumeSource{}) obj.volume_source.empty_dir.emplace();
  if (obj.volume_source.image && obj.volume_source.image->pull_policy.empty()) {
    obj.volume_source.image->pull_policy = DefaultPullPolicy(obj.volume_source.image->reference);
  }
}

void DefaultReplicationController(ReplicationController& obj) {
  if (!obj.spec.template_) return;
  const auto& labels = obj.spec.template_->metadata.labels;
  if (labels.empty()) return;
  if (obj.spec.selector.empty()) obj.spec.selector = labels;
  if (obj.metadata.labels.empty()) obj.metadata.labels = labels;
}

void DefaultPersistentVolume(PersistentVolume& obj) {
  if (obj.status.phase.empty()) obj.status.phase = "Pending";
  if (obj.spec.persistent_volume_reclaim_policy.empty()) {
    obj.spec.persistent_volume_reclaim_policy = "Retain";
  }
  if (!obj.spec.volume_mode) obj.spec.volume_mode = "Filesystem";
}

void DefaultPersistentVolumeClaim(PersistentVolumeClaim& obj) {
  if (obj.status.phase.empty()) obj.status.phase = "Pending";
}

}  // namespace kpp::api::core::v1
