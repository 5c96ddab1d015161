// Upstream's ResourceQuota controller: keeps every quota's status.hard equal to spec.hard and
// status.used equal to what the objects in its namespace use now (so deleted or finished pods
// give their share back; admission only ever charges). It runs in the controller manager as
// resourcequota-controller and follows informers of its own: a quota is synced when it changes,
// when an object of a resource it counts is added or deleted in its namespace (or a pod, service or
// claim changes), and every 5 minutes (upstream's full resync). Informers of counted resources
// start when a quota first names them. Usage is read through an admission Reader (lists from the
// API server); the status is written with the quota's resourceVersion, so a status that changed
// meanwhile (a charge by admission) is recomputed instead of overwritten; usage goes down only when
// two syncs a second apart agree on it (a charged object may still be on its way to the store).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/quota_evaluator.h"
#include "base/clock.h"
#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"
#include "controllers/common/queue_workers.h"
#include "http/server.h"

namespace kpp::controllers {

struct ResourceQuotaControllerOptions {
  int workers = 5;  // --concurrent-resource-quota-syncs
  // Every quota is synced again this often (--resource-quota-sync-period).
  std::chrono::nanoseconds full_resync = std::chrono::minutes(5);
  // How long a lower usage waits for the sync that confirms it.
  std::chrono::nanoseconds release_delay = std::chrono::seconds(1);
};

class ResourceQuotaController {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  // `reader` and `clock` must outlive the controller. The controller manager's: `client` under
  // the controller's identity (resourcequota-controller), `reader` listing through it.
  ResourceQuotaController(std::shared_ptr<client::rest::RestClient> client,
                          const apiserver::admission::Reader& reader, Clock& clock,
                          ResourceQuotaControllerOptions options = {});
  // Over an in-process call (tests).
  ResourceQuotaController(Call call, const apiserver::admission::Reader& reader, Clock& clock,
                          ResourceQuotaControllerOptions options = {});
  ~ResourceQuotaController();
  ResourceQuotaController(const ResourceQuotaController&) = delete;
  ResourceQuotaController& operator=(const ResourceQuotaController&) = delete;

  // Starts the informers and the workers.
  void Start();
  void Stop();

  // One sync of `quota` (as read): writes its status when hard or used differ. Ok with
  // requeue_after when a lower usage waits for confirmation; an error when the write failed.
  KeySyncResult Sync(boost::json::object quota);

 private:
  KeySyncResult SyncKey(const std::string& key);
  void EnqueueNamespace(const std::string& ns);
  // Starts an informer for every resource `quota` counts that has none yet.
  void WatchCountedResources(const api::Object& quota);
  void WatchResource(const api::KindInfo& kind);

  const apiserver::admission::Reader& reader_;
  Clock& clock_;
  ResourceQuotaControllerOptions options_;
  // namespace/name -> the resourceVersion and the lower usage a sync saw (under mutex_).
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, apiserver::admission::quota::ResourceList>>
      pending_releases_;
  bool stopping_ = false;  // under mutex_
  std::shared_ptr<client::rest::RestClient> client_;
  // The quotas' informer and one per counted resource (under mutex_).
  std::map<const api::KindInfo*, std::unique_ptr<client::informers::SharedInformer>> informers_;
  client::informers::SharedInformer* quotas_ = nullptr;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
