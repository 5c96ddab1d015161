// StatefulSets and DaemonSets end to end: `kpp server --disable-agent` with its controller manager
// and scheduler, `kpp hollow-nodes --count 3` as the kubelets, and the real kubectl 1.27 and 1.33.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"
#include "support/hollow_nodes.h"
#include "support/subprocess.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;

// Polls `condition` for up to `timeout` (this suite waits for slower work than most).
bool Eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = 90s) {
  return testing::Eventually(condition, timeout);
}

std::string Str(const boost::json::value& value) {
  return value.is_string() ? std::string(value.as_string()) : "";
}

constexpr char kStatefulSet[] = R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: 3
  serviceName: nginx
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: nginx:1.27
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
)";

class WorkloadsE2ETest : public testing::KubectlE2ETest {
 protected:
  void SetUp() override {
    server_.set_controller_manager(true);
    KubectlE2ETest::SetUp();
    std::string error;
    ASSERT_TRUE(hollow_.Start(server_, 3, {"--max-termination-grace", "1s"}, &error)) << error;
    ASSERT_TRUE(Eventually([&] { return Items({"nodes"}).size() == 3; }));
  }
  boost::json::array Items(const std::vector<std::string>& args) {
    auto list = GetJson(args);
    if (!list.is_object()) return {};
    return list.at("items").as_array();
  }
  // Live pods of app=`app` by name.
  std::map<std::string, boost::json::object> Pods(const std::string& app) {
    std::map<std::string, boost::json::object> out;
    for (auto& pod : Items({"pods", "-l", "app=" + app})) {
      if (pod.at("metadata").as_object().contains("deletionTimestamp")) continue;
      out[Str(pod.at("metadata").at("name"))] = pod.as_object();
    }
    return out;
  }
  static bool Ready(const boost::json::object& pod) {
    const auto& status = pod.at("status").as_object();
    if (!status.contains("conditions")) return false;
    for (const auto& condition : status.at("conditions").as_array()) {
      if (condition.at("type") == "Ready" && condition.at("status") == "True") return true;
    }
    return false;
  }
  // The node a DaemonSet pod's required matchFields affinity names, or "".
  static std::string AffinityNode(const boost::json::object& spec) {
    const auto* affinity = spec.if_contains("affinity");
    if (affinity == nullptr) return "";
    const auto& terms = affinity->at("nodeAffinity")
                            .at("requiredDuringSchedulingIgnoredDuringExecution")
                            .at("nodeSelectorTerms")
                            .as_array();
    for (const auto& term : terms) {
      const auto* fields = term.as_object().if_contains("matchFields");
      if (fields == nullptr) continue;
      for (const auto& field : fields->as_array()) {
        if (field.at("key") == "metadata.name") return Str(field.at("values").at(0));
      }
    }
    return "";
  }
  boost::json::object Status(const std::string& kind, const std::string& name) {
    auto object = GetJson({kind, name});
    return object.is_object() ? object.at("status").as_object() : boost::json::object{};
  }
  static int64_t Int(const boost::json::object& object, const char* field) {
    return object.contains(field) ? object.at(field).as_int64() : 0;
  }

  testing::HollowNodes hollow_;
};

