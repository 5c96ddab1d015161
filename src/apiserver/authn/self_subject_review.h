// SelfSubjectReview (`kubectl auth whoami`): the server tells the caller who it authenticated
// them as. The review is answered, never stored.
#pragma once

#include <optional>

#include "apiserver/authn/user.h"
#include "base/clock.h"
#include "http/server.h"

namespace kpp::apiserver {

// The answer to a request for /apis/authentication.k8s.io/{v1,v1beta1,v1alpha1}/selfsubjectreviews
// made by `user`; nullopt for any other path. kubectl 1.27 asks v1beta1 (then v1alpha1), later
// ones v1 first.
std::optional<http::Response> ServeSelfSubjectReview(const http::Request& request,
                                                     const UserInfo& user, const Clock& clock);

}  // namespace kpp::apiserver
