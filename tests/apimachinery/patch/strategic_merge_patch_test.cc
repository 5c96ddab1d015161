#include "apimachinery/patch/strategic_merge_patch.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <string>

#include "apimachinery/patch/json_util.h"
#include "apimachinery/patch/patch_meta.h"
#include "test_json.h"

namespace kpp::patch {
namespace {

namespace json = boost::json;
using testing::Json;
using testing::JsonEq;

// The metadata upstream's API types declare for the fields these tests touch, written against
// both a Pod ("spec.containers") and a Deployment ("spec.template.spec.containers").
const PatchMetaTable& Schema() {
  static const PatchMetaTable table({
      {"metadata.finalizers", PatchMeta::Merge()},
      {"spec.containers", PatchMeta::Merge("name")},
      {"spec.containers.env", PatchMeta::Merge("name")},
      {"spec.containers.ports", PatchMeta::Merge("containerPort")},
      {"spec.volumes", *ParsePatchMeta("merge,retainKeys", "name")},
      {"spec.template.spec.containers", PatchMeta::Merge("name")},
      {"spec.template.spec.containers.env", PatchMeta::Merge("name")},
      {"spec.strategy", *ParsePatchMeta("retainKeys", "")},
      {"spec.selector", PatchMeta::Replace()},
      {"spec.broken", PatchMeta::Merge()},
  });
  return table;
}

Result<json::value> Apply(std::string_view original, std::string_view patch,
                          const PatchMetaLookup& schema = Schema()) {
  return ApplyStrategicMergePatch(Json(original), Json(patch), schema);
}

// Applies and compares, reporting errors and differences with the case's text.
::testing::AssertionResult Patches(std::string_view original, std::string_view patch,
                                   std::string_view expected,
                                   const PatchMetaLookup& schema = Schema()) {
  Result<json::value> result = Apply(original, patch, schema);
  if (!result.ok()) {
    return ::testing::AssertionFailure() << "error: " << result.error().message();
  }
  return JsonEq(*result, expected);
}

constexpr const char* kPod = R"({
  "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b", "c"]},
  "spec": {
    "containers": [
      {"name": "nginx", "image": "nginx:1.0",
       "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
       "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]},
      {"name": "sidecar", "image": "busybox"}
    ],
    "volumes": [{"name": "data", "hostPath": {"path": "/srv"}}],
    "tolerations": [{"key": "a"}, {"key": "b"}]
  }
})";

TEST(StrategicMergePatchTest, MergesContainersByName) {
  EXPECT_TRUE(Patches(kPod, R"({"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}})",
                      R"({
  "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b", "c"]},
  "spec": {
    "containers": [
      {"name": "nginx", "image": "nginx:1.0",
       "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
       "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]},
      {"name": "sidecar", "image": "busybox:2"}
    ],
    "volumes": [{"name": "data", "hostPath": {"path": "/srv"}}],
    "tolerations": [{"key": "a"}, {"key": "b"}]
  }
})"));
}

TEST(StrategicMergePatchTest, MergesEnvByNameAndPortsByContainerPort) {
  Result<json::value> result = Apply(kPod, R"({"spec":{"containers":[{"name":"nginx",
      "env":[{"name":"B","value":"two"},{"name":"C","value":"3"}],
      "ports":[{"containerPort":443,"protocol":"TCP"}]}]}})");
  ASSERT_TRUE(result.ok()) << result.error().message();
  const json::value& nginx = result->at_pointer("/spec/containers/0");
  // Patch elements keep the patch's order; a live-only element (A) stays before the patch elements
  // that followed it in the live list (B); new elements (C) come in the patch's order.
  EXPECT_TRUE(
      JsonEq(nginx.at("env"),
             R"([{"name":"A","value":"1"},{"name":"B","value":"two"},{"name":"C","value":"3"}])"));
  EXPECT_TRUE(
      JsonEq(nginx.at("ports"),
             R"([{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"protocol":"TCP"}])"));
  EXPECT_EQ(nginx.at("image"), "nginx:1.0");
}

