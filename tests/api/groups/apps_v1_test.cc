// apps/v1 workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision) against
// JSON as an upstream API server writes it, and upstream's defaulting of them.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/apps/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using apps::v1::ControllerRevision;
using apps::v1::DaemonSet;
using apps::v1::Deployment;
using apps::v1::DeploymentList;
using apps::v1::ReplicaSet;
using apps::v1::StatefulSet;

// A pod template as a client writes it, and as the server stores it after the core/v1 defaults.
constexpr const char* kTemplateIn =
    R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web",)"
    R"("image":"nginx"}]}})";
constexpr const char* kTemplateOut =
    R"("template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{)"
    R"("containers":[{"name":"web","image":"nginx","resources":{},)"
    R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
    R"("imagePullPolicy":"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,)"
    R"("dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}})";

std::string Json(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (auto part : parts)
    text += part;
  return text;
}

TEST(AppsV1Test, DeploymentRoundTripsExactly) {
  ExpectRoundTrip<Deployment>(
      R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"nginx-deployment",)"
      R"("namespace":"default","uid":"3f1c2b4a-8d7e-4f6a-9b5c-1d2e3f4a5b6c",)"
      R"("resourceVersion":"1862","generation":2,"creationTimestamp":"2024-05-01T10:00:00Z",)"
      R"("labels":{"app":"nginx"},"annotations":{"deployment.kubernetes.io/revision":"2"}},)"
      R"("spec":{"replicas":3,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":)"
      R"({"creationTimestamp":null,"labels":{"app":"nginx"},"annotations":{)"
      R"("kubectl.kubernetes.io/restartedAt":"2024-05-01T10:05:00Z"}},"spec":{"containers":[)"
      R"({"name":"nginx","image":"nginx:1.14.2","ports":[{"containerPort":80,"protocol":"TCP"}],)"
      R"("resources":{},"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
      R"("securityContext":{},"schedulerName":"default-scheduler"}},"strategy":{)"
      R"("type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},)"
      R"("minReadySeconds":5,"revisionHistoryLimit":10,"progressDeadlineSeconds":600},)"
      R"("status":{"observedGeneration":2,"replicas":4,"updatedReplicas":1,"readyReplicas":3,)"
      R"("availableReplicas":3,"unavailableReplicas":1,"conditions":[{"type":"Available",)"
      R"("status":"True","lastUpdateTime":"2024-05-01T10:00:20Z",)"
      R"("lastTransitionTime":"2024-05-01T10:00:20Z","reason":"MinimumReplicasAvailable",)"
      R"("message":"Deployment has minimum availability."},{"type":"Progressing",)"
      R"("status":"True","lastUpdateTime":"2024-05-01T10:05:02Z",)"
      R"("lastTransitionTime":"2024-05-01T10:00:00Z","reason":"ReplicaSetUpdated",)"
      R"("message":"ReplicaSet \"nginx-deployment-6b7f675859\" is progressing."}],)"
      R"("collisionCount":1}})");
  ExpectRoundTrip<DeploymentList>(
      R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"1900"},)"
      R"("items":[{"metadata":{"name":"paused","namespace":"default",)"
      R"("creationTimestamp":"2024-05-01T10:00:00Z"},"spec":{"replicas":0,"selector":{)"
      R"("matchExpressions":[{"key":"tier","operator":"In","values":["cache"]}]},"template":)"
      R"({"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"redis",)"
      R"("image":"redis:7","resources":{}}]}},"strategy":{)"
      R"("type":"Recreate"},"paused":true},"status":{}}]})");
}

