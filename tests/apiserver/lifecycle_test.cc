// Object lifecycle through the registry, in-process: metadata.generation, the status, scale,
// binding, eviction and finalize subresources, graceful deletion, finalizers and terminating
// namespaces, as upstream's registry behaves.
#include "apiserver/registry/lifecycle.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/runtime/kinds.h"
#include "apiserver/registry_fixture.h"

namespace kpp::apiserver {
namespace {

constexpr char kDeployments[] = "/apis/apps/v1/namespaces/default/deployments";
constexpr char kPods[] = "/api/v1/namespaces/default/pods";
constexpr char kConfigMaps[] = "/api/v1/namespaces/default/configmaps";
constexpr int64_t kStart = 1'700'000'000;

const std::string kDeployment =
    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},)"
    R"("spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[)"
    R"({"key":"tier","operator":"In","values":["front","back"]}]},"template":{"metadata":{)"
    R"("labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})";

std::string PodJson(const std::string& name, const std::string& node = "",
                    const std::string& labels = R"({"app":"web"})") {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"(","labels":)" +
         labels + R"(},"spec":{)" + (node.empty() ? "" : R"("nodeName":")" + node + R"(",)") +
         R"("containers":[{"name":"c","image":"nginx"}]}})";
}

class LifecycleTest : public RegistryTest {
 protected:
  void SetUp() override { Start({}, &clock_); }

  FakeClock clock_{Clock::TimePoint(std::chrono::seconds(kStart))};
};

TEST_F(LifecycleTest, GenerationStartsAtOneAndCountsSpecChangesOnly) {
  auto created = Ok(Send("POST", kDeployments, kDeployment), 201);
  EXPECT_EQ(created.at("metadata").at("generation"), 1);
  // A client's status on create is kept only where the strategy allows; on update it is not.
  auto changed = created;
  changed.at("metadata").at("labels").as_object()["extra"] = "yes";
  changed.as_object()["status"] = boost::json::parse(R"({"replicas":7})");
  auto updated =
      Ok(Send("PUT", std::string(kDeployments) + "/web", boost::json::serialize(changed)));
  EXPECT_EQ(updated.at("metadata").at("generation"), 1);
  EXPECT_EQ(updated.at("metadata").at("labels").at("extra"), "yes");
  EXPECT_FALSE(updated.at("status").as_object().contains("replicas"));

  auto patched = Ok(Send("PATCH", std::string(kDeployments) + "/web", R"({"spec":{"paused":true}})",
                         "application/merge-patch+json"));
  EXPECT_EQ(patched.at("metadata").at("generation"), 2);
  EXPECT_EQ(patched.at("metadata").at("uid"), created.at("metadata").at("uid"));
  EXPECT_EQ(patched.at("metadata").at("creationTimestamp"),
            created.at("metadata").at("creationTimestamp"));

  // Kinds that do not track generation leave it alone.
  auto config = Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"c"},"data":{"a":"b"}})"), 201);
  EXPECT_FALSE(config.at("metadata").as_object().contains("generation"));

  // A different uid is refused as upstream refuses it.
  patched.at("metadata").at("uid") = "00000000-0000-0000-0000-000000000000";
  auto refused =
      Failed(Send("PUT", std::string(kDeployments) + "/web", boost::json::serialize(patched)), 422);
  EXPECT_NE(refused.at("message").as_string().find("metadata.uid: Invalid value"),
            boost::json::string::npos);
}

TEST_F(LifecycleTest, GenerateNameAddsFiveCharactersOfUpstreamsAlphabet) {
  auto created = Ok(Send("POST", kConfigMaps, R"({"metadata":{"generateName":"cfg-"}})"), 201);
  const std::string name(created.at("metadata").at("name").as_string());
  ASSERT_EQ(name.size(), 9u);
  EXPECT_TRUE(name.starts_with("cfg-"));
  for (char c : name.substr(4)) {
    EXPECT_NE(std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c), std::string_view::npos);
  }
  const std::string long_prefix(70, 'a');
  auto long_created = Ok(
      Send("POST", kConfigMaps, R"({"metadata":{"generateName":")" + long_prefix + R"("}})"), 201);
  EXPECT_EQ(long_created.at("metadata").at("name").as_string().size(), 63u);
}

TEST_F(LifecycleTest, StatusSubresourceWritesOnlyTheStatus) {
  Ok(Send("POST", kDeployments, kDeployment), 201);
  const std::string status_path = std::string(kDeployments) + "/web/status";
  auto object = Ok(Send("GET", status_path));
  object.at("spec").at("replicas") = 9;
  object.at("metadata").at("labels").as_object()["changed"] = "yes";
  object.at("metadata").as_object()["annotations"] = boost::json::parse(R"({"note":"kept"})");
  object.as_object()["status"] = boost::json::parse(R"({"replicas":2,"readyReplicas":1})");
  auto updated = Ok(Send("PUT", status_path, boost::json::serialize(object)));
  EXPECT_EQ(updated.at("status").at("replicas"), 2);
  EXPECT_EQ(updated.at("spec").at("replicas"), 2);  // the spec stays
  EXPECT_EQ(updated.at("metadata").at("generation"), 1);
  // Apps workloads keep their labels on status writes; annotations follow the request.
  EXPECT_FALSE(updated.at("metadata").at("labels").as_object().contains("changed"));
  EXPECT_EQ(updated.at("metadata").at("annotations").at("note"), "kept");

  auto patched = Ok(Send("PATCH", status_path, R"({"status":{"availableReplicas":1}})",
                         "application/merge-patch+json"));
  EXPECT_EQ(patched.at("status").at("availableReplicas"), 1);
  EXPECT_EQ(patched.at("status").at("replicas"), 2);

  // Kinds without the subresource, and unknown subresources, are not found.
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"c"}})"), 201);
  EXPECT_EQ(Send("GET", std::string(kConfigMaps) + "/c/status").status, 404);
  EXPECT_EQ(Send("GET", std::string(kDeployments) + "/web/nothing").status, 404);
}

