// YAML to JSON as upstream's API server converts request bodies (sigs.k8s.io/yaml, go-yaml v2).
#include "apimachinery/yaml/yaml_to_json.h"

#include <gtest/gtest.h>

#include <string>

namespace kpp::yaml {
namespace {

std::string Json(std::string_view yaml) {
  auto json = ToJson(yaml);
  EXPECT_TRUE(json.ok()) << (json.ok() ? "" : json.error().message());
  return json.ok() ? *json : "";
}

std::string ErrorOf(std::string_view yaml, const ToJsonOptions& options = {}) {
  auto json = ToJson(yaml, options);
  EXPECT_FALSE(json.ok()) << *json;
  return json.ok() ? "" : json.error().message();
}

TEST(YamlToJsonTest, AManifest) {
  EXPECT_EQ(Json("apiVersion: v1\n"
                 "kind: ConfigMap\n"
                 "metadata:\n"
                 "  name: settings\n"
                 "  labels: {app: web, tier: \"1\"}\n"
                 "data:\n"
                 "  script: |\n"
                 "    echo hi\n"
                 "    exit 0\n"
                 "  empty: ''\n"
                 "list:\n"
                 "- a\n"
                 "- 2\n"),
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","labels":)"
            R"({"app":"web","tier":"1"}},"data":{"script":"echo hi\nexit 0\n","empty":""},)"
            R"("list":["a",2]})");
}

TEST(YamlToJsonTest, PlainScalarsTakeYaml11Types) {
  EXPECT_EQ(Json("[yes, No, on, OFF, y, n, true, False, ~, null, '', x]"),
            R"([true,false,true,false,true,false,true,false,null,null,"","x"])");
  EXPECT_EQ(Json("[1, -5, +7, 0755, 0x1F, 0o17, 0b101, 1_000, 9223372036854775807, "
                 "18446744073709551615, 09]"),
            "[1,-5,7,493,31,15,5,1000,9223372036854775807,18446744073709551615,9]");
  EXPECT_EQ(Json("[1.5, .5, 1.0, -2.50, 1e3, 1.5e-7, 3e21, 1e400]"),
            R"([1.5,0.5,1,-2.5,1000,1.5e-7,3e+21,"1e400"])");
  // Quoted and tagged scalars stay strings; timestamps are strings too.
  EXPECT_EQ(Json(R"(["yes", 'on', !!str 12, 2026-01-01T00:00:00Z, 2001-12-14, 1.2.3, v1])"),
            R"(["yes","on","12","2026-01-01T00:00:00Z","2001-12-14","1.2.3","v1"])");
  EXPECT_EQ(Json("[!!int 12, !!bool yes, !!float 1]"), "[12,true,1]");
}

TEST(YamlToJsonTest, KeysBecomeStrings) {
  EXPECT_EQ(Json("{1: a, true: b, on: c, 1.5: d, key: e}"),
            R"({"1":"a","true":"b","true":"c","1.5":"d","key":"e"})");
}

TEST(YamlToJsonTest, StringsAreEscaped) {
  EXPECT_EQ(Json("s: \"tab\\there \\\"quoted\\\" \\u00e9\"\n"),
            "{\"s\":\"tab\\there \\\"quoted\\\" \xc3\xa9\"}");
}

TEST(YamlToJsonTest, AnchorsAliasesAndMerges) {
  EXPECT_EQ(Json("base: &base {cpu: 100m, memory: 1Gi}\n"
                 "copy: *base\n"
                 "merged:\n"
                 "  <<: *base\n"
                 "  memory: 2Gi\n"
                 "many:\n"
                 "  <<: [{a: 1}, {a: 2, b: 2}]\n"),
            R"({"base":{"cpu":"100m","memory":"1Gi"},"copy":{"cpu":"100m","memory":"1Gi"},)"
            R"("merged":{"memory":"2Gi","cpu":"100m"},"many":{"a":1,"b":2}})");
  EXPECT_EQ(ErrorOf("a: *missing\n"),
            "error converting YAML to JSON: yaml: unknown anchor 'missing' referenced");
}

TEST(YamlToJsonTest, DuplicateKeysAreKeptForTheJsonChecks) {
  EXPECT_EQ(Json("a: 1\na: 2\n"), R"({"a":1,"a":2})");
}

TEST(YamlToJsonTest, OnlyTheFirstDocumentCounts) {
  EXPECT_EQ(Json("---\na: 1\n---\nb: 2\n"), R"({"a":1})");
  EXPECT_EQ(Json(""), "null");
  EXPECT_EQ(Json("# only a comment\n"), "null");
}

TEST(YamlToJsonTest, SyntaxErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("a: b\nc: d: e\n"),
            "error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this "
            "context");
  // Parser errors count lines from 0, as go-yaml reports them.
  EXPECT_EQ(ErrorOf("a:\n  - b\n c: d\n"),
            "error converting YAML to JSON: yaml: line 2: did not find expected key");
  EXPECT_EQ(ErrorOf("a: \"unterminated\n"),
            "error converting YAML to JSON: yaml: line 2: found unexpected end of stream");
  EXPECT_EQ(ErrorOf("a: \xff\n"),
            "error converting YAML to JSON: yaml: invalid leading UTF-8 octet");
  EXPECT_EQ(ErrorOf("a: .nan\n"), "error converting YAML to JSON: json: unsupported value: .nan");
}

TEST(YamlToJsonTest, NestingAndAliasExpansionAreBounded) {
  EXPECT_EQ(ErrorOf(std::string(300, '[') + std::string(300, ']')),
            "error converting YAML to JSON: yaml: exceeded max depth of 200");
  // Each level doubles the previous: 2^30 values if expanded.
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  EXPECT_EQ(ErrorOf(bomb),
            "error converting YAML to JSON: yaml: document contains excessive aliasing");
}

}  // namespace
}  // namespace kpp::yaml
