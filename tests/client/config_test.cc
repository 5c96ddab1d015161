#include "client/rest/config.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <map>

#include "base/encoding.h"
#include "base/files.h"
#include "client/rest/rest_client.h"

namespace kpp::client::rest {
namespace {

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: main
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: Q0EgUEVN
- name: files
  cluster:
    server: https://files.example:443
    certificate-authority: ca.crt
    tls-server-name: kubernetes
- name: insecure
  cluster:
    server: https://insecure:6443
    insecure-skip-tls-verify: true
contexts:
- name: admin
  context:
    cluster: main
    user: admin
- name: files
  context:
    cluster: files
    user: files
    namespace: team-a
- name: token
  context:
    cluster: insecure
    user: token
- name: broken
  context:
    cluster: nowhere
users:
- name: admin
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: files
  user:
    client-certificate: /abs/client.crt
    client-key: client.key
- name: token
  user:
    token: secret-token
)";

TEST(ClientKubeconfigTest, CurrentContextWithInlineData) {
  auto config = ParseKubeconfig(kKubeconfig);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://10.0.0.1:6443");
  EXPECT_EQ(config->tls.ca_pem, "CA PEM");
  EXPECT_EQ(config->tls.client_certificate_pem, "CERT");
  EXPECT_EQ(config->tls.client_key_pem, "KEY");
  EXPECT_FALSE(config->tls.insecure_skip_verify);
  EXPECT_EQ(config->default_namespace, "default");
  EXPECT_EQ(config->qps, 5);
  EXPECT_EQ(config->burst, 10);
}

TEST(ClientKubeconfigTest, FilesAreRelativeToTheKubeconfig) {
  auto dir = MakeTempDirectory("kubeconfig-test");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(WriteFileAtomic(*dir + "/kubeconfig", kKubeconfig, 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir + "/ca.crt", "FILE CA", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir + "/client.key", "FILE KEY", 0600).ok());
  auto config = LoadKubeconfig(*dir + "/kubeconfig", "files");
  // client-certificate is an absolute path that does not exist.
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find("client-certificate"), std::string::npos)
      << config.error().message();
  ASSERT_TRUE(WriteFileAtomic(*dir + "/client.crt", "FILE CERT", 0600).ok());
  std::string text = kKubeconfig;
  text.replace(text.find("/abs/client.crt"), 15, "client.crt");
  ASSERT_TRUE(WriteFileAtomic(*dir + "/kubeconfig", text, 0600).ok());
  config = LoadKubeconfig(*dir + "/kubeconfig", "files");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->tls.ca_pem, "FILE CA");
  EXPECT_EQ(config->tls.client_certificate_pem, "FILE CERT");
  EXPECT_EQ(config->tls.client_key_pem, "FILE KEY");
  EXPECT_EQ(config->tls.server_name, "kubernetes");
  EXPECT_EQ(config->default_namespace, "team-a");
  RemoveAll(*dir);
}

TEST(ClientKubeconfigTest, TokenAndInsecure) {
  auto config = ParseKubeconfig(kKubeconfig, "token");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->bearer_token, "secret-token");
  EXPECT_TRUE(config->tls.insecure_skip_verify);
  EXPECT_TRUE(config->tls.ca_pem.empty());
}

TEST(ClientKubeconfigTest, Errors) {
  EXPECT_EQ(ParseKubeconfig(kKubeconfig, "missing").error().message(),
            "context \"missing\" does not exist");
  EXPECT_EQ(ParseKubeconfig(kKubeconfig, "broken").error().message(),
            "cluster \"nowhere\" of context \"broken\" does not exist");
  EXPECT_FALSE(ParseKubeconfig("apiVersion: v1\nkind: Config\n").ok());
  EXPECT_EQ(ParseKubeconfig("clusters:\n- name: a\n  bad: [\n").error().message(),
            "error converting YAML to JSON: yaml: line 3: did not find expected node content");
}

TEST(ClientKubeconfigTest, ReadsWhatKppServerWrites) {
  const std::string text = std::string(R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: )") +
                           Base64Encode("ca") + R"(
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
preferences: {}
users:
- name: default
  user:
    client-certificate-data: )" +
                           Base64Encode("crt") + R"(
    client-key-data: )" + Base64Encode("key") +
                           "\n";
  auto config = ParseKubeconfig(text);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->tls.ca_pem, "ca");
  EXPECT_EQ(config->tls.client_certificate_pem, "crt");
  EXPECT_EQ(config->tls.client_key_pem, "key");
}

TEST(ClientInClusterConfigTest, ReadsServiceAccountAndEnvironment) {
  auto dir = MakeTempDirectory("incluster-test");
  ASSERT_TRUE(dir.ok());
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_FALSE(InClusterConfig(*dir, getenv).ok());
  env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  env["KUBERNETES_SERVICE_PORT"] = "443";
  EXPECT_FALSE(InClusterConfig(*dir, getenv).ok());  // no token
  ASSERT_TRUE(WriteFileAtomic(*dir + "/token", "tok", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir + "/ca.crt", "CA", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir + "/namespace", "kube-system\n", 0600).ok());
  auto config = InClusterConfig(*dir, getenv);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->bearer_token, "tok");
  EXPECT_EQ(config->bearer_token_file, *dir + "/token");
  EXPECT_EQ(config->tls.ca_pem, "CA");
  EXPECT_EQ(config->default_namespace, "kube-system");
  env["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  EXPECT_EQ(InClusterConfig(*dir, getenv)->server, "https://[fd00::1]:443");
  RemoveAll(*dir);
}

TEST(ClientEncodeQueryTest, PercentEncodes) {
  EXPECT_EQ(EncodeQuery({{"labelSelector", "app in (a,b)"}, {"limit", "5"}}),
            "labelSelector=app%20in%20%28a%2Cb%29&limit=5");
}

}  // namespace
}  // namespace kpp::client::rest
