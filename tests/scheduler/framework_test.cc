// The framework built from profiles (defaults, enabling, disabling, weights), the scheduling
// algorithm on a snapshot, the FitError message, percentageOfNodesToScore.
#include <gtest/gtest.h>

#include "scheduler/plugins/registry.h"
#include "scheduler/schedule_one.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;

std::unique_ptr<Framework> MakeFramework(Handle* handle, ProfileConfig config = {}) {
  auto framework = Framework::Create(config, plugins::InTreeRegistry(), handle);
  EXPECT_TRUE(framework.ok()) << framework.error().message();
  return framework.ok() ? std::move(*framework) : nullptr;
}

TEST(Framework, DefaultsMatchUpstreamOrder) {
  testing::FakeHandle handle;
  auto framework = MakeFramework(&handle);
  EXPECT_EQ(framework->PluginNames("filter"),
            (std::vector<std::string>{"NodeUnschedulable", "NodeName", "TaintToleration",
                                      "NodeAffinity", "NodePorts", "NodeResourcesFit",
                                      "PodTopologySpread", "InterPodAffinity"}));
  EXPECT_EQ(framework->PluginNames("score"),
            (std::vector<std::string>{"TaintToleration", "NodeAffinity", "NodeResourcesFit",
                                      "PodTopologySpread", "InterPodAffinity",
                                      "NodeResourcesBalancedAllocation", "ImageLocality"}));
  EXPECT_EQ(framework->PluginNames("queueSort"), std::vector<std::string>{"PrioritySort"});
  EXPECT_EQ(framework->PluginNames("bind"), std::vector<std::string>{"DefaultBinder"});
  EXPECT_EQ(framework->PluginNames("preEnqueue"), std::vector<std::string>{"SchedulingGates"});
}

TEST(Framework, EnableDisableAndErrors) {
  testing::FakeHandle handle;
  ProfileConfig config;
  config.plugins["score"].disabled = {"*"};
  config.plugins["score"].enabled = {{"NodeResourcesFit", 5}};
  config.plugins["filter"].disabled = {"TaintToleration"};
  auto framework = MakeFramework(&handle, config);
  EXPECT_EQ(framework->PluginNames("score"), std::vector<std::string>{"NodeResourcesFit"});
  EXPECT_EQ(framework->PluginNames("filter").size(), 7u);

  ProfileConfig unknown;
  unknown.plugins["filter"].enabled = {{"Nope", 0}};
  auto failed = Framework::Create(unknown, plugins::InTreeRegistry(), &handle);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("profiles[0].plugins.filter.enabled[0].name"),
            std::string::npos)
      << failed.error().message();

  ProfileConfig no_bind;
  no_bind.plugins["bind"].disabled = {"*"};
  EXPECT_FALSE(Framework::Create(no_bind, plugins::InTreeRegistry(), &handle).ok());

  ProfileConfig bad_args;
  bad_args.plugin_args["NodeResourcesFit"] =
      boost::json::object{{"scoringStrategy", boost::json::object{{"type", "X"}}}};
  failed = Framework::Create(bad_args, plugins::InTreeRegistry(), &handle);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("scoringStrategy.type"), std::string::npos);
}

TEST(FitError, UpstreamMessageForm) {
  FitError error;
  error.num_all_nodes = 3;
  error.diagnosis.node_to_status["a"] =
      PluginStatus::Unresolvable("node(s) had untolerated taint {k: v}");
  error.diagnosis.node_to_status["b"] = PluginStatus::Unschedulable("Insufficient cpu");
  error.diagnosis.node_to_status["c"] = PluginStatus::Unschedulable("Insufficient cpu");
  EXPECT_EQ(error.Message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
  error.diagnosis.post_filter_msg =
      "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling";
  EXPECT_EQ(error.Message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. "
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
}

TEST(ScheduleAlgorithm, NumFeasibleNodesToFind) {
  Parallelizer parallelizer(0);
  ScheduleAlgorithm algorithm(parallelizer);
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(std::nullopt, 10), 10);
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(std::nullopt, 100), 100);
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(std::nullopt, 1000), 420);  // 50 - 8 = 42%
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(std::nullopt, 5000), 500);  // 10%
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(std::nullopt, 6000), 300);  // 5% floor
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(30, 1000), 300);
  EXPECT_EQ(algorithm.NumFeasibleNodesToFind(1, 1000), 100);  // never below 100 nodes
  ScheduleAlgorithm configured(parallelizer, 50);
  EXPECT_EQ(configured.NumFeasibleNodesToFind(std::nullopt, 1000), 500);
}

