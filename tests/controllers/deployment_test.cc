#include "controllers/deployment/deployment.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "fakes.h"

namespace kpp::controllers {
namespace {

using testing::FakeClient;
using testing::FakeEvents;
using testing::FakeLister;

constexpr int64_t kNow = 1'700'000'000;

std::string S(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : "<not a string>";
}

api::core::v1::PodTemplateSpec Template(const std::string& image) {
  api::core::v1::PodTemplateSpec pod_template;
  pod_template.metadata.labels = {{"app", "web"}};
  api::core::v1::Container container;
  container.name = "web";
  container.image = image;
  pod_template.spec.containers.push_back(container);
  return pod_template;
}

Deployment MakeDeployment(int32_t replicas, const std::string& image = "nginx:2") {
  Deployment d;
  d.metadata.name = "web";
  d.metadata.namespace_ = "default";
  d.metadata.uid = "d-uid";
  d.metadata.generation = 1;
  d.spec.replicas = replicas;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = {{"app", "web"}};
  d.spec.selector = selector;
  d.spec.template_ = Template(image);
  d.spec.strategy.type = "RollingUpdate";
  d.spec.revision_history_limit = 10;
  d.spec.progress_deadline_seconds = 600;
  return d;
}

struct RsShape {
  std::string image;
  int32_t replicas;
  int32_t available;
  int revision;
  int64_t created;
  int32_t desired_annotation = -1;  // -1: the deployment's replicas
  int32_t max_annotation = -1;
};

ReplicaSet MakeReplicaSet(const Deployment& d, const RsShape& shape) {
  ReplicaSet rs;
  const std::string hash = ComputePodTemplateHash(Template(shape.image), std::nullopt);
  rs.metadata.name = "web-" + hash;
  rs.metadata.namespace_ = "default";
  rs.metadata.uid = "uid-" + shape.image;
  rs.metadata.creation_timestamp = api::Time::FromUnixSeconds(shape.created);
  rs.metadata.labels = {{"app", "web"}, {kPodTemplateHashLabel, hash}};
  rs.metadata.annotations[kRevisionAnnotation] = std::to_string(shape.revision);
  const int32_t replicas = d.spec.replicas.value_or(1);
  rs.metadata.annotations[kDesiredReplicasAnnotation] =
      std::to_string(shape.desired_annotation >= 0 ? shape.desired_annotation : replicas);
  rs.metadata.annotations[kMaxReplicasAnnotation] =
      std::to_string(shape.max_annotation >= 0 ? shape.max_annotation : replicas + MaxSurge(d));
  rs.metadata.owner_references.push_back(ControllerRef("apps/v1", "Deployment", d.metadata));
  rs.spec.replicas = shape.replicas;
  rs.spec.template_ = Template(shape.image);
  rs.spec.template_.metadata.labels[kPodTemplateHashLabel] = hash;
  rs.status.replicas = shape.replicas;
  rs.status.ready_replicas = shape.available;
  rs.status.available_replicas = shape.available;
  return rs;
}

struct Harness {
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kNow))};
  FakeLister<ReplicaSet> replica_sets;
  FakeLister<Pod> pods;
  FakeClient client;
  FakeEvents events;
  DeploymentSyncer syncer{replica_sets, pods, client, events, clock};

  SyncResult Sync(const Deployment& d) { return syncer.Sync("default/web", &d); }
  boost::json::object LastStatus() {
    EXPECT_FALSE(client.status_patches.empty());
    if (client.status_patches.empty()) return {};
    return boost::json::parse(client.status_patches.back()).as_object().at("status").as_object();
  }
  // The condition `type` of the last status written.
  boost::json::object Condition(const std::string& type) {
    auto status = LastStatus();
    if (!status.contains("conditions") || status.at("conditions").is_null()) return {};
    for (const auto& condition : status.at("conditions").as_array()) {
      if (condition.at("type") == type.c_str()) return condition.as_object();
    }
    return {};
  }
};

TEST(DeploymentHelpersTest, SafeEncodeStringUsesUpstreamsAlphabet) {
  EXPECT_EQ(SafeEncodeString("12"), "56");
  EXPECT_EQ(SafeEncodeString("0"), "4");
  const std::string hash = ComputePodTemplateHash(Template("nginx"), std::nullopt);
  EXPECT_EQ(hash, ComputePodTemplateHash(Template("nginx"), std::nullopt));
  EXPECT_NE(hash, ComputePodTemplateHash(Template("nginx:2"), std::nullopt));
  EXPECT_NE(hash, ComputePodTemplateHash(Template("nginx"), 1));
  EXPECT_EQ(hash.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos);
}

