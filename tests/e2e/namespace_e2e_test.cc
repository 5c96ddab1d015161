// The namespace controller as a user sees it with the real kubectl (1.27 and 1.33), on
// `kpp server` running only that controller: `kubectl delete namespace` removes the pods,
// configmaps and custom resources in it; a pod held by a finalizer keeps the namespace
// Terminating with upstream's conditions saying so; once the finalizer is removed the
// namespace goes; a pod bound to a (hollow) node is waited for through its grace period.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/crd_manifests.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"

namespace kpp {
namespace {

using testing::Eventually;

std::string PodYaml(const std::string& name, const std::string& finalizer = "") {
  std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n";
  if (!finalizer.empty()) yaml += "  finalizers: [" + finalizer + "]\n";
  return yaml + "spec:\n  containers:\n  - name: c\n    image: busybox\n";
}

class NamespaceE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controllers("namespace");
    server_.set_scheduler(false);  // pods stay unbound, so a delete removes them at once
    KubectlE2ETest::SetUp();
  }

  // The namespace's conditions: type -> "status reason: message".
  std::map<std::string, std::string> Conditions(const std::string& ns) {
    std::map<std::string, std::string> out;
    auto result = Kubectl({"get", "namespace", ns, "-o", "json"});
    if (result.exit_code != 0) return out;
    const auto json = boost::json::parse(result.out);
    const auto* status = json.as_object().if_contains("status");
    if (status == nullptr || !status->as_object().contains("conditions")) return out;
    for (const auto& condition : status->at("conditions").as_array()) {
      out[std::string(condition.at("type").as_string())] =
          std::string(condition.at("status").as_string()) + " " +
          std::string(condition.at("reason").as_string()) + ": " +
          std::string(condition.at("message").as_string());
    }
    return out;
  }
};

TEST_F(NamespaceE2ETest, DeletingANamespaceRemovesItsContentReportsWhatRemainsThenGoes) {
  MustRun({"apply", "-f",
           server_.WriteFile("crd.yaml", testing::CrdYaml("example.com", "gadgets", "Gadget"))});
  MustRun({"wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=30s"});
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    const std::string ns = "shop-" + minor.substr(2);
    MustRun({"create", "namespace", ns}, minor);
    MustRun({"create", "configmap", "settings", "-n", ns, "--from-literal=a=b"}, minor);
    MustRun({"create", "-n", ns, "-f", server_.WriteFile(ns + "-web.yaml", PodYaml("web"))}, minor);
    MustRun({"create", "-n", ns, "-f",
             server_.WriteFile(ns + "-held.yaml", PodYaml("held", "example.com/hold"))},
            minor);
    MustRun({"create", "-n", ns, "-f",
             server_.WriteFile(ns + "-gadget.yaml",
                               "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: "
                               "g\nspec:\n  size: 3\n")},
            minor);

    MustRun({"delete", "namespace", ns, "--wait=false"}, minor);
    // Everything goes but the held pod.
    EXPECT_TRUE(Eventually([&] {
      return !Exists({"configmap", "settings", "-n", ns}) && !Exists({"pod", "web", "-n", ns}) &&
             !Exists({"gadget", "g", "-n", ns});
    })) << minor;
    EXPECT_TRUE(Exists({"pod", "held", "-n", ns})) << minor;
    const std::map<std::string, std::string> held = {
        {"NamespaceDeletionDiscoveryFailure",
         "False ResourcesDiscovered: All resources successfully discovered"},
        {"NamespaceDeletionGroupVersionParsingFailure",
         "False ParsedGroupVersions: All legacy kube types successfully parsed"},
        {"NamespaceDeletionContentFailure",
         "False ContentDeleted: All content successfully deleted, may be waiting on "
         "finalization"},
        {"NamespaceContentRemaining",
         "True SomeResourcesRemain: Some resources are remaining: pods. has 1 resource "
         "instances"},
        {"NamespaceFinalizersRemaining",
         "True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: "
         "example.com/hold in 1 resource instances"},
    };
    EXPECT_TRUE(Eventually([&] { return Conditions(ns) == held; })) << minor;
    EXPECT_EQ(Conditions(ns), held) << minor;
    auto phase = Kubectl({"get", "namespace", ns, "-o", "jsonpath={.status.phase}"}, minor);
    EXPECT_EQ(phase.out, "Terminating") << minor;

    // The finalizer goes, then the pod, then (on the controller's next look) the namespace.
    MustRun({"patch", "pod", "held", "-n", ns, "--type=merge", "-p",
             R"({"metadata":{"finalizers":null}})"},
            minor);
    MustRun({"wait", "--for=delete", "namespace/" + ns, "--timeout=40s"}, minor);
    EXPECT_FALSE(Exists({"namespace", ns})) << minor;
  }
  // A namespace with a custom resource and a configmap: `kubectl delete` waits until it is gone.
  MustRun({"create", "namespace", "quick"});
  MustRun({"create", "configmap", "c", "-n", "quick"});
  MustRun({"create", "-n", "quick", "-f",
           server_.WriteFile("quick-gadget.yaml",
                             "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: q\n")});
  MustRun({"delete", "namespace", "quick", "--timeout=40s"});
  EXPECT_FALSE(Exists({"namespace", "quick"}));
  auto left = Kubectl({"get", "gadgets", "-A", "-o", "name"});
  EXPECT_EQ(left.out, "") << left.err;
}

TEST_F(NamespaceE2ETest, BoundPodsAreWaitedForThroughTheirGracePeriod) {
  testing::HollowNodes hollow;
  std::string error;
  ASSERT_TRUE(hollow.Start(server_, 1, {"--max-termination-grace", "4s"}, &error)) << error;
  ASSERT_TRUE(Eventually([&] { return Exists({"node", "hollow-0"}); }));
  MustRun({"create", "namespace", "bound"});
  MustRun({"create", "-n", "bound", "-f",
           server_.WriteFile("bound.yaml",
                             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: runner\nspec:\n"
                             "  nodeName: hollow-0\n  terminationGracePeriodSeconds: 20\n"
                             "  containers:\n  - name: c\n    image: busybox\n")});
  ASSERT_TRUE(Eventually([&] {
    return Kubectl({"get", "pod", "runner", "-n", "bound", "-o", "jsonpath={.status.phase}"}).out ==
           "Running";
  }));

  MustRun({"delete", "namespace", "bound", "--wait=false"});
  // The pod is Terminating (its node finishes it), and the namespace says it waits for it.
  EXPECT_TRUE(Eventually([&] {
    auto conditions = Conditions("bound");
    return conditions["NamespaceContentRemaining"] ==
           "True SomeResourcesRemain: Some resources are remaining: pods. has 1 resource "
           "instances";
  }));
  EXPECT_EQ(Conditions("bound")["NamespaceFinalizersRemaining"],
            "False ContentHasNoFinalizers: All content-preserving finalizers finished");
  MustRun({"wait", "--for=delete", "namespace/bound", "--timeout=60s"});
  EXPECT_FALSE(Exists({"pod", "runner", "-n", "bound"}));
}

}  // namespace
}  // namespace kpp
