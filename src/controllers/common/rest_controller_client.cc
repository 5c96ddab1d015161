#include "controllers/common/rest_controller_client.h"

#include "client/rest/resource.h"
#include "controllers/common/update_with_merge_patch.h"

namespace kpp::controllers {
namespace {

constexpr char kFieldManager[] = "kube-controller-manager";

client::WriteOptions Writes() {
  client::WriteOptions options;
  options.field_manager = kFieldManager;
  return options;
}

}  // namespace

Result<Pod> RestControllerClient::CreatePod(const Pod& pod) {
  return client::TypedResource<Pod>(client_, pod.metadata.namespace_).Create(pod, Writes());
}

Status RestControllerClient::DeletePod(const std::string& ns, const std::string& name) {
  return client::TypedResource<Pod>(client_, ns).Delete(name);
}

Status RestControllerClient::PatchPod(const std::string& ns, const std::string& name,
                                      const std::string& patch) {
  auto patched = client::TypedResource<Pod>(client_, ns)
                     .Patch(name, client::PatchType::kStrategicMerge, patch, Writes());
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

Result<ReplicaSet> RestControllerClient::CreateReplicaSet(const ReplicaSet& rs) {
  return client::TypedResource<ReplicaSet>(client_, rs.metadata.namespace_).Create(rs, Writes());
}

Result<ReplicaSet> RestControllerClient::UpdateReplicaSet(const ReplicaSet& rs) {
  return client::TypedResource<ReplicaSet>(client_, rs.metadata.namespace_).Update(rs, Writes());
}

Status RestControllerClient::DeleteReplicaSet(const std::string& ns, const std::string& name) {
  return client::TypedResource<ReplicaSet>(client_, ns).Delete(name);
}

Status RestControllerClient::PatchReplicaSet(const std::string& ns, const std::string& name,
                                             const std::string& patch) {
  auto patched = client::TypedResource<ReplicaSet>(client_, ns)
                     .Patch(name, client::PatchType::kStrategicMerge, patch, Writes());
  if (!patched.ok()) return std::move(patched).error();
  return Ok();
}

Status RestControllerClient::PatchDeployment(const std::string& ns, const std::string& name,
                                             const std::string& patch) {
  const api::KindInfo* kind = client::FindResource("apps", "v1", "deployments");
  if (kind == nullptr) return InternalError("unknown resource deployments");
  return UpdateWithMergePatch(client_, *kind, ns, name, patch, /*status=*/false, kFieldManager);
}

Result<api::meta::v1::ObjectMeta> RestControllerClient::GetMetadata(const std::string& resource,
                                                                    const std::string& ns,
                                                                    const std::string& name) {
  if (resource == "replicationcontrollers") {
    KPP_ASSIGN_OR_RETURN(
        auto rc,
        client::TypedResource<api::core::v1::ReplicationController>(client_, ns).Get(name));
    return rc.metadata;
  }
  if (resource == "deployments") {
    KPP_ASSIGN_OR_RETURN(auto d, client::TypedResource<Deployment>(client_, ns).Get(name));
    return d.metadata;
  }
  KPP_ASSIGN_OR_RETURN(auto rs, client::TypedResource<ReplicaSet>(client_, ns).Get(name));
  return rs.metadata;
}

Status RestControllerClient::PatchStatus(const std::string& resource, const std::string& ns,
                                         const std::string& name, const std::string& patch) {
  const api::KindInfo* kind = resource == "replicationcontrollers"
                                  ? client::FindResource("", "v1", resource)
                                  : client::FindResource("apps", "v1", resource);
  if (kind == nullptr) return InternalError("unknown resource " + resource);
  return UpdateWithMergePatch(client_, *kind, ns, name, patch, /*status=*/true, kFieldManager);
}

}  // namespace kpp::controllers
