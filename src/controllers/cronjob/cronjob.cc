#include "controllers/cronjob/cronjob.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "base/log.h"
#include "controllers/job/job.h"

namespace kpp::controllers {

using client::informers::DeletedObject;
using client::informers::ObjectRef;

namespace {

int64_t UnixSeconds(Clock::TimePoint point) {
  return std::chrono::duration_cast<std::chrono::seconds>(point.time_since_epoch()).count();
}

// Go's time.RFC1123Z in the zone, as upstream's MissSchedule event prints the time.
std::string FormatRfc1123z(int64_t t, const TimeZone& zone) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int32_t offset = zone.OffsetAt(t);
  const int64_t local = t + offset;
  const int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  const int64_t second = local - days * 86400;
  const int abs_offset = std::abs(offset);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} {}{:02}{:02}", kDays[((days % 7) + 11) % 7],
                     day, kMonths[month - 1], year, second / 3600, second % 3600 / 60, second % 60,
                     offset < 0 ? '-' : '+', abs_offset / 3600, abs_offset % 3600 / 60);
}

api::core::v1::ObjectReference JobReference(const Job& job) {
  auto reference = ReferenceOf("batch/v1", "Job", job.metadata);
  reference.resource_version = job.metadata.resource_version;
  return reference;
}

std::optional<std::string> FinishedConditionOf(const Job& job) {
  for (const auto& condition : job.status.conditions) {
    if ((condition.type == "Complete" || condition.type == "Failed") &&
        condition.status == "True") {
      return condition.type;
    }
  }
  return std::nullopt;
}

Result<TimeZone> ZoneOf(const CronJob& cron_job, const std::string& zoneinfo_dir) {
  if (cron_job.spec.time_zone) return TimeZone::Load(*cron_job.spec.time_zone, zoneinfo_dir);
  // Unset: the controller manager's own zone.
  if (const char* tz = std::getenv("TZ"); tz != nullptr && *tz != '\0' && *tz != ':') {
    if (auto zone = TimeZone::Load(tz, zoneinfo_dir); zone.ok()) return zone;
  }
  if (auto zone = TimeZone::Load("localtime", "/etc"); zone.ok()) return zone;
  return TimeZone::Utc();
}

}  // namespace

std::string FormatRfc3339In(int64_t t, const TimeZone& zone) {
  const int32_t offset = zone.OffsetAt(t);
  const int64_t local = t + offset;
  const int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  const int64_t second = local - days * 86400;
  std::string zone_text = "Z";
  if (offset != 0) {
    const int abs_offset = std::abs(offset);
    zone_text = fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', abs_offset / 3600,
                            abs_offset % 3600 / 60);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", year, month, day, second / 3600,
                     second % 3600 / 60, second % 60, zone_text);
}

MissedSchedule MostRecentScheduleTime(const CronSchedule& schedule, const TimeZone& zone,
                                      int64_t earliest, int64_t now) {
  MissedSchedule missed;
  auto t = schedule.Next(earliest, zone);
  int count = 0;
  while (t && *t <= now) {
    missed.most_recent = t;
    if (++count > 100) {
      // Like upstream, do not walk decades of missed times: jump close to now.
      missed.too_many = true;
      auto second = schedule.Next(*t, zone);
      if (!second) break;
      const int64_t interval = std::max<int64_t>(*second - *t, 1);
      const int64_t from = now - 2 * interval;
      t = schedule.Next(std::max(from, *t), zone);
      while (t && *t <= now) {
        missed.most_recent = t;
        t = schedule.Next(*t, zone);
      }
      break;
    }
    t = schedule.Next(*t, zone);
  }
  return missed;
}

