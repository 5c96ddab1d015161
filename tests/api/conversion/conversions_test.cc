// The conversion table and the steps around the store: every kind served in a version other
// than its storage version converts both ways, and objects cross versions with their metadata.
#include "api/conversion/conversions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>

#include "api/autoscaling/v1/codec.h"
#include "api/autoscaling/v2/codec.h"
#include "api/conversion/autoscaling.h"
#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"

namespace kpp::api::conversion {
namespace {

const KindInfo& Find(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& info : AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << version << " " << kind;
  std::abort();
}

std::string GroupVersion(const KindInfo& kind) {
  return kind.group.empty() ? std::string(kind.version)
                            : std::string(kind.group) + "/" + std::string(kind.version);
}

template <typename T>
ObjectPtr Decoded(const KindInfo& kind, std::string_view json) {
  auto decoded = kind.codec->Decode(json, {.unknown_fields = UnknownFields::kReject});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_NE(dynamic_cast<TypedObject<T>*>(decoded->object.get()), nullptr);
  return std::move(decoded->object);
}

template <typename T>
const T& As(const Object& object) {
  return dynamic_cast<const TypedObject<T>&>(object).value();
}

TEST(ConversionsTest, EveryKindStoredElsewhereConvertsBothWays) {
  int converted_kinds = 0;
  for (const auto& kind : AllKinds()) {
    const KindInfo& storage = StorageKind(kind);
    if (&storage == &kind) continue;
    ++converted_kinds;
    SCOPED_TRACE(GroupVersion(kind) + " " + std::string(kind.kind));
    EXPECT_EQ(storage.kind, kind.kind);
    EXPECT_EQ(storage.plural, kind.plural);
    EXPECT_EQ(storage.namespaced, kind.namespaced);
    EXPECT_EQ(storage.storage, nullptr) << "storage versions are stored as themselves";
    EXPECT_TRUE(CanConvert(kind, storage));
    EXPECT_TRUE(CanConvert(storage, kind));
  }
  EXPECT_GE(converted_kinds, 1);
  // autoscaling/v2 is where upstream 1.32 stores autoscalers, whichever version wrote them.
  EXPECT_EQ(&StorageKind(Find("autoscaling", "v1", "HorizontalPodAutoscaler")),
            &Find("autoscaling", "v2", "HorizontalPodAutoscaler"));
}

TEST(ConversionsTest, EveryRegistrationNamesServedVersionsOfOneKind) {
  std::set<std::tuple<std::string_view, std::string_view, std::string_view>> seen;
  for (const auto& registration : Registrations()) {
    SCOPED_TRACE(std::string(registration.kind) + " " + std::string(registration.from) + " -> " +
                 std::string(registration.to));
    EXPECT_TRUE(seen.emplace(registration.kind, registration.from, registration.to).second)
        << "registered twice";
    int found = 0;
    for (const auto& kind : AllKinds()) {
      if (kind.kind == registration.kind &&
          (GroupVersion(kind) == registration.from || GroupVersion(kind) == registration.to)) {
        ++found;
      }
    }
    EXPECT_EQ(found, 2);
  }
}

TEST(ConversionsTest, AKindStoredAsItselfIsNotTouched) {
  const KindInfo& config_maps = Find("", "v1", "ConfigMap");
  auto object =
      Decoded<core::v1::ConfigMap>(config_maps, R"({"metadata":{"name":"a"},"data":{"k":"v"}})");
  Object* original = object.get();
  auto stored = ToStorageVersion(config_maps, std::move(object));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->get(), original);
  auto served = FromStorageVersion(config_maps, std::move(stored).value());
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->get(), original);
  EXPECT_EQ((*served)->ToJson(),
            R"({"metadata":{"name":"a","creationTimestamp":null},"data":{"k":"v"}})");
}

TEST(ConversionsTest, AV1AutoscalerIsStoredAsV2WithItsMetadata) {
  const KindInfo& v1 = Find("autoscaling", "v1", "HorizontalPodAutoscaler");
  auto object = Decoded<autoscaling::v1::HorizontalPodAutoscaler>(
      v1, R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{)"
          R"("name":"web","namespace":"shop","uid":"u-1","resourceVersion":"12",)"
          R"("labels":{"app":"web"}},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
          R"("name":"web","apiVersion":"apps/v1"},"maxReplicas":5,)"
          R"("targetCPUUtilizationPercentage":60}})");
  auto stored = ToStorageVersion(v1, std::move(object));
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  // minReplicas is the v2 default; the CPU target is a Resource metric.
  EXPECT_EQ((*stored)->ToJson(),
            R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{)"
            R"("name":"web","namespace":"shop","uid":"u-1","resourceVersion":"12",)"
            R"("creationTimestamp":null,"labels":{"app":"web"}},"spec":{"scaleTargetRef":{)"
            R"("kind":"Deployment","name":"web","apiVersion":"apps/v1"},"minReplicas":1,)"
            R"("maxReplicas":5,)"
            R"("metrics":[{"type":"Resource","resource":{"name":"cpu","target":{)"
            R"("type":"Utilization","averageUtilization":60}}}]},"status":{"desiredReplicas":0,)"
            R"("currentMetrics":null}})");
}

