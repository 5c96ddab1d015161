// What upstream's namespace controller does to a namespace being deleted
// (pkg/controller/namespace/deletion): every namespaced resource discovery lists with the delete
// verb (built-in and custom) is emptied in the namespace (deletecollection where the resource
// has it, else list and delete each object, background propagation), the namespace's status
// conditions say what is left and what failed (NamespaceDeletionDiscoveryFailure,
// NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
// NamespaceContentRemaining, NamespaceFinalizersRemaining, with upstream's reasons and
// messages), and once nothing is left the "kubernetes" finalizer is removed through
// namespaces/<name>/finalize, after which the API server deletes the namespace.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/core/v1/codec.h"
#include "base/clock.h"
#include "base/result.h"

namespace kpp::controllers {

// The finalizer the namespace controller owns (upstream's v1.FinalizerKubernetes).
inline constexpr char kNamespaceFinalizer[] = "kubernetes";
// Seconds assumed for objects held by finalizers to go (upstream's finalizerEstimateSeconds).
inline constexpr int64_t kFinalizerEstimateSeconds = 15;

struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;
  auto operator<=>(const GroupVersionResource&) const = default;
};

// One namespaced resource of one discovery document.
struct DiscoveredResource {
  std::string name;  // the plural
  std::vector<std::string> verbs;
};

// One discovery document: a group version ("v1", "apps/v1") and its namespaced resources.
struct DiscoveredGroupVersion {
  std::string group_version;
  std::vector<DiscoveredResource> resources;
};

// What discovery found, as client-go's ServerPreferredNamespacedResources answers: what it could
// read, plus the group versions it could not ("apps/v1" -> why), or a failure of it all.
struct Discovery {
  std::vector<DiscoveredGroupVersion> group_versions;
  std::map<std::string, std::string> failed_group_versions;
  std::optional<Error> error;
};

// The name and finalizers of an object still in the namespace.
struct RemainingObject {
  std::string name;
  std::vector<std::string> finalizers;
};

// The requests the deleter makes (the API server in the controller manager, a fake in tests).
class NamespaceDeleterClient {
 public:
  virtual ~NamespaceDeleterClient() = default;
  virtual Result<api::core::v1::Namespace> GetNamespace(const std::string& name) = 0;
  virtual Result<api::core::v1::Namespace> UpdateNamespaceStatus(
      const api::core::v1::Namespace& ns) = 0;
  // PUT namespaces/<name>/finalize.
  virtual Result<api::core::v1::Namespace> FinalizeNamespace(
      const api::core::v1::Namespace& ns) = 0;
  // What the server serves, from a discovery no older than `fetched_after`.
  virtual Discovery DiscoverNamespacedResources(Clock::TimePoint fetched_after) = 0;
  // DELETE of the collection in `ns`, background propagation.
  virtual Status DeleteCollection(const GroupVersionResource& resource, const std::string& ns) = 0;
  virtual Result<std::vector<RemainingObject>> List(const GroupVersionResource& resource,
                                                    const std::string& ns) = 0;
  // DELETE of one object, background propagation.
  virtual Status Delete(const GroupVersionResource& resource, const std::string& ns,
                        const std::string& name) = 0;
  virtual Result<std::vector<api::core::v1::Pod>> ListPods(const std::string& ns) = 0;
};

// What is left in a namespace after one pass: objects per resource and per finalizer.
struct NamespaceContentTotals {
  std::map<GroupVersionResource, int> remaining_by_resource;
  std::map<std::string, int> remaining_by_finalizer;
};

// What one pass found wrong or left over.
struct NamespaceDeletionFindings {
  std::optional<std::string> discovery_failure;
  std::optional<std::string> group_version_failure;
  std::vector<std::string> content_failures;
  NamespaceContentTotals totals;
};

// The status conditions upstream's deleter keeps on a terminating namespace, from `findings`:
// failures and remaining content become True conditions with upstream's reasons and messages,
// everything else the "ok" False variant; lastTransitionTime moves only when a status flips.
// Returns whether `status` changed.
bool UpdateNamespaceDeletionConditions(api::core::v1::NamespaceStatus& status,
                                       const NamespaceDeletionFindings& findings, api::Time now);

class NamespacedResourcesDeleter {
 public:
  NamespacedResourcesDeleter(NamespaceDeleterClient& client, Clock& clock = RealClock())
      : client_(client), clock_(clock) {}

  // One pass over namespace `name`: nothing when it is gone or not being deleted; otherwise
  // deletes its content and, once none is left, removes the "kubernetes" finalizer. Returns the
  // seconds after which content still there should be gone (upstream's ResourcesRemainingError,
  // 0 when the namespace was finalized or needs nothing), or the error of a failed pass.
  Result<int64_t> Delete(const std::string& name);

 private:
  struct ResourceOutcome {
    int64_t estimate = 0;
    int remaining = 0;
    std::map<std::string, int> remaining_by_finalizer;
  };
  Result<int64_t> DeleteAllContent(api::core::v1::Namespace& ns);
  // Empties one resource in the namespace; the error names what failed, `outcome` what is left.
  Status DeleteAllContentFor(const GroupVersionResource& resource,
                             const std::vector<std::string>& verbs, const std::string& ns,
                             api::Time deleted_at, ResourceOutcome& outcome);
  Result<int64_t> EstimateGracefulTermination(const GroupVersionResource& resource,
                                              const std::string& ns, api::Time deleted_at);
  Result<api::core::v1::Namespace> Finalize(api::core::v1::Namespace ns);

  NamespaceDeleterClient& client_;
  Clock& clock_;
};

// A GroupVersionResource as upstream's messages print it (Go's %v): "{apps v1 deployments}".
std::string GoString(const GroupVersionResource& resource);

}  // namespace kpp::controllers
