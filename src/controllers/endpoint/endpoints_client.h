// The writes of the endpoints, EndpointSlice and EndpointSlice mirroring controllers (one API
// request each), behind an interface so that unit tests record them instead; and what these
// controllers share about pods: which pods back a service and on which port.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/core/v1/codec.h"
#include "api/discovery.k8s.io/v1/codec.h"
#include "base/result.h"
#include "client/rest/rest_client.h"

namespace kpp::controllers {

using api::core::v1::Endpoints;
using api::core::v1::Service;
using api::discovery_k8s_io::v1::EndpointSlice;

class EndpointsClient {
 public:
  virtual ~EndpointsClient() = default;
  virtual Result<Endpoints> CreateEndpoints(const Endpoints& endpoints) = 0;
  virtual Result<Endpoints> UpdateEndpoints(const Endpoints& endpoints) = 0;
  virtual Status DeleteEndpoints(const std::string& ns, const std::string& name) = 0;
  virtual Result<EndpointSlice> CreateEndpointSlice(const EndpointSlice& slice) = 0;
  virtual Result<EndpointSlice> UpdateEndpointSlice(const EndpointSlice& slice) = 0;
  virtual Status DeleteEndpointSlice(const std::string& ns, const std::string& name) = 0;
};

class RestEndpointsClient final : public EndpointsClient {
 public:
  explicit RestEndpointsClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Result<Endpoints> CreateEndpoints(const Endpoints& endpoints) override;
  Result<Endpoints> UpdateEndpoints(const Endpoints& endpoints) override;
  Status DeleteEndpoints(const std::string& ns, const std::string& name) override;
  Result<EndpointSlice> CreateEndpointSlice(const EndpointSlice& slice) override;
  Result<EndpointSlice> UpdateEndpointSlice(const EndpointSlice& slice) override;
  Status DeleteEndpointSlice(const std::string& ns, const std::string& name) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

// Upstream's annotation with the time of the latest change that led to this state of the
// endpoints (a pod's readiness change, the service's creation).
inline constexpr char kLastChangeTriggerTimeAnnotation[] =
    "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr char kHeadlessLabel[] = "service.kubernetes.io/headless";

// Whether `pod` belongs among a service's endpoints at all (upstream's ShouldPodBeInEndpoints):
// it has an IP, will not be restarted after finishing, and is not being deleted unless
// `include_terminating`.
bool ShouldPodBeInEndpoints(const api::core::v1::Pod& pod, bool include_terminating);
// Upstream's ShouldSetHostname: the pod names the service as its subdomain.
bool ShouldSetHostname(const api::core::v1::Pod& pod, const Service& service);
// The container port `service_port`'s targetPort names on `pod` (upstream's FindPort): a number
// as is, a name looked up among the containers' ports of the same protocol.
Result<int32_t> FindPort(const api::core::v1::Pod& pod, const api::core::v1::ServicePort& port);
// The first IPv4 address of `pod`, or "".
std::string PodIPv4(const api::core::v1::Pod& pod);
// When `pod` last changed in a way that matters to endpoints: its Ready condition's transition,
// else its creation.
api::Time PodTriggerTime(const api::core::v1::Pod& pod);
// RFC 3339 with nanoseconds, as the annotation is written.
std::string TriggerTimeString(const api::Time& time);
bool IsHeadless(const Service& service);

}  // namespace kpp::controllers