TEST_F(LifecycleTest, ScaleReadsAndWritesReplicas) {
  Ok(Send("POST", kDeployments, kDeployment), 201);
  Ok(Send("PATCH", std::string(kDeployments) + "/web/status", R"({"status":{"replicas":2}})",
          "application/merge-patch+json"));
  const std::string scale_path = std::string(kDeployments) + "/web/scale";
  auto scale = Ok(Send("GET", scale_path));
  EXPECT_EQ(scale.at("kind"), "Scale");
  EXPECT_EQ(scale.at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(scale.at("metadata").at("name"), "web");
  EXPECT_EQ(scale.at("spec").at("replicas"), 2);
  EXPECT_EQ(scale.at("status").at("replicas"), 2);
  EXPECT_EQ(scale.at("status").at("selector"), "app=web,tier in (back,front)");

  auto patched =
      Ok(Send("PATCH", scale_path, R"({"spec":{"replicas":5}})", "application/merge-patch+json"));
  EXPECT_EQ(patched.at("spec").at("replicas"), 5);
  auto deployment = Ok(Send("GET", std::string(kDeployments) + "/web"));
  EXPECT_EQ(deployment.at("spec").at("replicas"), 5);
  EXPECT_EQ(deployment.at("metadata").at("generation"), 2);
  EXPECT_EQ(deployment.at("status").at("replicas"), 2);

  patched.at("spec").at("replicas") = 1;
  auto put = Ok(Send("PUT", scale_path, boost::json::serialize(patched)));
  EXPECT_EQ(put.at("spec").at("replicas"), 1);
  // The Scale's resourceVersion is a precondition: the one just replaced is stale.
  EXPECT_EQ(Send("PUT", scale_path, boost::json::serialize(patched)).status, 409);
  patched.at("spec").at("replicas") = -1;
  patched.at("metadata").as_object().erase("resourceVersion");
  auto invalid = Failed(Send("PUT", scale_path, boost::json::serialize(patched)), 422);
  EXPECT_NE(invalid.at("message").as_string().find("spec.replicas"), boost::json::string::npos);

  // A ReplicationController's selector is a map.
  Ok(Send("POST", "/api/v1/namespaces/default/replicationcontrollers",
          R"({"metadata":{"name":"rc"},"spec":{"replicas":3,"selector":{"b":"2","a":"1"},)"
          R"("template":{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"containers":[)"
          R"({"name":"c","image":"nginx"}]}}}})"),
     201);
  auto rc_scale = Ok(Send("GET", "/api/v1/namespaces/default/replicationcontrollers/rc/scale"));
  EXPECT_EQ(rc_scale.at("spec").at("replicas"), 3);
  EXPECT_EQ(rc_scale.at("status").at("selector"), "a=1,b=2");
}

// apps/v1beta1, apps/v1beta2 and extensions/v1beta1 answer with their own Scale: the selector
// both as a map (only when it is all equalities) and as targetSelector.
TEST_F(LifecycleTest, OldVersionsServeTheirOwnScale) {
  Ok(Send("POST", kDeployments, kDeployment), 201);
  Ok(Send("POST", "/apis/apps/v1/namespaces/default/replicasets",
          R"({"metadata":{"name":"rs"},"spec":{"replicas":1,"selector":{"matchLabels":)"
          R"({"b":"2","a":"1"}},"template":{"metadata":{"labels":{"a":"1","b":"2"}},)"
          R"("spec":{"containers":[{"name":"c","image":"nginx"}]}}}})"),
     201);
  for (const char* group_version : {"apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"}) {
    SCOPED_TRACE(group_version);
    const std::string deployment_scale =
        std::string("/apis/") + group_version + "/namespaces/default/deployments/web/scale";
    auto scale = Ok(Send("GET", deployment_scale));
    EXPECT_EQ(scale.at("kind"), "Scale");
    EXPECT_EQ(scale.at("apiVersion"), group_version);
    EXPECT_EQ(scale.at("metadata").at("name"), "web");
    EXPECT_EQ(scale.at("spec").at("replicas"),
              Ok(Send("GET", std::string(kDeployments) + "/web")).at("spec").at("replicas"));
    EXPECT_EQ(scale.at("status").at("targetSelector"), "app=web,tier in (back,front)");
    // A set-based requirement: no map.
    EXPECT_FALSE(scale.at("status").as_object().contains("selector")) << scale;

    auto patched = Ok(Send("PATCH", deployment_scale, R"({"spec":{"replicas":4}})",
                           "application/merge-patch+json"));
    EXPECT_EQ(patched.at("apiVersion"), group_version);
    EXPECT_EQ(patched.at("spec").at("replicas"), 4);
    patched.at("spec").at("replicas") = 3;
    auto put = Ok(Send("PUT", deployment_scale, boost::json::serialize(patched)));
    EXPECT_EQ(put.at("apiVersion"), group_version);
    EXPECT_EQ(put.at("spec").at("replicas"), 3);
    EXPECT_EQ(Ok(Send("GET", std::string(kDeployments) + "/web")).at("spec").at("replicas"), 3);

    if (std::string_view(group_version) == "apps/v1beta1") continue;  // had no replicasets
    auto rs_scale = Ok(Send(
        "GET", std::string("/apis/") + group_version + "/namespaces/default/replicasets/rs/scale"));
    EXPECT_EQ(rs_scale.at("apiVersion"), group_version);
    EXPECT_EQ(rs_scale.at("status").at("selector"), boost::json::parse(R"({"a":"1","b":"2"})"));
    EXPECT_EQ(rs_scale.at("status").at("targetSelector"), "a=1,b=2");
  }
  // autoscaling/v1 stays the Scale of apps/v1.
  EXPECT_EQ(Ok(Send("GET", std::string(kDeployments) + "/web/scale")).at("apiVersion"),
            "autoscaling/v1");
}

TEST_F(LifecycleTest, BindingAssignsAPodOnce) {
  Ok(Send("POST", kPods, PodJson("p")), 201);
  const std::string binding =
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","annotations":{"a":"b"}},)"
      R"("target":{"kind":"Node","name":"node-1"}})";
  auto bound = Ok(Send("POST", std::string(kPods) + "/p/binding", binding), 201);
  EXPECT_EQ(bound.at("status"), "Success");
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  EXPECT_EQ(pod.at("spec").at("nodeName"), "node-1");
  EXPECT_EQ(pod.at("metadata").at("annotations").at("a"), "b");
  const auto& condition = pod.at("status").at("conditions").as_array().at(0);
  EXPECT_EQ(condition.at("type"), "PodScheduled");
  EXPECT_EQ(condition.at("status"), "True");

  auto again = Failed(Send("POST", std::string(kPods) + "/p/binding", binding), 409);
  EXPECT_EQ(again.at("message"),
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to "
            "node \"node-1\"");
  // The bindings resource binds the pod its body names.
  Ok(Send("POST", kPods, PodJson("q")), 201);
  Ok(Send("POST", "/api/v1/namespaces/default/bindings",
          R"({"metadata":{"name":"q"},"target":{"name":"node-2"}})"),
     201);
  EXPECT_EQ(Ok(Send("GET", std::string(kPods) + "/q")).at("spec").at("nodeName"), "node-2");
  EXPECT_EQ(Send("POST", std::string(kPods) + "/q/binding",
                 R"({"metadata":{"name":"other"},"target":{"name":"n"}})")
                .status,
            400);
}

// A Binding's uid and resourceVersion are preconditions on the pod it binds, as the scheduler
// sends the uid of the pod it placed: a pod deleted and made again under the same name is not
// bound by a decision about the old one.
TEST_F(LifecycleTest, BindingChecksTheUidAndResourceVersionItCarries) {
  auto created = Ok(Send("POST", kPods, PodJson("p")), 201);
  const std::string uid = created.at("metadata").at("uid").as_string().c_str();
  const std::string revision = created.at("metadata").at("resourceVersion").as_string().c_str();
  const struct {
    std::string metadata;  // of the Binding, besides its name
    std::string failed;    // what the 409 says failed
  } cases[] = {
      {R"("uid":"not-it")", "UID in precondition: not-it, UID in object meta: " + uid},
      {R"("resourceVersion":"1")",
       "ResourceVersion in precondition: 1, ResourceVersion in object meta: " + revision},
  };
  for (const auto& c : cases) {
    auto refused = Failed(
        Send("POST", std::string(kPods) + "/p/binding",
             R"({"metadata":{"name":"p",)" + c.metadata + R"(},"target":{"name":"node-1"}})"),
        409);
    EXPECT_EQ(refused.at("message").as_string(),
              "Operation cannot be fulfilled on pods \"p\": Precondition failed: " + c.failed);
    EXPECT_EQ(refused.at("reason"), "Conflict");
    EXPECT_EQ(refused.at("details").at("kind"), "pods");
  }
  EXPECT_EQ(Ok(Send("GET", std::string(kPods) + "/p")).at("spec").as_object().count("nodeName"),
            0u);
  Ok(Send("POST", std::string(kPods) + "/p/binding",
          R"({"metadata":{"name":"p","uid":")" + uid + R"(","resourceVersion":")" + revision +
              R"("},"target":{"name":"node-1"}})"),
     201);
  EXPECT_EQ(Ok(Send("GET", std::string(kPods) + "/p")).at("spec").at("nodeName"), "node-1");
}

