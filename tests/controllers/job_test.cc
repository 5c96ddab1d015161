// The Job sync with fake pods, client, events and clock: pod creation (NonIndexed and Indexed),
// finalizer tracking through uncountedTerminatedPods, completion, backoffLimit, back-off,
// activeDeadlineSeconds, podFailurePolicy and suspend.
#include "controllers/job/job.h"

#include <gtest/gtest.h>

#include <limits>

#include "batch_fakes.h"
#include "fakes.h"

namespace kpp::controllers {
namespace {

using testing::FakeBatchClient;
using testing::FakeEvents;
using testing::FakeLister;

constexpr int64_t kNow = 1'800'000'000;

Job MakeJob(int32_t completions, int32_t parallelism, bool indexed = false) {
  Job job;
  job.metadata.name = "pi";
  job.metadata.namespace_ = "default";
  job.metadata.uid = "job-uid";
  job.metadata.resource_version = "10";
  job.spec.completions = completions;
  job.spec.parallelism = parallelism;
  job.spec.backoff_limit = 6;
  job.spec.completion_mode = indexed ? "Indexed" : "NonIndexed";
  job.spec.template_.metadata.labels = {{"batch.kubernetes.io/controller-uid", "job-uid"},
                                        {"batch.kubernetes.io/job-name", "pi"}};
  job.spec.template_.spec.restart_policy = "Never";
  api::core::v1::Container container;
  container.name = "main";
  container.image = "perl";
  job.spec.template_.spec.containers.push_back(container);
  job.status.start_time = api::Time::FromUnixSeconds(kNow - 5);
  return job;
}

Pod JobPod(const Job& job, const std::string& name, const std::string& phase, int index = -1,
           int exit_code = 0) {
  Pod pod = JobPodFromTemplate(job, index);
  pod.metadata.name = name;
  pod.metadata.uid = "uid-" + name;
  pod.status.phase = phase;
  if (phase == "Failed" || phase == "Succeeded") {
    api::core::v1::ContainerStatus status;
    status.name = "main";
    status.state.terminated.emplace().exit_code = exit_code;
    pod.status.container_statuses.push_back(status);
  }
  return pod;
}

struct Harness {
  FakeLister<Pod> pods;
  FakeBatchClient client;
  FakeEvents events;
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kNow))};
  Expectations expectations{clock};
  JobBackoffStore backoff;
  JobSyncer syncer{pods, client, events, expectations, backoff, clock};

  JobSyncResult Sync(const Job& job) { return syncer.Sync("default/pi", &job); }
  const Job& LastStatus() { return client.job_statuses.back(); }
  bool HasEvent(const std::string& reason, const std::string& message) {
    for (const auto& event : events.events) {
      if (event.reason == reason && event.message == message) return true;
    }
    return false;
  }
  const api::batch::v1::JobCondition* Condition(const std::string& type) {
    return FindJobCondition(LastStatus(), type);
  }
};

TEST(JobSyncTest, CreatesParallelismPodsWithTrackingFinalizerAndLabels) {
  Harness h;
  auto job = MakeJob(3, 2);
  job.status.start_time.reset();
  ASSERT_TRUE(h.Sync(job).status.ok());
  ASSERT_EQ(h.client.created_pods.size(), 2u);
  const Pod& pod = h.client.created_pods[0];
  EXPECT_EQ(pod.metadata.generate_name, "pi-");
  EXPECT_EQ(pod.metadata.finalizers, std::vector<std::string>{"batch.kubernetes.io/job-tracking"});
  EXPECT_EQ(pod.metadata.labels.at("batch.kubernetes.io/job-name"), "pi");
  ASSERT_EQ(pod.metadata.owner_references.size(), 1u);
  EXPECT_EQ(pod.metadata.owner_references[0].kind, "Job");
  EXPECT_TRUE(pod.metadata.owner_references[0].controller.value_or(false));
  EXPECT_TRUE(h.HasEvent("SuccessfulCreate", "Created pod: pi-00000"));
  EXPECT_EQ(h.LastStatus().status.active, 2);
  ASSERT_TRUE(h.LastStatus().status.start_time.has_value());
  EXPECT_EQ(h.LastStatus().status.start_time->unix_seconds, kNow);
}

