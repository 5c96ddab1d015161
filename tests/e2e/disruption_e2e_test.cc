// PodDisruptionBudgets end to end: `kpp server` with its scheduler and controller manager (the
// disruption controller keeps the budgets' status), `kpp hollow-nodes` running the pods, and the
// real kubectl 1.27 and 1.33. A Deployment of 3 with a budget of minAvailable 2 allows one
// disruption; with the node cordoned (so no replacement becomes ready) one eviction succeeds and
// the next is refused with upstream's 429, by POST pods/eviction and by `kubectl drain`. Pods of
// custom resources count by their /scale subresource.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/crd_manifests.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

constexpr char kRefused[] = "Cannot evict pod as it would violate the pod's disruption budget.";

using testing::Eventually;

int64_t IntAt(const boost::json::value& object, const char* field) {
  if (!object.is_object() || !object.as_object().contains(field)) return 0;
  return object.at(field).as_int64();
}

class DisruptionE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    KubectlE2ETest::SetUp();
    std::string error;
    ASSERT_TRUE(hollow_.Start(server_, 1, {}, &error)) << error;
  }
  boost::json::value BudgetStatus() {
    auto pdb = GetJson({"pdb", "web"});
    return pdb.is_object() ? pdb.at("status") : boost::json::value();
  }
  // Names of the pods of app=web not being deleted.
  std::vector<std::string> LivePods() {
    std::vector<std::string> names;
    auto list = GetJson({"pods", "-l", "app=web"});
    if (!list.is_object()) return names;
    for (const auto& pod : list.at("items").as_array()) {
      if (pod.at("metadata").as_object().contains("deletionTimestamp")) continue;
      names.emplace_back(pod.at("metadata").at("name").as_string());
    }
    return names;
  }
  testing::ProcessResult Evict(const std::string& pod) {
    const std::string body =
        server_.WriteFile("eviction-" + pod + ".json",
                          R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":")" +
                              pod + R"(","namespace":"default"}})");
    return Kubectl(
        {"create", "--raw", "/api/v1/namespaces/default/pods/" + pod + "/eviction", "-f", body});
  }

  testing::HollowNodes hollow_;
};

TEST_F(DisruptionE2ETest, BudgetStatusAndEvictions) {
  MustRun({"create", "deployment", "web", "--image=nginx:1.27", "--replicas=3"});
  MustRun({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2"});
  ASSERT_TRUE(Eventually([&] {
    auto status = BudgetStatus();
    return IntAt(status, "currentHealthy") == 3 && IntAt(status, "disruptionsAllowed") == 1;
  })) << boost::json::serialize(BudgetStatus())
      << server_.Logs();
  auto status = BudgetStatus();
  EXPECT_EQ(IntAt(status, "desiredHealthy"), 2);
  EXPECT_EQ(IntAt(status, "expectedPods"), 3);
  EXPECT_EQ(IntAt(status, "observedGeneration"), 1);
  const auto& condition = status.at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "DisruptionAllowed");
  EXPECT_EQ(condition.at("status"), "True");
  EXPECT_EQ(condition.at("reason"), "SufficientPods");
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    auto table = Kubectl({"get", "pdb", "web"}, minor);
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_EQ(table.out.rfind("NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE\n"
                              "web    2               N/A               1                     ",
                              0),
              0u)
        << minor << ":\n"
        << table.out;
  }

  // No replacement can become ready on a cordoned node: the budget stays spent.
  MustRun({"cordon", "hollow-0"});
  auto pods = LivePods();
  ASSERT_EQ(pods.size(), 3u);
  auto first = Evict(pods[0]);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto after = BudgetStatus();
  EXPECT_EQ(IntAt(after, "disruptionsAllowed"), 0);
  // The eviction records the pod in disruptedPods; the controller drops the entry once it sees
  // the pod's deletion (as upstream's), which the hollow node may already have finished.
  if (const auto* disrupted = after.as_object().if_contains("disruptedPods");
      disrupted != nullptr && disrupted->is_object() && !disrupted->as_object().empty()) {
    EXPECT_TRUE(disrupted->as_object().contains(pods[0])) << boost::json::serialize(after);
  }
  auto second = Evict(pods[1]);
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find(kRefused), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("TooManyRequests"), std::string::npos) << second.err;

  // The controller agrees: two healthy pods, none to spare.
  ASSERT_TRUE(Eventually([&] {
    auto now = BudgetStatus();
    return IntAt(now, "currentHealthy") == 2 && IntAt(now, "disruptionsAllowed") == 0 &&
           now.at("conditions").at(0).at("reason") == "InsufficientPods";
  })) << boost::json::serialize(BudgetStatus());

  // kubectl drain retries the refused evictions until its timeout.
  auto drain = Kubectl({"drain", "hollow-0", "--timeout=3s", "--pod-selector=app=web"}, "1.33");
  EXPECT_NE(drain.exit_code, 0);
  EXPECT_NE((drain.out + drain.err).find(kRefused), std::string::npos) << drain.out << drain.err;

  // Uncordoned, a replacement becomes ready and the budget allows one disruption again.
  MustRun({"uncordon", "hollow-0"});
  ASSERT_TRUE(Eventually([&] {
    auto now = BudgetStatus();
    return IntAt(now, "currentHealthy") >= 3 && IntAt(now, "disruptionsAllowed") >= 1;
  })) << boost::json::serialize(BudgetStatus());
}