TEST(DeploymentHelpersTest, ResolveFencepostsRoundsSurgeUpAndUnavailableDown) {
  using api::IntOrString;
  struct Case {
    std::optional<IntOrString> surge, unavailable;
    int32_t desired;
    int32_t want_surge, want_unavailable;
  };
  const Case cases[] = {
      {std::nullopt, std::nullopt, 10, 3, 2},  // 25% / 25%
      {std::nullopt, std::nullopt, 3, 1, 0},
      {std::nullopt, std::nullopt, 1, 1, 0},
      {IntOrString::FromInt(0), IntOrString::FromInt(0), 5, 0, 1},
      {IntOrString::FromString("50%"), IntOrString::FromString("10%"), 5, 3, 0},
      {IntOrString::FromInt(2), IntOrString::FromString("100%"), 4, 2, 4},
      {IntOrString::FromString("0%"), IntOrString::FromString("0%"), 0, 0, 1},
  };
  for (const auto& c : cases) {
    auto resolved = ResolveFenceposts(c.surge, c.unavailable, c.desired);
    ASSERT_TRUE(resolved.ok());
    EXPECT_EQ(resolved->first, c.want_surge) << c.desired;
    EXPECT_EQ(resolved->second, c.want_unavailable) << c.desired;
  }
}

TEST(DeploymentHelpersTest, NewReplicaSetGrowsWithinMaxSurge) {
  struct Case {
    int32_t desired;
    int32_t old_replicas, new_replicas;
    int32_t want;
  };
  const Case cases[] = {
      {3, 3, 0, 1},                   // 25% of 3 rounds up to 1 surge pod
      {10, 10, 0, 3}, {10, 8, 5, 5},  // already at 13 = 10 + 3
      {10, 0, 7, 10}, {10, 5, 5, 8},
  };
  for (const auto& c : cases) {
    auto d = MakeDeployment(c.desired);
    auto old_rs = MakeReplicaSet(d, {"nginx:1", c.old_replicas, c.old_replicas, 1, kNow - 100});
    auto new_rs = MakeReplicaSet(d, {"nginx:2", c.new_replicas, 0, 2, kNow - 10});
    EXPECT_EQ(NewRSNewReplicas(d, {&old_rs, &new_rs}, new_rs), c.want)
        << c.desired << " " << c.old_replicas << " " << c.new_replicas;
  }
  auto recreate = MakeDeployment(4);
  recreate.spec.strategy.type = "Recreate";
  auto rs = MakeReplicaSet(recreate, {"nginx:2", 0, 0, 1, kNow});
  EXPECT_EQ(NewRSNewReplicas(recreate, {&rs}, rs), 4);
}

TEST(DeploymentSyncTest, NewDeploymentGetsAReplicaSetNamedByItsTemplateHash) {
  Harness h;
  const auto d = MakeDeployment(3);
  auto result = h.Sync(d);
  ASSERT_TRUE(result.status.ok()) << result.status.error().message();
  ASSERT_EQ(h.client.created_replica_sets.size(), 1u);
  const auto& rs = h.client.created_replica_sets[0];
  const std::string hash = ComputePodTemplateHash(d.spec.template_, std::nullopt);
  EXPECT_EQ(rs.metadata.name, "web-" + hash);
  EXPECT_EQ(rs.spec.replicas, 3);
  EXPECT_EQ(rs.metadata.labels.at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.spec.template_.metadata.labels.at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.spec.selector->match_labels.at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.metadata.annotations.at(kRevisionAnnotation), "1");
  EXPECT_EQ(rs.metadata.annotations.at(kDesiredReplicasAnnotation), "3");
  EXPECT_EQ(rs.metadata.annotations.at(kMaxReplicasAnnotation), "4");
  ASSERT_EQ(rs.metadata.owner_references.size(), 1u);
  EXPECT_EQ(rs.metadata.owner_references[0].kind, "Deployment");
  EXPECT_EQ(rs.metadata.owner_references[0].controller, true);
  EXPECT_EQ(h.client.Count("patch deployment default/web "
                           "{\"metadata\":{\"annotations\":{\"deployment.kubernetes.io/"
                           "revision\":\"1\"}}}"),
            1);
  ASSERT_FALSE(h.events.events.empty());
  EXPECT_EQ(h.events.events[0].reason, "ScalingReplicaSet");
  EXPECT_EQ(h.events.events[0].message, "Scaled up replica set web-" + hash + " from 0 to 3");
  // No pod of the new replica set counted yet: the condition of its creation stays.
  EXPECT_EQ(S(h.Condition("Progressing").at("reason")), "NewReplicaSetCreated");
  EXPECT_EQ(S(h.Condition("Progressing").at("message")),
            "Created new replica set \"web-" + hash + "\"");
  EXPECT_EQ(S(h.Condition("Available").at("reason")), "MinimumReplicasUnavailable");
  EXPECT_EQ(S(h.Condition("Available").at("message")),
            "Deployment does not have minimum availability.");
}

