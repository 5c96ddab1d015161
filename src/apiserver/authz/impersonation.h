// Impersonation (upstream's WithImpersonation filter): a user allowed to `impersonate` users,
// groups, service accounts, user extras or uids may act as another user with the
// Impersonate-User, Impersonate-Group, Impersonate-Uid and Impersonate-Extra-<key> headers
// (`kubectl --as`, `--as-group`, `--as-uid`). Each thing asked for is authorized separately.
#pragma once

#include <optional>
#include <variant>

#include "apiserver/authn/user.h"
#include "apiserver/authz/authorizer.h"
#include "http/server.h"

namespace kpp::apiserver::authz {

// Whether the request carries any Impersonate-* header (most carry none: then the requestor is
// the user, with no copy made).
bool HasImpersonationHeaders(const http::Request& request);

// The user the request acts as: `requestor` itself without impersonation headers, the
// impersonated user when every part of it is allowed, else the refusal (400 for groups, extras
// or a uid without a user; upstream's 403 naming what may not be impersonated).
std::variant<UserInfo, http::Response> Impersonate(const http::Request& request,
                                                   const UserInfo& requestor,
                                                   const Authorizer& authorizer);

}  // namespace kpp::apiserver::authz