TEST_F(WorkloadsE2ETest, StatefulSetComesUpInOrderWithClaimsRollsWithPartitionAndScalesDown) {
  MustRun({"apply", "-f", server_.WriteFile("web.yaml", kStatefulSet)});
  // OrderedReady: the pods present are always web-0..web-k, and only the newest may be unready.
  ASSERT_TRUE(Eventually([&] {
    auto pods = Pods("web");
    int index = 0;
    int unready = 0;
    for (const auto& [name, pod] : pods) {
      EXPECT_EQ(name, "web-" + std::to_string(index)) << "pods out of order";
      ++index;
      unready += Ready(pod) ? 0 : 1;
    }
    EXPECT_LE(unready, 1) << "more than one pod coming up at a time";
    auto status = Status("statefulset", "web");
    return pods.size() == 3 && unready == 0 && Int(status, "readyReplicas") == 3;
  })) << server_.Logs();
  auto web1 = GetJson({"pod", "web-1"});
  EXPECT_EQ(web1.at("spec").at("hostname"), "web-1");
  EXPECT_EQ(web1.at("spec").at("subdomain"), "nginx");
  EXPECT_EQ(web1.at("metadata").at("labels").at("statefulset.kubernetes.io/pod-name"), "web-1");
  EXPECT_EQ(web1.at("metadata").at("labels").at("apps.kubernetes.io/pod-index"), "1");
  EXPECT_EQ(web1.at("spec").at("volumes").at(0).at("persistentVolumeClaim").at("claimName"),
            "www-web-1");
  std::set<std::string> claims;
  for (auto& claim : Items({"pvc"}))
    claims.insert(Str(claim.at("metadata").at("name")));
  EXPECT_EQ(claims, (std::set<std::string>{"www-web-0", "www-web-1", "www-web-2"}));
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    auto rollout = Kubectl({"rollout", "status", "statefulset/web", "--timeout=30s"}, minor);
    EXPECT_EQ(rollout.exit_code, 0) << rollout.err;
    EXPECT_NE(rollout.out.find("partitioned roll out complete: 3 new pods have been updated"),
              std::string::npos)
        << rollout.out;
  }
  auto events = Kubectl({"get", "events", "--field-selector", "involvedObject.name=web"});
  EXPECT_NE(events.out.find("create Pod web-0 in StatefulSet web successful"), std::string::npos)
      << events.out;
  EXPECT_NE(events.out.find("create Claim www-web-0 Pod web-0 in StatefulSet web success"),
            std::string::npos)
      << events.out;

  // A template change with partition 2 replaces web-2 only.
  const std::string first_revision = Str(Status("statefulset", "web").at("currentRevision"));
  MustRun(
      {"patch", "statefulset", "web", "--type=merge", "-p",
       R"({"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}})"});
  MustRun({"set", "image", "statefulset/web", "nginx=nginx:1.28"});
  std::string update_revision;
  ASSERT_TRUE(Eventually([&] {
    auto status = Status("statefulset", "web");
    update_revision = Str(status["updateRevision"]);
    auto pods = Pods("web");
    if (pods.size() != 3 || update_revision == first_revision) return false;
    auto revision = [&](const std::string& name) {
      return Str(pods[name].at("metadata").at("labels").at("controller-revision-hash"));
    };
    return revision("web-2") == update_revision && Ready(pods["web-2"]) &&
           revision("web-1") == first_revision && revision("web-0") == first_revision &&
           Int(status, "updatedReplicas") == 1 && Int(status, "currentReplicas") == 2;
  })) << server_.Logs();
  EXPECT_EQ(Str(Status("statefulset", "web").at("currentRevision")), first_revision);
  auto history = Kubectl({"rollout", "history", "statefulset/web"}, "1.33");
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("1 "), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("2 "), std::string::npos) << history.out;
  EXPECT_EQ(Items({"controllerrevisions"}).size(), 2u);

  // Partition 0 finishes the roll from the top; `rollout undo` brings the first template back
  // (its revision renumbered 3), rolled the same way.
  MustRun({"patch", "statefulset", "web", "--type=merge", "-p",
           R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}})"});
  auto rolled_to = [&](const std::string& revision_name) {
    auto status = Status("statefulset", "web");
    auto pods = Pods("web");
    bool all = pods.size() == 3;
    for (const auto& [name, pod] : pods) {
      all = all && Ready(pod) &&
            Str(pod.at("metadata").at("labels").at("controller-revision-hash")) == revision_name;
    }
    return all && Str(status["currentRevision"]) == revision_name &&
           Str(status["updateRevision"]) == revision_name && Int(status, "updatedReplicas") == 3;
  };
  ASSERT_TRUE(Eventually([&] { return rolled_to(update_revision); })) << server_.Logs();
  MustRun({"rollout", "undo", "statefulset/web"});
  ASSERT_TRUE(Eventually([&] { return rolled_to(first_revision); })) << server_.Logs();
  EXPECT_EQ(Str(GetJson({"statefulset", "web"})
                    .at("spec")
                    .at("template")
                    .at("spec")
                    .at("containers")
                    .at(0)
                    .at("image")),
            "nginx:1.27");
  EXPECT_EQ(GetJson({"controllerrevision", first_revision}).at("revision"), 3);
  history = Kubectl({"rollout", "history", "statefulset/web"}, "1.27");
  EXPECT_NE(history.out.find("3 "), std::string::npos) << history.out;

  // Scale-down: web-2 goes before web-1; the claims stay.
  MustRun({"scale", "statefulset/web", "--replicas=1"});
  ASSERT_TRUE(Eventually([&] {
    auto pods = Pods("web");
    EXPECT_FALSE(pods.count("web-2") == 1 && pods.count("web-1") == 0) << "web-1 went first";
    return pods.size() == 1 && pods.count("web-0") == 1;
  })) << server_.Logs();
  claims.clear();
  for (auto& claim : Items({"pvc"}))
    claims.insert(Str(claim.at("metadata").at("name")));
  EXPECT_EQ(claims, (std::set<std::string>{"www-web-0", "www-web-1", "www-web-2"}));
}

