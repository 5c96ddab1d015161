#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

namespace kpp::apiextensions::schema {
namespace {

using testing::Json;

struct Case {
  std::string name;
  std::string spec;  // the CronTab's spec
  std::vector<std::string> errors;
};

class CronTabCases : public ::testing::TestWithParam<Case> {};

TEST_P(CronTabCases, ReportsUpstreamErrors) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                         "metadata": {"name": "c"}, "spec": )" +
                     GetParam().spec + "}");
  EXPECT_EQ(testing::Strings(Validate(object, *schema)), GetParam().errors);
}

INSTANTIATE_TEST_SUITE_P(
    CronTab, CronTabCases,
    ::testing::Values(
        Case{"Valid",
             R"({"cronSpec": "* * * * */5", "image": "my-cron", "replicas": 3, "policy": "Forbid",
                 "port": "http", "tags": ["a", "b"], "ports": [{"name": "a"}, {"name": "b"}],
                 "labels": {"x": "y"}, "config": {"anything": [1, 2]}, "nullableNote": null,
                 "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}})",
             {}},
        Case{"WrongType",
             R"({"cronSpec": "* * * * */5", "replicas": "three"})",
             {"spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type "
              "integer: \"string\""}},
        Case{"FloatForInteger", R"({"cronSpec": "* * * * */5", "replicas": 2.0})", {}},
        Case{"AboveMaximum",
             R"({"cronSpec": "* * * * */5", "replicas": 20})",
             {"spec.replicas: Invalid value: 20: spec.replicas in body should be less than or "
              "equal to 10"}},
        Case{"BelowMinimum",
             R"({"cronSpec": "* * * * */5", "replicas": 0})",
             {"spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or "
              "equal to 1"}},
        Case{"OutOfInt32",
             R"({"cronSpec": "* * * * */5", "replicas": 3000000000})",
             {"<nil>: Invalid value: \"\": Checked value must be of type integer with format "
              "int32 in spec.replicas",
              "spec.replicas: Invalid value: 3000000000: spec.replicas in body should be less "
              "than or equal to 10"}},
        Case{"Enum",
             R"({"cronSpec": "* * * * */5", "policy": "Sometimes"})",
             {"spec.policy: Unsupported value: \"Sometimes\": supported values: \"Allow\", "
              "\"Forbid\", \"Replace\""}},
        Case{"TooLong",
             R"({"cronSpec": "* * * * */5", "image": "an-image-name-longer-than-twenty"})",
             {"spec.image: Too long: may not be more than 20 bytes"}},
        Case{"Pattern",
             R"({"cronSpec": "every minute"})",
             {"spec.cronSpec: Invalid value: \"every minute\": spec.cronSpec in body should match "
              "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'"}},
        Case{"Required", R"({"image": "x"})", {"spec.cronSpec: Required value"}},
        Case{"NullForNonNullable",
             R"({"cronSpec": "* * * * */5", "suspend": null})",
             {"spec.suspend: Invalid value: \"null\": spec.suspend in body must be of type "
              "boolean: \"null\""}},
        Case{"IntOrString",
             R"({"cronSpec": "* * * * */5", "port": true})",
             {"spec.port: Invalid value: \"boolean\": spec.port in body must be of type "
              "integer,string: \"boolean\""}},
        Case{"MapValues",
             R"({"cronSpec": "* * * * */5", "labels": {"a": 1}})",
             {"spec.labels.a: Invalid value: \"integer\": spec.labels.a in body must be of type "
              "string: \"integer\""}},
        Case{"SetDuplicates",
             R"({"cronSpec": "* * * * */5", "tags": ["a", "b", "a"]})",
             {"spec.tags[2]: Duplicate value: \"a\""}},
        Case{"TooManyItems",
             R"({"cronSpec": "* * * * */5", "tags": ["a", "b", "c", "d"]})",
             {"spec.tags: Too many: 4: must have at most 3 items"}},
        Case{
            "MapListDuplicates",
            R"({"cronSpec": "* * * * */5", "ports": [{"name": "http"}, {"name": "http", "port": 1}]})",
            {"spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"http\"}"}},
        Case{"ItemErrors",
             R"({"cronSpec": "* * * * */5", "ports": [{"port": 1}]})",
             {"spec.ports[0].name: Required value"}},
        Case{"EmbeddedResourceTypeMeta",
             R"({"cronSpec": "* * * * */5", "template": {"metadata": {"name": "a/b"}}})",
             {"spec.template.apiVersion: Required value", "spec.template.kind: Required value",
              "spec.template.metadata.name: Invalid value: \"a/b\": may not contain '/'"}},
        Case{
            "EmbeddedResourceKind",
            R"({"cronSpec": "* * * * */5", "template": {"apiVersion": "v1", "kind": "Not_A_Kind"}})",
            {"spec.template.kind: Invalid value: \"Not_A_Kind\": may have mixed case, but should "
             "otherwise match: a DNS-1035 label must consist of lower case alphanumeric "
             "characters or '-', start with an alphabetic character, and end with an "
             "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation "
             "is '[a-z]([-a-z0-9]*[a-z0-9])?')"}}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

TEST(ValidateTest, StatusFormat) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({"spec": {"cronSpec": "* * * * */5"},
                         "status": {"lastScheduleTime": "yesterday", "active": 1}})");
  EXPECT_EQ(testing::Strings(Validate(object, *schema)),
            std::vector<std::string>{
                "status.lastScheduleTime: Invalid value: \"yesterday\": status.lastScheduleTime "
                "in body must be of type date-time: \"yesterday\""});
  object = Json(R"({"spec": {"cronSpec": "* * * * */5"},
                    "status": {"lastScheduleTime": "2024-02-29T10:00:00Z"}})");
  EXPECT_TRUE(Validate(object, *schema).empty());
}

