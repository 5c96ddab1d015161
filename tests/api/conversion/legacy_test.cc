// The removed versions served for old manifests (apps/v1beta1, apps/v1beta2,
// extensions/v1beta1, batch/v1beta1, scheduling.k8s.io/v1alpha1 and v1beta1): their old defaults,
// and conversion to and from the stored versions (apps/v1, networking.k8s.io/v1) without losing
// anything.
#include "api/conversion/legacy.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/apps/v1beta1/codec.h"
#include "api/conversion/conversions.h"
#include "api/extensions/v1beta1/codec.h"
#include "api/runtime/kinds.h"
#include "api/schema_test_support.h"

namespace kpp::api::conversion {
namespace {

using testing::Defaulted;

const KindInfo& Find(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& info : AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << version << " " << kind;
  std::abort();
}

ObjectPtr Decode(const KindInfo& kind, std::string_view json) {
  auto decoded = kind.codec->Decode(json, {.unknown_fields = UnknownFields::kReject});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message();
  return decoded.ok() ? std::move(decoded->object) : nullptr;
}

// `json`, an object of `from`, converted to `to` and encoded.
std::string Converted(const KindInfo& from, const KindInfo& to, std::string_view json) {
  auto object = Decode(from, json);
  if (object == nullptr) return "";
  auto converted = Convert(*object, from, to);
  EXPECT_TRUE(converted.ok()) << converted.error().message();
  return converted.ok() ? (*converted)->ToJson() : "";
}

// A pod template as the server stores it.
const std::string kTemplate =
    R"("template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{)"
    R"("containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,)"
    R"("protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
    R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
    R"("securityContext":{},"schedulerName":"default-scheduler"}})";

const std::string kMetadata =
    R"("metadata":{"name":"web","namespace":"shop","uid":"0d1c2b3a-4f5e-4d6c-8b7a-9f8e7d6c5b4a",)"
    R"("resourceVersion":"310","generation":4,"creationTimestamp":"2024-06-01T08:00:00Z",)"
    R"("labels":{"app":"web"},"annotations":{"team":"storefront"}})";

// apps/v1 objects as stored, with every field their old versions have. (The claim template
// leaves out the kind and apiVersion the apps/v1 defaults write: protobuf does not carry them.)
const std::string kDeployment =
    R"({"kind":"Deployment","apiVersion":"apps/v1",)" + kMetadata +
    R"(,"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},)" + kTemplate +
    R"(,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,)"
    R"("maxSurge":"50%"}},"minReadySeconds":5,"revisionHistoryLimit":4,"paused":true,)"
    R"("progressDeadlineSeconds":900},"status":{"observedGeneration":4,"replicas":3,)"
    R"("updatedReplicas":3,"readyReplicas":3,"availableReplicas":3,"conditions":[{)"
    R"("type":"Available","status":"True","lastUpdateTime":"2024-06-01T08:01:00Z",)"
    R"("lastTransitionTime":"2024-06-01T08:01:00Z","reason":"MinimumReplicasAvailable",)"
    R"("message":"Deployment has minimum availability."}],"collisionCount":2}})";

const std::string kReplicaSet =
    R"({"kind":"ReplicaSet","apiVersion":"apps/v1",)" + kMetadata +
    R"(,"spec":{"replicas":2,"minReadySeconds":3,"selector":{"matchExpressions":[{"key":"app",)"
    R"("operator":"In","values":["web"]}]},)" +
    kTemplate +
    R"(},"status":{"replicas":2,"fullyLabeledReplicas":2,"readyReplicas":1,)"
    R"("availableReplicas":1,"observedGeneration":4}})";

const std::string kStatefulSet =
    R"({"kind":"StatefulSet","apiVersion":"apps/v1",)" + kMetadata +
    R"(,"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},)" + kTemplate +
    R"(,"volumeClaimTemplates":[{"metadata":{"name":"data","creationTimestamp":null},"spec":{)"
    R"("accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},)"
    R"("volumeMode":"Filesystem"},"status":{"phase":"Pending"}}],"serviceName":"web",)"
    R"("podManagementPolicy":"Parallel","updateStrategy":{"type":"RollingUpdate",)"
    R"("rollingUpdate":{"partition":1}},"revisionHistoryLimit":10,"minReadySeconds":2,)"
    R"("persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete","whenScaled":"Retain"},)"
    R"("ordinals":{"start":1}},"status":{"observedGeneration":4,"replicas":2,)"
    R"("readyReplicas":2,"currentReplicas":2,"updatedReplicas":2,"currentRevision":"web-1",)"
    R"("updateRevision":"web-1","collisionCount":0,"availableReplicas":2}})";

