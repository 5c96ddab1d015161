// batch/v1 Jobs and CronJobs against JSON as an upstream API server writes it, and upstream's
// defaulting of them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/batch/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using batch::v1::CronJob;
using batch::v1::Job;

constexpr const char* kPodSpecIn =
    R"("spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl:5.34.0"}]})";
constexpr const char* kPodSpecOut =
    R"("spec":{"containers":[{"name":"pi","image":"perl:5.34.0","resources":{},)"
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
    R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Never",)"
    R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
    R"("schedulerName":"default-scheduler"})";

std::string Json(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (auto part : parts)
    text += part;
  return text;
}

TEST(BatchV1Test, CompletedJobRoundTripsExactly) {
  ExpectRoundTrip<Job>(
      R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"pi","namespace":"default",)"
      R"("uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d","resourceVersion":"4410","generation":1,)"
      R"("creationTimestamp":"2024-05-02T08:00:00Z","labels":{)"
      R"("batch.kubernetes.io/controller-uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",)"
      R"("batch.kubernetes.io/job-name":"pi","controller-uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",)"
      R"("job-name":"pi"}},"spec":{"parallelism":1,"completions":1,"backoffLimit":4,)"
      R"("selector":{"matchLabels":{)"
      R"("batch.kubernetes.io/controller-uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"}},)"
      R"("manualSelector":false,"template":{"metadata":{"creationTimestamp":null,"labels":{)"
      R"("batch.kubernetes.io/controller-uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",)"
      R"("batch.kubernetes.io/job-name":"pi","controller-uid":"5c4a3b2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",)"
      R"("job-name":"pi"}},"spec":{"containers":[{"name":"pi","image":"perl:5.34.0",)"
      R"x("command":["perl","-Mbignum=bpi","-wle","print bpi(2000)"],"resources":{},)x"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
      R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Never",)"
      R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
      R"("schedulerName":"default-scheduler"}},"completionMode":"NonIndexed","suspend":false,)"
      R"("podReplacementPolicy":"TerminatingOrFailed"},"status":{"conditions":[{)"
      R"("type":"SuccessCriteriaMet","status":"True","lastProbeTime":"2024-05-02T08:00:41Z",)"
      R"("lastTransitionTime":"2024-05-02T08:00:41Z","reason":"CompletionsReached",)"
      R"("message":"Reached expected number of succeeded pods"},{"type":"Complete",)"
      R"("status":"True","lastProbeTime":"2024-05-02T08:00:41Z",)"
      R"("lastTransitionTime":"2024-05-02T08:00:41Z","reason":"CompletionsReached",)"
      R"("message":"Reached expected number of succeeded pods"}],)"
      R"("startTime":"2024-05-02T08:00:00Z","completionTime":"2024-05-02T08:00:41Z",)"
      R"("succeeded":1,"terminating":0,"uncountedTerminatedPods":{},"ready":0}})");
}

TEST(BatchV1Test, IndexedJobWithPoliciesRoundTripsExactly) {
  ExpectRoundTrip<Job>(
      R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"sharded","namespace":"ml",)"
      R"("creationTimestamp":"2024-05-02T09:00:00Z"},"spec":{"parallelism":3,"completions":8,)"
      R"("activeDeadlineSeconds":3600,"podFailurePolicy":{"rules":[{"action":"FailJob",)"
      R"("onExitCodes":{"containerName":"main","operator":"In","values":[42]}},{)"
      R"("action":"Ignore","onPodConditions":[{"type":"DisruptionTarget","status":"True"}]},{)"
      R"("action":"FailIndex","onExitCodes":{"operator":"NotIn","values":[0,1]}}]},)"
      R"("successPolicy":{"rules":[{"succeededIndexes":"0-3","succeededCount":2}]},)"
      R"("backoffLimit":2147483647,"backoffLimitPerIndex":1,"maxFailedIndexes":2,)"
      R"("manualSelector":true,"template":{"metadata":{"creationTimestamp":null,"labels":{)"
      R"("app":"sharded"}},"spec":{"containers":[{"name":"main","image":"trainer:v3",)"
      R"("resources":{},"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Never","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
      R"("securityContext":{},"schedulerName":"default-scheduler"}},)"
      R"("ttlSecondsAfterFinished":600,"completionMode":"Indexed","suspend":true,)"
      R"("podReplacementPolicy":"Failed","managedBy":"example.com/queue"},"status":{)"
      R"("conditions":[{"type":"Suspended","status":"True","lastProbeTime":null,)"
      R"("lastTransitionTime":"2024-05-02T09:00:01Z","reason":"JobSuspended",)"
      R"("message":"Job suspended"}],"active":1,"failed":2,"completedIndexes":"0,2-3",)"
      R"("failedIndexes":"5","uncountedTerminatedPods":{"succeeded":[)"
      R"("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"],"failed":["1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"]},)"
      R"("ready":1}})");
}

