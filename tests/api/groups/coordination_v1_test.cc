// Leases (api/coordination.k8s.io/v1) against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/coordination.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using coordination_k8s_io::v1::Lease;

TEST(LeaseSchemaTest, NodeHeartbeatAndLeaderLeasesRoundTripExactly) {
  ExpectRoundTrip<Lease>(
      R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"node-1",)"
      R"("namespace":"kube-node-lease","uid":"7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",)"
      R"("resourceVersion":"48300","creationTimestamp":"2024-03-01T10:00:02Z",)"
      R"("ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"node-1",)"
      R"("uid":"2f0d5a9e-7c1b-4e3a-9d8f-6b5a4c3d2e1f"}]},"spec":{"holderIdentity":"node-1",)"
      R"("leaseDurationSeconds":40,"renewTime":"2024-03-01T12:05:10.204613Z"}})");
  ExpectRoundTrip<Lease>(
      R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{)"
      R"("name":"kube-controller-manager","namespace":"kube-system","resourceVersion":"48290",)"
      R"("creationTimestamp":"2024-03-01T10:00:05Z"},"spec":{)"
      R"("holderIdentity":"node-1_3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f","leaseDurationSeconds":15,)"
      R"("acquireTime":"2024-03-01T11:00:00.000000Z","renewTime":"2024-03-01T12:05:08.991004Z",)"
      R"("leaseTransitions":2,"strategy":"OldestEmulationVersion","preferredHolder":"node-2"}})");
  ExpectRoundTrip<Lease>(R"({"metadata":{"name":"free","creationTimestamp":null},"spec":{}})");
}

TEST(LeaseSchemaTest, MicroTimeKeepsMicroseconds) {
  auto decoded = FromJson<Lease>(R"({"spec":{"renewTime":"2024-03-01T12:05:10.000001Z"}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  ASSERT_TRUE(decoded->object.spec.renew_time.has_value());
  EXPECT_EQ(decoded->object.spec.renew_time->ToString(), "2024-03-01T12:05:10.000001Z");
}

TEST(LeaseSchemaTest, KindTableHasLeases) {
  const KindInfo* lease = FindKind("coordination.k8s.io", "Lease");
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->plural, "leases");
  EXPECT_TRUE(lease->namespaced);
  EXPECT_EQ(lease->list_kind, "LeaseList");
}

}  // namespace
}  // namespace kpp::api
