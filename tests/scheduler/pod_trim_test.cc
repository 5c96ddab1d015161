// The scheduler's pod informer transform: a trimmed pod schedules as the whole pod does (with
// trimmed pods placed on the nodes too) and loses managedFields and the other unread parts.
#include "scheduler/pod_trim.h"

#include <gtest/gtest.h>

#include "scheduler/plugins/registry.h"
#include "scheduler/schedule_one.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;
namespace v1 = api::core::v1;

// A pod with what the plugins read and what they do not.
PodBuilder RichPod(const std::string& name) {
  PodBuilder builder(name);
  builder.Container("500m", "256Mi", "registry/app:1").HostPort(8080);
  builder.Init("100m", "", /*sidecar=*/true);
  builder.Toleration("dedicated", "Equal", "web", "NoSchedule").Selector("disk", "ssd");
  Pod& pod = builder.pod;
  pod.metadata.labels["app"] = "web";
  pod.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{...}";
  pod.metadata.managed_fields.emplace_back().manager = "kubectl";
  auto& container = pod.spec.containers[0];
  container.env.emplace_back().name = "LONG";
  container.command = {"/app", "--serve"};
  container.volume_mounts.emplace_back().name = "token";
  auto& token = pod.spec.volumes.emplace_back();
  token.name = "token";
  token.volume_source.projected.emplace().sources.emplace_back().service_account_token.emplace();
  auto& claim = pod.spec.volumes.emplace_back();
  claim.name = "data";
  claim.volume_source.persistent_volume_claim.emplace().claim_name = "data-0";
  auto& anti = pod.spec.affinity.emplace().pod_anti_affinity.emplace();
  auto& term = anti.required_during_scheduling_ignored_during_execution.emplace_back();
  term.label_selector.emplace().match_labels["app"] = "web";
  term.topology_key = "kubernetes.io/hostname";
  auto& spread = pod.spec.topology_spread_constraints.emplace_back();
  spread.topology_key = "zone";
  spread.max_skew = 1;
  spread.when_unsatisfiable = "DoNotSchedule";
  spread.label_selector.emplace().match_labels["app"] = "web";
  pod.status.container_statuses.emplace_back().name = "c0";
  pod.status.pod_ip = "10.0.0.9";
  return builder;
}

std::vector<std::shared_ptr<NodeInfo>> Nodes(bool trim_placed) {
  auto placed = [&](PodBuilder builder, const std::string& node) {
    builder.Node(node);
    return trim_placed ? std::make_shared<const Pod>(TrimPodForScheduling(builder.pod))
                       : builder.Build();
  };
  auto node = [](const std::string& name, const std::string& zone) {
    return NodeBuilder(name, "2")
        .Label("disk", "ssd")
        .Label("zone", zone)
        .Label("kubernetes.io/hostname", name);
  };
  return {
      MakeNodeInfo(node("a1", "a").Taint("dedicated", "db", "NoSchedule")),  // untolerated
      MakeNodeInfo(node("a2", "a"), {placed(RichPod("web-0"), "a2")}),       // anti-affinity
      MakeNodeInfo(node("b1", "b"), {placed(PodBuilder("port").HostPort(8080), "b1")}),
      MakeNodeInfo(node("b2", "b"), {placed(PodBuilder("big").Container("1800m", ""), "b2")}),
      MakeNodeInfo(NodeBuilder("c1", "2").Label("zone", "c")),  // no disk=ssd
      MakeNodeInfo(node("b3", "b")),                            // the one that fits
  };
}

struct Outcome {
  ScheduleOutcome outcome;
  std::string host;
  std::string fit_message;
};

Outcome Schedule(const Pod& pod, bool trim_placed) {
  testing::FakeHandle handle;
  auto framework = Framework::Create({}, plugins::InTreeRegistry(), &handle);
  EXPECT_TRUE(framework.ok());
  handle.SetNodes(Nodes(trim_placed));
  Parallelizer parallelizer(1);
  ScheduleAlgorithm algorithm(parallelizer, 100);
  ScheduleResult result;
  FitError fit;
  std::string error;
  CycleState state;
  auto outcome =
      algorithm.SchedulePod(**framework, state, PodInfo(std::make_shared<const Pod>(pod)),
                            handle.snapshot(), result, fit, error);
  return {outcome, result.suggested_host, fit.Message()};
}

