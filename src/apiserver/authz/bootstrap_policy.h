// Upstream's default RBAC policy (the roles and bindings every cluster starts with), as data, and
// its reconciliation at start: missing objects are created; existing ones that keep the
// rbac.authorization.kubernetes.io/autoupdate annotation (anything but "false") get the rules,
// aggregation selectors and subjects they lack added, never removed.
#pragma once

#include <vector>

#include "apiserver/authz/rbac.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "base/result.h"

namespace kpp::apiserver::authz {

inline constexpr char kAutoupdateAnnotation[] = "rbac.authorization.kubernetes.io/autoupdate";

struct BootstrapPolicy {
  std::vector<Role> cluster_roles;
  std::vector<Binding> cluster_role_bindings;
  std::vector<Role> roles;  // in kube-system and kube-public
  std::vector<Binding> role_bindings;
};

const BootstrapPolicy& DefaultBootstrapPolicy();

// The object written for a bootstrap role or binding (labels and annotations included).
boost::json::object RoleToJson(const Role& role);
boost::json::object BindingToJson(const Binding& binding);

// Reconciles one existing object with its bootstrap form: the JSON to write back, or nullopt when
// nothing is missing (or autoupdate is off).
std::optional<boost::json::object> ReconcileRole(const boost::json::object& existing,
                                                 const Role& wanted);
std::optional<boost::json::object> ReconcileBinding(const boost::json::object& existing,
                                                    const Binding& wanted);

// Creates or reconciles every object of the default policy through `call`.
Status ReconcileBootstrapPolicy(const LoopbackCall& call);

}  // namespace kpp::apiserver::authz
