#include "pki/certificate_request.h"

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
#include <map>
#include <memory>

#include "pki/openssl_helpers.h"

namespace kpp::pki {
namespace {

// The OpenSSL helpers this file shares with its sibling.
using namespace internal;  // NOLINT(google-build-using-namespace)
using RequestPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;

void FreeOpenSslBytes(unsigned char* bytes) {
  OPENSSL_free(bytes);
}

void FreeExtensions(STACK_OF(X509_EXTENSION) * extensions) {
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
}
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<FreeExtensions>>;

// Upstream reads the first PEM block and insists on its type.
Result<RequestPtr> LoadRequest(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
    ERR_clear_error();
    return InvalidError("PEM block type must be CERTIFICATE REQUEST");
  }
  const std::string type = name;
  OPENSSL_free(name);
  OPENSSL_free(header);
  std::unique_ptr<unsigned char, Deleter<FreeOpenSslBytes>> owned(data);
  if (type != "CERTIFICATE REQUEST") {
    return InvalidError("PEM block type must be CERTIFICATE REQUEST");
  }
  const unsigned char* cursor = data;
  RequestPtr request(d2i_X509_REQ(nullptr, &cursor, length));
  if (!request) {
    ERR_clear_error();
    return InvalidError("x509: malformed certificate request");
  }
  return request;
}

GeneralNamesPtr RequestAltNames(X509_REQ* request) {
  ExtensionsPtr extensions(X509_REQ_get_extensions(request));
  if (!extensions) return nullptr;
  return GeneralNamesPtr(static_cast<GENERAL_NAMES*>(
      X509V3_get_d2i(extensions.get(), NID_subject_alt_name, nullptr, nullptr)));
}

time_t ToTimeT(std::chrono::system_clock::time_point time) {
  return std::chrono::system_clock::to_time_t(time);
}

// The X.509 names of the certificates.k8s.io key usages, as upstream's signer maps them.
const std::map<std::string, const char*, std::less<>>& KeyUsageNames() {
  static const std::map<std::string, const char*, std::less<>> names = {
      {"signing", "digitalSignature"},
      {"digital signature", "digitalSignature"},
      {"content commitment", "nonRepudiation"},
      {"key encipherment", "keyEncipherment"},
      {"key agreement", "keyAgreement"},
      {"data encipherment", "dataEncipherment"},
      {"cert sign", "keyCertSign"},
      {"crl sign", "cRLSign"},
      {"encipher only", "encipherOnly"},
      {"decipher only", "decipherOnly"}};
  return names;
}

const std::map<std::string, const char*, std::less<>>& ExtendedKeyUsageNames() {
  static const std::map<std::string, const char*, std::less<>> names = {
      {"any", "anyExtendedKeyUsage"},
      {"server auth", "serverAuth"},
      {"client auth", "clientAuth"},
      {"code signing", "codeSigning"},
      {"email protection", "emailProtection"},
      {"s/mime", "emailProtection"},
      {"ipsec end system", "ipsecEndSystem"},
      {"ipsec tunnel", "ipsecTunnel"},
      {"ipsec user", "ipsecUser"},
      {"timestamping", "timeStamping"},
      {"ocsp signing", "OCSPSigning"},
      {"microsoft sgc", "msSGC"},
      {"netscape sgc", "nsSGC"}};
  return names;
}

std::string JoinUnique(const std::vector<std::string>& items) {
  std::string joined;
  for (const auto& item : items) {
    if (joined.find(item) != std::string::npos) continue;
    if (!joined.empty()) joined += ',';
    joined += item;
  }
  return joined;
}

}  // namespace

Result<RequestInfo> ParseCertificateRequest(const std::string& pem) {
  KPP_ASSIGN_OR_RETURN(RequestPtr request, LoadRequest(pem));
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (key == nullptr) {
    ERR_clear_error();
    return InvalidError("x509: unsupported public key in certificate request");
  }
  if (X509_REQ_verify(request.get(), key) != 1) {
    ERR_clear_error();
    return InvalidError("x509: signature of the certificate request does not verify");
  }
  RequestInfo info;
  const X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    if (nid == NID_commonName) info.common_name = AsnText(X509_NAME_ENTRY_get_data(entry));
    if (nid == NID_organizationName) {
      info.organizations.push_back(AsnText(X509_NAME_ENTRY_get_data(entry)));
    }
  }
  GeneralNamesPtr names = RequestAltNames(request.get());
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      info.dns_names.push_back(AsnText(name->d.dNSName));
    } else if (name->type == GEN_EMAIL) {
      info.email_addresses.push_back(AsnText(name->d.rfc822Name));
    } else if (name->type == GEN_URI) {
      info.uris.push_back(AsnText(name->d.uniformResourceIdentifier));
    } else if (name->type == GEN_IPADD) {
      if (auto ip = IpAddressText(name->d.iPAddress); !ip.empty()) info.ip_addresses.push_back(ip);
    }
  }
  ERR_clear_error();
  return info;
}

