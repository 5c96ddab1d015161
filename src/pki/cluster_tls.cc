#include "pki/cluster_tls.h"

#include <fmt/format.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "base/files.h"
#include "base/log.h"

namespace kpp::pki {
namespace {

using namespace std::chrono_literals;

constexpr auto kCaValidity = std::chrono::hours(24 * 365 * 10);
constexpr auto kLeafValidity = std::chrono::hours(24 * 365);
// Leaf certificates are renewed at start when they have less than this left, as k3s does.
constexpr auto kRenewBefore = std::chrono::hours(24 * 90);

struct PairPaths {
  std::string cert;
  std::string key;
  std::string display_cert;  // "tls/ca.crt", for messages
  std::string display_key;
};

PairPaths PathsFor(const std::string& dir, std::string_view name) {
  return {fmt::format("{}/{}.crt", dir, name), fmt::format("{}/{}.key", dir, name),
          fmt::format("tls/{}.crt", name), fmt::format("tls/{}.key", name)};
}

Error FileError(const std::string& display, std::string_view problem) {
  return InvalidError(fmt::format("{}: {}", display, problem));
}

// Completes or discards a replacement that a crash interrupted. A replacement stages
// <name>.key.new then <name>.crt.new, then renames the key and then the certificate: a staged
// certificate means the staged pair was complete, so it is rolled forward; a staged key alone
// was never committed and is dropped.
Status RecoverInterruptedReplacement(const PairPaths& paths) {
  const std::string staged_cert = paths.cert + ".new";
  const std::string staged_key = paths.key + ".new";
  if (PathExists(staged_cert)) {
    if (PathExists(staged_key) && std::rename(staged_key.c_str(), paths.key.c_str()) != 0) {
      return InternalError(fmt::format("finishing replacement of {}", paths.display_key));
    }
    if (std::rename(staged_cert.c_str(), paths.cert.c_str()) != 0) {
      return InternalError(fmt::format("finishing replacement of {}", paths.display_cert));
    }
    KLOG_INFO("finished an interrupted replacement of {}", paths.display_cert);
  } else if (PathExists(staged_key)) {
    ::unlink(staged_key.c_str());
  }
  return Ok();
}

Status WritePair(const PairPaths& paths, const CertificateAndKey& pair) {
  KPP_RETURN_IF_ERROR(WriteFileAtomic(paths.key + ".new", pair.private_key_pem, 0600));
  KPP_RETURN_IF_ERROR(WriteFileAtomic(paths.cert + ".new", pair.certificate_pem, 0644));
  if (std::rename((paths.key + ".new").c_str(), paths.key.c_str()) != 0 ||
      std::rename((paths.cert + ".new").c_str(), paths.cert.c_str()) != 0) {
    return InternalError(fmt::format("installing {}", paths.display_cert));
  }
  return Ok();
}

// Reads a pair: nullopt when neither file exists; Invalid when only one does or the key does
// not belong to the certificate.
Result<std::optional<CertificateAndKey>> ReadPair(const PairPaths& paths) {
  const bool has_cert = PathExists(paths.cert);
  const bool has_key = PathExists(paths.key);
  if (!has_cert && !has_key) return std::optional<CertificateAndKey>();
  if (!has_key) return FileError(paths.display_key, "missing, but its certificate exists");
  if (!has_cert) return FileError(paths.display_cert, "missing, but its key exists");
  CertificateAndKey pair;
  KPP_ASSIGN_OR_RETURN(pair.certificate_pem, ReadFile(paths.cert));
  KPP_ASSIGN_OR_RETURN(pair.private_key_pem, ReadFile(paths.key));
  if (auto info = ParseCertificate(pair.certificate_pem); !info.ok()) {
    return FileError(paths.display_cert, info.error().message());
  }
  if (auto status = CheckKeyMatches(pair.certificate_pem, pair.private_key_pem); !status.ok()) {
    return FileError(paths.display_key,
                     status.error().message().starts_with("private key does not match")
                         ? "does not match " + paths.display_cert
                         : status.error().message());
  }
  return std::optional<CertificateAndKey>(std::move(pair));
}

bool Covers(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  return std::all_of(want.begin(), want.end(), [&](const std::string& name) {
    return std::find(have.begin(), have.end(), name) != have.end();
  });
}

// Loads a leaf pair, or issues it when absent or due for renewal.
Result<CertificateAndKey> LoadOrIssueLeaf(const std::string& dir, std::string_view name,
                                          const CertificateAndKey& ca,
                                          const CertificateRequest& request,
                                          std::chrono::system_clock::time_point now) {
  const PairPaths paths = PathsFor(dir, name);
  KPP_RETURN_IF_ERROR(RecoverInterruptedReplacement(paths));
  KPP_ASSIGN_OR_RETURN(auto existing, ReadPair(paths));
  if (existing) {
    if (!CheckSignedBy(existing->certificate_pem, ca.certificate_pem).ok()) {
      return FileError(paths.display_cert, "was not issued by the cluster CA in tls/ca.crt");
    }
    KPP_ASSIGN_OR_RETURN(CertificateInfo info, ParseCertificate(existing->certificate_pem));
    const bool names_ok = Covers(info.dns_names, request.dns_names) &&
                          Covers(info.ip_addresses, request.ip_addresses);
    const bool fresh = info.not_after - now > kRenewBefore;
    if (names_ok && fresh) return *std::move(existing);
    KLOG_INFO("reissuing {}: {}", paths.display_cert,
              !fresh ? "it expires soon" : "its names do not cover this server's names");
  }
  KPP_ASSIGN_OR_RETURN(CertificateAndKey pair, IssueCertificate(ca, request));
  KPP_RETURN_IF_ERROR(WritePair(paths, pair));
  return pair;
}

std::string LowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void AddUnique(std::vector<std::string>& list, std::string value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(std::move(value));
  }
}

}  // namespace

