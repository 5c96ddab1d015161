// RBAC through the real kubectl (1.27 and 1.33): token users get exactly what their bindings
// allow, refusals carry upstream's 403 texts, `kubectl auth can-i` (yes/no and --list) answers
// from the same policy, and a user cannot grant more than they hold.
#include <gtest/gtest.h>

#include <thread>

#include "server/component_credentials.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;

const std::vector<std::string> kKubectls = {"1.27", "1.33"};

class AuthorizationE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& minor : kKubectls) {
      ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
    const std::string tokens = server_.WriteFile(
        "tokens.csv", "alice-token,alice,1,devs\nbob-token,bob,2\ncarol-token,carol,3\n");
    ASSERT_TRUE(server_.Start({"--token-auth-file", tokens}));
    alice_ = server_.TokenKubeconfig("alice-token");
    bob_ = server_.TokenKubeconfig("bob-token");
    carol_ = server_.TokenKubeconfig("carol-token");
    // alice reads pods in shop (through her group); carol manages roles and bindings in shop
    // and reads pods there, nothing more.
    const std::string policy = server_.WriteFile("policy.yaml", R"(
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-read-pods, namespace: shop}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: devs}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: rbac-manager, namespace: shop}
rules:
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch, create, update, patch, delete]
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-manages-rbac, namespace: shop}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: carol}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: rbac-manager}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: web, image: nginx}]
)");
    auto applied = server_.Kubectl({"apply", "-f", policy});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
  }

  KppServer server_;
  std::string alice_;
  std::string bob_;
  std::string carol_;
};

TEST_F(AuthorizationE2ETest, UsersGetExactlyWhatTheirBindingsAllow) {
  for (const auto& minor : kKubectls) {
    SCOPED_TRACE("kubectl " + minor);
    // alice: pods in shop, read only.
    auto pods = server_.KubectlAs(alice_, {"get", "pods", "-n", "shop", "-o", "name"}, minor);
    EXPECT_EQ(pods.exit_code, 0) << pods.err;
    EXPECT_EQ(pods.out, "pod/web\n");
    auto one = server_.KubectlAs(alice_, {"get", "pod", "web", "-n", "shop", "-o", "name"}, minor);
    EXPECT_EQ(one.out, "pod/web\n") << one.err;

    const struct {
      std::string* user;
      std::vector<std::string> args;
      std::string error;
    } refused[] = {
        {&alice_,
         {"get", "pods", "-n", "default"},
         "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource "
         "\"pods\" in API group \"\" in the namespace \"default\"\n"},
        {&alice_,
         {"get", "nodes"},
         "Error from server (Forbidden): nodes is forbidden: User \"alice\" cannot list resource "
         "\"nodes\" in API group \"\" at the cluster scope\n"},
        {&alice_,
         {"delete", "pod", "web", "-n", "shop"},
         "Error from server (Forbidden): pods \"web\" is forbidden: User \"alice\" cannot delete "
         "resource \"pods\" in API group \"\" in the namespace \"shop\"\n"},
        {&alice_,
         {"get", "deployments.apps", "-n", "shop"},
         "Error from server (Forbidden): deployments.apps is forbidden: User \"alice\" cannot "
         "list resource \"deployments\" in API group \"apps\" in the namespace \"shop\"\n"},
        {&alice_,
         {"get", "--raw", "/metrics"},
         "Error from server (Forbidden): forbidden: User \"alice\" cannot get path "
         "\"/metrics\"\n"},
        {&bob_,
         {"get", "pod", "web", "-n", "shop"},
         "Error from server (Forbidden): pods \"web\" is forbidden: User \"bob\" cannot get "
         "resource \"pods\" in API group \"\" in the namespace \"shop\"\n"},
    };
    for (const auto& r : refused) {
      auto result = server_.KubectlAs(*r.user, r.args, minor);
      EXPECT_NE(result.exit_code, 0) << r.args[0] << " " << r.args[1];
      EXPECT_EQ(result.err, r.error);
    }
    // Discovery and the public info stay open to every authenticated user.
    auto version = server_.KubectlAs(bob_, {"get", "--raw", "/version"}, minor);
    EXPECT_EQ(version.exit_code, 0) << version.err;
    auto apis = server_.KubectlAs(bob_, {"api-resources", "--api-group=apps", "-o", "name"}, minor);
    EXPECT_EQ(apis.exit_code, 0) << apis.err;
  }
}

