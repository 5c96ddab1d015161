// InterPodAffinity after upstream's cases: required affinity and anti-affinity by topology,
// the first pod of a self-affine group, existing pods' anti-affinity (symmetry), namespaces
// and namespaceSelector, and preferred terms in scoring.
#include <gtest/gtest.h>

#include "scheduler/plugins/registry.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;

api::core::v1::PodAffinityTerm Term(const std::string& key, const std::string& value,
                                    const std::string& topology_key) {
  api::core::v1::PodAffinityTerm term;
  term.label_selector.emplace().match_labels[key] = value;
  term.topology_key = topology_key;
  return term;
}

PodBuilder WithLabel(const std::string& name, const std::string& key, const std::string& value) {
  PodBuilder pod(name);
  pod.pod.metadata.labels[key] = value;
  return pod;
}

class NamespaceHandle : public testing::FakeHandle {
 public:
  std::map<std::string, std::string> NamespaceLabels(const std::string& ns) const override {
    if (ns == "team-a") return {{"team", "a"}};
    return {};
  }
};

class InterPodAffinityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = plugins::NewInterPodAffinity(nullptr, &handle_);
    ASSERT_TRUE(plugin.ok());
    plugin_ = *plugin;
  }
  void SetNodes(std::vector<std::shared_ptr<NodeInfo>> nodes) {
    nodes_ = std::move(nodes);
    handle_.SetNodes(nodes_);
    for (const auto& node : nodes_) {
      if (!node->pods_with_affinity.empty())
        handle_.snapshot_.nodes_with_affinity_pods.push_back(node);
      if (!node->pods_with_required_anti_affinity.empty()) {
        handle_.snapshot_.nodes_with_required_anti_affinity_pods.push_back(node);
      }
    }
  }
  std::map<std::string, std::string> Filter(const PodBuilder& pod) {
    CycleState state;
    PreFilterResult result;
    auto info = pod.Info();
    auto status = dynamic_cast<PreFilterPlugin*>(plugin_.get())->PreFilter(state, info, result);
    std::map<std::string, std::string> out;
    for (const auto& node : nodes_) {
      if (status.IsSkip()) {
        out[node->name()] = "";
        continue;
      }
      out[node->name()] =
          dynamic_cast<FilterPlugin*>(plugin_.get())->Filter(state, info, *node).Message();
    }
    return out;
  }

  NamespaceHandle handle_;
  std::vector<std::shared_ptr<NodeInfo>> nodes_;
  std::shared_ptr<Plugin> plugin_;
};

TEST_F(InterPodAffinityTest, RequiredAffinityFollowsTheTopology) {
  SetNodes({MakeNodeInfo(NodeBuilder("a1").Label("zone", "a"),
                         {WithLabel("db", "app", "db").Node("a1").Build()}),
            MakeNodeInfo(NodeBuilder("a2").Label("zone", "a")),
            MakeNodeInfo(NodeBuilder("b1").Label("zone", "b")),
            MakeNodeInfo(NodeBuilder("nolabel"))});
  PodBuilder pod("web");
  pod.pod.spec.affinity.emplace()
      .pod_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(Term("app", "db", "zone"));
  auto result = Filter(pod);
  EXPECT_EQ(result["a1"], "");
  EXPECT_EQ(result["a2"], "");  // same zone as the db pod
  EXPECT_EQ(result["b1"], "node(s) didn't match pod affinity rules");
  EXPECT_EQ(result["nolabel"], "node(s) didn't match pod affinity rules");

  // A term in another namespace does not see the db pod.
  PodBuilder other("web2");
  other.pod.spec.affinity.emplace()
      .pod_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(Term("app", "db", "zone"));
  other.pod.spec.affinity->pod_affinity->required_during_scheduling_ignored_during_execution[0]
      .namespaces = {"elsewhere"};
  EXPECT_EQ(Filter(other)["a1"], "node(s) didn't match pod affinity rules");
}

TEST_F(InterPodAffinityTest, FirstPodOfASelfAffineGroup) {
  SetNodes(
      {MakeNodeInfo(NodeBuilder("a1").Label("zone", "a")), MakeNodeInfo(NodeBuilder("nolabel"))});
  PodBuilder pod = WithLabel("first", "app", "web");
  pod.pod.spec.affinity.emplace()
      .pod_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(Term("app", "web", "zone"));
  auto result = Filter(pod);
  EXPECT_EQ(result["a1"], "");
  EXPECT_EQ(result["nolabel"], "node(s) didn't match pod affinity rules");
}

