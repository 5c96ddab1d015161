// The disruption controller's sync of one PodDisruptionBudget, table-driven over in-memory
// listers, a fake client (status writes, /scale reads) and a fake clock.
#include "controllers/disruption/disruption.h"

#include <gtest/gtest.h>

#include <map>

#include "fakes.h"

namespace kpp::controllers {
namespace {

using api::apps::v1::StatefulSet;
using api::core::v1::ReplicationController;
using api::meta::v1::OwnerReference;
using testing::FakeEvents;
using testing::FakeLister;

constexpr int64_t kNow = 1'700'000'000;

class FakeDisruptionClient final : public DisruptionClient {
 public:
  Status UpdateStatus(const PodDisruptionBudget& pdb) override {
    updates.push_back(pdb);
    if (conflict) return Error(ErrorCode::kConflict, "the object has been modified");
    return Ok();
  }
  Result<std::optional<ControllerScale>> GetScale(const OwnerReference& ref,
                                                  const std::string& ns) override {
    scale_reads.push_back(ref.kind + " " + ns + "/" + ref.name);
    auto found = scales.find(ref.kind + "/" + ref.name);
    if (found == scales.end()) {
      return InvalidError(ref.kind + " does not implement the scale subresource");
    }
    return std::optional<ControllerScale>(found->second);
  }
  Status ResetDisruptionTarget(const std::string& ns, const std::string& name,
                               api::Time now) override {
    resets.push_back(ns + "/" + name + " at " + std::to_string(now.unix_seconds));
    return Ok();
  }
  std::vector<std::string> resets;
  std::map<std::string, ControllerScale> scales;  // "<kind>/<name>"
  bool conflict = false;
  std::vector<PodDisruptionBudget> updates;
  std::vector<std::string> scale_reads;
};

OwnerReference Controller(const std::string& api_version, const std::string& kind,
                          const std::string& name) {
  return OwnerReference{api_version, kind, name, "uid-" + name, true, true};
}

struct PodShape {
  std::string name;
  bool ready = true;
  std::optional<OwnerReference> owner;
  bool deleting = false;
  std::map<std::string, std::string> labels = {{"app", "web"}};
};

Pod MakePod(const PodShape& shape) {
  Pod pod;
  pod.metadata.namespace_ = "ns";
  pod.metadata.name = shape.name;
  pod.metadata.uid = "uid-" + shape.name;
  pod.metadata.labels = shape.labels;
  if (shape.owner) pod.metadata.owner_references.push_back(*shape.owner);
  if (shape.deleting) pod.metadata.deletion_timestamp = api::Time::FromUnixSeconds(kNow - 1);
  pod.status.phase = "Running";
  api::core::v1::PodCondition ready;
  ready.type = "Ready";
  ready.status = shape.ready ? "True" : "False";
  pod.status.conditions.push_back(ready);
  return pod;
}

PodDisruptionBudget MakeBudget(std::optional<api::IntOrString> min_available,
                               std::optional<api::IntOrString> max_unavailable) {
  PodDisruptionBudget pdb;
  pdb.metadata.namespace_ = "ns";
  pdb.metadata.name = "budget";
  pdb.metadata.generation = 2;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = {{"app", "web"}};
  pdb.spec.selector = selector;
  pdb.spec.min_available = std::move(min_available);
  pdb.spec.max_unavailable = std::move(max_unavailable);
  return pdb;
}

api::IntOrString Int(int32_t value) {
  return api::IntOrString::FromInt(value);
}
api::IntOrString Percent(const std::string& value) {
  return api::IntOrString::FromString(value);
}

struct Fixture {
  FakeLister<Pod> pods;
  FakeLister<ReplicaSet> replica_sets;
  FakeLister<Deployment> deployments;
  FakeLister<StatefulSet> stateful_sets;
  FakeLister<ReplicationController> replication_controllers;
  FakeDisruptionClient client;
  FakeEvents events;
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kNow))};

  Fixture() {
    // A deployment "web" of 3 replicas through replica set "web-1"; a bare replica set "solo" of
    // 4; a stateful set "db" of 3; a replication controller "legacy" of 2.
    Deployment web;
    web.metadata.namespace_ = "ns";
    web.metadata.name = "web";
    web.metadata.uid = "uid-web";
    web.spec.replicas = 3;
    deployments.Add(web);
    ReplicaSet web_rs;
    web_rs.metadata.namespace_ = "ns";
    web_rs.metadata.name = "web-1";
    web_rs.metadata.uid = "uid-web-1";
    web_rs.metadata.owner_references.push_back(Controller("apps/v1", "Deployment", "web"));
    web_rs.spec.replicas = 3;
    replica_sets.Add(web_rs);
    ReplicaSet solo;
    solo.metadata.namespace_ = "ns";
    solo.metadata.name = "solo";
    solo.metadata.uid = "uid-solo";
    solo.spec.replicas = 4;
    replica_sets.Add(solo);
    StatefulSet db;
    db.metadata.namespace_ = "ns";
    db.metadata.name = "db";
    db.metadata.uid = "uid-db";
    db.spec.replicas = 3;
    stateful_sets.Add(db);
    ReplicationController legacy;
    legacy.metadata.namespace_ = "ns";
    legacy.metadata.name = "legacy";
    legacy.metadata.uid = "uid-legacy";
    legacy.spec.replicas = 2;
    replication_controllers.Add(legacy);
    client.scales["Shard/shards"] = ControllerScale{"uid-shards", 5};
  }

  DisruptionSyncer Syncer() {
    return DisruptionSyncer(
        {pods, replica_sets, deployments, stateful_sets, replication_controllers}, client, events,
        clock);
  }
};

