// Everyday kubectl workflows typed as a user types them, with the real kubectl 1.27 and 1.33:
// set image, rollout restart, describe, wait, edit and delete with each propagation policy. No
// controllers run, so the tests check what the commands write rather than waiting for rollouts.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;
using testing::ProcessResult;
using testing::RunProcess;

const std::vector<std::string>& kKubectls = testing::kOldestAndNewestKubectl;

std::string DeploymentYaml(const std::string& name) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
         "\n  labels:\n    tier: front\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n"
         "      app: " +
         name + "\n  template:\n    metadata:\n      labels:\n        app: " + name +
         "\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.24\n";
}

std::string ReplicaSetYaml(const std::string& name) {
  return "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: " + name +
         "\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: " + name +
         "\n  template:\n    metadata:\n      labels:\n        app: " + name +
         "\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";
}

std::string Suffix(const std::string& minor) {
  return minor.substr(2);
}

class KubectlWorkflowsE2ETest : public testing::KubectlE2ETest {};

TEST_F(KubectlWorkflowsE2ETest, SetImageChangesTheContainerImageAndBumpsGeneration) {
  for (const auto& minor : kKubectls) {
    const std::string name = "web-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    const auto before = GetJson({"deployment", name});
    const auto generation = before.at("metadata").at("generation").as_int64();

    auto set = Kubectl({"set", "image", "deployment/" + name, "c=nginx:1.25"}, minor);
    ASSERT_EQ(set.exit_code, 0) << minor << ": " << set.err;
    EXPECT_EQ(set.out, "deployment.apps/" + name + " image updated\n");
    const auto after = GetJson({"deployment", name});
    EXPECT_EQ(after.at("spec").at("template").at("spec").at("containers").at(0).at("image"),
              "nginx:1.25");
    EXPECT_EQ(after.at("metadata").at("generation").as_int64(), generation + 1) << minor;

    // The same image again changes nothing: kubectl says so and the generation stays.
    auto again = Kubectl({"set", "image", "deployment/" + name, "c=nginx:1.25"}, minor);
    ASSERT_EQ(again.exit_code, 0) << minor << ": " << again.err;
    EXPECT_EQ(GetJson({"deployment", name}).at("metadata").at("generation").as_int64(),
              generation + 1);

    // An unknown container is refused by kubectl before it writes.
    auto unknown = Kubectl({"set", "image", "deployment/" + name, "nope=busybox"}, minor);
    EXPECT_NE(unknown.exit_code, 0) << minor;
  }
}

TEST_F(KubectlWorkflowsE2ETest, RolloutRestartAnnotatesThePodTemplate) {
  for (const auto& minor : kKubectls) {
    const std::string name = "restart-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    const auto generation =
        GetJson({"deployment", name}).at("metadata").at("generation").as_int64();

    auto restarted = Kubectl({"rollout", "restart", "deployment/" + name}, minor);
    ASSERT_EQ(restarted.exit_code, 0) << minor << ": " << restarted.err;
    EXPECT_EQ(restarted.out, "deployment.apps/" + name + " restarted\n");
    const auto after = GetJson({"deployment", name});
    const auto& annotations =
        after.at("spec").at("template").at("metadata").at("annotations").as_object();
    ASSERT_TRUE(annotations.contains("kubectl.kubernetes.io/restartedAt")) << minor;
    EXPECT_FALSE(annotations.at("kubectl.kubernetes.io/restartedAt").as_string().empty());
    EXPECT_EQ(after.at("metadata").at("generation").as_int64(), generation + 1) << minor;

    // rollout history reads the deployment (and its replica sets: none without controllers).
    auto history = Kubectl({"rollout", "history", "deployment/" + name}, minor);
    EXPECT_EQ(history.exit_code, 0) << minor << ": " << history.err;
  }
}

