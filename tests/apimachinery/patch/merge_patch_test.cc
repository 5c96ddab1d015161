#include "apimachinery/patch/merge_patch.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "apimachinery/patch/json_util.h"
#include "test_json.h"

namespace kpp::patch {
namespace {

namespace json = boost::json;
using testing::Json;
using testing::JsonEq;

struct MergeCase {
  const char* target;
  const char* patch;
  const char* result;
};

// RFC 7386, Appendix A.
constexpr MergeCase kRfcExamples[] = {
    {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
    {R"({"a":"b"})", R"({"a":null})", R"({})"},
    {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
    {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
    {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
    {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
    {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
    {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
    {R"({"a":"foo"})", "null", "null"},
    {R"({"a":"foo"})", R"("bar")", R"("bar")"},
    {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
    {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
    {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
};

TEST(MergePatchTest, RfcAppendixExamples) {
  for (const MergeCase& c : kRfcExamples) {
    Result<json::value> result = ApplyMergePatch(Json(c.target), Json(c.patch));
    ASSERT_TRUE(result.ok()) << result.error().message();
    EXPECT_TRUE(JsonEq(*result, c.result)) << c.target << " + " << c.patch;
  }
}

TEST(MergePatchTest, KubernetesObjectEdits) {
  Result<json::value> result =
      ApplyMergePatch(Json(R"({"metadata":{"name":"web","labels":{"app":"web","old":"x"}},
               "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}})"),
                      Json(R"({"metadata":{"labels":{"old":null,"tier":"front"}},
               "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c"}]}}}})"));
  ASSERT_TRUE(result.ok());
  // Lists are replaced, never merged, in a merge patch.
  EXPECT_TRUE(JsonEq(*result,
                     R"({"metadata":{"name":"web","labels":{"app":"web","tier":"front"}},
                         "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c"}]}}}})"));
}

TEST(MergePatchTest, CreateProducesMinimalPatch) {
  Result<json::value> patch = CreateMergePatch(
      Json(R"({"a":1,"b":{"c":2,"d":3},"e":[1,2],"f":"same","g":{"h":1}})"),
      Json(R"({"a":1,"b":{"c":2,"d":4},"e":[1],"f":"same","g":"scalar","i":{"j":null}})"));
  ASSERT_TRUE(patch.ok());
  EXPECT_TRUE(JsonEq(*patch, R"({"b":{"d":4},"e":[1],"g":"scalar","i":{"j":null}})"));

  Result<json::value> none = CreateMergePatch(Json(R"({"a":{"b":1}})"), Json(R"({"a":{"b":1.0}})"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(JsonEq(*none, "{}"));

  Result<json::value> removal = CreateMergePatch(Json(R"({"a":{"b":1,"c":2}})"), Json(R"({})"));
  ASSERT_TRUE(removal.ok());
  EXPECT_TRUE(JsonEq(*removal, R"({"a":null})"));
}

TEST(MergePatchTest, CreateThenApplyRoundTrips) {
  const std::pair<const char*, const char*> pairs[] = {
      {R"({"a":1})", R"({"b":2})"},
      {R"({"a":{"b":{"c":[1,2]}}})", R"({"a":{"b":{"c":[3],"d":true}},"x":"y"})"},
      {R"({"a":[1]})", R"([1,2])"},
      {R"("scalar")", R"({"a":{"b":1}})"},
      {R"({"labels":{"a":"1","b":"2"}})", R"({"labels":{"b":"3","c":"4"}})"},
  };
  for (const auto& [original, modified] : pairs) {
    Result<json::value> patch = CreateMergePatch(Json(original), Json(modified));
    ASSERT_TRUE(patch.ok());
    Result<json::value> applied = ApplyMergePatch(Json(original), *patch);
    ASSERT_TRUE(applied.ok());
    EXPECT_TRUE(JsonEq(*applied, modified)) << original << " -> " << modified;
  }
}

// Builds {"a":{"a":...}} `levels` deep without the parser, which would refuse it.
json::value NestedObject(std::size_t levels) {
  json::value value = json::object();
  for (std::size_t i = 0; i < levels; ++i) {
    json::object outer;
    outer["a"] = std::move(value);
    value = std::move(outer);
  }
  return value;
}

TEST(MergePatchTest, DeepPatchIsRejectedNotACrash) {
  Result<json::value> result = ApplyMergePatch(json::object(), NestedObject(kMaxJsonDepth + 50));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kBadRequest);

  Result<json::value> diff =
      CreateMergePatch(NestedObject(kMaxJsonDepth + 50), NestedObject(kMaxJsonDepth + 51));
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.error().code(), ErrorCode::kBadRequest);

  EXPECT_TRUE(ApplyMergePatch(json::object(), NestedObject(kMaxJsonDepth - 1)).ok());
}

TEST(MergePatchTest, NumbersBeyondADoubleAreRejectedWhenParsed) {
  // Found by fuzzing: 1e400 parsed as infinity, and the patched object serialized to text that
  // is not JSON. Go refuses such numbers when it unmarshals.
  for (const char* text : {R"({"a":1e400})", R"({"a":[-1e999]})",
                           R"([{"op":"add","path":"/a",)"
                           R"("value":1e309}])"}) {
    auto parsed = ParseJson(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
    EXPECT_EQ(parsed.error().message(),
              "json: cannot unmarshal number out of range into Go value of type float64");
  }
  EXPECT_TRUE(ParseJson(R"({"a":1.7e308,"b":-1e-400})").ok());
}

}  // namespace
}  // namespace kpp::patch
