// The field manager against the schema's real Deployment and ConfigMap types, with the
// managedFields upstream's API server writes for the same requests.
#include "apimachinery/managedfields/field_manager.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/apps/v1/codec.h"
#include "api/core/v1/codec.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"

namespace kpp::managedfields {
namespace {

using boost::json::parse;
using boost::json::serialize;
using boost::json::value;

const TypeModel& Model() {
  static const boost::json::object definitions = parse(api::OpenApiV2Definitions()).as_object();
  static const TypeModel model(definitions);
  return model;
}

const TypeNode* DeploymentType() {
  return Model().Find("io.k8s.api.apps.v1.Deployment");
}
const TypeNode* ConfigMapType() {
  return Model().Find("io.k8s.api.core.v1.ConfigMap");
}

// The empty object a create starts from, as the codec writes it.
value EmptyDeployment() {
  return parse(api::ToJson(api::apps::v1::Deployment{}));
}

const FieldSet kNoReset;

Writer By(std::string manager, std::string now = "2026-11-24T01:00:00Z") {
  return {std::move(manager), "apps/v1", "", std::move(now)};
}

std::string FieldsV1(const ManagedFields& managed, size_t i) {
  return serialize(managed.at(i).fields.ToFieldsV1());
}

constexpr const char* kCreatedDeployment =
    R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default",)"
    R"("labels":{"app":"web"},"creationTimestamp":null},"spec":{"replicas":1,"selector":)"
    R"({"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"},)"
    R"("creationTimestamp":null},"spec":{"containers":[{"name":"nginx","image":"nginx",)"
    R"("resources":{},"terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always",)"
    R"("terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},)"
    R"("schedulerName":"default-scheduler"}},"strategy":{"type":"RollingUpdate","rollingUpdate":)"
    R"({"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,)"
    R"("progressDeadlineSeconds":600},"status":{}})";

TEST(FieldManagerTest, CreateOwnsWhatItSetAsUpstreamRecordsIt) {
  ASSERT_NE(DeploymentType(), nullptr);
  FieldManager manager(DeploymentType(), kNoReset);
  auto managed =
      manager.Update(EmptyDeployment(), parse(kCreatedDeployment), {}, By("kubectl-create"));
  ASSERT_TRUE(managed.ok()) << managed.error().message();
  ASSERT_EQ(managed->size(), 1u);
  EXPECT_EQ((*managed)[0].operation, "Update");
  EXPECT_EQ((*managed)[0].time, "2026-11-24T01:00:00Z");
  // Structs the empty object already has (spec, strategy, template) are not members; what
  // appears (labels, rollingUpdate, a container) is, with "."; an atomic selector is a leaf.
  EXPECT_EQ(
      FieldsV1(*managed, 0),
      R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},)"
      R"("f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{)"
      R"("f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},)"
      R"("f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":)"
      R"({"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},)"
      R"("f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},)"
      R"("f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},)"
      R"("f:terminationGracePeriodSeconds":{}}}}})");
}

TEST(FieldManagerTest, UpdatesMoveOwnershipAndKeepTimesOfNoOps) {
  FieldManager manager(DeploymentType(), kNoReset);
  auto created = manager.Update(EmptyDeployment(), parse(kCreatedDeployment), {},
                                By("kubectl-create", "2026-11-24T01:00:00Z"));
  ASSERT_TRUE(created.ok());
  value scaled = parse(kCreatedDeployment);
  scaled.at("spec").as_object()["replicas"] = 3;
  auto after = manager.Update(parse(kCreatedDeployment), scaled, *created,
                              By("kubectl-scale", "2026-11-24T02:00:00Z"));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ(FieldsV1(*after, 1), R"({"f:spec":{"f:replicas":{}}})");
  EXPECT_FALSE(
      (*after)[0].fields.Has({PathElement::Field("spec"), PathElement::Field("replicas")}));
  // Writing the same again changes nothing, not even the time.
  auto again = manager.Update(scaled, scaled, *after, By("kubectl-scale", "2026-11-24T03:00:00Z"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[1].time, "2026-11-24T02:00:00Z");
  const std::string encoded = serialize(EncodeManagedFields(*again));
  EXPECT_EQ(
      encoded.find(R"({"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1",)"
                   R"("time":"2026-11-24T01:00:00Z","fieldsType":"FieldsV1","fieldsV1":)"),
      1u)
      << encoded;
}

TEST(FieldManagerTest, ApplyConflictsWithAnotherOwnerUnlessTheValueIsTheSameOrForced) {
  FieldManager manager(DeploymentType(), kNoReset);
  auto created = manager.Update(EmptyDeployment(), parse(kCreatedDeployment), {},
                                By("kubectl-client-side-apply"));
  ASSERT_TRUE(created.ok());
  const value live = parse(kCreatedDeployment);
  auto config = [](int replicas, const char* image) {
    return parse(std::string(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":)") +
                 R"({"name":"web"},"spec":{"replicas":)" + std::to_string(replicas) +
                 R"(,"template":{"spec":{"containers":[{"name":"nginx","image":")" + image +
                 R"("}]}}}})");
  };
  auto conflict = manager.Apply(live, config(5, "nginx:2"), *created, By("kubectl"), false);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(conflict.error().message(),
            "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using "
            "apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"nginx\"].image");
  ASSERT_EQ(conflict.error().causes().size(), 2u);
  EXPECT_EQ(conflict.error().causes()[0].type, "FieldManagerConflict");
  EXPECT_EQ(conflict.error().causes()[0].message,
            "conflict with \"kubectl-client-side-apply\" using apps/v1");
  EXPECT_EQ(conflict.error().causes()[0].field, ".spec.replicas");

  auto one = manager.Apply(live, config(5, "nginx"), *created, By("kubectl"), false);
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using "
            "apps/v1: .spec.replicas");

  // Same values: both own them.
  auto shared = manager.Apply(live, config(1, "nginx"), *created, By("kubectl"), false);
  ASSERT_TRUE(shared.ok()) << shared.error().message();
  ASSERT_EQ(shared->managed.size(), 2u);
  const Path replicas = {PathElement::Field("spec"), PathElement::Field("replicas")};
  EXPECT_TRUE(shared->managed[0].fields.Has(replicas));
  EXPECT_TRUE(shared->managed[1].fields.Has(replicas));
  EXPECT_EQ(shared->managed[1].operation, "Apply");

  auto forced = manager.Apply(live, config(5, "nginx:2"), *created, By("kubectl"), true);
  ASSERT_TRUE(forced.ok());
  EXPECT_FALSE(forced->managed[0].fields.Has(replicas));
  EXPECT_TRUE(forced->managed[1].fields.Has(replicas));
  EXPECT_EQ(forced->object.at("spec").at("replicas"), 5);
  // The merge kept what the configuration does not mention.
  EXPECT_EQ(forced->object.at("spec")
                .at("template")
                .at("spec")
                .at("containers")
                .at(0)
                .at("imagePullPolicy"),
            "Always");
}

