// The horizontal pod autoscaler: upstream's replica calculation, scaling rules and the sync's
// status, conditions and events, table-driven on snapshots with a fake clock.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "api/autoscaling/v2/codec.h"
#include "controllers/podautoscaler/horizontal.h"
#include "controllers/podautoscaler/replica_calculator.h"
#include "fakes.h"

namespace kpp::controllers::podautoscaler {
namespace {

using namespace std::chrono_literals;
using testing::FakeEvents;
using testing::FakeLister;
namespace v1 = api::core::v1;
namespace metrics = api::metrics_k8s_io::v1beta1;

const Clock::TimePoint kNow = Clock::TimePoint(std::chrono::seconds(1'700'000'000));

api::Time At(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

struct PodSpec {
  std::string name;
  std::string request = "1";  // cpu request of its one container; "" for none
  std::string phase = "Running";
  bool ready = true;
  Clock::Duration started_ago = 10min;
  Clock::Duration ready_ago = 9min;
};

v1::Pod MakePod(const PodSpec& spec) {
  v1::Pod pod;
  pod.metadata.name = spec.name;
  pod.metadata.namespace_ = "default";
  pod.metadata.labels = {{"app", "web"}};
  v1::Container container;
  container.name = "app";
  if (!spec.request.empty()) container.resources.requests["cpu"] = api::Quantity{spec.request};
  pod.spec.containers.push_back(container);
  pod.status.phase = spec.phase;
  pod.status.start_time = At(kNow - spec.started_ago);
  v1::PodCondition ready;
  ready.type = "Ready";
  ready.status = spec.ready ? "True" : "False";
  ready.last_transition_time = At(kNow - spec.ready_ago);
  pod.status.conditions.push_back(ready);
  return pod;
}

PodList Pods(const std::vector<PodSpec>& specs) {
  PodList pods;
  for (const auto& spec : specs)
    pods.push_back(std::make_shared<const v1::Pod>(MakePod(spec)));
  return pods;
}

PodMetricsInfo Usage(const std::map<std::string, int64_t>& milli) {
  PodMetricsInfo info;
  for (const auto& [name, value] : milli)
    info[name] = PodMetric{value, kNow - 5s, 15s};
  return info;
}

struct UtilizationCase {
  std::string name;
  int32_t current;
  int32_t target;
  std::vector<PodSpec> pods;
  std::map<std::string, int64_t> usage;
  int32_t want_replicas;
  int32_t want_utilization;
};

TEST(ReplicaCalculatorTest, UtilizationTable) {
  const std::vector<UtilizationCase> cases = {
      {"scale up", 3, 30, {{"a"}, {"b"}, {"c"}}, {{"a", 300}, {"b", 500}, {"c", 700}}, 5, 50},
      {"scale down",
       5,
       50,
       {{"a"}, {"b"}, {"c"}, {"d"}, {"e"}},
       {{"a", 100}, {"b", 300}, {"c", 500}, {"d", 250}, {"e", 250}},
       3,
       28},
      {"within tolerance",
       3,
       100,
       {{"a"}, {"b"}, {"c"}},
       {{"a", 1010}, {"b", 1030}, {"c", 1020}},
       3,
       102},
      // A pod without metrics counts as using its whole request on a scale-down.
      {"missing pod on scale down",
       4,
       50,
       {{"a"}, {"b"}, {"c"}, {"d"}},
       {{"a", 400}, {"b", 95}, {"c", 20}},
       3,
       17},
      // ... and as using nothing on a scale-up.
      {"missing pod on scale up", 3, 50, {{"a"}, {"b"}, {"c"}}, {{"a", 900}, {"b", 900}}, 4, 90},
      // An unready pod counts as using nothing when scaling up.
      {"unready pod on scale up",
       3,
       50,
       {{"a"}, {"b"}, {.name = "c", .ready = false, .started_ago = 1min, .ready_ago = 1min}},
       {{"a", 900}, {"b", 900}, {"c", 900}},
       4,
       90},
      // Pending, failed and deleted pods are left out.
      {"pending and failed pods ignored",
       2,
       50,
       {{"a"}, {"b"}, {.name = "c", .phase = "Pending"}, {.name = "d", .phase = "Failed"}},
       {{"a", 1000}, {"b", 1000}, {"d", 5000}},
       4,
       100},
      // A sample taken before one window passed since the pod became ready is not trusted: the
      // pod counts as unready (using nothing), which brings the ratio back to the target.
      {"fresh sample of a starting pod",
       2,
       50,
       {{"a"}, {.name = "b", .started_ago = 1min, .ready_ago = 2s}},
       {{"a", 1000}, {"b", 5000}},
       2,
       100},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto result =
        GetResourceReplicas(c.current, c.target, "cpu", "", Usage(c.usage), Pods(c.pods), kNow);
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_EQ(result->replicas, c.want_replicas);
    EXPECT_EQ(result->utilization, c.want_utilization);
  }
}

TEST(ReplicaCalculatorTest, Errors) {
  auto no_metrics = GetResourceReplicas(2, 50, "cpu", "", {}, Pods({{"a"}}), kNow);
  ASSERT_FALSE(no_metrics.ok());
  EXPECT_EQ(
      no_metrics.error().message(),
      "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
  auto no_request = GetResourceReplicas(1, 50, "cpu", "", Usage({{"a", 10}}),
                                        Pods({{.name = "a", .request = ""}}), kNow);
  ASSERT_FALSE(no_request.ok());
  EXPECT_EQ(no_request.error().message(), "missing request for cpu in container app of Pod a");
  auto no_pods = GetResourceReplicas(1, 50, "cpu", "", Usage({{"a", 10}}), {}, kNow);
  ASSERT_FALSE(no_pods.ok());
  EXPECT_EQ(no_pods.error().message(),
            "no pods returned by selector while calculating replica count");
  auto unready = GetResourceReplicas(
      1, 50, "cpu", "", Usage({{"a", 10}}),
      Pods({{.name = "a", .ready = false, .started_ago = 1min, .ready_ago = 1min}}), kNow);
  ASSERT_FALSE(unready.ok());
  EXPECT_EQ(unready.error().message(),
            "did not receive metrics for targeted pods (pods might be unready)");
}

TEST(ReplicaCalculatorTest, AverageValue) {
  auto up = GetRawResourceReplicas(2, 500, "cpu", "", Usage({{"a", 800}, {"b", 800}}),
                                   Pods({{"a"}, {"b"}}), kNow);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->replicas, 4);
  EXPECT_EQ(up->raw_average, 800);
  auto steady = GetRawResourceReplicas(2, 500, "memory", "", Usage({{"a", 520}, {"b", 500}}),
                                       Pods({{"a"}, {"b"}}), kNow);
  ASSERT_TRUE(steady.ok());
  EXPECT_EQ(steady->replicas, 2);
}

TEST(ReplicaCalculatorTest, ResourceMetricsFromPodMetrics) {
  metrics::PodMetricsList list;
  metrics::PodMetrics a;
  a.metadata.name = "a";
  a.timestamp = At(kNow);
  a.window = "15s";
  a.containers = {{.name = "app", .usage = {{"cpu", api::Quantity{"250m"}}}},
                  {.name = "side", .usage = {{"cpu", api::Quantity{"50m"}}}}};
  metrics::PodMetrics b;
  b.metadata.name = "b";
  b.containers = {{.name = "app", .usage = {{"memory", api::Quantity{"1Mi"}}}}};
  list.items = {a, b};
  auto all = ResourceMetricsFrom(list, "cpu", "");
  ASSERT_EQ(all.size(), 1u);  // b has no cpu usage
  EXPECT_EQ(all["a"].value, 300);
  EXPECT_EQ(all["a"].window, 15s);
  EXPECT_EQ(all["a"].timestamp, kNow);
  auto side = ResourceMetricsFrom(list, "cpu", "side");
  EXPECT_EQ(side["a"].value, 50);
}

autoscaling::HPAScalingRules Rules(std::string select,
                                   std::vector<autoscaling::HPAScalingPolicy> policies) {
  autoscaling::HPAScalingRules rules;
  rules.select_policy = std::move(select);
  rules.policies = std::move(policies);
  return rules;
}

TEST(ScalingRulesTest, Limits) {
  const std::vector<autoscaling::HPAScalingPolicy> up_policies = {{"Pods", 4, 15},
                                                                  {"Percent", 100, 15}};
  struct Case {
    std::string name;
    int32_t current;
    std::string select;
    std::vector<ScaleEvent> up_events;
    int32_t want;
  };
  const std::vector<Case> up_cases = {
      {"max of the policies", 3, "Max", {}, 7},
      {"min of the policies", 3, "Min", {}, 6},
      {"disabled", 3, "Disabled", {}, 3},
      // 3 added 5 s ago: the period started at 3 replicas.
      {"changes within the period count", 6, "Max", {{3, kNow - 5s, false}}, 7},
      {"older changes do not", 6, "Max", {{3, kNow - 20s, false}}, 12},
  };
  for (const auto& c : up_cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ScaleUpLimit(c.current, c.up_events, {}, Rules(c.select, up_policies), kNow), c.want);
  }
  const std::vector<autoscaling::HPAScalingPolicy> down_policies = {{"Percent", 50, 60},
                                                                    {"Pods", 2, 60}};
  EXPECT_EQ(ScaleDownLimit(10, {}, {}, Rules("Max", down_policies), kNow), 5);
  EXPECT_EQ(ScaleDownLimit(10, {}, {}, Rules("Min", down_policies), kNow), 8);
  EXPECT_EQ(ScaleDownLimit(10, {}, {}, Rules("Disabled", down_policies), kNow), 10);
  // 4 removed 30 s ago: the period started at 10.
  EXPECT_EQ(ScaleDownLimit(6, {}, {{4, kNow - 30s, false}}, Rules("Max", down_policies), kNow), 5);
}

// Answers as the API server would: one Deployment's scale and the pods' metrics.
class FakeHpaClient final : public HpaClient {
 public:
  Result<Scale> GetScale(const std::string&,
                         const autoscaling::CrossVersionObjectReference& target) override {
    if (target.name != "web")
      return NotFoundError("deployments.apps \"" + target.name + "\" not found");
    return scale;
  }
  Status UpdateScale(const std::string&, const autoscaling::CrossVersionObjectReference&,
                     const Scale& updated) override {
    scale.spec.replicas = updated.spec.replicas;
    ++scale_updates;
    return Ok();
  }
  Result<metrics::PodMetricsList> ListPodMetrics(const std::string&,
                                                 const std::string& selector) override {
    last_selector = selector;
    metrics::PodMetricsList list;
    for (const auto& [name, usage] : cpu_usage) {
      metrics::PodMetrics pod;
      pod.metadata.name = name;
      pod.timestamp = At(now->Now() - 1s);
      pod.window = "1s";
      pod.containers = {{.name = "app", .usage = {{"cpu", api::Quantity{usage}}}}};
      list.items.push_back(pod);
    }
    return list;
  }
  Status UpdateStatus(const autoscaling::HorizontalPodAutoscaler& hpa) override {
    status = hpa.status;
    ++status_updates;
    return Ok();
  }

  Clock* now = nullptr;
  Scale scale;
  std::map<std::string, std::string> cpu_usage;
  std::string last_selector;
  autoscaling::HorizontalPodAutoscalerStatus status;
  int scale_updates = 0;
  int status_updates = 0;
};

autoscaling::HorizontalPodAutoscaler MakeHpa() {
  autoscaling::HorizontalPodAutoscaler hpa;
  hpa.metadata.name = "web";
  hpa.metadata.namespace_ = "default";
  hpa.spec.scale_target_ref = {.kind = "Deployment", .name = "web", .api_version = "apps/v1"};
  hpa.spec.min_replicas = 1;
  hpa.spec.max_replicas = 10;
  autoscaling::MetricSpec cpu;
  cpu.type = "Resource";
  cpu.resource.emplace();
  cpu.resource->name = "cpu";
  cpu.resource->target.type = "Utilization";
  cpu.resource->target.average_utilization = 50;
  hpa.spec.metrics.push_back(cpu);
  return hpa;
}

const autoscaling::HorizontalPodAutoscalerCondition* FindCondition(
    const autoscaling::HorizontalPodAutoscalerStatus& status, const std::string& type) {
  for (const auto& condition : status.conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

class HorizontalSyncerTest : public ::testing::Test {
 protected:
  HorizontalSyncerTest() : clock_(kNow) {
    client_.now = &clock_;
    client_.scale.spec.replicas = 2;
    client_.scale.status.replicas = 2;
    client_.scale.status.selector = "app=web";
    for (const std::string name : {"web-a", "web-b"}) {
      PodSpec spec{.name = name, .request = "100m"};
      pods_.Add(MakePod(spec));
    }
  }

  // One sync with the status the last one wrote, as the informer would hand it back.
  Status SyncOnce(autoscaling::HorizontalPodAutoscaler& hpa) {
    hpa.status = client_.status;
    return syncer_.Sync("default/web", &hpa);
  }

  FakeClock clock_;
  FakeLister<v1::Pod> pods_;
  FakeHpaClient client_;
  FakeEvents events_;
  HorizontalSyncer syncer_{pods_, client_, events_, clock_};
};

TEST_F(HorizontalSyncerTest, ScalesUpWithinTheDefaultRateAndReports) {
  client_.cpu_usage = {{"web-a", "200m"}, {"web-b", "200m"}};  // 200% of requests
  auto hpa = MakeHpa();
  ASSERT_TRUE(SyncOnce(hpa).ok());
  // 8 wanted; without behavior upstream allows at most max(2 x 2, 4) at once.
  EXPECT_EQ(client_.scale.spec.replicas, 4);
  EXPECT_EQ(client_.last_selector, "app=web");
  const auto& status = client_.status;
  EXPECT_EQ(status.current_replicas, 2);
  EXPECT_EQ(status.desired_replicas, 4);
  ASSERT_TRUE(status.last_scale_time);
  ASSERT_TRUE(status.current_metrics);
  ASSERT_EQ(status.current_metrics->size(), 1u);
  const auto& current = (*status.current_metrics)[0];
  EXPECT_EQ(current.type, "Resource");
  ASSERT_TRUE(current.resource);
  EXPECT_EQ(current.resource->current.average_utilization, 200);
  EXPECT_EQ(current.resource->current.average_value, api::Quantity{"200m"});
  auto* able = FindCondition(status, "AbleToScale");
  ASSERT_NE(able, nullptr);
  EXPECT_EQ(able->reason, "SucceededRescale");
  EXPECT_EQ(able->message, "the HPA controller was able to update the target scale to 4");
  auto* active = FindCondition(status, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->status, "True");
  EXPECT_EQ(active->reason, "ValidMetricFound");
  EXPECT_EQ(active->message,
            "the HPA was able to successfully calculate a replica count from cpu resource "
            "utilization (percentage of request)");
  auto* limited = FindCondition(status, "ScalingLimited");
  ASSERT_NE(limited, nullptr);
  EXPECT_EQ(limited->status, "True");
  EXPECT_EQ(limited->reason, "ScaleUpLimit");
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].reason, "SuccessfulRescale");
  EXPECT_EQ(events_.events[0].message,
            "New size: 4; reason: cpu resource utilization (percentage of request) above target");
}

TEST_F(HorizontalSyncerTest, ScaleDownWaitsForTheStabilizationWindow) {
  auto hpa = MakeHpa();
  hpa.spec.behavior.emplace();
  api::autoscaling::v2::DefaultHorizontalPodAutoscalerBehavior(*hpa.spec.behavior);
  hpa.spec.behavior->scale_down->stabilization_window_seconds = 30;
  client_.cpu_usage = {{"web-a", "50m"}, {"web-b", "50m"}};  // at target
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 2);
  client_.cpu_usage = {{"web-a", "10m"}, {"web-b", "10m"}};  // 10%: 1 replica is enough
  clock_.Advance(15s);
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 2);
  auto* able = FindCondition(client_.status, "AbleToScale");
  ASSERT_NE(able, nullptr);
  EXPECT_EQ(able->reason, "ScaleDownStabilized");
  clock_.Advance(20s);  // the recommendation of 2 has left the 30 s window
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 1);
  ASSERT_FALSE(events_.events.empty());
  EXPECT_EQ(events_.events.back().message, "New size: 1; reason: All metrics below target");
}

TEST_F(HorizontalSyncerTest, ScaleUpPoliciesLimitEachPeriod) {
  auto hpa = MakeHpa();
  hpa.spec.max_replicas = 20;
  hpa.spec.behavior.emplace();
  hpa.spec.behavior->scale_up = Rules("Max", {{"Pods", 1, 60}});
  api::autoscaling::v2::DefaultHorizontalPodAutoscalerBehavior(*hpa.spec.behavior);
  client_.cpu_usage = {{"web-a", "500m"}, {"web-b", "500m"}};
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 3);
  clock_.Advance(15s);  // still within the policy's minute: no more
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 3);
  auto* limited = FindCondition(client_.status, "ScalingLimited");
  ASSERT_NE(limited, nullptr);
  EXPECT_EQ(limited->reason, "ScaleUpLimit");
  clock_.Advance(50s);
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 4);
}

