// The certificates.k8s.io admission plugins (upstream's plugin/pkg/admission/certificates):
// CertificateApproval (approving or denying a CSR needs `approve` on the signer),
// CertificateSigning (setting a CSR's certificate needs `sign` on the signer) and
// CertificateSubjectRestriction (no kube-apiserver-client certificates for system:masters).
// A signer is authorized by its name or by "<domain>/*", on resource signers.certificates.k8s.io.
#pragma once

#include "apiserver/admission/admission.h"

namespace kpp::apiserver::admission {

class CertificateApproval final : public Plugin {
 public:
  std::string_view Name() const override { return "CertificateApproval"; }
  bool NeedsObject(const Attributes& attributes) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

class CertificateSigning final : public Plugin {
 public:
  std::string_view Name() const override { return "CertificateSigning"; }
  bool NeedsObject(const Attributes& attributes) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

class CertificateSubjectRestriction final : public Plugin {
 public:
  std::string_view Name() const override { return "CertificateSubjectRestriction"; }
  bool NeedsObject(const Attributes& attributes) const override;
  std::optional<Rejection> Validate(const Attributes& attributes, Context& context) const override;
};

// Upstream's IsAuthorizedForSignerName: `verb` on signers named `signer_name`, or on
// "<domain>/*".
bool IsAuthorizedForSignerName(const AuthorizeFn& authorize, const UserInfo& user,
                               std::string_view verb, std::string_view signer_name);

}  // namespace kpp::apiserver::admission
