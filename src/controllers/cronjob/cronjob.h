// The CronJob controller (upstream's pkg/controller/cronjob, the v2 controller): creates a Job
// for each scheduled time of a cron job, in the cron job's time zone, named
// "<cronjob>-<scheduled time in minutes since the epoch>" and annotated with the scheduled time;
// honours suspend, startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid, Replace);
// keeps status.active, lastScheduleTime and lastSuccessfulTime; and deletes finished jobs beyond
// the successful/failed history limits.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"
#include "controllers/cronjob/cron_schedule.h"
#include "controllers/job/batch_client.h"

namespace kpp::controllers {

inline constexpr char kCronJobScheduledTimestampAnnotation[] =
    "batch.kubernetes.io/cronjob-scheduled-timestamp";

// The most recent scheduled time in (earliest, now], and whether more than one (or more than
// 100: `too_many`) were missed. `earliest` is lastScheduleTime, else the creation time, moved
// up to now - startingDeadlineSeconds when that is later.
struct MissedSchedule {
  std::optional<int64_t> most_recent;
  bool too_many = false;
};
MissedSchedule MostRecentScheduleTime(const CronSchedule& schedule, const TimeZone& zone,
                                      int64_t earliest, int64_t now);

// RFC 3339 in the zone's local time, e.g. "2024-03-10T01:30:00-05:00".
std::string FormatRfc3339In(int64_t unix_seconds, const TimeZone& zone);

struct CronJobSyncResult {
  Status status = Ok();
  std::optional<Clock::Duration> requeue_after;
};

class CronJobSyncer {
 public:
  CronJobSyncer(const ObjectLister<Job>& jobs, BatchClient& client, EventSink& events, Clock& clock,
                std::string zoneinfo_dir = "/usr/share/zoneinfo")
      : jobs_(jobs),
        client_(client),
        events_(events),
        clock_(clock),
        zoneinfo_dir_(std::move(zoneinfo_dir)) {}

  CronJobSyncResult Sync(const CronJob* cron_job);

 private:
  const ObjectLister<Job>& jobs_;
  BatchClient& client_;
  EventSink& events_;
  Clock& clock_;
  std::string zoneinfo_dir_;
};

struct CronJobControllerOptions {
  int workers = 5;  // --concurrent-cron-job-syncs
};

class CronJobController {
 public:
  CronJobController(client::informers::SharedInformerFactory& factory, BatchClient& client,
                    EventSink& events, CronJobControllerOptions options = {},
                    Clock& clock = RealClock());
  ~CronJobController();
  void Run();
  void Stop();

 private:
  client::informers::SharedInformer& cron_jobs_informer_;
  client::informers::SharedInformer& jobs_informer_;
  InformerLister<Job> jobs_;
  CronJobControllerOptions options_;
  CronJobSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
