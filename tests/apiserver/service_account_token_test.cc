// Service account tokens: the JWT pieces, the signing key, issuing and verifying tokens (expiry
// with a FakeClock, audiences, tampering, bound objects), bootstrap tokens, and the TokenRequest
// and TokenReview answers, all against objects served by a fake API server.
#include "apiserver/authn/service_account_token.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "apiserver/authn/bootstrap_token.h"
#include "apiserver/authn/issuer_discovery.h"
#include "apiserver/authn/jwt.h"
#include "apiserver/authn/token_endpoints.h"
#include "base/encoding.h"
#include "base/files.h"

namespace kpp::apiserver {
namespace {

using Strings = std::vector<std::string>;
constexpr std::string_view kIssuer = "https://kubernetes.default.svc.cluster.local";

const ServiceAccountKey& TestKey() {
  static const auto key = [] {
    auto generated = ServiceAccountKey::Generate();
    return std::move(*generated);
  }();
  return *key;
}

// The objects a fake API server answers GETs with, by path.
struct FakeObjects {
  std::map<std::string, std::string> objects;
  ObjectReader reader{[this](const http::Request& request) {
    const auto found = objects.find(request.path);
    if (request.method != "GET" || found == objects.end()) return http::Response{404, {}, "{}"};
    return http::Response{200, {}, found->second};
  }};

  void Put(const std::string& path, const std::string& json) { objects[path] = json; }
  void Remove(const std::string& path) { objects.erase(path); }

  // Serves reads as the watch cache would: each Put is a new version (a new string).
  void UseCache() {
    reader.SetCachedGet([this](std::string_view plural, std::string_view ns,
                               std::string_view name) -> std::shared_ptr<const std::string> {
      const std::string path = ns.empty()
                                   ? fmt::format("/api/v1/{}/{}", plural, name)
                                   : fmt::format("/api/v1/namespaces/{}/{}/{}", ns, plural, name);
      const auto found = objects.find(path);
      if (found == objects.end()) return nullptr;
      auto& version = versions[path];
      if (version == nullptr || *version != found->second) {
        version = std::make_shared<const std::string>(found->second);
      }
      ++cached_reads;
      return version;
    });
  }
  std::map<std::string, std::shared_ptr<const std::string>> versions;
  int cached_reads = 0;
};

class ServiceAccountTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.Put("/api/v1/namespaces/team/serviceaccounts/robot",
              R"({"metadata":{"name":"robot","namespace":"team","uid":"sa-uid"}})");
    fake_.Put("/api/v1/namespaces/team/pods/web",
              R"({"metadata":{"name":"web","uid":"pod-uid"},"spec":{"serviceAccountName":"robot",)"
              R"("nodeName":"n1"}})");
    fake_.Put("/api/v1/nodes/n1", R"({"metadata":{"name":"n1","uid":"node-uid"}})");
    fake_.Put("/api/v1/namespaces/team/secrets/keep",
              R"({"metadata":{"name":"keep","uid":"secret-uid"},"type":"Opaque"})");
  }

  BoundTokenClaims RobotClaims() const {
    BoundTokenClaims claims;
    claims.ns = "team";
    claims.service_account = {"robot", "sa-uid"};
    claims.audiences = {std::string(kIssuer)};
    return claims;
  }

  std::string Issue(const BoundTokenClaims& claims) {
    auto token = tokens_.Issue(claims);
    EXPECT_TRUE(token.ok());
    return token.ok() ? *token : "";
  }

  std::optional<TokenUser> Check(std::string_view token, Strings audiences = {},
                                 std::string* error = nullptr) {
    if (audiences.empty()) audiences = {std::string(kIssuer)};
    return tokens_.AuthenticateToken(token, audiences, error);
  }

  std::string ErrorOf(std::string_view token, Strings audiences = {}) {
    std::string error;
    EXPECT_FALSE(Check(token, std::move(audiences), &error).has_value());
    return error;
  }

  FakeClock clock_;
  FakeObjects fake_;
  ServiceAccountTokens tokens_{
      TestKey(), std::string(kIssuer), {std::string(kIssuer)}, fake_.reader, clock_};
};

