// Per-kind object rules of the REST pipeline: the name rule of each kind (upstream's name
// validation functions) and what an update may not change (upstream's ValidateXUpdate), with
// upstream's field paths and messages.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "api/runtime/object_codec.h"
#include "apiserver/registry/object_name.h"
#include "apiserver/registry/update_validation.h"

namespace kpp::apiserver {
namespace {

const api::KindInfo& Kind(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << version << " " << kind;
  return api::AllKinds()[0];
}

api::ObjectPtr Decode(const api::KindInfo& kind, std::string_view json) {
  auto decoded = kind.codec->Decode(json, {});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  decoded->object->SetDefaults();
  return std::move(decoded->object);
}

std::vector<std::string> NameErrors(const api::KindInfo& kind, std::string_view name,
                                    std::string_view generate_name = "") {
  api::meta::v1::ObjectMeta metadata;
  metadata.name = name;
  metadata.generate_name = generate_name;
  validation::FieldErrors errors;
  ValidateObjectName(kind, metadata, errors);
  std::vector<std::string> texts;
  for (const auto& error : errors)
    texts.push_back(error.ToString());
  return texts;
}

std::vector<std::string> UpdateErrors(const api::KindInfo& kind, std::string_view old_json,
                                      std::string_view new_json) {
  auto old_object = Decode(kind, old_json);
  auto new_object = Decode(kind, new_json);
  validation::FieldErrors errors;
  ValidateUpdate(kind, *old_object, *new_object, errors);
  std::vector<std::string> texts;
  for (const auto& error : errors)
    texts.push_back(error.ToString());
  return texts;
}

using Errors = std::vector<std::string>;

TEST(ObjectNameTest, MostKindsTakeADnsSubdomain) {
  const auto& config_map = Kind("", "v1", "ConfigMap");
  EXPECT_EQ(NameErrors(config_map, "web.example-1"), Errors{});
  EXPECT_EQ(NameErrors(config_map, "Foo"),
            Errors{"metadata.name: Invalid value: \"Foo\": a lowercase RFC 1123 subdomain must "
                   "consist of lower case alphanumeric characters, '-' or '.', and must start and "
                   "end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"});
  EXPECT_EQ(NameErrors(Kind("", "v1", "Node"), "node-1.example.com"), Errors{});
  EXPECT_EQ(NameErrors(Kind("apps", "v1", "Deployment"), "web.v2"), Errors{});
}

TEST(ObjectNameTest, NamespacesTakeADnsLabel) {
  const auto& ns = Kind("", "v1", "Namespace");
  EXPECT_EQ(NameErrors(ns, "team.a"),
            Errors{"metadata.name: Invalid value: \"team.a\": must not contain dots"});
  EXPECT_EQ(NameErrors(ns, "Team-a"),
            Errors{"metadata.name: Invalid value: \"Team-a\": a lowercase RFC 1123 label must "
                   "consist of lower case alphanumeric characters or '-', and must start and end "
                   "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"});
}

TEST(ObjectNameTest, ServicesTakeADns1035Label) {
  const auto& service = Kind("", "v1", "Service");
  EXPECT_EQ(NameErrors(service, "web"), Errors{});
  EXPECT_EQ(NameErrors(service, "1web"),
            Errors{"metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower "
                   "case alphanumeric characters or '-', start with an alphabetic character, and "
                   "end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used "
                   "for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"});
}

TEST(ObjectNameTest, RbacKindsAndVolumesTakeAPathSegment) {
  for (auto kind : {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}) {
    const auto& info = Kind("rbac.authorization.k8s.io", "v1", kind);
    EXPECT_EQ(NameErrors(info, "system:controller:Foo_bar"), Errors{}) << kind;
    EXPECT_EQ(NameErrors(info, ".."),
              Errors{"metadata.name: Invalid value: \"..\": may not be '..'"});
    EXPECT_EQ(NameErrors(info, "a/b%c"),
              (Errors{"metadata.name: Invalid value: \"a/b%c\": may not contain '/'",
                      "metadata.name: Invalid value: \"a/b%c\": may not contain '%'"}));
  }
  EXPECT_EQ(NameErrors(Kind("", "v1", "PersistentVolume"), "Pv_1"), Errors{});
  EXPECT_EQ(NameErrors(Kind("", "v1", "PersistentVolumeClaim"), "Data_1"), Errors{});
}

TEST(ObjectNameTest, GenerateNameIsCheckedAsAPrefixAndTheGeneratedNameInFull) {
  const auto& service = Kind("", "v1", "Service");
  EXPECT_EQ(NameErrors(service, "web-x7k2p", "web-"), Errors{});
  const auto errors = NameErrors(service, "Web-x7k2p", "Web-");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(
      errors[0].starts_with("metadata.generateName: Invalid value: \"Web-\": a DNS-1035 "
                            "label must consist of"))
      << errors[0];
  EXPECT_TRUE(errors[1].starts_with("metadata.name: Invalid value: \"Web-x7k2p\": a DNS-1035"))
      << errors[1];
  EXPECT_EQ(NameErrors(service, ""),
            Errors{"metadata.name: Required value: name or generateName is required"});
}

TEST(ObjectNameTest, CronJobNamesLeaveRoomForTheJobSuffix) {
  const auto& cron_job = Kind("batch", "v1", "CronJob");
  EXPECT_EQ(NameErrors(cron_job, std::string(52, 'a')), Errors{});
  const std::string long_name(53, 'a');
  EXPECT_EQ(NameErrors(cron_job, long_name), Errors{"metadata.name: Invalid value: \"" + long_name +
                                                    "\": must be no more than 52 characters"});
}

std::string Deployment(const std::string& app, int replicas) {
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{)"
         R"("selector":{"matchLabels":{"app":")" +
         app + R"("}},"replicas":)" + std::to_string(replicas) +
         R"(,"template":{"metadata":{"labels":{"app":")" + app +
         R"("}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}})";
}

