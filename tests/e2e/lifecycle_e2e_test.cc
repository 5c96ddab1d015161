// Object lifecycle through the real kubectl (1.27 and 1.33): scale, status writes, graceful pod
// deletion, finalizers, terminating namespaces and evictions that honour disruption budgets.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

const std::vector<std::string>& kKubectls = testing::kOldestAndNewestKubectl;

const char kDeploymentYaml[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: c
        image: nginx
)";

std::string PodYaml(const std::string& name, const std::string& node) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\n  labels:\n    app: web\nspec:\n" + (node.empty() ? "" : "  nodeName: " + node + "\n") +
         "  containers:\n  - name: c\n    image: nginx\n";
}

// Deleted namespaces are emptied and finalized by the namespace controller, which runs in the
// controller manager.
class LifecycleE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controllers("namespace");
    KubectlE2ETest::SetUp();
  }
};

TEST_F(LifecycleE2ETest, KubectlScaleSetsReplicasThroughTheScaleSubresource) {
  MustRun({"create", "-f", server_.WriteFile("web.yaml", kDeploymentYaml)});
  int replicas = 2;
  for (const auto& minor : kKubectls) {
    auto scaled =
        Kubectl({"scale", "deployment", "web", "--replicas=" + std::to_string(replicas)}, minor);
    ASSERT_EQ(scaled.exit_code, 0) << minor << ": " << scaled.err;
    EXPECT_EQ(scaled.out, "deployment.apps/web scaled\n");
    const auto deployment = GetJson({"deployment", "web"});
    EXPECT_EQ(deployment.at("spec").at("replicas"), replicas) << minor;
    EXPECT_GE(deployment.at("metadata").at("generation").as_int64(), 2) << minor;
    // With a precondition kubectl reads the Scale and writes it back.
    auto conditional =
        Kubectl({"scale", "deployment", "web", "--current-replicas=" + std::to_string(replicas),
                 "--replicas=" + std::to_string(replicas + 1)},
                minor);
    ASSERT_EQ(conditional.exit_code, 0) << minor << ": " << conditional.err;
    EXPECT_EQ(GetJson({"deployment", "web"}).at("spec").at("replicas"), replicas + 1);
    auto wrong =
        Kubectl({"scale", "deployment", "web", "--current-replicas=42", "--replicas=1"}, minor);
    EXPECT_NE(wrong.exit_code, 0) << minor;
    replicas += 2;
  }
  auto scale = Kubectl({"get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"});
  ASSERT_EQ(scale.exit_code, 0) << scale.err;
  const auto parsed = boost::json::parse(scale.out);
  EXPECT_EQ(parsed.at("kind"), "Scale");
  EXPECT_EQ(parsed.at("status").at("selector"), "app=web");
}

TEST_F(LifecycleE2ETest, StatusIsWrittenOnlyThroughTheStatusSubresource) {
  MustRun({"create", "-f", server_.WriteFile("web.yaml", kDeploymentYaml)});
  for (const auto& minor : kKubectls) {
    const std::string replicas = minor == "1.27" ? "3" : "4";
    auto patched = Kubectl({"patch", "deployment", "web", "--subresource=status", "--type=merge",
                            "-p", R"({"status":{"replicas":)" + replicas + "}}"},
                           minor);
    ASSERT_EQ(patched.exit_code, 0) << minor << ": " << patched.err;
    auto status = Kubectl(
        {"get", "deployment", "web", "--subresource=status", "-o", "jsonpath={.status.replicas}"},
        minor);
    ASSERT_EQ(status.exit_code, 0) << minor << ": " << status.err;
    EXPECT_EQ(status.out, replicas);
  }
  // kubectl replace --subresource=status writes the status of what it is given.
  auto object = GetJson({"deployment", "web"});
  object.at("status").as_object()["availableReplicas"] = 1;
  object.at("spec").at("replicas") = 9;
  for (const auto& minor : kKubectls) {
    object.at("metadata").as_object().erase("resourceVersion");
    auto replaced =
        Kubectl({"replace", "--subresource=status", "-f",
                 server_.WriteFile("status-" + minor + ".json", boost::json::serialize(object))},
                minor);
    ASSERT_EQ(replaced.exit_code, 0) << minor << ": " << replaced.err;
  }
  const auto after = GetJson({"deployment", "web"});
  EXPECT_EQ(after.at("status").at("availableReplicas"), 1);
  EXPECT_EQ(after.at("spec").at("replicas"), 1);
  // A plain update cannot set the status.
  MustRun({"patch", "deployment", "web", "--type=merge", "-p", R"({"status":{"replicas":8}})"});
  EXPECT_EQ(GetJson({"deployment", "web"}).at("status").at("replicas"), 4);
}

