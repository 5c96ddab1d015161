// RBAC rule evaluation, escalation checks, aggregation, bootstrap reconciliation and the 403
// texts, against upstream's behaviour (cases after k8s.io/kubernetes plugin/pkg/auth/authorizer/
// rbac and pkg/registry/rbac/validation tests).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac.h"
#include "apiserver/authz/rbac_authorizer.h"

namespace kpp::apiserver::authz {
namespace {

PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> groups,
                std::vector<std::string> resources, std::vector<std::string> names = {}) {
  return {std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}
PolicyRule UrlRule(std::vector<std::string> verbs, std::vector<std::string> urls) {
  return {std::move(verbs), {}, {}, {}, std::move(urls)};
}

Attributes Resource(std::string user, std::vector<std::string> groups, std::string verb,
                    std::string group, std::string resource, std::string namespace_ = "",
                    std::string name = "", std::string subresource = "") {
  Attributes a;
  a.user.name = std::move(user);
  a.user.groups = std::move(groups);
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.namespace_ = std::move(namespace_);
  a.name = std::move(name);
  a.subresource = std::move(subresource);
  return a;
}

Attributes Path(std::string user, std::string verb, std::string path) {
  Attributes a;
  a.user.name = std::move(user);
  a.verb = std::move(verb);
  a.path = std::move(path);
  return a;
}

Role MakeRole(std::string namespace_, std::string name, std::vector<PolicyRule> rules) {
  Role role;
  role.namespace_ = std::move(namespace_);
  role.name = std::move(name);
  role.rules = std::move(rules);
  return role;
}

Binding MakeBinding(std::string namespace_, std::string name, std::string role_kind,
                    std::string role, std::vector<Subject> subjects) {
  Binding binding;
  binding.namespace_ = std::move(namespace_);
  binding.name = std::move(name);
  binding.role_ref = {kRbacGroup, std::move(role_kind), std::move(role)};
  binding.subjects = std::move(subjects);
  return binding;
}

TEST(RbacRuleTest, RuleMatchingAsUpstream) {
  const struct {
    const char* name;
    PolicyRule rule;
    Attributes attributes;
    bool allowed;
  } cases[] = {
      {"exact", Rule({"get"}, {""}, {"pods"}), Resource("u", {}, "get", "", "pods"), true},
      {"other verb", Rule({"get"}, {""}, {"pods"}), Resource("u", {}, "list", "", "pods"), false},
      {"star verb", Rule({"*"}, {""}, {"pods"}), Resource("u", {}, "delete", "", "pods"), true},
      {"other group", Rule({"get"}, {""}, {"pods"}), Resource("u", {}, "get", "apps", "pods"),
       false},
      {"star group", Rule({"get"}, {"*"}, {"pods"}), Resource("u", {}, "get", "apps", "pods"),
       true},
      {"star resource", Rule({"get"}, {""}, {"*"}), Resource("u", {}, "get", "", "secrets"), true},
      {"star resource covers subresources", Rule({"get"}, {""}, {"*"}),
       Resource("u", {}, "get", "", "pods", "", "p", "log"), true},
      {"resource does not cover subresource", Rule({"get"}, {""}, {"pods"}),
       Resource("u", {}, "get", "", "pods", "ns", "p", "log"), false},
      {"resource/subresource", Rule({"get"}, {""}, {"pods/log"}),
       Resource("u", {}, "get", "", "pods", "ns", "p", "log"), true},
      {"subresource rule does not cover resource", Rule({"get"}, {""}, {"pods/log"}),
       Resource("u", {}, "get", "", "pods", "ns", "p"), false},
      {"*/subresource", Rule({"update"}, {"*"}, {"*/status"}),
       Resource("u", {}, "update", "apps", "deployments", "ns", "d", "status"), true},
      {"*/subresource other subresource", Rule({"update"}, {"*"}, {"*/status"}),
       Resource("u", {}, "update", "apps", "deployments", "ns", "d", "scale"), false},
      {"*/subresource not the resource", Rule({"update"}, {"*"}, {"*/status"}),
       Resource("u", {}, "update", "apps", "deployments", "ns", "d"), false},
      {"resource name", Rule({"get"}, {""}, {"configmaps"}, {"a"}),
       Resource("u", {}, "get", "", "configmaps", "ns", "a"), true},
      {"other resource name", Rule({"get"}, {""}, {"configmaps"}, {"a"}),
       Resource("u", {}, "get", "", "configmaps", "ns", "b"), false},
      {"resource names never match a list", Rule({"list"}, {""}, {"configmaps"}, {"a"}),
       Resource("u", {}, "list", "", "configmaps", "ns"), false},
      {"url exact", UrlRule({"get"}, {"/healthz"}), Path("u", "get", "/healthz"), true},
      {"url other verb", UrlRule({"get"}, {"/healthz"}), Path("u", "post", "/healthz"), false},
      {"url prefix", UrlRule({"get"}, {"/apis/*"}), Path("u", "get", "/apis/apps/v1"), true},
      {"url prefix includes its own root", UrlRule({"get"}, {"/apis*"}), Path("u", "get", "/apis"),
       true},
      {"url prefix does not match parent", UrlRule({"get"}, {"/apis/*"}), Path("u", "get", "/apis"),
       false},
      {"url star", UrlRule({"get"}, {"*"}), Path("u", "get", "/anything"), true},
      {"resource rule never matches a path", Rule({"*"}, {"*"}, {"*"}),
       Path("u", "get", "/healthz"), false},
      {"url rule never matches a resource", UrlRule({"*"}, {"*"}),
       Resource("u", {}, "get", "", "pods"), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RuleAllows(c.attributes, c.rule), c.allowed) << c.name;
  }
}

TEST(RbacRuleTest, SubjectsMatchUsersGroupsAndServiceAccounts) {
  UserInfo sa{"system:serviceaccount:shop:builder",
              {"system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"}};
  EXPECT_TRUE(SubjectMatches({"ServiceAccount", "", "builder", "shop"}, sa, "other"));
  EXPECT_TRUE(SubjectMatches({"ServiceAccount", "", "builder", ""}, sa, "shop"));
  EXPECT_FALSE(SubjectMatches({"ServiceAccount", "", "builder", ""}, sa, ""));
  EXPECT_FALSE(SubjectMatches({"ServiceAccount", "", "builder", "other"}, sa, "shop"));
  EXPECT_TRUE(SubjectMatches({"Group", kRbacGroup, "system:serviceaccounts:shop", ""}, sa, ""));
  EXPECT_FALSE(SubjectMatches({"User", kRbacGroup, "builder", ""}, sa, ""));
  EXPECT_TRUE(
      SubjectMatches({"User", kRbacGroup, "system:serviceaccount:shop:builder", ""}, sa, ""));
}

class RbacPolicyTest : public ::testing::Test {
 protected:
  Policy policy_{
      {MakeRole("", "pod-reader", {Rule({"get", "list", "watch"}, {""}, {"pods"})}),
       MakeRole("", "node-viewer", {Rule({"get"}, {""}, {"nodes"})}),
       MakeRole("shop", "secret-editor", {Rule({"*"}, {""}, {"secrets"})})},
      {MakeBinding("", "nodes-for-ops", "ClusterRole", "node-viewer",
                   {{"Group", kRbacGroup, "ops", ""}}),
       MakeBinding("shop", "alice-pods", "ClusterRole", "pod-reader",
                   {{"User", kRbacGroup, "alice", ""}}),
       MakeBinding("shop", "builder-secrets", "Role", "secret-editor",
                   {{"ServiceAccount", "", "builder", ""}}),
       MakeBinding("shop", "dangling", "Role", "missing", {{"User", kRbacGroup, "carol", ""}})}};
};

TEST_F(RbacPolicyTest, RoleBindingsGrantOnlyInTheirNamespace) {
  auto in_shop = policy_.Authorize(Resource("alice", {}, "list", "", "pods", "shop"));
  EXPECT_EQ(in_shop.decision, Decision::kAllow);
  EXPECT_EQ(in_shop.reason,
            "RBAC: allowed by RoleBinding \"alice-pods/shop\" of ClusterRole \"pod-reader\" to "
            "User \"alice\"");
  EXPECT_EQ(policy_.Authorize(Resource("alice", {}, "list", "", "pods", "other")).decision,
            Decision::kNoOpinion);
  EXPECT_EQ(policy_.Authorize(Resource("alice", {}, "list", "", "pods")).decision,
            Decision::kNoOpinion);
  EXPECT_EQ(policy_.Authorize(Resource("alice", {}, "delete", "", "pods", "shop", "p")).decision,
            Decision::kNoOpinion);
}

TEST_F(RbacPolicyTest, ClusterRoleBindingsGrantEverywhere) {
  auto verdict = policy_.Authorize(Resource("bob", {"ops"}, "get", "", "nodes", "", "n1"));
  EXPECT_EQ(verdict.decision, Decision::kAllow);
  EXPECT_EQ(verdict.reason,
            "RBAC: allowed by ClusterRoleBinding \"nodes-for-ops\" of ClusterRole \"node-viewer\" "
            "to Group \"ops\"");
  EXPECT_EQ(policy_.Authorize(Resource("bob", {"dev"}, "get", "", "nodes", "", "n1")).decision,
            Decision::kNoOpinion);
}

TEST_F(RbacPolicyTest, ServiceAccountDefaultsToTheBindingNamespace) {
  auto verdict = policy_.Authorize(
      Resource("system:serviceaccount:shop:builder", {}, "create", "", "secrets", "shop"));
  EXPECT_EQ(verdict.decision, Decision::kAllow);
  EXPECT_EQ(verdict.reason,
            "RBAC: allowed by RoleBinding \"builder-secrets/shop\" of Role \"secret-editor\" to "
            "ServiceAccount \"builder/shop\"");
  EXPECT_EQ(policy_
                .Authorize(Resource("system:serviceaccount:other:builder", {}, "create", "",
                                    "secrets", "shop"))
                .decision,
            Decision::kNoOpinion);
}

TEST_F(RbacPolicyTest, MissingRoleIsTheReason) {
  auto verdict = policy_.Authorize(Resource("carol", {}, "get", "", "pods", "shop"));
  EXPECT_EQ(verdict.decision, Decision::kNoOpinion);
  EXPECT_EQ(verdict.reason, "RBAC: role.rbac.authorization.k8s.io \"missing\" not found");
}

TEST_F(RbacPolicyTest, RulesForCollectClusterAndNamespaceRules) {
  EXPECT_EQ(policy_.RulesFor({"alice", {"ops"}}, "shop").size(), 2u);
  EXPECT_EQ(policy_.RulesFor({"alice", {"ops"}}, "").size(), 1u);
}

TEST(ForbiddenTest, MessagesAsUpstream) {
  EXPECT_EQ(ForbiddenMessage(Resource("alice", {}, "list", "", "pods", "default")),
            "User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace "
            "\"default\"");
  EXPECT_EQ(ForbiddenMessage(Resource("alice", {}, "get", "", "nodes", "", "n1")),
            "User \"alice\" cannot get resource \"nodes\" in API group \"\" at the cluster scope");
  EXPECT_EQ(
      ForbiddenMessage(Resource("alice", {}, "get", "apps", "deployments", "ns", "d", "scale")),
      "User \"alice\" cannot get resource \"deployments/scale\" in API group \"apps\" in "
      "the namespace \"ns\"");
  EXPECT_EQ(ForbiddenMessage(Path("alice", "get", "/metrics")),
            "User \"alice\" cannot get path \"/metrics\"");

  auto named =
      ForbiddenResponse(Resource("alice", {}, "get", "apps", "deployments", "ns", "web"), "");
  EXPECT_EQ(named.status, 403);
  auto body = boost::json::parse(named.body).as_object();
  EXPECT_EQ(body["message"].as_string(),
            "deployments.apps \"web\" is forbidden: User \"alice\" cannot get resource "
            "\"deployments\" in API group \"apps\" in the namespace \"ns\"");
  EXPECT_EQ(body["reason"].as_string(), "Forbidden");
  EXPECT_EQ(body["details"].as_object()["kind"].as_string(), "deployments");
  EXPECT_EQ(body["details"].as_object()["group"].as_string(), "apps");

  auto collection = ForbiddenResponse(Resource("alice", {}, "list", "", "pods", "default"), "");
  EXPECT_EQ(boost::json::parse(collection.body).as_object()["message"].as_string(),
            "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" "
            "in the namespace \"default\"");
  auto path = ForbiddenResponse(Path("alice", "get", "/metrics"), "");
  EXPECT_EQ(boost::json::parse(path.body).as_object()["message"].as_string(),
            "forbidden: User \"alice\" cannot get path \"/metrics\"");
}

TEST(EscalationTest, CoversAsUpstream) {
  const struct {
    const char* name;
    std::vector<PolicyRule> owner;
    std::vector<PolicyRule> requested;
    bool covered;
  } cases[] = {
      {"star covers everything",
       {Rule({"*"}, {"*"}, {"*"})},
       {Rule({"get", "delete"}, {"", "apps"}, {"pods", "deployments/scale"}, {"x"})},
       true},
      {"exact", {Rule({"get", "list"}, {""}, {"pods"})}, {Rule({"get"}, {""}, {"pods"})}, true},
      {"split across rules",
       {Rule({"get"}, {""}, {"pods"}), Rule({"list"}, {""}, {"pods"})},
       {Rule({"get", "list"}, {""}, {"pods"})},
       true},
      {"missing verb",
       {Rule({"get"}, {""}, {"pods"})},
       {Rule({"get", "list"}, {""}, {"pods"})},
       false},
      {"*/subresource covers resource/subresource",
       {Rule({"get"}, {""}, {"*/status"})},
       {Rule({"get"}, {""}, {"pods/status"})},
       true},
      {"names limit what is covered",
       {Rule({"get"}, {""}, {"secrets"}, {"a"})},
       {Rule({"get"}, {""}, {"secrets"})},
       false},
      {"names covered by unnamed",
       {Rule({"get"}, {""}, {"secrets"})},
       {Rule({"get"}, {""}, {"secrets"}, {"a", "b"})},
       true},
      {"url prefix", {UrlRule({"get"}, {"/apis/*"})}, {UrlRule({"get"}, {"/apis/apps"})}, true},
      {"url not held", {UrlRule({"get"}, {"/healthz"})}, {UrlRule({"get"}, {"/metrics"})}, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Covers(c.owner, c.requested, nullptr), c.covered) << c.name;
  }
}

TEST(EscalationTest, MissingRightsAreCompactedAsUpstreamReportsThem) {
  std::vector<PolicyRule> missing;
  EXPECT_FALSE(Covers({Rule({"get"}, {""}, {"pods"})},
                      {Rule({"get", "list", "delete"}, {""}, {"pods", "secrets"})}, &missing));
  const auto compacted = CompactRules(missing);
  ASSERT_EQ(compacted.size(), 2u);
  EXPECT_EQ(CompactString(compacted[0]),
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"list\" \"delete\"]}");
  EXPECT_EQ(CompactString(compacted[1]),
            "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\" \"delete\"]}");
  EXPECT_EQ(CompactString(UrlRule({"get"}, {"/metrics"})),
            "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}");
  EXPECT_EQ(CompactString(Rule({"get"}, {""}, {"secrets"}, {"a"})),
            "{APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"a\"], Verbs:[\"get\"]}");
}

TEST(AggregationTest, AggregatedRulesComeFromSelectedClusterRolesOnce) {
  Role admin;
  admin.name = "admin";
  admin.aggregation_selectors = std::vector<boost::json::value>{
      boost::json::parse(R"({"matchLabels":{"aggregate-to-admin":"true"}})"),
      boost::json::parse(R"({"matchExpressions":[{"key":"extra","operator":"Exists"}]})")};
  Role b = MakeRole("", "b-role", {Rule({"get"}, {""}, {"pods"}), Rule({"list"}, {""}, {"pods"})});
  b.labels = {{"aggregate-to-admin", "true"}};
  Role a = MakeRole("", "a-role", {Rule({"get"}, {""}, {"pods"})});
  a.labels = {{"extra", "x"}};
  Role ignored = MakeRole("", "c-role", {Rule({"*"}, {"*"}, {"*"})});
  ignored.labels = {{"aggregate-to-admin", "false"}};
  Role namespaced = MakeRole("shop", "d-role", {Rule({"*"}, {"*"}, {"*"})});
  namespaced.labels = {{"aggregate-to-admin", "true"}};
  const auto rules = AggregatedRules(admin, {admin, b, a, ignored, namespaced});
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0], Rule({"get"}, {""}, {"pods"}));
  EXPECT_EQ(rules[1], Rule({"list"}, {""}, {"pods"}));
}

