#include "apiserver/admission/certificates.h"

#include <fmt/format.h>

#include "base/encoding.h"
#include "pki/certificate_request.h"

namespace kpp::apiserver::admission {
namespace {

constexpr std::string_view kGroup = "certificates.k8s.io";

bool IsCsr(const Attributes& attributes) {
  return attributes.Is(kGroup, "certificatesigningrequests");
}

std::string StringAt(const boost::json::object* object, std::string_view section,
                     std::string_view field) {
  if (object == nullptr) return "";
  const auto* part = object->if_contains(section);
  if (part == nullptr || !part->is_object()) return "";
  const auto* value = part->as_object().if_contains(field);
  if (value == nullptr || !value->is_string()) return "";
  return std::string(value->as_string());
}

}  // namespace

bool IsAuthorizedForSignerName(const AuthorizeFn& authorize, const UserInfo& user,
                               std::string_view verb, std::string_view signer_name) {
  if (authorize(user, verb, kGroup, "signers", signer_name)) return true;
  const size_t slash = signer_name.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string wildcard = fmt::format("{}/*", signer_name.substr(0, slash));
  return authorize(user, verb, kGroup, "signers", wildcard);
}

bool CertificateApproval::NeedsObject(const Attributes& attributes) const {
  return IsCsr(attributes) && attributes.subresource == "approval";
}

std::optional<Rejection> CertificateApproval::Validate(const Attributes& attributes,
                                                       Context& context) const {
  if (!NeedsObject(attributes) || attributes.operation != Operation::kUpdate ||
      context.authorize == nullptr) {
    return std::nullopt;
  }
  const std::string signer = StringAt(attributes.object, "spec", "signerName");
  if (IsAuthorizedForSignerName(*context.authorize, attributes.user, "approve", signer)) {
    return std::nullopt;
  }
  return AdmissionForbidden(
      attributes,
      fmt::format("user not permitted to approve requests with signerName \"{}\"", signer));
}

bool CertificateSigning::NeedsObject(const Attributes& attributes) const {
  return IsCsr(attributes) && attributes.subresource == "status";
}

std::optional<Rejection> CertificateSigning::Validate(const Attributes& attributes,
                                                      Context& context) const {
  if (!NeedsObject(attributes) || attributes.operation != Operation::kUpdate ||
      context.authorize == nullptr || attributes.old_object == nullptr) {
    return std::nullopt;
  }
  // Only a write that changes the certificate is signing.
  if (StringAt(attributes.object, "status", "certificate") ==
      StringAt(attributes.old_object, "status", "certificate")) {
    return std::nullopt;
  }
  const std::string signer = StringAt(attributes.old_object, "spec", "signerName");
  if (IsAuthorizedForSignerName(*context.authorize, attributes.user, "sign", signer)) {
    return std::nullopt;
  }
  return AdmissionForbidden(
      attributes,
      fmt::format("user not permitted to sign requests with signerName \"{}\"", signer));
}

bool CertificateSubjectRestriction::NeedsObject(const Attributes& attributes) const {
  return IsCsr(attributes) && attributes.subresource.empty() &&
         attributes.operation == Operation::kCreate;
}

std::optional<Rejection> CertificateSubjectRestriction::Validate(const Attributes& attributes,
                                                                 Context&) const {
  if (!NeedsObject(attributes)) return std::nullopt;
  constexpr std::string_view kClientSigner = "kubernetes.io/kube-apiserver-client";
  if (StringAt(attributes.object, "spec", "signerName") != kClientSigner) return std::nullopt;
  // The stored JSON carries the request base64-encoded; a request that does not parse is left
  // to validation, as upstream leaves it.
  auto pem = Base64Decode(StringAt(attributes.object, "spec", "request"));
  if (!pem.ok()) return std::nullopt;
  auto request = pki::ParseCertificateRequest(*pem);
  if (!request.ok()) return std::nullopt;
  for (const auto& organization : request->organizations) {
    if (organization == "system:masters") {
      return AdmissionForbidden(attributes,
                                fmt::format("use of {} signer with system:masters group is not "
                                            "allowed",
                                            kClientSigner));
    }
  }
  return std::nullopt;
}

}  // namespace kpp::apiserver::admission