TEST(StrategicMergePatchTest, NewContainerIsAddedAndCleaned) {
  Result<json::value> result =
      Apply(kPod, R"({"spec":{"containers":[{"name":"log","image":"tail","args":null,
               "env":[{"name":"X","value":"1","valueFrom":null},{"name":"Y","$patch":"delete"}]}]}})");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(JsonEq(result->at_pointer("/spec/containers"), R"([
      {"name":"log","image":"tail","env":[{"name":"X","value":"1"}]},
      {"name":"nginx","image":"nginx:1.0",
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
       "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]},
      {"name":"sidecar","image":"busybox"}])"));
}

TEST(StrategicMergePatchTest, DeleteDirectiveRemovesContainer) {
  Result<json::value> result =
      Apply(kPod, R"({"spec":{"containers":[{"name":"nginx","$patch":"delete"}]}})");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(
      JsonEq(result->at_pointer("/spec/containers"), R"([{"name":"sidecar","image":"busybox"}])"));
}

TEST(StrategicMergePatchTest, ReplaceDirectiveInListReplacesIt) {
  Result<json::value> result =
      Apply(kPod, R"({"spec":{"containers":[{"name":"only","image":"x"},{"$patch":"replace"}]}})");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(JsonEq(result->at_pointer("/spec/containers"), R"([{"name":"only","image":"x"}])"));
}

TEST(StrategicMergePatchTest, MapDirectives) {
  EXPECT_TRUE(Patches(R"({"spec":{"nodeSelector":{"a":"1","b":"2"}}})",
                      R"({"spec":{"nodeSelector":{"$patch":"replace","c":"3"}}})",
                      R"({"spec":{"nodeSelector":{"c":"3"}}})"));
  // As upstream, deleting an existing map leaves it empty; a new one is not created.
  EXPECT_TRUE(
      Patches(R"({"spec":{"nodeSelector":{"a":"1"}}})",
              R"({"spec":{"nodeSelector":{"$patch":"delete"},"other":{"$patch":"delete"}}})",
              R"({"spec":{"nodeSelector":{}}})"));
  EXPECT_TRUE(
      Patches(R"({"a":1,"b":{"c":2}})", R"({"$patch":"replace","x":true})", R"({"x":true})"));
  EXPECT_TRUE(Patches(R"({"a":1})", R"({"$patch":"merge","b":2})", R"({"a":1,"b":2})"));
}

TEST(StrategicMergePatchTest, NullDeletesAndLabelsMerge) {
  EXPECT_TRUE(Patches(R"({"metadata":{"labels":{"app":"web","old":"x"},"annotations":{"a":"1"}}})",
                      R"({"metadata":{"labels":{"old":null,"tier":"front"},"annotations":null}})",
                      R"({"metadata":{"labels":{"app":"web","tier":"front"}}})"));
}

TEST(StrategicMergePatchTest, ListsWithoutMergeStrategyAreReplaced) {
  Result<json::value> result = Apply(kPod, R"({"spec":{"tolerations":[{"key":"c"}]}})");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(JsonEq(result->at_pointer("/spec/tolerations"), R"([{"key":"c"}])"));
}

TEST(StrategicMergePatchTest, WithoutSchemaEveryListIsReplaced) {
  Result<json::value> result = Apply(
      kPod, R"({"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}})", NoPatchMeta());
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(JsonEq(result->at_pointer("/spec/containers"),
                     R"([{"name":"sidecar","image":"busybox:2"}])"));
}

TEST(StrategicMergePatchTest, ReplaceStrategyMap) {
  EXPECT_TRUE(Patches(R"({"spec":{"selector":{"matchLabels":{"a":"1"}}}})",
                      R"({"spec":{"selector":{"matchExpressions":[]}}})",
                      R"({"spec":{"selector":{"matchExpressions":[]}}})"));
}

TEST(StrategicMergePatchTest, RetainKeysClearsOtherStrategyFields) {
  constexpr const char* kDeployment =
      R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})";
  EXPECT_TRUE(Patches(kDeployment,
                      R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
                      R"({"spec":{"strategy":{"type":"Recreate"}}})"));
  EXPECT_TRUE(Patches(kDeployment,
                      R"({"spec":{"strategy":{"$retainKeys":["type","rollingUpdate"],
                          "rollingUpdate":{"maxUnavailable":0}}}})",
                      R"({"spec":{"strategy":{"type":"RollingUpdate",
                          "rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}})"));
  // A field in the patch must be listed.
  Result<json::value> bad = Apply(kDeployment, R"({"spec":{"strategy":{"$retainKeys":["type"],
      "type":"Recreate","rollingUpdate":{"maxSurge":2}}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message(),
            "spec.strategy: invalid patch format of retainKeys: \"rollingUpdate\" is in the patch "
            "but not in $retainKeys");
  Result<json::value> not_a_list =
      Apply(kDeployment, R"({"spec":{"strategy":{"$retainKeys":"type"}}})");
  ASSERT_FALSE(not_a_list.ok());
  EXPECT_EQ(not_a_list.error().message(), "spec.strategy: invalid patch format of retainKeys");
}

