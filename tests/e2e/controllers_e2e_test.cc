// The controller manager inside `kpp server --disable-agent`, driven by the real kubectl 1.27 and
// 1.33: a Deployment's life (create, scale, set image, rollout status/history/undo/pause/resume/
// restart) and a ReplicationController. No scheduler or kubelet runs, so pods stay Pending; the
// test makes them ready through pods/status as a node would.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <set>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/crd_manifests.h"
#include "support/eventually.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string>& kKubectls = testing::kOldestAndNewestKubectl;

// Polls `condition` until it holds; the bound only stops a hung test.
using testing::Eventually;

std::string Str(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : "";
}

std::string NowRfc3339() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

class ControllersE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    KubectlE2ETest::SetUp();
  }
  boost::json::array Items(const std::vector<std::string>& args) {
    auto list = GetJson(args);
    if (!list.is_object()) return {};
    return list.at("items").as_array();
  }
  // Pods of app=`app` not being deleted.
  boost::json::array Pods(const std::string& app) {
    boost::json::array live;
    for (auto& pod : Items({"pods", "-l", "app=" + app})) {
      if (!pod.at("metadata").as_object().contains("deletionTimestamp")) live.push_back(pod);
    }
    return live;
  }
  // What a node would report: the pods run and are ready.
  void MarkPodsReady(const std::string& app) {
    for (auto& pod : Pods(app)) {
      const auto& status = pod.at("status").as_object();
      bool ready = false;
      if (status.contains("conditions")) {
        for (const auto& condition : status.at("conditions").as_array()) {
          ready = ready || (condition.at("type") == "Ready" && condition.at("status") == "True");
        }
      }
      if (ready) continue;
      (void)Kubectl({"patch", "pod", Str(pod.at("metadata").at("name")), "--subresource=status",
                     "--type=merge", "-p",
                     R"({"status":{"phase":"Running","conditions":[{"type":"Ready",)"
                     R"("status":"True","lastTransitionTime":")" +
                         NowRfc3339() + R"("}]}})"},
                    "1.33");
    }
  }
  boost::json::object DeploymentStatus(const std::string& name) {
    auto d = GetJson({"deployment", name});
    return d.is_object() ? d.at("status").as_object() : boost::json::object{};
  }
  int64_t StatusInt(const boost::json::object& status, const char* field) {
    return status.contains(field) ? status.at(field).as_int64() : 0;
  }
  // Marks pods ready until the rollout of `name` to `replicas` is done, checking on the way that
  // the pods never exceed replicas + max_surge.
  bool CompleteRollout(const std::string& name, int64_t replicas, int64_t max_surge) {
    return Eventually([&] {
      const auto pods = Pods(name);
      EXPECT_LE(static_cast<int64_t>(pods.size()), replicas + max_surge);
      MarkPodsReady(name);
      auto status = DeploymentStatus(name);
      auto d = GetJson({"deployment", name});
      return StatusInt(status, "observedGeneration") == d.at("metadata").at("generation") &&
             StatusInt(status, "updatedReplicas") == replicas &&
             StatusInt(status, "replicas") == replicas &&
             StatusInt(status, "availableReplicas") == replicas;
    });
  }
  std::string ImageOf(const std::string& name) {
    return Str(GetJson({"deployment", name})
                   .at("spec")
                   .at("template")
                   .at("spec")
                   .at("containers")
                   .at(0)
                   .at("image"));
  }
};

