// PodSecurity's audit mode and exemptions through the real kubectl: what the audit log says
// about admitted pods that violate a namespace's audit level, and the admission configuration
// file's defaults and exempt users, namespaces and runtime classes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;
using testing::ProcessResult;

constexpr std::string_view kAuditViolations = "pod-security.kubernetes.io/audit-violations";
constexpr std::string_view kEnforcePolicy = "pod-security.kubernetes.io/enforce-policy";
constexpr std::string_view kExempt = "pod-security.kubernetes.io/exempt";

std::string PrivilegedPod(const std::string& name, const std::string& extra_spec = "") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n" + extra_spec +
         "  containers:\n  - name: c\n    image: nginx\n    securityContext:\n"
         "      privileged: true\n";
}

constexpr std::string_view kAuditPolicy = R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  verbs: [create]
  resources:
  - group: ""
    resources: [pods]
  - group: apps
    resources: [deployments]
- level: None
)";

class PodSecurityAuditE2ETest : public ::testing::Test {
 protected:
  // Starts the server with the audit log and, when given, an admission configuration.
  void StartServer(const std::string& admission_config = "") {
    std::vector<std::string> args = {
        "--audit-policy-file", server_.WriteFile("audit-policy.yaml", std::string(kAuditPolicy)),
        "--audit-log-path", server_.root_dir() + "/audit.log"};
    if (!admission_config.empty()) {
      args.push_back("--admission-control-config-file");
      args.push_back(server_.WriteFile("admission.yaml", admission_config));
    }
    ASSERT_TRUE(server_.Start(args)) << server_.Logs();
  }

  ProcessResult MustRun(const std::vector<std::string>& args, const std::string& minor = "") {
    auto result = server_.Kubectl(args, minor);
    EXPECT_EQ(result.exit_code, 0) << minor << ": " << result.err;
    return result;
  }

  // The annotations of the ResponseComplete event of the create of `resource` named `name` in
  // `namespace_` (the writer runs behind the requests: waits up to 5 s for it).
  boost::json::object CreateAnnotations(std::string_view resource, std::string_view namespace_,
                                        std::string_view name) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto log = ReadFile(server_.root_dir() + "/audit.log");
      std::istringstream lines(log.ok() ? *log : "");
      for (std::string line; std::getline(lines, line);) {
        const auto event = boost::json::parse(line).as_object();
        const auto* ref = event.if_contains("objectRef");
        if (ref == nullptr || event.at("verb") != "create" ||
            event.at("stage") != "ResponseComplete") {
          continue;
        }
        const auto& object_ref = ref->as_object();
        // A create's event names the object in its requestObject (level Request).
        const auto* request_object = event.if_contains("requestObject");
        const bool named = request_object != nullptr &&
                           request_object->at("metadata").at("name").as_string() == name;
        const auto* ref_namespace = object_ref.if_contains("namespace");
        if (object_ref.at("resource").as_string() == resource && ref_namespace != nullptr &&
            ref_namespace->as_string() == namespace_ && named) {
          const auto* annotations = event.if_contains("annotations");
          return annotations != nullptr ? annotations->as_object() : boost::json::object();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "no create event of " << resource << " " << namespace_ << "/" << name;
    return {};
  }

  KppServer server_;
};

TEST_F(PodSecurityAuditE2ETest, ViolationsOfTheAuditLevelAreAdmittedAndAnnotated) {
  StartServer();
  for (const std::string minor : {"1.27", "1.33"}) {
    const std::string ns = "audited-" + std::string(minor == "1.27" ? "a" : "b");
    MustRun({"create", "namespace", ns}, minor);
    MustRun({"label", "namespace", ns, "pod-security.kubernetes.io/audit=restricted"}, minor);
    auto created = MustRun(
        {"create", "-n", ns, "-f", server_.WriteFile(ns + ".yaml", PrivilegedPod("priv"))}, minor);
    EXPECT_EQ(created.err.find("Warning"), std::string::npos) << "audit only: " << created.err;
    auto pod = CreateAnnotations("pods", ns, "priv");
    EXPECT_EQ(pod[kEnforcePolicy], "privileged:latest");
    EXPECT_EQ(pod[kAuditViolations],
              "would violate PodSecurity \"restricted:latest\": privileged (container \"c\" must "
              "not set securityContext.privileged=true), allowPrivilegeEscalation != false "
              "(container \"c\" must set securityContext.allowPrivilegeEscalation=false), "
              "unrestricted capabilities (container \"c\" must set "
              "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or "
              "container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod "
              "or container \"c\" must set securityContext.seccompProfile.type to "
              "\"RuntimeDefault\" or \"Localhost\")");
    EXPECT_EQ(pod["authorization.k8s.io/decision"], "allow");

    // A workload's template is audited too; only pods are enforced, so no enforce-policy.
    MustRun({"create", "deployment", "web", "-n", ns, "--image=nginx"}, minor);
    auto deployment = CreateAnnotations("deployments", ns, "web");
    EXPECT_FALSE(deployment.contains(kEnforcePolicy));
    EXPECT_THAT(std::string(deployment[kAuditViolations].as_string()),
                ::testing::StartsWith("would violate PodSecurity \"restricted:latest\": "
                                      "allowPrivilegeEscalation != false (container \"nginx\""));

    // A namespace pinned to an audit version, with an enforce level the pod passes.
    const std::string pinned = ns + "-pinned";
    MustRun({"create", "namespace", pinned}, minor);
    MustRun({"label", "namespace", pinned, "pod-security.kubernetes.io/enforce=baseline",
             "pod-security.kubernetes.io/audit=restricted",
             "pod-security.kubernetes.io/audit-version=v1.24"},
            minor);
    MustRun({"run", "plain", "-n", pinned, "--image=nginx"}, minor);
    auto plain = CreateAnnotations("pods", pinned, "plain");
    EXPECT_EQ(plain[kEnforcePolicy], "baseline:latest");
    EXPECT_THAT(std::string(plain[kAuditViolations].as_string()),
                ::testing::StartsWith("would violate PodSecurity \"restricted:v1.24\": "));
  }
  // Fully privileged namespaces are not evaluated: no annotations of PodSecurity.
  MustRun({"run", "free", "--image=nginx"});
  auto free = CreateAnnotations("pods", "default", "free");
  EXPECT_FALSE(free.contains(kEnforcePolicy));
  EXPECT_FALSE(free.contains(kAuditViolations));
}

constexpr std::string_view kAdmissionConfig = R"(apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: baseline
      enforce-version: latest
      audit: restricted
      warn: restricted
      warn-version: v1.30
    exemptions:
      usernames: [bob]
      runtimeClasses: [kata]
      namespaces: [tooling]
)";

