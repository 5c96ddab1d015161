// The EndpointSlice mirroring controller (upstream's pkg/controller/endpointslicemirroring):
// the Endpoints of a Service without a selector (written by hand or by another controller) are
// mirrored into EndpointSlices managed by endpointslicemirroring-controller.k8s.io and owned by
// the Endpoints, so that slice consumers see them too. Not mirrored: Endpoints labelled
// endpointslice.kubernetes.io/skip-mirror=true, those of services with a selector (the
// EndpointSlice controller covers them) and those without a service.
#pragma once

#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/endpointslice/reconciler.h"

namespace kpp::controllers {

inline constexpr char kSkipMirrorLabel[] = "endpointslice.kubernetes.io/skip-mirror";
inline constexpr size_t kDefaultMirroringMaxEndpointsPerSubset = 1000;

// The slices' endpoints `endpoints` mirrors, by port set (IPv4 addresses only; at most
// `max_per_subset` addresses of each subset).
std::map<std::string, PortGroup> MirroredPortGroups(const Endpoints& endpoints,
                                                    size_t max_per_subset);

class EndpointSliceMirroringSyncer {
 public:
  EndpointSliceMirroringSyncer(
      const ObjectLister<Service>& services, const ObjectLister<EndpointSlice>& slices,
      EndpointsClient& client,
      size_t max_endpoints_per_subset = kDefaultMirroringMaxEndpointsPerSubset)
      : services_(services),
        slices_(slices),
        client_(client),
        max_endpoints_per_subset_(max_endpoints_per_subset) {}
  // `endpoints` is null when it is gone.
  Status Sync(const std::string& key, const Endpoints* endpoints);

 private:
  const ObjectLister<Service>& services_;
  const ObjectLister<EndpointSlice>& slices_;
  EndpointsClient& client_;
  size_t max_endpoints_per_subset_;
  SliceTracker tracker_;
};

struct EndpointSliceMirroringControllerOptions {
  int workers = 5;  // --mirroring-concurrent-service-endpoint-syncs
  size_t max_endpoints_per_subset =
      kDefaultMirroringMaxEndpointsPerSubset;  // --mirroring-max-endpoints-per-subset
};

class EndpointSliceMirroringController {
 public:
  EndpointSliceMirroringController(client::informers::SharedInformerFactory& factory,
                                   EndpointsClient& client,
                                   EndpointSliceMirroringControllerOptions options = {});
  ~EndpointSliceMirroringController();
  void Run();
  void Stop();

 private:
  client::informers::SharedInformer& services_informer_;
  client::informers::SharedInformer& endpoints_informer_;
  client::informers::SharedInformer& slices_informer_;
  InformerLister<Service> services_;
  InformerLister<EndpointSlice> slices_;
  EndpointSliceMirroringControllerOptions options_;
  EndpointSliceMirroringSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
