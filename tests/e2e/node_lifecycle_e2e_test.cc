// The node lifecycle and taint eviction controllers inside `kpp server --disable-agent` with a
// short --node-monitor-grace-period: the nodes of a `kpp hollow-nodes` process killed with
// SIGKILL go Unknown and get the unreachable taints; their pods without a toleration are evicted
// at once, those with tolerationSeconds after it, those tolerating forever stay. Nodes of a
// second process that lives on are not touched; once the node is deleted, pod GC removes its
// pods. Checked with the real kubectl 1.27 and 1.33.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

using testing::Eventually;

// Seconds since the epoch of an RFC 3339 time in UTC ("2026-11-25T14:32:58Z"); 0 when it is not
// one.
int64_t UnixSeconds(const std::string& text) {
  std::tm parts{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return end == nullptr || *end != '\0' ? 0 : static_cast<int64_t>(timegm(&parts));
}

class NodeLifecycleE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    for (const auto& minor : testing::kOldestAndNewestKubectl) {
      ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
    server_.set_controller_manager(true);
    ASSERT_TRUE(
        // Without DefaultTolerationSeconds a pod that names no toleration has none (that plugin
        // would give it 300 s), so its eviction shows at once.
        server_.Start({"--node-monitor-grace-period", "12s", "--node-monitor-period", "1s",
                       "--node-startup-grace-period", "15s", "--disable-admission-plugins",
                       "DefaultTolerationSeconds"}));
  }
  void StartHollowNodes(testing::HollowNodes& nodes, const std::string& prefix,
                        const std::string& pod_cidr_base) {
    std::string error;
    ASSERT_TRUE(nodes.Start(server_, 1, {"--name-prefix", prefix, "--pod-cidr-base", pod_cidr_base},
                            &error))
        << error;
  }
  std::string Get(const std::vector<std::string>& args, const std::string& minor = "") {
    auto result = Kubectl(args, minor);
    return result.exit_code == 0 ? result.out : "";
  }
  void CreatePod(const std::string& name, const std::string& tolerations) {
    MustRun({"apply", "-f",
             server_.WriteFile(name + ".yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                                   "\nspec:\n  nodeName: doomed-0\n  containers:\n  - name: main\n"
                                   "    image: nginx:1.27\n" +
                                   tolerations)});
  }
  bool BeingDeleted(const std::string& pod) {
    return !Get({"get", "pod", pod, "-o", "jsonpath={.metadata.deletionTimestamp}"}).empty();
  }

  testing::HollowNodes alive_;
  testing::HollowNodes doomed_;
};

