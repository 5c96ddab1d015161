// The interface request authenticators share, and their union (upstream's authenticator chain).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "apiserver/authn/user.h"
#include "http/server.h"

namespace kpp::apiserver {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The user the request proves to be, or nullopt when this authenticator does not recognise it
  // (no credential of its kind, or an invalid one).
  virtual std::optional<UserInfo> Authenticate(const http::Request& request) const = 0;
};

// Asks each authenticator in turn and takes the first user one of them establishes, as upstream
// unions client certificates and bearer tokens.
class UnionAuthenticator : public Authenticator {
 public:
  void Add(std::unique_ptr<Authenticator> authenticator) {
    authenticators_.push_back(std::move(authenticator));
  }
  std::optional<UserInfo> Authenticate(const http::Request& request) const override {
    for (const auto& authenticator : authenticators_) {
      if (auto user = authenticator->Authenticate(request)) return user;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::unique_ptr<Authenticator>> authenticators_;
};

// Every authenticated user is in system:authenticated, as upstream's group adder makes it.
inline void AddAuthenticatedGroup(UserInfo& user) {
  for (const auto& group : user.groups) {
    if (group == "system:authenticated") return;
  }
  user.groups.push_back("system:authenticated");
}

}  // namespace kpp::apiserver
