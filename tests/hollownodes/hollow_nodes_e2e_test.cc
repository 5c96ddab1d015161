// `kpp hollow-nodes` against a real `kpp server --disable-agent`, checked with the real kubectl:
// nodes register and become Ready, leases renew, pods bound by hand run with an IP, a Never pod
// finishes (Completed), a deleted pod goes away, and SIGTERM leaves the nodes registered.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <thread>

#include "support/kpp_server_fixture.h"
#include "support/subprocess.h"

namespace kpp::testing {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool Eventually(F condition, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return condition();
}

class HollowNodesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  void TearDown() override {
    if (hollow_.running()) {
      hollow_.Signal(SIGKILL);
      (void)hollow_.Wait(10s);
    }
  }

  void StartHollowNodes(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {KppBinary(), "hollow-nodes", "--kubeconfig",
                                     server_.kubeconfig_path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string error;
    ASSERT_TRUE(hollow_.Start(argv, server_.root_dir(), &error)) << error;
  }

  std::string Get(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    return result.exit_code == 0 ? result.out : "";
  }

  std::string PodManifest(const std::string& name, const std::string& node,
                          const std::string& restart_policy) {
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
           "\nspec:\n  nodeName: " + node + "\n  restartPolicy: " + restart_policy +
           "\n  terminationGracePeriodSeconds: 30\n  containers:\n  - name: main\n    image: "
           "nginx:1.27\n";
  }

  KppServer server_;
  Process hollow_;
};

TEST_F(HollowNodesE2ETest, NodesRegisterRenewLeasesAndRunPods) {
  StartHollowNodes({"--count", "3", "--pod-run-time", "3s", "--labels", "zone=z1", "--taints",
                    "dedicated=test:NoSchedule", "--max-termination-grace", "1s"});

  // Three nodes, each Ready, with our labels, taints and pod ranges.
  ASSERT_TRUE(Eventually([&] {
    const std::string out = Get({"get", "nodes", "--no-headers"});
    int ready = 0;
    for (size_t at = 0; (at = out.find(" Ready ", at)) != std::string::npos; ++at)
      ++ready;
    return ready == 3;
  })) << Get({"get", "nodes"})
      << hollow_.Stderr();
  const std::string wide = Get({"get", "nodes", "-o", "wide"});
  EXPECT_NE(wide.find("hollow-0"), std::string::npos) << wide;
  EXPECT_NE(wide.find("hollow-2"), std::string::npos) << wide;
  EXPECT_NE(wide.find("172.16.0.3"), std::string::npos) << wide;
  EXPECT_NE(wide.find("v1.32.0"), std::string::npos) << wide;
  auto node = boost::json::parse(Get({"get", "node", "hollow-1", "-o", "json"})).as_object();
  EXPECT_EQ(node["metadata"].at("labels").at("zone"), "z1");
  EXPECT_EQ(node["metadata"].at("labels").at("kubernetes.io/hostname"), "hollow-1");
  EXPECT_EQ(node["spec"].at("podCIDR"), "10.128.1.0/24");
  EXPECT_EQ(node["spec"].at("taints").at(0).at("key"), "dedicated");
  EXPECT_EQ(node["status"].at("capacity").at("cpu"), "4");
  EXPECT_EQ(node["status"].at("allocatable").at("memory"), "16284Mi");

  // Leases: one per node, held by it, owned by its Node, renewed every 10 s.
  auto lease_json = [&] {
    auto text = Get({"get", "lease", "-n", "kube-node-lease", "hollow-0", "-o", "json"});
    return text.empty() ? boost::json::object() : boost::json::parse(text).as_object();
  };
  ASSERT_TRUE(Eventually([&] { return !lease_json().empty(); }));
  auto lease = lease_json();
  EXPECT_EQ(lease["spec"].at("holderIdentity"), "hollow-0");
  EXPECT_EQ(lease["spec"].at("leaseDurationSeconds"), 40);
  EXPECT_EQ(lease["metadata"].at("ownerReferences").at(0).at("kind"), "Node");
  EXPECT_EQ(lease["metadata"].at("ownerReferences").at(0).at("uid").as_string(),
            Get({"get", "node", "hollow-0", "-o", "jsonpath={.metadata.uid}"}));
  const auto first_renew = lease["spec"].at("renewTime").as_string();
  EXPECT_TRUE(Eventually(
      [&] { return lease_json()["spec"].at("renewTime").as_string() != first_renew; }, 25s))
      << "lease not renewed";

  // A pod bound by hand runs, Ready, with an IP of its node's range.
  ASSERT_EQ(server_
                .Kubectl({"apply", "-f",
                          server_.WriteFile("web.yaml", PodManifest("web", "hollow-1", "Always"))})
                .exit_code,
            0);
  ASSERT_TRUE(Eventually([&] {
    const std::string row = Get({"get", "pod", "web", "--no-headers"});
    return row.find(" 1/1 ") != std::string::npos && row.find(" Running ") != std::string::npos;
  })) << Get({"get", "pod", "web", "-o", "yaml"});
  auto web = boost::json::parse(Get({"get", "pod", "web", "-o", "json"})).as_object();
  EXPECT_EQ(web["status"].at("podIP"), "10.128.1.2");
  EXPECT_EQ(web["status"].at("hostIP"), "172.16.0.2");
  EXPECT_EQ(web["status"].at("containerStatuses").at(0).at("ready"), true);
  EXPECT_TRUE(
      web["status"].at("containerStatuses").at(0).at("state").as_object().contains("running"));

  // The kubelet's events: the node's and the pod's.
  EXPECT_TRUE(Eventually([&] {
    const std::string events = Get({"get", "events", "-o", "wide"});
    return events.find("Started container main") != std::string::npos &&
           events.find("Created container: main") != std::string::npos &&
           events.find("Node hollow-1 status is now: NodeReady") != std::string::npos;
  })) << Get({"get", "events", "-o", "wide"});

  // A Never pod finishes after --pod-run-time: Completed.
  ASSERT_EQ(server_
                .Kubectl({"apply", "-f",
                          server_.WriteFile("job.yaml", PodManifest("once", "hollow-2", "Never"))})
                .exit_code,
            0);
  ASSERT_TRUE(Eventually([&] {
    const std::string row = Get({"get", "pod", "once", "--no-headers"});
    return row.find(" 0/1 ") != std::string::npos && row.find(" Completed ") != std::string::npos;
  })) << Get({"get", "pod", "once", "-o", "yaml"});
  auto once = boost::json::parse(Get({"get", "pod", "once", "-o", "json"})).as_object();
  EXPECT_EQ(once["status"].at("phase"), "Succeeded");
  EXPECT_EQ(
      once["status"].at("containerStatuses").at(0).at("state").at("terminated").at("exitCode"), 0);

  // A deleted pod (30 s grace, capped at 1 s) disappears.
  auto deleted = server_.Kubectl({"delete", "pod", "web", "--wait=true", "--timeout=20s"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Eventually([&] {
    auto result = server_.Kubectl({"get", "pod", "web"});
    return result.exit_code != 0 && result.err.find("NotFound") != std::string::npos;
  }));

  // SIGTERM: a clean exit, the nodes stay registered.
  hollow_.Signal(SIGTERM);
  ASSERT_TRUE(hollow_.Wait(20s)) << hollow_.Stderr();
  EXPECT_EQ(hollow_.exit_code(), 0) << hollow_.Stderr();
  EXPECT_EQ(Get({"get", "nodes", "--no-headers", "-o", "name"}),
            "node/hollow-0\nnode/hollow-1\nnode/hollow-2\n");
}

TEST_F(HollowNodesE2ETest, RestartTakesTheNodesOverAgain) {
  StartHollowNodes({"--count", "2", "--node-status-report-frequency", "2s"});
  ASSERT_TRUE(Eventually([&] {
    return Get({"get", "lease", "-n", "kube-node-lease", "-o", "name"}) ==
           "lease.coordination.k8s.io/hollow-0\nlease.coordination.k8s.io/hollow-1\n";
  }));
  hollow_.Signal(SIGTERM);
  ASSERT_TRUE(hollow_.Wait(20s));
  StartHollowNodes({"--count", "2", "--node-status-report-frequency", "2s"});
  // The second process finds both nodes and leases and keeps them, without errors.
  const std::string before = Get(
      {"get", "lease", "-n", "kube-node-lease", "hollow-1", "-o", "jsonpath={.spec.renewTime}"});
  EXPECT_TRUE(Eventually(
      [&] {
        return Get({"get", "lease", "-n", "kube-node-lease", "hollow-1", "-o",
                    "jsonpath={.spec.renewTime}"}) != before;
      },
      25s));
  EXPECT_TRUE(Eventually([&] {
    return hollow_.Stderr().find("All 2 hollow nodes registered") != std::string::npos;
  })) << hollow_.Stderr();
  EXPECT_EQ(hollow_.Stderr().find("Unable to register"), std::string::npos) << hollow_.Stderr();

  // The status is reported again when its report is due: heartbeat times move, the Ready
  // condition's transition time does not.
  const std::string ready = "jsonpath={.status.conditions[?(@.type==\"Ready\")]}";
  auto condition = boost::json::parse(Get({"get", "node", "hollow-0", "-o", ready})).as_object();
  EXPECT_TRUE(Eventually(
      [&] {
        auto now = boost::json::parse(Get({"get", "node", "hollow-0", "-o", ready})).as_object();
        return now["lastHeartbeatTime"] != condition["lastHeartbeatTime"] &&
               now["lastTransitionTime"] == condition["lastTransitionTime"] &&
               now["status"] == "True";
      },
      15s))
      << Get({"get", "node", "hollow-0", "-o", "yaml"});
}

TEST_F(HollowNodesE2ETest, BadFlagsAreRefused) {
  auto result = RunProcess({KppBinary(), "hollow-nodes", "--kubeconfig", server_.kubeconfig_path(),
                            "--taints", "a=b:Sometimes"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("effect must be NoSchedule"), std::string::npos) << result.err;
  result = RunProcess({KppBinary(), "hollow-nodes", "--kubeconfig", server_.kubeconfig_path(),
                       "--count", "5", "--pod-cidr-base", "10.0.0.0/23"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("holds 2 /24 ranges, not 5"), std::string::npos) << result.err;
  result = RunProcess({KppBinary(), "hollow-nodes", "--kubeconfig", server_.kubeconfig_path(),
                       "--pod-cpu-usage", "lots"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("invalid --pod-cpu-usage \"lots\""), std::string::npos) << result.err;
}

}  // namespace
}  // namespace kpp::testing
