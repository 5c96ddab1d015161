// Conversion of horizontal pod autoscalers between autoscaling/v1 and v2, against what upstream
// serves for the same stored object in each version.
#include "api/conversion/autoscaling.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <string>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/runtime/object_codec.h"

namespace kpp::api::conversion {
namespace {

namespace v1 = autoscaling::v1;
namespace v2 = autoscaling::v2;

template <typename T>
T Decode(const std::string& json) {
  auto decoded = FromJson<T>(json, {.unknown_fields = UnknownFields::kReject});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  return decoded.ok() ? decoded->object : T{};
}

// `text` as a JSON string, as it appears as an annotation value.
std::string Quoted(const std::string& text) {
  return boost::json::serialize(boost::json::value(text));
}

// An autoscaler on every kind of metric, as autoscaling/v2 serves it.
const std::string kV2 =
    R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{"name":"web",)"
    R"("namespace":"shop","uid":"8b7a6f5e-4d3c-4b2a-9f1e-0d9c8b7a6f5e","resourceVersion":"7001",)"
    R"("creationTimestamp":"2024-05-03T09:00:00Z","annotations":{"team":"storefront"}},)"
    R"("spec":{"scaleTargetRef":{"kind":"Deployment","name":"web","apiVersion":"apps/v1"},)"
    R"("minReplicas":2,"maxReplicas":10,"metrics":[{"type":"Pods","pods":{"metric":{)"
    R"("name":"packets-per-second"},"target":{"type":"AverageValue","averageValue":"1k"}}},{)"
    R"("type":"Object","object":{"describedObject":{"kind":"Ingress","name":"main-route",)"
    R"("apiVersion":"networking.k8s.io/v1"},"target":{"type":"Value","value":"10k"},)"
    R"("metric":{"name":"requests-per-second"}}},{"type":"External","external":{"metric":{)"
    R"("name":"queue_messages_ready","selector":{"matchLabels":{"queue":"worker_tasks"}}},)"
    R"("target":{"type":"AverageValue","averageValue":"30"}}},{"type":"Resource","resource":{)"
    R"("name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}},{)"
    R"("type":"ContainerResource","containerResource":{"name":"cpu","target":{)"
    R"("type":"Utilization","averageUtilization":60},"container":"application"}},{)"
    R"("type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization",)"
    R"("averageUtilization":50}}}],"behavior":{"scaleUp":{"stabilizationWindowSeconds":0,)"
    R"("selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{)"
    R"("type":"Percent","value":100,"periodSeconds":15}]},"scaleDown":{)"
    R"("stabilizationWindowSeconds":300,"selectPolicy":"Max","policies":[{"type":"Percent",)"
    R"("value":100,"periodSeconds":15}]}}},"status":{"observedGeneration":3,)"
    R"("lastScaleTime":"2024-05-03T09:10:00Z","currentReplicas":3,"desiredReplicas":3,)"
    R"("currentMetrics":[{"type":"Pods","pods":{"metric":{"name":"packets-per-second"},)"
    R"("current":{"averageValue":"866"}}},{"type":"Object","object":{"metric":{)"
    R"("name":"requests-per-second"},"current":{"value":"8k"},"describedObject":{)"
    R"("kind":"Ingress","name":"main-route","apiVersion":"networking.k8s.io/v1"}}},{)"
    R"("type":"External","external":{"metric":{"name":"queue_messages_ready","selector":{)"
    R"("matchLabels":{"queue":"worker_tasks"}}},"current":{"value":"150","averageValue":"50"}}},)"
    R"({"type":"Resource","resource":{"name":"cpu","current":{"averageValue":"120m",)"
    R"("averageUtilization":60}}}],"conditions":[{"type":"AbleToScale","status":"True",)"
    R"("lastTransitionTime":"2024-05-03T09:00:15Z","reason":"ReadyForNewScale",)"
    R"("message":"recommended size matches current size"},{"type":"ScalingActive",)"
    R"("status":"True","lastTransitionTime":"2024-05-03T09:00:15Z","reason":"ValidMetricFound",)"
    R"("message":"the HPA was able to successfully calculate a replica count from cpu resource )"
    R"x(utilization (percentage of request)"}]}})x";

// The same autoscaler as autoscaling/v1 serves it.
const std::string kMetricsAnnotation =
    R"([{"type":"Pods","pods":{"metricName":"packets-per-second","targetAverageValue":"1k"}},)"
    R"({"type":"Object","object":{"target":{"kind":"Ingress","name":"main-route",)"
    R"("apiVersion":"networking.k8s.io/v1"},"metricName":"requests-per-second",)"
    R"("targetValue":"10k"}},{"type":"External","external":{"metricName":"queue_messages_ready",)"
    R"("metricSelector":{"matchLabels":{"queue":"worker_tasks"}},"targetAverageValue":"30"}},)"
    R"({"type":"Resource","resource":{"name":"memory","targetAverageValue":"500Mi"}},)"
    R"({"type":"ContainerResource","containerResource":{"name":"cpu",)"
    R"("targetAverageUtilization":60,"container":"application"}}])";
