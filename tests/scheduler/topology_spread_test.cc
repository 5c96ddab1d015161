// PodTopologySpread after upstream's cases: hard constraints with maxSkew and minDomains,
// missing topology labels, node inclusion policies, and scoring of soft constraints.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "scheduler/plugins/registry.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;

api::core::v1::TopologySpreadConstraint Spread(const std::string& key, int32_t max_skew,
                                               const std::string& when = "DoNotSchedule",
                                               std::optional<int32_t> min_domains = std::nullopt) {
  api::core::v1::TopologySpreadConstraint c;
  c.topology_key = key;
  c.max_skew = max_skew;
  c.when_unsatisfiable = when;
  c.min_domains = min_domains;
  c.label_selector.emplace().match_labels["foo"] = "";
  return c;
}

PodPtr Labeled(const std::string& name, const std::string& node) {
  PodBuilder pod(name);
  pod.pod.metadata.labels["foo"] = "";
  pod.Node(node);
  return pod.Build();
}

class TopologySpreadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // upstream's layout: zone1 = node-a (1 foo pod), node-b (2); zone2 = node-x (0), node-y (1)
    nodes_ = {MakeNodeInfo(NodeBuilder("node-a").Label("zone", "zone1").Label("node", "node-a"),
                           {Labeled("p-a1", "node-a")}),
              MakeNodeInfo(NodeBuilder("node-b").Label("zone", "zone1").Label("node", "node-b"),
                           {Labeled("p-b1", "node-b"), Labeled("p-b2", "node-b")}),
              MakeNodeInfo(NodeBuilder("node-x").Label("zone", "zone2").Label("node", "node-x")),
              MakeNodeInfo(NodeBuilder("node-y").Label("zone", "zone2").Label("node", "node-y"),
                           {Labeled("p-y1", "node-y")})};
    handle_.SetNodes(nodes_);
    auto plugin = plugins::NewPodTopologySpread(nullptr, &handle_);
    ASSERT_TRUE(plugin.ok());
    plugin_ = *plugin;
  }

  // Which nodes pass the filter for `pod`.
  std::vector<std::string> Feasible(const PodBuilder& pod,
                                    std::vector<std::string>* reasons = nullptr) {
    CycleState state;
    PreFilterResult result;
    auto info = pod.Info();
    auto status = dynamic_cast<PreFilterPlugin*>(plugin_.get())->PreFilter(state, info, result);
    std::vector<std::string> out;
    for (const auto& node : nodes_) {
      if (status.IsSkip()) {
        out.push_back(node->name());
        continue;
      }
      auto filter = dynamic_cast<FilterPlugin*>(plugin_.get())->Filter(state, info, *node);
      if (filter.IsSuccess()) out.push_back(node->name());
      if (!filter.IsSuccess() && reasons != nullptr) reasons->push_back(filter.Message());
    }
    return out;
  }

  testing::FakeHandle handle_;
  std::vector<std::shared_ptr<NodeInfo>> nodes_;
  std::shared_ptr<Plugin> plugin_;
};

TEST_F(TopologySpreadTest, FilterByZoneAndNode) {
  struct Case {
    std::string name;
    std::vector<api::core::v1::TopologySpreadConstraint> constraints;
    std::vector<std::string> feasible;
  };
  std::vector<Case> cases = {
      // zone1 has 3, zone2 has 1: only zone2 keeps the skew <= 1.
      {"zone maxSkew 1", {Spread("zone", 1)}, {"node-x", "node-y"}},
      // zone1 3+1-1 = 3 > 2; zone2 1+1-1 = 1
      {"zone maxSkew 2", {Spread("zone", 2)}, {"node-x", "node-y"}},
      {"zone maxSkew 3", {Spread("zone", 3)}, {"node-a", "node-b", "node-x", "node-y"}},
      // per node: min is node-x with 0
      {"node maxSkew 1", {Spread("node", 1)}, {"node-x"}},
      {"node maxSkew 2", {Spread("node", 2)}, {"node-a", "node-x", "node-y"}},
      {"zone and node", {Spread("zone", 1), Spread("node", 1)}, {"node-x"}},
      // 2 zones < minDomains 3: the global minimum counts as 0.
      {"minDomains", {Spread("zone", 2, "DoNotSchedule", 3)}, {"node-y", "node-x"}},
      {"soft constraints do not filter",
       {Spread("zone", 1, "ScheduleAnyway")},
       {"node-a", "node-b", "node-x", "node-y"}},
  };
  for (auto& c : cases) {
    PodBuilder pod("new");
    pod.pod.metadata.labels["foo"] = "";
    pod.pod.spec.topology_spread_constraints = c.constraints;
    auto feasible = Feasible(pod);
    std::sort(feasible.begin(), feasible.end());
    std::sort(c.feasible.begin(), c.feasible.end());
    EXPECT_EQ(feasible, c.feasible) << c.name;
  }
}

