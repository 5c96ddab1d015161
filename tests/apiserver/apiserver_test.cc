#include "apiserver/apiserver.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "base/files.h"
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

// A server started with --token-auth-file: bearer tokens after client certificates.
class TokenAuthTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }

  Status Start(const std::string& token_file_contents) {
    const std::string path = pki_.dir() + "/tokens.csv";
    KPP_RETURN_IF_ERROR(WriteFileAtomic(path, token_file_contents, 0600));
    ApiServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.tls = {pki_.serving().certificate_pem, pki_.serving().private_key_pem,
                   pki_.ca().certificate_pem};
    options.token_auth_file = path;
    KPP_ASSIGN_OR_RETURN(server_, ApiServer::Start(options));
    return Ok();
  }

  // Body and HTTP status of a request with `extra` curl arguments.
  std::pair<std::string, int> Curl(const std::string& path, const std::string& identity,
                                   const std::vector<std::string>& extra) {
    auto result = pki_.Curl(server_->port(), path, identity, extra);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const auto newline = result.out.rfind('\n');
    if (newline == std::string::npos) return {result.out, 0};
    return {result.out.substr(0, newline), std::stoi(result.out.substr(newline + 1))};
  }

  testing::TestPki pki_;
  std::unique_ptr<ApiServer> server_;
};

TEST_F(TokenAuthTest, KnownBearerTokenIsServedUnknownIsUnauthorized) {
  ASSERT_TRUE(Start("good,alice,uid-1,\"dev,ops\"\n").ok());
  EXPECT_EQ(Curl("/no/such/thing", "", {"-H", "Authorization: Bearer good"}).second, 404);
  for (const char* header :
       {"Authorization: Bearer bad", "Authorization: Basic Z29vZA==", "Authorization: Bearer"}) {
    auto [body, status] = Curl("/api", "", {"-H", header});
    EXPECT_EQ(status, 401) << header;
    EXPECT_EQ(body, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                    R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
  }
}

TEST_F(TokenAuthTest, SelfSubjectReviewAnswersWithTheRequester) {
  ASSERT_TRUE(Start("good,bob,uid-1,\"dev,ops\"\n").ok());
  const std::vector<std::string> post = {"-X",
                                         "POST",
                                         "-H",
                                         "Content-Type: application/json",
                                         "-d",
                                         R"({"apiVersion":"authentication.k8s.io/v1",)"
                                         R"("kind":"SelfSubjectReview"})"};
  auto with_token = post;
  with_token.insert(with_token.end(), {"-H", "Authorization: Bearer good"});
  auto [body, status] = Curl("/apis/authentication.k8s.io/v1/selfsubjectreviews", "", with_token);
  EXPECT_EQ(status, 201);
  auto review = boost::json::parse(body).as_object();
  EXPECT_EQ(review.at("apiVersion"), "authentication.k8s.io/v1");
  EXPECT_TRUE(review.at("metadata").as_object().contains("creationTimestamp"));
  EXPECT_EQ(boost::json::serialize(review.at("status")),
            R"({"userInfo":{"username":"bob","uid":"uid-1",)"
            R"("groups":["dev","ops","system:authenticated"]}})");

  auto [beta, beta_status] =
      Curl("/apis/authentication.k8s.io/v1beta1/selfsubjectreviews", "client", post);
  EXPECT_EQ(beta_status, 201);
  auto beta_review = boost::json::parse(beta).as_object();
  EXPECT_EQ(beta_review.at("apiVersion"), "authentication.k8s.io/v1beta1");
  EXPECT_EQ(beta_review.at("status").at("userInfo").at("username"),
            "alice");  // the certificate's CN
  EXPECT_EQ(boost::json::serialize(beta_review.at("status").at("userInfo").at("groups")),
            R"(["devs","ops","system:authenticated"])");

  EXPECT_EQ(Curl("/apis/authentication.k8s.io/v1/selfsubjectreviews", "client", {}).second, 405);
  EXPECT_EQ(Curl("/apis/authentication.k8s.io/v1/selfsubjectreviews", "", post).second, 401);
}

TEST_F(TokenAuthTest, BadTokenFileFailsTheStart) {
  auto started = Start("good,alice\n");
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message().find("must have at least 3 columns"), std::string::npos)
      << started.error().message();
}

}  // namespace
}  // namespace kpp::apiserver
