// The EndpointSlice controller (upstream's pkg/controller/endpointslice): for every Service with
// a selector, IPv4 EndpointSlices (labels kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io, generateName
// "<service>-", owned by the service) holding one endpoint per matching pod with its
// ready/serving/terminating conditions, node, hostname and target; one slice per distinct port
// set, at most --max-endpoints-per-slice endpoints each. The garbage collector removes the slices
// of a deleted service through their owner reference.
#pragma once

#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/endpointslice/reconciler.h"

namespace kpp::controllers {

inline constexpr size_t kDefaultMaxEndpointsPerSlice = 100;

// The endpoint `pod` makes for `service` (upstream's podToEndpoint).
discovery::Endpoint EndpointForPod(const Pod& pod, const std::string& ip, const Service& service);
// The slices' endpoints of `service`, by port set.
std::map<std::string, PortGroup> DesiredPortGroups(
    const Service& service, const std::vector<std::shared_ptr<const Pod>>& pods,
    api::Time* trigger_time);
// The labels of every slice of `service`.
std::map<std::string, std::string> SliceLabelsFor(const Service& service);

class EndpointSliceSyncer {
 public:
  EndpointSliceSyncer(const ObjectLister<Pod>& pods, const ObjectLister<EndpointSlice>& slices,
                      EndpointsClient& client,
                      size_t max_endpoints_per_slice = kDefaultMaxEndpointsPerSlice)
      : pods_(pods),
        slices_(slices),
        client_(client),
        max_endpoints_per_slice_(max_endpoints_per_slice) {}
  Status Sync(const std::string& key, const Service* service);

 private:
  const ObjectLister<Pod>& pods_;
  const ObjectLister<EndpointSlice>& slices_;
  EndpointsClient& client_;
  size_t max_endpoints_per_slice_;
  SliceTracker tracker_;
};

struct EndpointSliceControllerOptions {
  int workers = 5;  // --concurrent-service-endpoint-syncs
  size_t max_endpoints_per_slice = kDefaultMaxEndpointsPerSlice;  // --max-endpoints-per-slice
};

class EndpointSliceController {
 public:
  EndpointSliceController(client::informers::SharedInformerFactory& factory,
                          EndpointsClient& client, EndpointSliceControllerOptions options = {});
  ~EndpointSliceController();
  void Run();
  void Stop();

 private:
  void EnqueueServicesOf(const Pod& pod);

  client::informers::SharedInformer& services_informer_;
  client::informers::SharedInformer& pods_informer_;
  client::informers::SharedInformer& slices_informer_;
  InformerLister<Pod> pods_;
  InformerLister<EndpointSlice> slices_;
  EndpointSliceControllerOptions options_;
  EndpointSliceSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
