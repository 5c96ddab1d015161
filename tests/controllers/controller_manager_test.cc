#include "controllers/manager/controller_manager.h"

#include <gtest/gtest.h>

namespace kpp::controllers {
namespace {

TEST(EnabledControllersTest, StarNamesAndExclusionsAsUpstreamFlags) {
  struct Case {
    std::vector<std::string> flags;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {{"*"},
       {"cronjob",
        "csrapproving",
        "csrcleaner",
        "csrsigning",
        "daemonset",
        "deployment",
        "disruption",
        "endpoint",
        "endpointslice",
        "endpointslicemirroring",
        "garbagecollector",
        "horizontalpodautoscaling",
        "job",
        "namespace",
        "nodelifecycle",
        "podgc",
        "replicaset",
        "replicationcontroller",
        "resourcequota",
        "root-ca-cert-publisher",
        "serviceaccount",
        "serviceaccount-token",
        "statefulset",
        "tokencleaner",
        "ttl-after-finished"}},
      {{"*", "-deployment", "-disruption", "-endpoint", "-endpointslice", "-endpointslicemirroring",
        "-podgc", "-nodelifecycle", "-horizontalpodautoscaling", "-csrapproving", "-csrcleaner",
        "-csrsigning", "-resourcequota", "-root-ca-cert-publisher", "-serviceaccount",
        "-serviceaccount-token", "-tokencleaner"},
       {"cronjob", "daemonset", "garbagecollector", "job", "namespace", "replicaset",
        "replicationcontroller", "statefulset", "ttl-after-finished"}},
      {{"replicaset"}, {"replicaset"}},
      {{"namespace"}, {"namespace"}},
      {{"replicaset", "-replicaset"}, {}},
      {{}, {}},
  };
  for (const auto& c : cases) {
    auto enabled = EnabledControllers(c.flags);
    ASSERT_TRUE(enabled.ok());
    EXPECT_EQ(*enabled, c.want);
  }
  auto unknown = EnabledControllers({"*", "-nosuch"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "\"-nosuch\" is not in the list of known controllers");
}

}  // namespace
}  // namespace kpp::controllers