TEST(ScheduleAlgorithm, PicksTheBestNodeAndExplainsFailures) {
  testing::FakeHandle handle;
  auto framework = MakeFramework(&handle);
  handle.SetNodes(
      {MakeNodeInfo(NodeBuilder("tainted").Taint("k", "v", "NoSchedule")),
       MakeNodeInfo(NodeBuilder("busy", "2"), {PodBuilder("x").Container("1500m", "").Build()}),
       MakeNodeInfo(NodeBuilder("free", "2"))});
  Parallelizer parallelizer(2);
  ScheduleAlgorithm algorithm(parallelizer);
  ScheduleResult result;
  FitError fit;
  std::string error;
  CycleState state;
  ASSERT_EQ(algorithm.SchedulePod(*framework, state, PodBuilder("p").Container("1", "").Info(),
                                  handle.snapshot(), result, fit, error),
            ScheduleOutcome::kScheduled)
      << error;
  EXPECT_EQ(result.suggested_host, "free");

  CycleState state2;
  ASSERT_EQ(algorithm.SchedulePod(*framework, state2, PodBuilder("q").Container("3", "").Info(),
                                  handle.snapshot(), result, fit, error),
            ScheduleOutcome::kUnschedulable);
  EXPECT_EQ(fit.Message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
  EXPECT_EQ(fit.diagnosis.unschedulable_plugins,
            (std::set<std::string>{"NodeResourcesFit", "TaintToleration"}));
}

TEST(ScheduleAlgorithm, ScoresPreferTheLeastAllocatedNode) {
  testing::FakeHandle handle;
  auto framework = MakeFramework(&handle);
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  for (int i = 0; i < 200; ++i) {
    std::vector<PodPtr> pods;
    if (i != 137) pods.push_back(PodBuilder("x" + std::to_string(i)).Container("2", "2Gi").Build());
    nodes.push_back(MakeNodeInfo(NodeBuilder("n" + std::to_string(1000 + i)), pods));
  }
  handle.SetNodes(nodes);
  Parallelizer parallelizer(2);
  ScheduleAlgorithm algorithm(parallelizer, 100);
  ScheduleResult result;
  FitError fit;
  std::string error;
  CycleState state;
  ASSERT_EQ(algorithm.SchedulePod(*framework, state, PodBuilder("p").Container("1", "1Gi").Info(),
                                  handle.snapshot(), result, fit, error),
            ScheduleOutcome::kScheduled);
  EXPECT_EQ(result.suggested_host, "n1137");
  EXPECT_EQ(result.feasible_nodes, 200);
}

TEST(ScheduleAlgorithm, RoundRobinStartWithAdaptivePercentage) {
  testing::FakeHandle handle;
  auto framework = MakeFramework(&handle);
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  for (int i = 0; i < 1000; ++i)
    nodes.push_back(MakeNodeInfo(NodeBuilder("n" + std::to_string(1000 + i))));
  handle.SetNodes(nodes);
  Parallelizer parallelizer(0);  // inline: deterministic
  ScheduleAlgorithm algorithm(parallelizer);
  ScheduleResult result;
  FitError fit;
  std::string error;
  CycleState state;
  ASSERT_EQ(algorithm.SchedulePod(*framework, state, PodBuilder("p").Info(), handle.snapshot(),
                                  result, fit, error),
            ScheduleOutcome::kScheduled);
  EXPECT_EQ(result.feasible_nodes, 420);
  EXPECT_EQ(algorithm.next_start_node_index(), 420u);
}

TEST(ScheduleAlgorithm, NoNodes) {
  testing::FakeHandle handle;
  auto framework = MakeFramework(&handle);
  Parallelizer parallelizer(0);
  ScheduleAlgorithm algorithm(parallelizer);
  ScheduleResult result;
  FitError fit;
  std::string error;
  CycleState state;
  EXPECT_EQ(algorithm.SchedulePod(*framework, state, PodBuilder("p").Info(), handle.snapshot(),
                                  result, fit, error),
            ScheduleOutcome::kError);
  EXPECT_EQ(error, "no nodes available to schedule pods");
}

}  // namespace
}  // namespace kpp::scheduler