TEST(AppsV1Test, ReplicaSetRoundTripsExactly) {
  ExpectRoundTrip<ReplicaSet>(
      R"({"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{)"
      R"("name":"nginx-deployment-6b7f675859","namespace":"default",)"
      R"("uid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","resourceVersion":"1870","generation":1,)"
      R"("creationTimestamp":"2024-05-01T10:05:00Z","labels":{"app":"nginx",)"
      R"("pod-template-hash":"6b7f675859"},"annotations":{)"
      R"("deployment.kubernetes.io/desired-replicas":"3","deployment.kubernetes.io/max-replicas":"4",)"
      R"("deployment.kubernetes.io/revision":"2"},"ownerReferences":[{"apiVersion":"apps/v1",)"
      R"("kind":"Deployment","name":"nginx-deployment",)"
      R"("uid":"3f1c2b4a-8d7e-4f6a-9b5c-1d2e3f4a5b6c","controller":true,)"
      R"("blockOwnerDeletion":true}]},"spec":{"replicas":3,"selector":{"matchLabels":{)"
      R"("app":"nginx","pod-template-hash":"6b7f675859"}},"template":{"metadata":{)"
      R"("creationTimestamp":null,"labels":{"app":"nginx","pod-template-hash":"6b7f675859"}},)"
      R"("spec":{"containers":[{"name":"nginx","image":"nginx:1.16.1","resources":{},)"
      R"("terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",)"
      R"("imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always",)"
      R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
      R"("schedulerName":"default-scheduler"}}},"status":{"replicas":1,"fullyLabeledReplicas":1,)"
      R"("observedGeneration":1,"conditions":[{"type":"ReplicaFailure","status":"True",)"
      R"("lastTransitionTime":"2024-05-01T10:05:01Z","reason":"FailedCreate",)"
      R"("message":"pods \"nginx-deployment-6b7f675859-x\" is forbidden: exceeded quota"}]}})");
}

TEST(AppsV1Test, StatefulSetRoundTripsExactly) {
  const std::string json =
      R"({"kind":"StatefulSet","apiVersion":"apps/v1","metadata":{"name":"web",)"
      R"("namespace":"default","uid":"1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",)"
      R"("resourceVersion":"2210","generation":1,"creationTimestamp":"2024-05-01T11:00:00Z"},)"
      R"("spec":{"replicas":2,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":)"
      R"({"creationTimestamp":null,"labels":{"app":"nginx"}},"spec":{"containers":[{)"
      R"("name":"nginx","image":"registry.k8s.io/nginx-slim:0.24","ports":[{"name":"web",)"
      R"("containerPort":80,"protocol":"TCP"}],"resources":{},"volumeMounts":[{"name":"www",)"
      R"("mountPath":"/usr/share/nginx/html"}],"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Always","terminationGracePeriodSeconds":10,"dnsPolicy":"ClusterFirst",)"
      R"("securityContext":{},"schedulerName":"default-scheduler"}},"volumeClaimTemplates":[{)"
      R"("kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"www",)"
      R"("creationTimestamp":null},"spec":{"accessModes":["ReadWriteOnce"],"resources":{)"
      R"("requests":{"storage":"1Gi"}},"storageClassName":"my-storage-class",)"
      R"("volumeMode":"Filesystem"},"status":{"phase":"Pending"}}],"serviceName":"nginx",)"
      R"("podManagementPolicy":"Parallel","updateStrategy":{"type":"RollingUpdate",)"
      R"("rollingUpdate":{"partition":1,"maxUnavailable":"50%"}},"revisionHistoryLimit":10,)"
      R"("minReadySeconds":3,"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete",)"
      R"("whenScaled":"Retain"},"ordinals":{"start":0}},"status":{"observedGeneration":1,)"
      R"("replicas":2,"readyReplicas":2,"currentReplicas":2,"updatedReplicas":2,)"
      R"("currentRevision":"web-5d4b8c7f9","updateRevision":"web-5d4b8c7f9","collisionCount":0,)"
      R"("availableReplicas":2}})";
  // Protobuf messages carry no apiVersion/kind: the claim templates' come back only through
  // defaulting, as upstream's do.
  std::string through_protobuf = json;
  const std::string claim_type = R"("kind":"PersistentVolumeClaim","apiVersion":"v1",)";
  through_protobuf.erase(through_protobuf.find(claim_type), claim_type.size());
  ExpectRoundTrip<StatefulSet>(json, through_protobuf);
}

