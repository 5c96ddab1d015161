// The horizontal pod autoscaler end to end: `kpp server` with its controller manager (syncing
// autoscalers every second), `kpp hollow-nodes` reporting pod usage to metrics.k8s.io, and the
// real kubectl (autoscale, get hpa, top) of the oldest and newest supported versions.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/crd_manifests.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

// Polls `condition` for up to `timeout` (this suite waits for slower work than most).
bool Eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = 90s) {
  return testing::Eventually(condition, timeout);
}

class AutoscalingE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    for (const auto& minor : testing::kOldestAndNewestKubectl) {
      ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
    server_.set_controller_manager(true);
    ASSERT_TRUE(server_.Start({"--horizontal-pod-autoscaler-sync-period=1s"}));
  }
  void StartHollowNodes() {
    std::string error;
    ASSERT_TRUE(hollow_.Start(
        server_, 2,
        {"--pod-cpu-usage", "200m", "--pod-memory-usage", "32Mi", "--usage-report-interval", "1s"},
        &error))
        << error;
    ASSERT_TRUE(hollow_.WaitReady(server_, 2, 90s)) << hollow_.Stderr();
  }
  int SpecReplicas() {
    auto out = Kubectl({"get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"}).out;
    return out.empty() ? -1 : std::stoi(out);
  }

  testing::HollowNodes hollow_;
};

TEST_F(AutoscalingE2ETest, ScalesADeploymentUpAndDownOnReportedCpuUsage) {
  StartHollowNodes();
  MustRun({"apply", "-f",
           server_.WriteFile("web.yaml",
                             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                             "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n"
                             "  template:\n    metadata:\n      labels:\n        app: web\n"
                             "    spec:\n      containers:\n      - name: main\n"
                             "        image: nginx:1.27\n        resources:\n          requests:\n"
                             "            cpu: 100m\n")});
  // metrics.k8s.io serves the hollow node's report; kubectl top reads it.
  ASSERT_TRUE(Eventually([&] {
    auto top = Kubectl({"top", "pod", "-l", "app=web", "--no-headers"});
    return top.exit_code == 0 && top.out.find("200m") != std::string::npos &&
           top.out.find("32Mi") != std::string::npos;
  })) << Kubectl({"top", "pod"}).err
      << Kubectl({"get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"}).out;
  auto top_node = Kubectl({"top", "node", "hollow-0"}, "1.27");
  EXPECT_EQ(top_node.exit_code, 0) << top_node.err;
  EXPECT_NE(top_node.out.find("CPU(cores)"), std::string::npos) << top_node.out;
  // `kubectl get` of the metrics kinds shows metrics-server's Table: NAME, one column per
  // resource, WINDOW.
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    auto pod_metrics = Kubectl({"get", "podmetrics", "-l", "app=web"}, minor);
    EXPECT_EQ(pod_metrics.exit_code, 0) << pod_metrics.err;
    for (const char* cell : {"NAME", "CPU", "MEMORY", "WINDOW", "200m", "32Mi"}) {
      EXPECT_NE(pod_metrics.out.find(cell), std::string::npos) << minor << ": " << pod_metrics.out;
    }
    auto node_metrics = Kubectl({"get", "nodemetrics", "hollow-0"}, minor);
    EXPECT_NE(node_metrics.out.find("WINDOW"), std::string::npos)
        << minor << ": " << node_metrics.out;
  }
  // A user with only `view` may run kubectl top: view aggregates
  // system:aggregated-metrics-reader, as with metrics-server's manifest.
  MustRun({"create", "serviceaccount", "viewer"});
  MustRun({"create", "rolebinding", "viewer-view", "--clusterrole=view",
           "--serviceaccount=default:viewer"});
  std::string token = Kubectl({"create", "token", "viewer"}).out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  ASSERT_FALSE(token.empty());
  const std::string viewer = server_.TokenKubeconfig(token);
  EXPECT_TRUE(Eventually([&] {
    auto top = server_.KubectlAs(viewer, {"top", "pod", "-l", "app=web", "--no-headers"});
    return top.exit_code == 0 && top.out.find("200m") != std::string::npos;
  })) << server_.KubectlAs(viewer, {"top", "pod"}).err;
  auto forbidden = server_.KubectlAs(viewer, {"top", "node"});
  EXPECT_NE(forbidden.exit_code, 0) << "view is namespaced here: no node metrics";

  MustRun({"autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5"});
  // 200% of the request against 50%: up to the maximum (4 at once, then 5).
  ASSERT_TRUE(Eventually([&] { return SpecReplicas() == 5; }))
      << Kubectl({"describe", "hpa", "web"}).out;
  std::string targets;
  ASSERT_TRUE(Eventually([&] {
    targets = Kubectl({"get", "hpa", "web", "--no-headers"}).out;
    return targets.find("cpu: 200%/50%") != std::string::npos &&
           targets.find(" 5 ") != std::string::npos;
  })) << targets;
  EXPECT_NE(Kubectl({"get", "hpa", "web"}, "1.27").out.find("TARGETS"), std::string::npos);
  auto hpa = GetJson({"hpa", "web"});
  EXPECT_EQ(hpa.at("apiVersion"), "autoscaling/v2");
  EXPECT_EQ(hpa.at("status").at("desiredReplicas"), 5);
  bool limited = false;
  for (const auto& condition : hpa.at("status").at("conditions").as_array()) {
    if (condition.at("type") == "ScalingLimited") {
      limited = condition.at("status") == "True" && condition.at("reason") == "TooManyReplicas";
    }
  }
  EXPECT_TRUE(limited) << boost::json::serialize(hpa);
  auto events = Kubectl({"get", "events", "--field-selector", "reason=SuccessfulRescale", "-o",
                         "jsonpath={.items[*].message}"});
  EXPECT_NE(events.out.find("New size: 4; reason: cpu resource utilization (percentage of "
                            "request) above target"),
            std::string::npos)
      << events.out;
  auto described = Kubectl({"describe", "hpa", "web"}, "1.33").out;
  EXPECT_NE(described.find("ScalingActive"), std::string::npos) << described;
  EXPECT_NE(described.find("SuccessfulRescale"), std::string::npos) << described;
  // The v1 view of the same autoscaler.
  auto v1 = Kubectl(
      {"get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web"});
  EXPECT_NE(v1.out.find(R"("currentCPUUtilizationPercentage":200)"), std::string::npos) << v1.out;

  // Usage drops to 10%: after a short stabilization window, down to the minimum.
  MustRun({"patch", "hpa", "web", "--type=merge", "-p",
           R"({"spec":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":3}}}})"});
  MustRun({"annotate", "pods", "-l", "app=web", "kpp.dev/hollow-cpu-usage=10m", "--overwrite"});
  ASSERT_TRUE(Eventually([&] { return SpecReplicas() == 1; }))
      << Kubectl({"describe", "hpa", "web"}).out;
  events = Kubectl({"get", "events", "--field-selector", "reason=SuccessfulRescale", "-o",
                    "jsonpath={.items[*].message}"});
  EXPECT_NE(events.out.find("New size: 1; reason: All metrics below target"), std::string::npos)
      << events.out;
  ASSERT_TRUE(Eventually([&] {
    auto top = Kubectl({"top", "pod", "-l", "app=web", "--no-headers"}, "1.33");
    return top.exit_code == 0 && top.out.find("10m") != std::string::npos;
  })) << Kubectl({"top", "pod"}).out;
}