TEST(JwtTest, Base64UrlRoundTripsAndRefusesOtherSpellings) {
  for (std::string_view bytes :
       {"", "f", "fo", "foo", "foob", "\xff\xfe\x00?", "any carnal pleas"}) {
    const std::string encoded = jwt::Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos) << encoded;
    EXPECT_EQ(jwt::Base64UrlDecode(encoded), std::string(bytes));
  }
  EXPECT_EQ(jwt::Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(jwt::Base64UrlDecode("Zm9v=").has_value());  // padding
  EXPECT_FALSE(jwt::Base64UrlDecode("Zm+v").has_value());   // standard alphabet
  EXPECT_FALSE(jwt::Base64UrlDecode("Zm9vY").has_value());  // impossible length
  EXPECT_FALSE(jwt::Base64UrlDecode("Zh").has_value());     // trailing bits set
}

TEST(JwtTest, ParseNeedsThreePartsWithJsonObjects) {
  const std::string header = jwt::Base64UrlEncode(R"({"alg":"RS256"})");
  const std::string claims = jwt::Base64UrlEncode(R"({"iss":"me"})");
  auto token = jwt::Parse(header + "." + claims + "." + jwt::Base64UrlEncode("sig"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->header.at("alg"), "RS256");
  EXPECT_EQ(token->signing_input, header + "." + claims);
  EXPECT_EQ(token->signature, "sig");
  for (const std::string& bad :
       {std::string("abc"), header + "." + claims, header + "." + claims + ".x.y",
        header + "." + jwt::Base64UrlEncode("[1]") + ".", "!." + claims + ".",
        header + "." + jwt::Base64UrlEncode("{\"iss\":") + "."}) {
    EXPECT_FALSE(jwt::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(jwt::HasIssuer(header + "." + claims + ".", "me"));
  EXPECT_FALSE(jwt::HasIssuer(header + "." + claims + ".", "you"));
}

TEST(JwtTest, BearerHeadersAsUpstreamReadsThem) {
  EXPECT_EQ(jwt::BearerTokenOf("Bearer abc"), "abc");
  EXPECT_EQ(jwt::BearerTokenOf("  bEaReR abc  "), "abc");
  EXPECT_EQ(jwt::BearerTokenOf("Bearer abc def"), "abc");
  EXPECT_FALSE(jwt::BearerTokenOf("Bearer  abc").has_value());
  EXPECT_FALSE(jwt::BearerTokenOf("Bearer").has_value());
  EXPECT_FALSE(jwt::BearerTokenOf("Basic YWxpY2U6cHc=").has_value());
  EXPECT_FALSE(jwt::BearerTokenOf("").has_value());
}

TEST(ServiceAccountKeyTest, SignsAndVerifiesAndIsKeptInAPrivateFile) {
  const auto& key = TestKey();
  auto signature = key.Sign("payload");
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), 256u);
  EXPECT_TRUE(key.Verify("payload", *signature));
  EXPECT_FALSE(key.Verify("payload!", *signature));
  std::string flipped = *signature;
  flipped[10] ^= 1;
  EXPECT_FALSE(key.Verify("payload", flipped));
  EXPECT_FALSE(key.Verify("payload", ""));
  EXPECT_EQ(key.key_id().size(), 43u);  // base64url of a SHA-256

  auto dir = MakeTempDirectory("kpp-sa-key-");
  ASSERT_TRUE(dir.ok());
  const std::string path = *dir + "/service-account.key";
  auto created = ServiceAccountKey::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.error().message();
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = ServiceAccountKey::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->key_id(), (*created)->key_id());
  EXPECT_TRUE((*loaded)->Verify("x", *(*created)->Sign("x")));
  EXPECT_FALSE(ServiceAccountKey::FromPem("not a key").ok());
}

