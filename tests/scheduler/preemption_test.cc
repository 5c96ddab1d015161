// DefaultPreemption: victims are the fewest lower-priority pods (the most important reprieved
// first), the node with the least important victims is nominated, and pods that cannot or may
// not preempt get upstream's messages.
#include <gtest/gtest.h>

#include "scheduler/plugins/registry.h"
#include "scheduler/schedule_one.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;

class PreemptionHandle : public testing::FakeHandle {
 public:
  PluginStatus RunFilters(const CycleState& state, const PodInfo& pod,
                          const NodeInfo& node) const override {
    return framework->RunFilter(state, pod, node);
  }
  void RecordEvent(const Pod& pod, const std::string&, const std::string& reason,
                   const std::string& message) override {
    events.push_back(pod.metadata.name + " " + reason + ": " + message);
  }
  std::unique_ptr<Framework> framework;
  std::vector<std::string> events;
};

class PreemptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto framework = Framework::Create(ProfileConfig{}, plugins::InTreeRegistry(), &handle_);
    ASSERT_TRUE(framework.ok()) << framework.error().message();
    handle_.framework = std::move(*framework);
    handle_.SetNodes(
        {MakeNodeInfo(NodeBuilder("n1", "2"),
                      {PodBuilder("lo1").Container("1", "").Priority(1).Node("n1").Build(),
                       PodBuilder("lo2").Container("1", "").Priority(5).Node("n1").Build()}),
         MakeNodeInfo(NodeBuilder("n2", "2"),
                      {PodBuilder("mid").Container("2", "").Priority(10).Node("n2").Build()}),
         MakeNodeInfo(NodeBuilder("tainted", "8").Taint("k", "v", "NoSchedule"))});
  }

  // Runs a full cycle; returns the outcome with the FitError message (after PostFilter) and the
  // nominated node.
  std::pair<std::string, std::string> Schedule(const PodBuilder& pod) {
    Parallelizer parallelizer(0);
    ScheduleAlgorithm algorithm(parallelizer);
    CycleState state;
    ScheduleResult result;
    FitError fit;
    std::string error;
    auto info = pod.Info();
    auto outcome = algorithm.SchedulePod(*handle_.framework, state, info, handle_.snapshot(),
                                         result, fit, error);
    if (outcome == ScheduleOutcome::kScheduled)
      return {"scheduled on " + result.suggested_host, ""};
    PostFilterResult post;
    auto status = handle_.framework->RunPostFilter(state, info, fit.diagnosis.node_to_status, post);
    if (!status.IsSuccess()) fit.diagnosis.post_filter_msg = status.Message();
    return {fit.Message(), post.nominated_node_name};
  }

  PreemptionHandle handle_;
};

TEST_F(PreemptionTest, NominatesTheNodeWithTheLeastImportantVictims) {
  auto [message, nominated] = Schedule(PodBuilder("high").Container("1", "").Priority(100));
  EXPECT_EQ(nominated, "n1");
  // lo2 (priority 5) is reprieved: removing lo1 alone makes room.
  EXPECT_EQ(handle_.events,
            std::vector<std::string>{"lo1 Preempted: Preempted by pod uid-high on node n1"});
  EXPECT_EQ(message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.");
}

TEST_F(PreemptionTest, NothingOfLowerPriority) {
  auto [message, nominated] = Schedule(PodBuilder("low").Container("1", "").Priority(0));
  EXPECT_EQ(nominated, "");
  EXPECT_EQ(message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. "
            "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No "
            "preemption victims found for incoming pod..");
  EXPECT_TRUE(handle_.events.empty());
}

TEST_F(PreemptionTest, EvenWithoutVictimsItDoesNotFit) {
  auto [message, nominated] = Schedule(PodBuilder("huge").Container("4", "").Priority(100));
  EXPECT_EQ(nominated, "");
  EXPECT_EQ(message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. "
            "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 "
            "Insufficient cpu..");
}

TEST_F(PreemptionTest, PreemptionPolicyNever) {
  PodBuilder pod("polite");
  pod.Container("1", "").Priority(100);
  pod.pod.spec.preemption_policy = "Never";
  auto [message, nominated] = Schedule(pod);
  EXPECT_EQ(nominated, "");
  EXPECT_EQ(message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. "
            "preemption: not eligible due to preemptionPolicy=Never..");
}

}  // namespace
}  // namespace kpp::scheduler
