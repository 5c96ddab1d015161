// Events, LimitRanges and ResourceQuotas (api/core/v1/events.api, quota.api) against JSON as an
// upstream API server writes it, and their defaulting.
#include <gtest/gtest.h>

#include <string>

#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using core::v1::Event;
using core::v1::LimitRange;
using core::v1::ResourceQuota;

TEST(CoreEventSchemaTest, SchedulerAndKubeletEventsRoundTripExactly) {
  // Written by the scheduler through events.k8s.io: eventTime set, the legacy times null.
  ExpectRoundTrip<Event>(
      R"({"kind":"Event","apiVersion":"v1","metadata":{"name":"web-1.17b8c3b2d4e5f601",)"
      R"("namespace":"default","uid":"b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e","resourceVersion":"812",)"
      R"("creationTimestamp":"2024-03-01T10:00:01Z"},"involvedObject":{"kind":"Pod",)"
      R"("namespace":"default","name":"web-1","uid":"9a8b7c6d-1111-2222-3333-444455556666",)"
      R"("apiVersion":"v1","resourceVersion":"790"},"reason":"Scheduled",)"
      R"("message":"Successfully assigned default/web-1 to node-1","source":{},)"
      R"("firstTimestamp":null,"lastTimestamp":null,"type":"Normal",)"
      R"("eventTime":"2024-03-01T10:00:01.123456Z","action":"Binding",)"
      R"("reportingComponent":"default-scheduler","reportingInstance":"default-scheduler-node-1"})");
  // Written by a kubelet through core/v1, repeated three times.
  ExpectRoundTrip<Event>(
      R"({"kind":"Event","apiVersion":"v1","metadata":{"name":"web-1.17b8c3b2e0000001",)"
      R"("namespace":"default","uid":"c1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e","resourceVersion":"901",)"
      R"("creationTimestamp":"2024-03-01T10:00:05Z"},"involvedObject":{"kind":"Pod",)"
      R"("namespace":"default","name":"web-1","uid":"9a8b7c6d-1111-2222-3333-444455556666",)"
      R"("apiVersion":"v1","resourceVersion":"795","fieldPath":"spec.containers{web}"},)"
      R"("reason":"BackOff","message":"Back-off restarting failed container web in pod web-1_default",)"
      R"("source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"2024-03-01T10:00:05Z",)"
      R"("lastTimestamp":"2024-03-01T10:02:40Z","count":3,"type":"Warning","eventTime":null,)"
      R"("reportingComponent":"kubelet","reportingInstance":"node-1"})");
  // A series, with a related object; reporting fields are always written.
  ExpectRoundTrip<Event>(
      R"({"metadata":{"name":"e","creationTimestamp":null},"involvedObject":{},"source":{},)"
      R"("firstTimestamp":null,)"
      R"("lastTimestamp":null,"eventTime":"2024-03-01T10:00:01.000000Z","series":{"count":4,)"
      R"("lastObservedTime":"2024-03-01T10:09:00.500000Z"},"related":{"kind":"Node","name":"node-1"},)"
      R"("reportingComponent":"","reportingInstance":""})");
}

TEST(CoreEventSchemaTest, LimitRangeRoundTripsAndContainerDefaultsFollowMaxAndMin) {
  ExpectRoundTrip<LimitRange>(
      R"({"kind":"LimitRange","apiVersion":"v1","metadata":{"name":"limits","namespace":"team-a",)"
      R"("uid":"d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6","resourceVersion":"300",)"
      R"("creationTimestamp":"2024-03-01T10:00:00Z"},"spec":{"limits":[{"type":"Container",)"
      R"("max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","memory":"4Mi"},)"
      R"("default":{"cpu":"500m","memory":"512Mi"},"defaultRequest":{"cpu":"250m","memory":"256Mi"},)"
      R"("maxLimitRequestRatio":{"cpu":"4"}},{"type":"Pod","max":{"cpu":"4"}},)"
      R"({"type":"PersistentVolumeClaim","max":{"storage":"10Gi"},"min":{"storage":"1Gi"}}]}})");
  EXPECT_EQ(Defaulted<LimitRange>(
                R"({"spec":{"limits":[{"type":"Container","max":{"cpu":"2","memory":"1Gi"},)"
                R"("min":{"cpu":"100m","ephemeral-storage":"1Gi"},"default":{"memory":"512Mi"}},)"
                R"({"type":"Pod","max":{"cpu":"4"},"min":{"cpu":"1"}}]}})"),
            R"({"metadata":{"creationTimestamp":null},"spec":{"limits":[{"type":"Container",)"
            R"("max":{"cpu":"2","memory":"1Gi"},"min":{"cpu":"100m","ephemeral-storage":"1Gi"},)"
            R"("default":{"cpu":"2","memory":"512Mi"},"defaultRequest":{"cpu":"2",)"
            R"("ephemeral-storage":"1Gi","memory":"512Mi"}},{"type":"Pod","max":{"cpu":"4"},)"
            R"("min":{"cpu":"1"}}]}})");
}

TEST(CoreEventSchemaTest, ResourceQuotaRoundTripsExactly) {
  ExpectRoundTrip<ResourceQuota>(
      R"({"kind":"ResourceQuota","apiVersion":"v1","metadata":{"name":"compute","namespace":"team-a",)"
      R"("uid":"e1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6","resourceVersion":"330",)"
      R"("creationTimestamp":"2024-03-01T10:00:00Z"},"spec":{"hard":{"count/deployments.apps":"5",)"
      R"("limits.memory":"8Gi","pods":"10","requests.cpu":"4"},"scopes":["NotBestEffort"],)"
      R"("scopeSelector":{"matchExpressions":[{"scopeName":"PriorityClass","operator":"In",)"
      R"("values":["high","medium"]},{"scopeName":"Terminating","operator":"Exists"}]}},)"
      R"("status":{"hard":{"count/deployments.apps":"5","limits.memory":"8Gi","pods":"10",)"
      R"("requests.cpu":"4"},"used":{"count/deployments.apps":"1","limits.memory":"512Mi",)"
      R"("pods":"2","requests.cpu":"250m"}}})");
  ExpectRoundTrip<ResourceQuota>(
      R"({"metadata":{"name":"empty","creationTimestamp":null},"spec":{},"status":{}})");
}

TEST(CoreEventSchemaTest, KindTableHasEventsLimitRangesAndQuotas) {
  const KindInfo* event = FindKind("", "Event");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->plural, "events");
  EXPECT_EQ(event->short_names, "ev");
  EXPECT_TRUE(event->namespaced);
  const KindInfo* limits = FindKind("", "LimitRange");
  ASSERT_NE(limits, nullptr);
  EXPECT_EQ(limits->plural, "limitranges");
  EXPECT_EQ(limits->short_names, "limits");
  EXPECT_EQ(limits->subresources, "");
  const KindInfo* quota = FindKind("", "ResourceQuota");
  ASSERT_NE(quota, nullptr);
  EXPECT_EQ(quota->plural, "resourcequotas");
  EXPECT_EQ(quota->short_names, "quota");
  EXPECT_EQ(quota->subresources, "status");
  EXPECT_TRUE(quota->namespaced);
}

}  // namespace
}  // namespace kpp::api
