// The custom resource registry, the naming/establishing rules for a definition's status, the
// unstructured codec, JSONPath cells and the OpenAPI definitions of custom resources.
#include "apiextensions/custom_resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/runtime/kinds.h"
#include "apiextensions/custom_tables.h"
#include "apiextensions/served_documents.h"
#include "apiextensions/unstructured.h"

namespace kpp::apiextensions {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

boost::json::object Crd(const std::string& name, const std::string& group,
                        const std::string& plural, const std::string& kind,
                        const std::string& short_name = "") {
  std::string shorts = short_name.empty() ? "" : R"(,"shortNames":[")" + short_name + "\"]";
  return boost::json::parse(R"({"metadata":{"name":")" + name + R"("},"spec":{"group":")" + group +
                            R"(","scope":"Namespaced","names":{"plural":")" + plural +
                            R"(","kind":")" + kind + "\"" + shorts +
                            R"(},"versions":[{"name":"v1beta1","served":true,"storage":false},)"
                            R"({"name":"v1","served":true,"storage":true,"subresources":)"
                            R"({"status":{},"scale":{"specReplicasPath":".spec.replicas",)"
                            R"("statusReplicasPath":".status.replicas"}}}]}})")
      .as_object();
}

std::string ConditionText(const boost::json::object& status, std::string_view type) {
  for (const auto& item : status.at("conditions").as_array()) {
    const auto& condition = item.as_object();
    if (condition.at("type").as_string() == type) {
      return std::string(condition.at("status").as_string()) + " " +
             std::string(condition.at("reason").as_string()) + " " +
             std::string(condition.at("message").as_string());
    }
  }
  return "";
}

