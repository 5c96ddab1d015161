// PKCS#10 certificate requests: what one asks for, and a certificate for it signed by a CA
// (what the CSR signing controller issues). OpenSSL stays inside certificate_request.cc.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "pki/certificates.h"

namespace kpp::pki {

// What a parsed request asks for.
struct RequestInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // normalized textual form
  std::vector<std::string> email_addresses;
  std::vector<std::string> uris;
};

// Parses the first "CERTIFICATE REQUEST" PEM block of `pem` and checks its signature. The error
// messages are upstream's where a client may see them ("PEM block type must be CERTIFICATE
// REQUEST").
Result<RequestInfo> ParseCertificateRequest(const std::string& pem);

struct SigningOptions {
  // The certificates.k8s.io/v1 key usage names ("digital signature", "client auth", ...).
  std::vector<std::string> usages;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

// A certificate (PEM) for the key, subject and subject alternative names of `request_pem`,
// signed by `ca`; its validity ends no later than the CA's.
Result<std::string> SignCertificateRequest(const CertificateAndKey& ca,
                                           const std::string& request_pem,
                                           const SigningOptions& options);

// A new key (ECDSA P-256, PKCS#8 PEM) and a request for it (PEM), for tests and clients.
struct KeyAndRequest {
  std::string private_key_pem;
  std::string request_pem;
};
Result<KeyAndRequest> GenerateCertificateRequest(const std::string& common_name,
                                                 const std::vector<std::string>& organizations,
                                                 const std::vector<std::string>& dns_names = {},
                                                 const std::vector<std::string>& ip_addresses = {});

}  // namespace kpp::pki
