#include "controllers/job/job.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>

#include "base/log.h"

namespace kpp::controllers {

using api::batch::v1::JobCondition;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

namespace {

constexpr char kIndexFailureCountAnnotation[] = "batch.kubernetes.io/job-index-failure-count";
constexpr int kJobBurst = 500;  // upstream's MaxBatchSize of pod creations per sync
// Queue keys of orphan pods to release, beside the jobs' "<ns>/<name>".
constexpr char kOrphanPodPrefix[] = "orphan-pod:";

bool HasFinalizer(const Pod& pod) {
  const auto& list = pod.metadata.finalizers;
  return std::find(list.begin(), list.end(), kJobTrackingFinalizer) != list.end();
}

bool PodSucceeded(const Pod& pod) {
  return pod.status.phase == "Succeeded";
}
bool PodFailed(const Pod& pod) {
  return pod.status.phase == "Failed";
}
bool PodFinished(const Pod& pod) {
  return PodSucceeded(pod) || PodFailed(pod);
}
bool PodTerminating(const Pod& pod) {
  return pod.metadata.deletion_timestamp.has_value() && !PodFinished(pod);
}

bool ConditionTrue(const Job& job, const std::string& type) {
  const auto* condition = FindJobCondition(job, type);
  return condition != nullptr && condition->status == "True";
}

// Sets condition `type` (adding it, or updating status, reason and message); true if changed.
bool SetCondition(Job& job, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, api::Time now) {
  for (auto& condition : job.status.conditions) {
    if (condition.type != type) continue;
    if (condition.status == status && condition.reason == reason && condition.message == message) {
      return false;
    }
    if (condition.status != status) condition.last_transition_time = now;
    condition.status = status;
    condition.reason = reason;
    condition.message = message;
    condition.last_probe_time = now;
    return true;
  }
  JobCondition condition;
  condition.type = type;
  condition.status = status;
  condition.reason = reason;
  condition.message = message;
  condition.last_probe_time = now;
  condition.last_transition_time = now;
  job.status.conditions.push_back(std::move(condition));
  return true;
}

// A failed pod against the job's podFailurePolicy: the index of the first matching rule, or -1.
int MatchPodFailurePolicy(const Job& job, const Pod& pod, std::string& message) {
  if (!job.spec.pod_failure_policy) return -1;
  const auto& rules = job.spec.pod_failure_policy->rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& rule = rules[i];
    if (rule.on_exit_codes) {
      const auto& requirement = *rule.on_exit_codes;
      const std::vector<int32_t>& values = requirement.values;
      auto check = [&](const std::vector<api::core::v1::ContainerStatus>& statuses) {
        for (const auto& status : statuses) {
          if (requirement.container_name && *requirement.container_name != status.name) continue;
          if (!status.state.terminated) continue;
          const int32_t code = status.state.terminated->exit_code;
          const bool in = std::find(values.begin(), values.end(), code) != values.end();
          // Exit code 0 never matches NotIn: a successful container is no failure.
          if (requirement.operator_ == "In" ? in : (!in && code != 0)) {
            message = fmt::format(
                "Container {} for pod {}/{} failed with exit code {} matching "
                "{} rule at index {}",
                status.name, pod.metadata.namespace_, pod.metadata.name, code, rule.action, i);
            return true;
          }
        }
        return false;
      };
      if (check(pod.status.init_container_statuses) || check(pod.status.container_statuses)) {
        return static_cast<int>(i);
      }
    }
    for (const auto& pattern : rule.on_pod_conditions) {
      for (const auto& condition : pod.status.conditions) {
        if (condition.type == pattern.type &&
            condition.status == (pattern.status.empty() ? "True" : pattern.status)) {
          message = fmt::format("Pod {}/{} has condition {} matching {} rule at index {}",
                                pod.metadata.namespace_, pod.metadata.name, condition.type,
                                rule.action, i);
          return static_cast<int>(i);
        }
      }
    }
  }
  return -1;
}

}  // namespace

