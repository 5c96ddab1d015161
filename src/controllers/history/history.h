// ControllerRevisions, shared by the StatefulSet and DaemonSet controllers (upstream's
// pkg/controller/history): a revision holds a patch that restores the owner's pod template
// (`{"spec":{"template":{...,"$patch":"replace"}}}`, what `kubectl rollout undo` applies), is
// named "<owner>-<hash of that data>", numbered one past the highest, and old ones beyond
// revisionHistoryLimit are deleted. The writes go through WorkloadClient so syncs stay testable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/apps/v1/codec.h"
#include "api/core/v1/codec.h"
#include "apimachinery/labels/selector.h"
#include "base/result.h"

namespace kpp::controllers {

using api::apps::v1::ControllerRevision;

inline constexpr char kControllerRevisionHashLabel[] = "controller-revision-hash";

// The writes the StatefulSet and DaemonSet controllers make; each method is one API request.
class WorkloadClient {
 public:
  virtual ~WorkloadClient() = default;
  virtual Result<api::core::v1::Pod> CreatePod(const api::core::v1::Pod& pod) = 0;
  virtual Status DeletePod(const std::string& ns, const std::string& name) = 0;
  // A strategic merge patch.
  virtual Status PatchPod(const std::string& ns, const std::string& name,
                          const std::string& patch) = 0;
  virtual Status CreateClaim(const api::core::v1::PersistentVolumeClaim& claim) = 0;
  // A strategic merge patch (owner references of the retention policy).
  virtual Status PatchClaim(const std::string& ns, const std::string& name,
                            const std::string& patch) = 0;
  virtual Result<ControllerRevision> CreateRevision(const ControllerRevision& revision) = 0;
  virtual Result<ControllerRevision> GetRevision(const std::string& ns,
                                                 const std::string& name) = 0;
  // A strategic merge patch (the revision number, owner references; the data is immutable).
  virtual Status PatchRevision(const std::string& ns, const std::string& name,
                               const std::string& patch) = 0;
  virtual Status DeleteRevision(const std::string& ns, const std::string& name) = 0;
  // A JSON merge patch of the status subresource of an apps/v1 `resource`.
  virtual Status PatchStatus(const std::string& resource, const std::string& ns,
                             const std::string& name, const std::string& patch) = 0;
};

// FNV-32a of `data`, then of the collision count's four bytes, as decimal text in upstream's
// SafeEncodeString alphabet (upstream's HashControllerRevision, up to Go's exact byte stream).
std::string HashRevisionData(const std::string& data, std::optional<int32_t> collision_count);
// "<prefix>-<hash>", the prefix cut to 223 characters as upstream does.
std::string RevisionName(const std::string& prefix, const std::string& hash);

// The patch that restores `pod_template`: {"spec":{"template":{...,"$patch":"replace"}}}.
std::string TemplatePatch(const api::core::v1::PodTemplateSpec& pod_template);
// The template a revision made by TemplatePatch restores.
Result<api::core::v1::PodTemplateSpec> TemplateOfRevision(const ControllerRevision& revision);

// A new revision of `owner` (kind/apiVersion given) with `data`, labels `labels`, number
// `revision`, named from the hash of the data and `collision_count`.
ControllerRevision NewRevision(const std::string& api_version, const std::string& kind,
                               const api::meta::v1::ObjectMeta& owner,
                               const std::map<std::string, std::string>& labels,
                               const std::string& data, int64_t revision,
                               std::optional<int32_t> collision_count);

// Ascending by revision number, then creation time, then name.
void SortRevisions(std::vector<std::shared_ptr<const ControllerRevision>>& revisions);
// One past the highest revision number (1 when there are none).
int64_t NextRevisionNumber(const std::vector<std::shared_ptr<const ControllerRevision>>& revisions);
// The revisions whose data equals `data`.
std::vector<std::shared_ptr<const ControllerRevision>> EqualRevisions(
    const std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
    const std::string& data);

// Upstream's revision step shared by both controllers: makes `data` the newest revision (reusing
// an equal one, renumbering it when it is not the newest; creating one otherwise, raising
// `collision_count` when its name is taken by different data). Returns the update revision.
Result<ControllerRevision> EnsureUpdateRevision(
    WorkloadClient& client, const std::string& api_version, const std::string& kind,
    const api::meta::v1::ObjectMeta& owner, const std::map<std::string, std::string>& labels,
    const std::string& data, std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
    int32_t& collision_count);

// Upstream's ControllerRevisionControllerRefManager.ClaimControllerRevisions: ClaimObject
// (controllers/common) for each of `revisions`: orphans `selector` matches are adopted, owned
// ones that stopped matching released (PatchRevision); returns the owner's. The StatefulSet,
// which only looks at revisions its selector matches, passes only those (nothing to release).
Result<std::vector<std::shared_ptr<const ControllerRevision>>> ClaimRevisions(
    WorkloadClient& client, const std::string& api_version, const std::string& kind,
    const api::meta::v1::ObjectMeta& owner, const labels::Selector& selector,
    const std::vector<std::shared_ptr<const ControllerRevision>>& revisions);

// Deletes the oldest revisions not in `live` beyond `history_limit` (upstream's truncateHistory).
Status TruncateHistory(WorkloadClient& client,
                       const std::vector<std::shared_ptr<const ControllerRevision>>& revisions,
                       const std::vector<std::string>& live, int32_t history_limit);

}  // namespace kpp::controllers
