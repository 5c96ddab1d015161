// Static token authentication (--token-auth-file) and `kubectl auth whoami` through the real
// kubectl (1.27 asks SelfSubjectReview v1beta1, 1.33 asks v1), with kubeconfigs that carry a
// bearer token instead of the admin client certificate.
#include <gtest/gtest.h>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;

const std::vector<std::string> kKubectls = {"1.27", "1.33"};

class AuthenticationE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& minor : kKubectls) {
      ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
    const std::string tokens = server_.WriteFile(
        "tokens.csv", "good-token,alice,uid-42,\"developers,testers\"\nplain-token,bob,7\n");
    ASSERT_TRUE(server_.Start({"--token-auth-file", tokens}));
    // Authentication alone grants nothing: alice's group may read, as `view` allows.
    auto bound = server_.Kubectl({"create", "clusterrolebinding", "developers-view",
                                  "--clusterrole=view", "--group=developers"});
    ASSERT_EQ(bound.exit_code, 0) << bound.err;
  }

  KppServer server_;
};

TEST_F(AuthenticationE2ETest, GoodTokenIsServedAndBadTokenIsUnauthorized) {
  const std::string good = server_.TokenKubeconfig("good-token");
  const std::string bad = server_.TokenKubeconfig("wrong-token");
  for (const auto& minor : kKubectls) {
    auto namespaces = server_.KubectlAs(good, {"get", "ns", "-o", "name"}, minor);
    EXPECT_EQ(namespaces.exit_code, 0) << minor << ": " << namespaces.err;
    EXPECT_NE(namespaces.out.find("namespace/default"), std::string::npos) << namespaces.out;

    auto refused = server_.KubectlAs(bad, {"get", "ns"}, minor);
    EXPECT_NE(refused.exit_code, 0) << minor;
    EXPECT_EQ(refused.err, "error: You must be logged in to the server (Unauthorized)\n") << minor;
  }
}

TEST_F(AuthenticationE2ETest, WhoamiShowsTheTokenUser) {
  const std::string alice = server_.TokenKubeconfig("good-token");
  const std::string bob = server_.TokenKubeconfig("plain-token");
  for (const auto& minor : kKubectls) {
    auto table = server_.KubectlAs(alice, {"auth", "whoami"}, minor);
    EXPECT_EQ(table.exit_code, 0) << minor << ": " << table.err;
    EXPECT_EQ(table.out,
              "ATTRIBUTE   VALUE\n"
              "Username    alice\n"
              "UID         uid-42\n"
              "Groups      [developers testers system:authenticated]\n")
        << minor;

    auto plain = server_.KubectlAs(bob, {"auth", "whoami"}, minor);
    EXPECT_EQ(plain.out,
              "ATTRIBUTE   VALUE\n"
              "Username    bob\n"
              "UID         7\n"
              "Groups      [system:authenticated]\n")
        << minor << ": " << plain.err;

    auto json = server_.KubectlAs(alice,
                                  {"auth", "whoami", "-o",
                                   "jsonpath={.kind} {.apiVersion} "
                                   "{.status.userInfo.username} {.status.userInfo.groups}"},
                                  minor);
    EXPECT_EQ(json.out, "SelfSubjectReview authentication.k8s.io/" +
                            std::string(minor == "1.27" ? "v1beta1" : "v1") +
                            " alice [\"developers\",\"testers\",\"system:authenticated\"]")
        << minor << ": " << json.err;
  }
}

TEST_F(AuthenticationE2ETest, WhoamiShowsTheCertificateUser) {
  for (const auto& minor : kKubectls) {
    auto table = server_.Kubectl({"auth", "whoami"}, minor);
    EXPECT_EQ(table.exit_code, 0) << minor << ": " << table.err;
    EXPECT_EQ(table.out,
              "ATTRIBUTE   VALUE\n"
              "Username    kpp-admin\n"
              "Groups      [system:masters system:authenticated]\n")
        << minor;
  }
}

TEST_F(AuthenticationE2ETest, SelfSubjectReviewsAreAnsweredNeverListed) {
  const std::string alice = server_.TokenKubeconfig("good-token");
  ASSERT_EQ(server_.KubectlAs(alice, {"auth", "whoami"}, "1.33").exit_code, 0);
  auto list = server_.Kubectl({"get", "--raw", "/apis/authentication.k8s.io/v1/selfsubjectreviews"},
                              "1.33");
  EXPECT_NE(list.exit_code, 0);
  EXPECT_NE(list.err.find("MethodNotAllowed"), std::string::npos) << list.err;
}

}  // namespace
}  // namespace kpp
