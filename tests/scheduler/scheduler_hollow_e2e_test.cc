// The scheduler as a user meets it: `kpp server --disable-agent` (its embedded scheduler) with
// real `kpp hollow-nodes` processes as the nodes, everything done and checked with kubectl.
// Taints and tolerations, node affinity, pod anti-affinity and topology spread over zone labels
// (one hollow-node process per zone), insufficient cpu until a node with room registers,
// preemption by a higher-priority pod, a second `kpp scheduler` by name, and nodes that vanish
// while pods are being scheduled. Placed pods run: the hollow nodes report them Running.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "support/kpp_server_fixture.h"
#include "support/subprocess.h"

namespace kpp::testing {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool Eventually(F condition, std::chrono::milliseconds timeout = 40s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return condition();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class SchedulerHollowE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start({"--disable-agent"})); }
  void TearDown() override {
    for (auto& [prefix, process] : hollow_) {
      if (process->running()) {
        process->Signal(SIGKILL);
        (void)process->Wait(10s);
      }
    }
  }

  // A `kpp hollow-nodes` process whose nodes are named <prefix>0, <prefix>1, ...; waits until
  // they are registered.
  void StartHollowNodes(const std::string& prefix, int count, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {KppBinary(),
                                     "hollow-nodes",
                                     "--kubeconfig",
                                     server_.kubeconfig_path(),
                                     "--count",
                                     std::to_string(count),
                                     "--name-prefix",
                                     prefix,
                                     "--max-termination-grace",
                                     "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const std::string dir = server_.root_dir() + "/" + prefix + "nodes";
    ASSERT_EQ(RunProcess({"mkdir", "-p", dir}).exit_code, 0);
    auto process = std::make_unique<Process>();
    std::string error;
    ASSERT_TRUE(process->Start(argv, dir, &error)) << error;
    Process& started = *process;
    hollow_[prefix] = std::move(process);
    ASSERT_TRUE(Eventually([&] {
      return started.Stderr().find("hollow nodes registered") != std::string::npos;
    })) << started.Stderr();
  }
  void KillHollowNodes(const std::string& prefix) {
    auto& process = *hollow_.at(prefix);
    process.Signal(SIGKILL);
    ASSERT_TRUE(process.Wait(10s));
  }

  std::string Get(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    return result.exit_code == 0 ? result.out : "";
  }
  void Apply(const std::string& name, const std::string& manifest) {
    auto result = server_.Kubectl({"apply", "-f", server_.WriteFile(name + ".yaml", manifest)});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  std::string NodeOf(const std::string& pod) {
    return Get({"get", "pod", pod, "-o", "jsonpath={.spec.nodeName}"});
  }
  bool Running(const std::string& pod) {
    return Get({"get", "pod", pod, "-o", "jsonpath={.status.phase}"}) == "Running";
  }
  // The messages of the pod's events with `reason`, one a line.
  std::string EventMessages(const std::string& pod, const std::string& reason) {
    return Get({"get", "events", "--field-selector",
                "involvedObject.name=" + pod + ",reason=" + reason, "-o",
                "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}"});
  }

  // A pod manifest: `spec_lines` go under spec (indented two spaces), before the container.
  static std::string PodManifest(const std::string& name, const std::string& spec_lines = "",
                                 const std::string& labels = "", const std::string& cpu = "") {
    std::string manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n";
    if (!labels.empty()) manifest += "  labels:\n" + labels;
    manifest += "spec:\n" + spec_lines +
                "  containers:\n  - name: main\n    image: registry.k8s.io/pause:3.10\n";
    if (!cpu.empty()) manifest += "    resources:\n      requests:\n        cpu: \"" + cpu + "\"\n";
    return manifest;
  }

  KppServer server_;
  std::map<std::string, std::unique_ptr<Process>> hollow_;
};

TEST_F(SchedulerHollowE2ETest, TaintsTolerationsAndNodeAffinity) {
  StartHollowNodes("plain-", 2);
  StartHollowNodes("gpu-", 1, {"--taints", "dedicated=gpu:NoSchedule", "--labels", "accel=gpu"});

  // Nothing tolerates the taint: the plain nodes only.
  Apply("plain", PodManifest("plain"));
  ASSERT_TRUE(Eventually([&] { return Running("plain"); })) << Get({"describe", "pod", "plain"});
  EXPECT_EQ(NodeOf("plain").rfind("plain-", 0), 0u) << NodeOf("plain");
  EXPECT_EQ(EventMessages("plain", "Scheduled"),
            "Successfully assigned default/plain to " + NodeOf("plain") + "\n");

  // Tolerating and asking for the accelerator: the tainted node.
  Apply("trainer", PodManifest("trainer", R"(  tolerations:
  - key: dedicated
    operator: Equal
    value: gpu
    effect: NoSchedule
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: accel
            operator: In
            values: [gpu]
)"));
  ASSERT_TRUE(Eventually([&] { return Running("trainer"); }))
      << Get({"describe", "pod", "trainer"});
  EXPECT_EQ(NodeOf("trainer"), "gpu-0");

  // Asking for the accelerator without tolerating its taint: nowhere, and the event says why.
  Apply("untolerated", PodManifest("untolerated", "  nodeSelector:\n    accel: gpu\n"));
  ASSERT_TRUE(Eventually([&] { return !EventMessages("untolerated", "FailedScheduling").empty(); }))
      << Get({"describe", "pod", "untolerated"});
  EXPECT_EQ(EventMessages("untolerated", "FailedScheduling"),
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) "
            "didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 "
            "Preemption is not helpful for scheduling..\n");
  EXPECT_EQ(NodeOf("untolerated"), "");
  const std::string described = Get({"describe", "pod", "untolerated"});
  EXPECT_NE(described.find("PodScheduled   False"), std::string::npos) << described;
  EXPECT_NE(described.find("FailedScheduling"), std::string::npos) << described;

  // Preferred affinity: among the plain nodes, the one labelled.
  ASSERT_EQ(server_.Kubectl({"label", "node", "plain-1", "disk=ssd"}).exit_code, 0);
  Apply("prefers", PodManifest("prefers", R"(  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          matchExpressions:
          - key: disk
            operator: In
            values: [ssd]
)"));
  ASSERT_TRUE(Eventually([&] { return Running("prefers"); }));
  EXPECT_EQ(NodeOf("prefers"), "plain-1");
}

TEST_F(SchedulerHollowE2ETest, AntiAffinityAndTopologySpreadAcrossZones) {
  // One hollow-node process per zone, two nodes each.
  for (const std::string zone : {"a", "b", "c"}) {
    StartHollowNodes("zone-" + zone + "-", 2,
                     {"--labels", "topology.kubernetes.io/zone=zone-" + zone});
  }
  std::string manifests;
  for (int i = 0; i < 6; ++i) {
    manifests += "---\n" + PodManifest("web-" + std::to_string(i), R"(  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector:
      matchLabels:
        app: web
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app: web
)",
                                       "    app: web\n");
  }
  // All six at once: the scheduler's cache counts each placed pod before its binding is read back.
  Apply("web", manifests);
  ASSERT_TRUE(Eventually([&] {
    return Lines(Get({"get", "pods", "-l", "app=web", "--field-selector", "status.phase=Running",
                      "-o", "name"}))
               .size() == 6;
  })) << Get({"get", "pods", "-o", "wide"});
  std::map<std::string, int> per_zone;
  std::set<std::string> nodes;
  for (const auto& line : Lines(Get({"get", "pods", "-l", "app=web", "-o",
                                     "jsonpath={range .items[*]}{.spec.nodeName}\n{end}"}))) {
    nodes.insert(line);
    per_zone[line.substr(0, 6)]++;
  }
  EXPECT_EQ(nodes.size(), 6u) << "two replicas share a node";
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"zone-a", 2}, {"zone-b", 2}, {"zone-c", 2}}));

  // A seventh replica has no node of its own left.
  Apply("web-6", PodManifest("web-6", R"(  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app: web
)",
                             "    app: web\n"));
  ASSERT_TRUE(Eventually([&] { return !EventMessages("web-6", "FailedScheduling").empty(); }));
  EXPECT_EQ(EventMessages("web-6", "FailedScheduling"),
            "0/6 nodes are available: 6 node(s) didn't match pod anti-affinity rules. preemption: "
            "0/6 nodes are available: 6 No preemption victims found for incoming pod..\n");
  EXPECT_EQ(NodeOf("web-6"), "");
}

