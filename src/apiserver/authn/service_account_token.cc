#include "apiserver/authn/service_account_token.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <limits>

#include "apiserver/authn/jwt.h"
#include "apiserver/authn/legacy_token.h"
#include "base/encoding.h"
#include "base/go_quote.h"
#include "base/log.h"
#include "base/random.h"

namespace kpp::apiserver {
namespace {

constexpr std::string_view kPodNameExtra = "authentication.kubernetes.io/pod-name";
constexpr std::string_view kPodUidExtra = "authentication.kubernetes.io/pod-uid";
constexpr std::string_view kNodeNameExtra = "authentication.kubernetes.io/node-name";
constexpr std::string_view kNodeUidExtra = "authentication.kubernetes.io/node-uid";
constexpr std::string_view kCredentialIdExtra = "authentication.kubernetes.io/credential-id";

int64_t UnixSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
}

boost::json::object RefJson(const NameAndUid& ref) {
  boost::json::object object;
  object["name"] = ref.name;
  object["uid"] = ref.uid;
  return object;
}

// A {name, uid} claim; nullopt when absent, an empty name when malformed.
std::optional<NameAndUid> RefClaim(const boost::json::object& kubernetes, std::string_view key) {
  const auto* value = kubernetes.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) return NameAndUid{};
  return NameAndUid{StringAt(value->as_object(), {"name"}), StringAt(value->as_object(), {"uid"})};
}

bool IsDeleted(const boost::json::object& object) {
  const auto* metadata = object.if_contains("metadata");
  return metadata != nullptr && metadata->is_object() &&
         metadata->as_object().contains("deletionTimestamp");
}

UserInfo ServiceAccountUser(std::string_view ns, std::string_view name, std::string uid) {
  UserInfo user;
  user.name = ServiceAccountUserName(ns, name);
  user.uid = std::move(uid);
  user.groups = {"system:serviceaccounts", fmt::format("system:serviceaccounts:{}", ns)};
  return user;
}

// A list of strings as Go's %q prints it: ["a" "b"].
std::string GoQuotedList(std::span<const std::string> items) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ' ';
    text += GoQuote(items[i]);
  }
  return text + "]";
}

void SetError(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
}

}  // namespace

std::string ServiceAccountUserName(std::string_view ns, std::string_view name) {
  return fmt::format("system:serviceaccount:{}:{}", ns, name);
}

Result<std::string> ServiceAccountTokens::Sign(const boost::json::object& claims) const {
  return SignJwt(key_, claims);
}

Result<std::string> ServiceAccountTokens::Issue(const BoundTokenClaims& request) const {
  const int64_t now = UnixSeconds(clock_);
  // Keys in sorted order, as upstream's tokens have them.
  boost::json::object claims;
  boost::json::array audiences;
  for (const auto& audience : request.audiences)
    audiences.emplace_back(audience);
  claims["aud"] = std::move(audiences);
  claims["exp"] = now + request.expiration_seconds;
  claims["iat"] = now;
  claims["iss"] = issuer_;
  claims["jti"] = NewUuid();
  boost::json::object kubernetes;
  kubernetes["namespace"] = request.ns;
  if (request.node) kubernetes["node"] = RefJson(*request.node);
  if (request.pod) {
    kubernetes["pod"] = RefJson(*request.pod);
  } else if (request.secret) {
    kubernetes["secret"] = RefJson(*request.secret);
  }
  kubernetes["serviceaccount"] = RefJson(request.service_account);
  if (request.warn_after_seconds) kubernetes["warnafter"] = now + *request.warn_after_seconds;
  claims["kubernetes.io"] = std::move(kubernetes);
  claims["nbf"] = now;
  claims["sub"] = ServiceAccountUserName(request.ns, request.service_account.name);
  return Sign(claims);
}

Result<std::string> ServiceAccountTokens::IssueLegacy(std::string_view ns,
                                                      const NameAndUid& service_account,
                                                      std::string_view secret_name) const {
  return IssueLegacyToken(key_, ns, service_account.name, service_account.uid, secret_name);
}

