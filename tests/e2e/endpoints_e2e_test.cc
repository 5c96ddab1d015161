// The endpoints, EndpointSlice and mirroring controllers inside `kpp server --disable-agent`,
// with pods placed by the server's scheduler on `kpp hollow-nodes` and checked with the real
// kubectl 1.27 and 1.33.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

using testing::Eventually;

std::string Str(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : "";
}

class EndpointsE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    KubectlE2ETest::SetUp();
  }
  void StartHollowNodes(int count) {
    std::string error;
    ASSERT_TRUE(hollow_.Start(server_, count, {}, &error)) << error;
    ASSERT_TRUE(hollow_.WaitReady(server_, count)) << hollow_.Stderr();
  }
  // A pod with a container port named "http", kept to `node` by its hostname label.
  void CreatePodOn(const std::string& name, const std::string& node, int port) {
    MustRun({"apply", "-f",
             server_.WriteFile(name + ".yaml",
                               "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                                   "\n  labels:\n    app: web\nspec:\n  nodeSelector:\n"
                                   "    kubernetes.io/hostname: " +
                                   node +
                                   "\n  containers:\n  - name: main\n    image: nginx:1.27\n"
                                   "    ports:\n    - name: http\n      containerPort: " +
                                   std::to_string(port) + "\n")});
  }
  std::string PodIp(const std::string& name) {
    return Kubectl({"get", "pod", name, "-o", "jsonpath={.status.podIP}"}).out;
  }
  std::set<std::string> Ips(const boost::json::value& addresses) {
    std::set<std::string> out;
    if (!addresses.is_array()) return out;
    for (const auto& address : addresses.as_array())
      out.insert(Str(address.at("ip")));
    return out;
  }

  testing::HollowNodes hollow_;
};

