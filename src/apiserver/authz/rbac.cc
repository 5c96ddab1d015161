#include "apiserver/authz/rbac.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "base/go_quote.h"

namespace kpp::apiserver::authz {
namespace {

bool Has(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::vector<std::string> Strings(const boost::json::object& object, std::string_view field) {
  std::vector<std::string> items;
  const auto* value = object.if_contains(field);
  if (value == nullptr || !value->is_array()) return items;
  for (const auto& item : value->get_array()) {
    if (item.is_string()) items.emplace_back(item.get_string());
  }
  return items;
}

std::string StringField(const boost::json::object& object, std::string_view field) {
  const auto* value = object.if_contains(field);
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->get_string());
}

std::map<std::string, std::string> StringMap(const boost::json::object& object,
                                             std::string_view field) {
  std::map<std::string, std::string> map;
  const auto* value = object.if_contains(field);
  if (value == nullptr || !value->is_object()) return map;
  for (const auto& [key, item] : value->get_object()) {
    if (item.is_string()) map.emplace(std::string(key), std::string(item.get_string()));
  }
  return map;
}

const boost::json::object& Metadata(const boost::json::object& object) {
  static const boost::json::object kEmpty;
  const auto* metadata = object.if_contains("metadata");
  return metadata != nullptr && metadata->is_object() ? metadata->get_object() : kEmpty;
}

std::string ServiceAccountUser(std::string_view namespace_, std::string_view name) {
  return fmt::format("system:serviceaccount:{}:{}", namespace_, name);
}

}  // namespace

PolicyRule ParsePolicyRule(const boost::json::value& json) {
  PolicyRule rule;
  if (!json.is_object()) return rule;
  const auto& object = json.get_object();
  rule.verbs = Strings(object, "verbs");
  rule.api_groups = Strings(object, "apiGroups");
  rule.resources = Strings(object, "resources");
  rule.resource_names = Strings(object, "resourceNames");
  rule.non_resource_urls = Strings(object, "nonResourceURLs");
  return rule;
}

std::vector<PolicyRule> ParsePolicyRules(const boost::json::value* rules) {
  std::vector<PolicyRule> parsed;
  if (rules == nullptr || !rules->is_array()) return parsed;
  for (const auto& rule : rules->get_array())
    parsed.push_back(ParsePolicyRule(rule));
  return parsed;
}

Role ParseRole(const boost::json::object& object) {
  Role role;
  const auto& metadata = Metadata(object);
  role.namespace_ = StringField(metadata, "namespace");
  role.name = StringField(metadata, "name");
  role.labels = StringMap(metadata, "labels");
  role.annotations = StringMap(metadata, "annotations");
  role.rules = ParsePolicyRules(object.if_contains("rules"));
  if (const auto* aggregation = object.if_contains("aggregationRule");
      aggregation != nullptr && aggregation->is_object()) {
    std::vector<boost::json::value> selectors;
    if (const auto* list = aggregation->get_object().if_contains("clusterRoleSelectors");
        list != nullptr && list->is_array()) {
      for (const auto& selector : list->get_array())
        selectors.push_back(selector);
    }
    role.aggregation_selectors = std::move(selectors);
  }
  return role;
}

Binding ParseBinding(const boost::json::object& object) {
  Binding binding;
  const auto& metadata = Metadata(object);
  binding.namespace_ = StringField(metadata, "namespace");
  binding.name = StringField(metadata, "name");
  binding.annotations = StringMap(metadata, "annotations");
  if (const auto* subjects = object.if_contains("subjects");
      subjects != nullptr && subjects->is_array()) {
    for (const auto& item : subjects->get_array()) {
      if (!item.is_object()) continue;
      const auto& subject = item.get_object();
      binding.subjects.push_back({StringField(subject, "kind"), StringField(subject, "apiGroup"),
                                  StringField(subject, "name"), StringField(subject, "namespace")});
    }
  }
  if (const auto* ref = object.if_contains("roleRef"); ref != nullptr && ref->is_object()) {
    const auto& role_ref = ref->get_object();
    binding.role_ref = {StringField(role_ref, "apiGroup"), StringField(role_ref, "kind"),
                        StringField(role_ref, "name")};
  }
  return binding;
}

boost::json::value PolicyRuleToJson(const PolicyRule& rule) {
  boost::json::object object;
  auto put = [&](std::string_view field, const std::vector<std::string>& items) {
    if (items.empty() && field != "verbs") return;
    boost::json::array array;
    for (const auto& item : items)
      array.emplace_back(item);
    object[field] = std::move(array);
  };
  put("verbs", rule.verbs);
  put("apiGroups", rule.api_groups);
  put("resources", rule.resources);
  put("resourceNames", rule.resource_names);
  put("nonResourceURLs", rule.non_resource_urls);
  return object;
}

bool VerbMatches(const PolicyRule& rule, std::string_view verb) {
  for (const auto& rule_verb : rule.verbs) {
    if (rule_verb == "*" || rule_verb == verb) return true;
  }
  return false;
}

bool ApiGroupMatches(const PolicyRule& rule, std::string_view group) {
  for (const auto& rule_group : rule.api_groups) {
    if (rule_group == "*" || rule_group == group) return true;
  }
  return false;
}

bool ResourceMatches(const PolicyRule& rule, std::string_view combined_resource,
                     std::string_view subresource) {
  for (const auto& rule_resource : rule.resources) {
    if (rule_resource == "*" || rule_resource == combined_resource) return true;
    // "*/status" grants the status of every resource.
    if (!subresource.empty() && rule_resource.size() == subresource.size() + 2 &&
        rule_resource.starts_with("*/") && rule_resource.ends_with(subresource)) {
      return true;
    }
  }
  return false;
}

bool ResourceNameMatches(const PolicyRule& rule, std::string_view name) {
  return rule.resource_names.empty() || Has(rule.resource_names, name);
}

bool NonResourceUrlMatches(const PolicyRule& rule, std::string_view url) {
  for (const auto& rule_url : rule.non_resource_urls) {
    if (rule_url == "*" || rule_url == url) return true;
    if (rule_url.ends_with('*')) {
      std::string_view prefix(rule_url);
      while (prefix.ends_with('*'))
        prefix.remove_suffix(1);
      if (url.starts_with(prefix)) return true;
    }
  }
  return false;
}

bool RuleAllows(const Attributes& attributes, const PolicyRule& rule) {
  if (attributes.resource_request) {
    std::string combined = attributes.resource;
    if (!attributes.subresource.empty()) combined += "/" + attributes.subresource;
    return VerbMatches(rule, attributes.verb) && ApiGroupMatches(rule, attributes.api_group) &&
           ResourceMatches(rule, combined, attributes.subresource) &&
           ResourceNameMatches(rule, attributes.name);
  }
  return VerbMatches(rule, attributes.verb) && NonResourceUrlMatches(rule, attributes.path);
}

bool SubjectMatches(const Subject& subject, const UserInfo& user,
                    std::string_view binding_namespace) {
  if (subject.kind == "User") return user.name == subject.name;
  if (subject.kind == "Group") return Has(user.groups, subject.name);
  if (subject.kind == "ServiceAccount") {
    const std::string_view namespace_ =
        subject.namespace_.empty() ? binding_namespace : std::string_view(subject.namespace_);
    if (namespace_.empty()) return false;
    return user.name == ServiceAccountUser(namespace_, subject.name);
  }
  return false;
}

namespace {

// One verb on one resource (or name of it), or one verb on one URL.
std::vector<PolicyRule> BreakDown(const PolicyRule& rule) {
  std::vector<PolicyRule> atoms;
  for (const auto& group : rule.api_groups) {
    for (const auto& resource : rule.resources) {
      for (const auto& verb : rule.verbs) {
        if (rule.resource_names.empty()) {
          atoms.push_back({{verb}, {group}, {resource}, {}, {}});
        } else {
          for (const auto& name : rule.resource_names) {
            atoms.push_back({{verb}, {group}, {resource}, {name}, {}});
          }
        }
      }
    }
  }
  for (const auto& url : rule.non_resource_urls) {
    for (const auto& verb : rule.verbs)
      atoms.push_back({{verb}, {}, {}, {}, {url}});
  }
  return atoms;
}

bool ResourcesCover(const std::vector<std::string>& owner,
                    const std::vector<std::string>& requested) {
  if (Has(owner, "*")) return true;
  for (const auto& resource : requested) {
    if (Has(owner, resource)) continue;
    const auto slash = resource.find('/');
    if (slash == std::string::npos) return false;
    if (!Has(owner, "*/" + resource.substr(slash + 1))) return false;
  }
  return true;
}

bool UrlsCover(const std::vector<std::string>& owner, const std::vector<std::string>& requested) {
  for (const auto& url : requested) {
    bool covered = false;
    for (const auto& owner_url : owner) {
      if (owner_url == url || owner_url == "*") {
        covered = true;
      } else if (owner_url.ends_with('*') &&
                 url.starts_with(std::string_view(owner_url).substr(0, owner_url.size() - 1))) {
        covered = true;
      }
      if (covered) break;
    }
    if (!covered) return false;
  }
  return true;
}

bool AllOrStar(const std::vector<std::string>& owner, const std::vector<std::string>& requested) {
  if (Has(owner, "*")) return true;
  return std::all_of(requested.begin(), requested.end(),
                     [&](const std::string& item) { return Has(owner, item); });
}

bool RuleCovers(const PolicyRule& owner, const PolicyRule& requested) {
  if (!AllOrStar(owner.verbs, requested.verbs)) return false;
  if (!AllOrStar(owner.api_groups, requested.api_groups)) return false;
  if (!ResourcesCover(owner.resources, requested.resources)) return false;
  if (!UrlsCover(owner.non_resource_urls, requested.non_resource_urls)) return false;
  // A rule limited to names covers only those names; an unlimited one covers any.
  if (!owner.resource_names.empty()) {
    if (requested.resource_names.empty()) return false;
    for (const auto& name : requested.resource_names) {
      if (!Has(owner.resource_names, name)) return false;
    }
  }
  return true;
}

}  // namespace

bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& requested,
            std::vector<PolicyRule>* missing) {
  bool all = true;
  for (const auto& rule : requested) {
    for (const auto& atom : BreakDown(rule)) {
      const bool covered = std::any_of(owner.begin(), owner.end(), [&](const PolicyRule& held) {
        return RuleCovers(held, atom);
      });
      if (!covered) {
        all = false;
        if (missing != nullptr) missing->push_back(atom);
      }
    }
  }
  return all;
}

