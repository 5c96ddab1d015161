// The batch controllers the manager runs ("job", "cronjob", "ttl-after-finished"), built on one
// informer factory: one object so the manager registers them in a line each.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "controllers/cronjob/cronjob.h"
#include "controllers/job/job.h"
#include "controllers/ttlafterfinished/ttl_after_finished.h"

namespace kpp::controllers {

class BatchControllers {
 public:
  // Builds those of the three that `enabled` names.
  BatchControllers(std::shared_ptr<client::rest::RestClient> client,
                   client::informers::SharedInformerFactory& factory, EventSink& events,
                   const std::vector<std::string>& enabled);
  ~BatchControllers();
  void Run();
  void Stop();

 private:
  RestBatchClient client_;
  std::unique_ptr<JobController> jobs_;
  std::unique_ptr<CronJobController> cron_jobs_;
  std::unique_ptr<TtlAfterFinishedController> ttl_;
};

}  // namespace kpp::controllers
