// Kinds served in several versions, through the real kubectl: an autoscaler written in one
// autoscaling version is read, watched and updated in the other, and nothing is lost; manifests
// of the removed versions (extensions/v1beta1, apps/v1beta1, batch/v1beta1, scheduling v1alpha1)
// apply and read as the current ones.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;
using testing::ProcessResult;
using testing::RunProcess;

constexpr char kMetricsAnnotation[] = "autoscaling.alpha.kubernetes.io/metrics";
// The resource in each version. Not `hpa.v1.autoscaling`: kubectl drops the version of a short
// name and uses the preferred one (v2), against upstream as here.
constexpr char kV1[] = "horizontalpodautoscalers.v1.autoscaling";
constexpr char kV2[] = "horizontalpodautoscalers.v2.autoscaling";

class ConversionE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  ProcessResult Kubectl(const std::vector<std::string>& args) { return server_.Kubectl(args); }

  boost::json::value GetJson(const std::string& resource, const std::string& name) {
    auto result = Kubectl({"get", resource, name, "-o", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? boost::json::parse(result.out) : boost::json::value();
  }

  // The autoscaling/v1 metrics annotation of `object`, parsed; null when absent.
  static boost::json::value MetricsAnnotation(const boost::json::value& object) {
    const auto* annotations = object.at("metadata").as_object().if_contains("annotations");
    if (annotations == nullptr) return nullptr;
    const auto* metrics = annotations->as_object().if_contains(kMetricsAnnotation);
    return metrics == nullptr ? boost::json::value() : boost::json::parse(metrics->as_string());
  }

  KppServer server_;
};

constexpr char kV1Autoscaler[] = R"(apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: php-apache
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: php-apache
  minReplicas: 1
  maxReplicas: 10
  targetCPUUtilizationPercentage: 50
)";

constexpr char kV2Autoscaler[] = R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: memory
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: memory
      target:
        type: AverageValue
        averageValue: 500Mi
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 60
)";