// The whole pod a binding stores: node, annotations and PodScheduled, and no managedFields entry
// of the binder's, as upstream's binding writes the pod straight to storage (kubernetes#127508:
// no manager owns a scheduled pod's PodScheduled condition).
TEST_F(LifecycleTest, BindingStoresThePodWithoutAManagerOfItsOwn) {
  Ok(Send("POST", kPods, PodJson("p"), "application/json", {{"fieldManager", "creator"}}), 201);
  clock_.Advance(std::chrono::seconds(5));
  const std::string binding =
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","annotations":{"a":"b"}},)"
      R"("target":{"kind":"Node","name":"node-1"}})";
  const std::string before = boost::json::serialize(Ok(Send("GET", std::string(kPods) + "/p")));
  Ok(Send("POST", std::string(kPods) + "/p/binding", binding, "application/json",
          {{"dryRun", "All"}}),
     201);
  EXPECT_EQ(boost::json::serialize(Ok(Send("GET", std::string(kPods) + "/p"))), before);
  Ok(Send("POST", std::string(kPods) + "/p/binding", binding, "application/json",
          {{"fieldManager", "binder"}}),
     201);
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  auto& metadata = pod.at("metadata").as_object();
  EXPECT_NE(metadata.at("resourceVersion"),
            boost::json::parse(before).at("metadata").at("resourceVersion"));
  metadata.erase("uid");
  metadata.erase("resourceVersion");
  EXPECT_EQ(
      boost::json::serialize(pod),
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"default","managedFie)"
      R"(lds":[{"manager":"creator","operation":"Update","apiVersion":"v1","time":"2023-11-14T22:)"
      R"(13:20Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}})"
      R"(},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:imagePullPolicy)"
      R"(":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePol)"
      R"(icy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerNa)"
      R"(me":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}],"annotations":{")"
      R"(a":"b"},"creationTimestamp":"2023-11-14T22:13:20Z","labels":{"a)"
      R"(pp":"web"}},"spec":{"containers":[{"name":"c","image":"nginx","resources":{},"terminatio)"
      R"(nMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy")"
      R"(:"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"Clu)"
      R"(sterFirst","nodeName":"node-1","securityContext":{},"schedulerName":"default-scheduler",)"
      R"("enableServiceLinks":true},"status":{"phase":"Pending","conditions":[{"type":"PodSchedul)"
      R"(ed","status":"True","lastProbeTime":null,"lastTransitionTime":"2023-11-14T22:13:25Z"}],")"
      R"(qosClass":"BestEffort"}})");
}

