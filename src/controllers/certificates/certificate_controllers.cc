#include "controllers/certificates/certificate_controllers.h"

#include <fmt/format.h>

#include "api/authorization.k8s.io/v1/codec.h"
#include "api/certificates.k8s.io/v1/codec.h"
#include "base/files.h"
#include "base/log.h"
#include "client/rest/resource.h"

namespace kpp::controllers::certificates {
namespace {

using api::authorization_k8s_io::v1::SubjectAccessReview;
using client::informers::As;
using client::informers::DeletedObject;
using client::informers::ObjectRef;

// The CA csrsigning signs with; an error names the file that is missing or unusable.
Result<pki::CertificateAndKey> LoadCa(const CsrSigningOptions& signing) {
  auto cert = ReadFile(signing.cert_file);
  if (!cert.ok()) return std::move(cert).error().WithContext(signing.cert_file);
  auto key = ReadFile(signing.key_file);
  if (!key.ok()) return std::move(key).error().WithContext(signing.key_file);
  if (auto matches = pki::CheckKeyMatches(*cert, *key); !matches.ok()) {
    return std::move(matches).error().WithContext(signing.key_file);
  }
  return pki::CertificateAndKey{*std::move(cert), *std::move(key)};
}

}  // namespace

Status RestCsrClient::UpdateApproval(const CertificateSigningRequest& csr) {
  CertificateSigningRequest copy = csr;
  copy.kind = "CertificateSigningRequest";
  copy.api_version = "certificates.k8s.io/v1";
  client::TypedResource<CertificateSigningRequest> csrs(client_);
  auto written = csrs.dynamic().WriteJson("PUT", csr.metadata.name, "approval", api::ToJson(copy),
                                          client::WriteOptions{});
  if (!written.ok()) return written.error();
  return Ok();
}

Status RestCsrClient::UpdateStatus(const CertificateSigningRequest& csr) {
  auto written = client::TypedResource<CertificateSigningRequest>(client_).UpdateStatus(csr);
  if (!written.ok()) return written.error();
  return Ok();
}

Status RestCsrClient::Delete(const std::string& name) {
  return client::TypedResource<CertificateSigningRequest>(client_).Delete(name);
}

Result<bool> RestCsrClient::Review(
    const CertificateSigningRequest& csr,
    const api::authorization_k8s_io::v1::ResourceAttributes& attributes) {
  SubjectAccessReview review;
  review.spec.user = csr.spec.username;
  review.spec.uid = csr.spec.uid;
  review.spec.groups = csr.spec.groups;
  review.spec.extra = csr.spec.extra;
  review.spec.resource_attributes = attributes;
  KPP_ASSIGN_OR_RETURN(auto answer,
                       client::TypedResource<SubjectAccessReview>(client_).Create(review));
  return answer.status.allowed;
}

CertificateController::CertificateController(std::string name,
                                             client::informers::SharedInformerFactory& factory,
                                             Handler handler, int workers)
    : informer_(factory.InformerFor<CertificateSigningRequest>()),
      handler_(std::move(handler)),
      workers_count_(workers),
      workers_(
          queue_,
          SyncCached<CertificateSigningRequest>(
              informer_,
              [this, name](const std::string& key, const CertificateSigningRequest* csr) -> Status {
                Status status = csr != nullptr ? handler_(*csr) : Ok();
                if (!status.ok()) {
                  KLOG_ERROR("{}: syncing csr {}: {}", name, key, status.error().message());
                }
                return status;
              }),
          {.what = name + ": syncing csr"}) {
  informer_.AddEventHandler(
      {.on_add = [this](const ObjectRef& object, bool) { queue_.Add(object->metadata().name); },
       .on_update = [this](const ObjectRef&,
                           const ObjectRef& object) { queue_.Add(object->metadata().name); },
       .on_delete =
           [this](const DeletedObject& deleted) {
             if (deleted.object) queue_.Add(deleted.object->metadata().name);
           }});
}

CertificateController::~CertificateController() {
  Stop();
}

void CertificateController::Run() {
  workers_.Start(workers_count_);
}

void CertificateController::Stop() {
  workers_.Stop();
}

CsrCleanerController::CsrCleanerController(client::informers::SharedInformerFactory& factory,
                                           CsrClient& client, std::chrono::seconds period,
                                           Clock& clock)
    : informer_(factory.InformerFor<CertificateSigningRequest>()),
      client_(client),
      period_(period),
      clock_(clock) {}

CsrCleanerController::~CsrCleanerController() {
  Stop();
}

std::vector<std::string> CsrCleanerController::CleanOnce() {
  std::vector<std::string> deleted;
  const auto now = clock_.Now();
  for (const auto& csr : client::informers::Lister<CertificateSigningRequest>(informer_).List()) {
    if (!ShouldClean(*csr, now)) continue;
    if (auto status = client_.Delete(csr->metadata.name); !status.ok()) {
      KLOG_ERROR("csrcleaner: deleting csr {}: {}", csr->metadata.name, status.error().message());
      continue;
    }
    KLOG_INFO("csrcleaner: deleted csr {}", csr->metadata.name);
    deleted.push_back(csr->metadata.name);
  }
  return deleted;
}

void CsrCleanerController::Run() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      CleanOnce();
      lock.lock();
      wake_.wait_for(lock, period_, [this] { return stopping_; });
    }
  });
}

void CsrCleanerController::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CertificateControllers::CertificateControllers(std::shared_ptr<client::rest::RestClient> client,
                                               client::informers::SharedInformerFactory& factory,
                                               const std::vector<std::string>& enabled,
                                               const CsrSigningOptions& signing)
    : client_(std::move(client)) {
  auto on = [&](std::string_view name) {
    return std::find(enabled.begin(), enabled.end(), name) != enabled.end();
  };
  if (on("csrapproving")) {
    approver_ = std::make_unique<CsrApprover>(client_, RealClock());
    controllers_.push_back(std::make_unique<CertificateController>(
        "csrapproving", factory,
        [this](const CertificateSigningRequest& csr) { return approver_->Handle(csr); }));
  }
  if (on("csrsigning")) {
    // As upstream, csrsigning runs only with a CA.
    if (signing.cert_file.empty() && signing.key_file.empty()) {
      KLOG_INFO("Skipping CSR signer controller because no csr cert/key was specified");
    } else if (auto ca = LoadCa(signing); !ca.ok()) {
      KLOG_ERROR("csrsigning: {}", ca.error().message());
    } else {
      SignerOptions options;
      options.ca = *std::move(ca);
      options.duration = signing.duration;
      signer_ = std::make_unique<CsrSigner>(client_, std::move(options), RealClock());
      controllers_.push_back(std::make_unique<CertificateController>(
          "csrsigning", factory,
          [this](const CertificateSigningRequest& csr) { return signer_->Handle(csr); }));
    }
  }
  if (on("csrcleaner")) cleaner_ = std::make_unique<CsrCleanerController>(factory, client_);
}

CertificateControllers::~CertificateControllers() {
  Stop();
}

void CertificateControllers::Run() {
  for (auto& controller : controllers_)
    controller->Run();
  if (cleaner_) cleaner_->Run();
}

void CertificateControllers::Stop() {
  for (auto& controller : controllers_)
    controller->Stop();
  if (cleaner_) cleaner_->Stop();
}

}  // namespace kpp::controllers::certificates
