#include "apiserver/authz/rbac_authorizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

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

int64_t ResourceVersionOf(const boost::json::object& object) {
  const auto* metadata = object.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return 0;
  const auto* version = metadata->as_object().if_contains("resourceVersion");
  if (version == nullptr || !version->is_string()) return 0;
  int64_t revision = 0;
  const std::string_view text = version->get_string();
  std::from_chars(text.data(), text.data() + text.size(), revision);
  return revision;
}

bool InitialEventsEnd(const boost::json::object& object) {
  const auto* metadata = object.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return false;
  const auto* annotations = metadata->as_object().if_contains("annotations");
  if (annotations == nullptr || !annotations->is_object()) return false;
  const auto* end = annotations->as_object().if_contains("k8s.io/initial-events-end");
  return end != nullptr && end->is_string() && end->get_string() == "true";
}

std::string KeyOf(std::string_view namespace_, std::string_view name) {
  return fmt::format("{}/{}", namespace_, name);
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
    : call_(std::move(call)), snapshot_(std::make_shared<Snapshot>(Policy({}, {}))) {
  const char* plurals[] = {"clusterroles", "roles", "clusterrolebindings", "rolebindings"};
  for (size_t i = 0; i < followed_.size(); ++i) {
    followed_[i].plural = plurals[i];
    followed_[i].roles = followed_[i].plural.ends_with("roles");
  }
}

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

void RbacAuthorizer::Install(Policy policy) {
  // A new snapshot starts with no cached decisions: those of the old one are dropped with it.
  auto next = std::make_shared<Snapshot>(std::move(policy));
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(next);
  }
  ++snapshots_built_;
}

void RbacAuthorizer::Load(std::vector<Role> roles, std::vector<Binding> bindings) {
  Install(Policy(std::move(roles), std::move(bindings)));
}

bool RbacAuthorizer::Start(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (started_) return true;
    started_ = true;
    stopping_ = false;
    for (auto& followed : followed_) {
      threads_.emplace_back([this, &followed] { Follow(followed); });
    }
  }
  const bool synced = WaitFor(
      [this] {
        return std::all_of(followed_.begin(), followed_.end(),
                           [](const Followed& f) { return f.synced; });
      },
      timeout);
  if (!synced) KLOG_WARNING("RBAC: the watches of roles and bindings did not sync in time");
  Rebuild();
  std::lock_guard lock(mutex_);
  threads_.emplace_back([this] { RebuildLoop(); });
  return synced;
}

void RbacAuthorizer::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& followed : followed_) {
      if (followed.stream) followed.stream->Cancel();
    }
    threads.swap(threads_);
  }
  changed_.notify_all();
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
}

bool RbacAuthorizer::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return stopping_ || done(); }) && !stopping_;
}

void RbacAuthorizer::Follow(Followed& followed) {
  const std::string path = fmt::format("/apis/{}/v1/{}", kRbacGroup, followed.plural);
  while (true) {
    std::vector<std::pair<std::string, std::string>> query = {{"watch", "true"},
                                                              {"allowWatchBookmarks", "true"}};
    bool in_initial = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (followed.synced) {
        query.emplace_back("resourceVersion", std::to_string(followed.revision));
      } else {
        // A watch-list: every object as an ADDED event, then the initial-events-end bookmark.
        in_initial = true;
        query.emplace_back("sendInitialEvents", "true");
        query.emplace_back("resourceVersionMatch", "NotOlderThan");
      }
    }
    http::Request request = http::Request::LocalJson("GET", path, "", std::move(query));
    request.headers.push_back({"User-Agent", "kpp-rbac-authorizer"});
    http::Response response = call_(request);
    bool restart = false;
    if (response.status == 200 && response.stream) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) {
          response.stream->Cancel();
          return;
        }
        followed.stream = response.stream;
      }
      Followed initial;
      std::string buffer;
      while (auto piece = response.stream->Next()) {
        buffer += *piece;
        size_t start = 0;
        for (size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
          if (!ApplyLine(followed, std::string_view(buffer).substr(start, end - start), initial,
                         in_initial)) {
            restart = true;
            break;
          }
        }
        buffer.erase(0, start);
        if (restart) break;
      }
      response.stream->Cancel();
      std::lock_guard lock(mutex_);
      followed.stream.reset();
      if (restart) followed.synced = false;
      if (stopping_) return;
    } else {
      KLOG_V(2, "RBAC: watching {} failed ({}): {}", followed.plural, response.status,
             response.body);
      restart = true;
    }
    if (restart || in_initial) {
      // Do not spin on a failing watch.
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  }
}

