#include "apiserver/audit/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <span>

#include "apimachinery/validation/field_errors.h"
#include "apimachinery/yaml/yaml_to_json.h"
#include "base/files.h"

namespace kpp::apiserver::audit {
namespace {

namespace json = boost::json;
using validation::FieldErrors;
using validation::FieldPath;

constexpr std::string_view kLevelNames[] = {"None", "Metadata", "Request", "RequestResponse"};
constexpr std::string_view kStageNames[] = {"RequestReceived", "ResponseStarted",
                                            "ResponseComplete", "Panic"};

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string> Strings(const json::object& object, std::string_view name) {
  std::vector<std::string> out;
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_array()) return out;
  for (const json::value& item : value->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

std::vector<std::string> Names(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}

void ParseStages(const json::object& object, const FieldPath& path, std::vector<Stage>& out,
                 FieldErrors& errors) {
  const auto names = Strings(object, "omitStages");
  for (size_t i = 0; i < names.size(); ++i) {
    const auto* found = std::find(std::begin(kStageNames), std::end(kStageNames), names[i]);
    if (found == std::end(kStageNames)) {
      errors.push_back(validation::NotSupported(path.Index(i), names[i], Names(kStageNames)));
      continue;
    }
    out.push_back(static_cast<Stage>(found - std::begin(kStageNames)));
  }
}

std::optional<bool> OptionalBool(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_bool()) return std::nullopt;
  return value->get_bool();
}

// Upstream's resource matching: "pods" is only pods, "pods/log" its log, "pods/*" every
// subresource of pods, "*/scale" the scale of everything, "*" everything.
bool ResourceMatches(const std::string& pattern, const ops::RequestInfo& info) {
  if (pattern == "*") return true;
  const std::string combined =
      info.subresource.empty() ? info.resource : info.resource + "/" + info.subresource;
  if (pattern == combined) return true;
  if (!info.subresource.empty() && pattern == "*/" + info.subresource) return true;
  if (pattern == info.resource + "/*" && !info.subresource.empty()) return true;
  return false;
}

bool RuleMatchesResource(const PolicyRule& rule, const ops::RequestInfo& info) {
  if (!info.is_resource_request) return false;
  if (!rule.namespaces.empty() && !Contains(rule.namespaces, info.namespace_)) return false;
  if (rule.resources.empty()) return true;
  for (const GroupResources& group : rule.resources) {
    if (group.group != info.api_group) continue;
    if (group.resources.empty()) return true;
    if (!group.resource_names.empty() && !Contains(group.resource_names, info.name)) continue;
    for (const std::string& pattern : group.resources) {
      if (ResourceMatches(pattern, info)) return true;
    }
  }
  return false;
}

bool RuleMatchesNonResource(const PolicyRule& rule, const ops::RequestInfo& info) {
  if (info.is_resource_request) return false;
  for (const std::string& url : rule.non_resource_urls) {
    if (url == "*" || url == info.path) return true;
    if (url.ends_with('*') &&
        info.path.starts_with(std::string_view(url).substr(0, url.size() - 1))) {
      return true;
    }
  }
  return false;
}

bool RuleMatches(const PolicyRule& rule, const UserInfo& user, const ops::RequestInfo& info) {
  if (!rule.users.empty() && !Contains(rule.users, user.name)) return false;
  if (!rule.user_groups.empty() &&
      std::none_of(user.groups.begin(), user.groups.end(),
                   [&](const std::string& group) { return Contains(rule.user_groups, group); })) {
    return false;
  }
  if (!rule.verbs.empty() && !Contains(rule.verbs, info.verb)) return false;
  if (!rule.namespaces.empty() || !rule.resources.empty()) return RuleMatchesResource(rule, info);
  if (!rule.non_resource_urls.empty()) return RuleMatchesNonResource(rule, info);
  return true;
}

std::string Aggregate(const FieldErrors& errors) {
  if (errors.size() == 1) return errors.front().ToString();
  std::string text = "[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i != 0) text += ", ";
    text += errors[i].ToString();
  }
  return text + "]";
}

}  // namespace

std::string_view LevelName(Level level) {
  return kLevelNames[static_cast<int>(level)];
}

std::string_view StageName(Stage stage) {
  return kStageNames[static_cast<int>(stage)];
}

bool Decision::Omits(Stage stage) const {
  return std::find(omit_stages.begin(), omit_stages.end(), stage) != omit_stages.end();
}

