#include "apiserver/admission/node_restriction.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apiserver/admission/fake_reader.h"

namespace kpp::apiserver::admission {
namespace {

class NodeRestrictionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reader_.Add("", "nodes", R"({"metadata":{"name":"n1","uid":"uid-1"}})");
    reader_.Add("", "pods",
                R"({"metadata":{"name":"mine","namespace":"ns"},"spec":{"nodeName":"n1"}})");
    reader_.Add("", "pods",
                R"({"metadata":{"name":"theirs","namespace":"ns"},"spec":{"nodeName":"n2"}})");
  }
  // The message of the rejection, or "" when admitted.
  std::string Run(std::string resource, Operation operation, std::string name,
                  std::string object_json, std::string old_json = "", std::string subresource = "",
                  std::string user = "system:node:n1") {
    Attributes attributes;
    attributes.resource = std::move(resource);
    attributes.namespace_ = attributes.resource == "nodes" ? "" : "ns";
    attributes.name = std::move(name);
    attributes.subresource = std::move(subresource);
    attributes.operation = operation;
    attributes.user = UserInfo{std::move(user), {"system:nodes", "system:authenticated"}, "", {}};
    if (!object_json.empty()) {
      object_ = boost::json::parse(object_json).as_object();
      attributes.object = &object_;
    }
    if (!old_json.empty()) {
      old_ = boost::json::parse(old_json).as_object();
      attributes.old_object = &old_;
    }
    std::vector<std::string> warnings;
    Context context{reader_, RealClock(), warnings};
    auto rejection = NodeRestriction().Admit(attributes, context);
    return rejection ? rejection->error.message() : "";
  }
  FakeReader reader_;
  boost::json::object object_, old_;
};

TEST_F(NodeRestrictionTest, NodesWriteOnlyThemselvesAndAllowedLabels) {
  EXPECT_EQ(Run("nodes", Operation::kCreate, "n1",
                R"({"metadata":{"name":"n1","labels":{"kubernetes.io/hostname":"n1",
                    "kubernetes.io/os":"linux","node.kubernetes.io/exclude-from-external-load-balancers":"",
                    "example.com/rack":"r1"}}})"),
            "");
  EXPECT_EQ(Run("nodes", Operation::kUpdate, "n2", R"({"metadata":{"name":"n2"}})",
                R"({"metadata":{"name":"n2"}})"),
            "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\"");
  EXPECT_EQ(Run("nodes", Operation::kCreate, "n1",
                R"({"metadata":{"name":"n1","labels":{"node-role.kubernetes.io/master":"",
                    "node-restriction.kubernetes.io/secure":"true"}}})"),
            "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the following labels: "
            "node-restriction.kubernetes.io/secure, node-role.kubernetes.io/master");
  EXPECT_EQ(Run("nodes", Operation::kUpdate, "n1",
                R"({"metadata":{"name":"n1","labels":{"kubernetes.io/role":"x"}}})",
                R"({"metadata":{"name":"n1"}})"),
            "nodes \"n1\" is forbidden: is not allowed to modify labels: kubernetes.io/role");
  EXPECT_EQ(
      Run("nodes", Operation::kUpdate, "n1", R"({"metadata":{"name":"n1"},"spec":{"taints":[]}})",
          R"({"metadata":{"name":"n1"},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]}})"),
      "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify taints");
  // Anyone else is not this plugin's business.
  EXPECT_EQ(Run("nodes", Operation::kUpdate, "n2", R"({"metadata":{"name":"n2"}})",
                R"({"metadata":{"name":"n2"}})", "", "alice"),
            "");
}

TEST_F(NodeRestrictionTest, PodsBoundToTheNodeOnly) {
  EXPECT_EQ(
      Run("pods", Operation::kCreate, "p", R"({"metadata":{"name":"p"},"spec":{"nodeName":"n1"}})"),
      "pods \"p\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" "
      "annotation, node \"n1\" can only create mirror pods");
  const std::string mirror =
      R"({"metadata":{"name":"p","annotations":{"kubernetes.io/config.mirror":"x"},
      "ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n1","uid":"uid-1",
                          "controller":true}]},"spec":{"nodeName":"n1"}})";
  EXPECT_EQ(Run("pods", Operation::kCreate, "p", mirror), "");
  EXPECT_EQ(Run("pods", Operation::kDelete, "theirs", "",
                R"({"metadata":{"name":"theirs"},"spec":{"nodeName":"n2"}})"),
            "pods \"theirs\" is forbidden: node \"n1\" can only delete pods with spec.nodeName "
            "set to itself");
  EXPECT_EQ(Run("pods", Operation::kDelete, "mine", "",
                R"({"metadata":{"name":"mine"},"spec":{"nodeName":"n1"}})"),
            "");
  EXPECT_EQ(Run("pods", Operation::kUpdate, "theirs", R"({"spec":{"nodeName":"n2"}})",
                R"({"spec":{"nodeName":"n2"}})", "status"),
            "pods \"theirs\" is forbidden: node \"n1\" can only update pod status for pods with "
            "spec.nodeName set to itself");
  EXPECT_EQ(Run("pods", Operation::kCreate, "theirs", "", "", "eviction"),
            "pods \"theirs\" is forbidden: node n1 can only evict pods with spec.nodeName set to "
            "itself");
  EXPECT_EQ(Run("pods", Operation::kCreate, "mine", "", "", "eviction"), "");
  EXPECT_EQ(
      Run("pods", Operation::kCreate, "mine",
          R"({"kind":"Binding","metadata":{"name":"mine"},"target":{"name":"n1"}})", "", "binding"),
      "pods \"mine\" is forbidden: unexpected pod subresource \"binding\", only 'status' "
      "and 'eviction' are allowed");
}

}  // namespace
}  // namespace kpp::apiserver::admission
