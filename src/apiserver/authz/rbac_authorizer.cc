#include "apiserver/authz/rbac_authorizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "base/log.h"

namespace kpp::apiserver::authz {
namespace {

constexpr size_t kMaxCachedDecisions = 1 << 16;

std::string CacheKey(const Attributes& a) {
  std::string key;
  key.reserve(128);
  auto add = [&key](std::string_view part) {
    key += part;
    key += '\x1f';
  };
  add(a.user.name);
  for (const auto& group : a.user.groups) {
    key += group;
    key += '\x1e';
  }
  key += '\x1f';
  add(a.verb);
  add(a.resource_request ? "r" : "n");
  add(a.namespace_);
  add(a.api_group);
  add(a.resource);
  add(a.subresource);
  add(a.name);
  if (!a.resource_request) add(a.path);
  return key;
}

std::optional<boost::json::array> ListItems(const LoopbackCall& call, const std::string& plural) {
  http::Request request =
      http::Request::LocalJson("GET", fmt::format("/apis/{}/v1/{}", kRbacGroup, plural));
  request.headers.push_back({"User-Agent", "kpp-rbac-authorizer"});
  const http::Response response = call(request);
  if (response.status != 200) return std::nullopt;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(response.body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  auto* items = parsed.as_object().if_contains("items");
  if (items == nullptr || !items->is_array()) return boost::json::array();
  return std::move(items->as_array());
}

std::string ResourceVersionOf(const boost::json::value& item) {
  const auto* metadata = item.as_object().if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return {};
  const auto* version = metadata->as_object().if_contains("resourceVersion");
  return version != nullptr && version->is_string() ? std::string(version->get_string())
                                                    : std::string();
}

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

bool LabelSelectorMatches(const boost::json::value& selector,
                          const std::map<std::string, std::string>& labels) {
  if (!selector.is_object()) return false;
  const auto& object = selector.get_object();
  if (const auto* match_labels = object.if_contains("matchLabels");
      match_labels != nullptr && match_labels->is_object()) {
    for (const auto& [key, value] : match_labels->get_object()) {
      const auto found = labels.find(std::string(key));
      if (found == labels.end() || !value.is_string() || found->second != value.get_string()) {
        return false;
      }
    }
  }
  if (const auto* expressions = object.if_contains("matchExpressions");
      expressions != nullptr && expressions->is_array()) {
    for (const auto& expression : expressions->get_array()) {
      if (!expression.is_object()) return false;
      const auto& e = expression.get_object();
      const auto* key = e.if_contains("key");
      const auto* op = e.if_contains("operator");
      if (key == nullptr || !key->is_string() || op == nullptr || !op->is_string()) return false;
      std::vector<std::string> values;
      if (const auto* list = e.if_contains("values"); list != nullptr && list->is_array()) {
        for (const auto& v : list->get_array()) {
          if (v.is_string()) values.emplace_back(v.get_string());
        }
      }
      const auto found = labels.find(std::string(key->get_string()));
      const std::string_view operation = op->get_string();
      if (operation == "In") {
        if (found == labels.end() || !Contains(values, found->second)) return false;
      } else if (operation == "NotIn") {
        if (found != labels.end() && Contains(values, found->second)) return false;
      } else if (operation == "Exists") {
        if (found == labels.end()) return false;
      } else if (operation == "DoesNotExist") {
        if (found != labels.end()) return false;
      } else {
        return false;
      }
    }
  }
  return true;
}

std::vector<PolicyRule> AggregatedRules(const Role& aggregated, const std::vector<Role>& roles) {
  std::vector<const Role*> sources;
  for (const Role& role : roles) {
    if (!role.namespace_.empty() || role.name == aggregated.name) continue;
    for (const auto& selector : *aggregated.aggregation_selectors) {
      if (LabelSelectorMatches(selector, role.labels)) {
        sources.push_back(&role);
        break;
      }
    }
  }
  std::sort(sources.begin(), sources.end(),
            [](const Role* a, const Role* b) { return a->name < b->name; });
  std::vector<PolicyRule> rules;
  for (const Role* source : sources) {
    for (const auto& rule : source->rules) {
      if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(rule);
    }
  }
  return rules;
}

RbacAuthorizer::RbacAuthorizer(LoopbackCall call)
    : call_(std::move(call)), snapshot_(std::make_shared<Snapshot>(Policy({}, {}))) {}

RbacAuthorizer::~RbacAuthorizer() {
  Stop();
}

std::shared_ptr<const RbacAuthorizer::Snapshot> RbacAuthorizer::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

std::shared_ptr<const Policy> RbacAuthorizer::policy() const {
  auto current = snapshot();
  return std::shared_ptr<const Policy>(current, &current->policy);
}

Verdict RbacAuthorizer::Authorize(const Attributes& attributes) const {
  const auto current = snapshot();
  const std::string key = CacheKey(attributes);
  {
    std::shared_lock lock(current->cache_mutex);
    const auto found = current->cache.find(key);
    if (found != current->cache.end()) return found->second;
  }
  Verdict verdict = current->policy.Authorize(attributes);
  std::unique_lock lock(current->cache_mutex);
  if (current->cache.size() >= kMaxCachedDecisions) current->cache.clear();
  current->cache.emplace(key, verdict);
  return verdict;
}

void RbacAuthorizer::Reload() {
  std::lock_guard reload(reload_mutex_);
  constexpr int kPasses = 5;
  for (int pass = 0; pass < kPasses; ++pass) {
    std::vector<Role> roles;
    std::vector<Binding> bindings;
    std::string fingerprint;
    for (const char* plural : {"clusterroles", "roles", "clusterrolebindings", "rolebindings"}) {
      auto items = ListItems(call_, plural);
      if (!items) {
        KLOG_V(2, "RBAC: cannot list {}; keeping the previous policy", plural);
        return;
      }
      fingerprint += plural;
      for (const auto& item : *items) {
        if (!item.is_object()) continue;
        fingerprint += ',';
        fingerprint += ResourceVersionOf(item);
        const std::string_view p(plural);
        if (p.ends_with("roles")) {
          roles.push_back(ParseRole(item.get_object()));
        } else {
          bindings.push_back(ParseBinding(item.get_object()));
        }
      }
    }
    if (fingerprint == fingerprint_) return;
    Policy policy(std::move(roles), std::move(bindings));
    // After an aggregated role was rewritten, read again so the snapshot holds its new rules. The
    // last pass installs what it read even if aggregation has not settled (admin aggregates edit,
    // which aggregates view): a policy without the newest aggregation beats none at first start.
    if (pass + 1 < kPasses && Aggregate(policy)) continue;
    fingerprint_ = std::move(fingerprint);
    auto next = std::make_shared<Snapshot>(std::move(policy));
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(next);
    return;
  }
}

bool RbacAuthorizer::Aggregate(const Policy& policy) {
  bool changed = false;
  for (const Role& role : policy.roles()) {
    if (!role.namespace_.empty() || !role.aggregation_selectors) continue;
    std::vector<PolicyRule> rules = AggregatedRules(role, policy.roles());
    if (rules == role.rules) continue;
    boost::json::array json_rules;
    for (const auto& rule : rules)
      json_rules.push_back(PolicyRuleToJson(rule));
    boost::json::object patch;
    patch["rules"] = std::move(json_rules);
    http::Request request = http::Request::LocalJson(
        "PATCH", fmt::format("/apis/{}/v1/clusterroles/{}", kRbacGroup, role.name),
        boost::json::serialize(patch), {{"fieldManager", "clusterrole-aggregation-controller"}});
    for (auto& header : request.headers) {
      if (header.name == "Content-Type") header.value = "application/merge-patch+json";
    }
    request.headers.push_back({"User-Agent", "kpp-clusterrole-aggregation-controller"});
    const http::Response response = call_(request);
    if (response.status >= 300) {
      KLOG_V(1, "clusterrole aggregation: updating {} failed: {}", role.name, response.body);
      continue;
    }
    changed = true;
  }
  return changed;
}

void RbacAuthorizer::Start(std::chrono::milliseconds period) {
  thread_ = std::thread([this, period] {
    std::unique_lock lock(thread_mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, period, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      Reload();
      lock.lock();
    }
  });
}

void RbacAuthorizer::Stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kpp::apiserver::authz
