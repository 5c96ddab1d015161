// Resource metrics (api/metrics.k8s.io/v1beta1) against JSON as metrics-server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
using testing::FindKind;

namespace metrics = metrics_k8s_io::v1beta1;

TEST(MetricsSchemaTest, NodeAndPodMetricsRoundTripExactly) {
  ExpectRoundTrip<metrics::NodeMetricsList>(
      R"({"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[{)"
      R"("metadata":{"name":"node-1","creationTimestamp":"2024-03-02T09:00:30Z","labels":{)"
      R"("kubernetes.io/hostname":"node-1"}},"timestamp":"2024-03-02T09:00:21Z","window":"20.033s",)"
      R"("usage":{"cpu":"143537404n","memory":"1558380Ki"}}]})");
  ExpectRoundTrip<metrics::PodMetrics>(
      R"({"kind":"PodMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"web-1",)"
      R"("namespace":"shop","creationTimestamp":"2024-03-02T09:00:30Z","labels":{"app":"web"}},)"
      R"("timestamp":"2024-03-02T09:00:19Z","window":"18.47s","containers":[{"name":"web",)"
      R"("usage":{"cpu":"1034021n","memory":"8240Ki"}},{"name":"sidecar","usage":{"cpu":"0",)"
      R"("memory":"512Ki"}}]})");
}

// metav1.Duration decodes as Go's time.ParseDuration reads it and is written back as
// Duration.String() writes it.
TEST(MetricsSchemaTest, WindowIsAGoDuration) {
  const auto window_of = [](const std::string& json_value) {
    auto decoded = FromJson<metrics::NodeMetrics>(
        R"({"metadata":{"name":"n"},"timestamp":"2024-03-02T09:00:21Z","window":)" + json_value +
        "}");
    return decoded.ok() ? decoded->object.window : "error: " + decoded.error().message();
  };
  EXPECT_EQ(window_of(R"("90s")"), "1m30s");
  EXPECT_EQ(window_of(R"("1h")"), "1h0m0s");
  EXPECT_EQ(window_of(R"("0.5s")"), "500ms");
  EXPECT_EQ(window_of(R"("0")"), "0s");
  EXPECT_EQ(window_of(R"("1h2m3.5s")"), "1h2m3.5s");
  EXPECT_EQ(window_of(R"("-1.5h")"), "-1h30m0s");
  EXPECT_EQ(window_of(R"("abc")"), R"(error: window: time: invalid duration "abc")");
  EXPECT_EQ(window_of(R"("")"), R"(error: window: time: invalid duration "")");
  EXPECT_EQ(window_of(R"("1")"), R"(error: window: time: missing unit in duration "1")");
  EXPECT_EQ(window_of(R"("3d")"), R"(error: window: time: unknown unit "d" in duration "3d")");
  EXPECT_EQ(window_of("5"),
            "error: json: cannot unmarshal number into Go struct field NodeMetrics.window of "
            "type v1.Duration");
  // The field path reaches into lists.
  auto pod = FromJson<metrics::PodMetricsList>(
      R"({"items":[{"metadata":{"name":"a"},"window":"1s"},{"metadata":{"name":"b"},)"
      R"("window":"1x"}]})");
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().message(), R"(items[1].window: time: unknown unit "x" in duration "1x")");
  auto encoded = FromJson<metrics::NodeMetrics>(R"({"window":"120s"})");
  ASSERT_TRUE(encoded.ok());
  EXPECT_NE(ToJson(encoded->object).find(R"("window":"2m0s")"), std::string::npos);
}

TEST(MetricsSchemaTest, KindTableServesReadOnlyMetrics) {
  const KindInfo* nodes = FindKind("metrics.k8s.io", "NodeMetrics");
  ASSERT_NE(nodes, nullptr);
  EXPECT_EQ(nodes->version, "v1beta1");
  EXPECT_EQ(nodes->plural, "nodes");
  EXPECT_FALSE(nodes->namespaced);
  EXPECT_EQ(nodes->verbs, "get,list");
  EXPECT_EQ(nodes->list_kind, "NodeMetricsList");
  const KindInfo* pods = FindKind("metrics.k8s.io", "PodMetrics");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->plural, "pods");
  EXPECT_TRUE(pods->namespaced);
  EXPECT_EQ(pods->verbs, "get,list");
}

}  // namespace
}  // namespace kpp::api