TEST_F(InterPodAffinityTest, AntiAffinityBothWays) {
  PodBuilder existing = WithLabel("existing", "app", "cache");
  existing.pod.spec.affinity.emplace()
      .pod_anti_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(
          Term("app", "cache", "kubernetes.io/hostname"));
  existing.Node("n1");
  SetNodes(
      {MakeNodeInfo(NodeBuilder("n1").Label("kubernetes.io/hostname", "n1"), {existing.Build()}),
       MakeNodeInfo(NodeBuilder("n2").Label("kubernetes.io/hostname", "n2"))});
  // The existing pod repels another cache pod (symmetry), even one without terms of its own.
  auto result = Filter(WithLabel("cache2", "app", "cache"));
  EXPECT_EQ(result["n1"], "node(s) didn't satisfy existing pods anti-affinity rules");
  EXPECT_EQ(result["n2"], "");
  // A pod whose own anti-affinity selects the existing pod.
  PodBuilder repelled("other");
  repelled.pod.spec.affinity.emplace()
      .pod_anti_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(
          Term("app", "cache", "kubernetes.io/hostname"));
  result = Filter(repelled);
  EXPECT_EQ(result["n1"], "node(s) didn't match pod anti-affinity rules");
  EXPECT_EQ(result["n2"], "");
  // Unrelated pods are not affected.
  result = Filter(WithLabel("web", "app", "web"));
  EXPECT_EQ(result["n1"], "");
}

TEST_F(InterPodAffinityTest, NamespaceSelector) {
  PodBuilder db = WithLabel("db", "app", "db");
  db.pod.metadata.namespace_ = "team-a";
  db.Node("a1");
  SetNodes({MakeNodeInfo(NodeBuilder("a1").Label("zone", "a"), {db.Build()}),
            MakeNodeInfo(NodeBuilder("b1").Label("zone", "b"))});
  PodBuilder pod("web");
  auto term = Term("app", "db", "zone");
  term.namespace_selector.emplace().match_labels["team"] = "a";
  pod.pod.spec.affinity.emplace()
      .pod_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(term);
  auto result = Filter(pod);
  EXPECT_EQ(result["a1"], "");
  EXPECT_EQ(result["b1"], "node(s) didn't match pod affinity rules");
}

TEST_F(InterPodAffinityTest, PreferredTermsScore) {
  SetNodes({MakeNodeInfo(NodeBuilder("a1").Label("zone", "a"),
                         {WithLabel("db", "app", "db").Node("a1").Build()}),
            MakeNodeInfo(NodeBuilder("b1").Label("zone", "b"),
                         {WithLabel("web", "app", "web").Node("b1").Build()}),
            MakeNodeInfo(NodeBuilder("c1").Label("zone", "c"))});
  PodBuilder pod("new");
  auto& affinity = pod.pod.spec.affinity.emplace();
  api::core::v1::WeightedPodAffinityTerm prefer;
  prefer.weight = 5;
  prefer.pod_affinity_term = Term("app", "db", "zone");
  affinity.pod_affinity.emplace().preferred_during_scheduling_ignored_during_execution.push_back(
      prefer);
  prefer.weight = 3;
  prefer.pod_affinity_term = Term("app", "web", "zone");
  affinity.pod_anti_affinity.emplace()
      .preferred_during_scheduling_ignored_during_execution.push_back(prefer);
  auto info = pod.Info();
  CycleState state;
  std::vector<NodeInfoPtr> feasible(nodes_.begin(), nodes_.end());
  ASSERT_TRUE(
      dynamic_cast<PreScorePlugin*>(plugin_.get())->PreScore(state, info, feasible).IsSuccess());
  auto* score = dynamic_cast<ScorePlugin*>(plugin_.get());
  std::vector<NodeScore> scores;
  for (const auto& node : nodes_) {
    int64_t s = 0;
    score->Score(state, info, *node, s);
    scores.push_back({node->name(), s});
  }
  EXPECT_EQ(scores[0].score, 5);
  EXPECT_EQ(scores[1].score, -3);
  EXPECT_EQ(scores[2].score, 0);
  score->NormalizeScore(state, info, scores);
  EXPECT_EQ(scores[0].score, 100);
  EXPECT_EQ(scores[1].score, 0);
  EXPECT_EQ(scores[2].score, 37);  // 100 * 3 / 8
}

}  // namespace
}  // namespace kpp::scheduler
