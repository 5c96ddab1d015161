// events.k8s.io/v1 Events against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/events.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using events_k8s_io::v1::Event;

TEST(EventsV1SchemaTest, EventsRoundTripExactly) {
  ExpectRoundTrip<Event>(
      R"({"kind":"Event","apiVersion":"events.k8s.io/v1","metadata":{"name":"web-1.17b8c3b2d4e5f601",)"
      R"("namespace":"default","uid":"b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e","resourceVersion":"812",)"
      R"("creationTimestamp":"2024-03-01T10:00:01Z"},"eventTime":"2024-03-01T10:00:01.123456Z",)"
      R"("reportingController":"default-scheduler","reportingInstance":"default-scheduler-node-1",)"
      R"("action":"Binding","reason":"Scheduled","regarding":{"kind":"Pod","namespace":"default",)"
      R"("name":"web-1","uid":"9a8b7c6d-1111-2222-3333-444455556666","apiVersion":"v1",)"
      R"("resourceVersion":"790"},"note":"Successfully assigned default/web-1 to node-1",)"
      R"("type":"Normal","deprecatedSource":{},"deprecatedFirstTimestamp":null,)"
      R"("deprecatedLastTimestamp":null})");
  // A kubelet event seen through events.k8s.io: legacy fields carried over, with a series.
  ExpectRoundTrip<Event>(
      R"({"kind":"Event","apiVersion":"events.k8s.io/v1","metadata":{"name":"web-1.17b8c3b2e0000001",)"
      R"("namespace":"default","creationTimestamp":"2024-03-01T10:00:05Z"},"eventTime":null,)"
      R"("series":{"count":4,"lastObservedTime":"2024-03-01T10:09:00.500000Z"},)"
      R"("reportingController":"kubelet","reportingInstance":"node-1","reason":"BackOff",)"
      R"("regarding":{"kind":"Pod","namespace":"default","name":"web-1","fieldPath":"spec.containers{web}"},)"
      R"("related":{"kind":"Node","name":"node-1"},"note":"Back-off restarting failed container",)"
      R"("type":"Warning","deprecatedSource":{"component":"kubelet","host":"node-1"},)"
      R"("deprecatedFirstTimestamp":"2024-03-01T10:00:05Z","deprecatedLastTimestamp":"2024-03-01T10:02:40Z",)"
      R"("deprecatedCount":3})");
}

TEST(EventsV1SchemaTest, KindTableHasEvents) {
  const KindInfo* event = FindKind("events.k8s.io", "Event");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->version, "v1");
  EXPECT_EQ(event->plural, "events");
  EXPECT_EQ(event->short_names, "ev");
  EXPECT_TRUE(event->namespaced);
  EXPECT_EQ(event->openapi_name, "io.k8s.api.events.v1.Event");
}

}  // namespace
}  // namespace kpp::api
