#include "controllers/certificates/csr_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/log.h"

namespace kpp::controllers::certificates {
namespace {

using Usages = std::set<std::string>;

Usages UsageSet(const std::vector<std::string>& usages) {
  return Usages(usages.begin(), usages.end());
}

// Go's %v of a sorted string set: [a b c].
std::string GoList(const Usages& usages) {
  return fmt::format("[{}]", fmt::join(usages, " "));
}

const Usages& KubeletClientUsages() {
  static const Usages usages = {"client auth", "digital signature", "key encipherment"};
  return usages;
}
const Usages& KubeletClientUsagesNoRsa() {
  static const Usages usages = {"client auth", "digital signature"};
  return usages;
}
const Usages& KubeletServingUsages() {
  static const Usages usages = {"digital signature", "key encipherment", "server auth"};
  return usages;
}
const Usages& KubeletServingUsagesNoRsa() {
  static const Usages usages = {"digital signature", "server auth"};
  return usages;
}

api::Time TimeAt(Clock::TimePoint point) {
  return api::Time::FromUnixSeconds(
      std::chrono::duration_cast<std::chrono::seconds>(point.time_since_epoch()).count());
}

Clock::TimePoint PointOf(const api::Time& time) {
  return Clock::TimePoint(std::chrono::seconds(time.unix_seconds));
}

}  // namespace

bool HasTrueCondition(const CertificateSigningRequest& csr, std::string_view type) {
  return std::any_of(
      csr.status.conditions.begin(), csr.status.conditions.end(),
      [&](const auto& condition) { return condition.type == type && condition.status == "True"; });
}

// Upstream's GetCertApprovalCondition counts the types whatever their status.
bool IsApproved(const CertificateSigningRequest& csr) {
  bool approved = false;
  for (const auto& condition : csr.status.conditions) {
    if (condition.type == "Denied") return false;
    if (condition.type == "Approved") approved = true;
  }
  return approved;
}

bool IsDenied(const CertificateSigningRequest& csr) {
  return std::any_of(csr.status.conditions.begin(), csr.status.conditions.end(),
                     [](const auto& condition) { return condition.type == "Denied"; });
}

std::optional<std::string> KubeletClientCsrProblem(const pki::RequestInfo& request,
                                                   const std::vector<std::string>& usages) {
  if (request.organizations != std::vector<std::string>{"system:nodes"}) {
    return "subject organization is not system:nodes";
  }
  if (!request.dns_names.empty()) return "DNS subjectAltNames are not allowed";
  if (!request.email_addresses.empty()) return "Email subjectAltNames are not allowed";
  if (!request.ip_addresses.empty()) return "IP subjectAltNames are not allowed";
  if (!request.uris.empty()) return "URI subjectAltNames are not allowed";
  if (!request.common_name.starts_with("system:node:")) {
    return "subject common name does not begin with system:node:";
  }
  const Usages requested = UsageSet(usages);
  if (requested != KubeletClientUsages() && requested != KubeletClientUsagesNoRsa()) {
    return fmt::format("usages did not match {}", GoList(KubeletClientUsages()));
  }
  return std::nullopt;
}

std::optional<std::string> KubeletServingCsrProblem(const pki::RequestInfo& request,
                                                    const std::vector<std::string>& usages) {
  if (request.organizations != std::vector<std::string>{"system:nodes"}) {
    return "subject organization is not system:nodes";
  }
  if (request.dns_names.empty() && request.ip_addresses.empty()) {
    return "DNS or IP subjectAltName is required";
  }
  if (!request.email_addresses.empty()) return "Email subjectAltNames are not allowed";
  if (!request.uris.empty()) return "URI subjectAltNames are not allowed";
  if (!request.common_name.starts_with("system:node:")) {
    return "subject common name does not begin with system:node:";
  }
  const Usages requested = UsageSet(usages);
  if (requested != KubeletServingUsages() && requested != KubeletServingUsagesNoRsa()) {
    return fmt::format("usages did not match {}", GoList(KubeletServingUsages()));
  }
  return std::nullopt;
}

std::optional<std::string> ApiServerClientUsagesProblem(const std::vector<std::string>& usages) {
  bool client_auth = false;
  for (const auto& usage : usages) {
    if (usage == "digital signature" || usage == "key encipherment") continue;
    if (usage == "client auth") {
      client_auth = true;
      continue;
    }
    return fmt::format("invalid usage for client certificate: {}", usage);
  }
  if (!client_auth) return "missing required usage for client certificate: client auth";
  return std::nullopt;
}

SignerVerdict CheckRequestForSigner(std::string_view signer, const pki::RequestInfo& request,
                                    const std::vector<std::string>& usages) {
  if (signer == kKubeletClientSigner) return {true, KubeletClientCsrProblem(request, usages)};
  if (signer == kKubeApiServerClientSigner) return {true, ApiServerClientUsagesProblem(usages)};
  if (signer == kKubeletServingSigner) return {true, KubeletServingCsrProblem(request, usages)};
  return {};
}

bool IsNodeClientCert(const CertificateSigningRequest& csr, const pki::RequestInfo& request) {
  return csr.spec.signer_name == kKubeletClientSigner &&
         !KubeletClientCsrProblem(request, csr.spec.usages);
}

bool IsSelfNodeClientCert(const CertificateSigningRequest& csr, const pki::RequestInfo& request) {
  return csr.spec.username == request.common_name && IsNodeClientCert(csr, request);
}

std::chrono::seconds CertificateDuration(const CertificateSigningRequest& csr,
                                         std::chrono::seconds max_duration) {
  if (!csr.spec.expiration_seconds) return max_duration;
  const std::chrono::seconds requested(*csr.spec.expiration_seconds);
  const std::chrono::seconds shortest(600);
  if (requested >= max_duration) return max_duration;
  return std::max(requested, shortest);
}

Status CsrApprover::Handle(const CertificateSigningRequest& csr) {
  if (!csr.status.certificate.empty()) return Ok();
  bool approved_or_denied = false;
  for (const auto& condition : csr.status.conditions) {
    if (condition.type == "Approved" || condition.type == "Denied") approved_or_denied = true;
  }
  if (approved_or_denied) return Ok();
  auto request = pki::ParseCertificateRequest(csr.spec.request);
  if (!request.ok()) {
    return InvalidError(fmt::format("unable to parse csr \"{}\": {}", csr.metadata.name,
                                    request.error().message()));
  }
  struct Recognizer {
    bool (*recognize)(const CertificateSigningRequest&, const pki::RequestInfo&);
    const char* subresource;
    const char* message;
  };
  static constexpr Recognizer kRecognizers[] = {
      {&IsSelfNodeClientCert, "selfnodeclient",
       "Auto approving self kubelet client certificate after SubjectAccessReview."},
      {&IsNodeClientCert, "nodeclient",
       "Auto approving kubelet client certificate after SubjectAccessReview."},
  };
  std::vector<std::string> tried;
  for (const auto& recognizer : kRecognizers) {
    if (!recognizer.recognize(csr, *request)) continue;
    tried.push_back(recognizer.subresource);
    api::authorization_k8s_io::v1::ResourceAttributes attributes;
    attributes.group = "certificates.k8s.io";
    attributes.resource = "certificatesigningrequests";
    attributes.verb = "create";
    attributes.subresource = recognizer.subresource;
    attributes.version = "*";
    KPP_ASSIGN_OR_RETURN(bool allowed, client_.Review(csr, attributes));
    if (!allowed) continue;
    CertificateSigningRequest approved = csr;
    api::certificates_k8s_io::v1::CertificateSigningRequestCondition condition;
    condition.type = "Approved";
    condition.status = "True";
    condition.reason = "AutoApproved";
    condition.message = recognizer.message;
    condition.last_update_time = TimeAt(clock_.Now());
    approved.status.conditions.push_back(std::move(condition));
    if (auto status = client_.UpdateApproval(approved); !status.ok()) {
      return Error(status.error().code(),
                   fmt::format("error updating approval for csr: {}", status.error().message()));
    }
    return Ok();
  }
  if (!tried.empty()) {
    // Upstream's IgnorableError: logged, not retried.
    KLOG_V(2, "recognized csr \"{}\" as [{}] but subject access review was not approved",
           csr.metadata.name, fmt::join(tried, " "));
  }
  return Ok();
}

Status CsrSigner::Handle(const CertificateSigningRequest& csr) {
  if (!csr.status.certificate.empty()) return Ok();
  if (!IsApproved(csr) || HasTrueCondition(csr, "Failed")) return Ok();
  if (csr.spec.signer_name != kKubeApiServerClientSigner &&
      csr.spec.signer_name != kKubeletClientSigner &&
      csr.spec.signer_name != kKubeletServingSigner) {
    return Ok();
  }
  auto request = pki::ParseCertificateRequest(csr.spec.request);
  if (!request.ok()) {
    return InvalidError(fmt::format("unable to parse csr \"{}\": {}", csr.metadata.name,
                                    request.error().message()));
  }
  const SignerVerdict verdict =
      CheckRequestForSigner(csr.spec.signer_name, *request, csr.spec.usages);
  if (!verdict.recognized) return Ok();
  CertificateSigningRequest updated = csr;
  if (verdict.problem) {
    api::certificates_k8s_io::v1::CertificateSigningRequestCondition condition;
    condition.type = "Failed";
    condition.status = "True";
    condition.reason = "SignerValidationFailure";
    condition.message = *verdict.problem;
    condition.last_update_time = TimeAt(clock_.Now());
    updated.status.conditions.push_back(std::move(condition));
    return client_.UpdateStatus(updated);
  }
  const auto now = clock_.Now();
  const auto duration = CertificateDuration(csr, options_.duration);
  // Upstream's PermissiveSigningPolicy: backdated 5 minutes so that slightly slow clocks accept
  // it at once; a short-lived certificate (under 8 h) keeps its full lifetime from now.
  const std::chrono::seconds backdate = std::chrono::minutes(5);
  const auto not_after =
      duration < std::chrono::hours(8) ? now + duration : now + duration - backdate;
  pki::SigningOptions signing;
  signing.usages = csr.spec.usages;
  signing.not_before =
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(now - backdate);
  signing.not_after = std::chrono::time_point_cast<std::chrono::system_clock::duration>(not_after);
  auto certificate = pki::SignCertificateRequest(options_.ca, csr.spec.request, signing);
  if (!certificate.ok()) {
    return Error(certificate.error().code(),
                 fmt::format("error auto signing csr: {}", certificate.error().message()));
  }
  updated.status.certificate = *std::move(certificate);
  return client_.UpdateStatus(updated);
}

bool ShouldClean(const CertificateSigningRequest& csr, Clock::TimePoint now) {
  constexpr auto kFinishedExpiration = std::chrono::hours(1);
  constexpr auto kPendingExpiration = std::chrono::hours(24);
  const bool issued = !csr.status.certificate.empty();
  for (const auto& condition : csr.status.conditions) {
    const auto updated = PointOf(condition.last_update_time);
    const bool old = !condition.last_update_time.IsZero() && updated + kFinishedExpiration < now;
    if (condition.type == "Approved" && issued && old) return true;
    if ((condition.type == "Denied" || condition.type == "Failed") && old) return true;
  }
  const bool decided = std::any_of(
      csr.status.conditions.begin(), csr.status.conditions.end(), [](const auto& condition) {
        return condition.type == "Approved" || condition.type == "Denied" ||
               condition.type == "Failed";
      });
  if (!decided && !issued && !csr.metadata.creation_timestamp.IsZero() &&
      PointOf(csr.metadata.creation_timestamp) + kPendingExpiration < now) {
    return true;
  }
  if (issued) {
    auto certificate = pki::ParseCertificate(csr.status.certificate);
    if (certificate.ok() &&
        std::chrono::system_clock::to_time_t(certificate->not_after) <
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) {
      return true;
    }
  }
  return false;
}

}  // namespace kpp::controllers::certificates