TEST_F(AuthorizationE2ETest, CanIAnswersFromThePolicy) {
  for (const auto& minor : kKubectls) {
    SCOPED_TRACE("kubectl " + minor);
    auto yes = server_.KubectlAs(alice_, {"auth", "can-i", "list", "pods", "-n", "shop"}, minor);
    EXPECT_EQ(yes.exit_code, 0) << yes.err;
    EXPECT_EQ(yes.out, "yes\n");
    auto logs =
        server_.KubectlAs(alice_, {"auth", "can-i", "get", "pods/log", "-n", "shop"}, minor);
    EXPECT_EQ(logs.out, "yes\n") << logs.err;
    auto no = server_.KubectlAs(alice_, {"auth", "can-i", "create", "pods", "-n", "shop"}, minor);
    EXPECT_EQ(no.exit_code, 1);
    EXPECT_EQ(no.out, "no\n");
    auto elsewhere =
        server_.KubectlAs(alice_, {"auth", "can-i", "list", "pods", "-n", "default"}, minor);
    EXPECT_EQ(elsewhere.out, "no\n");
    auto admin = server_.Kubectl({"auth", "can-i", "create", "pods"}, minor);
    EXPECT_EQ(admin.out, "yes\n") << admin.err;
    auto everything = server_.Kubectl({"auth", "can-i", "*", "*"}, minor);
    EXPECT_EQ(everything.out, "yes\n") << everything.err;

    auto list = server_.KubectlAs(alice_, {"auth", "can-i", "--list", "-n", "shop"}, minor);
    EXPECT_EQ(list.exit_code, 0) << list.err;
    const auto log_line = list.out.find("\npods/log ");
    ASSERT_NE(log_line, std::string::npos) << list.out;
    EXPECT_EQ(list.out.substr(log_line + 1, list.out.find('\n', log_line + 1) - log_line - 1)
                  .ends_with("[]               [get list watch]"),
              true)
        << list.out;
    EXPECT_NE(list.out.find("selfsubjectaccessreviews.authorization.k8s.io"), std::string::npos)
        << list.out;
    EXPECT_NE(list.out.find("[/healthz]"), std::string::npos) << list.out;
  }
  // A SubjectAccessReview for another user, as an admin (what `can-i --as` asks without
  // impersonation).
  const std::string review = server_.WriteFile("sar.json", R"({
  "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
  "spec": {"user": "alice", "groups": ["devs"],
           "resourceAttributes": {"namespace": "shop", "verb": "watch", "resource": "pods"}}})");
  auto allowed = server_.Kubectl({"create", "-f", review, "-o",
                                  "jsonpath={.status.allowed} "
                                  "{.status.reason}"});
  EXPECT_EQ(allowed.out,
            "true RBAC: allowed by RoleBinding \"devs-read-pods/shop\" of Role \"pod-reader\" to "
            "Group \"devs\"")
      << allowed.err;
  // bob may not ask about others.
  auto refused = server_.KubectlAs(bob_, {"create", "--validate=false", "-f", review}, "1.33");
  EXPECT_NE(refused.err.find("subjectaccessreviews.authorization.k8s.io is forbidden: User "
                             "\"bob\" cannot create resource \"subjectaccessreviews\" in API "
                             "group \"authorization.k8s.io\" at the cluster scope"),
            std::string::npos)
      << refused.err;
}

TEST_F(AuthorizationE2ETest, ImpersonationAnswersForTheUserActedAs) {
  for (const auto& minor : kKubectls) {
    SCOPED_TRACE("kubectl " + minor);
    // The admin may impersonate anyone: can-i --as answers for that user.
    auto alice = server_.Kubectl(
        {"auth", "can-i", "list", "pods", "-n", "shop", "--as", "alice", "--as-group", "devs"},
        minor);
    EXPECT_EQ(alice.out, "yes\n") << alice.err;
    auto bob =
        server_.Kubectl({"auth", "can-i", "list", "pods", "-n", "shop", "--as", "bob"}, minor);
    EXPECT_EQ(bob.out, "no\n") << bob.err;
    auto as_bob = server_.Kubectl({"get", "pods", "-n", "shop", "--as", "bob"}, minor);
    EXPECT_EQ(as_bob.err,
              "Error from server (Forbidden): pods is forbidden: User \"bob\" cannot list "
              "resource \"pods\" in API group \"\" in the namespace \"shop\"\n");
    auto whoami =
        server_.Kubectl({"auth", "whoami", "--as", "system:serviceaccount:shop:builder", "-o",
                         "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"},
                        minor);
    EXPECT_EQ(whoami.out,
              "system:serviceaccount:shop:builder "
              "[\"system:serviceaccounts\",\"system:serviceaccounts:shop\",\"system:"
              "authenticated\"]")
        << whoami.err;
    // Others may not.
    auto refused = server_.KubectlAs(alice_, {"get", "pods", "-n", "shop", "--as", "bob"}, minor);
    EXPECT_EQ(refused.err,
              "Error from server (Forbidden): users \"bob\" is forbidden: User \"alice\" cannot "
              "impersonate resource \"users\" in API group \"\" at the cluster scope\n");
  }
}

