// Authentication by TLS client certificate: CN is the user name, O entries are the groups.
#pragma once

#include <optional>

#include "apiserver/authn/authenticator.h"
#include "apiserver/authn/user.h"
#include "http/server.h"

namespace kpp::apiserver {

// The user a verified client certificate names, or nullopt when the request carried none (the
// HTTP layer only passes on certificates that chained to the cluster CA).
std::optional<UserInfo> AuthenticateClientCertificate(const http::Request& request);

class ClientCertificateAuthenticator : public Authenticator {
 public:
  std::optional<UserInfo> Authenticate(const http::Request& request) const override {
    return AuthenticateClientCertificate(request);
  }
};

}  // namespace kpp::apiserver
