// The cluster's certificates under <data-dir>/tls: created at first start, verified and reused
// afterwards. Corrupt or mismatched files are reported, never replaced.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "pki/certificates.h"

namespace kpp::pki {

// File names inside the tls directory.
inline constexpr char kCaName[] = "ca";              // cluster CA
inline constexpr char kServingName[] = "apiserver";  // API serving certificate
inline constexpr char kAdminName[] = "admin";        // admin client certificate

inline constexpr char kAdminUser[] = "kpp-admin";
inline constexpr char kAdminGroup[] = "system:masters";

struct ClusterTls {
  CertificateAndKey ca;
  CertificateAndKey serving;
  CertificateAndKey admin;
};

struct ServingNames {
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

// The serving certificate's names: localhost, the kubernetes service names, the host name,
// loopback addresses and `bind_address` (or every local address when it is unspecified).
ServingNames DefaultServingNames(const std::string& bind_address);

// Loads the certificates in `tls_dir`, creating what is missing. Certificates close to expiry
// (and a serving certificate lacking one of `names`) are reissued from the CA. Fails with
// Invalid, naming the file, when a file is corrupt, a key does not match its certificate, a
// certificate was not issued by the CA, or the CA is unusable; nothing is written then.
// Every write is atomic, and a reissue that a crash interrupted is finished on the next call.
Result<ClusterTls> LoadOrCreateClusterTls(const std::string& tls_dir, const ServingNames& names,
                                          std::chrono::system_clock::time_point now);

}  // namespace kpp::pki
