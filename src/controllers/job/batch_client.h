// The writes the Job, CronJob and TTL-after-finished controllers make, as one seam (a REST
// implementation in the manager, a recording fake in tests). Every method is one API request.
#pragma once

#include <memory>
#include <string>

#include "api/batch/v1/codec.h"
#include "client/rest/rest_client.h"
#include "controllers/common/controller_utils.h"

namespace kpp::controllers {

using api::batch::v1::CronJob;
using api::batch::v1::Job;

class BatchClient {
 public:
  virtual ~BatchClient() = default;
  virtual Result<Pod> CreatePod(const Pod& pod) = 0;
  virtual Status DeletePod(const std::string& ns, const std::string& name) = 0;
  // Takes `finalizer` off `pod`, guarded by its uid and resourceVersion.
  virtual Status RemovePodFinalizer(const Pod& pod, const std::string& finalizer) = 0;
  // PUT of the status subresource; fails with a conflict on a stale resourceVersion.
  virtual Result<Job> UpdateJobStatus(const Job& job) = 0;
  virtual Result<Job> CreateJob(const Job& job) = 0;
  // A fresh read from the API server (not the cache).
  virtual Result<Job> GetJob(const std::string& ns, const std::string& name) = 0;
  // Background propagation; with `uid` not empty, only if the job still has that uid.
  virtual Status DeleteJob(const std::string& ns, const std::string& name,
                           const std::string& uid) = 0;
  virtual Result<CronJob> UpdateCronJobStatus(const CronJob& cron_job) = 0;
};

class RestBatchClient final : public BatchClient {
 public:
  explicit RestBatchClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Result<Pod> CreatePod(const Pod& pod) override;
  Status DeletePod(const std::string& ns, const std::string& name) override;
  Status RemovePodFinalizer(const Pod& pod, const std::string& finalizer) override;
  Result<Job> UpdateJobStatus(const Job& job) override;
  Result<Job> CreateJob(const Job& job) override;
  Result<Job> GetJob(const std::string& ns, const std::string& name) override;
  Status DeleteJob(const std::string& ns, const std::string& name, const std::string& uid) override;
  Result<CronJob> UpdateCronJobStatus(const CronJob& cron_job) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

}  // namespace kpp::controllers
