// CustomResourceDefinitions with the real kubectl (1.27 and 1.33), as a user types it: a CRD is
// applied, waited for (Established), listed by api-resources and explained; its objects are
// applied, read in both versions, printed with the printer columns, patched, scaled, labelled,
// watched and deleted; deleting the CRD deletes its objects and the resource leaves discovery;
// a restart serves the CRDs again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using ::testing::HasSubstr;
using testing::KppServer;
using ::testing::Not;

constexpr const char* kCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A widget made by the example team.
        properties:
          spec:
            type: object
            description: What the widget should look like.
            properties:
              color:
                type: string
                description: The colour of the widget.
              replicas:
                type: integer
                description: How many widgets there should be.
              selector:
                type: string
              size:
                type: string
                default: medium
          status:
            type: object
            properties:
              replicas:
                type: integer
              selector:
                type: string
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - name: Color
      type: string
      jsonPath: .spec.color
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    - name: Selector
      type: string
      priority: 1
      jsonPath: .spec.selector
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";

constexpr const char* kClusterCrd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: regions.geo.example.com
spec:
  group: geo.example.com
  scope: Cluster
  names:
    plural: regions
    kind: Region
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";

constexpr const char* kWidget = R"(apiVersion: example.com/v1
kind: Widget
metadata:
  name: blue
spec:
  color: blue
  replicas: 2
  selector: app=blue
)";

class CustomResourcesE2ETest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (testing::KubectlPath(GetParam()).empty()) GTEST_SKIP() << "no kubectl " << GetParam();
    server_.set_controllers("namespace");  // deleting a namespace deletes its custom resources
    ASSERT_TRUE(server_.Start());
  }
  testing::ProcessResult Kubectl(const std::vector<std::string>& args) {
    return server_.Kubectl(args, GetParam());
  }
  // Runs kubectl and expects success; returns its output.
  std::string Ok(const std::vector<std::string>& args) {
    auto result = Kubectl(args);
    std::string command;
    for (const auto& arg : args)
      command += arg + " ";
    EXPECT_EQ(result.exit_code, 0) << command << "\n" << result.out << result.err;
    return result.out;
  }
  void CreateWidgetCrd() {
    Ok({"apply", "-f", server_.WriteFile("crd.yaml", kCrd)});
    Ok({"wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"});
  }

  KppServer server_;
};