TEST(UpdateRulesTest, ASelectorIsImmutable) {
  const auto& deployment = Kind("apps", "v1", "Deployment");
  EXPECT_EQ(UpdateErrors(deployment, Deployment("web", 1), Deployment("web", 3)), Errors{});
  EXPECT_EQ(UpdateErrors(deployment, Deployment("web", 1), Deployment("web2", 1)),
            Errors{"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"
                   "\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
                   "field is immutable"});
}

TEST(UpdateRulesTest, RemovedVersionsLetADeploymentSelectorChange) {
  // Upstream exempted apps/v1beta1 and extensions/v1beta1; the objects are compared as stored.
  const auto& stored = Kind("apps", "v1", "Deployment");
  auto old_object = Decode(stored, Deployment("web", 1));
  auto new_object = Decode(stored, Deployment("web2", 1));
  validation::FieldErrors errors;
  ValidateUpdate(Kind("apps", "v1beta1", "Deployment"), *old_object, *new_object, errors);
  EXPECT_TRUE(errors.empty());
  ValidateUpdate(Kind("apps", "v1beta2", "Deployment"), *old_object, *new_object, errors);
  EXPECT_EQ(errors.size(), 1u);
}

TEST(UpdateRulesTest, AJobTemplateIsImmutableButACronJobTemplateIsNot) {
  const auto job = [](const std::string& image) {
    return R"({"metadata":{"name":"once"},"spec":{"selector":{"matchLabels":{"j":"1"}},)"
           R"("template":{"metadata":{"labels":{"j":"1"}},"spec":{"restartPolicy":"Never",)"
           R"("containers":[{"name":"c","image":")" +
           image + R"("}]}}}})";
  };
  const auto errors = UpdateErrors(Kind("batch", "v1", "Job"), job("busybox"), job("alpine"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("spec.template: Invalid value: "));
  EXPECT_TRUE(errors[0].ends_with(": field is immutable"));
  const auto cron_job = [](const std::string& image) {
    return R"({"metadata":{"name":"nightly"},"spec":{"schedule":"0 0 * * *","jobTemplate":{)"
           R"("spec":{"selector":{"matchLabels":{"j":"1"}},"template":{"spec":{)"
           R"("restartPolicy":"Never","containers":[{"name":"c","image":")" +
           image + R"("}]}}}}}})";
  };
  EXPECT_EQ(UpdateErrors(Kind("batch", "v1", "CronJob"), cron_job("busybox"), cron_job("alpine")),
            Errors{});
}

TEST(UpdateRulesTest, AStatefulSetSpecChangesOnlyInItsScalingAndTemplateFields) {
  const auto set = [](int replicas, const std::string& service) {
    return R"({"metadata":{"name":"db"},"spec":{"replicas":)" + std::to_string(replicas) +
           R"(,"serviceName":")" + service +
           R"(","selector":{"matchLabels":{"app":"db"}},"template":{"metadata":{"labels":{)"
           R"("app":"db"}},"spec":{"containers":[{"name":"db","image":"postgres"}]}}}})";
  };
  const auto& stateful_set = Kind("apps", "v1", "StatefulSet");
  EXPECT_EQ(UpdateErrors(stateful_set, set(1, "db"), set(3, "db")), Errors{});
  EXPECT_EQ(UpdateErrors(stateful_set, set(1, "db"), set(1, "db2")),
            Errors{"spec: Forbidden: updates to statefulset spec for fields other than "
                   "'replicas', 'ordinals', 'template', 'updateStrategy', "
                   "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"});
}

TEST(UpdateRulesTest, ImmutableConfigMapsAndSecrets) {
  const auto& config_map = Kind("", "v1", "ConfigMap");
  EXPECT_EQ(UpdateErrors(config_map, R"({"metadata":{"name":"c"},"data":{"a":"1"}})",
                         R"({"metadata":{"name":"c"},"data":{"a":"2"}})"),
            Errors{});
  EXPECT_EQ(
      UpdateErrors(config_map, R"({"metadata":{"name":"c"},"immutable":true,"data":{"a":"1"}})",
                   R"({"metadata":{"name":"c"},"data":{"a":"2"}})"),
      (Errors{"immutable: Forbidden: field is immutable when `immutable` is set",
              "data: Forbidden: field is immutable when `immutable` is set"}));
  EXPECT_EQ(UpdateErrors(Kind("", "v1", "Secret"), R"({"metadata":{"name":"s"},"type":"Opaque"})",
                         R"({"metadata":{"name":"s"},"type":"kubernetes.io/tls"})"),
            Errors{"type: Invalid value: \"kubernetes.io/tls\": field is immutable"});
}

TEST(UpdateRulesTest, ARoleBindingKeepsItsRole) {
  const auto binding = [](const std::string& role) {
    return R"({"metadata":{"name":"b"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",)"
           R"("kind":"Role","name":")" +
           role + R"("}})";
  };
  EXPECT_EQ(UpdateErrors(Kind("rbac.authorization.k8s.io", "v1", "RoleBinding"), binding("a"),
                         binding("b")),
            Errors{"roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
                   "Kind:\"Role\", Name:\"b\"}: cannot change roleRef"});
}

