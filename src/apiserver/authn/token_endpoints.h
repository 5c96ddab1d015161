// The two token APIs that are answered, never stored: TokenRequest
// (POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token, `kubectl create token`) and
// TokenReview (POST /apis/authentication.k8s.io/v1/tokenreviews).
#pragma once

#include <optional>

#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/service_account_token.h"
#include "apiserver/authn/token_authenticator.h"
#include "base/clock.h"
#include "http/server.h"

namespace kpp::apiserver {

struct TokenRequestOptions {
  // Audiences of a token whose request names none.
  std::vector<std::string> api_audiences;
  // Upstream's --service-account-extend-token-expiration: pod-bound tokens asked for 3607
  // seconds (what kubelets ask) live a year, and warn after the 3607 seconds.
  bool extend_expiration = true;
  // Upstream's --service-account-max-token-expiration; 0: no limit.
  int64_t max_expiration_seconds = 0;
};

// The answer to a TokenRequest, or nullopt when `request` is not one.
std::optional<http::Response> ServeTokenRequest(const http::Request& request,
                                                const ServiceAccountTokens& tokens,
                                                const ObjectReader& reader,
                                                const TokenRequestOptions& options,
                                                const Clock& clock);

// The answer to a TokenReview, or nullopt when `request` is not one.
std::optional<http::Response> ServeTokenReview(const http::Request& request,
                                               const BearerTokenAuthenticator& authenticator);

}  // namespace kpp::apiserver
