// NamespaceLifecycle, ServiceAccount and the chain, against an in-memory reader.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/fake_reader.h"
#include "apiserver/admission/limit_ranger.h"
#include "apiserver/admission/namespace_lifecycle.h"
#include "apiserver/admission/priority.h"
#include "apiserver/admission/service_account.h"

namespace kpp::apiserver::admission {
namespace {

class AdmissionPluginTest : public ::testing::Test {
 protected:
  Attributes Pod(std::string namespace_, std::string name, std::string json) {
    object_ = boost::json::parse(json).as_object();
    Attributes attributes;
    attributes.resource = "pods";
    attributes.kind = "Pod";
    attributes.version = "v1";
    attributes.namespace_ = std::move(namespace_);
    attributes.name = std::move(name);
    attributes.object = &object_;
    return attributes;
  }
  std::optional<Rejection> Admit(const Plugin& plugin, Attributes& attributes) {
    Context context{reader_, RealClock(), warnings_};
    auto rejection = plugin.Admit(attributes, context);
    mutated_ = context.mutated;
    return rejection;
  }
  FakeReader reader_;
  boost::json::object object_;
  std::vector<std::string> warnings_;
  bool mutated_ = false;
};

TEST_F(AdmissionPluginTest, NamespaceLifecycleRefusesMissingAndTerminatingNamespaces) {
  reader_.Add("", "namespaces", R"({"metadata":{"name":"live"},"status":{"phase":"Active"}})");
  reader_.Add("", "namespaces",
              R"({"metadata":{"name":"dying","deletionTimestamp":"2026-01-01T00:00:00Z"},
                  "status":{"phase":"Terminating"}})");
  NamespaceLifecycle plugin;
  auto live = Pod("live", "p", R"({"metadata":{"name":"p"}})");
  EXPECT_FALSE(Admit(plugin, live));

  auto missing = Pod("nowhere", "p", R"({"metadata":{"name":"p"}})");
  auto refused = Admit(plugin, missing);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 404);
  EXPECT_EQ(refused->error.message(), "namespaces \"nowhere\" not found");

  auto generated = Pod("dying", "", R"({"metadata":{"generateName":"web-"}})");
  refused = Admit(plugin, generated);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "pods \"web-\" is forbidden: unable to create new content in namespace dying because "
            "it is being terminated");
  ASSERT_EQ(refused->error.causes().size(), 1u);
  EXPECT_EQ(refused->error.causes()[0].type, "NamespaceTerminating");
  EXPECT_EQ(refused->error.causes()[0].field, "metadata.namespace");

  // Updates and deletes in a terminating namespace go on (the namespace controller needs them).
  auto update = Pod("dying", "p", R"({"metadata":{"name":"p"}})");
  update.operation = Operation::kUpdate;
  EXPECT_FALSE(Admit(plugin, update));

  Attributes delete_default;
  delete_default.resource = "namespaces";
  delete_default.name = "kube-system";
  delete_default.operation = Operation::kDelete;
  refused = Admit(plugin, delete_default);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "namespaces \"kube-system\" is forbidden: this namespace may not be deleted");
}