TEST(CustomResourceStatusTest, FreshNamesAreAcceptedAndEstablished) {
  const auto crd = Crd("widgets.example.com", "example.com", "widgets", "Widget", "wd");
  const std::vector<boost::json::object> all{crd};
  const auto status = DesiredStatus(crd, all, api::AllKinds(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(ConditionText(status, "NamesAccepted"), "True NoConflicts no conflicts found");
  EXPECT_EQ(ConditionText(status, "Established"),
            "True InitialNamesAccepted the initial names have been accepted");
  const auto& names = status.at("acceptedNames").as_object();
  EXPECT_EQ(names.at("plural"), "widgets");
  EXPECT_EQ(names.at("singular"), "widget");
  EXPECT_EQ(names.at("listKind"), "WidgetList");
  EXPECT_EQ(boost::json::serialize(names.at("shortNames")), R"(["wd"])");
  EXPECT_EQ(boost::json::serialize(status.at("storedVersions")), R"(["v1"])");
}

TEST(CustomResourceStatusTest, ConflictsWithAcceptedNamesOfTheGroup) {
  auto first = Crd("widgets.example.com", "example.com", "widgets", "Widget");
  first["status"] = DesiredStatus(first, {}, {}, "t");
  auto second = Crd("widgets2.example.com", "example.com", "widgets", "Gadget");
  const std::vector<boost::json::object> all{first, second};
  const auto status = DesiredStatus(second, all, {}, "t");
  EXPECT_EQ(ConditionText(status, "NamesAccepted"),
            "False PluralConflict \"widgets\" is already in use");
  EXPECT_EQ(ConditionText(status, "Established"), "False NotAccepted not all names are accepted");
  // Another group may use the same names.
  auto elsewhere = Crd("widgets.other.io", "other.io", "widgets", "Widget");
  EXPECT_THAT(ConditionText(DesiredStatus(elsewhere, all, {}, "t"), "NamesAccepted"),
              HasSubstr("True"));
}

TEST(CustomResourceStatusTest, KindConflictWithBuiltIn) {
  auto crd = Crd("things.apps", "apps", "things", "Deployment");
  const auto status = DesiredStatus(crd, {}, api::AllKinds(), "t");
  // The last conflict found names the condition, as upstream's.
  EXPECT_EQ(ConditionText(status, "NamesAccepted"),
            "False ListKindConflict \"DeploymentList\" is already in use");
  EXPECT_FALSE(status.at("acceptedNames").as_object().contains("kind"));
  EXPECT_EQ(status.at("acceptedNames").at("plural"), "things");
}

TEST(CustomResourceKindsTest, ServesEveryVersionAndForgetsRemovedDefinitions) {
  CustomResourceKinds kinds;
  EXPECT_EQ(kinds.generation(), 0u);
  kinds.Update({Crd("widgets.example.com", "example.com", "widgets", "Widget", "wd")});
  EXPECT_EQ(kinds.generation(), 1u);
  const api::KindInfo* v1 = kinds.Find("example.com", "v1", "widgets");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->kind, "Widget");
  EXPECT_EQ(v1->list_kind, "WidgetList");
  EXPECT_EQ(v1->short_names, "wd");
  EXPECT_EQ(v1->subresources, "status,scale");
  EXPECT_TRUE(v1->namespaced);
  EXPECT_EQ(v1->openapi_name, "com.example.v1.Widget");
  const ServedCustomResource* custom = CustomResourceOf(*v1);
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(custom->storage_version, "v1");
  ASSERT_TRUE(custom->scale);
  EXPECT_EQ(custom->scale->spec_replicas, ".spec.replicas");
  ASSERT_EQ(custom->columns.size(), 1u);
  EXPECT_EQ(custom->columns[0].name, "Age");
  EXPECT_NE(kinds.Find("example.com", "v1beta1", "widgets"), nullptr);
  // Preferred version first.
  const auto served = kinds.Served();
  ASSERT_EQ(served.size(), 2u);
  EXPECT_EQ(served[0]->version, "v1");
  EXPECT_EQ(CustomResourceOf(api::AllKinds()[0]), nullptr);

  // The same definition again changes nothing; its removal does.
  kinds.Update({Crd("widgets.example.com", "example.com", "widgets", "Widget", "wd")});
  EXPECT_EQ(kinds.generation(), 1u);
  kinds.Update({});
  EXPECT_EQ(kinds.generation(), 2u);
  EXPECT_EQ(kinds.Find("example.com", "v1", "widgets"), nullptr);
  // What a request already holds stays valid.
  EXPECT_EQ(v1->kind, "Widget");
}

TEST(UnstructuredTest, DecodesMetadataAndKeepsTheRestSorted) {
  UnstructuredCodec codec;
  auto decoded =
      codec.Decode(R"({"spec":{"b":1,"a":[true]},"kind":"Widget","apiVersion":"example.com/v1",)"
                   R"("metadata":{"name":"x","labels":{"k":"v"},"bogus":1}})",
                   {.unknown_fields = api::UnknownFields::kCollect});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_THAT(decoded->unknown_fields, ElementsAre("metadata.bogus"));
  api::Object& object = *decoded->object;
  EXPECT_EQ(object.metadata().name, "x");
  EXPECT_EQ(object.kind(), "Widget");
  EXPECT_EQ(object.api_version(), "example.com/v1");
  object.metadata().uid = "u";
  EXPECT_THAT(object.ToJson(), HasSubstr(R"("spec":{"a":[true],"b":1})"));
  EXPECT_TRUE(object.ToJson().starts_with(R"({"apiVersion":"example.com/v1","kind":"Widget",)"));
  auto copy = object.Clone();
  ASSERT_TRUE(copy->AssignJson(R"({"metadata":{"name":"y"},"status":{"n":2}})").ok());
  EXPECT_EQ(copy->metadata().name, "y");
  EXPECT_EQ(copy->ToJson(),
            R"({"metadata":{"creationTimestamp":null,"name":"y"},"status":{"n":2}})");
  EXPECT_FALSE(codec.Decode("[1]", {}).ok());
}

TEST(CustomResourceSchemaTest, CodecPrunesDefaultsAndValidates) {
  auto crd = Crd("widgets.example.com", "example.com", "widgets", "Widget");
  crd["spec"].as_object()["versions"].as_array()[1].as_object()["schema"] = boost::json::parse(
      R"({"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object",)"
      R"("properties":{"replicas":{"type":"integer"},"size":{"type":"string","default":"m"}}}}}})");
  CustomResourceKinds kinds;
  kinds.Update({crd});
  const api::KindInfo* v1 = kinds.Find("example.com", "v1", "widgets");
  ASSERT_NE(v1, nullptr);
  auto decoded =
      v1->codec->Decode(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"x"},)"
                        R"("spec":{"replicas":"two","bogus":1}})",
                        {.unknown_fields = api::UnknownFields::kCollect});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_THAT(decoded->unknown_fields, ElementsAre("spec.bogus"));
  api::Object& object = *decoded->object;
  object.SetDefaults();
  EXPECT_THAT(object.ToJson(), HasSubstr(R"("spec":{"replicas":"two","size":"m"})"));
  const auto errors = object.ValidateFields();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.replicas");
  // Strict decoding refuses what pruning removes.
  EXPECT_FALSE(v1->codec
                   ->Decode(R"({"metadata":{"name":"x"},"spec":{"bogus":1}})",
                            {.unknown_fields = api::UnknownFields::kReject})
                   .ok());
}