TEST_F(LifecycleE2ETest, BoundPodsTerminateGracefullyUntilForced) {
  for (const auto& minor : kKubectls) {
    const std::string bound = "bound-" + minor.substr(2);
    const std::string unbound = "unbound-" + minor.substr(2);
    MustRun({"create", "-f", server_.WriteFile(bound + ".yaml", PodYaml(bound, "node-1"))}, minor);
    MustRun({"create", "-f", server_.WriteFile(unbound + ".yaml", PodYaml(unbound, ""))}, minor);
    // No node runs the unbound pod: it goes at once (kubectl waits for that).
    MustRun({"delete", "pod", unbound, "--timeout=20s"}, minor);
    EXPECT_FALSE(Exists({"pod", unbound}));

    auto deleted = Kubectl({"delete", "pod", bound, "--wait=false"}, minor);
    ASSERT_EQ(deleted.exit_code, 0) << minor << ": " << deleted.err;
    EXPECT_EQ(deleted.out, "pod \"" + bound + "\" deleted\n");
    const auto pod = GetJson({"pod", bound});
    EXPECT_TRUE(pod.at("metadata").as_object().contains("deletionTimestamp")) << minor;
    EXPECT_EQ(pod.at("metadata").at("deletionGracePeriodSeconds"), 30) << minor;

    auto forced = Kubectl({"delete", "pod", bound, "--grace-period=0", "--force"}, minor);
    ASSERT_EQ(forced.exit_code, 0) << minor << ": " << forced.err;
    EXPECT_NE(forced.out.find("force deleted"), std::string::npos) << forced.out;
    EXPECT_FALSE(Exists({"pod", bound}));
  }
}

TEST_F(LifecycleE2ETest, FinalizerBlocksDeletionUntilPatchedAway) {
  for (const auto& minor : kKubectls) {
    const std::string name = "held-" + minor.substr(2);
    MustRun(
        {"create", "-f",
         server_.WriteFile(name + ".yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " +
                                               name + "\n  finalizers:\n  - example.com/hold\n")},
        minor);
    MustRun({"delete", "configmap", name, "--wait=false"}, minor);
    const auto held = GetJson({"configmap", name});
    EXPECT_TRUE(held.at("metadata").as_object().contains("deletionTimestamp")) << minor;
    MustRun(
        {"patch", "configmap", name, "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"},
        minor);
    EXPECT_FALSE(Exists({"configmap", name})) << minor;
  }
}

TEST_F(LifecycleE2ETest, DeletedNamespaceTerminatesThenGoes) {
  for (const auto& minor : kKubectls) {
    const std::string ns = "team-" + minor.substr(2);
    MustRun({"create", "namespace", ns}, minor);
    MustRun({"create", "-n", ns, "-f",
             server_.WriteFile(ns + "-cm.yaml",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")},
            minor);
    // A finalizer keeps one object, and so the namespace, around for a while.
    MustRun({"create", "-n", ns, "-f",
             server_.WriteFile(
                 ns + "-held.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers:\n"
                 "  - example.com/hold\n")},
            minor);
    MustRun({"delete", "namespace", ns, "--wait=false"}, minor);
    const auto terminating = GetJson({"namespace", ns});
    EXPECT_EQ(terminating.at("status").at("phase"), "Terminating");
    auto refused = Kubectl({"create", "configmap", "late", "-n", ns}, minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("unable to create new content in namespace " + ns +
                               " because it is being terminated"),
              std::string::npos)
        << refused.err;
    // The namespace controller empties it, except for the held object.
    for (int i = 0; i < 100 && Exists({"configmap", "plain", "-n", ns}); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_FALSE(Exists({"configmap", "plain", "-n", ns}));
    EXPECT_TRUE(Exists({"namespace", ns}));
    MustRun({"patch", "configmap", "held", "-n", ns, "--type=merge", "-p",
             R"({"metadata":{"finalizers":null}})"},
            minor);
    MustRun({"wait", "--for=delete", "namespace/" + ns, "--timeout=30s"}, minor);
    EXPECT_FALSE(Exists({"namespace", ns}));
  }
  // kubectl delete waits for the namespace to go.
  MustRun({"create", "namespace", "quick"});
  MustRun({"create", "configmap", "c", "-n", "quick"});
  MustRun({"delete", "namespace", "quick", "--timeout=30s"});
  EXPECT_FALSE(Exists({"namespace", "quick"}));
}

TEST_F(LifecycleE2ETest, EvictionHonoursTheDisruptionBudget) {
  MustRun({"create", "-f", server_.WriteFile("p.yaml", PodYaml("p", "node-1"))});
  MustRun({"patch", "pod", "p", "--subresource=status", "--type=merge", "-p",
           R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})"});
  MustRun({"create", "poddisruptionbudget", "budget", "--selector=app=web", "--min-available=1"});
  MustRun({"patch", "pdb", "budget", "--subresource=status", "--type=merge", "-p",
           R"({"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,)"
           R"("desiredHealthy":1,"expectedPods":1}})"});
  const std::string eviction = server_.WriteFile(
      "eviction.json",
      R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p","namespace":"default"}})");
  const std::string path = "/api/v1/namespaces/default/pods/p/eviction";
  auto refused = Kubectl({"create", "--raw", path, "-f", eviction});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("Cannot evict pod as it would violate the pod's disruption budget."),
            std::string::npos)
      << refused.err;
  EXPECT_TRUE(Exists({"pod", "p"}));

  MustRun({"patch", "pdb", "budget", "--subresource=status", "--type=merge", "-p",
           R"({"status":{"disruptionsAllowed":1}})"});
  auto evicted = Kubectl({"create", "--raw", path, "-f", eviction});
  ASSERT_EQ(evicted.exit_code, 0) << evicted.err;
  const auto pod = GetJson({"pod", "p"});
  EXPECT_TRUE(pod.at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_EQ(GetJson({"pdb", "budget"}).at("status").at("disruptionsAllowed"), 0);
}

}  // namespace
}  // namespace kpp
