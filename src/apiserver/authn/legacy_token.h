// Signing service account JWTs with the service account key, apart from the API server's token
// authenticator: kube-controller-manager's tokens controller signs the secret-based (legacy)
// tokens it writes into `kubernetes.io/service-account-token` secrets with the same key
// (upstream's --service-account-private-key-file), and the API server signs bound tokens.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "apiserver/authn/service_account_key.h"
#include "base/result.h"

namespace kpp::apiserver {

// The claims of a secret-based token (besides iss and sub).
inline constexpr std::string_view kLegacyNamespaceClaim = "kubernetes.io/serviceaccount/namespace";
inline constexpr std::string_view kLegacySecretNameClaim =
    "kubernetes.io/serviceaccount/secret.name";
inline constexpr std::string_view kLegacyNameClaim =
    "kubernetes.io/serviceaccount/service-account.name";
inline constexpr std::string_view kLegacyUidClaim =
    "kubernetes.io/serviceaccount/service-account.uid";

// `claims` signed as a JWT (RS256, the key's kid in the header).
Result<std::string> SignJwt(const ServiceAccountKey& key, const boost::json::object& claims);

// A secret-based token of the account (iss "kubernetes/serviceaccount", no expiry).
Result<std::string> IssueLegacyToken(const ServiceAccountKey& key, std::string_view ns,
                                     std::string_view account_name, std::string_view account_uid,
                                     std::string_view secret_name);

}  // namespace kpp::apiserver
