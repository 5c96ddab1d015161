#include "controllers/job/batch_controllers.h"

#include <algorithm>

namespace kpp::controllers {

BatchControllers::BatchControllers(std::shared_ptr<client::rest::RestClient> client,
                                   client::informers::SharedInformerFactory& factory,
                                   EventSink& events, const std::vector<std::string>& enabled)
    : client_(std::move(client)) {
  auto on = [&](const char* name) {
    return std::find(enabled.begin(), enabled.end(), name) != enabled.end();
  };
  if (on("job")) jobs_ = std::make_unique<JobController>(factory, client_, events);
  if (on("cronjob")) cron_jobs_ = std::make_unique<CronJobController>(factory, client_, events);
  if (on("ttl-after-finished")) {
    ttl_ = std::make_unique<TtlAfterFinishedController>(factory, client_);
  }
}

BatchControllers::~BatchControllers() {
  Stop();
}

void BatchControllers::Run() {
  if (jobs_) jobs_->Run();
  if (cron_jobs_) cron_jobs_->Run();
  if (ttl_) ttl_->Run();
}

void BatchControllers::Stop() {
  if (jobs_) jobs_->Stop();
  if (cron_jobs_) cron_jobs_->Stop();
  if (ttl_) ttl_->Stop();
}

}  // namespace kpp::controllers
