#include <gtest/gtest.h>

#include "test_util.h"

namespace kpp::apiextensions::schema {
namespace {

using testing::Json;

std::vector<std::string> Check(std::string_view schema, CrdSchemaOptions options = {}) {
  return testing::Strings(ValidateCrdSchema(
      Json(schema), validation::FieldPath("spec").Child("versions").Index(0).Child("schema"),
      options));
}

constexpr std::string_view kRoot = "spec.versions[0].schema.openAPIV3Schema";

std::string At(std::string_view rest) {
  return std::string(kRoot) + std::string(rest);
}

TEST(CrdSchemaTest, RealisticSchemasAreValid) {
  EXPECT_EQ(Check(testing::kCronTabSchema), std::vector<std::string>{});
  EXPECT_EQ(Check(testing::kCertificateSchema), std::vector<std::string>{});
  CrdSchemaOptions with_status;
  with_status.status_enabled = true;
  EXPECT_EQ(Check(testing::kCertificateSchema, with_status), std::vector<std::string>{});
}

struct Case {
  std::string name;
  std::string schema;
  std::vector<std::string> errors;
};

class CrdSchemaCases : public ::testing::TestWithParam<Case> {};

TEST_P(CrdSchemaCases, ReportsUpstreamErrors) {
  EXPECT_EQ(Check(GetParam().schema), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(
    Structural, CrdSchemaCases,
    ::testing::Values(
        Case{"FieldWithoutType",
             R"({"type":"object","properties":{"spec":{"properties":{"a":{"type":"string"}}}}})",
             {At(".properties[spec].type: Required value: must not be empty for specified object "
                 "fields")}},
        Case{"RootWithoutType",
             R"({"properties":{"a":{"type":"string"}}})",
             {At(".type: Required value: must not be empty at the root")}},
        Case{"ItemsWithoutType",
             R"({"type":"object","properties":{"a":{"type":"array","items":{}}}})",
             {At(".properties[a].items.type: Required value: must not be empty for specified "
                 "array items")}},
        Case{"ArrayWithoutItems",
             R"({"type":"object","properties":{"a":{"type":"array"}}})",
             {At(".properties[a].items: Required value: must be specified")}},
        Case{"RootNotObject",
             R"({"type":"string"})",
             {At(".type: Invalid value: \"string\": must be object at the root")}},
        Case{"AdditionalPropertiesAtRoot",
             R"({"type":"object","additionalProperties":{"type":"string"}})",
             {At(".additionalProperties: Forbidden: must not be used at the root")}},
        Case{
            "PropertiesAndAdditionalProperties",
            R"({"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"additionalProperties":{"type":"string"}}}})",
            {At(".properties[a].additionalProperties: Forbidden: additionalProperties and "
                "properties are mutual exclusive")}},
        Case{
            "MetadataBeyondName",
            R"({"type":"object","properties":{"metadata":{"type":"object","properties":{"labels":{"type":"object"}}}}})",
            {At(".properties[metadata]: Forbidden: must not specify anything other than name "
                "and generateName, but metadata is implicitly specified")}},
        Case{
            "MetadataNameOnly",
            R"({"type":"object","properties":{"metadata":{"type":"object","properties":{"name":{"type":"string","maxLength":10}}}}})",
            {}},
        Case{"KindNotString",
             R"({"type":"object","properties":{"kind":{"type":"integer"}}})",
             {At(".properties[kind].type: Invalid value: \"integer\": must be string")}},
        Case{
            "EmbeddedResourceNotObject",
            R"({"type":"object","properties":{"t":{"type":"string","x-kubernetes-embedded-resource":true}}})",
            {At(".properties[t].properties: Required value: must not be empty if "
                "x-kubernetes-embedded-resource is true without "
                "x-kubernetes-preserve-unknown-fields"),
             At(".properties[t].type: Invalid value: \"string\": must be object if "
                "x-kubernetes-embedded-resource is true")}},
        Case{
            "IntOrStringWithPreserve",
            R"({"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true,"x-kubernetes-preserve-unknown-fields":true}}})",
            {At(".properties[p].x-kubernetes-preserve-unknown-fields: Invalid value: true: must "
                "be false if x-kubernetes-int-or-string is true")}},
        Case{
            "IntOrStringAnyOfPatternAllowed",
            R"({"type":"object","properties":{"p":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}],"pattern":"^[0-9]+%?$"}}})",
            {}},
        Case{
            "TypeInsideAnyOf",
            R"({"type":"object","properties":{"a":{"type":"string","anyOf":[{"type":"string"},{"maxLength":3}]}}})",
            {At(".properties[a].anyOf[0].type: Forbidden: must be empty to be structural")}},
        Case{
            "DescriptionInsideAllOf",
            R"({"type":"object","properties":{"a":{"type":"string","allOf":[{"description":"x","nullable":true}]}}})",
            {At(".properties[a].allOf[0].description: Forbidden: must be empty to be structural"),
             At(".properties[a].allOf[0].nullable: Forbidden: must be false to be structural")}},
        Case{
            "ValueValidationOfUnspecifiedProperty",
            R"({"type":"object","properties":{"a":{"type":"string"}},"anyOf":[{"properties":{"b":{"maxLength":1}}}]})",
            {At(".properties[b]: Required value: because it is defined in " +
                At(".anyOf[0].properties[b]"))}},
        Case{"InvalidPattern",
             R"({"type":"object","properties":{"a":{"type":"string","pattern":"(a"}}})",
             {At(".properties[a].pattern: Invalid value: \"(a\": must be a valid regular "
                 "expression, but isn't: error parsing regexp: missing closing ): `(a`")}}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    OpenApi, CrdSchemaCases,
    ::testing::Values(
        Case{
            "UniqueItems",
            R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"uniqueItems":true}}})",
            {At(".properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since "
                "the runtime complexity becomes quadratic")}},
        Case{"Ref",
             R"({"type":"object","properties":{"a":{"type":"string","$ref":"#/x"}}})",
             {At(".properties[a].$ref: Forbidden: $ref is not supported")}},
        Case{"TypeNull",
             R"({"type":"object","properties":{"a":{"type":"null"}}})",
             {At(".properties[a].type: Unsupported value: \"null\": supported values: \"array\", "
                 "\"boolean\", \"integer\", \"number\", \"object\", \"string\""),
              At(".properties[a].type: Forbidden: type cannot be set to null, use nullable as an "
                 "alternative")}},
        Case{"PreserveFalse",
             R"({"type":"object","x-kubernetes-preserve-unknown-fields":false})",
             {At(".x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or "
                 "undefined")}},
        Case{
            "DefaultInTopLevelMetadata",
            R"({"type":"object","properties":{"metadata":{"type":"object","default":{"name":"x"}}}})",
            {At(".properties[metadata].default: Forbidden: must not be set in top-level "
                "metadata")}},
        Case{
            "ListTypeOnObject",
            R"({"type":"object","properties":{"a":{"type":"object","x-kubernetes-list-type":"set"}}})",
            {At(".properties[a].type: Invalid value: \"object\": must be array if "
                "x-kubernetes-list-type is specified")}},
        Case{
            "UnknownListType",
            R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-list-type":"bag"}}})",
            {At(".properties[a].x-kubernetes-list-type: Unsupported value: \"bag\": supported "
                "values: \"atomic\", \"set\", \"map\"")}},
        Case{
            "ListMapWithoutKeys",
            R"({"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"map","items":{"type":"object","properties":{"k":{"type":"string"}}}}}})",
            {At(".properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if "
                "x-kubernetes-list-type is map")}},
        Case{
            "ListMapKeyNeitherRequiredNorDefaulted",
            R"({"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"],"items":{"type":"object","properties":{"k":{"type":"string"}}}}}})",
            {At(".properties[a].items.properties[k].default: Required value: this property is in "
                "x-kubernetes-list-map-keys, so it must have a default or be a required "
                "property")}},
        Case{
            "ListMapKeyNotAProperty",
            R"({"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["x"],"items":{"type":"object","properties":{"k":{"type":"string"}}}}}})",
            {At(".properties[a].x-kubernetes-list-map-keys: Invalid value: []string{\"x\"}: "
                "entries must all be names of item properties")}},
        Case{
            "SetOfGranularObjects",
            R"({"type":"object","properties":{"a":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"object","properties":{"k":{"type":"string"}}}}}})",
            {At(".properties[a].items.x-kubernetes-map-type: Invalid value: \"null\": must be "
                "atomic "
                "as item of a list with x-kubernetes-list-type=set")}},
        Case{
            "MapTypeOnArray",
            R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string"},"x-kubernetes-map-type":"atomic"}}})",
            {At(".properties[a].type: Invalid value: \"array\": must be object if "
                "x-kubernetes-map-type is specified")}},
        Case{
            "EmbeddedResourceInsideMetadata",
            R"({"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"metadata":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}}}})",
            {At(".properties[t].properties[metadata].x-kubernetes-embedded-resource: Forbidden: "
                "must not be used inside of resource meta")}},
        Case{
            "CelRuleShape",
            R"({"type":"object","x-kubernetes-validations":[{"rule":" "},{"rule":"self.a\n== 1"},{"rule":"true","reason":"Nope"}]})",
            {At(".x-kubernetes-validations[0].rule: Required value: rule is not specified"),
             At(".x-kubernetes-validations[1].message: Required value: message must be specified "
                "if rule contains line breaks"),
             At(".x-kubernetes-validations[2].reason: Unsupported value: \"Nope\": supported "
                "values: \"FieldValueDuplicate\", \"FieldValueForbidden\", "
                "\"FieldValueInvalid\", \"FieldValueRequired\"")}},
        Case{"UnsupportedKeywordReportedAlone",
             R"({"type":"object","properties":{"a":{"type":"string","$schema":"x"}}})",
             {At(": Invalid value: \"\": OpenAPIV3Schema 'schema' is not supported")}}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Defaults, CrdSchemaCases,
    ::testing::Values(
        Case{
            "DefaultOfWrongType",
            R"({"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer","default":"one"}}}}})",
            {At(".properties[spec].properties[replicas].default: Invalid value: \"string\":  in "
                "body must be of type integer: \"string\"")}},
        Case{
            "DefaultOutOfRange",
            R"({"type":"object","properties":{"spec":{"type":"object","properties":{"replicas":{"type":"integer","maximum":5,"default":7}}}}})",
            {At(".properties[spec].properties[replicas].default: Invalid value: 7:  in body "
                "should be less than or equal to 5")}},
        Case{
            "NestedDefaultError",
            R"({"type":"object","properties":{"spec":{"type":"object","default":{"a":"x"},"properties":{"a":{"type":"integer"}}}}})",
            {At(".properties[spec].default.a: Invalid value: \"string\": a in body must be of "
                "type integer: \"string\"")}},
        Case{
            "DefaultWithUnknownFields",
            R"({"type":"object","properties":{"spec":{"type":"object","default":{"a":1,"b":2},"properties":{"a":{"type":"integer"}}}}})",
            {At(".properties[spec].default: Invalid value: map[string]interface {}{\"a\":1, "
                "\"b\":2}: must not have unknown fields")}},
        Case{
            "DefaultOfEmbeddedResourceNeedsTypeMeta",
            R"({"type":"object","properties":{"t":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true,"default":{"metadata":{"name":"x"}}}}})",
            {At(".properties[t].default.apiVersion: Required value"),
             At(".properties[t].default.kind: Required value")}}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

TEST(CrdSchemaTest, RootRulesWithStatusSubresource) {
  CrdSchemaOptions options;
  options.status_enabled = true;
  EXPECT_EQ(Check(R"({"type":"string"})", options),
            (std::vector<std::string>{
                At(".type: Invalid value: \"string\": only \"object\" is allowed as the type at "
                   "the root of the schema if the status subresource is enabled"),
                At(".type: Invalid value: \"string\": must be object at the root")}));
  auto errors = Check(R"({"type":"object","anyOf":[{"required":["spec"]}]})", options);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("fields are allowed at the root of the schema if the status "
                           "subresource is enabled"),
            std::string::npos)
      << errors[0];
}