TEST_F(NodeLifecycleE2ETest, KilledNodesGoUnknownGetTaintedAndTheirPodsEvicted) {
  StartHollowNodes(alive_, "alive-", "10.128.0.0/16");
  StartHollowNodes(doomed_, "doomed-", "10.129.0.0/16");
  ASSERT_TRUE(Eventually([&] {
    const std::string out = Get({"get", "nodes", "--no-headers"});
    int ready = 0;
    for (size_t at = 0; (at = out.find(" Ready ", at)) != std::string::npos; ++at)
      ++ready;
    return ready == 2;
  })) << Get({"get", "nodes"});

  CreatePod("plain", "");
  CreatePod("brief",
            "  tolerations:\n  - key: node.kubernetes.io/unreachable\n    operator: Exists\n"
            "    effect: NoExecute\n    tolerationSeconds: 8\n");
  CreatePod("patient",
            "  tolerations:\n  - key: node.kubernetes.io/unreachable\n    operator: Exists\n"
            "    effect: NoExecute\n");
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "pods", "--no-headers"}).find("ContainerCreating") == std::string::npos &&
           Get({"get", "pod", "plain", "brief", "patient", "-o",
                "jsonpath={.items[*].status.phase}"}) == "Running Running Running";
  })) << Get({"get", "pods", "-o", "wide"});
  // The pod tolerating the taint forever is behind a Service: its address is ready.
  MustRun({"label", "pod", "patient", "app=patient"});
  MustRun({"create", "service", "clusterip", "patient", "--tcp=80:80"});
  ASSERT_TRUE(Eventually([&] {
    return !Get({"get", "endpoints", "patient", "-o", "jsonpath={.subsets[*].addresses[*].ip}"})
                .empty();
  })) << Get({"get", "endpoints", "patient", "-o", "yaml"});
  // Alive nodes stay untouched for longer than the grace period.
  std::this_thread::sleep_for(14s);
  EXPECT_EQ(Get({"get", "node", "doomed-0", "-o", "jsonpath={.spec.taints}"}), "");
  EXPECT_FALSE(BeingDeleted("plain"));

  doomed_.Kill();
  ASSERT_FALSE(doomed_.running());

  // Unknown after the grace period, with upstream's reason and message; NotReady in kubectl.
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "node", "doomed-0", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"}) == "Unknown";
  })) << Get({"get", "node", "doomed-0", "-o", "yaml"});
  // (The last lease renewal was up to 10 s before the kill, so this may come 2 s after it.)
  auto node = boost::json::parse(Get({"get", "node", "doomed-0", "-o", "json"})).as_object();
  for (const auto& condition : node["status"].at("conditions").as_array()) {
    EXPECT_EQ(condition.at("status"), "Unknown") << condition.at("type");
    EXPECT_EQ(condition.at("reason"), "NodeStatusUnknown");
    EXPECT_EQ(condition.at("message"), "Kubelet stopped posting node status.");
  }
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    const std::string row = Get({"get", "node", "doomed-0", "--no-headers"}, minor);
    EXPECT_NE(row.find("NotReady"), std::string::npos) << minor << ": " << row;
  }
  // MarkPodsNotReady: the pods on the node are no longer Ready, so the Service's Endpoints list
  // the patient pod as not ready at once, long before any eviction (it is never evicted).
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "pod", "patient", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"}) == "False";
  })) << Get({"get", "pod", "patient", "-o", "yaml"});
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "endpoints", "patient", "-o", "jsonpath={.subsets[*].addresses[*].ip}"}) ==
               "" &&
           !Get({"get", "endpoints", "patient", "-o",
                 "jsonpath={.subsets[*].notReadyAddresses[*].ip}"})
                .empty();
  })) << Get({"get", "endpoints", "patient", "-o", "yaml"});
  // Upstream's node events: registered when first seen, NodeNotReady on the node and its pods.
  const std::string events = Get({"get", "events", "-o", "wide"});
  EXPECT_NE(events.find("Node doomed-0 event: Registered Node doomed-0 in Controller"),
            std::string::npos)
      << events;
  EXPECT_NE(events.find("Node doomed-0 status is now: NodeNotReady"), std::string::npos) << events;
  EXPECT_NE(Get({"get", "events", "--field-selector", "reason=NodeNotReady"}).find("pod/patient"),
            std::string::npos)
      << events;

  // The unreachable taints, NoSchedule and NoExecute.
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "node", "doomed-0", "-o", "jsonpath={.spec.taints[*].effect}"}) ==
           "NoSchedule NoExecute";
  })) << Get({"get", "node", "doomed-0", "-o", "yaml"});
  EXPECT_EQ(Get({"get", "node", "doomed-0", "-o", "jsonpath={.spec.taints[*].key}"}),
            "node.kubernetes.io/unreachable node.kubernetes.io/unreachable");

  // The pod without a toleration is evicted at once: DisruptionTarget, then deleted (it stays
  // Terminating: no kubelet is left to finish it).
  ASSERT_TRUE(Eventually([&] { return BeingDeleted("plain"); }, 15s))
      << Get({"get", "pod", "plain", "-o", "yaml"});
  EXPECT_EQ(Get({"get", "pod", "plain", "-o",
                 "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}"}),
            "DeletionByTaintManager");
  EXPECT_FALSE(BeingDeleted("brief"));
  // The one tolerating it for 8 s goes after that; the one tolerating it forever stays.
  ASSERT_TRUE(Eventually([&] { return BeingDeleted("brief"); }, 30s));
  // Counted on the server's clock, from the NoExecute taint's timeAdded to the DisruptionTarget
  // condition of the eviction (whole seconds each): this test sees both late on a busy machine.
  const std::string tainted =
      Get({"get", "node", "doomed-0", "-o",
           "jsonpath={.spec.taints[?(@.effect==\"NoExecute\")].timeAdded}"});
  const std::string evicted =
      Get({"get", "pod", "brief", "-o",
           "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].lastTransitionTime}"});
  ASSERT_NE(UnixSeconds(tainted), 0) << tainted;
  ASSERT_NE(UnixSeconds(evicted), 0) << evicted;
  EXPECT_GE(UnixSeconds(evicted) - UnixSeconds(tainted), 7) << tainted << " -> " << evicted;
  EXPECT_TRUE(Get({"get", "events", "--field-selector", "reason=TaintManagerEviction"})
                  .find("Marking for deletion Pod default/plain") != std::string::npos)
      << Get({"get", "events"});
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(BeingDeleted("patient"));

  // The living node kept its Ready status and has no taints.
  EXPECT_EQ(Get({"get", "node", "alive-0", "-o",
                 "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"}),
            "True");
  EXPECT_EQ(Get({"get", "node", "alive-0", "-o", "jsonpath={.spec.taints}"}), "");

  // The node is deleted: pod GC force-deletes its pods (the terminating ones and the one still
  // "running") after the 40 s quarantine, at its next 20 s pass.
  MustRun({"delete", "node", "doomed-0"});
  EXPECT_TRUE(Eventually(
      [&] {
        return Get({"get", "pods", "-o", "name"}).empty();
      },
      100s))
      << Get({"get", "pods", "-o", "wide"});
  EXPECT_NE(Get({"get", "events", "--field-selector", "reason=RemovingNode"})
                .find("Node doomed-0 event: Removing Node doomed-0 from Controller"),
            std::string::npos)
      << Get({"get", "events"});
}

