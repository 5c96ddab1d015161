#include "controllers/replicaset/replica_set.h"

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

ReplicaSet MakeReplicaSet(int32_t replicas, int32_t min_ready_seconds = 0) {
  ReplicaSet rs;
  rs.metadata.name = "web";
  rs.metadata.namespace_ = "default";
  rs.metadata.uid = "rs-uid";
  rs.metadata.generation = 4;
  rs.spec.replicas = replicas;
  rs.spec.min_ready_seconds = min_ready_seconds;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = {{"app", "web"}};
  rs.spec.selector = selector;
  rs.spec.template_.metadata.labels = {{"app", "web"}, {"tier", "front"}};
  api::core::v1::Container container;
  container.name = "nginx";
  container.image = "nginx";
  rs.spec.template_.spec.containers.push_back(container);
  return rs;
}

struct PodShape {
  std::string name;
  std::string node;  // "" unassigned
  std::string phase = "Running";
  bool ready = false;
  int64_t ready_since = 0;  // unix seconds
  int32_t restarts = 0;
  int64_t created = kNow - 1000;
  bool owned = true;
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}};
};

Pod MakePod(const PodShape& shape) {
  Pod pod;
  pod.metadata.name = shape.name;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-" + shape.name;
  pod.metadata.labels = shape.labels;
  pod.metadata.creation_timestamp = api::Time::FromUnixSeconds(shape.created);
  if (shape.owned) {
    api::meta::v1::OwnerReference owner;
    owner.api_version = "apps/v1";
    owner.kind = "ReplicaSet";
    owner.name = "web";
    owner.uid = "rs-uid";
    owner.controller = true;
    pod.metadata.owner_references.push_back(owner);
  }
  pod.spec.node_name = shape.node;
  pod.status.phase = shape.phase;
  if (shape.ready) {
    api::core::v1::PodCondition ready;
    ready.type = "Ready";
    ready.status = "True";
    ready.last_transition_time = api::Time::FromUnixSeconds(shape.ready_since);
    pod.status.conditions.push_back(ready);
  }
  api::core::v1::ContainerStatus container;
  container.name = "nginx";
  container.restart_count = shape.restarts;
  pod.status.container_statuses.push_back(container);
  return pod;
}

struct Harness {
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kNow))};
  FakeLister<Pod> pods;
  FakeClient client;
  FakeEvents events;
  Expectations expectations{clock};
  ReplicaSetSyncer syncer{ReplicaSetKindInfo(), pods, client, events, expectations, clock};
};

boost::json::object LastStatus(const FakeClient& client) {
  EXPECT_FALSE(client.status_patches.empty());
  if (client.status_patches.empty()) return {};
  return boost::json::parse(client.status_patches.back()).as_object().at("status").as_object();
}

TEST(SlowStartBatchTest, GrowsBatchesAndStopsAfterTheFirstFailingOne) {
  struct Case {
    int count;
    int fail_from;  // calls from this one on fail; -1 never
    int want_successes;
    int want_calls;
  };
  const Case cases[] = {
      {0, -1, 0, 0}, {1, -1, 1, 1}, {10, -1, 10, 10}, {10, 0, 0, 1},
      {10, 1, 1, 3}, {10, 3, 3, 7}, {10, 5, 5, 7},    {500, -1, 500, 500},
  };
  for (const auto& c : cases) {
    std::atomic<int> calls = 0;
    auto result = SlowStartBatch(c.count, 1, [&]() -> Status {
      const int index = calls++;
      if (c.fail_from >= 0 && index >= c.fail_from) return InternalError("refused");
      return Ok();
    });
    EXPECT_EQ(result.successes, c.want_successes) << c.count << " " << c.fail_from;
    EXPECT_EQ(calls.load(), c.want_calls) << c.count << " " << c.fail_from;
    EXPECT_EQ(result.error.has_value(), c.fail_from >= 0 && c.fail_from < c.count);
  }
}

