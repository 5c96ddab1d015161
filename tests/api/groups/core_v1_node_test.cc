// Nodes and ComponentStatuses (api/core/v1/node.api) against JSON as an upstream API server
// writes it, and their defaulting.
#include <gtest/gtest.h>

#include <string>

#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
using testing::FindKind;

using core::v1::ComponentStatus;
using core::v1::Node;

// A control-plane node as its kubelet reports it.
constexpr char kNode[] =
    R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"node-1",)"
    R"("uid":"2f0d5a9e-7c1b-4e3a-9d8f-6b5a4c3d2e1f","resourceVersion":"48211",)"
    R"("creationTimestamp":"2024-03-01T10:00:00Z","labels":{"beta.kubernetes.io/arch":"amd64",)"
    R"("beta.kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","kubernetes.io/hostname":"node-1",)"
    R"("kubernetes.io/os":"linux","node-role.kubernetes.io/control-plane":""},)"
    R"("annotations":{"node.alpha.kubernetes.io/ttl":"0",)"
    R"("volumes.kubernetes.io/controller-managed-attach-detach":"true"}},)"
    R"("spec":{"podCIDR":"10.244.0.0/24","podCIDRs":["10.244.0.0/24","fd00:10:244::/64"],)"
    R"("providerID":"kpp://node-1","unschedulable":true,"taints":[{"key":)"
    R"("node-role.kubernetes.io/control-plane","effect":"NoSchedule"},{"key":)"
    R"("node.kubernetes.io/unschedulable","effect":"NoSchedule","timeAdded":"2024-03-01T12:00:00Z"},)"
    R"({"key":"dedicated","value":"db","effect":"NoExecute"}]},)"
    R"("status":{"capacity":{"cpu":"2","ephemeral-storage":"61202244Ki","hugepages-1Gi":"0",)"
    R"("hugepages-2Mi":"0","memory":"4025364Ki","pods":"110"},"allocatable":{"cpu":"2",)"
    R"("ephemeral-storage":"56403987978","hugepages-1Gi":"0","hugepages-2Mi":"0",)"
    R"("memory":"3922964Ki","pods":"110"},"conditions":[{"type":"MemoryPressure","status":"False",)"
    R"("lastHeartbeatTime":"2024-03-01T12:05:00Z","lastTransitionTime":"2024-03-01T10:00:00Z",)"
    R"("reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available"},)"
    R"({"type":"DiskPressure","status":"False","lastHeartbeatTime":"2024-03-01T12:05:00Z",)"
    R"("lastTransitionTime":"2024-03-01T10:00:00Z","reason":"KubeletHasNoDiskPressure",)"
    R"("message":"kubelet has no disk pressure"},{"type":"PIDPressure","status":"False",)"
    R"("lastHeartbeatTime":"2024-03-01T12:05:00Z","lastTransitionTime":"2024-03-01T10:00:00Z",)"
    R"("reason":"KubeletHasSufficientPID","message":"kubelet has sufficient PID available"},)"
    R"({"type":"Ready","status":"True","lastHeartbeatTime":"2024-03-01T12:05:00Z",)"
    R"("lastTransitionTime":"2024-03-01T10:00:20Z","reason":"KubeletReady",)"
    R"("message":"kubelet is posting ready status"}],"addresses":[{"type":"InternalIP",)"
    R"("address":"192.168.1.10"},{"type":"InternalIP","address":"fd00::10"},)"
    R"({"type":"Hostname","address":"node-1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},)"
    R"("nodeInfo":{"machineID":"8f3c2b1a0e9d4c7b8a6f5e4d3c2b1a09",)"
    R"("systemUUID":"4c4c4544-0042-4d10-8052-b4c04f4e3132","bootID":"0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7",)"
    R"j("kernelVersion":"6.1.0-18-amd64","osImage":"Debian GNU/Linux 12 (bookworm)",)j"
    R"("containerRuntimeVersion":"containerd://1.6.20","kubeletVersion":"v1.32.0",)"
    R"("kubeProxyVersion":"","operatingSystem":"linux","architecture":"amd64",)"
    R"("swap":{"capacity":2147479552}},"images":[{"names":["registry.k8s.io/etcd@sha256:)"
    R"(c6a9d11cc5c04b114ccdef39a9265eeef818e3d02f5359be035ae784097fdec5",)"
    R"("registry.k8s.io/etcd:3.5.16-0"],"sizeBytes":57680541},{"names":["kpp.local/pause:3.10"],)"
    R"("sizeBytes":320368}],"volumesInUse":["kubernetes.io/csi/hostpath.csi.k8s.io^vol-1"],)"
    R"("volumesAttached":[{"name":"kubernetes.io/csi/hostpath.csi.k8s.io^vol-1","devicePath":""}],)"
    R"("runtimeHandlers":[{"name":"runc","features":{"recursiveReadOnlyMounts":true,)"
    R"("userNamespaces":true}},{"name":"","features":{"recursiveReadOnlyMounts":true,)"
    R"("userNamespaces":true}}],"features":{"supplementalGroupsPolicy":true}}})";

