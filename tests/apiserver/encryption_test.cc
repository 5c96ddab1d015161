#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "apiserver/encryption/encrypted_store.h"
#include "apiserver/encryption/encryption_config.h"
#include "apiserver/encryption/transformer.h"
#include "base/encoding.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver::encryption {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kKey16 = Base64Encode("0123456789abcdef");
const std::string kKey32 = Base64Encode("0123456789abcdef0123456789abcdef");
const std::string kOtherKey32 = Base64Encode("fedcba9876543210fedcba9876543210");

std::string Config(const std::string& resources, const std::string& providers) {
  return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
         "- resources: " +
         resources + "\n  providers: " + providers + "\n";
}

std::string ParseErrorOf(const std::string& text) {
  auto config = ParseEncryptionConfiguration(text);
  if (config.ok()) return "(parsed)";
  return config.error().message();
}

EncryptionConfiguration MustParse(const std::string& text) {
  auto config = ParseEncryptionConfiguration(text);
  EXPECT_TRUE(config.ok()) << config.error().message();
  return config.ok() ? *config : EncryptionConfiguration{};
}

TEST(EncryptionConfigTest, ParsesUpstreamYamlAndJson) {
  const auto config = MustParse(R"(apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets, configmaps]
    providers:
      - aesgcm:
          keys:
            - name: key1
              secret: )" + kKey32 +
                                R"(
      - identity: {}
  - resources: ["*.apps"]
    providers:
      - aescbc:
          keys: [{name: k2, secret: )" +
                                kKey16 + R"(}]
  - resources: ["*.*"]
    providers:
      - identity: {}
)");
  ASSERT_EQ(config.resources.size(), 3u);
  EXPECT_EQ(config.resources[0].resources, (std::vector<std::string>{"secrets", "configmaps"}));
  ASSERT_EQ(config.resources[0].providers.size(), 2u);
  EXPECT_EQ(config.resources[0].providers[0].type, ProviderType::kAesGcm);
  EXPECT_EQ(config.resources[0].providers[0].keys[0].name, "key1");
  EXPECT_EQ(config.resources[0].providers[0].keys[0].secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(config.resources[1].providers[0].type, ProviderType::kAesCbc);
  EXPECT_EQ(config.resources[2].providers[0].type, ProviderType::kIdentity);

  const auto json = MustParse(DefaultEncryptionConfigJson(std::string(32, 'k')));
  ASSERT_EQ(json.resources.size(), 1u);
  EXPECT_EQ(json.resources[0].resources, std::vector<std::string>{"secrets"});
  EXPECT_EQ(json.resources[0].providers[0].type, ProviderType::kAesGcm);
  EXPECT_EQ(json.resources[0].providers[1].type, ProviderType::kIdentity);
}

TEST(EncryptionConfigTest, UpstreamValidationMessages) {
  EXPECT_EQ(ParseErrorOf(Config("[secrets]", "[{aesgcm: {keys: [{name: k, secret: " +
                                                 Base64Encode("short") + "}]}}]")),
            "error while parsing file: resources[0].providers[0].aesgcm.keys[0].secret: Invalid "
            "value: \"REDACTED\": secret is not of the expected length, got 5, expected one of "
            "[16 24 32]");
  EXPECT_EQ(ParseErrorOf(Config("[secrets]", "[{aescbc: {keys: [{name: k, secret: '%%%'}]}}]")),
            "error while parsing file: resources[0].providers[0].aescbc.keys[0].secret: Invalid "
            "value: \"REDACTED\": secrets must be base64 encoded");
  EXPECT_EQ(ParseErrorOf(Config("[secrets]", "[{aesgcm: {keys: []}}]")),
            "error while parsing file: resources[0].providers[0].aesgcm.keys: Required value: at "
            "least one keys is required");
  EXPECT_EQ(ParseErrorOf(Config("[secrets]", "[{aesgcm: {keys: [{secret: " + kKey32 + "}]}}]")),
            "error while parsing file: resources[0].providers[0].aesgcm.keys[0].name: Required "
            "value: name is a mandatory field for a key");
  EXPECT_EQ(ParseErrorOf(Config("['*']", "[{identity: {}}]")),
            "error while parsing file: resources[0].resources[0]: Invalid value: \"*\": use '*.' "
            "to encrypt all the resources from core API group or *.* to encrypt all resources");
  EXPECT_EQ(ParseErrorOf(Config("[Secrets]", "[{identity: {}}]")),
            "error while parsing file: resources[0].resources[0]: Invalid value: \"Secrets\": "
            "resource name should not contain capital letters");
  EXPECT_THAT(ParseErrorOf(Config("[secrets, '*.']", "[{identity: {}}]")),
              HasSubstr("resources[0].resources: Invalid value: []string{\"secrets\", \"*.\"}: "
                        "using overlapping resources such as 'secrets' and '*.' in the same "
                        "resource list is not allowed as they will be masked"));
  EXPECT_THAT(ParseErrorOf(Config("[secrets]",
                                  "[{identity: {}, aesgcm: {keys: [{name: k, "
                                  "secret: " +
                                      kKey32 + "}]}}]")),
              HasSubstr("more than one provider specified in a single element, should split "
                        "into different list elements"));
  EXPECT_THAT(ParseErrorOf(Config("[secrets]", "[{}]")),
              HasSubstr("provider does not contain any of the expected providers: KMS, AESGCM, "
                        "AESCBC, Secretbox, Identity"));
  EXPECT_EQ(ParseErrorOf(Config("[]", "[]")),
            "error while parsing file: [resources[0].resources: Required value: at least one "
            "resources[0].resources is required, resources[0].providers: Required value: at least "
            "one resources[0].providers is required]");
  EXPECT_EQ(ParseErrorOf("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"),
            "error while parsing file: resources: Required value: at least one resources is "
            "required");
  EXPECT_THAT(ParseErrorOf("apiVersion: v1\nkind: ConfigMap\n"),
              HasSubstr("no kind \"ConfigMap\" is registered for version \"v1\""));
}

TEST(EncryptionConfigTest, RefusesProvidersKppDoesNotImplement) {
  EXPECT_THAT(ParseErrorOf(Config("[secrets]",
                                  "[{secretbox: {keys: [{name: k, secret: " + kKey32 + "}]}}]")),
              HasSubstr("the secretbox provider is not supported by kpp"));
  // upstream checks secretbox keys are 32 bytes before anything else.
  EXPECT_THAT(ParseErrorOf(Config("[secrets]",
                                  "[{secretbox: {keys: [{name: k, secret: " + kKey16 + "}]}}]")),
              HasSubstr("secret is not of the expected length, got 16, expected one of [32]"));
}

ValueTransformer Transformer(const std::string& providers) {
  auto config = MustParse(Config("[secrets]", providers));
  return ValueTransformer(config.resources.empty() ? std::vector<ProviderConfig>{}
                                                   : config.resources[0].providers);
}

std::string AesGcm(const std::string& name, const std::string& secret) {
  return "{aesgcm: {keys: [{name: " + name + ", secret: " + secret + "}]}}";
}

constexpr std::string_view kStorageKey = "/registry/core/secrets/default/s1";

TEST(ValueTransformerTest, AesGcmRoundTripWithUpstreamPrefix) {
  const auto transformer = Transformer("[" + AesGcm("key1", kKey32) + "]");
  auto stored = transformer.ToStorage("top secret", kStorageKey);
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(*stored, StartsWith("k8s:enc:aesgcm:v1:key1:"));
  // prefix + 12-byte nonce + ciphertext + 16-byte tag
  EXPECT_EQ(stored->size(), std::string("k8s:enc:aesgcm:v1:key1:").size() + 12 + 10 + 16);
  EXPECT_EQ(stored->find("top secret"), std::string::npos);
  auto again = transformer.ToStorage("top secret", kStorageKey);
  EXPECT_NE(*stored, *again) << "every write takes a fresh nonce";
  auto plaintext = transformer.FromStorage(*stored, kStorageKey);
  ASSERT_TRUE(plaintext.ok()) << plaintext.error().message();
  EXPECT_EQ(*plaintext, "top secret");

  // The storage key is authenticated: a value moved under another key does not decrypt.
  auto moved = transformer.FromStorage(*stored, "/registry/core/secrets/default/other");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().message(), "cipher: message authentication failed");
}