TEST_F(AdmissionPluginTest, ServiceAccountDefaultsTheAccountAndMountsTheTokenVolume) {
  reader_.Add("", "serviceaccounts", R"({"metadata":{"name":"default","namespace":"team"},
      "imagePullSecrets":[{"name":"registry"}]})");
  ServiceAccount plugin(1);
  auto pod = Pod("team", "p", R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"init","image":"busybox"}],
      "containers":[{"name":"c","image":"nginx"},
                    {"name":"own","image":"nginx","volumeMounts":[{"name":"mine",
                     "mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}]}})");
  EXPECT_FALSE(Admit(plugin, pod));
  EXPECT_TRUE(mutated_);
  const auto& spec = object_.at("spec").as_object();
  EXPECT_EQ(spec.at("serviceAccountName"), "default");
  EXPECT_EQ(spec.at("serviceAccount"), "default");
  EXPECT_EQ(spec.at("imagePullSecrets"), boost::json::parse(R"([{"name":"registry"}])"));
  const auto& volumes = spec.at("volumes").as_array();
  ASSERT_EQ(volumes.size(), 1u);
  const std::string name(volumes[0].at("name").as_string());
  ASSERT_EQ(name.size(), std::string("kube-api-access-").size() + 5);
  EXPECT_TRUE(name.starts_with("kube-api-access-"));
  EXPECT_EQ(volumes[0].at("projected"), boost::json::parse(R"({"sources":[
      {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
      {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
      {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1",
        "fieldPath":"metadata.namespace"}}]}}],"defaultMode":420})"));
  const auto mount =
      boost::json::object{{"name", name},
                          {"readOnly", true},
                          {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"}};
  EXPECT_EQ(spec.at("initContainers").at(0).at("volumeMounts"), boost::json::array{mount});
  EXPECT_EQ(spec.at("containers").at(0).at("volumeMounts"), boost::json::array{mount});
  // A container that mounts something at the token path keeps its own.
  EXPECT_EQ(spec.at("containers").at(1).at("volumeMounts").as_array().size(), 1u);
}

TEST_F(AdmissionPluginTest, ServiceAccountHonoursAutomountAndRefusesMissingAccounts) {
  reader_.Add("", "serviceaccounts",
              R"({"metadata":{"name":"quiet","namespace":"team"},
                  "automountServiceAccountToken":false})");
  ServiceAccount plugin(1);
  auto quiet = Pod("team", "p", R"({"spec":{"serviceAccountName":"quiet",
      "containers":[{"name":"c"}]}})");
  EXPECT_FALSE(Admit(plugin, quiet));
  EXPECT_FALSE(object_.at("spec").as_object().contains("volumes"));
  // The pod's own setting wins over the account's.
  auto loud = Pod("team", "p", R"({"spec":{"serviceAccountName":"quiet",
      "automountServiceAccountToken":true,"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(Admit(plugin, loud));
  EXPECT_EQ(object_.at("spec").at("volumes").as_array().size(), 1u);

  auto orphan = Pod("team", "p", R"({"spec":{"containers":[{"name":"c"}]}})");
  auto refused = Admit(plugin, orphan);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: error looking up service account team/default: "
            "serviceaccount \"default\" not found");
}

TEST(AdmissionChainTest, RunsPluginsInUpstreamsOrderAndRefusesUnknownNames) {
  auto chain = NewChain({"PodSecurity", "ServiceAccount", "NamespaceLifecycle"},
                        std::make_unique<FakeReader>(), RealClock());
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ((*chain)->Names(),
            (std::vector<std::string_view>{"NamespaceLifecycle", "ServiceAccount", "PodSecurity"}));
  // Only the kinds some plugin reads get their object built.
  Attributes config_map;
  config_map.resource = "configmaps";
  config_map.namespace_ = "team";
  EXPECT_FALSE((*chain)->NeedsObject(config_map));
  Attributes pod = config_map;
  pod.resource = "pods";
  EXPECT_TRUE((*chain)->NeedsObject(pod));
  // Without the object, a refusal still names what was sent.
  config_map.generate_name = "settings-";
  EXPECT_EQ(AdmissionForbidden(config_map, "no").error.message(),
            "configmaps \"settings-\" is forbidden: no");
  auto unknown = NewChain({"AlwaysPullImages"}, std::make_unique<FakeReader>(), RealClock());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "unknown admission plugin: AlwaysPullImages");
}

}  // namespace
}  // namespace kpp::apiserver::admission

