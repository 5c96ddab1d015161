// Service account tokens through the real kubectl (1.27 and 1.33): `kubectl create token`, the
// token used with kubeconfigs that carry only it (`auth whoami`, which every authenticated user
// may do, so these checks hold once authorization exists), a pod-bound token dying with its
// pod, TokenReview, legacy token secrets, bootstrap tokens and their cleaner, and 401s with
// upstream's bare Status for bad tokens and headers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/encoding.h"
#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::kOldestAndNewestKubectl;
using testing::ProcessResult;

constexpr std::string_view kUnauthorizedStatus =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Unauthorized","reason":"Unauthorized","code":401})";
constexpr std::string_view kNotLoggedIn =
    "error: You must be logged in to the server (Unauthorized)\n";

class ServiceAccountTokensE2ETest : public testing::KubectlE2ETest {
 protected:
  ProcessResult WithToken(const std::string& token, std::vector<std::string> args,
                          const std::string& minor = "") {
    args.insert(args.begin(), {"--kubeconfig", server_.TokenKubeconfig(token)});
    return Kubectl(args, minor);
  }

  std::string CreateToken(std::vector<std::string> args, const std::string& minor = "") {
    args.insert(args.begin(), {"create", "token"});
    auto result = Kubectl(args, minor);
    EXPECT_EQ(result.exit_code, 0) << minor << ": " << result.err;
    std::string token = result.out;
    while (!token.empty() && token.back() == '\n')
      token.pop_back();
    return token;
  }

  // curl with `authorization` as the Authorization header; body then "\n<status>".
  ProcessResult CurlWithAuthorization(const std::string& authorization, const std::string& path) {
    return testing::RunProcess(
        {"curl", "-sS", "--cacert", server_.data_dir() + "/tls/ca.crt", "-H",
         "Authorization: " + authorization, "-w", "\n%{http_code}", "--max-time", "20",
         "https://127.0.0.1:" + std::to_string(server_.port()) + path},
        30s);
  }

  // Waits (up to 10s) for `done`, which a controller or a cache makes true shortly.
  template <typename Done>
  bool Eventually(Done done) {
    return testing::Eventually(done, 10s, 100ms);
  }

  // Whether the tokens controller has filled the secret in.
  static bool HasToken(const boost::json::value& secret) {
    const auto* data = secret.is_object() ? secret.as_object().if_contains("data") : nullptr;
    return data != nullptr && data->is_object() && data->as_object().contains("token");
  }
};

TEST_F(ServiceAccountTokensE2ETest, CreatedTokensAuthenticateAsTheServiceAccount) {
  MustRun({"create", "serviceaccount", "robot"});
  const std::string uid =
      GetJson({"serviceaccount", "robot"}).at("metadata").at("uid").as_string().c_str();
  for (const auto& minor : kOldestAndNewestKubectl) {
    const std::string token = CreateToken({"robot", "--duration", "20m"}, minor);
    for (const auto& user_minor : kOldestAndNewestKubectl) {
      auto whoami = WithToken(token, {"auth", "whoami", "-o", "json"}, user_minor);
      ASSERT_EQ(whoami.exit_code, 0) << minor << "/" << user_minor << ": " << whoami.err;
      auto info = boost::json::parse(whoami.out).at("status").at("userInfo");
      EXPECT_EQ(info.at("username"), "system:serviceaccount:default:robot");
      EXPECT_EQ(info.at("uid").as_string(), uid);
      EXPECT_EQ(
          boost::json::serialize(info.at("groups")),
          R"(["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"])");
      EXPECT_EQ(info.at("extra")
                    .at("authentication.kubernetes.io/credential-id")
                    .at(0)
                    .as_string()
                    .subview()
                    .substr(0, 4),
                "JTI=");
    }
    auto api = WithToken(token, {"get", "--raw", "/api"}, minor);
    EXPECT_EQ(api.exit_code, 0) << api.err;
    EXPECT_NE(api.out.find(R"("kind":"APIVersions")"), std::string::npos) << api.out;
  }

  // A token for another audience is no key to the API server.
  const std::string vault = CreateToken({"robot", "--audience", "vault"});
  auto refused = WithToken(vault, {"auth", "whoami"});
  EXPECT_EQ(refused.err, kNotLoggedIn);

  auto too_short = Kubectl({"create", "token", "robot", "--duration", "5m"});
  EXPECT_NE(too_short.exit_code, 0);
  EXPECT_EQ(too_short.err,
            "error: failed to create token: TokenRequest.authentication.k8s.io \"\" is invalid: "
            "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 "
            "minutes\n");
  auto missing = Kubectl({"create", "token", "ghost"});
  EXPECT_EQ(missing.err, "error: failed to create token: serviceaccounts \"ghost\" not found\n");
}