TEST(JsonPathTest, SelectsFieldsIndexesAndFilters) {
  const auto json = boost::json::parse(
      R"({"spec":{"replicas":3},"status":{"conditions":[{"type":"A","status":"False"},)"
      R"({"type":"Ready","status":"True"}]}})");
  ASSERT_NE(JsonPathValue(json, ".spec.replicas"), nullptr);
  EXPECT_EQ(*JsonPathValue(json, ".spec.replicas"), 3);
  EXPECT_EQ(*JsonPathValue(json, "{.status.conditions[1].type}"), "Ready");
  EXPECT_EQ(*JsonPathValue(json, R"(.status.conditions[?(@.type=="Ready")].status)"), "True");
  EXPECT_EQ(JsonPathValue(json, ".spec.missing"), nullptr);
  auto copy = json;
  SetJsonPath(copy, ".spec.nested.count", 7);
  EXPECT_EQ(*JsonPathValue(copy, ".spec.nested.count"), 7);
}

TEST(CustomResourceOpenApiTest, DefinitionCarriesKindAndSchema) {
  CustomResourceKinds kinds;
  auto crd = Crd("widgets.example.com", "example.com", "widgets", "Widget");
  crd["spec"].as_object()["versions"].as_array()[1].as_object()["schema"] = boost::json::parse(
      R"({"openAPIV3Schema":{"type":"object","description":"A widget.","properties":)"
      R"({"spec":{"type":"object","nullable":true,"properties":{"size":)"
      R"({"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]}}}}}})");
  kinds.Update({crd});
  boost::json::object definitions;
  AddCustomResourceDefinitions(*kinds.Find("example.com", "v1", "widgets"), definitions);
  const auto& widget = definitions.at("com.example.v1.Widget").as_object();
  SCOPED_TRACE(boost::json::serialize(widget));
  EXPECT_EQ(widget.at("description"), "A widget.");
  const auto& gvk = widget.at("x-kubernetes-group-version-kind").at(0).as_object();
  EXPECT_EQ(gvk.at("group"), "example.com");
  EXPECT_EQ(gvk.at("version"), "v1");
  EXPECT_EQ(gvk.at("kind"), "Widget");
  const auto* spec = widget.at("properties").as_object().if_contains("spec");
  ASSERT_NE(spec, nullptr);
  EXPECT_FALSE(spec->as_object().contains("nullable"));
  EXPECT_THAT(boost::json::serialize(*spec), Not(HasSubstr("anyOf")));
  EXPECT_EQ(widget.at("properties").at("metadata").at("$ref"),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_TRUE(definitions.contains("com.example.v1.WidgetList"));
}

}  // namespace
}  // namespace kpp::apiextensions
