#include "apiserver/authn/legacy_token.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "apiserver/authn/jwt.h"

namespace kpp::apiserver {

Result<std::string> SignJwt(const ServiceAccountKey& key, const boost::json::object& claims) {
  boost::json::object header;
  header["alg"] = std::string(ServiceAccountKey::kAlgorithm);
  header["kid"] = key.key_id();
  std::string input = jwt::Base64UrlEncode(boost::json::serialize(header)) + "." +
                      jwt::Base64UrlEncode(boost::json::serialize(claims));
  KPP_ASSIGN_OR_RETURN(auto signature, key.Sign(input));
  return input + "." + jwt::Base64UrlEncode(signature);
}

Result<std::string> IssueLegacyToken(const ServiceAccountKey& key, std::string_view ns,
                                     std::string_view account_name, std::string_view account_uid,
                                     std::string_view secret_name) {
  boost::json::object claims;
  claims["iss"] = "kubernetes/serviceaccount";  // kLegacyServiceAccountIssuer
  claims[kLegacyNamespaceClaim] = ns;
  claims[kLegacySecretNameClaim] = secret_name;
  claims[kLegacyNameClaim] = account_name;
  claims[kLegacyUidClaim] = account_uid;
  claims["sub"] = fmt::format("system:serviceaccount:{}:{}", ns, account_name);
  return SignJwt(key, claims);
}

}  // namespace kpp::apiserver
