#include "apiserver/admission/pod_security.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "apiserver/admission/admission_config.h"
#include "apiserver/admission/fake_reader.h"

namespace kpp::apiserver::admission {
namespace {

std::string Violations(PodSecurityLevel level, std::string_view pod_json,
                       int minor = kLatestPodSecurityMinor) {
  auto pod = boost::json::parse(pod_json).as_object();
  const auto* metadata = pod.if_contains("metadata");
  return PodSecurityViolations(level, metadata ? &metadata->as_object() : nullptr,
                               &pod.at("spec").as_object(), minor);
}

constexpr std::string_view kPlainPod = R"({"spec":{"containers":[{"name":"c","image":"nginx"}]}})";

constexpr std::string_view kRestrictedPod = R"({"spec":{
  "securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
  "containers":[{"name":"c","image":"nginx","securityContext":{
    "allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}})";

TEST(PodSecurityChecksTest, PlainPodPassesBaselineAndFailsRestrictedWithUpstreamsMessage) {
  EXPECT_EQ(Violations(PodSecurityLevel::kBaseline, kPlainPod), "");
  EXPECT_EQ(Violations(PodSecurityLevel::kPrivileged, kPlainPod), "");
  EXPECT_EQ(Violations(PodSecurityLevel::kRestricted, kPlainPod),
            "allowPrivilegeEscalation != false (container \"c\" must set "
            "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
            "runAsNonRoot != true (pod or container \"c\" must set "
            "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set "
            "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
  EXPECT_EQ(Violations(PodSecurityLevel::kRestricted, kRestrictedPod), "");
}

// Upstream's checks by version: each from the version that introduced it, older forms before
// a change.
TEST(PodSecurityChecksTest, VersionsHaveTheChecksUpstreamHadThen) {
  const auto restricted = PodSecurityLevel::kRestricted;
  const auto baseline = PodSecurityLevel::kBaseline;
  const std::string run_as_non_root =
      "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)";
  // 1.7: neither allowPrivilegeEscalation (1.8), restricted capabilities (1.22) nor restricted
  // seccomp (1.19).
  EXPECT_EQ(Violations(restricted, kPlainPod, 7), run_as_non_root);
  EXPECT_EQ(Violations(restricted, kPlainPod, 21),
            "allowPrivilegeEscalation != false (container \"c\" must set "
            "securityContext.allowPrivilegeEscalation=false), " +
                run_as_non_root +
                ", seccompProfile (pod or container \"c\" must set "
                "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
  EXPECT_NE(Violations(restricted, kPlainPod, 22).find("unrestricted capabilities"),
            std::string::npos);

  // runAsUser=0 from 1.23.
  const std::string root = R"({"spec":{
    "securityContext":{"runAsNonRoot":true,"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
    "containers":[{"name":"c","image":"nginx","securityContext":{
      "allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}})";
  EXPECT_EQ(Violations(restricted, root, 22), "");
  EXPECT_EQ(Violations(restricted, root, 23), "runAsUser=0 (pod must not set runAsUser=0)");

  // Windows pods skip the Linux-only restricted checks from 1.25.
  const std::string windows = R"({"spec":{"os":{"name":"windows"},
    "securityContext":{"runAsNonRoot":true},"containers":[{"name":"c","image":"x"}]}})";
  EXPECT_EQ(Violations(restricted, windows, 25), "");
  EXPECT_EQ(Violations(restricted, windows, 24).substr(0, 34),
            "allowPrivilegeEscalation != false ");

  // Seccomp: the alpha annotations before 1.19, the field from then on.
  const std::string annotated = R"({"metadata":{"annotations":{
    "seccomp.security.alpha.kubernetes.io/pod":"unconfined",
    "container.seccomp.security.alpha.kubernetes.io/c":"runtime/default"}},
    "spec":{"securityContext":{"seccompProfile":{"type":"Unconfined"}},
    "containers":[{"name":"c","image":"x"}]}})";
  EXPECT_EQ(Violations(baseline, annotated, 18),
            "seccompProfile (forbidden annotation "
            "seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")");
  EXPECT_EQ(Violations(baseline, annotated, 19),
            "seccompProfile (pod must not set securityContext.seccompProfile.type to "
            "\"Unconfined\")");

  // Sysctls allowed later, and SELinux's container_engine_t from 1.31.
  const std::string sysctl = R"({"spec":{"securityContext":{"sysctls":[
    {"name":"net.ipv4.tcp_rmem","value":"4096 87380 6291456"}]},"containers":[{"name":"c"}]}})";
  EXPECT_EQ(Violations(baseline, sysctl, 31), "forbidden sysctls (net.ipv4.tcp_rmem)");
  EXPECT_EQ(Violations(baseline, sysctl, 32), "");
  const std::string engine = R"({"spec":{"securityContext":{"seLinuxOptions":{
    "type":"container_engine_t"}},"containers":[{"name":"c"}]}})";
  EXPECT_EQ(Violations(baseline, engine, 30),
            "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "
            "\"container_engine_t\")");
  EXPECT_EQ(Violations(baseline, engine, 31), "");
}

