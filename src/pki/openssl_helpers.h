// OpenSSL helpers shared by certificates.cc and certificate_request.cc (internal to src/pki):
// owning pointers for OpenSSL objects, error text, memory BIOs, PEM loading and X.509 details.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace kpp::pki::internal {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

// The first queued OpenSSL error as text, and clears the queue.
std::string OpenSslError();
// An internal error "<what>: <the OpenSSL error>".
Error CryptoFailure(std::string_view what);

// A read-only BIO over `text`, which must outlive it.
BioPtr MemoryBio(const std::string& text);
// What was written into a memory BIO.
std::string BioText(BIO* bio);

// A P-256 key, as upstream's certificate helpers make.
Result<KeyPtr> GenerateKey();
Result<std::string> KeyToPem(EVP_PKEY* key);
Result<std::string> CertificateToPem(X509* cert);
// An empty X.509 v3 certificate with a random positive 127-bit serial number (RFC 5280 asks
// serials to be unique).
Result<X509Ptr> NewSerialCertificate();

Result<X509Ptr> LoadCertificate(const std::string& pem);
Result<KeyPtr> LoadPrivateKey(const std::string& pem);

// Adds extension `nid` with `value` in OpenSSL's configuration syntax to `cert`.
Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value);

std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* time);
std::string AsnText(const ASN1_STRING* text);
// An IP address SAN as text ("10.0.0.1", "fd00::1"); empty when it is neither length.
std::string IpAddressText(const ASN1_OCTET_STRING* ip);

}  // namespace kpp::pki::internal