std::set<int> ParseIndexes(const std::string& text, int completions) {
  std::set<int> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    start = end + 1;
    const size_t dash = part.find('-');
    int first = 0, last = 0;
    auto [p1, e1] = std::from_chars(
        part.data(), part.data() + (dash == std::string::npos ? part.size() : dash), first);
    if (e1 != std::errc()) continue;
    last = first;
    if (dash != std::string::npos) {
      auto [p2, e2] = std::from_chars(part.data() + dash + 1, part.data() + part.size(), last);
      if (e2 != std::errc()) continue;
    }
    for (int i = first; i <= last && i < completions; ++i)
      out.insert(i);
  }
  return out;
}

std::string FormatIndexes(const std::set<int>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    const int first = *it;
    int last = first;
    for (++it; it != indexes.end() && *it == last + 1; ++it)
      last = *it;
    if (!out.empty()) out += ',';
    out += last == first ? std::to_string(first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

int CompletionIndexOf(const Pod& pod) {
  auto read = [](const std::map<std::string, std::string>& values) {
    auto it = values.find(kJobCompletionIndexAnnotation);
    if (it == values.end()) return -1;
    int index = -1;
    auto [ptr, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), index);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || index < 0) return -1;
    return index;
  };
  const int index = read(pod.metadata.annotations);
  return index >= 0 ? index : read(pod.metadata.labels);
}

Pod JobPodFromTemplate(const Job& job, int index) {
  Pod pod;
  const auto& pod_template = job.spec.template_;
  pod.metadata.namespace_ = job.metadata.namespace_;
  pod.metadata.labels = pod_template.metadata.labels;
  pod.metadata.annotations = pod_template.metadata.annotations;
  pod.metadata.finalizers = pod_template.metadata.finalizers;
  pod.metadata.finalizers.push_back(kJobTrackingFinalizer);
  pod.metadata.owner_references.push_back(ControllerRef("batch/v1", "Job", job.metadata));
  pod.spec = pod_template.spec;
  if (index < 0) {
    pod.metadata.generate_name = job.metadata.name + "-";
    return pod;
  }
  const std::string value = std::to_string(index);
  pod.metadata.generate_name = fmt::format("{}-{}-", job.metadata.name, index);
  pod.metadata.annotations[kJobCompletionIndexAnnotation] = value;
  pod.metadata.labels[kJobCompletionIndexAnnotation] = value;
  if (pod.spec.hostname.empty()) pod.spec.hostname = fmt::format("{}-{}", job.metadata.name, index);
  auto add_env = [](std::vector<api::core::v1::Container>& containers) {
    for (auto& container : containers) {
      const bool present =
          std::any_of(container.env.begin(), container.env.end(),
                      [](const auto& env) { return env.name == "JOB_COMPLETION_INDEX"; });
      if (present) continue;
      api::core::v1::EnvVar env;
      env.name = "JOB_COMPLETION_INDEX";
      env.value_from.emplace().field_ref.emplace();
      env.value_from->field_ref->api_version = "v1";
      env.value_from->field_ref->field_path =
          fmt::format("metadata.annotations['{}']", kJobCompletionIndexAnnotation);
      container.env.push_back(std::move(env));
    }
  };
  add_env(pod.spec.init_containers);
  add_env(pod.spec.containers);
  return pod;
}