std::vector<PolicyRule> CompactRules(const std::vector<PolicyRule>& rules) {
  std::vector<PolicyRule> compacted;
  std::map<std::pair<std::string, std::string>, size_t> simple;
  for (const auto& rule : rules) {
    const bool is_simple = rule.resource_names.empty() && rule.non_resource_urls.empty() &&
                           rule.api_groups.size() == 1 && rule.resources.size() == 1;
    if (!is_simple) {
      compacted.push_back(rule);
      continue;
    }
    const auto key = std::make_pair(rule.api_groups[0], rule.resources[0]);
    const auto found = simple.find(key);
    if (found == simple.end()) {
      simple.emplace(key, compacted.size());
      compacted.push_back(rule);
    } else {
      auto& verbs = compacted[found->second].verbs;
      verbs.insert(verbs.end(), rule.verbs.begin(), rule.verbs.end());
    }
  }
  return compacted;
}

std::string CompactString(const PolicyRule& rule) {
  std::vector<std::string> parts;
  if (!rule.api_groups.empty()) parts.push_back("APIGroups:" + GoQuoteList(rule.api_groups));
  if (!rule.resources.empty()) parts.push_back("Resources:" + GoQuoteList(rule.resources));
  if (!rule.non_resource_urls.empty()) {
    parts.push_back("NonResourceURLs:" + GoQuoteList(rule.non_resource_urls));
  }
  if (!rule.resource_names.empty()) {
    parts.push_back("ResourceNames:" + GoQuoteList(rule.resource_names));
  }
  if (!rule.verbs.empty()) parts.push_back("Verbs:" + GoQuoteList(rule.verbs));
  return "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
}