TEST_F(ServiceAccountTokensE2ETest, PodBoundTokenDiesWithItsPod) {
  MustRun({"create", "serviceaccount", "robot"});
  MustRun({"create", "serviceaccount", "other"});
  MustRun(
      {"run", "web", "--image=nginx", R"(--overrides={"spec":{"serviceAccountName":"robot"}})"});
  const std::string pod_uid = GetJson({"pod", "web"}).at("metadata").at("uid").as_string().c_str();
  for (const auto& minor : kOldestAndNewestKubectl) {
    auto wrong = Kubectl(
        {"create", "token", "other", "--bound-object-kind", "Pod", "--bound-object-name", "web"},
        minor);
    EXPECT_EQ(wrong.err,
              "error: failed to create token: cannot bind token for serviceaccount \"other\" to "
              "pod running with different serviceaccount name.\n")
        << minor;
  }
  const std::string token =
      CreateToken({"robot", "--bound-object-kind", "Pod", "--bound-object-name", "web"}, "1.27");
  auto whoami = WithToken(token, {"auth", "whoami", "-o", "json"}, "1.33");
  ASSERT_EQ(whoami.exit_code, 0) << whoami.err;
  auto extra = boost::json::parse(whoami.out).at("status").at("userInfo").at("extra");
  EXPECT_EQ(extra.at("authentication.kubernetes.io/pod-name").at(0), "web");
  EXPECT_EQ(extra.at("authentication.kubernetes.io/pod-uid").at(0).as_string(), pod_uid);

  MustRun({"delete", "pod", "web", "--grace-period=0", "--force"});
  EXPECT_TRUE(Eventually([&] { return WithToken(token, {"auth", "whoami"}).err == kNotLoggedIn; }));
  for (const auto& minor : kOldestAndNewestKubectl) {
    EXPECT_EQ(WithToken(token, {"get", "--raw", "/api"}, minor).err, kNotLoggedIn) << minor;
  }
}