TEST(TrimPodForScheduling, DropsWhatNoPluginReads) {
  const Pod pod = RichPod("web-1").pod;
  const Pod trimmed = TrimPodForScheduling(pod);
  EXPECT_TRUE(trimmed.metadata.managed_fields.empty());
  EXPECT_TRUE(trimmed.metadata.annotations.empty());
  EXPECT_TRUE(trimmed.spec.containers[0].env.empty());
  EXPECT_TRUE(trimmed.spec.containers[0].command.empty());
  EXPECT_TRUE(trimmed.status.container_statuses.empty());
  // What the plugins, the queue and the cache read stays.
  EXPECT_EQ(trimmed.metadata.labels, pod.metadata.labels);
  EXPECT_EQ(trimmed.metadata.uid, pod.metadata.uid);
  EXPECT_EQ(trimmed.spec.containers[0].resources, pod.spec.containers[0].resources);
  EXPECT_EQ(trimmed.spec.containers[0].ports, pod.spec.containers[0].ports);
  EXPECT_EQ(trimmed.spec.containers[0].image, pod.spec.containers[0].image);
  EXPECT_EQ(trimmed.spec.init_containers[0].restart_policy,
            pod.spec.init_containers[0].restart_policy);
  EXPECT_EQ(trimmed.spec.affinity, pod.spec.affinity);
  EXPECT_EQ(trimmed.spec.tolerations, pod.spec.tolerations);
  EXPECT_EQ(trimmed.spec.topology_spread_constraints, pod.spec.topology_spread_constraints);
  EXPECT_EQ(trimmed.spec.node_selector, pod.spec.node_selector);
  // The claim stays; the token's projected volume (node-local) goes.
  ASSERT_EQ(trimmed.spec.volumes.size(), 1u);
  EXPECT_EQ(trimmed.spec.volumes[0], pod.spec.volumes[1]);
}

TEST(TrimPodForScheduling, FreesWhatItDrops) {
  const Pod pod = RichPod("web-1").pod;
  const Pod trimmed = TrimPodForScheduling(pod);
  EXPECT_EQ(trimmed.metadata.managed_fields.capacity(), 0u);
  EXPECT_EQ(trimmed.status.container_statuses.capacity(), 0u);
  EXPECT_EQ(trimmed.spec.volumes.capacity(), 1u);
  EXPECT_EQ(trimmed.spec.containers[0].env.capacity(), 0u);
}

TEST(TrimPodForScheduling, SchedulesAsTheWholePod) {
  const Pod pod = RichPod("web-1").pod;
  const Outcome whole = Schedule(pod, false);
  const Outcome trimmed = Schedule(TrimPodForScheduling(pod), true);
  ASSERT_EQ(whole.outcome, ScheduleOutcome::kScheduled) << whole.fit_message;
  EXPECT_EQ(whole.host, "b3");
  EXPECT_EQ(trimmed.outcome, whole.outcome);
  EXPECT_EQ(trimmed.host, whole.host);

  // With the one fitting node too small, both fail with the same reasons per node.
  Pod greedy = pod;
  greedy.spec.containers[0].resources.requests["cpu"] = testing::Q("1950m");
  const Outcome whole_failed = Schedule(greedy, false);
  const Outcome trimmed_failed = Schedule(TrimPodForScheduling(greedy), true);
  ASSERT_EQ(whole_failed.outcome, ScheduleOutcome::kUnschedulable);
  EXPECT_EQ(trimmed_failed.outcome, whole_failed.outcome);
  EXPECT_EQ(trimmed_failed.fit_message, whole_failed.fit_message);
}

}  // namespace
}  // namespace kpp::scheduler
