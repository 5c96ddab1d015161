// Encryption at rest through the real kubectl: secrets reach the SQLite file only as upstream's
// "k8s:enc:aesgcm:v1:<key>:" ciphertext, plaintext written before encryption stays readable,
// keys rotate across restarts without losing a secret, and the data dir's key material is
// private to its owner.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <sstream>
#include <thread>

#include "base/encoding.h"
#include "base/files.h"
#include "storage/etcd/etcd_store.h"
#include "storage/etcd_process.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using ::testing::HasSubstr;
using testing::KppServer;

const std::string kKey1 = Base64Encode("key-one-key-one-key-one-key-one!");
const std::string kKey2 = Base64Encode("key-two-key-two-key-two-key-two!");

std::string Config(const std::string& providers) {
  return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
         "- resources: [secrets]\n  providers:\n" +
         providers;
}
std::string AesGcmKeys(const std::vector<std::pair<std::string, std::string>>& keys) {
  std::string text = "  - aesgcm:\n      keys:\n";
  for (const auto& [name, secret] : keys) {
    text += "      - name: " + name + "\n        secret: " + secret + "\n";
  }
  return text;
}

class DataProtectionE2ETest : public ::testing::Test {
 protected:
  void MustRun(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  void CreateSecret(const std::string& name, const std::string& value) {
    MustRun({"create", "secret", "generic", name, "--from-literal=password=" + value});
  }
  // The secret's password, decoded, as kubectl reads it.
  std::string SecretValue(const std::string& name) {
    auto result = server_.Kubectl({"get", "secret", name, "-o", "jsonpath={.data.password}"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto decoded = Base64Decode(result.out);
    return decoded.ok() ? *decoded : "(" + result.err + ")";
  }
  // Every byte the store has on disk (database, WAL), with the server stopped or running.
  std::string RawStoreBytes() {
    std::string bytes;
    for (const auto& entry : std::filesystem::directory_iterator(server_.data_dir() + "/db")) {
      if (auto content = ReadFile(entry.path().string()); content.ok()) bytes += *content;
    }
    return bytes;
  }
  // The first bytes of the newest stored value of the secret, read with sqlite3 itself.
  std::string StoredPrefix(const std::string& name, int length = 23) {
    auto result = testing::RunProcess(
        {"sqlite3", server_.data_dir() + "/db/state.db",
         "SELECT CAST(substr(value, 1, " + std::to_string(length) +
             ") AS TEXT) FROM kv WHERE key = CAST('/registry/core/secrets/default/" + name +
             "' AS BLOB) ORDER BY revision DESC, sub DESC LIMIT 1"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out.empty() ? "" : result.out.substr(0, result.out.size() - 1);
  }
  std::string WriteConfig(const std::string& providers) {
    return server_.WriteFile("encryption-" + std::to_string(++configs_) + ".yaml",
                             Config(providers));
  }
  void Restart(const std::vector<std::string>& args) {
    ASSERT_TRUE(server_.Stop());
    ASSERT_TRUE(server_.Start(args));
  }

  KppServer server_;
  int configs_ = 0;
};

TEST_F(DataProtectionE2ETest, DefaultEncryptsSecretsWithAGeneratedKey) {
  ASSERT_TRUE(server_.Start());
  const std::string marker = "hunter2-plaintext-marker";
  CreateSecret("s1", marker);
  MustRun({"create", "configmap", "c1", "--from-literal=color=configmap-plaintext-marker"});
  EXPECT_EQ(SecretValue("s1"), marker);

  const std::string raw = RawStoreBytes();
  EXPECT_EQ(raw.find(marker), std::string::npos) << "plaintext secret value on disk";
  EXPECT_EQ(raw.find(Base64Encode(marker)), std::string::npos) << "base64 secret value on disk";
  // The control: what is not encrypted is found in the same bytes.
  EXPECT_NE(raw.find("configmap-plaintext-marker"), std::string::npos);
  EXPECT_EQ(StoredPrefix("s1"), "k8s:enc:aesgcm:v1:key1:");

  // The generated configuration is an ordinary EncryptionConfiguration, private to the owner.
  const std::string config_path = server_.data_dir() + "/cred/encryption-config.json";
  auto config = ReadFile(config_path);
  ASSERT_TRUE(config.ok());
  auto document = boost::json::parse(*config);
  EXPECT_EQ(document.at("kind"), "EncryptionConfiguration");
  EXPECT_EQ(
      document.at("resources").at(0).at("providers").at(0).at("aesgcm").at("keys").at(0).at("name"),
      "key1");

  // Same key after a restart: the secret is still readable.
  Restart({});
  EXPECT_EQ(SecretValue("s1"), marker);
  EXPECT_EQ(*ReadFile(config_path), *config);
}

TEST_F(DataProtectionE2ETest, PlaintextWrittenBeforeEncryptionStaysReadableUntilRewritten) {
  const std::string identity = WriteConfig("  - identity: {}\n");
  ASSERT_TRUE(server_.Start({"--encryption-provider-config", identity}));
  CreateSecret("old", "written-before-encryption");
  EXPECT_EQ(StoredPrefix("old", 1), "{") << "stored as plaintext JSON";

  Restart({});  // the default configuration: aesgcm, then identity for reading
  EXPECT_EQ(SecretValue("old"), "written-before-encryption");
  auto list = server_.Kubectl({"get", "secrets", "-A", "-o", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  MustRun({"replace", "-f", server_.WriteFile("all-secrets.json", list.out)});
  EXPECT_EQ(StoredPrefix("old"), "k8s:enc:aesgcm:v1:key1:");
  EXPECT_EQ(SecretValue("old"), "written-before-encryption");
}

// Upstream's rotation: add the new key second, restart; move it first, restart; rewrite every
// secret; drop the old key, restart. Every step keeps every secret readable.
TEST_F(DataProtectionE2ETest, KeyRotationWithoutLosingSecrets) {
  ASSERT_TRUE(
      server_.Start({"--encryption-provider-config", WriteConfig(AesGcmKeys({{"key1", kKey1}}))}));
  CreateSecret("s1", "first-value");
  EXPECT_EQ(StoredPrefix("s1"), "k8s:enc:aesgcm:v1:key1:");

  Restart({"--encryption-provider-config",
           WriteConfig(AesGcmKeys({{"key1", kKey1}, {"key2", kKey2}}))});
  EXPECT_EQ(SecretValue("s1"), "first-value");
  CreateSecret("s2", "second-value");
  EXPECT_EQ(StoredPrefix("s2"), "k8s:enc:aesgcm:v1:key1:");

  Restart({"--encryption-provider-config",
           WriteConfig(AesGcmKeys({{"key2", kKey2}, {"key1", kKey1}}))});
  EXPECT_EQ(SecretValue("s1"), "first-value");
  CreateSecret("s3", "third-value");
  EXPECT_EQ(StoredPrefix("s3"), "k8s:enc:aesgcm:v1:key2:");

  auto list = server_.Kubectl({"get", "secrets", "-A", "-o", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  MustRun({"replace", "-f", server_.WriteFile("rewrite.json", list.out)});
  EXPECT_EQ(StoredPrefix("s1"), "k8s:enc:aesgcm:v1:key2:");
  EXPECT_EQ(StoredPrefix("s2"), "k8s:enc:aesgcm:v1:key2:");

  Restart({"--encryption-provider-config", WriteConfig(AesGcmKeys({{"key2", kKey2}}))});
  EXPECT_EQ(SecretValue("s1"), "first-value");
  EXPECT_EQ(SecretValue("s2"), "second-value");
  EXPECT_EQ(SecretValue("s3"), "third-value");
}

TEST_F(DataProtectionE2ETest, InvalidConfigurationStopsTheServerWithUpstreamsMessage) {
  const std::string bad = WriteConfig(AesGcmKeys({{"key1", Base64Encode("short")}}));
  EXPECT_FALSE(server_.Start({"--encryption-provider-config", bad}));
  EXPECT_THAT(server_.Logs(),
              HasSubstr("error while parsing file: resources[0].providers[0].aesgcm.keys[0]."
                        "secret: Invalid value: \"REDACTED\": secret is not of the expected "
                        "length, got 5, expected one of [16 24 32]"));
}

// With --datastore-endpoint the ciphertext is in etcd; servers sharing it share the key by
// sharing the configuration.
TEST(EncryptionInEtcdE2ETest, SecretsInEtcdAreCiphertextAndReadableWithTheSameConfig) {
  storage::testing::EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start());
  std::string config_path;
  {
    KppServer first;
    config_path = first.WriteFile("shared-encryption.yaml", Config(AesGcmKeys({{"key1", kKey1}})));
    ASSERT_TRUE(first.Start(
        {"--datastore-endpoint", etcd.client_url(), "--encryption-provider-config", config_path}));
    auto created =
        first.Kubectl({"create", "secret", "generic", "s1", "--from-literal=password=in-etcd"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    ASSERT_TRUE(first.Stop());

    storage::EtcdStoreOptions options;
    options.endpoints = {etcd.client_url()};
    auto raw = storage::OpenEtcdStore(options);
    ASSERT_TRUE(raw.ok()) << raw.error().message();
    auto value = (*raw)->Get("/registry/core/secrets/default/s1");
    ASSERT_TRUE(value.ok()) << value.error().message();
    EXPECT_TRUE(value->value.starts_with("k8s:enc:aesgcm:v1:key1:"));
    EXPECT_EQ(value->value.find("in-etcd"), std::string::npos);
    EXPECT_EQ(value->value.find(Base64Encode("in-etcd")), std::string::npos);

    KppServer second;  // a fresh data dir, the same configuration
    ASSERT_TRUE(second.Start(
        {"--datastore-endpoint", etcd.client_url(), "--encryption-provider-config", config_path}));
    auto read = second.Kubectl({"get", "secret", "s1", "-o", "jsonpath={.data.password}"});
    ASSERT_EQ(read.exit_code, 0) << read.err;
    EXPECT_EQ(read.out, Base64Encode("in-etcd"));
  }
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

TEST_F(DataProtectionE2ETest, KeysAndDataArePrivateToTheOwner) {
  ASSERT_TRUE(server_.Start());
  CreateSecret("s1", "v");
  EXPECT_EQ(ModeOf(server_.data_dir()), 0700u);
  for (const std::string dir : {"/cred", "/tls", "/db"}) {
    EXPECT_EQ(ModeOf(server_.data_dir() + dir), 0700u) << dir;
  }
  EXPECT_EQ(ModeOf(server_.data_dir() + "/cred/encryption-config.json"), 0600u);
  EXPECT_EQ(ModeOf(server_.kubeconfig_path()), 0600u);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(server_.data_dir())) {
    const std::string path = entry.path().string();
    if (entry.is_regular_file() &&
        (path.ends_with(".key") || path.find("/db/") != std::string::npos)) {
      EXPECT_EQ(ModeOf(path) & 077, 0u) << path << " is readable by others";
    }
  }
}

}  // namespace
}  // namespace kpp

namespace kpp {
namespace {

using testing::KppServer;

// The audit log through the real kubectl: a policy with one level per resource, the events
// kubectl's create, get and watch leave in the file, and the users the controller manager's
// controllers write as (the fixture's kEssentialControllers).
class AuditE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string policy = server_.WriteFile("audit-policy.yaml", R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  resources:
  - group: ""
    resources: [secrets, configmaps]
- level: Request
  verbs: [watch]
  resources:
  - group: ""
    resources: [pods]
- level: RequestResponse
  resources:
  - group: ""
    resources: [serviceaccounts, resourcequotas, resourcequotas/status]
- level: None
)");
    log_path_ = server_.root_dir() + "/audit.log";
    ASSERT_TRUE(server_.Start({"--audit-policy-file", policy, "--audit-log-path", log_path_}));
  }

  void MustRun(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  static constexpr std::string_view kKubectlUser = "kpp-admin";

  // The events of one verb on one resource ("resourcequotas/status" for a subresource) that a
  // test reads: kubectl's unless `user` names another (empty: anyone's), in any namespace and
  // of any object unless `namespace_` and `name` say which.
  struct Awaited {
    std::string_view verb;
    std::string_view resource;
    size_t count = 1;
    std::string_view user = kKubectlUser;
    std::string_view namespace_ = {};
    std::string_view name = {};
  };

  // Every event of the log. The writer runs behind the requests, and controllers act a while
  // after the requests that wake them, so wait (up to 30 s) until the `awaited` events are all
  // there.
  std::vector<boost::json::object> Events(std::initializer_list<Awaited> awaited) {
    std::vector<boost::json::object> events;
    for (int attempt = 0; attempt < 600; ++attempt) {
      events.clear();
      std::istringstream lines(ReadFile(log_path_).ok() ? *ReadFile(log_path_) : "");
      for (std::string line; std::getline(lines, line);) {
        events.push_back(boost::json::parse(line).as_object());
      }
      const bool all_there = std::all_of(awaited.begin(), awaited.end(), [&](const Awaited& a) {
        return Matching(events, a).size() >= a.count;
      });
      if (all_there) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return events;
  }

  // The events `awaited` describes.
  static std::vector<boost::json::object> Matching(const std::vector<boost::json::object>& events,
                                                   const Awaited& awaited) {
    std::vector<boost::json::object> out;
    for (const auto& event : events) {
      const auto* ref = event.if_contains("objectRef");
      if (ref == nullptr || event.at("verb").as_string() != awaited.verb) continue;
      const auto& object = ref->as_object();
      std::string resource(object.at("resource").as_string());
      if (const auto* sub = object.if_contains("subresource")) {
        resource += "/" + std::string(sub->as_string());
      }
      if (resource != awaited.resource) continue;
      if (!awaited.user.empty() && Field(event.at("user").as_object(), "username") != awaited.user)
        continue;
      if (!awaited.namespace_.empty() && Field(object, "namespace") != awaited.namespace_) {
        continue;
      }
      if (!awaited.name.empty() && Field(object, "name") != awaited.name) continue;
      out.push_back(event);
    }
    return out;
  }
  // The events of kubectl's requests (the controller manager's, e.g. the kube-root-ca.crt
  // publisher's creates, are left out).
  static std::vector<boost::json::object> Matching(const std::vector<boost::json::object>& events,
                                                   std::string_view verb,
                                                   std::string_view resource) {
    return Matching(events, Awaited{.verb = verb, .resource = resource});
  }
  // Who made the requests `awaited` describes.
  static std::set<std::string> Users(const std::vector<boost::json::object>& events,
                                     const Awaited& awaited) {
    std::set<std::string> users;
    for (const auto& event : Matching(events, awaited)) {
      users.insert(std::string(event.at("user").at("username").as_string()));
    }
    return users;
  }

  static std::string Field(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
  }
  KppServer server_;
  std::string log_path_;
};

TEST_F(AuditE2ETest, CreateGetWatchAtThePolicysLevelsAndSecretsAtMetadataOnly) {
  MustRun({"create", "configmap", "c1", "--from-literal=color=audited-configmap-value"});
  MustRun({"get", "configmap", "c1", "-o", "json"});
  const std::string secret_value = "never-in-the-audit-log";
  MustRun({"create", "secret", "generic", "s1", "--from-literal=password=" + secret_value});
  MustRun({"get", "secret", "s1", "-o", "yaml"});
  MustRun({"get", "--raw", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1"});
  MustRun({"get", "namespaces"});

  // create+get of each, and the watch's two stages.
  const auto events = Events({{"create", "configmaps"},
                              {"get", "configmaps"},
                              {"create", "secrets"},
                              {"get", "secrets"},
                              {"watch", "pods", 2}});
  const auto creates = Matching(events, "create", "configmaps");
  ASSERT_EQ(creates.size(), 1u);
  const auto& create = creates[0];
  EXPECT_EQ(create.at("stage"), "ResponseComplete");
  EXPECT_EQ(create.at("level"), "RequestResponse");
  EXPECT_EQ(create.at("user").at("username"), "kpp-admin");
  EXPECT_EQ(create.at("responseStatus").at("code"), 201);
  EXPECT_EQ(create.at("objectRef").at("namespace"), "default");
  EXPECT_EQ(create.at("objectRef").at("name"), "c1");
  EXPECT_EQ(create.at("requestObject").at("data").at("color"), "audited-configmap-value");
  EXPECT_EQ(create.at("responseObject").at("metadata").at("name"), "c1");
  EXPECT_NE(std::string(create.at("userAgent").as_string()).find("kubectl"), std::string::npos);
  EXPECT_EQ(create.at("annotations").at("authorization.k8s.io/decision"), "allow");

  const auto gets = Matching(events, "get", "configmaps");
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].at("objectRef").at("name"), "c1");
  EXPECT_EQ(gets[0].at("responseObject").at("data").at("color"), "audited-configmap-value");

  // Secrets: the policy asks for RequestResponse; the log has Metadata and no value.
  const auto secret_events = Matching(events, "create", "secrets");
  ASSERT_EQ(secret_events.size(), 1u);
  EXPECT_EQ(secret_events[0].at("level"), "Metadata");
  EXPECT_FALSE(secret_events[0].contains("requestObject"));
  ASSERT_EQ(Matching(events, "get", "secrets").size(), 1u);
  EXPECT_FALSE(Matching(events, "get", "secrets")[0].contains("responseObject"));
  const std::string log = *ReadFile(log_path_);
  EXPECT_EQ(log.find(secret_value), std::string::npos);
  EXPECT_EQ(log.find(Base64Encode(secret_value)), std::string::npos);

  // kubectl's watch; the scheduler inside the server watches pods too, as its own user.
  const auto watches = Matching(events, "watch", "pods");
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[0].at("stage"), "ResponseStarted");
  EXPECT_EQ(watches[1].at("stage"), "ResponseComplete");
  EXPECT_EQ(watches[0].at("level"), "Request");
  EXPECT_EQ(watches[0].at("auditID"), watches[1].at("auditID"));

  EXPECT_TRUE(Matching(events, "list", "namespaces").empty()) << "level None";
  for (const auto& event : events)
    EXPECT_NE(event.at("stage"), "RequestReceived");

  struct stat info {};
  ASSERT_EQ(stat(log_path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(AuditPolicyE2ETest, InvalidPolicyStopsTheServer) {
  KppServer server;
  const std::string policy = server.WriteFile(
      "bad-policy.yaml", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: All\n");
  EXPECT_FALSE(server.Start({"--audit-policy-file", policy, "--audit-log-path", "-"}));
  EXPECT_THAT(server.Logs(), ::testing::HasSubstr("rules[0].level: Unsupported value: \"All\""));
}

TEST_F(AuditE2ETest, ImpersonationNamesTheRequesterAndTheImpersonatedUser) {
  MustRun({"create", "configmap", "c2", "--from-literal=color=blue"});
  MustRun({"get", "configmap", "c2", "--as", "bob", "--as-group", "system:masters"});
  const auto events = Events({{"create", "configmaps"}, {"get", "configmaps"}});
  const auto gets = Matching(events, "get", "configmaps");
  ASSERT_EQ(gets.size(), 1u);
  // As upstream: `user` is who sent the request, `impersonatedUser` whom it acted as.
  EXPECT_EQ(gets[0].at("user").at("username"), "kpp-admin");
  const auto& impersonated = gets[0].at("impersonatedUser").as_object();
  EXPECT_EQ(impersonated.at("username"), "bob");
  EXPECT_EQ(impersonated.at("groups"),
            boost::json::parse(R"(["system:masters","system:authenticated"])"));
  const auto creates = Matching(events, "create", "configmaps");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_FALSE(creates[0].contains("impersonatedUser"));
}

TEST_F(AuditE2ETest, ControllersOfTheControllerManagerActAsTheirOwnIdentities) {
  MustRun({"create", "namespace", "audited"});
  MustRun({"create", "quota", "pods", "--hard=pods=3", "-n", "audited"});
  MustRun({"create", "serviceaccount", "robot", "-n", "audited"});
  MustRun({"apply", "-f", server_.WriteFile("robot-token.yaml", R"(apiVersion: v1
kind: Secret
metadata:
  name: robot-token
  namespace: audited
  annotations:
    kubernetes.io/service-account.name: robot
type: kubernetes.io/service-account-token
)")});
  MustRun({"create", "secret", "generic", "bootstrap-token-zzzzzz", "-n", "kube-system", "--type",
           "bootstrap.kubernetes.io/token", "--from-literal", "token-id=zzzzzz", "--from-literal",
           "token-secret=0123456789abcdef", "--from-literal", "expiration=2020-01-01T00:00:00Z"});

  const Awaited default_account{.verb = "create",
                                .resource = "serviceaccounts",
                                .user = "",
                                .namespace_ = "audited",
                                .name = "default"};
  const Awaited root_ca{.verb = "create",
                        .resource = "configmaps",
                        .user = "",
                        .namespace_ = "audited",
                        .name = "kube-root-ca.crt"};
  const Awaited quota_status{.verb = "update",
                             .resource = "resourcequotas/status",
                             .user = "",
                             .namespace_ = "audited",
                             .name = "pods"};
  const Awaited token_filled{.verb = "update",
                             .resource = "secrets",
                             .user = "",
                             .namespace_ = "audited",
                             .name = "robot-token"};
  const Awaited expired_token_deleted{.verb = "delete",
                                      .resource = "secrets",
                                      .user = "",
                                      .namespace_ = "kube-system",
                                      .name = "bootstrap-token-zzzzzz"};
  const auto events =
      Events({default_account, root_ca, quota_status, token_filled, expired_token_deleted});
  using Set = std::set<std::string>;
  EXPECT_EQ(Users(events, default_account),
            Set{"system:serviceaccount:kube-system:service-account-controller"});
  EXPECT_EQ(Users(events, root_ca),
            Set{"system:serviceaccount:kube-system:root-ca-cert-publisher"});
  EXPECT_EQ(Users(events, quota_status),
            Set{"system:serviceaccount:kube-system:resourcequota-controller"});
  // Upstream's tokens controller signs with the manager's key and writes as the manager itself.
  EXPECT_EQ(Users(events, token_filled), Set{"system:kube-controller-manager"});
  EXPECT_EQ(Users(events, expired_token_deleted),
            Set{"system:serviceaccount:kube-system:token-cleaner"});
  for (const auto* awaited :
       {&default_account, &root_ca, &quota_status, &token_filled, &expired_token_deleted}) {
    for (const auto& event : Matching(events, *awaited)) {
      EXPECT_EQ(event.at("annotations").at("authorization.k8s.io/decision"), "allow")
          << awaited->verb << " " << awaited->resource << " " << awaited->name;
    }
  }
}

TEST_F(AuditE2ETest, EveryResponseCarriesAnAuditId) {
  auto result = server_.Kubectl({"get", "configmaps", "-v=8"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, ::testing::ContainsRegex("Audit-Id: [0-9a-f-]{36}"));
}

}  // namespace
}  // namespace kpp