TEST(IssuerDiscoveryTest, PublishesTheKeyForAnHttpsIssuerOnly) {
  auto get = [](const std::string& path, const std::string& issuer) {
    return ServeIssuerDiscovery(http::Request::LocalJson("GET", path), issuer, TestKey());
  };
  auto jwks = get("/openid/v1/jwks", std::string(kIssuer));
  ASSERT_TRUE(jwks.has_value());
  EXPECT_EQ(jwks->status, 200);
  const auto key = boost::json::parse(jwks->body).at("keys").at(0);
  EXPECT_EQ(key.at("kty"), "RSA");
  EXPECT_EQ(key.at("alg"), "RS256");
  EXPECT_EQ(key.at("use"), "sig");
  EXPECT_EQ(key.at("kid").as_string(), TestKey().key_id());
  EXPECT_EQ(key.at("e"), "AQAB");
  EXPECT_EQ(key.at("n").as_string().size(), 342u);  // 2048 bits
  auto configuration = get("/.well-known/openid-configuration", "https://issuer.example/");
  ASSERT_TRUE(configuration.has_value());
  EXPECT_EQ(boost::json::parse(configuration->body).at("jwks_uri"),
            "https://issuer.example/openid/v1/jwks");
  EXPECT_FALSE(get("/openid/v1/jwks", "kpp").has_value());
  EXPECT_FALSE(get("/openid/v1/keys", std::string(kIssuer)).has_value());
}

TEST_F(ServiceAccountTokenTest, IssuedTokenHasUpstreamsClaimsAndAuthenticates) {
  BoundTokenClaims claims = RobotClaims();
  claims.audiences = {"api", std::string(kIssuer)};
  const std::string token = Issue(claims);
  auto parsed = jwt::Parse(token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(boost::json::serialize(parsed->header),
            R"({"alg":"RS256","kid":")" + TestKey().key_id() + R"("})");
  const auto& payload = parsed->claims;
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(payload.at("iss").as_string(), kIssuer);
  EXPECT_EQ(payload.at("sub"), "system:serviceaccount:team:robot");
  EXPECT_EQ(payload.at("iat").as_int64(), now);
  EXPECT_EQ(payload.at("nbf").as_int64(), now);
  EXPECT_EQ(payload.at("exp").as_int64(), now + 3600);
  EXPECT_EQ(payload.at("jti").as_string().size(), 36u);
  EXPECT_EQ(boost::json::serialize(payload.at("aud")),
            R"(["api","https://kubernetes.default.svc.cluster.local"])");
  EXPECT_EQ(boost::json::serialize(payload.at("kubernetes.io")),
            R"({"namespace":"team","serviceaccount":{"name":"robot","uid":"sa-uid"}})");

  auto user = Check(token, {std::string(kIssuer), "other"});
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->user.name, "system:serviceaccount:team:robot");
  EXPECT_EQ(user->user.uid, "sa-uid");
  EXPECT_EQ(user->user.groups, (Strings{"system:serviceaccounts", "system:serviceaccounts:team"}));
  EXPECT_EQ(user->user.extra.at("authentication.kubernetes.io/credential-id"),
            (Strings{"JTI=" + std::string(payload.at("jti").as_string())}));
  EXPECT_EQ(user->audiences, (Strings{std::string(kIssuer)}));
}

TEST_F(ServiceAccountTokenTest, ExpiryAndNotBeforeHonourUpstreamsMinuteOfLeeway) {
  const std::string token = Issue(RobotClaims());
  clock_.Advance(std::chrono::seconds(3600 + 60));
  EXPECT_TRUE(Check(token).has_value());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(ErrorOf(token), "service account token has expired");

  // A token from a server whose clock runs ahead.
  FakeClock ahead(clock_.Now() + std::chrono::seconds(61));
  ServiceAccountTokens future(TestKey(), std::string(kIssuer), {std::string(kIssuer)}, fake_.reader,
                              ahead);
  auto early = future.Issue(RobotClaims());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(ErrorOf(*early), "service account token is not valid yet");
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(Check(*early).has_value());
}

TEST_F(ServiceAccountTokenTest, WrongAudienceIsRefusedWithUpstreamsReason) {
  BoundTokenClaims claims = RobotClaims();
  claims.audiences = {"vault"};
  const std::string token = Issue(claims);
  EXPECT_EQ(ErrorOf(token), R"(token audiences ["vault"] is invalid for the target audiences )"
                            R"(["https://kubernetes.default.svc.cluster.local"])");
  EXPECT_TRUE(Check(token, {"vault"}).has_value());
}

TEST_F(ServiceAccountTokenTest, TamperedForgedAndUnsignedTokensAreRefused) {
  const std::string token = Issue(RobotClaims());
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);

  // Claims rewritten to another service account, the signature kept.
  std::string claims = *jwt::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  const auto at = claims.find("robot");
  ASSERT_NE(at, std::string::npos);
  claims.replace(at, 5, "admin");
  const std::string rewritten =
      token.substr(0, first) + "." + jwt::Base64UrlEncode(claims) + token.substr(second);
  EXPECT_EQ(ErrorOf(rewritten), "error in cryptographic primitive");

  // The signature changed.
  std::string bad_signature = token;
  bad_signature.back() = bad_signature.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Check(bad_signature).has_value());

  // alg "none" with no signature, and HS256 "signed" with garbage.
  const std::string body = token.substr(first, second - first);
  EXPECT_EQ(ErrorOf(jwt::Base64UrlEncode(R"({"alg":"none"})") + body + "."),
            "unexpected signature algorithm");
  EXPECT_EQ(ErrorOf(jwt::Base64UrlEncode(R"({"alg":"HS256"})") + body + ".c2ln"),
            "unexpected signature algorithm");

  // Signed by another key.
  auto other_key = ServiceAccountKey::Generate();
  ASSERT_TRUE(other_key.ok());
  ServiceAccountTokens forger(**other_key, std::string(kIssuer), {std::string(kIssuer)},
                              fake_.reader, clock_);
  EXPECT_EQ(ErrorOf(*forger.Issue(RobotClaims())), "error in cryptographic primitive");

  // Malformed: not ours to judge (no error), or ours but broken.
  EXPECT_FALSE(Check("not-a-jwt").has_value());
  EXPECT_FALSE(Check("a.b.c").has_value());
  EXPECT_EQ(ErrorOf(token.substr(0, second) + ".!!"), "token signature is malformed");
}

