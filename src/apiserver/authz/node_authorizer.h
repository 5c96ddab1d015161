// Upstream's node authorizer: a kubelet (user system:node:<name> in group system:nodes) may read
// only the secrets, configmaps, persistent volume claims and volumes that pods bound to its node
// use, may write only its own Node and node Lease and the status of pods bound to it, and
// otherwise has the rights of the system:node ClusterRole's rules. Other users: no opinion.
// What a node's pods reference is read (pods by spec.nodeName through the loopback) when a
// decision needs it and was not known, so a pod bound a moment ago is seen at once; the answers
// are kept per node until a lookup misses again.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "apiserver/authz/authorizer.h"
#include "apiserver/authz/rbac.h"
#include "apiserver/authz/rbac_authorizer.h"

namespace kpp::apiserver::authz {

// The node a user is, or "" when it is not a node: upstream's NodeIdentity.
std::string NodeNameOf(const UserInfo& user);

// What pods bound to one node reference: "<kind>/<namespace>/<name>" (kind: secret, configmap,
// pvc, pv with an empty namespace, serviceaccount, pod).
using NodeReferences = std::set<std::string>;
// The references of one pod (JSON object) bound to a node.
void AddPodReferences(const boost::json::object& pod, NodeReferences& references);

class NodeAuthorizer : public Authorizer {
 public:
  NodeAuthorizer(LoopbackCall call, std::vector<PolicyRule> node_rules);
  Verdict Authorize(const Attributes& attributes) const override;

 private:
  // Whether the node's pods reference `key`, reading them again when they did not before.
  bool References(const std::string& node, const std::string& key) const;
  NodeReferences Load(const std::string& node) const;
  Verdict ReadObject(const std::string& node, const Attributes& attributes,
                     std::string_view kind) const;

  LoopbackCall call_;
  std::vector<PolicyRule> node_rules_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, NodeReferences, std::less<>> references_;
};

}  // namespace kpp::apiserver::authz