bool RbacAuthorizer::ApplyLine(Followed& followed, std::string_view line, Followed& initial,
                               bool& in_initial) {
  if (line.empty()) return true;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(line, ec);
  if (ec || !parsed.is_object()) return false;
  const auto& event = parsed.as_object();
  const auto* type = event.if_contains("type");
  const auto* object = event.if_contains("object");
  if (type == nullptr || !type->is_string() || object == nullptr || !object->is_object()) {
    return false;
  }
  const std::string_view event_type = type->get_string();
  const auto& item = object->get_object();
  if (event_type == "ERROR") {
    KLOG_V(2, "RBAC: the watch of {} ended: {}", followed.plural, boost::json::serialize(item));
    return false;
  }
  const int64_t revision = ResourceVersionOf(item);
  std::lock_guard lock(mutex_);
  if (event_type == "BOOKMARK") {
    if (in_initial && InitialEventsEnd(item)) {
      followed.role_objects = std::move(initial.role_objects);
      followed.binding_objects = std::move(initial.binding_objects);
      followed.synced = true;
      in_initial = false;
      ++generation_;
    }
    if (!in_initial) followed.revision = std::max(followed.revision, revision);
    changed_.notify_all();
    return true;
  }
  Followed& target = in_initial ? initial : followed;
  if (followed.roles) {
    Role role = ParseRole(item);
    std::string key = KeyOf(role.namespace_, role.name);
    if (event_type == "DELETED") {
      target.role_objects.erase(key);
    } else {
      target.role_objects.insert_or_assign(std::move(key), std::move(role));
    }
  } else {
    Binding binding = ParseBinding(item);
    std::string key = KeyOf(binding.namespace_, binding.name);
    if (event_type == "DELETED") {
      target.binding_objects.erase(key);
    } else {
      target.binding_objects.insert_or_assign(std::move(key), std::move(binding));
    }
  }
  if (!in_initial) {
    followed.revision = std::max(followed.revision, revision);
    ++generation_;
    changed_.notify_all();
  }
  return true;
}

void RbacAuthorizer::Rebuild() {
  std::lock_guard rebuild(rebuild_mutex_);
  constexpr int kPasses = 5;
  for (int pass = 0; pass < kPasses; ++pass) {
    std::vector<Role> roles;
    std::vector<Binding> bindings;
    uint64_t generation = 0;
    {
      std::lock_guard lock(mutex_);
      generation = generation_;
      if (generation == built_generation_ && pass == 0 && snapshots_built_ > 0) return;
      for (const auto& followed : followed_) {
        for (const auto& [key, role] : followed.role_objects)
          roles.push_back(role);
        for (const auto& [key, binding] : followed.binding_objects)
          bindings.push_back(binding);
      }
    }
    Policy policy(std::move(roles), std::move(bindings));
    // After an aggregated role was rewritten, wait for its event so the snapshot holds its new
    // rules. The last pass installs what it has even if aggregation has not settled (admin
    // aggregates edit, which aggregates view): a policy without the newest aggregation beats
    // none at first start.
    if (pass + 1 < kPasses) {
      if (const int64_t written = Aggregate(policy); written > 0) {
        WaitFor([this, written] { return followed_[0].revision >= written; },
                std::chrono::seconds(3));
        continue;
      }
    }
    built_generation_ = generation;
    Install(std::move(policy));
    return;
  }
}

void RbacAuthorizer::RebuildLoop() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] {
        return stopping_ || generation_ != built_generation_.load(std::memory_order_relaxed);
      });
      if (stopping_) return;
    }
    Rebuild();
  }
}

void RbacAuthorizer::AwaitWrite(std::string_view plural, int64_t resource_version,
                                std::chrono::milliseconds timeout) {
  for (const auto& followed : followed_) {
    if (followed.plural != plural) continue;
    WaitFor([&] { return followed.revision >= resource_version; }, timeout);
  }
  Rebuild();
}

void RbacAuthorizer::AwaitDelete(std::string_view plural, const std::string& key,
                                 std::chrono::milliseconds timeout) {
  for (const auto& followed : followed_) {
    if (followed.plural != plural) continue;
    WaitFor(
        [&] {
          return followed.roles ? !followed.role_objects.contains(key)
                                : !followed.binding_objects.contains(key);
        },
        timeout);
  }
  Rebuild();
}

int64_t RbacAuthorizer::Aggregate(const Policy& policy) {
  int64_t written = 0;
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
    boost::system::error_code ec;
    auto parsed = boost::json::parse(response.body, ec);
    const int64_t revision = !ec && parsed.is_object() ? ResourceVersionOf(parsed.as_object()) : 0;
    written = std::max<int64_t>({written, revision, 1});
  }
  return written;
}

}  // namespace kpp::apiserver::authz