TEST(DeploymentSyncTest, ReplicaSetTheCacheHasNotSeenYetIsNoHashCollision) {
  Harness h;
  h.client.replica_sets_exist = true;  // created by an earlier sync; its watch event is not in yet
  const auto d = MakeDeployment(3);
  auto result = h.Sync(d);
  EXPECT_FALSE(result.status.ok());
  for (const auto& patch : h.client.status_patches) {
    EXPECT_EQ(patch.find("collisionCount"), std::string::npos) << patch;
  }
}

TEST(DeploymentSyncTest, ReplicaSetOfAnotherTemplateUnderTheNameIsAHashCollision) {
  Harness h;
  h.client.replica_sets_exist = true;
  const auto d = MakeDeployment(3);
  auto other = MakeReplicaSet(
      d, {.image = "nginx:2", .replicas = 1, .available = 1, .revision = 1, .created = kNow});
  other.spec.template_ = Template("busybox");  // same name, different template
  h.replica_sets.Add(other);
  auto result = h.Sync(d);
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(h.LastStatus().at("collisionCount"), 1);
}

TEST(DeploymentSyncTest, TemplateChangeStartsARollingUpdateWithinMaxSurge) {
  Harness h;
  auto d = MakeDeployment(3, "nginx:2");
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:1", 3, 3, 1, kNow - 100}));
  ASSERT_TRUE(h.Sync(d).status.ok());
  ASSERT_EQ(h.client.created_replica_sets.size(), 1u);
  EXPECT_EQ(h.client.created_replica_sets[0].spec.replicas, 1);  // maxSurge 25% of 3 -> 1
  EXPECT_EQ(h.client.created_replica_sets[0].metadata.annotations.at(kRevisionAnnotation), "2");
  // maxUnavailable rounds down to 0: no old pod goes before a new one is available.
  EXPECT_EQ(h.client.Count("update rs"), 0);
}

TEST(DeploymentSyncTest, OldReplicaSetShrinksAsNewPodsBecomeAvailable) {
  struct Case {
    std::string why;
    int32_t old_replicas, old_available, new_replicas, new_available;
    std::vector<std::string> want_actions;  // replica set updates, in order
  };
  auto d = MakeDeployment(3, "nginx:2");
  const std::string old_name = MakeReplicaSet(d, {"nginx:1", 0, 0, 1, 0}).metadata.name;
  const std::string new_name = MakeReplicaSet(d, {"nginx:2", 0, 0, 2, 0}).metadata.name;
  const Case cases[] = {
      {"new pod not yet available", 3, 3, 1, 0, {}},
      {"one new available: one old goes", 3, 3, 1, 1, {"update rs " + old_name + " replicas=2"}},
      {"room to surge again", 2, 2, 1, 1, {"update rs " + new_name + " replicas=2"}},
      {"no room while the new pod is unavailable, even for unhealthy old ones", 3, 1, 1, 0, {}},
      {"unhealthy old pods within the room", 3, 1, 1, 1, {"update rs " + old_name + " replicas=2"}},
  };
  for (const auto& c : cases) {
    Harness h;
    h.replica_sets.Add(
        MakeReplicaSet(d, {"nginx:1", c.old_replicas, c.old_available, 1, kNow - 100}));
    h.replica_sets.Add(
        MakeReplicaSet(d, {"nginx:2", c.new_replicas, c.new_available, 2, kNow - 10}));
    ASSERT_TRUE(h.Sync(d).status.ok()) << c.why;
    std::vector<std::string> updates;
    for (const auto& action : h.client.actions) {
      if (action.rfind("update rs", 0) == 0) updates.push_back(action);
    }
    EXPECT_EQ(updates, c.want_actions) << c.why;
  }
}

