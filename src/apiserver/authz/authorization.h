// Everything the API server does to authorize a request, behind one small interface: the union
// of authorizers (system:masters, the node authorizer, then RBAC), the access reviews
// (SubjectAccessReview and friends, answered from that union and never stored), RBAC's escalation
// checks on writes of roles and bindings, and the bootstrap policy written at start.
#pragma once

#include <memory>
#include <optional>

#include "apiserver/authn/user.h"
#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/server.h"

namespace kpp::apiserver::authz {

inline constexpr char kMastersGroup[] = "system:masters";

class Authorization {
 public:
  // `call` answers loopback requests (unauthorized); it and `clock` must outlive this.
  Authorization(LoopbackCall call, const Clock& clock);
  ~Authorization();

  // Writes (reconciles) the bootstrap policy, loads RBAC and starts its refresh thread.
  Status Start();
  void Stop();

  // Before a request of `user` is served: the refusal (403), or the answer of an access review
  // (which this serves itself); nullopt when the request may go on. With impersonation headers
  // that are allowed, `user` becomes the impersonated user first.
  std::optional<http::Response> Check(const http::Request& request, UserInfo& user) const;
  // After a request was served: an RBAC object it changed is seen by the next request.
  void Observe(const http::Request& request, const http::Response& response) const;

  const Authorizer& authorizer() const { return authorizer_; }
  RbacAuthorizer& rbac() const { return *rbac_; }

 private:
  std::optional<http::Response> ServeAccessReview(const http::Request& request,
                                                  const UserInfo& user,
                                                  const ops::RequestInfo& info) const;
  // Escalation prevention for creates and updates of roles and bindings.
  std::optional<http::Response> CheckEscalation(const http::Request& request, const UserInfo& user,
                                                const ops::RequestInfo& info) const;

  LoopbackCall call_;
  const Clock& clock_;
  std::shared_ptr<RbacAuthorizer> rbac_;
  UnionAuthorizer authorizer_;
};

}  // namespace kpp::apiserver::authz
