// Resources through the real kubectl: create, get, list, apply, patch, replace, delete, with
// upstream's answers to mistakes, and state that survives a restart.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

std::string ConfigMapYaml(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\n  labels:\n    app: web\ndata:\n  key: \"" + value + "\"\n";
}

class ResourcesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_controllers("namespace");  // deleted namespaces go
    ASSERT_TRUE(server_.Start());
  }

  // Writes `content` to a file in the fixture's dir and returns its path.
  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") {
    return server_.Kubectl(args, minor);
  }

  boost::json::value GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"-o", "json"});
    auto result = Kubectl(full);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? boost::json::parse(result.out) : boost::json::value();
  }

  KppServer server_;
};

TEST_F(ResourcesE2ETest, CreateGetListDeleteWithEveryKubectl) {
  std::vector<std::string> versions = testing::InstalledKubectlVersions();
  versions.insert(versions.begin(), "");
  for (const auto& minor : versions) {
    const std::string name = "cm-" + (minor.empty() ? std::string("default") : minor.substr(2));
    const std::string file = server_.WriteFile(name + ".yaml", ConfigMapYaml(name, "v" + minor));
    // kubectl 1.27 and 1.28 read the protobuf OpenAPI v2 document to validate.
    auto created = Kubectl({"create", "-f", file, "--validate=true"}, minor);
    ASSERT_EQ(created.exit_code, 0) << minor << ": " << created.err;
    EXPECT_EQ(created.out, "configmap/" + name + " created\n");
    auto got = Kubectl({"get", "configmap", name, "-o", "json"}, minor);
    ASSERT_EQ(got.exit_code, 0) << got.err;
    const auto object = boost::json::parse(got.out);
    EXPECT_EQ(object.at("kind"), "ConfigMap");
    EXPECT_EQ(object.at("apiVersion"), "v1");
    EXPECT_EQ(object.at("data").at("key").as_string(), "v" + minor);
    EXPECT_EQ(object.at("metadata").at("namespace"), "default");
    EXPECT_EQ(object.at("metadata").at("uid").as_string().size(), 36u);
    EXPECT_FALSE(object.at("metadata").at("resourceVersion").as_string().empty());
    EXPECT_TRUE(object.at("metadata").as_object().contains("creationTimestamp"));
    auto listed = Kubectl({"get", "configmaps"}, minor);
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find(name + " "), std::string::npos) << listed.out;
    auto deleted = Kubectl({"delete", "configmap", name}, minor);
    ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
    EXPECT_EQ(deleted.out, "configmap \"" + name + "\" deleted\n");
    auto gone = Kubectl({"get", "configmap", name}, minor);
    EXPECT_NE(gone.exit_code, 0);
    EXPECT_EQ(gone.err, "Error from server (NotFound): configmaps \"" + name + "\" not found\n");
  }
}

TEST_F(ResourcesE2ETest, ApplyLabelAnnotateAndPatch) {
  const std::string file = server_.WriteFile("web.yaml", ConfigMapYaml("web", "one"));
  auto first = Kubectl({"apply", "-f", file});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "configmap/web created\n");
  auto again = Kubectl({"apply", "-f", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "configmap/web unchanged\n");
  server_.WriteFile("web.yaml", ConfigMapYaml("web", "two"));
  auto changed = Kubectl({"apply", "-f", file});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(changed.out, "configmap/web configured\n");
  EXPECT_EQ(GetJson({"cm", "web"}).at("data").at("key"), "two");

  ASSERT_EQ(Kubectl({"label", "cm", "web", "tier=front"}).exit_code, 0);
  ASSERT_EQ(Kubectl({"annotate", "cm", "web", "note=hello"}).exit_code, 0);
  auto json_patch = Kubectl(
      {"patch", "cm", "web", "--type", "json", "-p",
       R"([{"op":"add","path":"/data/extra","value":"x"},{"op":"remove","path":"/data/key"}])"});
  ASSERT_EQ(json_patch.exit_code, 0) << json_patch.err;
  auto merge_patch =
      Kubectl({"patch", "cm", "web", "--type", "merge", "-p", R"({"data":{"merged":"y"}})"});
  ASSERT_EQ(merge_patch.exit_code, 0) << merge_patch.err;
  auto strategic =
      Kubectl({"patch", "cm", "web", "-p", R"({"metadata":{"finalizers":["example.com/a"]}})"});
  ASSERT_EQ(strategic.exit_code, 0) << strategic.err;
  const auto object = GetJson({"cm", "web"});
  EXPECT_EQ(object.at("data"), boost::json::parse(R"({"extra":"x","merged":"y"})"));
  EXPECT_EQ(object.at("metadata").at("labels"),
            boost::json::parse(R"({"app":"web","tier":"front"})"));
  EXPECT_EQ(object.at("metadata").at("annotations").at("note"), "hello");
  EXPECT_EQ(object.at("metadata").at("finalizers"), boost::json::parse(R"(["example.com/a"])"));

  auto failed_test = Kubectl({"patch", "cm", "web", "--type", "json", "-p",
                              R"([{"op":"test","path":"/data/extra","value":"nope"}])"});
  EXPECT_NE(failed_test.exit_code, 0);
  EXPECT_NE(failed_test.err.find("test failed"), std::string::npos) << failed_test.err;
}

