// X.509 certificates and keys for the cluster's PKI, as PEM text. OpenSSL stays inside
// certificates.cc; callers only see strings and plain structs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"

namespace kpp::pki {

struct CertificateAndKey {
  std::string certificate_pem;
  std::string private_key_pem;  // PKCS#8, ECDSA P-256
};

enum class KeyUsage { kServer, kClient, kServerAndClient };

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // textual IPv4 or IPv6
  KeyUsage usage = KeyUsage::kServer;
  std::chrono::hours validity{24 * 365};
};

// What a parsed certificate says about itself.
struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // normalized textual form
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  bool is_ca = false;
};

// A new self-signed CA with its own key.
Result<CertificateAndKey> GenerateCa(const std::string& common_name, std::chrono::hours validity);

// A new key and a certificate for it, signed by `ca`.
Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                           const CertificateRequest& request);

// Parses the first certificate in `pem`. Invalid when it is not a PEM certificate.
Result<CertificateInfo> ParseCertificate(const std::string& pem);

// Invalid unless `private_key_pem` is a private key and belongs to `certificate_pem`.
Status CheckKeyMatches(const std::string& certificate_pem, const std::string& private_key_pem);

// Invalid unless `certificate_pem` was issued and signed by `ca_certificate_pem`.
Status CheckSignedBy(const std::string& certificate_pem, const std::string& ca_certificate_pem);

}  // namespace kpp::pki
