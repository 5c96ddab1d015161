// ResourceQuota through the real kubectl (1.27 and 1.33): the controller fills a new quota's
// status, admission refuses what would exceed it with upstream's messages, `kubectl describe
// quota` shows used/hard, and deleting a pod gives its share back.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"

namespace kpp {
namespace {

std::string PodYaml(const std::string& name, const std::string& resources) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\nspec:\n  containers:\n  - name: c\n    image: nginx\n" + resources;
}

constexpr std::string_view kSmall = "    resources:\n      requests:\n        cpu: 100m\n";

class QuotaE2ETest : public testing::KubectlE2ETest {
 protected:
  // Waits (up to 5 s) until `predicate` holds.
  template <typename Predicate>
  bool Eventually(Predicate predicate) {
    return testing::Eventually(predicate, std::chrono::seconds(5), std::chrono::milliseconds(100));
  }
  testing::ProcessResult CreatePod(const std::string& ns, const std::string& name,
                                   const std::string& resources, const std::string& minor) {
    return Kubectl({"create", "-n", ns, "-f",
                    server_.WriteFile(ns + "-" + name + ".yaml", PodYaml(name, resources))},
                   minor);
  }
};

TEST_F(QuotaE2ETest, QuotaRefusesWhatExceedsItAndDeletionFreesIt) {
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    const std::string ns = minor == "1.27" ? "quota-a" : "quota-b";
    MustRun({"create", "namespace", ns}, minor);
    MustRun({"create", "quota", "q", "-n", ns, "--hard=pods=2,requests.cpu=1"}, minor);
    ASSERT_TRUE(Eventually([&] {
      auto result = Kubectl({"get", "quota", "q", "-n", ns, "-o", "json"}, minor);
      if (result.exit_code != 0) return false;
      const auto quota = boost::json::parse(result.out);
      const auto* status = quota.as_object().if_contains("status");
      return status != nullptr && status->as_object().contains("used");
    })) << "the controller never filled the status";

    auto unspecified = CreatePod(ns, "bare", "", minor);
    EXPECT_NE(unspecified.exit_code, 0);
    EXPECT_NE(unspecified.err.find("pods \"bare\" is forbidden: failed quota: q: must specify "
                                   "requests.cpu for: c"),
              std::string::npos)
        << unspecified.err;

    ASSERT_EQ(CreatePod(ns, "a", std::string(kSmall), minor).exit_code, 0);
    ASSERT_EQ(CreatePod(ns, "b", std::string(kSmall), minor).exit_code, 0);
    auto refused = CreatePod(ns, "c", std::string(kSmall), minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("pods \"c\" is forbidden: exceeded quota: q, requested: pods=1, "
                               "used: pods=2, limited: pods=2"),
              std::string::npos)
        << refused.err;

    auto described = Kubectl({"describe", "quota", "q", "-n", ns}, minor);
    ASSERT_EQ(described.exit_code, 0) << described.err;
    EXPECT_NE(described.out.find("Resource      Used  Hard"), std::string::npos) << described.out;
    EXPECT_NE(described.out.find("pods          2     2"), std::string::npos) << described.out;
    EXPECT_NE(described.out.find("requests.cpu  200m  1"), std::string::npos) << described.out;

    MustRun({"delete", "pod", "a", "-n", ns, "--grace-period=0", "--force"}, minor);
    EXPECT_TRUE(Eventually([&] {
      return CreatePod(ns, "c", std::string(kSmall), minor).exit_code == 0;
    })) << "the deleted pod's share never came back";
  }
}

TEST_F(QuotaE2ETest, ParallelCreatesNeverExceedTheQuota) {
  MustRun({"create", "quota", "three", "--hard=pods=3"});
  ASSERT_TRUE(Eventually([&] {
    return Kubectl({"get", "quota", "three", "-o", "jsonpath={.status.used.pods}"}).out == "0";
  }));
  std::vector<std::string> files;
  for (int i = 0; i < 8; ++i) {
    const std::string name = "racer-" + std::to_string(i);
    files.push_back(server_.WriteFile(name + ".yaml", PodYaml(name, "")));
  }
  std::atomic<int> created = 0;
  std::vector<std::thread> threads;
  for (const auto& file : files) {
    threads.emplace_back([&, file] {
      if (Kubectl({"create", "-f", file}).exit_code == 0) ++created;
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(created.load(), 3);
  EXPECT_EQ(Kubectl({"get", "quota", "three", "-o", "jsonpath={.status.used.pods}"}).out, "3");
}

TEST_F(QuotaE2ETest, ANewQuotasStatusIsTheControllers) {
  MustRun({"create", "-f", server_.WriteFile("fake.json", R"({"apiVersion":"v1",
      "kind":"ResourceQuota","metadata":{"name":"fake"},"spec":{"hard":{"pods":"5"}},
      "status":{"hard":{"pods":"100"},"used":{"pods":"0"}}})")});
  EXPECT_NE(Kubectl({"get", "quota", "fake", "-o", "jsonpath={.status.hard.pods}"}).out, "100");
  EXPECT_TRUE(Eventually([&] {
    return Kubectl({"get", "quota", "fake", "-o", "jsonpath={.status.hard.pods}"}).out == "5";
  }));
}

TEST_F(QuotaE2ETest, ObjectCountsAndServices) {
  MustRun({"create", "quota", "counts", "--hard=count/configmaps=2,services.nodeports=1"});
  ASSERT_TRUE(Eventually([&] {
    return Kubectl({"get", "quota", "counts", "-o", "jsonpath={.status.used}"})
               .out.find("count/configmaps") != std::string::npos;
  }));
  // kube-root-ca.crt is the first config map.
  MustRun({"create", "configmap", "one"});
  auto refused = Kubectl({"create", "configmap", "two"});
  EXPECT_NE(refused.err.find("configmaps \"two\" is forbidden: exceeded quota: counts, requested: "
                             "count/configmaps=1, used: count/configmaps=2, limited: "
                             "count/configmaps=2"),
            std::string::npos)
      << refused.err;
  MustRun({"create", "service", "nodeport", "np", "--tcp=80:80"});
  refused = Kubectl({"create", "service", "nodeport", "np2", "--tcp=80:80"});
  EXPECT_NE(refused.err.find("services \"np2\" is forbidden: exceeded quota: counts, requested: "
                             "services.nodeports=1, used: services.nodeports=1, limited: "
                             "services.nodeports=1"),
            std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace kpp
