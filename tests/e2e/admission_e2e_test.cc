// Admission through the real kubectl (1.27 and 1.33): PodSecurity refuses and warns with
// upstream's messages, LimitRange defaults reach pods, every namespace gets its default service
// account and kube-root-ca.crt, pods get the projected token volume, priority classes resolve.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "e2e/kubectl_e2e_test.h"
#include "support/eventually.h"

namespace kpp {
namespace {

const std::vector<std::string>& kKubectls = testing::kOldestAndNewestKubectl;

std::string PodYaml(const std::string& name, const std::string& extra_spec = "",
                    const std::string& container_extra = "") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n" + extra_spec +
         "  containers:\n  - name: c\n    image: nginx\n" + container_extra;
}

class AdmissionE2ETest : public testing::KubectlE2ETest {
 protected:
  // Waits (up to 5 s) until `kubectl get <args>` succeeds.
  bool Eventually(const std::vector<std::string>& args) {
    return testing::Eventually([&] { return Exists(args); }, std::chrono::seconds(5),
                               std::chrono::milliseconds(100));
  }
};

TEST_F(AdmissionE2ETest, NewNamespacesGetTheDefaultAccountAndTheRootCa) {
  for (const auto& minor : kKubectls) {
    const std::string ns = "fresh-" + std::string(minor == "1.27" ? "a" : "b");
    MustRun({"create", "namespace", ns}, minor);
    ASSERT_TRUE(Eventually({"serviceaccount", "default", "-n", ns}));
    ASSERT_TRUE(Eventually({"configmap", "kube-root-ca.crt", "-n", ns}));
    const auto ca = GetJson({"configmap", "kube-root-ca.crt", "-n", ns});
    EXPECT_TRUE(std::string(ca.at("data").at("ca.crt").as_string())
                    .starts_with("-----BEGIN CERTIFICATE-----"));
    // A pod created at once waits for its account instead of failing.
    const std::string ns2 = ns + "-quick";
    MustRun({"create", "namespace", ns2}, minor);
    MustRun({"create", "-n", ns2, "-f", server_.WriteFile(ns2 + ".yaml", PodYaml("early"))}, minor);
  }
}

TEST_F(AdmissionE2ETest, PodsRunAsTheDefaultAccountWithTheProjectedToken) {
  MustRun({"create", "-f", server_.WriteFile("pod.yaml", PodYaml("web"))});
  const auto pod = GetJson({"pod", "web"});
  const auto& spec = pod.at("spec");
  EXPECT_EQ(spec.at("serviceAccountName"), "default");
  const auto& volume = spec.at("volumes").at(0);
  EXPECT_TRUE(std::string(volume.at("name").as_string()).starts_with("kube-api-access-"));
  EXPECT_EQ(volume.at("projected").at("sources").at(0).at("serviceAccountToken"),
            boost::json::parse(R"({"expirationSeconds":3607,"path":"token"})"));
  EXPECT_EQ(spec.at("containers").at(0).at("volumeMounts").at(0).at("mountPath"),
            "/var/run/secrets/kubernetes.io/serviceaccount");
  EXPECT_EQ(spec.at("priority"), 0);
  EXPECT_EQ(spec.at("tolerations").as_array().size(), 2u);

  auto missing =
      Kubectl({"create", "-f",
               server_.WriteFile("lost.yaml", PodYaml("lost", "  serviceAccountName: ghost\n"))});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("pods \"lost\" is forbidden: error looking up service account "
                             "default/ghost: serviceaccount \"ghost\" not found"),
            std::string::npos)
      << missing.err;
}

TEST_F(AdmissionE2ETest, PodSecurityRefusesAndWarnsWithUpstreamsMessages) {
  const std::string privileged =
      PodYaml("priv", "", "    securityContext:\n      privileged: true\n");
  for (const auto& minor : kKubectls) {
    const std::string strict = "strict-" + std::string(minor == "1.27" ? "a" : "b");
    MustRun({"create", "namespace", strict}, minor);
    MustRun({"label", "namespace", strict, "pod-security.kubernetes.io/enforce=restricted"}, minor);
    auto refused = Kubectl(
        {"create", "-n", strict, "-f", server_.WriteFile(strict + ".yaml", privileged)}, minor);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find(
                  "pods \"priv\" is forbidden: violates PodSecurity \"restricted:latest\": "
                  "privileged (container \"c\" must not set securityContext.privileged=true), "
                  "allowPrivilegeEscalation != false (container \"c\" must set "
                  "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
                  "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
                  "runAsNonRoot != true (pod or container \"c\" must set "
                  "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" "
                  "must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
                  "\"Localhost\")"),
              std::string::npos)
        << refused.err;
    // A deployment there is admitted, with a warning.
    auto deployment =
        Kubectl({"create", "deployment", "web", "-n", strict, "--image=nginx"}, minor);
    EXPECT_EQ(deployment.exit_code, 0) << deployment.err;
    EXPECT_NE(deployment.err.find("Warning: would violate PodSecurity \"restricted:latest\": "
                                  "allowPrivilegeEscalation != false"),
              std::string::npos)
        << deployment.err;

    const std::string watched = "watched-" + std::string(minor == "1.27" ? "a" : "b");
    MustRun({"create", "namespace", watched}, minor);
    MustRun({"label", "namespace", watched, "pod-security.kubernetes.io/warn=baseline"}, minor);
    auto warned = Kubectl(
        {"create", "-n", watched, "-f", server_.WriteFile(watched + ".yaml", privileged)}, minor);
    EXPECT_EQ(warned.exit_code, 0) << warned.err;
    EXPECT_NE(warned.err.find("Warning: would violate PodSecurity \"baseline:latest\": "
                              "privileged (container \"c\" must not set "
                              "securityContext.privileged=true)"),
              std::string::npos)
        << warned.err;
    // Enforcing a level the namespace's pods violate warns about them.
    auto enforced = Kubectl(
        {"label", "namespace", watched, "pod-security.kubernetes.io/enforce=baseline"}, minor);
    EXPECT_EQ(enforced.exit_code, 0) << enforced.err;
    EXPECT_NE(enforced.err.find("Warning: existing pods in namespace \"" + watched +
                                "\" violate the new PodSecurity enforce level \"baseline:latest\""),
              std::string::npos)
        << enforced.err;
    EXPECT_NE(enforced.err.find("Warning: priv: privileged\n"), std::string::npos) << enforced.err;
    auto invalid = Kubectl(
        {"label", "--overwrite", "namespace", watched, "pod-security.kubernetes.io/enforce=strict"},
        minor);
    EXPECT_NE(invalid.exit_code, 0);
    EXPECT_NE(invalid.err.find("Invalid value: \"strict\": must be one of privileged, baseline, "
                               "restricted"),
              std::string::npos)
        << invalid.err;
  }
}

