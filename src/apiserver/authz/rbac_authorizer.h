// The RBAC authorizer of the API server: a Policy snapshot built from the Roles, ClusterRoles and
// bindings the server itself serves, with the decisions it made cached until the snapshot
// changes. It follows the objects by four loopback WATCHes (a watch-list first: initial ADDED
// events up to the initial-events-end bookmark, then the changes), which the server answers from
// its watch cache; the cache is fed by the store's watch, so a change by any writer (a client,
// an in-process controller, another server on the same etcd) is seen without polling. A change
// rebuilds the snapshot on a thread of its own; after a write a client made through this server,
// Observe waits until the watch saw it, so that client's next request is decided on it. The same
// rebuild runs the ClusterRole aggregation (upstream's clusterrole-aggregation controller): an
// aggregated ClusterRole's rules become those of the ClusterRoles its selectors match.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac.h"

namespace kpp::apiserver::authz {

using LoopbackCall = std::function<http::Response(const http::Request&)>;

// The rules an aggregated ClusterRole gets: those of every other ClusterRole that one of its
// selectors matches, in name order, each rule once.
std::vector<PolicyRule> AggregatedRules(const Role& aggregated, const std::vector<Role>& roles);
// Whether a JSON LabelSelector (matchLabels, matchExpressions) selects `labels`; an empty
// selector selects everything.
bool LabelSelectorMatches(const boost::json::value& selector,
                          const std::map<std::string, std::string>& labels);

class RbacAuthorizer : public Authorizer {
 public:
  explicit RbacAuthorizer(LoopbackCall call);
  ~RbacAuthorizer() override;
  RbacAuthorizer(const RbacAuthorizer&) = delete;
  RbacAuthorizer& operator=(const RbacAuthorizer&) = delete;

  Verdict Authorize(const Attributes& attributes) const override;

  // Starts the watches and waits (up to `timeout`) until each delivered its initial objects,
  // then builds the first snapshot (aggregating ClusterRoles). False when a watch did not sync
  // in time; the watches keep trying and the snapshot follows them once they do.
  bool Start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void Stop();

  // After a write of `plural` (an RBAC resource) served at `resource_version`, or a delete of
  // `key` ("namespace/name", "/name" for cluster objects): waits (up to `timeout`) until the
  // watch delivered it and the snapshot holds it.
  void AwaitWrite(std::string_view plural, int64_t resource_version,
                  std::chrono::milliseconds timeout = std::chrono::seconds(3));
  void AwaitDelete(std::string_view plural, const std::string& key,
                   std::chrono::milliseconds timeout = std::chrono::seconds(3));

  // Replaces the snapshot with one of these objects, without watches (benchmarks, tests).
  void Load(std::vector<Role> roles, std::vector<Binding> bindings);

  std::shared_ptr<const Policy> policy() const;
  // How many snapshots were built so far (tests).
  uint64_t snapshots_built() const { return snapshots_built_; }

 private:
  struct Snapshot {
    explicit Snapshot(Policy p) : policy(std::move(p)) {}
    Policy policy;
    mutable std::shared_mutex cache_mutex;
    mutable std::unordered_map<std::string, Verdict> cache;
  };
  // One watched resource: its objects by "namespace/name", as of `revision`.
  struct Followed {
    std::string plural;
    bool roles = false;
    std::map<std::string, Role> role_objects;
    std::map<std::string, Binding> binding_objects;
    bool synced = false;
    int64_t revision = 0;
    std::shared_ptr<http::BodyStream> stream;
  };

  std::shared_ptr<const Snapshot> snapshot() const;
  void Install(Policy policy);
  void Follow(Followed& followed);
  // Applies one WatchEvent line; false when the watch must start over with a watch-list.
  bool ApplyLine(Followed& followed, std::string_view line, Followed& initial, bool& in_initial);
  // Builds a snapshot from what the watches hold when it changed since the last one.
  void Rebuild();
  void RebuildLoop();
  // Writes the rules aggregated ClusterRoles should have; the highest resourceVersion written
  // (0: nothing changed).
  int64_t Aggregate(const Policy& policy);
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

  LoopbackCall call_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<uint64_t> snapshots_built_{0};

  std::mutex rebuild_mutex_;                   // one rebuild at a time
  std::atomic<uint64_t> built_generation_{0};  // written under rebuild_mutex_

  std::mutex mutex_;  // the followed objects, generation_, stopping_
  std::condition_variable changed_;
  std::array<Followed, 4> followed_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kpp::apiserver::authz
