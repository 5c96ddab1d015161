// Discovery and OpenAPI as kubectl uses them: api-versions, api-resources, explain.
#include <gtest/gtest.h>

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

TEST(DiscoveryE2ETest, ExplainReadsOpenApiV3) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  // kubectl explain reads OpenAPI v3 from 1.29 on; 1.27 and 1.28 need the protobuf OpenAPI v2
  // document, which is not served yet (docs/ROADMAP.md).
  for (const auto& minor : AllKubectls()) {
    if (minor == "1.27" || minor == "1.28") continue;
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

TEST(DiscoveryE2ETest, ExplainFollowsTheRecursiveCrdSchema) {
  KppServer server;
  ASSERT_TRUE(server.Start());
  auto resources = server.Kubectl({"api-resources", "--api-group=apiextensions.k8s.io"});
  ASSERT_EQ(resources.exit_code, 0) << resources.err;
  EXPECT_NE(resources.out.find("crd,crds"), std::string::npos) << resources.out;
  for (const auto& minor : AllKubectls()) {
    if (minor == "1.27" || minor == "1.28") continue;
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
