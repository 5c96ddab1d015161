// autoscaling/v1 and autoscaling/v2 (HorizontalPodAutoscaler, Scale) against JSON as an upstream
// API server writes it, and upstream's defaulting of them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace v1 = autoscaling::v1;
namespace v2 = autoscaling::v2;

TEST(AutoscalingTest, V1AutoscalerAndScaleRoundTripExactly) {
  ExpectRoundTrip<v1::HorizontalPodAutoscaler>(
      R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v1","metadata":{)"
      R"("name":"php-apache","namespace":"default","uid":"4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",)"
      R"("resourceVersion":"6120","creationTimestamp":"2024-05-03T08:00:00Z"},"spec":{)"
      R"("scaleTargetRef":{"kind":"Deployment","name":"php-apache","apiVersion":"apps/v1"},)"
      R"("minReplicas":1,"maxReplicas":10,"targetCPUUtilizationPercentage":50},"status":{)"
      R"("observedGeneration":1,"lastScaleTime":"2024-05-03T08:03:00Z","currentReplicas":4,)"
      R"("desiredReplicas":5,"currentCPUUtilizationPercentage":123}})");
  ExpectRoundTrip<v1::HorizontalPodAutoscaler>(
      R"({"metadata":{"name":"new","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
      R"("kind":"StatefulSet","name":"db"},"maxReplicas":3},"status":{"currentReplicas":0,)"
      R"("desiredReplicas":0}})");
  ExpectRoundTrip<v1::Scale>(
      R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"nginx-deployment",)"
      R"("namespace":"default","uid":"3f1c2b4a-8d7e-4f6a-9b5c-1d2e3f4a5b6c",)"
      R"("resourceVersion":"1862","creationTimestamp":"2024-05-01T10:00:00Z"},"spec":{)"
      R"("replicas":3},"status":{"replicas":3,"selector":"app=nginx"}})");
  ExpectRoundTrip<v1::Scale>(
      R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"idle",)"
      R"("creationTimestamp":null},"spec":{},"status":{"replicas":0}})");
}

TEST(AutoscalingTest, V2AutoscalerRoundTripsExactly) {
  ExpectRoundTrip<v2::HorizontalPodAutoscaler>(
      R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{)"
      R"("name":"php-apache","namespace":"default","uid":"4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",)"
      R"("resourceVersion":"6188","creationTimestamp":"2024-05-03T08:00:00Z"},"spec":{)"
      R"("scaleTargetRef":{"kind":"Deployment","name":"php-apache","apiVersion":"apps/v1"},)"
      R"("minReplicas":1,"maxReplicas":10,"metrics":[{"type":"Resource","resource":{)"
      R"("name":"cpu","target":{"type":"Utilization","averageUtilization":50}}},{"type":"Pods",)"
      R"("pods":{"metric":{"name":"packets-per-second"},"target":{"type":"AverageValue",)"
      R"("averageValue":"1k"}}},{"type":"Object","object":{"describedObject":{"kind":"Ingress",)"
      R"("name":"main-route","apiVersion":"networking.k8s.io/v1"},"target":{"type":"Value",)"
      R"("value":"10k"},"metric":{"name":"requests-per-second"}}},{"type":"External",)"
      R"("external":{"metric":{"name":"queue_messages_ready","selector":{"matchLabels":{)"
      R"("queue":"worker_tasks"}}},"target":{"type":"AverageValue","averageValue":"30"}}},{)"
      R"("type":"ContainerResource","containerResource":{"name":"memory","target":{)"
      R"("type":"AverageValue","averageValue":"500Mi"},"container":"application"}}],)"
      R"("behavior":{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Max",)"
      R"("policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent",)"
      R"("value":100,"periodSeconds":15}]},"scaleDown":{"stabilizationWindowSeconds":300,)"
      R"("selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}}},)"
      R"("status":{"observedGeneration":1,"lastScaleTime":"2024-05-03T08:03:00Z",)"
      R"("currentReplicas":1,"desiredReplicas":1,"currentMetrics":[{"type":"Resource",)"
      R"("resource":{"name":"cpu","current":{"averageValue":"1m","averageUtilization":0}}}],)"
      R"("conditions":[{"type":"AbleToScale","status":"True",)"
      R"("lastTransitionTime":"2024-05-03T08:00:15Z","reason":"ScaleDownStabilized",)"
      R"("message":"recent recommendations were higher than current one, applying the highest )"
      R"(recent recommendation"},{"type":"ScalingActive","status":"True",)"
      R"("lastTransitionTime":"2024-05-03T08:00:15Z","reason":"ValidMetricFound",)"
      R"("message":"the HPA was able to successfully calculate a replica count from cpu )"
      R"x(resource utilization (percentage of request)"},{"type":"ScalingLimited",)x"
      R"("status":"False","lastTransitionTime":"2024-05-03T08:00:15Z",)"
      R"("reason":"DesiredWithinRange","message":"the desired count is within the acceptable )"
      R"(range"}]}})");
  // A new autoscaler has no metrics read yet: Go writes the nil list as null, an empty one as [].
  ExpectRoundTrip<v2::HorizontalPodAutoscaler>(
      R"({"metadata":{"name":"new","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
      R"("kind":"Deployment","name":"web"},"maxReplicas":3},"status":{"desiredReplicas":0,)"
      R"("currentMetrics":null}})");
  // Protobuf has no empty-but-present list: the empty list comes back nil, as upstream's does.
  ExpectRoundTrip<v2::HorizontalPodAutoscaler>(
      R"({"metadata":{"name":"new","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
      R"("kind":"Deployment","name":"web"},"maxReplicas":3},"status":{"desiredReplicas":0,)"
      R"("currentMetrics":[]}})",
      R"({"metadata":{"name":"new","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
      R"("kind":"Deployment","name":"web"},"maxReplicas":3},"status":{"desiredReplicas":0,)"
      R"("currentMetrics":null}})");
}