// A custom resource with a scale subresource: the autoscaler finds its resource by discovery
// and scales it through /scale; the pods are the test's own, selected by the scale's selector.
TEST_F(AutoscalingE2ETest, ScalesACustomResourceThroughItsScaleSubresource) {
  StartHollowNodes();
  MustRun({"apply", "-f",
           server_.WriteFile(
               "crd.yaml",
               testing::CrdYaml(
                   "example.com", "webapps", "WebApp",
                   {.status = true, .scale = true, .label_selector_path = ".status.selector"}))});
  MustRun({"wait", "--for=condition=Established", "crd/webapps.example.com"});
  MustRun({"apply", "-f",
           server_.WriteFile("app.yaml",
                             "apiVersion: example.com/v1\nkind: WebApp\nmetadata:\n  name: shop\n"
                             "spec:\n  replicas: 1\n")});
  MustRun({"patch", "webapp", "shop", "--subresource=status", "--type=merge", "-p",
           R"({"status":{"replicas":1,"selector":"app=shop"}})"},
          "1.33");
  MustRun({"apply", "-f",
           server_.WriteFile("pod.yaml",
                             "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shop-0\n  labels:\n"
                             "    app: shop\nspec:\n  containers:\n  - name: main\n"
                             "    image: nginx:1.27\n    resources:\n      requests:\n"
                             "        cpu: 100m\n")});
  MustRun({"apply", "-f",
           server_.WriteFile("hpa.yaml",
                             "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
                             "metadata:\n  name: shop\nspec:\n  scaleTargetRef:\n"
                             "    apiVersion: example.com/v1\n    kind: WebApp\n    name: shop\n"
                             "  minReplicas: 1\n  maxReplicas: 3\n  metrics:\n"
                             "  - type: Resource\n    resource:\n      name: cpu\n"
                             "      target:\n        type: Utilization\n"
                             "        averageUtilization: 50\n")});
  // One pod at 200% of its request against 50%: 4 wanted, capped at the maximum of 3.
  ASSERT_TRUE(Eventually([&] {
    return Kubectl({"get", "webapp", "shop", "-o", "jsonpath={.spec.replicas}"}).out == "3";
  })) << Kubectl({"describe", "hpa", "shop"}).out;
  auto hpa = GetJson({"hpa", "shop"});
  EXPECT_EQ(hpa.at("status")
                .at("currentMetrics")
                .at(0)
                .at("resource")
                .at("current")
                .at("averageUtilization"),
            200);
}

}  // namespace
}  // namespace kpp