TEST(JobSyncTest, IndexedPodsGetIndexHostnameAndEnv) {
  Harness h;
  auto job = MakeJob(4, 2, /*indexed=*/true);
  job.status.completed_indexes = "0";
  h.pods.Add(JobPod(job, "pi-1-abc", "Running", 1));
  ASSERT_TRUE(h.Sync(job).status.ok());
  // Index 0 is done and 1 runs: index 2 is next (parallelism 2).
  ASSERT_EQ(h.client.created_pods.size(), 1u);
  const Pod& pod = h.client.created_pods[0];
  EXPECT_EQ(pod.metadata.generate_name, "pi-2-");
  EXPECT_EQ(pod.metadata.annotations.at("batch.kubernetes.io/job-completion-index"), "2");
  EXPECT_EQ(pod.metadata.labels.at("batch.kubernetes.io/job-completion-index"), "2");
  EXPECT_EQ(pod.spec.hostname, "pi-2");
  ASSERT_EQ(pod.spec.containers[0].env.size(), 1u);
  EXPECT_EQ(pod.spec.containers[0].env[0].name, "JOB_COMPLETION_INDEX");
  EXPECT_EQ(pod.spec.containers[0].env[0].value_from->field_ref->field_path,
            "metadata.annotations['batch.kubernetes.io/job-completion-index']");
}

TEST(JobSyncTest, FinishedPodsAreRecordedUncountedThenCountedAndTheJobCompletes) {
  Harness h;
  auto job = MakeJob(2, 2);
  job.status.succeeded = 1;
  h.pods.Add(JobPod(job, "pi-b", "Succeeded"));
  ASSERT_TRUE(h.Sync(job).status.ok());
  // First write: the pod's uid uncounted; then the finalizer goes; then it is counted.
  ASSERT_EQ(h.client.job_statuses.size(), 2u);
  EXPECT_EQ(h.client.job_statuses[0].status.uncounted_terminated_pods->succeeded,
            std::vector<std::string>{"uid-pi-b"});
  EXPECT_EQ(h.client.actions[1], "remove finalizer batch.kubernetes.io/job-tracking pi-b");
  const auto& status = h.LastStatus().status;
  EXPECT_EQ(status.succeeded, 2);
  EXPECT_TRUE(status.uncounted_terminated_pods->succeeded.empty());
  ASSERT_NE(h.Condition("SuccessCriteriaMet"), nullptr);
  ASSERT_NE(h.Condition("Complete"), nullptr);
  EXPECT_EQ(h.Condition("Complete")->reason, "CompletionsReached");
  EXPECT_EQ(h.Condition("Complete")->message, "Reached expected number of succeeded pods");
  ASSERT_TRUE(status.completion_time.has_value());
  EXPECT_TRUE(h.HasEvent("Completed", "Job completed"));
  EXPECT_EQ(h.client.Count("create pod"), 0);
}

TEST(JobSyncTest, IndexedCompletionTracksCompletedIndexes) {
  Harness h;
  auto job = MakeJob(3, 3, /*indexed=*/true);
  job.status.completed_indexes = "0";
  job.status.succeeded = 1;
  h.pods.Add(JobPod(job, "pi-1-a", "Succeeded", 1));
  h.pods.Add(JobPod(job, "pi-2-a", "Succeeded", 2));
  ASSERT_TRUE(h.Sync(job).status.ok());
  EXPECT_EQ(h.LastStatus().status.completed_indexes, "0-2");
  EXPECT_EQ(h.LastStatus().status.succeeded, 3);
  EXPECT_NE(h.Condition("Complete"), nullptr);
}