TEST(StrategicMergePatchTest, RetainKeysInsideListElement) {
  // Switching a volume's source, as kubectl apply does for the union VolumeSource.
  Result<json::value> result =
      Apply(kPod, R"({"spec":{"volumes":[{"name":"data","$retainKeys":["name","emptyDir"],
               "emptyDir":{}}]}})");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(JsonEq(result->at_pointer("/spec/volumes"), R"([{"name":"data","emptyDir":{}}])"));
}

TEST(StrategicMergePatchTest, SetElementOrderReordersContainers) {
  constexpr const char* kThree =
      R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b"},{"name":"c"}]}})";
  EXPECT_TRUE(Patches(
      kThree,
      R"({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}]}})",
      R"({"spec":{"containers":[{"name":"c"},{"name":"a","image":"1"},{"name":"b"}]}})"));
  // A new element lands where the order puts it, merged ones keep their content.
  EXPECT_TRUE(Patches(kThree,
                      R"({"spec":{"$setElementOrder/containers":
                            [{"name":"a"},{"name":"new"},{"name":"b"},{"name":"c"}],
                          "containers":[{"name":"a","image":"2"},{"name":"new","image":"n"}]}})",
                      R"({"spec":{"containers":[{"name":"a","image":"2"},{"name":"new","image":"n"},
                          {"name":"b"},{"name":"c"}]}})"));
  // An element the order omits goes before the ordered ones that followed it in the live list.
  EXPECT_TRUE(
      Patches(kThree, R"({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}})",
              R"({"spec":{"containers":[{"name":"b"},{"name":"c"},{"name":"a","image":"1"}]}})"));
  // The patch list must follow the order's relative order.
  Result<json::value> mismatch =
      Apply(kThree, R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
                        "containers":[{"name":"b"},{"name":"a"}]}})");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code(), ErrorCode::kBadRequest);
}

TEST(StrategicMergePatchTest, KubectlApplyThreeWayPatchShape) {
  // What kubectl apply sends after removing container "b" and changing "a"'s image.
  EXPECT_TRUE(Patches(
      R"({"spec":{"template":{"spec":{"containers":[
          {"name":"a","image":"1","env":[{"name":"X","value":"1"}]},{"name":"b","image":"b"}]}}}})",
      R"({"spec":{"template":{"spec":{
          "$setElementOrder/containers":[{"name":"a"}],
          "containers":[{"name":"a","image":"2"},{"name":"b","$patch":"delete"}]}}}})",
      R"({"spec":{"template":{"spec":{"containers":[
          {"name":"a","image":"2","env":[{"name":"X","value":"1"}]}]}}}})"));
}

// The patch upstream's CreateTwoWayMergePatch computes for a list of objects merged by "name":
// changed and new elements in the modified order, deletions appended, and the full order.
json::value TwoWayListPatch(const json::array& original, const json::array& modified) {
  auto find = [](const json::array& list, const json::value& name) -> const json::value* {
    for (const auto& item : list) {
      if (item.at("name") == name) return &item;
    }
    return nullptr;
  };
  json::array changes;
  json::array order;
  for (const auto& item : modified) {
    order.push_back(json::object{{"name", item.at("name")}});
    const json::value* before = find(original, item.at("name"));
    if (before == nullptr) {
      changes.push_back(item);
    } else if (!JsonEqual(*before, item)) {
      changes.push_back(json::object{{"name", item.at("name")}, {"value", item.at("value")}});
    }
  }
  for (const auto& item : original) {
    if (find(modified, item.at("name")) == nullptr) {
      changes.push_back(json::object{{"name", item.at("name")}, {"$patch", "delete"}});
    }
  }
  return json::object{{"$setElementOrder/containers", std::move(order)},
                      {"containers", std::move(changes)}};
}

