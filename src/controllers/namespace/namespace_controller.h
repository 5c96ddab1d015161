// The namespace controller (upstream's pkg/controller/namespace), `--controllers` name
// "namespace": a shared informer on namespaces queues each namespace being deleted (after a 5 s
// pause, as upstream, so that last-moment creations are visible), and workers run
// NamespacedResourcesDeleter on it. Content still going is looked at again after half its
// estimated time plus a second; failures back off (5 ms doubling to 60 s).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "client/discovery/cached_discovery.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"
#include "controllers/namespace/namespaced_resources_deleter.h"

namespace kpp::controllers {

// The deleter's requests over the API server: discovery (the preferred version of each group
// first, then resources only other versions serve, as client-go's
// ServerPreferredNamespacedResources) from `discovery`, shared with other controllers;
// collections through their REST paths.
class RestNamespaceDeleterClient final : public NamespaceDeleterClient {
 public:
  RestNamespaceDeleterClient(std::shared_ptr<client::rest::RestClient> client,
                             client::discovery::CachedDiscovery& discovery)
      : client_(std::move(client)), discovery_(discovery) {}
  Result<api::core::v1::Namespace> GetNamespace(const std::string& name) override;
  Result<api::core::v1::Namespace> UpdateNamespaceStatus(
      const api::core::v1::Namespace& ns) override;
  Result<api::core::v1::Namespace> FinalizeNamespace(const api::core::v1::Namespace& ns) override;
  Discovery DiscoverNamespacedResources(Clock::TimePoint fetched_after) override;
  Status DeleteCollection(const GroupVersionResource& resource, const std::string& ns) override;
  Result<std::vector<RemainingObject>> List(const GroupVersionResource& resource,
                                            const std::string& ns) override;
  Status Delete(const GroupVersionResource& resource, const std::string& ns,
                const std::string& name) override;
  Result<std::vector<api::core::v1::Pod>> ListPods(const std::string& ns) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
  client::discovery::CachedDiscovery& discovery_;
};

struct NamespaceControllerOptions {
  int workers = 10;                                         // --concurrent-namespace-syncs
  std::chrono::milliseconds deletion_grace_period{5'000};   // upstream's fixed pause
  std::chrono::milliseconds resync_period{5 * 60 * 1'000};  // --namespace-sync-period
};

class NamespaceController {
 public:
  NamespaceController(client::informers::SharedInformerFactory& factory,
                      NamespaceDeleterClient& client, NamespaceControllerOptions options = {});
  ~NamespaceController();
  NamespaceController(const NamespaceController&) = delete;
  NamespaceController& operator=(const NamespaceController&) = delete;
  void Run();
  void Stop();

 private:
  void Enqueue(const client::informers::ObjectRef& object);
  KeySyncResult Sync(const std::string& name, const api::core::v1::Namespace* ns);

  client::informers::SharedInformer& namespaces_;
  NamespacedResourcesDeleter deleter_;
  NamespaceControllerOptions options_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