TEST(BatchV1Test, CronJobRoundTripsExactly) {
  ExpectRoundTrip<CronJob>(
      R"({"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"hello",)"
      R"("namespace":"default","uid":"6e5d4c3b-2a1f-4e9d-8c7b-6a5f4e3d2c1b",)"
      R"("resourceVersion":"5120","generation":1,"creationTimestamp":"2024-05-02T10:00:00Z"},)"
      R"("spec":{"schedule":"*/5 * * * *","timeZone":"Europe/Berlin",)"
      R"("startingDeadlineSeconds":200,"concurrencyPolicy":"Forbid","suspend":false,)"
      R"("jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":{"metadata":{)"
      R"("creationTimestamp":null},"spec":{"containers":[{"name":"hello","image":"busybox:1.28",)"
      R"("command":["/bin/sh","-c","date; echo Hello from the Kubernetes cluster"],)"
      R"("resources":{},"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"OnFailure","terminationGracePeriodSeconds":30,)"
      R"("dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}}},)"
      R"("successfulJobsHistoryLimit":3,"failedJobsHistoryLimit":1},"status":{"active":[{)"
      R"("kind":"Job","namespace":"default","name":"hello-28580640",)"
      R"("uid":"7f6e5d4c-3b2a-4f1e-9d8c-7b6a5f4e3d2c","apiVersion":"batch/v1",)"
      R"("resourceVersion":"5230"}],"lastScheduleTime":"2024-05-02T10:05:00Z",)"
      R"("lastSuccessfulTime":"2024-05-02T10:00:09Z"}})");
}

TEST(BatchV1Test, JobGetsUpstreamDefaults) {
  EXPECT_EQ(
      Defaulted<Job>(
          Json({R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi"},)",
                R"("spec":{"template":{"metadata":{"labels":{"app":"pi"}},)", kPodSpecIn, "}}}"})),
      Json({R"({"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"pi",)",
            R"("creationTimestamp":null,"labels":{"app":"pi"}},"spec":{"parallelism":1,)",
            R"("completions":1,"backoffLimit":6,"manualSelector":false,"template":{"metadata":{)",
            R"("creationTimestamp":null,"labels":{"app":"pi"}},)", kPodSpecOut, "},",
            R"("completionMode":"NonIndexed","suspend":false,)",
            R"("podReplacementPolicy":"TerminatingOrFailed"},"status":{}})"}));
  // Parallelism alone leaves completions unset; own labels are kept; a per-index backoff
  // limit lifts the job-wide one; a pod failure policy makes replacements wait for Failed and
  // its condition patterns default to status True.
  EXPECT_EQ(
      Defaulted<Job>(Json(
          {R"({"metadata":{"name":"work","labels":{"team":"a"}},"spec":{"parallelism":4,)",
           R"("podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{)",
           R"("type":"DisruptionTarget"}]}]},"backoffLimitPerIndex":2,"completionMode":"Indexed",)",
           R"("template":{"metadata":{"labels":{"app":"pi"}},)", kPodSpecIn, "}}}"})),
      Json({R"({"metadata":{"name":"work","creationTimestamp":null,"labels":{"team":"a"}},)",
            R"("spec":{"parallelism":4,"podFailurePolicy":{"rules":[{"action":"Ignore",)",
            R"("onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]},)",
            R"("backoffLimit":2147483647,"backoffLimitPerIndex":2,"manualSelector":false,)",
            R"("template":{"metadata":{"creationTimestamp":null,"labels":{"app":"pi"}},)",
            kPodSpecOut, R"(},"completionMode":"Indexed","suspend":false,)",
            R"("podReplacementPolicy":"Failed"},"status":{}})"}));
  // Completions alone gets parallelism 1.
  Job completions_only;
  completions_only.spec.completions = 5;
  batch::v1::SetDefaults(completions_only);
  EXPECT_EQ(completions_only.spec.parallelism, 1);
  EXPECT_EQ(completions_only.spec.completions, 5);
}

