#include <gtest/gtest.h>

#include "test_util.h"

namespace kpp::apiextensions::schema {
namespace {

using testing::Json;

TEST(OpenApiTest, IntOrString) {
  auto schema = testing::MustCompile(R"({"x-kubernetes-int-or-string": true})");
  EXPECT_EQ(boost::json::value(ToOpenApiV3(*schema)),
            Json(R"({"anyOf": [{"type": "integer"}, {"type": "string"}],
                     "x-kubernetes-int-or-string": true})"));
  EXPECT_EQ(boost::json::value(ToOpenApiV2(*schema)),
            Json(R"({"x-kubernetes-int-or-string": true})"));
}

TEST(OpenApiTest, V2DropsWhatItCannotSay) {
  auto schema = testing::MustCompile(R"({
    "type": "object", "required": ["a", "n"],
    "properties": {
      "a": {"type": "string", "default": "x", "anyOf": [{"maxLength": 3}], "maxLength": 5},
      "n": {"type": "object", "nullable": true, "properties": {"x": {"type": "string"}}},
      "p": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"y": {"type": "string"}}}
    }
  })");
  EXPECT_EQ(boost::json::value(ToOpenApiV2(*schema)), Json(R"({
    "type": "object", "required": ["a"],
    "properties": {
      "a": {"type": "string", "maxLength": 5},
      "n": {},
      "p": {"x-kubernetes-preserve-unknown-fields": true}
    }
  })"));
  EXPECT_EQ(boost::json::value(ToOpenApiV3(*schema)), Json(R"({
    "type": "object", "required": ["a", "n"],
    "properties": {
      "a": {"type": "string", "default": "x", "anyOf": [{"maxLength": 3}], "maxLength": 5},
      "n": {"type": "object", "nullable": true, "properties": {"x": {"type": "string"}}},
      "p": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": {"y": {"type": "string"}}}
    }
  })"));
}

TEST(OpenApiTest, KindDefinition) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto v3 =
      BuildKindDefinition(schema.get(), "stable.example.com", "v1", "CronTab", OpenApiVersion::kV3);
  EXPECT_EQ(v3.at("x-kubernetes-group-version-kind"),
            Json(R"([{"group": "stable.example.com", "version": "v1", "kind": "CronTab"}])"));
  const auto& properties = v3.at("properties").as_object();
  EXPECT_EQ(
      properties.at("metadata").at("allOf"),
      Json(
          R"([{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}])"));
  EXPECT_EQ(properties.at("apiVersion").at("type"), "string");
  EXPECT_EQ(properties.at("kind").at("type"), "string");
  const auto& replicas = properties.at("spec").at("properties").at("replicas");
  EXPECT_EQ(replicas, Json(R"({"type": "integer", "format": "int32", "minimum": 1,
                               "maximum": 10, "default": 1})"));
  // The embedded template gets its type meta and metadata too.
  const auto& template_schema = properties.at("spec").at("properties").at("template").as_object();
  EXPECT_TRUE(template_schema.at("properties").as_object().contains("metadata"));
  EXPECT_EQ(template_schema.at("required"), Json(R"(["kind", "apiVersion"])"));

  auto v2 =
      BuildKindDefinition(schema.get(), "stable.example.com", "v1", "CronTab", OpenApiVersion::kV2);
  EXPECT_EQ(v2.at("properties").at("metadata").at("$ref"),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_FALSE(v2.at("properties")
                   .at("spec")
                   .at("properties")
                   .at("replicas")
                   .as_object()
                   .contains("default"));
  // In v2 the preserve-unknown-fields template is not given type meta.
  EXPECT_FALSE(v2.at("properties")
                   .at("spec")
                   .at("properties")
                   .at("template")
                   .as_object()
                   .contains("properties"));

  auto bare = BuildKindDefinition(nullptr, "g.io", "v1", "K", OpenApiVersion::kV2);
  EXPECT_EQ(bare.at("type"), "object");
}

TEST(OpenApiTest, ListDefinitionAndNames) {
  EXPECT_EQ(DefinitionName("stable.example.com", "v1", "CronTab"), "com.example.stable.v1.CronTab");
  auto list = BuildListDefinition("stable.example.com", "v1", "CronTabList",
                                  DefinitionName("stable.example.com", "v1", "CronTab"),
                                  OpenApiVersion::kV2);
  EXPECT_EQ(list.at("properties").at("items").at("items").at("$ref"),
            "#/definitions/com.example.stable.v1.CronTab");
  EXPECT_EQ(list.at("x-kubernetes-group-version-kind").at(0).at("kind"), "CronTabList");
}

}  // namespace
}  // namespace kpp::apiextensions::schema