Result<std::string> SignCertificateRequest(const CertificateAndKey& ca,
                                           const std::string& request_pem,
                                           const SigningOptions& options) {
  KPP_ASSIGN_OR_RETURN(RequestPtr request, LoadRequest(request_pem));
  KPP_ASSIGN_OR_RETURN(X509Ptr ca_cert, LoadCertificate(ca.certificate_pem));
  KPP_ASSIGN_OR_RETURN(KeyPtr ca_key, LoadPrivateKey(ca.private_key_pem));
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (key == nullptr || X509_REQ_verify(request.get(), key) != 1) {
    ERR_clear_error();
    return InvalidError("the certificate request's signature does not verify");
  }
  KPP_ASSIGN_OR_RETURN(X509Ptr cert, NewSerialCertificate());
  // Never valid longer than the CA itself.
  auto not_after = options.not_after;
  const auto ca_not_after = ToTimePoint(X509_get0_notAfter(ca_cert.get()));
  if (not_after > ca_not_after) not_after = ca_not_after;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), ToTimeT(options.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), ToTimeT(not_after)) == nullptr) {
    return CryptoFailure("setting validity");
  }
  if (X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(request.get())) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return CryptoFailure("setting subject");
  }
  X509* issuer = ca_cert.get();
  KPP_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE"));
  std::vector<std::string> key_usages;
  std::vector<std::string> extended_usages;
  for (const auto& usage : options.usages) {
    if (auto found = KeyUsageNames().find(usage); found != KeyUsageNames().end()) {
      key_usages.push_back(found->second);
    } else if (auto extended = ExtendedKeyUsageNames().find(usage);
               extended != ExtendedKeyUsageNames().end()) {
      extended_usages.push_back(extended->second);
    }
  }
  if (!key_usages.empty()) {
    KPP_RETURN_IF_ERROR(
        AddExtension(cert.get(), issuer, NID_key_usage, "critical," + JoinUnique(key_usages)));
  }
  if (!extended_usages.empty()) {
    KPP_RETURN_IF_ERROR(
        AddExtension(cert.get(), issuer, NID_ext_key_usage, JoinUnique(extended_usages)));
  }
  if (X509_get_ext_by_NID(issuer, NID_subject_key_identifier, -1) >= 0) {
    KPP_RETURN_IF_ERROR(
        AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  }
  if (GeneralNamesPtr names = RequestAltNames(request.get());
      names && sk_GENERAL_NAME_num(names.get()) > 0) {
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
        1) {
      return CryptoFailure("adding subject alternative names");
    }
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return CryptoFailure("signing certificate");
  }
  return CertificateToPem(cert.get());
}

Result<KeyAndRequest> GenerateCertificateRequest(const std::string& common_name,
                                                 const std::vector<std::string>& organizations,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses) {
  KPP_ASSIGN_OR_RETURN(KeyPtr key, GenerateKey());
  RequestPtr request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), 0) != 1) {
    return CryptoFailure("creating request");
  }
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  for (const auto& org : organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  if (!dns_names.empty() || !ip_addresses.empty()) {
    std::string alt;
    for (const auto& dns : dns_names)
      alt += (alt.empty() ? "DNS:" : ",DNS:") + dns;
    for (const auto& ip : ip_addresses)
      alt += (alt.empty() ? "IP:" : ",IP:") + ip;
    ExtensionsPtr extensions(sk_X509_EXTENSION_new_null());
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, alt.c_str());
    if (ext == nullptr) return CryptoFailure("subject alternative names");
    sk_X509_EXTENSION_push(extensions.get(), ext);
    if (X509_REQ_add_extensions(request.get(), extensions.get()) != 1) {
      return CryptoFailure("adding extensions");
    }
  }
  if (X509_REQ_set_pubkey(request.get(), key.get()) != 1 ||
      X509_REQ_sign(request.get(), key.get(), EVP_sha256()) == 0) {
    return CryptoFailure("signing request");
  }
  KeyAndRequest out;
  BioPtr request_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(request_bio.get(), request.get()) != 1) {
    return CryptoFailure("encoding request");
  }
  out.request_pem = BioText(request_bio.get());
  KPP_ASSIGN_OR_RETURN(out.private_key_pem, KeyToPem(key.get()));
  return out;
}

}  // namespace kpp::pki
