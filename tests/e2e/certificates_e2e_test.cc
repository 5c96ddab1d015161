// CertificateSigningRequests through the real kubectl (1.27 and 1.33) and openssl: a user's
// client certificate requested, approved with `kubectl certificate approve`, signed by the
// controller manager's csrsigning with the cluster CA and used to authenticate; a kubelet client
// CSR from a bootstrap token auto-approved by csrapproving; approving without `approve` on the
// signer refused by the CertificateApproval admission plugin; upstream's validation messages.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/encoding.h"
#include "e2e/kubectl_e2e_test.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::kOldestAndNewestKubectl;
using testing::ProcessResult;

class CertificatesE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    server_.set_scheduler(false);
    KubectlE2ETest::SetUp();
  }

  // A new key and a CSR (PEM) for `subject` ("/CN=myuser/O=dev"), made by openssl.
  std::pair<std::string, std::string> OpensslRequest(const std::string& name,
                                                     const std::string& subject) {
    const std::string key = server_.root_dir() + "/" + name + ".key";
    const std::string request = server_.root_dir() + "/" + name + ".csr";
    auto made = testing::RunProcess({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                                     "-subj", subject, "-out", request});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return {ReadAll(key), ReadAll(request)};
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string CsrManifest(const std::string& name, const std::string& request_pem,
                          const std::string& signer, const std::string& usages,
                          const std::string& extra = "") {
    return server_.WriteFile(name + ".yaml",
                             "apiVersion: certificates.k8s.io/v1\n"
                             "kind: CertificateSigningRequest\n"
                             "metadata:\n  name: " +
                                 name +
                                 "\n"
                                 "spec:\n  request: " +
                                 Base64Encode(request_pem) + "\n  signerName: " + signer +
                                 "\n  usages: " + usages + "\n" + extra);
  }

  // The admin kubeconfig with its user replaced.
  std::string KubeconfigWithUser(const std::string& name, const std::string& user_lines) {
    std::ifstream admin(server_.kubeconfig_path());
    std::stringstream config;
    std::string line;
    while (std::getline(admin, line) && line != "users:")
      config << line << "\n";
    config << "users:\n- name: default\n  user:\n" << user_lines;
    return server_.WriteFile(name + "-kubeconfig.yaml", config.str());
  }

  std::string CertificateKubeconfig(const std::string& name, const std::string& certificate_pem,
                                    const std::string& key_pem) {
    return KubeconfigWithUser(name,
                              "    client-certificate-data: " + Base64Encode(certificate_pem) +
                                  "\n    client-key-data: " + Base64Encode(key_pem) + "\n");
  }

  ProcessResult As(const std::string& kubeconfig, std::vector<std::string> args,
                   const std::string& minor = "") {
    args.insert(args.begin(), {"--kubeconfig", kubeconfig});
    return Kubectl(args, minor);
  }

  // The issued certificate (PEM) of CSR `name`, once csrsigning wrote it (up to 20 s).
  std::string WaitForCertificate(const std::string& name) {
    for (int i = 0; i < 200; ++i) {
      auto result = Kubectl({"get", "csr", name, "-o", "jsonpath={.status.certificate}"});
      if (result.exit_code == 0 && !result.out.empty()) {
        auto pem = Base64Decode(result.out);
        return pem.ok() ? *pem : "";
      }
      std::this_thread::sleep_for(100ms);
    }
    return "";
  }

  // A client certificate kubeconfig for `user` in `group`, through a CSR the admin approves.
  std::string UserKubeconfig(const std::string& user, const std::string& group) {
    auto [key, request] = OpensslRequest(user, "/CN=" + user + "/O=" + group);
    MustRun({"create", "-f",
             CsrManifest(user, request, "kubernetes.io/kube-apiserver-client", "[client auth]")});
    MustRun({"certificate", "approve", user});
    const std::string certificate = WaitForCertificate(user);
    EXPECT_FALSE(certificate.empty());
    return CertificateKubeconfig(user, certificate, key);
  }
};

