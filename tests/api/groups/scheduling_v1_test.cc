// PriorityClasses (api/scheduling.k8s.io/v1) against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/scheduling.k8s.io/v1/codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using scheduling_k8s_io::v1::PriorityClass;

TEST(PriorityClassSchemaTest, RoundTripsAndDefaultsPreemptionPolicy) {
  ExpectRoundTrip<PriorityClass>(
      R"({"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{)"
      R"("name":"system-node-critical","uid":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",)"
      R"("resourceVersion":"80","generation":1,"creationTimestamp":"2024-03-01T10:00:00Z"},)"
      R"("value":2000001000,"description":"For pods that must stay on their node.",)"
      R"("preemptionPolicy":"PreemptLowerPriority"})");
  ExpectRoundTrip<PriorityClass>(
      R"({"metadata":{"name":"batch-low","creationTimestamp":null},"value":0,)"
      R"("globalDefault":true,"preemptionPolicy":"Never"})");
  EXPECT_EQ(Defaulted<PriorityClass>(R"({"metadata":{"name":"high"},"value":1000})"),
            R"({"metadata":{"name":"high","creationTimestamp":null},"value":1000,)"
            R"("preemptionPolicy":"PreemptLowerPriority"})");
}

TEST(PriorityClassSchemaTest, KindTableHasPriorityClasses) {
  const KindInfo* pc = FindKind("scheduling.k8s.io", "PriorityClass");
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(pc->plural, "priorityclasses");
  EXPECT_EQ(pc->short_names, "pc");
  EXPECT_FALSE(pc->namespaced);
}

}  // namespace
}  // namespace kpp::api