TEST_F(KubectlWorkflowsE2ETest, SetImageOnPodsAndEveryContainer) {
  MustRun({"create", "-f",
           server_.WriteFile("two.yaml",
                             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: two\nspec:\n"
                             "  containers:\n  - name: a\n    image: busybox:1.35\n"
                             "  - name: b\n    image: busybox:1.35\n")});
  for (const auto& minor : kKubectls) {
    const std::string image = "busybox:1." + Suffix(minor);
    auto set = Kubectl({"set", "image", "pod/two", "*=" + image}, minor);
    ASSERT_EQ(set.exit_code, 0) << minor << ": " << set.err;
    EXPECT_EQ(set.out, "pod/two image updated\n");
    const auto pod = GetJson({"pod", "two"});
    for (const auto& container : pod.at("spec").at("containers").as_array()) {
      EXPECT_EQ(container.at("image").as_string(), image) << minor;
    }
  }
}

TEST_F(KubectlWorkflowsE2ETest, RolloutPauseResumeAndRestartOfOtherWorkloads) {
  for (const auto& minor : kKubectls) {
    const std::string name = "paused-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    auto paused = Kubectl({"rollout", "pause", "deployment/" + name}, minor);
    ASSERT_EQ(paused.exit_code, 0) << minor << ": " << paused.err;
    EXPECT_EQ(paused.out, "deployment.apps/" + name + " paused\n");
    EXPECT_EQ(GetJson({"deployment", name}).at("spec").at("paused"), true);
    // kubectl itself refuses to restart a paused deployment.
    auto refused = Kubectl({"rollout", "restart", "deployment/" + name}, minor);
    EXPECT_NE(refused.exit_code, 0) << minor;
    EXPECT_NE(refused.err.find("can't restart paused deployment"), std::string::npos)
        << refused.err;
    auto resumed = Kubectl({"rollout", "resume", "deployment/" + name}, minor);
    ASSERT_EQ(resumed.exit_code, 0) << minor << ": " << resumed.err;
    EXPECT_EQ(resumed.out, "deployment.apps/" + name + " resumed\n");
    const auto resumed_spec = GetJson({"deployment", name}).at("spec").as_object();
    EXPECT_TRUE(!resumed_spec.contains("paused") || resumed_spec.at("paused") == false) << minor;
  }

  // A restart within the same second as another one of the same object is refused by kubectl
  // (the annotation has second resolution), so each kubectl restarts its own objects.
  const std::string template_spec =
      "  template:\n    metadata:\n      labels:\n        app: db\n    spec:\n"
      "      containers:\n      - name: c\n        image: nginx\n";
  for (const auto& minor : kKubectls) {
    const std::string db = "db-" + Suffix(minor);
    const std::string agent = "agent-" + Suffix(minor);
    MustRun({"create", "-f",
             server_.WriteFile(db + ".yaml",
                               "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: " + db +
                                   "\nspec:\n  serviceName: db\n  selector:\n    matchLabels:\n"
                                   "      app: db\n" +
                                   template_spec)});
    MustRun({"create", "-f",
             server_.WriteFile(agent + ".yaml",
                               "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: " + agent +
                                   "\nspec:\n  selector:\n    matchLabels:\n      app: db\n" +
                                   template_spec)});
    for (const auto& [kind, name] :
         {std::pair{std::string("statefulset"), db}, std::pair{std::string("daemonset"), agent}}) {
      auto restarted = Kubectl({"rollout", "restart", kind + "/" + name}, minor);
      ASSERT_EQ(restarted.exit_code, 0) << minor << ": " << restarted.err;
      EXPECT_EQ(restarted.out, kind + ".apps/" + name + " restarted\n");
      const auto object = GetJson({kind, name});
      EXPECT_TRUE(object.at("spec")
                      .at("template")
                      .at("metadata")
                      .at("annotations")
                      .as_object()
                      .contains("kubectl.kubernetes.io/restartedAt"))
          << minor << " " << kind;
    }
  }
}