TEST(ValidateTest, Certificate) {
  auto schema = testing::MustCompile(testing::kCertificateSchema);
  auto valid = Json(R"({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
      "metadata": {"name": "web"},
      "spec": {"secretName": "web-tls", "dnsNames": ["example.com"], "duration": "2160h",
               "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"},
               "privateKey": {"algorithm": "RSA", "size": 2048},
               "usages": ["server auth"], "uris": ["spiffe://cluster.local/ns/a"]},
      "status": {"conditions": [{"type": "Ready", "status": "True",
                                 "lastTransitionTime": "2024-01-01T00:00:00Z"}]}})");
  EXPECT_EQ(testing::Strings(Validate(valid, *schema)), std::vector<std::string>{});

  auto invalid = Json(R"({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
      "metadata": {"name": "web"},
      "spec": {"secretName": "", "issuerRef": {"kind": "Issuer"},
               "privateKey": {"algorithm": "DSA", "size": 1000}, "duration": "forever",
               "usages": ["everything"]},
      "status": {"conditions": [{"type": "Ready", "status": "True"},
                                {"type": "Ready", "status": "Maybe"}]}})");
  EXPECT_EQ(
      testing::Strings(Validate(invalid, *schema)),
      (std::vector<std::string>{
          "spec.duration: Invalid value: \"forever\": spec.duration in body must be of type "
          "duration: \"forever\"",
          "spec.issuerRef.name: Required value",
          "spec.privateKey.algorithm: Unsupported value: \"DSA\": supported values: \"RSA\", "
          "\"ECDSA\", \"Ed25519\"",
          "spec.privateKey.size: Invalid value: 1000: spec.privateKey.size in body should be a "
          "multiple of 1024",
          "spec.privateKey.size: Invalid value: 1000: spec.privateKey.size in body should be "
          "greater than or equal to 1024",
          "spec.secretName: Invalid value: \"\": spec.secretName in body should be at least 1 "
          "chars long",
          "spec.usages[0]: Unsupported value: \"everything\": supported values: \"digital "
          "signature\", \"key encipherment\", \"server auth\", \"client auth\"",
          "status.conditions[1].status: Unsupported value: \"Maybe\": supported values: "
          "\"True\", \"False\", \"Unknown\"",
          "status.conditions[1]: Duplicate value: map[string]interface {}{\"type\":\"Ready\"}"}));

  auto missing = Json(R"({"apiVersion": "cert-manager.io/v1", "kind": "Certificate"})");
  EXPECT_EQ(testing::Strings(Validate(missing, *schema)),
            std::vector<std::string>{"spec: Required value"});
}

