#include <gtest/gtest.h>

#include "test_util.h"

namespace kpp::apiextensions::schema {
namespace {

using testing::Json;

TEST(CompileTest, ReadsEveryKeyword) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  ASSERT_EQ(schema->type, "object");
  const Schema& spec = schema->properties.at("spec");
  EXPECT_EQ(spec.required, std::vector<std::string>{"cronSpec"});
  const Schema& replicas = spec.properties.at("replicas");
  EXPECT_EQ(replicas.format, "int32");
  EXPECT_EQ(*replicas.minimum, 1);
  EXPECT_EQ(*replicas.maximum, 10);
  EXPECT_EQ(*replicas.default_value, Json("1"));
  EXPECT_TRUE(spec.properties.at("port").int_or_string);
  EXPECT_EQ(spec.properties.at("tags").list_type, "set");
  EXPECT_EQ(spec.properties.at("ports").list_map_keys, std::vector<std::string>{"name"});
  EXPECT_TRUE(spec.properties.at("config").PreservesUnknownFields());
  EXPECT_TRUE(spec.properties.at("template").embedded_resource);
  EXPECT_TRUE(spec.properties.at("nullableNote").nullable);
  ASSERT_TRUE(spec.properties.at("labels").additional_properties);
  EXPECT_EQ(spec.properties.at("labels").additional_properties->schema->type, "string");
}

TEST(CompileTest, AdditionalPropertiesAsBool) {
  auto schema = testing::MustCompile(R"({"type":"object","additionalProperties":false})");
  ASSERT_TRUE(schema->additional_properties);
  EXPECT_FALSE(schema->additional_properties->allows);
  EXPECT_EQ(schema->additional_properties->schema, nullptr);
}

TEST(CompileTest, RefusesJsonOfTheWrongShape) {
  struct Case {
    std::string_view json;
    std::string_view message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"type": 5})", "openAPIV3Schema.type: must be a string"},
           {R"([])", "openAPIV3Schema: must be an object"},
           {R"({"properties": {"a": {"maxLength": 1.5}}})",
            "openAPIV3Schema.properties[a].maxLength: must be an integer"},
           {R"({"items": [{"type": 1}]})", "openAPIV3Schema.items[0].type: must be a string"},
           {R"({"required": ["a", 1]})", "openAPIV3Schema.required: must be an array of strings"},
           {R"({"x-kubernetes-validations": [{"rule": 1}]})",
            "openAPIV3Schema.x-kubernetes-validations[0].rule: must be a string"},
       }) {
    auto compiled = Compile(Json(c.json));
    ASSERT_FALSE(compiled.ok()) << c.json;
    EXPECT_EQ(compiled.error().message(), c.message);
    EXPECT_EQ(compiled.error().code(), ErrorCode::kBadRequest);
  }
}

TEST(CompileTest, NullFieldsAreAbsent) {
  auto schema = testing::MustCompile(R"({"type": "object", "default": null, "items": null})");
  EXPECT_EQ(schema->items, nullptr);
  EXPECT_FALSE(schema->default_value.has_value());
}

TEST(CompileTest, BoundsSchemaDepth) {
  boost::json::value deep = boost::json::object{{"type", "string"}};
  for (int i = 0; i < kMaxSchemaDepth + 5; ++i) {
    deep =
        boost::json::object{{"type", "object"}, {"properties", boost::json::object{{"a", deep}}}};
  }
  auto compiled = Compile(deep);
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.error().message().find("nested more than"), std::string::npos);
}

}  // namespace
}  // namespace kpp::apiextensions::schema
