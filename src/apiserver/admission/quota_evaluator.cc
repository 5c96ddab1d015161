#include "apiserver/admission/quota_evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "apiserver/admission/json_access.h"

namespace kpp::apiserver::admission::quota {
namespace {

using boost::json::object;
using resource::Quantity;

constexpr std::string_view kRequestsPrefix = "requests.";
constexpr std::string_view kHugePagesPrefix = "hugepages-";
constexpr std::string_view kStorageClassSuffix = ".storageclass.storage.k8s.io/";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

Quantity One() {
  return Quantity::FromInt64(1);
}

// Upstream's IsExtendedResourceName: a domain-qualified name outside kubernetes.io.
bool IsExtendedResourceName(std::string_view name) {
  if (StartsWith(name, kRequestsPrefix)) return false;
  if (name.find('/') == std::string_view::npos) return false;
  return name.find("kubernetes.io/") == std::string_view::npos;
}

// The pods evaluator's own names (upstream's podResources).
const std::set<std::string, std::less<>>& PodResourceNames() {
  static const std::set<std::string, std::less<>> names = {"count/pods",
                                                           "cpu",
                                                           "memory",
                                                           "ephemeral-storage",
                                                           "requests.cpu",
                                                           "requests.memory",
                                                           "requests.ephemeral-storage",
                                                           "limits.cpu",
                                                           "limits.memory",
                                                           "limits.ephemeral-storage",
                                                           "pods"};
  return names;
}

void AddTo(ResourceList& into, const ResourceList& from) {
  for (const auto& [name, quantity] : from) {
    auto [it, inserted] = into.emplace(name, quantity);
    if (!inserted) it->second.Add(quantity);
  }
}

void MaxInto(ResourceList& into, const ResourceList& from) {
  for (const auto& [name, quantity] : from) {
    auto [it, inserted] = into.emplace(name, quantity);
    if (!inserted && quantity.Cmp(it->second) > 0) it->second = quantity;
  }
}

const object* ContainerResources(const object& container, std::string_view which) {
  return json::Object(json::Object(&container, "resources"), which);
}

// Upstream's PodRequests / PodLimits: the containers' sum, at least what any init container
// needs (with the sidecars started before it), plus the pod overhead.
ResourceList PodAggregate(const object& pod, std::string_view which) {
  const object* spec = json::Object(&pod, "spec");
  ResourceList total;
  if (const auto* containers = json::Array(spec, "containers")) {
    for (const auto& container : *containers) {
      if (container.is_object()) {
        AddTo(total, ParseResourceList(ContainerResources(container.as_object(), which)));
      }
    }
  }
  ResourceList sidecars, init_max;
  if (const auto* containers = json::Array(spec, "initContainers")) {
    for (const auto& value : *containers) {
      if (!value.is_object()) continue;
      const object& container = value.as_object();
      ResourceList own = ParseResourceList(ContainerResources(container, which));
      if (json::String(&container, "restartPolicy") == "Always") {
        AddTo(total, own);
        AddTo(sidecars, own);
        MaxInto(init_max, sidecars);
      } else {
        AddTo(own, sidecars);
        MaxInto(init_max, own);
      }
    }
  }
  MaxInto(total, init_max);
  for (const auto& [name, quantity] : ParseResourceList(json::Object(spec, "overhead"))) {
    // Limits take the overhead only where the containers set one.
    auto it = total.find(name);
    if (it != total.end()) {
      it->second.Add(quantity);
    } else if (which == "requests") {
      total.emplace(name, quantity);
    }
  }
  return total;
}

// Upstream's podComputeUsageHelper.
ResourceList PodComputeUsage(const ResourceList& requests, const ResourceList& limits) {
  ResourceList result;
  result["pods"] = One();
  for (std::string_view name : {"cpu", "memory", "ephemeral-storage"}) {
    if (auto it = requests.find(name); it != requests.end()) {
      result[std::string(name)] = it->second;
      result[fmt::format("requests.{}", name)] = it->second;
    }
    if (auto it = limits.find(name); it != limits.end()) {
      result[fmt::format("limits.{}", name)] = it->second;
    }
  }
  for (const auto& [name, quantity] : requests) {
    if (StartsWith(name, kHugePagesPrefix)) {
      result[name] = quantity;
      result[fmt::format("requests.{}", name)] = quantity;
    }
    if (IsExtendedResourceName(name)) result[fmt::format("requests.{}", name)] = quantity;
  }
  return result;
}

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  std::tm tm{};
  const std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Upstream's QuotaV1Pod: pods that reached a terminal phase, or whose graceful deletion is
// overdue, no longer use compute resources.
bool PodUsesCompute(const object& pod, std::chrono::system_clock::time_point now) {
  const std::string_view phase = json::String(json::Object(&pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const object* metadata = json::Object(&pod, "metadata");
  const auto deletion = json::String(metadata, "deletionTimestamp");
  const auto grace = json::Int(metadata, "deletionGracePeriodSeconds");
  if (!deletion.empty() && grace) {
    if (auto at = ParseTime(deletion)) {
      if (now > *at + std::chrono::seconds(*grace)) return false;
    }
  }
  return true;
}

// Upstream's QoS: BestEffort when no container asks or limits cpu or memory.
bool IsBestEffort(const object& pod) {
  const object* spec = json::Object(&pod, "spec");
  for (std::string_view list : {"containers", "initContainers"}) {
    const auto* containers = json::Array(spec, list);
    if (containers == nullptr) continue;
    for (const auto& container : *containers) {
      if (!container.is_object()) continue;
      for (std::string_view which : {"requests", "limits"}) {
        ResourceList resources =
            ParseResourceList(ContainerResources(container.as_object(), which));
        for (std::string_view name : {"cpu", "memory"}) {
          auto it = resources.find(name);
          if (it != resources.end() && !it->second.IsZero()) return false;
        }
      }
    }
  }
  return true;
}

bool IsTerminating(const object& pod) {
  auto deadline = json::Int(json::Object(&pod, "spec"), "activeDeadlineSeconds");
  return deadline && *deadline >= 0;
}

bool TermUsesOtherNamespaces(const boost::json::value& term) {
  if (!term.is_object()) return false;
  const object& fields = term.as_object();
  const auto* namespaces = json::Array(&fields, "namespaces");
  return (namespaces != nullptr && !namespaces->empty()) || json::Has(&fields, "namespaceSelector");
}

// Upstream's usesCrossNamespacePodAffinity.
bool UsesCrossNamespacePodAffinity(const object& pod) {
  const object* affinity = json::Object(json::Object(&pod, "spec"), "affinity");
  for (std::string_view kind : {"podAffinity", "podAntiAffinity"}) {
    const object* terms = json::Object(affinity, kind);
    if (const auto* required =
            json::Array(terms, "requiredDuringSchedulingIgnoredDuringExecution")) {
      for (const auto& term : *required)
        if (TermUsesOtherNamespaces(term)) return true;
    }
    if (const auto* preferred =
            json::Array(terms, "preferredDuringSchedulingIgnoredDuringExecution")) {
      for (const auto& weighted : *preferred) {
        if (!weighted.is_object()) continue;
        const auto* term = weighted.as_object().if_contains("podAffinityTerm");
        if (term != nullptr && TermUsesOtherNamespaces(*term)) return true;
      }
    }
  }
  return false;
}

// A label-selector requirement on {"priorityClass": <name>}, which always has the key.
bool MatchesPriorityClass(const ScopeRequirement& scope, std::string_view priority_class) {
  const bool listed =
      std::find(scope.values.begin(), scope.values.end(), priority_class) != scope.values.end();
  if (scope.op == "Exists") return !priority_class.empty();
  if (scope.op == "In") return listed;
  if (scope.op == "NotIn") return !listed;
  return false;  // DoesNotExist: the key is always there
}

// The storage class a claim names (the beta annotation still counts, as upstream).
std::string_view StorageClassOf(const object& claim) {
  const object* annotations = json::Object(json::Object(&claim, "metadata"), "annotations");
  if (auto beta = json::String(annotations, "volume.beta.kubernetes.io/storage-class");
      !beta.empty()) {
    return beta;
  }
  return json::String(json::Object(&claim, "spec"), "storageClassName");
}

std::string LegacyCountName(std::string_view group, std::string_view resource) {
  if (!group.empty()) return "";
  for (std::string_view legacy : {"configmaps", "resourcequotas", "replicationcontrollers",
                                  "secrets", "services", "pods", "persistentvolumeclaims"}) {
    if (resource == legacy) return std::string(legacy);
  }
  return "";
}

}  // namespace

ResourceList ParseResourceList(const object* list) {
  ResourceList result;
  if (list == nullptr) return result;
  for (const auto& [name, value] : *list) {
    if (value.is_string()) {
      auto parsed = Quantity::Parse(value.as_string());
      if (parsed.ok()) result.emplace(std::string(name), *parsed);
    } else if (auto number = json::Int(list, name)) {
      result.emplace(std::string(name), Quantity::FromInt64(*number));
    }
  }
  return result;
}

object ToJson(const ResourceList& list) {
  object result;
  for (const auto& [name, quantity] : list)
    result[name] = quantity.String();
  return result;
}

ResourceList Add(const ResourceList& a, const ResourceList& b) {
  ResourceList result = a;
  AddTo(result, b);
  return result;
}

ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b) {
  ResourceList result;
  for (const auto& [name, quantity] : a) {
    Quantity value = quantity;
    if (auto it = b.find(name); it != b.end()) value.Sub(it->second);
    if (value.Sign() < 0) value = Quantity();
    result.emplace(name, value);
  }
  return result;
}

ResourceList Mask(const ResourceList& list, const std::vector<std::string>& names) {
  ResourceList result;
  for (const auto& name : names) {
    if (auto it = list.find(name); it != list.end()) result.emplace(name, it->second);
  }
  return result;
}

std::vector<std::string> Names(const ResourceList& list) {
  std::vector<std::string> names;
  for (const auto& entry : list)
    names.push_back(entry.first);
  return names;
}

bool Equal(const ResourceList& a, const ResourceList& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, quantity] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.Cmp(quantity) != 0) return false;
  }
  return true;
}

