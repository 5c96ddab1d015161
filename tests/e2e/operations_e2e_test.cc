// API server operations as an operator meets them: /metrics through kubectl, the -v=2 request
// log, gzip for large answers, and the body-size limit.
#include <gtest/gtest.h>

#include <string>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;
using testing::ProcessResult;
using testing::RunProcess;

class OperationsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start({"--v=2"})); }

  ProcessResult Kubectl(const std::vector<std::string>& args, const std::string& minor = "") {
    return server_.Kubectl(args, minor);
  }

  // curl with the admin certificate; `extra` goes before the URL.
  ProcessResult Curl(const std::string& path, const std::vector<std::string>& extra) {
    const std::string tls = server_.data_dir() + "/tls/";
    std::vector<std::string> argv = {
        "curl",         "-sS",    "--max-time",      "60",    "--cacert",
        tls + "ca.crt", "--cert", tls + "admin.crt", "--key", tls + "admin.key"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://127.0.0.1:" + std::to_string(server_.port()) + path);
    return RunProcess(argv, 90s);
  }

  KppServer server_;
};

TEST_F(OperationsE2eTest, KubectlReadsMetricsAndRequestsAreLoggedAtV2) {
  for (const auto& minor : {std::string("1.27"), std::string("")}) {
    if (!minor.empty() && testing::KubectlPath(minor).empty()) continue;
    auto pods = Kubectl({"get", "pods"}, minor);
    ASSERT_EQ(pods.exit_code, 0) << pods.err;
    auto metrics = Kubectl({"get", "--raw", "/metrics"}, minor);
    ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
    EXPECT_NE(metrics.out.find("# TYPE apiserver_request_total counter"), std::string::npos);
    EXPECT_NE(metrics.out.find("apiserver_request_total{code=\"200\",component=\"apiserver\","
                               "dry_run=\"\",group=\"\",resource=\"pods\",scope=\"namespace\","
                               "subresource=\"\",verb=\"LIST\",version=\"v1\"}"),
              std::string::npos)
        << metrics.out.substr(0, 4000);
    EXPECT_NE(metrics.out.find("apiserver_request_duration_seconds_bucket{component=\"apiserver\","
                               "dry_run=\"\",group=\"\",resource=\"pods\",scope=\"namespace\","
                               "subresource=\"\",verb=\"LIST\",version=\"v1\",le=\"0.005\"}"),
              std::string::npos);
    EXPECT_NE(metrics.out.find("\nprocess_resident_memory_bytes "), std::string::npos);
    EXPECT_NE(metrics.out.find("\nprocess_start_time_seconds "), std::string::npos);
  }
  const std::string logs = server_.Logs();
  EXPECT_NE(logs.find("\"HTTP\" verb=\"LIST\" URI=\"/api/v1/namespaces/default/pods?limit=500\" "
                      "latency="),
            std::string::npos)
      << logs;
  EXPECT_NE(logs.find("userAgent=\"kubectl"), std::string::npos);
  EXPECT_NE(logs.find("srcIP=\"127.0.0.1:"), std::string::npos);
  EXPECT_NE(logs.find("\"HTTP\" verb=\"GET\" URI=\"/metrics\""), std::string::npos);
}

TEST_F(OperationsE2eTest, LargeAnswersAreGzippedOnlyWhenAsked) {
  auto gzipped = Curl("/openapi/v2", {"--compressed", "-D", "/dev/stderr", "-o", "/dev/null"});
  ASSERT_EQ(gzipped.exit_code, 0) << gzipped.err;
  EXPECT_NE(gzipped.err.find("Content-Encoding: gzip"), std::string::npos) << gzipped.err;
  auto plain = Curl("/openapi/v2", {"-D", "/dev/stderr", "-o", "/dev/null"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err.find("Content-Encoding"), std::string::npos) << plain.err;
  auto small = Curl("/version", {"--compressed", "-D", "/dev/stderr", "-o", "/dev/null"});
  EXPECT_EQ(small.err.find("Content-Encoding"), std::string::npos) << small.err;
  // kubectl's Go transport asks for gzip by itself and unpacks it.
  auto explain = Kubectl({"explain", "deployment.spec.strategy"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_NE(explain.out.find("rollingUpdate"), std::string::npos);
  auto many = Kubectl({"get", "--raw", "/openapi/v2"});
  ASSERT_EQ(many.exit_code, 0) << many.err;
  EXPECT_TRUE(many.out.starts_with("{")) << many.out.substr(0, 100);
}

TEST_F(OperationsE2eTest, OversizedBodiesGetUpstreamsStatus) {
  const std::string data(4 * 1024 * 1024, 'x');
  const std::string manifest =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: " + data + "\n";
  const std::string file = server_.WriteFile("huge.yaml", manifest);
  auto created = Kubectl({"create", "-f", file, "--validate=false"});
  EXPECT_NE(created.exit_code, 0);
  EXPECT_NE(created.err.find("Request entity too large: limit is 3145728"), std::string::npos)
      << created.err;
  auto raw = Curl("/api/v1/namespaces/default/configmaps",
                  {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                   "@" + file, "-w", "\n%{http_code}"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_NE(raw.out.find("\"reason\":\"RequestEntityTooLarge\""), std::string::npos) << raw.out;
  EXPECT_TRUE(raw.out.ends_with("\n413")) << raw.out;
  auto missing = Kubectl({"get", "configmap", "huge"});
  EXPECT_NE(missing.exit_code, 0);
  // The server still serves after refusing.
  auto pods = Kubectl({"get", "pods"});
  EXPECT_EQ(pods.exit_code, 0) << pods.err;
}

}  // namespace
}  // namespace kpp
