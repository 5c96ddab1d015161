// The value transformers of encryption at rest, with upstream's on-disk format so that a data
// dir (or etcd) can move between kpp and a kube-apiserver with the same keys:
//   aesgcm:   "k8s:enc:aesgcm:v1:<key name>:" + 12-byte random nonce + ciphertext + 16-byte tag,
//             the storage key as additional authenticated data (a value copied under another
//             key does not decrypt);
//   aescbc:   "k8s:enc:aescbc:v1:<key name>:" + 16-byte random IV + ciphertext (PKCS#7 padded);
//   identity: the plaintext itself.
// Writes use the first provider (its first key); reads try every provider whose prefix matches,
// identity last as a catch-all for values written before encryption was configured.
//
// AES-GCM with random 96-bit nonces must not encrypt more than about 2^32 values under one key
// (NIST SP 800-38D; past that a nonce collision becomes likely and breaks confidentiality and
// integrity). Every write of a covered resource counts. Rotate the key well before that (see
// README, "Encryption at rest"); upstream names the same limit for its aesgcm provider.
//
// Thread safety: immutable after construction; every method may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "apiserver/encryption/encryption_config.h"
#include "base/result.h"

namespace kpp::apiserver::encryption {

inline constexpr std::string_view kAesGcmPrefix = "k8s:enc:aesgcm:v1:";
inline constexpr std::string_view kAesCbcPrefix = "k8s:enc:aescbc:v1:";
// What every encrypted value starts with: identity refuses to pass such a value as plaintext.
inline constexpr std::string_view kEncryptedPrefix = "k8s:enc:";

// The provider chain of one resource.
class ValueTransformer {
 public:
  explicit ValueTransformer(std::vector<ProviderConfig> providers);

  // `plaintext` as stored under `storage_key` with the first provider.
  Result<std::string> ToStorage(std::string_view plaintext, std::string_view storage_key) const;
  // The plaintext of a stored value; kInternalError with upstream's cause when no provider reads
  // it ("no matching prefix found", "cipher: message authentication failed", ...).
  Result<std::string> FromStorage(std::string_view stored, std::string_view storage_key) const;

 private:
  std::vector<ProviderConfig> providers_;
};

// Which transformer covers which storage key ("/registry/<group or core>/<resource>/..."), with
// upstream's precedence: the exact resource ("secrets", "deployments.apps"), then the group's
// wildcard ("*.apps", "*." for core), then "*.*". Providers of several entries naming the same
// resource are tried in the order of the entries.
class ResourceTransformers {
 public:
  explicit ResourceTransformers(const EncryptionConfiguration& config);

  // nullptr: the key's resource is not encrypted (stored as it is).
  const ValueTransformer* ForKey(std::string_view storage_key) const;
  bool empty() const { return by_resource_.empty(); }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const { return std::hash<std::string_view>()(name); }
  };
  // Keyed "<resource>.<group>" as in the configuration ("secrets." for core secrets).
  std::unordered_map<std::string, std::unique_ptr<ValueTransformer>, NameHash, std::equal_to<>>
      by_resource_;
};

}  // namespace kpp::apiserver::encryption