TEST_F(ServiceAccountTokenTest, TokenDiesWithItsServiceAccount) {
  const std::string token = Issue(RobotClaims());
  fake_.Put("/api/v1/namespaces/team/serviceaccounts/robot",
            R"({"metadata":{"name":"robot","namespace":"team","uid":"new-uid"}})");
  EXPECT_EQ(ErrorOf(token), "service account UID (new-uid) does not match claim (sa-uid)");
  fake_.Remove("/api/v1/namespaces/team/serviceaccounts/robot");
  EXPECT_EQ(ErrorOf(token), "service account token has been invalidated");
}

// A token that authenticated is answered again from memory only while the time allows and the
// objects it names are the versions it was checked against.
TEST_F(ServiceAccountTokenTest, RememberedAnswersFollowTheObjectsAndTheClock) {
  fake_.UseCache();
  BoundTokenClaims claims = RobotClaims();
  claims.pod = NameAndUid{"web", "pod-uid"};
  const std::string token = Issue(claims);
  ASSERT_TRUE(Check(token).has_value());
  ASSERT_TRUE(Check(token).has_value());
  // A new version of the pod (same uid) is checked again, and passes.
  fake_.Put("/api/v1/namespaces/team/pods/web",
            R"({"metadata":{"name":"web","uid":"pod-uid","labels":{"a":"b"}},"spec":{}})");
  EXPECT_TRUE(Check(token).has_value());
  // The pod replaced, then gone: refused at once.
  fake_.Put("/api/v1/namespaces/team/pods/web", R"({"metadata":{"name":"web","uid":"other"}})");
  EXPECT_EQ(ErrorOf(token),
            "pod UID (other) does not match service account pod ref claim (pod-uid)");
  fake_.Put("/api/v1/namespaces/team/pods/web", R"({"metadata":{"name":"web","uid":"pod-uid"}})");
  EXPECT_TRUE(Check(token).has_value());
  fake_.Remove("/api/v1/namespaces/team/serviceaccounts/robot");
  EXPECT_EQ(ErrorOf(token), "service account token has been invalidated");
  fake_.Put("/api/v1/namespaces/team/serviceaccounts/robot",
            R"({"metadata":{"name":"robot","namespace":"team","uid":"sa-uid"}})");
  EXPECT_TRUE(Check(token).has_value());
  // Expiry still counts for a remembered answer.
  clock_.Advance(std::chrono::seconds(3600 + 60));
  EXPECT_TRUE(Check(token).has_value());
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(ErrorOf(token), "service account token has expired");
  EXPECT_GT(fake_.cached_reads, 0);
}

