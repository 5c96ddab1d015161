#include "controllers/statefulset/stateful_set.h"

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
  pod_template.metadata.labels = {{"app", "web"}};
  api::core::v1::Container container;
  container.name = "nginx";
  container.image = image;
  pod_template.spec.containers.push_back(container);
  return pod_template;
}

std::string RevisionFor(const std::string& image) {
  return RevisionName("web", HashRevisionData(TemplatePatch(Template(image)), 0));
}

StatefulSet MakeSet(int32_t replicas) {
  StatefulSet set;
  set.metadata.name = "web";
  set.metadata.namespace_ = "default";
  set.metadata.uid = "set-uid";
  set.metadata.generation = 2;
  set.spec.replicas = replicas;
  api::meta::v1::LabelSelector selector;
  selector.match_labels = {{"app", "web"}};
  set.spec.selector = selector;
  set.spec.service_name = "nginx";
  set.spec.template_ = Template("nginx:2");
  set.spec.pod_management_policy = "OrderedReady";
  set.spec.update_strategy.type = "RollingUpdate";
  return set;
}

struct PodShape {
  int ordinal;
  std::string image = "nginx:2";  // which revision made it
  std::string phase = "Running";
  bool ready = true;
  bool terminating = false;
};

Pod MakePod(const StatefulSet& set, const PodShape& shape) {
  Pod pod = NewStatefulSetPod(set, Template(shape.image), RevisionFor(shape.image), shape.ordinal);
  pod.metadata.uid = "uid-" + pod.metadata.name;
  pod.status.phase = shape.phase;
  api::core::v1::PodCondition ready;
  ready.type = "Ready";
  ready.status = shape.ready ? "True" : "False";
  pod.status.conditions.push_back(ready);
  if (shape.terminating) pod.metadata.deletion_timestamp = api::Time::FromUnixSeconds(1);
  return pod;
}

ControllerRevision MakeRevision(const StatefulSet& set, const std::string& image, int64_t number) {
  return NewRevision("apps/v1", "StatefulSet", set.metadata, {{"app", "web"}},
                     TemplatePatch(Template(image)), number, 0);
}

struct Case {
  std::string name;
  int32_t replicas;
  std::vector<PodShape> pods;
  std::vector<std::string> want;  // pod and claim creations and deletions, in order
  std::string policy = "OrderedReady";
  std::optional<int32_t> partition;
  std::string strategy = "RollingUpdate";
  bool claims = false;
  std::string when_scaled = "Retain";
  int32_t start = 0;
};

class StatefulSetSyncTest : public ::testing::TestWithParam<Case> {};

std::vector<std::string> PodAndClaimActions(const FakeWorkloadClient& client) {
  std::vector<std::string> out;
  for (const auto& action : client.actions) {
    if (action.rfind("create pod", 0) == 0 || action.rfind("delete pod", 0) == 0 ||
        action.rfind("create claim", 0) == 0 || action.rfind("patch claim", 0) == 0) {
      out.push_back(action.substr(0, action.find(" {")));
    }
  }
  return out;
}

