// Node health monitoring, condition taints, zone states and taint eviction, with a fake client
// and clock.
#include "controllers/nodelifecycle/node_lifecycle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "fakes.h"

namespace kpp::controllers {
namespace {

using api::core::v1::Pod;
using api::core::v1::Taint;
using api::core::v1::Toleration;
using testing::FakeEvents;

class FakeNodeLifecycleClient final : public NodeLifecycleClient {
 public:
  Status UpdateNodeStatus(const Node& node) override {
    actions.push_back("update status " + node.metadata.name);
    statuses.push_back(node);
    return Ok();
  }
  Status PatchNode(const std::string& name, const std::string& patch) override {
    actions.push_back("patch node " + name);
    node_patches.push_back(boost::json::parse(patch));
    return Ok();
  }
  Status PatchPodStatus(const std::string& ns, const std::string& name,
                        const std::string& patch) override {
    actions.push_back("patch pod status " + ns + "/" + name);
    pod_patches.push_back(boost::json::parse(patch));
    if (auto failing = pod_status_errors.find(name); failing != pod_status_errors.end()) {
      return Error(failing->second, "injected");
    }
    return Ok();
  }
  Status DeletePod(const std::string& ns, const std::string& name, const std::string&) override {
    actions.push_back("delete pod " + ns + "/" + name);
    return Ok();
  }
  std::vector<std::string> actions;
  std::vector<Node> statuses;
  std::vector<boost::json::value> node_patches;
  std::vector<boost::json::value> pod_patches;
  std::map<std::string, ErrorCode> pod_status_errors;  // pod name -> error of its status patch
};

NodePtr MakeNode(const std::string& name, const std::string& ready, int64_t heartbeat,
                 std::vector<Taint> taints = {}, const std::string& zone = "") {
  auto node = std::make_shared<Node>();
  node->metadata.name = name;
  node->metadata.resource_version = "7";
  if (!zone.empty()) node->metadata.labels[kZoneLabel] = zone;
  node->spec.taints = std::move(taints);
  for (const char* type : {"Ready", "MemoryPressure"}) {
    api::core::v1::NodeCondition condition;
    condition.type = type;
    condition.status = std::string(type) == "Ready" ? ready : "False";
    condition.last_heartbeat_time = api::Time::FromUnixSeconds(heartbeat);
    condition.last_transition_time = api::Time::FromUnixSeconds(100);
    node->status.conditions.push_back(condition);
  }
  return node;
}

std::vector<std::string> TaintKeys(const boost::json::value& patch) {
  std::vector<std::string> out;
  const auto& taints = patch.at("spec").at("taints");
  if (taints.is_null()) return out;
  for (const auto& taint : taints.as_array())
    out.push_back(std::string(taint.at("key").as_string()) + ":" +
                  std::string(taint.at("effect").as_string()));
  return out;
}

TEST(NodeHealthSyncerTest, OverdueNodeGoesUnknownThenGetsUnreachableTaints) {
  FakeNodeLifecycleClient client;
  FakeClock clock;
  NodeLifecycleOptions options;
  options.node_monitor_grace_period = std::chrono::seconds(40);
  NodeHealthSyncer syncer(client, options, clock);
  auto lease = std::make_shared<Lease>();
  lease->spec.renew_time = api::MicroTime::FromUnixMicros(1);
  const std::map<std::string, std::shared_ptr<const Lease>> leases = {{"n1", lease}};
  auto healthy = MakeNode("n1", "True", 50);
  auto other = MakeNode("n2", "True", 50);

  ASSERT_TRUE(syncer.Monitor({healthy, other}, leases).ok());
  clock.Advance(std::chrono::seconds(40));
  ASSERT_TRUE(syncer.Monitor({healthy, other}, leases).ok());
  EXPECT_TRUE(client.actions.empty()) << "within the grace period";

  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(syncer.Monitor({healthy, other}, leases).ok());
  ASSERT_EQ(client.actions, (std::vector<std::string>{"update status n1", "update status n2"}));
  const Node& unknown = client.statuses[0];
  ASSERT_EQ(unknown.status.conditions.size(), 4u);  // DiskPressure, PIDPressure added
  for (const auto& condition : unknown.status.conditions) {
    SCOPED_TRACE(condition.type);
    EXPECT_EQ(condition.status, "Unknown");
    if (condition.type == "Ready" || condition.type == "MemoryPressure") {
      EXPECT_EQ(condition.reason, "NodeStatusUnknown");
      EXPECT_EQ(condition.message, "Kubelet stopped posting node status.");
      EXPECT_EQ(condition.last_heartbeat_time, api::Time::FromUnixSeconds(50));
    } else {
      EXPECT_EQ(condition.reason, "NodeStatusNeverUpdated");
    }
  }

  // Next pass sees the Unknown status: NoSchedule at once; NoExecute at the eviction rate (one
  // token at the start, then 0.1/s): n1 now, n2 ten seconds later.
  client.actions.clear();
  std::vector<NodePtr> unknown_nodes = {std::make_shared<const Node>(client.statuses[0]),
                                        std::make_shared<const Node>(client.statuses[1])};
  // One node of two is not a full disruption of the zone only if the other is ready: make a
  // third, ready node so that the zone stays Normal.
  auto fresh = MakeNode("n3", "True", 1000);
  unknown_nodes.push_back(fresh);
  ASSERT_TRUE(syncer.Monitor(unknown_nodes, leases).ok());
  ASSERT_EQ(client.node_patches.size(), 2u);
  EXPECT_EQ(TaintKeys(client.node_patches[0]),
            (std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule",
                                      "node.kubernetes.io/unreachable:NoExecute"}));
  EXPECT_EQ(TaintKeys(client.node_patches[1]),
            (std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}));
  EXPECT_EQ(client.node_patches[0].at("metadata").at("resourceVersion"), "7");
  EXPECT_TRUE(
      client.node_patches[0].at("spec").at("taints").at(1).as_object().contains("timeAdded"));
}