TEST(PodSecurityChecksTest, BaselineChecks) {
  struct Case {
    std::string_view pod;
    std::string_view expected;
  };
  const Case cases[] = {
      {R"({"spec":{"hostNetwork":true,"hostPID":true,"containers":[{"name":"a"}]}})",
       "host namespaces (hostNetwork=true, hostPID=true)"},
      {R"({"spec":{"containers":[{"name":"a","securityContext":{"privileged":true}},
                                 {"name":"b","securityContext":{"privileged":true}}]}})",
       "privileged (containers \"a\", \"b\" must not set securityContext.privileged=true)"},
      {R"({"spec":{"containers":[{"name":"a","securityContext":{"capabilities":
           {"add":["NET_ADMIN","CHOWN","SYS_TIME"]}}}]}})",
       "non-default capabilities (container \"a\" must not include \"NET_ADMIN\", \"SYS_TIME\" "
       "in securityContext.capabilities.add)"},
      {R"({"spec":{"volumes":[{"name":"v","hostPath":{"path":"/"}}],"containers":[{"name":"a"}]}})",
       "hostPath volumes (volume \"v\")"},
      {R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"hostPort":80},
           {"containerPort":8080,"hostPort":8080}]}]}})",
       "hostPort (container \"a\" uses hostPorts 80, 8080)"},
      {R"({"spec":{"containers":[{"name":"a","securityContext":{"procMount":"Unmasked"}}]}})",
       "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\")"},
      {R"({"spec":{"securityContext":{"seLinuxOptions":{"type":"spc_t","user":"u"}},
           "containers":[{"name":"a"}]}})",
       "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user "
       "may not be set)"},
      {R"({"spec":{"securityContext":{"seccompProfile":{"type":"Unconfined"}},
           "containers":[{"name":"a"}]}})",
       "seccompProfile (pod must not set securityContext.seccompProfile.type to "
       "\"Unconfined\")"},
      {R"({"spec":{"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"},
           {"name":"net.ipv4.tcp_syncookies","value":"1"}]},"containers":[{"name":"a"}]}})",
       "forbidden sysctls (kernel.msgmax)"},
      {R"({"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/a":
           "unconfined"}},"spec":{"containers":[{"name":"a"}]}})",
       "forbidden AppArmor profile (annotation must not set AppArmor profile type to "
       "\"container.apparmor.security.beta.kubernetes.io/a=\"unconfined\"\")"},
      {R"({"spec":{"containers":[{"name":"a","securityContext":{"windowsOptions":
           {"hostProcess":true}}}]}})",
       "hostProcess (container \"a\" must not set securityContext.windowsOptions."
       "hostProcess=true)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Violations(PodSecurityLevel::kBaseline, c.pod), c.expected) << c.pod;
  }
}

TEST(PodSecurityChecksTest, RestrictedReplacesBaselineVolumeCheck) {
  constexpr std::string_view pod = R"({"spec":{
    "securityContext":{"runAsNonRoot":true,"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
    "volumes":[{"name":"h","hostPath":{"path":"/"}},{"name":"n","nfs":{"server":"s","path":"/"}},
               {"name":"e","emptyDir":{}}],
    "containers":[{"name":"c","securityContext":{"allowPrivilegeEscalation":false,
      "capabilities":{"drop":["ALL"],"add":["NET_BIND_SERVICE","SYS_ADMIN"]}}}]}})";
  EXPECT_EQ(Violations(PodSecurityLevel::kRestricted, pod),
            "unrestricted capabilities (container \"c\" must not include \"SYS_ADMIN\" in "
            "securityContext.capabilities.add), restricted volume types (volumes \"h\", \"n\" "
            "use restricted volume types \"hostPath\", \"nfs\"), runAsUser=0 (pod must not set "
            "runAsUser=0)");
}