const std::optional<OwnerReference> kWebRs = Controller("apps/v1", "ReplicaSet", "web-1");

struct StatusCase {
  std::string name;
  PodDisruptionBudget pdb;
  std::vector<PodShape> pods;
  int32_t expected_pods, desired_healthy, current_healthy, disruptions_allowed;
  std::string reason;  // of the DisruptionAllowed condition
  std::vector<std::string> event_reasons = {};
};

TEST(DisruptionSyncTest, ComputesStatusAsUpstream) {
  const auto shard = Controller("example.com/v1", "Shard", "shards");
  const std::vector<StatusCase> cases = {
      {"minAvailable 2 of 3 ready",
       MakeBudget(Int(2), std::nullopt),
       {{"a", true, kWebRs}, {"b", true, kWebRs}, {"c", true, kWebRs}},
       3,
       2,
       3,
       1,
       "SufficientPods"},
      {"minAvailable 2, one not ready",
       MakeBudget(Int(2), std::nullopt),
       {{"a", true, kWebRs}, {"b", true, kWebRs}, {"c", false, kWebRs}},
       3,
       2,
       2,
       0,
       "InsufficientPods"},
      {"integer minAvailable counts pods without a controller",
       MakeBudget(Int(1), std::nullopt),
       {{"a"}, {"b"}},
       2,
       1,
       2,
       1,
       "SufficientPods"},
      {"maxUnavailable 1 uses the deployment's scale, not the pods present",
       MakeBudget(std::nullopt, Int(1)),
       {{"a", true, kWebRs}, {"b", true, kWebRs}},
       3,
       2,
       2,
       0,
       "InsufficientPods"},
      {"minAvailable 50% of a bare replica set of 4, rounded up",
       MakeBudget(Percent("50%"), std::nullopt),
       {{"a", true, Controller("apps/v1", "ReplicaSet", "solo")},
        {"b", true, Controller("apps/v1", "ReplicaSet", "solo")},
        {"c", true, Controller("apps/v1", "ReplicaSet", "solo")}},
       4,
       2,
       3,
       1,
       "SufficientPods"},
      {"maxUnavailable 34% of a stateful set of 3 (2 may go)",
       MakeBudget(std::nullopt, Percent("34%")),
       {{"db-0", true, Controller("apps/v1", "StatefulSet", "db")},
        {"db-1", true, Controller("apps/v1", "StatefulSet", "db")},
        {"db-2", true, Controller("apps/v1", "StatefulSet", "db")}},
       3,
       1,
       3,
       2,
       "SufficientPods"},
      {"maxUnavailable of a replication controller",
       MakeBudget(std::nullopt, Int(1)),
       {{"l1", true, Controller("v1", "ReplicationController", "legacy")},
        {"l2", true, Controller("v1", "ReplicationController", "legacy")}},
       2,
       1,
       2,
       1,
       "SufficientPods"},
      {"a custom resource through /scale",
       MakeBudget(std::nullopt, Int(2)),
       {{"s0", true, shard}, {"s1", true, shard}, {"s2", true, shard}, {"s3", true, shard}},
       5,
       3,
       4,
       1,
       "SufficientPods"},
      {"unmanaged pods are left out of a scale and reported",
       MakeBudget(std::nullopt, Int(1)),
       {{"a", true, kWebRs}, {"b", true, kWebRs}, {"c", true, kWebRs}, {"bare"}},
       3,
       2,
       4,
       2,
       "SufficientPods",
       {"UnmanagedPods"}},
      {"pods being deleted are not healthy",
       MakeBudget(Int(2), std::nullopt),
       {{"a", true, kWebRs}, {"b", true, kWebRs}, {"c", true, kWebRs, true}},
       3,
       2,
       2,
       0,
       "InsufficientPods"},
      {"no pods: nothing may be disrupted",
       MakeBudget(Int(0), std::nullopt),
       {},
       0,
       0,
       0,
       0,
       "InsufficientPods",
       {"NoPods"}},
      {"other labels are not selected",
       MakeBudget(Int(1), std::nullopt),
       {{"a", true, kWebRs}, {"other", true, kWebRs, false, {{"app", "other"}}}},
       1,
       1,
       1,
       0,
       "InsufficientPods"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture fixture;
    for (const auto& shape : c.pods)
      fixture.pods.Add(MakePod(shape));
    auto result = fixture.Syncer().Sync(c.pdb);
    ASSERT_TRUE(result.status.ok()) << result.status.error().message();
    ASSERT_EQ(fixture.client.updates.size(), 1u);
    const auto& status = fixture.client.updates[0].status;
    EXPECT_EQ(status.expected_pods, c.expected_pods);
    EXPECT_EQ(status.desired_healthy, c.desired_healthy);
    EXPECT_EQ(status.current_healthy, c.current_healthy);
    EXPECT_EQ(status.disruptions_allowed, c.disruptions_allowed);
    EXPECT_EQ(status.observed_generation, 2);
    ASSERT_EQ(status.conditions.size(), 1u);
    EXPECT_EQ(status.conditions[0].type, "DisruptionAllowed");
    EXPECT_EQ(status.conditions[0].status, c.disruptions_allowed > 0 ? "True" : "False");
    EXPECT_EQ(status.conditions[0].reason, c.reason);
    EXPECT_EQ(status.conditions[0].observed_generation, 2);
    EXPECT_EQ(status.conditions[0].last_transition_time.unix_seconds, kNow);
    std::vector<std::string> reasons;
    for (const auto& event : fixture.events.events)
      reasons.push_back(event.reason);
    EXPECT_EQ(reasons, c.event_reasons);
  }
}

TEST(DisruptionSyncTest, SelectorNilSelectsNothingEmptySelectsAll) {
  Fixture fixture;
  fixture.pods.Add(MakePod({"a"}));
  fixture.pods.Add(MakePod({"b", true, std::nullopt, false, {{"app", "other"}}}));
  auto pdb = MakeBudget(Int(1), std::nullopt);
  pdb.spec.selector = std::nullopt;
  EXPECT_TRUE(fixture.Syncer().PodsFor(pdb)->empty());
  pdb.spec.selector = api::meta::v1::LabelSelector{};
  EXPECT_EQ(fixture.Syncer().PodsFor(pdb)->size(), 2u);
}

TEST(DisruptionSyncTest, DisruptedPodsExpireAfterTwoMinutes) {
  Fixture fixture;
  for (const char* name : {"a", "b", "c", "d"})
    fixture.pods.Add(MakePod({name, true, kWebRs}));
  auto pdb = MakeBudget(Int(2), std::nullopt);
  pdb.status.disrupted_pods = {
      {"a", api::Time::FromUnixSeconds(kNow - 30)},     // recent: not healthy, kept
      {"b", api::Time::FromUnixSeconds(kNow - 200)},    // expired: dropped, healthy again
      {"gone", api::Time::FromUnixSeconds(kNow - 10)},  // no such pod any more: dropped
  };
  auto result = fixture.Syncer().Sync(pdb);
  ASSERT_TRUE(result.status.ok());
  ASSERT_EQ(fixture.client.updates.size(), 1u);
  const auto& status = fixture.client.updates[0].status;
  EXPECT_EQ(status.current_healthy, 3);
  EXPECT_EQ(status.disruptions_allowed, 1);
  EXPECT_EQ(status.disrupted_pods,
            (std::map<std::string, api::Time>{{"a", api::Time::FromUnixSeconds(kNow - 30)}}));
  ASSERT_TRUE(result.requeue_after.has_value());
  EXPECT_EQ(*result.requeue_after, std::chrono::seconds(90));
  ASSERT_EQ(fixture.events.events.size(), 1u);
  EXPECT_EQ(fixture.events.events[0].reason, "NotDeleted");
  EXPECT_EQ(fixture.events.events[0].name, "b");
}

TEST(DisruptionSyncTest, UpToDateStatusIsNotWritten) {
  Fixture fixture;
  for (const char* name : {"a", "b", "c"})
    fixture.pods.Add(MakePod({name, true, kWebRs}));
  auto pdb = MakeBudget(Int(2), std::nullopt);
  ASSERT_TRUE(fixture.Syncer().Sync(pdb).status.ok());
  ASSERT_EQ(fixture.client.updates.size(), 1u);
  auto synced = fixture.client.updates[0];
  ASSERT_TRUE(fixture.Syncer().Sync(synced).status.ok());
  EXPECT_EQ(fixture.client.updates.size(), 1u);
  // A new generation is written again, the condition keeping its transition time.
  synced.metadata.generation = 3;
  fixture.clock.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(fixture.Syncer().Sync(synced).status.ok());
  ASSERT_EQ(fixture.client.updates.size(), 2u);
  EXPECT_EQ(fixture.client.updates[1].status.observed_generation, 3);
  EXPECT_EQ(fixture.client.updates[1].status.conditions[0].last_transition_time.unix_seconds, kNow);
}

TEST(DisruptionSyncTest, FailureWritesZeroDisruptionsWithSyncFailed) {
  Fixture fixture;
  fixture.pods.Add(MakePod({"w0", true, Controller("example.com/v1", "Widget", "widgets")}));
  auto pdb = MakeBudget(std::nullopt, Int(1));
  pdb.status.disruptions_allowed = 3;
  pdb.status.observed_generation = 1;
  auto result = fixture.Syncer().Sync(pdb);
  ASSERT_TRUE(result.status.ok());  // the fail-safe write succeeded
  ASSERT_EQ(fixture.client.updates.size(), 1u);
  const auto& status = fixture.client.updates[0].status;
  EXPECT_EQ(status.disruptions_allowed, 0);
  EXPECT_EQ(status.observed_generation, 1);
  ASSERT_EQ(status.conditions.size(), 1u);
  EXPECT_EQ(status.conditions[0].status, "False");
  EXPECT_EQ(status.conditions[0].reason, "SyncFailed");
  EXPECT_EQ(status.conditions[0].message, "Widget does not implement the scale subresource");
  ASSERT_EQ(fixture.events.events.size(), 1u);
  EXPECT_EQ(fixture.events.events[0].reason, "CalculateExpectedPodCountFailed");
}

TEST(DisruptionSyncTest, AControllerWithAnotherUidIsNoController) {
  Fixture fixture;
  auto stale = Controller("apps/v1", "ReplicaSet", "solo");
  stale.uid = "uid-an-older-solo";
  fixture.pods.Add(MakePod({"a", true, stale}));
  fixture.client.scales["ReplicaSet/solo"] = ControllerScale{"uid-solo", 4};
  auto result = fixture.Syncer().Sync(MakeBudget(std::nullopt, Int(1)));
  ASSERT_TRUE(result.status.ok());
  ASSERT_EQ(fixture.client.updates.size(), 1u);
  EXPECT_EQ(fixture.client.updates[0].status.conditions[0].reason, "SyncFailed");
  EXPECT_EQ(fixture.client.updates[0].status.conditions[0].message,
            "found no controllers for pod \"a\"");
}

TEST(DisruptionSyncTest, ConflictIsRetriedWithoutFailSafe) {
  Fixture fixture;
  fixture.pods.Add(MakePod({"a", true, kWebRs}));
  fixture.client.conflict = true;
  auto result = fixture.Syncer().Sync(MakeBudget(Int(1), std::nullopt));
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(fixture.client.updates.size(), 1u);
}

TEST(DisruptionSyncTest, StaleDisruptionTargetIsResetAfterTwoMinutes) {
  struct Case {
    std::string name;
    std::string status = "True";
    std::string reason = "EvictionByEvictionAPI";
    int64_t age = 150;
    bool deleting = false;
    std::string phase = "Running";
    std::optional<int64_t> wait;  // empty: nothing to do
  };
  const std::vector<Case> cases = {
      {.name = "stale: reset", .wait = 0},
      {.name = "recent: checked again later", .age = 30, .wait = 90},
      {.name = "False already", .status = "False"},
      {.name = "set by the kubelet", .reason = "TerminationByKubelet"},
      {.name = "being deleted", .deleting = true},
      {.name = "finished", .phase = "Failed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture fixture;
    Pod pod = MakePod({"p", true, kWebRs, c.deleting});
    pod.status.phase = c.phase;
    api::core::v1::PodCondition target;
    target.type = "DisruptionTarget";
    target.status = c.status;
    target.reason = c.reason;
    target.last_transition_time = api::Time::FromUnixSeconds(kNow - c.age);
    pod.status.conditions.push_back(target);
    auto wait = StaleDisruptionWait(pod, api::Time::FromUnixSeconds(kNow));
    ASSERT_EQ(wait.has_value(), c.wait.has_value());
    if (wait) {
      EXPECT_EQ(wait->count(), *c.wait);
    }
    auto result = fixture.Syncer().SyncStalePodDisruption(pod);
    ASSERT_TRUE(result.status.ok());
    if (c.wait == 0) {
      EXPECT_EQ(fixture.client.resets, std::vector<std::string>{"ns/p at 1700000000"});
      EXPECT_FALSE(result.requeue_after);
    } else {
      EXPECT_TRUE(fixture.client.resets.empty());
      EXPECT_EQ(result.requeue_after.has_value(), c.wait.has_value());
    }
  }
}

}  // namespace
}  // namespace kpp::controllers