TEST(StrategicMergePatchTest, ListOrderRoundTripsThroughTwoWayPatches) {
  for (int size : {8, 32, 128, 1024}) {
    json::array original;
    for (int i = 0; i < size; ++i) {
      original.push_back(json::object{{"name", fmt::format("item-{:04}", i)}, {"value", "before"}});
    }
    json::array modified;
    for (int i = size - 1; i >= 0; --i) {
      if (i % 5 == 0) continue;
      json::value item = original[static_cast<std::size_t>(i)];
      if (i % 3 == 0) item.as_object()["value"] = "after";
      modified.push_back(std::move(item));
    }
    modified.push_back(json::object{{"name", "new"}, {"value", "added"}});
    Result<json::value> merged = ApplyStrategicMergePatch(
        json::object{{"spec", json::object{{"containers", original}}}},
        json::object{{"spec", TwoWayListPatch(original, modified)}}, Schema());
    ASSERT_TRUE(merged.ok()) << merged.error().message();
    EXPECT_TRUE(JsonEqual(merged->at_pointer("/spec/containers"), modified)) << size;
  }
}

TEST(StrategicMergePatchTest, LongListsMergeInReasonableTime) {
  // Quadratic merging would take minutes here; the hashed key index keeps it linear.
  json::array live;
  json::array added;
  json::array finalizers;
  json::array more_finalizers;
  for (int i = 0; i < 20000; ++i) {
    live.push_back(json::object{{"name", fmt::format("live-{}", i)}});
    added.push_back(json::object{{"name", fmt::format("new-{}", i)}, {"value", "x"}});
    finalizers.push_back(json::value(fmt::format("f-{}", i)));
    more_finalizers.push_back(json::value(fmt::format("g-{}", i)));
  }
  Result<json::value> merged = ApplyStrategicMergePatch(
      json::object{{"spec", json::object{{"containers", live}}},
                   {"metadata", json::object{{"finalizers", finalizers}}}},
      json::object{{"spec", json::object{{"containers", added}}},
                   {"metadata", json::object{{"finalizers", more_finalizers},
                                             {"$deleteFromPrimitiveList/finalizers", finalizers}}}},
      Schema());
  ASSERT_TRUE(merged.ok()) << merged.error().message();
  EXPECT_EQ(merged->at_pointer("/spec/containers").as_array().size(), 40000u);
  EXPECT_TRUE(JsonEqual(merged->at_pointer("/metadata/finalizers"), more_finalizers));
}

TEST(StrategicMergePatchTest, SetElementOrderWithDeletionsMatchesUpstream) {
  // Upstream orders against the live list as its merge left it in memory, where elements
  // appended to the list take the slots that deletions freed; kubectl users see that order.
  EXPECT_TRUE(Patches(
      R"({"spec":{"containers":[{"name":"1"},{"name":"2","x":"b"},{"name":"4","x":"c"}]}})",
      R"({"spec":{"$setElementOrder/containers":[{"name":"2"},{"name":"3"}],
                          "containers":[{"name":"3"},{"name":"1","$patch":"delete"}]}})",
      R"({"spec":{"containers":[{"name":"2","x":"b"},{"name":"4","x":"c"},{"name":"3"}]}})"));
  EXPECT_TRUE(
      Patches(R"({"spec":{"containers":[{"name":"1","x":"a"},{"name":"4","x":"c"}]}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"2"},{"name":"3"}],
                          "containers":[{"name":"2"},{"name":"3"},{"name":"1","$patch":"delete"}]}})",
              R"({"spec":{"containers":[{"name":"4","x":"c"},{"name":"2"},{"name":"3"}]}})"));
}

TEST(StrategicMergePatchTest, NullsInNewValuesAndUnknownFields) {
  // Without metadata (unknown fields): nulls vanish from values added wholesale, except inside
  // lists of scalars; nulls already stored stay.
  EXPECT_TRUE(Patches(R"({"thing":null,"complex":{"key":null}})",
                      R"({"added":{"key":{"kept":"v","dropped":null}},
                          "objects":[{"inner":{"a":null,"b":null}}],"scalars":["k1",null,"k2"]})",
                      R"({"thing":null,"complex":{"key":null},"added":{"key":{"kept":"v"}},
                          "objects":[{"inner":{}}],"scalars":["k1",null,"k2"]})",
                      NoPatchMeta()));
}