TEST(JobSyncTest, FailuresBackOffThenExceedTheLimit) {
  {
    Harness h;
    auto job = MakeJob(1, 1);
    h.pods.Add(JobPod(job, "pi-a", "Failed", -1, 1));
    auto result = h.Sync(job);
    ASSERT_TRUE(result.status.ok());
    EXPECT_EQ(h.client.Count("create pod"), 0) << "a new pod waits out the back-off";
    ASSERT_TRUE(result.requeue_after.has_value());
    EXPECT_EQ(*result.requeue_after, std::chrono::seconds(10));
    EXPECT_EQ(h.LastStatus().status.failed, 1);
    EXPECT_EQ(h.Condition("Failed"), nullptr);
  }
  {
    Harness h;
    auto job = MakeJob(1, 1);
    job.spec.backoff_limit = 1;
    job.status.failed = 1;
    h.pods.Add(JobPod(job, "pi-b", "Failed", -1, 1));
    ASSERT_TRUE(h.Sync(job).status.ok());
    ASSERT_NE(h.Condition("FailureTarget"), nullptr);
    ASSERT_NE(h.Condition("Failed"), nullptr);
    EXPECT_EQ(h.Condition("Failed")->reason, "BackoffLimitExceeded");
    EXPECT_EQ(h.Condition("Failed")->message, "Job has reached the specified backoff limit");
    EXPECT_EQ(h.LastStatus().status.failed, 2);
    EXPECT_FALSE(h.LastStatus().status.completion_time.has_value());
    EXPECT_TRUE(h.HasEvent("BackoffLimitExceeded", "Job has reached the specified backoff limit"));
  }
}

TEST(JobSyncTest, BackoffDoublesUpToSixMinutes) {
  const auto at = Clock::TimePoint(std::chrono::seconds(kNow));
  struct Case {
    int failures;
    std::chrono::seconds want;
  };
  for (const auto& c : {Case{0, std::chrono::seconds(0)}, Case{1, std::chrono::seconds(10)},
                        Case{2, std::chrono::seconds(20)}, Case{3, std::chrono::seconds(40)},
                        Case{6, std::chrono::seconds(320)}, Case{7, std::chrono::seconds(360)},
                        Case{30, std::chrono::seconds(360)}}) {
    EXPECT_EQ(JobBackoffRemaining({c.failures, at}, at), c.want) << c.failures;
  }
  EXPECT_EQ(JobBackoffRemaining({1, at}, at + std::chrono::seconds(4)), std::chrono::seconds(6));
}

TEST(JobSyncTest, DeadlineExceededDeletesActivePodsAndFailsWhenTheyAreGone) {
  Harness h;
  auto job = MakeJob(1, 1);
  job.spec.active_deadline_seconds = 10;
  job.status.start_time = api::Time::FromUnixSeconds(kNow - 100);
  h.pods.Add(JobPod(job, "pi-a", "Running"));
  ASSERT_TRUE(h.Sync(job).status.ok());
  EXPECT_EQ(h.client.Count("delete pod default/pi-a"), 1);
  ASSERT_NE(h.Condition("FailureTarget"), nullptr);
  EXPECT_EQ(h.Condition("FailureTarget")->reason, "DeadlineExceeded");
  EXPECT_EQ(h.Condition("FailureTarget")->message, "Job was active longer than specified deadline");
  EXPECT_EQ(h.Condition("Failed"), nullptr) << "a pod is still terminating";
  EXPECT_EQ(h.LastStatus().status.terminating, 1);

  // Next sync: the pod is gone; the job fails.
  Harness next;
  Job later = h.LastStatus();
  ASSERT_TRUE(next.Sync(later).status.ok());
  ASSERT_NE(next.Condition("Failed"), nullptr);
  EXPECT_EQ(next.Condition("Failed")->reason, "DeadlineExceeded");
  EXPECT_TRUE(next.HasEvent("DeadlineExceeded", "Job was active longer than specified deadline"));
}

TEST(JobSyncTest, PodFailurePolicyRules) {
  struct Case {
    std::string name;
    std::string action;
    int exit_code;
    bool want_failed_condition;
    int want_failed_count;
  };
  const Case cases[] = {
      {"FailJob on exit code 42", "FailJob", 42, true, 1},
      {"Ignore does not count", "Ignore", 42, false, 0},
      {"Count counts", "Count", 42, false, 1},
      {"no rule matches", "FailJob", 3, false, 1},
  };
  for (const auto& c : cases) {
    Harness h;
    auto job = MakeJob(1, 1);
    api::batch::v1::PodFailurePolicyRule rule;
    rule.action = c.action;
    rule.on_exit_codes.emplace();
    rule.on_exit_codes->operator_ = "In";
    rule.on_exit_codes->values = std::vector<int32_t>{42};
    job.spec.pod_failure_policy.emplace().rules.push_back(rule);
    h.pods.Add(JobPod(job, "pi-a", "Failed", -1, c.exit_code));
    ASSERT_TRUE(h.Sync(job).status.ok()) << c.name;
    EXPECT_EQ(h.Condition("Failed") != nullptr, c.want_failed_condition) << c.name;
    EXPECT_EQ(h.LastStatus().status.failed, c.want_failed_count) << c.name;
    if (c.want_failed_condition) {
      EXPECT_EQ(h.Condition("Failed")->reason, "PodFailurePolicy");
      EXPECT_EQ(h.Condition("Failed")->message,
                "Container main for pod default/pi-a failed with exit code 42 matching FailJob "
                "rule at index 0");
    }
    if (c.action == "Ignore") {
      EXPECT_EQ(h.client.Count("create pod"), 1) << "an ignored failure is replaced at once";
    }
  }
}