TEST_F(PodSecurityAuditE2ETest, TheConfigurationFilesDefaultsAndExemptions) {
  StartServer(std::string(kAdmissionConfig));
  // An unlabelled namespace takes the file's defaults.
  auto refused =
      server_.Kubectl({"create", "-f", server_.WriteFile("priv.yaml", PrivilegedPod("priv"))});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err,
              ::testing::HasSubstr("pods \"priv\" is forbidden: violates PodSecurity "
                                   "\"baseline:latest\": privileged (container \"c\" must not set "
                                   "securityContext.privileged=true)"));
  auto refused_annotations = CreateAnnotations("pods", "default", "priv");
  EXPECT_EQ(refused_annotations[kEnforcePolicy], "baseline:latest");
  EXPECT_THAT(std::string(refused_annotations[kAuditViolations].as_string()),
              ::testing::StartsWith("would violate PodSecurity \"restricted:latest\": privileged"));
  auto warned = MustRun({"run", "plain", "--image=nginx"});
  EXPECT_THAT(warned.err, ::testing::HasSubstr("Warning: would violate PodSecurity "
                                               "\"restricted:v1.30\": allowPrivilegeEscalation"));

  // The exempt namespace, user and runtime class: admitted, and the event says why.
  MustRun({"create", "namespace", "tooling"});
  auto in_tooling = MustRun(
      {"create", "-n", "tooling", "-f", server_.WriteFile("tooling.yaml", PrivilegedPod("t"))});
  EXPECT_EQ(in_tooling.err.find("Warning"), std::string::npos) << in_tooling.err;
  auto tooling = CreateAnnotations("pods", "tooling", "t");
  EXPECT_EQ(tooling[kExempt], "namespace");
  EXPECT_FALSE(tooling.contains(kAuditViolations));
  EXPECT_FALSE(tooling.contains(kEnforcePolicy));

  MustRun({"create", "-f", server_.WriteFile("bob.yaml", PrivilegedPod("bobs")), "--as", "bob",
           "--as-group", "system:masters"});
  EXPECT_EQ(CreateAnnotations("pods", "default", "bobs")[kExempt], "user");

  MustRun(
      {"create", "-f",
       server_.WriteFile("kata.yaml", PrivilegedPod("sandboxed", "  runtimeClassName: kata\n"))});
  EXPECT_EQ(CreateAnnotations("pods", "default", "sandboxed")[kExempt], "runtimeClass");

  // A namespace's labels still win over the defaults.
  MustRun({"create", "namespace", "open"});
  MustRun({"label", "namespace", "open", "pod-security.kubernetes.io/enforce=privileged"});
  MustRun({"create", "-n", "open", "-f", server_.WriteFile("open.yaml", PrivilegedPod("o"))});
  EXPECT_EQ(CreateAnnotations("pods", "open", "o")[kEnforcePolicy], "privileged:latest");
}

TEST(PodSecurityConfigE2ETest, BadConfigurationsStopTheServerNamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"    defaults:\n      enforce: strict\n",
       "defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, "
       "restricted"},
      {"    defaults:\n      audit-version: \"1.30\"\n",
       "defaults.audit-version: Invalid value: \"1.30\": must be \"latest\" or \"v1.x\""},
      {"    exemptions:\n      namespaces: [Bad_Name]\n",
       "exemptions.namespaces[0]: Invalid value: \"Bad_Name\""},
      {"    exemptions:\n      users: [bob]\n",
       "strict decoding error: unknown field \"exemptions.users\""},
  };
  for (const auto& [body, expected] : cases) {
    KppServer server;
    const std::string config =
        server.WriteFile("admission.yaml",
                         "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\n"
                         "plugins:\n- name: PodSecurity\n  configuration:\n"
                         "    apiVersion: pod-security.admission.config.k8s.io/v1\n"
                         "    kind: PodSecurityConfiguration\n" +
                             body);
    EXPECT_FALSE(server.Start({"--admission-control-config-file", config}));
    EXPECT_THAT(server.Logs(), ::testing::HasSubstr(expected));
  }
}

}  // namespace
}  // namespace kpp
