// Table-driven tests of the in-tree plugins, after upstream's cases.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "scheduler/plugins/registry.h"
#include "test_util.h"

namespace kpp::scheduler {
namespace {

using testing::MakeNodeInfo;
using testing::NodeBuilder;
using testing::PodBuilder;

template <typename T>
std::shared_ptr<Plugin> Make(T factory, const std::string& args = "", Handle* handle = nullptr) {
  boost::json::value parsed;
  if (!args.empty()) parsed = boost::json::parse(args);
  auto plugin = factory(args.empty() ? nullptr : &parsed, handle);
  EXPECT_TRUE(plugin.ok()) << plugin.error().message();
  return plugin.ok() ? *plugin : nullptr;
}

PluginStatus RunFilter(const std::shared_ptr<Plugin>& plugin, const PodInfo& pod,
                       const NodeInfo& node) {
  CycleState state;
  if (auto* pre = dynamic_cast<PreFilterPlugin*>(plugin.get())) {
    PreFilterResult result;
    auto status = pre->PreFilter(state, pod, result);
    if (status.IsSkip()) return {};
    if (!status.IsSuccess()) return status;
  }
  return dynamic_cast<FilterPlugin*>(plugin.get())->Filter(state, pod, node);
}

TEST(PodRequests, InitContainersSidecarsAndOverhead) {
  struct Case {
    std::string name;
    PodBuilder pod;
    int64_t cpu;
    int64_t memory;
  };
  std::vector<Case> cases = {
      {"containers add up", PodBuilder("a").Container("1", "1Gi").Container("500m", "1Gi"), 1500,
       2LL << 30},
      {"a bigger init container wins", PodBuilder("b").Container("1", "1Gi").Init("2", "512Mi"),
       2000, 1LL << 30},
      {"sidecars run with the containers",
       PodBuilder("c").Container("1", "1Gi").Init("500m", "", /*sidecar=*/true), 1500, 1LL << 30},
      {"an init container after a sidecar runs next to it",
       PodBuilder("d").Container("100m", "").Init("1", "", true).Init("2", ""), 3000, 0},
  };
  for (const auto& c : cases) {
    Resource r = PodRequests(c.pod.pod);
    EXPECT_EQ(r.milli_cpu, c.cpu) << c.name;
    EXPECT_EQ(r.memory, c.memory) << c.name;
  }
  PodBuilder with_overhead("e");
  with_overhead.Container("1", "1Gi");
  with_overhead.pod.spec.overhead["cpu"] = testing::Q("250m");
  EXPECT_EQ(PodRequests(with_overhead.pod).milli_cpu, 1250);
  // Non-zero defaults apply per container without a request, for scoring.
  Resource non_zero = PodRequests(PodBuilder("f").Container("", "").pod, true);
  EXPECT_EQ(non_zero.milli_cpu, kDefaultMilliCpuRequest);
  EXPECT_EQ(non_zero.memory, kDefaultMemoryRequest);
}

TEST(NodeResourcesFit, Filter) {
  auto fit = Make(plugins::NewNodeResourcesFit);
  struct Case {
    std::string name;
    PodBuilder pod;
    std::vector<PodPtr> existing;
    NodeBuilder node;
    Code code;
    std::vector<std::string> reasons;
  };
  NodeBuilder small("n", "2", "4Gi", "2");
  std::vector<Case> cases = {
      {"no requests fit", PodBuilder("p"), {}, small, Code::kSuccess, {}},
      {"fits",
       PodBuilder("p").Container("1", "1Gi"),
       {PodBuilder("x").Container("1", "1Gi").Build()},
       small,
       Code::kSuccess,
       {}},
      {"too much cpu",
       PodBuilder("p").Container("2", "1Gi"),
       {PodBuilder("x").Container("1", "1Gi").Build()},
       small,
       Code::kUnschedulable,
       {"Insufficient cpu"}},
      {"too much cpu and memory",
       PodBuilder("p").Container("3", "5Gi"),
       {},
       small,
       Code::kUnschedulable,
       {"Insufficient cpu", "Insufficient memory"}},
      {"init container counts",
       PodBuilder("p").Container("1", "").Init("3", ""),
       {},
       small,
       Code::kUnschedulable,
       {"Insufficient cpu"}},
      {"too many pods",
       PodBuilder("p"),
       {PodBuilder("x").Build(), PodBuilder("y").Build()},
       small,
       Code::kUnschedulable,
       {"Too many pods"}},
      {"extended resource missing",
       PodBuilder("p").Request("example.com/gpu", "1"),
       {},
       small,
       Code::kUnschedulable,
       {"Insufficient example.com/gpu"}},
      {"extended resource present",
       PodBuilder("p").Request("example.com/gpu", "1"),
       {},
       NodeBuilder("n").Allocatable("example.com/gpu", "2"),
       Code::kSuccess,
       {}},
  };
  for (const auto& c : cases) {
    auto node = MakeNodeInfo(c.node, c.existing);
    auto status = RunFilter(fit, c.pod.Info(), *node);
    EXPECT_EQ(status.code(), c.code) << c.name;
    EXPECT_EQ(status.reasons(), c.reasons) << c.name;
  }
  auto ignoring = Make(plugins::NewNodeResourcesFit, R"({"ignoredResources":["example.com/gpu"]})");
  auto node = MakeNodeInfo(small);
  EXPECT_TRUE(RunFilter(ignoring, PodBuilder("p").Request("example.com/gpu", "1").Info(), *node)
                  .IsSuccess());
}

int64_t ScoreOf(const std::shared_ptr<Plugin>& plugin, const PodInfo& pod, const NodeInfo& node) {
  CycleState state;
  int64_t score = -1;
  EXPECT_TRUE(dynamic_cast<ScorePlugin*>(plugin.get())->Score(state, pod, node, score).IsSuccess());
  return score;
}

TEST(NodeResourcesFit, ScoringStrategies) {
  // upstream's example: node 4000m / 10000 memory; pod 3000m / 5000 with nothing else.
  NodeBuilder node("n", "4", "10000");
  auto info = MakeNodeInfo(node);
  auto pod = PodBuilder("p").Container("3", "5000").Info();
  // LeastAllocated: cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 -> 37
  EXPECT_EQ(ScoreOf(Make(plugins::NewNodeResourcesFit), pod, *info), 37);
  // MostAllocated: 75 and 50 -> 62
  EXPECT_EQ(
      ScoreOf(Make(plugins::NewNodeResourcesFit, R"({"scoringStrategy":{"type":"MostAllocated"}})"),
              pod, *info),
      62);
  // RequestedToCapacityRatio with shape 0->0, 100->10: like MostAllocated, rounded: 63
  EXPECT_EQ(ScoreOf(Make(plugins::NewNodeResourcesFit,
                         R"({"scoringStrategy":{"type":"RequestedToCapacityRatio",
                              "resources":[{"name":"cpu","weight":1},{"name":"memory","weight":1}],
                              "requestedToCapacityRatio":{"shape":[{"utilization":0,"score":0},
                                                                   {"utilization":100,"score":10}]}}})"),
                    pod, *info),
            63);
  // Weights: cpu 3, memory 1 with LeastAllocated: (25*3 + 50)/4 = 31
  EXPECT_EQ(ScoreOf(Make(plugins::NewNodeResourcesFit,
                         R"({"scoringStrategy":{"type":"LeastAllocated","resources":[
                              {"name":"cpu","weight":3},{"name":"memory","weight":1}]}})"),
                    pod, *info),
            31);
}

