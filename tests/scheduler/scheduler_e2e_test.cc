// The scheduler against a real `kpp server --disable-agent` (which runs it as a client of its
// API server) with Node objects created through the API: taints and tolerations, nodeSelector
// and affinity, insufficient cpu (Pending with FailedScheduling, then placed once a node is
// added), a second scheduler by name (`kpp scheduler`), /healthz and /metrics, and an invalid
// configuration file refused at start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <thread>

#include "api/core/v1/codec.h"
#include "api/scheduling.k8s.io/v1/codec.h"
#include "client/rest/config.h"
#include "client/rest/resource.h"
#include "client/rest/rest_client.h"
#include "support/kpp_server_fixture.h"
#include "support/subprocess.h"

namespace kpp::client {
namespace {

using namespace std::chrono_literals;
using api::core::v1::Node;
using api::core::v1::Pod;
using testing::KppServer;

template <typename F>
bool Eventually(F condition, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

class SchedulerE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start({"--disable-agent"}));
    auto config = rest::LoadKubeconfig(server_.kubeconfig_path());
    ASSERT_TRUE(config.ok()) << config.error().message();
    config->qps = 100;
    config->burst = 200;
    auto client = rest::RestClient::Create(*config);
    ASSERT_TRUE(client.ok());
    client_ = *client;
  }

  void CreateNode(const std::string& name, const std::string& cpu,
                  std::map<std::string, std::string> labels = {},
                  std::vector<api::core::v1::Taint> taints = {}) {
    Node node;
    node.metadata.name = name;
    node.metadata.labels = std::move(labels);
    node.spec.taints = std::move(taints);
    node.status.capacity = {{"cpu", {cpu}}, {"memory", {"16Gi"}}, {"pods", {"110"}}};
    node.status.allocatable = node.status.capacity;
    TypedResource<Node> nodes(client_);
    auto created = nodes.Create(node);
    ASSERT_TRUE(created.ok()) << created.error().message();
    if (created->status.allocatable.empty()) {
      created->status = node.status;
      auto updated = nodes.UpdateStatus(*created);
      ASSERT_TRUE(updated.ok()) << updated.error().message();
    }
  }

  void CreatePod(Pod pod) {
    if (pod.spec.containers.empty()) {
      api::core::v1::Container container;
      container.name = "c";
      container.image = "registry.k8s.io/pause:3.10";
      pod.spec.containers.push_back(container);
    }
    TypedResource<Pod> pods(client_, "default");
    auto created = pods.Create(pod);
    ASSERT_TRUE(created.ok()) << created.error().message();
  }

  static Pod MakePod(const std::string& name, const std::string& cpu = "") {
    Pod pod;
    pod.metadata.name = name;
    api::core::v1::Container container;
    container.name = "c";
    container.image = "registry.k8s.io/pause:3.10";
    if (!cpu.empty()) container.resources.requests["cpu"] = {cpu};
    pod.spec.containers.push_back(container);
    return pod;
  }

  std::string NodeOf(const std::string& pod_name) {
    TypedResource<Pod> pods(client_, "default");
    auto pod = pods.Get(pod_name);
    return pod.ok() ? pod->spec.node_name : "";
  }

  // The messages of the pod's events with `reason`.
  std::vector<std::string> EventMessages(const std::string& pod_name, const std::string& reason) {
    TypedResource<api::core::v1::Event> events(client_, "default");
    auto list = events.List();
    std::vector<std::string> out;
    if (!list.ok()) return out;
    for (const auto& event : list->items) {
      if (event.involved_object.name == pod_name && event.reason == reason) {
        out.push_back(event.message);
      }
    }
    return out;
  }

  KppServer server_;
  std::shared_ptr<rest::RestClient> client_;
};

