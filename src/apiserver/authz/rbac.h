// RBAC as upstream evaluates it: the rules of Roles and ClusterRoles granted to users, groups and
// service accounts by RoleBindings and ClusterRoleBindings, and the coverage check that keeps a
// user from granting more than they hold (escalation prevention).
// A Policy is an immutable snapshot of every RBAC object, indexed by subject; the authorizer
// swaps in a new one when an object changes.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "base/result.h"

namespace kpp::apiserver::authz {

inline constexpr char kRbacGroup[] = "rbac.authorization.k8s.io";

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;

  bool operator==(const PolicyRule&) const = default;
};

struct Subject {
  std::string kind;  // User, Group, ServiceAccount
  std::string api_group;
  std::string name;
  std::string namespace_;
};

struct RoleRef {
  std::string api_group;
  std::string kind;  // Role, ClusterRole
  std::string name;
};

// A Role (namespace set) or ClusterRole.
struct Role {
  std::string namespace_;
  std::string name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<PolicyRule> rules;
  // ClusterRole aggregationRule.clusterRoleSelectors, as JSON label selectors; nullopt: none.
  std::optional<std::vector<boost::json::value>> aggregation_selectors;
};

// A RoleBinding (namespace set) or ClusterRoleBinding.
struct Binding {
  std::string namespace_;
  std::string name;
  std::map<std::string, std::string> annotations;
  std::vector<Subject> subjects;
  RoleRef role_ref;
};

// Reading the objects as the API serves them (JSON).
PolicyRule ParsePolicyRule(const boost::json::value& json);
std::vector<PolicyRule> ParsePolicyRules(const boost::json::value* rules);
Role ParseRole(const boost::json::object& object);
Binding ParseBinding(const boost::json::object& object);
boost::json::value PolicyRuleToJson(const PolicyRule& rule);

// Upstream's rule matching (k8s.io/component-helpers/auth/rbac/validation).
bool VerbMatches(const PolicyRule& rule, std::string_view verb);
bool ApiGroupMatches(const PolicyRule& rule, std::string_view group);
bool ResourceMatches(const PolicyRule& rule, std::string_view combined_resource,
                     std::string_view subresource);
bool ResourceNameMatches(const PolicyRule& rule, std::string_view name);
bool NonResourceUrlMatches(const PolicyRule& rule, std::string_view url);
bool RuleAllows(const Attributes& attributes, const PolicyRule& rule);

// Whether a binding subject is the user; `binding_namespace` defaults a service account's.
bool SubjectMatches(const Subject& subject, const UserInfo& user,
                    std::string_view binding_namespace);

// Whether `owner` rules grant everything `requested` does; the rights they lack otherwise, broken
// down to one verb on one resource (or URL) each.
bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& requested,
            std::vector<PolicyRule>* missing);
// Merges broken-down rules that differ only in their verbs, as upstream does before reporting.
std::vector<PolicyRule> CompactRules(const std::vector<PolicyRule>& rules);
// Upstream's CompactString: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}.
std::string CompactString(const PolicyRule& rule);

class Policy {
 public:
  Policy(std::vector<Role> roles, std::vector<Binding> bindings);

  // RBAC's verdict: allowed with the binding that allows it as reason, or no opinion (with the
  // roles that could not be found as reason).
  Verdict Authorize(const Attributes& attributes) const;
  // Every rule that applies to `user` in `namespace_` (cluster-wide ones when empty); missing
  // roles are reported in `errors`.
  std::vector<PolicyRule> RulesFor(const UserInfo& user, std::string_view namespace_,
                                   std::vector<std::string>* errors = nullptr) const;
  // The rules a role reference resolves to in `binding_namespace`; nullopt with `error` set when
  // the role does not exist.
  const std::vector<PolicyRule>* RoleRules(const RoleRef& ref, std::string_view binding_namespace,
                                           std::string* error) const;

  const std::vector<Role>& roles() const { return roles_; }
  const std::vector<Binding>& bindings() const { return bindings_; }
  const Role* FindClusterRole(std::string_view name) const;

 private:
  // Visits each (binding, subject, rule) that applies; stops when `visit` returns false.
  void VisitRules(
      const UserInfo& user, std::string_view namespace_,
      const std::function<bool(const Binding&, const Subject&, const PolicyRule&)>& visit,
      std::vector<std::string>* errors) const;

  std::vector<Role> roles_;
  std::vector<Binding> bindings_;
  // Key "<namespace>/<name>" for Roles, "/<name>" for ClusterRoles.
  std::unordered_map<std::string, size_t> role_index_;
  // Bindings by the subject they name: "u:<user>" or "g:<group>" (a service account is its user
  // name), and the namespace ("" for ClusterRoleBindings), in object order.
  std::unordered_map<std::string, std::vector<std::pair<size_t, size_t>>> by_subject_;
};

}  // namespace kpp::apiserver::authz