TEST(DesiredConditionTaintsTest, FollowTheReadyCondition) {
  const Taint other{"dedicated", "db", "NoSchedule", std::nullopt};
  const Taint unreachable_no_schedule{kUnreachableTaint, "", "NoSchedule", std::nullopt};
  const Taint unreachable_no_execute{kUnreachableTaint, "", "NoExecute",
                                     api::Time::FromUnixSeconds(5)};
  struct Case {
    std::string name;
    std::string ready;
    std::vector<Taint> taints;
    bool allow_no_execute = true;
    std::optional<std::vector<std::string>> want;  // key:effect; nullopt: unchanged
  };
  const std::vector<Case> cases = {
      {.name = "ready, nothing to do", .ready = "True", .taints = {other}},
      {.name = "ready again: condition taints removed, others kept",
       .ready = "True",
       .taints = {other, unreachable_no_schedule, unreachable_no_execute},
       .want = std::vector<std::string>{"dedicated:NoSchedule"}},
      {.name = "not ready swaps unreachable for not-ready",
       .ready = "False",
       .taints = {unreachable_no_schedule, unreachable_no_execute},
       .want = std::vector<std::string>{"node.kubernetes.io/not-ready:NoSchedule",
                                        "node.kubernetes.io/not-ready:NoExecute"}},
      {.name = "unknown and already tainted: unchanged",
       .ready = "Unknown",
       .taints = {unreachable_no_schedule, unreachable_no_execute}},
      {.name = "NoExecute not allowed (full disruption) is removed",
       .ready = "Unknown",
       .taints = {unreachable_no_schedule, unreachable_no_execute},
       .allow_no_execute = false,
       .want = std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto node = MakeNode("n", c.ready, 1, c.taints);
    auto got = DesiredConditionTaints(*node, c.allow_no_execute, api::Time::FromUnixSeconds(9));
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (!got) continue;
    std::vector<std::string> keys;
    for (const auto& taint : *got)
      keys.push_back(taint.key + ":" + taint.effect);
    EXPECT_EQ(keys, *c.want);
  }
}

TEST(DesiredConditionTaintsTest, TaintNodesByCondition) {
  const Taint memory_old{kMemoryPressureTaint, "", "NoSchedule", api::Time::FromUnixSeconds(3)};
  const Taint memory_no_execute{kMemoryPressureTaint, "", "NoExecute", std::nullopt};
  const Taint unschedulable_old{kUnschedulableTaint, "", "NoSchedule", std::nullopt};
  struct Case {
    std::string name;
    std::map<std::string, std::string> conditions;  // type -> status
    bool unschedulable = false;
    std::vector<Taint> taints;
    std::optional<std::vector<std::string>> want;  // key:effect; nullopt: unchanged
  };
  const std::vector<Case> cases = {
      {.name = "conditions True give their NoSchedule taints, in the order of the conditions",
       .conditions = {{"Ready", "True"},
                      {"MemoryPressure", "True"},
                      {"DiskPressure", "True"},
                      {"PIDPressure", "True"},
                      {"NetworkUnavailable", "True"}},
       .want = std::vector<std::string>{"node.kubernetes.io/disk-pressure:NoSchedule",
                                        "node.kubernetes.io/memory-pressure:NoSchedule",
                                        "node.kubernetes.io/network-unavailable:NoSchedule",
                                        "node.kubernetes.io/pid-pressure:NoSchedule"}},
      {.name = "conditions False or Unknown give none; stale ones removed",
       .conditions = {{"Ready", "True"}, {"MemoryPressure", "Unknown"}, {"DiskPressure", "False"}},
       .taints = {memory_old},
       .want = std::vector<std::string>{}},
      {.name = "a kept taint keeps its place and time",
       .conditions = {{"Ready", "True"}, {"MemoryPressure", "True"}},
       .taints = {memory_old}},
      {.name = "spec.unschedulable gives the unschedulable taint",
       .conditions = {{"Ready", "True"}},
       .unschedulable = true,
       .want = std::vector<std::string>{"node.kubernetes.io/unschedulable:NoSchedule"}},
      {.name = "schedulable again: removed",
       .conditions = {{"Ready", "True"}},
       .taints = {unschedulable_old},
       .want = std::vector<std::string>{}},
      {.name = "someone's NoExecute taint with a condition key is not ours",
       .conditions = {{"Ready", "True"}},
       .taints = {memory_no_execute}},
      {.name = "not ready and cordoned",
       .conditions = {{"Ready", "False"}},
       .unschedulable = true,
       .want = std::vector<std::string>{"node.kubernetes.io/not-ready:NoSchedule",
                                        "node.kubernetes.io/unschedulable:NoSchedule",
                                        "node.kubernetes.io/not-ready:NoExecute"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Node node;
    node.metadata.name = "n";
    node.spec.unschedulable = c.unschedulable;
    node.spec.taints = c.taints;
    for (const auto& [type, status] : c.conditions) {
      api::core::v1::NodeCondition condition;
      condition.type = type;
      condition.status = status;
      node.status.conditions.push_back(condition);
    }
    auto got = DesiredConditionTaints(node, true, api::Time::FromUnixSeconds(9));
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (!got) continue;
    std::vector<std::string> keys;
    for (const auto& taint : *got) {
      keys.push_back(taint.key + ":" + taint.effect);
      const bool old = taint == memory_old || taint == unschedulable_old;
      if (!old) {
        EXPECT_EQ(taint.time_added, api::Time::FromUnixSeconds(9)) << taint.key;
      }
    }
    EXPECT_EQ(keys, *c.want);
  }
}

TEST(SyncNoScheduleTaintsTest, AddsNoScheduleAtOnceButNeverANewNoExecute) {
  const Taint unreachable_no_execute{kUnreachableTaint, "", "NoExecute",
                                     api::Time::FromUnixSeconds(5)};
  struct Case {
    std::string name;
    std::string ready;
    bool unschedulable = false;
    std::vector<Taint> taints;
    std::optional<std::vector<std::string>> want;  // the patch's key:effect; nullopt: no patch
  };
  const std::vector<Case> cases = {
      {.name = "cordoned",
       .ready = "True",
       .unschedulable = true,
       .want = std::vector<std::string>{"node.kubernetes.io/unschedulable:NoSchedule"}},
      {.name = "unknown: NoSchedule only, NoExecute left to the rate-limited pass",
       .ready = "Unknown",
       .want = std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}},
      {.name = "unknown and already NoSchedule-tainted: nothing",
       .ready = "Unknown",
       .taints = {{kUnreachableTaint, "", "NoSchedule", std::nullopt}}},
      {.name = "not ready: the NoExecute taint swaps at once",
       .ready = "False",
       .taints = {{kUnreachableTaint, "", "NoSchedule", std::nullopt}, unreachable_no_execute},
       .want = std::vector<std::string>{"node.kubernetes.io/not-ready:NoSchedule",
                                        "node.kubernetes.io/not-ready:NoExecute"}},
      {.name = "ready again: all go",
       .ready = "True",
       .taints = {{kUnreachableTaint, "", "NoSchedule", std::nullopt}, unreachable_no_execute},
       .want = std::vector<std::string>{}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeNodeLifecycleClient client;
    auto node = std::make_shared<Node>(*MakeNode("n", c.ready, 1, c.taints));
    node->spec.unschedulable = c.unschedulable;
    ASSERT_TRUE(SyncNoScheduleTaints(client, *node, api::Time::FromUnixSeconds(9)).ok());
    ASSERT_EQ(client.node_patches.size(), c.want ? 1u : 0u);
    if (c.want) {
      EXPECT_EQ(TaintKeys(client.node_patches[0]), *c.want);
    }
  }
}

TEST(NodeHealthSyncerTest, NodeThatNeverPostedStatusGetsTheStartupGracePeriod) {
  FakeNodeLifecycleClient client;
  FakeClock clock;  // starts at 1,700,000,000
  NodeLifecycleOptions options;
  options.node_monitor_grace_period = std::chrono::seconds(40);
  options.node_startup_grace_period = std::chrono::seconds(60);
  NodeHealthSyncer syncer(client, options, clock);
  auto fresh = std::make_shared<Node>();
  fresh->metadata.name = "new";
  fresh->metadata.resource_version = "3";
  fresh->metadata.creation_timestamp = api::Time::FromUnixSeconds(1'700'000'000 - 10);
  // Created 10 s ago: Unknown 60 s after its creation, not 40 s after first seen.
  ASSERT_TRUE(syncer.Monitor({fresh}, {}).ok());
  clock.Advance(std::chrono::seconds(45));
  ASSERT_TRUE(syncer.Monitor({fresh}, {}).ok());
  EXPECT_TRUE(client.statuses.empty()) << "within the startup grace period";
  clock.Advance(std::chrono::seconds(6));
  ASSERT_TRUE(syncer.Monitor({fresh}, {}).ok());
  ASSERT_EQ(client.statuses.size(), 1u);
  ASSERT_EQ(client.statuses[0].status.conditions.size(), 4u);
  for (const auto& condition : client.statuses[0].status.conditions) {
    SCOPED_TRACE(condition.type);
    EXPECT_EQ(condition.status, "Unknown");
    EXPECT_EQ(condition.reason, "NodeStatusNeverUpdated");
    EXPECT_EQ(condition.message, "Kubelet never posted node status.");
    EXPECT_EQ(condition.last_heartbeat_time, fresh->metadata.creation_timestamp);
  }

  // A node that never posted status but renews its lease is left alone.
  FakeNodeLifecycleClient lease_client;
  NodeHealthSyncer lease_syncer(lease_client, options, clock);
  auto lease = std::make_shared<Lease>();
  std::map<std::string, std::shared_ptr<const Lease>> leases = {{"new", lease}};
  for (int i = 0; i < 5; ++i) {
    lease->spec.renew_time = api::MicroTime::FromUnixMicros(i + 1);
    ASSERT_TRUE(lease_syncer.Monitor({fresh}, leases).ok());
    clock.Advance(std::chrono::seconds(30));
  }
  EXPECT_TRUE(lease_client.statuses.empty());
}

TEST(ComputeZoneStateTest, UpstreamThresholds) {
  EXPECT_EQ(ComputeZoneState(3, 0, 0.55), ZoneState::kNormal);
  EXPECT_EQ(ComputeZoneState(0, 1, 0.55), ZoneState::kFullDisruption);
  EXPECT_EQ(ComputeZoneState(1, 2, 0.55), ZoneState::kNormal);  // not more than 2 not ready
  EXPECT_EQ(ComputeZoneState(2, 3, 0.55), ZoneState::kPartialDisruption);
  EXPECT_EQ(ComputeZoneState(3, 3, 0.55), ZoneState::kNormal);
}

TEST(NodeHealthSyncerTest, EveryZoneFullyDisruptedAddsNoNoExecuteTaint) {
  FakeNodeLifecycleClient client;
  FakeClock clock;
  NodeHealthSyncer syncer(client, {}, clock);
  auto a = MakeNode("a", "Unknown", 1, {}, "z1");
  auto b = MakeNode("b", "Unknown", 1, {}, "z2");
  ASSERT_TRUE(syncer.Monitor({a, b}, {}).ok());
  ASSERT_EQ(client.node_patches.size(), 2u);
  for (const auto& patch : client.node_patches) {
    EXPECT_EQ(TaintKeys(patch),
              (std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}));
  }
}

TEST(TolerationTest, UpstreamMatching) {
  const Taint taint{kUnreachableTaint, "", "NoExecute", std::nullopt};
  EXPECT_TRUE(Tolerates({kUnreachableTaint, "Exists", "", "NoExecute", 300}, taint));
  EXPECT_TRUE(Tolerates({kUnreachableTaint, "Exists", "", "", std::nullopt}, taint));
  EXPECT_TRUE(Tolerates({"", "Exists", "", "", std::nullopt}, taint));
  EXPECT_FALSE(Tolerates({"", "Equal", "", "", std::nullopt}, taint));
  EXPECT_FALSE(Tolerates({kNotReadyTaint, "Exists", "", "", std::nullopt}, taint));
  EXPECT_FALSE(Tolerates({kUnreachableTaint, "Exists", "", "NoSchedule", std::nullopt}, taint));
  EXPECT_TRUE(Tolerates({kUnreachableTaint, "Equal", "", "NoExecute", std::nullopt}, taint));
}

TEST(TaintEvictionSyncerTest, DeletesAtOnceOrAfterTolerationSeconds) {
  FakeNodeLifecycleClient client;
  FakeEvents events;
  FakeClock clock;
  TaintEvictionSyncer syncer(client, events, clock);
  auto node = MakeNode("down", "Unknown", 1,
                       {{kUnreachableTaint, "", "NoSchedule", std::nullopt},
                        {kUnreachableTaint, "", "NoExecute", api::Time::FromUnixSeconds(1)}});
  auto make_pod = [](const std::string& name, std::vector<Toleration> tolerations,
                     const std::string& node_name = "down") {
    auto pod = std::make_shared<Pod>();
    pod->metadata.name = name;
    pod->metadata.namespace_ = "default";
    pod->metadata.uid = "uid-" + name;
    pod->spec.node_name = node_name;
    pod->spec.tolerations = std::move(tolerations);
    return std::shared_ptr<const Pod>(pod);
  };
  const std::vector<PodPtr> pods = {
      make_pod("plain", {}),
      make_pod("brief",
               {{kUnreachableTaint, "Exists", "", "NoExecute", 5}, {"", "Exists", "", "", 60}}),
      make_pod("forever", {{kUnreachableTaint, "Exists", "", "NoExecute", std::nullopt}}),
      make_pod("elsewhere", {}, "fine"),
  };
  EXPECT_EQ(syncer.Evict({node}, pods), std::vector<std::string>{"default/plain"});
  clock.Advance(std::chrono::seconds(4));
  EXPECT_TRUE(syncer.Evict({node}, pods).empty()) << "plain is not deleted twice";
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(syncer.Evict({node}, pods), std::vector<std::string>{"default/brief"});
  clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(syncer.Evict({node}, pods).empty());
  EXPECT_EQ(client.actions, (std::vector<std::string>{
                                "patch pod status default/plain", "delete pod default/plain",
                                "patch pod status default/brief", "delete pod default/brief"}));
  const auto& condition = client.pod_patches[0].at("status").at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "DisruptionTarget");
  EXPECT_EQ(condition.at("reason"), "DeletionByTaintManager");
  EXPECT_EQ(condition.at("message"), "Taint manager: deleting due to NoExecute taint");
  ASSERT_EQ(events.events.size(), 2u);
  EXPECT_EQ(events.events[0].reason, "TaintManagerEviction");
  EXPECT_EQ(events.events[0].message, "Marking for deletion Pod default/plain");
}

PodPtr MakePodOn(const std::string& name, const std::string& node, const std::string& ready) {
  auto pod = std::make_shared<Pod>();
  pod->metadata.namespace_ = "default";
  pod->metadata.name = name;
  pod->metadata.uid = "uid-" + name;
  pod->spec.node_name = node;
  api::core::v1::PodCondition scheduled;
  scheduled.type = "PodScheduled";
  scheduled.status = "True";
  pod->status.conditions.push_back(scheduled);
  if (!ready.empty()) {
    api::core::v1::PodCondition condition;
    condition.type = "Ready";
    condition.status = ready;
    condition.reason = ready == "False" ? "ContainersNotReady" : "";
    condition.last_transition_time = api::Time::FromUnixSeconds(10);
    pod->status.conditions.push_back(condition);
  }
  return pod;
}

TEST(PodsToMarkNotReadyTest, UpstreamSelection) {
  struct Case {
    const char* name;
    std::string node;   // the pod's spec.nodeName
    std::string ready;  // its Ready condition's status; "" for none
    bool marked;
  };
  const Case cases[] = {
      {"ready pod on the node", "n1", "True", true},
      {"ready status unknown", "n1", "Unknown", true},
      {"already not ready", "n1", "False", false},
      {"no ready condition yet", "n1", "", false},
      {"ready pod on another node", "n2", "True", false},
      {"unscheduled pod", "", "True", false},
  };
  const auto now = api::Time::FromUnixSeconds(500);
  for (const auto& test : cases) {
    SCOPED_TRACE(test.name);
    auto pod = MakePodOn("p", test.node, test.ready);
    auto marks = PodsToMarkNotReady({pod}, "n1", now);
    ASSERT_EQ(marks.size(), test.marked ? 1u : 0u);
    if (!test.marked) continue;
    EXPECT_EQ(marks[0].pod, pod);
    // Only the Ready condition, turned False now: the patch merges it by type, so its other
    // fields and the pod's other conditions stay.
    auto patch = boost::json::parse(marks[0].patch);
    EXPECT_EQ(patch, boost::json::parse(R"({"status":{"conditions":[{"type":"Ready",)"
                                        R"("status":"False","lastTransitionTime":")" +
                                        now.ToString() + R"("}]}})"));
  }
}