TEST(DeploymentSyncTest, RecreateScalesOldDownAndWaitsForItsPods) {
  Harness h;
  auto d = MakeDeployment(2, "nginx:2");
  d.spec.strategy.type = "Recreate";
  auto old_rs = MakeReplicaSet(d, {"nginx:1", 2, 2, 1, kNow - 100});
  h.replica_sets.Add(old_rs);
  ASSERT_TRUE(h.Sync(d).status.ok());
  EXPECT_EQ(h.client.Count("update rs " + old_rs.metadata.name + " replicas=0"), 1);
  EXPECT_TRUE(h.client.created_replica_sets.empty());

  // Scaled to zero but a pod is still terminating: still no new replica set.
  Harness waiting;
  auto scaled = MakeReplicaSet(d, {"nginx:1", 0, 0, 1, kNow - 100});
  waiting.replica_sets.Add(scaled);
  Pod pod;
  pod.metadata.name = "old-pod";
  pod.metadata.namespace_ = "default";
  pod.metadata.owner_references.push_back(ControllerRef("apps/v1", "ReplicaSet", scaled.metadata));
  pod.status.phase = "Running";
  waiting.pods.Add(pod);
  ASSERT_TRUE(waiting.Sync(d).status.ok());
  EXPECT_TRUE(waiting.client.created_replica_sets.empty());

  Harness gone;
  gone.replica_sets.Add(scaled);
  ASSERT_TRUE(gone.Sync(d).status.ok());
  ASSERT_EQ(gone.client.created_replica_sets.size(), 1u);
  EXPECT_EQ(gone.client.created_replica_sets[0].spec.replicas, 2);
}

TEST(DeploymentSyncTest, ScalingMidRolloutIsSharedProportionally) {
  Harness h;
  auto d = MakeDeployment(10, "nginx:2");
  auto old_rs = MakeReplicaSet(d, {"nginx:1", 8, 8, 1, kNow - 100});
  auto new_rs = MakeReplicaSet(d, {"nginx:2", 5, 0, 2, kNow - 10});
  h.replica_sets.Add(old_rs);
  h.replica_sets.Add(new_rs);
  d.spec.replicas = 20;  // max-replicas annotations still say 13
  d.metadata.generation = 2;
  ASSERT_TRUE(h.Sync(d).status.ok());
  EXPECT_EQ(h.client.Count("update rs " + old_rs.metadata.name + " replicas=15"), 1)
      << fmt::format("{}", fmt::join(h.client.actions, "\n"));
  EXPECT_EQ(h.client.Count("update rs " + new_rs.metadata.name + " replicas=10"), 1);
  bool event = false;
  for (const auto& e : h.events.events) {
    event = event || e.message == "Scaled up replica set " + old_rs.metadata.name + " from 8 to 15";
  }
  EXPECT_TRUE(event);
}

TEST(DeploymentSyncTest, PausedDeploymentScalesButDoesNotRollOut) {
  Harness h;
  auto d = MakeDeployment(3, "nginx:2");
  d.spec.paused = true;
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:1", 3, 3, 1, kNow - 100}));
  ASSERT_TRUE(h.Sync(d).status.ok());
  EXPECT_TRUE(h.client.created_replica_sets.empty());
  const auto progressing = h.Condition("Progressing");
  EXPECT_EQ(S(progressing.at("status")), "Unknown");
  EXPECT_EQ(S(progressing.at("reason")), "DeploymentPaused");
  EXPECT_EQ(S(progressing.at("message")), "Deployment is paused");
}

TEST(DeploymentSyncTest, CompleteRolloutCleansUpBeyondRevisionHistoryLimit) {
  Harness h;
  auto d = MakeDeployment(2, "nginx:4");
  d.spec.revision_history_limit = 1;
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:1", 0, 0, 1, kNow - 400}));
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:2", 0, 0, 2, kNow - 300}));
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:3", 0, 0, 3, kNow - 200}));
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:4", 2, 2, 4, kNow - 100}));
  d.status.observed_generation = 1;
  d.status.replicas = 2;
  d.status.updated_replicas = 2;
  d.status.available_replicas = 2;
  d.status.ready_replicas = 2;
  ASSERT_TRUE(h.Sync(d).status.ok());
  EXPECT_EQ(h.client.Count("delete rs"), 2);
  EXPECT_EQ(h.client.Count("delete rs default/" +
                           MakeReplicaSet(d, {"nginx:3", 0, 0, 3, 0}).metadata.name),
            0);
  const auto progressing = h.Condition("Progressing");
  EXPECT_EQ(S(progressing.at("reason")), "NewReplicaSetAvailable");
  EXPECT_EQ(S(progressing.at("message")),
            "ReplicaSet \"" + MakeReplicaSet(d, {"nginx:4", 0, 0, 4, 0}).metadata.name +
                "\" has successfully progressed.");
  EXPECT_EQ(S(h.Condition("Available").at("reason")), "MinimumReplicasAvailable");
  EXPECT_EQ(S(h.Condition("Available").at("message")), "Deployment has minimum availability.");
}