const JobCondition* FindJobCondition(const Job& job, const std::string& type) {
  for (const auto& condition : job.status.conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

bool IsJobFinished(const Job& job) {
  return ConditionTrue(job, "Complete") || ConditionTrue(job, "Failed");
}

std::optional<JobBackoffRecord> JobBackoffStore::Get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void JobBackoffStore::Set(const std::string& key, JobBackoffRecord record) {
  std::lock_guard lock(mutex_);
  records_[key] = record;
}

void JobBackoffStore::Remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  records_.erase(key);
}

Clock::Duration JobBackoffRemaining(const JobBackoffRecord& record, Clock::TimePoint now) {
  if (record.failures_after_last_success <= 0) return Clock::Duration::zero();
  Clock::Duration delay = kJobDefaultBackoff;
  for (int i = 1; i < record.failures_after_last_success && delay < kJobMaxBackoff; ++i)
    delay *= 2;
  delay = std::min<Clock::Duration>(delay, kJobMaxBackoff);
  const auto remaining = record.last_failure + delay - now;
  return remaining > Clock::Duration::zero() ? remaining : Clock::Duration::zero();
}

JobSyncResult JobSyncer::Sync(const std::string& key, const Job* cached) {
  JobSyncResult result;
  if (cached == nullptr) {
    expectations_.Delete(key);
    backoff_.Remove(key);
    Forget(key);
    return result;
  }
  {
    std::lock_guard lock(mutex_);
    auto it = overwritten_versions_.find(key);
    if (it != overwritten_versions_.end() && it->second == cached->metadata.resource_version) {
      return result;  // the job's update event brings the next sync
    }
  }
  const auto now_point = clock_.Now();
  const api::Time now = TimeOf(now_point);
  const auto object_ref = ReferenceOf("batch/v1", "Job", cached->metadata);
  std::vector<std::shared_ptr<const Pod>> pods;
  for (const auto& pod : pods_.List(cached->metadata.namespace_)) {
    const auto* ref = ControllerRefOf(pod->metadata);
    if (ref != nullptr && ref->uid == cached->metadata.uid) pods.push_back(pod);
  }
  if (IsJobFinished(*cached)) {
    // Pods still holding the finalizer (e.g. one that finished after the job did) are let go.
    backoff_.Remove(key);
    for (const auto& pod : pods) {
      if (HasFinalizer(*pod) && (PodFinished(*pod) || pod->metadata.deletion_timestamp)) {
        if (auto removed = client_.RemovePodFinalizer(*pod, kJobTrackingFinalizer); !removed.ok()) {
          result.status = removed;
        }
      }
    }
    return result;
  }
  if (!expectations_.Satisfied(key)) return result;

  Job job = *cached;
  const bool indexed = job.spec.completion_mode.value_or("NonIndexed") == "Indexed";
  const int completions = job.spec.completions.value_or(-1);
  const int parallelism = job.spec.parallelism.value_or(1);
  const int backoff_limit = job.spec.backoff_limit.value_or(6);
  auto& uncounted = job.status.uncounted_terminated_pods;
  if (!uncounted) uncounted.emplace();
  std::set<std::string> uncounted_succeeded(uncounted->succeeded.begin(),
                                            uncounted->succeeded.end());
  std::set<std::string> uncounted_failed(uncounted->failed.begin(), uncounted->failed.end());
  std::set<int> completed_indexes =
      indexed ? ParseIndexes(job.status.completed_indexes, std::max(completions, 0))
              : std::set<int>{};

  std::vector<std::shared_ptr<const Pod>> active;
  std::vector<std::shared_ptr<const Pod>> terminating_pods;
  int ready = 0, terminating = 0;
  for (const auto& pod : pods) {
    if (PodTerminating(*pod)) {
      ++terminating;
      terminating_pods.push_back(pod);
    }
    if (PodFinished(*pod) || pod->metadata.deletion_timestamp) continue;
    active.push_back(pod);
    ready += IsPodReady(*pod);
  }

  // The finished condition this sync works towards, from before or found now.
  std::optional<std::pair<std::string, std::string>> failure;  // reason, message
  bool success = false;
  if (const auto* target = FindJobCondition(job, "FailureTarget");
      target && target->status == "True") {
    failure.emplace(target->reason, target->message);
  }
  std::pair<std::string, std::string> success_reason = {
      "CompletionsReached", "Reached expected number of succeeded pods"};
  if (const auto* met = FindJobCondition(job, "SuccessCriteriaMet"); met && met->status == "True") {
    success = true;
    success_reason = {met->reason, met->message};
  }
  // podReplacementPolicy Failed: a terminating pod is replaced only once it is gone.
  const bool replace_only_failed = job.spec.pod_replacement_policy.value_or("") == "Failed";

  // backoffLimitPerIndex: each index retries on its own; its pods carry the failures so far.
  const bool per_index = indexed && job.spec.backoff_limit_per_index.has_value();
  std::set<int> failed_indexes =
      per_index ? ParseIndexes(job.status.failed_indexes.value_or(""), completions)
                : std::set<int>{};
  struct IndexFailures {
    int count = 0;  // failures of the index so far: the next pod's annotation
    int64_t last_finished = 0;
  };
  std::map<int, IndexFailures> index_failures;
  auto failure_count_of = [](const Pod& pod) {
    auto it = pod.metadata.annotations.find(kIndexFailureCountAnnotation);
    int count = 0;
    if (it != pod.metadata.annotations.end()) {
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), count);
    }
    return count;
  };
  if (per_index) {
    for (const auto& pod : pods) {
      const int index = CompletionIndexOf(*pod);
      if (!PodFailed(*pod) || index < 0 || index >= completions) continue;
      std::string ignored_message;
      const int rule = MatchPodFailurePolicy(job, *pod, ignored_message);
      const std::string action = rule >= 0 ? job.spec.pod_failure_policy->rules[rule].action : "";
      if (action == "Ignore") continue;
      auto& entry = index_failures[index];
      entry.count = std::max(entry.count, failure_count_of(*pod) + 1);
      for (const auto& status : pod->status.container_statuses) {
        if (status.state.terminated) {
          entry.last_finished =
              std::max(entry.last_finished, status.state.terminated->finished_at.unix_seconds);
        }
      }
      if (action == "FailIndex" || failure_count_of(*pod) >= *job.spec.backoff_limit_per_index) {
        failed_indexes.insert(index);
      }
    }
  }

  // Finished pods still holding the finalizer: what they count as, and the policy's verdict.
  struct Release {
    std::shared_ptr<const Pod> pod;
    enum { kNone, kSucceeded, kFailed } outcome = kNone;
  };
  std::vector<Release> releases;
  int new_succeeded = 0, new_failed = 0;
  for (const auto& pod : pods) {
    if (!HasFinalizer(*pod) || RemovalExpected(key, pod->metadata.uid)) continue;
    const std::string& uid = pod->metadata.uid;
    if (uncounted_succeeded.count(uid) || uncounted_failed.count(uid)) {
      releases.push_back({pod, Release::kNone});
      continue;
    }
    const bool pending_failure = failure.has_value() && !success;
    if (PodSucceeded(*pod)) {
      const int index = CompletionIndexOf(*pod);
      if (indexed && (index < 0 || index >= completions || completed_indexes.count(index))) {
        releases.push_back({pod, Release::kNone});
        continue;
      }
      releases.push_back({pod, Release::kSucceeded});
      ++new_succeeded;
      if (indexed) completed_indexes.insert(index);
    } else if (PodFailed(*pod) || (pod->metadata.deletion_timestamp && pending_failure)) {
      std::string message;
      const int rule = PodFailed(*pod) ? MatchPodFailurePolicy(job, *pod, message) : -1;
      const std::string action = rule >= 0 ? job.spec.pod_failure_policy->rules[rule].action : "";
      if (action == "Ignore") {
        releases.push_back({pod, Release::kNone});
        continue;
      }
      if (action == "FailJob" && !failure) failure.emplace("PodFailurePolicy", message);
      releases.push_back({pod, Release::kFailed});
      ++new_failed;
    } else if (pod->metadata.deletion_timestamp) {
      releases.push_back({pod, Release::kNone});
    }
  }
  const int succeeded_total =
      job.status.succeeded + static_cast<int>(uncounted_succeeded.size()) + new_succeeded;
  const int failed_total =
      job.status.failed + static_cast<int>(uncounted_failed.size()) + new_failed;
  if (new_failed > 0 || new_succeeded > 0) {
    JobBackoffRecord record = backoff_.Get(key).value_or(JobBackoffRecord{});
    if (new_succeeded > 0) record.failures_after_last_success = 0;
    record.failures_after_last_success += new_failed;
    if (new_failed > 0) record.last_failure = now_point;
    backoff_.Set(key, record);
  }

  const bool suspended = job.spec.suspend.value_or(false);
  if (!failure && !success) {
    if (failed_total > backoff_limit) {
      failure.emplace("BackoffLimitExceeded", "Job has reached the specified backoff limit");
    } else if (per_index && job.spec.max_failed_indexes &&
               static_cast<int>(failed_indexes.size()) > *job.spec.max_failed_indexes) {
      failure.emplace("MaxFailedIndexesExceeded",
                      "Job has exceeded the specified maximal number of failed indexes");
    } else if (per_index && !failed_indexes.empty() &&
               static_cast<int>(completed_indexes.size() + failed_indexes.size()) >= completions) {
      failure.emplace("FailedIndexes", "Job has failed indexes");
    } else if (job.spec.active_deadline_seconds && job.status.start_time && !suspended &&
               now.unix_seconds - job.status.start_time->unix_seconds >=
                   *job.spec.active_deadline_seconds) {
      failure.emplace("DeadlineExceeded", "Job was active longer than specified deadline");
    } else if (indexed) {
      success = completions >= 0 && static_cast<int>(completed_indexes.size()) >= completions;
      if (!success && job.spec.success_policy && !completed_indexes.empty()) {
        const auto& rules = job.spec.success_policy->rules;
        for (size_t i = 0; i < rules.size() && !success; ++i) {
          const auto& rule = rules[i];
          if (rule.succeeded_indexes) {
            const auto required = ParseIndexes(*rule.succeeded_indexes, completions);
            if (required.empty()) continue;
            int done = 0;
            for (int index : required)
              done += completed_indexes.count(index) > 0;
            success = rule.succeeded_count ? done >= *rule.succeeded_count
                                           : done == static_cast<int>(required.size());
          } else if (rule.succeeded_count) {
            success = static_cast<int>(completed_indexes.size()) >= *rule.succeeded_count;
          }
          if (success)
            success_reason = {"SuccessPolicy", fmt::format("Matched rules at index {}", i)};
        }
      }
    } else if (completions >= 0) {
      success = succeeded_total >= completions;
    } else {
      success = succeeded_total > 0 && active.empty();
    }
  }
  if (failure) {
    SetCondition(job, "FailureTarget", "True", failure->first, failure->second, now);
  } else if (success) {
    SetCondition(job, "SuccessCriteriaMet", "True", success_reason.first, success_reason.second,
                 now);
  }

  // Suspend and resume.
  if (!failure && !success) {
    const auto* suspended_condition = FindJobCondition(job, "Suspended");
    if (suspended) {
      if (SetCondition(job, "Suspended", "True", "JobSuspended", "Job suspended", now)) {
        events_.Event(object_ref, "Normal", "Suspended", "Job suspended");
      }
      job.status.start_time.reset();
    } else {
      if (suspended_condition && suspended_condition->status == "True") {
        SetCondition(job, "Suspended", "False", "JobResumed", "Job resumed", now);
        events_.Event(object_ref, "Normal", "Resumed", "Job resumed");
        job.status.start_time = now;
      }
      if (!job.status.start_time) job.status.start_time = now;
      if (job.spec.active_deadline_seconds) {
        const int64_t left = job.status.start_time->unix_seconds +
                             *job.spec.active_deadline_seconds - now.unix_seconds;
        result.requeue_after = std::chrono::seconds(std::max<int64_t>(left, 0) + 1);
      }
    }
  }

  // Pods to delete: all when finishing or suspended; else the extras over what is wanted.
  std::vector<std::shared_ptr<const Pod>> to_delete;
  int want_active = 0;
  std::vector<int> to_create;  // indexes; -1 for NonIndexed
  if (failure || success || suspended) {
    to_delete = active;
  } else if (indexed) {
    std::set<int> running;
    std::vector<std::shared_ptr<const Pod>> keep;
    // Indexes whose pod is still terminating wait for it under podReplacementPolicy Failed.
    std::set<int> held;
    if (replace_only_failed) {
      for (const auto& pod : terminating_pods)
        held.insert(CompletionIndexOf(*pod));
    }
    for (const auto& pod : active) {
      const int index = CompletionIndexOf(*pod);
      if (index < 0 || index >= completions || completed_indexes.count(index) ||
          failed_indexes.count(index) || running.count(index)) {
        to_delete.push_back(pod);
      } else {
        running.insert(index);
        keep.push_back(pod);
      }
    }
    want_active = std::min(parallelism, completions - static_cast<int>(completed_indexes.size() +
                                                                       failed_indexes.size()));
    if (static_cast<int>(keep.size()) > want_active) {
      std::sort(keep.begin(), keep.end(), [](const auto& a, const auto& b) {
        return CompletionIndexOf(*a) > CompletionIndexOf(*b);
      });
      to_delete.insert(to_delete.end(), keep.begin(), keep.begin() + (keep.size() - want_active));
    } else {
      for (int index = 0;
           index < completions && static_cast<int>(keep.size() + to_create.size()) < want_active;
           ++index) {
        if (completed_indexes.count(index) || running.count(index) || held.count(index) ||
            failed_indexes.count(index)) {
          continue;
        }
        if (auto it = index_failures.find(index); it != index_failures.end()) {
          // The index's own back-off, from its last failure.
          const auto remaining = JobBackoffRemaining(
              {it->second.count, Clock::TimePoint(std::chrono::seconds(it->second.last_finished))},
              now_point);
          if (remaining > Clock::Duration::zero()) {
            if (!result.requeue_after || remaining < *result.requeue_after) {
              result.requeue_after = remaining;
            }
            continue;
          }
        }
        to_create.push_back(index);
      }
    }
  } else {
    if (completions < 0) {
      want_active = succeeded_total > 0 ? static_cast<int>(active.size()) : parallelism;
    } else {
      want_active = std::max(0, std::min(parallelism, completions - succeeded_total));
    }
    const int have = static_cast<int>(active.size());
    const int held = replace_only_failed ? static_cast<int>(terminating_pods.size()) : 0;
    if (have > want_active) {
      auto ranked = active;
      SortPodsForDeletion(ranked, now_point);
      to_delete.assign(ranked.begin(), ranked.begin() + (have - want_active));
    } else if (have + held < want_active) {
      to_create.assign(static_cast<size_t>(std::min(want_active - have - held, kJobBurst)), -1);
    }
  }
  if (!to_create.empty() && !per_index) {
    if (auto record = backoff_.Get(key)) {
      const auto remaining = JobBackoffRemaining(*record, now_point);
      if (remaining > Clock::Duration::zero()) {
        to_create.clear();
        if (!result.requeue_after || remaining < *result.requeue_after) {
          result.requeue_after = remaining;
        }
      }
    }
  }
  if (to_create.size() > static_cast<size_t>(kJobBurst)) to_create.resize(kJobBurst);

  std::optional<Error> manage_error;
  if (!to_delete.empty()) {
    std::set<std::string> keys;
    for (const auto& pod : to_delete)
      keys.insert(KeyOf(pod->metadata));
    expectations_.Expect(key, 0, keys);
    for (const auto& pod : to_delete) {
      auto deleted = client_.DeletePod(pod->metadata.namespace_, pod->metadata.name);
      if (!deleted.ok() && deleted.error().code() != ErrorCode::kNotFound) {
        expectations_.DeletionObserved(key, KeyOf(pod->metadata));
        if (!manage_error) manage_error = deleted.error();
        continue;
      }
      events_.Event(object_ref, "Normal", "SuccessfulDelete", "Deleted pod: " + pod->metadata.name);
    }
  }
  int created = 0;
  if (!to_create.empty()) {
    expectations_.Expect(key, static_cast<int>(to_create.size()));
    std::atomic<size_t> next{0};
    auto batch = SlowStartBatch(static_cast<int>(to_create.size()), 1, [&]() -> Status {
      const int index = to_create[next++];
      Pod pod = JobPodFromTemplate(job, indexed ? index : -1);
      if (per_index) {
        auto it = index_failures.find(index);
        pod.metadata.annotations[kIndexFailureCountAnnotation] =
            std::to_string(it == index_failures.end() ? 0 : it->second.count);
      }
      auto made = client_.CreatePod(pod);
      if (!made.ok()) {
        events_.Event(object_ref, "Warning", "FailedCreate",
                      "Error creating: " + made.error().message());
        return std::move(made).error();
      }
      events_.Event(object_ref, "Normal", "SuccessfulCreate",
                    "Created pod: " + made->metadata.name);
      return Ok();
    });
    created = batch.successes;
    // Creations that were never made will never be observed.
    expectations_.CreationObserved(key, static_cast<int>(to_create.size()) - batch.successes);
    if (batch.error && !manage_error) manage_error = batch.error;
  }

  // Status, step 1: record the pods about to be released as uncounted, so that a crash between
  // removing their finalizers and counting them loses nothing.
  job.status.active = static_cast<int32_t>(active.size() - to_delete.size()) + created;
  job.status.ready = ready;
  job.status.terminating = terminating + static_cast<int>(to_delete.size());
  if (per_index) job.status.failed_indexes = FormatIndexes(failed_indexes);
  bool flush = false;
  for (const auto& release : releases) {
    if (release.outcome == Release::kSucceeded) {
      uncounted->succeeded.push_back(release.pod->metadata.uid);
      flush = true;
    } else if (release.outcome == Release::kFailed) {
      uncounted->failed.push_back(release.pod->metadata.uid);
      flush = true;
    }
  }
  auto write = [&]() -> Status {
    if (job.status == cached->status &&
        job.metadata.resource_version == cached->metadata.resource_version) {
      return Ok();
    }
    auto written = client_.UpdateJobStatus(job);
    if (!written.ok()) return std::move(written).error();
    {
      std::lock_guard lock(mutex_);
      overwritten_versions_[key] = cached->metadata.resource_version;
    }
    job.metadata.resource_version = written->metadata.resource_version;
    return Ok();
  };
  if (flush || job.status != cached->status) {
    if (auto status = write(); !status.ok()) {
      result.status = status;
      return result;
    }
  }

  // Step 2: release the pods, then count them.
  std::set<std::string> released;
  for (const auto& release : releases) {
    auto removed = client_.RemovePodFinalizer(*release.pod, kJobTrackingFinalizer);
    if (!removed.ok()) {
      if (!manage_error) manage_error = removed.error();
      continue;
    }
    released.insert(release.pod->metadata.uid);
    std::lock_guard lock(mutex_);
    expected_removals_[key].insert(release.pod->metadata.uid);
  }
  std::map<std::string, std::shared_ptr<const Pod>> by_uid;
  for (const auto& pod : pods)
    by_uid[pod->metadata.uid] = pod;
  auto countable = [&](const std::string& uid) {
    auto it = by_uid.find(uid);
    return it == by_uid.end() || !HasFinalizer(*it->second) || released.count(uid) ||
           RemovalExpected(key, uid);
  };
  auto move_counted = [&](std::vector<std::string>& list, int32_t& counter, bool succeeded) {
    std::vector<std::string> left;
    for (const auto& uid : list) {
      if (!countable(uid)) {
        left.push_back(uid);
        continue;
      }
      ++counter;
      if (succeeded && indexed) {
        auto it = by_uid.find(uid);
        const int index = it == by_uid.end() ? -1 : CompletionIndexOf(*it->second);
        if (index >= 0 && index < completions) {
          auto done = ParseIndexes(job.status.completed_indexes, completions);
          done.insert(index);
          job.status.completed_indexes = FormatIndexes(done);
        }
      }
    }
    list = std::move(left);
  };
  move_counted(uncounted->succeeded, job.status.succeeded, true);
  move_counted(uncounted->failed, job.status.failed, false);

  // Step 3: the terminal condition, once every pod is counted and none is left terminating.
  bool finished_now = false;
  if ((failure || success) && uncounted->succeeded.empty() && uncounted->failed.empty() &&
      job.status.terminating.value_or(0) == 0 && job.status.active == 0) {
    if (failure) {
      SetCondition(job, "Failed", "True", failure->first, failure->second, now);
    } else {
      SetCondition(job, "Complete", "True", success_reason.first, success_reason.second, now);
      job.status.completion_time = now;
    }
    finished_now = true;
  }
  if (auto status = write(); !status.ok()) {
    result.status = status;
    return result;
  }
  if (finished_now) {
    if (failure) {
      events_.Event(object_ref, "Warning", failure->first, failure->second);
    } else {
      events_.Event(object_ref, "Normal", "Completed", "Job completed");
    }
    backoff_.Remove(key);
  }
  if (manage_error) result.status = *manage_error;
  return result;
}