TEST_F(ResourcesE2ETest, MistakesGetUpstreamErrors) {
  const std::string file = server_.WriteFile("dup.yaml", ConfigMapYaml("dup", "1"));
  ASSERT_EQ(Kubectl({"create", "-f", file}).exit_code, 0);
  auto duplicate = Kubectl({"create", "-f", file});
  EXPECT_EQ(duplicate.err, "Error from server (AlreadyExists): error when creating \"" + file +
                               "\": configmaps \"dup\" already exists\n");

  auto bad_name =
      Kubectl({"create", "-f", server_.WriteFile("bad.yaml", ConfigMapYaml("Bad_Name", "1"))});
  EXPECT_NE(bad_name.exit_code, 0);
  EXPECT_NE(bad_name.err.find("The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid "
                              "value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist "
                              "of lower case alphanumeric characters"),
            std::string::npos)
      << bad_name.err;

  auto unknown_field = Kubectl(
      {"create", "-f",
       server_.WriteFile("unknown.yaml",
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nfoo: bar\n")});
  EXPECT_NE(unknown_field.exit_code, 0);
  EXPECT_NE(unknown_field.err.find("strict decoding error: unknown field \"foo\""),
            std::string::npos)
      << unknown_field.err;

  auto wrong_type = Kubectl(
      {"create", "--validate=false", "-f",
       server_.WriteFile("type.yaml",
                         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n  labels: 5\n")});
  EXPECT_NE(wrong_type.exit_code, 0);
  EXPECT_NE(wrong_type.err.find("json: cannot unmarshal number into Go struct field "
                                "ObjectMeta.metadata.labels of type map[string]string"),
            std::string::npos)
      << wrong_type.err;

  auto no_namespace = Kubectl({"create", "-n", "nope", "-f", file});
  EXPECT_NE(no_namespace.err.find("namespaces \"nope\" not found"), std::string::npos)
      << no_namespace.err;

  auto protected_namespace = Kubectl({"delete", "namespace", "default"});
  EXPECT_EQ(protected_namespace.err,
            "Error from server (Forbidden): namespaces \"default\" is forbidden: this namespace "
            "may not be deleted\n");

  // A replace based on a stale copy loses, as optimistic concurrency requires.
  auto stale = GetJson({"cm", "dup"});
  ASSERT_EQ(Kubectl({"label", "cm", "dup", "changed=yes"}).exit_code, 0);
  stale.as_object()["data"].as_object()["key"] = "stale";
  auto conflict =
      Kubectl({"replace", "-f", server_.WriteFile("stale.json", boost::json::serialize(stale))});
  EXPECT_NE(conflict.exit_code, 0);
  EXPECT_NE(conflict.err.find("Operation cannot be fulfilled on configmaps \"dup\": the object "
                              "has been modified; please apply your changes to the latest "
                              "version and try again"),
            std::string::npos)
      << conflict.err;
}

TEST_F(ResourcesE2ETest, NamespacesHoldTheirObjects) {
  const auto namespaces = GetJson({"namespaces"});
  std::vector<std::string> names;
  for (const auto& item : namespaces.at("items").as_array()) {
    names.emplace_back(item.at("metadata").at("name").as_string());
    EXPECT_EQ(item.at("status").at("phase"), "Active");
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"default", "kube-node-lease", "kube-public", "kube-system"}));
  ASSERT_EQ(
      Kubectl({"create", "-f",
               server_.WriteFile("ns.yaml",
                                 "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n")})
          .exit_code,
      0);
  const auto team = GetJson({"namespace", "team-a"});
  EXPECT_EQ(team.at("spec").at("finalizers"), boost::json::parse(R"(["kubernetes"])"));
  ASSERT_EQ(Kubectl({"create", "-n", "team-a", "-f",
                     server_.WriteFile("a.yaml", ConfigMapYaml("a", "1"))})
                .exit_code,
            0);
  auto all = Kubectl({"get", "configmaps", "-A"});
  EXPECT_NE(all.out.find("team-a"), std::string::npos) << all.out;
  ASSERT_EQ(Kubectl({"delete", "namespace", "team-a"}).exit_code, 0);
  auto leftover = Kubectl({"get", "configmaps", "-A", "-o", "name"});
  EXPECT_EQ(leftover.out.find("configmap/a"), std::string::npos) << leftover.out;
}

TEST_F(ResourcesE2ETest, NewPodsArePendingWithTheirQosClass) {
  const std::string best_effort =
      server_.WriteFile("be.yaml",
                        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: be\nspec:\n"
                        "  containers:\n  - name: c\n    image: busybox\n"
                        "status:\n  phase: Running\n");
  const std::string guaranteed =
      server_.WriteFile("g.yaml",
                        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: g\nspec:\n  containers:\n"
                        "  - name: c\n    image: busybox:1.36\n    resources:\n      limits:\n"
                        "        cpu: 500m\n        memory: 64Mi\n");
  const std::string burstable =
      server_.WriteFile("b.yaml",
                        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n"
                        "  - name: c\n    image: busybox\n    resources:\n      requests:\n"
                        "        cpu: 100m\n");
  for (const auto& file : {best_effort, guaranteed, burstable}) {
    auto created = Kubectl({"create", "-f", file});
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }
  const auto be = GetJson({"pod", "be"});
  // (The scheduler may add PodScheduled=False: this cluster has no nodes.)
  EXPECT_EQ(be.at("status").at("phase"), "Pending");
  EXPECT_EQ(be.at("status").at("qosClass"), "BestEffort");
  const auto g = GetJson({"pod", "g"});
  EXPECT_EQ(g.at("status").at("qosClass"), "Guaranteed");
  // Requests were defaulted from the limits, as upstream does.
  EXPECT_EQ(g.at("spec").at("containers").at(0).at("resources").at("requests"),
            boost::json::parse(R"({"cpu":"500m","memory":"64Mi"})"));
  EXPECT_EQ(g.at("spec").at("containers").at(0).at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(GetJson({"pod", "b"}).at("status").at("qosClass"), "Burstable");
  EXPECT_EQ(be.at("spec").at("containers").at(0).at("imagePullPolicy"), "Always");
}

TEST_F(ResourcesE2ETest, ListsHonourLabelAndFieldSelectors) {
  ASSERT_EQ(
      Kubectl({"create", "-f", server_.WriteFile("a.yaml", ConfigMapYaml("a", "1"))}).exit_code, 0);
  ASSERT_EQ(
      Kubectl({"create", "-f", server_.WriteFile("b.yaml", ConfigMapYaml("b", "2"))}).exit_code, 0);
  ASSERT_EQ(Kubectl({"label", "cm", "b", "tier=back"}).exit_code, 0);
  auto by_label = Kubectl({"get", "cm", "-l", "app=web,tier!=back", "-o", "name"});
  ASSERT_EQ(by_label.exit_code, 0) << by_label.err;
  EXPECT_EQ(by_label.out, "configmap/a\n");
  auto by_set = Kubectl({"get", "cm", "-l", "tier in (back,front)", "-o", "name"});
  EXPECT_EQ(by_set.out, "configmap/b\n");
  auto by_field = Kubectl({"get", "cm", "-A", "--field-selector", "metadata.name=b", "-o", "name"});
  ASSERT_EQ(by_field.exit_code, 0) << by_field.err;
  EXPECT_EQ(by_field.out, "configmap/b\n");
  auto unsupported = Kubectl({"get", "cm", "--field-selector", "spec.x=y"});
  EXPECT_NE(unsupported.exit_code, 0);
  EXPECT_NE(unsupported.err.find("field label not supported: spec.x"), std::string::npos)
      << unsupported.err;
  auto malformed =
      Kubectl({"get", "--raw", "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(b"});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("BadRequest"), std::string::npos) << malformed.err;
}

TEST_F(ResourcesE2ETest, ObjectsSurviveRestart) {
  ASSERT_EQ(Kubectl({"create", "-f", server_.WriteFile("keep.yaml", ConfigMapYaml("keep", "1"))})
                .exit_code,
            0);
  const auto before = GetJson({"cm", "keep"});
  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start());
  const auto after = GetJson({"cm", "keep"});
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace kpp
