// The RBAC authorizer of the API server: a Policy snapshot built from the Roles, ClusterRoles and
// bindings the server itself serves (LISTs through the in-process loopback, answered from the
// watch cache), with the decisions it made cached until the snapshot changes.
// Reload() is cheap when nothing changed (the objects' resourceVersions are compared first); the
// server calls it after each RBAC write it serves, and a thread calls it every second for the
// rest. The same pass runs the ClusterRole aggregation (upstream's clusterrole-aggregation
// controller): an aggregated ClusterRole's rules become those of the ClusterRoles its selectors
// match.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

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

  // Reads the RBAC objects again; rebuilds the snapshot (and drops cached decisions) when one
  // changed, and aggregates ClusterRoles. Thread-safe; passes run one at a time.
  void Reload();
  // Calls Reload every `period` until Stop.
  void Start(std::chrono::milliseconds period = std::chrono::seconds(1));
  void Stop();

  std::shared_ptr<const Policy> policy() const;

 private:
  struct Snapshot {
    explicit Snapshot(Policy p) : policy(std::move(p)) {}
    Policy policy;
    mutable std::shared_mutex cache_mutex;
    mutable std::unordered_map<std::string, Verdict> cache;
  };
  std::shared_ptr<const Snapshot> snapshot() const;
  // Writes the rules aggregated ClusterRoles should have; true when one was changed.
  bool Aggregate(const Policy& policy);

  LoopbackCall call_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::mutex reload_mutex_;
  std::string fingerprint_;  // under reload_mutex_
  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kpp::apiserver::authz