class PodSecurityPluginTest : public ::testing::Test {
 protected:
  void Namespace(std::string name, std::string labels) {
    reader_.Add("", "namespaces",
                "{\"metadata\":{\"name\":\"" + name + "\",\"labels\":" + labels + "}}");
  }
  std::optional<Rejection> Run(std::string group, std::string resource, std::string namespace_,
                               std::string name, std::string json,
                               const PodSecurityConfig& config = {}, std::string user = "alice") {
    object_ = boost::json::parse(json).as_object();
    Attributes attributes;
    attributes.group = std::move(group);
    attributes.resource = std::move(resource);
    attributes.namespace_ = std::move(namespace_);
    attributes.name = std::move(name);
    attributes.object = &object_;
    attributes.user.name = std::move(user);
    warnings_.clear();
    annotations_.clear();
    Context context{reader_, RealClock(), warnings_};
    context.audit_annotations = &annotations_;
    return PodSecurity(config).Validate(attributes, context);
  }
  std::map<std::string, std::string> Annotations() const {
    return {annotations_.begin(), annotations_.end()};
  }
  FakeReader reader_;
  boost::json::object object_;
  std::vector<std::string> warnings_;
  std::vector<std::pair<std::string, std::string>> annotations_;
};

TEST_F(PodSecurityPluginTest, EnforceRefusesWarnWarnsTemplatesOnlyWarn) {
  Namespace("open", "{}");
  Namespace("strict", R"({"pod-security.kubernetes.io/enforce":"restricted"})");
  Namespace("watched", R"({"pod-security.kubernetes.io/enforce":"baseline",
                          "pod-security.kubernetes.io/warn":"restricted",
                          "pod-security.kubernetes.io/warn-version":"v1.32"})");
  const std::string privileged =
      R"({"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}})";
  EXPECT_FALSE(Run("", "pods", "open", "p", privileged));
  EXPECT_TRUE(warnings_.empty());

  auto refused = Run("", "pods", "strict", "p", privileged);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": privileged "
            "(container \"c\" must not set securityContext.privileged=true), "
            "allowPrivilegeEscalation != false (container \"c\" must set "
            "securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), "
            "runAsNonRoot != true (pod or container \"c\" must set "
            "securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set "
            "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");

  EXPECT_FALSE(Run("", "pods", "watched", "p", std::string(kPlainPod)));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0].substr(0, 60),
            "would violate PodSecurity \"restricted:v1.32\": allowPrivilege");

  // A deployment is never refused, only warned about, at the enforce level when warn is unset.
  auto deployment = R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x",
      "securityContext":{"privileged":true}}]}}}})";
  EXPECT_FALSE(Run("apps", "deployments", "strict", "d", deployment));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_TRUE(
      warnings_[0].starts_with("would violate PodSecurity \"restricted:latest\": "
                               "privileged (container \"c\""))
      << warnings_[0];
}

TEST_F(PodSecurityPluginTest, VersionLabelsChooseTheChecks) {
  Namespace("old", R"({"pod-security.kubernetes.io/enforce":"restricted",
                      "pod-security.kubernetes.io/enforce-version":"v1.7"})");
  Namespace("future", R"({"pod-security.kubernetes.io/enforce":"restricted",
                         "pod-security.kubernetes.io/enforce-version":"v1.99"})");
  auto refused = Run("", "pods", "old", "p", std::string(kPlainPod));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: violates PodSecurity \"restricted:v1.7\": runAsNonRoot "
            "!= true (pod or container \"c\" must set securityContext.runAsNonRoot=true)");
  // A version newer than the server's is evaluated as its latest, named as labelled.
  refused = Run("", "pods", "future", "p", std::string(kPlainPod));
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->error.message().starts_with(
      "pods \"p\" is forbidden: violates PodSecurity \"restricted:v1.99\": "
      "allowPrivilegeEscalation != false"))
      << refused->error.message();
  EXPECT_NE(refused->error.message().find("unrestricted capabilities"), std::string::npos);
}

}  // namespace
}  // namespace kpp::apiserver::admission

