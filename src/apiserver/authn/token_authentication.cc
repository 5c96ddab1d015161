#include "apiserver/authn/token_authentication.h"

#include "apiserver/authn/bootstrap_token.h"
#include "apiserver/authn/issuer_discovery.h"
#include "apiserver/authn/jwt.h"
#include "apiserver/authn/token_file.h"

namespace kpp::apiserver {
namespace {

// Lets the server's authenticator chain hold an authenticator owned by TokenAuthentication.
class ForwardingAuthenticator : public Authenticator {
 public:
  explicit ForwardingAuthenticator(const Authenticator& target) : target_(target) {}
  std::optional<UserInfo> Authenticate(const http::Request& request) const override {
    return target_.Authenticate(request);
  }

 private:
  const Authenticator& target_;
};

// The service account tokens, owned elsewhere, as a link of the bearer chain.
class ForwardingTokenAuthenticator : public TokenAuthenticator {
 public:
  explicit ForwardingTokenAuthenticator(const TokenAuthenticator& target) : target_(target) {}
  std::optional<TokenUser> AuthenticateToken(std::string_view token,
                                             std::span<const std::string> audiences,
                                             std::string* error) const override {
    return target_.AuthenticateToken(token, audiences, error);
  }

 private:
  const TokenAuthenticator& target_;
};

}  // namespace

TokenAuthentication::~TokenAuthentication() = default;

Result<std::unique_ptr<TokenAuthentication>> TokenAuthentication::Create(
    const TokenAuthenticationOptions& options, ObjectReader::Call call, const Clock& clock) {
  std::unique_ptr<TokenAuthentication> self(new TokenAuthentication(std::move(call), clock));
  if (options.service_account_key_file.empty()) {
    // One key per process: making an RSA key takes a noticeable part of a second, and servers
    // without a data dir (tests) start often.
    static const auto shared_key = [] {
      auto key = ServiceAccountKey::Generate();
      return key.ok() ? std::shared_ptr<const ServiceAccountKey>(std::move(*key)) : nullptr;
    }();
    if (shared_key == nullptr) return Error(ErrorCode::kInternalError, "no service account key");
    self->key_ = shared_key;
  } else {
    KPP_ASSIGN_OR_RETURN(self->key_,
                         ServiceAccountKey::LoadOrCreate(options.service_account_key_file));
  }
  std::vector<std::string> api_audiences = options.api_audiences;
  if (api_audiences.empty()) api_audiences.push_back(options.service_account_issuer);
  self->token_request_options_.api_audiences = api_audiences;
  self->service_account_tokens_ = std::make_unique<ServiceAccountTokens>(
      *self->key_, options.service_account_issuer, api_audiences, self->reader_, clock);
  self->bearer_ = std::make_unique<BearerTokenAuthenticator>(api_audiences);
  if (!options.token_auth_file.empty()) {
    KPP_ASSIGN_OR_RETURN(std::shared_ptr<TokenFileAuthenticator> token_file,
                         TokenFileAuthenticator::Load(options.token_auth_file));
    self->bearer_->Add(std::make_unique<AudienceAgnosticTokenAuthenticator>(
        api_audiences, [token_file](std::string_view token, std::string*) {
          return token_file->AuthenticateToken(token);
        }));
  }
  self->bearer_->Add(
      std::make_unique<ForwardingTokenAuthenticator>(*self->service_account_tokens_));
  self->bearer_->Add(std::make_unique<AudienceAgnosticTokenAuthenticator>(
      api_audiences, [reader = &self->reader_, &clock](std::string_view token, std::string* error) {
        return AuthenticateBootstrapToken(token, *reader, clock, error);
      }));
  return self;
}

bool TokenAuthentication::HasBearerToken(const http::Request& request) {
  const std::string* header = request.FindHeader("Authorization");
  return header != nullptr && jwt::BearerTokenOf(*header).has_value();
}

std::unique_ptr<Authenticator> TokenAuthentication::RequestAuthenticator() const {
  return std::make_unique<ForwardingAuthenticator>(*bearer_);
}

std::optional<http::Response> TokenAuthentication::Serve(const http::Request& request) const {
  if (auto response = ServeTokenRequest(request, *service_account_tokens_, reader_,
                                        token_request_options_, clock_)) {
    return response;
  }
  if (auto response = ServeIssuerDiscovery(request, service_account_tokens_->issuer(), *key_)) {
    return response;
  }
  return ServeTokenReview(request, *bearer_);
}

}  // namespace kpp::apiserver