TEST_F(ControllersE2ETest, CreateDeploymentMakesAReplicaSetAndPodsWithOwnerReferences) {
  MustRun({"create", "deployment", "nginx", "--image=nginx", "--replicas=3"});
  ASSERT_TRUE(Eventually([&] { return Pods("nginx").size() == 3; })) << server_.Logs();
  auto deployment = GetJson({"deployment", "nginx"});
  auto replica_sets = Items({"replicasets"});
  ASSERT_EQ(replica_sets.size(), 1u);
  const auto& rs = replica_sets[0].as_object();
  const auto& rs_meta = rs.at("metadata").as_object();
  const std::string hash = Str(rs_meta.at("labels").at("pod-template-hash"));
  ASSERT_FALSE(hash.empty());
  EXPECT_EQ(Str(rs_meta.at("name")), "nginx-" + hash);
  EXPECT_EQ(rs_meta.at("annotations").at("deployment.kubernetes.io/revision"), "1");
  EXPECT_EQ(rs_meta.at("annotations").at("deployment.kubernetes.io/desired-replicas"), "3");
  EXPECT_EQ(rs_meta.at("annotations").at("deployment.kubernetes.io/max-replicas"), "4");
  const auto& rs_owner = rs_meta.at("ownerReferences").at(0);
  EXPECT_EQ(rs_owner.at("kind"), "Deployment");
  EXPECT_EQ(rs_owner.at("uid"), deployment.at("metadata").at("uid"));
  EXPECT_EQ(rs_owner.at("controller"), true);
  EXPECT_EQ(rs_owner.at("blockOwnerDeletion"), true);
  std::set<std::string> names;
  for (auto& pod : Pods("nginx")) {
    const auto& meta = pod.at("metadata").as_object();
    const std::string name = Str(meta.at("name"));
    names.insert(name);
    EXPECT_EQ(name.rfind("nginx-" + hash + "-", 0), 0u) << name;
    EXPECT_EQ(name.size(), ("nginx-" + hash + "-").size() + 5) << name;
    EXPECT_EQ(meta.at("labels").at("pod-template-hash"), hash.c_str());
    const auto& owner = meta.at("ownerReferences").at(0);
    EXPECT_EQ(owner.at("kind"), "ReplicaSet");
    EXPECT_EQ(owner.at("uid"), rs_meta.at("uid"));
    EXPECT_EQ(owner.at("controller"), true);
  }
  EXPECT_EQ(names.size(), 3u);
  // Upstream's events.
  ASSERT_TRUE(Eventually([&] {
    auto out = Kubectl({"get", "events"}).out;
    return out.find("Scaled up replica set nginx-" + hash + " from 0 to 3") != std::string::npos &&
           out.find("Created pod: nginx-" + hash + "-") != std::string::npos;
  })) << Kubectl({"get", "events"}).out;
  // The replica set's status, then the deployment's, catch up with the pods.
  EXPECT_TRUE(Eventually([&] { return StatusInt(DeploymentStatus("nginx"), "replicas") == 3; }));

  // Scale up and down.
  MustRun({"scale", "deployment", "nginx", "--replicas=5"});
  ASSERT_TRUE(Eventually([&] { return Pods("nginx").size() == 5; }));
  MustRun({"scale", "deployment", "nginx", "--replicas=2"});
  ASSERT_TRUE(Eventually([&] { return Pods("nginx").size() == 2; }));
  EXPECT_EQ(Items({"replicasets"}).size(), 1u);

  // Ready pods complete the rollout; `rollout status` says so with either kubectl.
  ASSERT_TRUE(CompleteRollout("nginx", 2, 1));
  for (const auto& minor : kKubectls) {
    auto status = Kubectl({"rollout", "status", "deployment/nginx", "--timeout=30s"}, minor);
    EXPECT_EQ(status.exit_code, 0) << minor << ": " << status.err;
    EXPECT_EQ(status.out, "deployment \"nginx\" successfully rolled out\n") << minor;
  }
  auto conditions = DeploymentStatus("nginx").at("conditions").as_array();
  std::map<std::string, std::string> reasons;
  for (const auto& condition : conditions) {
    reasons[Str(condition.at("type"))] = Str(condition.at("reason"));
  }
  EXPECT_EQ(reasons["Available"], "MinimumReplicasAvailable");
  EXPECT_EQ(reasons["Progressing"], "NewReplicaSetAvailable");
}

TEST_F(ControllersE2ETest, SetImageRollsToANewReplicaSetAndUndoRollsBack) {
  MustRun({"create", "deployment", "web", "--image=nginx:1.24", "--replicas=2"});
  ASSERT_TRUE(CompleteRollout("web", 2, 1)) << server_.Logs();

  MustRun({"set", "image", "deployment/web", "nginx=nginx:1.25"});
  ASSERT_TRUE(Eventually([&] { return Items({"replicasets"}).size() == 2; }));
  ASSERT_TRUE(CompleteRollout("web", 2, 1));
  for (auto& pod : Pods("web")) {
    EXPECT_EQ(pod.at("spec").at("containers").at(0).at("image"), "nginx:1.25");
  }
  for (const auto& minor : kKubectls) {
    auto history = Kubectl({"rollout", "history", "deployment/web"}, minor);
    ASSERT_EQ(history.exit_code, 0) << minor << ": " << history.err;
    EXPECT_NE(history.out.find("\n1         <none>\n2         <none>\n"), std::string::npos)
        << minor << ": " << history.out;
    auto revision = Kubectl({"rollout", "history", "deployment/web", "--revision=1"}, minor);
    EXPECT_NE(revision.out.find("nginx:1.24"), std::string::npos) << minor << revision.out;
  }

  // Back to the previous template: its replica set takes the next revision.
  MustRun({"rollout", "undo", "deployment/web"}, "1.27");
  EXPECT_EQ(ImageOf("web"), "nginx:1.24");
  ASSERT_TRUE(CompleteRollout("web", 2, 1));
  for (auto& pod : Pods("web")) {
    EXPECT_EQ(pod.at("spec").at("containers").at(0).at("image"), "nginx:1.24");
  }
  auto history = Kubectl({"rollout", "history", "deployment/web"}, "1.33");
  EXPECT_NE(history.out.find("\n2         <none>\n3         <none>\n"), std::string::npos)
      << history.out;
  auto to_revision = Kubectl({"rollout", "undo", "deployment/web", "--to-revision=2"}, "1.33");
  ASSERT_EQ(to_revision.exit_code, 0) << to_revision.err;
  EXPECT_EQ(ImageOf("web"), "nginx:1.25");
  ASSERT_TRUE(CompleteRollout("web", 2, 1));
  auto rs_list = Items({"replicasets"});
  EXPECT_EQ(rs_list.size(), 2u);
  EXPECT_EQ(GetJson({"deployment", "web"})
                .at("metadata")
                .at("annotations")
                .at("deployment.kubernetes.io/revision"),
            "4");
}

