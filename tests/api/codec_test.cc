// The generated codec against JSON as an upstream API server writes it.
#include "api/core/v1/codec.h"

#include <gtest/gtest.h>

#include "api/meta/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;

using core::v1::ConfigMap;
using core::v1::Namespace;
using core::v1::Secret;

TEST(CodecTest, ConfigMapRoundTripsExactly) {
  ExpectRoundTrip<ConfigMap>(
      R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"game","namespace":"default",)"
      R"("uid":"0f2b8c2e-1d3a-4c59-9a6e-5b7f2e9d1c0a","resourceVersion":"12","generation":1,)"
      R"("creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"game","tier":"web"},)"
      R"("annotations":{"note":"x"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet",)"
      R"("name":"web-1","uid":"u1","controller":true,"blockOwnerDeletion":true}],)"
      R"("finalizers":["example.com/keep"],"managedFields":[{"manager":"kubectl-create",)"
      R"("operation":"Update","apiVersion":"v1","time":"2024-01-02T03:04:05Z",)"
      R"("fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:a":{}}}}]},)"
      R"("immutable":false,"data":{"a":"1","b":"two\nlines"}})");
}

TEST(CodecTest, EmptyStructsAndZeroTimeAreEmittedAsUpstreamDoes) {
  // Go never omits struct values, and a zero metav1.Time encodes as null.
  Namespace ns;
  ns.kind = "Namespace";
  ns.api_version = "v1";
  ns.metadata.name = "team-a";
  EXPECT_EQ(ToJson(ns), R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team-a",)"
                        R"("creationTimestamp":null},"spec":{},"status":{}})");
  ExpectRoundTrip<Namespace>(
      R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"kube-system",)"
      R"("creationTimestamp":"2024-05-06T07:08:09Z"},"spec":{"finalizers":["kubernetes"]},)"
      R"("status":{"phase":"Active"}})");
}

TEST(CodecTest, SecretBytesAreBase64AndTypeDefaultsToOpaque) {
  auto decoded = FromJson<Secret>(R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},)"
                                  R"("data":{"bin":"AAEC/w==","text":"aGVsbG8="}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  Secret secret = decoded->object;
  EXPECT_EQ(secret.data.at("bin"), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(secret.data.at("text"), "hello");
  EXPECT_EQ(secret.type, "");
  core::v1::SetDefaults(secret);
  EXPECT_EQ(secret.type, "Opaque");
  EXPECT_EQ(
      ToJson(secret),
      R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},)"
      R"("data":{"bin":"AAEC/w==","text":"aGVsbG8="},"type":"Opaque"})");
}

TEST(CodecTest, SecretStringDataIsMergedIntoDataAndNeverKept) {
  auto decoded = FromJson<Secret>(R"({"metadata":{"name":"s"},"data":{"a":"b2xk","b":"Yg=="},)"
                                  R"("stringData":{"a":"new","c":"c"}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  Secret secret = decoded->object;
  core::v1::SetDefaults(secret);
  // stringData wins for the same key, as upstream's conversion merges it.
  EXPECT_EQ(ToJson(secret), R"({"metadata":{"name":"s","creationTimestamp":null},)"
                            R"("data":{"a":"bmV3","b":"Yg==","c":"Yw=="},"type":"Opaque"})");
}

TEST(CodecTest, TypeMismatchUsesUpstreamMessage) {
  auto decoded = FromJson<ConfigMap>(R"({"metadata":{"name":5}})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(decoded.error().message(),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type "
            "string");
  auto list = FromJson<ConfigMap>(R"({"metadata":{"finalizers":"x"}})");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message(),
            "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers of "
            "type []string");
  auto nested = FromJson<ConfigMap>(R"({"metadata":{"ownerReferences":[{"controller":"yes"}]}})");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().message(),
            "json: cannot unmarshal string into Go struct field "
            "OwnerReference.metadata.ownerReferences.controller of type bool");
  auto top = FromJson<ConfigMap>(R"([1,2])");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().message(),
            "json: cannot unmarshal array into Go value of type v1.ConfigMap");
}