TEST(ValueTransformerTest, AesCbcRoundTrip) {
  const auto transformer = Transformer("[{aescbc: {keys: [{name: k2, secret: " + kKey16 + "}]}}]");
  for (std::string plaintext :
       {std::string(), std::string("x"), std::string(16, 'y'), std::string(100, 'z')}) {
    auto stored = transformer.ToStorage(plaintext, kStorageKey);
    ASSERT_TRUE(stored.ok());
    EXPECT_THAT(*stored, StartsWith("k8s:enc:aescbc:v1:k2:"));
    // prefix + 16-byte IV + padded ciphertext (always at least one byte of padding)
    EXPECT_EQ(stored->size(),
              std::string("k8s:enc:aescbc:v1:k2:").size() + 16 + (plaintext.size() / 16 + 1) * 16);
    auto back = transformer.FromStorage(*stored, kStorageKey);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, plaintext);
  }
}

TEST(ValueTransformerTest, WrongKeyAndUnknownKeyFail) {
  const auto writer = Transformer("[" + AesGcm("key1", kKey32) + "]");
  auto stored = writer.ToStorage("v", kStorageKey);
  ASSERT_TRUE(stored.ok());
  const auto same_name_other_secret = Transformer("[" + AesGcm("key1", kOtherKey32) + "]");
  auto read = same_name_other_secret.FromStorage(*stored, kStorageKey);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "cipher: message authentication failed");
  const auto other_name = Transformer("[" + AesGcm("key2", kKey32) + "]");
  read = other_name.FromStorage(*stored, kStorageKey);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "no matching key was found for the provided AES transformer");
  const auto cbc_only = Transformer("[{aescbc: {keys: [{name: key1, secret: " + kKey32 + "}]}}]");
  read = cbc_only.FromStorage(*stored, kStorageKey);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "no matching prefix found");
  auto truncated = writer.FromStorage("k8s:enc:aesgcm:v1:key1:short", kStorageKey);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().message(), "the stored data was shorter than the required size");
}

