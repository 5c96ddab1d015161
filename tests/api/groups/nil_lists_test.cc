// Lists and maps that upstream's Go types declare without omitempty: a nil one is written as
// null and an empty one as [], as Go's encoding/json does; protobuf cannot tell them apart and
// decodes both as nil, as upstream's generated protobuf code does.
#include <gtest/gtest.h>

#include <string>

#include "api/core/v1/codec.h"
#include "api/discovery.k8s.io/v1/codec.h"
#include "api/rbac.authorization.k8s.io/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
namespace rbac = rbac_authorization_k8s_io::v1;
namespace discovery = discovery_k8s_io::v1;

constexpr std::string_view kRoleHead =
    R"({"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1",)"
    R"("metadata":{"name":"aggregated","creationTimestamp":null},)";

std::string Role(std::string_view rest) {
  return std::string(kRoleHead) + std::string(rest) + "}";
}

TEST(NilListTest, AnAbsentListWithoutOmitemptyIsWrittenAsNull) {
  auto decoded = FromJson<rbac::ClusterRole>(Role(R"("aggregationRule":{})"), {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_TRUE(decoded->object.rules.is_nil());
  EXPECT_EQ(ToJson(decoded->object), Role(R"("rules":null,"aggregationRule":{})"));
}

TEST(NilListTest, NullAndEmptyListsRoundTripAsSent) {
  ExpectRoundTrip<rbac::ClusterRole>(Role(R"("rules":null)"));
  // Protobuf has no empty list: it comes back nil, as from upstream's protobuf decoding.
  ExpectRoundTrip<rbac::ClusterRole>(Role(R"("rules":[])"), Role(R"("rules":null)"));
  ExpectRoundTrip<rbac::ClusterRole>(
      Role(R"("rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])"));
}

TEST(NilListTest, NullAfterAListMakesItNilAgain) {
  rbac::Role role;
  auto decoded = FromJson<rbac::Role>(R"({"rules":[]})", {});
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->object.rules.is_nil());
  EXPECT_EQ(ToJson(decoded->object), R"({"metadata":{"creationTimestamp":null},"rules":[]})");
  role = decoded->object;
  role.rules.set_nil(true);
  EXPECT_EQ(ToJson(role), R"({"metadata":{"creationTimestamp":null},"rules":null})");
  // A list filled by code is written as it is.
  role.rules.push_back({});
  role.rules.back().verbs.push_back("get");
  EXPECT_EQ(ToJson(role), R"({"metadata":{"creationTimestamp":null},"rules":[{"verbs":["get"]}]})");
}

TEST(NilListTest, NilAndEmptyCompareEqualAsUpstreamSemanticEquality) {
  rbac::Role nil_rules;
  auto empty = FromJson<rbac::Role>(R"({"rules":[]})", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(nil_rules, empty->object);
}

TEST(NilListTest, EndpointSliceEndpointsAndNestedAddresses) {
  ExpectRoundTrip<discovery::EndpointSlice>(
      R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-abc",)"
      R"("namespace":"default","creationTimestamp":null},"addressType":"IPv4","endpoints":null,)"
      R"("ports":null})");
  ExpectRoundTrip<discovery::EndpointSlice>(
      R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-abc",)"
      R"("namespace":"default","creationTimestamp":null},"addressType":"IPv4","endpoints":[)"
      R"({"addresses":["10.0.0.1"],"conditions":{}}],"ports":[]})",
      R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-abc",)"
      R"("namespace":"default","creationTimestamp":null},"addressType":"IPv4","endpoints":[)"
      R"({"addresses":["10.0.0.1"],"conditions":{}}],"ports":null})");
}

TEST(NilListTest, PodContainersAbsentIsNull) {
  auto decoded = FromJson<core::v1::PodSpec>(R"({})", {});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(ToJson(decoded->object), R"({"containers":null})");
}

TEST(NilListTest, TheItemsOfAListKindAreAlwaysAList) {
  rbac::ClusterRoleList list;
  EXPECT_EQ(ToJson(list), R"({"metadata":{},"items":[]})");
}

}  // namespace
}  // namespace kpp::api