TEST_F(WorkloadsE2ETest, StatefulSetClaimRetentionDeleteAndParallelPods) {
  std::string manifest = kStatefulSet;
  manifest.replace(manifest.find("name: web\n"), 10, "name: db\n");
  manifest.replace(manifest.find("serviceName: nginx\n"), 19,
                   "serviceName: nginx\n  podManagementPolicy: Parallel\n"
                   "  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, "
                   "whenScaled: Delete}\n");
  for (std::string::size_type at; (at = manifest.find("app: web")) != std::string::npos;)
    manifest.replace(at, 8, "app: db");
  // No node carries pool=db yet, so the pods stay pending and unready.
  manifest.replace(manifest.find("      containers:"), 17,
                   "      nodeSelector: {pool: db}\n      containers:");
  MustRun({"apply", "-f", server_.WriteFile("db.yaml", manifest)});
  // Parallel: all three exist before any is ready.
  ASSERT_TRUE(Eventually([&] {
    auto pods = Pods("db");
    for (const auto& [name, pod] : pods)
      EXPECT_FALSE(Ready(pod)) << name << " ready before any node fits";
    return pods.size() == 3;
  })) << server_.Logs();
  MustRun({"label", "nodes", "hollow-0", "hollow-1", "pool=db"});
  ASSERT_TRUE(Eventually([&] { return Int(Status("statefulset", "db"), "readyReplicas") == 3; }))
      << server_.Logs() << Kubectl({"get", "pods", "-o", "wide"}).out;
  auto claim_names = [&] {
    std::set<std::string> names;
    for (auto& claim : Items({"pvc"}))
      names.insert(Str(claim.at("metadata").at("name")));
    return names;
  };
  EXPECT_EQ(claim_names(), (std::set<std::string>{"www-db-0", "www-db-1", "www-db-2"}));
  EXPECT_EQ(GetJson({"pvc", "www-db-0"}).at("metadata").at("ownerReferences").at(0).at("kind"),
            "StatefulSet");
  // whenScaled: Delete: the claims of the removed pods go with them.
  MustRun({"scale", "statefulset/db", "--replicas=1"});
  EXPECT_TRUE(Eventually([&] {
    return claim_names() == std::set<std::string>{"www-db-0"} && Pods("db").size() == 1;
  })) << Kubectl({"get", "pvc,pods", "-o", "wide"}).out;
  // whenDeleted: Delete: the rest go with the set.
  MustRun({"delete", "statefulset", "db"});
  EXPECT_TRUE(Eventually([&] { return claim_names().empty(); }))
      << Kubectl({"get", "pvc", "-o", "yaml"}).out;
}

constexpr char kDaemonSet[] = R"(apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: busybox:1.36
)";

