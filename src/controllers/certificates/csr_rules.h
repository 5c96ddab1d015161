// The rules of upstream's certificate controllers (pkg/controller/certificates), kept apart
// from the informers so they can be tested as tables: which kubelet client CSRs the approver
// recognizes, which requests each kubernetes.io signer accepts, how long a certificate lives,
// and when the cleaner deletes a CSR. The syncers take their client as an interface.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/authorization.k8s.io/v1/types.h"
#include "api/certificates.k8s.io/v1/types.h"
#include "base/clock.h"
#include "base/result.h"
#include "pki/certificate_request.h"
#include "pki/certificates.h"

namespace kpp::controllers::certificates {

using api::certificates_k8s_io::v1::CertificateSigningRequest;

inline constexpr char kKubeApiServerClientSigner[] = "kubernetes.io/kube-apiserver-client";
inline constexpr char kKubeletClientSigner[] = "kubernetes.io/kube-apiserver-client-kubelet";
inline constexpr char kKubeletServingSigner[] = "kubernetes.io/kubelet-serving";
inline constexpr char kLegacyUnknownSigner[] = "kubernetes.io/legacy-unknown";

// Whether a condition of `type` with status True is present.
bool HasTrueCondition(const CertificateSigningRequest& csr, std::string_view type);
bool IsApproved(const CertificateSigningRequest& csr);
bool IsDenied(const CertificateSigningRequest& csr);

// Upstream's ValidateKubeletClientCSR / ValidateKubeletServingCSR: the error, or nullopt.
std::optional<std::string> KubeletClientCsrProblem(const pki::RequestInfo& request,
                                                   const std::vector<std::string>& usages);
std::optional<std::string> KubeletServingCsrProblem(const pki::RequestInfo& request,
                                                    const std::vector<std::string>& usages);
// A kube-apiserver-client certificate's usages: client auth, optionally digital signature and
// key encipherment.
std::optional<std::string> ApiServerClientUsagesProblem(const std::vector<std::string>& usages);

// What a signer makes of a request: not its to sign, or its to sign (with the reason it fails
// when it cannot).
struct SignerVerdict {
  bool recognized = false;
  std::optional<std::string> problem;
};
SignerVerdict CheckRequestForSigner(std::string_view signer, const pki::RequestInfo& request,
                                    const std::vector<std::string>& usages);

// The approver's recognizers: a kubelet client certificate for any node (nodeclient), or for
// the requesting node itself (selfnodeclient).
bool IsNodeClientCert(const CertificateSigningRequest& csr, const pki::RequestInfo& request);
bool IsSelfNodeClientCert(const CertificateSigningRequest& csr, const pki::RequestInfo& request);

// How long a certificate for `csr` lives: --cluster-signing-duration, shortened to the
// requested expirationSeconds (never below 10 minutes).
std::chrono::seconds CertificateDuration(const CertificateSigningRequest& csr,
                                         std::chrono::seconds max_duration);

// What the controllers write.
class CsrClient {
 public:
  virtual ~CsrClient() = default;
  // PUT of the approval subresource (its status.conditions).
  virtual Status UpdateApproval(const CertificateSigningRequest& csr) = 0;
  // PUT of the status subresource (conditions and certificate).
  virtual Status UpdateStatus(const CertificateSigningRequest& csr) = 0;
  virtual Status Delete(const std::string& name) = 0;
  // Whether a SubjectAccessReview allows the CSR's requestor `attributes`.
  virtual Result<bool> Review(
      const CertificateSigningRequest& csr,
      const api::authorization_k8s_io::v1::ResourceAttributes& attributes) = 0;
};

// upstream's sarApprover: one CSR.
class CsrApprover {
 public:
  CsrApprover(CsrClient& client, Clock& clock) : client_(client), clock_(clock) {}
  // Ok when nothing is to be done or the CSR was approved; an error to retry.
  Status Handle(const CertificateSigningRequest& csr);

 private:
  CsrClient& client_;
  Clock& clock_;
};

struct SignerOptions {
  pki::CertificateAndKey ca;
  std::chrono::seconds duration{std::chrono::hours(24 * 365)};  // --cluster-signing-duration
};

// upstream's signer, for the kubernetes.io signers it serves (client, kubelet client, kubelet
// serving) with one CA.
class CsrSigner {
 public:
  CsrSigner(CsrClient& client, SignerOptions options, Clock& clock)
      : client_(client), options_(std::move(options)), clock_(clock) {}
  Status Handle(const CertificateSigningRequest& csr);

 private:
  CsrClient& client_;
  SignerOptions options_;
  Clock& clock_;
};

// upstream's cleaner: whether `csr` has outlived its stage (approved, denied or failed for an
// hour, pending for a day, or its certificate expired).
bool ShouldClean(const CertificateSigningRequest& csr, Clock::TimePoint now);

}  // namespace kpp::controllers::certificates