TEST(SortPodsForDeletionTest, LeastValuableFirstAsUpstreamRanksThem) {
  struct Case {
    std::string why;
    PodShape first;  // deleted before
    PodShape second;
  };
  const Case cases[] = {
      {"unassigned before assigned", {.name = "a", .node = ""}, {.name = "b", .node = "n1"}},
      {"pending before running",
       {.name = "a", .node = "n1", .phase = "Pending"},
       {.name = "b", .node = "n2", .phase = "Running"}},
      {"pending before unknown",
       {.name = "a", .node = "n1", .phase = "Pending"},
       {.name = "b", .node = "n2", .phase = "Unknown"}},
      {"unknown before running",
       {.name = "a", .node = "n1", .phase = "Unknown"},
       {.name = "b", .node = "n2", .phase = "Running"}},
      {"not ready before ready",
       {.name = "a", .node = "n1"},
       {.name = "b", .node = "n2", .ready = true, .ready_since = kNow - 10}},
      {"ready for less time first",
       {.name = "a", .node = "n1", .ready = true, .ready_since = kNow - 10},
       {.name = "b", .node = "n2", .ready = true, .ready_since = kNow - 100}},
      {"more restarts first",
       {.name = "a", .node = "n1", .restarts = 5},
       {.name = "b", .node = "n2", .restarts = 1}},
      {"ready ages in the same power of two: by uid, restarts not looked at",
       {.name = "a", .node = "n1", .ready = true, .ready_since = kNow - 100},
       {.name = "b", .node = "n2", .ready = true, .ready_since = kNow - 101, .restarts = 9}},
      {"newer first",
       {.name = "a", .node = "n1", .created = kNow - 5},
       {.name = "b", .node = "n2", .created = kNow - 50}},
  };
  for (const auto& c : cases) {
    for (bool reversed : {false, true}) {
      std::vector<std::shared_ptr<const Pod>> pods = {std::make_shared<Pod>(MakePod(c.first)),
                                                      std::make_shared<Pod>(MakePod(c.second))};
      if (reversed) std::swap(pods[0], pods[1]);
      SortPodsForDeletion(pods, Clock::TimePoint(std::chrono::seconds(kNow)));
      EXPECT_EQ(pods[0]->metadata.name, "a") << c.why << (reversed ? " (reversed)" : "");
    }
  }
}

TEST(SortPodsForDeletionTest, PodsSharingANodeGoBeforeLonelyOnes) {
  std::vector<std::shared_ptr<const Pod>> pods = {
      std::make_shared<Pod>(MakePod({.name = "alone", .node = "n1"})),
      std::make_shared<Pod>(MakePod({.name = "doubled-1", .node = "n2"})),
      std::make_shared<Pod>(MakePod({.name = "doubled-2", .node = "n2"}))};
  SortPodsForDeletion(pods, Clock::TimePoint(std::chrono::seconds(kNow)));
  EXPECT_EQ(pods[2]->metadata.name, "alone");
}

TEST(ReplicaSetSyncTest, CreatesMissingPodsFromTheTemplateWithControllerReference) {
  Harness h;
  const auto rs = MakeReplicaSet(3);
  auto result = h.syncer.Sync("default/web", &rs);
  ASSERT_TRUE(result.status.ok()) << result.status.error().message();
  ASSERT_EQ(h.client.created_pods.size(), 3u);
  for (const auto& pod : h.client.created_pods) {
    EXPECT_EQ(pod.metadata.generate_name, "web-");
    EXPECT_EQ(pod.metadata.namespace_, "default");
    EXPECT_EQ(pod.metadata.labels, rs.spec.template_.metadata.labels);
    ASSERT_EQ(pod.metadata.owner_references.size(), 1u);
    const auto& owner = pod.metadata.owner_references[0];
    EXPECT_EQ(owner.kind, "ReplicaSet");
    EXPECT_EQ(owner.api_version, "apps/v1");
    EXPECT_EQ(owner.uid, "rs-uid");
    EXPECT_EQ(owner.controller, true);
    EXPECT_EQ(owner.block_owner_deletion, true);
    EXPECT_EQ(pod.spec.containers.at(0).image, "nginx");
  }
  ASSERT_EQ(h.events.events.size(), 3u);
  EXPECT_EQ(h.events.events[0].reason, "SuccessfulCreate");
  EXPECT_EQ(h.events.events[0].message.rfind("Created pod: web-", 0), 0u);
  // Until the informer shows the new pods, a second sync creates nothing more.
  EXPECT_FALSE(h.expectations.Satisfied("default/web"));
  ASSERT_TRUE(h.syncer.Sync("default/web", &rs).status.ok());
  EXPECT_EQ(h.client.created_pods.size(), 3u);
  for (int i = 0; i < 3; ++i)
    h.expectations.CreationObserved("default/web");
  EXPECT_TRUE(h.expectations.Satisfied("default/web"));
}