TEST(AggregationTest, LabelSelectorOperators) {
  const std::map<std::string, std::string> labels = {{"tier", "web"}, {"env", "prod"}};
  auto matches = [&](const char* json) {
    return LabelSelectorMatches(boost::json::parse(json), labels);
  };
  EXPECT_TRUE(matches(R"({})"));
  EXPECT_TRUE(matches(R"({"matchLabels":{"tier":"web"}})"));
  EXPECT_FALSE(matches(R"({"matchLabels":{"tier":"db"}})"));
  EXPECT_TRUE(matches(R"({"matchExpressions":[{"key":"env","operator":"In","values":["prod"]}]})"));
  EXPECT_FALSE(
      matches(R"({"matchExpressions":[{"key":"env","operator":"NotIn","values":["prod"]}]})"));
  EXPECT_TRUE(matches(R"({"matchExpressions":[{"key":"x","operator":"DoesNotExist"}]})"));
  EXPECT_FALSE(matches(R"({"matchExpressions":[{"key":"x","operator":"Exists"}]})"));
}

const Role& BootstrapClusterRole(const std::string& name) {
  for (const auto& role : DefaultBootstrapPolicy().cluster_roles) {
    if (role.name == name) return role;
  }
  ADD_FAILURE() << name << " is not a bootstrap role";
  static Role none;
  return none;
}