TEST(ConversionsTest, ReadingAsV1DefaultsInV2First) {
  const KindInfo& v1 = Find("autoscaling", "v1", "HorizontalPodAutoscaler");
  const KindInfo& v2 = Find("autoscaling", "v2", "HorizontalPodAutoscaler");
  // As an older server might have stored it: no metrics, and a behavior with only one rule.
  auto stored = Decoded<autoscaling::v2::HorizontalPodAutoscaler>(
      v2, R"({"metadata":{"name":"web","namespace":"shop"},"spec":{"scaleTargetRef":{)"
          R"("kind":"Deployment","name":"web"},"maxReplicas":5,"behavior":{"scaleDown":{)"
          R"("stabilizationWindowSeconds":60}}}})");
  auto served = FromStorageVersion(v1, std::move(stored));
  ASSERT_TRUE(served.ok()) << served.error().message();
  const auto& hpa = As<autoscaling::v1::HorizontalPodAutoscaler>(**served);
  EXPECT_EQ(hpa.api_version, "autoscaling/v1");
  EXPECT_EQ(hpa.kind, "HorizontalPodAutoscaler");
  EXPECT_EQ(hpa.spec.target_cpu_utilization_percentage, 80);
  EXPECT_EQ(hpa.spec.min_replicas, 1);
  // The defaulted behavior travels in its annotation, scale-up rules included.
  const auto behavior = hpa.metadata.annotations.find(kHpaBehaviorAnnotation);
  ASSERT_NE(behavior, hpa.metadata.annotations.end());
  EXPECT_NE(behavior->second.find(R"("StabilizationWindowSeconds":60)"), std::string::npos)
      << behavior->second;
  EXPECT_NE(behavior->second.find("ScaleUp"), std::string::npos) << behavior->second;
}

TEST(ConversionsTest, V2OnlyMetricsSurviveAV1RoundTrip) {
  const KindInfo& v1 = Find("autoscaling", "v1", "HorizontalPodAutoscaler");
  const KindInfo& v2 = Find("autoscaling", "v2", "HorizontalPodAutoscaler");
  const std::string memory_metric =
      R"({"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue",)"
      R"("averageValue":"500Mi"}}})";
  auto stored = Decoded<autoscaling::v2::HorizontalPodAutoscaler>(
      v2, R"({"metadata":{"name":"web","namespace":"shop"},"spec":{"scaleTargetRef":{)"
          R"("kind":"Deployment","name":"web"},"maxReplicas":5,"metrics":[)" +
              memory_metric + "]}}");
  auto served = FromStorageVersion(v1, stored->Clone());
  ASSERT_TRUE(served.ok());
  const auto& hpa = As<autoscaling::v1::HorizontalPodAutoscaler>(**served);
  EXPECT_FALSE(hpa.spec.target_cpu_utilization_percentage);
  EXPECT_EQ(hpa.metadata.annotations.at(kHpaMetricsAnnotation),
            R"([{"type":"Resource","resource":{"name":"memory","targetAverageValue":"500Mi"}}])");
  // Written back as v1 (say with a new maxReplicas), the memory metric is still there.
  (*served)->SetDefaults();
  auto written = ToStorageVersion(v1, std::move(served).value());
  ASSERT_TRUE(written.ok());
  const auto& back = As<autoscaling::v2::HorizontalPodAutoscaler>(**written);
  ASSERT_EQ(back.spec.metrics.size(), 1u);
  EXPECT_EQ(back.spec.metrics[0].resource->name, "memory");
  EXPECT_TRUE(back.metadata.annotations.empty());
}

TEST(ConversionsTest, MistakesAreErrorsNotCrashes) {
  const KindInfo& v1 = Find("autoscaling", "v1", "HorizontalPodAutoscaler");
  const KindInfo& v2 = Find("autoscaling", "v2", "HorizontalPodAutoscaler");
  const KindInfo& config_maps = Find("", "v1", "ConfigMap");
  const KindInfo& pods = Find("", "v1", "Pod");
  auto config_map = Decoded<core::v1::ConfigMap>(config_maps, R"({"metadata":{"name":"a"}})");
  EXPECT_FALSE(CanConvert(config_maps, pods));
  auto unregistered = Convert(*config_map, config_maps, pods);
  ASSERT_FALSE(unregistered.ok());
  EXPECT_EQ(unregistered.error().message(), "no conversion of ConfigMap from v1 to v1");
  auto wrong_type = Convert(*config_map, v1, v2);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().message(),
            "the object to convert is not a HorizontalPodAutoscaler of autoscaling/v1");
}

}  // namespace
}  // namespace kpp::api::conversion
