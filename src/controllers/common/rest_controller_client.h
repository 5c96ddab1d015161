// ControllerClient and EventSink over the client library: what the controller manager hands its
// controllers.
#pragma once

#include <memory>

#include "client/record/event_recorder.h"
#include "client/rest/rest_client.h"
#include "controllers/common/controller_utils.h"

namespace kpp::controllers {

class RestControllerClient final : public ControllerClient {
 public:
  explicit RestControllerClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Result<Pod> CreatePod(const Pod& pod) override;
  Status DeletePod(const std::string& ns, const std::string& name) override;
  Status PatchPod(const std::string& ns, const std::string& name,
                  const std::string& patch) override;
  Result<ReplicaSet> CreateReplicaSet(const ReplicaSet& rs) override;
  Result<ReplicaSet> UpdateReplicaSet(const ReplicaSet& rs) override;
  Status DeleteReplicaSet(const std::string& ns, const std::string& name) override;
  Status PatchReplicaSet(const std::string& ns, const std::string& name,
                         const std::string& patch) override;
  Status PatchDeployment(const std::string& ns, const std::string& name,
                         const std::string& patch) override;
  Result<api::meta::v1::ObjectMeta> GetMetadata(const std::string& resource, const std::string& ns,
                                                const std::string& name) override;
  Status PatchStatus(const std::string& resource, const std::string& ns, const std::string& name,
                     const std::string& patch) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

class RecorderEventSink final : public EventSink {
 public:
  explicit RecorderEventSink(client::record::EventRecorder& recorder) : recorder_(recorder) {}
  void Event(const api::core::v1::ObjectReference& object, const std::string& type,
             const std::string& reason, const std::string& message) override {
    recorder_.Event(object, type, reason, message);
  }

 private:
  client::record::EventRecorder& recorder_;
};

}  // namespace kpp::controllers