TEST(FieldManagerTest, ApplyRemovesWhatItNoLongerAppliesUnlessSomeoneElseOwnsIt) {
  FieldManager manager(ConfigMapType(), kNoReset);
  const value empty = parse(api::ToJson(api::core::v1::ConfigMap{}));
  auto first =
      manager.Apply(empty,
                    parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c",)"
                          R"("labels":{"a":"1","b":"2"}},"data":{"x":"1","y":"2"}})"),
                    {}, By("tool"), false);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(serialize(first->managed[0].fields.ToFieldsV1()),
            R"({"f:data":{"f:x":{},"f:y":{}},"f:metadata":{"f:labels":{"f:a":{},"f:b":{}}}})");
  // Someone else takes data.y over.
  value edited = first->object;
  edited.at("data").as_object()["y"] = "3";
  auto taken = manager.Update(first->object, edited, first->managed, By("kubectl-edit"));
  ASSERT_TRUE(taken.ok());
  auto second =
      manager.Apply(edited,
                    parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c",)"
                          R"("labels":{"a":"1"}},"data":{"x":"1"}})"),
                    *taken, By("tool"), false);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(serialize(second->object.at("data")), R"({"x":"1","y":"3"})");
  EXPECT_EQ(serialize(second->object.at("metadata").at("labels")), R"({"a":"1"})");
}

TEST(FieldManagerTest, KeyedListItemsMergeByKeyAndNeedTheirKey) {
  FieldManager manager(DeploymentType(), kNoReset);
  auto applied = manager.Apply(
      parse(kCreatedDeployment),
      parse(
          R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}})"),
      {}, By("tool"), false);
  ASSERT_TRUE(applied.ok()) << applied.error().message();
  const auto& containers =
      applied->object.at("spec").at("template").at("spec").at("containers").as_array();
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].at("name"), "nginx");
  EXPECT_EQ(containers[1].at("name"), "sidecar");
  auto keyless =
      manager.Apply(parse(kCreatedDeployment),
                    parse(R"({"spec":{"template":{"spec":{"containers":[{"image":"busybox"}]}}}})"),
                    {}, By("tool"), false);
  ASSERT_FALSE(keyless.ok());
  EXPECT_EQ(keyless.error().message(),
            "associative list with keys has an element that omits key field \"name\" (and "
            "doesn't have default value)");
}

TEST(FieldManagerTest, ResetFieldsAreOwnedByNobody) {
  FieldSet status;
  status.Insert({PathElement::Field("status")});
  FieldManager manager(DeploymentType(), status);
  value with_status = parse(kCreatedDeployment);
  with_status.as_object()["status"] = parse(R"({"replicas":1})");
  auto managed = manager.Update(EmptyDeployment(), with_status, {}, By("x"));
  ASSERT_TRUE(managed.ok());
  EXPECT_FALSE(managed->at(0).fields.HasAtOrBelow({PathElement::Field("status")}));
}

TEST(FieldManagerTest, RequestManagedFieldsWinOrResetElseLiveOnes) {
  const value live =
      parse(R"([{"manager":"a","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1",)"
            R"("fieldsV1":{"f:data":{"f:x":{}}}}])");
  EXPECT_EQ(ManagedFieldsForWrite(nullptr, &live).size(), 1u);
  const value reset = parse("[{}]");
  EXPECT_TRUE(ManagedFieldsForWrite(&reset, &live).empty());
  const value empty = parse("[]");
  EXPECT_TRUE(ManagedFieldsForWrite(&empty, &live).empty());
  const value garbage = parse(R"([{"operation":"Bogus"}])");
  EXPECT_EQ(ManagedFieldsForWrite(&garbage, &live).at(0).manager, "a");
  EXPECT_EQ(ManagerFromUserAgent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc"), "kubectl");
}

}  // namespace
}  // namespace kpp::managedfields