TEST_F(SchedulerHollowE2ETest, InsufficientCpuUntilANodeWithRoomRegisters) {
  StartHollowNodes("small-", 2, {"--cpu", "1"});
  Apply("big", PodManifest("big", "", "", "2"));
  const std::string wanted =
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No "
      "preemption victims found for incoming pod..\n";
  ASSERT_TRUE(Eventually([&] { return EventMessages("big", "FailedScheduling") == wanted; }))
      << EventMessages("big", "FailedScheduling");
  EXPECT_EQ(Get({"get", "pod", "big", "-o",
                 "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].reason}"}),
            "Unschedulable");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(NodeOf("big"), "");

  // A node with room registers: the pod leaves the unschedulable queue, is placed and runs.
  StartHollowNodes("large-", 1, {"--cpu", "8"});
  ASSERT_TRUE(Eventually([&] { return Running("big"); })) << Get({"describe", "pod", "big"});
  EXPECT_EQ(NodeOf("big"), "large-0");
}

TEST_F(SchedulerHollowE2ETest, HigherPriorityPodPreemptsALowerOne) {
  Apply("classes", R"(apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: low
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000
)");
  StartHollowNodes("only-", 1, {"--cpu", "2"});
  Apply("low", PodManifest("low", "  priorityClassName: low\n", "", "1500m"));
  ASSERT_TRUE(Eventually([&] { return Running("low"); }));
  const std::string low_uid = Get({"get", "pod", "low", "-o", "jsonpath={.metadata.uid}"});

  Apply("high", PodManifest("high", "  priorityClassName: high\n", "", "1500m"));
  // The victim is deleted (the hollow node stops it), the node nominated, then the pod placed.
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "pod", "high", "-o", "jsonpath={.status.nominatedNodeName}"}) == "only-0" ||
           Running("high");
  }));
  ASSERT_TRUE(Eventually([&] { return Running("high"); })) << Get({"describe", "pod", "high"});
  EXPECT_EQ(NodeOf("high"), "only-0");
  EXPECT_EQ(Get({"get", "pod", "high", "-o", "jsonpath={.spec.priority}"}), "1000");
  auto low = server_.Kubectl({"get", "pod", "low"});
  EXPECT_NE(low.exit_code, 0);
  EXPECT_NE(low.err.find("NotFound"), std::string::npos) << low.err;
  const std::string high_uid = Get({"get", "pod", "high", "-o", "jsonpath={.metadata.uid}"});
  EXPECT_EQ(EventMessages("low", "Preempted"),
            "Preempted by pod " + high_uid + " on node only-0\n");
  EXPECT_FALSE(low_uid.empty());
}