TEST(CodecTest, IntegersOutOfRangeAreRejected) {
  auto decoded = FromJson<meta::v1::Status>(R"({"code":99999999999})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message(),
            "json: cannot unmarshal number 99999999999 into Go struct field Status.code of type "
            "int32");
  auto fractional = FromJson<meta::v1::Status>(R"({"code":1.5})");
  ASSERT_FALSE(fractional.ok());
}

TEST(CodecTest, UnknownFieldsAreReportedWithPathsWhenStrict) {
  const std::string json =
      R"({"metadata":{"name":"a","bogus":1,"ownerReferences":[{"name":"o","extra":2}]},)"
      R"("data":{},"spec":true})";
  auto lenient = FromJson<ConfigMap>(json);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message();
  EXPECT_TRUE(lenient->unknown_fields.empty());
  auto collected = FromJson<ConfigMap>(json, {.unknown_fields = UnknownFields::kCollect});
  ASSERT_TRUE(collected.ok());
  EXPECT_EQ(
      collected->unknown_fields,
      (std::vector<std::string>{"metadata.bogus", "metadata.ownerReferences[0].extra", "spec"}));
  auto strict = FromJson<ConfigMap>(json, {.unknown_fields = UnknownFields::kReject});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().message(),
            "strict decoding error: unknown field \"metadata.bogus\", unknown field "
            "\"metadata.ownerReferences[0].extra\", unknown field \"spec\"");
}

TEST(CodecTest, DuplicateFieldsAreReportedWithPathsWhenStrict) {
  const std::string json =
      R"({"metadata":{"name":"a","name":"b","ownerReferences":[{"name":"o"},)"
      R"({"name":"p","uid":"1","uid":"2"}]},"data":{"k":"1","k":"2"},"data":{}})";
  auto lenient = FromJson<ConfigMap>(json);
  ASSERT_TRUE(lenient.ok()) << lenient.error().message();
  EXPECT_TRUE(lenient->duplicate_fields.empty());
  EXPECT_EQ(lenient->object.metadata.name, "b");  // the last one wins, as in Go
  auto collected = FromJson<ConfigMap>(json, {.unknown_fields = UnknownFields::kCollect});
  ASSERT_TRUE(collected.ok());
  EXPECT_EQ(collected->duplicate_fields,
            (std::vector<std::string>{"metadata.name", "metadata.ownerReferences[1].uid", "data.k",
                                      "data"}));
  auto strict = FromJson<ConfigMap>(R"({"metadata":{"name":"a","name":"b","bogus":1}})",
                                    {.unknown_fields = UnknownFields::kReject});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().message(),
            "strict decoding error: unknown field \"metadata.bogus\", duplicate field "
            "\"metadata.name\"");
}

TEST(CodecTest, QuantitiesAreKeptInUpstreamsCanonicalForm) {
  auto decoded = FromJson<core::v1::ResourceQuota>(
      R"({"metadata":{"name":"q"},"spec":{"hard":{"cpu":"0.5","memory":"1024Mi",)"
      R"("pods":3,"requests.cpu":1.5,"storage":" 1000m ","ephemeral":"1e3"}}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(ToJson(decoded->object),
            R"({"metadata":{"name":"q","creationTimestamp":null},"spec":{"hard":{"cpu":"500m",)"
            R"("ephemeral":"1e3","memory":"1Gi","pods":"3","requests.cpu":"1500m",)"
            R"("storage":"1"}},"status":{}})");
  auto bad = FromJson<core::v1::ResourceQuota>(R"({"spec":{"hard":{"cpu":"lots"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(),
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
}

TEST(CodecTest, MalformedAndDeeplyNestedJsonAreErrors) {
  EXPECT_EQ(FromJson<ConfigMap>(R"({"metadata":)").error().code(), ErrorCode::kBadRequest);
  std::string deep = R"({"data":)";
  for (int i = 0; i < 100000; ++i)
    deep += "[";
  auto decoded = FromJson<ConfigMap>(deep);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kBadRequest);
}

