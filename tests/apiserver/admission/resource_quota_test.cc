// ResourceQuota: what objects use (table), which pods scopes select, upstream's refusal texts,
// charging status.used in the store, and racing creates that never exceed the hard limit.
#include "apiserver/admission/resource_quota.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <thread>

#include "apiserver/admission/fake_reader.h"
#include "apiserver/admission/quota_evaluator.h"
#include "apiserver/admission/store_reader_fixture.h"
#include "base/files.h"
#include "storage/sqlite/sqlite_store.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;

object Parse(std::string_view json) {
  return boost::json::parse(json).as_object();
}

std::string UsageText(std::string_view group, std::string_view resource, std::string_view json) {
  auto evaluator = quota::Evaluator::For(group, resource);
  if (!evaluator) return "ignored";
  return quota::PrettyPrint(evaluator->Usage(Parse(json), std::chrono::system_clock::now()));
}

TEST(QuotaEvaluatorTest, UsageOfObjects) {
  struct Case {
    std::string_view name, group, resource, json, usage;
  };
  const Case cases[] = {
      {"best-effort pod", "", "pods", R"({"spec":{"containers":[{"name":"c"}]}})",
       "count/pods=1,pods=1"},
      {"requests and limits summed over containers", "", "pods",
       R"({"spec":{"containers":[
          {"name":"a","resources":{"requests":{"cpu":"100m","memory":"64Mi"},
                                   "limits":{"cpu":"200m","memory":"128Mi"}}},
          {"name":"b","resources":{"requests":{"cpu":"150m","ephemeral-storage":"1Gi"}}}]}})",
       "count/pods=1,cpu=250m,ephemeral-storage=1Gi,limits.cpu=200m,limits.memory=128Mi,"
       "memory=64Mi,pods=1,requests.cpu=250m,requests.ephemeral-storage=1Gi,"
       "requests.memory=64Mi"},
      {"an init container needing more sets the request; overhead adds", "", "pods",
       R"({"spec":{"overhead":{"cpu":"10m"},
          "initContainers":[{"name":"i","resources":{"requests":{"cpu":"1"}}}],
          "containers":[{"name":"c","resources":{"requests":{"cpu":"500m"}}}]}})",
       "count/pods=1,cpu=1010m,pods=1,requests.cpu=1010m"},
      {"sidecars run beside the containers", "", "pods",
       R"({"spec":{"initContainers":[{"name":"s","restartPolicy":"Always",
            "resources":{"requests":{"cpu":"100m"}}}],
          "containers":[{"name":"c","resources":{"requests":{"cpu":"500m"}}}]}})",
       "count/pods=1,cpu=600m,pods=1,requests.cpu=600m"},
      {"extended resources and hugepages", "", "pods",
       R"({"spec":{"containers":[{"name":"c","resources":{"requests":{
          "example.com/gpu":"2","hugepages-2Mi":"4Mi"}}}]}})",
       "count/pods=1,hugepages-2Mi=4Mi,pods=1,requests.example.com/gpu=2,"
       "requests.hugepages-2Mi=4Mi"},
      {"terminal pods only count as objects", "", "pods",
       R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]},
          "status":{"phase":"Succeeded"}})",
       "count/pods=1"},
      {"cluster IP service", "", "services", R"({"spec":{"ports":[{"port":80}]}})",
       "count/services=1,services=1"},
      {"node port service counts its ports", "", "services",
       R"({"spec":{"type":"NodePort","ports":[{"port":80},{"port":443}]}})",
       "count/services=1,services=1,services.nodeports=2"},
      {"load balancer", "", "services", R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}]}})",
       "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1"},
      {"load balancer without node ports", "", "services",
       R"({"spec":{"type":"LoadBalancer","allocateLoadBalancerNodePorts":false,
          "ports":[{"port":80},{"port":81,"nodePort":30001}]}})",
       "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1"},
      {"claim with a storage class", "", "persistentvolumeclaims",
       R"({"spec":{"storageClassName":"fast","resources":{"requests":{"storage":"5Gi"}}}})",
       "count/persistentvolumeclaims=1,"
       "fast.storageclass.storage.k8s.io/persistentvolumeclaims=1,"
       "fast.storageclass.storage.k8s.io/requests.storage=5Gi,persistentvolumeclaims=1,"
       "requests.storage=5Gi"},
      {"config maps have their legacy name too", "", "configmaps", R"({})",
       "configmaps=1,count/configmaps=1"},
      {"other kinds count as count/<resource>.<group>", "apps", "deployments", R"({})",
       "count/deployments.apps=1"},
      {"events are not counted", "", "events", R"({})", "ignored"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(UsageText(c.group, c.resource, c.json), c.usage) << c.name;
  }
}

