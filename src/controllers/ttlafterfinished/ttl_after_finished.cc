#include "controllers/ttlafterfinished/ttl_after_finished.h"

#include "base/log.h"
#include "controllers/job/job.h"

namespace kpp::controllers {

using client::informers::DeletedObject;
using client::informers::ObjectRef;

std::optional<int64_t> JobExpiresAt(const Job& job) {
  if (!job.spec.ttl_seconds_after_finished || job.metadata.deletion_timestamp) return std::nullopt;
  if (!IsJobFinished(job)) return std::nullopt;
  std::optional<int64_t> finished;
  if (job.status.completion_time) finished = job.status.completion_time->unix_seconds;
  for (const auto& condition : job.status.conditions) {
    if (finished) break;
    if ((condition.type == "Complete" || condition.type == "Failed") &&
        condition.status == "True") {
      finished = condition.last_transition_time.unix_seconds;
    }
  }
  if (!finished) return std::nullopt;
  return *finished + *job.spec.ttl_seconds_after_finished;
}

TtlSyncResult TtlAfterFinishedSyncer::Sync(const Job* cached) {
  TtlSyncResult result;
  if (cached == nullptr) return result;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  auto expires = JobExpiresAt(*cached);
  if (!expires) return result;
  if (*expires > now) {
    result.requeue_after = std::chrono::seconds(*expires - now);
    return result;
  }
  // The cache may be behind a change of the TTL: decide on a fresh copy.
  auto fresh = client_.GetJob(cached->metadata.namespace_, cached->metadata.name);
  if (!fresh.ok()) {
    if (fresh.error().code() != ErrorCode::kNotFound) result.status = std::move(fresh).error();
    return result;
  }
  expires = JobExpiresAt(*fresh);
  if (!expires) return result;
  if (*expires > now) {
    result.requeue_after = std::chrono::seconds(*expires - now);
    return result;
  }
  auto deleted =
      client_.DeleteJob(fresh->metadata.namespace_, fresh->metadata.name, fresh->metadata.uid);
  if (!deleted.ok() && deleted.error().code() != ErrorCode::kNotFound) result.status = deleted;
  return result;
}

TtlAfterFinishedController::TtlAfterFinishedController(
    client::informers::SharedInformerFactory& factory, BatchClient& client,
    TtlAfterFinishedControllerOptions options, Clock& clock)
    : jobs_informer_(factory.InformerFor<Job>()),
      options_(options),
      syncer_(client, clock),
      workers_(queue_,
               SyncCached<Job>(
                   jobs_informer_,
                   [this](const std::string&, const Job* object) { return syncer_.Sync(object); }),
               {.what = "ttl-after-finished", .requeue_after_failure = true}) {
  auto enqueue = [this](const ObjectRef& object) {
    auto job = client::informers::As<Job>(object);
    if (job && job->spec.ttl_seconds_after_finished && !job->metadata.deletion_timestamp &&
        IsJobFinished(*job)) {
      queue_.Add(KeyOf(job->metadata));
    }
  };
  jobs_informer_.AddEventHandler(
      {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object); },
       .on_update = [enqueue](const ObjectRef&, const ObjectRef& object) { enqueue(object); },
       .on_delete = [](const DeletedObject&) {}});
}

TtlAfterFinishedController::~TtlAfterFinishedController() {
  Stop();
}

void TtlAfterFinishedController::Run() {
  workers_.Start(options_.workers);
}

void TtlAfterFinishedController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
