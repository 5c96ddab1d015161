#include "pki/certificates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace kpp::pki {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

class CertificatesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto ca = GenerateCa("test-ca", std::chrono::hours(24));
    ASSERT_TRUE(ca.ok()) << ca.error().message();
    ca_ = new CertificateAndKey(*ca);
  }
  static void TearDownTestSuite() { delete ca_; }
  static CertificateAndKey* ca_;
};
CertificateAndKey* CertificatesTest::ca_ = nullptr;

TEST_F(CertificatesTest, CaIsSelfSignedCa) {
  auto info = ParseCertificate(ca_->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_ca);
  EXPECT_EQ(info->common_name, "test-ca");
  EXPECT_TRUE(CheckSignedBy(ca_->certificate_pem, ca_->certificate_pem).ok());
  EXPECT_TRUE(CheckKeyMatches(ca_->certificate_pem, ca_->private_key_pem).ok());
  EXPECT_NE(ca_->private_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST_F(CertificatesTest, IssuedCertificateCarriesSubjectAndNames) {
  CertificateRequest request;
  request.common_name = "kpp-admin";
  request.organizations = {"system:masters", "team"};
  request.dns_names = {"localhost", "kubernetes.default.svc"};
  request.ip_addresses = {"127.0.0.1", "::1"};
  request.validity = std::chrono::hours(48);
  const auto before = std::chrono::system_clock::now();
  auto issued = IssueCertificate(*ca_, request);
  ASSERT_TRUE(issued.ok()) << issued.error().message();
  auto info = ParseCertificate(issued->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "kpp-admin");
  EXPECT_THAT(info->organizations, ElementsAre("system:masters", "team"));
  EXPECT_THAT(info->dns_names, ElementsAre("localhost", "kubernetes.default.svc"));
  EXPECT_THAT(info->ip_addresses, ElementsAre("127.0.0.1", "::1"));
  EXPECT_FALSE(info->is_ca);
  EXPECT_LE(info->not_before, before);
  EXPECT_GT(info->not_after, before + 47h);
  EXPECT_LT(info->not_after, before + 49h);
  EXPECT_TRUE(CheckSignedBy(issued->certificate_pem, ca_->certificate_pem).ok());
  EXPECT_TRUE(CheckKeyMatches(issued->certificate_pem, issued->private_key_pem).ok());
}

TEST_F(CertificatesTest, DetectsForeignCaAndWrongKey) {
  auto other_ca = GenerateCa("other-ca", std::chrono::hours(24));
  ASSERT_TRUE(other_ca.ok());
  auto issued = IssueCertificate(*ca_, {.common_name = "x"});
  ASSERT_TRUE(issued.ok());
  EXPECT_FALSE(CheckSignedBy(issued->certificate_pem, other_ca->certificate_pem).ok());
  auto status = CheckKeyMatches(issued->certificate_pem, other_ca->private_key_pem);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kInvalid);
}

TEST_F(CertificatesTest, RejectsGarbage) {
  auto info =
      ParseCertificate("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().message(), "not a valid PEM certificate");
  EXPECT_FALSE(CheckKeyMatches(ca_->certificate_pem, "garbage").ok());
}

}  // namespace
}  // namespace kpp::pki
