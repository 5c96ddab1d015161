#include "controllers/history/rest_workload_client.h"

#include "client/rest/resource.h"
#include "controllers/common/update_with_merge_patch.h"

namespace kpp::controllers {
namespace {

using api::core::v1::PersistentVolumeClaim;
using api::core::v1::Pod;

client::WriteOptions Writes() {
  client::WriteOptions options;
  options.field_manager = "kube-controller-manager";
  return options;
}

template <typename T>
Status PatchOf(const std::shared_ptr<client::rest::RestClient>& rest, const std::string& ns,
               const std::string& name, client::PatchType type, const std::string& patch) {
  auto patched = client::TypedResource<T>(rest, ns).Patch(name, type, patch, Writes());
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

}  // namespace

Result<Pod> RestWorkloadClient::CreatePod(const Pod& pod) {
  return client::TypedResource<Pod>(client_, pod.metadata.namespace_).Create(pod, Writes());
}

Status RestWorkloadClient::DeletePod(const std::string& ns, const std::string& name) {
  return client::TypedResource<Pod>(client_, ns).Delete(name);
}

Status RestWorkloadClient::PatchPod(const std::string& ns, const std::string& name,
                                    const std::string& patch) {
  return PatchOf<Pod>(client_, ns, name, client::PatchType::kStrategicMerge, patch);
}

Status RestWorkloadClient::CreateClaim(const PersistentVolumeClaim& claim) {
  auto created = client::TypedResource<PersistentVolumeClaim>(client_, claim.metadata.namespace_)
                     .Create(claim, Writes());
  if (!created.ok()) return std::move(created).error();
  return Ok();
}

Status RestWorkloadClient::PatchClaim(const std::string& ns, const std::string& name,
                                      const std::string& patch) {
  // By update, as upstream's controller writes claims (its role grants no patch on them).
  const api::KindInfo* kind = client::FindResource("", "v1", "persistentvolumeclaims");
  if (kind == nullptr) return InternalError("unknown resource persistentvolumeclaims");
  return UpdateWithMergePatch(client_, *kind, ns, name, patch, /*status=*/false,
                              Writes().field_manager, /*strategic=*/true);
}

Result<ControllerRevision> RestWorkloadClient::CreateRevision(const ControllerRevision& revision) {
  return client::TypedResource<ControllerRevision>(client_, revision.metadata.namespace_)
      .Create(revision, Writes());
}

Result<ControllerRevision> RestWorkloadClient::GetRevision(const std::string& ns,
                                                           const std::string& name) {
  return client::TypedResource<ControllerRevision>(client_, ns).Get(name);
}

Status RestWorkloadClient::PatchRevision(const std::string& ns, const std::string& name,
                                         const std::string& patch) {
  return PatchOf<ControllerRevision>(client_, ns, name, client::PatchType::kStrategicMerge, patch);
}

Status RestWorkloadClient::DeleteRevision(const std::string& ns, const std::string& name) {
  return client::TypedResource<ControllerRevision>(client_, ns).Delete(name);
}

Status RestWorkloadClient::PatchStatus(const std::string& resource, const std::string& ns,
                                       const std::string& name, const std::string& patch) {
  const api::KindInfo* kind = client::FindResource("apps", "v1", resource);
  if (kind == nullptr) return InternalError("unknown resource " + resource);
  return UpdateWithMergePatch(client_, *kind, ns, name, patch, /*status=*/true,
                              Writes().field_manager);
}

}  // namespace kpp::controllers