std::string PrettyPrint(const ResourceList& list) {
  std::string text;
  for (const auto& [name, quantity] : list) {
    if (!text.empty()) text += ',';
    text += fmt::format("{}={}", name, quantity.String());
  }
  return text;
}

std::vector<ScopeRequirement> ScopesOf(const object& resource_quota) {
  std::vector<ScopeRequirement> scopes;
  const object* spec = json::Object(&resource_quota, "spec");
  if (const auto* names = json::Array(spec, "scopes")) {
    for (const auto& name : *names) {
      if (name.is_string()) scopes.push_back({std::string(name.as_string()), "Exists", {}});
    }
  }
  if (const auto* expressions =
          json::Array(json::Object(spec, "scopeSelector"), "matchExpressions")) {
    for (const auto& value : *expressions) {
      if (!value.is_object()) continue;
      const object& expression = value.as_object();
      ScopeRequirement requirement{std::string(json::String(&expression, "scopeName")),
                                   std::string(json::String(&expression, "operator")),
                                   {}};
      if (const auto* values = json::Array(&expression, "values")) {
        for (const auto& item : *values) {
          if (item.is_string()) requirement.values.emplace_back(item.as_string());
        }
      }
      scopes.push_back(std::move(requirement));
    }
  }
  return scopes;
}

