#include "server/kubeconfig.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace kpp::server {
namespace {

TEST(KubeconfigTest, InlinesCaAndClientPairUnderDefaultNames) {
  const std::string config =
      RenderKubeconfig("https://127.0.0.1:6443", "CA PEM", {"CERT PEM", "KEY PEM"});
  EXPECT_EQ(config, R"(apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: )" +
                        Base64Encode("CA PEM") +
                        R"(
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
                        Base64Encode("CERT PEM") +
                        R"(
    client-key-data: )" +
                        Base64Encode("KEY PEM") + "\n");
}

TEST(KubeconfigTest, ServerUrlUsesLoopbackForWildcardBind) {
  EXPECT_EQ(LocalServerUrl("0.0.0.0", 6443), "https://127.0.0.1:6443");
  EXPECT_EQ(LocalServerUrl("::", 6443), "https://127.0.0.1:6443");
  EXPECT_EQ(LocalServerUrl("10.0.0.5", 7443), "https://10.0.0.5:7443");
  EXPECT_EQ(LocalServerUrl("fd00::5", 6443), "https://[fd00::5]:6443");
}

}  // namespace
}  // namespace kpp::server
