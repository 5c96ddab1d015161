// The namespace controller's pass over one terminating namespace (NamespacedResourcesDeleter),
// table-driven against a fake API server: what it deletes, lists and writes, what it returns, and
// the status conditions it leaves.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>

#include "client/rest/errors.h"
#include "controllers/namespace/namespaced_resources_deleter.h"

namespace kpp::controllers {
namespace {

using api::core::v1::Namespace;
using api::core::v1::Pod;

constexpr int64_t kDeletedAt = 1'700'000'000;

struct FakeObject {
  std::string name;
  std::vector<std::string> finalizers;
  bool graceful = false;  // a pod still in its grace period: a delete leaves it
};

const GroupVersionResource kPods{"", "v1", "pods"};
const GroupVersionResource kConfigMaps{"", "v1", "configmaps"};
const GroupVersionResource kWidgets{"example.com", "v1", "widgets"};
const GroupVersionResource kThings{"things.io", "v1", "things"};  // no deletecollection

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};

// A server holding one namespace and some objects in it. A delete removes an object unless
// finalizers or a grace period keep it (then it stays, as the API server keeps it).
class FakeServer final : public NamespaceDeleterClient {
 public:
  Result<Namespace> GetNamespace(const std::string& name) override {
    actions.push_back("get namespace");
    if (!ns || ns->metadata.name != name) return Error(ErrorCode::kNotFound, "not found");
    return *ns;
  }
  Result<Namespace> UpdateNamespaceStatus(const Namespace& updated) override {
    actions.push_back("update status");
    if (!ns) return Error(ErrorCode::kNotFound, "not found");
    ns->status = updated.status;
    return *ns;
  }
  Result<Namespace> FinalizeNamespace(const Namespace& updated) override {
    std::string list;
    for (const auto& finalizer : updated.spec.finalizers)
      list += (list.empty() ? "" : ",") + finalizer;
    actions.push_back("finalize [" + list + "]");
    if (!ns) return Error(ErrorCode::kNotFound, "not found");
    if (finalize_conflicts > 0) {
      --finalize_conflicts;
      return Error(ErrorCode::kConflict, "the object has been modified");
    }
    ns->spec.finalizers = updated.spec.finalizers;
    Namespace answer = *ns;
    // The API server deletes a namespace once nothing finalizes it any longer.
    if (ns->spec.finalizers.empty() && ns->metadata.finalizers.empty()) ns.reset();
    return answer;
  }
  Discovery DiscoverNamespacedResources(Clock::TimePoint fetched_after) override {
    actions.push_back("discover");
    discovered_after.push_back(fetched_after);
    return discovery;
  }
  Status DeleteCollection(const GroupVersionResource& resource, const std::string&) override {
    actions.push_back("deletecollection " + Name(resource));
    if (auto failure = failures.find("deletecollection " + Name(resource));
        failure != failures.end()) {
      return failure->second;
    }
    std::erase_if(objects[resource], [](const FakeObject& object) {
      return object.finalizers.empty() && !object.graceful;
    });
    return Ok();
  }
  Result<std::vector<RemainingObject>> List(const GroupVersionResource& resource,
                                            const std::string&) override {
    actions.push_back("list " + Name(resource));
    std::vector<RemainingObject> listed;
    for (const auto& object : objects[resource])
      listed.push_back({object.name, object.finalizers});
    return listed;
  }
  Status Delete(const GroupVersionResource& resource, const std::string&,
                const std::string& name) override {
    actions.push_back("delete " + Name(resource) + " " + name);
    std::erase_if(objects[resource], [&](const FakeObject& object) {
      return object.name == name && object.finalizers.empty() && !object.graceful;
    });
    return Ok();
  }
  Result<std::vector<Pod>> ListPods(const std::string&) override {
    actions.push_back("list pods for their grace periods");
    std::vector<Pod> pods;
    for (const auto& object : objects[kPods]) {
      Pod pod;
      pod.metadata.name = object.name;
      pod.spec.termination_grace_period_seconds = 30;
      pod.status.phase = "Running";
      pods.push_back(std::move(pod));
    }
    return pods;
  }

  static std::string Name(const GroupVersionResource& resource) {
    return resource.resource + "." + resource.group;
  }

