// A recording BatchClient for the Job, CronJob and TTL syncs.
#pragma once

#include <fmt/format.h>

#include <mutex>
#include <string>
#include <vector>

#include "controllers/job/batch_client.h"

namespace kpp::controllers::testing {

class FakeBatchClient final : public BatchClient {
 public:
  Result<Pod> CreatePod(const Pod& pod) override {
    std::lock_guard lock(mutex_);
    Pod created = pod;
    created.metadata.name = pod.metadata.generate_name + fmt::format("{:05}", created_pods.size());
    created.metadata.uid = "pod-uid-" + std::to_string(created_pods.size());
    created_pods.push_back(created);
    actions.push_back("create pod " + created.metadata.name);
    return created;
  }
  Status DeletePod(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mutex_);
    actions.push_back("delete pod " + ns + "/" + name);
    return Ok();
  }
  Status RemovePodFinalizer(const Pod& pod, const std::string& finalizer) override {
    std::lock_guard lock(mutex_);
    actions.push_back("remove finalizer " + finalizer + " " + pod.metadata.name);
    return Ok();
  }
  Result<Job> UpdateJobStatus(const Job& job) override {
    std::lock_guard lock(mutex_);
    actions.push_back("update job status " + job.metadata.name);
    Job written = job;
    written.metadata.resource_version =
        std::to_string(std::stoll("0" + job.metadata.resource_version) + 1);
    job_statuses.push_back(written);
    return written;
  }
  Result<Job> CreateJob(const Job& job) override {
    std::lock_guard lock(mutex_);
    actions.push_back("create job " + job.metadata.name);
    Job created = job;
    created.metadata.uid = "job-uid-" + job.metadata.name;
    created.metadata.resource_version = "7";
    created_jobs.push_back(created);
    return created;
  }
  Result<Job> GetJob(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mutex_);
    actions.push_back("get job " + ns + "/" + name);
    for (const auto& job : stored_jobs) {
      if (job.metadata.name == name) return job;
    }
    return Error(ErrorCode::kNotFound, "jobs.batch \"" + name + "\" not found");
  }
  Status DeleteJob(const std::string& ns, const std::string& name,
                   const std::string& uid) override {
    std::lock_guard lock(mutex_);
    actions.push_back("delete job " + ns + "/" + name + (uid.empty() ? "" : " uid=" + uid));
    return Ok();
  }
  Result<CronJob> UpdateCronJobStatus(const CronJob& cron_job) override {
    std::lock_guard lock(mutex_);
    actions.push_back("update cronjob status " + cron_job.metadata.name);
    cron_job_statuses.push_back(cron_job);
    return cron_job;
  }

  int Count(const std::string& prefix) const {
    int count = 0;
    for (const auto& action : actions)
      count += action.rfind(prefix, 0) == 0;
    return count;
  }

  std::mutex mutex_;
  std::vector<std::string> actions;
  std::vector<Pod> created_pods;
  std::vector<Job> job_statuses;
  std::vector<Job> created_jobs;
  std::vector<Job> stored_jobs;
  std::vector<CronJob> cron_job_statuses;
};

}  // namespace kpp::controllers::testing
