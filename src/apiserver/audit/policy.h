// Upstream's audit policy (audit.k8s.io/v1 Policy, the file --audit-policy-file names, YAML or
// JSON): which requests are recorded and how much of them. Rules are tried in order and the
// first that matches decides the level; a request no rule matches is not recorded (None).
// Thread safety: immutable after parsing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/authn/user.h"
#include "apiserver/ops/request_info.h"
#include "base/result.h"

namespace kpp::apiserver::audit {

// Ordered: each level records what the one before records, and more.
enum class Level { kNone, kMetadata, kRequest, kRequestResponse };
std::string_view LevelName(Level level);

enum class Stage { kRequestReceived, kResponseStarted, kResponseComplete, kPanic };
std::string_view StageName(Stage stage);

struct GroupResources {
  std::string group;                   // "" is the core group
  std::vector<std::string> resources;  // "pods", "pods/log", "pods/*", "*/status", "*"; empty: all
  std::vector<std::string> resource_names;  // empty: any name
};

struct PolicyRule {
  Level level = Level::kNone;
  std::vector<std::string> users;
  std::vector<std::string> user_groups;
  std::vector<std::string> verbs;
  std::vector<GroupResources> resources;
  std::vector<std::string> namespaces;         // "" matches cluster-scoped resources
  std::vector<std::string> non_resource_urls;  // exact, or a prefix ending in '*'
  std::vector<Stage> omit_stages;
  std::optional<bool> omit_managed_fields;
};

struct Policy {
  std::vector<PolicyRule> rules;
  std::vector<Stage> omit_stages;
  bool omit_managed_fields = false;
};

// What the policy says about one request.
struct Decision {
  Level level = Level::kNone;
  std::vector<Stage> omit_stages;  // the policy's and the matching rule's
  bool omit_managed_fields = false;

  bool Omits(Stage stage) const;
};

// Parses and validates; InvalidError with upstream-style field errors
// ("rules[0].level: Unsupported value: \"Everything\": supported values: ...").
Result<Policy> ParsePolicy(std::string_view text);
Result<Policy> LoadPolicy(const std::string& path);

Decision Evaluate(const Policy& policy, const UserInfo& user, const ops::RequestInfo& info);

}  // namespace kpp::apiserver::audit