TEST_F(ConversionE2ETest, AV1AutoscalerReadsAsV2) {
  const std::string file = server_.WriteFile("php-apache.yaml", kV1Autoscaler);
  auto applied = Kubectl({"apply", "-f", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out, "horizontalpodautoscaler.autoscaling/php-apache created\n");

  const auto v2 = GetJson(kV2, "php-apache");
  EXPECT_EQ(v2.at("apiVersion"), "autoscaling/v2");
  EXPECT_EQ(v2.at("spec").at("metrics"),
            boost::json::parse(R"([{"type":"Resource","resource":{"name":"cpu","target":{)"
                               R"("type":"Utilization","averageUtilization":50}}}])"));
  EXPECT_FALSE(v2.at("spec").as_object().contains("targetCPUUtilizationPercentage"));

  const auto v1 = GetJson(kV1, "php-apache");
  EXPECT_EQ(v1.at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(v1.at("spec").at("targetCPUUtilizationPercentage"), 50);
  EXPECT_EQ(v1.at("metadata").at("uid"), v2.at("metadata").at("uid"));
  EXPECT_EQ(v1.at("metadata").at("resourceVersion"), v2.at("metadata").at("resourceVersion"));

  // Applied again unchanged, the v1 view has nothing to patch.
  auto again = Kubectl({"apply", "-f", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "horizontalpodautoscaler.autoscaling/php-apache unchanged\n");

  // `kubectl get hpa` (the preferred version, v2) lists it once.
  auto listed = Kubectl({"get", "hpa", "-o", "name"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "horizontalpodautoscaler.autoscaling/php-apache\n");
  auto deleted = Kubectl({"delete", kV1, "php-apache"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_NE(Kubectl({"get", kV2, "php-apache"}).exit_code, 0);
}

TEST_F(ConversionE2ETest, V2OnlyMetricsTravelInV1AnnotationsAndSurviveV1Writes) {
  auto created = Kubectl({"create", "-f", server_.WriteFile("memory.yaml", kV2Autoscaler)});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto memory_metric = boost::json::parse(
      R"([{"type":"Resource","resource":{"name":"memory","targetAverageValue":"500Mi"}}])");

  auto v1 = GetJson(kV1, "memory");
  EXPECT_EQ(v1.at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(MetricsAnnotation(v1), memory_metric);
  EXPECT_FALSE(v1.at("spec").as_object().contains("targetCPUUtilizationPercentage"));

  // kubectl edit in v1.
  const std::string kubectl = testing::KubectlPath();
  auto edited = RunProcess(
      {kubectl, "--kubeconfig", server_.kubeconfig_path(), "edit", kV1, "memory"}, 60s,
      {"HOME=" + server_.root_dir(), "KUBE_EDITOR=sed -i -e 's/maxReplicas: 5/maxReplicas: 6/'"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  EXPECT_EQ(edited.out, "horizontalpodautoscaler.autoscaling/memory edited\n");

  // kubectl patch in v1.
  auto patched =
      Kubectl({"patch", kV1, "memory", "--type", "merge", "-p", R"({"spec":{"minReplicas":2}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;

  // kubectl replace in v1, with what a v1 read gave.
  v1 = GetJson(kV1, "memory");
  v1.at("metadata").as_object()["labels"] = boost::json::parse(R"({"replaced":"yes"})");
  auto replaced =
      Kubectl({"replace", "-f", server_.WriteFile("memory-v1.json", boost::json::serialize(v1))});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;

  const auto v2 = GetJson(kV2, "memory");
  EXPECT_EQ(v2.at("spec").at("maxReplicas"), 6);
  EXPECT_EQ(v2.at("spec").at("minReplicas"), 2);
  EXPECT_EQ(v2.at("metadata").at("labels").at("replaced"), "yes");
  EXPECT_EQ(v2.at("spec").at("metrics"),
            boost::json::parse(R"([{"type":"Resource","resource":{"name":"memory","target":{)"
                               R"("type":"AverageValue","averageValue":"500Mi"}}}])"));
  EXPECT_EQ(v2.at("spec").at("behavior").at("scaleDown").at("stabilizationWindowSeconds"), 60);
  // The annotations are the v1 view's; v2 shows none.
  EXPECT_EQ(MetricsAnnotation(v2), boost::json::value());
}

TEST_F(ConversionE2ETest, AV1WatchSeesV2WritesAsV1) {
  auto created = Kubectl({"create", "-f", server_.WriteFile("memory.yaml", kV2Autoscaler)});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto v1 = GetJson(kV1, "memory");
  const std::string version = std::string(v1.at("metadata").at("resourceVersion").as_string());

  ProcessResult watched;
  std::thread watcher([&] {
    watched = Kubectl({"get", "--raw",
                       "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers?"
                       "watch=true&timeoutSeconds=8&resourceVersion=" +
                           version});
  });
  std::this_thread::sleep_for(500ms);
  auto patched =
      Kubectl({"patch", kV2, "memory", "--type", "merge", "-p", R"({"spec":{"maxReplicas":7}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.err;
  const auto event = boost::json::parse(watched.out.substr(0, watched.out.find('\n')));
  EXPECT_EQ(event.at("type"), "MODIFIED");
  EXPECT_EQ(event.at("object").at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(event.at("object").at("spec").at("maxReplicas"), 7);
  EXPECT_EQ(
      MetricsAnnotation(event.at("object")),
      boost::json::parse(
          R"([{"type":"Resource","resource":{"name":"memory","targetAverageValue":"500Mi"}}])"));
}

// The classic tutorial manifest: no selector, which extensions/v1beta1 took from the labels.
constexpr char kExtensionsDeployment[] = R"(apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: nginx-deployment
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.7.9
        ports:
        - containerPort: 80
)";

constexpr char kAppsV1beta1Deployment[] = R"(apiVersion: apps/v1beta1
kind: Deployment
metadata:
  name: frontend
spec:
  template:
    metadata:
      labels:
        app: frontend
    spec:
      containers:
      - name: php
        image: php:5-apache
)";

constexpr char kExtensionsIngress[] = R"(apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: shop
spec:
  backend:
    serviceName: fallback
    servicePort: 8080
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        backend:
          serviceName: web
          servicePort: http
)";

constexpr char kOldCronJobAndPriorityClass[] = R"(apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox
            args: ["date"]
          restartPolicy: OnFailure
---
apiVersion: scheduling.k8s.io/v1alpha1
kind: PriorityClass
metadata:
  name: high-priority
value: 1000000
description: For important pods.
)";

TEST_F(ConversionE2ETest, OldManifestsApplyAndReadAsTheCurrentVersions) {
  auto versions = Kubectl({"api-versions"});
  ASSERT_EQ(versions.exit_code, 0) << versions.err;
  for (const char* version : {"apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"}) {
    EXPECT_NE(versions.out.find(std::string(version) + "\n"), std::string::npos) << version;
  }

  const std::string deployment = server_.WriteFile("nginx.yaml", kExtensionsDeployment);
  auto applied = Kubectl({"apply", "-f", deployment});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out, "deployment.extensions/nginx-deployment created\n");
  EXPECT_NE(applied.err.find("Warning: extensions/v1beta1 Deployment is deprecated in v1.8+, "
                             "unavailable in v1.16+; use apps/v1 Deployment"),
            std::string::npos)
      << applied.err;
  auto again = Kubectl({"apply", "-f", deployment});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "deployment.extensions/nginx-deployment unchanged\n");

  // Stored once, as apps/v1, with the defaults extensions/v1beta1 had.
  const auto current = GetJson("deployments.v1.apps", "nginx-deployment");
  EXPECT_EQ(current.at("apiVersion"), "apps/v1");
  const auto& spec = current.at("spec");
  EXPECT_EQ(spec.at("selector"), boost::json::parse(R"({"matchLabels":{"app":"nginx"}})"));
  EXPECT_EQ(current.at("metadata").at("labels"), boost::json::parse(R"({"app":"nginx"})"));
  EXPECT_EQ(spec.at("replicas"), 2);
  EXPECT_EQ(spec.at("revisionHistoryLimit"), 2147483647);
  EXPECT_EQ(spec.at("progressDeadlineSeconds"), 2147483647);
  EXPECT_EQ(spec.at("strategy").at("rollingUpdate"),
            boost::json::parse(R"({"maxUnavailable":1,"maxSurge":1})"));
  // `kubectl get deployments` asks apps, the group that owns them, and lists it once.
  auto listed = Kubectl({"get", "deployments", "-o", "name"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "deployment.apps/nginx-deployment\n");
  EXPECT_EQ(listed.err, "");

  // Scaled through extensions/v1beta1, whose scale subresource speaks its own Scale.
  auto scaled =
      Kubectl({"scale", "deployments.v1beta1.extensions/nginx-deployment", "--replicas=3"});
  ASSERT_EQ(scaled.exit_code, 0) << scaled.err;
  EXPECT_EQ(scaled.out, "deployment.extensions/nginx-deployment scaled\n");
  EXPECT_EQ(GetJson("deployments.v1.apps", "nginx-deployment").at("spec").at("replicas"), 3);
  auto scale = Kubectl({"get", "--raw",
                        "/apis/extensions/v1beta1/namespaces/default/deployments/"
                        "nginx-deployment/scale"});
  ASSERT_EQ(scale.exit_code, 0) << scale.err;
  const auto scale_json = boost::json::parse(scale.out);
  EXPECT_EQ(scale_json.at("apiVersion"), "extensions/v1beta1");
  EXPECT_EQ(scale_json.at("status").at("selector"), boost::json::parse(R"({"app":"nginx"})"));
  EXPECT_EQ(scale_json.at("status").at("targetSelector"), "app=nginx");

  // apps/v1beta1 kept 2 old replica sets.
  auto beta1 = Kubectl({"apply", "-f", server_.WriteFile("frontend.yaml", kAppsV1beta1Deployment)});
  ASSERT_EQ(beta1.exit_code, 0) << beta1.err;
  EXPECT_EQ(GetJson("deployments.v1.apps", "frontend").at("spec").at("revisionHistoryLimit"), 2);

  // An old ingress reads as networking.k8s.io/v1, and back.
  auto ingress = Kubectl({"apply", "-f", server_.WriteFile("shop.yaml", kExtensionsIngress)});
  ASSERT_EQ(ingress.exit_code, 0) << ingress.err;
  EXPECT_EQ(ingress.out, "ingress.extensions/shop created\n");
  const auto v1 = GetJson("ingress", "shop");
  EXPECT_EQ(v1.at("apiVersion"), "networking.k8s.io/v1");
  EXPECT_EQ(v1.at("spec").at("defaultBackend"),
            boost::json::parse(R"({"service":{"name":"fallback","port":{"number":8080}}})"));
  const auto& path = v1.at("spec").at("rules").at(0).at("http").at("paths").at(0);
  EXPECT_EQ(path.at("backend"),
            boost::json::parse(R"({"service":{"name":"web","port":{"name":"http"}}})"));
  EXPECT_EQ(path.at("pathType"), "ImplementationSpecific");
  const auto old = GetJson("ingresses.v1beta1.extensions", "shop");
  EXPECT_EQ(old.at("spec").at("backend"),
            boost::json::parse(R"({"serviceName":"fallback","servicePort":8080})"));

  auto others =
      Kubectl({"apply", "-f", server_.WriteFile("others.yaml", kOldCronJobAndPriorityClass)});
  ASSERT_EQ(others.exit_code, 0) << others.err;
  EXPECT_EQ(others.out,
            "cronjob.batch/hello created\npriorityclass.scheduling.k8s.io/high-priority created\n");
  const auto cron_job = GetJson("cronjobs.v1.batch", "hello");
  EXPECT_EQ(cron_job.at("apiVersion"), "batch/v1");
  EXPECT_EQ(cron_job.at("spec").at("concurrencyPolicy"), "Allow");
  const auto priority_class = GetJson("priorityclasses.v1.scheduling.k8s.io", "high-priority");
  EXPECT_EQ(priority_class.at("value"), 1000000);
  EXPECT_EQ(priority_class.at("preemptionPolicy"), "PreemptLowerPriority");
}

}  // namespace
}  // namespace kpp