TEST(StrategicMergePatchTest, SetElementOrderMustMatchThePatchList) {
  Result<json::value> result =
      Apply(kPod, R"({"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],
               "containers":[{"name":"sidecar"},{"name":"nginx"}]}})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kBadRequest);
  EXPECT_TRUE(result.error().message().starts_with("spec.containers: the order in patch list"))
      << result.error().message();
}

TEST(StrategicMergePatchTest, PrimitiveListsMergeAsSets) {
  EXPECT_TRUE(Patches(R"({"metadata":{"finalizers":["a","b"]}})",
                      R"({"metadata":{"finalizers":["b","c"]}})",
                      R"({"metadata":{"finalizers":["a","b","c"]}})"));
  EXPECT_TRUE(Patches(R"({"metadata":{"finalizers":["a","b","c"]}})",
                      R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","zzz"]}})",
                      R"({"metadata":{"finalizers":["a","c"]}})"));
  EXPECT_TRUE(Patches(R"({"metadata":{"finalizers":["a","b","c"]}})",
                      R"({"metadata":{"$setElementOrder/finalizers":["c","b","a"]}})",
                      R"({"metadata":{"finalizers":["c","b","a"]}})"));
  // Adding and deleting in one patch, as kubectl apply may.
  EXPECT_TRUE(Patches(R"({"metadata":{"finalizers":["a","b"]}})",
                      R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],
                          "$setElementOrder/finalizers":["b","d"],"finalizers":["d"]}})",
                      R"({"metadata":{"finalizers":["b","d"]}})"));
  // Deleting from a list that is not there is a no-op.
  EXPECT_TRUE(Patches(R"({"metadata":{}})",
                      R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})",
                      R"({"metadata":{}})"));
}

TEST(StrategicMergePatchTest, NewValuesLoseDirectivesAndNulls) {
  EXPECT_TRUE(Patches(R"({"spec":{}})",
                      R"({"spec":{"fresh":{"$patch":"replace","a":null,"b":1,
                          "list":[{"$patch":"delete","name":"x"},{"name":"y","v":null}]}}})",
                      R"({"spec":{"fresh":{"b":1,"list":[{"name":"y"}]}}})"));
  // A value of another shape replaces the live one.
  EXPECT_TRUE(Patches(R"({"spec":{"x":"scalar"}})", R"({"spec":{"x":{"a":1,"b":null}}})",
                      R"({"spec":{"x":{"a":1}}})"));
}

TEST(StrategicMergePatchTest, MalformedPatchesAreRejected) {
  struct Case {
    const char* patch;
    ErrorCode code;
    const char* message;
  };
  const Case cases[] = {
      {R"({"spec":{"containers":[{"image":"x"}]}})", ErrorCode::kBadRequest,
       R"(spec.containers: map: {"image":"x"} does not contain declared merge key: name)"},
      {R"({"spec":{"containers":[{"$patch":"delete"}]}})", ErrorCode::kBadRequest,
       R"(spec.containers: map: {"$patch":"delete"} does not contain declared merge key: name)"},
      {R"({"spec":{"containers":[{"name":"nginx","$patch":"explode"}]}})", ErrorCode::kBadRequest,
       R"(spec.containers: unknown patch type: "explode" in map: {"name":"nginx","$patch":"explode"})"},
      {R"({"spec":{"containers":[{"$patch":"merge"}]}})", ErrorCode::kBadRequest,
       "spec.containers: merging lists cannot yet be specified in the patch"},
      {R"({"metadata":{"$patch":"nonsense"}})", ErrorCode::kBadRequest,
       R"(metadata: unknown patch type: "nonsense" in map: {"$patch":"nonsense"})"},
      {R"({"metadata":{"finalizers":[["x"]]}})", ErrorCode::kInvalid,
       "metadata.finalizers: lists of lists are not supported"},
      {R"({"metadata":{"finalizers":[1]}})", ErrorCode::kBadRequest,
       "metadata.finalizers: list element types are not identical: 1 does not match the other "
       "elements"},
      {R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})", ErrorCode::kBadRequest,
       "metadata.finalizers: invalid patch format of primitive list"},
      {R"({"metadata":{"$deleteFromPrimitiveList":["a"]}})", ErrorCode::kBadRequest,
       "metadata: invalid patch format of primitive list"},
      {R"({"spec":{"$setElementOrder/containers":{"name":"a"}}})", ErrorCode::kBadRequest,
       "spec.containers: invalid patch format of setElementOrder list"},
      {R"({"spec":{"broken":[{"a":1}]}})", ErrorCode::kInternalError,
       "spec.broken: the schema asks to merge this list of objects but names no merge key"},
  };
  const char* original =
      R"({"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"nginx"}],"broken":[{"a":2}]}})";
  for (const Case& c : cases) {
    Result<json::value> result = Apply(original, c.patch);
    ASSERT_FALSE(result.ok()) << c.patch;
    EXPECT_EQ(result.error().code(), c.code) << c.patch;
    EXPECT_EQ(result.error().message(), c.message) << c.patch;
  }
}

