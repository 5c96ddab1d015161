#include "pki/cluster_tls.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "base/files.h"

namespace kpp::pki {
namespace {

using namespace std::chrono_literals;

class ClusterTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = MakeTempDirectory("kpp-tls-test-");
    ASSERT_TRUE(dir.ok());
    root_ = *dir;
    tls_dir_ = root_ + "/tls";
    names_.dns_names = {"localhost", "kubernetes"};
    names_.ip_addresses = {"127.0.0.1"};
  }
  void TearDown() override { RemoveAll(root_); }

  Result<ClusterTls> Load(
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    return LoadOrCreateClusterTls(tls_dir_, names_, now);
  }

  std::string Path(const std::string& name) const { return tls_dir_ + "/" + name; }

  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> files;
    for (const char* name :
         {"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key"}) {
      auto content = ReadFile(Path(name));
      files[name] = content.ok() ? *content : "<missing>";
    }
    return files;
  }

  void ExpectLoadFails(const std::string& expected_message) {
    const auto before = Snapshot();
    auto tls = Load();
    ASSERT_FALSE(tls.ok());
    EXPECT_EQ(tls.error().code(), ErrorCode::kInvalid);
    EXPECT_EQ(tls.error().message(), expected_message);
    EXPECT_EQ(Snapshot(), before) << "a failed load must not change any file";
  }

  std::string root_;
  std::string tls_dir_;
  ServingNames names_;
};

TEST_F(ClusterTlsTest, FirstStartCreatesEverythingWithPrivateKeys) {
  auto tls = Load();
  ASSERT_TRUE(tls.ok()) << tls.error().message();
  for (const char* key : {"ca.key", "apiserver.key", "admin.key"}) {
    struct stat st {};
    ASSERT_EQ(stat(Path(key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  auto admin = ParseCertificate(tls->admin.certificate_pem);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->common_name, "kpp-admin");
  EXPECT_EQ(admin->organizations, std::vector<std::string>{"system:masters"});
  auto serving = ParseCertificate(tls->serving.certificate_pem);
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->dns_names, names_.dns_names);
  EXPECT_EQ(serving->ip_addresses, names_.ip_addresses);
  EXPECT_TRUE(CheckSignedBy(tls->serving.certificate_pem, tls->ca.certificate_pem).ok());
  EXPECT_TRUE(CheckSignedBy(tls->admin.certificate_pem, tls->ca.certificate_pem).ok());
}

TEST_F(ClusterTlsTest, RestartReusesTheSameFiles) {
  ASSERT_TRUE(Load().ok());
  const auto first = Snapshot();
  auto again = Load();
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(Snapshot(), first);
  EXPECT_EQ(again->ca.certificate_pem, first.at("ca.crt"));
}

TEST_F(ClusterTlsTest, NewServingNameReissuesOnlyTheServingCertificate) {
  ASSERT_TRUE(Load().ok());
  const auto first = Snapshot();
  names_.ip_addresses.push_back("10.1.2.3");
  auto tls = Load();
  ASSERT_TRUE(tls.ok()) << tls.error().message();
  const auto second = Snapshot();
  EXPECT_NE(second.at("apiserver.crt"), first.at("apiserver.crt"));
  EXPECT_EQ(second.at("ca.crt"), first.at("ca.crt"));
  EXPECT_EQ(second.at("admin.crt"), first.at("admin.crt"));
  auto serving = ParseCertificate(tls->serving.certificate_pem);
  ASSERT_TRUE(serving.ok());
  EXPECT_EQ(serving->ip_addresses.back(), "10.1.2.3");
}

TEST_F(ClusterTlsTest, LeafCertificatesNearExpiryAreRenewed) {
  ASSERT_TRUE(Load().ok());
  const auto first = Snapshot();
  ASSERT_TRUE(Load(std::chrono::system_clock::now() + std::chrono::hours(24 * 300)).ok());
  const auto second = Snapshot();
  EXPECT_EQ(second.at("ca.crt"), first.at("ca.crt"));
  EXPECT_NE(second.at("admin.crt"), first.at("admin.crt"));
  EXPECT_NE(second.at("apiserver.crt"), first.at("apiserver.crt"));
}

TEST_F(ClusterTlsTest, ExpiredCaIsAnError) {
  ASSERT_TRUE(Load().ok());
  auto tls = Load(std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 11));
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.error().message(), "tls/ca.crt: has expired");
}