TEST(AutoscalingTest, V1DefaultsOnlyMinReplicas) {
  // The CPU target default of v1 is applied when converting to v2, where the other metrics
  // (from the annotations) are known.
  EXPECT_EQ(Defaulted<v1::HorizontalPodAutoscaler>(
                R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{)"
                R"("name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web",)"
                R"("apiVersion":"apps/v1"},"maxReplicas":5}})"),
            R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v1","metadata":{)"
            R"("name":"web","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":1,)"
            R"("maxReplicas":5},"status":{"currentReplicas":0,"desiredReplicas":0}})");
}

TEST(AutoscalingTest, V2DefaultsMetricsAndBehavior) {
  EXPECT_EQ(Defaulted<v2::HorizontalPodAutoscaler>(
                R"({"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
                R"("name":"web","apiVersion":"apps/v1"},"maxReplicas":5}})"),
            R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":1,)"
            R"("maxReplicas":5,"metrics":[{"type":"Resource","resource":{"name":"cpu",)"
            R"("target":{"type":"Utilization","averageUtilization":80}}}]},"status":{)"
            R"("desiredReplicas":0,"currentMetrics":null}})");
  // A behavior gets every unset part of both directions; given parts are kept. Without a
  // behavior none is added.
  EXPECT_EQ(Defaulted<v2::HorizontalPodAutoscaler>(
                R"({"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
                R"("name":"web"},"minReplicas":2,"maxReplicas":5,"metrics":[{"type":"Pods",)"
                R"("pods":{"metric":{"name":"rps"},"target":{"type":"AverageValue",)"
                R"("averageValue":"100"}}}],"behavior":{"scaleDown":{)"
                R"("stabilizationWindowSeconds":60,"policies":[{"type":"Pods","value":1,)"
                R"("periodSeconds":60}]}}}})"),
            R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,"metrics":[{)"
            R"("type":"Pods","pods":{"metric":{"name":"rps"},"target":{"type":"AverageValue",)"
            R"("averageValue":"100"}}}],"behavior":{"scaleUp":{"stabilizationWindowSeconds":0,)"
            R"("selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{)"
            R"("type":"Percent","value":100,"periodSeconds":15}]},"scaleDown":{)"
            R"("stabilizationWindowSeconds":60,"selectPolicy":"Max","policies":[{"type":"Pods",)"
            R"("value":1,"periodSeconds":60}]}}},"status":{"desiredReplicas":0,)"
            R"("currentMetrics":null}})");
  v2::HorizontalPodAutoscaler scale_up_only;
  scale_up_only.spec.behavior.emplace().scale_up.emplace().select_policy = "Disabled";
  v2::SetDefaults(scale_up_only);
  const auto& behavior = *scale_up_only.spec.behavior;
  EXPECT_EQ(behavior.scale_up->select_policy, "Disabled");
  EXPECT_EQ(behavior.scale_up->policies.size(), 2u);
  EXPECT_FALSE(behavior.scale_down->stabilization_window_seconds);
  EXPECT_EQ(behavior.scale_down->policies.size(), 1u);
}

TEST(AutoscalingTest, KindsAreServedAsUpstreamServesThem) {
  for (const char* version : {"v1", "v2"}) {
    const KindInfo* hpa = nullptr;
    for (const auto& kind : AllKinds()) {
      if (kind.group == "autoscaling" && kind.version == version &&
          kind.kind == "HorizontalPodAutoscaler") {
        hpa = &kind;
      }
    }
    ASSERT_NE(hpa, nullptr) << version;
    EXPECT_EQ(hpa->plural, "horizontalpodautoscalers");
    EXPECT_EQ(hpa->short_names, "hpa");
    EXPECT_EQ(hpa->categories, "all");
    EXPECT_EQ(hpa->subresources, "status");
    EXPECT_TRUE(hpa->namespaced);
  }
  // Scale is only the body of scale subresources.
  EXPECT_EQ(FindKind("autoscaling", "Scale"), nullptr);
}

TEST(AutoscalingTest, OpenApiDescribesBothVersionsAndScale) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  EXPECT_EQ(definitions.at("io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler")
                .at("x-kubernetes-group-version-kind"),
            boost::json::parse(
                R"([{"group":"autoscaling","kind":"HorizontalPodAutoscaler","version":"v1"}])"));
  EXPECT_EQ(definitions.at("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler")
                .at("x-kubernetes-group-version-kind"),
            boost::json::parse(
                R"([{"group":"autoscaling","kind":"HorizontalPodAutoscaler","version":"v2"}])"));
  EXPECT_EQ(definitions.at("io.k8s.api.autoscaling.v1.Scale").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"autoscaling","kind":"Scale","version":"v1"}])"));
  EXPECT_EQ(definitions.at("io.k8s.api.autoscaling.v1.CrossVersionObjectReference")
                .at("x-kubernetes-map-type"),
            "atomic");
  const auto& status = definitions.at("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus");
  EXPECT_EQ(status.at("required"), boost::json::parse(R"(["desiredReplicas"])"));
  EXPECT_EQ(status.at("properties").at("currentMetrics").at("items").at("$ref"),
            "#/definitions/io.k8s.api.autoscaling.v2.MetricStatus");
  EXPECT_EQ(status.at("properties").at("conditions").at("x-kubernetes-list-map-keys"),
            boost::json::parse(R"(["type"])"));
}

}  // namespace
}  // namespace kpp::api