std::optional<TokenUser> ServiceAccountTokens::AuthenticateToken(
    std::string_view token, std::span<const std::string> audiences, std::string* error) const {
  const int64_t now = UnixSeconds(clock_);
  {
    std::shared_lock lock(authenticated_mutex_);
    if (const auto found = authenticated_.find(token); found != authenticated_.end()) {
      const Authenticated& known = found->second;
      const bool current =
          now >= known.valid_from && now <= known.valid_until &&
          std::equal(known.audiences.begin(), known.audiences.end(), audiences.begin(),
                     audiences.end()) &&
          std::all_of(known.dependencies.begin(), known.dependencies.end(), [&](const auto& d) {
            return reader_.CachedVersion(d.plural, d.ns, d.name) == d.version;
          });
      if (current) return known.result;
    }
  }
  // A token verified before is ours and its claims are known: no decoding again.
  std::shared_ptr<const boost::json::object> claims;
  {
    std::shared_lock lock(verified_mutex_);
    if (const auto found = verified_.find(token); found != verified_.end()) {
      claims = found->second;
    }
  }
  if (claims == nullptr) {
    // Tokens of other issuers are not ours to judge (nor to report on).
    if (!jwt::HasIssuer(token, kLegacyServiceAccountIssuer) && !jwt::HasIssuer(token, issuer_)) {
      return std::nullopt;
    }
    claims = VerifiedClaims(token, error);
    if (claims == nullptr) return std::nullopt;
  }
  if (StringAt(*claims, {"iss"}) == kLegacyServiceAccountIssuer) {
    return AuthenticateLegacy(token, *claims, audiences, error);
  }
  // The versions before the checks: if an object changes meanwhile, the entry never matches.
  auto dependencies = DependenciesOf(*claims);
  auto result = AuthenticateBound(*claims, audiences, error);
  if (result && dependencies) {
    Authenticated known{{audiences.begin(), audiences.end()},
                        *result,
                        std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::max(),
                        std::move(*dependencies)};
    for (const char* name : {"nbf", "iat"}) {
      if (const auto at = jwt::NumericClaim(*claims, name)) {
        known.valid_from = std::max(known.valid_from, *at - kTokenLeewaySeconds);
      }
    }
    if (const auto expires = jwt::NumericClaim(*claims, "exp")) {
      known.valid_until = *expires + kTokenLeewaySeconds;
    }
    std::unique_lock lock(authenticated_mutex_);
    if (authenticated_.size() >= kMaxVerifiedTokens) authenticated_.clear();
    authenticated_.insert_or_assign(std::string(token), std::move(known));
  }
  return result;
}

std::optional<std::vector<ServiceAccountTokens::Dependency>> ServiceAccountTokens::DependenciesOf(
    const boost::json::object& claims) const {
  const auto* private_claims = claims.if_contains("kubernetes.io");
  if (private_claims == nullptr || !private_claims->is_object()) return std::nullopt;
  const auto& kubernetes = private_claims->as_object();
  const std::string ns = StringAt(kubernetes, {"namespace"});
  std::vector<Dependency> dependencies;
  const auto add = [&](const char* claim, const char* plural, std::string_view in) {
    const auto ref = RefClaim(kubernetes, claim);
    if (!ref) return true;
    auto version = reader_.CachedVersion(plural, in, ref->name);
    if (version == nullptr) return false;
    dependencies.push_back({plural, std::string(in), ref->name, std::move(version)});
    return true;
  };
  if (!add("serviceaccount", "serviceaccounts", ns) || !add("secret", "secrets", ns) ||
      !add("pod", "pods", ns)) {
    return std::nullopt;
  }
  // A node only named next to a pod is not checked (see AuthenticateBound).
  if (!kubernetes.contains("pod") && !add("node", "nodes", "")) return std::nullopt;
  return dependencies;
}