TEST(ValueTransformerTest, IdentityReadsPlaintextButNotCiphertext) {
  const auto migrating = Transformer("[" + AesGcm("key1", kKey32) + ", {identity: {}}]");
  auto plain = migrating.FromStorage("{\"kind\":\"Secret\"}", kStorageKey);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "{\"kind\":\"Secret\"}");

  // Decrypting away: identity first writes plaintext and still reads the encrypted values.
  const auto decrypting = Transformer("[{identity: {}}, " + AesGcm("key1", kKey32) + "]");
  auto written = decrypting.ToStorage("v", kStorageKey);
  EXPECT_EQ(*written, "v");
  auto encrypted = migrating.ToStorage("v", kStorageKey);
  auto read = decrypting.FromStorage(*encrypted, kStorageKey);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(*read, "v");

  const auto identity_only = Transformer("[{identity: {}}]");
  read = identity_only.FromStorage(*encrypted, kStorageKey);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().message(), "no matching prefix found");
  const auto aes_only = Transformer("[" + AesGcm("key1", kKey32) + "]");
  EXPECT_FALSE(aes_only.FromStorage("plaintext", kStorageKey).ok());
}

TEST(ValueTransformerTest, RotationKeepsOldValuesReadable) {
  const auto old_config = Transformer("[" + AesGcm("key1", kKey32) + "]");
  auto old_value = old_config.ToStorage("v1", kStorageKey);
  // Step 1: the new key added second, everywhere; step 2: moved first.
  const auto rotated = Transformer("[{aesgcm: {keys: [{name: key2, secret: " + kOtherKey32 +
                                   "}, {name: key1, secret: " + kKey32 + "}]}}]");
  EXPECT_EQ(*rotated.FromStorage(*old_value, kStorageKey), "v1");
  auto new_value = rotated.ToStorage("v2", kStorageKey);
  EXPECT_THAT(*new_value, StartsWith("k8s:enc:aesgcm:v1:key2:"));
  EXPECT_FALSE(old_config.FromStorage(*new_value, kStorageKey).ok());
  // Step 4: once everything is rewritten, the old key goes.
  const auto final_config = Transformer("[" + AesGcm("key2", kOtherKey32) + "]");
  EXPECT_EQ(*final_config.FromStorage(*new_value, kStorageKey), "v2");
  EXPECT_FALSE(final_config.FromStorage(*old_value, kStorageKey).ok());
}