CronJobSyncResult CronJobSyncer::Sync(const CronJob* cached) {
  CronJobSyncResult result;
  if (cached == nullptr) return result;
  CronJob cron_job = *cached;
  const auto ref = ReferenceOf("batch/v1", "CronJob", cron_job.metadata);
  const int64_t now = UnixSeconds(clock_.Now());
  bool update_status = false;

  // The jobs this cron job controls.
  std::vector<std::shared_ptr<const Job>> children;
  for (const auto& job : jobs_.List(cron_job.metadata.namespace_)) {
    const auto* owner = ControllerRefOf(job->metadata);
    if (owner != nullptr && owner->uid == cron_job.metadata.uid) children.push_back(job);
  }
  auto in_active = [&](const std::string& uid) {
    return std::any_of(cron_job.status.active.begin(), cron_job.status.active.end(),
                       [&](const auto& r) { return r.uid == uid; });
  };
  auto remove_active = [&](const std::string& uid) {
    auto& active = cron_job.status.active;
    active.erase(
        std::remove_if(active.begin(), active.end(), [&](const auto& r) { return r.uid == uid; }),
        active.end());
  };
  for (const auto& job : children) {
    const auto finished = FinishedConditionOf(*job);
    const bool found = in_active(job->metadata.uid);
    if (!found && !finished) {
      events_.Event(
          ref, "Warning", "UnexpectedJob",
          "Saw a job that the controller did not create or forgot: " + job->metadata.name);
    } else if (found && finished) {
      remove_active(job->metadata.uid);
      events_.Event(
          ref, "Normal", "SawCompletedJob",
          fmt::format("Saw completed job: {}, condition: {}", job->metadata.name, *finished));
      update_status = true;
    }
    if (finished && *finished == "Complete" && job->status.completion_time &&
        (!cron_job.status.last_successful_time ||
         *job->status.completion_time > *cron_job.status.last_successful_time)) {
      cron_job.status.last_successful_time = job->status.completion_time;
      update_status = true;
    }
  }
  // Active jobs that are gone.
  for (const auto& reference : std::vector(cron_job.status.active)) {
    const bool exists = std::any_of(children.begin(), children.end(), [&](const auto& job) {
      return job->metadata.uid == reference.uid;
    });
    if (!exists) {
      events_.Event(ref, "Normal", "MissingJob", "Active job went missing: " + reference.name);
      remove_active(reference.uid);
      update_status = true;
    }
  }

  auto write_status = [&]() -> Status {
    if (!update_status) return Ok();
    auto written = client_.UpdateCronJobStatus(cron_job);
    if (!written.ok()) return std::move(written).error();
    cron_job.metadata.resource_version = written->metadata.resource_version;
    update_status = false;
    return Ok();
  };
  // Finished jobs beyond the history limits go, oldest first.
  auto clean_up = [&]() {
    if (cron_job.metadata.deletion_timestamp) return;
    std::vector<std::shared_ptr<const Job>> succeeded, failed;
    for (const auto& job : children) {
      const auto finished = FinishedConditionOf(*job);
      if (!finished) continue;
      (*finished == "Complete" ? succeeded : failed).push_back(job);
    }
    auto trim = [&](std::vector<std::shared_ptr<const Job>>& jobs, std::optional<int32_t> limit) {
      if (!limit || static_cast<int>(jobs.size()) <= *limit) return;
      std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) {
        const auto& sa = a->status.start_time;
        const auto& sb = b->status.start_time;
        if (sa.has_value() != sb.has_value()) return !sa.has_value();
        if (sa && *sa != *sb) return *sa < *sb;
        return a->metadata.name < b->metadata.name;
      });
      for (size_t i = 0; i + *limit < jobs.size(); ++i) {
        auto deleted = client_.DeleteJob(jobs[i]->metadata.namespace_, jobs[i]->metadata.name,
                                         jobs[i]->metadata.uid);
        if (deleted.ok()) {
          events_.Event(ref, "Normal", "SuccessfulDelete", "Deleted job " + jobs[i]->metadata.name);
        } else if (deleted.error().code() != ErrorCode::kNotFound) {
          result.status = deleted;
        }
      }
    };
    trim(succeeded, cron_job.spec.successful_jobs_history_limit);
    trim(failed, cron_job.spec.failed_jobs_history_limit);
  };
  auto finish = [&]() {
    if (auto written = write_status(); !written.ok()) result.status = written;
    clean_up();
    return result;
  };

  if (cron_job.metadata.deletion_timestamp) return finish();
  auto zone = ZoneOf(cron_job, zoneinfo_dir_);
  if (!zone.ok()) {
    events_.Event(ref, "Warning", "UnknownTimeZone",
                  fmt::format("invalid timeZone: \"{}\": {}", cron_job.spec.time_zone.value_or(""),
                              zone.error().message()));
    return finish();
  }
  if (cron_job.spec.suspend.value_or(false)) return finish();
  auto schedule = CronSchedule::Parse(cron_job.spec.schedule);
  if (!schedule.ok()) {
    events_.Event(ref, "Warning", "UnparseableSchedule",
                  fmt::format("unparseable schedule: \"{}\" : {}", cron_job.spec.schedule,
                              schedule.error().message()));
    return finish();
  }
  auto requeue_for_next = [&]() {
    if (auto next = schedule->Next(now, *zone)) {
      result.requeue_after = std::chrono::seconds(*next - now) + std::chrono::milliseconds(100);
    }
  };

  int64_t earliest = cron_job.status.last_schedule_time
                         ? cron_job.status.last_schedule_time->unix_seconds
                         : cron_job.metadata.creation_timestamp.unix_seconds;
  if (cron_job.spec.starting_deadline_seconds) {
    earliest = std::max(earliest, now - *cron_job.spec.starting_deadline_seconds);
  }
  const auto missed = MostRecentScheduleTime(*schedule, *zone, earliest, now);
  if (missed.too_many) {
    events_.Event(ref, "Warning", "TooManyMissedTimes",
                  "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                  "or check clock skew");
  }
  if (!missed.most_recent) {
    requeue_for_next();
    return finish();
  }
  const int64_t scheduled = *missed.most_recent;
  if (cron_job.spec.starting_deadline_seconds &&
      scheduled + *cron_job.spec.starting_deadline_seconds < now) {
    events_.Event(ref, "Warning", "MissSchedule",
                  "Missed scheduled time to start a job: " + FormatRfc1123z(scheduled, *zone));
    requeue_for_next();
    return finish();
  }
  const std::string job_name = fmt::format("{}-{}", cron_job.metadata.name, scheduled / 60);
  const bool already = std::any_of(cron_job.status.active.begin(), cron_job.status.active.end(),
                                   [&](const auto& r) { return r.name == job_name; }) ||
                       (cron_job.status.last_schedule_time &&
                        cron_job.status.last_schedule_time->unix_seconds == scheduled);
  if (already) {
    requeue_for_next();
    return finish();
  }
  const std::string policy =
      cron_job.spec.concurrency_policy.empty() ? "Allow" : cron_job.spec.concurrency_policy;
  if (policy == "Forbid" && !cron_job.status.active.empty()) {
    events_.Event(ref, "Normal", "JobAlreadyActive",
                  "Not starting job because prior execution is running and concurrency policy "
                  "is Forbid");
    requeue_for_next();
    return finish();
  }
  if (policy == "Replace") {
    for (const auto& reference : std::vector(cron_job.status.active)) {
      auto deleted = client_.DeleteJob(reference.namespace_, reference.name, reference.uid);
      if (!deleted.ok() && deleted.error().code() != ErrorCode::kNotFound) {
        result.status = deleted;
        return finish();
      }
      events_.Event(ref, "Normal", "SuccessfulDelete", "Deleted job " + reference.name);
      remove_active(reference.uid);
      update_status = true;
    }
  }

  Job job;
  job.metadata.name = job_name;
  job.metadata.namespace_ = cron_job.metadata.namespace_;
  job.metadata.labels = cron_job.spec.job_template.metadata.labels;
  job.metadata.annotations = cron_job.spec.job_template.metadata.annotations;
  job.metadata.annotations[kCronJobScheduledTimestampAnnotation] =
      FormatRfc3339In(scheduled, *zone);
  job.metadata.owner_references.push_back(ControllerRef("batch/v1", "CronJob", cron_job.metadata));
  job.spec = cron_job.spec.job_template.spec;
  auto created = client_.CreateJob(job);
  if (!created.ok()) {
    if (created.error().code() == ErrorCode::kAlreadyExists) {
      // Made by an earlier sync whose status write was lost: ours if it names us.
      auto existing = jobs_.Get(job.metadata.namespace_, job_name);
      if (existing) {
        const auto* owner = ControllerRefOf(existing->metadata);
        if (owner != nullptr && owner->uid == cron_job.metadata.uid) {
          if (!FinishedConditionOf(*existing) && !in_active(existing->metadata.uid)) {
            cron_job.status.active.push_back(JobReference(*existing));
          }
          cron_job.status.last_schedule_time = api::Time::FromUnixSeconds(scheduled);
          update_status = true;
        }
      }
      requeue_for_next();
      return finish();
    }
    events_.Event(ref, "Warning", "FailedCreate",
                  "Error creating job: " + created.error().message());
    result.status = std::move(created).error();
    (void)write_status();
    return result;
  }
  events_.Event(ref, "Normal", "SuccessfulCreate", "Created job " + created->metadata.name);
  cron_job.status.active.push_back(JobReference(*created));
  cron_job.status.last_schedule_time = api::Time::FromUnixSeconds(scheduled);
  update_status = true;
  requeue_for_next();
  return finish();
}