TEST_F(AuthorizationE2ETest, EscalationIsRefused) {
  // carol may write roles in shop, but only with rights she holds.
  const std::string small = server_.WriteFile("small-role.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: lister, namespace: shop}
rules:
- {apiGroups: [""], resources: [pods], verbs: [list]}
)");
  auto created = server_.KubectlAs(carol_, {"create", "-f", small}, "1.33");
  EXPECT_EQ(created.exit_code, 0) << created.err;

  const std::string big = server_.WriteFile("big-role.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [pods, secrets], verbs: [get, delete]}
)");
  for (const auto& minor : kKubectls) {
    auto refused = server_.KubectlAs(carol_, {"create", "-f", big}, minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find(
                  "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"carol\" "
                  "(groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not "
                  "currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n"
                  "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"delete\"]}"),
              std::string::npos)
        << minor << ": " << refused.err;
  }

  // Binding a role she does not hold (admin) is refused; binding one she holds is not.
  const std::string bind_admin = server_.WriteFile("bind-admin.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-admin, namespace: shop}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: bob}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
)");
  auto bound = server_.KubectlAs(carol_, {"create", "-f", bind_admin}, "1.33");
  EXPECT_NE(bound.exit_code, 0);
  EXPECT_NE(bound.err.find("rolebindings.rbac.authorization.k8s.io \"bob-admin\" is forbidden: "
                           "user \"carol\" (groups=[\"system:authenticated\"]) is attempting to "
                           "grant RBAC permissions not currently held:"),
            std::string::npos)
      << bound.err;
  auto bob_before =
      server_.KubectlAs(bob_, {"auth", "can-i", "list", "pods", "-n", "shop"}, "1.33");
  EXPECT_EQ(bob_before.out, "no\n");
  auto bind_lister = server_.KubectlAs(
      carol_, {"create", "rolebinding", "bob-lists", "-n", "shop", "--role=lister", "--user=bob"},
      "1.33");
  EXPECT_EQ(bind_lister.exit_code, 0) << bind_lister.err;
  // The new binding applies to bob's very next request.
  auto bob_after = server_.KubectlAs(bob_, {"get", "pods", "-n", "shop", "-o", "name"}, "1.33");
  EXPECT_EQ(bob_after.out, "pod/web\n") << bob_after.err;
  // Aggregating takes every right, whoever may create ClusterRoles.
  auto may_create = server_.Kubectl(
      {"create", "clusterrole", "clusterrole-creator", "--verb=create", "--resource=clusterroles"});
  ASSERT_EQ(may_create.exit_code, 0) << may_create.err;
  auto carol_creates = server_.Kubectl({"create", "clusterrolebinding", "carol-creates",
                                        "--clusterrole=clusterrole-creator", "--user=carol"});
  ASSERT_EQ(carol_creates.exit_code, 0) << carol_creates.err;
  const std::string aggregated = server_.WriteFile("aggregated.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {kubernetes.io/bootstrapping: rbac-defaults}}]
)");
  auto aggregating = server_.KubectlAs(carol_, {"create", "-f", aggregated}, "1.33");
  EXPECT_NE(aggregating.exit_code, 0);
  EXPECT_NE(aggregating.err.find("clusterroles.rbac.authorization.k8s.io \"everything\" is "
                                 "forbidden: must have cluster-admin privileges to use the "
                                 "aggregationRule"),
            std::string::npos)
      << aggregating.err;
  // Patching her own role to more than she holds is refused too.
  auto patched = server_.KubectlAs(carol_,
                                   {"patch", "role", "lister", "-n", "shop", "--type=json", "-p",
                                    R"([{"op":"add","path":"/rules/0/verbs/-","value":"delete"}])"},
                                   "1.33");
  EXPECT_NE(patched.exit_code, 0);
  EXPECT_NE(patched.err.find("is attempting to grant RBAC permissions not currently held:\n"
                             "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}"),
            std::string::npos)
      << patched.err;
}