TEST(MarkPodsNotReadyTest, PatchesAndRecordsNodeNotReadyPerPod) {
  FakeNodeLifecycleClient client;
  FakeEvents events;
  client.pod_status_errors["gone"] = ErrorCode::kNotFound;
  std::vector<PodPtr> pods = {MakePodOn("a", "n1", "True"), MakePodOn("b", "n1", "False"),
                              MakePodOn("gone", "n1", "True"), MakePodOn("c", "n2", "True")};
  ASSERT_TRUE(MarkPodsNotReady(client, events, pods, "n1", api::Time::FromUnixSeconds(9)).ok());
  EXPECT_EQ(client.actions, (std::vector<std::string>{"patch pod status default/a",
                                                      "patch pod status default/gone"}));
  ASSERT_EQ(events.events.size(), 1u) << "none for a pod already deleted";
  EXPECT_EQ(events.events[0].kind, "Pod");
  EXPECT_EQ(events.events[0].name, "a");
  EXPECT_EQ(events.events[0].type, "Warning");
  EXPECT_EQ(events.events[0].reason, "NodeNotReady");
  EXPECT_EQ(events.events[0].message, "Node is not ready");

  client.pod_status_errors["a"] = ErrorCode::kInternalError;
  EXPECT_FALSE(MarkPodsNotReady(client, events, pods, "n1", api::Time::FromUnixSeconds(9)).ok());
}

