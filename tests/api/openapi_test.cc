#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/runtime/kinds.h"
#include "api/runtime/openapi_data.h"

namespace kpp::api {
namespace {

boost::json::object Definitions() {
  return boost::json::parse(OpenApiV2Definitions()).as_object();
}

TEST(OpenApiTest, DefinitionsCarryKindsAndPatchMetadata) {
  const auto definitions = Definitions();
  const auto& config_map = definitions.at("io.k8s.api.core.v1.ConfigMap").as_object();
  EXPECT_EQ(config_map.at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"","kind":"ConfigMap","version":"v1"}])"));
  const auto& properties = config_map.at("properties").as_object();
  EXPECT_EQ(properties.at("metadata").at("$ref"),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(properties.at("binaryData").at("additionalProperties").at("format"), "byte");
  EXPECT_FALSE(properties.at("data").at("description").as_string().empty());

  const auto& owner_refs = definitions.at("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                               .at("properties")
                               .at("ownerReferences")
                               .as_object();
  EXPECT_EQ(owner_refs.at("x-kubernetes-patch-strategy"), "merge");
  EXPECT_EQ(owner_refs.at("x-kubernetes-patch-merge-key"), "uid");
  EXPECT_EQ(owner_refs.at("x-kubernetes-list-type"), "map");
  EXPECT_EQ(owner_refs.at("x-kubernetes-list-map-keys"), boost::json::parse(R"(["uid"])"));
  EXPECT_EQ(owner_refs.at("items").at("$ref"),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference");

  const auto& secret_type =
      definitions.at("io.k8s.api.core.v1.Secret").at("properties").at("type").as_object();
  EXPECT_EQ(secret_type.at("default"), "Opaque");
  EXPECT_EQ(definitions.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString").at("format"),
            "int-or-string");
  EXPECT_EQ(definitions.at("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")
                .at("x-kubernetes-map-type"),
            "atomic");
}

TEST(OpenApiTest, EveryReferenceResolvesAndEveryFieldIsDescribed) {
  const auto definitions = Definitions();
  std::function<void(const boost::json::value&, const std::string&)> check =
      [&](const boost::json::value& schema, const std::string& where) {
        if (!schema.is_object()) return;
        const auto& object = schema.as_object();
        if (const auto* ref = object.if_contains("$ref")) {
          const std::string name(ref->as_string().subview(std::string("#/definitions/").size()));
          EXPECT_TRUE(definitions.contains(name)) << where << " refers to missing " << name;
        }
        if (const auto* properties = object.if_contains("properties")) {
          for (const auto& [field, property] : properties->as_object()) {
            EXPECT_TRUE(property.as_object().contains("description"))
                << where << "." << std::string(field) << " has no description";
            check(property, where + "." + std::string(field));
          }
        }
        for (const char* nested : {"items", "additionalProperties"}) {
          if (const auto* inner = object.if_contains(nested)) check(*inner, where);
        }
      };
  for (const auto& [name, schema] : definitions) {
    EXPECT_TRUE(schema.as_object().contains("description")) << name;
    check(schema, std::string(name));
  }
}

TEST(KindsTest, TableDescribesResources) {
  const KindInfo* config_maps = nullptr;
  const KindInfo* namespaces = nullptr;
  for (const auto& kind : AllKinds()) {
    if (kind.kind == "ConfigMap") config_maps = &kind;
    if (kind.kind == "Namespace") namespaces = &kind;
    EXPECT_NE(kind.kind, "Status") << "Status is not a resource";
  }
  ASSERT_NE(config_maps, nullptr);
  EXPECT_EQ(config_maps->plural, "configmaps");
  EXPECT_EQ(config_maps->singular, "configmap");
  EXPECT_TRUE(config_maps->namespaced);
  EXPECT_EQ(config_maps->short_names, "cm");
  EXPECT_EQ(config_maps->list_kind, "ConfigMapList");
  EXPECT_EQ(config_maps->openapi_name, "io.k8s.api.core.v1.ConfigMap");
  ASSERT_NE(namespaces, nullptr);
  EXPECT_FALSE(namespaces->namespaced);
  EXPECT_EQ(namespaces->group, "");
  EXPECT_EQ(namespaces->version, "v1");
}

}  // namespace
}  // namespace kpp::api