TEST(BatchV1Test, CronJobGetsUpstreamDefaultsButItsJobTemplateDoesNot) {
  EXPECT_EQ(
      Defaulted<CronJob>(Json({R"({"metadata":{"name":"hello"},"spec":{"schedule":"* * * * *",)",
                               R"("jobTemplate":{"spec":{"template":{)", kPodSpecIn, "}}}}}"})),
      Json({R"({"metadata":{"name":"hello","creationTimestamp":null},"spec":{)",
            R"("schedule":"* * * * *","concurrencyPolicy":"Allow","suspend":false,)",
            R"("jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":{)",
            R"("metadata":{"creationTimestamp":null},)", kPodSpecOut, "}}},",
            R"("successfulJobsHistoryLimit":3,"failedJobsHistoryLimit":1},"status":{}})"}));
  // Pod failure policy patterns in a job template are defaulted all the same.
  CronJob cron;
  auto& rule = cron.spec.job_template.spec.pod_failure_policy.emplace().rules.emplace_back();
  rule.on_pod_conditions.push_back({.type = "DisruptionTarget"});
  batch::v1::SetDefaults(cron);
  EXPECT_EQ(cron.spec.job_template.spec.pod_failure_policy->rules[0].on_pod_conditions[0].status,
            "True");
  EXPECT_FALSE(cron.spec.job_template.spec.backoff_limit);
}

TEST(BatchV1Test, KindsAreServedAsUpstreamServesThem) {
  const KindInfo* job = FindKind("batch", "Job");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->plural, "jobs");
  EXPECT_EQ(job->short_names, "");
  EXPECT_EQ(job->categories, "all");
  EXPECT_EQ(job->subresources, "status");
  EXPECT_TRUE(job->namespaced);
  const KindInfo* cron = FindKind("batch", "CronJob");
  ASSERT_NE(cron, nullptr);
  EXPECT_EQ(cron->plural, "cronjobs");
  EXPECT_EQ(cron->short_names, "cj");
  EXPECT_EQ(cron->categories, "all");
  EXPECT_EQ(cron->subresources, "status");
  EXPECT_EQ(cron->list_kind, "CronJobList");
  EXPECT_EQ(FindKind("batch", "JobTemplateSpec"), nullptr);
}

TEST(BatchV1Test, OpenApiDescribesJobsAndCronJobs) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  EXPECT_EQ(definitions.at("io.k8s.api.batch.v1.Job").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"batch","kind":"Job","version":"v1"}])"));
  EXPECT_EQ(definitions.at("io.k8s.api.batch.v1.CronJob").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"batch","kind":"CronJob","version":"v1"}])"));
  EXPECT_EQ(definitions.at("io.k8s.api.batch.v1.CronJobSpec").at("required"),
            boost::json::parse(R"(["schedule","jobTemplate"])"));
  const auto& conditions =
      definitions.at("io.k8s.api.batch.v1.JobStatus").at("properties").at("conditions");
  EXPECT_EQ(conditions.at("x-kubernetes-list-type"), "atomic");
  EXPECT_EQ(conditions.at("x-kubernetes-patch-strategy"), "merge");
  EXPECT_EQ(conditions.at("x-kubernetes-patch-merge-key"), "type");
  EXPECT_EQ(definitions.at("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement")
                .at("properties")
                .at("values")
                .at("x-kubernetes-list-type"),
            "set");
}

}  // namespace
}  // namespace kpp::api