const std::string kCurrentMetricsAnnotation =
    R"([{"type":"Pods","pods":{"metricName":"packets-per-second","currentAverageValue":"866"}},)"
    R"({"type":"Object","object":{"target":{"kind":"Ingress","name":"main-route",)"
    R"("apiVersion":"networking.k8s.io/v1"},"metricName":"requests-per-second",)"
    R"("currentValue":"8k"}},{"type":"External","external":{"metricName":"queue_messages_ready",)"
    R"("metricSelector":{"matchLabels":{"queue":"worker_tasks"}},"currentValue":"150",)"
    R"("currentAverageValue":"50"}},{"type":"Resource","resource":{"name":"cpu",)"
    R"("currentAverageUtilization":60,"currentAverageValue":"120m"}}])";
const std::string kConditionsAnnotation =
    R"([{"type":"AbleToScale","status":"True","lastTransitionTime":"2024-05-03T09:00:15Z",)"
    R"("reason":"ReadyForNewScale","message":"recommended size matches current size"},)"
    R"({"type":"ScalingActive","status":"True","lastTransitionTime":"2024-05-03T09:00:15Z",)"
    R"("reason":"ValidMetricFound","message":"the HPA was able to successfully calculate a )"
    R"x(replica count from cpu resource utilization (percentage of request)"}])x";
// Upstream's internal type, serialized with Go's field names.
const std::string kBehaviorAnnotation =
    R"({"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[)"
    R"({"Type":"Pods","Value":4,"PeriodSeconds":15},{"Type":"Percent","Value":100,)"
    R"("PeriodSeconds":15}]},"ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":"Max",)"
    R"("Policies":[{"Type":"Percent","Value":100,"PeriodSeconds":15}]}})";

const std::string kV1 =
    R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v1","metadata":{"name":"web",)"
    R"("namespace":"shop","uid":"8b7a6f5e-4d3c-4b2a-9f1e-0d9c8b7a6f5e","resourceVersion":"7001",)"
    R"("creationTimestamp":"2024-05-03T09:00:00Z","annotations":{)"
    R"("autoscaling.alpha.kubernetes.io/behavior":)" +
    Quoted(kBehaviorAnnotation) + R"(,"autoscaling.alpha.kubernetes.io/conditions":)" +
    Quoted(kConditionsAnnotation) + R"(,"autoscaling.alpha.kubernetes.io/current-metrics":)" +
    Quoted(kCurrentMetricsAnnotation) + R"(,"autoscaling.alpha.kubernetes.io/metrics":)" +
    Quoted(kMetricsAnnotation) +
    R"(,"team":"storefront"}},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web",)"
    R"("apiVersion":"apps/v1"},"minReplicas":2,"maxReplicas":10,)"
    R"("targetCPUUtilizationPercentage":50},"status":{"observedGeneration":3,)"
    R"("lastScaleTime":"2024-05-03T09:10:00Z","currentReplicas":3,"desiredReplicas":3,)"
    R"("currentCPUUtilizationPercentage":60}})";

TEST(AutoscalingConversionTest, V2ToV1KeepsWhatV1CannotHoldInAnnotations) {
  EXPECT_EQ(ToJson(ConvertToV1(Decode<v2::HorizontalPodAutoscaler>(kV2))), kV1);
}

TEST(AutoscalingConversionTest, V1ToV2RestoresTheAnnotatedFields) {
  EXPECT_EQ(ToJson(ConvertToV2(Decode<v1::HorizontalPodAutoscaler>(kV1))), kV2);
}

TEST(AutoscalingConversionTest, RoundTripsInBothDirections) {
  const auto v2_object = Decode<v2::HorizontalPodAutoscaler>(kV2);
  EXPECT_EQ(ConvertToV2(ConvertToV1(v2_object)), v2_object);
  const auto v1_object = Decode<v1::HorizontalPodAutoscaler>(kV1);
  EXPECT_EQ(ConvertToV1(ConvertToV2(v1_object)), v1_object);
}

