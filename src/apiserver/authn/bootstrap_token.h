// Bootstrap tokens (`<id>.<secret>`, kept in kube-system secrets `bootstrap-token-<id>` of type
// bootstrap.kubernetes.io/token) for nodes that join later: they authenticate as
// `system:bootstrap:<id>` in system:bootstrappers and the secret's auth-extra-groups.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "apiserver/authn/bootstrap_token_secret.h"
#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/user.h"
#include "base/clock.h"

namespace kpp::apiserver {

// The id and secret of a `[a-z0-9]{6}.[a-z0-9]{16}` token; nullopt for any other text.
std::optional<std::pair<std::string_view, std::string_view>> SplitBootstrapToken(
    std::string_view token);

// Whether the secret's data.expiration (RFC 3339) has passed at `now`; an unreadable one counts
// as passed, as upstream's.
bool BootstrapTokenExpired(const boost::json::object& secret, Clock::TimePoint now);

// The user a bootstrap token is, or nullopt (with the reason in `*error`, for logs only:
// upstream reports no error for these tokens).
std::optional<UserInfo> AuthenticateBootstrapToken(std::string_view token,
                                                   const ObjectReader& reader, const Clock& clock,
                                                   std::string* error);

}  // namespace kpp::apiserver
