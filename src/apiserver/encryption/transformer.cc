#include "apiserver/encryption/transformer.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace kpp::apiserver::encryption {
namespace {

constexpr size_t kGcmNonceSize = 12;
constexpr size_t kGcmTagSize = 16;
constexpr size_t kCbcBlockSize = 16;

struct CipherContext {
  CipherContext() : ctx(EVP_CIPHER_CTX_new()) {}
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
  EVP_CIPHER_CTX* ctx;
};

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}
unsigned char* Bytes(std::string& text) {
  return reinterpret_cast<unsigned char*>(text.data());
}

const EVP_CIPHER* GcmCipher(size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    default: return EVP_aes_256_gcm();
  }
}

const EVP_CIPHER* CbcCipher(size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_cbc();
    case 24: return EVP_aes_192_cbc();
    default: return EVP_aes_256_cbc();
  }
}

Result<std::string> RandomBytes(size_t size) {
  std::string bytes(size, '\0');
  if (RAND_bytes(Bytes(bytes), static_cast<int>(size)) != 1) {
    return InternalError("the random generator failed");
  }
  return bytes;
}

Result<std::string> GcmSeal(const std::string& key, std::string_view plaintext,
                            std::string_view additional_data) {
  KPP_ASSIGN_OR_RETURN(std::string out, RandomBytes(kGcmNonceSize));
  out.resize(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  CipherContext c;
  int length = 0;
  int final_length = 0;
  if (c.ctx == nullptr ||
      EVP_EncryptInit_ex(c.ctx, GcmCipher(key.size()), nullptr, Bytes(key), Bytes(out)) != 1 ||
      EVP_EncryptUpdate(c.ctx, nullptr, &length, Bytes(additional_data),
                        static_cast<int>(additional_data.size())) != 1 ||
      EVP_EncryptUpdate(c.ctx, Bytes(out) + kGcmNonceSize, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.ctx, Bytes(out) + kGcmNonceSize + length, &final_length) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagSize,
                          Bytes(out) + kGcmNonceSize + plaintext.size()) != 1) {
    return InternalError("AES-GCM encryption failed");
  }
  return out;
}

Result<std::string> GcmOpen(const std::string& key, std::string_view sealed,
                            std::string_view additional_data) {
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) {
    return InternalError("the stored data was shorter than the required size");
  }
  const std::string_view nonce = sealed.substr(0, kGcmNonceSize);
  const std::string_view ciphertext =
      sealed.substr(kGcmNonceSize, sealed.size() - kGcmNonceSize - kGcmTagSize);
  std::string tag(sealed.substr(sealed.size() - kGcmTagSize));
  std::string out(ciphertext.size(), '\0');
  CipherContext c;
  int length = 0;
  int final_length = 0;
  if (c.ctx == nullptr ||
      EVP_DecryptInit_ex(c.ctx, GcmCipher(key.size()), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(c.ctx, nullptr, &length, Bytes(additional_data),
                        static_cast<int>(additional_data.size())) != 1 ||
      EVP_DecryptUpdate(c.ctx, Bytes(out), &length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, Bytes(tag)) != 1 ||
      EVP_DecryptFinal_ex(c.ctx, Bytes(out) + length, &final_length) != 1) {
    // Go's crypto/cipher wording, which upstream passes on.
    return InternalError("cipher: message authentication failed");
  }
  return out;
}

Result<std::string> CbcEncrypt(const std::string& key, std::string_view plaintext) {
  KPP_ASSIGN_OR_RETURN(std::string out, RandomBytes(kCbcBlockSize));
  const size_t padded = (plaintext.size() / kCbcBlockSize + 1) * kCbcBlockSize;
  out.resize(kCbcBlockSize + padded);
  CipherContext c;
  int length = 0;
  int final_length = 0;
  // OpenSSL's default padding is PKCS#7, as upstream's.
  if (c.ctx == nullptr ||
      EVP_EncryptInit_ex(c.ctx, CbcCipher(key.size()), nullptr, Bytes(key), Bytes(out)) != 1 ||
      EVP_EncryptUpdate(c.ctx, Bytes(out) + kCbcBlockSize, &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.ctx, Bytes(out) + kCbcBlockSize + length, &final_length) != 1) {
    return InternalError("AES-CBC encryption failed");
  }
  out.resize(kCbcBlockSize + length + final_length);
  return out;
}