// TaintNodesByCondition: `kubectl cordon` gives the node upstream's unschedulable NoSchedule
// taint and `uncordon` takes it away; a Node no kubelet ever posted status for is left alone for
// --node-startup-grace-period from its creation, then gets NodeStatusNeverUpdated conditions and
// the unreachable taint.
TEST_F(NodeLifecycleE2ETest, CordonTaintsAndStartupGracePeriod) {
  StartHollowNodes(alive_, "alive-", "10.128.0.0/16");
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "node", "alive-0", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"}) == "True";
  })) << Get({"get", "nodes"});
  const auto created_at = std::chrono::steady_clock::now();
  MustRun({"apply", "-f",
           server_.WriteFile("silent.yaml",
                             "apiVersion: v1\nkind: Node\nmetadata:\n  name: silent-0\n")});

  // Well within its 15 s of startup grace, and past the 12 s monitor grace, the silent node has
  // no conditions yet.
  std::this_thread::sleep_until(created_at + 13s);
  EXPECT_EQ(Get({"get", "node", "silent-0", "-o", "jsonpath={.status.conditions}"}), "");
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "node", "silent-0", "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"}) == "Unknown";
  })) << Get({"get", "node", "silent-0", "-o", "yaml"});
  EXPECT_GE(std::chrono::steady_clock::now() - created_at, 14s);
  EXPECT_EQ(Get({"get", "node", "silent-0", "-o",
                 "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}"}),
            "NodeStatusNeverUpdated");
  EXPECT_EQ(Get({"get", "node", "silent-0", "-o",
                 "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}"}),
            "Kubelet never posted node status.");
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "node", "silent-0", "-o",
                "jsonpath={.spec.taints[?(@.effect==\"NoSchedule\")].key}"}) ==
           "node.kubernetes.io/unreachable";
  })) << Get({"get", "node", "silent-0", "-o", "yaml"});
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    SCOPED_TRACE(minor);
    MustRun({"cordon", "alive-0"}, minor);
    ASSERT_TRUE(Eventually([&] {
      return Get({"get", "node", "alive-0", "-o", "jsonpath={.spec.taints[*].key}"}) ==
             "node.kubernetes.io/unschedulable";
    })) << Get({"get", "node", "alive-0", "-o", "yaml"});
    EXPECT_EQ(Get({"get", "node", "alive-0", "-o", "jsonpath={.spec.taints[0].effect}"}),
              "NoSchedule");
    EXPECT_FALSE(
        Get({"get", "node", "alive-0", "-o", "jsonpath={.spec.taints[0].timeAdded}"}).empty());
    MustRun({"uncordon", "alive-0"}, minor);
    ASSERT_TRUE(Eventually([&] {
      return Get({"get", "node", "alive-0", "-o", "jsonpath={.spec.taints}"}).empty();
    })) << Get({"get", "node", "alive-0", "-o", "yaml"});
  }
}

}  // namespace
}  // namespace kpp