namespace kpp::apiserver::admission {
namespace {

class PodSecurityNamespaceTest : public PodSecurityPluginTest {
 protected:
  std::optional<Rejection> Label(Operation operation, std::string labels,
                                 std::string old_labels = "{}") {
    object_ =
        boost::json::parse(R"({"metadata":{"name":"team","labels":)" + labels + "}}").as_object();
    old_ = boost::json::parse(R"({"metadata":{"name":"team","labels":)" + old_labels + "}}")
               .as_object();
    Attributes attributes;
    attributes.resource = "namespaces";
    attributes.name = "team";
    attributes.operation = operation;
    attributes.object = &object_;
    attributes.old_object = operation == Operation::kUpdate ? &old_ : nullptr;
    warnings_.clear();
    Context context{reader_, RealClock(), warnings_};
    return PodSecurity().Validate(attributes, context);
  }
  boost::json::object old_;
};

TEST_F(PodSecurityNamespaceTest, InvalidLabelsAreRefusedAndStricterLevelsWarnAboutPods) {
  auto refused = Label(Operation::kCreate, R"({"pod-security.kubernetes.io/enforce":"strict",
      "pod-security.kubernetes.io/warn-version":"1.30"})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 422);
  EXPECT_EQ(refused->error.message(),
            "Namespace \"team\" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: "
            "Invalid value: \"strict\": must be one of privileged, baseline, restricted, "
            "metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.30\": "
            "must be \"latest\" or \"v1.x\"]");

  for (const char* name : {"a", "b", "c"}) {
    reader_.Add("", "pods",
                std::string(R"({"metadata":{"name":")") + name +
                    R"(","namespace":"team"},"spec":{"containers":[{"name":"c",
                                "securityContext":{"privileged":true}}]}})");
  }
  reader_.Add("", "pods", R"({"metadata":{"name":"host","namespace":"team"},
      "spec":{"hostNetwork":true,"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(Label(Operation::kUpdate, R"({"pod-security.kubernetes.io/enforce":"baseline"})"));
  EXPECT_EQ(warnings_,
            (std::vector<std::string>{
                "existing pods in namespace \"team\" violate the new PodSecurity enforce level "
                "\"baseline:latest\"",
                "a (and 2 other pods): privileged", "host: host namespaces"}));
  // A looser level says nothing.
  EXPECT_FALSE(Label(Operation::kUpdate, R"({"pod-security.kubernetes.io/enforce":"baseline"})",
                     R"({"pod-security.kubernetes.io/enforce":"restricted"})"));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(PodSecurityPluginTest, PodUpdatesAreCheckedWhenTheyChangeImagesOrContainers) {
  Namespace("strict", R"({"pod-security.kubernetes.io/enforce":"restricted"})");
  boost::json::object old =
      boost::json::parse(
          R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"a"}]}})")
          .as_object();
  const auto update = [&](std::string json) {
    object_ = boost::json::parse(json).as_object();
    Attributes attributes;
    attributes.resource = "pods";
    attributes.namespace_ = "strict";
    attributes.name = "p";
    attributes.operation = Operation::kUpdate;
    attributes.object = &object_;
    attributes.old_object = &old;
    Context context{reader_, RealClock(), warnings_};
    return PodSecurity().Validate(attributes, context);
  };
  EXPECT_FALSE(update(R"({"metadata":{"name":"p","labels":{"x":"y"}},
      "spec":{"containers":[{"name":"c","image":"a"}]}})"));
  EXPECT_TRUE(
      update(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"b"}]}})"));
}

TEST_F(PodSecurityPluginTest, AuditViolationsAndTheEnforcedPolicyGoToTheAuditEvent) {
  Namespace("audited", R"({"pod-security.kubernetes.io/audit":"restricted",
                          "pod-security.kubernetes.io/enforce":"baseline"})");
  Namespace("open", "{}");
  const std::string plain = R"({"spec":{"containers":[{"name":"c","image":"nginx"}]}})";
  EXPECT_FALSE(Run("", "pods", "audited", "p", plain));
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Annotations(),
            (std::map<std::string, std::string>{
                {"pod-security.kubernetes.io/enforce-policy", "baseline:latest"},
                {"pod-security.kubernetes.io/audit-violations",
                 "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != "
                 "false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), "
                 "unrestricted capabilities (container \"c\" must set "
                 "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or "
                 "container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile "
                 "(pod or container \"c\" must set securityContext.seccompProfile.type to "
                 "\"RuntimeDefault\" or \"Localhost\")"}}));
  // Templates: audited, never enforced.
  EXPECT_FALSE(Run("apps", "deployments", "audited", "d",
                   R"({"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}})"));
  EXPECT_FALSE(Annotations().contains("pod-security.kubernetes.io/enforce-policy"));
  EXPECT_TRUE(Annotations().contains("pod-security.kubernetes.io/audit-violations"));
  // A fully privileged namespace is not evaluated.
  EXPECT_FALSE(Run("", "pods", "open", "p", plain));
  EXPECT_TRUE(annotations_.empty());
  // Invalid labels: the error too.
  Namespace("typo", R"({"pod-security.kubernetes.io/audit":"strict"})");
  EXPECT_FALSE(Run("", "pods", "typo", "p", plain));
  EXPECT_EQ(Annotations()["pod-security.kubernetes.io/error"],
            "Failed to parse policy: metadata.labels[pod-security.kubernetes.io/audit]: Invalid "
            "value: \"strict\": must be one of privileged, baseline, restricted");
}

