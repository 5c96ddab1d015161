// The certificate controllers' rules (csr_rules.h): which kubelet client CSRs the approver
// recognizes and approves after a SubjectAccessReview, what each kubernetes.io signer accepts,
// the certificate's lifetime, and when the cleaner deletes a CSR.
#include <gtest/gtest.h>

#include <map>

#include "controllers/certificates/csr_rules.h"
#include "pki/certificate_request.h"

namespace kpp::controllers::certificates {
namespace {

using api::authorization_k8s_io::v1::ResourceAttributes;

class FakeCsrClient : public CsrClient {
 public:
  Status UpdateApproval(const CertificateSigningRequest& csr) override {
    approvals.push_back(csr);
    return Ok();
  }
  Status UpdateStatus(const CertificateSigningRequest& csr) override {
    statuses.push_back(csr);
    return Ok();
  }
  Status Delete(const std::string& name) override {
    deleted.push_back(name);
    return Ok();
  }
  Result<bool> Review(const CertificateSigningRequest& csr,
                      const ResourceAttributes& attributes) override {
    reviews.push_back(csr.spec.username + " " + attributes.verb + " " + attributes.resource + "/" +
                      attributes.subresource);
    return allowed[attributes.subresource];
  }

  std::map<std::string, bool> allowed;
  std::vector<std::string> reviews;
  std::vector<CertificateSigningRequest> approvals;
  std::vector<CertificateSigningRequest> statuses;
  std::vector<std::string> deleted;
};

pki::RequestInfo Request(std::string common_name, std::vector<std::string> organizations) {
  pki::RequestInfo info;
  info.common_name = std::move(common_name);
  info.organizations = std::move(organizations);
  return info;
}

const std::vector<std::string> kKubeletClientUsages = {"digital signature", "key encipherment",
                                                       "client auth"};

TEST(KubeletClientCsrTest, Rules) {
  struct Case {
    std::string name;
    pki::RequestInfo request;
    std::vector<std::string> usages;
    std::optional<std::string> problem;
  };
  auto with_dns = Request("system:node:a", {"system:nodes"});
  with_dns.dns_names = {"a.example"};
  auto with_ip = Request("system:node:a", {"system:nodes"});
  with_ip.ip_addresses = {"10.0.0.1"};
  const std::vector<Case> cases = {
      {"valid", Request("system:node:a", {"system:nodes"}), kKubeletClientUsages, std::nullopt},
      {"valid without RSA usage",
       Request("system:node:a", {"system:nodes"}),
       {"client auth", "digital signature"},
       std::nullopt},
      {"wrong organization", Request("system:node:a", {"system:masters"}), kKubeletClientUsages,
       "subject organization is not system:nodes"},
      {"two organizations", Request("system:node:a", {"system:nodes", "x"}), kKubeletClientUsages,
       "subject organization is not system:nodes"},
      {"DNS name", with_dns, kKubeletClientUsages, "DNS subjectAltNames are not allowed"},
      {"IP address", with_ip, kKubeletClientUsages, "IP subjectAltNames are not allowed"},
      {"not a node", Request("alice", {"system:nodes"}), kKubeletClientUsages,
       "subject common name does not begin with system:node:"},
      {"server usage",
       Request("system:node:a", {"system:nodes"}),
       {"digital signature", "server auth"},
       "usages did not match [client auth digital signature key encipherment]"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(KubeletClientCsrProblem(c.request, c.usages), c.problem) << c.name;
  }
}

TEST(SignerRulesTest, PerSigner) {
  struct Case {
    std::string name;
    std::string signer;
    pki::RequestInfo request;
    std::vector<std::string> usages;
    bool recognized;
    std::optional<std::string> problem;
  };
  auto serving = Request("system:node:a", {"system:nodes"});
  serving.dns_names = {"a.example"};
  const std::vector<Case> cases = {
      {"client",
       kKubeApiServerClientSigner,
       Request("myuser", {}),
       {"client auth"},
       true,
       std::nullopt},
      {"client with optional usages",
       kKubeApiServerClientSigner,
       Request("myuser", {"dev"}),
       {"digital signature", "key encipherment", "client auth"},
       true,
       std::nullopt},
      {"client without client auth",
       kKubeApiServerClientSigner,
       Request("myuser", {}),
       {"digital signature"},
       true,
       "missing required usage for client certificate: client auth"},
      {"client with server auth",
       kKubeApiServerClientSigner,
       Request("myuser", {}),
       {"client auth", "server auth"},
       true,
       "invalid usage for client certificate: server auth"},
      {"kubelet client", kKubeletClientSigner, Request("system:node:a", {"system:nodes"}),
       kKubeletClientUsages, true, std::nullopt},
      {"kubelet client for a user", kKubeletClientSigner, Request("myuser", {"system:nodes"}),
       kKubeletClientUsages, true, "subject common name does not begin with system:node:"},
      {"kubelet serving",
       kKubeletServingSigner,
       serving,
       {"digital signature", "key encipherment", "server auth"},
       true,
       std::nullopt},
      {"kubelet serving without names",
       kKubeletServingSigner,
       Request("system:node:a", {"system:nodes"}),
       {"digital signature", "server auth"},
       true,
       "DNS or IP subjectAltName is required"},
      {"legacy unknown",
       kLegacyUnknownSigner,
       Request("x", {}),
       {"client auth"},
       false,
       std::nullopt},
      {"someone else's",
       "example.com/signer",
       Request("x", {}),
       {"client auth"},
       false,
       std::nullopt},
  };
  for (const auto& c : cases) {
    const auto verdict = CheckRequestForSigner(c.signer, c.request, c.usages);
    EXPECT_EQ(verdict.recognized, c.recognized) << c.name;
    EXPECT_EQ(verdict.problem, c.problem) << c.name;
  }
}

TEST(CertificateDurationTest, RequestedWithinLimits) {
  struct Case {
    std::optional<int32_t> requested;
    std::chrono::seconds max;
    std::chrono::seconds want;
  };
  const std::vector<Case> cases = {
      {std::nullopt, std::chrono::hours(8760), std::chrono::hours(8760)},
      {3600, std::chrono::hours(8760), std::chrono::seconds(3600)},
      {100, std::chrono::hours(8760), std::chrono::seconds(600)},
      {86400 * 800, std::chrono::hours(8760), std::chrono::hours(8760)},
  };
  for (const auto& c : cases) {
    CertificateSigningRequest csr;
    csr.spec.expiration_seconds = c.requested;
    EXPECT_EQ(CertificateDuration(csr, c.max), c.want);
  }
}

CertificateSigningRequest KubeletCsr(const std::string& common_name, const std::string& username) {
  auto generated = pki::GenerateCertificateRequest(common_name, {"system:nodes"});
  EXPECT_TRUE(generated.ok());
  CertificateSigningRequest csr;
  csr.metadata.name = "node-csr";
  csr.spec.request = generated->request_pem;
  csr.spec.signer_name = kKubeletClientSigner;
  csr.spec.usages = kKubeletClientUsages;
  csr.spec.username = username;
  csr.spec.groups = {"system:bootstrappers", "system:authenticated"};
  return csr;
}

TEST(CsrApproverTest, Table) {
  struct Case {
    std::string name;
    std::string common_name;
    std::string username;
    std::map<std::string, bool> allowed;
    std::vector<std::string> want_reviews;
    std::string want_message;  // empty: not approved
  };
  const std::vector<Case> cases = {
      {"bootstrapper allowed nodeclient",
       "system:node:n1",
       "system:bootstrap:abcdef",
       {{"nodeclient", true}},
       {"system:bootstrap:abcdef create certificatesigningrequests/nodeclient"},
       "Auto approving kubelet client certificate after SubjectAccessReview."},
      {"bootstrapper without rights",
       "system:node:n1",
       "system:bootstrap:abcdef",
       {},
       {"system:bootstrap:abcdef create certificatesigningrequests/nodeclient"},
       ""},
      {"node renewing itself",
       "system:node:n1",
       "system:node:n1",
       {{"selfnodeclient", true}},
       {"system:node:n1 create certificatesigningrequests/selfnodeclient"},
       "Auto approving self kubelet client certificate after SubjectAccessReview."},
      {"node asking for another node",
       "system:node:n2",
       "system:node:n1",
       {{"selfnodeclient", true}},
       {"system:node:n1 create certificatesigningrequests/nodeclient"},
       ""},
  };
  for (const auto& c : cases) {
    FakeCsrClient client;
    client.allowed = c.allowed;
    FakeClock clock;
    CsrApprover approver(client, clock);
    ASSERT_TRUE(approver.Handle(KubeletCsr(c.common_name, c.username)).ok()) << c.name;
    EXPECT_EQ(client.reviews, c.want_reviews) << c.name;
    if (c.want_message.empty()) {
      EXPECT_TRUE(client.approvals.empty()) << c.name;
      continue;
    }
    ASSERT_EQ(client.approvals.size(), 1u) << c.name;
    const auto& condition = client.approvals[0].status.conditions.back();
    EXPECT_EQ(condition.type, "Approved");
    EXPECT_EQ(condition.status, "True");
    EXPECT_EQ(condition.reason, "AutoApproved");
    EXPECT_EQ(condition.message, c.want_message);
  }
}

TEST(CsrApproverTest, IgnoresOtherSignersAndDecidedRequests) {
  FakeCsrClient client;
  client.allowed = {{"nodeclient", true}, {"selfnodeclient", true}};
  FakeClock clock;
  CsrApprover approver(client, clock);
  auto other = KubeletCsr("system:node:n1", "system:bootstrap:x");
  other.spec.signer_name = kKubeApiServerClientSigner;
  ASSERT_TRUE(approver.Handle(other).ok());
  auto denied = KubeletCsr("system:node:n1", "system:bootstrap:x");
  denied.status.conditions.push_back({"Denied", "True", "No", "", {}, {}});
  ASSERT_TRUE(approver.Handle(denied).ok());
  EXPECT_TRUE(client.reviews.empty());
  EXPECT_TRUE(client.approvals.empty());
}

pki::CertificateAndKey TestCa() {
  auto ca = pki::GenerateCa("test-ca", std::chrono::hours(24 * 365 * 10));
  EXPECT_TRUE(ca.ok());
  return *ca;
}

TEST(CsrSignerTest, SignsApprovedClientRequest) {
  FakeCsrClient client;
  FakeClock clock(Clock::TimePoint(std::chrono::seconds(std::time(nullptr))));
  const auto ca = TestCa();
  CsrSigner signer(client, SignerOptions{ca, std::chrono::hours(8760)}, clock);
  auto generated = pki::GenerateCertificateRequest("myuser", {"dev"});
  ASSERT_TRUE(generated.ok());
  CertificateSigningRequest csr;
  csr.metadata.name = "myuser";
  csr.spec.request = generated->request_pem;
  csr.spec.signer_name = kKubeApiServerClientSigner;
  csr.spec.usages = {"client auth"};
  csr.spec.expiration_seconds = 3600;
  // Not approved yet: nothing happens.
  ASSERT_TRUE(signer.Handle(csr).ok());
  EXPECT_TRUE(client.statuses.empty());
  csr.status.conditions.push_back({"Approved", "True", "KubectlApprove", "", {}, {}});
  ASSERT_TRUE(signer.Handle(csr).ok());
  ASSERT_EQ(client.statuses.size(), 1u);
  const std::string& pem = client.statuses[0].status.certificate;
  EXPECT_TRUE(pki::CheckSignedBy(pem, ca.certificate_pem).ok());
  auto info = pki::ParseCertificate(pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "myuser");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"dev"});
  // Backdated 5 minutes; a short-lived certificate keeps its full hour from now.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(info->not_after - info->not_before),
            std::chrono::seconds(3600 + 300));
}