Result<std::string> CbcDecrypt(const std::string& key, std::string_view data) {
  if (data.size() < kCbcBlockSize) {
    return InternalError("the stored data was shorter than the required size");
  }
  const std::string_view iv = data.substr(0, kCbcBlockSize);
  const std::string_view ciphertext = data.substr(kCbcBlockSize);
  if (ciphertext.size() % kCbcBlockSize != 0) {
    return InternalError("the stored data is not a multiple of the block size");
  }
  std::string out(ciphertext.size() + kCbcBlockSize, '\0');
  CipherContext c;
  int length = 0;
  int final_length = 0;
  if (c.ctx == nullptr ||
      EVP_DecryptInit_ex(c.ctx, CbcCipher(key.size()), nullptr, Bytes(key), Bytes(iv)) != 1 ||
      EVP_DecryptUpdate(c.ctx, Bytes(out), &length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(c.ctx, Bytes(out) + length, &final_length) != 1) {
    return InternalError("invalid PKCS7 data (empty or not padded)");
  }
  out.resize(length + final_length);
  return out;
}

std::string_view PrefixOf(ProviderType type) {
  switch (type) {
    case ProviderType::kAesGcm: return kAesGcmPrefix;
    case ProviderType::kAesCbc: return kAesCbcPrefix;
    default: return {};
  }
}

// One AES provider reading `data` (the value after the provider's prefix): the key is named by
// what comes up to the next ':'.
Result<std::string> AesFromStorage(const ProviderConfig& provider, std::string_view data,
                                   std::string_view storage_key) {
  for (const EncryptionKey& key : provider.keys) {
    if (data.size() <= key.name.size() || !data.starts_with(key.name) ||
        data[key.name.size()] != ':') {
      continue;
    }
    data.remove_prefix(key.name.size() + 1);
    return provider.type == ProviderType::kAesGcm ? GcmOpen(key.secret, data, storage_key)
                                                  : CbcDecrypt(key.secret, data);
  }
  return InternalError("no matching key was found for the provided AES transformer");
}

}  // namespace

ValueTransformer::ValueTransformer(std::vector<ProviderConfig> providers)
    : providers_(std::move(providers)) {}

Result<std::string> ValueTransformer::ToStorage(std::string_view plaintext,
                                                std::string_view storage_key) const {
  const ProviderConfig& provider = providers_.front();
  if (provider.type == ProviderType::kIdentity) return std::string(plaintext);
  const EncryptionKey& key = provider.keys.front();
  std::string out = fmt::format("{}{}:", PrefixOf(provider.type), key.name);
  auto sealed = provider.type == ProviderType::kAesGcm ? GcmSeal(key.secret, plaintext, storage_key)
                                                       : CbcEncrypt(key.secret, plaintext);
  if (!sealed.ok()) return std::move(sealed).error();
  out += *sealed;
  return out;
}

Result<std::string> ValueTransformer::FromStorage(std::string_view stored,
                                                  std::string_view storage_key) const {
  for (const ProviderConfig& provider : providers_) {
    if (provider.type == ProviderType::kIdentity) {
      // Encrypted data is not plaintext: let a later provider read it.
      if (stored.starts_with(kEncryptedPrefix)) continue;
      return std::string(stored);
    }
    const std::string_view prefix = PrefixOf(provider.type);
    if (!stored.starts_with(prefix)) continue;
    return AesFromStorage(provider, stored.substr(prefix.size()), storage_key);
  }
  return InternalError("no matching prefix found");
}

ResourceTransformers::ResourceTransformers(const EncryptionConfiguration& config) {
  std::unordered_map<std::string, std::vector<ProviderConfig>> providers;
  for (const ResourceConfig& entry : config.resources) {
    for (const std::string& resource : entry.resources) {
      const auto dot = resource.find('.');
      const std::string name = dot == std::string::npos ? resource + "." : resource;
      auto& list = providers[name];
      list.insert(list.end(), entry.providers.begin(), entry.providers.end());
    }
  }
  for (auto& [name, list] : providers) {
    by_resource_.emplace(name, std::make_unique<ValueTransformer>(std::move(list)));
  }
}

const ValueTransformer* ResourceTransformers::ForKey(std::string_view storage_key) const {
  if (by_resource_.empty()) return nullptr;
  constexpr std::string_view kRoot = "/registry/";
  if (!storage_key.starts_with(kRoot)) return nullptr;
  std::string_view rest = storage_key.substr(kRoot.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return nullptr;
  std::string_view group = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  const auto end = rest.find('/');
  if (end == std::string_view::npos) return nullptr;
  const std::string_view resource = rest.substr(0, end);
  if (group == "core") group = {};
  // Every store read, write and watch event asks: no allocation once the buffer has grown.
  thread_local std::string candidate;
  for (const std::string_view first : {resource, std::string_view("*")}) {
    candidate.assign(first).append(".").append(group);
    if (auto it = by_resource_.find(candidate); it != by_resource_.end()) return it->second.get();
  }
  if (auto it = by_resource_.find(std::string_view("*.*")); it != by_resource_.end()) {
    return it->second.get();
  }
  return nullptr;
}

}  // namespace kpp::apiserver::encryption