TEST_F(EndpointsE2ETest, ServiceGetsEndpointsAndSlicesThatFollowPodReadiness) {
  StartHollowNodes(2);
  MustRun({"apply", "-f",
           server_.WriteFile("svc.yaml",
                             "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n"
                             "    team: a\nspec:\n  selector:\n    app: web\n  ports:\n"
                             "  - name: http\n    port: 80\n    targetPort: http\n")});
  CreatePodOn("web-0", "hollow-0", 8080);
  CreatePodOn("web-1", "hollow-1", 8080);
  ASSERT_TRUE(Eventually([&] { return !PodIp("web-0").empty() && !PodIp("web-1").empty(); }))
      << hollow_.Stderr();
  const std::set<std::string> both = {PodIp("web-0"), PodIp("web-1")};

  // Endpoints: both pods ready, the named port resolved to 8080, targetRef and nodeName set.
  boost::json::value endpoints;
  ASSERT_TRUE(Eventually([&] {
    if (!Exists({"endpoints", "web"})) return false;  // the controller has not written it yet
    endpoints = GetJson({"endpoints", "web"});
    return endpoints.is_object() && endpoints.at("subsets").is_array() &&
           Ips(endpoints.at("subsets").at(0).at("addresses")) == both;
  })) << Kubectl({"get", "endpoints", "web", "-o", "yaml"}).out;
  const auto& subset = endpoints.at("subsets").at(0);
  EXPECT_EQ(subset.at("ports").at(0).at("port"), 8080);
  EXPECT_EQ(subset.at("ports").at(0).at("name"), "http");
  EXPECT_EQ(subset.at("addresses").at(0).at("targetRef").at("kind"), "Pod");
  std::set<std::string> nodes;
  for (const auto& address : subset.at("addresses").as_array())
    nodes.insert(Str(address.at("nodeName")));
  EXPECT_EQ(nodes, (std::set<std::string>{"hollow-0", "hollow-1"}));
  EXPECT_TRUE(endpoints.at("metadata")
                  .at("annotations")
                  .as_object()
                  .contains("endpoints.kubernetes.io/last-change-trigger-time"));
  EXPECT_EQ(endpoints.at("metadata").at("labels").at("team"), "a");

  // One EndpointSlice, ours, owned by the service, with both pods ready.
  boost::json::value slices;
  ASSERT_TRUE(Eventually([&] {
    slices = GetJson({"endpointslices", "-l", "kubernetes.io/service-name=web"});
    if (!slices.is_object() || slices.at("items").as_array().size() != 1) return false;
    const auto& items = slices.at("items").at(0).as_object();
    return items.contains("endpoints") && items.at("endpoints").as_array().size() == 2;
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;
  const auto& slice = slices.at("items").at(0);
  EXPECT_EQ(slice.at("addressType"), "IPv4");
  EXPECT_EQ(slice.at("metadata").at("labels").at("endpointslice.kubernetes.io/managed-by"),
            "endpointslice-controller.k8s.io");
  EXPECT_EQ(slice.at("metadata").at("generateName"), "web-");
  EXPECT_EQ(slice.at("metadata").at("ownerReferences").at(0).at("kind"), "Service");
  EXPECT_EQ(slice.at("ports").at(0).at("port"), 8080);
  for (const auto& endpoint : slice.at("endpoints").as_array()) {
    EXPECT_EQ(endpoint.at("conditions").at("ready"), true);
    EXPECT_TRUE(both.contains(Str(endpoint.at("addresses").at(0))));
  }

  // kubectl's columns, both versions.
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    auto table = Kubectl({"get", "endpoints,endpointslices"}, minor);
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("ENDPOINTS"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("ADDRESSTYPE"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find(":8080"), std::string::npos) << minor << table.out;
    EXPECT_NE(table.out.find("IPv4"), std::string::npos) << table.out;
  }

  // web-1 turns not ready (as a kubelet whose readiness probe fails reports it; hollow nodes run no
  // probes): notReadyAddresses, ready=false in the slice.
  const std::string ip1 = PodIp("web-1");
  MustRun({"patch", "pod", "web-1", "--subresource=status", "--type=strategic", "-p",
           R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})"},
          "1.33");
  ASSERT_TRUE(Eventually([&] {
    endpoints = GetJson({"endpoints", "web"});
    const auto& first = endpoints.at("subsets").at(0).as_object();
    return first.contains("notReadyAddresses") &&
           Ips(first.at("notReadyAddresses")) == std::set<std::string>{ip1} &&
           Ips(first.at("addresses")) == std::set<std::string>{PodIp("web-0")};
  })) << Kubectl({"get", "endpoints", "web", "-o", "yaml"}).out;
  ASSERT_TRUE(Eventually([&] {
    slices = GetJson({"endpointslices", "-l", "kubernetes.io/service-name=web"});
    for (const auto& endpoint : slices.at("items").at(0).at("endpoints").as_array()) {
      if (Str(endpoint.at("addresses").at(0)) == ip1) {
        return endpoint.at("conditions").at("ready") == false;
      }
    }
    return false;
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;

  // The service goes: its Endpoints and (through the garbage collector) its slices go too.
  MustRun({"delete", "service", "web"});
  EXPECT_TRUE(Eventually([&] {
    return !Exists({"endpoints", "web"}) &&
           Kubectl({"get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"})
               .out.empty();
  }));
}

TEST_F(EndpointsE2ETest, EndpointsOfServiceWithoutSelectorAreMirrored) {
  MustRun({"apply", "-f",
           server_.WriteFile("external.yaml",
                             "apiVersion: v1\nkind: Service\nmetadata:\n  name: external\nspec:\n"
                             "  ports:\n  - name: db\n    port: 5432\n---\n"
                             "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: external\n"
                             "subsets:\n- addresses:\n  - ip: 192.168.7.1\n  - ip: 192.168.7.2\n"
                             "  ports:\n  - name: db\n    port: 5432\n")});
  boost::json::value slices;
  ASSERT_TRUE(Eventually([&] {
    slices = GetJson({"endpointslices", "-l", "kubernetes.io/service-name=external"});
    return slices.is_object() && slices.at("items").as_array().size() == 1;
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;
  const auto& slice = slices.at("items").at(0);
  EXPECT_EQ(slice.at("metadata").at("labels").at("endpointslice.kubernetes.io/managed-by"),
            "endpointslicemirroring-controller.k8s.io");
  EXPECT_EQ(slice.at("metadata").at("ownerReferences").at(0).at("kind"), "Endpoints");
  EXPECT_EQ(slice.at("endpoints").as_array().size(), 2u);
  // The endpoints controller left the hand-written Endpoints alone.
  auto endpoints = GetJson({"endpoints", "external"});
  EXPECT_EQ(Ips(endpoints.at("subsets").at(0).at("addresses")),
            (std::set<std::string>{"192.168.7.1", "192.168.7.2"}));
}

}  // namespace
}  // namespace kpp
