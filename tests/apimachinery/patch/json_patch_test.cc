#include "apimachinery/patch/json_patch.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <iostream>
#include <string>

#include "apimachinery/patch/json_util.h"
#include "base/files.h"
#include "test_json.h"

#ifndef KPP_JSON_PATCH_TESTDATA_DIR
#error "KPP_JSON_PATCH_TESTDATA_DIR must name the shared json-patch-tests directory"
#endif

namespace kpp::patch {
namespace {

namespace json = boost::json;
using testing::Json;
using testing::JsonEq;

Result<json::value> ApplyText(std::string_view document, std::string_view patch,
                              const JsonPatchOptions& options = {}) {
  KPP_ASSIGN_OR_RETURN(JsonPatch parsed, JsonPatch::Parse(patch));
  return parsed.Apply(Json(document), options);
}

// Runs every enabled record of one shared conformance file; a missing or unreadable file fails.
void RunSharedSuite(const std::string& file_name) {
  const std::string path = std::string(KPP_JSON_PATCH_TESTDATA_DIR) + "/" + file_name;
  Result<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << "cannot read shared JSON Patch test data " << path << ": "
                         << text.error().message();
  Result<json::value> records = ParseJson(*text);
  ASSERT_TRUE(records.ok()) << path << ": " << records.error().message();
  ASSERT_TRUE(records->is_array()) << path;
  ASSERT_FALSE(records->get_array().empty()) << path;

  int enabled = 0;
  int passed = 0;
  for (std::size_t i = 0; i < records->get_array().size(); ++i) {
    const json::object& record = records->get_array()[i].get_object();
    if (const json::value* disabled = record.if_contains("disabled");
        disabled != nullptr && disabled->is_bool() && disabled->get_bool()) {
      continue;
    }
    ++enabled;
    const json::value* comment = record.if_contains("comment");
    SCOPED_TRACE(file_name + " record " + std::to_string(i) +
                 (comment != nullptr ? " (" + json::serialize(*comment) + ")" : ""));
    const bool wants_error = record.contains("error");
    Result<JsonPatch> patch = JsonPatch::FromValue(record.at("patch"));
    Result<json::value> result =
        patch.ok() ? patch->Apply(record.at("doc")) : Result<json::value>(patch.error());
    if (wants_error) {
      EXPECT_FALSE(result.ok()) << "expected error " << json::serialize(record.at("error"))
                                << " but got " << json::serialize(*result);
      if (!result.ok()) ++passed;
      continue;
    }
    if (!result.ok()) {
      ADD_FAILURE() << "unexpected error: " << result.error().message();
      continue;
    }
    const json::value* expected = record.if_contains("expected");
    // Records without "expected" only require success, the document unchanged.
    const json::value& want = expected != nullptr ? *expected : record.at("doc");
    if (JsonEqual(*result, want)) {
      ++passed;
    } else {
      ADD_FAILURE() << "got " << json::serialize(*result) << ", want " << json::serialize(want);
    }
  }
  std::cout << file_name << ": " << passed << " of " << enabled << " enabled cases pass\n";
  EXPECT_GT(enabled, 0);
  EXPECT_EQ(passed, enabled);
}

TEST(JsonPatchSharedSuite, TestsJson) {
  RunSharedSuite("tests.json");
}
TEST(JsonPatchSharedSuite, SpecTestsJson) {
  RunSharedSuite("spec_tests.json");
}

TEST(JsonPatchTest, KubectlScaleStylePatch) {
  Result<json::value> result =
      ApplyText(R"({"spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"web"}}}}})",
                R"([{"op":"test","path":"/spec/replicas","value":1},
          {"op":"replace","path":"/spec/replicas","value":3},
          {"op":"add","path":"/spec/template/metadata/labels/tier","value":"front"},
          {"op":"remove","path":"/spec/template/metadata/labels/app"}])");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(JsonEq(
      *result, R"({"spec":{"replicas":3,"template":{"metadata":{"labels":{"tier":"front"}}}}})"));
}

TEST(JsonPatchTest, EscapedKeysAsInAnnotations) {
  Result<json::value> result =
      ApplyText(R"({"metadata":{"annotations":{}}})",
                R"([{"op":"add","path":"/metadata/annotations/example.com~1owner","value":"me"},
                    {"op":"add","path":"/metadata/annotations/a~0b","value":"tilde"}])");
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_TRUE(
      JsonEq(*result, R"({"metadata":{"annotations":{"example.com/owner":"me","a~b":"tilde"}}})"));
}

TEST(JsonPatchTest, RemoveKeepsMemberOrder) {
  Result<json::value> result =
      ApplyText(R"({"a":1,"b":2,"c":3})", R"([{"op":"remove","path":"/a"}])");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(json::serialize(*result), R"({"b":2,"c":3})");
}

TEST(JsonPatchTest, MalformedBodiesAreBadRequest) {
  for (std::string_view body : {"", "{", R"({"op":"add"})", "[1]", R"([{"op":"add"}, "x"])"}) {
    Result<JsonPatch> patch = JsonPatch::Parse(body);
    ASSERT_FALSE(patch.ok()) << body;
    EXPECT_EQ(patch.error().code(), ErrorCode::kBadRequest) << body;
  }
}