TEST(BootstrapPolicyTest, HasUpstreamsDefaultRolesAndBindings) {
  for (const char* name :
       {"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
        "system:public-info-viewer", "system:node", "system:node-proxier", "system:kube-scheduler",
        "system:kube-controller-manager", "system:volume-scheduler", "system:auth-delegator",
        "system:monitoring", "system:controller:deployment-controller",
        "system:controller:replicaset-controller", "system:controller:namespace-controller"}) {
    BootstrapClusterRole(name);
  }
  EXPECT_EQ(BootstrapClusterRole("edit").labels.at("rbac.authorization.k8s.io/aggregate-to-admin"),
            "true");
  Policy policy(DefaultBootstrapPolicy().cluster_roles,
                DefaultBootstrapPolicy().cluster_role_bindings);
  UserInfo anyone{"someone", {"system:authenticated"}};
  Attributes discovery = Path("someone", "get", "/apis/apps/v1");
  discovery.user = anyone;
  EXPECT_EQ(policy.Authorize(discovery).decision, Decision::kAllow);
  Attributes review = Resource("someone", {"system:authenticated"}, "create",
                               "authorization.k8s.io", "selfsubjectaccessreviews");
  EXPECT_EQ(policy.Authorize(review).decision, Decision::kAllow);
  EXPECT_EQ(
      policy.Authorize(Resource("someone", {"system:authenticated"}, "list", "", "pods", "default"))
          .decision,
      Decision::kNoOpinion);
  EXPECT_EQ(policy
                .Authorize(Resource("system:kube-scheduler", {"system:authenticated"}, "create", "",
                                    "pods", "default", "p", "binding"))
                .decision,
            Decision::kAllow);
}