TEST(JobSyncTest, SuspendDeletesPodsAndResetsStartTime) {
  Harness h;
  auto job = MakeJob(2, 2);
  job.spec.suspend = true;
  h.pods.Add(JobPod(job, "pi-a", "Running"));
  ASSERT_TRUE(h.Sync(job).status.ok());
  EXPECT_EQ(h.client.Count("delete pod"), 1);
  EXPECT_EQ(h.client.Count("create pod"), 0);
  ASSERT_NE(h.Condition("Suspended"), nullptr);
  EXPECT_EQ(h.Condition("Suspended")->status, "True");
  EXPECT_EQ(h.Condition("Suspended")->reason, "JobSuspended");
  EXPECT_FALSE(h.LastStatus().status.start_time.has_value());
  EXPECT_TRUE(h.HasEvent("Suspended", "Job suspended"));

  // Resumed: pods again, Suspended False, a new start time.
  Harness resumed;
  Job again = h.LastStatus();
  again.spec.suspend = false;
  ASSERT_TRUE(resumed.Sync(again).status.ok());
  EXPECT_EQ(resumed.client.Count("create pod"), 2);
  EXPECT_EQ(resumed.Condition("Suspended")->status, "False");
  EXPECT_EQ(resumed.Condition("Suspended")->reason, "JobResumed");
  EXPECT_TRUE(resumed.LastStatus().status.start_time.has_value());
  EXPECT_TRUE(resumed.HasEvent("Resumed", "Job resumed"));
}

TEST(JobSyncTest, SuccessPolicyCompletesAnIndexedJobEarly) {
  struct Case {
    std::string name;
    std::optional<std::string> indexes;
    std::optional<int32_t> count;
    bool want_success;
  };
  const Case cases[] = {
      {"all listed indexes done", "0-1", {}, true},
      {"a listed index missing", "0-2", {}, false},
      {"count of listed indexes", "0-4", 2, true},
      {"count alone", {}, 3, false},
  };
  for (const auto& c : cases) {
    Harness h;
    auto job = MakeJob(5, 2, /*indexed=*/true);
    job.status.completed_indexes = "0-1";
    job.status.succeeded = 2;
    api::batch::v1::SuccessPolicyRule rule;
    rule.succeeded_indexes = c.indexes;
    rule.succeeded_count = c.count;
    job.spec.success_policy.emplace().rules.push_back(rule);
    h.pods.Add(JobPod(job, "pi-2-a", "Running", 2));
    ASSERT_TRUE(h.Sync(job).status.ok()) << c.name;
    const auto* met = h.Condition("SuccessCriteriaMet");
    EXPECT_EQ(met != nullptr, c.want_success) << c.name;
    if (c.want_success) {
      EXPECT_EQ(met->reason, "SuccessPolicy");
      EXPECT_EQ(met->message, "Matched rules at index 0");
      EXPECT_EQ(h.client.Count("delete pod default/pi-2-a"), 1) << "the rest are stopped";
      EXPECT_EQ(h.client.Count("create pod"), 0);
      EXPECT_EQ(h.LastStatus().status.failed, 0);
    }
  }
}