TEST(StrategicMergePatchTest, DocumentsMustBeObjects) {
  Result<json::value> not_object_patch = Apply("{}", "[]");
  ASSERT_FALSE(not_object_patch.ok());
  EXPECT_EQ(not_object_patch.error().code(), ErrorCode::kBadRequest);
  Result<json::value> not_object_original = Apply("[]", "{}");
  ASSERT_FALSE(not_object_original.ok());
  EXPECT_EQ(not_object_original.error().code(), ErrorCode::kBadRequest);
  EXPECT_TRUE(Patches("null", R"({"a":{"b":null,"c":1}})", R"({"a":{"c":1}})"));
}

TEST(StrategicMergePatchTest, DeepPatchIsRejectedNotACrash) {
  json::value patch = json::object();
  for (std::size_t i = 0; i < kMaxJsonDepth + 50; ++i) {
    json::object outer;
    outer["a"] = std::move(patch);
    patch = std::move(outer);
  }
  Result<json::value> result = ApplyStrategicMergePatch(json::object(), patch, NoPatchMeta());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kBadRequest);
  EXPECT_NE(result.error().message().find("nested deeper than"), std::string::npos);
}

TEST(StrategicMergePatchTest, SchemaErrorsPassThrough) {
  class Refusing final : public PatchMetaLookup {
   public:
    Result<PatchMeta> Lookup(std::span<const std::string> path) const override {
      return InvalidError("unknown field " + path.back());
    }
  };
  Result<json::value> result = ApplyStrategicMergePatch(Json(R"({"spec":{"a":1}})"),
                                                        Json(R"({"spec":{"b":2}})"), Refusing());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_EQ(result.error().message(), "unknown field spec");
}

TEST(PatchMetaTest, ParsesUpstreamStrategies) {
  EXPECT_EQ(*ParsePatchMeta("", ""), PatchMeta{});
  EXPECT_EQ(*ParsePatchMeta("merge", "name"), PatchMeta::Merge("name"));
  EXPECT_EQ(*ParsePatchMeta("replace", ""), PatchMeta::Replace());
  const PatchMeta merge_retain{
      .strategy = PatchMeta::Strategy::kMerge, .retain_keys = true, .merge_key = "name"};
  EXPECT_EQ(*ParsePatchMeta("merge,retainKeys", "name"), merge_retain);
  EXPECT_EQ(*ParsePatchMeta("retainKeys,merge", "name"), merge_retain);
  EXPECT_EQ(*ParsePatchMeta("retainKeys", ""), (PatchMeta{.retain_keys = true}));
  for (std::string_view bad :
       {"merge,replace", "merge,merge", "foo", "merge,retainKeys,replace", "merge,"}) {
    Result<PatchMeta> meta = ParsePatchMeta(bad, "");
    ASSERT_FALSE(meta.ok()) << bad;
    EXPECT_EQ(meta.error().code(), ErrorCode::kInternalError);
  }
}

TEST(PatchMetaTest, TableLooksUpDottedPaths) {
  const std::string path[] = {"spec", "containers", "ports"};
  Result<PatchMeta> ports = Schema().Lookup(path);
  ASSERT_TRUE(ports.ok());
  EXPECT_EQ(*ports, PatchMeta::Merge("containerPort"));
  Result<PatchMeta> unknown = Schema().Lookup(std::span(path, 1));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, PatchMeta{});
  Result<PatchMeta> none = NoPatchMeta().Lookup(path);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, PatchMeta{});
}

}  // namespace
}  // namespace kpp::patch
