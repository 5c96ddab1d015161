// CustomResourceDefinitions (api/apiextensions.k8s.io/v1) against JSON as an upstream API server
// writes it, including the recursive JSONSchemaProps and its hand-written union types.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/apiextensions.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace apiextensions = apiextensions_k8s_io::v1;

// A CRD as `kubectl get crd crontabs.stable.example.com -o json` shows it from an upstream
// server: a structural schema with defaults, enums, int-or-string, list maps, an embedded
// resource and CEL rules; status and scale subresources; a conversion webhook.
const std::string kCronTabs =
    R"({"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1","metadata":{)"
    R"("name":"crontabs.stable.example.com","uid":"6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",)"
    R"("resourceVersion":"52011","generation":3,"creationTimestamp":"2024-06-01T10:00:00Z",)"
    R"("annotations":{"controller-gen.kubebuilder.io/version":"v0.16.1"}},"spec":{"group":)"
    R"("stable.example.com","names":{"plural":"crontabs","singular":"crontab","shortNames":)"
    R"(["ct"],"kind":"CronTab","listKind":"CronTabList","categories":["all"]},"scope":)"
    R"("Namespaced","versions":[{"name":"v1","served":true,"storage":true,"schema":{)"
    R"("openAPIV3Schema":{"description":"CronTab runs an image on a schedule.","type":"object",)"
    R"("required":["spec"],"properties":{"apiVersion":{"description":"Versioned schema.",)"
    R"("type":"string"},"kind":{"type":"string"},"metadata":{"type":"object"},"spec":{"type":)"
    R"("object","required":["cronSpec","image"],"properties":{"cronSpec":{"type":"string",)"
    R"("pattern":"^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$","example":"*/5 * * * *"},)"
    R"("env":{"type":"array","maxItems":32,"items":{"type":"object","required":["name"],)"
    R"("properties":{"name":{"type":"string"},"value":{"type":"string"}}},)"
    R"("x-kubernetes-list-map-keys":["name"],"x-kubernetes-list-type":"map"},"image":{"type":)"
    R"("string","minLength":1},"labels":{"type":"object","additionalProperties":{"type":)"
    R"("string"},"x-kubernetes-map-type":"granular"},"mode":{"type":"string","default":"Allow",)"
    R"("enum":["Allow","Forbid","Replace"]},"port":{"anyOf":[{"type":"integer"},{"type":)"
    R"("string"}],"x-kubernetes-int-or-string":true},"ratio":{"type":"number","default":0.5,)"
    R"("maximum":1,"exclusiveMaximum":true,"minimum":0},"replicas":{"type":"integer","format":)"
    R"("int32","default":1,"maximum":10,"minimum":1},"resources":{"type":"object","default":{)"
    R"("limits":{"cpu":"500m"},"requests":{}},"x-kubernetes-preserve-unknown-fields":true},)"
    R"("suspend":{"type":"boolean","nullable":true},"template":{"type":"object",)"
    R"("x-kubernetes-preserve-unknown-fields":true,"x-kubernetes-embedded-resource":true}},)"
    R"("x-kubernetes-validations":[{"rule":"self.replicas \u003c= 5 || self.mode != 'Replace'",)"
    R"("message":"at most 5 replicas with Replace","fieldPath":".replicas"},{"rule":)"
    R"json("!has(oldSelf.image) || has(self.image)","messageExpression":)json"
    R"("'image cannot be removed'","reason":"FieldValueForbidden","optionalOldSelf":true}]},)"
    R"("status":{"type":"object","properties":{"replicas":{"type":"integer","format":"int32"},)"
    R"("selector":{"type":"string"}}}}}},"subresources":{"status":{},"scale":{)"
    R"("specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas",)"
    R"("labelSelectorPath":".status.selector"}},"additionalPrinterColumns":[{"name":"Spec",)"
    R"("type":"string","description":"The cron spec.","jsonPath":".spec.cronSpec"},{"name":)"
    R"("Replicas","type":"integer","format":"int32","priority":1,"jsonPath":".spec.replicas"},)"
    R"({"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}],)"
    R"("selectableFields":[{"jsonPath":".spec.image"}]},{"name":"v1beta1","served":true,)"
    R"("storage":false,"deprecated":true,"deprecationWarning":)"
    R"("stable.example.com/v1beta1 CronTab is deprecated; use stable.example.com/v1",)"
    R"("schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":)"
    R"(true}}}],"conversion":{"strategy":"Webhook","webhook":{"clientConfig":{"service":{)"
    R"("namespace":"crontab-system","name":"crontab-webhook","path":"/convert","port":443},)"
    R"("caBundle":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},"conversionReviewVersions":)"
    R"(["v1","v1beta1"]}}},"status":{"conditions":[{"type":"NamesAccepted","status":"True",)"
    R"("lastTransitionTime":"2024-06-01T10:00:00Z","reason":"NoConflicts","message":)"
    R"("no conflicts found"},{"type":"Established","status":"True","lastTransitionTime":)"
    R"("2024-06-01T10:00:00Z","reason":"InitialNamesAccepted","message":)"
    R"("the initial names have been accepted"}],"acceptedNames":{"plural":"crontabs",)"
    R"("singular":"crontab","shortNames":["ct"],"kind":"CronTab","listKind":"CronTabList",)"
    R"("categories":["all"]},"storedVersions":["v1"]}})";

