// The controller manager's identities as a cluster's audit log shows them: inside `kpp server`
// it authenticates as system:kube-controller-manager and runs each controller as its own service
// account in kube-system (--use-service-account-credentials), whose system:controller:* role is
// all it may do; `kpp controller-manager --use-service-account-credentials` does the same.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "support/eventually.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using namespace std::chrono_literals;
using testing::KppServer;

constexpr char kAuditPolicy[] = R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  resources:
  - group: ""
    resources: [events]
  - group: coordination.k8s.io
    resources: [leases]
- level: Metadata
)";

using testing::Eventually;

std::string Str(const boost::json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

struct AuditEntry {
  std::string user;
  std::string user_agent;
  std::string verb;
  std::string resource;
  std::string subresource;
  std::string namespace_;
  std::string name;
  int code = 0;
};

class ControllerIdentityE2ETest : public ::testing::Test {
 protected:
  ::testing::AssertionResult StartServer(const std::vector<std::string>& extra = {}) {
    const std::string policy = server_.WriteFile("audit-policy.yaml", kAuditPolicy);
    audit_log_ = server_.root_dir() + "/audit.log";
    std::vector<std::string> args = {"--audit-policy-file", policy, "--audit-log-path", audit_log_};
    args.insert(args.end(), extra.begin(), extra.end());
    return server_.Start(args);
  }

  std::vector<AuditEntry> Audit() const {
    std::vector<AuditEntry> entries;
    auto text = ReadFile(audit_log_);
    if (!text.ok()) return entries;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      boost::system::error_code error;
      auto parsed = boost::json::parse(line, error);
      if (error || !parsed.is_object()) continue;
      const auto& event = parsed.as_object();
      AuditEntry entry;
      if (const auto* user = event.if_contains("user"); user && user->is_object()) {
        entry.user = Str(user->as_object().if_contains("username"));
      }
      entry.user_agent = Str(event.if_contains("userAgent"));
      entry.verb = Str(event.if_contains("verb"));
      if (const auto* ref = event.if_contains("objectRef"); ref && ref->is_object()) {
        entry.resource = Str(ref->as_object().if_contains("resource"));
        entry.subresource = Str(ref->as_object().if_contains("subresource"));
        entry.namespace_ = Str(ref->as_object().if_contains("namespace"));
        entry.name = Str(ref->as_object().if_contains("name"));
      }
      if (const auto* status = event.if_contains("responseStatus"); status && status->is_object()) {
        if (const auto* code = status->as_object().if_contains("code"); code && code->is_int64()) {
          entry.code = static_cast<int>(code->as_int64());
        }
      }
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  // The users that made `verb` on `resource` (and `subresource`), answered `code`.
  std::set<std::string> Users(const std::string& verb, const std::string& resource,
                              const std::string& subresource = "", int code = 0) const {
    std::set<std::string> users;
    for (const auto& entry : Audit()) {
      if (entry.verb == verb && entry.resource == resource && entry.subresource == subresource &&
          (code == 0 || entry.code == code)) {
        users.insert(entry.user);
      }
    }
    return users;
  }

  void MustRun(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  std::string Output(const std::vector<std::string>& args) {
    auto result = server_.Kubectl(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }
  size_t PodCount(const std::string& selector) {
    auto result = server_.Kubectl({"get", "pods", "-l", selector, "-o", "name"});
    if (result.exit_code != 0) return 0;
    size_t lines = 0;
    for (char c : result.out)
      lines += c == '\n';
    return lines;
  }

  KppServer server_;
  std::string audit_log_;
};

const std::string kReplicaSetController = "system:serviceaccount:kube-system:replicaset-controller";

TEST_F(ControllerIdentityE2ETest, EachControllerWritesAsItsOwnServiceAccount) {
  server_.set_controller_manager(true);
  server_.set_scheduler(false);
  ASSERT_TRUE(StartServer());
  MustRun({"create", "deployment", "web", "--image=nginx", "--replicas=2"});
  MustRun({"create", "job", "once", "--image=busybox"});
  ASSERT_TRUE(Eventually([&] {
    return PodCount("app=web") == 2 && PodCount("job-name=once") == 1;
  })) << server_.Logs();

  ASSERT_TRUE(Eventually([&] {
    return Users("create", "pods").count(kReplicaSetController) == 1 &&
           Users("create", "pods").count("system:serviceaccount:kube-system:job-controller") == 1;
  })) << server_.Logs();
  // Pods are made by the controllers that own them, the ReplicaSet by the Deployment's.
  EXPECT_EQ(Users("create", "pods", "", 201),
            (std::set<std::string>{kReplicaSetController,
                                   "system:serviceaccount:kube-system:job-controller"}));
  EXPECT_EQ(Users("create", "replicasets", "", 201),
            std::set<std::string>{"system:serviceaccount:kube-system:deployment-controller"});
  EXPECT_TRUE(Users("update", "deployments", "status")
                  .contains("system:serviceaccount:kube-system:deployment-controller"));
  // The manager itself only lists and watches (the shared informers), makes the accounts and
  // asks for their tokens.
  // The informers' watches start after their lists (and are logged when they start), so the
  // pod watch may come after the pods were made.
  EXPECT_TRUE(Eventually(
      [&] { return Users("watch", "pods").contains("system:kube-controller-manager"); }));
  EXPECT_TRUE(
      Users("create", "serviceaccounts", "token", 201).contains("system:kube-controller-manager"));
  for (const auto& entry : Audit()) {
    if (entry.user != "system:kube-controller-manager") continue;
    EXPECT_TRUE(entry.verb == "list" || entry.verb == "watch" || entry.verb == "get" ||
                (entry.verb == "create" && entry.resource == "serviceaccounts"))
        << entry.verb << " " << entry.resource << "/" << entry.subresource;
  }
  bool agent_seen = false;
  for (const auto& entry : Audit()) {
    if (entry.user == kReplicaSetController) {
      agent_seen = true;
      EXPECT_EQ(entry.user_agent, "kube-controller-manager/replicaset-controller");
    }
  }
  EXPECT_TRUE(agent_seen);
  // The accounts upstream names, in kube-system.
  for (const char* account : {"replicaset-controller", "deployment-controller", "job-controller",
                              "generic-garbage-collector", "endpointslice-controller",
                              "daemon-set-controller", "statefulset-controller"}) {
    EXPECT_TRUE(Eventually([&] {
      return server_.Kubectl({"get", "serviceaccount", "-n", "kube-system", account}).exit_code ==
             0;
    })) << account;
  }
  // The admin can tell who may do what.
  EXPECT_EQ(Output({"auth", "can-i", "create", "pods", "--as", kReplicaSetController}), "yes\n");
  auto refused =
      server_.Kubectl({"auth", "can-i", "create", "secrets", "--as", kReplicaSetController});
  EXPECT_EQ(refused.out, "no\n");
}

TEST_F(ControllerIdentityE2ETest, AControllerLackingARightIsRefused) {
  server_.set_controller_manager(true);
  server_.set_scheduler(false);
  ASSERT_TRUE(StartServer());
  // The replicaset controller's role without its rule for pods.
  MustRun({"patch", "clusterrole", "system:controller:replicaset-controller", "--type=json", "-p",
           R"([{"op":"replace","path":"/rules","value":[)"
           R"({"apiGroups":["apps","extensions"],"resources":["replicasets"],)"
           R"("verbs":["get","list","watch","update"]},)"
           R"({"apiGroups":["apps","extensions"],"resources":["replicasets/status"],)"
           R"("verbs":["update"]},)"
           R"({"apiGroups":["","events.k8s.io"],"resources":["events"],)"
           R"("verbs":["create","update","patch"]}]}])"});
  const std::string manifest = server_.WriteFile("rs.yaml", R"(apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
spec:
  replicas: 1
  selector:
    matchLabels: {app: front}
  template:
    metadata:
      labels: {app: front}
    spec:
      containers:
      - name: c
        image: nginx
)");
  MustRun({"apply", "-f", manifest});
  const std::string forbidden =
      "Error creating: pods is forbidden: User "
      "\"system:serviceaccount:kube-system:replicaset-controller\" cannot create resource "
      "\"pods\" in API group \"\" in the namespace \"default\"";
  std::string messages;
  EXPECT_TRUE(Eventually([&] {
    auto result = server_.Kubectl({"get", "events", "--field-selector",
                                   "reason=FailedCreate,involvedObject.name=front", "-o",
                                   "jsonpath={.items[*].message}"});
    messages = result.out;
    return messages.find(forbidden) != std::string::npos;
  })) << messages
      << "\n"
      << server_.Logs();
  EXPECT_EQ(PodCount("app=front"), 0u);
  EXPECT_TRUE(Users("create", "pods", "", 403).contains(kReplicaSetController));
  // The rule back: the controller creates the pod on its next try.
  MustRun({"patch", "clusterrole", "system:controller:replicaset-controller", "--type=json", "-p",
           R"([{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["pods"],)"
           R"("verbs":["list","watch","patch","create","delete"]}}])"});
  EXPECT_TRUE(Eventually([&] { return PodCount("app=front") == 1; })) << server_.Logs();
}

TEST_F(ControllerIdentityE2ETest, StandaloneManagerUsesServiceAccountCredentials) {
  // The manager's user from a token file, as a kubeconfig for it would name it.
  const std::string tokens =
      server_.WriteFile("tokens.csv", "manager-token,system:kube-controller-manager,kcm-uid,\n");
  server_.set_scheduler(false);
  ASSERT_TRUE(StartServer({"--token-auth-file", tokens}));
  const std::string kubeconfig = server_.WriteFile(
      "manager.kubeconfig",
      "apiVersion: v1\nkind: Config\nclusters:\n- name: kpp\n  cluster:\n"
      "    server: https://127.0.0.1:" +
          std::to_string(server_.port()) + "\n    certificate-authority: " + server_.data_dir() +
          "/tls/ca.crt\nusers:\n- name: manager\n  user:\n"
          "    token: manager-token\ncontexts:\n- name: kpp\n  context:\n"
          "    cluster: kpp\n    user: manager\ncurrent-context: kpp\n");
  testing::Process manager;
  std::string error;
  ASSERT_TRUE(manager.Start({testing::KppBinary(), "controller-manager", "--kubeconfig", kubeconfig,
                             "--use-service-account-credentials", "--leader-elect=false",
                             "--secure-port=-1", "--controllers=replicaset,deployment"},
                            server_.root_dir(), &error))
      << error;
  MustRun({"create", "deployment", "api", "--image=nginx", "--replicas=1"});
  EXPECT_TRUE(Eventually([&] { return PodCount("app=api") == 1; }))
      << manager.Stderr() << server_.Logs();
  EXPECT_EQ(Users("create", "pods", "", 201), std::set<std::string>{kReplicaSetController});
  EXPECT_EQ(Users("create", "replicasets", "", 201),
            std::set<std::string>{"system:serviceaccount:kube-system:deployment-controller"});
  manager.Signal(SIGTERM);
  EXPECT_TRUE(manager.Wait(30s));
  EXPECT_EQ(manager.exit_code(), 0) << manager.Stderr();
}

}  // namespace
}  // namespace kpp
