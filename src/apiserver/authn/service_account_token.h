// Service account tokens: JWTs signed with the service account key, issued by TokenRequest
// (bound: audiences, expiry, optionally a pod, secret or node) and by the token controller for
// legacy `kubernetes.io/service-account-token` secrets, and the authenticator that accepts them
// while what they name still exists.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/service_account_key.h"
#include "apiserver/authn/token_authenticator.h"
#include "base/clock.h"
#include "base/result.h"

namespace kpp::apiserver {

inline constexpr std::string_view kDefaultServiceAccountIssuer =
    "https://kubernetes.default.svc.cluster.local";
// The "iss" of secret-based tokens.
inline constexpr std::string_view kLegacyServiceAccountIssuer = "kubernetes/serviceaccount";
// Upstream's leeway for exp, nbf and iat.
inline constexpr int64_t kTokenLeewaySeconds = 60;

// `system:serviceaccount:<namespace>:<name>`.
std::string ServiceAccountUserName(std::string_view ns, std::string_view name);

struct NameAndUid {
  std::string name;
  std::string uid;
};

// The claims of a bound token, before signing.
struct BoundTokenClaims {
  std::string ns;
  NameAndUid service_account;
  std::optional<NameAndUid> pod;
  std::optional<NameAndUid> secret;
  std::optional<NameAndUid> node;
  std::vector<std::string> audiences;
  int64_t expiration_seconds = 3600;
  // When set, kubernetes.io.warnafter: the time after which use is reported, for tokens whose
  // expiry was extended.
  std::optional<int64_t> warn_after_seconds;
};

class ServiceAccountTokens : public TokenAuthenticator {
 public:
  // `issuer`: the "iss" of the bound tokens issued and accepted; `api_audiences`: the audiences
  // of tokens that name none (legacy ones). `key`, `reader` and `clock` must outlive this.
  ServiceAccountTokens(const ServiceAccountKey& key, std::string issuer,
                       std::vector<std::string> api_audiences, const ObjectReader& reader,
                       const Clock& clock)
      : key_(key),
        issuer_(std::move(issuer)),
        api_audiences_(std::move(api_audiences)),
        reader_(reader),
        clock_(clock) {}

  // A signed token with iat and nbf now, exp `expiration_seconds` later and a fresh jti.
  Result<std::string> Issue(const BoundTokenClaims& claims) const;
  // A signed secret-based token (no expiry), as the token controller puts in a secret.
  Result<std::string> IssueLegacy(std::string_view ns, const NameAndUid& service_account,
                                  std::string_view secret_name) const;

  std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                             std::span<const std::string> audiences,
                                             std::string* error) const override;
  const std::string& issuer() const { return issuer_; }

 private:
  Result<std::string> Sign(const boost::json::object& claims) const;
  std::optional<TokenUser> AuthenticateBound(const boost::json::object& claims,
                                             std::span<const std::string> audiences,
                                             std::string* error) const;
  std::optional<TokenUser> AuthenticateLegacy(std::string_view token,
                                              const boost::json::object& claims,
                                              std::span<const std::string> audiences,
                                              std::string* error) const;

  // The claims of a token whose signature checked out: nullptr when it is not one.
  std::shared_ptr<const boost::json::object> VerifiedClaims(std::string_view token,
                                                            std::string* error) const;

  const ServiceAccountKey& key_;
  std::string issuer_;
  std::vector<std::string> api_audiences_;
  const ObjectReader& reader_;
  const Clock& clock_;
  // Tokens whose signature was verified, with their claims: a signature check (RSA) and the
  // parse are done once per token, not per request. Time, audiences and the objects a token
  // names are checked on every use. Emptied when it reaches kMaxVerifiedTokens.
  static constexpr size_t kMaxVerifiedTokens = 4096;
  // Looked up by the request's token as it is (no copy); hashed by its last bytes, part of the
  // signature, which tell tokens apart as well as the whole ~1 KB would.
  struct TokenHash {
    using is_transparent = void;
    size_t operator()(std::string_view token) const {
      constexpr size_t kHashed = 32;
      return std::hash<std::string_view>{}(
          token.size() > kHashed ? token.substr(token.size() - kHashed) : token);
    }
  };
  template <typename Value>
  using TokenMap = std::unordered_map<std::string, Value, TokenHash, std::equal_to<>>;
  mutable std::shared_mutex verified_mutex_;
  mutable TokenMap<std::shared_ptr<const boost::json::object>> verified_;

  // Bound tokens that authenticated, by token (for the audiences asked then): their answer is
  // given again for the same audiences while
  // the time is within the token's and every object it names (service account, secret, pod,
  // node) is the very version it was checked against (the watch cache's object, compared by
  // identity), so a deleted or replaced object is seen at once, as without this.
  struct Dependency {
    std::string plural, ns, name;
    std::shared_ptr<const std::string> version;
  };
  struct Authenticated {
    std::vector<std::string> audiences;  // asked for
    TokenUser result;
    int64_t valid_from = 0, valid_until = 0;  // Unix seconds
    std::vector<Dependency> dependencies;
  };
  std::optional<std::vector<Dependency>> DependenciesOf(const boost::json::object& claims) const;
  mutable std::shared_mutex authenticated_mutex_;
  mutable TokenMap<Authenticated> authenticated_;
};

}  // namespace kpp::apiserver