TEST(NodeHealthSyncerTest, NodeEventsAndPodsMarkedNotReadyOnceWhenTheNodeGoesUnknown) {
  FakeNodeLifecycleClient client;
  FakeEvents events;
  FakeClock clock;
  NodeLifecycleOptions options;
  options.node_monitor_grace_period = std::chrono::seconds(40);
  NodeHealthSyncer syncer(client, options, clock, &events);
  std::vector<PodPtr> pods = {MakePodOn("web", "n1", "True"), MakePodOn("idle", "n1", "False"),
                              MakePodOn("elsewhere", "n2", "True")};
  std::vector<std::string> asked;
  auto pods_of = [&](const std::string& node) {
    asked.push_back(node);
    return pods;
  };
  auto n1 = MakeNode("n1", "True", 50);
  auto n2 = MakeNode("n2", "True", 50);
  auto reasons = [&] {
    std::vector<std::string> out;
    for (const auto& event : events.events)
      out.push_back(event.kind + "/" + event.name + " " + event.reason + ": " + event.message);
    events.events.clear();
    return out;
  };

  ASSERT_TRUE(syncer.Monitor({n1, n2}, {}, pods_of).ok());
  EXPECT_EQ(reasons(), (std::vector<std::string>{
                           "Node/n1 RegisteredNode: Node n1 event: Registered Node n1 in "
                           "Controller",
                           "Node/n2 RegisteredNode: Node n2 event: Registered Node n2 in "
                           "Controller"}));
  // n2 keeps posting heartbeats; n1 goes silent past the grace period.
  clock.Advance(std::chrono::seconds(41));
  n2 = MakeNode("n2", "True", 90);
  ASSERT_TRUE(syncer.Monitor({n1, n2}, {}, pods_of).ok());
  EXPECT_EQ(asked, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(reasons(),
            (std::vector<std::string>{"Node/n1 NodeNotReady: Node n1 status is now: NodeNotReady",
                                      "Pod/web NodeNotReady: Node is not ready"}));
  EXPECT_EQ(client.actions,
            (std::vector<std::string>{"update status n1", "patch pod status default/web"}));

  // Already Unknown: no second event nor marking; a node that left gets RemovingNode.
  client.actions.clear();
  auto unknown = std::make_shared<const Node>(client.statuses[0]);
  ASSERT_TRUE(syncer.Monitor({unknown}, {}, pods_of).ok());
  EXPECT_EQ(asked.size(), 1u);
  EXPECT_EQ(reasons(),
            (std::vector<std::string>{
                "Node/n2 RemovingNode: Node n2 event: Removing Node n2 from Controller"}));
}

TEST(NodeHealthSyncerTest, FailedMarkingIsRetriedWhileTheNodeStaysNotReady) {
  FakeNodeLifecycleClient client;
  FakeEvents events;
  FakeClock clock;
  NodeLifecycleOptions options;
  options.node_monitor_grace_period = std::chrono::seconds(40);
  NodeHealthSyncer syncer(client, options, clock, &events);
  std::vector<PodPtr> pods = {MakePodOn("web", "n1", "True")};
  auto pods_of = [&](const std::string&) { return pods; };
  ASSERT_TRUE(syncer.Monitor({MakeNode("n1", "True", 50)}, {}, pods_of).ok());
  clock.Advance(std::chrono::seconds(41));
  client.pod_status_errors["web"] = ErrorCode::kInternalError;
  EXPECT_FALSE(syncer.Monitor({MakeNode("n1", "True", 50)}, {}, pods_of).ok());
  auto unknown = std::make_shared<const Node>(client.statuses[0]);

  auto pod_patches = [&] {
    auto patches =
        std::count(client.actions.begin(), client.actions.end(), "patch pod status default/web");
    client.actions.clear();
    return patches;
  };
  EXPECT_EQ(pod_patches(), 1);

  client.pod_status_errors.clear();
  ASSERT_TRUE(syncer.Monitor({unknown}, {}, pods_of).ok());
  EXPECT_EQ(pod_patches(), 1) << "retried";
  ASSERT_TRUE(syncer.Monitor({unknown}, {}, pods_of).ok());
  EXPECT_EQ(pod_patches(), 0) << "the retry succeeded";
}

}  // namespace
}  // namespace kpp::controllers
