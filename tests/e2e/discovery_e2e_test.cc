// Discovery and OpenAPI as kubectl uses them: api-versions, api-resources, explain.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;

std::vector<std::string> AllKubectls() {
  std::vector<std::string> versions = testing::InstalledKubectlVersions();
  versions.insert(versions.begin(), "");  // the default kubectl
  return versions;
}

TEST(DiscoveryE2ETest, ApiVersionsAndResourcesWithEveryKubectl) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  for (const auto& minor : AllKubectls()) {
    auto versions = server.Kubectl({"api-versions"}, minor);
    ASSERT_EQ(versions.exit_code, 0) << minor << ": " << versions.err;
    EXPECT_NE(versions.out.find("v1\n"), std::string::npos) << versions.out;
    auto resources = server.Kubectl({"api-resources", "--no-headers"}, minor);
    ASSERT_EQ(resources.exit_code, 0) << minor << ": " << resources.err;
    EXPECT_NE(resources.out.find("configmaps"), std::string::npos) << resources.out;
    auto namespaced = server.Kubectl({"api-resources", "--namespaced=false", "-o", "name"}, minor);
    ASSERT_EQ(namespaced.exit_code, 0) << namespaced.err;
    EXPECT_NE(namespaced.out.find("namespaces\n"), std::string::npos) << namespaced.out;
    EXPECT_EQ(namespaced.out.find("configmaps"), std::string::npos) << namespaced.out;
  }
}

TEST(DiscoveryE2ETest, ExplainWorksWithEveryKubectl) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  // kubectl explain reads OpenAPI v3 from 1.29 on; 1.27 and 1.28 read OpenAPI v2 as protobuf.
  for (const auto& minor : AllKubectls()) {
    auto kind = server.Kubectl({"explain", "configmaps"}, minor);
    ASSERT_EQ(kind.exit_code, 0) << minor << ": " << kind.err;
    EXPECT_NE(kind.out.find("KIND:       ConfigMap"), std::string::npos) << kind.out;
    EXPECT_NE(kind.out.find("binaryData"), std::string::npos) << kind.out;
    auto field = server.Kubectl({"explain", "secret.metadata.ownerReferences.uid"}, minor);
    ASSERT_EQ(field.exit_code, 0) << minor << ": " << field.err;
    EXPECT_NE(field.out.find("FIELD: uid <string>"), std::string::npos) << field.out;
    auto missing = server.Kubectl({"explain", "configmap.nosuchfield"}, minor);
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("field \"nosuchfield\" does not exist"), std::string::npos)
        << missing.err;
  }
}

TEST(DiscoveryE2ETest, AggregatedDiscoveryWhenAcceptAsksForIt) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto curl = [&](const std::string& accept, const std::string& path) {
    return testing::RunProcess({"curl", "-sS", "-w", "\n%{content_type}", "-H", "Accept: " + accept,
                                "--cacert", server.data_dir() + "/tls/ca.crt", "--cert",
                                server.data_dir() + "/tls/admin.crt", "--key",
                                server.data_dir() + "/tls/admin.key",
                                "https://127.0.0.1:" + std::to_string(server.port()) + path});
  };
  // What client-go sends.
  const std::string client_go =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
      "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  auto groups = curl(client_go, "/apis");
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  const auto newline = groups.out.rfind('\n');
  EXPECT_EQ(groups.out.substr(newline + 1),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  const auto document = boost::json::parse(groups.out.substr(0, newline));
  EXPECT_EQ(document.at("kind"), "APIGroupDiscoveryList");
  bool has_rbac = false;
  for (const auto& group : document.at("items").as_array()) {
    has_rbac = has_rbac || group.at("metadata").at("name") == "rbac.authorization.k8s.io";
  }
  EXPECT_TRUE(has_rbac);
  auto beta =
      curl("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", "/api");
  EXPECT_NE(beta.out.find(R"("apiVersion":"apidiscovery.k8s.io/v2beta1")"), std::string::npos);
  auto plain = curl("application/json", "/api");
  EXPECT_NE(plain.out.find(R"("kind":"APIVersions")"), std::string::npos) << plain.out;
}

TEST(DiscoveryE2ETest, ExplainFollowsTheRecursiveCrdSchema) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto resources = server.Kubectl({"api-resources", "--api-group=apiextensions.k8s.io"});
  ASSERT_EQ(resources.exit_code, 0) << resources.err;
  EXPECT_NE(resources.out.find("crd,crds"), std::string::npos) << resources.out;
  for (const auto& minor : AllKubectls()) {
    auto schema = server.Kubectl({"explain", "crd.spec.versions.schema.openAPIV3Schema"}, minor);
    ASSERT_EQ(schema.exit_code, 0) << minor << ": " << schema.err;
    EXPECT_NE(schema.out.find("x-kubernetes-validations"), std::string::npos) << schema.out;
    // properties holds schemas again, as deep as one asks.
    auto nested = server.Kubectl(
        {"explain", "crd.spec.versions.schema.openAPIV3Schema.properties.properties.not.enum"},
        minor);
    ASSERT_EQ(nested.exit_code, 0) << minor << ": " << nested.err;
    EXPECT_NE(nested.out.find("FIELD: enum"), std::string::npos) << nested.out;
    auto policy = server.Kubectl({"explain", "netpol.spec.policyTypes"}, minor);
    ASSERT_EQ(policy.exit_code, 0) << minor << ": " << policy.err;
    EXPECT_NE(policy.out.find("Egress"), std::string::npos) << policy.out;
  }
}

TEST(DiscoveryE2ETest, OpenApiDocumentsHaveEtags) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto first = testing::RunProcess(
      {"curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", server.data_dir() + "/tls/ca.crt",
       "--cert", server.data_dir() + "/tls/admin.crt", "--key",
       server.data_dir() + "/tls/admin.key",
       "https://127.0.0.1:" + std::to_string(server.port()) + "/openapi/v3"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto etag_at = first.out.find("ETag: ");
  ASSERT_NE(etag_at, std::string::npos) << first.out;
  const std::string etag =
      first.out.substr(etag_at + 6, first.out.find('\r', etag_at) - etag_at - 6);
  auto again = testing::RunProcess(
      {"curl", "-sS", "-w", "%{http_code}", "-o", "/dev/null", "-H", "If-None-Match: " + etag,
       "--cacert", server.data_dir() + "/tls/ca.crt", "--cert",
       server.data_dir() + "/tls/admin.crt", "--key", server.data_dir() + "/tls/admin.key",
       "https://127.0.0.1:" + std::to_string(server.port()) + "/openapi/v3"});
  EXPECT_EQ(again.out, "304");
  auto raw = server.Kubectl({"get", "--raw", "/openapi/v2"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_NE(raw.out.find("\"swagger\":\"2.0\""), std::string::npos);
}

}  // namespace
}  // namespace kpp