TEST(JobSyncTest, ReplacementOfTerminatingPodsFollowsPodReplacementPolicy) {
  for (const std::string policy : {"TerminatingOrFailed", "Failed"}) {
    Harness h;
    auto job = MakeJob(2, 1);
    job.spec.pod_replacement_policy = policy;
    Pod leaving = JobPod(job, "pi-a", "Running");
    leaving.metadata.deletion_timestamp = api::Time::FromUnixSeconds(kNow);
    h.pods.Add(leaving);
    ASSERT_TRUE(h.Sync(job).status.ok()) << policy;
    EXPECT_EQ(h.client.Count("create pod"), policy == "Failed" ? 0 : 1) << policy;
    EXPECT_EQ(h.LastStatus().status.terminating, 1) << policy;
  }
}

TEST(JobSyncTest, BackoffLimitPerIndex) {
  struct Case {
    std::string name;
    int previous_failures;  // the failed pod's job-index-failure-count
    std::optional<int32_t> max_failed_indexes;
    std::string completed;
    bool fail_index_rule = false;
    std::string want_failed_indexes;
    std::string want_reason;  // FailureTarget; empty: none
    int want_created;
    std::string want_annotation;  // of the pod made for index 1
  };
  const Case cases[] = {
      {"retried with its count", 0, {}, "0", false, "", "", 2, "1"},
      {"index out of retries, others run", 1, {}, "0", false, "1", "", 1, ""},
      {"every index done or failed", 1, {}, "0,2", false, "1", "FailedIndexes", 0, ""},
      {"too many failed indexes", 1, 0, "0", false, "1", "MaxFailedIndexesExceeded", 0, ""},
      {"FailIndex rule", 0, {}, "0", true, "1", "", 1, ""},
  };
  for (const auto& c : cases) {
    Harness h;
    auto job = MakeJob(3, 3, /*indexed=*/true);
    job.spec.backoff_limit_per_index = 1;
    job.spec.backoff_limit = std::numeric_limits<int32_t>::max();
    job.spec.max_failed_indexes = c.max_failed_indexes;
    job.status.completed_indexes = c.completed;
    if (c.fail_index_rule) {
      api::batch::v1::PodFailurePolicyRule rule;
      rule.action = "FailIndex";
      rule.on_exit_codes.emplace();
      rule.on_exit_codes->operator_ = "In";
      rule.on_exit_codes->values = std::vector<int32_t>{42};
      job.spec.pod_failure_policy.emplace().rules.push_back(rule);
    }
    Pod failed = JobPod(job, "pi-1-a", "Failed", 1, 42);
    failed.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] =
        std::to_string(c.previous_failures);
    failed.status.container_statuses[0].state.terminated->finished_at =
        api::Time::FromUnixSeconds(kNow - 100);
    h.pods.Add(failed);
    ASSERT_TRUE(h.Sync(job).status.ok()) << c.name;
    EXPECT_EQ(h.LastStatus().status.failed_indexes.value_or(""), c.want_failed_indexes) << c.name;
    const auto* target = h.Condition("FailureTarget");
    EXPECT_EQ(target ? target->reason : "", c.want_reason) << c.name;
    EXPECT_EQ(static_cast<int>(h.client.created_pods.size()), c.want_created) << c.name;
    for (const auto& pod : h.client.created_pods) {
      if (CompletionIndexOf(pod) == 1) {
        EXPECT_EQ(pod.metadata.annotations.at("batch.kubernetes.io/job-index-failure-count"),
                  c.want_annotation)
            << c.name;
      }
    }
  }
}

TEST(JobSyncTest, FinishedJobOnlyReleasesPods) {
  Harness h;
  auto job = MakeJob(1, 1);
  job.status.conditions.push_back({"Complete", "True", {}, {}, "CompletionsReached", ""});
  h.pods.Add(JobPod(job, "pi-late", "Failed"));
  ASSERT_TRUE(h.Sync(job).status.ok());
  EXPECT_EQ(h.client.actions,
            std::vector<std::string>{"remove finalizer batch.kubernetes.io/job-tracking pi-late"});
}

TEST(JobSyncTest, CompletedIndexesFormat) {
  EXPECT_EQ(FormatIndexes({0, 1, 2, 4, 6, 7}), "0-2,4,6-7");
  EXPECT_EQ(ParseIndexes("0-2,4,6-7", 7), (std::set<int>{0, 1, 2, 4, 6}));
  EXPECT_EQ(FormatIndexes({}), "");
}

}  // namespace
}  // namespace kpp::controllers
