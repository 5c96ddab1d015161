// KubeSchedulerConfiguration files: profiles, plugins, pluginConfig, global settings, and
// invalid files refused naming the field.
#include "scheduler/config.h"

#include <gtest/gtest.h>

namespace kpp::scheduler {
namespace {

TEST(SchedulerConfig, ProfilesPluginsAndArgs) {
  auto config = ParseSchedulerConfiguration(R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
leaderElection:
  leaderElect: false
clientConnection:
  qps: 200
  burst: 400
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
- schedulerName: no-scoring
  percentageOfNodesToScore: 100
  plugins:
    score:
      disabled:
      - name: "*"
    filter:
      enabled:
      - name: NodeName
)");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->options.percentage_of_nodes_to_score, 30);
  EXPECT_EQ(config->options.pod_initial_backoff, std::chrono::seconds(2));
  EXPECT_EQ(config->options.pod_max_backoff, std::chrono::seconds(20));
  EXPECT_FALSE(config->leader_election.leader_elect);
  EXPECT_EQ(config->qps, 200);
  EXPECT_EQ(config->burst, 400);
  ASSERT_EQ(config->options.profiles.size(), 2u);
  EXPECT_TRUE(config->options.profiles[0].plugin_args.contains("NodeResourcesFit"));
  EXPECT_EQ(config->options.profiles[1].scheduler_name, "no-scoring");
  EXPECT_EQ(config->options.profiles[1].percentage_of_nodes_to_score, 100);
  EXPECT_EQ(config->options.profiles[1].plugins.at("score").disabled,
            std::vector<std::string>{"*"});
}

TEST(SchedulerConfig, DefaultsWithoutProfiles) {
  auto config = ParseSchedulerConfiguration(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_EQ(config->options.profiles.size(), 1u);
  EXPECT_EQ(config->options.profiles[0].scheduler_name, "default-scheduler");
  EXPECT_TRUE(config->leader_election.leader_elect);
  EXPECT_EQ(config->leader_election.resource_name, "kube-scheduler");
}

TEST(SchedulerConfig, InvalidFilesNameTheField) {
  const std::string head =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
  struct Case {
    std::string body;
    std::string wanted;
  };
  std::vector<Case> cases = {
      {"percentageOfNodesToScore: 101\n", "percentageOfNodesToScore: Invalid value: 101"},
      {"parallelism: 0\n", "parallelism: Invalid value: 0"},
      {"podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 1\n", "podMaxBackoffSeconds"},
      {"bogus: 1\n", "unknown field \"bogus\""},
      {"profiles:\n- schedulerName: a\n  foo: 1\n", "unknown field \"profiles[0].foo\""},
      {"profiles:\n- schedulerName: a\n- schedulerName: a\n",
       "profiles[1].schedulerName: Duplicate value: \"a\""},
      {"profiles:\n- plugins:\n    filters: {}\n", "unknown field \"profiles[0].plugins.filters\""},
      {"profiles:\n- plugins:\n    filter:\n      enabled:\n      - weight: 1\n",
       "profiles[0].plugins.filter.enabled[0].name: Required value"},
      {"leaderElection:\n  leaseDuration: 5s\n  renewDeadline: 10s\n",
       "leaderElection.leaseDuration"},
  };
  for (const auto& c : cases) {
    auto config = ParseSchedulerConfiguration(head + c.body);
    ASSERT_FALSE(config.ok()) << c.body;
    EXPECT_NE(config.error().message().find(c.wanted), std::string::npos)
        << c.body << " -> " << config.error().message();
  }
  auto wrong_version = ParseSchedulerConfiguration(
      "apiVersion: kubescheduler.config.k8s.io/v1beta2\nkind: KubeSchedulerConfiguration\n");
  ASSERT_FALSE(wrong_version.ok());
  EXPECT_NE(wrong_version.error().message().find("apiVersion"), std::string::npos);
}

}  // namespace
}  // namespace kpp::scheduler