TEST(AppsV1Test, DaemonSetAndControllerRevisionRoundTripExactly) {
  ExpectRoundTrip<DaemonSet>(
      R"({"kind":"DaemonSet","apiVersion":"apps/v1","metadata":{"name":"fluentd-elasticsearch",)"
      R"("namespace":"kube-system","uid":"7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d",)"
      R"("resourceVersion":"3021","generation":1,"creationTimestamp":"2024-05-01T12:00:00Z",)"
      R"("labels":{"k8s-app":"fluentd-logging"},"annotations":{)"
      R"("deprecated.daemonset.template.generation":"1"}},"spec":{"selector":{"matchLabels":{)"
      R"("name":"fluentd-elasticsearch"}},"template":{"metadata":{"creationTimestamp":null,)"
      R"("labels":{"name":"fluentd-elasticsearch"}},"spec":{"volumes":[{"name":"varlog",)"
      R"("hostPath":{"path":"/var/log","type":""}}],"containers":[{"name":"fluentd-elasticsearch",)"
      R"("image":"quay.io/fluentd_elasticsearch/fluentd:v2.5.2","resources":{"limits":{)"
      R"("memory":"200Mi"},"requests":{"cpu":"100m","memory":"200Mi"}},"volumeMounts":[{)"
      R"("name":"varlog","mountPath":"/var/log"}],"terminationMessagePath":"/dev/termination-log",)"
      R"("terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],)"
      R"("restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",)"
      R"("securityContext":{},"schedulerName":"default-scheduler","tolerations":[{)"
      R"("key":"node-role.kubernetes.io/control-plane","operator":"Exists",)"
      R"("effect":"NoSchedule"}]}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{)"
      R"("maxUnavailable":1,"maxSurge":0}},"revisionHistoryLimit":10},"status":{)"
      R"("currentNumberScheduled":3,"numberMisscheduled":0,"desiredNumberScheduled":3,)"
      R"("numberReady":2,"observedGeneration":1,"updatedNumberScheduled":3,"numberAvailable":2,)"
      R"("numberUnavailable":1}})");
  ExpectRoundTrip<ControllerRevision>(
      R"({"kind":"ControllerRevision","apiVersion":"apps/v1","metadata":{"name":"web-5d4b8c7f9",)"
      R"("namespace":"default","uid":"2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",)"
      R"("resourceVersion":"2200","creationTimestamp":"2024-05-01T11:00:00Z","labels":{)"
      R"("app":"nginx","controller.kubernetes.io/hash":"5d4b8c7f9"},"ownerReferences":[{)"
      R"("apiVersion":"apps/v1","kind":"StatefulSet","name":"web",)"
      R"("uid":"1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e","controller":true,)"
      R"("blockOwnerDeletion":true}]},"data":{"spec":{"template":{"$patch":"replace",)"
      R"("metadata":{"creationTimestamp":null,"labels":{"app":"nginx"}},"spec":{"containers":[{)"
      R"("name":"nginx","image":"registry.k8s.io/nginx-slim:0.24"}]}}}},"revision":1})");
  // An empty revision keeps the null data Go writes for an empty RawExtension.
  ExpectRoundTrip<ControllerRevision>(
      R"({"metadata":{"name":"r","creationTimestamp":null},"data":null,"revision":0})");
}

TEST(AppsV1Test, DeploymentGetsUpstreamDefaults) {
  EXPECT_EQ(Defaulted<Deployment>(Json({R"({"apiVersion":"apps/v1","kind":"Deployment",)",
                                        R"("metadata":{"name":"web"},"spec":{"selector":{)",
                                        R"("matchLabels":{"app":"web"}},)", kTemplateIn, "}}"})),
            Json({R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web",)",
                  R"("creationTimestamp":null},"spec":{"replicas":1,"selector":{"matchLabels":{)",
                  R"("app":"web"}},)", kTemplateOut,
                  R"(,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%",)",
                  R"("maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},)",
                  R"("status":{}})"}));
  // Given values are kept; a Recreate strategy gets no rolling update parameters, and a partial
  // rolling update gets the missing one.
  EXPECT_EQ(
      Defaulted<Deployment>(Json({R"({"metadata":{"name":"web"},"spec":{"replicas":0,)",
                                  R"("selector":{"matchLabels":{"app":"web"}},)", kTemplateIn,
                                  R"(,"strategy":{"type":"Recreate"},"revisionHistoryLimit":0,)",
                                  R"("progressDeadlineSeconds":60}})"})),
      Json({R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"replicas":0,)",
            R"("selector":{"matchLabels":{"app":"web"}},)", kTemplateOut,
            R"(,"strategy":{"type":"Recreate"},"revisionHistoryLimit":0,)",
            R"("progressDeadlineSeconds":60},"status":{}})"}));
  Deployment partial;
  partial.spec.strategy.rolling_update.emplace().max_surge = IntOrString::FromInt(1);
  apps::v1::SetDefaults(partial);
  EXPECT_EQ(partial.spec.strategy.type, "RollingUpdate");
  EXPECT_EQ(partial.spec.strategy.rolling_update->max_surge, IntOrString::FromInt(1));
  EXPECT_EQ(partial.spec.strategy.rolling_update->max_unavailable, IntOrString::FromString("25%"));
}

