#include "controllers/job/batch_client.h"

#include <boost/json/serialize.hpp>

#include "client/rest/resource.h"

namespace kpp::controllers {
namespace {

client::WriteOptions Writes() {
  client::WriteOptions options;
  options.field_manager = "kube-controller-manager";
  return options;
}

}  // namespace

Result<Pod> RestBatchClient::CreatePod(const Pod& pod) {
  return client::TypedResource<Pod>(client_, pod.metadata.namespace_).Create(pod, Writes());
}

Status RestBatchClient::DeletePod(const std::string& ns, const std::string& name) {
  return client::TypedResource<Pod>(client_, ns).Delete(name);
}

Status RestBatchClient::RemovePodFinalizer(const Pod& pod, const std::string& finalizer) {
  boost::json::array kept;
  for (const auto& name : pod.metadata.finalizers) {
    if (name != finalizer) kept.emplace_back(name);
  }
  // A JSON patch that tests the list first, so that a concurrent change of the finalizers
  // makes this fail rather than be overwritten.
  boost::json::array original;
  for (const auto& name : pod.metadata.finalizers)
    original.emplace_back(name);
  boost::json::array patch{
      boost::json::object{{"op", "test"}, {"path", "/metadata/uid"}, {"value", pod.metadata.uid}},
      boost::json::object{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", original}},
      boost::json::object{{"op", "replace"}, {"path", "/metadata/finalizers"}, {"value", kept}}};
  auto patched = client::TypedResource<Pod>(client_, pod.metadata.namespace_)
                     .Patch(pod.metadata.name, client::PatchType::kJson,
                            boost::json::serialize(patch), Writes());
  if (!patched.ok()) {
    // Gone already: nothing holds it any more.
    if (patched.error().code() == ErrorCode::kNotFound) return Ok();
    return std::move(patched).error();
  }
  return Ok();
}

Result<Job> RestBatchClient::UpdateJobStatus(const Job& job) {
  return client::TypedResource<Job>(client_, job.metadata.namespace_).UpdateStatus(job, Writes());
}

Result<Job> RestBatchClient::CreateJob(const Job& job) {
  return client::TypedResource<Job>(client_, job.metadata.namespace_).Create(job, Writes());
}

Result<Job> RestBatchClient::GetJob(const std::string& ns, const std::string& name) {
  return client::TypedResource<Job>(client_, ns).Get(name);
}

Status RestBatchClient::DeleteJob(const std::string& ns, const std::string& name,
                                  const std::string& uid) {
  client::DeleteOptions options;
  options.propagation_policy = "Background";
  options.precondition_uid = uid;
  return client::TypedResource<Job>(client_, ns).Delete(name, options);
}

Result<CronJob> RestBatchClient::UpdateCronJobStatus(const CronJob& cron_job) {
  return client::TypedResource<CronJob>(client_, cron_job.metadata.namespace_)
      .UpdateStatus(cron_job, Writes());
}

}  // namespace kpp::controllers
