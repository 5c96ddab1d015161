#include "controllers/namespace/namespaced_resources_deleter.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::controllers {
namespace {

using api::core::v1::Namespace;
using api::core::v1::NamespaceCondition;
using api::core::v1::NamespaceStatus;

constexpr char kDiscoveryFailure[] = "NamespaceDeletionDiscoveryFailure";
constexpr char kGroupVersionParsingFailure[] = "NamespaceDeletionGroupVersionParsingFailure";
constexpr char kContentFailure[] = "NamespaceDeletionContentFailure";
constexpr char kContentRemaining[] = "NamespaceContentRemaining";
constexpr char kFinalizersRemaining[] = "NamespaceFinalizersRemaining";

// The conditions the deleter owns, in upstream's order, with the reason and message each has
// when nothing is wrong.
struct OkCondition {
  const char* type;
  const char* reason;
  const char* message;
};
constexpr OkCondition kOkConditions[] = {
    {kDiscoveryFailure, "ResourcesDiscovered", "All resources successfully discovered"},
    {kGroupVersionParsingFailure, "ParsedGroupVersions",
     "All legacy kube types successfully parsed"},
    {kContentFailure, "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"},
    {kContentRemaining, "ContentRemoved", "All content successfully removed"},
    {kFinalizersRemaining, "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
};

bool Has(const std::vector<std::string>& verbs, std::string_view verb) {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

// A resource the server does not serve that way (upstream's IsMethodNotSupported || IsNotFound).
bool NotSupported(const Error& error) {
  return error.code() == ErrorCode::kMethodNotAllowed || client::IsNotFound(error);
}

// utilerrors.NewAggregate's message.
std::string AggregateMessage(const std::vector<std::string>& messages) {
  if (messages.size() == 1) return messages.front();
  return fmt::format("[{}]", fmt::join(messages, ", "));
}

api::Time TimeAt(Clock::TimePoint when) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
}

const NamespaceCondition* FindCondition(const std::vector<NamespaceCondition>& conditions,
                                        std::string_view type) {
  for (const auto& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

}  // namespace

std::string GoString(const GroupVersionResource& resource) {
  return fmt::format("{{{} {} {}}}", resource.group, resource.version, resource.resource);
}

bool UpdateNamespaceDeletionConditions(NamespaceStatus& status,
                                       const NamespaceDeletionFindings& findings, api::Time now) {
  std::vector<NamespaceCondition> failing;
  const auto fail = [&](const char* type, const char* reason, std::string message) {
    failing.push_back({type, "True", now, reason, std::move(message)});
  };
  if (findings.discovery_failure) {
    fail(kDiscoveryFailure, "DiscoveryFailed", *findings.discovery_failure);
  }
  if (findings.group_version_failure) {
    fail(kGroupVersionParsingFailure, "GroupVersionParsingFailed", *findings.group_version_failure);
  }
  std::vector<std::string> resources;
  for (const auto& [resource, count] : findings.totals.remaining_by_resource) {
    if (count == 0) continue;
    resources.push_back(
        fmt::format("{}.{} has {} resource instances", resource.resource, resource.group, count));
  }
  std::sort(resources.begin(), resources.end());  // upstream sorts the sentences
  if (!findings.totals.remaining_by_resource.empty()) {
    fail(kContentRemaining, "SomeResourcesRemain",
         fmt::format("Some resources are remaining: {}", fmt::join(resources, ", ")));
  }
  std::vector<std::string> finalizers;
  for (const auto& [finalizer, count] : findings.totals.remaining_by_finalizer) {
    if (count == 0) continue;
    finalizers.push_back(fmt::format("{} in {} resource instances", finalizer, count));
  }
  std::sort(finalizers.begin(), finalizers.end());
  if (!findings.totals.remaining_by_finalizer.empty()) {
    fail(kFinalizersRemaining, "SomeFinalizersRemain",
         fmt::format("Some content in the namespace has finalizers remaining: {}",
                     fmt::join(finalizers, ", ")));
  }
  if (!findings.content_failures.empty()) {
    auto messages = findings.content_failures;
    std::sort(messages.begin(), messages.end());
    fail(kContentFailure, "ContentDeletionFailed",
         fmt::format("Failed to delete all resource types, {} remaining: {}", messages.size(),
                     fmt::join(messages, ", ")));
  }

  bool changed = false;
  for (const auto& ok : kOkConditions) {
    NamespaceCondition wanted{ok.type, "False", now, ok.reason, ok.message};
    if (const auto* failed = FindCondition(failing, ok.type)) wanted = *failed;
    auto existing = std::find_if(status.conditions.begin(), status.conditions.end(),
                                 [&](const auto& condition) { return condition.type == ok.type; });
    if (existing == status.conditions.end()) {
      status.conditions.push_back(std::move(wanted));
      changed = true;
    } else if (existing->status != wanted.status || existing->reason != wanted.reason ||
               existing->message != wanted.message) {
      if (existing->status != wanted.status) existing->last_transition_time = now;
      existing->status = wanted.status;
      existing->reason = wanted.reason;
      existing->message = wanted.message;
      changed = true;
    }
  }
  return changed;
}

Result<int64_t> NamespacedResourcesDeleter::Delete(const std::string& name) {
  // Several writers change a terminating namespace: start from the server's latest state.
  auto got = client_.GetNamespace(name);
  if (!got.ok()) {
    if (client::IsNotFound(got.error())) return 0;
    return std::move(got).error();
  }
  Namespace ns = std::move(got).value();
  if (!ns.metadata.deletion_timestamp) return 0;
  KLOG_V(5, "namespace controller: syncing terminating namespace {}", name);

  // The phase says Terminating (the API server sets it with the deletion; another writer may
  // have changed it since).
  while (ns.status.phase != "Terminating") {
    Namespace terminating = ns;
    terminating.status.phase = "Terminating";
    auto updated = client_.UpdateNamespaceStatus(terminating);
    if (updated.ok()) {
      ns = std::move(updated).value();
      break;
    }
    if (client::IsNotFound(updated.error())) return 0;
    if (!client::IsConflict(updated.error())) return std::move(updated).error();
    auto latest = client_.GetNamespace(name);
    if (!latest.ok()) {
      if (client::IsNotFound(latest.error())) return 0;
      return std::move(latest).error();
    }
    if (latest->metadata.uid != ns.metadata.uid) {
      return InternalError("namespace uid has changed across retries");
    }
    ns = std::move(latest).value();
  }
  if (!ns.metadata.deletion_timestamp) return 0;
  if (ns.spec.finalizers.empty()) return 0;  // finalized: the API server deletes it

  KPP_ASSIGN_OR_RETURN(const int64_t estimate, DeleteAllContent(ns));
  if (estimate > 0) return estimate;

  auto finalized = Finalize(std::move(ns));
  // Another controller sharing the finalizer may have finished first.
  if (!finalized.ok() && !client::IsNotFound(finalized.error())) {
    return std::move(finalized).error();
  }
  return 0;
}

Result<Namespace> NamespacedResourcesDeleter::Finalize(Namespace ns) {
  while (true) {
    Namespace finalize = ns;
    std::vector<std::string> kept;
    for (const auto& finalizer : ns.spec.finalizers) {
      if (finalizer != kNamespaceFinalizer) kept.push_back(finalizer);
    }
    std::sort(kept.begin(), kept.end());
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    finalize.spec.finalizers = std::move(kept);
    auto done = client_.FinalizeNamespace(finalize);
    if (done.ok()) return done;
    if (client::IsNotFound(done.error())) return finalize;
    if (!client::IsConflict(done.error())) return done;
    auto latest = client_.GetNamespace(ns.metadata.name);
    if (!latest.ok()) return latest;
    if (latest->metadata.uid != ns.metadata.uid) {
      return InternalError("namespace uid has changed across retries");
    }
    ns = std::move(latest).value();
  }
}

Result<int64_t> NamespacedResourcesDeleter::DeleteAllContent(Namespace& ns) {
  const std::string& name = ns.metadata.name;
  const api::Time deleted_at = *ns.metadata.deletion_timestamp;
  std::vector<std::string> errors;
  NamespaceDeletionFindings findings;

  // Discovery errors are not fatal: what was found is still emptied. Any discovery made after
  // the deletion began will do: no resource created since can have content here, as the API
  // server refuses new objects in a terminating namespace, so passes share one.
  Discovery discovery = client_.DiscoverNamespacedResources(
      Clock::TimePoint(std::chrono::seconds(deleted_at.unix_seconds + 1)));
  if (discovery.error) {
    errors.push_back(discovery.error->message());
    findings.discovery_failure = discovery.error->message();
  } else if (!discovery.failed_group_versions.empty()) {
    std::vector<std::string> groups;
    for (const auto& [group_version, why] : discovery.failed_group_versions) {
      groups.push_back(fmt::format("{}: {}", group_version, why));
    }
    const std::string message = fmt::format(
        "unable to retrieve the complete list of server APIs: {}", fmt::join(groups, ", "));
    errors.push_back(message);
    findings.discovery_failure =
        fmt::format("Discovery failed for some groups, {} failing: {}", groups.size(), message);
  }

  // Every resource with the delete verb, by group, version and resource.
  std::map<GroupVersionResource, std::vector<std::string>> deletable;
  for (const auto& listed : discovery.group_versions) {
    std::vector<const DiscoveredResource*> resources;
    for (const auto& resource : listed.resources) {
      if (Has(resource.verbs, "delete")) resources.push_back(&resource);
    }
    if (resources.empty()) continue;
    const std::string& text = listed.group_version;
    const auto slash = text.find('/');
    GroupVersionResource parsed;
    if (slash == std::string::npos) {
      parsed.version = text;
    } else if (text.find('/', slash + 1) == std::string::npos) {
      parsed.group = text.substr(0, slash);
      parsed.version = text.substr(slash + 1);
    }
    if (parsed.version.empty()) {
      // As upstream: one unparseable group version and none is used.
      const std::string message = fmt::format("unexpected GroupVersion string: {}", text);
      errors.push_back(message);
      findings.group_version_failure = message;
      deletable.clear();
      break;
    }
    for (const auto* resource : resources) {
      parsed.resource = resource->name;
      deletable.emplace(parsed, resource->verbs);
    }
  }

  int64_t estimate = 0;
  for (const auto& [resource, verbs] : deletable) {
    ResourceOutcome outcome;
    auto status = DeleteAllContentFor(resource, verbs, name, deleted_at, outcome);
    if (!status.ok()) {
      errors.push_back(status.error().message());
      findings.content_failures.push_back(status.error().message());
    }
    estimate = std::max(estimate, outcome.estimate);
    if (outcome.remaining > 0) {
      findings.totals.remaining_by_resource[resource] = outcome.remaining;
      for (const auto& [finalizer, count] : outcome.remaining_by_finalizer) {
        if (count > 0) findings.totals.remaining_by_finalizer[finalizer] += count;
      }
    }
  }

  // Always written when it changed: a condition that was failing may be fine now.
  if (UpdateNamespaceDeletionConditions(ns.status, findings, TimeAt(clock_.Now()))) {
    auto updated = client_.UpdateNamespaceStatus(ns);
    if (updated.ok()) {
      ns = std::move(updated).value();
    } else {
      KLOG_ERROR("couldn't update status condition for namespace \"{}\": {}", name,
                 updated.error().message());
    }
  }
  KLOG_V(4, "namespace controller: deleteAllContent of {}: estimate {}, {} errors", name, estimate,
         errors.size());
  if (!errors.empty()) return InternalError(AggregateMessage(errors));
  return estimate;
}

Status NamespacedResourcesDeleter::DeleteAllContentFor(const GroupVersionResource& resource,
                                                       const std::vector<std::string>& verbs,
                                                       const std::string& ns, api::Time deleted_at,
                                                       ResourceOutcome& outcome) {
  auto estimated = EstimateGracefulTermination(resource, ns, deleted_at);
  if (!estimated.ok()) return std::move(estimated).error();
  const int64_t estimate = *estimated;
  outcome.estimate = estimate;

  bool deleted_collection = false;
  if (Has(verbs, "deletecollection")) {
    auto status = client_.DeleteCollection(resource, ns);
    if (status.ok()) {
      deleted_collection = true;
    } else if (!NotSupported(status.error())) {
      return status;
    }
  }
  const bool listable = Has(verbs, "list");
  if (!deleted_collection && listable) {
    auto listed = client_.List(resource, ns);
    if (!listed.ok() && !NotSupported(listed.error())) return std::move(listed).error();
    if (listed.ok()) {
      for (const auto& object : *listed) {
        auto status = client_.Delete(resource, ns, object.name);
        if (!status.ok() && !NotSupported(status.error())) return status;
      }
    }
  }
  if (!listable) return Ok();

  // What is left: nothing, or objects waiting for a grace period or finalizers.
  auto left = client_.List(resource, ns);
  if (!left.ok()) {
    if (NotSupported(left.error())) return Ok();
    return std::move(left).error();
  }
  if (left->empty()) {
    outcome = {};
    return Ok();
  }
  std::map<std::string, int> by_finalizer;
  for (const auto& object : *left) {
    for (const auto& finalizer : object.finalizers)
      ++by_finalizer[finalizer];
  }
  outcome.remaining = static_cast<int>(left->size());
  outcome.remaining_by_finalizer = by_finalizer;
  if (estimate != 0) return Ok();
  // Finalizers are a normal reason to wait: give them upstream's default time.
  if (!by_finalizer.empty()) {
    outcome.estimate = kFinalizerEstimateSeconds;
    return Ok();
  }
  return InternalError(fmt::format("unexpected items still remain in namespace: {} for gvr: {}", ns,
                                   GoString(resource)));
}

Result<int64_t> NamespacedResourcesDeleter::EstimateGracefulTermination(
    const GroupVersionResource& resource, const std::string& ns, api::Time deleted_at) {
  int64_t estimate = 0;
  if (resource.group.empty() && resource.resource == "pods") {
    KPP_ASSIGN_OR_RETURN(auto pods, client_.ListPods(ns));
    for (const auto& pod : pods) {
      if (pod.status.phase == "Succeeded" || pod.status.phase == "Failed") continue;
      if (pod.spec.termination_grace_period_seconds) {
        estimate = std::max(estimate, *pod.spec.termination_grace_period_seconds);
      }
    }
  }
  // Once the namespace has been terminating that long, the grace periods are over.
  const int64_t since = TimeAt(clock_.Now()).unix_seconds - deleted_at.unix_seconds;
  if (since >= estimate) return 0;
  return estimate;
}

}  // namespace kpp::controllers