TEST_F(CertificatesE2ETest, ApprovedClientCertificateAuthenticatesItsUser) {
  auto [key, request] = OpensslRequest("myuser", "/CN=myuser/O=dev");
  MustRun({"create", "-f",
           CsrManifest("myuser", request, "kubernetes.io/kube-apiserver-client", "[client auth]",
                       "  expirationSeconds: 86400\n")});
  auto listed = Kubectl({"get", "csr"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::istringstream lines(listed.out);
  std::string header;
  std::string row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_TRUE(
      header.starts_with("NAME     AGE   SIGNERNAME                            REQUESTOR   "
                         "REQUESTEDDURATION   CONDITION"))
      << listed.out;
  EXPECT_NE(row.find("kubernetes.io/kube-apiserver-client   kpp-admin   24h                 "
                     "Pending"),
            std::string::npos)
      << listed.out;
  // The requestor is the creating user, whatever the request said.
  auto created = GetJson({"csr", "myuser"});
  EXPECT_EQ(created.at("spec").at("username"), "kpp-admin");

  for (const auto& minor : kOldestAndNewestKubectl) {
    auto approved = Kubectl({"certificate", "approve", "myuser"}, minor);
    EXPECT_EQ(approved.exit_code, 0) << minor << ": " << approved.err;
    EXPECT_EQ(approved.out, "certificatesigningrequest.certificates.k8s.io/myuser approved\n")
        << minor;
  }
  const std::string certificate = WaitForCertificate("myuser");
  ASSERT_FALSE(certificate.empty()) << server_.Logs();
  auto csr = GetJson({"csr", "myuser"});
  const auto& condition = csr.at("status").at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "Approved");
  EXPECT_EQ(condition.at("reason"), "KubectlApprove");
  EXPECT_FALSE(condition.at("lastUpdateTime").as_string().empty());
  EXPECT_NE(Kubectl({"get", "csr", "myuser"}).out.find("Approved,Issued"), std::string::npos);

  const std::string kubeconfig = CertificateKubeconfig("myuser", certificate, key);
  for (const auto& minor : kOldestAndNewestKubectl) {
    auto whoami = As(kubeconfig, {"auth", "whoami"}, minor);
    EXPECT_EQ(whoami.exit_code, 0) << minor << ": " << whoami.err;
    EXPECT_EQ(whoami.out,
              "ATTRIBUTE   VALUE\n"
              "Username    myuser\n"
              "Groups      [dev system:authenticated]\n")
        << minor;
  }

  // Once approved, the decision stays; the certificate cannot be replaced.
  // (kubectl refuses to deny it by itself; the server refuses too.)
  auto both = GetJson({"csr", "myuser"});
  both.at("status")
      .at("conditions")
      .as_array()
      .push_back(boost::json::parse(R"({"type":"Denied","status":"True","reason":"Changed"})"));
  auto deny = Kubectl({"replace", "--raw",
                       "/apis/certificates.k8s.io/v1/certificatesigningrequests/myuser/approval",
                       "-f", server_.WriteFile("both.json", boost::json::serialize(both))});
  EXPECT_NE(deny.exit_code, 0);
  EXPECT_NE(deny.err.find("Approved and Denied conditions are mutually exclusive"),
            std::string::npos)
      << deny.err;
  // Removing the approval is refused as well.
  auto removed = GetJson({"csr", "myuser"});
  removed.at("status").at("conditions").as_array().clear();
  auto remove = Kubectl({"replace", "--raw",
                         "/apis/certificates.k8s.io/v1/certificatesigningrequests/myuser/approval",
                         "-f", server_.WriteFile("removed.json", boost::json::serialize(removed))});
  EXPECT_NE(remove.err.find("updates may not remove a condition of type \"Approved\""),
            std::string::npos)
      << remove.err;
}

TEST_F(CertificatesE2ETest, DeniedRequestIsNeverSigned) {
  auto [key, request] = OpensslRequest("nobody", "/CN=nobody");
  MustRun({"create", "-f",
           CsrManifest("nobody", request, "kubernetes.io/kube-apiserver-client", "[client auth]")});
  auto denied = Kubectl({"certificate", "deny", "nobody"});
  EXPECT_EQ(denied.exit_code, 0) << denied.err;
  EXPECT_EQ(denied.out, "certificatesigningrequest.certificates.k8s.io/nobody denied\n");
  std::this_thread::sleep_for(1s);
  auto csr = GetJson({"csr", "nobody"});
  EXPECT_FALSE(csr.at("status").as_object().contains("certificate"));
  EXPECT_NE(Kubectl({"get", "csr", "nobody"}).out.find("Denied"), std::string::npos);
}

TEST_F(CertificatesE2ETest, KubeletClientCsrFromBootstrapTokenIsAutoApprovedAndSigned) {
  MustRun({"create", "secret", "generic", "bootstrap-token-abcdef", "-n", "kube-system", "--type",
           "bootstrap.kubernetes.io/token", "--from-literal", "token-id=abcdef", "--from-literal",
           "token-secret=0123456789abcdef", "--from-literal", "usage-bootstrap-authentication=true",
           "--from-literal", "expiration=2099-01-01T00:00:00Z"});
  // What kubeadm binds for joining nodes.
  MustRun({"create", "clusterrolebinding", "kubeadm:kubelet-bootstrap", "--clusterrole",
           "system:node-bootstrapper", "--group", "system:bootstrappers"});
  MustRun({"create", "clusterrolebinding", "kubeadm:node-autoapprove-bootstrap", "--clusterrole",
           "system:certificates.k8s.io:certificatesigningrequests:nodeclient", "--group",
           "system:bootstrappers"});
  const std::string bootstrap =
      KubeconfigWithUser("bootstrap", "    token: abcdef.0123456789abcdef\n");
  auto [key, request] = OpensslRequest("node-1", "/O=system:nodes/CN=system:node:node-1");
  const std::string manifest =
      CsrManifest("node-csr-1", request, "kubernetes.io/kube-apiserver-client-kubelet",
                  "[digital signature, key encipherment, client auth]");
  auto created = As(bootstrap, {"create", "-f", manifest});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string certificate = WaitForCertificate("node-csr-1");
  ASSERT_FALSE(certificate.empty()) << server_.Logs();
  auto csr = GetJson({"csr", "node-csr-1"});
  EXPECT_EQ(csr.at("spec").at("username"), "system:bootstrap:abcdef");
  const auto& condition = csr.at("status").at("conditions").at(0);
  EXPECT_EQ(condition.at("type"), "Approved");
  EXPECT_EQ(condition.at("reason"), "AutoApproved");
  EXPECT_EQ(condition.at("message"),
            "Auto approving kubelet client certificate after SubjectAccessReview.");
  // The node's new certificate makes it system:node:node-1 in system:nodes.
  auto whoami = As(CertificateKubeconfig("node-1", certificate, key), {"auth", "whoami"});
  EXPECT_EQ(whoami.exit_code, 0) << whoami.err;
  EXPECT_EQ(whoami.out,
            "ATTRIBUTE   VALUE\n"
            "Username    system:node:node-1\n"
            "Groups      [system:nodes system:authenticated]\n");

  // A user's CSR is not a kubelet's: csrapproving leaves it pending.
  auto [other_key, other_request] = OpensslRequest("sneaky", "/O=system:nodes/CN=alice");
  ASSERT_EQ(As(bootstrap,
               {"create", "-f",
                CsrManifest("sneaky", other_request, "kubernetes.io/kube-apiserver-client-kubelet",
                            "[digital signature, key encipherment, client auth]")})
                .exit_code,
            0);
  std::this_thread::sleep_for(1s);
  auto sneaky = GetJson({"csr", "sneaky"});
  EXPECT_FALSE(sneaky.at("status").as_object().contains("conditions"));
}

TEST_F(CertificatesE2ETest, ApprovingNeedsApproveOnTheSigner) {
  const std::string bob = UserKubeconfig("bob", "reviewers");
  MustRun({"apply", "-f", server_.WriteFile("roles.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: csr-reviewer}
rules:
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: csr-approval-writer}
rules:
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: client-signer-approver}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/kube-apiserver-client]
  verbs: [approve]
)")});
  MustRun({"create", "clusterrolebinding", "bob-reviews", "--clusterrole", "csr-reviewer", "--user",
           "bob"});
  auto [key, request] = OpensslRequest("other", "/CN=other");
  MustRun({"create", "-f",
           CsrManifest("other", request, "kubernetes.io/kube-apiserver-client", "[client auth]")});
  // Without update on the approval subresource: RBAC refuses.
  auto refused = As(bob, {"certificate", "approve", "other"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("User \"bob\" cannot update resource "
                             "\"certificatesigningrequests/approval\""),
            std::string::npos)
      << refused.err;
  // With it but without approve on the signer: the CertificateApproval plugin refuses.
  MustRun({"create", "clusterrolebinding", "bob-approval", "--clusterrole", "csr-approval-writer",
           "--user", "bob"});
  for (const auto& minor : kOldestAndNewestKubectl) {
    auto forbidden = As(bob, {"certificate", "approve", "other"}, minor);
    EXPECT_NE(forbidden.exit_code, 0) << minor;
    EXPECT_NE(forbidden.err.find("certificatesigningrequests.certificates.k8s.io \"other\" is "
                                 "forbidden: user not permitted to approve requests with "
                                 "signerName \"kubernetes.io/kube-apiserver-client\""),
              std::string::npos)
        << minor << ": " << forbidden.err;
  }
  // Granted approve on that signer (by name), bob can.
  MustRun({"create", "clusterrolebinding", "bob-approves", "--clusterrole",
           "client-signer-approver", "--user", "bob"});
  auto approved = As(bob, {"certificate", "approve", "other"});
  EXPECT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_FALSE(WaitForCertificate("other").empty());
}

TEST_F(CertificatesE2ETest, ValidationAsUpstream) {
  auto [key, request] = OpensslRequest("short", "/CN=short");
  auto too_short = Kubectl({"create", "-f",
                            CsrManifest("short", request, "kubernetes.io/kube-apiserver-client",
                                        "[client auth]", "  expirationSeconds: 100\n")});
  EXPECT_NE(too_short.exit_code, 0);
  EXPECT_NE(too_short.err.find("spec.expirationSeconds: Invalid value: 100: may not specify a "
                               "duration less than 600 seconds (10 minutes)"),
            std::string::npos)
      << too_short.err;
  auto bad_signer =
      Kubectl({"create", "-f", CsrManifest("badsigner", request, "nodomain", "[client auth]")});
  EXPECT_NE(bad_signer.err.find("spec.signerName: Invalid value: \"nodomain\": must be a fully "
                                "qualified domain and path of the form 'example.com/signer-name'"),
            std::string::npos)
      << bad_signer.err;
  auto not_a_request = Kubectl(
      {"create", "-f", CsrManifest("garbage", "hello", "example.com/signer", "[client auth]")});
  EXPECT_NE(not_a_request.err.find("PEM block type must be CERTIFICATE REQUEST"), std::string::npos)
      << not_a_request.err;
  // kube-apiserver-client certificates for system:masters are refused outright.
  auto [masters_key, masters_request] = OpensslRequest("root", "/CN=root/O=system:masters");
  auto masters = Kubectl({"create", "-f",
                          CsrManifest("root", masters_request,
                                      "kubernetes.io/kube-apiserver-client", "[client auth]")});
  EXPECT_NE(masters.err.find("use of kubernetes.io/kube-apiserver-client signer with "
                             "system:masters group is not allowed"),
            std::string::npos)
      << masters.err;
}

}  // namespace
}  // namespace kpp
