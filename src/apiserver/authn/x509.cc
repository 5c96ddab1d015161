#include "apiserver/authn/x509.h"

namespace kpp::apiserver {

std::optional<UserInfo> AuthenticateClientCertificate(const http::Request& request) {
  if (!request.client_certificate || request.client_certificate->common_name.empty()) {
    return std::nullopt;
  }
  UserInfo user{request.client_certificate->common_name, request.client_certificate->organizations};
  AddAuthenticatedGroup(user);
  return user;
}

}  // namespace kpp::apiserver