TEST(AppsV1Test, ReplicaSetGetsUpstreamDefaults) {
  EXPECT_EQ(Defaulted<ReplicaSet>(Json({R"({"metadata":{"name":"rs"},"spec":{"selector":{)",
                                        R"("matchLabels":{"app":"web"}},)", kTemplateIn, "}}"})),
            Json({R"({"metadata":{"name":"rs","creationTimestamp":null},"spec":{"replicas":1,)",
                  R"("selector":{"matchLabels":{"app":"web"}},)", kTemplateOut, "},",
                  R"("status":{"replicas":0}})"}));
}

TEST(AppsV1Test, StatefulSetGetsUpstreamDefaultsIncludingClaimTemplates) {
  EXPECT_EQ(
      Defaulted<StatefulSet>(
          Json({R"({"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},)",
                kTemplateIn,
                R"(,"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":[)",
                R"("ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}],)",
                R"("serviceName":"web"}})"})),
      Json({R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"replicas":1,)",
            R"("selector":{"matchLabels":{"app":"web"}},)", kTemplateOut,
            R"(,"volumeClaimTemplates":[{"kind":"PersistentVolumeClaim","apiVersion":"v1",)",
            R"("metadata":{"name":"www","creationTimestamp":null},"spec":{"accessModes":[)",
            R"("ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},)",
            R"("volumeMode":"Filesystem"},"status":{"phase":"Pending"}}],"serviceName":"web",)",
            R"("podManagementPolicy":"OrderedReady","updateStrategy":{"type":"RollingUpdate",)",
            R"("rollingUpdate":{"partition":0}},"revisionHistoryLimit":10,)",
            R"("persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain",)",
            R"("whenScaled":"Retain"}},"status":{"replicas":0,"availableReplicas":0}})"}));
  // An explicit RollingUpdate without parameters stays without them, as upstream leaves it;
  // OnDelete gets none; a half-given retention policy is completed.
  EXPECT_EQ(Defaulted<StatefulSet>(Json(
                {R"({"metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{)",
                 R"("app":"web"}},)", kTemplateIn,
                 R"(,"serviceName":"web","updateStrategy":{"type":"RollingUpdate"},)",
                 R"("persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}})"})),
            Json({R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"replicas":3,)",
                  R"("selector":{"matchLabels":{"app":"web"}},)", kTemplateOut,
                  R"(,"serviceName":"web","podManagementPolicy":"OrderedReady","updateStrategy":{)",
                  R"("type":"RollingUpdate"},"revisionHistoryLimit":10,)",
                  R"("persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain",)",
                  R"("whenScaled":"Delete"}},"status":{"replicas":0,"availableReplicas":0}})"}));
  StatefulSet on_delete;
  on_delete.spec.update_strategy.type = "OnDelete";
  apps::v1::SetDefaults(on_delete);
  EXPECT_FALSE(on_delete.spec.update_strategy.rolling_update);
}