TEST(DeploymentSyncTest, RolloutWithoutProgressPastTheDeadlineTimesOut) {
  Harness h;
  auto d = MakeDeployment(2, "nginx:2");
  d.spec.progress_deadline_seconds = 60;
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:1", 2, 2, 1, kNow - 400}));
  h.replica_sets.Add(MakeReplicaSet(d, {"nginx:2", 1, 0, 2, kNow - 100}));
  d.status.observed_generation = 1;
  d.status.replicas = 3;
  d.status.updated_replicas = 1;
  d.status.available_replicas = 2;
  d.status.ready_replicas = 2;
  d.status.unavailable_replicas = 1;
  api::apps::v1::DeploymentCondition progressing{"Progressing",
                                                 "True",
                                                 api::Time::FromUnixSeconds(kNow - 61),
                                                 api::Time::FromUnixSeconds(kNow - 100),
                                                 "ReplicaSetUpdated",
                                                 "ReplicaSet \"x\" is progressing."};
  d.status.conditions.push_back(progressing);
  auto result = h.Sync(d);
  ASSERT_TRUE(result.status.ok());
  const auto condition = h.Condition("Progressing");
  EXPECT_EQ(S(condition.at("status")), "False");
  EXPECT_EQ(S(condition.at("reason")), "ProgressDeadlineExceeded");
  const std::string new_name = MakeReplicaSet(d, {"nginx:2", 0, 0, 2, 0}).metadata.name;
  EXPECT_EQ(S(condition.at("message")),
            "ReplicaSet \"" + new_name + "\" has timed out progressing.");

  // Within the deadline: no change, and a sync is due when it would pass.
  Harness early;
  early.replica_sets.Add(MakeReplicaSet(d, {"nginx:1", 2, 2, 1, kNow - 400}));
  early.replica_sets.Add(MakeReplicaSet(d, {"nginx:2", 1, 0, 2, kNow - 100}));
  d.status.conditions[0].last_update_time = api::Time::FromUnixSeconds(kNow - 10);
  auto waiting = early.Sync(d);
  ASSERT_TRUE(waiting.status.ok());
  ASSERT_TRUE(waiting.requeue_after.has_value());
  EXPECT_EQ(waiting.requeue_after->count(), 51);
}

TEST(DeploymentSyncTest, AdoptsOrphanReplicaSetsTheSelectorMatches) {
  Harness h;
  auto d = MakeDeployment(1, "nginx:1");
  auto orphan = MakeReplicaSet(d, {"nginx:1", 1, 1, 1, kNow - 100});
  orphan.metadata.owner_references.clear();
  h.replica_sets.Add(orphan);
  h.client.fresh["deployments/default/web"] = d.metadata;
  ASSERT_TRUE(h.Sync(d).status.ok());
  ASSERT_GE(h.client.actions.size(), 2u);
  EXPECT_EQ(h.client.actions[0], "get deployments default/web");
  EXPECT_EQ(h.client.actions[1].rfind("patch rs default/" + orphan.metadata.name, 0), 0u);
  EXPECT_TRUE(h.client.created_replica_sets.empty());
}

TEST(DeploymentSyncTest, EmptySelectorIsRefusedWithAnEvent) {
  Harness h;
  auto d = MakeDeployment(1);
  d.spec.selector = api::meta::v1::LabelSelector{};
  ASSERT_TRUE(h.Sync(d).status.ok());
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].reason, "SelectingAll");
  EXPECT_EQ(h.events.events[0].message,
            "This deployment is selecting all pods. A non-empty selector is required.");
  EXPECT_TRUE(h.client.created_replica_sets.empty());
}

}  // namespace
}  // namespace kpp::controllers