TEST(CsrSignerTest, InvalidRequestGetsFailedCondition) {
  FakeCsrClient client;
  FakeClock clock;
  CsrSigner signer(client, SignerOptions{TestCa(), std::chrono::hours(8760)}, clock);
  auto csr = KubeletCsr("alice", "alice");
  csr.status.conditions.push_back({"Approved", "True", "KubectlApprove", "", {}, {}});
  ASSERT_TRUE(signer.Handle(csr).ok());
  ASSERT_EQ(client.statuses.size(), 1u);
  const auto& condition = client.statuses[0].status.conditions.back();
  EXPECT_EQ(condition.type, "Failed");
  EXPECT_EQ(condition.reason, "SignerValidationFailure");
  EXPECT_EQ(condition.message, "subject common name does not begin with system:node:");
  EXPECT_TRUE(client.statuses[0].status.certificate.empty());
}

TEST(CsrCleanerTest, Deadlines) {
  const Clock::TimePoint now(std::chrono::seconds(1'700'000'000));
  auto at = [&](std::chrono::seconds ago) {
    return api::Time::FromUnixSeconds(1'700'000'000 - ago.count());
  };
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::chrono::seconds>> conditions;  // type, age
    std::chrono::seconds age;
    bool clean;
  };
  using std::chrono::hours;
  using std::chrono::minutes;
  const std::vector<Case> cases = {
      {"pending for an hour", {}, hours(1), false},
      {"pending for a day", {}, hours(25), true},
      {"denied a minute ago", {{"Denied", minutes(1)}}, hours(2), false},
      {"denied two hours ago", {{"Denied", hours(2)}}, hours(2), true},
      {"failed two hours ago", {{"Approved", hours(2)}, {"Failed", hours(2)}}, hours(2), true},
      {"approved, not issued, two hours ago", {{"Approved", hours(2)}}, hours(2), false},
  };
  for (const auto& c : cases) {
    CertificateSigningRequest csr;
    csr.metadata.creation_timestamp = at(c.age);
    for (const auto& [type, age] : c.conditions) {
      csr.status.conditions.push_back({type, "True", "", "", at(age), at(age)});
    }
    EXPECT_EQ(ShouldClean(csr, now), c.clean) << c.name;
  }
}

}  // namespace
}  // namespace kpp::controllers::certificates