ServingNames DefaultServingNames(const std::string& bind_address) {
  ServingNames names;
  for (const char* dns : {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local"}) {
    AddUnique(names.dns_names, dns);
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0) {
    AddUnique(names.dns_names, LowerCase(host.data()));
  }
  AddUnique(names.ip_addresses, "127.0.0.1");
  AddUnique(names.ip_addresses, "::1");
  if (bind_address != "0.0.0.0" && bind_address != "::") {
    AddUnique(names.ip_addresses, bind_address);
    return names;
  }
  // Listening on every address: make the certificate valid for each of them.
  ifaddrs* interfaces = nullptr;
  if (::getifaddrs(&interfaces) != 0) return names;
  for (ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    const int family = entry->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    if (family == AF_INET6 &&
        IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<sockaddr_in6*>(entry->ifa_addr)->sin6_addr)) {
      continue;
    }
    std::array<char, NI_MAXHOST> text{};
    const socklen_t size = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::getnameinfo(entry->ifa_addr, size, text.data(), text.size(), nullptr, 0,
                      NI_NUMERICHOST) == 0) {
      AddUnique(names.ip_addresses, text.data());
    }
  }
  ::freeifaddrs(interfaces);
  return names;
}

Result<ClusterTls> LoadOrCreateClusterTls(const std::string& tls_dir, const ServingNames& names,
                                          std::chrono::system_clock::time_point now) {
  KPP_RETURN_IF_ERROR(EnsureWritableDirectory(tls_dir, 0700));
  ClusterTls tls;

  // Check everything that exists before writing anything, so a bad file never leads to a
  // half-updated directory.
  const PairPaths ca_paths = PathsFor(tls_dir, kCaName);
  KPP_RETURN_IF_ERROR(RecoverInterruptedReplacement(ca_paths));
  KPP_ASSIGN_OR_RETURN(auto existing_ca, ReadPair(ca_paths));
  std::optional<CertificateAndKey> existing_leaves[2];
  const std::string_view leaf_names[2] = {kServingName, kAdminName};
  for (int i = 0; i < 2; ++i) {
    const PairPaths paths = PathsFor(tls_dir, leaf_names[i]);
    if (PathExists(paths.cert + ".new")) continue;  // recovered below, once the CA is known
    KPP_ASSIGN_OR_RETURN(existing_leaves[i], ReadPair(paths));
    if (existing_leaves[i] && !existing_ca) {
      return FileError(paths.display_cert, "exists but tls/ca.crt does not");
    }
    if (existing_leaves[i] &&
        !CheckSignedBy(existing_leaves[i]->certificate_pem, existing_ca->certificate_pem).ok()) {
      return FileError(paths.display_cert, "was not issued by the cluster CA in tls/ca.crt");
    }
  }

  if (existing_ca) {
    KPP_ASSIGN_OR_RETURN(CertificateInfo info, ParseCertificate(existing_ca->certificate_pem));
    if (!info.is_ca) return FileError(ca_paths.display_cert, "is not a CA certificate");
    if (info.not_after <= now) return FileError(ca_paths.display_cert, "has expired");
    tls.ca = *std::move(existing_ca);
  } else {
    KLOG_INFO("generating the cluster CA in {}", tls_dir);
    KPP_ASSIGN_OR_RETURN(
        tls.ca,
        GenerateCa(
            fmt::format(
                "kpp-ca@{}",
                std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()),
            kCaValidity));
    KPP_RETURN_IF_ERROR(WritePair(ca_paths, tls.ca));
  }

  CertificateRequest serving;
  serving.common_name = "kube-apiserver";
  serving.dns_names = names.dns_names;
  serving.ip_addresses = names.ip_addresses;
  serving.usage = KeyUsage::kServer;
  serving.validity = kLeafValidity;
  KPP_ASSIGN_OR_RETURN(tls.serving, LoadOrIssueLeaf(tls_dir, kServingName, tls.ca, serving, now));

  CertificateRequest admin;
  admin.common_name = kAdminUser;
  admin.organizations = {kAdminGroup};
  admin.usage = KeyUsage::kClient;
  admin.validity = kLeafValidity;
  KPP_ASSIGN_OR_RETURN(tls.admin, LoadOrIssueLeaf(tls_dir, kAdminName, tls.ca, admin, now));
  return tls;
}

}  // namespace kpp::pki
