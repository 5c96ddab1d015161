// Encryption at rest: upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1), read from
// the file --encryption-provider-config names (YAML or JSON), validated with upstream's messages.
//
// Which providers kpp implements: aesgcm, aescbc and identity. secretbox (XSalsa20-Poly1305) has
// no implementation in OpenSSL and kms needs a plugin protocol: both are refused at start with a
// message saying so, never silently ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kpp::apiserver::encryption {

enum class ProviderType { kAesGcm, kAesCbc, kSecretbox, kIdentity, kKms };

struct EncryptionKey {
  std::string name;
  std::string secret;  // the decoded key bytes (16, 24 or 32 for AES)
};

struct ProviderConfig {
  ProviderType type = ProviderType::kIdentity;
  std::vector<EncryptionKey> keys;  // empty for identity
};

// One entry of `resources`: which resources it covers ("secrets", "*.apps", "*.*") and the
// providers, the first of which encrypts.
struct ResourceConfig {
  std::vector<std::string> resources;
  std::vector<ProviderConfig> providers;
};

struct EncryptionConfiguration {
  std::vector<ResourceConfig> resources;
};

// Parses and validates a configuration (YAML or JSON). The error reads as upstream's API server
// reports it, e.g. "error while parsing file: resources[0].providers[0].aesgcm.keys[0].secret:
// Invalid value: \"REDACTED\": secret is not of the expected length, got 5, expected one of
// [16 24 32]".
Result<EncryptionConfiguration> ParseEncryptionConfiguration(std::string_view text);

// Reads `path`, then parses it as above.
Result<EncryptionConfiguration> LoadEncryptionConfiguration(const std::string& path);

// The configuration kpp uses without --encryption-provider-config: secrets encrypted with
// AES-GCM under one 32-byte key, plaintext (identity) still readable so that secrets written
// before encryption existed stay readable until rewritten. The file is
// <data_dir>/cred/encryption-config.json (mode 0600, folder 0700); it is generated with a fresh
// random key at the first start and read as it is afterwards. Returns its path.
Result<std::string> EnsureDefaultEncryptionConfig(const std::string& data_dir);

// The text of that default file for `key` (32 bytes): an ordinary EncryptionConfiguration, so
// that it can be copied and edited into an --encryption-provider-config for key rotation.
std::string DefaultEncryptionConfigJson(std::string_view key);

}  // namespace kpp::apiserver::encryption