TEST(ValidateTest, Compositions) {
  auto schema = testing::MustCompile(R"({"type": "object", "properties": {
      "a": {"type": "string", "anyOf": [{"maxLength": 1}, {"pattern": "^x"}]},
      "b": {"type": "integer", "oneOf": [{"minimum": 0}, {"maximum": 10}]},
      "c": {"type": "string", "not": {"enum": ["no"]}},
      "d": {"type": "object", "allOf": [{"required": ["x"]}, {"maxProperties": 1}]}}})");
  EXPECT_TRUE(
      Validate(Json(R"({"a": "xyz", "b": 20, "c": "yes", "d": {"x": 1}})"), *schema).empty());
  EXPECT_EQ(testing::Strings(Validate(
                Json(R"({"a": "abc", "b": 5, "c": "no", "d": {"y": 1, "z": 2}})"), *schema)),
            (std::vector<std::string>{
                "<nil>: Invalid value: \"\": \"a\" must validate at least one schema (anyOf)",
                "a: Too long: may not be more than 1 byte",
                "<nil>: Invalid value: \"\": \"b\" must validate one and only one schema "
                "(oneOf). Found 2 valid alternatives",
                "<nil>: Invalid value: \"\": \"c\" must not validate the schema (not)",
                "d.x: Required value", "d: Too many: 2: must have at most 1 item",
                "<nil>: Invalid value: \"\": \"d\" must validate all the schemas (allOf). None "
                "validated"}));
}

TEST(ValidateTest, AdditionalPropertiesFalse) {
  auto schema = testing::MustCompile(R"({"type": "object", "properties": {
      "a": {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": false}}})");
  EXPECT_EQ(
      testing::Strings(Validate(Json(R"({"a": {"b": "x", "c": 1}})"), *schema)),
      std::vector<std::string>{"a: Invalid value: \"c\": a.c in body is a forbidden property"});
}

std::set<std::string> ErrorSet(const Schema& schema, std::string_view object) {
  auto errors = testing::Strings(Validate(Json(object), schema));
  return {errors.begin(), errors.end()};
}

// Upstream's own cases for int-or-string with a user-provided anyOf or allOf (compared as sets,
// as upstream's test does).
TEST(ValidateTest, IntOrStringWithUserAnyOf) {
  auto any_of = testing::MustCompile(R"({"type": "object", "properties": {"field": {
      "nullable": true, "x-kubernetes-int-or-string": true,
      "anyOf": [{"type": "integer"}, {"type": "string"}]}}})");
  for (std::string_view ok :
       {"{}", R"({"field": null})", R"({"field": 42})", R"({"field": "foo"})"}) {
    EXPECT_EQ(ErrorSet(*any_of, ok), std::set<std::string>{}) << ok;
  }
  EXPECT_EQ(
      ErrorSet(*any_of, R"({"field": true})"),
      (std::set<std::string>{
          R"(<nil>: Invalid value: "": "field" must validate at least one schema (anyOf))",
          R"(field: Invalid value: "boolean": field in body must be of type integer,string: "boolean")",
          R"(field: Invalid value: "boolean": field in body must be of type integer: "boolean")"}));
  EXPECT_EQ(
      ErrorSet(*any_of, R"({"field": 1.2})"),
      (std::set<std::string>{
          R"(<nil>: Invalid value: "": "field" must validate at least one schema (anyOf))",
          R"(field: Invalid value: "number": field in body must be of type integer,string: "number")",
          R"(field: Invalid value: "number": field in body must be of type integer: "number")",
          R"(<nil>: Invalid value: "": Checked value must be of type integer (default format) in field)"}));

  auto all_of = testing::MustCompile(R"({"type": "object", "properties": {"field": {
      "nullable": true, "x-kubernetes-int-or-string": true,
      "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]}}})");
  EXPECT_EQ(
      ErrorSet(*all_of, R"({"field": []})"),
      (std::set<std::string>{
          R"(<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated)",
          R"(<nil>: Invalid value: "": "field" must validate at least one schema (anyOf))",
          R"(field: Invalid value: "array": field in body must be of type integer,string: "array")",
          R"(field: Invalid value: "array": field in body must be of type integer: "array")"}));
}

