#include "apimachinery/patch/json_pointer.h"

#include <gtest/gtest.h>

#include "apimachinery/patch/json_util.h"
#include "test_json.h"

namespace kpp::patch {
namespace {

using testing::Json;

TEST(JsonPointerTest, ParsesTokensAndEscapes) {
  Result<JsonPointer> pointer = JsonPointer::Parse("/a~1b/m~0n/~01/");
  ASSERT_TRUE(pointer.ok()) << pointer.error().message();
  EXPECT_EQ(pointer->tokens(), (std::vector<std::string>{"a/b", "m~n", "~1", ""}));
  EXPECT_EQ(pointer->ToString(), "/a~1b/m~0n/~01/");
}

TEST(JsonPointerTest, EmptyTextIsTheRoot) {
  Result<JsonPointer> pointer = JsonPointer::Parse("");
  ASSERT_TRUE(pointer.ok());
  EXPECT_TRUE(pointer->IsRoot());
  EXPECT_EQ(pointer->ToString(), "");
}

TEST(JsonPointerTest, RejectsMalformedText) {
  for (std::string_view text : {"a/b", "/a~", "/a~2", "~0"}) {
    Result<JsonPointer> pointer = JsonPointer::Parse(text);
    ASSERT_FALSE(pointer.ok()) << text;
    EXPECT_EQ(pointer.error().code(), ErrorCode::kBadRequest);
  }
}

TEST(JsonPointerTest, ArrayIndexSyntax) {
  EXPECT_EQ(ParseArrayIndex("0"), 0u);
  EXPECT_EQ(ParseArrayIndex("42"), 42u);
  EXPECT_EQ(ParseArrayIndex("01"), std::nullopt);
  EXPECT_EQ(ParseArrayIndex("-1"), std::nullopt);
  EXPECT_EQ(ParseArrayIndex("1e0"), std::nullopt);
  EXPECT_EQ(ParseArrayIndex("-"), std::nullopt);
  EXPECT_EQ(ParseArrayIndex(""), std::nullopt);
  EXPECT_EQ(ParseArrayIndex("99999999999999999999999"), std::nullopt);
}

TEST(JsonPointerTest, FindsValuesAndExplainsMisses) {
  const boost::json::value doc = Json(R"({"spec":{"containers":[{"name":"a"}]},"n":1})");
  Result<const boost::json::value*> found =
      FindValue(doc, *JsonPointer::Parse("/spec/containers/0/name"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(**found, "a");

  Result<const boost::json::value*> missing =
      FindValue(doc, *JsonPointer::Parse("/spec/containers/1/name"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("/spec/containers/1"), std::string::npos)
      << missing.error().message();

  Result<const boost::json::value*> through_scalar = FindValue(doc, *JsonPointer::Parse("/n/x"));
  ASSERT_FALSE(through_scalar.ok());
  EXPECT_NE(through_scalar.error().message().find("not an object or array"), std::string::npos);
}

TEST(JsonPointerTest, ProperPrefix) {
  EXPECT_TRUE(JsonPointer::Parse("/a")->IsProperPrefixOf(*JsonPointer::Parse("/a/b")));
  EXPECT_FALSE(JsonPointer::Parse("/a")->IsProperPrefixOf(*JsonPointer::Parse("/a")));
  EXPECT_FALSE(JsonPointer::Parse("/a")->IsProperPrefixOf(*JsonPointer::Parse("/ab")));
  EXPECT_TRUE(JsonPointer().IsProperPrefixOf(*JsonPointer::Parse("/a")));
}

TEST(JsonUtilTest, EqualityIsJsonEquality) {
  EXPECT_TRUE(JsonEqual(Json(R"({"a":1,"b":[1,2]})"), Json(R"({"b":[1,2],"a":1.0})")));
  EXPECT_FALSE(JsonEqual(Json("[1,2]"), Json("[2,1]")));
  EXPECT_FALSE(JsonEqual(Json("10"), Json(R"("10")")));
  EXPECT_FALSE(JsonEqual(Json("1.5"), Json("1")));
  EXPECT_TRUE(JsonEqual(Json("18446744073709551615"), Json("18446744073709551615")));
  EXPECT_FALSE(JsonEqual(Json(R"({"a":null})"), Json("{}")));
}

TEST(JsonUtilTest, DepthAndParsingLimit) {
  EXPECT_EQ(JsonDepth(Json("1")), 0u);
  EXPECT_EQ(JsonDepth(Json("{}")), 1u);
  EXPECT_EQ(JsonDepth(Json(R"({"a":[{"b":1}]})")), 3u);
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(deep).ok());
  std::string too_deep = "[" + deep + "]";
  Result<boost::json::value> parsed = ParseJson(too_deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
}

TEST(JsonUtilTest, ObjectPatchMustBeAnObject) {
  EXPECT_TRUE(ParseObjectPatch(R"({"a":1})").ok());
  for (std::string_view text : {"[1]", "null", "5", "{", ""}) {
    Result<boost::json::value> parsed = ParseObjectPatch(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kBadRequest);
  }
}

}  // namespace
}  // namespace kpp::patch
