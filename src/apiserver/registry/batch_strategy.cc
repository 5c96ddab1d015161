#include "apiserver/registry/batch_strategy.h"

#include <algorithm>
#include <regex>

#include "api/batch/v1/codec.h"
#include "controllers/cronjob/cron_schedule.h"

namespace kpp::apiserver {
namespace {

using api::batch::v1::CronJob;
using api::batch::v1::Job;

class JobStrategy final : public Strategy {
 public:
  // Upstream's generateSelector (unless spec.manualSelector): the pods are labelled with the
  // job's uid and name, old and new label names, and the selector picks the uid. The server
  // has set the uid before this runs.
  void PrepareForCreate(api::Object& object) const override {
    auto* typed = dynamic_cast<api::TypedObject<Job>*>(&object);
    if (typed == nullptr) return;
    Job& job = typed->value();
    job.status = {};
    if (job.spec.manual_selector.value_or(false)) return;
    auto& labels = job.spec.template_.metadata.labels;
    for (const char* key : {"job-name", "batch.kubernetes.io/job-name"})
      labels.emplace(key, job.metadata.name);
    for (const char* key : {"controller-uid", "batch.kubernetes.io/controller-uid"})
      labels.emplace(key, job.metadata.uid);
    if (!job.spec.selector) job.spec.selector.emplace();
    job.spec.selector->match_labels.emplace("batch.kubernetes.io/controller-uid", job.metadata.uid);
    // What defaulting shows on every read upstream: the template's labels on the job.
    if (job.metadata.labels.empty()) job.metadata.labels = labels;
  }
};

class CronJobStrategy final : public Strategy {
 public:
  void PrepareForCreate(api::Object& object) const override {
    if (auto* typed = dynamic_cast<api::TypedObject<CronJob>*>(&object)) typed->value().status = {};
  }
  void Validate(const api::Object& object, validation::FieldErrors& errors) const override {
    const auto* typed = dynamic_cast<const api::TypedObject<CronJob>*>(&object);
    if (typed == nullptr) return;
    const auto& spec = typed->value().spec;
    // Its jobs are named "<name>-<11 digits>" and job names stop at 63 characters.
    if (const auto& name = typed->value().metadata.name; name.size() > 52) {
      errors.push_back(validation::Invalid(validation::FieldPath("metadata").Child("name"), name,
                                           "must be no more than 52 characters"));
    }
    const auto schedule_path = validation::FieldPath("spec").Child("schedule");
    if (!spec.schedule.empty()) {
      if (auto parsed = controllers::CronSchedule::Parse(spec.schedule); !parsed.ok()) {
        errors.push_back(
            validation::Invalid(schedule_path, spec.schedule, parsed.error().message()));
      }
      if (spec.schedule.find("TZ") != std::string::npos) {
        errors.push_back(validation::Invalid(
            schedule_path, spec.schedule,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
      }
    }
    if (spec.time_zone) {
      const auto path = validation::FieldPath("spec").Child("timeZone");
      const std::string& zone = *spec.time_zone;
      static const std::regex kPart("^[A-Za-z\\.\\-_0-9+]{1,14}$");
      bool valid_characters = true;
      size_t start = 0;
      while (start <= zone.size()) {
        size_t end = zone.find('/', start);
        if (end == std::string::npos) end = zone.size();
        const std::string part = zone.substr(start, end - start);
        if (part == "." || part == ".." || (!part.empty() && part[0] == '-') ||
            !std::regex_match(part, kPart)) {
          valid_characters = false;
        }
        start = end + 1;
      }
      std::string lower = zone;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (zone.empty()) {
        errors.push_back(
            validation::Invalid(path, zone, "timeZone must be nil or non-empty string"));
      } else if (!valid_characters) {
        errors.push_back(validation::Invalid(path, zone, "unknown time zone " + zone));
      } else if (lower == "local") {
        errors.push_back(validation::Invalid(path, zone,
                                             "timeZone must be an explicit time zone as defined in "
                                             "https://www.iana.org/time-zones"));
      } else if (auto loaded = controllers::TimeZone::Load(zone); !loaded.ok()) {
        errors.push_back(validation::Invalid(path, zone, loaded.error().message()));
      }
    }
  }
};

}  // namespace

const Strategy* BatchStrategyFor(const api::KindInfo& kind) {
  static const JobStrategy job_strategy;
  static const CronJobStrategy cron_job_strategy;
  if (kind.group != "batch") return nullptr;
  if (kind.kind == "Job") return &job_strategy;
  if (kind.kind == "CronJob") return &cron_job_strategy;
  return nullptr;
}

}  // namespace kpp::apiserver