Result<Policy> ParsePolicy(std::string_view text) {
  auto json_text = yaml::ToJson(text);
  if (!json_text.ok()) return InvalidError(json_text.error().message());
  boost::system::error_code parse_error;
  json::value document = json::parse(*json_text, parse_error);
  if (parse_error || !document.is_object()) {
    return InvalidError("the audit policy is not an object");
  }
  const json::object& root = document.get_object();
  const json::value* kind = root.if_contains("kind");
  const json::value* api_version = root.if_contains("apiVersion");
  if (kind == nullptr || !kind->is_string() || kind->get_string() != "Policy" ||
      api_version == nullptr || !api_version->is_string() ||
      api_version->get_string() != "audit.k8s.io/v1") {
    return InvalidError(
        fmt::format("the audit policy must be an audit.k8s.io/v1 Policy, got kind {} apiVersion {}",
                    kind != nullptr ? json::serialize(*kind) : "(none)",
                    api_version != nullptr ? json::serialize(*api_version) : "(none)"));
  }
  Policy policy;
  FieldErrors errors;
  ParseStages(root, FieldPath("omitStages"), policy.omit_stages, errors);
  policy.omit_managed_fields = OptionalBool(root, "omitManagedFields").value_or(false);
  const json::value* rules = root.if_contains("rules");
  if (rules != nullptr && rules->is_array()) {
    const json::array& list = rules->get_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const FieldPath path = FieldPath("rules").Index(i);
      const json::object empty;
      const json::object& object = list[i].is_object() ? list[i].get_object() : empty;
      PolicyRule rule;
      const json::value* level = object.if_contains("level");
      const std::string level_name =
          level != nullptr && level->is_string() ? std::string(level->get_string()) : "";
      const auto* found = std::find(std::begin(kLevelNames), std::end(kLevelNames), level_name);
      if (level_name.empty()) {
        errors.push_back(validation::Required(path.Child("level")));
      } else if (found == std::end(kLevelNames)) {
        errors.push_back(
            validation::NotSupported(path.Child("level"), level_name, Names(kLevelNames)));
      } else {
        rule.level = static_cast<Level>(found - std::begin(kLevelNames));
      }
      rule.users = Strings(object, "users");
      rule.user_groups = Strings(object, "userGroups");
      rule.verbs = Strings(object, "verbs");
      rule.namespaces = Strings(object, "namespaces");
      rule.non_resource_urls = Strings(object, "nonResourceURLs");
      if (const json::value* resources = object.if_contains("resources");
          resources != nullptr && resources->is_array()) {
        for (const json::value& item : resources->get_array()) {
          if (!item.is_object()) continue;
          GroupResources group;
          if (const json::value* name = item.get_object().if_contains("group");
              name != nullptr && name->is_string()) {
            group.group = std::string(name->get_string());
          }
          group.resources = Strings(item.get_object(), "resources");
          group.resource_names = Strings(item.get_object(), "resourceNames");
          rule.resources.push_back(std::move(group));
        }
      }
      if (!rule.non_resource_urls.empty() &&
          (!rule.resources.empty() || !rule.namespaces.empty())) {
        errors.push_back(validation::Invalid(
            path.Child("nonResourceURLs"), rule.non_resource_urls.front(),
            "rules cannot apply to both regular resources and non-resource URLs"));
      }
      ParseStages(object, path.Child("omitStages"), rule.omit_stages, errors);
      rule.omit_managed_fields = OptionalBool(object, "omitManagedFields");
      policy.rules.push_back(std::move(rule));
    }
  }
  if (!errors.empty()) return InvalidError(Aggregate(errors));
  return policy;
}

Result<Policy> LoadPolicy(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return std::move(text).error().WithContext("--audit-policy-file");
  auto policy = ParsePolicy(*text);
  if (!policy.ok()) {
    return std::move(policy).error().WithContext(
        fmt::format("--audit-policy-file: loading audit policy file {}", path));
  }
  return policy;
}

Decision Evaluate(const Policy& policy, const UserInfo& user, const ops::RequestInfo& info) {
  Decision decision;
  for (const PolicyRule& rule : policy.rules) {
    if (!RuleMatches(rule, user, info)) continue;
    decision.level = rule.level;
    decision.omit_stages = policy.omit_stages;
    decision.omit_stages.insert(decision.omit_stages.end(), rule.omit_stages.begin(),
                                rule.omit_stages.end());
    decision.omit_managed_fields = rule.omit_managed_fields.value_or(policy.omit_managed_fields);
    return decision;
  }
  return decision;
}

}  // namespace kpp::apiserver::audit
