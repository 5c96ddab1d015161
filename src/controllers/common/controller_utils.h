// What upstream's pkg/controller (controller_utils.go) gives every controller: the seams a sync
// function uses (listers, a client, an event sink), so unit tests swap in fakes; expectations
// (creations/deletions a controller waits to see in its cache before syncing again); pod
// readiness and availability; the ranking that picks the least valuable pods to delete; the
// slow-start batches; owner references and the adopt/release patches.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/apps/v1/codec.h"
#include "api/core/v1/codec.h"
#include "apimachinery/labels/selector.h"
#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"

namespace kpp::controllers {

using api::apps::v1::Deployment;
using api::apps::v1::ReplicaSet;
using api::core::v1::Pod;

// Reads of a cache: informer-backed in the manager, in-memory in tests.
template <typename T>
class ObjectLister {
 public:
  virtual ~ObjectLister() = default;
  virtual std::shared_ptr<const T> Get(const std::string& ns, const std::string& name) const = 0;
  virtual std::vector<std::shared_ptr<const T>> List(const std::string& ns) const = 0;
};

template <typename T>
class InformerLister final : public ObjectLister<T> {
 public:
  explicit InformerLister(const client::informers::SharedInformer& informer) : lister_(informer) {}
  std::shared_ptr<const T> Get(const std::string& ns, const std::string& name) const override {
    return lister_.Get(ns, name);
  }
  std::vector<std::shared_ptr<const T>> List(const std::string& ns) const override {
    return lister_.ListNamespace(ns);
  }

 private:
  client::informers::Lister<T> lister_;
};

// The writes controllers make. Every method is one API request.
class ControllerClient {
 public:
  virtual ~ControllerClient() = default;
  virtual Result<Pod> CreatePod(const Pod& pod) = 0;
  virtual Status DeletePod(const std::string& ns, const std::string& name) = 0;
  // A strategic merge patch (adoption and release of pods and replica sets).
  virtual Status PatchPod(const std::string& ns, const std::string& name,
                          const std::string& patch) = 0;
  virtual Result<ReplicaSet> CreateReplicaSet(const ReplicaSet& rs) = 0;
  virtual Result<ReplicaSet> UpdateReplicaSet(const ReplicaSet& rs) = 0;
  virtual Status DeleteReplicaSet(const std::string& ns, const std::string& name) = 0;
  virtual Status PatchReplicaSet(const std::string& ns, const std::string& name,
                                 const std::string& patch) = 0;
  // A JSON merge patch of a deployment (its revision annotation).
  virtual Status PatchDeployment(const std::string& ns, const std::string& name,
                                 const std::string& patch) = 0;
  // The metadata of `resource` ns/name read from the server, not a cache (upstream's uncached
  // quorum read before adopting).
  virtual Result<api::meta::v1::ObjectMeta> GetMetadata(const std::string& resource,
                                                        const std::string& ns,
                                                        const std::string& name) = 0;
  // A JSON merge patch of the status subresource of `resource` ("replicasets",
  // "replicationcontrollers", "deployments").
  virtual Status PatchStatus(const std::string& resource, const std::string& ns,
                             const std::string& name, const std::string& patch) = 0;
};

// Where controllers' events go (client/record in the manager, a list in tests).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Event(const api::core::v1::ObjectReference& object, const std::string& type,
                     const std::string& reason, const std::string& message) = 0;
};

api::core::v1::ObjectReference ReferenceOf(const std::string& api_version, const std::string& kind,
                                           const api::meta::v1::ObjectMeta& metadata);

// upstream's ControllerExpectations: per controller key, the pod creations and deletions it has
// asked for and not yet seen in its informer. A key whose expectations are older than 5 minutes
// counts as satisfied (a watch event may have been lost). Thread-safe.
class Expectations {
 public:
  explicit Expectations(Clock& clock = RealClock()) : clock_(clock) {}
  bool Satisfied(const std::string& key) const;
  // Expects `adds` creations and the deletion of the pods keyed `deletes` (upstream's
  // UIDTrackingControllerExpectations: a pod deleted twice, first gracefully, counts once).
  void Expect(const std::string& key, int adds, std::set<std::string> deletes = {});
  void CreationObserved(const std::string& key, int count = 1);
  void DeletionObserved(const std::string& key, const std::string& pod_key);
  void Delete(const std::string& key);

