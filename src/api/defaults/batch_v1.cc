// Defaulting of jobs, as upstream's SetDefaults_Job applies it. It belongs to the Job kind, not
// to JobSpec: the job templates of cron jobs keep their spec as written.
#include <limits>

#include "api/batch/v1/codec.h"

namespace kpp::api::batch::v1 {

void DefaultJob(Job& obj) {
  JobSpec& spec = obj.spec;
  if (!spec.completions && !spec.parallelism) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (!spec.parallelism) spec.parallelism = 1;
  if (!spec.backoff_limit) {
    // With a per-index limit the job-wide limit is effectively off.
    spec.backoff_limit =
        spec.backoff_limit_per_index ? std::numeric_limits<int32_t>::max() : int32_t{6};
  }
  const auto& template_labels = spec.template_.metadata.labels;
  if (!template_labels.empty() && obj.metadata.labels.empty()) {
    obj.metadata.labels = template_labels;
  }
  if (!spec.completion_mode) spec.completion_mode = "NonIndexed";
  if (!spec.suspend) spec.suspend = false;
  if (!spec.pod_replacement_policy) {
    spec.pod_replacement_policy = spec.pod_failure_policy ? "Failed" : "TerminatingOrFailed";
  }
  if (!spec.manual_selector) spec.manual_selector = false;
}

}  // namespace kpp::api::batch::v1