TEST(QuotaEvaluatorTest, Scopes) {
  struct Case {
    std::string_view name, quota, pod;
    bool matches;
  };
  constexpr std::string_view kBestEffort = R"({"spec":{"containers":[{"name":"c"}]}})";
  constexpr std::string_view kBurstable =
      R"({"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]}})";
  constexpr std::string_view kDeadline =
      R"({"spec":{"activeDeadlineSeconds":60,"containers":[{"name":"c"}]}})";
  constexpr std::string_view kHigh =
      R"({"spec":{"priorityClassName":"high","containers":[{"name":"c"}]}})";
  constexpr std::string_view kCrossNamespace =
      R"({"spec":{"containers":[{"name":"c"}],"affinity":{"podAffinity":{
          "requiredDuringSchedulingIgnoredDuringExecution":[
            {"topologyKey":"zone","namespaceSelector":{}}]}}}})";
  const Case cases[] = {
      {"no scopes", R"({})", kBestEffort, true},
      {"BestEffort", R"({"spec":{"scopes":["BestEffort"]}})", kBestEffort, true},
      {"BestEffort, burstable pod", R"({"spec":{"scopes":["BestEffort"]}})", kBurstable, false},
      {"NotBestEffort", R"({"spec":{"scopes":["NotBestEffort"]}})", kBurstable, true},
      {"Terminating", R"({"spec":{"scopes":["Terminating"]}})", kDeadline, true},
      {"Terminating, no deadline", R"({"spec":{"scopes":["Terminating"]}})", kBestEffort, false},
      {"NotTerminating", R"({"spec":{"scopes":["NotTerminating"]}})", kBestEffort, true},
      {"both must hold", R"({"spec":{"scopes":["NotTerminating","NotBestEffort"]}})", kBestEffort,
       false},
      {"PriorityClass In",
       R"({"spec":{"scopeSelector":{"matchExpressions":[
          {"scopeName":"PriorityClass","operator":"In","values":["high"]}]}}})",
       kHigh, true},
      {"PriorityClass In, other class",
       R"({"spec":{"scopeSelector":{"matchExpressions":[
          {"scopeName":"PriorityClass","operator":"In","values":["low"]}]}}})",
       kHigh, false},
      {"PriorityClass NotIn",
       R"({"spec":{"scopeSelector":{"matchExpressions":[
          {"scopeName":"PriorityClass","operator":"NotIn","values":["low"]}]}}})",
       kHigh, true},
      {"PriorityClass Exists, none set",
       R"({"spec":{"scopeSelector":{"matchExpressions":[
          {"scopeName":"PriorityClass","operator":"Exists"}]}}})",
       kBestEffort, false},
      {"CrossNamespacePodAffinity", R"({"spec":{"scopes":["CrossNamespacePodAffinity"]}})",
       kCrossNamespace, true},
      {"CrossNamespacePodAffinity, none", R"({"spec":{"scopes":["CrossNamespacePodAffinity"]}})",
       kBestEffort, false},
  };
  auto pods = quota::Evaluator::For("", "pods");
  for (const auto& c : cases) {
    object resource_quota = Parse(c.quota);
    resource_quota["status"] = Parse(R"({"hard":{"pods":"10"}})");
    EXPECT_EQ(pods->Matches(resource_quota, Parse(c.pod)), c.matches) << c.name;
  }
  // Scoped quotas never cover other kinds.
  object scoped = Parse(R"({"spec":{"scopes":["BestEffort"]},"status":{"hard":{"services":"1"}}})");
  EXPECT_FALSE(quota::Evaluator::For("", "services")->Matches(scoped, Parse("{}")));
}

TEST(QuotaEvaluatorTest, CalculateUsageCountsWhatTheNamespaceHolds) {
  FakeReader reader;
  reader.Add("", "pods", R"({"metadata":{"name":"a","namespace":"ns"},
      "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1"}}}]}})");
  reader.Add("", "pods", R"({"metadata":{"name":"done","namespace":"ns"},
      "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Failed"}})");
  reader.Add("", "pods", R"({"metadata":{"name":"elsewhere","namespace":"other"},
      "spec":{"containers":[{"name":"c"}]}})");
  reader.Add("apps", "deployments", R"({"metadata":{"name":"d","namespace":"ns"}})");
  const object resource_quota = Parse(R"({"spec":{"hard":{"pods":"5","requests.cpu":"4",
      "count/pods":"9","count/deployments.apps":"2","services":"3","requests.storage":"1Gi",
      "unknown.example.com":"1"}}})");
  auto used = quota::CalculateUsage(resource_quota, "ns", reader, std::chrono::system_clock::now());
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(quota::PrettyPrint(*used),
            "count/deployments.apps=1,count/pods=2,pods=1,requests.cpu=1,requests.storage=0,"
            "services=0");
}

class ResourceQuotaAdmissionTest : public StoreReaderFixture {
 protected:
  void TearDown() override {
    plugin_.reset();
    StoreReaderFixture::TearDown();
  }

