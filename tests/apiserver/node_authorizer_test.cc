// The node authorizer: a node reads only what its pods use, writes only its own lease, node and
// pod statuses; others get no opinion. Pods come from a fake loopback.
#include "apiserver/authz/node_authorizer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/bootstrap_policy.h"

namespace kpp::apiserver::authz {
namespace {

constexpr char kPods[] =
    R"({"kind":"PodList","items":[{"metadata":{"name":"web","namespace":"shop"},
  "spec":{"nodeName":"node-1","serviceAccountName":"builder",
    "imagePullSecrets":[{"name":"registry"}],
    "containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"settings"}}],
      "env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"api-key","key":"k"}}}]}],
    "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}},
      {"name":"tls","secret":{"secretName":"tls"}},
      {"name":"p","projected":{"sources":[{"configMap":{"name":"projected-cm"}}]}}]}}]})";

class NodeAuthorizerTest : public ::testing::Test {
 protected:
  NodeAuthorizerTest()
      : authorizer_(
            [this](const http::Request& request) {
              ++calls_;
              if (request.path == "/api/v1/pods") {
                bool node_1 = false;
                for (const auto& [key, value] : request.query) {
                  node_1 |= key == "fieldSelector" && value == "spec.nodeName=node-1";
                }
                return http::Response{200, {}, node_1 ? kPods : R"({"items":[]})"};
              }
              if (request.path == "/api/v1/namespaces/shop/persistentvolumeclaims/data") {
                return http::Response{200, {}, R"({"spec":{"volumeName":"pv-7"}})"};
              }
              return http::Response{404, {}, "{}"};
            },
            NodeRules()) {}

  static std::vector<PolicyRule> NodeRules() {
    for (const auto& role : DefaultBootstrapPolicy().cluster_roles) {
      if (role.name == "system:node") return role.rules;
    }
    return {};
  }

  Verdict Ask(std::string user, std::string verb, std::string resource, std::string namespace_,
              std::string name, std::string subresource = "", std::string group = "") const {
    Attributes a;
    a.user = {std::move(user), {"system:nodes", "system:authenticated"}};
    a.verb = std::move(verb);
    a.resource_request = true;
    a.resource = std::move(resource);
    a.namespace_ = std::move(namespace_);
    a.name = std::move(name);
    a.subresource = std::move(subresource);
    a.api_group = std::move(group);
    return authorizer_.Authorize(a);
  }

  int calls_ = 0;
  NodeAuthorizer authorizer_;
};

TEST_F(NodeAuthorizerTest, ReadsWhatItsPodsUse) {
  for (const auto& [resource, name] :
       std::vector<std::pair<std::string, std::string>>{{"secrets", "registry"},
                                                        {"secrets", "api-key"},
                                                        {"secrets", "tls"},
                                                        {"configmaps", "settings"},
                                                        {"configmaps", "projected-cm"},
                                                        {"persistentvolumeclaims", "data"}}) {
    EXPECT_EQ(Ask("system:node:node-1", "get", resource, "shop", name).decision, Decision::kAllow)
        << resource << "/" << name;
  }
  EXPECT_EQ(Ask("system:node:node-1", "get", "persistentvolumes", "", "pv-7").decision,
            Decision::kAllow);
  EXPECT_EQ(
      Ask("system:node:node-1", "create", "serviceaccounts", "shop", "builder", "token").decision,
      Decision::kAllow);
}

TEST_F(NodeAuthorizerTest, RefusesWhatItsPodsDoNotUse) {
  auto other = Ask("system:node:node-1", "get", "secrets", "shop", "unrelated");
  EXPECT_EQ(other.decision, Decision::kNoOpinion);
  EXPECT_EQ(other.reason, "no relationship found between node 'node-1' and this object");
  EXPECT_EQ(Ask("system:node:node-2", "get", "secrets", "shop", "tls").decision,
            Decision::kNoOpinion);
  EXPECT_EQ(Ask("system:node:node-1", "list", "secrets", "shop", "").reason,
            "No Object name found");
  EXPECT_EQ(Ask("system:node:node-1", "delete", "secrets", "shop", "tls").reason,
            "can only read resources of this type");
}

TEST_F(NodeAuthorizerTest, KnownReferencesAreNotReadAgain) {
  ASSERT_EQ(Ask("system:node:node-1", "get", "secrets", "shop", "tls").decision, Decision::kAllow);
  const int calls = calls_;
  ASSERT_EQ(Ask("system:node:node-1", "get", "configmaps", "shop", "settings").decision,
            Decision::kAllow);
  EXPECT_EQ(calls_, calls);
}

TEST_F(NodeAuthorizerTest, WritesOnlyItsOwnLeaseNodeAndPodStatuses) {
  EXPECT_EQ(Ask("system:node:node-1", "update", "leases", "kube-node-lease", "node-1", "",
                "coordination.k8s.io")
                .decision,
            Decision::kAllow);
  EXPECT_EQ(Ask("system:node:node-1", "update", "leases", "kube-node-lease", "node-2", "",
                "coordination.k8s.io")
                .reason,
            "can only access node lease with the same name as the requesting node");
  EXPECT_EQ(Ask("system:node:node-1", "patch", "nodes", "", "node-1", "status").decision,
            Decision::kAllow);
  // As upstream's, another Node's writes are authorized; NodeRestriction admission refuses them.
  EXPECT_EQ(Ask("system:node:node-1", "patch", "nodes", "", "node-2", "status").decision,
            Decision::kAllow);
  EXPECT_EQ(Ask("system:node:node-1", "update", "pods", "shop", "web", "status").decision,
            Decision::kAllow);
  // A pod bound elsewhere too: NodeRestriction refuses that write, with upstream's message.
  EXPECT_EQ(Ask("system:node:node-2", "update", "pods", "shop", "web", "status").decision,
            Decision::kAllow);
  EXPECT_EQ(Ask("system:node:node-1", "create", "nodes", "", "node-1", "report", "metrics.k8s.io")
                .decision,
            Decision::kAllow);
  EXPECT_EQ(
      Ask("system:node:node-1", "create", "nodes", "", "node-2", "report", "metrics.k8s.io").reason,
      "can only report the usage of its own node");
  // The rest of system:node's rules.
  EXPECT_EQ(Ask("system:node:node-1", "list", "pods", "", "").decision, Decision::kAllow);
  EXPECT_EQ(Ask("system:node:node-1", "delete", "namespaces", "", "shop").decision,
            Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, OnlyNodesAreJudged) {
  Attributes a;
  a.user = {"system:node:node-1", {"system:authenticated"}};  // not in system:nodes
  a.verb = "get";
  a.resource_request = true;
  a.resource = "secrets";
  a.namespace_ = "shop";
  a.name = "tls";
  EXPECT_EQ(authorizer_.Authorize(a).decision, Decision::kNoOpinion);
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(NodeNameOf({"system:node:n", {"system:nodes"}}), "n");
  EXPECT_EQ(NodeNameOf({"alice", {"system:nodes"}}), "");
}

}  // namespace
}  // namespace kpp::apiserver::authz