Policy::Policy(std::vector<Role> roles, std::vector<Binding> bindings)
    : roles_(std::move(roles)), bindings_(std::move(bindings)) {
  for (size_t i = 0; i < roles_.size(); ++i) {
    role_index_.emplace(roles_[i].namespace_ + "/" + roles_[i].name, i);
  }
  for (size_t b = 0; b < bindings_.size(); ++b) {
    const Binding& binding = bindings_[b];
    for (size_t s = 0; s < binding.subjects.size(); ++s) {
      const Subject& subject = binding.subjects[s];
      std::string key;
      if (subject.kind == "User") {
        key = "u:" + subject.name;
      } else if (subject.kind == "Group") {
        key = "g:" + subject.name;
      } else if (subject.kind == "ServiceAccount") {
        const std::string& namespace_ =
            subject.namespace_.empty() ? binding.namespace_ : subject.namespace_;
        if (namespace_.empty()) continue;
        key = "u:" + ServiceAccountUser(namespace_, subject.name);
      } else {
        continue;
      }
      auto& entries = by_subject_[key];
      // A binding naming the same subject twice applies once.
      if (!entries.empty() && entries.back().first == b) continue;
      entries.emplace_back(b, s);
    }
  }
}

const Role* Policy::FindClusterRole(std::string_view name) const {
  const auto found = role_index_.find("/" + std::string(name));
  return found == role_index_.end() ? nullptr : &roles_[found->second];
}