TEST_F(ServiceAccountTokenTest, PodBoundTokenCarriesPodAndNodeAndDiesWithThePod) {
  BoundTokenClaims claims = RobotClaims();
  claims.pod = NameAndUid{"web", "pod-uid"};
  claims.node = NameAndUid{"n1", "node-uid"};
  const std::string token = Issue(claims);
  EXPECT_EQ(
      boost::json::serialize(jwt::Parse(token)->claims.at("kubernetes.io")),
      R"({"namespace":"team","node":{"name":"n1","uid":"node-uid"},)"
      R"("pod":{"name":"web","uid":"pod-uid"},"serviceaccount":{"name":"robot","uid":"sa-uid"}})");
  auto user = Check(token);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->user.extra.at("authentication.kubernetes.io/pod-name"), Strings{"web"});
  EXPECT_EQ(user->user.extra.at("authentication.kubernetes.io/pod-uid"), Strings{"pod-uid"});
  EXPECT_EQ(user->user.extra.at("authentication.kubernetes.io/node-name"), Strings{"n1"});
  EXPECT_EQ(user->user.extra.at("authentication.kubernetes.io/node-uid"), Strings{"node-uid"});

  // The node going does not matter for a pod-bound token; the pod being replaced does.
  fake_.Remove("/api/v1/nodes/n1");
  EXPECT_TRUE(Check(token).has_value());
  fake_.Put("/api/v1/namespaces/team/pods/web", R"({"metadata":{"name":"web","uid":"other"}})");
  EXPECT_EQ(ErrorOf(token),
            "pod UID (other) does not match service account pod ref claim (pod-uid)");
  fake_.Remove("/api/v1/namespaces/team/pods/web");
  EXPECT_EQ(ErrorOf(token), "service account token has been invalidated");
}

TEST_F(ServiceAccountTokenTest, SecretBoundTokenDiesWithTheSecret) {
  BoundTokenClaims claims = RobotClaims();
  claims.secret = NameAndUid{"keep", "secret-uid"};
  const std::string token = Issue(claims);
  EXPECT_TRUE(Check(token).has_value());
  fake_.Put(
      "/api/v1/namespaces/team/secrets/keep",
      R"({"metadata":{"name":"keep","uid":"secret-uid","deletionTimestamp":"2023-01-01T00:00:00Z"}})");
  EXPECT_EQ(ErrorOf(token), "service account token has been invalidated");
}

TEST_F(ServiceAccountTokenTest, LegacyTokenLivesWhileItsSecretHoldsIt) {
  auto token = tokens_.IssueLegacy("team", {"robot", "sa-uid"}, "robot-token");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(boost::json::serialize(jwt::Parse(*token)->claims),
            R"({"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"team",)"
            R"("kubernetes.io/serviceaccount/secret.name":"robot-token",)"
            R"("kubernetes.io/serviceaccount/service-account.name":"robot",)"
            R"("kubernetes.io/serviceaccount/service-account.uid":"sa-uid",)"
            R"("sub":"system:serviceaccount:team:robot"})");
  EXPECT_EQ(ErrorOf(*token), "Token has been invalidated");
  const std::string path = "/api/v1/namespaces/team/secrets/robot-token";
  fake_.Put(path, R"({"metadata":{"name":"robot-token"},"data":{"token":")" + Base64Encode(*token) +
                      R"("}})");
  clock_.Advance(std::chrono::hours(24 * 3650));  // no expiry
  auto user = Check(*token);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->user.name, "system:serviceaccount:team:robot");
  EXPECT_EQ(user->user.uid, "sa-uid");
  EXPECT_TRUE(user->user.extra.empty());
  EXPECT_FALSE(Check(*token, {"vault"}).has_value());
  fake_.Put(path, R"({"metadata":{"name":"robot-token"},"data":{"token":"b3RoZXI="}})");
  EXPECT_EQ(ErrorOf(*token), "Token does not match server's copy");
}