TEST(AppsV1Test, DaemonSetGetsUpstreamDefaults) {
  EXPECT_EQ(Defaulted<DaemonSet>(Json({R"({"metadata":{"name":"agent"},"spec":{"selector":{)",
                                       R"("matchLabels":{"app":"web"}},)", kTemplateIn, "}}"})),
            Json({R"({"metadata":{"name":"agent","creationTimestamp":null},"spec":{"selector":{)",
                  R"("matchLabels":{"app":"web"}},)", kTemplateOut,
                  R"(,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{)",
                  R"("maxUnavailable":1,"maxSurge":0}},"revisionHistoryLimit":10},"status":{)",
                  R"("currentNumberScheduled":0,"numberMisscheduled":0,)",
                  R"("desiredNumberScheduled":0,"numberReady":0}})"}));
  EXPECT_EQ(Defaulted<DaemonSet>(Json({R"({"metadata":{"name":"agent"},"spec":{"selector":{)",
                                       R"("matchLabels":{"app":"web"}},)", kTemplateIn,
                                       R"(,"updateStrategy":{"type":"OnDelete"}}})"})),
            Json({R"({"metadata":{"name":"agent","creationTimestamp":null},"spec":{"selector":{)",
                  R"("matchLabels":{"app":"web"}},)", kTemplateOut,
                  R"(,"updateStrategy":{"type":"OnDelete"},"revisionHistoryLimit":10},)",
                  R"("status":{"currentNumberScheduled":0,"numberMisscheduled":0,)",
                  R"("desiredNumberScheduled":0,"numberReady":0}})"}));
}

TEST(AppsV1Test, KindsAreServedAsUpstreamServesThem) {
  struct Expected {
    const char* kind;
    const char* plural;
    const char* short_names;
    const char* categories;
    const char* subresources;
  };
  const Expected expected[] = {
      {"Deployment", "deployments", "deploy", "all", "status,scale"},
      {"ReplicaSet", "replicasets", "rs", "all", "status,scale"},
      {"StatefulSet", "statefulsets", "sts", "all", "status,scale"},
      {"DaemonSet", "daemonsets", "ds", "all", "status"},
      {"ControllerRevision", "controllerrevisions", "", "", ""},
  };
  for (const auto& want : expected) {
    const KindInfo* kind = FindKind("apps", want.kind);
    ASSERT_NE(kind, nullptr) << want.kind;
    EXPECT_EQ(kind->version, "v1");
    EXPECT_EQ(kind->plural, want.plural);
    EXPECT_EQ(kind->short_names, want.short_names) << want.kind;
    EXPECT_EQ(kind->categories, want.categories) << want.kind;
    EXPECT_EQ(kind->subresources, want.subresources) << want.kind;
    EXPECT_TRUE(kind->namespaced);
    EXPECT_EQ(kind->list_kind, std::string(want.kind) + "List");
    EXPECT_EQ(kind->verbs, "create,delete,deletecollection,get,list,patch,update,watch");
  }
}

TEST(AppsV1Test, OpenApiDescribesTheWorkloads) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  for (const char* kind :
       {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ControllerRevision"}) {
    const auto& definition = definitions.at(std::string("io.k8s.api.apps.v1.") + kind);
    EXPECT_EQ(definition.at("x-kubernetes-group-version-kind"),
              boost::json::parse(R"([{"group":"apps","kind":")" + std::string(kind) +
                                 R"(","version":"v1"}])"));
  }
  const auto& spec = definitions.at("io.k8s.api.apps.v1.DeploymentSpec").as_object();
  EXPECT_EQ(spec.at("required"), boost::json::parse(R"(["selector","template"])"));
  EXPECT_EQ(spec.at("properties").at("strategy").at("x-kubernetes-patch-strategy"), "retainKeys");
  EXPECT_EQ(spec.at("properties").at("template").at("$ref"),
            "#/definitions/io.k8s.api.core.v1.PodTemplateSpec");
  const auto& conditions = definitions.at("io.k8s.api.apps.v1.DeploymentStatus")
                               .at("properties")
                               .at("conditions")
                               .as_object();
  EXPECT_EQ(conditions.at("x-kubernetes-patch-merge-key"), "type");
  EXPECT_EQ(conditions.at("x-kubernetes-list-map-keys"), boost::json::parse(R"(["type"])"));
  const auto& statefulset = definitions.at("io.k8s.api.apps.v1.StatefulSetSpec").as_object();
  EXPECT_EQ(statefulset.at("required"),
            boost::json::parse(R"(["selector","template","serviceName"])"));
  EXPECT_EQ(statefulset.at("properties").at("volumeClaimTemplates").at("x-kubernetes-list-type"),
            "atomic");
  EXPECT_EQ(statefulset.at("properties").at("podManagementPolicy").at("enum"),
            boost::json::parse(R"(["OrderedReady","Parallel"])"));
}

}  // namespace
}  // namespace kpp::api
