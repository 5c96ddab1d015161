#include "apiserver/authn/token_authenticator.h"

#include <algorithm>

#include "apiserver/authn/jwt.h"
#include "base/log.h"

namespace kpp::apiserver {

std::vector<std::string> IntersectAudiences(std::span<const std::string> a,
                                            std::span<const std::string> b) {
  std::vector<std::string> both;
  for (const auto& audience : a) {
    if (std::find(b.begin(), b.end(), audience) != b.end() &&
        std::find(both.begin(), both.end(), audience) == both.end()) {
      both.push_back(audience);
    }
  }
  return both;
}

std::optional<TokenUser> AudienceAgnosticTokenAuthenticator::AuthenticateToken(
    std::string_view token, std::span<const std::string> audiences, std::string* error) const {
  auto accepted = IntersectAudiences(api_audiences_, audiences);
  if (accepted.empty()) return std::nullopt;
  auto user = check_(token, error);
  if (!user) return std::nullopt;
  return TokenUser{*std::move(user), std::move(accepted)};
}

std::optional<TokenUser> BearerTokenAuthenticator::AuthenticateToken(
    std::string_view token, std::span<const std::string> audiences, std::string* error) const {
  if (audiences.empty()) audiences = api_audiences_;
  std::vector<std::string> reasons;
  for (const auto& authenticator : authenticators_) {
    std::string reason;
    if (auto found = authenticator->AuthenticateToken(token, audiences, &reason)) {
      AddAuthenticatedGroup(found->user);
      return found;
    }
    if (!reason.empty()) reasons.push_back(std::move(reason));
  }
  if (error != nullptr) {
    // Upstream's error aggregate: one reason as it is, several in brackets.
    if (reasons.empty()) {
      *error = "invalid bearer token";
    } else if (reasons.size() == 1) {
      *error = reasons.front();
    } else {
      *error = "[";
      for (size_t i = 0; i < reasons.size(); ++i) {
        if (i > 0) *error += ", ";
        *error += reasons[i];
      }
      *error += "]";
    }
  }
  return std::nullopt;
}

std::optional<UserInfo> BearerTokenAuthenticator::Authenticate(const http::Request& request) const {
  const std::string* header = request.FindHeader("Authorization");
  if (header == nullptr) return std::nullopt;
  const auto token = jwt::BearerTokenOf(*header);
  if (!token) {
    KLOG_V(2, "Unable to authenticate the request: malformed Authorization header");
    return std::nullopt;
  }
  std::string error;
  auto found = AuthenticateToken(*token, {}, &error);
  if (!found) {
    KLOG_V(2, "Unable to authenticate the request: {}", error);
    return std::nullopt;
  }
  return std::move(found->user);
}

}  // namespace kpp::apiserver