CronJobController::CronJobController(client::informers::SharedInformerFactory& factory,
                                     BatchClient& client, EventSink& events,
                                     CronJobControllerOptions options, Clock& clock)
    : cron_jobs_informer_(factory.InformerFor<CronJob>()),
      jobs_informer_(factory.InformerFor<Job>()),
      jobs_(jobs_informer_),
      options_(options),
      syncer_(jobs_, client, events, clock),
      workers_(queue_,
               SyncCached<CronJob>(cron_jobs_informer_,
                                   [this](const std::string&, const CronJob* object) {
                                     return syncer_.Sync(object);
                                   }),
               {.what = "syncing cronjob", .requeue_after_failure = true}) {
  auto enqueue = [this](const api::meta::v1::ObjectMeta& metadata) { queue_.Add(KeyOf(metadata)); };
  cron_jobs_informer_.AddEventHandler(
      {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object->metadata()); },
       .on_update = [enqueue](const ObjectRef&,
                              const ObjectRef& object) { enqueue(object->metadata()); },
       .on_delete = [](const DeletedObject&) {}});
  auto owner_of = [this](const ObjectRef& object) {
    const auto* ref = ControllerRefOf(object->metadata());
    if (ref == nullptr || ref->kind != "CronJob") return;
    queue_.Add(object->metadata().namespace_ + "/" + ref->name);
  };
  jobs_informer_.AddEventHandler(
      {.on_add = [owner_of](const ObjectRef& object, bool) { owner_of(object); },
       .on_update = [owner_of](const ObjectRef&, const ObjectRef& object) { owner_of(object); },
       .on_delete =
           [owner_of](const DeletedObject& deleted) {
             if (deleted.object) owner_of(deleted.object);
           }});
}

CronJobController::~CronJobController() {
  Stop();
}

void CronJobController::Run() {
  workers_.Start(options_.workers);
}

void CronJobController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
