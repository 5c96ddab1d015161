// The pod garbage collector's pass over snapshots of pods and nodes, with a fake client and
// clock.
#include "controllers/podgc/pod_gc.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

namespace kpp::controllers {
namespace {

using api::core::v1::Node;
using api::core::v1::Pod;

class FakePodGCClient final : public PodGCClient {
 public:
  Result<bool> NodeExists(const std::string& name) override {
    actions.push_back("get node " + name);
    return existing_nodes.contains(name);
  }
  Status PatchPodStatus(const std::string& ns, const std::string& name,
                        const std::string& patch) override {
    actions.push_back("patch status " + ns + "/" + name);
    patches.push_back(patch);
    return Ok();
  }
  Status ForceDeletePod(const std::string& ns, const std::string& name,
                        const std::string& uid) override {
    actions.push_back("delete " + ns + "/" + name + " uid=" + uid);
    return Ok();
  }
  std::set<std::string> existing_nodes;  // what the server says
  std::vector<std::string> actions;
  std::vector<std::string> patches;
};

struct PodShape {
  std::string name;
  std::string phase = "Running";
  std::string node = "node-1";
  int64_t created = 1'700'000'000;
  bool terminating = false;
  std::string reason;
};

PodPtr MakePod(const PodShape& shape) {
  auto pod = std::make_shared<Pod>();
  pod->metadata.name = shape.name;
  pod->metadata.namespace_ = "default";
  pod->metadata.uid = "uid-" + shape.name;
  pod->metadata.creation_timestamp = api::Time::FromUnixSeconds(shape.created);
  if (shape.terminating) pod->metadata.deletion_timestamp = api::Time::FromUnixSeconds(1);
  pod->spec.node_name = shape.node;
  pod->status.phase = shape.phase;
  pod->status.reason = shape.reason;
  return pod;
}

NodePtr MakeNode(const std::string& name, bool ready = true, bool out_of_service = false) {
  auto node = std::make_shared<Node>();
  node->metadata.name = name;
  api::core::v1::NodeCondition condition;
  condition.type = "Ready";
  condition.status = ready ? "True" : "False";
  node->status.conditions.push_back(condition);
  if (out_of_service) {
    api::core::v1::Taint taint;
    taint.key = kOutOfServiceTaint;
    taint.value = "nodeshutdown";
    taint.effect = "NoExecute";
    node->spec.taints.push_back(taint);
  }
  return node;
}

TEST(PodGCSyncerTest, OnePass) {
  struct Case {
    std::string name;
    std::vector<PodShape> pods;
    std::vector<NodePtr> nodes = {MakeNode("node-1")};
    int threshold = 2;
    std::vector<std::string> want_deleted;
  };
  const std::vector<Case> cases = {
      {.name = "finished pods up to the threshold stay",
       .pods = {{.name = "a", .phase = "Succeeded"}, {.name = "b", .phase = "Failed"}}},
      {.name = "finished pods beyond it go, evicted first, then oldest first",
       .pods = {{.name = "new", .phase = "Succeeded", .created = 300},
                {.name = "old", .phase = "Succeeded", .created = 100},
                {.name = "mid", .phase = "Failed", .created = 200},
                {.name = "evicted", .phase = "Failed", .created = 400, .reason = "Evicted"},
                {.name = "running", .created = 1}},
       .want_deleted = {"default/evicted", "default/old"}},
      {.name = "threshold 0 turns that off",
       .pods = {{.name = "a", .phase = "Succeeded"}, {.name = "b", .phase = "Succeeded"}},
       .threshold = 0},
      {.name = "terminating pods on a not-ready out-of-service node go",
       .pods = {{.name = "stuck", .node = "down", .terminating = true},
                {.name = "fine", .node = "down"},
                {.name = "elsewhere", .terminating = true}},
       .nodes = {MakeNode("node-1"), MakeNode("down", false, true)},
       .want_deleted = {"default/stuck"}},
      {.name = "a not-ready node without the taint keeps them",
       .pods = {{.name = "stuck", .node = "down", .terminating = true}},
       .nodes = {MakeNode("down", false, false)}},
      {.name = "terminating pods never scheduled go",
       .pods = {{.name = "pending", .node = "", .terminating = true},
                {.name = "waiting", .node = ""}},
       .want_deleted = {"default/pending"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<PodPtr> pods;
    for (const auto& shape : c.pods)
      pods.push_back(MakePod(shape));
    FakePodGCClient client;
    FakeClock clock;
    PodGCSyncer syncer(client, c.threshold, clock);
    EXPECT_EQ(syncer.Gc(pods, c.nodes), c.want_deleted);
  }
}

TEST(PodGCSyncerTest, OrphansGoAfterTheQuarantineWhenTheServerConfirms) {
  FakePodGCClient client;
  FakeClock clock;
  PodGCSyncer syncer(client, 100, clock);
  const std::vector<PodPtr> pods = {MakePod({.name = "orphan", .node = "gone"}),
                                    MakePod({.name = "done", .phase = "Succeeded", .node = "gone"}),
                                    MakePod({.name = "late", .node = "late-node"}),
                                    MakePod({.name = "home", .node = "node-1"})};
  const std::vector<NodePtr> nodes = {MakeNode("node-1")};
  // First seen missing: quarantined, nothing read or deleted.
  EXPECT_TRUE(syncer.Gc(pods, nodes).empty());
  EXPECT_TRUE(client.actions.empty());
  clock.Advance(std::chrono::seconds(39));
  EXPECT_TRUE(syncer.Gc(pods, nodes).empty());
  // After 40 s: the server is asked; "late-node" exists there (our cache is behind).
  client.existing_nodes = {"late-node"};
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(syncer.Gc(pods, nodes), (std::vector<std::string>{"default/orphan", "default/done"}));
  EXPECT_EQ(client.actions,
            (std::vector<std::string>{
                "get node gone", "get node late-node", "patch status default/orphan",
                "delete default/orphan uid=uid-orphan", "delete default/done uid=uid-done"}));
  // The running orphan was marked Failed with DisruptionTarget before the delete.
  ASSERT_EQ(client.patches.size(), 1u);
  auto patch = boost::json::parse(client.patches[0]).as_object();
  EXPECT_EQ(patch["status"].at("phase"), "Failed");
  const auto& condition = patch["status"].at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "DisruptionTarget");
  EXPECT_EQ(condition.at("status"), "True");
  EXPECT_EQ(condition.at("reason"), "DeletionByPodGC");
  EXPECT_EQ(condition.at("message"), "PodGC: node no longer exists");
}

}  // namespace
}  // namespace kpp::controllers
