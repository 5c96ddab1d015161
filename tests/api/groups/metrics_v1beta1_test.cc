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