TEST_F(TopologySpreadTest, MissingTopologyLabelAndReasons) {
  nodes_.push_back(MakeNodeInfo(NodeBuilder("no-zone")));
  handle_.SetNodes(nodes_);
  PodBuilder pod("new");
  pod.pod.metadata.labels["foo"] = "";
  pod.pod.spec.topology_spread_constraints = {Spread("zone", 1)};
  std::vector<std::string> reasons;
  Feasible(pod, &reasons);
  EXPECT_EQ(
      std::count(reasons.begin(), reasons.end(),
                 "node(s) didn't match pod topology spread constraints (missing required label)"),
      1);
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(),
                       "node(s) didn't match pod topology spread constraints"),
            2);
}

TEST_F(TopologySpreadTest, NodeAffinityPolicyHonorsTheSelector) {
  // Only zone1 nodes count when the pod selects zone1: the minimum is node-a's 1, so node-a
  // (1+1-1 = 1) fits and node-b (2+1-1 = 2) does not.
  PodBuilder pod("new");
  pod.pod.metadata.labels["foo"] = "";
  pod.Selector("zone", "zone1");
  pod.pod.spec.topology_spread_constraints = {Spread("node", 1)};
  auto feasible = Feasible(pod);
  EXPECT_NE(std::find(feasible.begin(), feasible.end(), "node-a"), feasible.end());
  EXPECT_EQ(std::find(feasible.begin(), feasible.end(), "node-b"), feasible.end());
}

TEST_F(TopologySpreadTest, ScorePrefersEmptierDomains) {
  PodBuilder pod("new");
  pod.pod.metadata.labels["foo"] = "";
  pod.pod.spec.topology_spread_constraints = {Spread("zone", 1, "ScheduleAnyway")};
  auto info = pod.Info();
  CycleState state;
  std::vector<NodeInfoPtr> feasible(nodes_.begin(), nodes_.end());
  ASSERT_TRUE(
      dynamic_cast<PreScorePlugin*>(plugin_.get())->PreScore(state, info, feasible).IsSuccess());
  auto* score = dynamic_cast<ScorePlugin*>(plugin_.get());
  std::vector<NodeScore> scores;
  for (const auto& node : nodes_) {
    int64_t s = 0;
    ASSERT_TRUE(score->Score(state, info, *node, s).IsSuccess());
    scores.push_back({node->name(), s});
  }
  // zone1: 3 pods * log(2+2) = 4.16 -> 4; zone2: 1 * 1.386 -> 1
  EXPECT_EQ(scores[0].score, 4);
  EXPECT_EQ(scores[2].score, 1);
  score->NormalizeScore(state, info, scores);
  // 100 * (4 + 1 - s) / 4
  EXPECT_EQ(scores[0].score, 25);
  EXPECT_EQ(scores[1].score, 25);
  EXPECT_EQ(scores[2].score, 100);
  EXPECT_EQ(scores[3].score, 100);
}

}  // namespace
}  // namespace kpp::scheduler

namespace kpp::scheduler {
namespace {

class DefaultingHandle : public testing::FakeHandle {
 public:
  labels::Selector DefaultSpreadSelector(const Pod& pod) const override {
    if (!pod.metadata.labels.contains("foo")) return labels::Selector::Nothing();
    return labels::Selector::FromSet({{"foo", ""}});
  }
};

TEST(TopologySpreadDefaults, SystemDefaultsSpreadOverHostsWithoutRequiringZones) {
  DefaultingHandle handle;
  std::vector<std::shared_ptr<NodeInfo>> nodes = {
      MakeNodeInfo(NodeBuilder("a").Label("kubernetes.io/hostname", "a"),
                   {Labeled("p1", "a"), Labeled("p2", "a")}),
      MakeNodeInfo(NodeBuilder("b").Label("kubernetes.io/hostname", "b"))};
  handle.SetNodes(nodes);
  auto plugin = plugins::NewPodTopologySpread(nullptr, &handle);
  ASSERT_TRUE(plugin.ok());
  auto* pre = dynamic_cast<PreScorePlugin*>(plugin->get());
  auto* score = dynamic_cast<ScorePlugin*>(plugin->get());
  // A pod nothing selects gets no defaults.
  CycleState skipped;
  std::vector<NodeInfoPtr> feasible(nodes.begin(), nodes.end());
  EXPECT_TRUE(pre->PreScore(skipped, PodBuilder("loner").Info(), feasible).IsSkip());

  PodBuilder pod("new");
  pod.pod.metadata.labels["foo"] = "";
  auto info = pod.Info();
  CycleState state;
  ASSERT_TRUE(pre->PreScore(state, info, feasible).IsSuccess());
  std::vector<NodeScore> scores;
  for (const auto& node : nodes) {
    int64_t s = 0;
    ASSERT_TRUE(score->Score(state, info, *node, s).IsSuccess());
    scores.push_back({node->name(), s});
  }
  score->NormalizeScore(state, info, scores);
  EXPECT_LT(scores[0].score, scores[1].score);
  EXPECT_EQ(scores[1].score, 100);
  // defaultingType List without constraints turns the defaults off.
  boost::json::value list = boost::json::parse(R"({"defaultingType":"List"})");
  auto listed = plugins::NewPodTopologySpread(&list, &handle);
  ASSERT_TRUE(listed.ok());
  CycleState none;
  EXPECT_TRUE(
      dynamic_cast<PreScorePlugin*>(listed->get())->PreScore(none, info, feasible).IsSkip());
}

}  // namespace
}  // namespace kpp::scheduler
