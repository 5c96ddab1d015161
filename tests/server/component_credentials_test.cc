// Component client credentials issued from the cluster CA: identity in the certificate, file
// modes, reuse while valid, reissue when the identity changed or expiry nears.
#include "server/component_credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/files.h"
#include "pki/cluster_tls.h"

namespace kpp::server {
namespace {

using namespace std::chrono_literals;

class ComponentCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-component-credentials-");
    ASSERT_TRUE(dir.ok());
    data_dir_ = *dir;
    auto tls = pki::LoadOrCreateClusterTls(data_dir_ + "/tls", {{"localhost"}, {"127.0.0.1"}},
                                           std::chrono::system_clock::now());
    ASSERT_TRUE(tls.ok()) << tls.error().message();
    ca_pem_ = tls->ca.certificate_pem;
  }
  void TearDown() override { RemoveAll(data_dir_); }

  static mode_t Mode(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  }

  std::string data_dir_;
  std::string ca_pem_;
};

TEST_F(ComponentCredentialsTest, IssuesEachComponentItsOwnIdentity) {
  const auto now = std::chrono::system_clock::now();
  const struct {
    ComponentIdentity identity;
    std::string user;
    std::vector<std::string> groups;
  } cases[] = {{SchedulerIdentity(), "system:kube-scheduler", {}},
               {ControllerManagerIdentity(), "system:kube-controller-manager", {}},
               {KubeProxyIdentity(), "system:kube-proxy", {}},
               {NodeIdentity("node-7"), "system:node:node-7", {"system:nodes"}}};
  for (const auto& c : cases) {
    auto credentials =
        IssueComponentCredentials(data_dir_, c.identity, "https://127.0.0.1:6443", now);
    ASSERT_TRUE(credentials.ok()) << credentials.error().message();
    auto info = pki::ParseCertificate(credentials->client.certificate_pem);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->common_name, c.user);
    EXPECT_EQ(info->organizations, c.groups);
    EXPECT_TRUE(pki::CheckSignedBy(credentials->client.certificate_pem, ca_pem_).ok());
    EXPECT_EQ(Mode(credentials->key_path), 0600u);
    EXPECT_EQ(Mode(credentials->kubeconfig_path), 0600u);
    EXPECT_EQ(Mode(data_dir_ + "/components"), 0700u);
    auto kubeconfig = ReadFile(credentials->kubeconfig_path);
    ASSERT_TRUE(kubeconfig.ok());
    EXPECT_NE(kubeconfig->find("server: https://127.0.0.1:6443"), std::string::npos);
    EXPECT_NE(kubeconfig->find("client-certificate-data:"), std::string::npos);
  }
}

TEST_F(ComponentCredentialsTest, ReusesAValidCertificateAndRenewsOneCloseToExpiry) {
  const auto now = std::chrono::system_clock::now();
  auto first = IssueComponentCredentials(data_dir_, SchedulerIdentity(), "https://a", now);
  ASSERT_TRUE(first.ok());
  auto again = IssueComponentCredentials(data_dir_, SchedulerIdentity(), "https://b", now + 24h);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->client.certificate_pem, first->client.certificate_pem);
  EXPECT_NE(again->kubeconfig.find("server: https://b"), std::string::npos);

  auto later =
      IssueComponentCredentials(data_dir_, SchedulerIdentity(), "https://b", now + 24h * 340);
  ASSERT_TRUE(later.ok());
  EXPECT_NE(later->client.certificate_pem, first->client.certificate_pem);
}

TEST_F(ComponentCredentialsTest, MissingCaFails) {
  RemoveAll(data_dir_ + "/tls");
  EXPECT_FALSE(IssueComponentCredentials(data_dir_, KubeProxyIdentity(), "https://a",
                                         std::chrono::system_clock::now())
                   .ok());
}

}  // namespace
}  // namespace kpp::server