TEST_P(CustomResourcesE2ETest, NamespacedRoundTrip) {
  CreateWidgetCrd();
  const std::string crd = Ok({"get", "crd", "widgets.example.com", "-o", "yaml"});
  EXPECT_THAT(crd, HasSubstr("reason: NoConflicts"));
  EXPECT_THAT(crd, HasSubstr("message: the initial names have been accepted"));
  EXPECT_THAT(crd, HasSubstr("storedVersions:\n  - v1"));

  EXPECT_THAT(Ok({"api-resources"}), HasSubstr("widgets"));
  const std::string resources = Ok({"api-resources", "--api-group=example.com", "-o", "wide"});
  EXPECT_THAT(resources, HasSubstr("wd"));
  EXPECT_THAT(resources, HasSubstr("Widget"));

  const std::string explained = Ok({"explain", "widgets.spec"});
  EXPECT_THAT(explained, HasSubstr("How many widgets there should be."));
  EXPECT_THAT(explained, HasSubstr("color"));
  EXPECT_THAT(Ok({"explain", "widgets"}), HasSubstr("A widget made by the example team."));

  Ok({"apply", "-f", server_.WriteFile("widget.yaml", kWidget)});
  const std::string table = Ok({"get", "widgets"});
  EXPECT_THAT(table, HasSubstr("NAME"));
  EXPECT_THAT(table, HasSubstr("COLOR"));
  EXPECT_THAT(table, HasSubstr("REPLICAS"));
  EXPECT_THAT(table, Not(HasSubstr("SELECTOR")));
  EXPECT_THAT(table, HasSubstr("blue"));
  EXPECT_THAT(Ok({"get", "widgets", "-o", "wide"}), HasSubstr("app=blue"));
  EXPECT_THAT(Ok({"get", "wd"}), HasSubstr("blue"));
  EXPECT_THAT(Ok({"get", "widget", "blue"}), HasSubstr("blue"));
  EXPECT_THAT(Ok({"get", "Widget"}), HasSubstr("blue"));

  const std::string yaml = Ok({"get", "widgets", "blue", "-o", "yaml", "--show-managed-fields"});
  EXPECT_THAT(yaml, HasSubstr("apiVersion: example.com/v1"));
  EXPECT_THAT(yaml, HasSubstr("generation: 1"));
  EXPECT_THAT(yaml, HasSubstr("uid: "));
  EXPECT_THAT(yaml, HasSubstr("managedFields:"));
  // The schema: defaults set, unknown fields pruned (or refused when strict), types checked.
  EXPECT_THAT(Ok({"get", "widget", "blue", "-o", "jsonpath={.spec.size}"}), HasSubstr("medium"));
  const std::string odd =
      server_.WriteFile("odd.yaml",
                        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: odd\nspec:\n"
                        "  color: pink\n  extra: 1\n");
  Ok({"apply", "--validate=false", "-f", odd});
  EXPECT_THAT(Ok({"get", "widget", "odd", "-o", "jsonpath={.spec}"}), Not(HasSubstr("extra")));
  auto strict = Kubectl({"create", "--validate=strict", "-f", odd, "--dry-run=server"});
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_THAT(strict.err, HasSubstr("unknown field \"spec.extra\""));
  auto invalid =
      Kubectl({"patch", "widget", "odd", "--type=merge", "-p", R"({"spec":{"replicas":"two"}})"});
  EXPECT_NE(invalid.exit_code, 0);
  EXPECT_THAT(invalid.err, HasSubstr(R"("odd" is invalid: spec.replicas: Invalid value: "string": )"
                                     R"(spec.replicas in body must be of type integer: "string")"));
  // Lists: selectors, pages, typed items.
  const std::string selected = Ok({"get", "widgets", "--field-selector", "metadata.name=odd"});
  EXPECT_THAT(selected, HasSubstr("odd"));
  EXPECT_THAT(selected, Not(HasSubstr("blue")));
  const std::string paged = Ok({"get", "widgets", "--chunk-size=1", "-o", "name"});
  EXPECT_THAT(paged, HasSubstr("widget.example.com/blue"));
  EXPECT_THAT(paged, HasSubstr("widget.example.com/odd"));
  for (const char* rv : {"0", ""}) {
    const std::string raw =
        Ok({"get", "--raw",
            std::string("/apis/example.com/v1/namespaces/default/widgets?resourceVersion=") + rv});
    EXPECT_THAT(raw, HasSubstr(R"("items":[{"apiVersion":"example.com/v1","kind":"Widget",)"));
  }
  Ok({"delete", "widget", "odd"});

  // The other version reads the same object.
  EXPECT_THAT(Ok({"get", "widgets.v1beta1.example.com", "blue", "-o", "yaml"}),
              HasSubstr("apiVersion: example.com/v1beta1"));

  // Patches: merge (label), JSON; strategic merge is refused.
  Ok({"label", "widgets", "blue", "tier=front"});
  EXPECT_THAT(Ok({"get", "widgets", "-l", "tier=front"}), HasSubstr("blue"));
  Ok({"patch", "widget", "blue", "--type=merge", "-p", R"({"spec":{"color":"red"}})"});
  EXPECT_THAT(Ok({"get", "widget", "blue", "-o", "jsonpath={.spec.color} {.metadata.generation}"}),
              HasSubstr("red 2"));
  auto strategic = Kubectl({"patch", "widget", "blue", "-p", R"({"spec":{"color":"green"}})"});
  EXPECT_NE(strategic.exit_code, 0);
  EXPECT_THAT(strategic.err, HasSubstr("application/merge-patch+json"));

  // Scale goes through the scale subresource.
  Ok({"scale", "widget", "blue", "--replicas=5"});
  EXPECT_THAT(Ok({"get", "widget", "blue", "-o", "jsonpath={.spec.replicas}"}), HasSubstr("5"));

  // The status subresource: the main resource ignores status, /status only takes it.
  Ok({"patch", "widget", "blue", "--type=merge", "--subresource=status", "-p",
      R"({"status":{"replicas":3}})"});
  EXPECT_THAT(Ok({"get", "widget", "blue", "-o", "jsonpath={.status.replicas}"}), HasSubstr("3"));
  Ok({"patch", "widget", "blue", "--type=merge", "-p", R"({"status":{"replicas":9}})"});
  EXPECT_THAT(Ok({"get", "widget", "blue", "-o", "jsonpath={.status.replicas}"}), HasSubstr("3"));

  // Deleting a namespace deletes the custom resources in it.
  Ok({"create", "namespace", "scratch"});
  Ok({"-n", "scratch", "apply", "-f", server_.WriteFile("scratch.yaml", kWidget)});
  Ok({"delete", "namespace", "scratch", "--timeout=30s"});
  EXPECT_EQ(Ok({"get", "widgets", "-A", "--no-headers"}).find("scratch"), std::string::npos);

  // A watch sees a change.
  std::thread change([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    server_.Kubectl({"annotate", "widget", "blue", "note=seen"});
  });
  auto watched = Kubectl({"get", "widgets", "--watch", "--request-timeout=4s", "-o", "name"});
  change.join();
  EXPECT_THAT(watched.out, HasSubstr("widget.example.com/blue"));

  // Deleting the definition deletes its objects and the resource.
  Ok({"delete", "crd", "widgets.example.com", "--timeout=30s"});
  EXPECT_THAT(Kubectl({"get", "crd", "widgets.example.com"}).err, HasSubstr("NotFound"));
  EXPECT_THAT(Ok({"api-resources"}), Not(HasSubstr("widgets")));
  EXPECT_NE(Kubectl({"get", "widgets"}).exit_code, 0);

  // A new definition of the same resource starts empty.
  CreateWidgetCrd();
  auto empty = Kubectl({"get", "widgets", "-A"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out + empty.err, HasSubstr("No resources found"));
}

TEST_P(CustomResourcesE2ETest, ClusterScopedAndRestart) {
  Ok({"apply", "-f", server_.WriteFile("regions.yaml", kClusterCrd)});
  Ok({"wait", "--for=condition=Established", "crd/regions.geo.example.com", "--timeout=20s"});
  Ok({"apply", "-f",
      server_.WriteFile("region.yaml",
                        "apiVersion: geo.example.com/v1\nkind: Region\nmetadata:\n  name: north\n"
                        "spec:\n  zones: 3\n")});
  const std::string table = Ok({"get", "regions"});
  EXPECT_THAT(table, HasSubstr("north"));
  EXPECT_THAT(table, HasSubstr("AGE"));
  EXPECT_THAT(Ok({"get", "region", "north", "-o", "jsonpath={.spec.zones}"}), HasSubstr("3"));

  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start());
  EXPECT_THAT(Ok({"get", "regions"}), HasSubstr("north"));
  Ok({"delete", "region", "north"});
  EXPECT_THAT(Kubectl({"get", "region", "north"}).err, HasSubstr("NotFound"));
}

INSTANTIATE_TEST_SUITE_P(Kubectl, CustomResourcesE2ETest, ::testing::Values("1.27", "1.33"),
                         [](const auto& param_info) {
                           std::string name = "kubectl_" + param_info.param;
                           name[name.find('.')] = '_';
                           return name;
                         });

}  // namespace
}  // namespace kpp