const std::string kDaemonSet =
    R"({"kind":"DaemonSet","apiVersion":"apps/v1","metadata":{"name":"agent",)"
    R"("namespace":"kube-system","creationTimestamp":"2024-06-01T08:00:00Z","annotations":{)"
    R"("deprecated.daemonset.template.generation":"3"}},"spec":{"selector":{"matchLabels":{)"
    R"("app":"web"}},)" +
    kTemplate +
    R"(,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%",)"
    R"("maxSurge":0}},"minReadySeconds":1,"revisionHistoryLimit":10},"status":{)"
    R"("currentNumberScheduled":3,"numberMisscheduled":0,"desiredNumberScheduled":3,)"
    R"("numberReady":3,"observedGeneration":3,"updatedNumberScheduled":3,"numberAvailable":3}})";

const std::string kIngress =
    R"({"kind":"Ingress","apiVersion":"networking.k8s.io/v1",)" + kMetadata +
    R"(,"spec":{"ingressClassName":"nginx","defaultBackend":{"service":{"name":"fallback",)"
    R"("port":{"number":8080}}},"tls":[{"hosts":["shop.example.com"],"secretName":"shop-tls"}],)"
    R"("rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","pathType":"Prefix",)"
    R"("backend":{"service":{"name":"web","port":{"name":"http"}}}},{"path":"/assets",)"
    R"("pathType":"ImplementationSpecific","backend":{"resource":{"apiGroup":"k8s.example.com",)"
    R"("kind":"StorageBucket","name":"assets"}}}]}}]},"status":{"loadBalancer":{"ingress":[{)"
    R"("ip":"192.0.2.10","ports":[{"port":443,"protocol":"TCP"}]}]}}})";

const std::string kCronJob =
    R"({"kind":"CronJob","apiVersion":"batch/v1",)" + kMetadata +
    R"(,"spec":{"schedule":"*/5 * * * *","timeZone":"Europe/Berlin",)"
    R"("startingDeadlineSeconds":60,"concurrencyPolicy":"Forbid","suspend":false,)"
    R"("jobTemplate":{"metadata":{"creationTimestamp":null,"labels":{"app":"report"}},"spec":{)"
    R"("backoffLimit":2,"template":{"metadata":{"creationTimestamp":null},"spec":{)"
    R"("containers":[{"name":"report","image":"busybox","command":["date"],"resources":{}}],)"
    R"("restartPolicy":"OnFailure"}}}},"successfulJobsHistoryLimit":3,)"
    R"("failedJobsHistoryLimit":1},"status":{"active":[{"kind":"Job","namespace":"shop",)"
    R"("name":"web-28571230","uid":"5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",)"
    R"("apiVersion":"batch/v1","resourceVersion":"300"}],)"
    R"("lastScheduleTime":"2024-06-01T08:00:00Z","lastSuccessfulTime":"2024-06-01T07:55:03Z"}})";

const std::string kPriorityClass =
    R"({"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{)"
    R"("name":"high","creationTimestamp":"2024-06-01T08:00:00Z"},"value":1000000,)"
    R"("globalDefault":true,"description":"For the shop front.","preemptionPolicy":"Never"})";

