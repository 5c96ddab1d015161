// The Authorization header and JWT parsers, and the service account token authenticator behind
// them: any header value must be refused or read without crashing; base64url must be canonical
// (what decodes re-encodes to the same text); a token must never authenticate unless our key
// signed it; and a token we sign from the input's claims must authenticate exactly when its
// claims are well-formed.
#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/authn/jwt.h"
#include "apiserver/authn/service_account_token.h"
#include "check.h"

using kpp::fuzz::Check;
namespace authn = kpp::apiserver;
namespace jwt = kpp::apiserver::jwt;

namespace {

constexpr std::string_view kIssuer = "https://kubernetes.default.svc.cluster.local";

// Every object a token can name exists, with the uid "uid".
const authn::ObjectReader& Reader() {
  static const authn::ObjectReader reader([](const kpp::http::Request&) {
    return kpp::http::Response{200, {}, R"({"metadata":{"uid":"uid"},"data":{}})"};
  });
  return reader;
}

const authn::ServiceAccountKey& Key() {
  static const auto key = [] {
    auto generated = authn::ServiceAccountKey::Generate();
    Check(generated.ok(), "no key");
    return std::move(*generated);
  }();
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static kpp::FakeClock clock;
  static const authn::ServiceAccountTokens tokens(Key(), std::string(kIssuer),
                                                  {std::string(kIssuer)}, Reader(), clock);
  static const std::vector<std::string> audiences = {std::string(kIssuer)};

  if (auto decoded = jwt::Base64UrlDecode(input)) {
    Check(jwt::Base64UrlEncode(*decoded) == input, "base64url decoding is not canonical", input);
  }

  const auto token = jwt::BearerTokenOf(input);
  if (token) {
    Check(!token->empty() && token->find(' ') == std::string_view::npos,
          "a bearer token is empty or has a space", input);
    Check(input.find(*token) != std::string_view::npos, "the token is not from the header", input);
  }
  const std::string_view candidate = token ? *token : input;
  if (auto parsed = jwt::Parse(candidate); parsed.ok()) {
    (void)jwt::NumericClaim(parsed->claims, "exp");
    (void)jwt::AudienceClaim(parsed->claims);
  }
  (void)jwt::HasIssuer(candidate, kIssuer);
  std::string error;
  // Nothing the input makes is signed by our key (finding a signature would be a forgery).
  Check(!tokens.AuthenticateToken(candidate, audiences, &error).has_value(),
        "an unsigned token authenticated", input);

  // The input as the claims of a token we sign (when they name our issuer: signing is slow):
  // checking them must not crash, and what passes is a service account.
  const std::string header = jwt::Base64UrlEncode(R"({"alg":"RS256"})");
  const std::string signing_input = header + "." + jwt::Base64UrlEncode(input);
  if (!jwt::HasIssuer(signing_input + ".", kIssuer)) return 0;
  auto signature = Key().Sign(signing_input);
  Check(signature.ok(), "signing failed");
  const std::string signed_token = signing_input + "." + jwt::Base64UrlEncode(*signature);
  if (auto user = tokens.AuthenticateToken(signed_token, audiences, &error)) {
    Check(user->user.name.starts_with("system:serviceaccount:"), "odd user name", input);
  }
  return 0;
}