TEST_F(ClusterTlsTest, CorruptCertificateIsReportedAndKept) {
  ASSERT_TRUE(Load().ok());
  ASSERT_TRUE(WriteFileAtomic(Path("apiserver.crt"), "garbage", 0644).ok());
  ExpectLoadFails("tls/apiserver.crt: not a valid PEM certificate");
}

TEST_F(ClusterTlsTest, CorruptCaIsReportedAndKept) {
  ASSERT_TRUE(Load().ok());
  ASSERT_TRUE(WriteFileAtomic(Path("ca.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n", 0644).ok());
  ExpectLoadFails("tls/ca.crt: not a valid PEM certificate");
}

TEST_F(ClusterTlsTest, MismatchedKeyIsReportedAndKept) {
  ASSERT_TRUE(Load().ok());
  auto ca_key = ReadFile(Path("ca.key"));
  ASSERT_TRUE(ca_key.ok());
  ASSERT_TRUE(WriteFileAtomic(Path("admin.key"), *ca_key, 0600).ok());
  ExpectLoadFails("tls/admin.key: does not match tls/admin.crt");
}

TEST_F(ClusterTlsTest, CertificateFromAnotherCaIsReportedAndKept) {
  ASSERT_TRUE(Load().ok());
  auto other_ca = GenerateCa("intruder", std::chrono::hours(24));
  ASSERT_TRUE(other_ca.ok());
  auto foreign = IssueCertificate(*other_ca, {.common_name = "kube-apiserver"});
  ASSERT_TRUE(foreign.ok());
  ASSERT_TRUE(WriteFileAtomic(Path("apiserver.crt"), foreign->certificate_pem, 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("apiserver.key"), foreign->private_key_pem, 0600).ok());
  ExpectLoadFails("tls/apiserver.crt: was not issued by the cluster CA in tls/ca.crt");
}

TEST_F(ClusterTlsTest, MissingKeyIsReportedAndKept) {
  ASSERT_TRUE(Load().ok());
  ASSERT_EQ(unlink(Path("ca.key").c_str()), 0);
  ExpectLoadFails("tls/ca.key: missing, but its certificate exists");
}

TEST_F(ClusterTlsTest, LeafWithoutCaIsReported) {
  ASSERT_TRUE(Load().ok());
  ASSERT_EQ(unlink(Path("ca.key").c_str()), 0);
  ASSERT_EQ(unlink(Path("ca.crt").c_str()), 0);
  ExpectLoadFails("tls/apiserver.crt: exists but tls/ca.crt does not");
}

TEST_F(ClusterTlsTest, InterruptedReplacementIsFinished) {
  auto tls = Load();
  ASSERT_TRUE(tls.ok());
  auto fresh = IssueCertificate(tls->ca, {.common_name = "kpp-admin",
                                          .organizations = {"system:masters"},
                                          .usage = KeyUsage::kClient});
  ASSERT_TRUE(fresh.ok());
  // The crash came after the key was installed, before the certificate was.
  ASSERT_TRUE(WriteFileAtomic(Path("admin.key"), fresh->private_key_pem, 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("admin.crt.new"), fresh->certificate_pem, 0644).ok());
  auto recovered = Load();
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ(recovered->admin.certificate_pem, fresh->certificate_pem);
  EXPECT_FALSE(PathExists(Path("admin.crt.new")));
}

TEST_F(ClusterTlsTest, UncommittedStagedKeyIsDropped) {
  ASSERT_TRUE(Load().ok());
  const auto before = Snapshot();
  ASSERT_TRUE(WriteFileAtomic(Path("apiserver.key.new"), "half", 0600).ok());
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_FALSE(PathExists(Path("apiserver.key.new")));
}

TEST(DefaultServingNamesTest, IncludesKubernetesNamesLoopbackAndBindAddress) {
  const ServingNames names = DefaultServingNames("10.9.8.7");
  for (const char* dns : {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local"}) {
    EXPECT_NE(std::find(names.dns_names.begin(), names.dns_names.end(), dns), names.dns_names.end())
        << dns;
  }
  for (const char* ip : {"127.0.0.1", "10.9.8.7"}) {
    EXPECT_NE(std::find(names.ip_addresses.begin(), names.ip_addresses.end(), ip),
              names.ip_addresses.end())
        << ip;
  }
  EXPECT_GE(names.dns_names.size(), 6u) << "the host name is missing";
}

}  // namespace
}  // namespace kpp::pki
