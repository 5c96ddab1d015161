// authorization.k8s.io/v1 access reviews against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/authorization.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
using testing::FindKind;

namespace authz = authorization_k8s_io::v1;

TEST(AuthorizationSchemaTest, AccessReviewsRoundTripExactly) {
  ExpectRoundTrip<authz::SelfSubjectAccessReview>(
      R"({"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default","verb":"create",)"
      R"("resource":"pods"}},"status":{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding )"
      R"(\"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\""}})");
  ExpectRoundTrip<authz::SubjectAccessReview>(
      R"({"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"shop","verb":"list",)"
      R"("group":"apps","version":"v1","resource":"deployments","subresource":"scale","name":"web",)"
      R"("fieldSelector":{"rawSelector":"spec.nodeName=node-1","requirements":[{"key":"spec.nodeName",)"
      R"("operator":"In","values":["node-1"]}]},"labelSelector":{"rawSelector":"app=web",)"
      R"("requirements":[{"key":"app","operator":"In","values":["web"]}]}},"user":"jane",)"
      R"("groups":["devs","system:authenticated"],"extra":{"scopes":["view"]},"uid":"u-42"},)"
      R"("status":{"allowed":false,"denied":true,"reason":"no RBAC policy matched",)"
      R"("evaluationError":"webhook unavailable"}})");
  ExpectRoundTrip<authz::LocalSubjectAccessReview>(
      R"({"kind":"LocalSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","metadata":{)"
      R"("namespace":"shop","creationTimestamp":null},"spec":{"nonResourceAttributes":{)"
      R"("path":"/healthz","verb":"get"},"user":"jane"},"status":{"allowed":false}})");
}

TEST(AuthorizationSchemaTest, RulesReviewRoundTripsExactly) {
  ExpectRoundTrip<authz::SelfSubjectRulesReview>(
      R"({"kind":"SelfSubjectRulesReview","apiVersion":"authorization.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":null},"spec":{"namespace":"default"},"status":{"resourceRules":[{)"
      R"("verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews",)"
      R"("selfsubjectrulesreviews"]},{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],)"
      R"("resourceNames":["cluster-info"]}],"nonResourceRules":[{"verbs":["get"],"nonResourceURLs":)"
      R"(["/healthz","/version"]}],"incomplete":false}})");
}

TEST(AuthorizationSchemaTest, KindTableServesReviewsForCreateOnly) {
  const struct {
    const char* kind;
    const char* plural;
    bool namespaced;
  } expected[] = {{"SubjectAccessReview", "subjectaccessreviews", false},
                  {"SelfSubjectAccessReview", "selfsubjectaccessreviews", false},
                  {"LocalSubjectAccessReview", "localsubjectaccessreviews", true},
                  {"SelfSubjectRulesReview", "selfsubjectrulesreviews", false}};
  for (const auto& want : expected) {
    const KindInfo* info = FindKind("authorization.k8s.io", want.kind);
    ASSERT_NE(info, nullptr) << want.kind;
    EXPECT_EQ(info->plural, want.plural);
    EXPECT_EQ(info->namespaced, want.namespaced) << want.kind;
    EXPECT_EQ(info->verbs, "create");
    EXPECT_EQ(info->list_kind, "");
  }
}

}  // namespace
}  // namespace kpp::api
