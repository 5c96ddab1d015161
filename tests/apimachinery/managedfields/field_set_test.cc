#include "apimachinery/managedfields/field_set.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace kpp::managedfields {
namespace {

Path P(std::initializer_list<PathElement> elements) {
  return Path(elements);
}
PathElement F(const char* name) {
  return PathElement::Field(name);
}

TEST(FieldSetTest, FieldsV1MarksMembersWithChildrenWithADot) {
  FieldSet set;
  set.Insert(P({F("metadata"), F("labels")}));
  set.Insert(P({F("metadata"), F("labels"), F("app")}));
  set.Insert(P({F("spec"), F("containers"),
                PathElement::Key(boost::json::parse(R"({"name":"web"})").as_object())}));
  set.Insert(
      P({F("spec"), F("containers"),
         PathElement::Key(boost::json::parse(R"({"name":"web"})").as_object()), F("image")}));
  set.Insert(P({F("metadata"), F("finalizers"), PathElement::Value("a")}));
  const std::string json = boost::json::serialize(set.ToFieldsV1());
  EXPECT_EQ(json, R"({"f:metadata":{"f:finalizers":{"v:\"a\"":{}},"f:labels":{".":{},"f:app":{}}},)"
                  R"("f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}})");
  auto back = FieldSet::FromFieldsV1(boost::json::parse(json));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, set);
  EXPECT_FALSE(set.Has(P({F("metadata")})));
  EXPECT_TRUE(set.HasAtOrBelow(P({F("metadata")})));
}

TEST(FieldSetTest, KeysAreSortedAndPrintedAsUpstream) {
  auto key =
      PathElement::Key(boost::json::parse(R"({"protocol":"TCP","containerPort":80})").as_object());
  EXPECT_EQ(key.FieldsV1Name(), R"(k:{"containerPort":80,"protocol":"TCP"})");
  EXPECT_EQ(PathToString(P({F("spec"), F("ports"), key})),
            R"(.spec.ports[containerPort=80,protocol="TCP"])");
  EXPECT_EQ(PathToString(P({F("a"), PathElement::Value("x"), PathElement::Index(2)})),
            R"(.a[="x"][2])");
}

TEST(FieldSetTest, SetAlgebra) {
  FieldSet a, b;
  a.Insert(P({F("x")}));
  a.Insert(P({F("y"), F("z")}));
  b.Insert(P({F("y")}));
  b.Insert(P({F("x")}));
  EXPECT_EQ(a.Intersection(b).Members(), std::vector<Path>{P({F("x")})});
  EXPECT_EQ(a.Difference(b).Members(), std::vector<Path>{P({F("y"), F("z")})});
  EXPECT_TRUE(a.RecursiveDifference(b).Empty());
  EXPECT_EQ(a.Union(b).Members().size(), 3u);
}

TEST(FieldSetTest, MalformedFieldsV1IsABadRequest) {
  for (const char* bad : {R"({"x":{}})", R"({"k:nope":{}})", R"({"i:1x":{}})", R"([])"}) {
    auto set = FieldSet::FromFieldsV1(boost::json::parse(bad));
    ASSERT_FALSE(set.ok()) << bad;
    EXPECT_EQ(set.error().code(), ErrorCode::kBadRequest);
  }
}

}  // namespace
}  // namespace kpp::managedfields