TEST_F(ServiceAccountTokensE2ETest, TokenReviewJudgesAnyToken) {
  MustRun({"create", "serviceaccount", "robot"});
  const std::string token = CreateToken({"robot", "--audience", "api", "--audience", "vault"});
  auto review = [&](const std::string& spec) {
    const std::string path = server_.WriteFile(
        "review.json",
        R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":)" + spec + "}");
    auto result = Kubectl({"create", "-f", path, "-o", "json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? boost::json::parse(result.out).at("status")
                                 : boost::json::value();
  };
  auto accepted = review(R"({"token":")" + token + R"(","audiences":["vault","other"]})");
  EXPECT_EQ(accepted.at("authenticated"), true);
  EXPECT_EQ(accepted.at("user").at("username"), "system:serviceaccount:default:robot");
  EXPECT_EQ(boost::json::serialize(accepted.at("audiences")), R"(["vault"])");

  auto wrong_audience = review(R"({"token":")" + token + R"("})");
  EXPECT_FALSE(wrong_audience.as_object().contains("authenticated"));
  EXPECT_EQ(wrong_audience.at("error"),
            R"(token audiences ["api" "vault"] is invalid for the target audiences )"
            R"(["https://kubernetes.default.svc.cluster.local"])");
  EXPECT_EQ(review(R"({"token":"nonsense"})").at("error"), "invalid bearer token");
  // Reviews are answered, never stored.
  EXPECT_NE(Kubectl({"get", "tokenreviews"}).exit_code, 0);
}

TEST_F(ServiceAccountTokensE2ETest, LegacySecretTokenLivesWithItsSecret) {
  MustRun({"create", "serviceaccount", "robot"});
  const std::string manifest = server_.WriteFile("secret.yaml", R"(apiVersion: v1
kind: Secret
metadata:
  name: robot-token
  annotations:
    kubernetes.io/service-account.name: robot
type: kubernetes.io/service-account-token
)");
  MustRun({"apply", "-f", manifest});
  boost::json::value secret;
  ASSERT_TRUE(Eventually([&] {
    secret = GetJson({"secret", "robot-token"});
    return HasToken(secret);
  }));
  const auto& data = secret.at("data");
  EXPECT_EQ(*Base64Decode(data.at("namespace").as_string()), "default");
  std::ifstream ca_file(server_.data_dir() + "/tls/ca.crt");
  std::stringstream ca;
  ca << ca_file.rdbuf();
  EXPECT_EQ(*Base64Decode(data.at("ca.crt").as_string()), ca.str());
  EXPECT_EQ(secret.at("metadata").at("annotations").at("kubernetes.io/service-account.uid"),
            GetJson({"serviceaccount", "robot"}).at("metadata").at("uid"));
  const std::string token = *Base64Decode(data.at("token").as_string());
  for (const auto& minor : kOldestAndNewestKubectl) {
    auto whoami = WithToken(token, {"auth", "whoami"}, minor);
    EXPECT_EQ(whoami.exit_code, 0) << minor << ": " << whoami.err;
    EXPECT_NE(whoami.out.find("system:serviceaccount:default:robot"), std::string::npos);
  }
  MustRun({"delete", "secret", "robot-token"});
  EXPECT_TRUE(Eventually([&] { return WithToken(token, {"auth", "whoami"}).err == kNotLoggedIn; }));

  // A token secret whose service account is gone goes too.
  MustRun({"apply", "-f", manifest});
  ASSERT_TRUE(Eventually([&] { return HasToken(GetJson({"secret", "robot-token"})); }));
  MustRun({"delete", "serviceaccount", "robot"});
  EXPECT_TRUE(Eventually([&] { return !Exists({"secret", "robot-token"}); }));
}

TEST_F(ServiceAccountTokensE2ETest, BootstrapTokensAuthenticateUntilTheyExpire) {
  auto bootstrap_secret = [&](const std::string& id, const std::string& expiration) {
    MustRun({"create", "secret", "generic", "bootstrap-token-" + id, "-n", "kube-system", "--type",
             "bootstrap.kubernetes.io/token", "--from-literal", "token-id=" + id, "--from-literal",
             "token-secret=0123456789abcdef", "--from-literal",
             "usage-bootstrap-authentication=true", "--from-literal",
             "auth-extra-groups=system:bootstrappers:kubeadm:default-node-token", "--from-literal",
             "expiration=" + expiration});
  };
  bootstrap_secret("abcdef", "2099-01-01T00:00:00Z");
  for (const auto& minor : kOldestAndNewestKubectl) {
    auto whoami = WithToken("abcdef.0123456789abcdef", {"auth", "whoami"}, minor);
    EXPECT_EQ(whoami.exit_code, 0) << minor << ": " << whoami.err;
    EXPECT_EQ(whoami.out,
              "ATTRIBUTE   VALUE\n"
              "Username    system:bootstrap:abcdef\n"
              "Groups      [system:bootstrappers system:bootstrappers:kubeadm:default-node-token "
              "system:authenticated]\n")
        << minor;
  }
  EXPECT_EQ(WithToken("abcdef.0123456789abcdee", {"auth", "whoami"}).err, kNotLoggedIn);

  bootstrap_secret("zzzzzz", "2020-01-01T00:00:00Z");
  EXPECT_EQ(WithToken("zzzzzz.0123456789abcdef", {"auth", "whoami"}).err, kNotLoggedIn);
  // The token cleaner removes the expired one and keeps the other.
  EXPECT_TRUE(Eventually([&] {
    return !Exists({"secret", "bootstrap-token-zzzzzz", "-n", "kube-system"});
  }));
  EXPECT_TRUE(Exists({"secret", "bootstrap-token-abcdef", "-n", "kube-system"}));
}

TEST_F(ServiceAccountTokensE2ETest, BadTokensAndHeadersGetABareUnauthorized) {
  MustRun({"create", "serviceaccount", "robot"});
  const std::string token = CreateToken({"robot"});
  auto good = CurlWithAuthorization("Bearer " + token, "/api");
  EXPECT_TRUE(good.out.ends_with("\n200")) << good.out;
  // The public paths are open to anonymous requests, not to bad tokens (as upstream's).
  EXPECT_EQ(server_.Curl("/healthz", false).out, "ok\n200");
  EXPECT_EQ(CurlWithAuthorization("Basic YWxpY2U6cHc=", "/healthz").out, "ok\n200");
  EXPECT_EQ(CurlWithAuthorization("Bearer expired", "/healthz").out,
            std::string(kUnauthorizedStatus) + "\n401");

  const auto dot = token.rfind('.');
  std::string tampered = token;
  tampered[dot / 2] = tampered[dot / 2] == 'A' ? 'B' : 'A';
  const std::string unsigned_token =
      "eyJhbGciOiJub25lIn0" + token.substr(token.find('.'), dot - token.find('.')) + ".";
  for (const std::string& authorization : std::vector<std::string>{
           "Bearer " + tampered, "Bearer " + unsigned_token, "Bearer " + token.substr(0, dot),
           "Bearer " + token + "x", std::string("Bearer not.a.jwt"), std::string("Bearer"),
           "Bearer  " + token, "Basic " + token, "bearer", std::string("Bearer t\xc3\xb6ken")}) {
    auto refused = CurlWithAuthorization(authorization, "/api");
    EXPECT_EQ(refused.out, std::string(kUnauthorizedStatus) + "\n401") << authorization;
  }
}

TEST_F(ServiceAccountTokensE2ETest, SigningKeyIsPrivateAndKeptAcrossRestarts) {
  struct stat info {};
  ASSERT_EQ(stat((server_.data_dir() + "/tls/service-account.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  MustRun({"create", "serviceaccount", "robot"});
  const std::string token = CreateToken({"robot"});
  ASSERT_TRUE(server_.Stop());
  ASSERT_TRUE(server_.Start());
  auto whoami = WithToken(token, {"auth", "whoami"});
  EXPECT_EQ(whoami.exit_code, 0) << whoami.err;
}

TEST_F(ServiceAccountTokensE2ETest, IssuerDiscoveryPublishesTheKeyThatVerifiesTokens) {
  MustRun({"create", "serviceaccount", "robot"});
  const std::string token = CreateToken({"robot"});
  auto configuration = WithToken(token, {"get", "--raw", "/.well-known/openid-configuration"});
  ASSERT_EQ(configuration.exit_code, 0) << configuration.err;
  EXPECT_EQ(configuration.out,
            R"({"issuer":"https://kubernetes.default.svc.cluster.local",)"
            R"("jwks_uri":"https://kubernetes.default.svc.cluster.local/openid/v1/jwks",)"
            R"("response_types_supported":["id_token"],"subject_types_supported":["public"],)"
            R"("id_token_signing_alg_values_supported":["RS256"]})");
  auto jwks = WithToken(token, {"get", "--raw", "/openid/v1/jwks"}, "1.27");
  ASSERT_EQ(jwks.exit_code, 0) << jwks.err;
  // Anyone holding the published key can check the token's RS256 signature (PKCS #1 v1.5 with
  // SHA-256), as the conformance test does; here in Python's integers.
  const std::string verify = server_.WriteFile("verify.py", R"(import base64, hashlib, json, sys
def b64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
jwks, token = json.loads(sys.argv[1]), sys.argv[2]
header, claims, signature = token.split(".")
key = jwks["keys"][0]
assert json.loads(b64(header))["kid"] == key["kid"], "kid"
n, e = int.from_bytes(b64(key["n"]), "big"), int.from_bytes(b64(key["e"]), "big")
decrypted = pow(int.from_bytes(b64(signature), "big"), e, n).to_bytes(256, "big")
digest_info = bytes.fromhex("3031300d060960864801650304020105000420")
digest = hashlib.sha256((header + "." + claims).encode()).digest()
expected = bytes([0, 1] + [255] * (256 - 3 - len(digest_info) - 32) + [0]) + digest_info + digest
print("verified" if decrypted == expected else "forged")
)");
  auto verified = testing::RunProcess({"python3", verify, jwks.out, token}, 30s);
  EXPECT_EQ(verified.out, "verified\n") << verified.err;
  std::string tampered = token;
  tampered[token.find('.') + 5] ^= 1;
  EXPECT_EQ(testing::RunProcess({"python3", verify, jwks.out, tampered}, 30s).out, "forged\n");
}

TEST_F(ServiceAccountTokensE2ETest, NodeBoundTokenDiesWithItsNodeAndTheSubresourceIsDiscovered) {
  auto discovery = Kubectl({"get", "--raw", "/api/v1"});
  EXPECT_NE(discovery.out.find(R"({"name":"serviceaccounts/token","singularName":"",)"
                               R"("namespaced":true,"group":"authentication.k8s.io",)"
                               R"("version":"v1","kind":"TokenRequest","verbs":["create"]})"),
            std::string::npos)
      << discovery.out;
  MustRun({"create", "serviceaccount", "robot"});
  const std::string node = server_.WriteFile("node.yaml",
                                             "apiVersion: v1\nkind: Node\n"
                                             "metadata:\n  name: n1\n");
  MustRun({"apply", "-f", node});
  // kubectl binds to nodes since 1.31.
  const std::string token =
      CreateToken({"robot", "--bound-object-kind", "Node", "--bound-object-name", "n1"}, "1.33");
  auto whoami = WithToken(token, {"auth", "whoami", "-o", "json"});
  ASSERT_EQ(whoami.exit_code, 0) << whoami.err;
  EXPECT_EQ(boost::json::parse(whoami.out)
                .at("status")
                .at("userInfo")
                .at("extra")
                .at("authentication.kubernetes.io/node-name")
                .at(0),
            "n1");
  MustRun({"delete", "node", "n1"});
  EXPECT_TRUE(Eventually([&] { return WithToken(token, {"auth", "whoami"}).err == kNotLoggedIn; }));
}

}  // namespace
}  // namespace kpp