TEST(ReplicaSetSyncTest, CreatesAtMostBurstReplicasPerSync) {
  Harness h;
  const auto rs = MakeReplicaSet(600);
  ASSERT_TRUE(h.syncer.Sync("default/web", &rs).status.ok());
  EXPECT_EQ(h.client.created_pods.size(), static_cast<size_t>(kBurstReplicas));
}

TEST(ReplicaSetSyncTest, CreateRefusedSetsReplicaFailureAndStopsTheBatches) {
  Harness h;
  h.client.fail_pod_creates_after = 3;  // batches 1, 2 succeed; the batch of 4 fails
  const auto rs = MakeReplicaSet(10);
  auto result = h.syncer.Sync("default/web", &rs);
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(h.client.created_pods.size(), 3u);
  EXPECT_EQ(h.client.Count("create pod (refused)"), 4);  // the rest of the batches never ran
  auto status = LastStatus(h.client);
  const auto& conditions = status.at("conditions").as_array();
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(S(conditions[0].at("type")), "ReplicaFailure");
  EXPECT_EQ(S(conditions[0].at("reason")), "FailedCreate");
  EXPECT_EQ(S(conditions[0].at("message")), "pods \"x\" is forbidden: exceeded quota");
  int warnings = 0;
  for (const auto& event : h.events.events) {
    if (event.reason == "FailedCreate") {
      ++warnings;
      EXPECT_EQ(event.type, "Warning");
      EXPECT_EQ(event.message, "Error creating: pods \"x\" is forbidden: exceeded quota");
    }
  }
  EXPECT_EQ(warnings, 4);
  // Every pod not created is no longer expected.
  for (int i = 0; i < 3; ++i)
    h.expectations.CreationObserved("default/web");
  EXPECT_TRUE(h.expectations.Satisfied("default/web"));
}

TEST(ReplicaSetSyncTest, DeletesTheLeastValuablePodsFirst) {
  Harness h;
  h.pods.Add(
      MakePod({.name = "ready-old", .node = "n1", .ready = true, .ready_since = kNow - 500}));
  h.pods.Add(MakePod({.name = "pending", .node = "", .phase = "Pending"}));
  h.pods.Add(MakePod({.name = "running-not-ready", .node = "n2"}));
  h.pods.Add(MakePod({.name = "ready-new", .node = "n3", .ready = true, .ready_since = kNow - 5}));
  const auto rs = MakeReplicaSet(1);
  ASSERT_TRUE(h.syncer.Sync("default/web", &rs).status.ok());
  EXPECT_EQ(h.client.deleted_pods,
            (std::vector<std::string>{"pending", "running-not-ready", "ready-new"}));
  ASSERT_EQ(h.events.events.size(), 3u);
  EXPECT_EQ(h.events.events[0].reason, "SuccessfulDelete");
  EXPECT_EQ(h.events.events[0].message, "Deleted pod: pending");
  EXPECT_FALSE(h.expectations.Satisfied("default/web"));
  // A pod deleted gracefully, then removed, counts once.
  h.expectations.DeletionObserved("default/web", "default/pending");
  h.expectations.DeletionObserved("default/web", "default/pending");
  h.expectations.DeletionObserved("default/web", "default/running-not-ready");
  EXPECT_FALSE(h.expectations.Satisfied("default/web"));
  h.expectations.DeletionObserved("default/web", "default/ready-new");
  EXPECT_TRUE(h.expectations.Satisfied("default/web"));
}