TEST(NodeSchemaTest, NodeWithFullKubeletStatusRoundTripsExactly) {
  ExpectRoundTrip<Node>(kNode);
}

TEST(NodeSchemaTest, RegisteringNodeAndDeprecatedConfigRoundTripExactly) {
  // What a kubelet sends when it registers: no status times yet, empty daemon endpoint.
  ExpectRoundTrip<Node>(
      R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"hollow-7","creationTimestamp":null,)"
      R"("labels":{"kubernetes.io/hostname":"hollow-7"}},"spec":{"externalID":"hollow-7"},)"
      R"("status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"phase":"Running",)"
      R"("conditions":[{"type":"Ready","status":"Unknown","lastHeartbeatTime":null,)"
      R"("lastTransitionTime":null}],"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},)"
      R"("nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"",)"
      R"("containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"",)"
      R"("operatingSystem":"linux","architecture":"amd64"},"images":[{"names":null}],)"
      R"("config":{"assigned":{"configMap":{"namespace":"kube-system","name":"kubelet-config",)"
      R"("uid":"u-1","resourceVersion":"7","kubeletConfigKey":"kubelet"}},"error":"unsupported"}}})");
}

TEST(NodeSchemaTest, AllocatableDefaultsToCapacity) {
  auto decoded = FromJson<Node>(R"({"metadata":{"name":"n"},"status":{"capacity":{"cpu":"4",)"
                                R"("pods":"110"}}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  Node node = decoded->object;
  SetDefaults(node);
  EXPECT_EQ(ToJson(node.status),
            R"({"capacity":{"cpu":"4","pods":"110"},"allocatable":{"cpu":"4","pods":"110"},)"
            R"("daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"",)"
            R"("systemUUID":"","bootID":"","kernelVersion":"","osImage":"",)"
            R"("containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"",)"
            R"("operatingSystem":"","architecture":""}})");
  // Reported allocatable resources are kept.
  auto reported =
      FromJson<Node>(R"({"status":{"capacity":{"cpu":"4"},"allocatable":{"cpu":"3"}}})");
  ASSERT_TRUE(reported.ok());
  Node other = reported->object;
  SetDefaults(other);
  EXPECT_EQ(other.status.allocatable.at("cpu").text, "3");
}

TEST(NodeSchemaTest, ComponentStatusRoundTripsExactly) {
  ExpectRoundTrip<core::v1::ComponentStatusList>(
      R"({"kind":"ComponentStatusList","apiVersion":"v1","metadata":{},"items":[{"metadata":)"
      R"({"name":"etcd-0","creationTimestamp":null},"conditions":[{"type":"Healthy","status":"True",)"
      R"("message":"ok"}]},{"metadata":{"name":"scheduler","creationTimestamp":null},"conditions":)"
      R"([{"type":"Healthy","status":"False","message":"connection refused",)"
      R"("error":"Get \"https://127.0.0.1:10259/healthz\": dial tcp 127.0.0.1:10259: connect: connection refused"}]}]})");
}

TEST(NodeSchemaTest, KindTableHasNodesAndComponentStatuses) {
  const KindInfo* node = FindKind("", "Node");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->plural, "nodes");
  EXPECT_FALSE(node->namespaced);
  EXPECT_EQ(node->short_names, "no");
  EXPECT_EQ(node->subresources, "status,proxy");
  EXPECT_EQ(node->verbs, "create,delete,deletecollection,get,list,patch,update,watch");
  const KindInfo* cs = FindKind("", "ComponentStatus");
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ(cs->plural, "componentstatuses");
  EXPECT_FALSE(cs->namespaced);
  EXPECT_EQ(cs->short_names, "cs");
  EXPECT_EQ(cs->verbs, "get,list");
  EXPECT_EQ(cs->list_kind, "ComponentStatusList");
}

}  // namespace
}  // namespace kpp::api