TEST_F(AuthorizationE2ETest, AggregatedClusterRolesFollowTheirSources) {
  const std::string extra = server_.WriteFile("extra.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: storageclasses-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- {apiGroups: [storage.k8s.io], resources: [storageclasses], verbs: [get, list]}
)");
  auto created = server_.Kubectl({"apply", "-f", extra});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto bound = server_.Kubectl(
      {"create", "clusterrolebinding", "bob-views", "--clusterrole=view", "--user=bob"});
  ASSERT_EQ(bound.exit_code, 0) << bound.err;
  // The view role (and, through it, edit and admin) picks the rule up.
  std::string view;
  for (int attempt = 0; attempt < 50; ++attempt) {
    view = server_.Kubectl({"get", "clusterrole", "admin", "-o", "yaml"}).out;
    if (view.find("storageclasses") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(view.find("storageclasses"), std::string::npos) << view;
  auto can =
      server_.KubectlAs(bob_, {"auth", "can-i", "list", "storageclasses.storage.k8s.io"}, "1.33");
  EXPECT_EQ(can.out, "yes\n") << can.err;
  auto pods = server_.KubectlAs(bob_, {"auth", "can-i", "list", "pods", "-n", "default"}, "1.33");
  EXPECT_EQ(pods.out, "yes\n") << pods.err;
  auto secrets =
      server_.KubectlAs(bob_, {"auth", "can-i", "list", "secrets", "-n", "default"}, "1.33");
  EXPECT_EQ(secrets.out, "no\n") << secrets.err;
}

TEST_F(AuthorizationE2ETest, BootstrapPolicyIsReconciledAtStart) {
  // Trim two bootstrap roles; one of them is marked not to be updated.
  const std::string trim = R"([{"op":"replace","path":"/rules","value":[{"verbs":["get"],)"
                           R"("nonResourceURLs":["/custom"]}]}])";
  for (const char* role : {"system:discovery", "system:monitoring"}) {
    auto trimmed = server_.Kubectl({"patch", "clusterrole", role, "--type=json", "-p", trim});
    ASSERT_EQ(trimmed.exit_code, 0) << trimmed.err;
  }
  auto kept = server_.Kubectl({"annotate", "--overwrite", "clusterrole", "system:monitoring",
                               "rbac.authorization.kubernetes.io/autoupdate=false"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  auto unbound =
      server_.Kubectl({"patch", "clusterrolebinding", "system:public-info-viewer", "--type=json",
                       "-p", R"([{"op":"remove","path":"/subjects/1"}])"});
  ASSERT_EQ(unbound.exit_code, 0) << unbound.err;
  auto can = server_.KubectlAs(bob_, {"auth", "can-i", "get", "/apis"}, "1.33");
  EXPECT_EQ(can.out, "no\n") << can.err;

  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start({"--token-auth-file", server_.root_dir() + "/tokens.csv"}));
  bob_ = server_.TokenKubeconfig("bob-token");
  auto discovery = server_.Kubectl(
      {"get", "clusterrole", "system:discovery", "-o", "jsonpath={.rules[*].nonResourceURLs}"});
  EXPECT_EQ(discovery.out,
            "[\"/custom\"] [\"/api\",\"/api/*\",\"/apis\",\"/apis/*\",\"/healthz\","
            "\"/livez\",\"/openapi\",\"/openapi/*\",\"/readyz\",\"/version\",\"/version/\"]")
      << discovery.err;
  auto basic = server_.Kubectl(
      {"get", "clusterrole", "system:monitoring", "-o", "jsonpath={.rules[*].nonResourceURLs}"});
  EXPECT_EQ(basic.out, "[\"/custom\"]") << basic.err;
  auto subjects = server_.Kubectl({"get", "clusterrolebinding", "system:public-info-viewer", "-o",
                                   "jsonpath={.subjects[*].name}"});
  EXPECT_EQ(subjects.out, "system:authenticated system:unauthenticated") << subjects.err;
  auto again = server_.KubectlAs(bob_, {"auth", "can-i", "get", "/apis"}, "1.33");
  EXPECT_EQ(again.out, "yes\n") << again.err;
}

TEST_F(AuthorizationE2ETest, ComponentsAuthenticateAsThemselvesWithUpstreamsRights) {
  auto scheduler = server::IssueComponentCredentials(
      server_.data_dir(), server::SchedulerIdentity(),
      "https://127.0.0.1:" + std::to_string(server_.port()), std::chrono::system_clock::now());
  ASSERT_TRUE(scheduler.ok()) << scheduler.error().message();
  auto whoami =
      server_.KubectlAs(scheduler->kubeconfig_path,
                        {"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"}, "1.33");
  EXPECT_EQ(whoami.out, "system:kube-scheduler") << whoami.err;
  const struct {
    std::vector<std::string> question;
    std::string answer;
  } questions[] = {
      {{"create", "pods", "--subresource=binding", "-n", "shop"}, "yes\n"},
      {{"list", "nodes"}, "yes\n"},
      {{"update", "leases.coordination.k8s.io/kube-scheduler", "-n", "kube-system"}, "yes\n"},
      {{"update", "leases.coordination.k8s.io/other", "-n", "kube-system"}, "no\n"},
      {{"delete", "nodes"}, "no\n"},
      {{"get", "secrets", "-n", "shop"}, "no\n"},
  };
  for (const auto& q : questions) {
    std::vector<std::string> args = {"auth", "can-i"};
    args.insert(args.end(), q.question.begin(), q.question.end());
    auto answer = server_.KubectlAs(scheduler->kubeconfig_path, args, "1.33");
    EXPECT_EQ(answer.out, q.answer) << q.question[0] << " " << q.question[1] << answer.err;
  }
  auto pods =
      server_.KubectlAs(scheduler->kubeconfig_path, {"get", "pods", "-A", "-o", "name"}, "1.33");
  EXPECT_EQ(pods.out, "pod/web\n") << pods.err;
}

TEST_F(AuthorizationE2ETest, NodeReadsOnlyWhatItsPodsUse) {
  const std::string objects = server_.WriteFile("node-objects.yaml", R"(
apiVersion: v1
kind: Secret
metadata: {name: tls, namespace: shop}
stringData: {key: value}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: shop}
stringData: {key: value}
---
apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: shop}
spec:
  nodeName: node-1
  containers: [{name: c, image: nginx}]
  volumes: [{name: tls, secret: {secretName: tls}}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: shop}
spec:
  nodeName: node-2
  containers: [{name: c, image: nginx}]
)");
  auto applied = server_.Kubectl({"apply", "-f", objects});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  auto node = server::IssueComponentCredentials(
      server_.data_dir(), server::NodeIdentity("node-1"),
      "https://127.0.0.1:" + std::to_string(server_.port()), std::chrono::system_clock::now());
  ASSERT_TRUE(node.ok()) << node.error().message();
  auto elsewhere_pod = server_.Kubectl({"get", "pod", "elsewhere", "-n", "shop", "-o", "json"});
  ASSERT_EQ(elsewhere_pod.exit_code, 0) << elsewhere_pod.err;
  const std::string elsewhere = server_.WriteFile("elsewhere.json", elsewhere_pod.out);
  for (const auto& minor : kKubectls) {
    SCOPED_TRACE("kubectl " + minor);
    auto used = server_.KubectlAs(node->kubeconfig_path,
                                  {"get", "secret", "tls", "-n", "shop", "-o", "name"}, minor);
    EXPECT_EQ(used.out, "secret/tls\n") << used.err;
    auto unused =
        server_.KubectlAs(node->kubeconfig_path, {"get", "secret", "other", "-n", "shop"}, minor);
    EXPECT_NE(unused.exit_code, 0);
    EXPECT_EQ(unused.err,
              "Error from server (Forbidden): secrets \"other\" is forbidden: User "
              "\"system:node:node-1\" cannot get resource \"secrets\" in API group \"\" in the "
              "namespace \"shop\": no relationship found between node 'node-1' and this object\n");
    auto pods = server_.KubectlAs(
        node->kubeconfig_path,
        {"get", "pods", "-A", "--field-selector", "spec.nodeName=node-1", "-o", "name"}, minor);
    EXPECT_EQ(pods.out, "pod/bound\n") << pods.err;
    // As upstream's: the node authorizer lets a node write pod statuses, NodeRestriction
    // admission refuses those of pods bound elsewhere (a kubelet PUTs or PATCHes the status
    // without reading pods/status, which system:node does not grant).
    auto status = server_.KubectlAs(
        node->kubeconfig_path,
        {"replace", "--raw", "/api/v1/namespaces/shop/pods/elsewhere/status", "-f", elsewhere},
        minor);
    EXPECT_NE(status.exit_code, 0);
    EXPECT_EQ(status.err,
              "Error from server (Forbidden): pods \"elsewhere\" is forbidden: node \"node-1\" "
              "can only update pod status for pods with spec.nodeName set to itself\n");
  }
}

}  // namespace
}  // namespace kpp