std::optional<Evaluator> Evaluator::For(std::string_view group, std::string_view resource) {
  if ((group.empty() || group == "events.k8s.io") && resource == "events") return std::nullopt;
  if (group.empty() && resource == "pods") return Evaluator(Type::kPods, group, resource);
  if (group.empty() && resource == "services") return Evaluator(Type::kServices, group, resource);
  if (group.empty() && resource == "persistentvolumeclaims") {
    return Evaluator(Type::kPersistentVolumeClaims, group, resource);
  }
  return Evaluator(Type::kObjectCount, group, resource);
}

std::string Evaluator::CountName() const {
  return group_.empty() ? fmt::format("count/{}", resource_)
                        : fmt::format("count/{}.{}", resource_, group_);
}

bool Evaluator::Handles(Operation operation) const {
  switch (type_) {
    case Type::kServices:
    case Type::kPersistentVolumeClaims:
      return operation == Operation::kCreate || operation == Operation::kUpdate;
    case Type::kPods:
    case Type::kObjectCount: return operation == Operation::kCreate;
  }
  return false;
}

std::vector<std::string> Evaluator::MatchingResources(const std::vector<std::string>& names) const {
  std::vector<std::string> matching;
  const std::string count = CountName();
  const std::string legacy = LegacyCountName(group_, resource_);
  for (const auto& name : names) {
    bool match = name == count || (!legacy.empty() && name == legacy);
    switch (type_) {
      case Type::kPods:
        match = match || PodResourceNames().contains(name) || StartsWith(name, kHugePagesPrefix) ||
                StartsWith(name, "requests.hugepages-") ||
                (StartsWith(name, kRequestsPrefix) &&
                 IsExtendedResourceName(std::string_view(name).substr(kRequestsPrefix.size())));
        break;
      case Type::kServices:
        match = match || name == "services.loadbalancers" || name == "services.nodeports";
        break;
      case Type::kPersistentVolumeClaims:
        match =
            match || name == "requests.storage" ||
            (name.find(kStorageClassSuffix) != std::string::npos &&
             (EndsWith(name, "/requests.storage") || EndsWith(name, "/persistentvolumeclaims")));
        break;
      case Type::kObjectCount: break;
    }
    if (match) matching.push_back(name);
  }
  return matching;
}