TEST_F(SchedulerHollowE2ETest, TwoSchedulersByName) {
  StartHollowNodes("node-", 2);
  Apply("for-other", PodManifest("for-other", "  schedulerName: other-scheduler\n"));
  Apply("for-default", PodManifest("for-default"));
  ASSERT_TRUE(Eventually([&] { return Running("for-default"); }));
  // The built-in scheduler leaves the other scheduler's pod alone: no node, no event.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(NodeOf("for-other"), "");
  EXPECT_EQ(EventMessages("for-other", "FailedScheduling"), "");
  EXPECT_EQ(EventMessages("for-other", "Scheduled"), "");

  const std::string config =
      server_.WriteFile("other.yaml", R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: other-scheduler
)");
  Process scheduler;
  std::string error;
  const std::string dir = server_.root_dir() + "/other-scheduler";
  ASSERT_EQ(RunProcess({"mkdir", "-p", dir}).exit_code, 0);
  ASSERT_TRUE(scheduler.Start({KppBinary(), "scheduler", "--kubeconfig", server_.kubeconfig_path(),
                               "--config", config, "--secure-port", "0"},
                              dir, &error))
      << error;
  ASSERT_TRUE(Eventually([&] { return Running("for-other"); }))
      << scheduler.Stderr() << Get({"describe", "pod", "for-other"});
  // Each pod's Scheduled event comes from its own scheduler.
  auto source = [&](const std::string& pod) {
    return Get({"get", "events", "--field-selector",
                "involvedObject.name=" + pod + ",reason=Scheduled", "-o",
                "jsonpath={.items[0].source.component}"});
  };
  EXPECT_EQ(source("for-other"), "other-scheduler");
  EXPECT_EQ(source("for-default"), "default-scheduler");
  scheduler.Signal(SIGTERM);
  EXPECT_TRUE(scheduler.Wait(20s));
  EXPECT_EQ(scheduler.exit_code(), 0) << scheduler.Stderr();
}

TEST_F(SchedulerHollowE2ETest, NodesThatVanishMidCycleDoNotWedgeTheScheduler) {
  StartHollowNodes("gone-", 20, {"--pods", "2"});
  std::string manifests;
  for (int i = 0; i < 150; ++i)
    manifests += "---\n" + PodManifest("p-" + std::to_string(i));
  // 150 pods for 40 places; the nodes go while the scheduler still cycles through the rest.
  auto created = server_.Kubectl({"create", "-f", server_.WriteFile("pods.yaml", manifests)});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  KillHollowNodes("gone-");
  auto deleted = server_.Kubectl({"delete", "nodes", "--all", "--wait=false"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Eventually([&] { return Get({"get", "nodes", "-o", "name"}).empty(); }));

  // With no node at all, a new pod waits with upstream's message.
  Apply("lonely", PodManifest("lonely"));
  ASSERT_TRUE(Eventually([&] {
    return EventMessages("lonely", "FailedScheduling")
               .find("no nodes available to schedule pods") != std::string::npos;
  })) << EventMessages("lonely", "FailedScheduling");

  // New nodes: every pod left unbound is placed on them and runs; the scheduler is not stuck.
  StartHollowNodes("fresh-", 3);
  auto unbound = [&] {
    int count = 0;
    for (const auto& line :
         Lines(Get({"get", "pods", "-o",
                    "jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}\n{end}"}))) {
      if (line.back() == '=') ++count;
    }
    return count;
  };
  ASSERT_TRUE(Eventually([&] { return unbound() == 0; }, 60s))
      << Get({"get", "pods", "-o", "wide"});
  Apply("after", PodManifest("after"));
  ASSERT_TRUE(Eventually([&] { return Running("after"); }));
  EXPECT_EQ(NodeOf("after").rfind("fresh-", 0), 0u);
  EXPECT_TRUE(server_.running());
  EXPECT_EQ(Get({"get", "--raw", "/readyz"}), "ok");
}

}  // namespace
}  // namespace kpp::testing
