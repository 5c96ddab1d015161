// The garbage collector (upstream's pkg/controller/garbagecollector): a graph of every object's
// ownerReferences, fed by metadata-only informers over every resource that can be listed,
// watched and deleted (built-in and custom, found through discovery and looked for again every
// 30 s). It deletes objects whose owners are all gone (background propagation), removes
// references to owners that are gone while others remain, deletes the dependents of an owner
// deleted in the foreground and then removes its foregroundDeletion finalizer once no dependent
// blocks it, and for an owner deleted with the orphan policy removes its dependents' references
// to it, then its orphan finalizer.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/meta/v1/codec.h"
#include "api/runtime/object.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"

namespace kpp::controllers {

inline constexpr char kOrphanFinalizer[] = "orphan";
inline constexpr char kForegroundFinalizer[] = "foregroundDeletion";

struct ObjectId {
  std::string api_version;
  std::string kind;
  std::string ns;  // for a namespaced kind; ignored for cluster-scoped ones
  std::string name;
  std::string uid;
};

// How the collector reads and writes objects of any kind (the API server in the manager, a map
// in tests).
class ObjectAccess {
 public:
  virtual ~ObjectAccess() = default;
  // The uid of the object named by `id` (its uid is not looked at), nullopt when absent.
  virtual Result<std::optional<std::string>> GetUid(const ObjectId& id) = 0;
  // DELETE with a uid precondition and a propagation policy ("Background", "Foreground").
  virtual Status Delete(const ObjectId& id, const std::string& propagation_policy) = 0;
  // A strategic merge patch for built-in kinds, a JSON merge patch for custom ones: both are
  // given, the implementation picks.
  virtual Status PatchOwnerReferences(const ObjectId& id, const std::string& strategic_patch,
                                      const std::string& merge_patch) = 0;
  // Writes metadata.finalizers (a JSON merge patch guarded by `resource_version`).
  virtual Status SetFinalizers(const ObjectId& id, const std::vector<std::string>& finalizers,
                               const std::string& resource_version) = 0;
};

// The ownership graph and the decisions upstream's attemptToDelete and attemptToOrphan make.
// Thread-safe.
class GarbageCollector {
 public:
  explicit GarbageCollector(ObjectAccess& access) : access_(access) {}

  // An object was added or changed. Queues what needs a decision (Take*).
  void Observe(const api::Object& object);
  void ObserveDeleted(const api::Object& object);

  // The uids waiting for a decision (drained by the caller's queues).
  std::vector<std::string> TakeToDelete();
  std::vector<std::string> TakeToOrphan();

  // Deletes `uid` if all its owners are gone (or patches out the ones that are), or, for an
  // owner being deleted in the foreground, deletes its dependents / removes its finalizer.
  Status AttemptToDelete(const std::string& uid);
  // Orphans the dependents of `uid`, then removes its orphan finalizer.
  Status AttemptToOrphan(const std::string& uid);

  bool Has(const std::string& uid) const;
  std::set<std::string> DependentsOf(const std::string& uid) const;

 private:
  struct Node {
    ObjectId id;
    std::vector<api::meta::v1::OwnerReference> owners;
    std::set<std::string> dependents;
    std::vector<std::string> finalizers;
    std::string resource_version;
    bool observed = false;  // false: known only from a reference (upstream's virtual node)
    bool being_deleted = false;
  };
  bool DeletingDependents(const Node& node) const;
  bool OrphanPending(const Node& node) const;
  // An owner's state as the dependent sees it.
  enum class OwnerState { kSolid, kDangling, kWaiting };
  Result<OwnerState> Classify(const Node& dependent, const api::meta::v1::OwnerReference& owner);
  Status ProcessDeletingDependents(const Node& owner);
  Status RemoveFinalizer(const Node& node, const std::string& finalizer);
  std::optional<Node> Find(const std::string& uid) const;

  ObjectAccess& access_;
  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;
  std::set<std::string> to_delete_;
  std::set<std::string> to_orphan_;
};

struct GarbageCollectorOptions {
  int workers = 20;  // --concurrent-gc-syncs
  std::chrono::seconds rediscovery{30};
};

// Discovery, informers and workers around GarbageCollector.
class GarbageCollectorController {
 public:
  GarbageCollectorController(std::shared_ptr<client::rest::RestClient> client,
                             GarbageCollectorOptions options = {});
  ~GarbageCollectorController();
  void Run();
  void Stop();

 private:
  class RestAccess;
  void Discover();
  void Pump();
  void DeleteWorker();
  void OrphanWorker();

  std::shared_ptr<client::rest::RestClient> client_;
  GarbageCollectorOptions options_;
  std::unique_ptr<RestAccess> access_;
  GarbageCollector collector_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  bool rediscover_ = false;  // a reference named a kind discovery has not found
  // Discovered resources; KindInfo holds views into `strings_`.
  std::deque<std::string> strings_;
  std::deque<api::KindInfo> kinds_;
  std::map<std::string, std::unique_ptr<client::informers::SharedInformer>> informers_;
  client::workqueue::RateLimitingQueue delete_queue_;
  client::workqueue::RateLimitingQueue orphan_queue_;
  std::vector<std::thread> threads_;
};

}  // namespace kpp::controllers