TEST(AutoscalingConversionTest, V1WithoutTargetScalesOnDefaultCpuUtilization) {
  const std::string v1_json =
      R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v1","metadata":{)"
      R"("name":"php-apache","namespace":"default","creationTimestamp":"2024-05-03T08:00:00Z"},)"
      R"("spec":{"scaleTargetRef":{"kind":"Deployment","name":"php-apache",)"
      R"("apiVersion":"apps/v1"},"minReplicas":1,"maxReplicas":10},"status":{)"
      R"("currentReplicas":0,"desiredReplicas":0}})";
  const auto v2_object = ConvertToV2(Decode<v1::HorizontalPodAutoscaler>(v1_json));
  EXPECT_EQ(ToJson(v2_object),
            R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{)"
            R"("name":"php-apache","namespace":"default",)"
            R"("creationTimestamp":"2024-05-03T08:00:00Z"},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"php-apache","apiVersion":"apps/v1"},"minReplicas":1,)"
            R"("maxReplicas":10,"metrics":[{"type":"Resource","resource":{"name":"cpu",)"
            R"("target":{"type":"Utilization","averageUtilization":80}}}]},"status":{)"
            R"("desiredReplicas":0,"currentMetrics":null}})");
  // Read back as v1, the default shows as the target.
  EXPECT_EQ(ToJson(ConvertToV1(v2_object)),
            R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v1","metadata":{)"
            R"("name":"php-apache","namespace":"default",)"
            R"("creationTimestamp":"2024-05-03T08:00:00Z"},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"php-apache","apiVersion":"apps/v1"},"minReplicas":1,)"
            R"("maxReplicas":10,"targetCPUUtilizationPercentage":80},"status":{)"
            R"("currentReplicas":0,"desiredReplicas":0}})");
}

TEST(AutoscalingConversionTest, V1CpuStatusBecomesAResourceMetric) {
  v1::HorizontalPodAutoscaler v1_object;
  v1_object.spec.target_cpu_utilization_percentage = 70;
  v1_object.status.current_cpu_utilization_percentage = 35;
  const auto v2_object = ConvertToV2(v1_object);
  EXPECT_EQ(ToJson(v2_object.status),
            R"({"desiredReplicas":0,"currentMetrics":[{"type":"Resource","resource":{)"
            R"("name":"cpu","current":{"averageUtilization":35}}}]})");
  ASSERT_EQ(v2_object.spec.metrics.size(), 1u);
  EXPECT_EQ(v2_object.spec.metrics[0].resource->target.average_utilization, 70);
  EXPECT_EQ(ConvertToV1(v2_object).status.current_cpu_utilization_percentage, 35);
}

TEST(AutoscalingConversionTest, StaleAndBrokenAnnotationsAreDropped) {
  // Annotations a v2 client copied from a v1 read are not written back as they were: the v1
  // view shows only what the v2 object holds.
  auto v2_object = Decode<v2::HorizontalPodAutoscaler>(kV2);
  v2_object.spec.metrics = {v2_object.spec.metrics.back()};  // the CPU target alone
  v2_object.spec.behavior.reset();
  v2_object.status.current_metrics.reset();
  v2_object.status.conditions.clear();
  v2_object.metadata.annotations[kHpaMetricsAnnotation] = "[]";
  v2_object.metadata.annotations[kHpaBehaviorAnnotation] = "{}";
  const auto v1_object = ConvertToV1(v2_object);
  EXPECT_EQ(v1_object.metadata.annotations,
            (std::map<std::string, std::string>{{"team", "storefront"}}));
  EXPECT_EQ(v1_object.spec.target_cpu_utilization_percentage, 50);

  // Annotations that do not parse are ignored, and never reach v2.
  auto broken = Decode<v1::HorizontalPodAutoscaler>(kV1);
  broken.metadata.annotations[kHpaMetricsAnnotation] = "not json";
  broken.metadata.annotations[kHpaCurrentMetricsAnnotation] = R"([{"type":7}])";
  broken.metadata.annotations[kHpaBehaviorAnnotation] = R"({"ScaleUp":{"Policies":"many"}})";
  const auto converted = ConvertToV2(broken);
  EXPECT_EQ(converted.metadata.annotations,
            (std::map<std::string, std::string>{{"team", "storefront"}}));
  ASSERT_EQ(converted.spec.metrics.size(), 1u);  // only the CPU target
  EXPECT_EQ(converted.spec.metrics[0].resource->name, "cpu");
  EXPECT_FALSE(converted.spec.behavior);
  ASSERT_TRUE(converted.status.current_metrics);  // from currentCPUUtilizationPercentage
  EXPECT_EQ(converted.status.current_metrics->size(), 1u);
  EXPECT_EQ(converted.status.conditions.size(), 2u);
}

TEST(AutoscalingConversionTest, BehaviorAnnotationReadsLikeGo) {
  // encoding/json matches field names ignoring case, skips unknown keys and treats null as
  // absent; a behavior with neither direction is no behavior.
  v1::HorizontalPodAutoscaler v1_object;
  v1_object.metadata.annotations[kHpaBehaviorAnnotation] =
      R"({"scaleup":{"selectpolicy":"Disabled","Tolerance":"0.1","POLICIES":null},)"
      R"("ScaleDown":null})";
  auto behavior = ConvertToV2(v1_object).spec.behavior;
  ASSERT_TRUE(behavior);
  EXPECT_EQ(ToJson(*behavior), R"({"scaleUp":{"selectPolicy":"Disabled"}})");

  v1_object.metadata.annotations[kHpaBehaviorAnnotation] = R"({"ScaleUp":null,"ScaleDown":null})";
  EXPECT_FALSE(ConvertToV2(v1_object).spec.behavior);
}

}  // namespace
}  // namespace kpp::api::conversion