TEST(ResourceTransformersTest, UpstreamPrecedence) {
  const auto config = MustParse(R"(apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ["*.*"]
  providers: [{identity: {}}]
- resources: [secrets, deployments.apps]
  providers: [)" + AesGcm("exact", kKey32) +
                                R"(]
- resources: ["*.apps", "*."]
  providers: [)" + AesGcm("group", kKey32) +
                                R"(]
)");
  const ResourceTransformers transformers(config);
  auto prefix_for = [&](std::string_view key) -> std::string {
    const ValueTransformer* transformer = transformers.ForKey(key);
    if (transformer == nullptr) return "(none)";
    return transformer->ToStorage("x", key)->substr(0, 24);
  };
  EXPECT_EQ(prefix_for("/registry/core/secrets/ns/a"), "k8s:enc:aesgcm:v1:exact:");
  EXPECT_EQ(prefix_for("/registry/apps/deployments/ns/a"), "k8s:enc:aesgcm:v1:exact:");
  EXPECT_EQ(prefix_for("/registry/apps/statefulsets/ns/a"), "k8s:enc:aesgcm:v1:group:");
  EXPECT_EQ(prefix_for("/registry/core/configmaps/ns/a"), "k8s:enc:aesgcm:v1:group:");
  EXPECT_EQ(prefix_for("/registry/batch/jobs/ns/a"), "x");
  EXPECT_EQ(prefix_for("/other/key"), "(none)");

  const ResourceTransformers secrets_only(
      MustParse(DefaultEncryptionConfigJson(std::string(32, 'k'))));
  EXPECT_NE(secrets_only.ForKey("/registry/core/secrets/ns/a"), nullptr);
  EXPECT_EQ(secrets_only.ForKey("/registry/core/configmaps/ns/a"), nullptr);
  EXPECT_EQ(secrets_only.ForKey("/registry/example.com/secrets/ns/a"), nullptr);
}

class EncryptedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-encryption-");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    storage::SqliteStoreOptions options;
    options.dir = dir_ + "/db";
    auto inner = storage::OpenSqliteStore(options);
    ASSERT_TRUE(inner.ok()) << inner.error().message();
    raw_ = inner->get();
    const std::string path = dir_ + "/config.yaml";
    ASSERT_TRUE(
        WriteFileAtomic(path, Config("[secrets]", "[" + AesGcm("key1", kKey32) + "]"), 0600).ok());
    auto wrapped = WrapWithEncryption(std::move(inner).value(), path, dir_);
    ASSERT_TRUE(wrapped.ok()) << wrapped.error().message();
    store_ = std::move(wrapped).value();
  }
  void TearDown() override {
    store_.reset();
    RemoveAll(dir_);
  }

  std::string dir_;
  storage::Store* raw_ = nullptr;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(EncryptedStoreTest, EncryptsCoveredResourcesOnlyAndReadsBackPlaintext) {
  const std::string secret_key = "/registry/core/secrets/default/s1";
  const std::string configmap_key = "/registry/core/configmaps/default/c1";
  auto watcher = store_->Watch(storage::WatchRequest::Prefix("/registry/"));
  ASSERT_TRUE(watcher.ok());

  ASSERT_TRUE(store_->Create(secret_key, "password=hunter2").ok());
  ASSERT_TRUE(store_->Create(configmap_key, "color=blue").ok());
  auto updated = store_->Update(secret_key, "password=hunter3", 0);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->value, "password=hunter3");

  auto raw_secret = raw_->Get(secret_key);
  ASSERT_TRUE(raw_secret.ok());
  EXPECT_THAT(raw_secret->value, StartsWith("k8s:enc:aesgcm:v1:key1:"));
  EXPECT_EQ(raw_secret->value.find("hunter"), std::string::npos);
  EXPECT_EQ(raw_->Get(configmap_key)->value, "color=blue");

  EXPECT_EQ(store_->Get(secret_key)->value, "password=hunter3");
  auto list = store_->Range(storage::RangeRequest::Prefix("/registry/"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->kvs.size(), 2u);
  EXPECT_EQ(list->kvs[1].value, "password=hunter3");

  // The watch (what feeds the watch cache) sees plaintext, previous values included.
  std::vector<storage::Event> events;
  while (events.size() < 3) {
    auto next = (*watcher)->Next(std::chrono::seconds(5));
    ASSERT_TRUE(next.ok());
    ASSERT_FALSE(next->empty());
    events.insert(events.end(), next->begin(), next->end());
  }
  EXPECT_EQ(events[0].kv.value, "password=hunter2");
  EXPECT_EQ(events[1].kv.value, "color=blue");
  EXPECT_EQ(events[2].kv.value, "password=hunter3");
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "password=hunter2");

  auto deleted = store_->Delete(secret_key);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->prev_kv.value, "password=hunter3");
}

TEST_F(EncryptedStoreTest, UnreadableValueFailsNamingTheKey) {
  ASSERT_TRUE(raw_->Put("/registry/core/secrets/default/plain", "not encrypted").ok());
  auto read = store_->Get("/registry/core/secrets/default/plain");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), ErrorCode::kInternalError);
  EXPECT_EQ(read.error().message(),
            "unable to transform key \"/registry/core/secrets/default/plain\": no matching "
            "prefix found");
}

TEST(DefaultEncryptionConfigTest, GeneratedOnceWithPrivateModes) {
  auto dir = MakeTempDirectory("kpp-encryption-default-");
  ASSERT_TRUE(dir.ok());
  auto path = EnsureDefaultEncryptionConfig(*dir);
  ASSERT_TRUE(path.ok()) << path.error().message();
  EXPECT_EQ(*path, *dir + "/cred/encryption-config.json");
  struct stat file_info {};
  ASSERT_EQ(stat(path->c_str(), &file_info), 0);
  EXPECT_EQ(file_info.st_mode & 0777, 0600u);
  struct stat dir_info {};
  ASSERT_EQ(stat((*dir + "/cred").c_str(), &dir_info), 0);
  EXPECT_EQ(dir_info.st_mode & 0777, 0700u);
  const std::string first = *ReadFile(*path);
  auto config = LoadEncryptionConfiguration(*path);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->resources[0].providers[0].keys[0].secret.size(), 32u);
  ASSERT_TRUE(EnsureDefaultEncryptionConfig(*dir).ok());
  EXPECT_EQ(*ReadFile(*path), first) << "the key must survive restarts";
  RemoveAll(*dir);
}

}  // namespace
}  // namespace kpp::apiserver::encryption
