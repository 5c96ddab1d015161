// Service account issuer discovery (OIDC): /.well-known/openid-configuration names the issuer
// and where its keys are, /openid/v1/jwks publishes the public key, so that others can verify
// service account tokens without asking the API server (TokenReview).
#pragma once

#include <optional>
#include <string>

#include "apiserver/authn/service_account_key.h"
#include "http/server.h"

namespace kpp::apiserver {

// The answer for the two discovery paths, or nullopt for other paths. Served only for an https
// issuer, as upstream; the key set's URL is the issuer's /openid/v1/jwks.
std::optional<http::Response> ServeIssuerDiscovery(const http::Request& request,
                                                   const std::string& issuer,
                                                   const ServiceAccountKey& key);

}  // namespace kpp::apiserver
