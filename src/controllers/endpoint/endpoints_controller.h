// The endpoints controller (upstream's pkg/controller/endpoint): for every Service with a
// selector, an Endpoints object of the same name listing the IPs of the matching pods (ready
// ones in addresses, the others in notReadyAddresses unless publishNotReadyAddresses), with the
// ports each pod serves (named targetPorts resolved per pod), grouped into subsets of equal port
// sets. Services without a selector are left to whoever writes their Endpoints; the Endpoints of
// a deleted service are deleted.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "controllers/endpoint/endpoints_client.h"

namespace kpp::controllers {

// Upstream's limit: past it addresses are dropped and the over-capacity annotation says so.
inline constexpr size_t kMaxEndpointsPerObject = 1000;
inline constexpr char kOverCapacityAnnotation[] = "endpoints.kubernetes.io/over-capacity";

// The Endpoints `service` should have given `pods` (its namespace's pods): metadata (name,
// labels, trigger-time annotation) and subsets, repacked and sorted.
Endpoints DesiredEndpoints(const Service& service,
                           const std::vector<std::shared_ptr<const Pod>>& pods);

// Upstream's RepackSubsets: one subset per distinct port set, addresses sorted by IP then
// target uid, an address ready anywhere is not also listed as not ready.
std::vector<api::core::v1::EndpointSubset> RepackSubsets(
    const std::vector<api::core::v1::EndpointSubset>& subsets);

class EndpointsSyncer {
 public:
  EndpointsSyncer(const ObjectLister<Pod>& pods, const ObjectLister<Endpoints>& endpoints,
                  EndpointsClient& client)
      : pods_(pods), endpoints_(endpoints), client_(client) {}
  // `service` is null when it is gone.
  Status Sync(const std::string& key, const Service* service);

 private:
  const ObjectLister<Pod>& pods_;
  const ObjectLister<Endpoints>& endpoints_;
  EndpointsClient& client_;
};

struct EndpointsControllerOptions {
  int workers = 5;  // --concurrent-endpoint-syncs
};

class EndpointsController {
 public:
  EndpointsController(client::informers::SharedInformerFactory& factory, EndpointsClient& client,
                      EndpointsControllerOptions options = {});
  ~EndpointsController();
  void Run();
  void Stop();

 private:
  void EnqueueServicesOf(const Pod& pod);

  client::informers::SharedInformer& services_informer_;
  client::informers::SharedInformer& pods_informer_;
  client::informers::SharedInformer& endpoints_informer_;
  InformerLister<Pod> pods_;
  InformerLister<Endpoints> endpoints_;
  EndpointsControllerOptions options_;
  EndpointsSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
