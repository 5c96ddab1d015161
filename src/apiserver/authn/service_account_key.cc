#include "apiserver/authn/service_account_key.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "apiserver/authn/jwt.h"
#include "base/files.h"

namespace kpp::apiserver {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using DigestContextPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;

Error OpenSslError(std::string_view what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return Error(ErrorCode::kInternalError, std::string(what) + ": " + text);
}

std::string KeyIdOf(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return "";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(length), digest);
  OPENSSL_free(der);
  return jwt::Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace

ServiceAccountKey::ServiceAccountKey(EVP_PKEY* key) : key_(key), key_id_(KeyIdOf(key)) {}

ServiceAccountKey::~ServiceAccountKey() {
  EVP_PKEY_free(key_);
}

Result<std::unique_ptr<ServiceAccountKey>> ServiceAccountKey::Generate() {
  KeyPtr key(EVP_RSA_gen(2048));
  if (!key) return OpenSslError("generating the service account key");
  return std::unique_ptr<ServiceAccountKey>(new ServiceAccountKey(key.release()));
}

Result<std::unique_ptr<ServiceAccountKey>> ServiceAccountKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return InvalidError("the service account key is not a PEM private key");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return InvalidError("the service account key is not an RSA key");
  }
  return std::unique_ptr<ServiceAccountKey>(new ServiceAccountKey(key.release()));
}

Result<std::unique_ptr<ServiceAccountKey>> ServiceAccountKey::LoadOrCreate(
    const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) {
    KPP_ASSIGN_OR_RETURN(auto pem, ReadFile(path));
    auto key = FromPem(pem);
    if (!key.ok()) return std::move(key).error().WithContext(path);
    return key;
  }
  KPP_ASSIGN_OR_RETURN(auto key, Generate());
  KPP_RETURN_IF_ERROR(WriteFileAtomic(path, key->PrivateKeyPem(), 0600));
  return key;
}

std::string ServiceAccountKey::PrivateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string ServiceAccountKey::PublicJwk() const {
  auto parameter = [this](const char* name) {
    BIGNUM* number = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &number);
    BignumPtr owned(number);
    std::string bytes(static_cast<size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    return jwt::Base64UrlEncode(bytes);
  };
  return fmt::format(R"({{"use":"sig","kty":"RSA","kid":"{}","alg":"{}","n":"{}","e":"{}"}})",
                     key_id_, kAlgorithm, parameter(OSSL_PKEY_PARAM_RSA_N),
                     parameter(OSSL_PKEY_PARAM_RSA_E));
}

Result<std::string> ServiceAccountKey::Sign(std::string_view input) const {
  DigestContextPtr context(EVP_MD_CTX_new());
  size_t length = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return OpenSslError("signing a token");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return OpenSslError("signing a token");
  }
  signature.resize(length);
  return signature;
}

bool ServiceAccountKey::Verify(std::string_view input, std::string_view signature) const {
  DigestContextPtr context(EVP_MD_CTX_new());
  const bool valid =
      context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key_) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  ERR_clear_error();
  return valid;
}

}  // namespace kpp::apiserver
