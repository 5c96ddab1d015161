// RuntimeClasses (api/node.k8s.io/v1) against JSON as an upstream API server writes it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/node.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace node = node_k8s_io::v1;

TEST(RuntimeClassSchemaTest, RuntimeClassesRoundTripExactly) {
  ExpectRoundTrip<node::RuntimeClass>(
      R"({"kind":"RuntimeClass","apiVersion":"node.k8s.io/v1","metadata":{"name":"gvisor",)"
      R"("uid":"c0ffee00-1234-4abc-9def-0123456789ab","resourceVersion":"77",)"
      R"("creationTimestamp":"2024-04-05T06:07:08Z"},"handler":"runsc","overhead":{"podFixed":{)"
      R"("cpu":"250m","memory":"120Mi"}},"scheduling":{"nodeSelector":{)"
      R"("runtime.example.com/gvisor":"true"},"tolerations":[{"key":"sandboxed","operator":)"
      R"("Equal","value":"gvisor","effect":"NoSchedule"}]}})");
  ExpectRoundTrip<node::RuntimeClass>(
      R"({"kind":"RuntimeClass","apiVersion":"node.k8s.io/v1","metadata":{"name":"crun",)"
      R"("creationTimestamp":"2024-04-05T06:07:08Z"},"handler":"crun"})");
}

TEST(RuntimeClassSchemaTest, RuntimeClassesHaveNoDefaults) {
  // The handler has no omitempty: an empty one is still written.
  EXPECT_EQ(Defaulted<node::RuntimeClass>(R"({"metadata":{"name":"x","creationTimestamp":null}})"),
            R"({"metadata":{"name":"x","creationTimestamp":null},"handler":""})");
}

TEST(RuntimeClassSchemaTest, KindTableRowAndOpenApi) {
  const KindInfo* runtime_class = FindKind("node.k8s.io", "RuntimeClass");
  ASSERT_NE(runtime_class, nullptr);
  EXPECT_EQ(runtime_class->version, "v1");
  EXPECT_EQ(runtime_class->plural, "runtimeclasses");
  EXPECT_EQ(runtime_class->short_names, "");
  EXPECT_FALSE(runtime_class->namespaced);
  EXPECT_EQ(runtime_class->list_kind, "RuntimeClassList");

  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  const auto& definition = definitions.at("io.k8s.api.node.v1.RuntimeClass").as_object();
  EXPECT_EQ(
      definition.at("x-kubernetes-group-version-kind"),
      boost::json::parse(R"([{"group":"node.k8s.io","kind":"RuntimeClass","version":"v1"}])"));
  EXPECT_EQ(definition.at("required"), boost::json::parse(R"(["handler"])"));
  const auto& scheduling = definitions.at("io.k8s.api.node.v1.Scheduling").at("properties");
  EXPECT_EQ(scheduling.at("nodeSelector").at("x-kubernetes-map-type"), "atomic");
  EXPECT_EQ(scheduling.at("tolerations").at("items").at("$ref"),
            "#/definitions/io.k8s.api.core.v1.Toleration");
}

}  // namespace
}  // namespace kpp::api
