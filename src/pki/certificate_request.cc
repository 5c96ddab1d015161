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

namespace kpp::pki {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using RequestPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

void FreeOpenSslBytes(unsigned char* bytes) {
  OPENSSL_free(bytes);
}

void FreeExtensions(STACK_OF(X509_EXTENSION) * extensions) {
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
}
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), Deleter<FreeExtensions>>;

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

Error CryptoFailure(std::string_view what) {
  return InternalError(fmt::format("{}: {}", what, OpenSslError()));
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string AsnText(const ASN1_STRING* text) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
}

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

Result<X509Ptr> LoadCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return InvalidError("not a valid PEM certificate");
  }
  return cert;
}

Result<KeyPtr> LoadPrivateKey(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return InvalidError("not a valid PEM private key");
  }
  return key;
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

std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* time) {
  std::tm tm{};
  ASN1_TIME_to_tm(time, &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return CryptoFailure(fmt::format("adding extension {}", OBJ_nid2sn(nid)));
  }
  return Ok();
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
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      std::array<char, INET6_ADDRSTRLEN> text{};
      const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      if (inet_ntop(family, ASN1_STRING_get0_data(ip), text.data(), text.size()) != nullptr) {
        info.ip_addresses.emplace_back(text.data());
      }
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
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return CryptoFailure("creating certificate");
  }
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), serial_bytes.size()) != 1) {
    return CryptoFailure("generating serial number");
  }
  serial_bytes[0] &= 0x7f;
  BignumPtr serial(BN_bin2bn(serial_bytes.data(), serial_bytes.size(), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return CryptoFailure("setting serial number");
  }
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
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert.get()) != 1) return CryptoFailure("encoding certificate");
  return BioText(bio.get());
}

Result<KeyAndRequest> GenerateCertificateRequest(const std::string& common_name,
                                                 const std::vector<std::string>& organizations,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return CryptoFailure("generating key");
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
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    return CryptoFailure("encoding key");
  }
  out.private_key_pem = BioText(key_bio.get());
  return out;
}

}  // namespace kpp::pki
