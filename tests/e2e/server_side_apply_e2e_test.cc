// Server-side apply and managedFields through the real kubectl (1.27 and 1.33): who owns what
// after create, scale and apply, the conflict kubectl shows, --force-conflicts, and fields an
// applier drops.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

std::string DeploymentYaml(int replicas, const std::string& extra_label) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: "
         "web\n" +
         extra_label + "spec:\n  replicas: " + std::to_string(replicas) +
         "\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n"
         "      labels:\n        app: web\n    spec:\n      containers:\n      - name: nginx\n"
         "        image: nginx:1.25\n";
}

class ServerSideApplyE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") {
    return server_.Kubectl(args, minor);
  }

  boost::json::value GetJson(const std::vector<std::string>& what) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.insert(args.end(), {"-o", "json", "--show-managed-fields"});
    auto result = Kubectl(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return boost::json::parse(result.out);
  }

  KppServer server_;
};

TEST_F(ServerSideApplyE2ETest, ApplyConflictForceAndDroppedFieldsWithEveryKubectl) {
  for (const std::string minor : {"1.27", "1.33"}) {
    ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    SCOPED_TRACE("kubectl " + minor);
    auto applied = Kubectl({"apply", "--server-side", "-f",
                            server_.WriteFile("d.yaml", DeploymentYaml(2, "    tier: front\n"))},
                           minor);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(applied.out, "deployment.apps/web serverside-applied\n");
    auto managed = GetJson({"deployment", "web"}).at("metadata").at("managedFields");
    ASSERT_EQ(managed.as_array().size(), 1u) << managed;
    EXPECT_EQ(managed.at(0).at("manager"), "kubectl");
    EXPECT_EQ(managed.at(0).at("operation"), "Apply");
    EXPECT_EQ(boost::json::serialize(
                  managed.at(0).at("fieldsV1").at("f:spec").at("f:template").at("f:spec")),
              R"({"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}})");

    // Another manager changes replicas: the applier now conflicts on them.
    ASSERT_EQ(Kubectl({"scale", "deployment", "web", "--replicas=5"}, minor).exit_code, 0);
    auto conflict = Kubectl({"apply", "--server-side", "-f",
                             server_.WriteFile("d.yaml", DeploymentYaml(3, "    tier: front\n"))},
                            minor);
    EXPECT_NE(conflict.exit_code, 0);
    // kubectl scale names no field manager, so upstream names it after the User-Agent, which
    // starts with the binary's name.
    const std::string binary =
        testing::KubectlPath(minor).substr(testing::KubectlPath(minor).rfind('/') + 1);
    EXPECT_NE(conflict.err.find("Apply failed with 1 conflict: conflict with \"" + binary +
                                "\" with subresource \"scale\" using apps/v1: .spec.replicas"),
              std::string::npos)
        << conflict.err;
    auto forced = Kubectl({"apply", "--server-side", "--force-conflicts", "-f",
                           server_.WriteFile("d.yaml", DeploymentYaml(3, "    tier: front\n"))},
                          minor);
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    // The applier drops a label it applied before: it is removed.
    auto dropped = Kubectl(
        {"apply", "--server-side", "-f", server_.WriteFile("d.yaml", DeploymentYaml(3, ""))},
        minor);
    ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
    auto deployment = GetJson({"deployment", "web"});
    EXPECT_EQ(deployment.at("spec").at("replicas"), 3);
    EXPECT_EQ(boost::json::serialize(deployment.at("metadata").at("labels")), R"({"app":"web"})");
    ASSERT_EQ(Kubectl({"delete", "deployment", "web"}, minor).exit_code, 0);
  }
}

TEST_F(ServerSideApplyE2ETest, UpdatesRecordTheirManager) {
  ASSERT_EQ(Kubectl({"create", "configmap", "settings", "--from-literal=mode=fast"}).exit_code, 0);
  ASSERT_EQ(Kubectl({"label", "configmap", "settings", "team=a"}).exit_code, 0);
  auto managed = GetJson({"configmap", "settings"}).at("metadata").at("managedFields");
  ASSERT_EQ(managed.as_array().size(), 2u) << managed;
  EXPECT_EQ(managed.at(0).at("manager"), "kubectl-create");
  EXPECT_EQ(boost::json::serialize(managed.at(0).at("fieldsV1")),
            R"({"f:data":{".":{},"f:mode":{}}})");
  EXPECT_EQ(managed.at(1).at("manager"), "kubectl-label");
  EXPECT_EQ(boost::json::serialize(managed.at(1).at("fieldsV1")),
            R"({"f:metadata":{"f:labels":{".":{},"f:team":{}}}})");
}

}  // namespace
}  // namespace kpp
