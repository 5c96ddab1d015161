// The CronJob and TTL-after-finished syncs with a fake clock, jobs lister and client.
#include "controllers/cronjob/cronjob.h"

#include <gtest/gtest.h>

#include "batch_fakes.h"
#include "controllers/ttlafterfinished/ttl_after_finished.h"
#include "fakes.h"

namespace kpp::controllers {
namespace {

using testing::FakeBatchClient;
using testing::FakeEvents;
using testing::FakeLister;

constexpr int64_t kCreated = 1714730400;  // 2024-05-03T10:00:00Z

CronJob MakeCronJob(const std::string& schedule) {
  CronJob cron_job;
  cron_job.metadata.name = "hello";
  cron_job.metadata.namespace_ = "default";
  cron_job.metadata.uid = "cj-uid";
  cron_job.metadata.creation_timestamp = api::Time::FromUnixSeconds(kCreated);
  cron_job.spec.schedule = schedule;
  cron_job.spec.concurrency_policy = "Allow";
  cron_job.spec.successful_jobs_history_limit = 3;
  cron_job.spec.failed_jobs_history_limit = 1;
  cron_job.spec.job_template.metadata.labels = {{"app", "hello"}};
  cron_job.spec.job_template.spec.template_.spec.restart_policy = "OnFailure";
  return cron_job;
}

Job ChildJob(const CronJob& cron_job, const std::string& name, const std::string& finished,
             int64_t start) {
  Job job;
  job.metadata.name = name;
  job.metadata.namespace_ = "default";
  job.metadata.uid = "uid-" + name;
  job.metadata.owner_references.push_back(ControllerRef("batch/v1", "CronJob", cron_job.metadata));
  job.status.start_time = api::Time::FromUnixSeconds(start);
  if (!finished.empty()) {
    job.status.conditions.push_back(
        {finished, "True", {}, api::Time::FromUnixSeconds(start + 5), "", ""});
    if (finished == "Complete") job.status.completion_time = api::Time::FromUnixSeconds(start + 5);
  }
  return job;
}

struct Harness {
  explicit Harness(int64_t now) : clock(Clock::TimePoint(std::chrono::seconds(now))) {}
  FakeLister<Job> jobs;
  FakeBatchClient client;
  FakeEvents events;
  FakeClock clock;
  CronJobSyncer syncer{jobs, client, events, clock};
  bool HasEvent(const std::string& reason, const std::string& message = "") {
    for (const auto& event : events.events) {
      if (event.reason == reason && (message.empty() || event.message == message)) return true;
    }
    return false;
  }
};

TEST(CronJobSyncTest, CreatesTheJobOfTheMostRecentScheduledTime) {
  Harness h(kCreated + 150);  // 10:02:30: runs due at 10:01 and 10:02
  auto cron_job = MakeCronJob("*/1 * * * *");
  auto result = h.syncer.Sync(&cron_job);
  ASSERT_TRUE(result.status.ok());
  ASSERT_EQ(h.client.created_jobs.size(), 1u);
  const Job& job = h.client.created_jobs[0];
  EXPECT_EQ(job.metadata.name, "hello-" + std::to_string((kCreated + 120) / 60));
  EXPECT_EQ(job.metadata.annotations.at("batch.kubernetes.io/cronjob-scheduled-timestamp"),
            "2024-05-03T10:02:00Z");
  EXPECT_EQ(job.metadata.labels.at("app"), "hello");
  EXPECT_EQ(job.metadata.owner_references.at(0).kind, "CronJob");
  EXPECT_EQ(job.spec.template_.spec.restart_policy, "OnFailure");
  ASSERT_EQ(h.client.cron_job_statuses.size(), 1u);
  const auto& status = h.client.cron_job_statuses[0].status;
  ASSERT_EQ(status.active.size(), 1u);
  EXPECT_EQ(status.active[0].name, job.metadata.name);
  EXPECT_EQ(status.last_schedule_time->unix_seconds, kCreated + 120);
  EXPECT_TRUE(h.HasEvent("SuccessfulCreate", "Created job " + job.metadata.name));
  ASSERT_TRUE(result.requeue_after.has_value());
  EXPECT_EQ(*result.requeue_after, std::chrono::milliseconds(30'100));
}

TEST(CronJobSyncTest, ScheduledTimestampUsesTheTimeZone) {
  Harness h(kCreated + 3600);
  auto cron_job = MakeCronJob("0 * * * *");
  cron_job.spec.time_zone = "Asia/Kolkata";  // +05:30: hours start at :30 UTC
  ASSERT_TRUE(h.syncer.Sync(&cron_job).status.ok());
  ASSERT_EQ(h.client.created_jobs.size(), 1u);
  EXPECT_EQ(h.client.created_jobs[0].metadata.annotations.at(
                "batch.kubernetes.io/cronjob-scheduled-timestamp"),
            "2024-05-03T16:00:00+05:30");
}

TEST(CronJobSyncTest, PoliciesAndDeadlines) {
  struct Case {
    std::string name;
    std::string policy;
    bool suspend = false;
    std::optional<int64_t> starting_deadline;
    std::string schedule = "*/1 * * * *";
    std::string time_zone;
    int want_created;
    std::string want_event;
    int want_deleted = 0;
  };
  const Case cases[] = {
      {"Allow runs beside the active job",
       "Allow",
       false,
       {},
       "*/1 * * * *",
       "",
       1,
       "SuccessfulCreate"},
      {"Forbid waits", "Forbid", false, {}, "*/1 * * * *", "", 0, "JobAlreadyActive"},
      {"Replace deletes the active job",
       "Replace",
       false,
       {},
       "*/1 * * * *",
       "",
       1,
       "SuccessfulCreate",
       1},
      {"suspended: nothing", "Allow", true, {}, "*/1 * * * *", "", 0, ""},
      {"past the starting deadline: no run", "Allow", false, 10, "0 * * * *", "", 0, ""},
      {"bad schedule", "Allow", false, {}, "61 * * * *", "", 0, "UnparseableSchedule"},
      {"unknown zone", "Allow", false, {}, "*/1 * * * *", "Mars/Olympus", 0, "UnknownTimeZone"},
  };
  for (const auto& c : cases) {
    // 10:05:30 with a job of 10:04 still running (last scheduled 10:04).
    Harness h(kCreated + 330);
    auto cron_job = MakeCronJob(c.schedule);
    cron_job.spec.concurrency_policy = c.policy;
    cron_job.spec.suspend = c.suspend;
    cron_job.spec.starting_deadline_seconds = c.starting_deadline;
    if (!c.time_zone.empty()) cron_job.spec.time_zone = c.time_zone;
    if (c.name == "past the starting deadline: no run") {
      // Due at 10:00, five minutes ago: beyond a 10 s starting deadline.
      cron_job.metadata.creation_timestamp = api::Time::FromUnixSeconds(kCreated - 3600);
    } else {
      cron_job.status.last_schedule_time = api::Time::FromUnixSeconds(kCreated + 240);
    }
    auto running = ChildJob(cron_job, "hello-28578844", "", kCreated + 240);
    h.jobs.Add(running);
    cron_job.status.active.push_back(ReferenceOf("batch/v1", "Job", running.metadata));
    ASSERT_TRUE(h.syncer.Sync(&cron_job).status.ok()) << c.name;
    EXPECT_EQ(static_cast<int>(h.client.created_jobs.size()), c.want_created) << c.name;
    if (!c.want_event.empty()) {
      EXPECT_TRUE(h.HasEvent(c.want_event)) << c.name;
    }
    EXPECT_EQ(h.client.Count("delete job"), c.want_deleted) << c.name;
  }
}

TEST(CronJobSyncTest, TooManyMissedStartTimesWarns) {
  Harness h(kCreated + 7 * 86400);
  auto cron_job = MakeCronJob("*/1 * * * *");
  ASSERT_TRUE(h.syncer.Sync(&cron_job).status.ok());
  EXPECT_TRUE(h.HasEvent("TooManyMissedTimes",
                         "too many missed start times. Set or decrease "
                         ".spec.startingDeadlineSeconds or check clock skew"));
  ASSERT_EQ(h.client.created_jobs.size(), 1u);
  EXPECT_EQ(h.client.created_jobs[0].metadata.name,
            "hello-" + std::to_string((kCreated + 7 * 86400) / 60));
}

TEST(CronJobSyncTest, FinishedJobsLeaveTheActiveListAndHistoryIsTrimmed) {
  Harness h(kCreated + 30);  // nothing due yet
  auto cron_job = MakeCronJob("0 0 1 1 *");
  // Four successful jobs (limit 3) and two failed (limit 1); one of them was active.
  for (int i = 0; i < 4; ++i) {
    h.jobs.Add(ChildJob(cron_job, "ok-" + std::to_string(i), "Complete", kCreated - 1000 + i));
  }
  h.jobs.Add(ChildJob(cron_job, "bad-0", "Failed", kCreated - 900));
  h.jobs.Add(ChildJob(cron_job, "bad-1", "Failed", kCreated - 800));
  cron_job.status.active.push_back(
      ReferenceOf("batch/v1", "Job", ChildJob(cron_job, "ok-3", "", 0).metadata));
  ASSERT_TRUE(h.syncer.Sync(&cron_job).status.ok());
  EXPECT_TRUE(h.HasEvent("SawCompletedJob", "Saw completed job: ok-3, condition: Complete"));
  ASSERT_EQ(h.client.cron_job_statuses.size(), 1u);
  const auto& status = h.client.cron_job_statuses[0].status;
  EXPECT_TRUE(status.active.empty());
  EXPECT_EQ(status.last_successful_time->unix_seconds, kCreated - 1000 + 3 + 5);
  EXPECT_EQ(h.client.Count("delete job default/ok-0"), 1);
  EXPECT_EQ(h.client.Count("delete job default/bad-0"), 1);
  EXPECT_EQ(h.client.Count("delete job"), 2);
  EXPECT_TRUE(h.HasEvent("SuccessfulDelete", "Deleted job ok-0"));
}

TEST(TtlAfterFinishedSyncTest, DeletesExpiredJobsOnly) {
  struct Case {
    std::string name;
    std::optional<int32_t> ttl;
    std::string finished;
    int64_t finished_ago;
    bool want_delete;
    std::optional<int64_t> want_requeue_seconds;
  };
  const Case cases[] = {
      {"expired", 10, "Complete", 60, true, {}},   {"failed jobs too", 0, "Failed", 1, true, {}},
      {"not yet", 100, "Complete", 60, false, 40}, {"no ttl", {}, "Complete", 600, false, {}},
      {"still running", 10, "", 600, false, {}},
  };
  for (const auto& c : cases) {
    const int64_t now = 1'800'000'000;
    FakeClock clock{Clock::TimePoint(std::chrono::seconds(now))};
    FakeBatchClient client;
    Job job;
    job.metadata.name = "done";
    job.metadata.namespace_ = "default";
    job.metadata.uid = "uid-done";
    job.spec.ttl_seconds_after_finished = c.ttl;
    if (!c.finished.empty()) {
      job.status.conditions.push_back(
          {c.finished, "True", {}, api::Time::FromUnixSeconds(now - c.finished_ago), "", ""});
    }
    client.stored_jobs.push_back(job);
    TtlAfterFinishedSyncer syncer(client, clock);
    auto result = syncer.Sync(&job);
    ASSERT_TRUE(result.status.ok()) << c.name;
    EXPECT_EQ(client.Count("delete job default/done uid=uid-done"), c.want_delete ? 1 : 0)
        << c.name;
    if (c.want_requeue_seconds) {
      ASSERT_TRUE(result.requeue_after.has_value()) << c.name;
      EXPECT_EQ(*result.requeue_after, std::chrono::seconds(*c.want_requeue_seconds)) << c.name;
    }
  }
}

}  // namespace
}  // namespace kpp::controllers