TEST(BootstrapTokenTest, AuthenticatesFromItsSecret) {
  FakeClock clock;  // 2023-11-14
  FakeObjects fake;
  auto secret = [&](std::string extra_data) {
    fake.Put(
        "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef",
        R"({"metadata":{"name":"bootstrap-token-abcdef"},"type":"bootstrap.kubernetes.io/token",)"
        R"("data":{"token-id":")" +
            Base64Encode("abcdef") + R"(","token-secret":")" + Base64Encode("0123456789abcdef") +
            "\"" + extra_data + "}}");
  };
  auto data = [](std::string key, std::string value) {
    return ",\"" + key + "\":\"" + Base64Encode(value) + "\"";
  };
  const std::string usage = data("usage-bootstrap-authentication", "true");
  secret(usage + data("auth-extra-groups", "system:bootstrappers:kubeadm:default-node-token"));
  auto user = AuthenticateBootstrapToken("abcdef.0123456789abcdef", fake.reader, clock, nullptr);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, "system:bootstrap:abcdef");
  EXPECT_EQ(user->groups,
            (Strings{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token"}));
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef.0123456789abcdeX", fake.reader, clock, nullptr));
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef.0123456789abcdee", fake.reader, clock, nullptr));
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef0123456789abcdef", fake.reader, clock, nullptr));

  secret("");  // not for authentication
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef.0123456789abcdef", fake.reader, clock, nullptr));
  secret(usage + data("auth-extra-groups", "system:masters"));
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef.0123456789abcdef", fake.reader, clock, nullptr));
  secret(usage + data("expiration", "2023-11-14T22:13:21Z"));
  EXPECT_TRUE(AuthenticateBootstrapToken("abcdef.0123456789abcdef", fake.reader, clock, nullptr));
  clock.Advance(std::chrono::seconds(2));
  EXPECT_FALSE(AuthenticateBootstrapToken("abcdef.0123456789abcdef", fake.reader, clock, nullptr));
}

class TokenEndpointsTest : public ServiceAccountTokenTest {
 protected:
  http::Response Request(const std::string& path, const std::string& body) {
    TokenRequestOptions options;
    options.api_audiences = {std::string(kIssuer)};
    auto response = ServeTokenRequest(http::Request::LocalJson("POST", path, body), tokens_,
                                      fake_.reader, options, clock_);
    EXPECT_TRUE(response.has_value());
    return response ? *response : http::Response{};
  }
  static std::string Message(const http::Response& response) {
    return std::string(boost::json::parse(response.body).at("message").as_string());
  }
  const std::string robot_ = "/api/v1/namespaces/team/serviceaccounts/robot/token";
};

TEST_F(TokenEndpointsTest, TokenRequestDefaultsAndIssues) {
  auto response =
      Request(robot_, R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest"})");
  ASSERT_EQ(response.status, 201) << response.body;
  auto body = boost::json::parse(response.body);
  EXPECT_EQ(boost::json::serialize(body.at("spec")),
            R"({"audiences":["https://kubernetes.default.svc.cluster.local"],)"
            R"("expirationSeconds":3600,"boundObjectRef":null})");
  EXPECT_EQ(body.at("status").at("expirationTimestamp"), "2023-11-14T23:13:20Z");
  EXPECT_TRUE(Check(body.at("status").at("token").as_string()).has_value());
  EXPECT_EQ(body.at("metadata").at("name"), "robot");
  EXPECT_EQ(body.at("metadata").at("namespace"), "team");
}

TEST_F(TokenEndpointsTest, TokenRequestRefusalsSayWhatUpstreamSays) {
  auto short_lived = Request(robot_, R"({"spec":{"expirationSeconds":599}})");
  EXPECT_EQ(short_lived.status, 422);
  EXPECT_EQ(Message(short_lived),
            "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
            "value: 599: may not specify a duration less than 10 minutes");
  auto missing = Request("/api/v1/namespaces/team/serviceaccounts/ghost/token", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Message(missing), "serviceaccounts \"ghost\" not found");
  auto no_pod = Request(
      robot_, R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"gone"}}})");
  EXPECT_EQ(no_pod.status, 404);
  EXPECT_EQ(Message(no_pod), "pods \"gone\" not found");
  auto wrong_uid = Request(
      robot_,
      R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web","uid":"x"}}})");
  EXPECT_EQ(wrong_uid.status, 409);
  EXPECT_EQ(Message(wrong_uid),
            "Operation cannot be fulfilled on Pod \"web\": the UID in the bound object reference "
            "(x) does not match the UID in record. The object might have been deleted and then "
            "recreated");
  auto deployment = Request(
      robot_,
      R"({"spec":{"boundObjectRef":{"kind":"Deployment","apiVersion":"apps/v1","name":"d"}}})");
  EXPECT_EQ(deployment.status, 400);
  EXPECT_EQ(Message(deployment), "cannot bind token to object of type apps/v1, Kind=Deployment");
  fake_.Put("/api/v1/namespaces/team/serviceaccounts/other",
            R"({"metadata":{"name":"other","uid":"other-uid"}})");
  auto other_account =
      Request("/api/v1/namespaces/team/serviceaccounts/other/token",
              R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web"}}})");
  EXPECT_EQ(other_account.status, 400);
  EXPECT_EQ(Message(other_account),
            "cannot bind token for serviceaccount \"other\" to pod running with different "
            "serviceaccount name.");
  auto renamed = Request(robot_, R"({"metadata":{"name":"bob"}})");
  EXPECT_EQ(renamed.status, 422);
}

