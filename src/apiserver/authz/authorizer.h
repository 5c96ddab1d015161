// The interface authorizers share (upstream's authorizer.Authorizer): what a request wants to do,
// and a decision on it. Authorizers are asked in turn by a union; the first that allows or denies
// decides, and a request nobody allows is refused with upstream's 403 Forbidden Status.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apiserver/authn/user.h"
#include "apiserver/ops/request_info.h"
#include "http/server.h"

namespace kpp::apiserver::authz {

// Upstream's authorizer.Attributes.
struct Attributes {
  UserInfo user;
  std::string verb;
  bool resource_request = false;
  // Resource requests.
  std::string namespace_;
  std::string api_group;
  std::string api_version;
  std::string resource;
  std::string subresource;
  std::string name;
  // Non-resource requests.
  std::string path;
};

// The attributes of an HTTP request as the request-info parser reads it.
Attributes AttributesFor(const UserInfo& user, const ops::RequestInfo& info);

enum class Decision { kNoOpinion, kAllow, kDeny };

struct Verdict {
  Decision decision = Decision::kNoOpinion;
  std::string reason;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // Thread-safe.
  virtual Verdict Authorize(const Attributes& attributes) const = 0;
};

// Asks each authorizer in turn: the first Allow or Deny decides; when none has an opinion their
// reasons are joined with newlines, as upstream's union authorizer does.
class UnionAuthorizer : public Authorizer {
 public:
  void Add(std::shared_ptr<const Authorizer> authorizer) {
    authorizers_.push_back(std::move(authorizer));
  }
  Verdict Authorize(const Attributes& attributes) const override;

 private:
  std::vector<std::shared_ptr<const Authorizer>> authorizers_;
};

// Upstream's forbidden message, e.g. `User "alice" cannot list resource "pods" in API group ""
// in the namespace "default"`, without the qualified-resource prefix.
std::string ForbiddenMessage(const Attributes& attributes);

// Upstream's 403 answer for a refused request: `pods is forbidden: User "alice" cannot ...`
// (with ": <reason>" when the authorizers gave one), details naming the group, resource, name.
http::Response ForbiddenResponse(const Attributes& attributes, const std::string& reason);

// Go's %q of a []string: ["a" "b"].
std::string GoQuoteList(const std::vector<std::string>& items);

}  // namespace kpp::apiserver::authz