  void PutQuota(std::string_view name, std::string_view rest) {
    Put("/registry/core/resourcequotas/ns/" + std::string(name),
        R"({"metadata":{"name":")" + std::string(name) + R"(","namespace":"ns"},)" +
            std::string(rest) + "}");
    plugin_ = std::make_unique<ResourceQuota>();
  }
  std::string Used(std::string_view name) {
    auto quota = reader_->Get("", "resourcequotas", "ns", name);
    return quota::PrettyPrint(
        quota::ParseResourceList(&(*quota)->at("status").as_object().at("used").as_object()));
  }
  std::optional<Rejection> CreatePod(std::string_view name, std::string_view spec) {
    object pod = Parse(R"({"metadata":{"name":")" + std::string(name) + R"("},"spec":)" +
                       std::string(spec) + "}");
    Attributes attributes;
    attributes.version = "v1";
    attributes.kind = "Pod";
    attributes.resource = "pods";
    attributes.namespace_ = "ns";
    attributes.name = std::string(name);
    attributes.object = &pod;
    std::vector<std::string> warnings;
    Context context{*reader_, RealClock(), warnings};
    return plugin_->Validate(attributes, context);
  }

  // Made again after each PutQuota, so its cache starts from what the test wrote.
  std::unique_ptr<ResourceQuota> plugin_ = std::make_unique<ResourceQuota>();
};

constexpr std::string_view kSmallPod =
    R"({"containers":[{"name":"c","resources":{"requests":{"cpu":"100m","memory":"1Mi"},
        "limits":{"cpu":"100m","memory":"1Mi"}}}]})";

TEST_F(ResourceQuotaAdmissionTest, ChargesUntilTheHardLimitThenRefusesWithUpstreamsMessage) {
  PutQuota("q",
           R"("spec":{"hard":{"pods":"2"}},"status":{"hard":{"pods":"2"},"used":{"pods":"0"}})");
  EXPECT_FALSE(CreatePod("a", kSmallPod));
  EXPECT_EQ(Used("q"), "pods=1");
  EXPECT_FALSE(CreatePod("b", kSmallPod));
  EXPECT_EQ(Used("q"), "pods=2");
  auto refused = CreatePod("c", kSmallPod);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "pods \"c\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, "
            "limited: pods=2");
  EXPECT_EQ(Used("q"), "pods=2");
}

TEST_F(ResourceQuotaAdmissionTest, MessagesForMissingLimitsAndUnsyncedQuotas) {
  PutQuota("compute",
           R"("status":{"hard":{"limits.cpu":"1","requests.memory":"1Gi"},
               "used":{"limits.cpu":"0","requests.memory":"0"}})");
  auto refused = CreatePod("p", R"({"containers":[{"name":"c"},{"name":"d",
      "resources":{"limits":{"cpu":"1"}}}]})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: failed quota: compute: must specify limits.cpu for: c; "
            "requests.memory for: c,d");
  auto exceeded = CreatePod("big", R"({"containers":[{"name":"c","resources":{
      "requests":{"memory":"2Gi"},"limits":{"cpu":"2"}}}]})");
  ASSERT_TRUE(exceeded);
  EXPECT_EQ(exceeded->error.message(),
            "pods \"big\" is forbidden: exceeded quota: compute, requested: "
            "limits.cpu=2,requests.memory=2Gi, used: limits.cpu=0,requests.memory=0, limited: "
            "limits.cpu=1,requests.memory=1Gi");

  PutQuota("fresh", R"("spec":{"hard":{"pods":"1"}})");
  PutQuota("compute", R"("status":{})");
  refused = CreatePod("p", kSmallPod);
  EXPECT_FALSE(refused) << "a quota without status.hard covers nothing yet";
  PutQuota("fresh", R"("spec":{"hard":{"pods":"1"}},"status":{"hard":{"pods":"1"}})");
  refused = CreatePod("p", kSmallPod);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: status unknown for quota: fresh, resources: pods");
}

TEST_F(ResourceQuotaAdmissionTest, ScopedQuotaChargesOnlyItsPods) {
  PutQuota("best-effort", R"("spec":{"scopes":["BestEffort"]},
      "status":{"hard":{"pods":"1"},"used":{"pods":"1"}})");
  EXPECT_FALSE(CreatePod("burstable", kSmallPod));
  auto refused = CreatePod("idle", R"({"containers":[{"name":"c"}]})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(Used("best-effort"), "pods=1");
}

TEST_F(ResourceQuotaAdmissionTest, RacingCreatesNeverExceedTheHardLimit) {
  PutQuota("q", R"("status":{"hard":{"pods":"5","requests.cpu":"1"},
      "used":{"pods":"0","requests.cpu":"0"}})");
  std::atomic<int> admitted = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 4; ++j) {
        if (!CreatePod(fmt::format("p{}-{}", i, j), kSmallPod)) ++admitted;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(admitted.load(), 5);
  EXPECT_EQ(Used("q"), "pods=5,requests.cpu=500m");
}

}  // namespace
}  // namespace kpp::apiserver::admission
