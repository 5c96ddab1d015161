// The per-kind object rules through the real kubectl: names that a kind refuses, and fields an
// update may not change, with upstream's error texts.
#include <gtest/gtest.h>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

std::string DeploymentYaml(const std::string& app) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n"
         "    matchLabels:\n      app: " +
         app + "\n  template:\n    metadata:\n      labels:\n        app: " + app +
         "\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
}

class UpdateRulesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  ProcessResult Kubectl(const std::vector<std::string>& args) { return server_.Kubectl(args); }

  KppServer server_;
};

TEST_F(UpdateRulesE2ETest, ApplyingANewDeploymentSelectorIsRefused) {
  ASSERT_EQ(
      Kubectl({"apply", "-f", server_.WriteFile("web.yaml", DeploymentYaml("web"))}).exit_code, 0);
  auto changed = Kubectl({"apply", "-f", server_.WriteFile("web2.yaml", DeploymentYaml("web2"))});
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(
      changed.err.find("The Deployment \"web\" is invalid: spec.selector: Invalid value: "
                       "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, "
                       "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"),
      std::string::npos)
      << changed.err;
  // Other fields still change.
  EXPECT_EQ(Kubectl({"patch", "deployment", "web", "-p", R"({"spec":{"replicas":3}})"}).exit_code,
            0);
}

TEST_F(UpdateRulesE2ETest, ARoleBindingKeepsItsRoleRef) {
  const auto binding = [](const std::string& role) {
    return "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: "
           "readers\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n"
           "  name: " +
           role + "\nsubjects:\n- kind: User\n  name: jane\n";
  };
  ASSERT_EQ(Kubectl({"apply", "-f", server_.WriteFile("rb.yaml", binding("view"))}).exit_code, 0);
  auto changed = Kubectl({"apply", "-f", server_.WriteFile("rb2.yaml", binding("edit"))});
  EXPECT_NE(changed.exit_code, 0);
  EXPECT_NE(changed.err.find("The RoleBinding \"readers\" is invalid: roleRef: Invalid value: "
                             "rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                             "Kind:\"ClusterRole\", Name:\"edit\"}: cannot change roleRef"),
            std::string::npos)
      << changed.err;
}

TEST_F(UpdateRulesE2ETest, NamesFollowTheRulesOfTheirKind) {
  auto service =
      Kubectl({"create", "-f",
               server_.WriteFile("svc.yaml",
                                 "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n"
                                 "  ports:\n  - port: 80\n")});
  EXPECT_NE(service.exit_code, 0);
  EXPECT_NE(service.err.find("The Service \"1web\" is invalid: metadata.name: Invalid value: "
                             "\"1web\": a DNS-1035 label must consist of lower case alphanumeric "
                             "characters or '-', start with an alphabetic character"),
            std::string::npos)
      << service.err;
  auto ns = Kubectl({"create", "namespace", "Team-a"});
  EXPECT_NE(ns.exit_code, 0);
  EXPECT_NE(ns.err.find("The Namespace \"Team-a\" is invalid: metadata.name: Invalid value: "
                        "\"Team-a\": a lowercase RFC 1123 label must consist of"),
            std::string::npos)
      << ns.err;
  // RBAC names are path segments: colons and capitals are fine.
  EXPECT_EQ(Kubectl({"create", "clusterrole", "system:Custom", "--verb=get", "--resource=pods"})
                .exit_code,
            0);
}

}  // namespace
}  // namespace kpp
