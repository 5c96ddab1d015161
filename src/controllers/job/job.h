// The Job controller (upstream's pkg/controller/job): runs a job's pods to completion. It keeps
// up to parallelism pods active (NonIndexed, or one per pending index 0..completions-1 for
// Indexed jobs), tracks finished pods through the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods (a pod is counted once, even across restarts), backs off
// exponentially after failures (10 s doubling, capped at 6 min), fails the job on backoffLimit,
// activeDeadlineSeconds or a FailJob podFailurePolicy rule, honours suspend, and writes the
// FailureTarget/SuccessCriteriaMet conditions first and Failed/Complete once no pod is left
// terminating, as 1.31+ does.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"
#include "controllers/job/batch_client.h"

namespace kpp::controllers {

inline constexpr char kJobTrackingFinalizer[] = "batch.kubernetes.io/job-tracking";
inline constexpr char kJobCompletionIndexAnnotation[] = "batch.kubernetes.io/job-completion-index";
inline constexpr char kJobControllerUidLabel[] = "batch.kubernetes.io/controller-uid";
inline constexpr char kJobNameLabel[] = "batch.kubernetes.io/job-name";
inline constexpr std::chrono::seconds kJobDefaultBackoff{10};
inline constexpr std::chrono::seconds kJobMaxBackoff{360};

// "1,3-5" and back.
std::set<int> ParseIndexes(const std::string& text, int completions);
std::string FormatIndexes(const std::set<int>& indexes);

// The completion index of an Indexed job's pod (annotation, else label), or -1.
int CompletionIndexOf(const Pod& pod);

// The pod a job creates for `index` (-1: NonIndexed).
Pod JobPodFromTemplate(const Job& job, int index);

// Complete or Failed is True.
bool IsJobFinished(const Job& job);
const api::batch::v1::JobCondition* FindJobCondition(const Job& job, const std::string& type);

// Failed pods after the last success, and when the last of them finished: what the back-off
// for new pods is computed from (upstream's backoffRecord).
struct JobBackoffRecord {
  int failures_after_last_success = 0;
  Clock::TimePoint last_failure;
};

class JobBackoffStore {
 public:
  std::optional<JobBackoffRecord> Get(const std::string& key) const;
  void Set(const std::string& key, JobBackoffRecord record);
  void Remove(const std::string& key);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, JobBackoffRecord> records_;
};

// How long new pods wait after `record` (zero when they may start now).
Clock::Duration JobBackoffRemaining(const JobBackoffRecord& record, Clock::TimePoint now);

struct JobSyncResult {
  Status status = Ok();
  std::optional<Clock::Duration> requeue_after;
};

// One sync of one job; everything it touches is injected.
class JobSyncer {
 public:
  JobSyncer(const ObjectLister<Pod>& pods, BatchClient& client, EventSink& events,
            Expectations& expectations, JobBackoffStore& backoff, Clock& clock)
      : pods_(pods),
        client_(client),
        events_(events),
        expectations_(expectations),
        backoff_(backoff),
        clock_(clock) {}

  // `job` is null when the object is gone.
  JobSyncResult Sync(const std::string& key, const Job* job);
  // The informer saw pod `uid` of job `key` without the finalizer (or gone).
  void FinalizerRemovalObserved(const std::string& key, const std::string& uid);
  void Forget(const std::string& key);

 private:
  bool RemovalExpected(const std::string& key, const std::string& uid) const;
  mutable std::mutex mutex_;
  // Pods whose finalizer this syncer removed and the cache may still show (upstream's
  // finalizerExpectations): not counted twice.
  std::map<std::string, std::set<std::string>> expected_removals_;
  // The resourceVersion each job had when its status was last written: a cache still showing
  // it is stale, and a sync on it could count or create twice.
  std::map<std::string, std::string> overwritten_versions_;
  const ObjectLister<Pod>& pods_;
  BatchClient& client_;
  EventSink& events_;
  Expectations& expectations_;
  JobBackoffStore& backoff_;
  Clock& clock_;
};

struct JobControllerOptions {
  int workers = 5;  // --concurrent-job-syncs
};

class JobController {
 public:
  JobController(client::informers::SharedInformerFactory& factory, BatchClient& client,
                EventSink& events, JobControllerOptions options = {}, Clock& clock = RealClock());
  ~JobController();
  void Run();
  void Stop();

 private:
  void OnPod(const Pod& pod, bool added, bool deleted);

  // Lets go of a pod holding the tracking finalizer whose job is gone (upstream's orphan pod
  // clean-up): otherwise deleting a job would leave its pods terminating forever.
  Status ReleaseOrphan(const std::string& pod_key);

  client::informers::SharedInformer& jobs_informer_;
  client::informers::SharedInformer& pods_informer_;
  InformerLister<Pod> pods_;
  BatchClient& client_;
  JobControllerOptions options_;
  Expectations expectations_;
  JobBackoffStore backoff_;
  JobSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