bool JobSyncer::RemovalExpected(const std::string& key, const std::string& uid) const {
  std::lock_guard lock(mutex_);
  auto it = expected_removals_.find(key);
  return it != expected_removals_.end() && it->second.count(uid) > 0;
}

void JobSyncer::FinalizerRemovalObserved(const std::string& key, const std::string& uid) {
  std::lock_guard lock(mutex_);
  auto it = expected_removals_.find(key);
  if (it == expected_removals_.end()) return;
  it->second.erase(uid);
  if (it->second.empty()) expected_removals_.erase(it);
}

void JobSyncer::Forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  expected_removals_.erase(key);
  overwritten_versions_.erase(key);
}

JobController::JobController(client::informers::SharedInformerFactory& factory, BatchClient& client,
                             EventSink& events, JobControllerOptions options, Clock& clock)
    : jobs_informer_(factory.InformerFor<Job>()),
      pods_informer_(factory.InformerFor<Pod>()),
      pods_(pods_informer_),
      client_(client),
      options_(options),
      expectations_(clock),
      syncer_(pods_, client, events, expectations_, backoff_, clock),
      workers_(queue_,
               [this](const std::string& key) -> KeySyncResult {
                 if (key.rfind(kOrphanPodPrefix, 0) == 0) {
                   return ReleaseOrphan(key.substr(sizeof(kOrphanPodPrefix) - 1));
                 }
                 const auto [ns, name] = SplitKey(key);
                 auto job = client::informers::Lister<Job>(jobs_informer_).Get(ns, name);
                 return syncer_.Sync(key, job.get());
               },
               {.what = "syncing job", .requeue_after_failure = true}) {
  auto enqueue = [this](const api::meta::v1::ObjectMeta& metadata) { queue_.Add(KeyOf(metadata)); };
  jobs_informer_.AddEventHandler(
      {.on_add = [enqueue](const ObjectRef& object, bool) { enqueue(object->metadata()); },
       .on_update = [enqueue](const ObjectRef&,
                              const ObjectRef& object) { enqueue(object->metadata()); },
       .on_delete =
           [this, enqueue](const DeletedObject& deleted) {
             if (deleted.object) {
               expectations_.Delete(KeyOf(deleted.object->metadata()));
               enqueue(deleted.object->metadata());
             }
           }});
  pods_informer_.AddEventHandler({.on_add =
                                      [this](const ObjectRef& object, bool) {
                                        if (auto pod = client::informers::As<Pod>(object))
                                          OnPod(*pod, true, false);
                                      },
                                  .on_update =
                                      [this](const ObjectRef&, const ObjectRef& object) {
                                        if (auto pod = client::informers::As<Pod>(object))
                                          OnPod(*pod, false, false);
                                      },
                                  .on_delete =
                                      [this](const DeletedObject& deleted) {
                                        if (auto pod = client::informers::As<Pod>(deleted.object))
                                          OnPod(*pod, false, true);
                                      }});
}

