// The certificate controllers of kube-controller-manager (upstream's csrapproving, csrsigning
// and csrcleaner), on the shared CSR informer: the approver and the signer sync each CSR from a
// work queue with csr_rules.h's syncers; the cleaner looks at every CSR once an hour.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/certificates/csr_rules.h"
#include "controllers/common/queue_workers.h"

namespace kpp::controllers::certificates {

// CsrClient over the API server.
class RestCsrClient final : public CsrClient {
 public:
  explicit RestCsrClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Status UpdateApproval(const CertificateSigningRequest& csr) override;
  Status UpdateStatus(const CertificateSigningRequest& csr) override;
  Status Delete(const std::string& name) override;
  Result<bool> Review(const CertificateSigningRequest& csr,
                      const api::authorization_k8s_io::v1::ResourceAttributes& attributes) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

// Upstream's CertificateController: every added or changed CSR is handed to `handler` by
// `workers` workers; failures are retried with back-off.
class CertificateController {
 public:
  using Handler = std::function<Status(const CertificateSigningRequest&)>;
  CertificateController(std::string name, client::informers::SharedInformerFactory& factory,
                        Handler handler, int workers = 5);
  ~CertificateController();
  void Run();
  void Stop();

 private:
  client::informers::SharedInformer& informer_;
  Handler handler_;
  int workers_count_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

// csrcleaner: deletes what ShouldClean says, at start and then every `period`.
class CsrCleanerController {
 public:
  CsrCleanerController(client::informers::SharedInformerFactory& factory, CsrClient& client,
                       std::chrono::seconds period = std::chrono::hours(1),
                       Clock& clock = RealClock());
  ~CsrCleanerController();
  void Run();
  void Stop();
  // One pass; returns the names deleted.
  std::vector<std::string> CleanOnce();

 private:
  client::informers::SharedInformer& informer_;
  CsrClient& client_;
  std::chrono::seconds period_;
  Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// What the controller manager's csrsigning needs: the CA files (upstream's
// --cluster-signing-cert-file/--cluster-signing-key-file) and --cluster-signing-duration.
struct CsrSigningOptions {
  std::string cert_file;
  std::string key_file;
  std::chrono::seconds duration{std::chrono::hours(24 * 365)};
};

// The csrapproving, csrsigning and csrcleaner controllers that `enabled` names, as the
// controller manager runs them.
class CertificateControllers {
 public:
  CertificateControllers(std::shared_ptr<client::rest::RestClient> client,
                         client::informers::SharedInformerFactory& factory,
                         const std::vector<std::string>& enabled, const CsrSigningOptions& signing);
  ~CertificateControllers();
  void Run();
  void Stop();

 private:
  RestCsrClient client_;
  std::unique_ptr<CsrApprover> approver_;
  std::unique_ptr<CsrSigner> signer_;
  std::vector<std::unique_ptr<CertificateController>> controllers_;
  std::unique_ptr<CsrCleanerController> cleaner_;
};

}  // namespace kpp::controllers::certificates