TEST_F(SchedulerE2ETest, TaintsSelectorsAffinityAndInsufficientCpu) {
  api::core::v1::Taint taint;
  taint.key = "dedicated";
  taint.value = "gpu";
  taint.effect = "NoSchedule";
  CreateNode("tainted", "8", {{"kubernetes.io/hostname", "tainted"}}, {taint});
  CreateNode("ssd", "2", {{"disk", "ssd"}});
  CreateNode("small", "1");

  Pod selected = MakePod("selected");
  selected.spec.node_selector["disk"] = "ssd";
  CreatePod(selected);
  EXPECT_TRUE(Eventually([&] { return NodeOf("selected") == "ssd"; })) << server_.Logs();

  Pod tolerating = MakePod("tolerating");
  api::core::v1::Toleration toleration;
  toleration.key = "dedicated";
  toleration.operator_ = "Equal";
  toleration.value = "gpu";
  toleration.effect = "NoSchedule";
  tolerating.spec.tolerations.push_back(toleration);
  api::core::v1::NodeSelectorTerm term;
  term.match_expressions.push_back({"kubernetes.io/hostname", "In", {"tainted"}});
  tolerating.spec.affinity.emplace()
      .node_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.emplace()
      .node_selector_terms.push_back(term);
  CreatePod(tolerating);
  EXPECT_TRUE(Eventually([&] { return NodeOf("tolerating") == "tainted"; }));
  EXPECT_TRUE(Eventually([&] { return !EventMessages("tolerating", "Scheduled").empty(); }));
  EXPECT_EQ(EventMessages("tolerating", "Scheduled").front(),
            "Successfully assigned default/tolerating to tainted");

  // 4 cpu fit nowhere: the tainted node repels, the others are too small.
  CreatePod(MakePod("big", "4"));
  // No pod of lower priority runs anywhere, so preemption cannot help either.
  const std::string wanted =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 "
      "Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
      "scheduling, 2 No preemption victims found for incoming pod..";
  EXPECT_TRUE(Eventually([&] {
    auto messages = EventMessages("big", "FailedScheduling");
    return !messages.empty() && messages.front() == wanted;
  })) << (EventMessages("big", "FailedScheduling").empty()
              ? "no event"
              : EventMessages("big", "FailedScheduling").front());
  TypedResource<Pod> pods(client_, "default");
  EXPECT_TRUE(Eventually([&] {
    auto pod = pods.Get("big");
    if (!pod.ok()) return false;
    for (const auto& condition : pod->status.conditions) {
      if (condition.type == "PodScheduled" && condition.status == "False" &&
          condition.reason == "Unschedulable" && condition.message == wanted) {
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(NodeOf("big"), "");

  // A node with room arrives: the pod moves out of the unschedulable queue and is placed.
  CreateNode("large", "16");
  EXPECT_TRUE(Eventually([&] { return NodeOf("big") == "large"; })) << server_.Logs();
}

TEST_F(SchedulerE2ETest, AntiAffinityAndTopologySpreadAcrossZones) {
  for (const auto& [name, zone] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "a"}, {"a2", "a"}, {"b1", "b"}, {"c1", "c"}}) {
    CreateNode(name, "4",
               {{"topology.kubernetes.io/zone", zone}, {"kubernetes.io/hostname", name}});
  }
  // Three replicas, at most one per zone apart (maxSkew 1) and never two on one node.
  for (int i = 0; i < 3; ++i) {
    Pod pod = MakePod("web-" + std::to_string(i));
    pod.metadata.labels["app"] = "web";
    api::core::v1::TopologySpreadConstraint spread;
    spread.max_skew = 1;
    spread.topology_key = "topology.kubernetes.io/zone";
    spread.when_unsatisfiable = "DoNotSchedule";
    spread.label_selector.emplace().match_labels["app"] = "web";
    pod.spec.topology_spread_constraints.push_back(spread);
    api::core::v1::PodAffinityTerm apart;
    apart.label_selector.emplace().match_labels["app"] = "web";
    apart.topology_key = "kubernetes.io/hostname";
    pod.spec.affinity.emplace()
        .pod_anti_affinity.emplace()
        .required_during_scheduling_ignored_during_execution.push_back(apart);
    CreatePod(pod);
    // One at a time, so that each sees the ones before it bound.
    ASSERT_TRUE(Eventually([&] { return !NodeOf("web-" + std::to_string(i)).empty(); }));
  }
  std::set<std::string> zones;
  for (int i = 0; i < 3; ++i)
    zones.insert(NodeOf("web-" + std::to_string(i)).substr(0, 1));
  EXPECT_EQ(zones, (std::set<std::string>{"a", "b", "c"}));

  // A fourth replica must not share a node: only a2 is left, in zone a (skew 2-1 = 1).
  Pod fourth = MakePod("web-3");
  fourth.metadata.labels["app"] = "web";
  api::core::v1::PodAffinityTerm apart;
  apart.label_selector.emplace().match_labels["app"] = "web";
  apart.topology_key = "kubernetes.io/hostname";
  fourth.spec.affinity.emplace()
      .pod_anti_affinity.emplace()
      .required_during_scheduling_ignored_during_execution.push_back(apart);
  CreatePod(fourth);
  EXPECT_TRUE(Eventually([&] { return !NodeOf("web-3").empty(); }));
  const std::string fourth_node = NodeOf("web-3");
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(NodeOf("web-" + std::to_string(i)), fourth_node);
}

TEST_F(SchedulerE2ETest, HigherPriorityPodPreemptsALowerOne) {
  TypedResource<api::scheduling_k8s_io::v1::PriorityClass> classes(client_);
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, int32_t>>{{"low", 10}, {"high", 1000}}) {
    api::scheduling_k8s_io::v1::PriorityClass pc;
    pc.metadata.name = name;
    pc.value = value;
    auto created = classes.Create(pc);
    ASSERT_TRUE(created.ok()) << created.error().message();
  }
  CreateNode("only", "2");
  Pod low = MakePod("low", "2");
  low.spec.priority_class_name = "low";
  low.spec.priority = 10;
  CreatePod(low);
  EXPECT_TRUE(Eventually([&] { return NodeOf("low") == "only"; }));
  Pod high = MakePod("high", "2");
  high.spec.priority_class_name = "high";
  high.spec.priority = 1000;
  CreatePod(high);
  // The low pod is deleted gracefully and the node nominated for the high one.
  EXPECT_TRUE(Eventually([&] { return !EventMessages("low", "Preempted").empty(); }));
  TypedResource<Pod> pods(client_, "default");
  EXPECT_TRUE(Eventually([&] {
    auto pod = pods.Get("high");
    return pod.ok() && pod->status.nominated_node_name == "only";
  }));
  auto victim = pods.Get("low");
  ASSERT_TRUE(victim.ok());
  EXPECT_TRUE(victim->metadata.deletion_timestamp.has_value());
  bool disruption_target = false;
  for (const auto& condition : victim->status.conditions) {
    disruption_target |=
        condition.type == "DisruptionTarget" && condition.reason == "PreemptionByScheduler";
  }
  EXPECT_TRUE(disruption_target);
  // No kubelet here: finish the deletion as it would, then the high pod takes the room.
  DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(pods.Delete("low", now).ok());
  EXPECT_TRUE(Eventually([&] { return NodeOf("high") == "only"; })) << server_.Logs();
}

TEST_F(SchedulerE2ETest, TwoSchedulersByNameAndTheirEndpoints) {
  CreateNode("node-a", "4");
  Pod other = MakePod("for-other");
  other.spec.scheduler_name = "other-scheduler";
  CreatePod(other);
  Pod mine = MakePod("for-default");
  CreatePod(mine);
  EXPECT_TRUE(Eventually([&] { return NodeOf("for-default") == "node-a"; }));
  // The built-in scheduler leaves pods for other schedulers alone.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(NodeOf("for-other"), "");
  EXPECT_TRUE(EventMessages("for-other", "FailedScheduling").empty());

  const std::string config = server_.WriteFile("other.yaml", R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  resourceName: other-scheduler
profiles:
- schedulerName: other-scheduler
)");
  // The port is chosen here, so that the test can ask it; another process may take it first,
  // so a start that loses that race is retried on another.
  int port = 0;
  std::unique_ptr<testing::Process> started;
  for (int attempt = 0; attempt < 5 && started == nullptr; ++attempt) {
    port = testing::FreeLoopbackPort();
    auto scheduler = std::make_unique<testing::Process>();
    std::string error;
    ASSERT_TRUE(scheduler->Start(
        {testing::KppBinary(), "scheduler", "--kubeconfig", server_.kubeconfig_path(), "--config",
         config, "--bind-address", "127.0.0.1", "--secure-port", std::to_string(port)},
        server_.root_dir(), &error))
        << error;
    if (!scheduler->Wait(1s) ||
        scheduler->Stderr().find("Address already in use") == std::string::npos) {
      started = std::move(scheduler);
    }
  }
  ASSERT_NE(started, nullptr);
  testing::Process& scheduler = *started;
  EXPECT_TRUE(Eventually([&] { return NodeOf("for-other") == "node-a"; }))
      << scheduler.Stderr() << scheduler.Stdout();
  // The lease it campaigned for names it.
  auto lease = DynamicResource(client_, *FindKind("coordination.k8s.io/v1", "Lease"), "kube-system")
                   .Get("other-scheduler");
  ASSERT_TRUE(lease.ok()) << lease.error().message();

  auto healthz = testing::RunProcess(
      {"curl", "-sk", "https://127.0.0.1:" + std::to_string(port) + "/healthz"});
  EXPECT_EQ(healthz.out, "ok");
  auto metrics = testing::RunProcess(
      {"curl", "-sk", "https://127.0.0.1:" + std::to_string(port) + "/metrics"});
  EXPECT_NE(
      metrics.out.find(
          "scheduler_schedule_attempts_total{profile=\"other-scheduler\",result=\"scheduled\"} 1"),
      std::string::npos)
      << metrics.out;
  EXPECT_NE(metrics.out.find("scheduler_pending_pods{queue=\"unschedulable\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.out.find("scheduler_pod_scheduling_sli_duration_seconds_bucket"),
            std::string::npos);
  scheduler.Signal(SIGTERM);
  EXPECT_TRUE(scheduler.Wait(20s));
  EXPECT_EQ(scheduler.exit_code(), 0) << scheduler.Stderr();
}

TEST_F(SchedulerE2ETest, InvalidConfigurationIsRefusedAtStart) {
  const std::string config = server_.WriteFile("bad.yaml", R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: x
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: Biggest
)");
  auto result =
      testing::RunProcess({testing::KppBinary(), "scheduler", "--kubeconfig",
                           server_.kubeconfig_path(), "--config", config, "--secure-port", "0"},
                          20s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("scoringStrategy.type: Unsupported value: \"Biggest\""),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace kpp::client