TEST_P(StatefulSetSyncTest, Sync) {
  const Case& c = GetParam();
  StatefulSet set = MakeSet(c.replicas);
  set.spec.pod_management_policy = c.policy;
  set.spec.update_strategy.type = c.strategy;
  if (c.partition) {
    set.spec.update_strategy.rolling_update.emplace();
    set.spec.update_strategy.rolling_update->partition = c.partition;
  }
  if (c.start != 0) set.spec.ordinals = api::apps::v1::StatefulSetOrdinals{.start = c.start};
  if (c.claims) {
    api::core::v1::PersistentVolumeClaim claim_template;
    claim_template.metadata.name = "www";
    set.spec.volume_claim_templates.push_back(claim_template);
    set.spec.persistent_volume_claim_retention_policy.emplace();
    set.spec.persistent_volume_claim_retention_policy->when_deleted = "Retain";
    set.spec.persistent_volume_claim_retention_policy->when_scaled = c.when_scaled;
  }
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  revisions.Add(MakeRevision(set, "nginx:1", 1));
  revisions.Add(MakeRevision(set, "nginx:2", 2));
  set.status.current_revision = RevisionFor("nginx:1");
  for (const auto& shape : c.pods) {
    Pod pod = MakePod(set, shape);
    if (c.claims && !shape.terminating) {
      for (auto claim : ClaimsFor(set, shape.ordinal))
        claims.Add(claim);
    }
    pods.Add(pod);
  }
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  auto result = syncer.Sync("default/web", &set);
  ASSERT_TRUE(result.status.ok()) << result.status.error().message();
  EXPECT_EQ(PodAndClaimActions(client), c.want);
  EXPECT_TRUE(client.With("create revision").empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StatefulSetSyncTest,
    ::testing::Values(
        Case{
            .name = "OrderedReadyCreatesOnlyTheFirst", .replicas = 3, .want = {"create pod web-0"}},
        Case{.name = "OrderedReadyCreatesTheNextAfterReady",
             .replicas = 3,
             .pods = {{.ordinal = 0}},
             .want = {"create pod web-1"}},
        Case{.name = "OrderedReadyWaitsForReady",
             .replicas = 3,
             .pods = {{.ordinal = 0, .ready = false}},
             .want = {}},
        Case{.name = "OrderedReadyWaitsForRunning",
             .replicas = 3,
             .pods = {{.ordinal = 0, .phase = "Pending", .ready = false}},
             .want = {}},
        Case{.name = "ParallelCreatesAll",
             .replicas = 3,
             .want = {"create pod web-0", "create pod web-1", "create pod web-2"},
             .policy = "Parallel"},
        Case{.name = "OrdinalsStart",
             .replicas = 2,
             .pods = {{.ordinal = 5}},
             .want = {"create pod web-6"},
             .start = 5},
        Case{.name = "ClaimsBeforeThePod",
             .replicas = 2,
             .pods = {{.ordinal = 0}},
             .want = {"create claim www-web-1", "create pod web-1"},
             .claims = true},
        Case{.name = "ScaleDownFromTheTopOneAtATime",
             .replicas = 1,
             .pods = {{.ordinal = 0}, {.ordinal = 1}, {.ordinal = 2}},
             .want = {"delete pod web-2"}},
        Case{.name = "ScaleDownWaitsForTerminating",
             .replicas = 1,
             .pods = {{.ordinal = 0}, {.ordinal = 1}, {.ordinal = 2, .terminating = true}},
             .want = {}},
        Case{.name = "ScaleDownHaltsOnUnhealthyRemaining",
             .replicas = 1,
             .pods = {{.ordinal = 0, .ready = false}, {.ordinal = 1}},
             .want = {}},
        Case{.name = "ParallelScaleDownAll",
             .replicas = 1,
             .pods = {{.ordinal = 0}, {.ordinal = 1}, {.ordinal = 2}},
             .want = {"delete pod web-2", "delete pod web-1"},
             .policy = "Parallel"},
        Case{.name = "ScaleDownKeepsClaims",
             .replicas = 1,
             .pods = {{.ordinal = 0}, {.ordinal = 1}},
             .want = {"delete pod web-1"},
             .claims = true},
        Case{.name = "WhenScaledDeleteHandsTheClaimToThePod",
             .replicas = 1,
             .pods = {{.ordinal = 0}, {.ordinal = 1}},
             .want = {"patch claim www-web-1", "delete pod web-1"},
             .claims = true,
             .when_scaled = "Delete"},
        Case{.name = "FailedPodRecreated",
             .replicas = 2,
             .pods = {{.ordinal = 0}, {.ordinal = 1, .phase = "Failed", .ready = false}},
             .want = {"delete pod web-1"}},
        Case{.name = "RollingUpdateFromTheTop",
             .replicas = 3,
             .pods = {{.ordinal = 0, .image = "nginx:1"},
                      {.ordinal = 1, .image = "nginx:1"},
                      {.ordinal = 2, .image = "nginx:1"}},
             .want = {"delete pod web-2"}},
        Case{.name = "RollingUpdateNextAfterUpdatedIsReady",
             .replicas = 3,
             .pods = {{.ordinal = 0, .image = "nginx:1"},
                      {.ordinal = 1, .image = "nginx:1"},
                      {.ordinal = 2}},
             .want = {"delete pod web-1"}},
        Case{.name = "RollingUpdateStopsAtPartition",
             .replicas = 3,
             .pods = {{.ordinal = 0, .image = "nginx:1"},
                      {.ordinal = 1, .image = "nginx:1"},
                      {.ordinal = 2}},
             .want = {},
             .partition = 2},
        Case{.name = "OnDeleteLeavesOldPods",
             .replicas = 2,
             .pods = {{.ordinal = 0, .image = "nginx:1"}, {.ordinal = 1, .image = "nginx:1"}},
             .want = {},
             .strategy = "OnDelete"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(StatefulSetPod, Identity) {
  StatefulSet set = MakeSet(3);
  api::core::v1::PersistentVolumeClaim claim_template;
  claim_template.metadata.name = "www";
  set.spec.volume_claim_templates.push_back(claim_template);
  Pod pod = NewStatefulSetPod(set, set.spec.template_, "web-abc", 1);
  EXPECT_EQ(pod.metadata.name, "web-1");
  EXPECT_EQ(pod.spec.hostname, "web-1");
  EXPECT_EQ(pod.spec.subdomain, "nginx");
  EXPECT_EQ(pod.metadata.labels.at("statefulset.kubernetes.io/pod-name"), "web-1");
  EXPECT_EQ(pod.metadata.labels.at("apps.kubernetes.io/pod-index"), "1");
  EXPECT_EQ(pod.metadata.labels.at("controller-revision-hash"), "web-abc");
  ASSERT_EQ(pod.spec.volumes.size(), 1u);
  EXPECT_EQ(pod.spec.volumes[0].volume_source.persistent_volume_claim->claim_name, "www-web-1");
  ASSERT_EQ(pod.metadata.owner_references.size(), 1u);
  EXPECT_EQ(pod.metadata.owner_references[0].kind, "StatefulSet");
  EXPECT_EQ(ParseOrdinal("web", "web-12"), 12);
  EXPECT_EQ(ParseOrdinal("web", "web-x"), -1);
  EXPECT_EQ(ParseOrdinal("web", "webby-1"), -1);
}

TEST(StatefulSetSync, FirstSyncCreatesARevisionAndWritesStatus) {
  StatefulSet set = MakeSet(2);
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/web", &set).status.ok());
  const std::string name = RevisionFor("nginx:2");
  EXPECT_EQ(client.With("create revision"),
            std::vector<std::string>{"create revision " + name + " 1"});
  ASSERT_EQ(client.created_pods.size(), 1u);
  EXPECT_EQ(client.created_pods[0].metadata.labels.at("controller-revision-hash"), name);
  ASSERT_EQ(client.status_patches.size(), 1u);
  auto status = boost::json::parse(client.status_patches[0]).at("status");
  EXPECT_EQ(status.at("replicas").as_int64(), 1);
  EXPECT_EQ(status.at("updatedReplicas").as_int64(), 1);
  EXPECT_EQ(status.at("observedGeneration").as_int64(), 2);
  EXPECT_EQ(status.at("updateRevision").as_string(), name);
  ASSERT_EQ(events.events.size(), 1u);
  EXPECT_EQ(events.events[0].reason, "SuccessfulCreate");
  EXPECT_EQ(events.events[0].message, "create Pod web-0 in StatefulSet web successful");
  // The revision restores the template when applied as a patch (kubectl rollout undo).
  auto restored = TemplateOfRevision(client.revisions.at(name));
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, set.spec.template_);
  EXPECT_NE(client.revisions.at(name).data.Serialize().find("\"$patch\":\"replace\""),
            std::string::npos);
}

TEST(StatefulSetSync, RollbackRenumbersTheOldRevision) {
  StatefulSet set = MakeSet(1);
  set.spec.template_ = Template("nginx:1");
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  revisions.Add(MakeRevision(set, "nginx:1", 1));
  revisions.Add(MakeRevision(set, "nginx:2", 2));
  pods.Add(MakePod(set, {.ordinal = 0, .image = "nginx:2"}));
  set.status.current_revision = RevisionFor("nginx:2");
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/web", &set).status.ok());
  EXPECT_EQ(
      client.With("patch revision"),
      std::vector<std::string>{"patch revision " + RevisionFor("nginx:1") + " {\"revision\":3}"});
  EXPECT_EQ(client.With("delete pod"), std::vector<std::string>{"delete pod web-0"});
}

TEST(StatefulSetSync, AdoptsOrphansNamedLikeItsPodsAndReleasesPodsThatStopMatching) {
  StatefulSet set = MakeSet(2);
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  revisions.Add(MakeRevision(set, "nginx:2", 1));
  Pod orphan = MakePod(set, {.ordinal = 0});
  orphan.metadata.owner_references.clear();
  pods.Add(orphan);
  Pod stranger = MakePod(set, {.ordinal = 0});
  stranger.metadata.name = "other-0";
  stranger.metadata.owner_references.clear();
  pods.Add(stranger);
  Pod relabelled = MakePod(set, {.ordinal = 1});
  relabelled.metadata.labels["app"] = "debug";
  pods.Add(relabelled);
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/web", &set).status.ok());
  EXPECT_EQ(client.With("patch pod"),
            (std::vector<std::string>{"patch pod web-0", "patch pod web-1"}));
  // web-0 is ours now and ready; web-1 was released, so it is created again.
  EXPECT_EQ(client.With("create pod"), std::vector<std::string>{"create pod web-1"});
}

TEST(StatefulSetSync, AdoptsOrphanRevisionsItsSelectorMatches) {
  StatefulSet set = MakeSet(1);
  set.spec.template_ = Template("nginx:1");
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  // The current template's revision, orphaned (the set was deleted with --cascade=orphan and
  // made again), and two the set's selector does not match.
  ControllerRevision orphan = MakeRevision(set, "nginx:1", 4);
  orphan.metadata.uid = "orphan-uid";
  orphan.metadata.owner_references.clear();
  revisions.Add(orphan);
  ControllerRevision foreign = MakeRevision(set, "nginx:0", 1);
  foreign.metadata.name = "foreign";
  foreign.metadata.labels = {{"app", "other"}};
  foreign.metadata.owner_references.clear();
  revisions.Add(foreign);
  ControllerRevision owned_elsewhere = MakeRevision(set, "nginx:0", 2);
  owned_elsewhere.metadata.name = "relabelled";
  owned_elsewhere.metadata.labels = {{"app", "other"}};
  revisions.Add(owned_elsewhere);
  pods.Add(MakePod(set, {.ordinal = 0, .image = "nginx:1"}));
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/web", &set).status.ok());
  const auto patched = client.With("patch revision");
  ASSERT_EQ(patched.size(), 1u) << ::testing::PrintToString(client.actions);
  EXPECT_EQ(patched[0].rfind("patch revision " + RevisionFor("nginx:1") + " ", 0), 0u);
  auto patch = boost::json::parse(patched[0].substr(patched[0].find(" {") + 1));
  EXPECT_EQ(patch.at("metadata").at("uid"), "orphan-uid");
  EXPECT_EQ(patch.at("metadata").at("ownerReferences").at(0).at("kind"), "StatefulSet");
  EXPECT_EQ(patch.at("metadata").at("ownerReferences").at(0).at("uid"), "set-uid");
  // The adopted revision is the update revision: none is made, the pod is current.
  EXPECT_TRUE(client.With("create revision").empty());
  EXPECT_TRUE(client.With("delete pod").empty());
  auto status = boost::json::parse(client.status_patches.at(0)).at("status");
  EXPECT_EQ(status.at("updateRevision").as_string(), RevisionFor("nginx:1"));
}

TEST(StatefulSetSync, HistoryLimitDeletesTheOldestUnused) {
  StatefulSet set = MakeSet(1);
  set.spec.revision_history_limit = 1;
  FakeLister<Pod> pods;
  FakeLister<PersistentVolumeClaim> claims;
  FakeLister<ControllerRevision> revisions;
  revisions.Add(MakeRevision(set, "nginx:0", 1));
  revisions.Add(MakeRevision(set, "nginx:1", 2));
  revisions.Add(MakeRevision(set, "nginx:3", 3));
  revisions.Add(MakeRevision(set, "nginx:2", 4));
  pods.Add(MakePod(set, {.ordinal = 0}));
  set.status.current_revision = RevisionFor("nginx:2");
  FakeWorkloadClient client;
  FakeEvents events;
  FakeClock clock;
  StatefulSetSyncer syncer(pods, claims, revisions, client, events, clock);
  ASSERT_TRUE(syncer.Sync("default/web", &set).status.ok());
  EXPECT_EQ(client.With("delete revision"),
            (std::vector<std::string>{"delete revision " + RevisionFor("nginx:0"),
                                      "delete revision " + RevisionFor("nginx:1")}));
}

}  // namespace
}  // namespace kpp::controllers