TEST(ValidateTest, EnumOfOtherTypesAndInvalidPattern) {
  auto schema = testing::MustCompile(R"({"type": "object", "properties": {"field": {
      "type": "object", "required": ["nestedint", "nestedstring"], "properties": {
        "nestedint": {"type": "integer", "enum": [1, 2]},
        "nestedstring": {"type": "string", "enum": ["a", "b"]}}},
      "p": {"type": "string", "pattern": "+"}}})");
  EXPECT_EQ(ErrorSet(*schema, R"({"field": {}})"),
            (std::set<std::string>{"field.nestedint: Required value",
                                   "field.nestedstring: Required value"}));
  EXPECT_EQ(
      ErrorSet(*schema, R"({"field": {"nestedint": "x", "nestedstring": true}})"),
      (std::set<std::string>{
          R"(field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string")",
          R"(field.nestedint: Unsupported value: "x": supported values: "1", "2")",
          R"(field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean")",
          R"(field.nestedstring: Unsupported value: true: supported values: "a", "b")"}));
  EXPECT_EQ(ErrorSet(*schema, R"({"field": {"nestedint": 1, "nestedstring": "a"}, "p": "foo"})"),
            (std::set<std::string>{
                "p: Invalid value: \"foo\": p in body should match '+, but pattern is invalid: "
                "error parsing regexp: missing argument to repetition operator: `+`'"}));
}

struct FormatCase {
  std::string format;
  std::string valid;
  std::string invalid;
};

TEST(ValidateTest, Formats) {
  for (const FormatCase& c : std::vector<FormatCase>{
           {"date", "2024-02-29", "2023-02-29"},
           {"date-time", "2024-01-01T10:20:30.5+02:00", "2024-01-01 25:00"},
           {"byte", "aGVsbG8=", "not base64!"},
           {"uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"},
           {"ipv4", "10.0.0.1", "10.0.0.256"},
           {"ipv6", "fe80::1", "10.0.0.1"},
           {"cidr", "10.0.0.0/8", "10.0.0.0/33"},
           {"mac", "00:1a:2b:3c:4d:5e", "00:1a:2b"},
           {"hostname", "example.com", "-bad-.com"},
           {"email", "a@example.com", "not an email"},
           {"uri", "https://example.com/x", "no scheme"},
           {"duration", "1h30m", "soon"},
           {"hexcolor", "#ffaa00", "#ffaa0"},
       }) {
    auto schema = testing::MustCompile(
        R"({"type": "object", "properties": {"v": {"type": "string", "format": ")" + c.format +
        R"("}}})");
    EXPECT_TRUE(Validate(boost::json::object{{"v", c.valid}}, *schema).empty()) << c.format;
    auto errors = testing::Strings(Validate(boost::json::object{{"v", c.invalid}}, *schema));
    ASSERT_EQ(errors.size(), 1u) << c.format;
    EXPECT_EQ(errors[0], "v: Invalid value: \"" + c.invalid + "\": v in body must be of type " +
                             c.format + ": \"" + c.invalid + "\"");
  }
  // Unknown formats are ignored, as upstream strips them.
  auto schema = testing::MustCompile(
      R"({"type": "object", "properties": {"v": {"type": "string", "format": "int-or-string"}}})");
  EXPECT_TRUE(Validate(Json(R"({"v": "x"})"), *schema).empty());
}

}  // namespace
}  // namespace kpp::apiextensions::schema
