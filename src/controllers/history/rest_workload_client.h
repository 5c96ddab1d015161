// WorkloadClient over the client library (what the controller manager hands the StatefulSet and
// DaemonSet controllers).
#pragma once

#include <memory>

#include "client/rest/rest_client.h"
#include "controllers/history/history.h"

namespace kpp::controllers {

class RestWorkloadClient final : public WorkloadClient {
 public:
  explicit RestWorkloadClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Result<api::core::v1::Pod> CreatePod(const api::core::v1::Pod& pod) override;
  Status DeletePod(const std::string& ns, const std::string& name) override;
  Status PatchPod(const std::string& ns, const std::string& name,
                  const std::string& patch) override;
  Status CreateClaim(const api::core::v1::PersistentVolumeClaim& claim) override;
  Status PatchClaim(const std::string& ns, const std::string& name,
                    const std::string& patch) override;
  Result<ControllerRevision> CreateRevision(const ControllerRevision& revision) override;
  Result<ControllerRevision> GetRevision(const std::string& ns, const std::string& name) override;
  Status PatchRevision(const std::string& ns, const std::string& name,
                       const std::string& patch) override;
  Status DeleteRevision(const std::string& ns, const std::string& name) override;
  Status PatchStatus(const std::string& resource, const std::string& ns, const std::string& name,
                     const std::string& patch) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

}  // namespace kpp::controllers