TEST(LegacyConversionTest, EveryOldVersionRoundTripsTheStoredObject) {
  const std::pair<const char*, const std::string*> stored[] = {
      {"Deployment", &kDeployment},
      {"ReplicaSet", &kReplicaSet},
      {"StatefulSet", &kStatefulSet},
      {"DaemonSet", &kDaemonSet},
      {"Ingress", &kIngress},
      {"CronJob", &kCronJob},
      {"PriorityClass", &kPriorityClass},
  };
  int checked = 0;
  for (const auto& old : AllKinds()) {
    if (old.deprecation_warning.empty()) continue;
    const KindInfo& storage = StorageKind(old);
    SCOPED_TRACE(std::string(old.group) + "/" + std::string(old.version) + " " +
                 std::string(old.kind));
    const std::string* json = nullptr;
    for (const auto& [kind, text] : stored) {
      if (old.kind == kind) json = text;
    }
    ASSERT_NE(json, nullptr);
    const std::string as_old = Converted(storage, old, *json);
    ASSERT_FALSE(as_old.empty());
    EXPECT_NE(as_old.find(R"("apiVersion":")" + std::string(old.group) + "/"), std::string::npos);
    EXPECT_EQ(Converted(old, storage, as_old), Decode(storage, *json)->ToJson());
    // The old version's proto numbers carry every field too.
    auto object = Decode(old, as_old);
    auto through_protobuf = old.codec->DecodeProtobuf(object->ToProtobufMessage());
    ASSERT_TRUE(through_protobuf.ok()) << through_protobuf.error().message();
    (*through_protobuf)->api_version() = object->api_version();
    (*through_protobuf)->kind() = object->kind();
    EXPECT_EQ((*through_protobuf)->ToJson(), as_old);
    ++checked;
  }
  EXPECT_EQ(checked, 13);
}

TEST(LegacyConversionTest, RollbackToTravelsInAnAnnotation) {
  const KindInfo& apps_v1 = Find("apps", "v1", "Deployment");
  const KindInfo& extensions = Find("extensions", "v1beta1", "Deployment");
  const KindInfo& apps_v1beta1 = Find("apps", "v1beta1", "Deployment");
  const std::string old =
      R"({"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"web"},)"
      R"("spec":{"rollbackTo":{"revision":3},"template":{"metadata":{"creationTimestamp":null},)"
      R"("spec":{"containers":null}}}})";
  const std::string stored = Converted(extensions, apps_v1, old);
  EXPECT_EQ(boost::json::parse(stored).at("metadata"),
            boost::json::parse(R"({"name":"web","creationTimestamp":null,"annotations":{)"
                               R"("deprecated.deployment.rollback.to":"3"}})"));
  // Read back in either old version: the field, and no annotation.
  for (const KindInfo* version : {&extensions, &apps_v1beta1}) {
    const auto read = boost::json::parse(Converted(apps_v1, *version, stored));
    EXPECT_EQ(read.at("spec").at("rollbackTo"), boost::json::parse(R"({"revision":3})"));
    EXPECT_FALSE(read.at("metadata").as_object().contains("annotations"));
  }
  // Revision 0 (the previous one) is kept as "0"; an annotation that is no number is dropped.
  std::string to_previous = old;
  to_previous.replace(to_previous.find(R"({"revision":3})"), 14, "{}");
  EXPECT_NE(Converted(extensions, apps_v1, to_previous)
                .find(R"("deprecated.deployment.rollback.to":"0")"),
            std::string::npos);
  std::string broken = stored;
  broken.replace(broken.find(R"("3")"), 3, R"("three")");
  const auto read = boost::json::parse(Converted(apps_v1, extensions, broken));
  EXPECT_FALSE(read.at("spec").as_object().contains("rollbackTo"));
  EXPECT_FALSE(read.at("metadata").as_object().contains("annotations"));
}

TEST(LegacyConversionTest, IngressBackendsNameTheirServiceTheOldWay) {
  const KindInfo& v1 = Find("networking.k8s.io", "v1", "Ingress");
  const KindInfo& extensions = Find("extensions", "v1beta1", "Ingress");
  const auto old = boost::json::parse(Converted(v1, extensions, kIngress));
  EXPECT_EQ(old.at("spec").at("backend"),
            boost::json::parse(R"({"serviceName":"fallback","servicePort":8080})"));
  EXPECT_FALSE(old.at("spec").as_object().contains("defaultBackend"));
  const auto& paths = old.at("spec").at("rules").at(0).at("http").at("paths").as_array();
  EXPECT_EQ(paths[0].at("backend"),
            boost::json::parse(R"({"serviceName":"web","servicePort":"http"})"));
  // A resource backend has no service; the port is Go's zero IntOrString.
  EXPECT_EQ(paths[1].at("backend"),
            boost::json::parse(R"({"servicePort":0,"resource":{"apiGroup":"k8s.example.com",)"
                               R"("kind":"StorageBucket","name":"assets"}})"));
}