  std::optional<Namespace> ns;
  Discovery discovery;
  std::map<GroupVersionResource, std::vector<FakeObject>> objects;
  std::map<std::string, Error> failures;
  int finalize_conflicts = 0;
  std::vector<std::string> actions;
  std::vector<Clock::TimePoint> discovered_after;
};

Namespace Terminating(const std::string& name = "team") {
  Namespace ns;
  ns.metadata.name = name;
  ns.metadata.uid = "uid-" + name;
  ns.metadata.deletion_timestamp = api::Time::FromUnixSeconds(kDeletedAt);
  ns.spec.finalizers = {"kubernetes"};
  ns.status.phase = "Terminating";
  return ns;
}

Discovery CoreAndCustom() {
  Discovery discovery;
  discovery.group_versions = {
      {"v1", {{"configmaps", kAllVerbs}, {"pods", kAllVerbs}, {"bindings", {"create"}}}},
      {"example.com/v1", {{"widgets", kAllVerbs}}},
      {"things.io/v1", {{"things", {"delete", "get", "list"}}}},
  };
  return discovery;
}

// The discovery, delete and list requests of one pass over CoreAndCustom() (sorted by group, then
// resource).
std::vector<std::string> ContentRequests() {
  return {"deletecollection configmaps.",
          "list configmaps.",
          "list pods for their grace periods",
          "deletecollection pods.",
          "list pods.",
          "deletecollection widgets.example.com",
          "list widgets.example.com",
          "list things.things.io",
          "list things.things.io"};
}

// type -> "status reason: message"
std::map<std::string, std::string> Conditions(const Namespace& ns) {
  std::map<std::string, std::string> out;
  for (const auto& condition : ns.status.conditions) {
    out[condition.type] = condition.status + " " + condition.reason + ": " + condition.message;
  }
  return out;
}

const std::map<std::string, std::string> kAllFine = {
    {"NamespaceDeletionDiscoveryFailure",
     "False ResourcesDiscovered: All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure",
     "False ParsedGroupVersions: All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure",
     "False ContentDeleted: All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "False ContentRemoved: All content successfully removed"},
    {"NamespaceFinalizersRemaining",
     "False ContentHasNoFinalizers: All content-preserving finalizers finished"},
};

std::map<std::string, std::string> AllFineBut(std::map<std::string, std::string> changes) {
  auto out = kAllFine;
  for (auto& [type, text] : changes)
    out[type] = std::move(text);
  return out;
}

struct Case {
  std::string name;
  std::optional<Namespace> ns = Terminating();
  Discovery discovery = CoreAndCustom();
  std::map<GroupVersionResource, std::vector<FakeObject>> objects;
  std::map<std::string, Error> failures;
  int64_t seconds_since_deletion = 1;
  // Expected:
  std::vector<std::string> actions;
  int64_t estimate = 0;
  std::string error;  // empty: success
  bool gone = false;  // the namespace was finalized and so deleted
  std::map<std::string, std::string> conditions;
};

// Test names in gtest's and ctest's output.
void PrintTo(const Case& test, std::ostream* out) {
  *out << test.name;
}

std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

class NamespaceDeleterTest : public ::testing::TestWithParam<Case> {};

TEST_P(NamespaceDeleterTest, OnePass) {
  const Case& test = GetParam();
  FakeServer server;
  server.ns = test.ns;
  server.discovery = test.discovery;
  server.objects = test.objects;
  server.failures = test.failures;
  FakeClock clock(Clock::TimePoint(std::chrono::seconds(kDeletedAt + test.seconds_since_deletion)));
  NamespacedResourcesDeleter deleter(server, clock);

  auto result = deleter.Delete("team");
  if (test.error.empty()) {
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_EQ(*result, test.estimate);
  } else {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().message(), test.error);
  }
  EXPECT_EQ(server.actions, test.actions);
  // A cached discovery will do if it was made after the deletion began (the second after the
  // deletion timestamp's, which has whole seconds).
  for (const auto& fetched_after : server.discovered_after) {
    EXPECT_EQ(fetched_after, Clock::TimePoint(std::chrono::seconds(kDeletedAt + 1)));
  }
  EXPECT_EQ(!server.ns.has_value(), test.gone);
  if (server.ns) {
    EXPECT_EQ(Conditions(*server.ns), test.conditions);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NamespaceDeleterTest,
    ::testing::Values(
        Case{.name = "Gone", .ns = std::nullopt, .actions = {"get namespace"}, .gone = true},
        Case{.name = "NotBeingDeleted",
             .ns =
                 [] {
                   auto ns = Terminating();
                   ns.metadata.deletion_timestamp.reset();
                   ns.status.phase = "Active";
                   return ns;
                 }(),
             .actions = {"get namespace"},
             .conditions = {}},
        Case{.name = "AlreadyFinalized",
             .ns =
                 [] {
                   auto ns = Terminating();
                   ns.spec.finalizers.clear();
                   return ns;
                 }(),
             .actions = {"get namespace"},
             .conditions = {}},
        Case{.name = "EmptyIsFinalizedAndGoes",
             .actions = Concat({{"get namespace", "discover"},
                                ContentRequests(),
                                {"update status", "finalize []"}}),
             .gone = true},
        Case{.name = "PhaseSetFirst",
             .ns =
                 [] {
                   auto ns = Terminating();
                   ns.status.phase = "Active";
                   return ns;
                 }(),
             .actions = Concat({{"get namespace", "update status", "discover"},
                                ContentRequests(),
                                {"update status", "finalize []"}}),
             .gone = true},
        Case{.name = "OtherFinalizersStay",
             .ns =
                 [] {
                   auto ns = Terminating();
                   ns.spec.finalizers = {"example.com/cleanup", "kubernetes"};
                   return ns;
                 }(),
             .actions = Concat({{"get namespace", "discover"},
                                ContentRequests(),
                                {"update status", "finalize [example.com/cleanup]"}}),
             .conditions = kAllFine},
        Case{.name = "ContentOfEveryKindDeleted",
             .objects = {{kConfigMaps, {{"a"}, {"b"}}},
                         {kWidgets, {{"blue"}}},
                         {kThings, {{"one"}, {"two"}}}},
             .actions = Concat({{"get namespace", "discover", "deletecollection configmaps.",
                                 "list configmaps.", "list pods for their grace periods",
                                 "deletecollection pods.", "list pods.",
                                 "deletecollection widgets.example.com", "list widgets.example.com",
                                 "list things.things.io", "delete things.things.io one",
                                 "delete things.things.io two", "list things.things.io"},
                                {"update status", "finalize []"}}),
             .gone = true},
        Case{.name = "FinalizerHoldsAnObject",
             .objects = {{kConfigMaps, {{"held", {"example.com/hold"}}, {"plain"}}}},
             .actions =
                 Concat({{"get namespace", "discover"}, ContentRequests(), {"update status"}}),
             .estimate = kFinalizerEstimateSeconds,
             .conditions = AllFineBut(
                 {{"NamespaceContentRemaining",
                   "True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 "
                   "resource instances"},
                  {"NamespaceFinalizersRemaining",
                   "True SomeFinalizersRemain: Some content in the namespace has finalizers "
                   "remaining: example.com/hold in 1 resource instances"}})},
        Case{.name = "PodsInTheirGracePeriod",
             .objects = {{kPods, {{"web", {}, true}}},
                         {kWidgets, {{"w", {"example.com/a", "example.com/b"}}}}},
             .seconds_since_deletion = 2,
             .actions =
                 Concat({{"get namespace", "discover"}, ContentRequests(), {"update status"}}),
             .estimate = 30,
             .conditions = AllFineBut(
                 {{"NamespaceContentRemaining",
                   "True SomeResourcesRemain: Some resources are remaining: pods. has 1 resource "
                   "instances, widgets.example.com has 1 resource instances"},
                  {"NamespaceFinalizersRemaining",
                   "True SomeFinalizersRemain: Some content in the namespace has finalizers "
                   "remaining: example.com/a in 1 resource instances, example.com/b in 1 "
                   "resource instances"}})},
        Case{.name = "PodsPastTheirGracePeriod",
             .objects = {{kPods, {{"web", {}, true}}}},
             .seconds_since_deletion = 31,
             .actions =
                 Concat({{"get namespace", "discover"}, ContentRequests(), {"update status"}}),
             .error = "unexpected items still remain in namespace: team for gvr: { v1 pods}",
             .conditions = AllFineBut(
                 {{"NamespaceContentRemaining",
                   "True SomeResourcesRemain: Some resources are remaining: pods. has 1 resource "
                   "instances"},
                  {"NamespaceDeletionContentFailure",
                   "True ContentDeletionFailed: Failed to delete all resource types, 1 "
                   "remaining: unexpected items still remain in namespace: team for gvr: { v1 "
                   "pods}"}})},
        Case{.name = "SomeGroupsNotDiscovered",
             .discovery =
                 [] {
                   auto discovery = CoreAndCustom();
                   discovery.failed_group_versions["metrics.k8s.io/v1beta1"] =
                       "the server is currently unable to handle the request";
                   return discovery;
                 }(),
             .objects = {{kConfigMaps, {{"a"}}}},
             .actions =
                 Concat({{"get namespace", "discover"}, ContentRequests(), {"update status"}}),
             .error = "unable to retrieve the complete list of server APIs: "
                      "metrics.k8s.io/v1beta1: the server is currently unable to handle the "
                      "request",
             .conditions = AllFineBut(
                 {{"NamespaceDeletionDiscoveryFailure",
                   "True DiscoveryFailed: Discovery failed for some groups, 1 failing: unable to "
                   "retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the "
                   "server is currently unable to handle the request"}})},
        Case{.name = "DiscoveryFailed",
             .discovery = Discovery{.error = Error(ErrorCode::kServiceUnavailable,
                                                   "the server is shutting down")},
             .actions = {"get namespace", "discover", "update status"},
             .error = "the server is shutting down",
             .conditions = AllFineBut({{"NamespaceDeletionDiscoveryFailure",
                                        "True DiscoveryFailed: the server is shutting down"}})},
        Case{.name = "UnparseableGroupVersion",
             .discovery =
                 [] {
                   auto discovery = CoreAndCustom();
                   discovery.group_versions.push_back({"a/b/c", {{"odd", kAllVerbs}}});
                   return discovery;
                 }(),
             .actions = {"get namespace", "discover", "update status"},
             .error = "unexpected GroupVersion string: a/b/c",
             .conditions = AllFineBut(
                 {{"NamespaceDeletionGroupVersionParsingFailure",
                   "True GroupVersionParsingFailed: unexpected GroupVersion string: a/b/c"}})},
        Case{.name = "DeleteCollectionFails",
             .objects = {{kWidgets, {{"w"}}}},
             .failures = {{"deletecollection widgets.example.com",
                           Error(ErrorCode::kInternalError, "etcdserver: request timed out")}},
             .actions = {"get namespace", "discover", "deletecollection configmaps.",
                         "list configmaps.", "list pods for their grace periods",
                         "deletecollection pods.", "list pods.",
                         "deletecollection widgets.example.com", "list things.things.io",
                         "list things.things.io", "update status"},
             .error = "etcdserver: request timed out",
             .conditions =
                 AllFineBut({{"NamespaceDeletionContentFailure",
                              "True ContentDeletionFailed: Failed to delete all resource types, 1 "
                              "remaining: etcdserver: request timed out"}})},
        Case{.name = "DeleteCollectionNotAllowedFallsBackToDeletes",
             .objects = {{kWidgets, {{"w"}}}},
             .failures = {{"deletecollection widgets.example.com",
                           Error(ErrorCode::kMethodNotAllowed, "not allowed")}},
             .actions = {"get namespace", "discover", "deletecollection configmaps.",
                         "list configmaps.", "list pods for their grace periods",
                         "deletecollection pods.", "list pods.",
                         "deletecollection widgets.example.com", "list widgets.example.com",
                         "delete widgets.example.com w", "list widgets.example.com",
                         "list things.things.io", "list things.things.io", "update status",
                         "finalize []"},
             .gone = true}),
    [](const ::testing::TestParamInfo<Case>& param) { return param.param.name; });

TEST(NamespaceDeleterTest, ConflictingFinalizeIsRetriedOnTheLatestNamespace) {
  FakeServer server;
  server.ns = Terminating();
  server.finalize_conflicts = 1;
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kDeletedAt))};
  NamespacedResourcesDeleter deleter(server, clock);
  auto result = deleter.Delete("team");
  ASSERT_TRUE(result.ok()) << result.error().message();
  ASSERT_GE(server.actions.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(server.actions.end() - 3, server.actions.end()),
            (std::vector<std::string>{"finalize []", "get namespace", "finalize []"}));
  EXPECT_FALSE(server.ns.has_value());
}

