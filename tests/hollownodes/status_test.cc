// What a hollow node writes: its Node, Lease and the statuses of the pods it runs, built without
// a server (table-driven where the cases differ only in input).
#include "hollownodes/status.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "api/core/v1/codec.h"

namespace kpp::hollownodes {
namespace {

namespace v1 = api::core::v1;

const api::Time kStart = api::Time::FromUnixSeconds(1'700'000'000);
const api::Time kLater = api::Time::FromUnixSeconds(1'700'000'060);

const v1::NodeCondition* FindCondition(const std::vector<v1::NodeCondition>& conditions,
                                       const std::string& type) {
  for (const auto& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

const v1::PodCondition* FindCondition(const std::vector<v1::PodCondition>& conditions,
                                      const std::string& type) {
  for (const auto& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

TEST(HollowNodePlanTest, NamesAddressesAndPodRanges) {
  NodeTemplate node_template;
  node_template.name_prefix = "hn-";
  auto plan = PlanNodes(node_template, 300);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->size(), 300u);
  EXPECT_EQ((*plan)[0].name, "hn-0");
  EXPECT_EQ((*plan)[0].internal_ip, "172.16.0.1");
  EXPECT_EQ((*plan)[0].pod_cidr.ToString(), "10.128.0.0/24");
  EXPECT_EQ((*plan)[299].name, "hn-299");
  EXPECT_EQ((*plan)[299].internal_ip, "172.16.1.44");
  EXPECT_EQ((*plan)[299].pod_cidr.ToString(), "10.129.43.0/24");
}

TEST(HollowNodePlanTest, RefusesWhatCannotWork) {
  struct Case {
    const char* name;
    void (*change)(NodeTemplate&);
    int count;
    const char* message_part;
  };
  const Case cases[] = {
      {"bad cpu", [](NodeTemplate& t) { t.cpu = "four"; }, 1, "--cpu \"four\""},
      {"negative memory", [](NodeTemplate& t) { t.memory = "-1Gi"; }, 1, "--memory"},
      {"bad cidr", [](NodeTemplate& t) { t.pod_cidr_base = "10.0.0.0"; }, 1, "not an IPv4 CIDR"},
      {"too few ranges", [](NodeTemplate& t) { t.pod_cidr_base = "10.0.0.0/22"; }, 5,
       "holds 4 /24 ranges, not 5"},
      {"range wider than base", [](NodeTemplate& t) { t.node_cidr_prefix = 8; }, 1, "does not fit"},
      {"bad name", [](NodeTemplate& t) { t.name_prefix = "Hollow_"; }, 1, "node name"},
  };
  for (const auto& test_case : cases) {
    NodeTemplate node_template;
    test_case.change(node_template);
    auto plan = PlanNodes(node_template, test_case.count);
    ASSERT_FALSE(plan.ok()) << test_case.name;
    EXPECT_NE(plan.error().message().find(test_case.message_part), std::string::npos)
        << test_case.name << ": " << plan.error().message();
  }
}

TEST(HollowNodeFlagsTest, LabelsAndTaints) {
  auto labels = ParseLabels("zone=a,topology.kubernetes.io/region=r1");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->at("zone"), "a");
  EXPECT_EQ(labels->at("topology.kubernetes.io/region"), "r1");
  EXPECT_FALSE(ParseLabels("novalue").ok());
  EXPECT_FALSE(ParseLabels("bad key=v").ok());

  auto taints = ParseTaints("dedicated=gpu:NoSchedule,spot:PreferNoSchedule");
  ASSERT_TRUE(taints.ok()) << taints.error().message();
  ASSERT_EQ(taints->size(), 2u);
  EXPECT_EQ((*taints)[0].key, "dedicated");
  EXPECT_EQ((*taints)[0].value, "gpu");
  EXPECT_EQ((*taints)[0].effect, "NoSchedule");
  EXPECT_EQ((*taints)[1].key, "spot");
  EXPECT_EQ((*taints)[1].value, "");
  EXPECT_EQ((*taints)[1].effect, "PreferNoSchedule");
  EXPECT_FALSE(ParseTaints("a=b").ok());
  EXPECT_FALSE(ParseTaints("a=b:Sometimes").ok());
}

TEST(HollowNodeTest, RegistersAsTheKubeletDoes) {
  NodeTemplate node_template;
  node_template.cpu = "8";
  node_template.memory = "32Gi";
  node_template.labels = {{"zone", "z1"}};
  node_template.taints = *ParseTaints("dedicated=gpu:NoSchedule");
  node_template.kernel_version = "6.1.0";
  auto plan = PlanNodes(node_template, 2);
  ASSERT_TRUE(plan.ok());
  auto node = BuildNode(node_template, (*plan)[1], kStart);
  ASSERT_TRUE(node.ok()) << node.error().message();

  EXPECT_EQ(node->metadata.name, "hollow-1");
  EXPECT_EQ(node->metadata.labels.at("kubernetes.io/hostname"), "hollow-1");
  EXPECT_EQ(node->metadata.labels.at("kubernetes.io/os"), "linux");
  EXPECT_EQ(node->metadata.labels.at("kubernetes.io/arch"), "amd64");
  EXPECT_EQ(node->metadata.labels.at("zone"), "z1");
  EXPECT_EQ(node->spec.pod_cidr, "10.128.1.0/24");
  EXPECT_EQ(node->spec.pod_cidrs, std::vector<std::string>{"10.128.1.0/24"});
  ASSERT_EQ(node->spec.taints.size(), 1u);
  EXPECT_EQ(node->spec.taints[0].key, "dedicated");

  struct Resource {
    const char* name;
    const char* capacity;
    const char* allocatable;
  };
  const Resource resources[] = {
      {"cpu", "8", "8"},
      {"memory", "32Gi", "32668Mi"},  // less the 100Mi eviction threshold
      {"pods", "110", "110"},
      {"ephemeral-storage", "100Gi", "96636764160"},  // less 10%
      {"hugepages-1Gi", "0", "0"},
      {"hugepages-2Mi", "0", "0"},
  };
  for (const auto& resource : resources) {
    EXPECT_EQ(node->status.capacity.at(resource.name).text, resource.capacity) << resource.name;
    EXPECT_EQ(node->status.allocatable.at(resource.name).text, resource.allocatable)
        << resource.name;
  }
  ASSERT_EQ(node->status.addresses.size(), 2u);
  EXPECT_EQ(node->status.addresses[0].type, "InternalIP");
  EXPECT_EQ(node->status.addresses[0].address, "172.16.0.2");
  EXPECT_EQ(node->status.addresses[1].type, "Hostname");
  EXPECT_EQ(node->status.addresses[1].address, "hollow-1");
  EXPECT_EQ(node->status.daemon_endpoints.kubelet_endpoint.port, 10250);
  const auto& info = node->status.node_info;
  EXPECT_EQ(info.kubelet_version, "v1.32.0+kpp.0.1.0");
  EXPECT_EQ(info.operating_system, "linux");
  EXPECT_EQ(info.architecture, "amd64");
  EXPECT_EQ(info.kernel_version, "6.1.0");
  EXPECT_EQ(info.machine_id.size(), 32u);
  EXPECT_EQ(info.system_uuid.size(), 36u);
  EXPECT_FALSE(info.container_runtime_version.empty());
  // Stable per node, different between nodes.
  EXPECT_EQ(BuildNode(node_template, (*plan)[1], kLater)->status.node_info, info);
  EXPECT_NE(BuildNode(node_template, (*plan)[0], kStart)->status.node_info.boot_id, info.boot_id);

  struct Expected {
    const char* type;
    const char* status;
    const char* reason;
    const char* message;
  };
  const Expected conditions[] = {
      {"MemoryPressure", "False", "KubeletHasSufficientMemory",
       "kubelet has sufficient memory available"},
      {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
      {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
      {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
  };
  ASSERT_EQ(node->status.conditions.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const auto& condition = node->status.conditions[i];
    EXPECT_EQ(condition.type, conditions[i].type);
    EXPECT_EQ(condition.status, conditions[i].status) << condition.type;
    EXPECT_EQ(condition.reason, conditions[i].reason) << condition.type;
    EXPECT_EQ(condition.message, conditions[i].message) << condition.type;
    EXPECT_EQ(condition.last_heartbeat_time, kStart);
    EXPECT_EQ(condition.last_transition_time, kStart);
  }
}

TEST(HollowNodeTest, HeartbeatKeepsTransitionTimes) {
  auto first = HealthyNodeConditions(kStart);
  auto again = HealthyNodeConditions(kLater, first);
  for (const auto& condition : again) {
    EXPECT_EQ(condition.last_heartbeat_time, kLater) << condition.type;
    EXPECT_EQ(condition.last_transition_time, kStart) << condition.type;
  }
  // A condition that changed status moves its transition time.
  auto not_ready = first;
  for (auto& condition : not_ready) {
    if (condition.type == "Ready") condition.status = "False";
  }
  auto recovered = HealthyNodeConditions(kLater, not_ready);
  EXPECT_EQ(FindCondition(recovered, "Ready")->last_transition_time, kLater);
  EXPECT_EQ(FindCondition(recovered, "MemoryPressure")->last_transition_time, kStart);
}

TEST(HollowNodeTest, LeaseAsTheKubeletWritesIt) {
  const auto now = api::MicroTime::FromUnixMicros(1'700'000'000'123'456);
  auto lease = BuildLease("hollow-3", "uid-3", now);
  EXPECT_EQ(lease.metadata.name, "hollow-3");
  EXPECT_EQ(lease.metadata.namespace_, "kube-node-lease");
  ASSERT_EQ(lease.metadata.owner_references.size(), 1u);
  const auto& owner = lease.metadata.owner_references[0];
  EXPECT_EQ(owner.api_version, "v1");
  EXPECT_EQ(owner.kind, "Node");
  EXPECT_EQ(owner.name, "hollow-3");
  EXPECT_EQ(owner.uid, "uid-3");
  EXPECT_EQ(lease.spec.holder_identity, "hollow-3");
  EXPECT_EQ(lease.spec.lease_duration_seconds, 40);
  EXPECT_EQ(lease.spec.renew_time, now);
  EXPECT_TRUE(BuildLease("hollow-3", "", now).metadata.owner_references.empty());
}

v1::Pod PodWith(const std::string& restart_policy, int init_containers, bool sidecar = false) {
  v1::Pod pod;
  pod.metadata.name = "p";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "pod-uid";
  pod.spec.node_name = "hollow-0";
  pod.spec.restart_policy = restart_policy;
  for (int i = 0; i < init_containers; ++i) {
    v1::Container init;
    init.name = "init" + std::to_string(i);
    init.image = "busybox:1.36";
    if (sidecar && i == 0) init.restart_policy = "Always";
    pod.spec.init_containers.push_back(init);
  }
  v1::Container main;
  main.name = "main";
  main.image = "registry.k8s.io/pause:3.10";
  pod.spec.containers.push_back(main);
  pod.status.phase = "Pending";
  pod.status.qos_class = "BestEffort";
  v1::PodCondition scheduled;
  scheduled.type = "PodScheduled";
  scheduled.status = "True";
  scheduled.last_transition_time = kStart;
  pod.status.conditions.push_back(scheduled);
  return pod;
}

TEST(HollowPodTest, RunningAndReady) {
  struct Case {
    const char* name;
    v1::Pod pod;
    std::vector<std::pair<std::string, std::string>> init_states;  // name -> state
  };
  const Case cases[] = {
      {"one container", PodWith("Always", 0), {}},
      {"init containers completed",
       PodWith("Never", 2),
       {{"init0", "terminated"}, {"init1", "terminated"}}},
      {"sidecar keeps running",
       PodWith("OnFailure", 2, true),
       {{"init0", "running"}, {"init1", "terminated"}}},
  };
  for (const auto& test_case : cases) {
    SCOPED_TRACE(test_case.name);
    auto status = BuildRunningPodStatus(test_case.pod, "172.16.0.1", "10.128.0.2", kLater, kLater);
    EXPECT_EQ(status.phase, "Running");
    EXPECT_EQ(status.host_ip, "172.16.0.1");
    ASSERT_EQ(status.host_ips.size(), 1u);
    EXPECT_EQ(status.host_ips[0].ip, "172.16.0.1");
    EXPECT_EQ(status.pod_ip, "10.128.0.2");
    ASSERT_EQ(status.pod_ips.size(), 1u);
    EXPECT_EQ(status.pod_ips[0].ip, "10.128.0.2");
    EXPECT_EQ(status.start_time, kLater);
    EXPECT_EQ(status.qos_class, "BestEffort");  // the API server's, kept
    const char* order[] = {"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                           "PodScheduled"};
    ASSERT_EQ(status.conditions.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(status.conditions[i].type, order[i]);
      EXPECT_EQ(status.conditions[i].status, "True") << order[i];
    }
    // PodScheduled was True already: its transition time stays.
    EXPECT_EQ(FindCondition(status.conditions, "PodScheduled")->last_transition_time, kStart);
    EXPECT_EQ(FindCondition(status.conditions, "Ready")->last_transition_time, kLater);
    ASSERT_EQ(status.container_statuses.size(), 1u);
    const auto& main = status.container_statuses[0];
    EXPECT_EQ(main.name, "main");
    EXPECT_TRUE(main.ready);
    EXPECT_EQ(main.started, std::optional<bool>(true));
    ASSERT_TRUE(main.state.running.has_value());
    EXPECT_EQ(main.state.running->started_at, kLater);
    EXPECT_EQ(main.image, "registry.k8s.io/pause:3.10");
    EXPECT_EQ(main.image_id.rfind("registry.k8s.io/pause@sha256:", 0), 0u) << main.image_id;
    EXPECT_EQ(main.container_id.rfind("containerd://", 0), 0u);
    EXPECT_EQ(main.container_id.size(), std::string("containerd://").size() + 64);
    ASSERT_EQ(status.init_container_statuses.size(), test_case.init_states.size());
    for (size_t i = 0; i < test_case.init_states.size(); ++i) {
      const auto& init = status.init_container_statuses[i];
      EXPECT_EQ(init.name, test_case.init_states[i].first);
      EXPECT_EQ(init.image_id.rfind("docker.io/library/busybox@sha256:", 0), 0u);
      if (test_case.init_states[i].second == "running") {
        EXPECT_TRUE(init.state.running.has_value());
        EXPECT_EQ(init.started, std::optional<bool>(true));
      } else {
        ASSERT_TRUE(init.state.terminated.has_value());
        EXPECT_EQ(init.state.terminated->exit_code, 0);
        EXPECT_EQ(init.state.terminated->reason, "Completed");
        EXPECT_EQ(init.state.terminated->container_id, init.container_id);
      }
      EXPECT_TRUE(init.ready);
    }
  }
}

TEST(HollowPodTest, ReadinessGatesTheKubeletDoesNotOwn) {
  v1::Pod pod = PodWith("Always", 0);
  pod.spec.readiness_gates.push_back(v1::PodReadinessGate{"example.com/ready"});
  auto status = BuildRunningPodStatus(pod, "172.16.0.1", "10.128.0.2", kLater, kLater);
  EXPECT_EQ(FindCondition(status.conditions, "Ready")->status, "False");
  EXPECT_EQ(FindCondition(status.conditions, "Ready")->reason, "ReadinessGatesNotReady");

  v1::PodCondition gate;
  gate.type = "example.com/ready";
  gate.status = "True";
  pod.status.conditions.push_back(gate);
  status = BuildRunningPodStatus(pod, "172.16.0.1", "10.128.0.2", kLater, kLater);
  EXPECT_EQ(FindCondition(status.conditions, "Ready")->status, "True");
  ASSERT_NE(FindCondition(status.conditions, "example.com/ready"), nullptr);
}

TEST(HollowPodTest, SucceededAfterItsRunTime) {
  v1::Pod pod = PodWith("Never", 1);
  pod.status = BuildRunningPodStatus(pod, "172.16.0.1", "10.128.0.2", kStart, kStart);
  auto status = BuildSucceededPodStatus(pod, kLater);
  EXPECT_EQ(status.phase, "Succeeded");
  EXPECT_EQ(status.start_time, kStart);
  EXPECT_EQ(status.pod_ip, "10.128.0.2");
  ASSERT_EQ(status.container_statuses.size(), 1u);
  const auto& main = status.container_statuses[0];
  EXPECT_FALSE(main.ready);
  EXPECT_EQ(main.started, std::optional<bool>(false));
  ASSERT_TRUE(main.state.terminated.has_value());
  EXPECT_EQ(main.state.terminated->exit_code, 0);
  EXPECT_EQ(main.state.terminated->reason, "Completed");
  EXPECT_EQ(main.state.terminated->started_at, kStart);
  EXPECT_EQ(main.state.terminated->finished_at, kLater);
  struct Expected {
    const char* type;
    const char* status;
    const char* reason;
  };
  const Expected conditions[] = {{"PodReadyToStartContainers", "False", ""},
                                 {"Initialized", "True", "PodCompleted"},
                                 {"Ready", "False", "PodCompleted"},
                                 {"ContainersReady", "False", "PodCompleted"},
                                 {"PodScheduled", "True", ""}};
  for (const auto& expected : conditions) {
    const auto* condition = FindCondition(status.conditions, expected.type);
    ASSERT_NE(condition, nullptr) << expected.type;
    EXPECT_EQ(condition->status, expected.status) << expected.type;
    EXPECT_EQ(condition->reason, expected.reason) << expected.type;
  }
  EXPECT_EQ(FindCondition(status.conditions, "Initialized")->last_transition_time, kStart);
  EXPECT_EQ(FindCondition(status.conditions, "Ready")->last_transition_time, kLater);
}

TEST(HollowPodTest, ImageIds) {
  struct Case {
    const char* image;
    const char* repository;
  };
  const Case cases[] = {
      {"nginx", "docker.io/library/nginx"},
      {"nginx:1.27", "docker.io/library/nginx"},
      {"bitnami/redis:7", "docker.io/bitnami/redis"},
      {"localhost:5000/app:v1", "localhost:5000/app"},
      {"registry.k8s.io/pause:3.10", "registry.k8s.io/pause"},
      {"quay.io/a/b@sha256:abc", "quay.io/a/b"},
  };
  std::map<std::string, std::string> ids;
  for (const auto& test_case : cases) {
    const std::string id = FakeImageId(test_case.image);
    EXPECT_EQ(id.substr(0, id.find('@')), test_case.repository) << test_case.image;
    EXPECT_EQ(id.size() - id.find('@'), std::string("@sha256:").size() + 64) << test_case.image;
    ids[test_case.image] = id;
  }
  // Each thread remembers its last answer: asked again, in any order, each image gets its own.
  for (auto it = std::rbegin(cases); it != std::rend(cases); ++it) {
    EXPECT_EQ(FakeImageId(it->image), ids[it->image]) << it->image;
    EXPECT_EQ(FakeImageId(it->image), ids[it->image]) << it->image;
  }
  EXPECT_NE(FakeImageId(""), FakeImageId("nginx"));
}

TEST(HollowPodTest, TrimKeepsWhatTheNodeReads) {
  v1::Pod pod = PodWith("OnFailure", 1, /*sidecar=*/true);
  pod.metadata.resource_version = "42";
  pod.metadata.labels = {{"app", "web"}};
  pod.metadata.annotations = {{"big", std::string(4096, 'x')}, {"kpp.dev/hollow-cpu-usage", "10m"}};
  pod.metadata.deletion_timestamp = kLater;
  pod.metadata.deletion_grace_period_seconds = 30;
  pod.spec.host_network = true;
  pod.spec.containers[0].args = {"--serve"};
  pod.spec.containers[0].env.push_back(v1::EnvVar{"A", "1", std::nullopt});
  pod.spec.readiness_gates.push_back(v1::PodReadinessGate{"example.com/ready"});
  const v1::Pod trimmed = TrimPod(pod);
  EXPECT_EQ(trimmed.metadata.name, "p");
  EXPECT_EQ(trimmed.metadata.namespace_, "default");
  EXPECT_EQ(trimmed.metadata.uid, "pod-uid");
  EXPECT_EQ(trimmed.metadata.resource_version, "42");
  EXPECT_EQ(trimmed.metadata.deletion_timestamp, kLater);
  EXPECT_EQ(trimmed.metadata.deletion_grace_period_seconds, 30);
  // Labels and the usage annotations go into the usage report; nothing else of metadata.
  EXPECT_EQ(trimmed.metadata.labels, pod.metadata.labels);
  EXPECT_EQ(trimmed.metadata.annotations,
            (std::map<std::string, std::string>{{"kpp.dev/hollow-cpu-usage", "10m"}}));
  EXPECT_EQ(trimmed.spec.node_name, "hollow-0");
  EXPECT_EQ(trimmed.spec.restart_policy, "OnFailure");
  EXPECT_TRUE(trimmed.spec.host_network);
  EXPECT_EQ(trimmed.spec.readiness_gates, pod.spec.readiness_gates);
  ASSERT_EQ(trimmed.spec.containers.size(), 1u);
  EXPECT_EQ(trimmed.spec.containers[0].name, "main");
  EXPECT_EQ(trimmed.spec.containers[0].image, "registry.k8s.io/pause:3.10");
  EXPECT_TRUE(trimmed.spec.containers[0].args.empty());
  EXPECT_TRUE(trimmed.spec.containers[0].env.empty());
  ASSERT_EQ(trimmed.spec.init_containers.size(), 1u);
  EXPECT_EQ(trimmed.spec.init_containers[0].restart_policy, std::optional<std::string>("Always"));
  EXPECT_EQ(trimmed.status, pod.status);
  // What the node builds from the trimmed pod is what it builds from the whole one.
  EXPECT_EQ(BuildRunningPodStatus(trimmed, "172.16.0.1", "172.16.0.1", kLater, kLater),
            BuildRunningPodStatus(pod, "172.16.0.1", "172.16.0.1", kLater, kLater));
}

TEST(HollowPodTest, StatusPatchIsConditionalAndClearsWhatItLeavesEmpty) {
  v1::Pod pod = PodWith("Always", 0);
  pod.metadata.resource_version = "42";
  pod.status.reason = "Evicted";
  auto status = BuildRunningPodStatus(pod, "172.16.0.1", "10.128.0.2", kLater, kLater);
  auto patch = boost::json::parse(PodStatusPatch(pod, status)).as_object();
  EXPECT_EQ(patch["metadata"].at("uid"), "pod-uid");
  EXPECT_EQ(patch["metadata"].at("resourceVersion"), "42");
  const auto& written = patch["status"].as_object();
  EXPECT_EQ(written.at("phase"), "Running");
  EXPECT_EQ(written.at("podIP"), "10.128.0.2");
  EXPECT_TRUE(written.at("reason").is_null());
  EXPECT_TRUE(written.at("message").is_null());
  EXPECT_EQ(written.at("conditions").as_array().size(), 5u);
}

}  // namespace
}  // namespace kpp::hollownodes