TEST_F(ControllersE2ETest, PauseHoldsTheRolloutUntilResumeAndRestartRollsAgain) {
  MustRun({"create", "deployment", "api", "--image=nginx:1.24", "--replicas=2"});
  ASSERT_TRUE(CompleteRollout("api", 2, 1)) << server_.Logs();
  MustRun({"rollout", "pause", "deployment/api"}, "1.27");
  MustRun({"set", "image", "deployment/api", "nginx=nginx:1.25"});
  ASSERT_TRUE(Eventually([&] {
    auto status = DeploymentStatus("api");
    if (!status.contains("conditions")) return false;
    for (const auto& condition : status.at("conditions").as_array()) {
      if (condition.at("type") == "Progressing")
        return condition.at("reason") == "DeploymentPaused";
    }
    return false;
  }));
  EXPECT_EQ(Items({"replicasets"}).size(), 1u);
  MustRun({"rollout", "resume", "deployment/api"}, "1.33");
  ASSERT_TRUE(Eventually([&] { return Items({"replicasets"}).size() == 2; }));
  ASSERT_TRUE(CompleteRollout("api", 2, 1));

  MustRun({"rollout", "restart", "deployment/api"}, "1.33");
  ASSERT_TRUE(Eventually([&] { return Items({"replicasets"}).size() == 3; }));
  ASSERT_TRUE(CompleteRollout("api", 2, 1));
  auto status = Kubectl({"rollout", "status", "deployment/api", "--timeout=30s"}, "1.27");
  EXPECT_EQ(status.exit_code, 0) << status.err;
}

TEST_F(ControllersE2ETest, ReplicationControllerKeepsItsPodsAndAdoptsOrphans) {
  const std::string orphan =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stray\n  labels:\n    app: legacy\n"
      "spec:\n  containers:\n  - name: c\n    image: nginx\n";
  MustRun({"create", "-f", server_.WriteFile("stray.yaml", orphan)});
  const std::string rc =
      "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: legacy\nspec:\n"
      "  replicas: 3\n  selector:\n    app: legacy\n  template:\n    metadata:\n      labels:\n"
      "        app: legacy\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";
  MustRun({"create", "-f", server_.WriteFile("rc.yaml", rc)});
  ASSERT_TRUE(Eventually([&] {
    auto status = GetJson({"rc", "legacy"}).at("status").as_object();
    return Pods("legacy").size() == 3 && status.contains("replicas") && status.at("replicas") == 3;
  })) << server_.Logs();
  auto stray = GetJson({"pod", "stray"});
  const auto& owner = stray.at("metadata").at("ownerReferences").at(0);
  EXPECT_EQ(owner.at("kind"), "ReplicationController");
  EXPECT_EQ(owner.at("name"), "legacy");
  // A pod relabelled out of the selector is released and replaced.
  MustRun({"label", "pod", "stray", "app=debug", "--overwrite"});
  ASSERT_TRUE(Eventually([&] {
    auto pod = GetJson({"pod", "stray"});
    return !pod.at("metadata").as_object().contains("ownerReferences") &&
           Pods("legacy").size() == 3;
  }));
  MustRun({"scale", "rc", "legacy", "--replicas=1"});
  ASSERT_TRUE(Eventually([&] { return Pods("legacy").size() == 1; }));
}