namespace kpp::apiserver::admission {
namespace {

TEST_F(AdmissionPluginTest, LimitRangerDefaultsContainersAndAnnotatesThePod) {
  reader_.Add("", "limitranges", R"({"metadata":{"name":"limits","namespace":"team"},
      "spec":{"limits":[{"type":"Container","default":{"cpu":"500m","memory":"256Mi"},
                         "defaultRequest":{"cpu":"100m"}}]}})");
  LimitRanger plugin;
  auto pod = Pod("team", "p", R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"web","image":"nginx"},
      {"name":"own","image":"nginx","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"1"}}}]}})");
  EXPECT_FALSE(Admit(plugin, pod));
  EXPECT_EQ(object_.at("spec").at("containers").at(0).at("resources"),
            boost::json::parse(R"({"limits":{"cpu":"500m","memory":"256Mi"},
                                   "requests":{"cpu":"100m","memory":"256Mi"}})"));
  EXPECT_EQ(object_.at("spec").at("containers").at(1).at("resources"),
            boost::json::parse(R"({"limits":{"cpu":"1","memory":"256Mi"},
                                   "requests":{"cpu":"1","memory":"256Mi"}})"));
  EXPECT_EQ(object_.at("metadata").at("annotations").at("kubernetes.io/limit-ranger"),
            "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit "
            "for container web; memory request for container own; memory limit for container "
            "own");
}

TEST_F(AdmissionPluginTest, LimitRangerRefusesWhatIsOutOfBounds) {
  reader_.Add("", "limitranges", R"({"metadata":{"name":"limits","namespace":"team"},
      "spec":{"limits":[{"type":"Container","max":{"cpu":"1"},"min":{"memory":"64Mi"},
                         "maxLimitRequestRatio":{"cpu":"2"}},
                        {"type":"PersistentVolumeClaim","max":{"storage":"1Gi"}}]}})");
  LimitRanger plugin;
  Context context{reader_, RealClock(), warnings_};
  auto pod = Pod("team", "p", R"({"spec":{"containers":[{"name":"c","resources":{
      "limits":{"cpu":"2","memory":"32Mi"},"requests":{"cpu":"500m","memory":"32Mi"}}}]}})");
  pod.operation = Operation::kCreate;
  auto refused = plugin.Validate(pod, context);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.http_status(), 403);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: [minimum memory usage per Container is 64Mi, but request is "
            "32Mi, maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request "
            "ratio per Container is 2, but provided ratio is 4.000000]");
  auto fits = Pod("team", "p", R"({"spec":{"containers":[{"name":"c","resources":{
      "limits":{"cpu":"1","memory":"64Mi"},"requests":{"cpu":"500m","memory":"64Mi"}}}]}})");
  EXPECT_FALSE(plugin.Validate(fits, context));

  object_ =
      boost::json::parse(R"({"spec":{"resources":{"requests":{"storage":"5Gi"}}}})").as_object();
  Attributes claim;
  claim.resource = "persistentvolumeclaims";
  claim.namespace_ = "team";
  claim.name = "data";
  claim.object = &object_;
  refused = plugin.Validate(claim, context);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per "
            "PersistentVolumeClaim is 1Gi, but request is 5Gi");
}

TEST_F(AdmissionPluginTest, PriorityResolvesClassesAndDefaults) {
  Priority plugin;
  auto plain = Pod("team", "p", R"({"spec":{"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(Admit(plugin, plain));
  EXPECT_EQ(object_.at("spec").at("priority"), 0);
  EXPECT_EQ(object_.at("spec").at("preemptionPolicy"), "PreemptLowerPriority");
  EXPECT_FALSE(object_.at("spec").as_object().contains("priorityClassName"));

  reader_.Add("scheduling.k8s.io", "priorityclasses",
              R"({"metadata":{"name":"system-node-critical"},"value":2000001000})");
  reader_.Add("scheduling.k8s.io", "priorityclasses",
              R"({"metadata":{"name":"batch"},"value":100,"globalDefault":true,
                  "preemptionPolicy":"Never"})");
  auto defaulted = Pod("team", "p", R"({"spec":{"containers":[{"name":"c"}]}})");
  EXPECT_FALSE(Admit(plugin, defaulted));
  EXPECT_EQ(object_.at("spec").at("priorityClassName"), "batch");
  EXPECT_EQ(object_.at("spec").at("priority"), 100);
  EXPECT_EQ(object_.at("spec").at("preemptionPolicy"), "Never");

  auto critical = Pod("team", "p", R"({"spec":{"priorityClassName":"system-node-critical"}})");
  EXPECT_FALSE(Admit(plugin, critical));
  EXPECT_EQ(object_.at("spec").at("priority"), 2000001000);

  auto unknown = Pod("team", "p", R"({"spec":{"priorityClassName":"gold"}})");
  auto refused = Admit(plugin, unknown);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: no PriorityClass with name gold was found");
  auto mismatch = Pod("team", "p", R"({"spec":{"priorityClassName":"batch","priority":7}})");
  refused = Admit(plugin, mismatch);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "pods \"p\" is forbidden: the integer value of priority (7) must not be provided in "
            "pod spec; priority admission controller computed 100 from the given PriorityClass "
            "name");

  object_ = boost::json::parse(R"({"metadata":{"name":"other"},"value":5,"globalDefault":true})")
                .as_object();
  Attributes second_default;
  second_default.group = "scheduling.k8s.io";
  second_default.resource = "priorityclasses";
  second_default.name = "other";
  second_default.object = &object_;
  Context context{reader_, RealClock(), warnings_};
  refused = plugin.Validate(second_default, context);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.message(),
            "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass batch is "
            "already marked as default. Only one default can exist");
}