TEST(CodecTest, NumbersBeyondADoubleAreRejectedAsGoDoes) {
  // Found by fuzzing: 1e400 parsed as infinity, which raw JSON fields kept and wrote back as
  // text that is not JSON.
  auto decoded = FromJson<ConfigMap>(R"({"metadata":{"name":"a","labels":{"x":-1e400}}})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(decoded.error().message(),
            "json: cannot unmarshal number -1e400 into Go value of type float64");
}

TEST(CodecTest, NullLeavesDefaultsAndClearsPointers) {
  auto decoded = FromJson<ConfigMap>(
      R"({"metadata":{"name":null,"labels":null,"deletionTimestamp":null},"immutable":null})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded->object.metadata.name, "");
  EXPECT_FALSE(decoded->object.immutable.has_value());
  EXPECT_FALSE(decoded->object.metadata.deletion_timestamp.has_value());
}

TEST(CodecTest, StringsAreEscapedLikeGo) {
  ConfigMap config;
  config.data["html"] = "<a href=\"x\">&</a>";
  config.data["control"] = std::string("\x01\t\u2028", 5);
  EXPECT_EQ(ToJson(config),
            R"({"metadata":{"creationTimestamp":null},"data":{"control":"\u0001\t\u2028",)"
            R"("html":"\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e"}})");
}

TEST(CodecTest, InvalidUtf8IsWrittenAsReplacementCharactersLikeGo) {
  // Protobuf bodies can carry any bytes in strings; Go's encoder writes each byte that is not
  // part of valid UTF-8 (stray, truncated, overlong, surrogate, beyond U+10FFFF) as \ufffd, so
  // what is served is always valid JSON.
  ConfigMap config;
  config.data["bad"] =
      "a\xff"
      "b\xe2\x82"
      "\xed\xa0\x80"
      "\xf4\x90\x80\x80"
      "\xc0\xaf"
      "\xc3\xa9";
  const std::string json = ToJson(config);
  EXPECT_EQ(json, R"({"metadata":{"creationTimestamp":null},"data":{"bad":"a\ufffdb\ufffd\ufffd)"
                  R"(\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd)"
                  "\xc3\xa9\"}}");
  auto decoded = FromJson<ConfigMap>(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  std::string replaced =
      "a\xef\xbf\xbd"
      "b";
  for (int i = 0; i < 11; ++i)
    replaced += "\xef\xbf\xbd";
  EXPECT_EQ(decoded->object.data.at("bad"), replaced + "\xc3\xa9");
}

TEST(CodecTest, ListKindsCarryListMetaAndItems) {
  ExpectRoundTrip<core::v1::ConfigMapList>(
      R"({"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7",)"
      R"("continue":"abc","remainingItemCount":3},"items":[{"metadata":{"name":"a",)"
      R"("creationTimestamp":null}}]})");
  core::v1::ConfigMapList empty;
  EXPECT_EQ(ToJson(empty), R"({"metadata":{},"items":[]})");
}

TEST(GeneratedValidationTest, ChecksRequiredEnumsAndNestedFields) {
  meta::v1::ObjectMeta metadata;
  metadata.owner_references.push_back({.api_version = "apps/v1", .kind = "ReplicaSet"});
  metadata.managed_fields.push_back({.manager = "kubectl", .operation = "Patch"});
  validation::FieldErrors errors;
  meta::v1::ValidateFields(metadata, runtime::LazyFieldPath().Child("metadata"), errors);
  std::vector<std::string> messages;
  for (const auto& error : errors)
    messages.push_back(error.ToString());
  EXPECT_EQ(messages, (std::vector<std::string>{
                          "metadata.ownerReferences[0].name: Required value",
                          "metadata.ownerReferences[0].uid: Required value",
                          "metadata.managedFields[0].operation: Unsupported value: \"Patch\": "
                          "supported values: \"Apply\", \"Update\"",
                      }));
}

}  // namespace
}  // namespace kpp::api
