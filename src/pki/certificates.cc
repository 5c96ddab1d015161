#include "pki/certificates.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>
#include <memory>

#include "pki/openssl_helpers.h"

namespace kpp::pki {
namespace {

// The OpenSSL helpers this file shares with its sibling.
using namespace internal;  // NOLINT(google-build-using-namespace)

// A certificate for `key` with subject/validity/serial filled in; extensions and signature are
// up to the caller.
Result<X509Ptr> NewCertificate(EVP_PKEY* key, const std::string& common_name,
                               const std::vector<std::string>& organizations,
                               std::chrono::hours validity) {
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, NewSerialCertificate());
  // Backdated a little so that peers with slightly slow clocks accept a fresh certificate.
  constexpr long kBackdateSeconds = 5 * 60;
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      std::chrono::duration_cast<std::chrono::seconds>(validity).count()) ==
          nullptr) {
    return CryptoFailure("setting validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& org : organizations) {
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1,
                                   0) != 1) {
      return CryptoFailure("setting organization");
    }
  }
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return CryptoFailure("setting common name");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return CryptoFailure("setting public key");
  return cert;
}

std::string JoinSubjectAltNames(const CertificateRequest& request) {
  std::string joined;
  auto add = [&](std::string_view kind, const std::string& value) {
    if (!joined.empty()) joined += ',';
    joined += fmt::format("{}:{}", kind, value);
  };
  for (const auto& dns : request.dns_names)
    add("DNS", dns);
  for (const auto& ip : request.ip_addresses)
    add("IP", ip);
  return joined;
}

}  // namespace

Result<CertificateAndKey> GenerateCa(const std::string& common_name, std::chrono::hours validity) {
  KPP_ASSIGN_OR_RETURN(KeyPtr key, GenerateKey());
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(key.get(), common_name, {}, validity));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1) {
    return CryptoFailure("setting issuer");
  }
  KPP_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  KPP_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_key_usage,
                                   "critical,digitalSignature,keyEncipherment,keyCertSign"));
  KPP_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return CryptoFailure("signing CA");
  KPP_ASSIGN_OR_RETURN(std::string cert_pem, CertificateToPem(cert.get()));
  KPP_ASSIGN_OR_RETURN(std::string key_pem, KeyToPem(key.get()));
  return CertificateAndKey{std::move(cert_pem), std::move(key_pem)};
}

Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                           const CertificateRequest& request) {
  KPP_ASSIGN_OR_RETURN(X509Ptr ca_cert, LoadCertificate(ca.certificate_pem));
  KPP_ASSIGN_OR_RETURN(KeyPtr ca_key, LoadPrivateKey(ca.private_key_pem));
  KPP_ASSIGN_OR_RETURN(KeyPtr key, GenerateKey());
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(key.get(), request.common_name,
                                                    request.organizations, request.validity));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return CryptoFailure("setting issuer");
  }
  X509* issuer = ca_cert.get();
  KPP_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE"));
  KPP_RETURN_IF_ERROR(
      AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  const char* extended_usage = request.usage == KeyUsage::kServer   ? "serverAuth"
                               : request.usage == KeyUsage::kClient ? "clientAuth"
                                                                    : "serverAuth,clientAuth";
  KPP_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_ext_key_usage, extended_usage));
  KPP_RETURN_IF_ERROR(
      AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  const std::string alt_names = JoinSubjectAltNames(request);
  if (!alt_names.empty()) {
    KPP_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_alt_name, alt_names));
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return CryptoFailure("signing certificate");
  }
  KPP_ASSIGN_OR_RETURN(std::string cert_pem, CertificateToPem(cert.get()));
  KPP_ASSIGN_OR_RETURN(std::string key_pem, KeyToPem(key.get()));
  return CertificateAndKey{std::move(cert_pem), std::move(key_pem)};
}

Result<CertificateInfo> ParseCertificate(const std::string& pem) {
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(pem));
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) info.common_name = std::move(value);
    if (nid == NID_organizationName) info.organizations.push_back(std::move(value));
  }
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      info.dns_names.push_back(AsnText(name->d.dNSName));
    } else if (name->type == GEN_IPADD) {
      if (auto ip = IpAddressText(name->d.iPAddress); !ip.empty()) info.ip_addresses.push_back(ip);
    }
  }
  info.not_before = ToTimePoint(X509_get0_notBefore(cert.get()));
  info.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  return info;
}

Status CheckKeyMatches(const std::string& certificate_pem, const std::string& private_key_pem) {
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(certificate_pem));
  KPP_ASSIGN_OR_RETURN(KeyPtr key, LoadPrivateKey(private_key_pem));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidError("private key does not match the certificate");
  }
  return Ok();
}

Status CheckSignedBy(const std::string& certificate_pem, const std::string& ca_certificate_pem) {
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(certificate_pem));
  KPP_ASSIGN_OR_RETURN(X509Ptr ca, LoadCertificate(ca_certificate_pem));
  EVP_PKEY* ca_key = X509_get0_pubkey(ca.get());
  if (X509_check_issued(ca.get(), cert.get()) != X509_V_OK || ca_key == nullptr ||
      X509_verify(cert.get(), ca_key) != 1) {
    ERR_clear_error();
    return InvalidError("certificate was not issued by the cluster CA");
  }
  return Ok();
}

}  // namespace kpp::pki
