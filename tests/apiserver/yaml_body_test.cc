// Request bodies in YAML (application/yaml, application/apply-patch+yaml) through the registry.
#include <gtest/gtest.h>

#include "apiserver/registry_fixture.h"

namespace kpp::apiserver {
namespace {

constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";

class YamlBodyTest : public RegistryTest {};

TEST_F(YamlBodyTest, CreateAndUpdateReadYaml) {
  const auto created = Ok(Send("POST", kConfigMaps,
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                               "data:\n  enabled: \"yes\"\n  port: \"80\"\n",
                               "application/yaml"),
                          201);
  EXPECT_EQ(created.at("data").at("enabled"), "yes");
  const std::string rv(created.at("metadata").at("resourceVersion").as_string());
  const auto updated = Ok(Send("PUT", std::string(kConfigMaps) + "/settings",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                               "  resourceVersion: \"" +
                                   rv + "\"\ndata:\n  port: \"81\"\n",
                               "application/yaml; charset=utf-8"));
  EXPECT_EQ(updated.at("data").at("port"), "81");
}

TEST_F(YamlBodyTest, BadYamlIsA400NamingTheLine) {
  const auto status =
      Failed(Send("POST", kConfigMaps, "metadata:\n  name: a: b\n", "application/yaml"), 400);
  EXPECT_EQ(status.at("reason"), "BadRequest");
  EXPECT_EQ(status.at("message"),
            "the object provided is unrecognized (must be of type ConfigMap): error converting "
            "YAML to JSON: yaml: line 2: mapping values are not allowed in this context "
            "(6d657461646174613a0a20206e616d653a20613a20620a)");
  EXPECT_EQ(Ok(Send("GET", kConfigMaps)).at("items").as_array().size(), 0u);
}

TEST_F(YamlBodyTest, YamlTypesReachTheTypedDecoder) {
  // A YAML 1.1 boolean where a string belongs is a type error, as upstream reports it.
  const auto status = Failed(
      Send("POST", kConfigMaps, "metadata: {name: a}\ndata: {enabled: yes}\n", "application/yaml"),
      400);
  EXPECT_EQ(status.at("message"),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
            "bool into Go struct field ConfigMap.data of type string");
  // Duplicate keys are reported as for JSON bodies.
  const auto strict = Failed(Send("POST", kConfigMaps, "metadata: {name: a}\ndata: {k: a, k: b}\n",
                                  "application/yaml", {{"fieldValidation", "Strict"}}),
                             400);
  EXPECT_NE(std::string(strict.at("message").as_string()).find("duplicate field \"data.k\""),
            std::string::npos)
      << strict.at("message");
}

TEST_F(YamlBodyTest, ServerSideApplyReadsYaml) {
  const auto applied = Ok(Send("PATCH", std::string(kConfigMaps) + "/applied",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n"
                               "data:\n  a: \"1\"\n",
                               "application/apply-patch+yaml", {{"fieldManager", "tester"}}),
                          201);
  EXPECT_EQ(applied.at("data").at("a"), "1");
  EXPECT_EQ(applied.at("metadata").at("managedFields").at(0).at("manager"), "tester");
  const auto status = Failed(Send("PATCH", std::string(kConfigMaps) + "/applied", "a: [\n",
                                  "application/apply-patch+yaml", {{"fieldManager", "tester"}}),
                             400);
  EXPECT_EQ(status.at("message"),
            "error converting YAML to JSON: yaml: line 1: did not find expected node content");
}

TEST_F(YamlBodyTest, OtherMediaTypesAre415) {
  const auto status = Failed(Send("POST", kConfigMaps, "<configmap/>", "application/xml"), 415);
  EXPECT_EQ(status.at("message"),
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml, application/vnd.kubernetes.protobuf");
}

}  // namespace
}  // namespace kpp::apiserver