TEST_F(AdmissionPluginTest, DefaultTolerationSecondsAndDefaultStorageClass) {
  DefaultTolerationSeconds tolerations;
  auto pod = Pod("team", "p", R"({"spec":{"tolerations":[{"key":"node.kubernetes.io/unreachable",
      "operator":"Exists","effect":"NoExecute","tolerationSeconds":60}]}})");
  EXPECT_FALSE(Admit(tolerations, pod));
  EXPECT_EQ(object_.at("spec").at("tolerations"), boost::json::parse(R"([
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":60},
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":300}])"));

  reader_.Add("storage.k8s.io", "storageclasses",
              R"({"metadata":{"name":"old","creationTimestamp":"2026-01-01T00:00:00Z",
                  "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}})");
  reader_.Add("storage.k8s.io", "storageclasses",
              R"({"metadata":{"name":"new","creationTimestamp":"2026-02-01T00:00:00Z",
                  "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}})");
  reader_.Add("storage.k8s.io", "storageclasses",
              R"({"metadata":{"name":"plain","creationTimestamp":"2026-03-01T00:00:00Z"}})");
  DefaultStorageClass storage;
  object_ = boost::json::parse(R"({"spec":{}})").as_object();
  Attributes claim;
  claim.resource = "persistentvolumeclaims";
  claim.object = &object_;
  EXPECT_FALSE(Admit(storage, claim));
  EXPECT_EQ(object_.at("spec").at("storageClassName"), "new");
  object_ = boost::json::parse(R"({"spec":{"storageClassName":""}})").as_object();
  EXPECT_FALSE(Admit(storage, claim));
  EXPECT_EQ(object_.at("spec").at("storageClassName"), "");
}

// Which writes make the registry build the objects' JSON for admission: no default plugin looks
// at a pod's binding or status written by anyone but a node, nor, until a webhook is configured,
// at an Event.
TEST(AdmissionChainTest, ObjectsAreNeededOnlyWherePluginsLook) {
  auto owned = std::make_unique<FakeReader>();
  FakeReader& reader = *owned;
  auto chain = NewChain(DefaultEnabledPlugins(), std::move(owned), RealClock());
  ASSERT_TRUE(chain.ok()) << chain.error().message();
  Attributes binding;
  binding.resource = "pods";
  binding.kind = "Binding";  // a Binding is created on pods/binding
  binding.version = "v1";
  binding.namespace_ = "ns";
  binding.name = "p";
  binding.subresource = "binding";
  binding.operation = Operation::kCreate;
  binding.user = {"system:kube-scheduler", {"system:authenticated"}};
  EXPECT_FALSE((*chain)->NeedsObject(binding));
  Attributes status = binding;
  status.kind = "Pod";
  status.subresource = "status";
  status.operation = Operation::kUpdate;
  EXPECT_FALSE((*chain)->NeedsObject(status));
  status.user = {"system:node:n1", {"system:nodes", "system:authenticated"}};
  EXPECT_TRUE((*chain)->NeedsObject(status));  // NodeRestriction checks what nodes write
  Attributes create = binding;
  create.subresource.clear();
  create.operation = Operation::kCreate;
  EXPECT_TRUE((*chain)->NeedsObject(create));
  Attributes event = create;
  event.resource = "events";
  event.kind = "Event";
  EXPECT_FALSE((*chain)->NeedsObject(event));

  reader.Add("admissionregistration.k8s.io", "validatingwebhookconfigurations",
             R"({"metadata":{"name":"v"},"webhooks":[{"name":"h.example.com"}]})");
  EXPECT_TRUE((*chain)->NeedsObject(event));
  EXPECT_TRUE((*chain)->NeedsObject(binding));
}

}  // namespace
}  // namespace kpp::apiserver::admission