// A client may send a manager's fieldsV1 with its members in any order: what is stored is the
// encoder's order, as upstream re-encodes every entry, even where the write left the set as it was.
TEST_F(LifecycleTest, ManagedFieldsAClientSendsAreStoredInTheEncodersOrder) {
  Ok(Send("POST", kPods, PodJson("p"), "application/json", {{"fieldManager", "creator"}}), 201);
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  auto& metadata = pod.as_object()["metadata"].as_object();
  metadata["managedFields"].as_array().at(0).as_object()["fieldsV1"] =
      boost::json::parse(R"({"f:spec":{"f:dnsPolicy":{}},"f:metadata":{"f:labels":{"f:app":{}}}})");
  metadata["labels"].as_object()["tier"] = "front";
  Ok(Send("PUT", std::string(kPods) + "/p", boost::json::serialize(pod), "application/json",
          {{"fieldManager", "editor"}}));
  pod = Ok(Send("GET", std::string(kPods) + "/p"));
  const auto& entries = pod.at("metadata").at("managedFields").as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].at("manager"), "creator");
  EXPECT_EQ(boost::json::serialize(entries[0].at("fieldsV1")),
            R"({"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:dnsPolicy":{}}})");
}

// The pod after the scheduling path's writes (create, bind, the kubelet's status patches) and an
// update of the whole pod: what a status write keeps of the spec and ownerReferences, what an
// update keeps of the status, and every managedFields entry, exactly.
TEST_F(LifecycleTest, StatusPatchesAndUpdatesOfAPodStoreExactlyThis) {
  Ok(Send("POST", kPods, PodJson("p"), "application/json", {{"fieldManager", "creator"}}), 201);
  clock_.Advance(std::chrono::seconds(5));
  Ok(Send("POST", std::string(kPods) + "/p/binding",
          R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},)"
          R"("target":{"kind":"Node","name":"node-1"}})",
          "application/json", {{"fieldManager", "binder"}}),
     201);
  clock_.Advance(std::chrono::seconds(5));
  // The status write may change neither the spec nor the ownerReferences.
  const std::string status_patch =
      R"({"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"Node","name":"n","uid":"u"}],)"
      R"("annotations":{"k":"v"}},"spec":{"nodeName":"elsewhere"},"status":{"phase":"Running",)"
      R"("podIP":"10.0.0.1","conditions":[{"type":"Ready","status":"True"}]}})";
  for (int i = 0; i < 2; ++i) {
    Ok(Send("PATCH", std::string(kPods) + "/p/status", status_patch,
            "application/strategic-merge-patch+json", {{"fieldManager", "kubelet"}}));
    clock_.Advance(std::chrono::seconds(5));
  }
  // An update of the pod may not change its status.
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  pod.as_object()["metadata"].as_object()["labels"].as_object()["tier"] = "front";
  pod.as_object()["status"].as_object()["phase"] = "Failed";
  Ok(Send("PUT", std::string(kPods) + "/p", boost::json::serialize(pod), "application/json",
          {{"fieldManager", "editor"}}));
  pod = Ok(Send("GET", std::string(kPods) + "/p"));
  auto& metadata = pod.at("metadata").as_object();
  metadata.erase("uid");
  metadata.erase("resourceVersion");
  EXPECT_EQ(
      boost::json::serialize(pod),
      R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"default","managedFie)"
      R"(lds":[{"manager":"creator","operation":"Update","apiVersion":"v1","time":"2023-11-14T22:)"
      R"(13:20Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}})"
      R"(},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:imagePullPolicy)"
      R"(":{},"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePol)"
      R"(icy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerNa)"
      R"(me":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}},{"manager":"kubelet)"
      R"(","operation":"Update")"
      R"(,"apiVersion":"v1","time":"2023-11-14T22:13:30Z","fieldsType":"FieldsV1","fieldsV1":{"f:)"
      R"(metadata":{"f:annotations":{".":{},"f:k":{}}},"f:status":{"f:conditions":{"k:{\"type\":\)"
      R"("Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type")"
      R"(:{}}},"f:phase":{},"f:podIP":{}}},"subresource":"status"},{"manager":"editor","operation)"
      R"(":"Update","apiVersion":"v1","time":"2023-11-14T22:13:40Z","fieldsType":"FieldsV1","fiel)"
      R"(dsV1":{"f:metadata":{"f:labels":{"f:tier":{}}}}}],"annotations":{"k":"v"},"creationTimes)"
      R"(tamp":"2023-11-14T22:13:20Z","labels":{"app":"web","tier":"front"}},"spec":{"containers")"
      R"(:[{"name":"c","image":"nginx","resources":{},"terminationMessagePath":"/dev/termination-)"
      R"(log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Alw)"
      R"(ays","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","nodeName":"node-1",")"
      R"(securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},"stat)"
      R"(us":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastProbeTime":nul)"
      R"(l,"lastTransitionTime":null},{"type":"PodScheduled","status":"True","lastProbeTime":null)"
      R"(,"lastTransitionTime":"2023-11-14T22:13:25Z"}],"podIP":"10.0.0.1","qosClass":"BestEffort)"
      R"("}})");
}