 private:
  struct Entry {
    int adds = 0;
    std::set<std::string> deletes;
    std::chrono::steady_clock::time_point set_at;
  };
  Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// Not Succeeded/Failed and not being deleted.
bool IsPodActive(const Pod& pod);
bool IsPodReady(const Pod& pod);
// Ready for at least `min_ready_seconds` at `now`.
bool IsPodAvailable(const Pod& pod, int32_t min_ready_seconds, Clock::TimePoint now);

// Sorts `pods` so that the ones to delete first come first, as upstream's ActivePodsWithRanks
// with LogarithmicScaleDown (on by default): unassigned before assigned; Pending before Unknown
// before Running; not ready before ready; more pods of the same owner on the node before fewer
// (rank); ready for less time before longer; more container restarts before fewer; newer
// before older. Times are compared by the whole powers of two of their age at `now`; equal
// ones are ordered by uid, as upstream does, so that which of two similar pods goes is random.
void SortPodsForDeletion(std::vector<std::shared_ptr<const Pod>>& pods, Clock::TimePoint now);

// Calls `fn` `count` times in batches of 1, 2, 4, ... (upstream's slowStartBatch), each batch in
// parallel; stops after the first batch with a failure. Returns the successes and the first
// error.
struct BatchResult {
  int successes = 0;
  std::optional<Error> error;
};
BatchResult SlowStartBatch(int count, int initial_batch_size, const std::function<Status()>& fn);

// The controller owner reference of `metadata`, or null.
const api::meta::v1::OwnerReference* ControllerRefOf(const api::meta::v1::ObjectMeta& metadata);
api::meta::v1::OwnerReference ControllerRef(const std::string& api_version, const std::string& kind,
                                            const api::meta::v1::ObjectMeta& owner);
// Upstream's adoption patch: adds `owner_ref`, guarded by the object's uid.
std::string AdoptPatch(const api::meta::v1::OwnerReference& owner_ref,
                       const std::string& object_uid);
// Upstream's release patch: removes the owner reference with `owner_uid`.
std::string ReleasePatch(const std::string& owner_uid, const std::string& object_uid);

// Upstream's RecheckDeletionTimestamp before an adoption: the owner read fresh must still be
// the same object (uid) and not being deleted.
Status CanAdopt(ControllerClient& client, const std::string& resource, const std::string& kind_name,
                const api::meta::v1::ObjectMeta& owner);

// Upstream's BaseControllerRefManager.ClaimObject for one object of any kind: true when `owner`
// controls it and `selector` matches it; an orphan it matches is adopted (unless `may_adopt` is
// false or either is being deleted), an owned object that stopped matching is released (not
// while the owner is being deleted), through `patch` (namespace, name, strategic merge patch
// with a uid precondition). An object gone meanwhile is not claimed; another failed patch is
// the error.
using ObjectPatcher =
    std::function<Status(const std::string& ns, const std::string& name, const std::string& patch)>;
Result<bool> ClaimObject(const api::meta::v1::OwnerReference& owner_ref,
                         const api::meta::v1::ObjectMeta& owner, const labels::Selector& selector,
                         const api::meta::v1::ObjectMeta& object, const ObjectPatcher& patch,
                         bool may_adopt = true);

// Upstream's ClaimPods for controllers that own pods directly: ClaimObject for each of `pods`
// (orphans adopted only when `may_adopt`, if given, accepts them); returns the claimed ones. Any
// failed patch but a NotFound ends the claim with its error.
using PodPatcher = ObjectPatcher;
Result<std::vector<std::shared_ptr<const Pod>>> ClaimPods(
    const api::meta::v1::OwnerReference& owner_ref, const api::meta::v1::ObjectMeta& owner,
    const labels::Selector& selector, const std::vector<std::shared_ptr<const Pod>>& pods,
    const PodPatcher& patch_pod, const std::function<bool(const Pod&)>& may_adopt = nullptr);

// metav1 LabelSelector to a selector (nullptr: matches nothing).
Result<labels::Selector> SelectorOf(const api::meta::v1::LabelSelector* selector);

// "<ns>/<name>".
std::string KeyOf(const api::meta::v1::ObjectMeta& metadata);
// Splits "<ns>/<name>".
std::pair<std::string, std::string> SplitKey(const std::string& key);

api::Time TimeOf(Clock::TimePoint when);

}  // namespace kpp::controllers