TEST(UpdateRulesTest, AServiceKeepsItsClusterIp) {
  const auto& service = Kind("", "v1", "Service");
  const auto svc = [](const std::string& ip) {
    return R"({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"clusterIP":")" + ip +
           R"("}})";
  };
  EXPECT_EQ(UpdateErrors(service, svc("10.0.0.10"), svc("")), Errors{});
  EXPECT_EQ(UpdateErrors(service, svc(""), svc("10.0.0.11")), Errors{});
  EXPECT_EQ(UpdateErrors(service, svc("10.0.0.10"), svc("10.0.0.11")),
            Errors{"spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.11\"}: may not change "
                   "once set"});
}

TEST(UpdateRulesTest, ABoundClaimMayOnlyGrow) {
  const auto& claim = Kind("", "v1", "PersistentVolumeClaim");
  const auto pvc = [](const std::string& size, const std::string& mode) {
    return R"({"metadata":{"name":"data"},"spec":{"accessModes":[")" + mode +
           R"("],"resources":{"requests":{"storage":")" + size +
           R"("}}},"status":{"phase":"Bound"}})";
  };
  EXPECT_EQ(UpdateErrors(claim, pvc("1Gi", "ReadWriteOnce"), pvc("2Gi", "ReadWriteOnce")),
            Errors{});
  EXPECT_EQ(UpdateErrors(claim, pvc("1Gi", "ReadWriteOnce"), pvc("1Gi", "ReadWriteMany")),
            Errors{"spec: Forbidden: spec is immutable after creation except resources.requests "
                   "for bound claims"});
}

TEST(UpdateRulesTest, StorageClassesAndPriorityClasses) {
  EXPECT_EQ(
      UpdateErrors(Kind("storage.k8s.io", "v1", "StorageClass"),
                   R"({"metadata":{"name":"fast"},"provisioner":"a","parameters":{"x":"1"}})",
                   R"({"metadata":{"name":"fast"},"provisioner":"b","parameters":{"x":"2"},)"
                   R"("volumeBindingMode":"WaitForFirstConsumer"})"),
      (Errors{"volumeBindingMode: Invalid value: \"WaitForFirstConsumer\": field is immutable",
              "parameters: Forbidden: updates to parameters are forbidden.",
              "provisioner: Forbidden: updates to provisioner are forbidden."}));
  EXPECT_EQ(UpdateErrors(Kind("scheduling.k8s.io", "v1", "PriorityClass"),
                         R"({"metadata":{"name":"high"},"value":1000})",
                         R"({"metadata":{"name":"high"},"value":2000})"),
            Errors{"value: Forbidden: may not be changed in an update."});
}

TEST(UpdateRulesTest, APodChangesOnlyItsImagesAndAFewMore) {
  const auto& pod = Kind("", "v1", "Pod");
  const auto p = [](const std::string& image, const std::string& extra) {
    return R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":")" + image +
           R"("}])" + extra + "}}";
  };
  EXPECT_EQ(UpdateErrors(pod, p("nginx:1", ""), p("nginx:2", R"(,"activeDeadlineSeconds":5)")),
            Errors{});
  EXPECT_EQ(UpdateErrors(pod, p("nginx:1", ""),
                         p("nginx:1", R"(,"tolerations":[{"key":"a","operator":"Exists"}])")),
            Errors{});
  const auto errors = UpdateErrors(pod, p("nginx:1", ""), p("nginx:1", R"(,"hostname":"x")"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with(
      "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
      "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
      "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
      "set to 1 if it was previously negative)\n"))
      << errors[0];
  EXPECT_NE(errors[0].find("spec.hostname"), std::string::npos);
}

}  // namespace
}  // namespace kpp::apiserver
