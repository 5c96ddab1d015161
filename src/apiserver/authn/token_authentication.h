// Everything about bearer tokens in one place, for the API server to hold: the static token
// file, service account JWTs (bound and secret-based), bootstrap tokens; TokenRequest and
// TokenReview. (The controllers that fill and clean token secrets run in the controller
// manager: controllers/serviceaccount, controllers/bootstrap.)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/service_account_key.h"
#include "apiserver/authn/service_account_token.h"
#include "apiserver/authn/token_authenticator.h"
#include "apiserver/authn/token_endpoints.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver {

struct TokenAuthenticationOptions {
  // Upstream's --token-auth-file; empty: none.
  std::string token_auth_file;
  // Where the service account signing key lives (created at the first start); empty: a key made
  // for this process only (tests).
  std::string service_account_key_file;
  // Upstream's --service-account-issuer.
  std::string service_account_issuer = std::string(kDefaultServiceAccountIssuer);
  // Upstream's --api-audiences; empty: the issuer.
  std::vector<std::string> api_audiences;
  // The cluster CA, for ca.crt in token secrets.
  std::string ca_pem;
};

class TokenAuthentication {
 public:
  // `call` reaches the API server's loopback handler; it is used only after Create returns.
  static Result<std::unique_ptr<TokenAuthentication>> Create(
      const TokenAuthenticationOptions& options, ObjectReader::Call call, const Clock& clock);
  ~TokenAuthentication();

  // An authenticator for the request chain that asks this one; it must not outlive this.
  std::unique_ptr<Authenticator> RequestAuthenticator() const;
  // Whether the request carries a bearer token (one that failed, when the chain found no user).
  static bool HasBearerToken(const http::Request& request);
  // The answer to TokenRequest, TokenReview and issuer discovery requests; nullopt for others.
  std::optional<http::Response> Serve(const http::Request& request) const;
  // Objects tokens depend on are read from the watch cache through `cached` (before serving).
  void SetCachedGet(ObjectReader::CachedGet cached) { reader_.SetCachedGet(std::move(cached)); }

  const BearerTokenAuthenticator& bearer() const { return *bearer_; }
  const ServiceAccountTokens& service_account_tokens() const { return *service_account_tokens_; }

 private:
  TokenAuthentication(ObjectReader::Call call, const Clock& clock)
      : reader_(std::move(call)), clock_(clock) {}

  ObjectReader reader_;
  const Clock& clock_;
  std::shared_ptr<const ServiceAccountKey> key_;
  std::unique_ptr<ServiceAccountTokens> service_account_tokens_;
  std::unique_ptr<BearerTokenAuthenticator> bearer_;
  TokenRequestOptions token_request_options_;
};

}  // namespace kpp::apiserver
