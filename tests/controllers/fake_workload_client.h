// A WorkloadClient that records each request and answers as a server would.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controllers/history/history.h"

namespace kpp::controllers::testing {

class FakeWorkloadClient final : public WorkloadClient {
 public:
  Result<api::core::v1::Pod> CreatePod(const api::core::v1::Pod& pod) override {
    actions.push_back("create pod " + pod.metadata.name);
    created_pods.push_back(pod);
    return pod;
  }
  Status DeletePod(const std::string&, const std::string& name) override {
    actions.push_back("delete pod " + name);
    return Ok();
  }
  Status PatchPod(const std::string&, const std::string& name, const std::string&) override {
    actions.push_back("patch pod " + name);
    return Ok();
  }
  Status CreateClaim(const api::core::v1::PersistentVolumeClaim& claim) override {
    actions.push_back("create claim " + claim.metadata.name);
    created_claims.push_back(claim);
    return Ok();
  }
  Status PatchClaim(const std::string&, const std::string& name,
                    const std::string& patch) override {
    actions.push_back("patch claim " + name + " " + patch);
    return Ok();
  }
  Result<ControllerRevision> CreateRevision(const ControllerRevision& revision) override {
    actions.push_back("create revision " + revision.metadata.name + " " +
                      std::to_string(revision.revision));
    if (revisions.count(revision.metadata.name)) {
      return Error(ErrorCode::kAlreadyExists,
                   "controllerrevisions \"" + revision.metadata.name + "\" already exists");
    }
    revisions[revision.metadata.name] = revision;
    return revision;
  }
  Result<ControllerRevision> GetRevision(const std::string&, const std::string& name) override {
    auto found = revisions.find(name);
    if (found == revisions.end()) return NotFoundError("not found");
    return found->second;
  }
  Status PatchRevision(const std::string&, const std::string& name,
                       const std::string& patch) override {
    actions.push_back("patch revision " + name + " " + patch);
    return Ok();
  }
  Status DeleteRevision(const std::string&, const std::string& name) override {
    actions.push_back("delete revision " + name);
    return Ok();
  }
  Status PatchStatus(const std::string& resource, const std::string&, const std::string& name,
                     const std::string& patch) override {
    actions.push_back("patch status " + resource + " " + name);
    status_patches.push_back(patch);
    return Ok();
  }

  // The actions that start with `prefix`, in order.
  std::vector<std::string> With(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& action : actions)
      if (action.rfind(prefix, 0) == 0) out.push_back(action);
    return out;
  }

  std::vector<std::string> actions;
  std::vector<api::core::v1::Pod> created_pods;
  std::vector<api::core::v1::PersistentVolumeClaim> created_claims;
  std::vector<std::string> status_patches;
  // What the server holds (for AlreadyExists answers).
  std::map<std::string, ControllerRevision> revisions;
};

}  // namespace kpp::controllers::testing