// The controller manager runs each controller as kube-system/<account>
// (--use-service-account-credentials): each may do what upstream's role grants and no more.
// metrics-server's role for metrics.k8s.io: read-only, aggregated into view, edit and admin.
TEST(BootstrapPolicyTest, AggregatedMetricsReaderAsMetricsServerInstallsIt) {
  const Role& reader = BootstrapClusterRole("system:aggregated-metrics-reader");
  for (const char* label : {"rbac.authorization.k8s.io/aggregate-to-view",
                            "rbac.authorization.k8s.io/aggregate-to-edit",
                            "rbac.authorization.k8s.io/aggregate-to-admin"}) {
    EXPECT_EQ(reader.labels.at(label), "true") << label;
  }
  ASSERT_EQ(reader.rules.size(), 1u);
  EXPECT_EQ(reader.rules[0].api_groups, std::vector<std::string>{"metrics.k8s.io"});
  EXPECT_EQ(reader.rules[0].resources, (std::vector<std::string>{"pods", "nodes"}));
  EXPECT_EQ(reader.rules[0].verbs, (std::vector<std::string>{"get", "list", "watch"}));
}

TEST(BootstrapPolicyTest, ControllerAccountsHaveTheirRolesRights) {
  Policy policy(DefaultBootstrapPolicy().cluster_roles,
                DefaultBootstrapPolicy().cluster_role_bindings);
  auto decide = [&](const std::string& account, const std::string& verb, const std::string& group,
                    const std::string& resource, const std::string& subresource = "") {
    return policy
        .Authorize(Resource("system:serviceaccount:kube-system:" + account,
                            {"system:serviceaccounts", "system:serviceaccounts:kube-system",
                             "system:authenticated"},
                            verb, group, resource, "default", "x", subresource))
        .decision;
  };
  EXPECT_EQ(decide("replicaset-controller", "create", "", "pods"), Decision::kAllow);
  EXPECT_EQ(decide("replicaset-controller", "update", "apps", "replicasets", "status"),
            Decision::kAllow);
  // Status is written by update: no patch.
  EXPECT_EQ(decide("replicaset-controller", "patch", "apps", "replicasets", "status"),
            Decision::kNoOpinion);
  EXPECT_EQ(decide("replicaset-controller", "get", "", "secrets"), Decision::kNoOpinion);
  EXPECT_EQ(decide("replicaset-controller", "create", "apps", "deployments"), Decision::kNoOpinion);
  EXPECT_EQ(decide("deployment-controller", "update", "apps", "deployments"), Decision::kAllow);
  EXPECT_EQ(decide("deployment-controller", "create", "", "pods"), Decision::kNoOpinion);
  EXPECT_EQ(decide("statefulset-controller", "get", "apps", "statefulsets"), Decision::kAllow);
  EXPECT_EQ(
      decide("endpointslicemirroring-controller", "create", "discovery.k8s.io", "endpointslices"),
      Decision::kAllow);
  EXPECT_EQ(decide("node-controller", "watch", "", "pods"), Decision::kAllow);
  EXPECT_EQ(decide("generic-garbage-collector", "delete", "apps", "replicasets"), Decision::kAllow);
  EXPECT_EQ(decide("generic-garbage-collector", "create", "apps", "replicasets"),
            Decision::kNoOpinion);
  EXPECT_EQ(decide("job-controller", "create", "events.k8s.io", "events"), Decision::kAllow);
  // Upstream gives these two no events rule.
  EXPECT_EQ(decide("pod-garbage-collector", "create", "", "events"), Decision::kNoOpinion);
  EXPECT_EQ(decide("namespace-controller", "create", "", "events"), Decision::kNoOpinion);
  EXPECT_EQ(decide("certificate-controller", "sign", "certificates.k8s.io", "signers"),
            Decision::kNoOpinion);  // only for the four named signers
}

