// The key pair service account tokens are signed with: RSA 2048 and RS256, as kubeadm's sa.key.
// Generated at the first start and kept (0600) under the data dir, so tokens survive restarts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace kpp::apiserver {

class ServiceAccountKey {
 public:
  // The key in the PEM file `path`; a new one written there (0600) when the file is missing.
  static Result<std::unique_ptr<ServiceAccountKey>> LoadOrCreate(const std::string& path);
  static Result<std::unique_ptr<ServiceAccountKey>> Generate();
  // A PEM private key (PKCS#8 or PKCS#1 RSA).
  static Result<std::unique_ptr<ServiceAccountKey>> FromPem(std::string_view private_key_pem);
  ~ServiceAccountKey();

  // "RS256": the JWS algorithm of the tokens.
  static constexpr std::string_view kAlgorithm = "RS256";
  // The "kid" header: base64url of the SHA-256 of the public key's DER (SubjectPublicKeyInfo),
  // as upstream derives it, so clients can match a token with the published key.
  const std::string& key_id() const { return key_id_; }
  std::string PrivateKeyPem() const;
  // The public key as a JSON Web Key (RFC 7517: kty, n, e, with use, kid and alg), as upstream
  // publishes it at /openid/v1/jwks.
  std::string PublicJwk() const;

  // The RS256 signature of `input`. Thread-safe.
  Result<std::string> Sign(std::string_view input) const;
  // Whether `signature` is this key's RS256 signature of `input`. Thread-safe.
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  explicit ServiceAccountKey(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string key_id_;
};

}  // namespace kpp::apiserver