TEST_F(AdmissionE2ETest, LimitRangeDefaultsAndBoundsPods) {
  MustRun({"create", "-f", server_.WriteFile("limits.yaml", R"(apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 128Mi
    defaultRequest:
      cpu: 100m
    max:
      cpu: "1"
)")});
  MustRun({"create", "-f", server_.WriteFile("sized.yaml", PodYaml("sized"))});
  const auto pod = GetJson({"pod", "sized"});
  EXPECT_EQ(pod.at("spec").at("containers").at(0).at("resources"),
            boost::json::parse(R"({"limits":{"cpu":"500m","memory":"128Mi"},
                                   "requests":{"cpu":"100m","memory":"128Mi"}})"));
  EXPECT_EQ(pod.at("metadata").at("annotations").at("kubernetes.io/limit-ranger"),
            "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for "
            "container c");
  auto big = Kubectl({"create", "-f",
                      server_.WriteFile("big.yaml", PodYaml("big", "",
                                                            "    resources:\n      limits:\n"
                                                            "        cpu: \"2\"\n"))});
  EXPECT_NE(big.exit_code, 0);
  EXPECT_NE(big.err.find("pods \"big\" is forbidden: maximum cpu usage per Container is 1, but "
                         "limit is 2"),
            std::string::npos)
      << big.err;
}

TEST_F(AdmissionE2ETest, PriorityClassesResolve) {
  const auto critical = GetJson({"priorityclass", "system-cluster-critical"});
  EXPECT_EQ(critical.at("value"), 2000000000);
  EXPECT_TRUE(Exists({"priorityclass", "system-node-critical"}));
  MustRun({"create", "-f",
           server_.WriteFile("critical.yaml",
                             PodYaml("critical", "  priorityClassName: system-node-critical\n"))});
  EXPECT_EQ(GetJson({"pod", "critical"}).at("spec").at("priority"), 2000001000);
  auto unknown =
      Kubectl({"create", "-f",
               server_.WriteFile("gold.yaml", PodYaml("gold", "  priorityClassName: gold\n"))});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("pods \"gold\" is forbidden: no PriorityClass with name gold was "
                             "found"),
            std::string::npos)
      << unknown.err;
}

// A kubelet's identity (system:node:n1 in system:nodes, from a static token) may change only its
// own Node, and only labels outside the ones that steer workloads.
TEST(NodeRestrictionE2ETest, NodesModifyOnlyThemselvesAndAllowedLabels) {
  testing::KppServer server;
  const std::string tokens =
      server.WriteFile("tokens.csv", "node-token,system:node:n1,n1-uid,system:nodes\n");
  ASSERT_TRUE(server.Start({"--token-auth-file", tokens}));
  for (const std::string name : {"n1", "n2"}) {
    ASSERT_EQ(server
                  .Kubectl({"create", "-f",
                            server.WriteFile(
                                name + ".yaml",
                                "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n")})
                  .exit_code,
              0);
  }
  const std::string node = server.TokenKubeconfig("node-token");
  for (const auto& minor : kKubectls) {
    auto other = server.Kubectl({"--kubeconfig", node, "label", "node", "n2", "a=b"}, minor);
    EXPECT_NE(other.exit_code, 0);
    EXPECT_NE(other.err.find("nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify "
                             "node \"n2\""),
              std::string::npos)
        << minor << ": " << other.err;
    auto restricted = server.Kubectl(
        {"--kubeconfig", node, "label", "node", "n1", "node-restriction.kubernetes.io/x=y"}, minor);
    EXPECT_NE(restricted.exit_code, 0);
    EXPECT_NE(restricted.err.find("nodes \"n1\" is forbidden: is not allowed to modify labels: "
                                  "node-restriction.kubernetes.io/x"),
              std::string::npos)
        << minor << ": " << restricted.err;
    auto own = server.Kubectl(
        {"--kubeconfig", node, "label", "--overwrite", "node", "n1", "example.com/rack=r" + minor},
        minor);
    EXPECT_EQ(own.exit_code, 0) << minor << ": " << own.err;
  }
}

}  // namespace
}  // namespace kpp
