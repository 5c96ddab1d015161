#include "apiserver/authn/bootstrap_token.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <set>

#include "api/runtime/scalars.h"
#include "base/encoding.h"
#include "base/log.h"

namespace kpp::apiserver {
namespace {

bool IsTokenCharacters(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

// A data value of a secret, decoded; empty when absent or malformed.
std::string SecretData(const boost::json::object& secret, std::string_view key) {
  auto decoded = Base64Decode(StringAt(secret, {"data", key}));
  return decoded.ok() ? *std::move(decoded) : std::string();
}

// system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]
bool IsBootstrapGroup(std::string_view group) {
  constexpr std::string_view kPrefix = "system:bootstrappers:";
  if (!group.starts_with(kPrefix)) return false;
  std::string_view rest = group.substr(kPrefix.size());
  if (rest.empty() || rest.size() > 256) return false;
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '-';
  };
  if (!std::all_of(rest.begin(), rest.end(), allowed)) return false;
  return rest.back() != ':' && rest.back() != '-';
}

}  // namespace

std::optional<std::pair<std::string_view, std::string_view>> SplitBootstrapToken(
    std::string_view token) {
  if (token.size() != 23 || token[6] != '.') return std::nullopt;
  std::string_view id = token.substr(0, 6);
  std::string_view secret = token.substr(7);
  if (!IsTokenCharacters(id) || !IsTokenCharacters(secret)) return std::nullopt;
  return std::make_pair(id, secret);
}

bool BootstrapTokenExpired(const boost::json::object& secret, Clock::TimePoint now) {
  const auto left = BootstrapTokenTimeLeft(SecretData(secret, "expiration"), now);
  return left && left->count() < 0;
}

std::optional<UserInfo> AuthenticateBootstrapToken(std::string_view token,
                                                   const ObjectReader& reader, const Clock& clock,
                                                   std::string* error) {
  const auto split = SplitBootstrapToken(token);
  if (!split) return std::nullopt;
  const auto [id, token_secret] = *split;
  const std::string secret_name = fmt::format("{}{}", kBootstrapTokenSecretPrefix, id);
  auto fail = [&](std::string reason) -> std::optional<UserInfo> {
    KLOG_V(3, "Bootstrap secret kube-system/{} {}", secret_name, reason);
    if (error != nullptr) *error = "";
    return std::nullopt;
  };
  const auto secret = reader.Secret("kube-system", secret_name);
  if (!secret) return fail("not found");
  if (StringAt(*secret, {"metadata", "deletionTimestamp"}) != "") return fail("is being deleted");
  if (StringAt(*secret, {"type"}) != kBootstrapTokenSecretType) {
    return fail(fmt::format("has invalid type, expected {}", kBootstrapTokenSecretType));
  }
  const std::string stored = SecretData(*secret, "token-secret");
  if (stored.size() != token_secret.size() ||
      CRYPTO_memcmp(stored.data(), token_secret.data(), stored.size()) != 0) {
    return fail("has invalid token-secret");
  }
  if (SecretData(*secret, "token-id") != id) return fail("has invalid token-id");
  if (BootstrapTokenExpired(*secret, clock.Now())) return fail("has expired");
  if (SecretData(*secret, "usage-bootstrap-authentication") != "true") {
    return fail("not marked usage-bootstrap-authentication=true");
  }
  std::set<std::string> groups{"system:bootstrappers"};
  const std::string extra_groups = SecretData(*secret, "auth-extra-groups");
  std::string_view extra = extra_groups;
  while (!extra.empty()) {
    const auto comma = extra.find(',');
    std::string_view group = extra.substr(0, comma);
    while (!group.empty() && group.front() == ' ')
      group.remove_prefix(1);
    while (!group.empty() && group.back() == ' ')
      group.remove_suffix(1);
    if (!group.empty()) {
      if (!IsBootstrapGroup(group)) return fail("has invalid value for key auth-extra-groups");
      groups.emplace(group);
    }
    if (comma == std::string_view::npos) break;
    extra.remove_prefix(comma + 1);
  }
  UserInfo user;
  user.name = fmt::format("system:bootstrap:{}", id);
  user.groups.assign(groups.begin(), groups.end());
  return user;
}

}  // namespace kpp::apiserver
