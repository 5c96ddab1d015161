#include <gtest/gtest.h>

#include "test_util.h"

namespace kpp::apiextensions::schema {
namespace {

using testing::Json;

TEST(PruneTest, DropsUnknownFieldsAndReportsTheirPaths) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({
    "apiVersion": "stable.example.com/v1", "kind": "CronTab",
    "metadata": {"name": "c", "labels": {"a": "b"}},
    "extra": true,
    "spec": {
      "cronSpec": "* * * * */5", "foo": 1,
      "labels": {"x": "y"},
      "ports": [{"name": "http", "bogus": {"deep": 1}}],
      "config": {"any": {"thing": [1, {"x": 2}]}},
      "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                   "spec": {"containers": []}}
    },
    "status": {"active": 1, "unknown": 2}
  })");
  auto removed = Prune(object, *schema);
  EXPECT_EQ(removed, (std::vector<std::string>{"extra", "spec.foo", "spec.ports[0].bogus",
                                               "status.unknown"}));
  EXPECT_EQ(object, Json(R"({
    "apiVersion": "stable.example.com/v1", "kind": "CronTab",
    "metadata": {"name": "c", "labels": {"a": "b"}},
    "spec": {
      "cronSpec": "* * * * */5",
      "labels": {"x": "y"},
      "ports": [{"name": "http"}],
      "config": {"any": {"thing": [1, {"x": 2}]}},
      "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                   "spec": {"containers": []}}
    },
    "status": {"active": 1}
  })"));
}

TEST(PruneTest, NestedPropertiesUnderPreserveUnknownFieldsArePruned) {
  auto schema = testing::MustCompile(R"({
    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
    "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}}
  })");
  auto object = Json(R"({"kept": 1, "spec": {"a": "x", "b": "y"}})");
  EXPECT_EQ(Prune(object, *schema), std::vector<std::string>{"spec.b"});
  EXPECT_EQ(object, Json(R"({"kept": 1, "spec": {"a": "x"}})"));
}

TEST(PruneTest, MapValuesArePrunedByTheirSchema) {
  auto schema = testing::MustCompile(R"({
    "type": "object",
    "properties": {"m": {"type": "object", "additionalProperties": {
        "type": "object", "properties": {"a": {"type": "string"}}}}}
  })");
  auto object = Json(R"({"m": {"k": {"a": "x", "b": 1}}})");
  EXPECT_EQ(Prune(object, *schema), std::vector<std::string>{"m.k.b"});
}

TEST(PruneTest, EmbeddedResourcesKeepTypeMetaAndMetadata) {
  auto schema = testing::MustCompile(R"({
    "type": "object",
    "properties": {"t": {"type": "object", "x-kubernetes-embedded-resource": true,
                         "properties": {"spec": {"type": "object"}}}}
  })");
  auto object = Json(R"({"t": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                               "spec": {"x": 1}, "other": 2}})");
  EXPECT_EQ(Prune(object, *schema), (std::vector<std::string>{"t.other", "t.spec.x"}));
  EXPECT_EQ(object, Json(R"({"t": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                    "spec": {}}})"));
}

TEST(PruneTest, EmbeddedMetadataGoesThroughTheCoercionHook) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({"metadata": {"name": "root", "bogus": 1}, "spec": {"cronSpec": "x",
      "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bogus": 2}}}})");
  PruneOptions options;
  std::vector<std::string> seen;
  options.coerce_embedded_metadata = [&](boost::json::value& metadata, const std::string& path) {
    seen.push_back(path);
    metadata.as_object().erase("bogus");
    return std::vector<std::string>{path + ".bogus"};
  };
  EXPECT_EQ(Prune(object, *schema, options),
            std::vector<std::string>{"spec.template.metadata.bogus"});
  EXPECT_EQ(seen, std::vector<std::string>{"spec.template.metadata"});
  EXPECT_EQ(object.at("metadata"), Json(R"({"name": "root", "bogus": 1})"));  // the server's
  EXPECT_EQ(object.at("spec").at("template").at("metadata"), Json(R"({"name": "p"})"));
}

// Upstream's own pruning cases (not at a resource root).
TEST(PruneTest, UpstreamCases) {
  struct Case {
    std::string schema;
    std::string object;
    std::string pruned;
    std::vector<std::string> paths;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"items": {"properties": {"a": {}, "c": {}}}})",
            R"([{"a":1},{"b":1},{"a":1,"b":2,"c":3}])",
            R"([{"a":1},{},{"a":1,"c":3}])",
            {"[1].b", "[2].b"}},
           {R"({"properties": {"array": {"items": {"properties": {"a": {}, "c": {}}}},
                               "specified": {"properties": {"a": {}, "c": {}}}}})",
            R"({"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},
                "specified":{"a":1,"b":2,"c":3}})",
            R"({"array":[{"a":1},{},{"a":1,"c":3}],"specified":{"a":1,"c":3}})",
            {"array[1].b", "array[2].b", "specified.b", "unspecified"}},
           {R"({"properties": {"a": {}, "c": {"additionalProperties": {"type": "integer"}}}})",
            R"({"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1}}})",
            R"({"a":1,"c":{"a":1,"b":2,"c":{}}})",
            {"b", "c.c.a"}},
           {R"({"properties": {"a": {}, "c": {"additionalProperties": false}}})",
            R"({"a":1,"b":1,"c":{"a":1,"b":2,"c":{"a":1, "apiVersion": "unknown"}}})",
            R"({"a":1,"c":{"a":1,"b":2,"c":{}}})",
            {"b", "c.c.a", "c.c.apiVersion"}},
       }) {
    auto schema = testing::MustCompile(c.schema);
    auto object = Json(c.object);
    PruneOptions options;
    options.is_resource_root = false;
    EXPECT_EQ(Prune(object, *schema, options), c.paths) << c.object;
    EXPECT_EQ(object, Json(c.pruned)) << c.object;
  }
}