TEST(NodeResourcesFit, InvalidArgsNameTheField) {
  boost::json::value args = boost::json::parse(R"({"scoringStrategy":{"type":"Nope"}})");
  auto plugin = plugins::NewNodeResourcesFit(&args, nullptr);
  ASSERT_FALSE(plugin.ok());
  EXPECT_NE(plugin.error().message().find("scoringStrategy.type: Unsupported value: \"Nope\""),
            std::string::npos);
  args = boost::json::parse(R"({"scoringStrategy":{"resources":[{"name":"cpu","weight":0}]}})");
  plugin = plugins::NewNodeResourcesFit(&args, nullptr);
  ASSERT_FALSE(plugin.ok());
  EXPECT_NE(plugin.error().message().find("scoringStrategy.resources[0].weight"),
            std::string::npos);
  args = boost::json::parse(R"({"bogus":1})");
  EXPECT_FALSE(plugins::NewNodeResourcesFit(&args, nullptr).ok());
}

TEST(BalancedAllocation, Score) {
  // cpu 3000/4000 = 0.75, memory 5000/10000 = 0.5: std 0.125 -> 87
  auto info = MakeNodeInfo(NodeBuilder("n", "4", "10000"));
  EXPECT_EQ(ScoreOf(Make(plugins::NewBalancedAllocation),
                    PodBuilder("p").Container("3", "5000").Info(), *info),
            87);
  // Perfectly balanced: 100
  EXPECT_EQ(ScoreOf(Make(plugins::NewBalancedAllocation),
                    PodBuilder("p").Container("2", "5000").Info(), *info),
            100);
}

