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
  std::vector<std::shared_ptr<const api::policy::v1::PodDisruptionBudget>> PodDisruptionBudgets()
      const override {
    return budgets;
  }
  std::unique_ptr<Framework> framework;
  std::vector<std::string> events;
  std::vector<std::shared_ptr<const api::policy::v1::PodDisruptionBudget>> budgets;
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

  // A budget over app=`app` in "default" with `allowed` disruptions left.
  void AddBudget(const std::string& app, int32_t allowed,
                 std::map<std::string, api::Time> disrupted = {}) {
    api::policy::v1::PodDisruptionBudget budget;
    budget.metadata.namespace_ = "default";
    budget.metadata.name = app;
    api::meta::v1::LabelSelector selector;
    selector.match_labels = {{"app", app}};
    budget.spec.selector = selector;
    budget.status.disruptions_allowed = allowed;
    budget.status.disrupted_pods = std::move(disrupted);
    handle_.budgets.push_back(
        std::make_shared<const api::policy::v1::PodDisruptionBudget>(std::move(budget)));
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

// Upstream's PodDisruptionBudget handling: victims whose deletion would violate a budget are
// reprieved first, and nodes with fewer violations are preferred.
class PreemptionBudgetTest : public PreemptionTest {
 protected:
  static PodPtr Labeled(const std::string& name, const std::string& cpu, int32_t priority,
                        const std::string& node, const std::string& app) {
    PodBuilder pod(name);
    pod.Container(cpu, "").Priority(priority).Node(node);
    if (!app.empty()) pod.pod.metadata.labels["app"] = app;
    return pod.Build();
  }
};

TEST_F(PreemptionBudgetTest, ReprievesTheGuardedPodFirst) {
  handle_.SetNodes({MakeNodeInfo(NodeBuilder("n1", "2"), {Labeled("guarded", "1", 1, "n1", "db"),
                                                          Labeled("plain", "1", 5, "n1", "")})});
  // Without a budget the less important pod goes.
  Schedule(PodBuilder("high").Container("1", "").Priority(100));
  EXPECT_EQ(handle_.events,
            std::vector<std::string>{"guarded Preempted: Preempted by pod uid-high on node n1"});
  handle_.events.clear();
  AddBudget("db", 0);
  auto [message, nominated] = Schedule(PodBuilder("high").Container("1", "").Priority(100));
  EXPECT_EQ(nominated, "n1");
  EXPECT_EQ(handle_.events,
            std::vector<std::string>{"plain Preempted: Preempted by pod uid-high on node n1"});
}

TEST_F(PreemptionBudgetTest, PrefersTheNodeWithFewerViolations) {
  auto nodes = [] {
    return std::vector<std::shared_ptr<NodeInfo>>{
        MakeNodeInfo(NodeBuilder("n1", "2"),
                     {Labeled("g1", "1", 1, "n1", "db"), Labeled("g2", "1", 1, "n1", "db")}),
        MakeNodeInfo(NodeBuilder("n2", "2"), {Labeled("x", "2", 20, "n2", "")})};
  };
  const auto pod = PodBuilder("big").Container("2", "").Priority(100);
  handle_.SetNodes(nodes());
  EXPECT_EQ(Schedule(pod).second, "n1");  // the least important victims

  // One disruption left: taking both of n1's pods violates the budget once.
  handle_.events.clear();
  AddBudget("db", 1);
  EXPECT_EQ(Schedule(pod).second, "n2");
  EXPECT_EQ(handle_.events,
            std::vector<std::string>{"x Preempted: Preempted by pod uid-big on node n2"});

  // A pod the budget already counts as disrupted does not use it again.
  handle_.budgets.clear();
  AddBudget("db", 1, {{"g2", api::Time::FromUnixSeconds(1'700'000'000)}});
  EXPECT_EQ(Schedule(pod).second, "n1");

  // Budgets of other namespaces and budgets selecting nothing do not count.
  handle_.budgets.clear();
  AddBudget("db", 0);
  auto other = std::make_shared<api::policy::v1::PodDisruptionBudget>(*handle_.budgets[0]);
  other->metadata.namespace_ = "elsewhere";
  auto empty = std::make_shared<api::policy::v1::PodDisruptionBudget>(*handle_.budgets[0]);
  empty->spec.selector = api::meta::v1::LabelSelector{};
  handle_.budgets = {other, empty};
  EXPECT_EQ(Schedule(pod).second, "n1");
}

}  // namespace
}  // namespace kpp::scheduler