TEST(PruneTest, NotTheResourceRoot) {
  auto schema =
      testing::MustCompile(R"({"type": "object", "properties": {"a": {"type": "string"}}})");
  auto object = Json(R"({"a": "x", "kind": "K"})");
  PruneOptions options;
  options.is_resource_root = false;
  EXPECT_EQ(Prune(object, *schema, options), std::vector<std::string>{});
  EXPECT_EQ(object, Json(R"({"a": "x"})"));  // dropped, but upstream does not report meta keys
}

TEST(DefaultsTest, AppliesDefaultsTopDown) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object =
      Json(R"({"spec": {"cronSpec": "x", "ports": [{"name": "a"}, {"name": "b", "port": 8080}]}})");
  ApplyDefaults(object, *schema);
  EXPECT_EQ(object, Json(R"({"spec": {"cronSpec": "x", "replicas": 1, "policy": "Allow",
      "ports": [{"name": "a", "port": 80, "protocol": "TCP"},
                {"name": "b", "port": 8080, "protocol": "TCP"}]}})"));
}

TEST(DefaultsTest, DefaultedObjectsGetTheirOwnDefaults) {
  auto schema = testing::MustCompile(R"({
    "type": "object",
    "properties": {"spec": {"type": "object", "default": {},
        "properties": {"a": {"type": "string", "default": "A"},
                       "b": {"type": "object", "default": {"c": 1},
                             "properties": {"c": {"type": "integer"}, "d": {"type": "integer", "default": 4}}}}}}
  })");
  auto object = Json("{}");
  ApplyDefaults(object, *schema);
  EXPECT_EQ(object, Json(R"({"spec": {"a": "A", "b": {"c": 1, "d": 4}}})"));
}

TEST(DefaultsTest, NullsOfNonNullableFields) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({"spec": {"cronSpec": "x", "replicas": null, "suspend": null,
                                  "nullableNote": null, "policy": "Forbid"}})");
  ApplyDefaults(object, *schema);
  // A null with a default is defaulted, one without is dropped, a nullable one is kept.
  EXPECT_EQ(object, Json(R"({"spec": {"cronSpec": "x", "replicas": 1, "nullableNote": null,
                                       "policy": "Forbid"}})"));
}

TEST(DefaultsTest, MapValuesAndItems) {
  auto schema = testing::MustCompile(R"({
    "type": "object",
    "properties": {
      "m": {"type": "object", "additionalProperties": {"type": "string", "default": "d"}},
      "l": {"type": "array", "items": {"type": "integer", "default": 5}},
      "o": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string", "default": "X"}}}}
    }
  })");
  auto object = Json(R"({"m": {"a": null, "b": "B"}, "l": [1, null], "o": [{}, {"x": "y"}]})");
  ApplyDefaults(object, *schema);
  EXPECT_EQ(object,
            Json(R"({"m": {"a": "d", "b": "B"}, "l": [1, 5], "o": [{"x": "X"}, {"x": "y"}]})"));
}

TEST(DefaultsTest, PreserveUnknownFieldsAreLeftAlone) {
  auto schema = testing::MustCompile(testing::kCronTabSchema);
  auto object = Json(R"({"spec": {"cronSpec": "x", "config": {"a": null}}})");
  ApplyDefaults(object, *schema);
  EXPECT_EQ(object.at("spec").at("config"), Json(R"({"a": null})"));
}

TEST(BoundsTest, DeepValuesDoNotCrash) {
  // Values far deeper than any walk goes: equality (enum, sets) and printing stop at a bound.
  auto schema = testing::MustCompile(R"({"type": "object", "properties": {
      "s": {"type": "array", "x-kubernetes-list-type": "set",
            "items": {"x-kubernetes-preserve-unknown-fields": true}},
      "e": {"x-kubernetes-preserve-unknown-fields": true, "enum": [{"a": 1}]}}})");
  boost::json::value deep = boost::json::object{};
  for (int i = 0; i < 3000; ++i)
    deep = boost::json::object{{"a", std::move(deep)}};
  boost::json::value object =
      boost::json::object{{"s", boost::json::array{deep, deep}}, {"e", deep}};
  (void)Prune(object, *schema);
  ApplyDefaults(object, *schema);
  auto errors = Validate(object, *schema);
  EXPECT_FALSE(errors.empty());
}

}  // namespace
}  // namespace kpp::apiextensions::schema