JobController::~JobController() {
  Stop();
}

void JobController::OnPod(const Pod& pod, bool added, bool deleted) {
  const auto* ref = ControllerRefOf(pod.metadata);
  if (ref == nullptr || ref->kind != "Job") return;
  client::informers::Lister<Job> jobs(jobs_informer_);
  auto job = jobs.Get(pod.metadata.namespace_, ref->name);
  if (!job || job->metadata.uid != ref->uid) {
    if (!deleted && HasFinalizer(pod)) queue_.Add(kOrphanPodPrefix + KeyOf(pod.metadata));
    return;
  }
  const std::string key = KeyOf(job->metadata);
  // First sight of a pod is its creation; a deletion (or the start of one) is its deletion.
  if (deleted || pod.metadata.deletion_timestamp) {
    expectations_.DeletionObserved(key, KeyOf(pod.metadata));
  }
  if (added) expectations_.CreationObserved(key);
  if (deleted || !HasFinalizer(pod)) syncer_.FinalizerRemovalObserved(key, pod.metadata.uid);
  queue_.Add(key);
}

Status JobController::ReleaseOrphan(const std::string& pod_key) {
  const auto [ns, name] = SplitKey(pod_key);
  auto pod = pods_.Get(ns, name);
  if (!pod || !HasFinalizer(*pod)) return Ok();
  const auto* ref = ControllerRefOf(pod->metadata);
  if (ref != nullptr) {
    auto job = client::informers::Lister<Job>(jobs_informer_).Get(ns, ref->name);
    if (job && job->metadata.uid == ref->uid) return Ok();
  }
  return client_.RemovePodFinalizer(*pod, kJobTrackingFinalizer);
}

void JobController::Run() {
  workers_.Start(options_.workers);
}

void JobController::Stop() {
  workers_.Stop();
}

}  // namespace kpp::controllers