// Writes start from the watch cache's copy of the object; right after a change the cache may
// not hold yet, that copy is stale and must never answer: the write is done again over the
// store's copy, and keeps the change.
TEST_F(LifecycleTest, WritesRightAfterAChangeTheCacheMayLackKeepTheChange) {
  Ok(Send("POST", kPods, PodJson("p"), "application/json", {{"fieldManager", "creator"}}), 201);
  const std::string key = "/registry/core/pods/default/p";
  // A label written straight into the store, as another server would; answers its revision.
  auto change_in_store = [&](int round) {
    auto kv = store_->Get(key);
    EXPECT_TRUE(kv.ok());
    auto json = boost::json::parse(kv->value);
    json.at("metadata").as_object()["labels"].as_object()["round"] = std::to_string(round);
    auto updated = store_->Update(key, boost::json::serialize(json), kv->mod_revision);
    EXPECT_TRUE(updated.ok());
    return std::to_string(updated->mod_revision);
  };
  for (int round = 0; round < 10; ++round) {
    // A PUT of what the store holds now, with its resourceVersion.
    change_in_store(round);
    auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
    pod.as_object()["metadata"].as_object()["annotations"] =
        boost::json::object{{"put", std::to_string(round)}};
    auto put = Ok(Send("PUT", std::string(kPods) + "/p", boost::json::serialize(pod)));
    EXPECT_EQ(put.at("metadata").at("labels").at("round").as_string(), std::to_string(round));
    // A status patch with the store's resourceVersion as its precondition.
    const std::string revision = change_in_store(round + 100);
    auto patched = Ok(Send("PATCH", std::string(kPods) + "/p/status",
                           R"({"metadata":{"resourceVersion":")" + revision +
                               R"("},"status":{"message":"m)" + std::to_string(round) + R"("}})",
                           "application/merge-patch+json"));
    EXPECT_EQ(patched.at("metadata").at("labels").at("round").as_string(),
              std::to_string(round + 100));
    EXPECT_EQ(patched.at("status").at("message").as_string(), "m" + std::to_string(round));
  }
  change_in_store(1000);
  Ok(Send("POST", std::string(kPods) + "/p/binding",
          R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},)"
          R"("target":{"kind":"Node","name":"node-1"}})"),
     201);
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  EXPECT_EQ(pod.at("metadata").at("labels").at("round"), "1000");
  EXPECT_EQ(pod.at("spec").at("nodeName"), "node-1");
  EXPECT_EQ(pod.at("status").at("message"), "m9");
}

TEST_F(LifecycleTest, BoundPodsAreDeletedGracefully) {
  Ok(Send("POST", kPods, PodJson("unbound")), 201);
  auto gone = Ok(Send("DELETE", std::string(kPods) + "/unbound"));
  EXPECT_EQ(gone.at("kind"), "Pod");  // pods answer with the deleted object
  EXPECT_EQ(Send("GET", std::string(kPods) + "/unbound").status, 404);

  Ok(Send("POST", kPods, PodJson("bound", "node-1")), 201);
  auto terminating = Ok(Send("DELETE", std::string(kPods) + "/bound"));
  EXPECT_EQ(terminating.at("metadata").at("deletionGracePeriodSeconds"), 30);
  EXPECT_EQ(terminating.at("metadata").at("deletionTimestamp").as_string(),
            api::Time::FromUnixSeconds(kStart + 30).ToString());
  auto still = Ok(Send("GET", std::string(kPods) + "/bound"));
  EXPECT_EQ(still.at("metadata").at("deletionGracePeriodSeconds"), 30);

  // A longer grace changes nothing; a shorter one moves the deadline.
  auto longer = Ok(Send("DELETE", std::string(kPods) + "/bound", R"({"gracePeriodSeconds":60})"));
  EXPECT_EQ(longer.at("metadata").at("deletionGracePeriodSeconds"), 30);
  auto shorter = Ok(Send("DELETE", std::string(kPods) + "/bound", R"({"gracePeriodSeconds":10})"));
  EXPECT_EQ(shorter.at("metadata").at("deletionGracePeriodSeconds"), 10);
  EXPECT_EQ(shorter.at("metadata").at("deletionTimestamp").as_string(),
            api::Time::FromUnixSeconds(kStart + 10).ToString());
  // Updates cannot take the deletion back.
  auto edited = still;
  edited.at("metadata").as_object().erase("deletionTimestamp");
  edited.at("metadata").as_object().erase("resourceVersion");
  auto kept = Ok(Send("PUT", std::string(kPods) + "/bound", boost::json::serialize(edited)));
  EXPECT_TRUE(kept.at("metadata").as_object().contains("deletionTimestamp"));
  // Grace 0 (the kubelet's final delete, or --force) removes it.
  Ok(Send("DELETE", std::string(kPods) + "/bound", "", "application/json",
          {{"gracePeriodSeconds", "0"}}));
  EXPECT_EQ(Send("GET", std::string(kPods) + "/bound").status, 404);
}