bool Evaluator::MatchesScope(const ScopeRequirement& scope, const object& object) const {
  if (type_ != Type::kPods) return false;
  if (scope.scope == "Terminating") return IsTerminating(object);
  if (scope.scope == "NotTerminating") return !IsTerminating(object);
  if (scope.scope == "BestEffort") return IsBestEffort(object);
  if (scope.scope == "NotBestEffort") return !IsBestEffort(object);
  if (scope.scope == "PriorityClass") {
    return MatchesPriorityClass(scope,
                                json::String(json::Object(&object, "spec"), "priorityClassName"));
  }
  if (scope.scope == "CrossNamespacePodAffinity") return UsesCrossNamespacePodAffinity(object);
  return false;
}

bool Evaluator::Matches(const object& resource_quota, const object& object) const {
  const ResourceList hard =
      ParseResourceList(json::Object(json::Object(&resource_quota, "status"), "hard"));
  if (MatchingResources(Names(hard)).empty()) return false;
  for (const auto& scope : ScopesOf(resource_quota)) {
    if (!MatchesScope(scope, object)) return false;
  }
  return true;
}

ResourceList Evaluator::Usage(const object& item, std::chrono::system_clock::time_point now) const {
  ResourceList usage;
  usage[CountName()] = One();
  if (auto legacy = LegacyCountName(group_, resource_); !legacy.empty() && type_ != Type::kPods) {
    usage[legacy] = One();
  }
  switch (type_) {
    case Type::kPods:
      if (PodUsesCompute(item, now)) {
        AddTo(usage, PodComputeUsage(PodAggregate(item, "requests"), PodAggregate(item, "limits")));
      }
      break;
    case Type::kServices: {
      const object* spec = json::Object(&item, "spec");
      const auto* ports = json::Array(spec, "ports");
      const int64_t port_count = ports != nullptr ? static_cast<int64_t>(ports->size()) : 0;
      const std::string_view type = json::String(spec, "type");
      if (type == "NodePort") {
        usage["services.nodeports"] = Quantity::FromInt64(port_count);
      } else if (type == "LoadBalancer") {
        int64_t node_ports = port_count;
        if (json::Bool(spec, "allocateLoadBalancerNodePorts") == false) {
          node_ports = 0;
          for (const auto& port : *ports) {
            if (port.is_object() && json::Int(&port.as_object(), "nodePort").value_or(0) != 0) {
              ++node_ports;
            }
          }
        }
        usage["services.nodeports"] = Quantity::FromInt64(node_ports);
        usage["services.loadbalancers"] = One();
      }
      break;
    }
    case Type::kPersistentVolumeClaims: {
      const std::string_view storage_class = StorageClassOf(item);
      if (!storage_class.empty()) {
        usage[fmt::format("{}{}persistentvolumeclaims", storage_class, kStorageClassSuffix)] =
            One();
      }
      ResourceList requests = ParseResourceList(
          json::Object(json::Object(json::Object(&item, "spec"), "resources"), "requests"));
      if (auto it = requests.find("storage"); it != requests.end()) {
        usage["requests.storage"] = it->second;
        if (!storage_class.empty()) {
          usage[fmt::format("{}{}requests.storage", storage_class, kStorageClassSuffix)] =
              it->second;
        }
      }
      break;
    }
    case Type::kObjectCount: break;
  }
  return usage;
}

