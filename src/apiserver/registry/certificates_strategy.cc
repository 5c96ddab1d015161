#include "apiserver/registry/certificates_strategy.h"

#include <fmt/format.h>

#include <set>

#include "api/certificates.k8s.io/v1/types.h"
#include "apimachinery/labels/validation.h"
#include "pki/certificate_request.h"
#include "pki/certificates.h"

namespace kpp::apiserver {
namespace {

namespace certificates = api::certificates_k8s_io::v1;
using certificates::CertificateSigningRequest;
using certificates::CertificateSigningRequestCondition;
using validation::FieldErrors;
using validation::FieldPath;

CertificateSigningRequest* AsCsr(api::Object& object) {
  auto* typed = dynamic_cast<api::TypedObject<CertificateSigningRequest>*>(&object);
  return typed == nullptr ? nullptr : &typed->value();
}

const CertificateSigningRequest* AsCsr(const api::Object& object) {
  const auto* typed = dynamic_cast<const api::TypedObject<CertificateSigningRequest>*>(&object);
  return typed == nullptr ? nullptr : &typed->value();
}

const std::vector<std::string>& KnownUsages() {
  // Sorted, as upstream lists the supported values.
  static const std::vector<std::string> usages = [] {
    std::vector<std::string> all = {"signing",
                                    "digital signature",
                                    "content commitment",
                                    "key encipherment",
                                    "key agreement",
                                    "data encipherment",
                                    "cert sign",
                                    "crl sign",
                                    "encipher only",
                                    "decipher only",
                                    "any",
                                    "server auth",
                                    "client auth",
                                    "code signing",
                                    "email protection",
                                    "s/mime",
                                    "ipsec end system",
                                    "ipsec tunnel",
                                    "ipsec user",
                                    "timestamping",
                                    "ocsp signing",
                                    "microsoft sgc",
                                    "netscape sgc"};
    std::sort(all.begin(), all.end());
    return all;
  }();
  return usages;
}

// Upstream's ValidateSignerName: "<domain>/<path>", both made of DNS names.
void ValidateSignerName(const FieldPath& path, const std::string& signer, FieldErrors& errors) {
  if (signer.empty()) {
    errors.push_back(validation::Required(path));
    return;
  }
  const size_t slash = signer.find('/');
  if (slash == std::string::npos || signer.find('/', slash + 1) != std::string::npos) {
    errors.push_back(validation::Invalid(
        path, signer,
        "must be a fully qualified domain and path of the form 'example.com/signer-name'"));
    return;
  }
  const std::string domain = signer.substr(0, slash);
  const std::string rest = signer.substr(slash + 1);
  if (domain.size() > validation::kDns1123SubdomainMaxLength) {
    errors.push_back(validation::TooLong(path, validation::kDns1123SubdomainMaxLength));
  }
  auto split = [](const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      const size_t dot = text.find('.', start);
      parts.push_back(text.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return parts;
  };
  const auto domain_labels = split(domain);
  for (const auto& label : domain_labels) {
    auto problems = validation::IsDNS1123Label(label);
    if (problems.empty()) continue;
    for (const auto& problem : problems) {
      errors.push_back(validation::Invalid(
          path, domain, fmt::format("validating label \"{}\": {}", label, problem)));
    }
    break;
  }
  if (domain_labels.size() < 2) {
    errors.push_back(validation::Invalid(
        path, domain, "should be a domain with at least two segments separated by dots"));
  }
  for (const auto& label : split(rest)) {
    auto problems = validation::IsDNS1123Subdomain(label);
    if (problems.empty()) continue;
    for (const auto& problem : problems) {
      errors.push_back(validation::Invalid(
          path, rest, fmt::format("validating label \"{}\": {}", label, problem)));
    }
    break;
  }
  const size_t max_length = validation::kDns1123SubdomainMaxLength +
                            validation::kDns1123SubdomainMaxLength +
                            validation::kDns1123LabelMaxLength + 2;
  if (signer.size() > max_length) errors.push_back(validation::TooLong(path, max_length));
}

// Upstream's check of status.certificate: PEM CERTIFICATE blocks only, at least one.
std::optional<std::string> CertificateProblem(const std::string& pem) {
  if (pem.empty()) return std::nullopt;
  size_t blocks = 0;
  size_t position = 0;
  while (true) {
    const size_t begin = pem.find("-----BEGIN ", position);
    if (begin == std::string::npos) break;
    const size_t type_end = pem.find("-----", begin + 11);
    if (type_end == std::string::npos) break;
    const std::string type = pem.substr(begin + 11, type_end - begin - 11);
    const std::string end_marker = "-----END " + type + "-----";
    const size_t end = pem.find(end_marker, type_end);
    if (end == std::string::npos) break;
    if (type != "CERTIFICATE") {
      return fmt::format("only CERTIFICATE PEM blocks are allowed, found \"{}\"", type);
    }
    const std::string block = pem.substr(begin, end + end_marker.size() - begin);
    if (block.find(':') != std::string::npos) return "no PEM block headers are permitted";
    if (!pki::ParseCertificate(block).ok()) return "x509: malformed certificate";
    ++blocks;
    position = end + end_marker.size();
  }
  if (blocks == 0) return "must contain at least one CERTIFICATE PEM block";
  return std::nullopt;
}

std::vector<CertificateSigningRequestCondition> ConditionsOfType(
    const CertificateSigningRequest& csr, std::string_view type) {
  std::vector<CertificateSigningRequestCondition> found;
  for (const auto& condition : csr.status.conditions) {
    if (condition.type == type) found.push_back(condition);
  }
  return found;
}

bool HasBothApprovedAndDenied(const CertificateSigningRequest& csr) {
  return !ConditionsOfType(csr, "Approved").empty() && !ConditionsOfType(csr, "Denied").empty();
}

bool HasDuplicateConditionTypes(const CertificateSigningRequest& csr) {
  std::set<std::string> seen;
  for (const auto& condition : csr.status.conditions) {
    if (!seen.insert(condition.type).second) return true;
  }
  return false;
}

// Upstream's validateConditions; `old` (updates) tolerates problems already stored.
void ValidateConditions(const CertificateSigningRequest& csr, const CertificateSigningRequest* old,
                        FieldErrors& errors) {
  const FieldPath path = FieldPath("status").Child("conditions");
  const bool allow_both = old != nullptr && HasBothApprovedAndDenied(*old);
  const bool allow_duplicates = old != nullptr && HasDuplicateConditionTypes(*old);
  const bool allow_empty_type = old != nullptr && !ConditionsOfType(*old, "").empty();
  std::set<std::string> seen;
  bool approved = false;
  bool denied = false;
  for (size_t i = 0; i < csr.status.conditions.size(); ++i) {
    const auto& condition = csr.status.conditions[i];
    if (condition.type.empty() && !allow_empty_type) {
      errors.push_back(validation::Required(path.Index(i).Child("type")));
    }
    const bool true_only =
        condition.type == "Approved" || condition.type == "Denied" || condition.type == "Failed";
    const std::vector<std::string> allowed =
        true_only ? std::vector<std::string>{"True"}
                  : std::vector<std::string>{"False", "True", "Unknown"};
    if (condition.status.empty()) {
      errors.push_back(validation::Required(path.Index(i).Child("status")));
    } else if (std::find(allowed.begin(), allowed.end(), condition.status) == allowed.end()) {
      errors.push_back(
          validation::NotSupported(path.Index(i).Child("status"), condition.status, allowed));
    }
    if (!allow_both) {
      if (condition.type == "Approved") {
        approved = true;
        if (denied) {
          errors.push_back(validation::Invalid(path.Index(i).Child("type"), condition.type,
                                               "Approved and Denied conditions are mutually "
                                               "exclusive"));
        }
      } else if (condition.type == "Denied") {
        denied = true;
        if (approved) {
          errors.push_back(validation::Invalid(path.Index(i).Child("type"), condition.type,
                                               "Approved and Denied conditions are mutually "
                                               "exclusive"));
        }
      }
    }
    if (!allow_duplicates && !seen.insert(condition.type).second) {
      errors.push_back(validation::Duplicate(path.Index(i).Child("type"), condition.type));
    }
  }
}

// Upstream's validateCertificateSigningRequest; `old` for updates.
void ValidateCsr(const CertificateSigningRequest& csr, const CertificateSigningRequest* old,
                 FieldErrors& errors) {
  const FieldPath spec("spec");
  if (auto parsed = pki::ParseCertificateRequest(csr.spec.request); !parsed.ok()) {
    // Upstream shows the request's bytes as the value; they are long, so kpp shows none.
    errors.push_back(
        validation::Invalid(spec.Child("request"), "<request data>", parsed.error().message()));
  }
  if (csr.spec.usages.empty()) errors.push_back(validation::Required(spec.Child("usages")));
  const bool old_has_unknown_usage =
      old != nullptr &&
      std::any_of(old->spec.usages.begin(), old->spec.usages.end(), [](const std::string& usage) {
        return !std::binary_search(KnownUsages().begin(), KnownUsages().end(), usage);
      });
  std::set<std::string> seen;
  for (size_t i = 0; i < csr.spec.usages.size(); ++i) {
    const auto& usage = csr.spec.usages[i];
    if (!old_has_unknown_usage &&
        !std::binary_search(KnownUsages().begin(), KnownUsages().end(), usage)) {
      errors.push_back(
          validation::NotSupported(spec.Child("usages").Index(i), usage, KnownUsages()));
    }
    if (!seen.insert(usage).second && old == nullptr) {
      errors.push_back(validation::Duplicate(spec.Child("usages").Index(i), usage));
    }
  }
  const bool legacy_allowed =
      old != nullptr && old->spec.signer_name == "kubernetes.io/legacy-unknown";
  if (!legacy_allowed && csr.spec.signer_name == "kubernetes.io/legacy-unknown") {
    errors.push_back(validation::Invalid(spec.Child("signerName"), csr.spec.signer_name,
                                         "the legacy signerName is not allowed via this API "
                                         "version"));
  } else {
    ValidateSignerName(spec.Child("signerName"), csr.spec.signer_name, errors);
  }
  if (csr.spec.expiration_seconds && *csr.spec.expiration_seconds < 600) {
    errors.push_back(
        validation::InvalidInt(spec.Child("expirationSeconds"), *csr.spec.expiration_seconds,
                               "may not specify a duration less than 600 seconds (10 minutes)"));
  }
  ValidateConditions(csr, old, errors);
  const bool certificate_unchanged =
      old != nullptr && old->status.certificate == csr.status.certificate;
  if (!certificate_unchanged) {
    if (auto problem = CertificateProblem(csr.status.certificate)) {
      errors.push_back(validation::Invalid(FieldPath("status").Child("certificate"),
                                           "<certificate data>", *problem));
    }
  }
}

api::Time Now() {
  return api::Time::FromUnixSeconds(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// Upstream's populateConditionTimestamps.
void PopulateConditionTimestamps(CertificateSigningRequest& csr,
                                 const CertificateSigningRequest& old) {
  const api::Time now = Now();
  for (auto& condition : csr.status.conditions) {
    if (condition.last_update_time.IsZero()) condition.last_update_time = now;
    if (!condition.last_transition_time.IsZero()) continue;
    condition.last_transition_time = now;
    for (const auto& previous : old.status.conditions) {
      if (previous.type == condition.type && previous.status == condition.status &&
          !previous.last_transition_time.IsZero()) {
        condition.last_transition_time = previous.last_transition_time;
        break;
      }
    }
  }
}

// Upstream's preserveConditionInstances: the status subresource cannot change approval.
void PreserveConditionInstances(CertificateSigningRequest& csr,
                                const CertificateSigningRequest& old, std::string_view type) {
  std::vector<size_t> old_indices;
  std::vector<size_t> new_indices;
  for (size_t i = 0; i < old.status.conditions.size(); ++i) {
    if (old.status.conditions[i].type == type) old_indices.push_back(i);
  }
  for (size_t i = 0; i < csr.status.conditions.size(); ++i) {
    if (csr.status.conditions[i].type == type) new_indices.push_back(i);
  }
  if (old_indices.size() != new_indices.size()) return;
  for (size_t i = 0; i < old_indices.size(); ++i) {
    csr.status.conditions[new_indices[i]] = old.status.conditions[old_indices[i]];
  }
}

class CertificateSigningRequestStrategy final : public Strategy {
 public:
  void PrepareForCreateAs(api::Object& object, const UserInfo* user) const override {
    auto* csr = AsCsr(object);
    if (csr == nullptr) return;
    csr->spec.username.clear();
    csr->spec.uid.clear();
    csr->spec.groups.clear();
    csr->spec.extra.clear();
    if (user != nullptr) {
      csr->spec.username = user->name;
      csr->spec.uid = user->uid;
      csr->spec.groups = user->groups;
      csr->spec.extra = user->extra;
    }
    csr->status = {};
  }

  // The main resource changes only metadata.
  void PrepareForUpdate(const api::KindInfo&, api::Object& object,
                        const api::Object& old) const override {
    auto* csr = AsCsr(object);
    const auto* previous = AsCsr(old);
    if (csr == nullptr || previous == nullptr) return;
    csr->spec = previous->spec;
    csr->status = previous->status;
  }

  void PrepareForStatusUpdate(const api::KindInfo&, api::Object& object,
                              const api::Object& old) const override {
    auto* csr = AsCsr(object);
    const auto* previous = AsCsr(old);
    if (csr == nullptr || previous == nullptr) return;
    csr->spec = previous->spec;
    PreserveConditionInstances(*csr, *previous, "Approved");
    PreserveConditionInstances(*csr, *previous, "Denied");
    PopulateConditionTimestamps(*csr, *previous);
  }

  void PrepareForSubresourceUpdate(std::string_view subresource, const api::KindInfo&,
                                   api::Object& object, const api::Object& old) const override {
    if (subresource != "approval") return;
    auto* csr = AsCsr(object);
    const auto* previous = AsCsr(old);
    if (csr == nullptr || previous == nullptr) return;
    PopulateConditionTimestamps(*csr, *previous);
    auto conditions = std::move(csr->status.conditions);
    csr->spec = previous->spec;
    csr->status = previous->status;
    csr->status.conditions = std::move(conditions);
  }

  void Validate(const api::Object& object, FieldErrors& errors) const override {
    if (const auto* csr = AsCsr(object)) ValidateCsr(*csr, nullptr, errors);
  }

  void ValidateUpdate(std::string_view subresource, const api::Object& object,
                      const api::Object& old, FieldErrors& errors) const override {
    const auto* csr = AsCsr(object);
    const auto* previous = AsCsr(old);
    if (csr == nullptr || previous == nullptr) return;
    ValidateCsr(*csr, previous, errors);
    const FieldPath conditions = FieldPath("status").Child("conditions");
    for (std::string_view type : {"Approved", "Denied", "Failed"}) {
      if (ConditionsOfType(*csr, type).size() < ConditionsOfType(*previous, type).size()) {
        errors.push_back(validation::Forbidden(
            conditions, fmt::format("updates may not remove a condition of type \"{}\"", type)));
      }
    }
    if (subresource != "approval") {
      for (std::string_view type : {"Approved", "Denied"}) {
        const auto now = ConditionsOfType(*csr, type);
        const auto before = ConditionsOfType(*previous, type);
        if (now.size() > before.size()) {
          errors.push_back(validation::Forbidden(
              conditions, fmt::format("updates may not add a condition of type \"{}\"", type)));
        } else if (now.size() == before.size() && now != before) {
          errors.push_back(validation::Forbidden(
              conditions, fmt::format("updates may not modify a condition of type \"{}\"", type)));
        }
      }
    }
    if (csr->status.certificate != previous->status.certificate) {
      const FieldPath certificate = FieldPath("status").Child("certificate");
      if (subresource != "status") {
        errors.push_back(
            validation::Forbidden(certificate, "updates may not set certificate content"));
      } else if (!previous->status.certificate.empty()) {
        errors.push_back(validation::Forbidden(
            certificate, "updates may not modify existing certificate content"));
      }
    }
  }
};

}  // namespace

const Strategy* CertificatesStrategyFor(const api::KindInfo& kind) {
  static const CertificateSigningRequestStrategy csr_strategy;
  if (kind.group == "certificates.k8s.io" && kind.kind == "CertificateSigningRequest") {
    return &csr_strategy;
  }
  return nullptr;
}

}  // namespace kpp::apiserver
