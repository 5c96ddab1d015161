// Admission webhooks through the real kubectl (1.27 and 1.33) with a test webhook server over
// HTTPS (tests/e2e/webhook/webhook_server.py, a certificate from a test CA): a mutating webhook
// labels pods and its warning reaches kubectl, a validating one refuses with upstream's message,
// and an unreachable webhook lets requests through with failurePolicy Ignore and refuses them
// with Fail.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/encoding.h"
#include "e2e/kubectl_e2e_test.h"
#include "pki/certificates.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

class WebhookE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    KubectlE2ETest::SetUp();
    auto ca = pki::GenerateCa("webhook-test-ca", std::chrono::hours(24));
    ASSERT_TRUE(ca.ok());
    pki::CertificateRequest request;
    request.common_name = "webhook";
    request.ip_addresses = {"127.0.0.1"};
    request.dns_names = {"hook.default.svc"};
    auto serving = pki::IssueCertificate(*ca, request);
    ASSERT_TRUE(serving.ok());
    ca_pem_ = ca->certificate_pem;
    const std::string cert = server_.WriteFile("webhook.crt", serving->certificate_pem);
    const std::string key = server_.WriteFile("webhook.key", serving->private_key_pem);
    const std::string port_file = server_.root_dir() + "/webhook.port";
    std::string error;
    ASSERT_TRUE(
        webhook_.Start({"/usr/bin/python3", KPP_SOURCE_DIR "/tests/e2e/webhook/webhook_server.py",
                        cert, key, port_file},
                       server_.root_dir(), &error))
        << error;
    for (int i = 0; i < 100 && !std::filesystem::exists(port_file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream in(port_file);
    ASSERT_TRUE(in >> port_) << webhook_.Stderr();
  }

  std::string Configuration(std::string_view kind, std::string_view name, std::string_view url,
                            std::string_view resource, std::string_view extra = "") {
    return fmt::format(R"({{"apiVersion":"admissionregistration.k8s.io/v1","kind":"{}",
        "metadata":{{"name":"{}"}},
        "webhooks":[{{"name":"{}.example.com","admissionReviewVersions":["v1"],
          "sideEffects":"None","timeoutSeconds":5,
          "clientConfig":{{"url":"{}","caBundle":"{}"}},
          "rules":[{{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],
                    "resources":["{}"]}}]{}}}]}})",
                       kind, name, name, url, Base64Encode(ca_pem_), resource, extra);
  }
  void Apply(const std::string& name, const std::string& json) {
    MustRun({"apply", "-f", server_.WriteFile(name + ".json", json)});
  }
  std::string Url(std::string_view path) {
    return fmt::format("https://127.0.0.1:{}{}", port_, path);
  }

  std::string ca_pem_;
  testing::Process webhook_;
  int port_ = 0;
};

TEST_F(WebhookE2ETest, MutatingAndValidatingWebhooks) {
  Apply("label", Configuration("MutatingWebhookConfiguration", "label", Url("/label"), "pods"));
  Apply("deny", Configuration("ValidatingWebhookConfiguration", "deny", Url("/deny"), "pods",
                              R"(,"objectSelector":{"matchLabels":{"deny":"yes"}})"));
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    const std::string name = "web-" + minor.substr(2);
    auto created = Kubectl({"run", name, "--image=nginx"}, minor);
    ASSERT_EQ(created.exit_code, 0) << created.err;
    EXPECT_NE(created.err.find("Warning: labelled by the test webhook"), std::string::npos)
        << created.err;
    const auto pod = GetJson({"pod", name});
    EXPECT_EQ(pod.at("metadata").at("labels").at("webhook"), "mutated");
    EXPECT_EQ(pod.at("metadata").at("labels").at("run").as_string(), name);

    auto refused =
        Kubectl({"run", "deny-" + minor.substr(2), "--image=nginx", "--labels=deny=yes"}, minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("admission webhook \"deny.example.com\" denied the request: denied "
                               "by the test webhook"),
              std::string::npos)
        << refused.err;
  }
}

// kpp has no cluster IPs: a service reference goes to the service's endpoints, checked against
// the service's DNS name.
TEST_F(WebhookE2ETest, ServiceReferenceReachesTheServicesEndpoints) {
  Apply("service", R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"hook"},
      "spec":{"ports":[{"name":"https","port":443,"targetPort":8443}]}})");
  Apply("endpoints",
        fmt::format(R"({{"apiVersion":"v1","kind":"Endpoints","metadata":{{"name":"hook"}},
      "subsets":[{{"addresses":[{{"ip":"127.0.0.1"}}],"ports":[{{"name":"https","port":{}}}]}}]}})",
                    port_));
  Apply("by-service", fmt::format(R"({{"apiVersion":"admissionregistration.k8s.io/v1",
        "kind":"ValidatingWebhookConfiguration","metadata":{{"name":"by-service"}},
        "webhooks":[{{"name":"by-service.example.com","admissionReviewVersions":["v1"],
          "sideEffects":"None",
          "clientConfig":{{"service":{{"namespace":"default","name":"hook","path":"/deny"}},
                          "caBundle":"{}"}},
          "rules":[{{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],
                    "resources":["configmaps"]}}]}}]}})",
                                  Base64Encode(ca_pem_)));
  auto refused = Kubectl({"create", "configmap", "denied"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("admission webhook \"by-service.example.com\" denied the request: "
                             "denied by the test webhook"),
            std::string::npos)
      << refused.err;
}

TEST_F(WebhookE2ETest, FailurePolicyDecidesForAnUnreachableWebhook) {
  Apply("ignore",
        Configuration("ValidatingWebhookConfiguration", "ignore", "https://127.0.0.1:1/unreachable",
                      "configmaps", R"(,"failurePolicy":"Ignore")"));
  Apply("fail",
        Configuration("ValidatingWebhookConfiguration", "fail", "https://127.0.0.1:1/unreachable",
                      "secrets", R"(,"failurePolicy":"Fail")"));
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    const std::string suffix = minor.substr(2);
    MustRun({"create", "configmap", "passes-" + suffix}, minor);
    auto refused = Kubectl({"create", "secret", "generic", "refused-" + suffix}, minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("Internal error occurred: failed calling webhook "
                               "\"fail.example.com\": failed to call webhook: Post "
                               "\"https://127.0.0.1:1/unreachable?timeout=5s\""),
              std::string::npos)
        << refused.err;
  }
}

}  // namespace
}  // namespace kpp
