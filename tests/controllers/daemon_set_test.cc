#include "controllers/daemon/daemon_set.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "fake_workload_client.h"
#include "fakes.h"

namespace kpp::controllers {
namespace {

using testing::FakeEvents;
using testing::FakeLister;
using testing::FakeWorkloadClient;

api::core::v1::PodTemplateSpec Template(const std::string& image) {
  api::core::v1::PodTemplateSpec pod_template;
  pod_template.metadata.labels = {{"app", "agent"}};
  api::core::v1::Container container;
  container.name = "agent";
  container.image = image;
  pod_template.spec.containers.push_back(container);
  return pod_template;
}

std::string HashFor(const std::string& image) {
  return HashRevisionData(TemplatePatch(Template(image)), 0);
}

DaemonSet MakeDaemonSet() {
  DaemonSet ds;
  ds.metadata.name = "agent";
  ds.metadata.namespace_ = "default";
  ds.metadata.uid = "ds-uid";
  ds.metadata.generation = 3;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = {{"app", "agent"}};
  ds.spec.selector = selector;
  ds.spec.template_ = Template("agent:2");
  ds.spec.update_strategy.type = "RollingUpdate";
  return ds;
}

struct NodeShape {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> taints;  // "key:Effect"
};

Node MakeNode(const NodeShape& shape) {
  Node node;
  node.metadata.name = shape.name;
  node.metadata.labels = shape.labels;
  for (const auto& text : shape.taints) {
    api::core::v1::Taint taint;
    taint.key = text.substr(0, text.find(':'));
    taint.effect = text.substr(text.find(':') + 1);
    node.spec.taints.push_back(taint);
  }
  return node;
}

struct PodShape {
  std::string name;
  std::string node;
  std::string image = "agent:2";
  bool ready = true;
  int64_t created = 100;
};

struct Case {
  std::string name;
  std::vector<NodeShape> nodes;
  std::vector<PodShape> pods;
  std::vector<std::string> want;  // "create on <node>" and "delete <pod>", creates first
  std::map<std::string, std::string> node_selector;
  std::optional<api::IntOrString> max_unavailable;
  std::optional<api::IntOrString> max_surge;
  std::string strategy = "RollingUpdate";
  std::vector<std::string> tolerations;  // keys, operator Exists
};

class DaemonSetSyncTest : public ::testing::TestWithParam<Case> {};

TEST_P(DaemonSetSyncTest, Sync) {
  const Case& c = GetParam();
  DaemonSet ds = MakeDaemonSet();
  ds.spec.template_.spec.node_selector = c.node_selector;
  for (const auto& key : c.tolerations) {
    api::core::v1::Toleration toleration;
    toleration.key = key;
    toleration.operator_ = "Exists";
    ds.spec.template_.spec.tolerations.push_back(toleration);
  }
  ds.spec.update_strategy.type = c.strategy;
  if (c.max_unavailable || c.max_surge) {
    ds.spec.update_strategy.rolling_update.emplace();
    ds.spec.update_strategy.rolling_update->max_unavailable = c.max_unavailable;
    ds.spec.update_strategy.rolling_update->max_surge = c.max_surge;
  }
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  for (const auto& shape : c.nodes)
    nodes.Add(MakeNode(shape));
  for (const auto& shape : c.pods) {
    DaemonSet maker = ds;
    maker.spec.template_ = Template(shape.image);
    Pod pod = NewDaemonPod(maker, HashFor(shape.image), shape.node);
    pod.metadata.name = shape.name;
    pod.metadata.creation_timestamp = api::Time::FromUnixSeconds(shape.created);
    pod.spec.node_name = shape.node;
    pod.status.phase = "Running";
    api::core::v1::PodCondition ready;
    ready.type = "Ready";
    ready.status = shape.ready ? "True" : "False";
    pod.status.conditions.push_back(ready);
    pods.Add(pod);
  }
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  auto result = syncer.Sync("default/agent", &ds);
  ASSERT_TRUE(result.status.ok()) << result.status.error().message();
  std::vector<std::string> got;
  for (const auto& pod : client.created_pods)
    got.push_back("create on " + TargetNodeOf(pod));
  for (const auto& action : client.With("delete pod"))
    got.push_back("delete " + action.substr(std::string("delete pod ").size()));
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DaemonSetSyncTest,
    ::testing::Values(
        Case{.name = "OnePodPerNode",
             .nodes = {{"n1"}, {"n2"}, {"n3"}},
             .pods = {{"p2", "n2"}},
             .want = {"create on n1", "create on n3"}},
        Case{.name = "NodeSelector",
             .nodes = {{"n1", {{"disk", "ssd"}}}, {"n2"}},
             .want = {"create on n1"},
             .node_selector = {{"disk", "ssd"}}},
        Case{.name = "UntoleratedTaintGetsNone",
             .nodes = {{"n1"}, {"n2", {}, {"dedicated:NoSchedule"}}},
             .want = {"create on n1"}},
        Case{.name = "ToleratedTaint",
             .nodes = {{"n1", {}, {"dedicated:NoSchedule"}}},
             .want = {"create on n1"},
             .tolerations = {"dedicated"}},
        Case{.name = "AutomaticTolerations",
             .nodes = {{"n1", {}, {"node.kubernetes.io/unschedulable:NoSchedule"}},
                       {"n2", {}, {"node.kubernetes.io/not-ready:NoExecute"}},
                       {"n3", {}, {"node.kubernetes.io/network-unavailable:NoSchedule"}}},
             .want = {"create on n1", "create on n2"}},
        Case{.name = "NoScheduleTaintKeepsARunningPod",
             .nodes = {{"n1", {}, {"dedicated:NoSchedule"}}},
             .pods = {{"p1", "n1"}},
             .want = {}},
        Case{.name = "NoExecuteTaintEvicts",
             .nodes = {{"n1", {}, {"dedicated:NoExecute"}}},
             .pods = {{"p1", "n1"}},
             .want = {"delete p1"}},
        Case{.name = "PodOnANodeNoLongerSelectedDeleted",
             .nodes = {{"n1"}},
             .pods = {{"p1", "n1"}},
             .want = {"delete p1"},
             .node_selector = {{"disk", "ssd"}}},
        Case{.name = "ExtraPodsOnANodeDeletedKeepingTheOldest",
             .nodes = {{"n1"}},
             .pods = {{"p-new", "n1", "agent:2", true, 200}, {"p-old", "n1", "agent:2", true, 100}},
             .want = {"delete p-new"}},
        Case{.name = "RollingUpdateOneAtATime",
             .nodes = {{"n1"}, {"n2"}, {"n3"}},
             .pods = {{"p1", "n1", "agent:1"}, {"p2", "n2", "agent:1"}, {"p3", "n3", "agent:1"}},
             .want = {"delete p1"}},
        Case{.name = "RollingUpdateMaxUnavailableTwo",
             .nodes = {{"n1"}, {"n2"}, {"n3"}},
             .pods = {{"p1", "n1", "agent:1"}, {"p2", "n2", "agent:1"}, {"p3", "n3", "agent:1"}},
             .want = {"delete p1", "delete p2"},
             .max_unavailable = api::IntOrString::FromInt(2)},
        Case{.name = "RollingUpdateWaitsForUnavailable",
             .nodes = {{"n1"}, {"n2"}},
             .pods = {{"p1", "n1", "agent:2", false}, {"p2", "n2", "agent:1"}},
             .want = {}},
        Case{.name = "RollingUpdateOldUnavailableGoesFirst",
             .nodes = {{"n1"}, {"n2"}},
             .pods = {{"p1", "n1", "agent:1"}, {"p2", "n2", "agent:1", false}},
             .want = {"delete p2"}},
        Case{.name = "MaxSurgeCreatesBesideTheOld",
             .nodes = {{"n1"}, {"n2"}},
             .pods = {{"p1", "n1", "agent:1"}, {"p2", "n2", "agent:1"}},
             .want = {"create on n1"},
             .max_unavailable = api::IntOrString::FromInt(0),
             .max_surge = api::IntOrString::FromInt(1)},
        Case{.name = "MaxSurgeDeletesTheOldOnceTheNewIsAvailable",
             .nodes = {{"n1"}},
             .pods = {{"p-old", "n1", "agent:1", true, 100}, {"p-new", "n1", "agent:2", true, 200}},
             .want = {"delete p-old"},
             .max_unavailable = api::IntOrString::FromInt(0),
             .max_surge = api::IntOrString::FromInt(1)},
        Case{.name = "OnDeleteKeepsOldPods",
             .nodes = {{"n1"}},
             .pods = {{"p1", "n1", "agent:1"}},
             .want = {},
             .strategy = "OnDelete"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(DaemonPod, NodeAffinityTolerationsAndLabels) {
  DaemonSet ds = MakeDaemonSet();
  api::core::v1::NodeSelectorTerm term;
  api::core::v1::NodeSelectorRequirement zone;
  zone.key = "zone";
  zone.operator_ = "In";
  zone.values = {"a"};
  term.match_expressions.push_back(zone);
  ds.spec.template_.spec.affinity.emplace()
      .node_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.emplace()
      .node_selector_terms.push_back(term);
  Pod pod = NewDaemonPod(ds, "abc", "n1");
  EXPECT_EQ(pod.metadata.generate_name, "agent-");
  EXPECT_EQ(pod.metadata.labels.at("controller-revision-hash"), "abc");
  EXPECT_EQ(pod.metadata.labels.at("pod-template-generation"), "3");
  const auto& terms =
      pod.spec.affinity->node_affinity->required_during_scheduling_ignored_during_execution
          ->node_selector_terms;
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0].match_expressions.size(), 1u);
  ASSERT_EQ(terms[0].match_fields.size(), 1u);
  EXPECT_EQ(terms[0].match_fields[0].key, "metadata.name");
  EXPECT_EQ(terms[0].match_fields[0].values, std::vector<std::string>{"n1"});
  EXPECT_EQ(TargetNodeOf(pod), "n1");
  std::set<std::string> keys;
  for (const auto& toleration : pod.spec.tolerations)
    keys.insert(toleration.key + ":" + toleration.effect);
  EXPECT_EQ(keys, (std::set<std::string>{"node.kubernetes.io/not-ready:NoExecute",
                                         "node.kubernetes.io/unreachable:NoExecute",
                                         "node.kubernetes.io/disk-pressure:NoSchedule",
                                         "node.kubernetes.io/memory-pressure:NoSchedule",
                                         "node.kubernetes.io/pid-pressure:NoSchedule",
                                         "node.kubernetes.io/unschedulable:NoSchedule"}));
  ds.spec.template_.spec.host_network = true;
  EXPECT_EQ(WithDaemonTolerations(ds.spec.template_.spec).tolerations.size(), 7u);
  // The zone term must match too.
  Node node;
  node.metadata.name = "n1";
  EXPECT_FALSE(DaemonPodFits(ds.spec.template_.spec, node).should_run);
  node.metadata.labels["zone"] = "a";
  EXPECT_TRUE(DaemonPodFits(ds.spec.template_.spec, node).should_run);
}

TEST(DaemonSetSync, AdoptsMatchingOrphans) {
  DaemonSet ds = MakeDaemonSet();
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  nodes.Add(MakeNode({"n1"}));
  Pod orphan = NewDaemonPod(ds, HashFor("agent:2"), "n1");
  orphan.metadata.name = "orphan";
  orphan.metadata.owner_references.clear();
  pods.Add(orphan);
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/agent", &ds).status.ok());
  EXPECT_EQ(client.With("patch pod"), std::vector<std::string>{"patch pod orphan"});
  EXPECT_TRUE(client.created_pods.empty());
}

TEST(DaemonSetSync, StatusCounts) {
  DaemonSet ds = MakeDaemonSet();
  ds.spec.template_.spec.node_selector = {{"run", "yes"}};
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  nodes.Add(MakeNode({"n1", {{"run", "yes"}}}));
  nodes.Add(MakeNode({"n2", {{"run", "yes"}}}));
  nodes.Add(MakeNode({"n3"}));
  auto add_pod = [&](const std::string& name, const std::string& node, bool ready) {
    Pod pod = NewDaemonPod(ds, HashRevisionData(TemplatePatch(ds.spec.template_), 0), node);
    pod.metadata.name = name;
    pod.status.phase = "Running";
    api::core::v1::PodCondition condition;
    condition.type = "Ready";
    condition.status = ready ? "True" : "False";
    pod.status.conditions.push_back(condition);
    pods.Add(pod);
  };
  add_pod("p1", "n1", true);
  add_pod("p2", "n2", false);
  add_pod("p3", "n3", true);
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/agent", &ds).status.ok());
  ASSERT_EQ(client.status_patches.size(), 1u);
  auto status = boost::json::parse(client.status_patches[0]).at("status");
  EXPECT_EQ(status.at("desiredNumberScheduled").as_int64(), 2);
  EXPECT_EQ(status.at("currentNumberScheduled").as_int64(), 2);
  EXPECT_EQ(status.at("numberMisscheduled").as_int64(), 1);
  EXPECT_EQ(status.at("numberReady").as_int64(), 1);
  EXPECT_EQ(status.at("numberAvailable").as_int64(), 1);
  EXPECT_EQ(status.at("numberUnavailable").as_int64(), 1);
  EXPECT_EQ(status.at("updatedNumberScheduled").as_int64(), 2);
  EXPECT_EQ(status.at("observedGeneration").as_int64(), 3);
  ASSERT_EQ(client.revisions.size(), 1u);
  EXPECT_EQ(client.revisions.begin()->first,
            "agent-" + HashRevisionData(TemplatePatch(ds.spec.template_), 0));
}

TEST(DaemonSetSync, ClaimsMatchingOrphanRevisionsAndReleasesOnesThatStopMatching) {
  DaemonSet ds = MakeDaemonSet();
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  auto revision = [&](const std::string& name, const std::string& image,
                      std::map<std::string, std::string> labels, const std::string& owner_uid) {
    ControllerRevision made = NewRevision("apps/v1", "DaemonSet", ds.metadata, labels,
                                          TemplatePatch(Template(image)), 1, 0);
    made.metadata.name = name;
    made.metadata.uid = "uid-" + name;
    if (owner_uid.empty()) {
      made.metadata.owner_references.clear();
    } else {
      made.metadata.owner_references[0].uid = owner_uid;
    }
    revisions.Add(made);
  };
  // The current template's revision, left behind by a DaemonSet deleted with orphan propagation.
  const std::string current = "agent-" + HashFor("agent:2");
  revision(current, "agent:2", {{"app", "agent"}}, "");
  revision("relabelled", "agent:1", {{"app", "old"}}, "ds-uid");
  revision("unrelated-orphan", "agent:0", {{"app", "other"}}, "");
  revision("someone-elses", "agent:0", {{"app", "agent"}}, "other-uid");
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/agent", &ds).status.ok());
  std::map<std::string, boost::json::value> patches;
  for (const auto& action : client.With("patch revision ")) {
    const std::string rest = action.substr(std::string("patch revision ").size());
    patches[rest.substr(0, rest.find(' '))] = boost::json::parse(rest.substr(rest.find(' ') + 1));
  }
  ASSERT_EQ(patches.size(), 2u) << ::testing::PrintToString(client.actions);
  const auto& adopted = patches.at(current).at("metadata");
  EXPECT_EQ(std::string(adopted.at("uid").as_string()), "uid-" + current);
  EXPECT_EQ(adopted.at("ownerReferences").at(0).at("uid"), "ds-uid");
  EXPECT_EQ(adopted.at("ownerReferences").at(0).at("kind"), "DaemonSet");
  EXPECT_EQ(adopted.at("ownerReferences").at(0).at("controller"), true);
  const auto& released = patches.at("relabelled").at("metadata");
  EXPECT_EQ(released.at("ownerReferences").at(0).at("$patch"), "delete");
  EXPECT_EQ(released.at("ownerReferences").at(0).at("uid"), "ds-uid");
  // The adopted revision is the current one: no new revision is made.
  EXPECT_TRUE(client.With("create revision").empty());
}

TEST(DaemonSetSync, EmptySelectorSelectsAllAndStops) {
  DaemonSet ds = MakeDaemonSet();
  ds.spec.selector = api::meta::v1::LabelSelector{};
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  nodes.Add(MakeNode({"n1"}));
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/agent", &ds).status.ok());
  EXPECT_TRUE(client.actions.empty());
  ASSERT_EQ(events.events.size(), 1u);
  EXPECT_EQ(events.events[0].type, "Warning");
  EXPECT_EQ(events.events[0].reason, "SelectingAll");
  EXPECT_EQ(events.events[0].message,
            "This daemon set is selecting all pods. A non-empty selector is required.");
}

TEST(DaemonSetSync, FinishedPodsAreReplacedWithUpstreamsEvents) {
  DaemonSet ds = MakeDaemonSet();
  FakeLister<Pod> pods;
  FakeLister<Node> nodes;
  FakeLister<ControllerRevision> revisions;
  nodes.Add(MakeNode({"n1"}));
  nodes.Add(MakeNode({"n2"}));
  for (const auto& [name, node, phase] :
       {std::tuple{"failed", "n1", "Failed"}, std::tuple{"done", "n2", "Succeeded"}}) {
    Pod pod = NewDaemonPod(ds, HashFor("agent:2"), node);
    pod.metadata.name = name;
    pod.spec.node_name = node;
    pod.status.phase = phase;
    pods.Add(pod);
  }
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  DaemonSetSyncer syncer(pods, nodes, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/agent", &ds).status.ok());
  EXPECT_EQ(client.With("delete pod"),
            (std::vector<std::string>{"delete pod failed", "delete pod done"}));
  std::vector<std::string> got;
  for (const auto& event : events.events) {
    if (event.reason.find("DaemonPod") != std::string::npos)
      got.push_back(event.type + " " + event.reason + " " + event.message);
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "Warning FailedDaemonPod Found failed daemon pod default/failed on node n1, "
                     "will try to kill it",
                     "Normal SucceededDaemonPod Found succeeded daemon pod default/done on node "
                     "n2, will try to delete it"}));
}

}  // namespace
}  // namespace kpp::controllers
