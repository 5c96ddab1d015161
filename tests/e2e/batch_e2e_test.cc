// Jobs and CronJobs end to end: `kpp server --disable-agent` with its controller manager and
// scheduler, `kpp hollow-nodes --pod-run-time 2s` running the pods the scheduler places, and the
// real kubectl.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

using testing::Eventually;

class BatchE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    KubectlE2ETest::SetUp();
    std::string error;
    ASSERT_TRUE(hollow_.Start(server_, 2, {"--pod-run-time", "2s", "--max-termination-grace", "1s"},
                              &error))
        << error;
    // Both nodes Ready before the first job, so its pod does not wait out a scheduling backoff.
    ASSERT_TRUE(hollow_.WaitReady(server_, 2)) << hollow_.Stderr();
  }

  boost::json::object Object(const std::vector<std::string>& args) {
    auto value = GetJson(args);
    return value.is_object() ? value.as_object() : boost::json::object();
  }

  std::string ConditionReason(const boost::json::object& job, const std::string& type) {
    const auto* status = job.if_contains("status");
    if (status == nullptr || !status->as_object().contains("conditions")) return "";
    for (const auto& condition : status->at("conditions").as_array()) {
      if (condition.at("type") == boost::json::string_view(type) &&
          condition.at("status") == "True") {
        return std::string(condition.at("reason").as_string());
      }
    }
    return "";
  }

  testing::HollowNodes hollow_;
};

