#include "apiserver/apiserver.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "base/version.h"
#include "support/test_pki.h"

namespace kpp::apiserver {
namespace {

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.ok());
    ApiServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.tls = {pki_.serving().certificate_pem, pki_.serving().private_key_pem,
                   pki_.ca().certificate_pem};
    auto server = ApiServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.error().message();
    server_ = std::move(server).value();
  }

  // Body and HTTP status of a GET.
  std::pair<std::string, int> Get(const std::string& path, const std::string& identity = "") {
    auto result = pki_.Curl(server_->port(), path, identity);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const auto newline = result.out.rfind('\n');
    if (newline == std::string::npos) return {result.out, 0};
    return {result.out.substr(0, newline), std::stoi(result.out.substr(newline + 1))};
  }

  testing::TestPki pki_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, AnonymousGetsUnauthorizedStatus) {
  for (const char* path : {"/api", "/apis", "/api/v1/namespaces/default/pods", "/"}) {
    auto [body, status] = Get(path);
    EXPECT_EQ(status, 401) << path;
    EXPECT_EQ(body, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                    R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
  }
}

TEST_F(ApiServerTest, CertificateFromAnotherCaIsUnauthorized) {
  auto [body, status] = Get("/api", "intruder");
  EXPECT_EQ(status, 401);
}

TEST_F(ApiServerTest, AuthenticatedUnknownPathIsNotFoundStatus) {
  auto [body, status] = Get("/no/such/thing", "client");
  EXPECT_EQ(status, 404);
  EXPECT_NE(body.find(R"("reason":"NotFound")"), std::string::npos) << body;
}

TEST_F(ApiServerTest, VersionIsPublicKubernetesVersionInfo) {
  auto [body, status] = Get("/version");
  ASSERT_EQ(status, 200);
  const auto info = boost::json::parse(body).as_object();
  EXPECT_EQ(info.at("major").as_string(), "1");
  EXPECT_EQ(info.at("minor").as_string(), std::to_string(kKubernetesMinor));
  EXPECT_EQ(info.at("gitVersion").as_string(), KubernetesGitVersion());
  for (const char* field :
       {"gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"}) {
    ASSERT_TRUE(info.contains(field)) << field;
    EXPECT_FALSE(info.at(field).as_string().empty()) << field;
  }
  EXPECT_EQ(info.at("platform").as_string(), Platform());
}

TEST_F(ApiServerTest, HealthEndpointsArePublic) {
  EXPECT_EQ(Get("/healthz"), std::make_pair(std::string("ok"), 200));
  EXPECT_EQ(Get("/livez"), std::make_pair(std::string("ok"), 200));
  EXPECT_EQ(Get("/readyz/ping"), std::make_pair(std::string("ok"), 200));
  EXPECT_EQ(Get("/readyz?verbose"),
            std::make_pair(std::string("[+]ping ok\n[+]shutdown ok\nreadyz check passed\n"), 200));
}

TEST_F(ApiServerTest, ReadyzFailsOnceShutdownBegins) {
  server_->BeginShutdown();
  auto [body, status] = Get("/readyz");
  EXPECT_EQ(status, 500);
  EXPECT_EQ(body, "[+]ping ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n");
  EXPECT_EQ(Get("/livez").second, 200);
}

}  // namespace
}  // namespace kpp::apiserver