TEST(TaintToleration, Filter) {
  auto plugin = Make(plugins::NewTaintToleration);
  struct Case {
    std::string name;
    PodBuilder pod;
    NodeBuilder node;
    Code code;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"no taints", PodBuilder("p"), NodeBuilder("n"), Code::kSuccess, ""},
      {"untolerated NoSchedule", PodBuilder("p"),
       NodeBuilder("n").Taint("dedicated", "gpu", "NoSchedule"),
       Code::kUnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
      {"tolerated by Equal", PodBuilder("p").Toleration("dedicated", "Equal", "gpu", "NoSchedule"),
       NodeBuilder("n").Taint("dedicated", "gpu", "NoSchedule"), Code::kSuccess, ""},
      {"value differs", PodBuilder("p").Toleration("dedicated", "Equal", "cpu", "NoSchedule"),
       NodeBuilder("n").Taint("dedicated", "gpu", "NoSchedule"),
       Code::kUnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
      {"Exists without key tolerates all", PodBuilder("p").Toleration("", "Exists", "", ""),
       NodeBuilder("n").Taint("a", "b", "NoExecute"), Code::kSuccess, ""},
      {"effect must match", PodBuilder("p").Toleration("a", "Exists", "", "NoExecute"),
       NodeBuilder("n").Taint("a", "b", "NoSchedule"), Code::kUnschedulableAndUnresolvable,
       "node(s) had untolerated taint {a: b}"},
      {"PreferNoSchedule does not filter", PodBuilder("p"),
       NodeBuilder("n").Taint("a", "b", "PreferNoSchedule"), Code::kSuccess, ""},
  };
  for (const auto& c : cases) {
    auto status = RunFilter(plugin, c.pod.Info(), *MakeNodeInfo(c.node));
    EXPECT_EQ(status.code(), c.code) << c.name;
    if (!c.reason.empty()) {
      EXPECT_EQ(status.Message(), c.reason) << c.name;
    }
  }
}

TEST(TaintToleration, ScorePrefersFewerIntoleratedPreferNoSchedule) {
  auto plugin = Make(plugins::NewTaintToleration);
  auto* score = dynamic_cast<ScorePlugin*>(plugin.get());
  auto pod = PodBuilder("p").Toleration("foo", "Equal", "bar", "PreferNoSchedule").Info();
  auto n1 = MakeNodeInfo(NodeBuilder("n1").Taint("foo", "bar", "PreferNoSchedule"));
  auto n2 = MakeNodeInfo(NodeBuilder("n2").Taint("cpu", "x", "PreferNoSchedule"));
  auto n3 = MakeNodeInfo(
      NodeBuilder("n3").Taint("cpu", "x", "PreferNoSchedule").Taint("m", "y", "PreferNoSchedule"));
  std::vector<NodeScore> scores;
  for (const auto& node : {n1, n2, n3}) {
    scores.push_back({node->name(), ScoreOf(plugin, pod, *node)});
  }
  CycleState state;
  score->NormalizeScore(state, pod, scores);
  EXPECT_EQ(scores[0].score, 100);
  EXPECT_EQ(scores[1].score, 50);
  EXPECT_EQ(scores[2].score, 0);
}

TEST(NodeAffinity, FilterOperatorsAndFields) {
  auto plugin = Make(plugins::NewNodeAffinity);
  auto node = NodeBuilder("node-1").Label("zone", "a").Label("gen", "5");
  auto term = [](std::vector<api::core::v1::NodeSelectorRequirement> expressions,
                 std::vector<api::core::v1::NodeSelectorRequirement> fields = {}) {
    api::core::v1::NodeSelectorTerm t;
    t.match_expressions = std::move(expressions);
    t.match_fields = std::move(fields);
    return t;
  };
  auto req = [](std::string key, std::string op, std::vector<std::string> values) {
    api::core::v1::NodeSelectorRequirement r;
    r.key = std::move(key);
    r.operator_ = std::move(op);
    r.values = std::move(values);
    return r;
  };
  struct Case {
    std::string name;
    std::vector<api::core::v1::NodeSelectorTerm> terms;
    bool fits;
  };
  std::vector<Case> cases = {
      {"In", {term({req("zone", "In", {"a", "b"})})}, true},
      {"In misses", {term({req("zone", "In", {"b"})})}, false},
      {"NotIn", {term({req("zone", "NotIn", {"b"})})}, true},
      {"NotIn on a missing label", {term({req("rack", "NotIn", {"b"})})}, true},
      {"Exists", {term({req("zone", "Exists", {})})}, true},
      {"DoesNotExist", {term({req("zone", "DoesNotExist", {})})}, false},
      {"Gt", {term({req("gen", "Gt", {"4"})})}, true},
      {"Gt equal", {term({req("gen", "Gt", {"5"})})}, false},
      {"Lt", {term({req("gen", "Lt", {"6"})})}, true},
      {"Lt not a number", {term({req("zone", "Lt", {"6"})})}, false},
      {"terms are ORed", {term({req("zone", "In", {"b"})}), term({req("gen", "In", {"5"})})}, true},
      {"expressions are ANDed", {term({req("zone", "In", {"a"}), req("gen", "In", {"4"})})}, false},
      {"an empty term matches nothing", {term({})}, false},
      {"matchFields metadata.name", {term({}, {req("metadata.name", "In", {"node-1"})})}, true},
      {"matchFields other name", {term({}, {req("metadata.name", "In", {"node-2"})})}, false},
  };
  for (const auto& c : cases) {
    PodBuilder pod("p");
    pod.pod.spec.affinity.emplace()
        .node_affinity.emplace()
        .required_during_scheduling_ignored_during_execution.emplace()
        .node_selector_terms = c.terms;
    auto status = RunFilter(plugin, pod.Info(), *MakeNodeInfo(node));
    EXPECT_EQ(status.IsSuccess(), c.fits) << c.name;
    if (!c.fits) {
      EXPECT_EQ(status.code(), Code::kUnschedulableAndUnresolvable) << c.name;
      EXPECT_EQ(status.Message(), "node(s) didn't match Pod's node affinity/selector") << c.name;
    }
  }
  EXPECT_TRUE(RunFilter(plugin, PodBuilder("p").Selector("zone", "a").Info(), *MakeNodeInfo(node))
                  .IsSuccess());
  EXPECT_FALSE(RunFilter(plugin, PodBuilder("p").Selector("zone", "b").Info(), *MakeNodeInfo(node))
                   .IsSuccess());
}

TEST(NodeAffinity, PreferredScore) {
  auto plugin = Make(plugins::NewNodeAffinity);
  PodBuilder pod("p");
  auto& preferred = pod.pod.spec.affinity.emplace()
                        .node_affinity.emplace()
                        .preferred_during_scheduling_ignored_during_execution;
  api::core::v1::PreferredSchedulingTerm t;
  t.weight = 2;
  t.preference.match_expressions.push_back({"zone", "In", {"a"}});
  preferred.push_back(t);
  t.weight = 6;
  t.preference.match_expressions = {{"disk", "In", {"ssd"}}};
  preferred.push_back(t);
  auto a = MakeNodeInfo(NodeBuilder("a").Label("zone", "a"));
  auto b = MakeNodeInfo(NodeBuilder("b").Label("zone", "a").Label("disk", "ssd"));
  auto c = MakeNodeInfo(NodeBuilder("c"));
  auto info = pod.Info();
  std::vector<NodeScore> scores = {{"a", ScoreOf(plugin, info, *a)},
                                   {"b", ScoreOf(plugin, info, *b)},
                                   {"c", ScoreOf(plugin, info, *c)}};
  EXPECT_EQ(scores[0].score, 2);
  EXPECT_EQ(scores[1].score, 8);
  CycleState state;
  dynamic_cast<ScorePlugin*>(plugin.get())->NormalizeScore(state, info, scores);
  EXPECT_EQ(scores[0].score, 25);
  EXPECT_EQ(scores[1].score, 100);
  EXPECT_EQ(scores[2].score, 0);
}

TEST(NodeAffinity, AddedAffinityFromTheProfile) {
  auto plugin = Make(plugins::NewNodeAffinity, R"({"addedAffinity":{
      "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"pool","operator":"In","values":["batch"]}]}]},
      "preferredDuringSchedulingIgnoredDuringExecution":[
        {"weight":7,"preference":{"matchExpressions":[{"key":"disk","operator":"Exists"}]}}]}})");
  auto batch = MakeNodeInfo(NodeBuilder("b").Label("pool", "batch").Label("disk", "ssd"));
  auto other = MakeNodeInfo(NodeBuilder("o").Label("pool", "web"));
  // Applies to pods without any affinity of their own.
  EXPECT_TRUE(RunFilter(plugin, PodBuilder("p").Info(), *batch).IsSuccess());
  EXPECT_EQ(RunFilter(plugin, PodBuilder("p").Info(), *other).Message(),
            "node(s) didn't match scheduler-enforced node affinity");
  EXPECT_EQ(ScoreOf(plugin, PodBuilder("p").Info(), *batch), 7);
  boost::json::value bad = boost::json::parse(R"({"addedAffinity":{"bogus":1}})");
  EXPECT_FALSE(plugins::NewNodeAffinity(&bad, nullptr).ok());
}

