// The usage a hollow node reports to metrics.k8s.io: flags per container, pod annotations first.
#include "hollownodes/usage.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace kpp::hollownodes {
namespace {

namespace v1 = api::core::v1;

std::shared_ptr<const v1::Pod> MakePod(const std::string& name, int containers,
                                       std::map<std::string, std::string> annotations = {}) {
  v1::Pod pod;
  pod.metadata.name = name;
  pod.metadata.namespace_ = "default";
  pod.metadata.labels = {{"app", "web"}};
  pod.metadata.annotations = std::move(annotations);
  for (int i = 0; i < containers; ++i) {
    v1::Container container;
    container.name = "c" + std::to_string(i);
    pod.spec.containers.push_back(container);
  }
  return std::make_shared<const v1::Pod>(std::move(pod));
}

TEST(UsageReportTest, FlagsPerContainerAnnotationsOverrideAndNodeSums) {
  const auto report = boost::json::parse(
      UsageReport("hollow-0", {{"zone", "a"}},
                  {MakePod("a", 2),
                   MakePod("b", 1, {{kCpuUsageAnnotation, "10m"}, {kMemoryUsageAnnotation, "1Gi"}}),
                   MakePod("c", 1, {{kCpuUsageAnnotation, "not-a-quantity"}})},
                  {.cpu = "250m", .memory = "64Mi"}, api::Time::FromUnixSeconds(1'700'000'000),
                  std::chrono::seconds(15)));
  const auto& node = report.at("node");
  EXPECT_EQ(node.at("metadata").at("name"), "hollow-0");
  EXPECT_EQ(node.at("metadata").at("labels").at("zone"), "a");
  EXPECT_EQ(node.at("window"), "15s");
  EXPECT_EQ(node.at("timestamp"), "2023-11-14T22:13:20Z");
  // 2 x 250m + 10m + 250m; 3 x 64Mi + 1Gi.
  EXPECT_EQ(node.at("usage").at("cpu"), "760m");
  EXPECT_EQ(node.at("usage").at("memory"), "1216Mi");
  const auto& pods = report.at("pods").as_array();
  ASSERT_EQ(pods.size(), 3u);
  EXPECT_EQ(pods[0].at("metadata").at("labels").at("app"), "web");
  EXPECT_EQ(pods[0].at("containers").as_array().size(), 2u);
  EXPECT_EQ(pods[0].at("containers").at(1).at("usage").at("cpu"), "250m");
  EXPECT_EQ(pods[1].at("containers").at(0).at("usage").at("cpu"), "10m");
  EXPECT_EQ(pods[1].at("containers").at(0).at("usage").at("memory"), "1Gi");
  EXPECT_EQ(pods[2].at("containers").at(0).at("usage").at("cpu"), "250m");
}

}  // namespace
}  // namespace kpp::hollownodes