TEST(BootstrapPolicyTest, ReconcileAddsWhatIsMissingUnlessAutoupdateIsOff) {
  const Role& wanted = BootstrapClusterRole("system:discovery");
  boost::json::object existing = RoleToJson(wanted);
  EXPECT_FALSE(ReconcileRole(existing, wanted).has_value());

  // A user trimmed the rules and a label: both come back; a rule they added stays.
  existing["rules"] = boost::json::parse(R"([{"verbs":["get"],"nonResourceURLs":["/custom"]}])");
  existing["metadata"].as_object().erase("labels");
  auto reconciled = ReconcileRole(existing, wanted);
  ASSERT_TRUE(reconciled.has_value());
  const Role back = ParseRole(*reconciled);
  EXPECT_EQ(back.rules.size(), 2u);
  EXPECT_EQ(back.rules[0].non_resource_urls, std::vector<std::string>{"/custom"});
  EXPECT_TRUE(Covers(back.rules, wanted.rules, nullptr));
  EXPECT_EQ(back.labels.at("kubernetes.io/bootstrapping"), "rbac-defaults");

  existing["metadata"].as_object()["annotations"].as_object()[kAutoupdateAnnotation] = "false";
  EXPECT_FALSE(ReconcileRole(existing, wanted).has_value());
}

TEST(BootstrapPolicyTest, ReconcileAddsMissingSubjects) {
  const auto& bindings = DefaultBootstrapPolicy().cluster_role_bindings;
  const auto viewer = std::find_if(bindings.begin(), bindings.end(), [](const Binding& b) {
    return b.name == "system:public-info-viewer";
  });
  ASSERT_NE(viewer, bindings.end());
  boost::json::object existing = BindingToJson(*viewer);
  existing["subjects"].as_array().pop_back();
  existing["subjects"].as_array().push_back(
      boost::json::parse(R"({"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"x"})"));
  auto reconciled = ReconcileBinding(existing, *viewer);
  ASSERT_TRUE(reconciled.has_value());
  const Binding back = ParseBinding(*reconciled);
  ASSERT_EQ(back.subjects.size(), 3u);
  EXPECT_EQ(back.subjects[1].name, "x");
  EXPECT_EQ(back.subjects[2].name, "system:unauthenticated");
}

}  // namespace
}  // namespace kpp::apiserver::authz
