// EndpointSlices (api/discovery.k8s.io/v1) against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/discovery.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using discovery_k8s_io::v1::EndpointSlice;

TEST(DiscoverySchemaTest, EndpointSliceRoundTripsExactly) {
  ExpectRoundTrip<EndpointSlice>(
      R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-x7k2p",)"
      R"("generateName":"web-","namespace":"shop","uid":"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",)"
      R"("resourceVersion":"5210","generation":3,"creationTimestamp":"2024-03-02T08:30:00Z",)"
      R"("labels":{"endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io",)"
      R"("kubernetes.io/service-name":"web"},"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":)"
      R"("2024-03-02T08:31:12Z"},"ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"web",)"
      R"("uid":"0b7c2f0e-55d4-4c1e-9a57-8f8f5a0d2c11","controller":true,"blockOwnerDeletion":true}]},)"
      R"("addressType":"IPv4","endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true,)"
      R"("serving":true,"terminating":false},"targetRef":{"kind":"Pod","namespace":"shop",)"
      R"("name":"web-7d9f8-abcde","uid":"9a8b7c6d-1111-2222-3333-444455556666"},"nodeName":"node-1",)"
      R"("zone":"zone-a","hints":{"forZones":[{"name":"zone-a"}],"forNodes":[{"name":"node-1"}]}},)"
      R"({"addresses":["10.244.1.7"],"conditions":{"ready":false,"serving":true,"terminating":true},)"
      R"("hostname":"web-1","targetRef":{"kind":"Pod","namespace":"shop","name":"web-1",)"
      R"("uid":"9a8b7c6d-1111-2222-3333-444455557777"},"deprecatedTopology":{"topology.kubernetes.io/zone":"zone-b"},)"
      R"("nodeName":"node-2"}],"ports":[{"name":"http","protocol":"TCP","port":8080,"appProtocol":"http"},)"
      R"({"name":"","protocol":"UDP","port":53}]})");
  // A service without ready pods: no endpoints, no conditions. Protobuf has no empty list.
  ExpectRoundTrip<EndpointSlice>(
      R"({"metadata":{"name":"db-abcde","creationTimestamp":null},"addressType":"FQDN",)"
      R"("endpoints":[{"addresses":["db.example.com"],"conditions":{}}],"ports":[]})",
      R"({"metadata":{"name":"db-abcde","creationTimestamp":null},"addressType":"FQDN",)"
      R"("endpoints":[{"addresses":["db.example.com"],"conditions":{}}],"ports":null})");
}

TEST(DiscoverySchemaTest, PortNameAndProtocolAreDefaulted) {
  EXPECT_EQ(Defaulted<EndpointSlice>(R"({"addressType":"IPv6","endpoints":[],"ports":[{"port":80},)"
                                     R"({"name":"x","protocol":"SCTP"}]})"),
            R"({"metadata":{"creationTimestamp":null},"addressType":"IPv6","endpoints":[],)"
            R"("ports":[{"name":"","protocol":"TCP","port":80},{"name":"x","protocol":"SCTP"}]})");
}

TEST(DiscoverySchemaTest, KindTableHasEndpointSlices) {
  const KindInfo* slice = FindKind("discovery.k8s.io", "EndpointSlice");
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->version, "v1");
  EXPECT_EQ(slice->plural, "endpointslices");
  EXPECT_EQ(slice->singular, "endpointslice");
  EXPECT_EQ(slice->list_kind, "EndpointSliceList");
  EXPECT_TRUE(slice->namespaced);
  EXPECT_EQ(slice->short_names, "");
  EXPECT_EQ(slice->openapi_name, "io.k8s.api.discovery.v1.EndpointSlice");
}

}  // namespace
}  // namespace kpp::api