TEST_F(TokenEndpointsTest, KubeletsPodTokensLiveAYearAndWarnAfterTheirHour) {
  auto response =
      Request(robot_, R"({"spec":{"expirationSeconds":3607,)"
                      R"("boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web"}}})");
  ASSERT_EQ(response.status, 201) << response.body;
  auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("status").at("expirationTimestamp"), "2023-11-14T23:13:27Z");
  auto claims = jwt::Parse(body.at("status").at("token").as_string())->claims;
  EXPECT_EQ(claims.at("exp").as_int64(), 1'700'000'000 + 365 * 24 * 3600);
  EXPECT_EQ(claims.at("kubernetes.io").at("warnafter").as_int64(), 1'700'000'000 + 3607);
  EXPECT_EQ(claims.at("kubernetes.io").at("node").at("name"), "n1");
}

TEST_F(TokenEndpointsTest, TokenReviewAnswersForAnyToken) {
  BearerTokenAuthenticator chain({std::string(kIssuer)});
  struct Forward : TokenAuthenticator {
    const TokenAuthenticator& target;
    explicit Forward(const TokenAuthenticator& t) : target(t) {}
    std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                               std::span<const std::string> audiences,
                                               std::string* error) const override {
      return target.AuthenticateToken(token, audiences, error);
    }
  };
  chain.Add(std::make_unique<Forward>(tokens_));
  auto review = [&](const std::string& body) {
    auto response = ServeTokenReview(
        http::Request::LocalJson("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body),
        chain);
    EXPECT_TRUE(response.has_value());
    return response ? *response : http::Response{};
  };
  const std::string token = Issue(RobotClaims());
  auto good = review(R"({"spec":{"token":")" + token + R"("}})");
  ASSERT_EQ(good.status, 201) << good.body;
  auto status = boost::json::parse(good.body).at("status");
  EXPECT_EQ(status.at("authenticated"), true);
  EXPECT_EQ(status.at("user").at("username"), "system:serviceaccount:team:robot");
  EXPECT_EQ(boost::json::serialize(status.at("user").at("groups")),
            R"(["system:serviceaccounts","system:serviceaccounts:team","system:authenticated"])");
  EXPECT_EQ(boost::json::serialize(status.at("audiences")),
            R"(["https://kubernetes.default.svc.cluster.local"])");

  auto unknown = review(R"({"spec":{"token":"nonsense"}})");
  EXPECT_EQ(boost::json::parse(unknown.body).at("status").at("error"), "invalid bearer token");
  auto elsewhere = review(R"({"spec":{"token":")" + token + R"(","audiences":["vault"]}})");
  EXPECT_FALSE(
      boost::json::parse(elsewhere.body).at("status").as_object().contains("authenticated"));
  auto empty = review(R"({"spec":{}})");
  EXPECT_EQ(empty.status, 400);
}

}  // namespace
}  // namespace kpp::apiserver