const std::vector<PolicyRule>* Policy::RoleRules(const RoleRef& ref,
                                                 std::string_view binding_namespace,
                                                 std::string* error) const {
  if (ref.kind == "Role") {
    const auto found = role_index_.find(std::string(binding_namespace) + "/" + ref.name);
    if (found != role_index_.end() && !binding_namespace.empty()) {
      return &roles_[found->second].rules;
    }
    if (error != nullptr) *error = fmt::format("role.{} \"{}\" not found", kRbacGroup, ref.name);
    return nullptr;
  }
  if (ref.kind == "ClusterRole") {
    if (const Role* role = FindClusterRole(ref.name)) return &role->rules;
    if (error != nullptr) {
      *error = fmt::format("clusterrole.{} \"{}\" not found", kRbacGroup, ref.name);
    }
    return nullptr;
  }
  if (error != nullptr)
    *error = fmt::format("unsupported role reference kind: {}", GoQuote(ref.kind));
  return nullptr;
}

void Policy::VisitRules(
    const UserInfo& user, std::string_view namespace_,
    const std::function<bool(const Binding&, const Subject&, const PolicyRule&)>& visit,
    std::vector<std::string>* errors) const {
  // The bindings naming the user or one of its groups, each once, in object order.
  std::vector<std::pair<size_t, size_t>> candidates;
  auto collect = [&](const std::string& key) {
    const auto found = by_subject_.find(key);
    if (found == by_subject_.end()) return;
    candidates.insert(candidates.end(), found->second.begin(), found->second.end());
  };
  collect("u:" + user.name);
  for (const auto& group : user.groups)
    collect("g:" + group);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   candidates.end());
  // ClusterRoleBindings first, then the RoleBindings of the namespace, as upstream visits them.
  for (const bool cluster : {true, false}) {
    if (!cluster && namespace_.empty()) break;
    for (const auto& [b, s] : candidates) {
      const Binding& binding = bindings_[b];
      if (cluster != binding.namespace_.empty()) continue;
      if (!cluster && binding.namespace_ != namespace_) continue;
      std::string error;
      const auto* rules = RoleRules(binding.role_ref, binding.namespace_, &error);
      if (rules == nullptr) {
        if (errors != nullptr) errors->push_back(std::move(error));
        continue;
      }
      for (const auto& rule : *rules) {
        if (!visit(binding, binding.subjects[s], rule)) return;
      }
    }
  }
}

namespace {

std::string DescribeSubject(const Subject& subject, std::string_view binding_namespace) {
  if (subject.kind == "ServiceAccount") {
    const std::string_view namespace_ =
        subject.namespace_.empty() ? binding_namespace : std::string_view(subject.namespace_);
    return fmt::format("{} {}", subject.kind,
                       GoQuote(subject.name + "/" + std::string(namespace_)));
  }
  return fmt::format("{} {}", subject.kind, GoQuote(subject.name));
}

std::string DescribeBinding(const Binding& binding, const Subject& subject) {
  if (binding.namespace_.empty()) {
    return fmt::format("ClusterRoleBinding {} of {} {} to {}", GoQuote(binding.name),
                       binding.role_ref.kind, GoQuote(binding.role_ref.name),
                       DescribeSubject(subject, ""));
  }
  return fmt::format("RoleBinding {} of {} {} to {}",
                     GoQuote(binding.name + "/" + binding.namespace_), binding.role_ref.kind,
                     GoQuote(binding.role_ref.name), DescribeSubject(subject, binding.namespace_));
}

}  // namespace

Verdict Policy::Authorize(const Attributes& attributes) const {
  std::optional<std::string> allowed_by;
  std::vector<std::string> errors;
  VisitRules(
      attributes.user, attributes.namespace_,
      [&](const Binding& binding, const Subject& subject, const PolicyRule& rule) {
        if (!RuleAllows(attributes, rule)) return true;
        allowed_by = DescribeBinding(binding, subject);
        return false;
      },
      &errors);
  if (allowed_by) return {Decision::kAllow, "RBAC: allowed by " + *allowed_by};
  std::string reason;
  if (!errors.empty()) {
    // utilerrors.NewAggregate: one error as is, several as [a, b].
    reason = errors.size() == 1 ? errors[0] : fmt::format("[{}]", fmt::join(errors, ", "));
    reason = "RBAC: " + reason;
  }
  return {Decision::kNoOpinion, std::move(reason)};
}

std::vector<PolicyRule> Policy::RulesFor(const UserInfo& user, std::string_view namespace_,
                                         std::vector<std::string>* errors) const {
  std::vector<PolicyRule> rules;
  VisitRules(
      user, namespace_,
      [&](const Binding&, const Subject&, const PolicyRule& rule) {
        rules.push_back(rule);
        return true;
      },
      errors);
  return rules;
}

}  // namespace kpp::apiserver::authz