TEST(NamespaceDeleterTest, ConditionsTurnFineOnceContentIsGoneAndAreNotRewrittenUnchanged) {
  FakeServer server;
  server.ns = Terminating();
  server.ns->spec.finalizers = {"example.com/cleanup", "kubernetes"};  // so it stays to look at
  server.discovery = CoreAndCustom();
  server.objects[kConfigMaps] = {{"held", {"example.com/hold"}}};
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(kDeletedAt + 1))};
  NamespacedResourcesDeleter deleter(server, clock);
  ASSERT_EQ(*deleter.Delete("team"), kFinalizerEstimateSeconds);
  const auto first = server.ns->status.conditions;
  EXPECT_EQ(Conditions(*server.ns).at("NamespaceContentRemaining").substr(0, 4), "True");

  // Nothing changed: no status write.
  server.actions.clear();
  clock.Advance(std::chrono::seconds(10));
  ASSERT_EQ(*deleter.Delete("team"), kFinalizerEstimateSeconds);
  EXPECT_EQ(std::count(server.actions.begin(), server.actions.end(), "update status"), 0);
  EXPECT_EQ(server.ns->status.conditions, first);

  // The finalizer is removed: the conditions say so, with a new transition time where the
  // status changed, and the namespace is finalized.
  server.objects[kConfigMaps].clear();
  ASSERT_EQ(*deleter.Delete("team"), 0);
  EXPECT_EQ(Conditions(*server.ns), kAllFine);
  for (const auto& condition : server.ns->status.conditions) {
    const bool flipped = condition.type == "NamespaceContentRemaining" ||
                         condition.type == "NamespaceFinalizersRemaining";
    EXPECT_EQ(condition.last_transition_time.unix_seconds,
              flipped ? kDeletedAt + 11 : kDeletedAt + 1)
        << condition.type;
  }
  EXPECT_EQ(server.ns->spec.finalizers, std::vector<std::string>{"example.com/cleanup"});
}

}  // namespace
}  // namespace kpp::controllers