std::shared_ptr<const boost::json::object> ServiceAccountTokens::VerifiedClaims(
    std::string_view token, std::string* error) const {
  {
    std::shared_lock lock(verified_mutex_);
    if (const auto found = verified_.find(token); found != verified_.end()) {
      return found->second;
    }
  }
  auto parsed = jwt::Parse(token);
  if (!parsed.ok()) {
    SetError(error, parsed.error().message());
    return nullptr;
  }
  const auto* algorithm = parsed->header.if_contains("alg");
  if (algorithm == nullptr || !algorithm->is_string() ||
      algorithm->as_string() != ServiceAccountKey::kAlgorithm) {
    SetError(error, "unexpected signature algorithm");
    return nullptr;
  }
  if (!key_.Verify(parsed->signing_input, parsed->signature)) {
    SetError(error, "error in cryptographic primitive");
    return nullptr;
  }
  auto claims = std::make_shared<const boost::json::object>(std::move(parsed->claims));
  std::unique_lock lock(verified_mutex_);
  if (verified_.size() >= kMaxVerifiedTokens) verified_.clear();
  verified_.emplace(std::string(token), claims);
  return claims;
}

std::optional<TokenUser> ServiceAccountTokens::AuthenticateBound(
    const boost::json::object& claims, std::span<const std::string> audiences,
    std::string* error) const {
  const int64_t now = UnixSeconds(clock_);
  const auto* expiry = claims.if_contains("exp");
  const auto not_before = jwt::NumericClaim(claims, "nbf");
  const auto issued_at = jwt::NumericClaim(claims, "iat");
  const auto expires = jwt::NumericClaim(claims, "exp");
  if ((expiry != nullptr && !expires) || (claims.contains("nbf") && !not_before) ||
      (claims.contains("iat") && !issued_at)) {
    SetError(error, "service account token has malformed time claims");
    return std::nullopt;
  }
  if (not_before && now + kTokenLeewaySeconds < *not_before) {
    SetError(error, "service account token is not valid yet");
    return std::nullopt;
  }
  if (expires && now - kTokenLeewaySeconds > *expires) {
    SetError(error, "service account token has expired");
    return std::nullopt;
  }
  if (issued_at && now + kTokenLeewaySeconds < *issued_at) {
    SetError(error, "service account token is issued in the future");
    return std::nullopt;
  }
  auto token_audiences = jwt::AudienceClaim(claims);
  if (!token_audiences) {
    SetError(error, "service account token has a malformed audience");
    return std::nullopt;
  }
  if (token_audiences->empty()) *token_audiences = api_audiences_;
  auto accepted = IntersectAudiences(*token_audiences, audiences);
  if (accepted.empty()) {
    SetError(error, fmt::format("token audiences {} is invalid for the target audiences {}",
                                GoQuotedList(*token_audiences), GoQuotedList(audiences)));
    return std::nullopt;
  }
  const auto* private_claims = claims.if_contains("kubernetes.io");
  if (private_claims == nullptr || !private_claims->is_object()) {
    SetError(error, "service account token claims missing kubernetes.io");
    return std::nullopt;
  }
  const auto& kubernetes = private_claims->as_object();
  const std::string ns = StringAt(kubernetes, {"namespace"});
  const auto service_account = RefClaim(kubernetes, "serviceaccount");
  if (ns.empty()) {
    SetError(error, "service account token claims missing namespace");
    return std::nullopt;
  }
  if (!service_account || service_account->name.empty()) {
    SetError(error, "service account token claims missing serviceaccount name");
    return std::nullopt;
  }
  if (StringAt(claims, {"sub"}) != ServiceAccountUserName(ns, service_account->name)) {
    SetError(error, "service account token subject does not match its claims");
    return std::nullopt;
  }
  const std::string invalidated = "service account token has been invalidated";
  const auto account = reader_.ServiceAccount(ns, service_account->name);
  if (!account || IsDeleted(*account)) {
    KLOG_V(4, "service account {}/{} of a token is gone", ns, service_account->name);
    SetError(error, invalidated);
    return std::nullopt;
  }
  const std::string account_uid = StringAt(*account, {"metadata", "uid"});
  if (!service_account->uid.empty() && service_account->uid != account_uid) {
    SetError(error, fmt::format("service account UID ({}) does not match claim ({})", account_uid,
                                service_account->uid));
    return std::nullopt;
  }
  TokenUser result{ServiceAccountUser(ns, service_account->name, account_uid), std::move(accepted)};
  if (const auto secret = RefClaim(kubernetes, "secret")) {
    const auto stored = secret->name.empty() ? std::nullopt : reader_.Secret(ns, secret->name);
    if (!stored || IsDeleted(*stored)) {
      SetError(error, invalidated);
      return std::nullopt;
    }
    const std::string uid = StringAt(*stored, {"metadata", "uid"});
    if (secret->uid != uid) {
      SetError(error, fmt::format("secret UID ({}) does not match service account secret ref "
                                  "claim ({})",
                                  uid, secret->uid));
      return std::nullopt;
    }
  }
  if (const auto pod = RefClaim(kubernetes, "pod")) {
    const auto stored = pod->name.empty() ? std::nullopt : reader_.Pod(ns, pod->name);
    if (!stored || IsDeleted(*stored)) {
      SetError(error, invalidated);
      return std::nullopt;
    }
    const std::string uid = StringAt(*stored, {"metadata", "uid"});
    if (pod->uid != uid) {
      SetError(error, fmt::format("pod UID ({}) does not match service account pod ref claim ({})",
                                  uid, pod->uid));
      return std::nullopt;
    }
    result.user.extra[std::string(kPodNameExtra)] = {pod->name};
    result.user.extra[std::string(kPodUidExtra)] = {pod->uid};
  }
  if (const auto node = RefClaim(kubernetes, "node")) {
    // A node only named next to a pod says where the pod ran; only a token bound to the node
    // itself dies with it.
    if (!kubernetes.contains("pod")) {
      const auto stored = node->name.empty() ? std::nullopt : reader_.Node(node->name);
      if (!stored || IsDeleted(*stored) || StringAt(*stored, {"metadata", "uid"}) != node->uid) {
        SetError(error, invalidated);
        return std::nullopt;
      }
    }
    result.user.extra[std::string(kNodeNameExtra)] = {node->name};
    if (!node->uid.empty()) result.user.extra[std::string(kNodeUidExtra)] = {node->uid};
  }
  if (const std::string jti = StringAt(claims, {"jti"}); !jti.empty()) {
    result.user.extra[std::string(kCredentialIdExtra)] = {"JTI=" + jti};
  }
  return result;
}