TEST(CrdSchemaTest, NullableRoot) {
  EXPECT_EQ(
      Check(R"({"type":"object","nullable":true})"),
      std::vector<std::string>{At(".nullable: Forbidden: nullable cannot be true at the root")});
}

TEST(CrdSchemaTest, ShapeErrorIsOneInvalid) {
  EXPECT_EQ(Check(R"({"type":1})"),
            std::vector<std::string>{
                At(": Invalid value: \"\": openAPIV3Schema.type: must be a string")});
}

TEST(CrdSchemaTest, WholeSpec) {
  auto spec = Json(R"({"group": "stable.example.com", "scope": "Namespaced",
      "names": {"plural": "crontabs", "kind": "CronTab"},
      "versions": [
        {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
         "schema": {"openAPIV3Schema": {"type": "object", "nullable": true}}},
        {"name": "v2", "served": true, "storage": false}]})");
  EXPECT_EQ(
      testing::Strings(ValidateCrdSpecSchemas(spec, validation::FieldPath("spec"))),
      (std::vector<std::string>{
          "spec.versions[0].schema.openAPIV3Schema: Invalid value: "
          "map[string]interface {}{\"nullable\":true, \"type\":\"object\"}: only [Description "
          "Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
          "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items "
          "Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are "
          "allowed at the root of the schema if the status subresource is enabled",
          "spec.versions[0].schema.openAPIV3Schema.nullable: Forbidden: nullable cannot be "
          "true at the root",
          "spec.versions[1].schema.openAPIV3Schema: Required value"}));
}

TEST(CrdSchemaTest, TypeInvalidCause) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto errors = Validate(Json(R"({"spec": {"cronSpec": 1}})"), *schema);
  ASSERT_EQ(errors.size(), 1u);
  Error error = validation::ToInvalidError("CronTab.stable.example.com", "c", errors);
  ASSERT_EQ(error.causes().size(), 1u);
  EXPECT_EQ(error.causes()[0].type, "FieldValueTypeInvalid");
  EXPECT_EQ(error.causes()[0].field, "spec.cronSpec");
  EXPECT_EQ(error.causes()[0].message,
            "Invalid value: \"integer\": spec.cronSpec in body must be of type string: "
            "\"integer\"");
}

TEST(CrdSchemaTest, IsStructural) {
  EXPECT_TRUE(IsStructural(*testing::MustCompile(testing::kCronTabSchema)));
  EXPECT_FALSE(IsStructural(*testing::MustCompile(R"({"properties":{}})")));
}

}  // namespace
}  // namespace kpp::apiextensions::schema