TEST_F(PodSecurityPluginTest, ConfigurationDefaultsAndExemptions) {
  Namespace("plain", "{}");
  Namespace("tooling", R"({"pod-security.kubernetes.io/enforce":"restricted"})");
  PodSecurityConfig config;
  config.enforce = {PodSecurityLevel::kBaseline, "latest"};
  config.warn = {PodSecurityLevel::kRestricted, "v1.30"};
  config.exempt_usernames = {"bob"};
  config.exempt_namespaces = {"tooling"};
  config.exempt_runtime_classes = {"kata"};
  const std::string privileged =
      R"({"spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}})";
  auto refused = Run("", "pods", "plain", "p", privileged, config);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->error.message().find("violates PodSecurity \"baseline:latest\""),
            std::string::npos);
  EXPECT_FALSE(Run("", "pods", "plain", "p", R"({"spec":{"containers":[{"name":"c"}]}})", config));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_TRUE(warnings_[0].starts_with("would violate PodSecurity \"restricted:v1.30\": "));

  EXPECT_FALSE(Run("", "pods", "tooling", "p", privileged, config));
  EXPECT_EQ(
      Annotations(),
      (std::map<std::string, std::string>{{"pod-security.kubernetes.io/exempt", "namespace"}}));
  EXPECT_FALSE(Run("", "pods", "plain", "p", privileged, config, "bob"));
  EXPECT_EQ(Annotations()["pod-security.kubernetes.io/exempt"], "user");
  EXPECT_FALSE(Run("", "pods", "plain", "p",
                   R"({"spec":{"runtimeClassName":"kata",
                       "containers":[{"name":"c","securityContext":{"privileged":true}}]}})",
                   config));
  EXPECT_EQ(Annotations()["pod-security.kubernetes.io/exempt"], "runtimeClass");
}

TEST(PodSecurityConfigTest, ParsesAndValidatesAsUpstream) {
  const auto parse = [](std::string_view body) {
    return ParseAdmissionConfiguration(
        std::string("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\n"
                    "plugins:\n- name: PodSecurity\n  configuration:\n"
                    "    apiVersion: pod-security.admission.config.k8s.io/v1\n"
                    "    kind: PodSecurityConfiguration\n") +
            std::string(body),
        ".");
  };
  auto config = parse(
      "    defaults:\n      enforce: restricted\n      audit-version: v1.25\n"
      "    exemptions:\n      usernames: [bob]\n      namespaces: [kube-system]\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->pod_security.enforce.level, PodSecurityLevel::kRestricted);
  EXPECT_EQ(config->pod_security.audit.level, PodSecurityLevel::kPrivileged);
  EXPECT_EQ(config->pod_security.audit.version, "v1.25");
  EXPECT_EQ(config->pod_security.exempt_usernames, std::vector<std::string>{"bob"});
  EXPECT_EQ(config->pod_security.exempt_namespaces, std::vector<std::string>{"kube-system"});

  auto bad_level = parse("    defaults:\n      warn: strict\n");
  ASSERT_FALSE(bad_level.ok());
  EXPECT_EQ(bad_level.error().message(),
            "couldn't init admission plugin \"PodSecurity\": defaults.warn: Invalid value: "
            "\"strict\": must be one of privileged, baseline, restricted");
  auto unknown = parse("    exemptions:\n      users: [bob]\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("unknown field \"exemptions.users\""),
            std::string::npos);
  auto empty_user = parse("    exemptions:\n      usernames: [\"\"]\n");
  ASSERT_FALSE(empty_user.ok());
  EXPECT_NE(empty_user.error().message().find(
                "exemptions.usernames[0]: Invalid value: \"\": username must not be empty"),
            std::string::npos);
  // Other plugins' entries are not read; no PodSecurity entry gives the defaults.
  auto others = ParseAdmissionConfiguration(
      "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"
      "- name: EventRateLimit\n  path: eventconfig.yaml\n",
      ".");
  ASSERT_TRUE(others.ok());
  EXPECT_EQ(others->pod_security.enforce.level, PodSecurityLevel::kPrivileged);
}

}  // namespace
}  // namespace kpp::apiserver::admission