TEST_F(ControllersE2ETest, DeletesCascadeWithEachPropagationPolicy) {
  for (const std::string cascade : {"background", "foreground", "orphan"}) {
    const std::string name = "c-" + cascade;
    MustRun({"create", "deployment", name, "--image=nginx", "--replicas=2"});
    ASSERT_TRUE(Eventually([&] { return Pods(name).size() == 2; })) << cascade;
    const std::string rs_name =
        Str(Items({"replicasets", "-l", "app=" + name}).at(0).at("metadata").at("name"));
    auto deleted = Kubectl({"delete", "deployment", name, "--cascade=" + cascade}, "1.33");
    ASSERT_EQ(deleted.exit_code, 0) << cascade << ": " << deleted.err;
    // kubectl waits for the deployment to go: with foreground, after its dependents.
    EXPECT_FALSE(Exists({"deployment", name})) << cascade;
    if (cascade == "orphan") {
      auto rs = GetJson({"replicaset", rs_name});
      EXPECT_FALSE(rs.at("metadata").as_object().contains("ownerReferences"));
      EXPECT_EQ(Pods(name).size(), 2u);
    } else {
      if (cascade == "foreground") {
        EXPECT_FALSE(Exists({"replicaset", rs_name}));
      }
      EXPECT_TRUE(Eventually([&] {
        return !Exists({"replicaset", rs_name}) && Pods(name).empty();
      })) << cascade;
    }
  }
}

TEST_F(ControllersE2ETest, DependentsOfAnyKindGoWithTheirOwner) {
  MustRun({"create", "configmap", "parent", "--from-literal=a=b"});
  const std::string uid = Str(GetJson({"configmap", "parent"}).at("metadata").at("uid"));
  const std::string child =
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: child\n  ownerReferences:\n"
      "  - apiVersion: v1\n    kind: ConfigMap\n    name: parent\n    uid: " +
      uid + "\nstringData:\n  k: v\n";
  MustRun({"create", "-f", server_.WriteFile("child.yaml", child)});
  // A reference to an owner that never existed is dangling: the object goes.
  const std::string stray =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  ownerReferences:\n"
      "  - apiVersion: v1\n    kind: ConfigMap\n    name: nobody\n"
      "    uid: 00000000-0000-0000-0000-000000000000\n";
  MustRun({"create", "-f", server_.WriteFile("stray.yaml", stray)});
  EXPECT_TRUE(Eventually([&] { return !Exists({"configmap", "stray"}); })) << server_.Logs();
  EXPECT_TRUE(Exists({"secret", "child"}));
  MustRun({"delete", "configmap", "parent"});
  EXPECT_TRUE(Eventually([&] { return !Exists({"secret", "child"}); }));
}

TEST_F(ControllersE2ETest, CustomResourcesOwnAndAreOwned) {
  MustRun({"create", "-f",
           server_.WriteFile("crd.yaml", testing::CrdYaml("example.com", "gadgets", "Gadget"))});
  ASSERT_TRUE(Eventually([&] { return Kubectl({"get", "gadgets"}).exit_code == 0; }));
  const std::string gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\n";
  MustRun({"create", "-f", server_.WriteFile("g1.yaml", gadget)});
  const std::string uid = Str(GetJson({"gadget", "g1"}).at("metadata").at("uid"));
  const std::string owned =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned-by-gadget\n"
      "  ownerReferences:\n  - apiVersion: example.com/v1\n    kind: Gadget\n    name: g1\n"
      "    uid: " +
      uid + "\n";
  MustRun({"create", "-f", server_.WriteFile("owned.yaml", owned)});
  // A custom resource owned by a built-in one.
  MustRun({"create", "configmap", "cm-owner"});
  const std::string cm_uid = Str(GetJson({"configmap", "cm-owner"}).at("metadata").at("uid"));
  const std::string owned_gadget =
      "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g2\n"
      "  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: cm-owner\n"
      "    uid: " +
      cm_uid + "\n";
  MustRun({"create", "-f", server_.WriteFile("g2.yaml", owned_gadget)});

  MustRun({"delete", "gadget", "g1"});
  EXPECT_TRUE(Eventually([&] {
    return !Exists({"configmap", "owned-by-gadget"});
  })) << server_.Logs();
  EXPECT_TRUE(Exists({"gadget", "g2"}));
  MustRun({"delete", "configmap", "cm-owner"});
  EXPECT_TRUE(Eventually([&] { return !Exists({"gadget", "g2"}); }));
}

TEST_F(ControllersE2ETest, ControllerManagerHoldsItsLease) {
  ASSERT_TRUE(Eventually([&] {
    auto lease = Kubectl({"get", "lease", "-n", "kube-system", "kube-controller-manager", "-o",
                          "jsonpath={.spec.holderIdentity}"});
    return lease.exit_code == 0 && !lease.out.empty();
  }));
  auto lease = GetJson({"lease", "-n", "kube-system", "kube-controller-manager"});
  EXPECT_EQ(lease.at("spec").at("leaseDurationSeconds"), 15);
}

}  // namespace
}  // namespace kpp
