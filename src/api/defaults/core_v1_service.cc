// Defaulting of Services and Endpoints that depends on other fields, as upstream's
// pkg/apis/core/v1 does it. Field defaults named in api/core/v1/service.api run first.
#include "api/core/v1/codec.h"

namespace kpp::api::core::v1 {

namespace {

// Reachable from outside the cluster: upstream's service.ExternallyAccessible.
bool ExternallyAccessible(const ServiceSpec& spec) {
  return spec.type == "LoadBalancer" || spec.type == "NodePort" ||
         (spec.type == "ClusterIP" && !spec.external_ips.empty());
}

}  // namespace

void DefaultService(Service& obj) {
  ServiceSpec& spec = obj.spec;
  if (spec.session_affinity.empty()) spec.session_affinity = "None";
  if (spec.session_affinity == "None") spec.session_affinity_config.reset();
  if (spec.session_affinity == "ClientIP") {
    auto& config = spec.session_affinity_config;
    if (!config || !config->client_ip || !config->client_ip->timeout_seconds) {
      config = SessionAffinityConfig{};
      config->client_ip = ClientIPConfig{};
      config->client_ip->timeout_seconds = 10800;  // three hours
    }
  }
  if (spec.type.empty()) spec.type = "ClusterIP";
  for (ServicePort& port : spec.ports) {
    if (port.protocol.empty()) port.protocol = "TCP";
    const IntOrString& target = port.target_port;
    if (target.IsZero() || (target.is_string && target.string_value.empty())) {
      port.target_port = IntOrString::FromInt(port.port);
    }
  }
  if (ExternallyAccessible(spec) && spec.external_traffic_policy.empty()) {
    spec.external_traffic_policy = "Cluster";
  }
  if (!spec.internal_traffic_policy &&
      (spec.type == "ClusterIP" || spec.type == "NodePort" || spec.type == "LoadBalancer")) {
    spec.internal_traffic_policy = "Cluster";
  }
  if (spec.type == "LoadBalancer") {
    if (!spec.allocate_load_balancer_node_ports) spec.allocate_load_balancer_node_ports = true;
    for (LoadBalancerIngress& ingress : obj.status.load_balancer.ingress) {
      if (!ingress.ip.empty() && !ingress.ip_mode) ingress.ip_mode = "VIP";
    }
  }
}

}  // namespace kpp::api::core::v1