TEST(JsonPatchTest, TooManyOperationsIsRequestEntityTooLarge) {
  std::string body = "[";
  for (std::size_t i = 0; i <= kMaxJsonPatchOperations; ++i) {
    body += i == 0 ? "" : ",";
    body += R"({"op":"test","path":"","value":{}})";
  }
  body += "]";
  Result<JsonPatch> patch = JsonPatch::Parse(body);
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().code(), ErrorCode::kRequestEntityTooLarge);
  EXPECT_EQ(patch.error().message(),
            "The allowed maximum operations in a JSON patch is 10000, got 10001");
}

TEST(JsonPatchTest, FailuresAreInvalidAndNameTheOperation) {
  struct Case {
    std::string_view patch;
    std::string_view message;
  };
  const Case cases[] = {
      {R"([{"op":"add","path":"/a","value":1},{"op":"test","path":"/a","value":2}])",
       R"(json patch operation 1 ("test" at "/a"): test failed: the value is 1, not 2)"},
      {R"([{"op":"remove","path":"/missing"}])",
       R"(json patch operation 0 ("remove" at "/missing"): /missing does not exist)"},
      {R"([{"op":"add","path":"/x/y","value":1}])",
       R"(json patch operation 0 ("add" at "/x/y"): /x does not exist)"},
      {R"([{"op":"frobnicate","path":"/a"}])",
       R"(json patch operation 0 ("frobnicate" at "/a"): unknown op "frobnicate")"},
      {R"([{"path":"/a"}])", R"(json patch operation 0 (no op at "/a"): missing "op")"},
      {R"([{"op":"add","path":"/a"}])",
       R"(json patch operation 0 ("add" at "/a"): missing "value")"},
      {R"([{"op":"move","path":"/a"}])",
       R"(json patch operation 0 ("move" at "/a"): missing "from")"},
      {R"([{"op":"add","path":null,"value":1}])",
       R"(json patch operation 0 ("add" at null): "path" must be a string, not null)"},
      {R"([{"op":"add","path":"/l/5","value":1}])",
       R"(json patch operation 0 ("add" at "/l/5"): /l/5: index 5 is out of range (array has 1 elements))"},
      {R"([{"op":"move","from":"/o","path":"/o/inner"}])",
       R"(json patch operation 0 ("move" at "/o/inner"): /o cannot be moved into its own child /o/inner)"},
      {R"([{"op":"remove","path":""}])",
       R"(json patch operation 0 ("remove" at ""): the whole document cannot be removed)"},
  };
  for (const Case& c : cases) {
    Result<json::value> result = ApplyText(R"({"l":[0],"o":{}})", c.patch);
    ASSERT_FALSE(result.ok()) << c.patch;
    EXPECT_EQ(result.error().code(), ErrorCode::kInvalid) << c.patch;
    EXPECT_EQ(result.error().message(), c.message);
  }
}

TEST(JsonPatchTest, CopyAmplificationIsBounded) {
  // Each copy doubles the array; 40 of them would need 2^40 values.
  std::string body = R"([{"op":"add","path":"/a","value":[1,2,3,4,5,6,7,8]})";
  for (int i = 0; i < 40; ++i)
    body += R"(,{"op":"copy","from":"/a","path":"/a/-"})";
  body += "]";
  Result<json::value> result = ApplyText("{}", body);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(result.error().message().find("duplicate more than"), std::string::npos)
      << result.error().message();

  JsonPatchOptions unlimited_small;
  unlimited_small.max_copied_values = 0;
  Result<json::value> few = ApplyText(
      "{}", R"([{"op":"add","path":"/a","value":[1]},{"op":"copy","from":"/a","path":"/b"}])",
      unlimited_small);
  ASSERT_TRUE(few.ok());
  EXPECT_TRUE(JsonEq(*few, R"({"a":[1],"b":[1]})"));
}

TEST(JsonPatchTest, NestingBeyondTheLimitIsRejected) {
  // Copying a value into itself nests it one level deeper each time.
  const std::size_t levels = kMaxJsonDepth - 3;
  const std::string deep = std::string(levels, '[') + std::string(levels, ']');
  std::string body = R"([{"op":"add","path":"/a","value":)" + deep + "}";
  for (int i = 0; i < 5; ++i)
    body += R"(,{"op":"copy","from":"/a","path":"/a/0"})";
  body += "]";
  Result<json::value> result = ApplyText("{}", body);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalid);
  EXPECT_NE(result.error().message().find("nested deeper than 100 levels"), std::string::npos)
      << result.error().message();
}

TEST(JsonPatchTest, ApplyIsAllOrNothing) {
  Result<JsonPatch> patch = JsonPatch::Parse(
      R"([{"op":"add","path":"/a","value":1},{"op":"test","path":"/a","value":2}])");
  ASSERT_TRUE(patch.ok());
  const json::value original = Json(R"({"b":0})");
  Result<json::value> result = patch->Apply(original);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(JsonEq(original, R"({"b":0})"));
}

}  // namespace
}  // namespace kpp::patch