TEST(NodeUnschedulableAndNodeName, Filter) {
  auto unschedulable = Make(plugins::NewNodeUnschedulable);
  auto cordoned = MakeNodeInfo(NodeBuilder("n").Unschedulable());
  auto status = RunFilter(unschedulable, PodBuilder("p").Info(), *cordoned);
  EXPECT_EQ(status.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(status.Message(), "node(s) were unschedulable");
  EXPECT_TRUE(
      RunFilter(unschedulable,
                PodBuilder("p")
                    .Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule")
                    .Info(),
                *cordoned)
          .IsSuccess());
  auto name = Make(plugins::NewNodeName);
  EXPECT_TRUE(RunFilter(name, PodBuilder("p").Node("n").Info(), *cordoned).IsSuccess());
  EXPECT_EQ(RunFilter(name, PodBuilder("p").Node("m").Info(), *cordoned).Message(),
            "node(s) didn't match the requested node name");
}

TEST(NodePorts, Filter) {
  auto plugin = Make(plugins::NewNodePorts);
  auto node =
      MakeNodeInfo(NodeBuilder("n"), {PodBuilder("x").HostPort(8080).Build(),
                                      PodBuilder("y").HostPort(9090, "UDP", "10.0.0.1").Build()});
  EXPECT_FALSE(RunFilter(plugin, PodBuilder("p").HostPort(8080).Info(), *node).IsSuccess());
  EXPECT_EQ(RunFilter(plugin, PodBuilder("p").HostPort(8080).Info(), *node).Message(),
            "node(s) didn't have free ports for the requested pod ports");
  EXPECT_TRUE(RunFilter(plugin, PodBuilder("p").HostPort(8080, "UDP").Info(), *node).IsSuccess());
  EXPECT_TRUE(RunFilter(plugin, PodBuilder("p").HostPort(9090, "UDP", "10.0.0.2").Info(), *node)
                  .IsSuccess());
  EXPECT_FALSE(RunFilter(plugin, PodBuilder("p").HostPort(9090, "UDP").Info(), *node).IsSuccess());
  // Removing the pod frees its port.
  node->RemovePod("uid-x");
  EXPECT_TRUE(RunFilter(plugin, PodBuilder("p").HostPort(8080).Info(), *node).IsSuccess());
}

TEST(ImageLocality, Score) {
  testing::FakeHandle handle;
  constexpr int64_t kMb = 1024 * 1024;
  auto n1 = MakeNodeInfo(
      NodeBuilder("n1").Image("gcr.io/40:latest", 40 * kMb).Image("gcr.io/300:latest", 300 * kMb));
  auto n2 = MakeNodeInfo(NodeBuilder("n2").Image("gcr.io/250:latest", 250 * kMb));
  handle.SetNodes({n1, n2});
  auto plugin = Make(plugins::NewImageLocality, "", &handle);
  // upstream's "two images spread on two nodes, prefer the larger image one": each image is
  // on 1 of 2 nodes, so it counts half its size.
  auto pod = PodBuilder("p").Container("", "", "gcr.io/40").Container("", "", "gcr.io/300").Info();
  EXPECT_EQ(ScoreOf(plugin, pod, *n1), 7);  // (20+150 - 23) * 100 / (2000 - 23)
  EXPECT_EQ(ScoreOf(plugin, pod, *n2), 0);
  // A node that reports no images (as hollow nodes) scores the floor.
  auto n3 = MakeNodeInfo(NodeBuilder("n3"));
  EXPECT_EQ(ScoreOf(plugin, pod, *n3), 0);
  EXPECT_EQ(NormalizedImageName("nginx"), "nginx:latest");
  EXPECT_EQ(NormalizedImageName("localhost:5000/nginx"), "localhost:5000/nginx:latest");
  EXPECT_EQ(NormalizedImageName("nginx@sha256:abc"), "nginx@sha256:abc");
}

TEST(PrioritySort, HigherPriorityThenOlder) {
  auto plugin = Make(plugins::NewPrioritySort);
  auto* sort = dynamic_cast<QueueSortPlugin*>(plugin.get());
  Pod high = PodBuilder("h").Priority(10).pod;
  Pod low = PodBuilder("l").Priority(1).pod;
  EXPECT_TRUE(sort->Less({&high, 5}, {&low, 1}));
  EXPECT_FALSE(sort->Less({&low, 1}, {&high, 5}));
  EXPECT_TRUE(sort->Less({&low, 1}, {&low, 2}));
}

TEST(SchedulingGates, PreEnqueue) {
  auto plugin = Make(plugins::NewSchedulingGates);
  auto* gates = dynamic_cast<PreEnqueuePlugin*>(plugin.get());
  PodBuilder pod("p");
  EXPECT_TRUE(gates->PreEnqueue(pod.pod).IsSuccess());
  pod.pod.spec.scheduling_gates.push_back({"example.com/wait"});
  EXPECT_EQ(gates->PreEnqueue(pod.pod).Message(),
            "waiting for scheduling gates: [example.com/wait]");
}

}  // namespace
}  // namespace kpp::scheduler
