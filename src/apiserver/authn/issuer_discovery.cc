#include "apiserver/authn/issuer_discovery.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/responses.h"

namespace kpp::apiserver {

std::optional<http::Response> ServeIssuerDiscovery(const http::Request& request,
                                                   const std::string& issuer,
                                                   const ServiceAccountKey& key) {
  const bool configuration = request.path == "/.well-known/openid-configuration";
  if (!configuration && request.path != "/openid/v1/jwks") return std::nullopt;
  if (!issuer.starts_with("https://")) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    return StatusResponse(Error(ErrorCode::kMethodNotAllowed,
                                "the server does not allow this method on the requested resource"));
  }
  http::Response response;
  if (configuration) {
    std::string base = issuer;
    while (base.ends_with('/'))
      base.pop_back();
    boost::json::object document;
    document["issuer"] = issuer;
    document["jwks_uri"] = base + "/openid/v1/jwks";
    document["response_types_supported"] = boost::json::array{"id_token"};
    document["subject_types_supported"] = boost::json::array{"public"};
    document["id_token_signing_alg_values_supported"] =
        boost::json::array{std::string(ServiceAccountKey::kAlgorithm)};
    response = JsonResponse(200, boost::json::serialize(document));
  } else {
    response =
        JsonResponse(200, R"({"keys":[)" + key.PublicJwk() + "]}", "application/jwk-set+json");
  }
  // Keys change rarely; upstream lets clients keep both documents for an hour.
  response.SetHeader("Cache-Control", "public, max-age=3600");
  return response;
}

}  // namespace kpp::apiserver
