// PodDisruptionBudgets and Evictions (api/policy/v1) against JSON as an upstream API server
// writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/policy/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
using testing::FindKind;

namespace policy = policy::v1;

TEST(PdbSchemaTest, DisruptionBudgetsRoundTripExactly) {
  ExpectRoundTrip<policy::PodDisruptionBudget>(
      R"({"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"web",)"
      R"("namespace":"shop","uid":"af0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d","resourceVersion":"6001",)"
      R"("generation":1,"creationTimestamp":"2024-03-02T09:00:00Z"},"spec":{"minAvailable":2,)"
      R"("selector":{"matchLabels":{"app":"web"}}},"status":{"observedGeneration":1,)"
      R"("disruptionsAllowed":1,"currentHealthy":3,"desiredHealthy":2,"expectedPods":3,)"
      R"("conditions":[{"type":"DisruptionAllowed","status":"True","observedGeneration":1,)"
      R"("lastTransitionTime":"2024-03-02T09:00:05Z","reason":"SufficientPods","message":""}]}})");
  ExpectRoundTrip<policy::PodDisruptionBudget>(
      R"({"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"db",)"
      R"("namespace":"shop","creationTimestamp":"2024-03-02T09:00:00Z"},"spec":{"selector":{)"
      R"("matchExpressions":[{"key":"app","operator":"In","values":["db"]}]},"maxUnavailable":"25%",)"
      R"("unhealthyPodEvictionPolicy":"AlwaysAllow"},"status":{"disruptedPods":{)"
      R"("db-0":"2024-03-02T09:10:00Z"},"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,)"
      R"("expectedPods":0}})");
}

TEST(PdbSchemaTest, EvictionRoundTripsExactly) {
  ExpectRoundTrip<policy::Eviction>(
      R"({"kind":"Eviction","apiVersion":"policy/v1","metadata":{"name":"web-1","namespace":"shop",)"
      R"("creationTimestamp":null},"deleteOptions":{"gracePeriodSeconds":30,"preconditions":{)"
      R"("uid":"9a8b7c6d-1111-2222-3333-444455556666"}}})");
}

TEST(PdbSchemaTest, KindTableHasBudgetsButNotEvictions) {
  const KindInfo* pdb = FindKind("policy", "PodDisruptionBudget");
  ASSERT_NE(pdb, nullptr);
  EXPECT_EQ(pdb->plural, "poddisruptionbudgets");
  EXPECT_EQ(pdb->short_names, "pdb");
  EXPECT_EQ(pdb->subresources, "status");
  EXPECT_TRUE(pdb->namespaced);
  EXPECT_EQ(FindKind("policy", "Eviction"), nullptr);
}

}  // namespace
}  // namespace kpp::api
