// The base of e2e tests that drive the real kubectl against a kpp server started for each test:
// the kubectl calls those tests share.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "support/kpp_server_fixture.h"

namespace kpp::testing {

// The kubectl versions these tests run: the oldest and the newest supported.
inline const std::vector<std::string> kOldestAndNewestKubectl = {"1.27", "1.33"};

class KubectlE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& minor : kOldestAndNewestKubectl) {
      ASSERT_FALSE(KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
    ASSERT_TRUE(server_.Start());
  }

  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") {
    return server_.Kubectl(args, minor);
  }

  void MustRun(const std::vector<std::string>& args, const std::string& minor = "") {
    auto result = Kubectl(args, minor);
    ASSERT_EQ(result.exit_code, 0) << minor << ": " << result.err;
  }

  // `kubectl get <args> -o json`, parsed; null (and a failure) when kubectl fails.
  boost::json::value GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), {"-o", "json"});
    auto result = Kubectl(full);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? boost::json::parse(result.out) : boost::json::value();
  }

  bool Exists(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"get"};
    full.insert(full.end(), args.begin(), args.end());
    return Kubectl(full).exit_code == 0;
  }

  KppServer server_;
};

}  // namespace kpp::testing