TEST_F(BatchE2ETest, JobsCompleteFailAndExpire) {
  // `kubectl create job` runs one pod to completion.
  MustRun({"create", "job", "hello", "--image=busybox", "--", "echo", "hi"});
  auto waited = Kubectl({"wait", "--for=condition=complete", "job/hello", "--timeout=60s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err << Kubectl({"get", "job", "hello", "-o", "yaml"}).out
                                 << Kubectl({"get", "pods", "-o", "wide"}).out;
  auto hello = Object({"job", "hello"});
  EXPECT_EQ(hello["status"].at("succeeded"), 1);
  EXPECT_EQ(ConditionReason(hello, "SuccessCriteriaMet"), "CompletionsReached");
  EXPECT_TRUE(hello["status"].as_object().contains("completionTime"));
  const std::string uid(hello["metadata"].at("uid").as_string());
  EXPECT_EQ(hello["spec"].at("selector").at("matchLabels").at("batch.kubernetes.io/controller-uid"),
            boost::json::value(uid));
  auto pods = GetJson({"pods", "-l", "batch.kubernetes.io/job-name=hello"}).at("items").as_array();
  ASSERT_EQ(pods.size(), 1u);
  const auto& pod_metadata = pods[0].at("metadata").as_object();
  EXPECT_EQ(pod_metadata.at("labels").at("job-name"), "hello");
  EXPECT_EQ(pod_metadata.at("labels").at("controller-uid"), boost::json::value(uid));
  EXPECT_FALSE(pod_metadata.contains("finalizers")) << "the tracking finalizer is removed";
  EXPECT_EQ(pods[0].at("status").at("phase"), "Succeeded");
  EXPECT_TRUE(Eventually([&] {
    auto events = Kubectl({"get", "events", "--field-selector", "involvedObject.name=hello"}).out;
    return events.find("Created pod: hello-") != std::string::npos &&
           events.find("Job completed") != std::string::npos;
  })) << Kubectl({"get", "events"}).out;

  // The oldest supported kubectl too.
  MustRun({"create", "job", "hello-old", "--image=busybox"}, "1.27");
  auto old_wait =
      Kubectl({"wait", "--for=condition=complete", "job/hello-old", "--timeout=60s"}, "1.27");
  EXPECT_EQ(old_wait.exit_code, 0) << old_wait.err;

  // An Indexed job, three completions two at a time, deleted 3 s after it finishes.
  MustRun({"apply", "-f", server_.WriteFile("indexed.yaml", R"(apiVersion: batch/v1
kind: Job
metadata:
  name: indexed
spec:
  completions: 3
  parallelism: 2
  completionMode: Indexed
  ttlSecondsAfterFinished: 3
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: busybox
)")});
  bool saw_two_active = false;
  ASSERT_TRUE(Eventually([&] {
    auto job = Object({"job", "indexed"});
    if (job.empty()) return false;
    if (job["status"].as_object().contains("active") && job["status"].at("active") == 2) {
      saw_two_active = true;
    }
    return !ConditionReason(job, "Complete").empty();
  })) << Kubectl({"get", "job", "indexed", "-o", "yaml"}).out;
  EXPECT_TRUE(saw_two_active);
  auto indexed = Object({"job", "indexed"});
  EXPECT_EQ(indexed["status"].at("completedIndexes"), "0-2");
  EXPECT_EQ(indexed["status"].at("succeeded"), 3);
  auto indexed_pods =
      GetJson({"pods", "-l", "batch.kubernetes.io/job-name=indexed"}).at("items").as_array();
  ASSERT_GE(indexed_pods.size(), 3u);
  for (const auto& pod : indexed_pods) {
    const auto& labels = pod.at("metadata").at("labels").as_object();
    const std::string index(labels.at("batch.kubernetes.io/job-completion-index").as_string());
    EXPECT_EQ(pod.at("spec").at("hostname"), boost::json::value("indexed-" + index));
    EXPECT_EQ(
        std::string(pod.at("metadata").at("name").as_string()).rfind("indexed-" + index + "-", 0),
        0u);
  }
  // TTL-after-finished deletes it (and, in the background, its pods).
  EXPECT_TRUE(Eventually(
      [&] {
        return !Exists({"job", "indexed"});
      },
      30s))
      << Kubectl({"get", "job", "indexed", "-o", "yaml"}).out;

  // A job that cannot finish within its deadline fails.
  MustRun({"apply", "-f", server_.WriteFile("slow.yaml", R"(apiVersion: batch/v1
kind: Job
metadata:
  name: slow
spec:
  activeDeadlineSeconds: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
)")});
  auto failed = Kubectl({"wait", "--for=condition=failed", "job/slow", "--timeout=60s"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err << Kubectl({"get", "job", "slow", "-o", "yaml"}).out;
  auto slow = Object({"job", "slow"});
  EXPECT_EQ(ConditionReason(slow, "Failed"), "DeadlineExceeded");
  EXPECT_EQ(ConditionReason(slow, "FailureTarget"), "DeadlineExceeded");
  EXPECT_FALSE(slow["status"].as_object().contains("completionTime"));
  EXPECT_TRUE(Eventually([&] {
    return Kubectl({"get", "events", "--field-selector", "involvedObject.name=slow"})
               .out.find("Job was active longer than specified deadline") != std::string::npos;
  }));
}

TEST_F(BatchE2ETest, AParallelJobCountsEveryPodOnce) {
  // Twenty completions five at a time: exactly twenty pods made and counted, never more than
  // five running at once.
  MustRun({"apply", "-f", server_.WriteFile("many.yaml", R"(apiVersion: batch/v1
kind: Job
metadata:
  name: many
spec:
  completions: 20
  parallelism: 5
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox
)")});
  int most_active = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        auto job = Object({"job", "many"});
        const auto& status = job["status"].as_object();
        if (status.contains("active")) {
          most_active = std::max<int>(most_active, status.at("active").to_number<int>());
        }
        return !ConditionReason(job, "Complete").empty();
      },
      90s))
      << Kubectl({"get", "job", "many", "-o", "yaml"}).out;
  auto job = Object({"job", "many"});
  EXPECT_EQ(job["status"].at("succeeded"), 20);
  EXPECT_FALSE(job["status"].as_object().contains("failed") && job["status"].at("failed") != 0);
  EXPECT_LE(most_active, 5);
  EXPECT_EQ(GetJson({"pods", "-l", "job-name=many"}).at("items").as_array().size(), 20u);
}

TEST_F(BatchE2ETest, DeletingARunningJobLetsItsPodsGo) {
  // Pods hold the tracking finalizer while they run; once their job is gone the controller
  // removes it, so the garbage collector's deletion completes.
  MustRun({"create", "job", "gone", "--image=busybox"});
  ASSERT_TRUE(Eventually([&] {
    auto pods = GetJson({"pods", "-l", "job-name=gone"});
    for (const auto& pod : pods.at("items").as_array()) {
      const auto& status = pod.at("status").as_object();
      if (status.contains("phase") && status.at("phase") == "Running") return true;
    }
    return false;
  })) << Kubectl({"get", "pods", "-o", "yaml"}).out;
  MustRun({"delete", "job", "gone", "--wait=false"});
  EXPECT_TRUE(Eventually(
      [&] {
        return GetJson({"pods", "-l", "job-name=gone"}).at("items").as_array().empty();
      },
      30s))
      << Kubectl({"get", "pods", "-l", "job-name=gone", "-o", "yaml"}).out;
}

TEST_F(BatchE2ETest, CronJobs) {
  // The API server checks the schedule as upstream's validation does.
  auto bad = Kubectl({"create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("end of range (61) above maximum (59): 61"), std::string::npos) << bad.err;
  auto bad_zone = Kubectl({"apply", "-f", server_.WriteFile("zone.yaml", R"(apiVersion: batch/v1
kind: CronJob
metadata:
  name: zoned
spec:
  schedule: "0 9 * * *"
  timeZone: Mars/Olympus
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
)")});
  EXPECT_NE(bad_zone.exit_code, 0);
  EXPECT_NE(bad_zone.err.find("unknown time zone Mars/Olympus"), std::string::npos) << bad_zone.err;

  auto long_name =
      Kubectl({"create", "cronjob", std::string(53, 'a'), "--image=busybox", "--schedule=@hourly"});
  EXPECT_NE(long_name.exit_code, 0);
  EXPECT_NE(long_name.err.find("must be no more than 52 characters"), std::string::npos)
      << long_name.err;

  MustRun({"create", "cronjob", "tick", "--image=busybox", "--schedule=*/1 * * * *"});
  // kubectl makes a job from the cron job's template (owned by it); the Job controller runs it.
  MustRun({"create", "job", "tick-manual", "--from=cronjob/tick"});
  auto waited = Kubectl({"wait", "--for=condition=complete", "job/tick-manual", "--timeout=60s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.err;

  // On the next minute boundary the controller starts a run: lastScheduleTime and a job named
  // after the scheduled minute, which completes and leaves the active list.
  std::string scheduled_job;
  ASSERT_TRUE(Eventually(
      [&] {
        auto cron_job = Object({"cronjob", "tick"});
        const auto* status = cron_job.if_contains("status");
        if (status == nullptr || !status->as_object().contains("lastScheduleTime")) return false;
        const auto jobs = GetJson({"jobs"});
        for (const auto& job : jobs.at("items").as_array()) {
          const auto& annotations = job.at("metadata").as_object().if_contains("annotations");
          if (annotations != nullptr && annotations->as_object().contains(
                                            "batch.kubernetes.io/cronjob-scheduled-timestamp")) {
            scheduled_job = std::string(job.at("metadata").at("name").as_string());
          }
        }
        return !scheduled_job.empty();
      },
      75s))
      << Kubectl({"get", "cronjob", "tick", "-o", "yaml"}).out << server_.Logs();
  EXPECT_EQ(scheduled_job.rfind("tick-", 0), 0u);
  EXPECT_TRUE(Eventually([&] {
    auto cron_job = Object({"cronjob", "tick"});
    const auto& status = cron_job["status"].as_object();
    return status.contains("lastSuccessfulTime") &&
           (!status.contains("active") || status.at("active").as_array().empty());
  })) << Kubectl({"get", "cronjob", "tick", "-o", "yaml"}).out;
  EXPECT_TRUE(Eventually([&] {
    return Kubectl({"get", "events", "--field-selector", "involvedObject.name=tick"})
               .out.find("Created job " + scheduled_job) != std::string::npos;
  }));
}

}  // namespace
}  // namespace kpp