TEST_F(HorizontalSyncerTest, MissingMetricsSetScalingActiveFalse) {
  auto hpa = MakeHpa();
  auto status = SyncOnce(hpa);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(client_.scale_updates, 0);
  auto* active = FindCondition(client_.status, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->status, "False");
  EXPECT_EQ(active->reason, "FailedGetResourceMetric");
  EXPECT_EQ(active->message,
            "the HPA was unable to compute the replica count: failed to get cpu utilization: "
            "unable to get metrics for resource cpu: no metrics returned from resource metrics "
            "API");
  ASSERT_EQ(events_.events.size(), 2u);
  EXPECT_EQ(events_.events[0].reason, "FailedGetResourceMetric");
  EXPECT_EQ(events_.events[1].reason, "FailedComputeMetricsReplicas");
  EXPECT_EQ(events_.events[1].message,
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
            "metric value: failed to get cpu utilization: unable to get metrics for resource cpu: "
            "no metrics returned from resource metrics API");
}

TEST_F(HorizontalSyncerTest, TargetBoundsAndMissingTarget) {
  auto hpa = MakeHpa();
  hpa.spec.max_replicas = 1;  // 2 running: brought down to the maximum without metrics
  ASSERT_TRUE(SyncOnce(hpa).ok());
  EXPECT_EQ(client_.scale.spec.replicas, 1);
  EXPECT_EQ(events_.events.back().message,
            "New size: 1; reason: Current number of replicas above Spec.MaxReplicas");
  auto missing = MakeHpa();
  missing.spec.scale_target_ref.name = "gone";
  EXPECT_FALSE(SyncOnce(missing).ok());
  auto* able = FindCondition(client_.status, "AbleToScale");
  ASSERT_NE(able, nullptr);
  EXPECT_EQ(able->status, "False");
  EXPECT_EQ(able->reason, "FailedGetScale");
  client_.scale.spec.replicas = 0;
  auto disabled = MakeHpa();
  ASSERT_TRUE(SyncOnce(disabled).ok());
  auto* active = FindCondition(client_.status, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->reason, "ScalingDisabled");
  EXPECT_EQ(client_.scale.spec.replicas, 0);
}

TEST_F(HorizontalSyncerTest, TwoAutoscalersOverTheSamePodsAreRefused) {
  client_.cpu_usage = {{"web-a", "200m"}, {"web-b", "200m"}};
  auto first = MakeHpa();
  ASSERT_TRUE(SyncOnce(first).ok());
  auto second = MakeHpa();
  second.metadata.name = "web-too";
  second.status = client_.status;
  EXPECT_FALSE(syncer_.Sync("default/web-too", &second).ok());
  auto* active = FindCondition(client_.status, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->reason, "AmbiguousSelector");
  EXPECT_EQ(active->message,
            "pods by selector app=web are controlled by multiple HPAs: [default/web "
            "default/web-too]");
  // Once the first is gone, the second scales.
  ASSERT_TRUE(syncer_.Sync("default/web", nullptr).ok());
  second.status = client_.status;
  EXPECT_TRUE(syncer_.Sync("default/web-too", &second).ok());
}

}  // namespace
}  // namespace kpp::controllers::podautoscaler