TEST_F(LifecycleTest, FinalizersHoldAnObjectUntilTheLastIsRemoved) {
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"held","finalizers":["example.com/x"]}})"),
     201);
  auto deleting = Ok(Send("DELETE", std::string(kConfigMaps) + "/held"));
  EXPECT_EQ(deleting.at("metadata").at("deletionTimestamp").as_string(),
            api::Time::FromUnixSeconds(kStart).ToString());
  EXPECT_EQ(deleting.at("metadata").at("deletionGracePeriodSeconds"), 0);
  // New content may still be written; deletion metadata stays.
  auto held = Ok(Send("PATCH", std::string(kConfigMaps) + "/held", R"({"data":{"k":"v"}})",
                      "application/merge-patch+json"));
  EXPECT_TRUE(held.at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_EQ(Send("GET", std::string(kConfigMaps) + "/held").status, 200);
  // Removing the last finalizer deletes it.
  Ok(Send("PATCH", std::string(kConfigMaps) + "/held", R"({"metadata":{"finalizers":null}})",
          "application/merge-patch+json"));
  EXPECT_EQ(Send("GET", std::string(kConfigMaps) + "/held").status, 404);
}

TEST_F(LifecycleTest, PropagationPoliciesSetTheGarbageCollectorsFinalizers) {
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"orphan"}})"), 201);
  auto orphaned =
      Ok(Send("DELETE", std::string(kConfigMaps) + "/orphan", R"({"propagationPolicy":"Orphan"})"));
  EXPECT_EQ(orphaned.at("metadata").at("finalizers"), boost::json::parse(R"(["orphan"])"));
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"fg"}})"), 201);
  auto foreground = Ok(Send("DELETE", std::string(kConfigMaps) + "/fg", "", "application/json",
                            {{"propagationPolicy", "Foreground"}}));
  EXPECT_EQ(foreground.at("metadata").at("finalizers"),
            boost::json::parse(R"(["foregroundDeletion"])"));
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"old"}})"), 201);
  auto deprecated =
      Ok(Send("DELETE", std::string(kConfigMaps) + "/old", R"({"orphanDependents":true})"));
  EXPECT_EQ(deprecated.at("metadata").at("finalizers"), boost::json::parse(R"(["orphan"])"));
  Ok(Send("POST", kConfigMaps, R"({"metadata":{"name":"bg"}})"), 201);
  auto background =
      Ok(Send("DELETE", std::string(kConfigMaps) + "/bg", R"({"propagationPolicy":"Background"})"));
  EXPECT_EQ(background.at("status"), "Success");
  EXPECT_EQ(Send("GET", std::string(kConfigMaps) + "/bg").status, 404);
  EXPECT_EQ(
      Send("DELETE", std::string(kConfigMaps) + "/orphan", R"({"propagationPolicy":"Sideways"})")
          .status,
      422);
}

TEST_F(LifecycleTest, TerminatingNamespaceRefusesNewContentUntilFinalized) {
  Ok(Send("POST", "/api/v1/namespaces", R"({"metadata":{"name":"team"}})"), 201);
  Ok(Send("POST", "/api/v1/namespaces/team/configmaps", R"({"metadata":{"name":"c"}})"), 201);
  Ok(Send("POST", "/api/v1/namespaces/team/pods", PodJson("p")), 201);
  auto terminating = Ok(Send("DELETE", "/api/v1/namespaces/team"));
  EXPECT_EQ(terminating.at("status").at("phase"), "Terminating");
  EXPECT_TRUE(terminating.at("metadata").as_object().contains("deletionTimestamp"));
  EXPECT_EQ(terminating.at("spec").at("finalizers"), boost::json::parse(R"(["kubernetes"])"));
  // Its content stays until the namespace controller removes it.
  EXPECT_EQ(Send("GET", "/api/v1/namespaces/team/configmaps/c").status, 200);

  auto refused = Failed(
      Send("POST", "/api/v1/namespaces/team/configmaps", R"({"metadata":{"name":"d"}})"), 403);
  EXPECT_EQ(refused.at("reason"), "Forbidden");
  EXPECT_EQ(refused.at("message"),
            "configmaps \"d\" is forbidden: unable to create new content in namespace team "
            "because it is being terminated");
  EXPECT_EQ(refused.at("details").at("causes"),
            boost::json::parse(R"([{"reason":"NamespaceTerminating","message":)"
                               R"("namespace team is being terminated","field":)"
                               R"("metadata.namespace"}])"));
  // A binding is the create of a Binding to admission, as upstream's: refused here too.
  EXPECT_EQ(Failed(Send("POST", "/api/v1/namespaces/team/pods/p/binding",
                        R"({"metadata":{"name":"p"},"target":{"name":"node-1"}})"),
                   403)
                .at("message"),
            "pods \"p\" is forbidden: unable to create new content in namespace team because it "
            "is being terminated");
  auto missing = Failed(
      Send("POST", "/api/v1/namespaces/nowhere/configmaps", R"({"metadata":{"name":"d"}})"), 404);
  EXPECT_EQ(missing.at("message"), "namespaces \"nowhere\" not found");

  auto again = Failed(Send("DELETE", "/api/v1/namespaces/team"), 409);
  EXPECT_NE(again.at("message").as_string().find("The system is ensuring all content is removed"),
            boost::json::string::npos);
  // An update cannot drop the finalizer; finalize can.
  auto ns = Ok(Send("GET", "/api/v1/namespaces/team"));
  ns.at("spec").at("finalizers") = boost::json::array();
  auto updated = Ok(Send("PUT", "/api/v1/namespaces/team", boost::json::serialize(ns)));
  EXPECT_EQ(updated.at("spec").at("finalizers"), boost::json::parse(R"(["kubernetes"])"));

  // The namespace controller empties it, then finalizes it; the finalize that leaves no
  // finalizer deletes the namespace, as upstream's namespace store does.
  Ok(Send("DELETE", "/api/v1/namespaces/team/configmaps/c"));
  Ok(Send("DELETE", "/api/v1/namespaces/team/pods/p", "", "application/json",
          {{"gracePeriodSeconds", "0"}}));
  ns = Ok(Send("GET", "/api/v1/namespaces/team"));
  ns.at("spec").at("finalizers") = boost::json::array();
  auto finalized = Ok(Send("PUT", "/api/v1/namespaces/team/finalize", boost::json::serialize(ns)));
  EXPECT_EQ(finalized.at("metadata").at("name"), "team");
  EXPECT_EQ(Send("GET", "/api/v1/namespaces/team").status, 404);
}