// maxUnavailable over pods a custom resource controls: the scale comes from its /scale
// subresource; a kind without one makes the sync fail safe.
TEST_F(DisruptionE2ETest, CustomResourceControllersThroughScale) {
  MustRun({"apply", "-f",
           server_.WriteFile("crds.yaml",
                             testing::CrdYaml("example.com", "shards", "Shard", {.scale = true}) +
                                 "---\n" + testing::CrdYaml("example.com", "gadgets", "Gadget"))});
  MustRun({"wait", "--for=condition=Established", "crd/shards.example.com",
           "crd/gadgets.example.com", "--timeout=30s"});
  MustRun({"apply", "-f",
           server_.WriteFile("owners.yaml",
                             "apiVersion: example.com/v1\nkind: Shard\nmetadata:\n  name: s\n"
                             "spec:\n  replicas: 4\n---\napiVersion: example.com/v1\nkind: "
                             "Gadget\nmetadata:\n  name: g\n")});
  auto owned_pod = [&](const std::string& name, const std::string& kind, const std::string& owner,
                       const std::string& app) {
    auto uid = Kubectl({"get", kind, owner, "-o", "jsonpath={.metadata.uid}"});
    ASSERT_EQ(uid.exit_code, 0) << uid.err;
    MustRun({"apply", "-f",
             server_.WriteFile(name + ".yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                                   "\n  labels: {app: " + app +
                                   "}\n  ownerReferences:\n  - {apiVersion: example.com/v1, "
                                   "kind: " +
                                   kind + ", name: " + owner + ", uid: " + uid.out +
                                   ", controller: true}\nspec:\n  containers:\n  - name: main\n"
                                   "    image: nginx:1.27\n")});
  };
  owned_pod("s-0", "Shard", "s", "shard");
  owned_pod("s-1", "Shard", "s", "shard");
  owned_pod("g-0", "Gadget", "g", "gadget");
  MustRun(
      {"create", "poddisruptionbudget", "shard", "--selector=app=shard", "--max-unavailable=1"});
  MustRun(
      {"create", "poddisruptionbudget", "gadget", "--selector=app=gadget", "--max-unavailable=1"});
  ASSERT_TRUE(Eventually([&] {
    auto status = GetJson({"pdb", "shard"}).at("status");
    return IntAt(status, "expectedPods") == 4 && IntAt(status, "currentHealthy") == 2;
  })) << boost::json::serialize(GetJson({"pdb", "shard"}));
  auto status = GetJson({"pdb", "shard"}).at("status");
  EXPECT_EQ(IntAt(status, "desiredHealthy"), 3);
  EXPECT_EQ(IntAt(status, "disruptionsAllowed"), 0);
  EXPECT_EQ(status.at("conditions").at(0).at("reason"), "InsufficientPods");

  ASSERT_TRUE(Eventually([&] {
    auto gadget = GetJson({"pdb", "gadget"}).at("status");
    return gadget.as_object().contains("conditions") &&
           gadget.at("conditions").at(0).at("reason") == "SyncFailed";
  })) << boost::json::serialize(GetJson({"pdb", "gadget"}));
  auto gadget = GetJson({"pdb", "gadget"}).at("status");
  EXPECT_EQ(IntAt(gadget, "disruptionsAllowed"), 0);
  EXPECT_EQ(gadget.at("conditions").at(0).at("message"),
            "gadgets.example.com does not implement the scale subresource");
}

// A DisruptionTarget condition left True for 2 minutes on a pod that was not deleted is reset.
TEST_F(DisruptionE2ETest, StaleDisruptionTargetIsReset) {
  MustRun({"apply", "-f",
           server_.WriteFile("waiting.yaml",
                             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: waiting\nspec:\n"
                             "  nodeSelector: {nowhere: \"true\"}\n  containers:\n"
                             "  - name: main\n    image: nginx:1.27\n")});
  const std::time_t then = std::time(nullptr) - 180;
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&then));
  MustRun({"patch", "pod", "waiting", "--subresource=status", "--type=strategic", "-p",
           std::string(R"({"status":{"conditions":[{"type":"DisruptionTarget","status":"True",)") +
               R"("reason":"EvictionByEvictionAPI","lastTransitionTime":")" + stamp + R"("}]}})"});
  auto condition_status = [&] {
    auto result =
        Kubectl({"get", "pod", "waiting", "-o",
                 R"(jsonpath={.status.conditions[?(@.type=="DisruptionTarget")].status})"});
    return result.exit_code == 0 ? result.out : "";
  };
  EXPECT_TRUE(Eventually([&] { return condition_status() == "False"; })) << condition_status();
}

}  // namespace
}  // namespace kpp