TEST(ReplicaSetSyncTest, AdoptsMatchingOrphansAndReleasesPodsThatStoppedMatching) {
  Harness h;
  h.pods.Add(MakePod({.name = "orphan", .node = "n1", .owned = false}));
  h.pods.Add(MakePod(
      {.name = "orphan-other-app", .node = "n1", .owned = false, .labels = {{"app", "db"}}}));
  h.pods.Add(MakePod({.name = "relabelled", .node = "n1", .labels = {{"app", "debug"}}}));
  h.pods.Add(MakePod({.name = "finished", .node = "n1", .phase = "Succeeded", .owned = false}));
  const auto rs = MakeReplicaSet(1);
  h.client.fresh["replicasets/default/web"] = rs.metadata;
  ASSERT_TRUE(h.syncer.Sync("default/web", &rs).status.ok());
  ASSERT_EQ(h.client.Count("patch pod"), 2) << fmt::format("{}", fmt::join(h.client.actions, "\n"));
  // The owner is read fresh once, before the first adoption.
  EXPECT_EQ(h.client.actions[0], "get replicasets default/web");
  h.client.actions.erase(h.client.actions.begin());
  EXPECT_EQ(h.client.actions[0],
            "patch pod default/orphan {\"metadata\":{\"ownerReferences\":[{\"apiVersion\":"
            "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"rs-uid\","
            "\"controller\":true,\"blockOwnerDeletion\":true}],\"uid\":\"uid-orphan\"}}");
  EXPECT_EQ(h.client.actions[1],
            "patch pod default/relabelled {\"metadata\":{\"ownerReferences\":[{\"$patch\":"
            "\"delete\",\"uid\":\"rs-uid\"}],\"uid\":\"uid-relabelled\"}}");
  // The adopted orphan is the one replica: nothing created or deleted.
  EXPECT_EQ(h.client.created_pods.size(), 0u);
  EXPECT_EQ(h.client.deleted_pods.size(), 0u);
}