TEST_F(WorkloadsE2ETest, DaemonSetRunsOnePodPerEligibleNodeAndFollowsNodes) {
  MustRun({"taint", "nodes", "hollow-2", "dedicated=infra:NoSchedule"});
  MustRun({"apply", "-f", server_.WriteFile("agent.yaml", kDaemonSet)});
  auto pods_by_node = [&] {
    std::map<std::string, int> out;
    for (const auto& [name, pod] : Pods("agent")) {
      const auto& spec = pod.at("spec").as_object();
      ++out[AffinityNode(spec)];
      EXPECT_EQ(pod.at("metadata").at("ownerReferences").at(0).at("kind"), "DaemonSet");
    }
    return out;
  };
  ASSERT_TRUE(Eventually([&] {
    auto status = Status("daemonset", "agent");
    bool all_ready = true;
    for (const auto& [name, pod] : Pods("agent"))
      all_ready = all_ready && Ready(pod);
    return pods_by_node() == std::map<std::string, int>{{"hollow-0", 1}, {"hollow-1", 1}} &&
           all_ready && Int(status, "desiredNumberScheduled") == 2 &&
           Int(status, "numberReady") == 2 && Int(status, "numberAvailable") == 2;
  })) << server_.Logs()
      << Kubectl({"get", "pods", "-o", "wide"}).out;
  for (const auto& minor : testing::kOldestAndNewestKubectl) {
    auto rollout = Kubectl({"rollout", "status", "daemonset/agent", "--timeout=30s"}, minor);
    EXPECT_EQ(rollout.exit_code, 0) << rollout.err;
    EXPECT_NE(rollout.out.find("daemon set \"agent\" successfully rolled out"), std::string::npos)
        << rollout.out;
  }

  // A new template rolls node by node.
  MustRun({"set", "image", "daemonset/agent", "agent=busybox:1.37"});
  ASSERT_TRUE(Eventually([&] {
    auto status = Status("daemonset", "agent");
    auto pods = Pods("agent");
    EXPECT_LE(pods.size(), 2u);
    bool all_new = pods.size() == 2;
    for (const auto& [name, pod] : pods) {
      all_new = all_new && Ready(pod) &&
                Str(pod.at("spec").at("containers").at(0).at("image")) == "busybox:1.37";
    }
    return all_new && Int(status, "updatedNumberScheduled") == 2 &&
           Int(status, "numberAvailable") == 2;
  })) << server_.Logs();
  auto rollout = Kubectl({"rollout", "status", "daemonset/agent", "--timeout=30s"}, "1.33");
  EXPECT_EQ(rollout.exit_code, 0) << rollout.err;
  EXPECT_EQ(Items({"controllerrevisions"}).size(), 2u);

  // A node that joins gets a pod aimed at it (the scheduler may bind it there: no kubelet runs it).
  MustRun(
      {"apply", "-f",
       server_.WriteFile("extra.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: extra\n")});
  ASSERT_TRUE(Eventually([&] {
    return pods_by_node()["extra"] == 1 &&
           Int(Status("daemonset", "agent"), "desiredNumberScheduled") == 3;
  })) << server_.Logs();
  // And one that leaves no longer counts.
  MustRun({"delete", "node", "extra"});
  EXPECT_TRUE(
      Eventually([&] { return Int(Status("daemonset", "agent"), "desiredNumberScheduled") == 2; }));

  // Deleted with --cascade=orphan and made again with the same template, the set adopts its
  // orphaned ControllerRevisions (and pods): no new revision, `rollout history` lists both.
  MustRun({"delete", "daemonset", "agent", "--cascade=orphan"});
  auto revision_owners = [&] {
    std::set<std::string> owners;
    for (const auto& revision : Items({"controllerrevisions", "-l", "app=agent"})) {
      const auto* refs = revision.at("metadata").as_object().if_contains("ownerReferences");
      owners.insert(refs == nullptr || refs->as_array().empty() ? "" : Str(refs->at(0).at("uid")));
    }
    return owners;
  };
  ASSERT_TRUE(Eventually([&] {
    return !Exists({"daemonset", "agent"}) && revision_owners() == std::set<std::string>{""};
  })) << Kubectl({"get", "controllerrevisions", "-o", "yaml"}).out;
  std::string again = kDaemonSet;
  again.replace(again.find("busybox:1.36"), std::string("busybox:1.36").size(), "busybox:1.37");
  MustRun({"apply", "-f", server_.WriteFile("agent-again.yaml", again)});
  const std::string uid = Str(GetJson({"daemonset", "agent"}).at("metadata").at("uid"));
  ASSERT_TRUE(Eventually([&] { return revision_owners() == std::set<std::string>{uid}; }))
      << Kubectl({"get", "controllerrevisions", "-o", "yaml"}).out;
  EXPECT_EQ(Items({"controllerrevisions", "-l", "app=agent"}).size(), 2u);
  ASSERT_TRUE(Eventually([&] {
    auto pods = Pods("agent");
    int ours = 0;
    for (const auto& [name, pod] : pods) {
      const auto* refs = pod.at("metadata").as_object().if_contains("ownerReferences");
      if (refs != nullptr && !refs->as_array().empty() && Str(refs->at(0).at("uid")) == uid) ++ours;
    }
    return ours >= 2 && Int(Status("daemonset", "agent"), "numberAvailable") == 2;
  })) << Kubectl({"get", "pods", "-o", "yaml"}).out;
  auto history = Kubectl({"rollout", "history", "daemonset/agent"}, "1.33");
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("\n1 "), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("\n2 "), std::string::npos) << history.out;
}

}  // namespace
}  // namespace kpp
