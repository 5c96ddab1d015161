#include "controllers/endpoint/endpoints_client.h"

#include <fmt/format.h>

#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

constexpr char kFieldManager[] = "kube-controller-manager";

client::WriteOptions Writes() {
  client::WriteOptions options;
  options.field_manager = kFieldManager;
  return options;
}

std::string ProtocolOr(const std::string& protocol) {
  return protocol.empty() ? "TCP" : protocol;
}

}  // namespace

Result<Endpoints> RestEndpointsClient::CreateEndpoints(const Endpoints& endpoints) {
  return client::TypedResource<Endpoints>(client_, endpoints.metadata.namespace_)
      .Create(endpoints, Writes());
}

Result<Endpoints> RestEndpointsClient::UpdateEndpoints(const Endpoints& endpoints) {
  return client::TypedResource<Endpoints>(client_, endpoints.metadata.namespace_)
      .Update(endpoints, Writes());
}

Status RestEndpointsClient::DeleteEndpoints(const std::string& ns, const std::string& name) {
  return client::TypedResource<Endpoints>(client_, ns).Delete(name);
}

Result<EndpointSlice> RestEndpointsClient::CreateEndpointSlice(const EndpointSlice& slice) {
  return client::TypedResource<EndpointSlice>(client_, slice.metadata.namespace_)
      .Create(slice, Writes());
}

Result<EndpointSlice> RestEndpointsClient::UpdateEndpointSlice(const EndpointSlice& slice) {
  return client::TypedResource<EndpointSlice>(client_, slice.metadata.namespace_)
      .Update(slice, Writes());
}

Status RestEndpointsClient::DeleteEndpointSlice(const std::string& ns, const std::string& name) {
  return client::TypedResource<EndpointSlice>(client_, ns).Delete(name);
}

bool ShouldPodBeInEndpoints(const api::core::v1::Pod& pod, bool include_terminating) {
  if (pod.status.pod_ip.empty() && pod.status.pod_ips.empty()) return false;
  if (!include_terminating && pod.metadata.deletion_timestamp) return false;
  const auto& phase = pod.status.phase;
  if (pod.spec.restart_policy == "Never") return phase != "Failed" && phase != "Succeeded";
  if (pod.spec.restart_policy == "OnFailure") return phase != "Succeeded";
  return true;
}

bool ShouldSetHostname(const api::core::v1::Pod& pod, const Service& service) {
  return !pod.spec.hostname.empty() && pod.spec.subdomain == service.metadata.name &&
         pod.metadata.namespace_ == service.metadata.namespace_;
}

Result<int32_t> FindPort(const api::core::v1::Pod& pod, const api::core::v1::ServicePort& port) {
  if (!port.target_port.is_string) {
    return port.target_port.int_value == 0 ? port.port : port.target_port.int_value;
  }
  const std::string protocol = ProtocolOr(port.protocol);
  for (const auto& container : pod.spec.containers) {
    for (const auto& container_port : container.ports) {
      if (container_port.name == port.target_port.string_value &&
          ProtocolOr(container_port.protocol) == protocol) {
        return container_port.container_port;
      }
    }
  }
  return NotFoundError(fmt::format("no suitable port for manifest: {}", pod.metadata.uid));
}

std::string PodIPv4(const api::core::v1::Pod& pod) {
  for (const auto& ip : pod.status.pod_ips) {
    if (!ip.ip.empty() && ip.ip.find(':') == std::string::npos) return ip.ip;
  }
  if (!pod.status.pod_ip.empty() && pod.status.pod_ip.find(':') == std::string::npos) {
    return pod.status.pod_ip;
  }
  return "";
}

api::Time PodTriggerTime(const api::core::v1::Pod& pod) {
  for (const auto& condition : pod.status.conditions) {
    if (condition.type == "Ready" && !condition.last_transition_time.IsZero()) {
      return condition.last_transition_time;
    }
  }
  return pod.metadata.creation_timestamp;
}

std::string TriggerTimeString(const api::Time& time) {
  // Our Time has whole seconds; upstream writes RFC3339Nano, which drops a zero fraction.
  return time.ToString();
}

bool IsHeadless(const Service& service) {
  return service.spec.cluster_ip == "None";
}

}  // namespace kpp::controllers