TEST_F(LifecycleTest, FinalizedNamespaceStaysWhileOtherFinalizersRemain) {
  Ok(Send("POST", "/api/v1/namespaces",
          R"({"metadata":{"name":"held"},"spec":{"finalizers":["example.com/x","kubernetes"]}})"),
     201);
  Ok(Send("DELETE", "/api/v1/namespaces/held"));
  auto ns = Ok(Send("GET", "/api/v1/namespaces/held"));
  ns.at("spec").at("finalizers") = boost::json::parse(R"(["example.com/x"])");
  Ok(Send("PUT", "/api/v1/namespaces/held/finalize", boost::json::serialize(ns)));
  auto kept = Ok(Send("GET", "/api/v1/namespaces/held"));
  EXPECT_EQ(kept.at("status").at("phase"), "Terminating");
  EXPECT_EQ(kept.at("spec").at("finalizers"), boost::json::parse(R"(["example.com/x"])"));
  kept.at("spec").at("finalizers") = boost::json::array();
  Ok(Send("PUT", "/api/v1/namespaces/held/finalize", boost::json::serialize(kept)));
  EXPECT_EQ(Send("GET", "/api/v1/namespaces/held").status, 404);
}

TEST_F(LifecycleTest, EvictionHonoursDisruptionBudgets) {
  const std::string pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
  Ok(Send("POST", pdbs,
          R"({"metadata":{"name":"budget"},"spec":{"minAvailable":1,"selector":{)"
          R"("matchLabels":{"app":"web"}}}})"),
     201);
  Ok(Send("POST", kPods, PodJson("p", "node-1")), 201);
  Ok(Send("PATCH", std::string(kPods) + "/p/status",
          R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})",
          "application/merge-patch+json"));
  const std::string eviction =
      R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"}})";
  // Until the controller has seen the budget, upstream's 429 suggests retrying in 10 s, in
  // details.retryAfterSeconds and the Retry-After header (client-go waits for it and retries).
  auto unprocessed = Send("POST", std::string(kPods) + "/p/eviction", eviction);
  auto pending = Failed(unprocessed, 429);
  EXPECT_EQ(pending.at("details").at("retryAfterSeconds"), 10);
  EXPECT_EQ(pending.at("details").at("causes").at(0).at("message"),
            "The disruption budget budget is still being processed by the server.");
  auto retry_after = [](const http::Response& response) {
    for (const auto& header : response.headers)
      if (header.name == "Retry-After") return header.value;
    return std::string("(none)");
  };
  EXPECT_EQ(retry_after(unprocessed), "10");
  // The budget's status says no disruption is allowed (its generation was observed).
  Ok(Send("PATCH", pdbs + "/budget/status",
          R"({"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,)"
          R"("desiredHealthy":1,"expectedPods":1}})",
          "application/merge-patch+json"));
  auto refused_response = Send("POST", std::string(kPods) + "/p/eviction", eviction);
  auto refused = Failed(refused_response, 429);
  EXPECT_EQ(refused.at("message"),
            "Cannot evict pod as it would violate the pod's disruption budget.");
  EXPECT_EQ(refused.at("reason"), "TooManyRequests");
  EXPECT_EQ(refused.at("details").at("causes").as_array().at(0).at("reason"), "DisruptionBudget");
  // No suggestion when the budget allows none (upstream's 0: no header, no field).
  EXPECT_FALSE(refused.at("details").as_object().contains("retryAfterSeconds"));
  EXPECT_EQ(retry_after(refused_response), "(none)");

  Ok(Send("PATCH", pdbs + "/budget/status", R"({"status":{"disruptionsAllowed":1}})",
          "application/merge-patch+json"));
  Ok(Send("POST", std::string(kPods) + "/p/eviction", eviction), 201);
  auto budget = Ok(Send("GET", pdbs + "/budget"));
  EXPECT_EQ(budget.at("status").at("disruptionsAllowed"), 0);
  EXPECT_TRUE(budget.at("status").at("disruptedPods").as_object().contains("p"));
  // The pod is being deleted (it is bound: gracefully).
  auto pod = Ok(Send("GET", std::string(kPods) + "/p"));
  EXPECT_TRUE(pod.at("metadata").as_object().contains("deletionTimestamp"));

  // A pod no budget selects is simply deleted.
  Ok(Send("POST", kPods, PodJson("free", "", R"({"app":"other"})")), 201);
  Ok(Send("POST", std::string(kPods) + "/free/eviction", R"({"metadata":{"name":"free"}})"), 201);
  EXPECT_EQ(Send("GET", std::string(kPods) + "/free").status, 404);
}

