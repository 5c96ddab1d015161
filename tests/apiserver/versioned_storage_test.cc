// Kinds served in several versions share one stored object: the registry converts every write
// to the storage version and every read (get, list, watch, patch) back to the version asked for.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/conversion/autoscaling.h"
#include "api/runtime/kinds.h"
#include "apiserver/registry_fixture.h"

namespace kpp::apiserver {
namespace {

constexpr char kV1Path[] = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
constexpr char kV2Path[] = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
constexpr char kStoredKey[] = "/registry/autoscaling/horizontalpodautoscalers/default/web";

const std::string kV1Web =
    R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{)"
    R"("name":"web","labels":{"app":"web"}},"spec":{"scaleTargetRef":{"kind":"Deployment",)"
    R"("name":"web","apiVersion":"apps/v1"},"maxReplicas":5,)"
    R"("targetCPUUtilizationPercentage":60}})";

const std::string kMemoryMetric =
    R"({"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue",)"
    R"("averageValue":"500Mi"}}})";

const std::string kV2Web =
    R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{)"
    R"("name":"web"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web",)"
    R"("apiVersion":"apps/v1"},"maxReplicas":5,"metrics":[)" +
    kMemoryMetric + "]}}";

class VersionedStorageTest : public RegistryTest {
 protected:
  boost::json::value Stored() {
    auto kv = store_->Get(kStoredKey);
    EXPECT_TRUE(kv.ok());
    return kv.ok() ? boost::json::parse(kv->value) : boost::json::value();
  }
};

TEST_F(VersionedStorageTest, AV1WriteIsStoredAsV2AndReadInEitherVersion) {
  const auto created = Ok(Send("POST", kV1Path, kV1Web), 201);
  EXPECT_EQ(created.at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(created.at("spec").at("targetCPUUtilizationPercentage"), 60);
  EXPECT_EQ(created.at("spec").at("minReplicas"), 1);
  EXPECT_FALSE(created.at("metadata").as_object().contains("annotations"));

  // One object, in the storage version, without apiVersion and kind.
  const auto stored = Stored();
  EXPECT_FALSE(stored.as_object().contains("apiVersion"));
  EXPECT_EQ(stored.at("spec").at("metrics"),
            boost::json::parse(R"([{"type":"Resource","resource":{"name":"cpu","target":{)"
                               R"("type":"Utilization","averageUtilization":60}}}])"));
  EXPECT_EQ(stored.at("metadata").at("uid"), created.at("metadata").at("uid"));

  const auto as_v2 = Ok(Send("GET", std::string(kV2Path) + "/web"));
  EXPECT_EQ(as_v2.at("apiVersion"), "autoscaling/v2");
  EXPECT_EQ(as_v2.at("spec").at("metrics"), stored.at("spec").at("metrics"));
  for (const char* field : {"uid", "resourceVersion", "creationTimestamp", "labels"}) {
    EXPECT_EQ(as_v2.at("metadata").at(field), created.at("metadata").at(field)) << field;
  }
  const auto as_v1 = Ok(Send("GET", std::string(kV1Path) + "/web"));
  EXPECT_EQ(as_v1, created);

  const auto listed = Ok(Send("GET", "/apis/autoscaling/v1/horizontalpodautoscalers"));
  EXPECT_EQ(listed.at("kind"), "HorizontalPodAutoscalerList");
  EXPECT_EQ(listed.at("apiVersion"), "autoscaling/v1");
  ASSERT_EQ(listed.at("items").as_array().size(), 1u);
  const auto& item = listed.at("items").as_array()[0].as_object();
  EXPECT_FALSE(item.contains("apiVersion"));  // list items carry none, as upstream's
  EXPECT_EQ(item.at("spec").at("targetCPUUtilizationPercentage"), 60);

  // Gone in every version at once.
  EXPECT_EQ(Send("DELETE", std::string(kV2Path) + "/web").status, 200);
  EXPECT_EQ(Send("GET", std::string(kV1Path) + "/web").status, 404);
}

TEST_F(VersionedStorageTest, V2OnlyDataSurvivesV1UpdatesAndPatches) {
  Ok(Send("POST", kV2Path, kV2Web), 201);
  auto as_v1 = Ok(Send("GET", std::string(kV1Path) + "/web"));
  EXPECT_FALSE(as_v1.at("spec").as_object().contains("targetCPUUtilizationPercentage"));
  EXPECT_EQ(boost::json::parse(as_v1.at("metadata")
                                   .at("annotations")
                                   .at(api::conversion::kHpaMetricsAnnotation)
                                   .as_string()),
            boost::json::parse(R"([{"type":"Resource","resource":{"name":"memory",)"
                               R"("targetAverageValue":"500Mi"}}])"));

  // A v1 client replaces the object with what it read, changed.
  as_v1.at("spec").at("maxReplicas") = 8;
  const auto replaced =
      Ok(Send("PUT", std::string(kV1Path) + "/web", boost::json::serialize(as_v1)));
  EXPECT_EQ(replaced.at("spec").at("maxReplicas"), 8);
  EXPECT_EQ(replaced.at("metadata").at("annotations"), as_v1.at("metadata").at("annotations"));
  auto stored = Stored();
  EXPECT_EQ(stored.at("spec").at("maxReplicas"), 8);
  EXPECT_EQ(stored.at("spec").at("metrics"), boost::json::parse("[" + kMemoryMetric + "]"));
  EXPECT_FALSE(stored.at("metadata").as_object().contains("annotations"));

  // Patches apply to the object as the request's version serves it.
  const auto patched = Ok(Send("PATCH", std::string(kV1Path) + "/web",
                               R"({"spec":{"minReplicas":2}})", "application/merge-patch+json"));
  EXPECT_EQ(patched.at("spec").at("minReplicas"), 2);
  stored = Stored();
  EXPECT_EQ(stored.at("spec").at("minReplicas"), 2);
  EXPECT_EQ(stored.at("spec").at("metrics"), boost::json::parse("[" + kMemoryMetric + "]"));

  // A v1 patch of the v1 field turns into the v2 CPU metric, beside the memory one.
  Ok(Send("PATCH", std::string(kV1Path) + "/web",
          R"([{"op":"add","path":"/spec/targetCPUUtilizationPercentage","value":70}])",
          "application/json-patch+json"));
  stored = Stored();
  ASSERT_EQ(stored.at("spec").at("metrics").as_array().size(), 2u);
  EXPECT_EQ(stored.at("spec")
                .at("metrics")
                .as_array()[1]
                .at("resource")
                .at("target")
                .at("averageUtilization"),
            70);

  // A stale v1 write still conflicts.
  as_v1.at("spec").at("maxReplicas") = 9;
  EXPECT_EQ(Send("PUT", std::string(kV1Path) + "/web", boost::json::serialize(as_v1)).status, 409);
}

TEST_F(VersionedStorageTest, DryRunAndValidationHappenInTheStorageVersion) {
  const auto dry = Ok(Send("POST", kV1Path, kV1Web, "application/json", {{"dryRun", "All"}}), 201);
  EXPECT_EQ(dry.at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(dry.at("spec").at("targetCPUUtilizationPercentage"), 60);
  EXPECT_FALSE(store_->Get(kStoredKey).ok());

  std::string bad = kV1Web;
  bad.replace(bad.find(R"("maxReplicas":5)"), 15, R"("maxReplicas":0)");
  bad.replace(bad.find(R"("name":"web","labels")"), 12, R"("name":"Web!")");
  const auto invalid = Send("POST", kV1Path, bad);
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_NE(invalid.body.find(R"(HorizontalPodAutoscaler.autoscaling \"Web!\" is invalid)"),
            std::string::npos)
      << invalid.body;
}

TEST_F(VersionedStorageTest, WatchesServeTheVersionTheyWatch) {
  const auto created = Ok(Send("POST", kV2Path, kV2Web), 201);
  const std::string revision =
      std::string(created.at("metadata").at("resourceVersion").as_string());
  auto watch =
      Send("GET", kV1Path, "", "application/json", {{"watch", "true"}, {"timeoutSeconds", "5"}});
  ASSERT_EQ(watch.status, 200) << watch.body;
  ASSERT_TRUE(watch.stream);
  // The current objects first, as v1.
  std::string events;
  while (events.empty())
    events = watch.stream->Next().value_or("end");
  const auto added = boost::json::parse(events);
  EXPECT_EQ(added.at("type"), "ADDED");
  EXPECT_EQ(added.at("object").at("apiVersion"), "autoscaling/v1");
  EXPECT_TRUE(added.at("object")
                  .at("metadata")
                  .at("annotations")
                  .as_object()
                  .contains(api::conversion::kHpaMetricsAnnotation));

  // A v2 change arrives as a v1 MODIFIED event.
  Ok(Send("PATCH", std::string(kV2Path) + "/web", R"({"spec":{"maxReplicas":6}})",
          "application/merge-patch+json"));
  events.clear();
  while (events.empty())
    events = watch.stream->Next().value_or("end");
  const auto modified = boost::json::parse(events);
  EXPECT_EQ(modified.at("type"), "MODIFIED");
  EXPECT_EQ(modified.at("object").at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(modified.at("object").at("spec").at("maxReplicas"), 6);
  EXPECT_NE(modified.at("object").at("metadata").at("resourceVersion").as_string(), revision);
  watch.stream->Cancel();
}

// The watch cache serializes an event once per version: watchers of v1 and v2 at the same time
// each get their own version's object.
TEST_F(VersionedStorageTest, WatchersOfEachVersionGetTheirVersionOfOneEvent) {
  const auto created = Ok(Send("POST", kV2Path, kV2Web), 201);
  const std::string revision =
      std::string(created.at("metadata").at("resourceVersion").as_string());
  const std::vector<std::pair<std::string, std::string>> query = {
      {"watch", "true"}, {"timeoutSeconds", "5"}, {"resourceVersion", revision}};
  auto v1 = Send("GET", kV1Path, "", "application/json", query);
  auto v2 = Send("GET", kV2Path, "", "application/json", query);
  ASSERT_TRUE(v1.stream && v2.stream);
  Ok(Send("PATCH", std::string(kV2Path) + "/web", R"({"spec":{"maxReplicas":6}})",
          "application/merge-patch+json"));
  const auto next_event = [](http::BodyStream& stream) {
    std::string line;
    while (line.empty())
      line = stream.Next().value_or("end");
    return boost::json::parse(line);
  };
  const auto as_v1 = next_event(*v1.stream);
  const auto as_v2 = next_event(*v2.stream);
  EXPECT_EQ(as_v1.at("object").at("apiVersion"), "autoscaling/v1");
  EXPECT_EQ(as_v2.at("object").at("apiVersion"), "autoscaling/v2");
  EXPECT_EQ(as_v1.at("object").at("spec").at("maxReplicas"), 6);
  EXPECT_EQ(as_v2.at("object").at("spec").at("metrics").at(0), boost::json::parse(kMemoryMetric));
  v1.stream->Cancel();
  v2.stream->Cancel();
}

// The fields a manager owns in the version it wrote (managedFields entries keep it), looked up
// in an object read in any version.
std::string FieldsOf(const boost::json::value& object, const char* manager) {
  for (const auto& entry : object.at("metadata").at("managedFields").as_array()) {
    if (entry.at("manager") == manager) return boost::json::serialize(entry.at("fieldsV1"));
  }
  return "";
}

// Ownership recorded in one version counts in the other, as upstream works out what a write
// changed in the version of each manager: a field that conversion moves
// (targetCPUUtilizationPercentage in v1, the cpu metric in v2) conflicts and changes owner.
TEST_F(VersionedStorageTest, OwnershipIsComparedInTheVersionEachManagerWrote) {
  const std::string kApply = "application/apply-patch+yaml";
  Ok(Send("PATCH", std::string(kV1Path) + "/web", kV1Web, kApply, {{"fieldManager", "v1-applier"}}),
     201);
  const std::string cpu80 =
      R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{)"
      R"("name":"web"},"spec":{"metrics":[{"type":"Resource","resource":{"name":"cpu",)"
      R"("target":{"type":"Utilization","averageUtilization":80}}}]}})";
  const auto conflict =
      Send("PATCH", std::string(kV2Path) + "/web", cpu80, kApply, {{"fieldManager", "v2-applier"}});
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_NE(conflict.body.find(R"(conflict with \"v1-applier\")"), std::string::npos)
      << conflict.body;
  EXPECT_NE(conflict.body.find(".spec.targetCPUUtilizationPercentage"), std::string::npos)
      << conflict.body;

  // Forced, the v2 applier takes the field from the v1 one, which keeps the rest.
  auto forced = Ok(Send("PATCH", std::string(kV2Path) + "/web", cpu80, kApply,
                        {{"fieldManager", "v2-applier"}, {"force", "true"}}));
  EXPECT_EQ(
      forced.at("spec").at("metrics").at(0).at("resource").at("target").at("averageUtilization"),
      80);
  EXPECT_EQ(FieldsOf(forced, "v1-applier").find("targetCPUUtilizationPercentage"),
            std::string::npos)
      << FieldsOf(forced, "v1-applier");
  EXPECT_NE(FieldsOf(forced, "v1-applier").find("maxReplicas"), std::string::npos);
  EXPECT_NE(FieldsOf(forced, "v2-applier").find("f:metrics"), std::string::npos);

  // An update in v1 of the same field takes the metrics from the v2 applier.
  auto updated = Ok(Send("PATCH", std::string(kV1Path) + "/web",
                         R"({"spec":{"targetCPUUtilizationPercentage":90}})",
                         "application/merge-patch+json", {{"fieldManager", "editor"}}));
  EXPECT_EQ(updated.at("spec").at("targetCPUUtilizationPercentage"), 90);
  EXPECT_EQ(FieldsOf(updated, "v2-applier").find("f:metrics"), std::string::npos)
      << boost::json::serialize(updated.at("metadata").at("managedFields"));
  EXPECT_NE(FieldsOf(updated, "editor").find("targetCPUUtilizationPercentage"), std::string::npos);
}

}  // namespace
}  // namespace kpp::apiserver