TEST(ReplicaSetSyncTest, NoAdoptionByAnOwnerThatIsGoneOrBeingDeleted) {
  struct Case {
    std::string why;
    bool fresh_exists;
    std::string fresh_uid;
    bool fresh_deleting;
    std::string want_error;
  };
  const Case cases[] = {
      {"deleted", false, "", false, "replicasets \"web\" not found"},
      {"replaced by another of the same name", true, "other-uid", false,
       "original ReplicaSet default/web is gone: got uid other-uid, wanted rs-uid"},
      {"being deleted", true, "rs-uid", true,
       "default/web has just been deleted at 2001-09-09T01:46:40Z"},
  };
  for (const auto& c : cases) {
    Harness h;
    h.pods.Add(MakePod({.name = "orphan", .node = "n1", .owned = false}));
    const auto rs = MakeReplicaSet(1);
    if (c.fresh_exists) {
      auto fresh = rs.metadata;
      fresh.uid = c.fresh_uid;
      if (c.fresh_deleting) fresh.deletion_timestamp = api::Time::FromUnixSeconds(1'000'000'000);
      h.client.fresh["replicasets/default/web"] = fresh;
    }
    auto result = h.syncer.Sync("default/web", &rs);
    ASSERT_FALSE(result.status.ok()) << c.why;
    EXPECT_EQ(result.status.error().message(), c.want_error) << c.why;
    EXPECT_EQ(h.client.Count("patch pod"), 0) << c.why;
    EXPECT_EQ(h.client.Count("create pod"), 0) << c.why;
  }
}

TEST(ReplicaSetSyncTest, StatusCountsReadyAvailableAndFullyLabeledPods) {
  struct Case {
    std::string why;
    int32_t min_ready_seconds;
    std::vector<PodShape> pods;
    int want_replicas, want_fully_labeled, want_ready, want_available;
  };
  const Case cases[] = {
      {"none ready", 0, {{.name = "a"}, {.name = "b"}}, 2, 2, 0, 0},
      {"ready is available without minReadySeconds",
       0,
       {{.name = "a", .ready = true, .ready_since = kNow}, {.name = "b"}},
       2,
       2,
       1,
       1},
      {"available only after minReadySeconds",
       30,
       {{.name = "a", .ready = true, .ready_since = kNow - 10},
        {.name = "b", .ready = true, .ready_since = kNow - 30}},
       2,
       2,
       2,
       1},
      {"missing template labels",
       0,
       {{.name = "a", .labels = {{"app", "web"}}}, {.name = "b"}},
       2,
       1,
       0,
       0},
  };
  for (const auto& c : cases) {
    Harness h;
    for (const auto& shape : c.pods)
      h.pods.Add(MakePod(shape));
    const auto rs = MakeReplicaSet(static_cast<int32_t>(c.pods.size()), c.min_ready_seconds);
    auto result = h.syncer.Sync("default/web", &rs);
    ASSERT_TRUE(result.status.ok()) << c.why;
    auto status = LastStatus(h.client);
    EXPECT_EQ(status.at("replicas").as_int64(), c.want_replicas) << c.why;
    EXPECT_EQ(status.at("fullyLabeledReplicas").as_int64(), c.want_fully_labeled) << c.why;
    EXPECT_EQ(status.at("readyReplicas").as_int64(), c.want_ready) << c.why;
    EXPECT_EQ(status.at("availableReplicas").as_int64(), c.want_available) << c.why;
    EXPECT_EQ(status.at("observedGeneration").as_int64(), 4) << c.why;
    EXPECT_TRUE(status.at("conditions").is_null()) << c.why;
    // All ready but not yet all available: look again when minReadySeconds has passed.
    EXPECT_EQ(result.requeue_after.has_value(),
              c.want_ready == c.want_replicas && c.want_available != c.want_replicas)
        << c.why;
  }
}

TEST(ReplicaSetSyncTest, UnchangedStatusIsNotWritten) {
  Harness h;
  h.pods.Add(MakePod({.name = "a"}));
  auto rs = MakeReplicaSet(1);
  rs.status.replicas = 1;
  rs.status.fully_labeled_replicas = 1;
  rs.status.observed_generation = 4;
  ASSERT_TRUE(h.syncer.Sync("default/web", &rs).status.ok());
  EXPECT_TRUE(h.client.actions.empty());
}

TEST(ReplicaSetSyncTest, ReplicationControllersAreSyncedAsReplicaSets) {
  api::core::v1::ReplicationController rc;
  rc.metadata.name = "legacy";
  rc.metadata.namespace_ = "default";
  rc.metadata.uid = "rc-uid";
  rc.metadata.generation = 1;
  rc.spec.replicas = 2;
  rc.spec.selector = {{"app", "legacy"}};
  api::core::v1::PodTemplateSpec pod_template;
  pod_template.metadata.labels = {{"app", "legacy"}};
  rc.spec.template_ = pod_template;
  const auto rs = FromReplicationController(rc);
  EXPECT_EQ(rs.spec.selector->match_labels, rc.spec.selector);

  FakeClock clock;
  FakeLister<Pod> pods;
  FakeClient client;
  FakeEvents events;
  Expectations expectations(clock);
  ReplicaSetSyncer syncer(ReplicationControllerKindInfo(), pods, client, events, expectations,
                          clock);
  ASSERT_TRUE(syncer.Sync("default/legacy", &rs).status.ok());
  ASSERT_EQ(client.created_pods.size(), 2u);
  EXPECT_EQ(client.created_pods[0].metadata.owner_references[0].kind, "ReplicationController");
  EXPECT_EQ(client.created_pods[0].metadata.owner_references[0].api_version, "v1");
  EXPECT_EQ(client.actions.back(), "patch status replicationcontrollers default/legacy");
}

TEST(ReplicaSetSyncTest, TemplateWithoutLabelsCannotCreatePods) {
  auto result = PodFromTemplate({}, "default", "web", {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "unable to create pods, no labels");
}

}  // namespace
}  // namespace kpp::controllers