std::optional<std::string> Evaluator::Constraints(const std::vector<std::string>& required,
                                                  const object& object) const {
  if (type_ != Type::kPods) return std::nullopt;
  static const std::set<std::string, std::less<>> kValidated = {
      "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"};
  std::set<std::string> required_set;
  for (const auto& name : required) {
    if (kValidated.contains(name)) required_set.insert(name);
  }
  if (required_set.empty()) return std::nullopt;
  std::map<std::string, std::set<std::string>> missing;
  const auto* spec = json::Object(&object, "spec");
  for (std::string_view list : {"containers", "initContainers"}) {
    const auto* containers = json::Array(spec, list);
    if (containers == nullptr) continue;
    for (const auto& value : *containers) {
      if (!value.is_object()) continue;
      const auto& container = value.as_object();
      ResourceList usage =
          PodComputeUsage(ParseResourceList(ContainerResources(container, "requests")),
                          ParseResourceList(ContainerResources(container, "limits")));
      for (const auto& name : required_set) {
        if (!usage.contains(name)) {
          missing[name].insert(std::string(json::String(&container, "name")));
        }
      }
    }
  }
  if (missing.empty()) return std::nullopt;
  std::string text;
  for (const auto& [name, containers] : missing) {
    if (!text.empty()) text += "; ";
    text += fmt::format("{} for: {}", name, fmt::join(containers, ","));
  }
  return fmt::format("must specify {}", text);
}

std::optional<GroupResource> GroupResourceOf(std::string_view name) {
  if (StartsWith(name, "count/")) {
    std::string_view rest = name.substr(6);
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return GroupResource{"", std::string(rest)};
    return GroupResource{std::string(rest.substr(dot + 1)), std::string(rest.substr(0, dot))};
  }
  for (std::string_view legacy : {"configmaps", "resourcequotas", "replicationcontrollers",
                                  "secrets", "services", "pods", "persistentvolumeclaims"}) {
    if (name == legacy) return GroupResource{"", std::string(legacy)};
  }
  for (std::string_view resource : {"pods", "services", "persistentvolumeclaims"}) {
    auto evaluator = Evaluator::For("", resource);
    if (!evaluator->MatchingResources({std::string(name)}).empty()) {
      return GroupResource{"", std::string(resource)};
    }
  }
  return std::nullopt;
}

Result<ResourceList> CalculateUsage(const object& resource_quota, std::string_view namespace_,
                                    const Reader& reader,
                                    std::chrono::system_clock::time_point now) {
  const ResourceList hard =
      ParseResourceList(json::Object(json::Object(&resource_quota, "spec"), "hard"));
  const std::vector<std::string> hard_names = Names(hard);
  const auto scopes = ScopesOf(resource_quota);
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_resource;
  for (const auto& name : hard_names) {
    if (auto group_resource = GroupResourceOf(name)) {
      by_resource[{group_resource->group, group_resource->resource}].push_back(name);
    }
  }
  ResourceList used;
  for (const auto& [group_resource, names] : by_resource) {
    auto evaluator = Evaluator::For(group_resource.first, group_resource.second);
    if (!evaluator) continue;
    const auto matching = evaluator->MatchingResources(names);
    for (const auto& name : matching)
      used.emplace(name, Quantity());
    KPP_ASSIGN_OR_RETURN(auto objects,
                         reader.List(group_resource.first, group_resource.second, namespace_));
    for (const auto& item : objects) {
      bool in_scope = true;
      for (const auto& scope : scopes)
        in_scope = in_scope && evaluator->MatchesScope(scope, item);
      if (!in_scope) continue;
      AddTo(used, Mask(evaluator->Usage(item, now), matching));
    }
  }
  return used;
}

}  // namespace kpp::apiserver::admission::quota