TEST_F(KubectlWorkflowsE2ETest, WaitForConditionReturnsWhenTheStatusSaysSo) {
  for (const auto& minor : kKubectls) {
    const std::string name = "ready-" + Suffix(minor);
    MustRun({"create", "-f",
             server_.WriteFile(name + ".yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                                   "\nspec:\n  containers:\n  - name: c\n    image: nginx\n")},
            minor);
    auto waiting = std::async(std::launch::async, [&] {
      return Kubectl({"wait", "--for=condition=Ready", "pod/" + name, "--timeout=60s"}, minor);
    });
    ASSERT_EQ(waiting.wait_for(1s), std::future_status::timeout) << minor;
    MustRun({"patch", "pod", name, "--subresource=status", "--type=merge", "-p",
             R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})"},
            minor);
    auto met = waiting.get();
    ASSERT_EQ(met.exit_code, 0) << minor << ": " << met.err;
    EXPECT_EQ(met.out, "pod/" + name + " condition met\n");
    // The negated form times out while the condition holds.
    auto negated =
        Kubectl({"wait", "--for=condition=Ready=false", "pod/" + name, "--timeout=2s"}, minor);
    EXPECT_NE(negated.exit_code, 0) << minor;
  }
}

TEST_F(KubectlWorkflowsE2ETest, DescribeShowsObjectsAndTheirEvents) {
  MustRun({"create", "-f", server_.WriteFile("web.yaml", DeploymentYaml("web"))});
  MustRun({"create", "configmap", "settings", "--from-literal=mode=fast"});
  MustRun({"label", "configmap", "settings", "team=blue"});
  MustRun({"create", "-f",
           server_.WriteFile("pod.yaml",
                             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: runner\n  labels:\n"
                             "    app: runner\nspec:\n  containers:\n  - name: c\n"
                             "    image: busybox\n")});
  const auto pod = GetJson({"pod", "runner"});
  const std::string uid(pod.at("metadata").at("uid").as_string());
  MustRun({"create", "-f",
           server_.WriteFile(
               "event.yaml",
               "apiVersion: v1\nkind: Event\nmetadata:\n  name: runner.1\ninvolvedObject:\n"
               "  apiVersion: v1\n  kind: Pod\n  name: runner\n  namespace: default\n  uid: " +
                   uid +
                   "\nreason: Pulling\nmessage: Pulling image busybox for the e2e test\n"
                   "type: Normal\nsource:\n  component: kubelet\ncount: 1\n"
                   "firstTimestamp: \"2026-01-01T00:00:00Z\"\n"
                   "lastTimestamp: \"2026-01-01T00:00:00Z\"\n")});

  for (const auto& minor : kKubectls) {
    auto deployment = Kubectl({"describe", "deployment", "web"}, minor);
    ASSERT_EQ(deployment.exit_code, 0) << minor << ": " << deployment.err;
    EXPECT_NE(deployment.out.find("Name:"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("web\n"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("Namespace:"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("tier=front"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("Selector:"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("app=web"), std::string::npos) << deployment.out;
    EXPECT_NE(deployment.out.find("nginx:1.24"), std::string::npos) << deployment.out;

    auto configmap = Kubectl({"describe", "configmap", "settings"}, minor);
    ASSERT_EQ(configmap.exit_code, 0) << minor << ": " << configmap.err;
    EXPECT_NE(configmap.out.find("settings\n"), std::string::npos) << configmap.out;
    EXPECT_NE(configmap.out.find("team=blue"), std::string::npos) << configmap.out;
    EXPECT_NE(configmap.out.find("mode:"), std::string::npos) << configmap.out;
    EXPECT_NE(configmap.out.find("fast"), std::string::npos) << configmap.out;

    auto described = Kubectl({"describe", "pod", "runner"}, minor);
    ASSERT_EQ(described.exit_code, 0) << minor << ": " << described.err;
    const auto& out = described.out;
    EXPECT_NE(out.find("Name:"), std::string::npos) << out;
    EXPECT_NE(out.find("runner\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Namespace:"), std::string::npos) << out;
    EXPECT_NE(out.find("default\n"), std::string::npos) << out;
    EXPECT_NE(out.find("app=runner"), std::string::npos) << out;
    EXPECT_NE(out.find("busybox"), std::string::npos) << out;
    const auto events = out.find("Events:");
    ASSERT_NE(events, std::string::npos) << out;
    EXPECT_NE(out.find("Pulling", events), std::string::npos) << out;
    EXPECT_NE(out.find("Pulling image busybox for the e2e test", events), std::string::npos) << out;
    EXPECT_NE(out.find("kubelet", events), std::string::npos) << out;

    // Describing by label selector finds the same pod.
    auto selected = Kubectl({"describe", "pods", "-l", "app=runner"}, minor);
    ASSERT_EQ(selected.exit_code, 0) << minor << ": " << selected.err;
    EXPECT_NE(selected.out.find("runner\n"), std::string::npos) << selected.out;
  }
}

TEST_F(KubectlWorkflowsE2ETest, WaitForJsonpathReturnsWhenTheValueIsWritten) {
  for (const auto& minor : kKubectls) {
    const std::string name = "waited-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    // Already true: returns at once.
    auto now = Kubectl(
        {"wait", "--for=jsonpath={.spec.replicas}=1", "deployment/" + name, "--timeout=20s"},
        minor);
    ASSERT_EQ(now.exit_code, 0) << minor << ": " << now.err;
    EXPECT_EQ(now.out, "deployment.apps/" + name + " condition met\n");

    // Becomes true while kubectl watches.
    auto waiting = std::async(std::launch::async, [&] {
      return Kubectl(
          {"wait", "--for=jsonpath={.spec.replicas}=3", "deployment/" + name, "--timeout=60s"},
          minor);
    });
    ASSERT_EQ(waiting.wait_for(1s), std::future_status::timeout) << minor;
    MustRun({"scale", "deployment", name, "--replicas=3"}, minor);
    auto met = waiting.get();
    ASSERT_EQ(met.exit_code, 0) << minor << ": " << met.err;
    EXPECT_EQ(met.out, "deployment.apps/" + name + " condition met\n");

    // Never true: kubectl gives up after its timeout.
    auto never = Kubectl(
        {"wait", "--for=jsonpath={.spec.replicas}=7", "deployment/" + name, "--timeout=2s"}, minor);
    EXPECT_NE(never.exit_code, 0) << minor;
    EXPECT_NE(never.err.find("timed out"), std::string::npos) << never.err;
  }
}

TEST_F(KubectlWorkflowsE2ETest, WaitForDeleteReturnsWhenTheLastFinalizerGoes) {
  for (const auto& minor : kKubectls) {
    const std::string name = "held-" + Suffix(minor);
    MustRun(
        {"create", "-f",
         server_.WriteFile(name + ".yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " +
                                               name + "\n  finalizers:\n  - example.com/hold\n")},
        minor);
    MustRun({"delete", "configmap", name, "--wait=false"}, minor);
    auto waiting = std::async(std::launch::async, [&] {
      return Kubectl({"wait", "--for=delete", "configmap/" + name, "--timeout=60s"}, minor);
    });
    ASSERT_EQ(waiting.wait_for(1s), std::future_status::timeout) << minor;
    MustRun(
        {"patch", "configmap", name, "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"},
        minor);
    auto gone = waiting.get();
    ASSERT_EQ(gone.exit_code, 0) << minor << ": " << gone.err;
    EXPECT_EQ(gone.out, "configmap/" + name + " condition met\n");
    EXPECT_FALSE(Exists({"configmap", name}));

    // Waiting for something that is not there at all succeeds at once.
    auto absent = Kubectl({"wait", "--for=delete", "configmap/" + name, "--timeout=5s"}, minor);
    EXPECT_EQ(absent.exit_code, 0) << minor << ": " << absent.err;
  }
}

TEST_F(KubectlWorkflowsE2ETest, EditWritesWhatTheEditorChanged) {
  const std::string script =
      server_.WriteFile("editor.sh", "#!/bin/sh\nsed -i -e 's/nginx:1.24/nginx:1.26/' \"$1\"\n");
  ASSERT_EQ(RunProcess({"chmod", "+x", script}).exit_code, 0);
  for (const auto& minor : kKubectls) {
    const std::string name = "edited-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    const auto generation =
        GetJson({"deployment", name}).at("metadata").at("generation").as_int64();
    auto edited = RunProcess({testing::KubectlPath(minor), "--kubeconfig",
                              server_.kubeconfig_path(), "edit", "deployment/" + name},
                             60s, {"HOME=" + server_.root_dir(), "KUBE_EDITOR=" + script});
    ASSERT_EQ(edited.exit_code, 0) << minor << ": " << edited.err;
    EXPECT_EQ(edited.out, "deployment.apps/" + name + " edited\n");
    const auto after = GetJson({"deployment", name});
    EXPECT_EQ(after.at("spec").at("template").at("spec").at("containers").at(0).at("image"),
              "nginx:1.26");
    EXPECT_EQ(after.at("metadata").at("generation").as_int64(), generation + 1);

    // An editor that changes nothing: kubectl says so and writes nothing.
    auto unchanged = RunProcess({testing::KubectlPath(minor), "--kubeconfig",
                                 server_.kubeconfig_path(), "edit", "deployment/" + name},
                                60s, {"HOME=" + server_.root_dir(), "KUBE_EDITOR=true"});
    ASSERT_EQ(unchanged.exit_code, 0) << minor << ": " << unchanged.err;
    EXPECT_NE((unchanged.out + unchanged.err).find("Edit cancelled, no changes made."),
              std::string::npos)
        << unchanged.out << unchanged.err;
    EXPECT_EQ(GetJson({"deployment", name}).at("metadata").at("resourceVersion"),
              after.at("metadata").at("resourceVersion"));

    // An edit the server refuses (an immutable selector) fails; kubectl keeps a copy of the
    // edit (in TMPDIR) headed by the server's causes.
    const std::string bad = server_.WriteFile(
        "bad-editor.sh", "#!/bin/sh\nsed -i -e 's/app: " + name + "$/app: other/' \"$1\"\n");
    ASSERT_EQ(RunProcess({"chmod", "+x", bad}).exit_code, 0);
    auto refused = RunProcess(
        {testing::KubectlPath(minor), "--kubeconfig", server_.kubeconfig_path(), "edit",
         "deployment/" + name},
        60s, {"HOME=" + server_.root_dir(), "TMPDIR=" + server_.root_dir(), "KUBE_EDITOR=" + bad});
    EXPECT_NE(refused.exit_code, 0) << minor << ": " << refused.out;
    EXPECT_NE(refused.err.find("deployments.apps \"" + name + "\" is invalid"), std::string::npos)
        << refused.err;
    const std::string stored_marker = "stored to \"";
    const auto stored = refused.err.find(stored_marker);
    ASSERT_NE(stored, std::string::npos) << refused.err;
    const auto path_start = stored + stored_marker.size();
    const std::string copy_path =
        refused.err.substr(path_start, refused.err.find('"', path_start) - path_start);
    std::ifstream copy(copy_path);
    const std::string copy_text((std::istreambuf_iterator<char>(copy)),
                                std::istreambuf_iterator<char>());
    EXPECT_NE(copy_text.find("# * spec.selector: Invalid value:"), std::string::npos) << copy_text;
    EXPECT_NE(copy_text.find("field is immutable"), std::string::npos) << copy_text;
    EXPECT_EQ(GetJson({"deployment", name}).at("metadata").at("resourceVersion"),
              after.at("metadata").at("resourceVersion"));
  }
}

class KubectlWorkflowsCascadeTest : public KubectlWorkflowsE2ETest {
 protected:
  // What a delete with `cascade` leaves of a `kind` named `name`, asserted as upstream's API
  // server leaves it with no garbage collector running: background deletes at once; foreground
  // and orphan mark the object deleting (deletionTimestamp, grace period 0) and add their
  // finalizer, which keeps it until removed.
  void DeleteWithCascade(const std::string& kind, const std::string& name,
                         const std::string& cascade, const std::string& minor) {
    auto deleted = Kubectl({"delete", kind, name, "--cascade=" + cascade, "--wait=false"}, minor);
    ASSERT_EQ(deleted.exit_code, 0) << minor << ": " << deleted.err;
    EXPECT_EQ(deleted.out, kind + ".apps \"" + name + "\" deleted\n");
    if (cascade == "background") {
      EXPECT_FALSE(Exists({kind, name})) << minor;
      return;
    }
    const std::string finalizer = cascade == "foreground" ? "foregroundDeletion" : "orphan";
    const auto held = GetJson({kind, name});
    // Marking an object as being deleted bumps its generation, as upstream's registry does.
    EXPECT_EQ(held.at("metadata").at("generation"), 2) << minor << " " << cascade;
    const auto& metadata = held.at("metadata").as_object();
    EXPECT_TRUE(metadata.contains("deletionTimestamp")) << minor << " " << cascade;
    ASSERT_TRUE(metadata.contains("deletionGracePeriodSeconds")) << minor << " " << cascade;
    EXPECT_EQ(metadata.at("deletionGracePeriodSeconds"), 0);
    ASSERT_TRUE(metadata.contains("finalizers")) << minor << " " << cascade;
    EXPECT_EQ(metadata.at("finalizers"), boost::json::array({boost::json::string(finalizer)}));
    // Nothing but this test removes the finalizer, so the object stays.
    EXPECT_TRUE(Exists({kind, name}));

    MustRun({"patch", kind, name, "--type=json", "-p",
             R"([{"op":"remove","path":"/metadata/finalizers"}])"},
            minor);
    EXPECT_FALSE(Exists({kind, name})) << minor << " " << cascade;
  }
};

TEST_F(KubectlWorkflowsCascadeTest, DeploymentsAndReplicaSetsHonourEachPropagationPolicy) {
  for (const auto& minor : kKubectls) {
    for (const std::string cascade : {"background", "foreground", "orphan"}) {
      const std::string deployment = "d-" + cascade + "-" + Suffix(minor);
      MustRun({"create", "-f", server_.WriteFile(deployment + ".yaml", DeploymentYaml(deployment))},
              minor);
      DeleteWithCascade("deployment", deployment, cascade, minor);
      const std::string replicaset = "rs-" + cascade + "-" + Suffix(minor);
      MustRun({"create", "-f", server_.WriteFile(replicaset + ".yaml", ReplicaSetYaml(replicaset))},
              minor);
      DeleteWithCascade("replicaset", replicaset, cascade, minor);
    }
  }
}

TEST_F(KubectlWorkflowsCascadeTest, UserFinalizersStayBesideThePropagationFinalizer) {
  const std::string yaml =
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: kept\n  finalizers:\n"
      "  - example.com/hold\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: kept\n"
      "  template:\n    metadata:\n      labels:\n        app: kept\n    spec:\n      containers:\n"
      "      - name: c\n        image: nginx\n";
  MustRun({"create", "-f", server_.WriteFile("kept.yaml", yaml)});
  MustRun({"delete", "replicaset", "kept", "--cascade=orphan", "--wait=false"}, "1.33");
  const auto held = GetJson({"replicaset", "kept"});
  EXPECT_EQ(held.at("metadata").at("finalizers"),
            boost::json::parse(R"(["example.com/hold","orphan"])"));
  // Removing one finalizer leaves the object; removing the last one deletes it.
  MustRun({"patch", "replicaset", "kept", "--type=json", "-p",
           R"([{"op":"remove","path":"/metadata/finalizers/1"}])"});
  EXPECT_EQ(GetJson({"replicaset", "kept"}).at("metadata").at("finalizers"),
            boost::json::parse(R"(["example.com/hold"])"));
  MustRun(
      {"patch", "replicaset", "kept", "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"});
  EXPECT_FALSE(Exists({"replicaset", "kept"}));
}

TEST_F(KubectlWorkflowsCascadeTest, DeletingAgainSwapsThePropagationFinalizer) {
  for (const auto& minor : kKubectls) {
    const std::string name = "again-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    MustRun({"delete", "deployment", name, "--cascade=foreground", "--wait=false"}, minor);
    const auto first = GetJson({"deployment", name});
    EXPECT_EQ(first.at("metadata").at("finalizers"),
              boost::json::parse(R"(["foregroundDeletion"])"));

    // A second delete with another policy swaps the finalizer; the object keeps its deletion
    // timestamp and generation.
    MustRun({"delete", "deployment", name, "--cascade=orphan", "--wait=false"}, minor);
    const auto second = GetJson({"deployment", name});
    EXPECT_EQ(second.at("metadata").at("finalizers"), boost::json::parse(R"(["orphan"])"));
    EXPECT_EQ(second.at("metadata").at("deletionTimestamp"),
              first.at("metadata").at("deletionTimestamp"));
    EXPECT_EQ(second.at("metadata").at("generation"), first.at("metadata").at("generation"));

    // Background needs no finalizer: with none left the object goes at once.
    MustRun({"delete", "deployment", name, "--cascade=background", "--wait=false"}, minor);
    EXPECT_FALSE(Exists({"deployment", name})) << minor;
  }
}

TEST_F(KubectlWorkflowsCascadeTest, DeprecatedCascadeFalseOrphans) {
  for (const auto& minor : kKubectls) {
    const std::string name = "legacy-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", ReplicaSetYaml(name))}, minor);
    auto deleted =
        Kubectl({"delete", "replicaset", name, "--cascade=false", "--wait=false"}, minor);
    ASSERT_EQ(deleted.exit_code, 0) << minor << ": " << deleted.err;
    EXPECT_NE(deleted.err.find("--cascade=false is deprecated"), std::string::npos) << deleted.err;
    EXPECT_EQ(GetJson({"replicaset", name}).at("metadata").at("finalizers"),
              boost::json::parse(R"(["orphan"])"));
    MustRun(
        {"patch", "replicaset", name, "--type=merge", "-p", R"({"metadata":{"finalizers":[]}})"},
        minor);
    EXPECT_FALSE(Exists({"replicaset", name})) << minor;
  }
}

TEST_F(KubectlWorkflowsCascadeTest, WaitingDeleteReturnsOnceTheFinalizerIsRemoved) {
  for (const auto& minor : kKubectls) {
    const std::string name = "blocking-" + Suffix(minor);
    MustRun({"create", "-f", server_.WriteFile(name + ".yaml", DeploymentYaml(name))}, minor);
    // Without --wait=false kubectl waits for the object to go, as it would while the garbage
    // collector deletes the dependents.
    auto deleting = std::async(std::launch::async, [&] {
      return Kubectl({"delete", "deployment", name, "--cascade=foreground", "--timeout=60s"},
                     minor);
    });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    bool marked = false;
    while (!marked && std::chrono::steady_clock::now() < deadline) {
      auto timestamp = Kubectl(
          {"get", "deployment", name, "-o", "jsonpath={.metadata.deletionTimestamp}"}, minor);
      marked = timestamp.exit_code == 0 && !timestamp.out.empty();
      if (!marked) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(marked) << minor;
    EXPECT_EQ(deleting.wait_for(0s), std::future_status::timeout) << minor;
    MustRun(
        {"patch", "deployment", name, "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"},
        minor);
    auto deleted = deleting.get();
    ASSERT_EQ(deleted.exit_code, 0) << minor << ": " << deleted.err;
    EXPECT_EQ(deleted.out, "deployment.apps \"" + name + "\" deleted\n");
    EXPECT_FALSE(Exists({"deployment", name})) << minor;
  }
}

TEST_F(KubectlWorkflowsE2ETest, DescribeOfAMissingObjectIsNotFound) {
  for (const auto& minor : kKubectls) {
    auto missing = Kubectl({"describe", "deployment", "nope"}, minor);
    EXPECT_NE(missing.exit_code, 0) << minor;
    EXPECT_NE(missing.err.find("Error from server (NotFound): deployments.apps \"nope\" not found"),
              std::string::npos)
        << missing.err;
  }
}

}  // namespace
}  // namespace kpp