TEST(CrdSchemaTest, CustomResourceDefinitionsRoundTripExactly) {
  ExpectRoundTrip<apiextensions::CustomResourceDefinition>(kCronTabs);
  // A cluster-scoped definition with a conversion URL and no schema.
  ExpectRoundTrip<apiextensions::CustomResourceDefinition>(
      R"({"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1","metadata":{)"
      R"("name":"clusterissuers.certs.example.com","creationTimestamp":"2024-06-01T10:00:00Z"},)"
      R"("spec":{"group":"certs.example.com","names":{"plural":"clusterissuers","singular":)"
      R"("clusterissuer","kind":"ClusterIssuer","listKind":"ClusterIssuerList"},"scope":)"
      R"("Cluster","versions":[{"name":"v1","served":true,"storage":true}],"conversion":{)"
      R"("strategy":"Webhook","webhook":{"clientConfig":{"url":)"
      R"("https://convert.example.com:8443/crd"},"conversionReviewVersions":["v1"]}},)"
      R"("preserveUnknownFields":true},"status":{"conditions":null,"acceptedNames":{"plural":"",)"
      R"("kind":""},"storedVersions":["v1"]}})");
}

TEST(CrdSchemaTest, SchemaUnionsRoundTripInEachShape) {
  // items as a tuple, additionalItems and additionalProperties as booleans and schemas,
  // dependencies as property lists and schemas, not.
  ExpectRoundTrip<apiextensions::JSONSchemaProps>(
      R"({"type":"object","not":{"required":["forbidden"]},"properties":{"open":{"type":)"
      R"("object","additionalProperties":true},"pair":{"type":"array","items":[{"type":)"
      R"("string"},{"type":"integer"}],"additionalItems":false},"strict":{"type":"object",)"
      R"("additionalProperties":false},"tags":{"type":"array","items":{"type":"string"},)"
      R"("additionalItems":{"type":"string"}}},"dependencies":{"billing":["address","card"],)"
      R"("shipping":{"required":["address"]}}})");
  ExpectRoundTrip<apiextensions::JSONSchemaProps>(
      R"({"id":"urn:example","$schema":"http://json-schema.org/draft-04/schema#","$ref":)"
      R"("#/definitions/thing","title":"Thing","maxLength":5,"uniqueItems":true,"multipleOf":0.25,)"
      R"("maxProperties":3,"minProperties":1,"allOf":[{"type":"object"}],"oneOf":[{"required":[)"
      R"("a"]},{"required":["b"]}],"patternProperties":{"^x-":{"type":"string"}},"definitions":{)"
      R"("thing":{"type":"object"}},"externalDocs":{"description":"More","url":)"
      R"("https://example.com/docs"}})");
}

TEST(CrdSchemaTest, SchemasAreWrittenInFieldOrderAtEveryDepth) {
  // kubectl converts YAML with sorted keys; upstream writes the schema in its field order, also
  // inside items and additionalProperties.
  auto decoded = FromJson<apiextensions::JSONSchemaProps>(
      R"({"items":{"properties":{"b":{"type":"string"}},"required":["b"],"type":"object"},)"
      R"("type":"array","x-kubernetes-list-type":"atomic","additionalProperties":{)"
      R"("type":"string","description":"d"}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(ToJson(decoded->object),
            R"({"type":"array","items":{"type":"object","required":["b"],"properties":{"b":{)"
            R"("type":"string"}}},"additionalProperties":{"description":"d","type":"string"},)"
            R"("x-kubernetes-list-type":"atomic"})");
}

TEST(CrdSchemaTest, ArbitraryJsonValuesAreWrittenAsGoWritesThem) {
  // default, enum and example hold any JSON: member order is kept, strings get Go's escapes and
  // numbers Go's shortest form.
  auto decoded = FromJson<apiextensions::JSONSchemaProps>(
      R"({"default":{"z":1,"a":[true,null,"<b>&"],"f":1.5e3,"g":0.1},"enum":[1,"x",null,{}],)"
      R"("example":12345678901234567890})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(ToJson(decoded->object),
            R"({"default":{"z":1,"a":[true,null,"\u003cb\u003e\u0026"],"f":1500,"g":0.1},)"
            R"("enum":[1,"x",null,{}],"example":12345678901234567890})");
  // A null default is no default, as in Go where the pointer stays nil.
  auto null_default = FromJson<apiextensions::JSONSchemaProps>(R"({"default":null})");
  ASSERT_TRUE(null_default.ok());
  EXPECT_EQ(ToJson(null_default->object), "{}");
}

TEST(CrdSchemaTest, UnknownFieldsInsideUnionsAreDroppedAsUpstreamDoes) {
  // Upstream decodes the inside of items, additionalProperties, additionalItems and dependencies
  // with a lenient decoder: unknown fields there are dropped, not reported. Elsewhere strict
  // decoding reports them.
  auto lenient = FromJson<apiextensions::JSONSchemaProps>(
      R"({"type":"array","items":{"type":"string","typo":1}})",
      {.unknown_fields = UnknownFields::kCollect});
  ASSERT_TRUE(lenient.ok()) << lenient.error().message();
  EXPECT_TRUE(lenient->unknown_fields.empty());
  EXPECT_EQ(ToJson(lenient->object), R"({"type":"array","items":{"type":"string"}})");

  auto strict = FromJson<apiextensions::JSONSchemaProps>(
      R"({"type":"object","properties":{"a":{"type":"string","typo":1}}})",
      {.unknown_fields = UnknownFields::kCollect});
  ASSERT_TRUE(strict.ok()) << strict.error().message();
  EXPECT_EQ(strict->unknown_fields, std::vector<std::string>{"properties[a].typo"});
}

TEST(CrdSchemaTest, UnionsRejectWrongShapes) {
  auto not_bool = FromJson<apiextensions::JSONSchemaProps>(R"({"additionalProperties":"yes"})");
  ASSERT_FALSE(not_bool.ok());
  EXPECT_EQ(not_bool.error().message(), "boolean or JSON schema expected");
  // A type error inside a union fails the whole decode.
  auto bad_item = FromJson<apiextensions::JSONSchemaProps>(R"({"items":{"type":7}})");
  ASSERT_FALSE(bad_item.ok());
  EXPECT_NE(bad_item.error().message().find("cannot unmarshal number"), std::string::npos)
      << bad_item.error().message();
  // Other shapes of items and dependencies are ignored, as upstream's decoder ignores them.
  auto ignored =
      FromJson<apiextensions::JSONSchemaProps>(R"({"items":"string","dependencies":{"a":5}})");
  ASSERT_TRUE(ignored.ok()) << ignored.error().message();
  EXPECT_EQ(ToJson(ignored->object), R"({"items":null,"dependencies":{"a":null}})");
}

TEST(CrdSchemaTest, RecursiveSchemasCopyAndCompareByValue) {
  auto decoded = FromJson<apiextensions::CustomResourceDefinition>(kCronTabs);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  const apiextensions::CustomResourceDefinition& original = decoded->object;
  apiextensions::CustomResourceDefinition copy = original;
  EXPECT_EQ(copy, original);

  auto& schema = *copy.spec.versions[0].schema->open_apiv3_schema;
  auto& env_item = *schema.properties.at("spec").properties.at("env").items->schema;
  env_item.properties.at("name").description = "changed";
  EXPECT_NE(copy, original);
  // The original is untouched: copies do not share schemas.
  EXPECT_EQ(ToJson(original), kCronTabs);
  EXPECT_EQ(original.spec.versions[0]
                .schema->open_apiv3_schema->properties.at("spec")
                .properties.at("env")
                .items->schema->properties.at("name")
                .description,
            "");
}

TEST(CrdSchemaTest, DefaultsAsUpstream) {
  // Singular and list kind from the kind, conversion None, the storage version recorded.
  auto widgets = FromJson<apiextensions::CustomResourceDefinition>(
      R"({"kind":"CustomResourceDefinition","apiVersion":"apiextensions.k8s.io/v1",)"
      R"("metadata":{"name":"widgets.example.com","creationTimestamp":null},"spec":{)"
      R"("group":"example.com","names":{"plural":"widgets","kind":"Widget"},"scope":)"
      R"("Namespaced","versions":[{"name":"v1alpha1","served":true,"storage":false},)"
      R"({"name":"v1","served":true,"storage":true}]}})");
  ASSERT_TRUE(widgets.ok()) << widgets.error().message();
  SetDefaults(widgets->object);
  EXPECT_EQ(ToJson(widgets->object.spec),
            R"({"group":"example.com","names":{"plural":"widgets","singular":"widget","kind":)"
            R"("Widget","listKind":"WidgetList"},"scope":"Namespaced","versions":[{"name":)"
            R"("v1alpha1","served":true,"storage":false},{"name":"v1","served":true,)"
            R"("storage":true}],"conversion":{"strategy":"None"}})");
  EXPECT_EQ(widgets->object.status.stored_versions, std::vector<std::string>{"v1"});

  // A webhook service gets port 443; names and stored versions already given are kept.
  EXPECT_EQ(
      Defaulted<apiextensions::CustomResourceDefinition>(
          R"({"metadata":{"name":"widgets.example.com","creationTimestamp":null},"spec":{)"
          R"("group":"example.com","names":{"plural":"widgets","singular":"wid","kind":)"
          R"("Widget","listKind":"Widgets"},"scope":"Cluster","versions":[{"name":"v2","served":)"
          R"(true,"storage":true}],"conversion":{"strategy":"Webhook","webhook":{)"
          R"("clientConfig":{"service":{"namespace":"w","name":"conv"}},)"
          R"("conversionReviewVersions":["v1"]}}},"status":{"conditions":[],"acceptedNames":{)"
          R"("plural":"","kind":""},"storedVersions":["v1","v2"]}})"),
      R"({"metadata":{"name":"widgets.example.com","creationTimestamp":null},"spec":{)"
      R"("group":"example.com","names":{"plural":"widgets","singular":"wid","kind":"Widget",)"
      R"("listKind":"Widgets"},"scope":"Cluster","versions":[{"name":"v2","served":true,)"
      R"("storage":true}],"conversion":{"strategy":"Webhook","webhook":{"clientConfig":{)"
      R"("service":{"namespace":"w","name":"conv","port":443}},"conversionReviewVersions":[)"
      R"("v1"]}}},"status":{"conditions":[],"acceptedNames":{"plural":"","kind":""},)"
      R"("storedVersions":["v1","v2"]}})");
}

std::vector<std::string> ValidationMessages(const apiextensions::CustomResourceDefinition& crd) {
  validation::FieldErrors errors;
  apiextensions::ValidateFields(crd, runtime::LazyFieldPath(), errors);
  std::vector<std::string> messages;
  for (const auto& error : errors)
    messages.push_back(error.ToString());
  return messages;
}

TEST(CrdSchemaTest, SchemaValidationWantsNamesInSpecButNotYetInStatus) {
  // A new definition has no accepted names; the spec needs plural and kind.
  auto created = FromJson<apiextensions::CustomResourceDefinition>(
      R"({"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","names":{)"
      R"("plural":"widgets","kind":"Widget"},"scope":"Namespaced","versions":[{"name":"v1",)"
      R"("served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",)"
      R"json("x-kubernetes-validations":[{"rule":"has(self.spec)","reason":"FieldValueRequired"}]}}}]}})json");
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(ValidationMessages(created->object), std::vector<std::string>{});
  auto cron_tabs = FromJson<apiextensions::CustomResourceDefinition>(kCronTabs);
  ASSERT_TRUE(cron_tabs.ok()) << cron_tabs.error().message();
  EXPECT_EQ(ValidationMessages(cron_tabs->object), std::vector<std::string>{});

  auto unnamed = FromJson<apiextensions::CustomResourceDefinition>(
      R"({"spec":{"group":"example.com","names":{"shortNames":["w"]},"scope":"Cluster",)"
      R"("versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{)"
      R"("properties":{"a":{"x-kubernetes-validations":[{"rule":"","reason":"Bogus"}]}}}}}]}})");
  ASSERT_TRUE(unnamed.ok()) << unnamed.error().message();
  EXPECT_EQ(
      ValidationMessages(unnamed->object),
      (std::vector<std::string>{
          "spec.names.plural: Required value", "spec.names.kind: Required value",
          "spec.versions[0].schema.openAPIV3Schema.properties[a].x-kubernetes-validations[0].rule: "
          "Required value",
          "spec.versions[0].schema.openAPIV3Schema.properties[a].x-kubernetes-validations[0]."
          "reason: Unsupported value: \"Bogus\": supported values: \"FieldValueDuplicate\", "
          "\"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\""}));
}

TEST(CrdSchemaTest, ConversionReviewsRoundTripExactly) {
  ExpectRoundTrip<apiextensions::ConversionReview>(
      R"({"kind":"ConversionReview","apiVersion":"apiextensions.k8s.io/v1","request":{"uid":)"
      R"("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","desiredAPIVersion":"stable.example.com/v1",)"
      R"("objects":[{"apiVersion":"stable.example.com/v1beta1","kind":"CronTab","metadata":{)"
      R"("name":"nightly","namespace":"default"},"spec":{"cronSpec":"0 3 * * *"}}]}})");
  ExpectRoundTrip<apiextensions::ConversionReview>(
      R"({"kind":"ConversionReview","apiVersion":"apiextensions.k8s.io/v1","response":{"uid":)"
      R"("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","convertedObjects":[{"apiVersion":)"
      R"("stable.example.com/v1","kind":"CronTab","metadata":{"name":"nightly","namespace":)"
      R"("default"},"spec":{"cronSpec":"0 3 * * *"}}],"result":{"metadata":{},"status":)"
      R"("Success"}}})");
}

TEST(CrdSchemaTest, KindTableRow) {
  const KindInfo* crd = FindKind("apiextensions.k8s.io", "CustomResourceDefinition");
  ASSERT_NE(crd, nullptr);
  EXPECT_EQ(crd->version, "v1");
  EXPECT_EQ(crd->plural, "customresourcedefinitions");
  EXPECT_EQ(crd->singular, "customresourcedefinition");
  EXPECT_EQ(crd->short_names, "crd,crds");
  EXPECT_EQ(crd->categories, "api-extensions");
  EXPECT_EQ(crd->subresources, "status");
  EXPECT_FALSE(crd->namespaced);
  EXPECT_EQ(crd->list_kind, "CustomResourceDefinitionList");
  EXPECT_EQ(FindKind("apiextensions.k8s.io", "ConversionReview"), nullptr);
  // CEL rules merge by rule; the recursive schema is described at its first level.
  bool found_rules = false;
  for (const auto& field : crd->patch_fields) {
    if (field.path == "spec.versions.schema.openAPIV3Schema.x-kubernetes-validations") {
      found_rules = true;
      EXPECT_EQ(field.strategy, "merge");
      EXPECT_EQ(field.merge_key, "rule");
    }
  }
  EXPECT_TRUE(found_rules);
}

TEST(CrdSchemaTest, OpenApiDefinitions) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  const std::string prefix = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.";
  EXPECT_EQ(
      definitions.at(prefix + "CustomResourceDefinition").at("x-kubernetes-group-version-kind"),
      boost::json::parse(
          R"([{"group":"apiextensions.k8s.io","kind":"CustomResourceDefinition","version":"v1"}])"));
  auto ref = [&](const char* name) { return boost::json::value("#/definitions/" + prefix + name); };
  const auto& schema = definitions.at(prefix + "JSONSchemaProps").at("properties").as_object();
  EXPECT_EQ(schema.at("items").at("$ref"), ref("JSONSchemaPropsOrArray"));
  EXPECT_EQ(schema.at("not").at("$ref"), ref("JSONSchemaProps"));
  EXPECT_EQ(schema.at("properties").at("additionalProperties").at("$ref"), ref("JSONSchemaProps"));
  EXPECT_EQ(schema.at("default").at("$ref"), ref("JSON"));
  EXPECT_TRUE(schema.contains("$schema"));
  EXPECT_EQ(schema.at("x-kubernetes-validations").at("x-kubernetes-list-map-keys"),
            boost::json::parse(R"(["rule"])"));
  // The unions and arbitrary JSON have no single OpenAPI type, as upstream describes them.
  for (const char* name : {"JSON", "JSONSchemaPropsOrArray", "JSONSchemaPropsOrBool",
                           "JSONSchemaPropsOrStringArray"}) {
    const auto& definition = definitions.at(prefix + name).as_object();
    EXPECT_FALSE(definition.contains("type")) << name;
    EXPECT_FALSE(definition.contains("properties")) << name;
    EXPECT_TRUE(definition.contains("description")) << name;
  }
}

}  // namespace
}  // namespace kpp::api