TEST(LegacyConversionTest, ExtensionsDeploymentsGetTheirOldDefaults) {
  // Upstream's extensions/v1beta1 defaults (1.15): no selector needed, every old replica set
  // kept, no progress deadline, one pod at a time.
  const auto defaulted = boost::json::parse(Defaulted<extensions::v1beta1::Deployment>(
      R"({"metadata":{"name":"web"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},)"
      R"("spec":{"containers":[{"name":"web","image":"nginx:1.7.9"}]}}}})"));
  const auto& spec = defaulted.at("spec");
  EXPECT_EQ(defaulted.at("metadata").at("labels"), boost::json::parse(R"({"app":"web"})"));
  EXPECT_EQ(spec.at("selector"), boost::json::parse(R"({"matchLabels":{"app":"web"}})"));
  EXPECT_EQ(spec.at("replicas"), 1);
  EXPECT_EQ(spec.at("revisionHistoryLimit"), 2147483647);
  EXPECT_EQ(spec.at("progressDeadlineSeconds"), 2147483647);
  EXPECT_EQ(spec.at("strategy"), boost::json::parse(R"({"type":"RollingUpdate","rollingUpdate":{)"
                                                    R"("maxUnavailable":1,"maxSurge":1}})"));
  // Labels of their own stay; Recreate has no rolling parameters.
  const auto recreate = boost::json::parse(Defaulted<extensions::v1beta1::Deployment>(
      R"({"metadata":{"name":"web","labels":{"tier":"front"}},"spec":{"strategy":{)"
      R"("type":"Recreate"},"template":{"metadata":{"labels":{"app":"web"}},"spec":{}}}})"));
  EXPECT_EQ(recreate.at("metadata").at("labels"), boost::json::parse(R"({"tier":"front"})"));
  EXPECT_EQ(recreate.at("spec").at("strategy"), boost::json::parse(R"({"type":"Recreate"})"));
}

TEST(LegacyConversionTest, OtherOldVersionsGetTheirOldDefaults) {
  const std::string template_only =
      R"({"metadata":{"name":"web"},"spec":{"template":{"metadata":{"labels":{"app":"web"}},)"
      R"("spec":{}}}})";
  // apps/v1beta1: 2 old replica sets, 600 s, 25%; stateful sets update OnDelete.
  const auto deployment =
      boost::json::parse(Defaulted<apps::v1beta1::Deployment>(template_only)).at("spec");
  EXPECT_EQ(deployment.at("revisionHistoryLimit"), 2);
  EXPECT_EQ(deployment.at("progressDeadlineSeconds"), 600);
  EXPECT_EQ(deployment.at("selector"), boost::json::parse(R"({"matchLabels":{"app":"web"}})"));
  EXPECT_EQ(deployment.at("strategy").at("rollingUpdate"),
            boost::json::parse(R"({"maxUnavailable":"25%","maxSurge":"25%"})"));
  const auto stateful_set =
      boost::json::parse(Defaulted<apps::v1beta1::StatefulSet>(template_only)).at("spec");
  EXPECT_EQ(stateful_set.at("updateStrategy"), boost::json::parse(R"({"type":"OnDelete"})"));
  EXPECT_EQ(stateful_set.at("podManagementPolicy"), "OrderedReady");
  // extensions/v1beta1: daemon sets update OnDelete; ingress paths match ImplementationSpecific.
  const auto daemon_set =
      boost::json::parse(Defaulted<extensions::v1beta1::DaemonSet>(template_only)).at("spec");
  EXPECT_EQ(daemon_set.at("updateStrategy"), boost::json::parse(R"({"type":"OnDelete"})"));
  EXPECT_EQ(daemon_set.at("revisionHistoryLimit"), 10);
  const auto rolling = boost::json::parse(Defaulted<extensions::v1beta1::DaemonSet>(
      R"({"metadata":{"name":"a"},"spec":{"updateStrategy":{"type":"RollingUpdate"},)"
      R"("template":{"spec":{}}}})"));
  EXPECT_EQ(rolling.at("spec").at("updateStrategy").at("rollingUpdate"),
            boost::json::parse(R"({"maxUnavailable":1})"));
  const auto ingress = boost::json::parse(Defaulted<extensions::v1beta1::Ingress>(
      R"({"metadata":{"name":"a"},"spec":{"rules":[{"http":{"paths":[{"backend":{)"
      R"("serviceName":"web","servicePort":80}}]}}]}})"));
  EXPECT_EQ(ingress.at("spec").at("rules").at(0).at("http").at("paths").at(0).at("pathType"),
            "ImplementationSpecific");
}

}  // namespace
}  // namespace kpp::api::conversion