// Running pods that are not ready do not count towards a budget: they may go without using it
// when the budget has its healthy pods (IfHealthyBudget, the default) or when the policy is
// AlwaysAllow.
TEST_F(LifecycleTest, EvictionOfUnhealthyPods) {
  const std::string pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
  Ok(Send("POST", pdbs,
          R"({"metadata":{"name":"budget"},"spec":{"minAvailable":1,"selector":{)"
          R"("matchLabels":{"app":"web"}}}})"),
     201);
  auto running_not_ready = [&](const std::string& name) {
    Ok(Send("POST", kPods, PodJson(name, "node-1")), 201);
    Ok(Send("PATCH", std::string(kPods) + "/" + name + "/status",
            R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}]}})",
            "application/merge-patch+json"));
  };
  auto evict = [&](const std::string& name) {
    return Send("POST", std::string(kPods) + "/" + name + "/eviction",
                R"({"metadata":{"name":")" + name + R"("}})");
  };
  running_not_ready("sick");
  // Not enough healthy pods: the budget decides, and allows nothing.
  Ok(Send("PATCH", pdbs + "/budget/status",
          R"({"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":0,)"
          R"("desiredHealthy":1,"expectedPods":2}})",
          "application/merge-patch+json"));
  Failed(evict("sick"), 429);
  // With its healthy pods, the unhealthy one goes without using the budget.
  Ok(Send("PATCH", pdbs + "/budget/status", R"({"status":{"currentHealthy":1}})",
          "application/merge-patch+json"));
  Ok(evict("sick"), 201);
  auto budget = Ok(Send("GET", pdbs + "/budget"));
  EXPECT_EQ(budget.at("status").at("disruptionsAllowed"), 0);
  EXPECT_FALSE(budget.at("status").as_object().contains("disruptedPods"));
  // AlwaysAllow: even without healthy pods.
  running_not_ready("sick2");
  Ok(Send("PATCH", pdbs + "/budget/status", R"({"status":{"currentHealthy":0}})",
          "application/merge-patch+json"));
  Failed(evict("sick2"), 429);
  Ok(Send("PATCH", pdbs + "/budget", R"({"spec":{"unhealthyPodEvictionPolicy":"AlwaysAllow"}})",
          "application/merge-patch+json"));
  Ok(Send("PATCH", pdbs + "/budget/status", R"({"status":{"observedGeneration":2}})",
          "application/merge-patch+json"));
  Ok(evict("sick2"), 201);
}

const api::KindInfo& KindOf(std::string_view group, std::string_view version,
                            std::string_view kind) {
  for (const auto& info : api::AllKinds()) {
    if (info.group == group && info.version == version && info.kind == kind) return info;
  }
  ADD_FAILURE() << "no kind " << group << "/" << version << " " << kind;
  return api::AllKinds().front();
}

TEST(LifecycleRulesTest, DefaultGarbageCollectionPolicyFollowsUpstream) {
  EXPECT_TRUE(OrphanByDefault(KindOf("", "v1", "ReplicationController")));
  EXPECT_TRUE(OrphanByDefault(KindOf("batch", "v1", "Job")));
  EXPECT_TRUE(OrphanByDefault(KindOf("extensions", "v1beta1", "Deployment")));
  EXPECT_TRUE(OrphanByDefault(KindOf("apps", "v1beta2", "ReplicaSet")));
  EXPECT_FALSE(OrphanByDefault(KindOf("apps", "v1", "Deployment")));
  EXPECT_FALSE(OrphanByDefault(KindOf("extensions", "v1beta1", "Ingress")));
  EXPECT_FALSE(OrphanByDefault(KindOf("batch", "v1", "CronJob")));
  EXPECT_FALSE(OrphanByDefault(KindOf("", "v1", "ConfigMap")));
}

TEST(LifecycleRulesTest, GenerationIsTrackedByWorkloadsNotByPlainObjects) {
  EXPECT_TRUE(TracksGeneration(KindOf("apps", "v1", "Deployment")));
  EXPECT_TRUE(TracksGeneration(KindOf("apps", "v1beta1", "Deployment")));  // its storage kind
  EXPECT_TRUE(TracksGeneration(KindOf("policy", "v1", "PodDisruptionBudget")));
  EXPECT_FALSE(TracksGeneration(KindOf("", "v1", "Pod")));
  EXPECT_FALSE(TracksGeneration(KindOf("", "v1", "ConfigMap")));
  EXPECT_TRUE(HasSubresource(KindOf("", "v1", "Namespace"), "finalize"));
  EXPECT_FALSE(HasSubresource(KindOf("", "v1", "ConfigMap"), "status"));
}

TEST(LifecycleRulesTest, PlanDeleteOfAPodWithFinalizersWaitsForBoth) {
  const auto& pods = KindOf("", "v1", "Pod");
  auto decoded = pods.codec->Decode(
      R"({"metadata":{"name":"p","finalizers":["x"]},"spec":{"nodeName":"n",)"
      R"("terminationGracePeriodSeconds":5,"containers":[{"name":"c","image":"i"}]}})",
      {});
  ASSERT_TRUE(decoded.ok());
  api::Object& pod = *decoded->object;
  api::meta::v1::DeleteOptions options;
  auto action = PlanDelete(pods, pod, options, kStart);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, DeleteAction::kUpdate);
  EXPECT_EQ(pod.metadata().deletion_timestamp->unix_seconds, kStart + 5);
  EXPECT_EQ(pod.metadata().deletion_grace_period_seconds, 5);
  // Grace 0 ends the grace period, but the finalizer still holds the pod.
  options.grace_period_seconds = 0;
  action = PlanDelete(pods, pod, options, kStart + 1);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, DeleteAction::kUpdate);
  EXPECT_EQ(pod.metadata().deletion_grace_period_seconds, 0);
  // Both orphanDependents and a propagation policy are refused.
  api::meta::v1::DeleteOptions both;
  both.orphan_dependents = true;
  both.propagation_policy = "Background";
  EXPECT_FALSE(PlanDelete(pods, pod, both, kStart).ok());
}

}  // namespace
}  // namespace kpp::apiserver
