// Bearer token authentication (upstream's authenticator.Token): each kind of token has an
// authenticator, the bearer authenticator asks them in turn for the token of an
// `Authorization: Bearer` header, and TokenReview asks the same chain.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authn/authenticator.h"
#include "apiserver/authn/user.h"

namespace kpp::apiserver {

struct TokenUser {
  UserInfo user;
  // The audiences the token was accepted for: those of the request it has.
  std::vector<std::string> audiences;
};

// The strings in both lists, in the order of `a`.
std::vector<std::string> IntersectAudiences(std::span<const std::string> a,
                                            std::span<const std::string> b);

class TokenAuthenticator {
 public:
  virtual ~TokenAuthenticator() = default;
  // The user `token` proves to be when presented for `audiences` (never empty: the API server's
  // own when the caller named none). nullopt when the token is not of this authenticator's kind,
  // or invalid; then `*error` (when given) may say why, for logs and TokenReview.
  virtual std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                                     std::span<const std::string> audiences,
                                                     std::string* error) const = 0;
};

// Tokens that are valid for any audience the API server has (the static token file, bootstrap
// tokens), as upstream's WrapAudienceAgnosticToken: accepted only when the wanted audiences
// include one of the API audiences.
class AudienceAgnosticTokenAuthenticator : public TokenAuthenticator {
 public:
  using Check = std::function<std::optional<UserInfo>(std::string_view token, std::string* error)>;
  AudienceAgnosticTokenAuthenticator(std::vector<std::string> api_audiences, Check check)
      : api_audiences_(std::move(api_audiences)), check_(std::move(check)) {}
  std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                             std::span<const std::string> audiences,
                                             std::string* error) const override;

 private:
  std::vector<std::string> api_audiences_;
  Check check_;
};

// Authenticates requests by their bearer token with the token authenticators, in order.
class BearerTokenAuthenticator : public Authenticator {
 public:
  explicit BearerTokenAuthenticator(std::vector<std::string> api_audiences)
      : api_audiences_(std::move(api_audiences)) {}
  void Add(std::unique_ptr<TokenAuthenticator> authenticator) {
    authenticators_.push_back(std::move(authenticator));
  }
  std::optional<UserInfo> Authenticate(const http::Request& request) const override;
  // The chain's answer for `token` wanted for `audiences` (empty: the API audiences), with
  // system:authenticated added. On failure `*error` says why: the authenticators' reasons, or
  // upstream's "invalid bearer token" when none had one.
  std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                             std::span<const std::string> audiences,
                                             std::string* error) const;
  const std::vector<std::string>& api_audiences() const { return api_audiences_; }

 private:
  std::vector<std::string> api_audiences_;
  std::vector<std::unique_ptr<TokenAuthenticator>> authenticators_;
};

}  // namespace kpp::apiserver
