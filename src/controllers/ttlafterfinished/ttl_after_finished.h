// The TTL-after-finished controller (upstream's pkg/controller/ttlafterfinished): deletes a
// finished Job (Complete or Failed) ttlSecondsAfterFinished after it finished, with background
// propagation, after checking a fresh copy from the API server (the TTL may have changed).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"
#include "controllers/job/batch_client.h"

namespace kpp::controllers {

// When `job` expires: its finish time (completionTime, else the finished condition's
// lastTransitionTime) plus the TTL; nullopt when it has no TTL or has not finished.
std::optional<int64_t> JobExpiresAt(const Job& job);

struct TtlSyncResult {
  Status status = Ok();
  std::optional<Clock::Duration> requeue_after;
};

class TtlAfterFinishedSyncer {
 public:
  TtlAfterFinishedSyncer(BatchClient& client, Clock& clock) : client_(client), clock_(clock) {}
  TtlSyncResult Sync(const Job* job);

 private:
  BatchClient& client_;
  Clock& clock_;
};

struct TtlAfterFinishedControllerOptions {
  int workers = 5;  // --concurrent-ttl-after-finished-syncs
};

class TtlAfterFinishedController {
 public:
  TtlAfterFinishedController(client::informers::SharedInformerFactory& factory, BatchClient& client,
                             TtlAfterFinishedControllerOptions options = {},
                             Clock& clock = RealClock());
  ~TtlAfterFinishedController();
  void Run();
  void Stop();

 private:
  client::informers::SharedInformer& jobs_informer_;
  TtlAfterFinishedControllerOptions options_;
  TtlAfterFinishedSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