std::optional<TokenUser> ServiceAccountTokens::AuthenticateLegacy(
    std::string_view token, const boost::json::object& claims,
    std::span<const std::string> audiences, std::string* error) const {
  // Secret-based tokens name no audience: they are for the API server only.
  auto accepted = IntersectAudiences(api_audiences_, audiences);
  if (accepted.empty()) {
    SetError(error, fmt::format("token audiences {} is invalid for the target audiences {}",
                                GoQuotedList(api_audiences_), GoQuotedList(audiences)));
    return std::nullopt;
  }
  const std::string ns = StringAt(claims, {kLegacyNamespaceClaim});
  const std::string secret_name = StringAt(claims, {kLegacySecretNameClaim});
  const std::string name = StringAt(claims, {kLegacyNameClaim});
  const std::string uid = StringAt(claims, {kLegacyUidClaim});
  if (ns.empty() || secret_name.empty() || name.empty() || uid.empty() ||
      StringAt(claims, {"sub"}) != ServiceAccountUserName(ns, name)) {
    SetError(error, "service account token claims are incomplete");
    return std::nullopt;
  }
  const auto secret = reader_.Secret(ns, secret_name);
  if (!secret || IsDeleted(*secret)) {
    SetError(error, "Token has been invalidated");
    return std::nullopt;
  }
  auto stored_token = Base64Decode(StringAt(*secret, {"data", "token"}));
  if (!stored_token.ok() || *stored_token != token) {
    SetError(error, "Token does not match server's copy");
    return std::nullopt;
  }
  const auto account = reader_.ServiceAccount(ns, name);
  if (!account) {
    SetError(error, fmt::format("serviceaccounts \"{}\" not found", name));
    return std::nullopt;
  }
  if (IsDeleted(*account)) {
    SetError(error, fmt::format("ServiceAccount {}/{} has been deleted", ns, name));
    return std::nullopt;
  }
  const std::string account_uid = StringAt(*account, {"metadata", "uid"});
  if (account_uid != uid) {
    SetError(error,
             fmt::format("ServiceAccount UID ({}) does not match claim ({})", account_uid, uid));
    return std::nullopt;
  }
  return TokenUser{ServiceAccountUser(ns, name, account_uid), std::move(accepted)};
}

}  // namespace kpp::apiserver
