// RBAC objects (api/rbac.authorization.k8s.io/v1) against JSON as an upstream API server writes
// it, and their defaulting.
#include <gtest/gtest.h>

#include <string>

#include "api/rbac.authorization.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace rbac = rbac_authorization_k8s_io::v1;

TEST(RbacSchemaTest, RolesRoundTripExactly) {
  ExpectRoundTrip<rbac::ClusterRole>(
      R"({"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"view",)"
      R"("uid":"3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f","resourceVersion":"120",)"
      R"("creationTimestamp":"2024-03-01T10:00:00Z","labels":{"kubernetes.io/bootstrapping":"rbac-defaults",)"
      R"("rbac.authorization.k8s.io/aggregate-to-edit":"true"},"annotations":{)"
      R"("rbac.authorization.kubernetes.io/autoupdate":"true"}},"rules":[{"verbs":["get","list","watch"],)"
      R"("apiGroups":[""],"resources":["configmaps","endpoints","pods","pods/log","services"]},)"
      R"({"verbs":["get"],"apiGroups":["apps"],"resources":["deployments"],"resourceNames":["web"]}],)"
      R"("aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{)"
      R"("rbac.authorization.k8s.io/aggregate-to-view":"true"}}]}})");
  ExpectRoundTrip<rbac::ClusterRole>(
      R"({"kind":"ClusterRole","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{)"
      R"("name":"system:discovery","creationTimestamp":"2024-03-01T10:00:00Z"},"rules":[{"verbs":["get"],)"
      R"("nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/version","/version/"]}]})");
  ExpectRoundTrip<rbac::Role>(
      R"({"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"pod-reader",)"
      R"("namespace":"default","creationTimestamp":"2024-03-01T10:00:00Z"},"rules":[{"verbs":["get","watch",)"
      R"("list"],"apiGroups":[""],"resources":["pods"]}]})");
}

TEST(RbacSchemaTest, BindingsRoundTripExactly) {
  ExpectRoundTrip<rbac::ClusterRoleBinding>(
      R"({"kind":"ClusterRoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{)"
      R"("name":"cluster-admin","creationTimestamp":"2024-03-01T10:00:00Z","labels":{)"
      R"("kubernetes.io/bootstrapping":"rbac-defaults"}},"subjects":[{"kind":"Group",)"
      R"("apiGroup":"rbac.authorization.k8s.io","name":"system:masters"}],"roleRef":{)"
      R"("apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"}})");
  ExpectRoundTrip<rbac::RoleBinding>(
      R"({"kind":"RoleBinding","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"read-pods",)"
      R"("namespace":"default","creationTimestamp":"2024-03-01T10:00:00Z"},"subjects":[{"kind":"User",)"
      R"("apiGroup":"rbac.authorization.k8s.io","name":"jane"},{"kind":"ServiceAccount","name":"builder",)"
      R"("namespace":"ci"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role",)"
      R"("name":"pod-reader"}})");
}

TEST(RbacSchemaTest, BindingsDefaultApiGroups) {
  EXPECT_EQ(
      Defaulted<rbac::RoleBinding>(
          R"({"metadata":{"name":"b"},"subjects":[{"kind":"User","name":"jane"},)"
          R"({"kind":"Group","name":"devs"},{"kind":"ServiceAccount","name":"sa","namespace":"ci"}],)"
          R"("roleRef":{"kind":"ClusterRole","name":"view"}})"),
      R"({"metadata":{"name":"b","creationTimestamp":null},"subjects":[{"kind":"User",)"
      R"("apiGroup":"rbac.authorization.k8s.io","name":"jane"},{"kind":"Group",)"
      R"("apiGroup":"rbac.authorization.k8s.io","name":"devs"},{"kind":"ServiceAccount",)"
      R"("name":"sa","namespace":"ci"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io",)"
      R"("kind":"ClusterRole","name":"view"}})");
  EXPECT_EQ(
      Defaulted<rbac::ClusterRoleBinding>(
          R"({"subjects":[{"kind":"Group","name":"system:nodes"}],"roleRef":{)"
          R"("kind":"ClusterRole","name":"system:node"}})"),
      R"({"metadata":{"creationTimestamp":null},"subjects":[{"kind":"Group",)"
      R"("apiGroup":"rbac.authorization.k8s.io","name":"system:nodes"}],"roleRef":{)"
      R"("apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"system:node"}})");
}

TEST(RbacSchemaTest, KindTableHasRbacKinds) {
  const struct {
    const char* kind;
    const char* plural;
    bool namespaced;
  } expected[] = {{"Role", "roles", true},
                  {"ClusterRole", "clusterroles", false},
                  {"RoleBinding", "rolebindings", true},
                  {"ClusterRoleBinding", "clusterrolebindings", false}};
  for (const auto& want : expected) {
    const KindInfo* info = FindKind("rbac.authorization.k8s.io", want.kind);
    ASSERT_NE(info, nullptr) << want.kind;
    EXPECT_EQ(info->plural, want.plural);
    EXPECT_EQ(info->namespaced, want.namespaced) << want.kind;
    EXPECT_EQ(info->short_names, "");
    EXPECT_EQ(info->verbs, "create,delete,deletecollection,get,list,patch,update,watch");
  }
}

}  // namespace
}  // namespace kpp::api
