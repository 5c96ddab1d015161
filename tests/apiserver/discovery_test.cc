#include "apiserver/discovery.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "api/runtime/openapi_data.h"
#include "api/runtime/protobuf.h"
#include "apiserver/openapi.h"
#include "apiserver/openapi_protobuf.h"

namespace kpp::apiserver {
namespace {

constexpr api::KindInfo kKinds[] = {
    {"", "v1", "Pod", "pods", "pod", "PodList", true, "po", "all",
     "status,binding,eviction,log,exec,proxy",
     "create,delete,deletecollection,get,list,patch,update,watch", "io.k8s.api.core.v1.Pod"},
    {"", "v1", "Namespace", "namespaces", "namespace", "NamespaceList", false, "ns", "", "status",
     "create,delete,get,list,patch,update,watch", "io.k8s.api.core.v1.Namespace"},
    {"apps", "v1", "Deployment", "deployments", "deployment", "DeploymentList", true, "deploy",
     "all", "status,scale", "create,delete,deletecollection,get,list,patch,update,watch",
     "io.k8s.api.apps.v1.Deployment"},
    {"autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
     "horizontalpodautoscaler", "HorizontalPodAutoscalerList", true, "hpa", "all", "status",
     "create,delete,deletecollection,get,list,patch,update,watch",
     "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
     "horizontalpodautoscaler", "HorizontalPodAutoscalerList", true, "hpa", "all", "status",
     "create,delete,deletecollection,get,list,patch,update,watch",
     "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"},
};

boost::json::value Parse(const std::optional<std::string>& text) {
  EXPECT_TRUE(text.has_value());
  return text ? boost::json::parse(*text) : boost::json::value();
}

TEST(DiscoveryTest, StorageVersionHashMatchesUpstream) {
  EXPECT_EQ(StorageVersionHash("", "v1", "Pod"), "xPOwRZ+Yhw8=");
  EXPECT_EQ(StorageVersionHash("", "v1", "ConfigMap"), "qFsyl6wFWjQ=");
  EXPECT_EQ(StorageVersionHash("apps", "v1", "Deployment"), "8aSe+NMegvE=");
}

TEST(DiscoveryTest, EveryVersionOfAResourceHashesItsStorageVersion) {
  // Upstream stores autoscalers as autoscaling/v2, so both versions show that hash.
  const Discovery discovery(api::AllKinds());
  auto hash_in = [&](const std::string& path) {
    const auto list = Parse(discovery.Document(path, ""));
    for (const auto& resource : list.at("resources").as_array()) {
      if (resource.at("name") == "horizontalpodautoscalers") {
        return std::string(resource.at("storageVersionHash").as_string());
      }
    }
    return std::string("missing");
  };
  const std::string v2_hash = StorageVersionHash("autoscaling", "v2", "HorizontalPodAutoscaler");
  EXPECT_EQ(hash_in("/apis/autoscaling/v1"), v2_hash);
  EXPECT_EQ(hash_in("/apis/autoscaling/v2"), v2_hash);
}

TEST(DiscoveryTest, OldGroupsComeLastAndShareTheirStoredResourcesHash) {
  // kubectl maps `ingresses` to the first group serving it: networking.k8s.io, not extensions.
  const Discovery discovery(api::AllKinds());
  const auto apis = Parse(discovery.Document("/apis", ""));
  const auto& groups = apis.at("groups").as_array();
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups.back().at("name"), "extensions");
  const auto aggregated = Parse(discovery.AggregatedDocument("/apis", "v2"));
  EXPECT_EQ(aggregated.at("items").as_array().back().at("metadata").at("name"), "extensions");
  const auto apps = Parse(discovery.Document("/apis/apps", ""));
  EXPECT_EQ(apps.at("preferredVersion").at("version"), "v1");
  EXPECT_EQ(apps.at("versions").as_array().size(), 3u);  // v1, v1beta2, v1beta1

  const auto extensions = Parse(discovery.Document("/apis/extensions/v1beta1", ""));
  for (const auto& resource : extensions.at("resources").as_array()) {
    if (resource.at("name") == "deployments") {
      EXPECT_EQ(resource.at("storageVersionHash"), "8aSe+NMegvE=");  // apps/v1's
      EXPECT_FALSE(resource.as_object().contains("shortNames"));
    }
  }
}

TEST(DiscoveryTest, VersionPriorityAsUpstream) {
  EXPECT_TRUE(PreferVersion("v2", "v1"));
  EXPECT_TRUE(PreferVersion("v1", "v2beta1"));
  EXPECT_TRUE(PreferVersion("v1beta2", "v1beta1"));
  EXPECT_TRUE(PreferVersion("v1beta1", "v1alpha1"));
  EXPECT_TRUE(PreferVersion("v1alpha1", "foo"));
  EXPECT_FALSE(PreferVersion("v1", "v1"));
}

TEST(DiscoveryTest, CoreVersionsAndGroups) {
  const Discovery discovery(kKinds);
  const auto api = Parse(discovery.Document("/api", "10.0.0.1:6443"));
  EXPECT_EQ(api, boost::json::parse(R"({"kind":"APIVersions","versions":["v1"],)"
                                    R"("serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0",)"
                                    R"("serverAddress":"10.0.0.1:6443"}]})"));
  const auto apis = Parse(discovery.Document("/apis", ""));
  EXPECT_EQ(apis.at("kind"), "APIGroupList");
  const auto& groups = apis.at("groups").as_array();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].at("name"), "apps");
  EXPECT_EQ(groups[1].at("name"), "autoscaling");
  EXPECT_EQ(groups[1].at("preferredVersion").at("groupVersion"), "autoscaling/v2");
  EXPECT_EQ(groups[1].at("versions").as_array().size(), 2u);
  EXPECT_EQ(Parse(discovery.Document("/apis/apps/", "")).at("kind"), "APIGroup");
  EXPECT_EQ(discovery.GroupVersions(),
            (std::vector<std::string>{"v1", "apps/v1", "autoscaling/v2", "autoscaling/v1"}));
  EXPECT_FALSE(discovery.Document("/apis/nope", "").has_value());
  EXPECT_FALSE(discovery.Document("/api/v2", "").has_value());
}

TEST(DiscoveryTest, ResourceListsHaveSubresourcesAsUpstream) {
  const Discovery discovery(kKinds);
  const auto list = Parse(discovery.Document("/api/v1", ""));
  EXPECT_EQ(list.at("groupVersion"), "v1");
  std::map<std::string, boost::json::value> by_name;
  for (const auto& resource : list.at("resources").as_array()) {
    by_name[std::string(resource.at("name").as_string())] = resource;
  }
  EXPECT_EQ(by_name.at("pods"),
            boost::json::parse(
                R"({"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod",)"
                R"("verbs":["create","delete","deletecollection","get","list","patch","update",)"
                R"("watch"],"shortNames":["po"],"categories":["all"],)"
                R"("storageVersionHash":"xPOwRZ+Yhw8="})"));
  EXPECT_EQ(by_name.at("pods/status"),
            boost::json::parse(R"({"name":"pods/status","singularName":"","namespaced":true,)"
                               R"("kind":"Pod","verbs":["get","patch","update"]})"));
  EXPECT_EQ(by_name.at("pods/eviction"),
            boost::json::parse(R"({"name":"pods/eviction","singularName":"","namespaced":true,)"
                               R"("group":"policy","version":"v1","kind":"Eviction",)"
                               R"("verbs":["create"]})"));
  EXPECT_EQ(by_name.at("pods/proxy").at("kind"), "PodProxyOptions");
  EXPECT_EQ(by_name.at("namespaces").at("namespaced"), false);
  const auto apps = Parse(discovery.Document("/apis/apps/v1", ""));
  for (const auto& resource : apps.at("resources").as_array()) {
    if (resource.at("name") == "deployments/scale") {
      EXPECT_EQ(resource.at("group"), "autoscaling");
      EXPECT_EQ(resource.at("kind"), "Scale");
    }
  }
}

TEST(DiscoveryTest, AggregatedDocumentsListEveryResourceOfEveryVersion) {
  const Discovery discovery(kKinds);
  const auto core = Parse(discovery.AggregatedDocument("/api", "v2"));
  EXPECT_EQ(core.at("kind"), "APIGroupDiscoveryList");
  EXPECT_EQ(core.at("apiVersion"), "apidiscovery.k8s.io/v2");
  ASSERT_EQ(core.at("items").as_array().size(), 1u);
  const auto& core_group = core.at("items").at(0);
  EXPECT_EQ(core_group.at("metadata"), boost::json::parse(R"({"creationTimestamp":null})"));
  const auto& v1 = core_group.at("versions").at(0);
  EXPECT_EQ(v1.at("version"), "v1");
  EXPECT_EQ(v1.at("freshness"), "Current");
  const auto& namespaces = v1.at("resources").at(0);
  EXPECT_EQ(
      namespaces,
      boost::json::parse(R"({"resource":"namespaces","responseKind":{"group":"","version":"v1",)"
                         R"("kind":"Namespace"},"scope":"Cluster","singularResource":"namespace",)"
                         R"("verbs":["create","delete","get","list","patch","update","watch"],)"
                         R"("shortNames":["ns"],"subresources":[{"subresource":"status",)"
                         R"("responseKind":{"group":"","version":"v1","kind":"Namespace"},)"
                         R"("verbs":["get","patch","update"]}]})"));
  const auto& pods = v1.at("resources").at(1);
  EXPECT_EQ(pods.at("resource"), "pods");
  EXPECT_EQ(pods.at("scope"), "Namespaced");
  EXPECT_EQ(pods.at("categories"), boost::json::parse(R"(["all"])"));
  for (const auto& subresource : pods.at("subresources").as_array()) {
    if (subresource.at("subresource") == "eviction") {
      EXPECT_EQ(subresource.at("responseKind"),
                boost::json::parse(R"({"group":"policy","version":"v1","kind":"Eviction"})"));
    }
  }

  const auto groups = Parse(discovery.AggregatedDocument("/apis/", "v2beta1"));
  EXPECT_EQ(groups.at("apiVersion"), "apidiscovery.k8s.io/v2beta1");
  const auto& items = groups.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("metadata").at("name"), "apps");
  const auto& autoscaling = items[1];
  EXPECT_EQ(autoscaling.at("versions").at(0).at("version"), "v2");
  EXPECT_EQ(autoscaling.at("versions").at(1).at("version"), "v1");
  EXPECT_FALSE(discovery.AggregatedDocument("/apis/apps", "v2").has_value());
  EXPECT_FALSE(discovery.AggregatedDocument("/api", "v1").has_value());
}

TEST(OpenApiDocumentsTest, V3DocumentsCarryPathsAndReachableSchemas) {
  const OpenApiDocuments documents(api::OpenApiV2Definitions(), api::AllKinds(), "v1.32.0");
  const auto index = boost::json::parse(documents.V3Index().json);
  const auto& entry = index.at("paths").at("api/v1").as_object();
  const std::string url(entry.at("serverRelativeURL").as_string());
  EXPECT_TRUE(url.starts_with("/openapi/v3/api/v1?hash=")) << url;
  const OpenApiDocument* core = documents.V3("api/v1");
  ASSERT_NE(core, nullptr);
  EXPECT_EQ(url, "/openapi/v3/api/v1?hash=" + core->hash);
  const auto doc = boost::json::parse(core->json);
  const auto& schemas = doc.at("components").at("schemas").as_object();
  EXPECT_TRUE(schemas.contains("io.k8s.api.core.v1.ConfigMap"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
  // A reference with a description is wrapped in allOf, as OpenAPI 3 requires.
  const auto& metadata = schemas.at("io.k8s.api.core.v1.ConfigMap").at("properties").at("metadata");
  EXPECT_EQ(metadata.at("allOf").at(0).at("$ref"),
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  const auto& item = doc.at("paths").at("/api/v1/namespaces/{namespace}/configmaps/{name}");
  EXPECT_EQ(item.at("get").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"({"group":"","version":"v1","kind":"ConfigMap"})"));
  bool has_field_validation = false;
  for (const auto& parameter : item.at("patch").at("parameters").as_array()) {
    has_field_validation = has_field_validation || parameter.at("name") == "fieldValidation";
  }
  EXPECT_TRUE(has_field_validation);
  EXPECT_TRUE(doc.at("paths").as_object().contains("/api/v1/namespaces/{name}"));
  EXPECT_EQ(documents.V3("apis/nope/v1"), nullptr);
  const auto v2 = boost::json::parse(documents.V2().json);
  EXPECT_EQ(v2.at("swagger"), "2.0");
  EXPECT_TRUE(v2.at("definitions").as_object().contains("io.k8s.api.core.v1.Secret"));
  // v2 has the same operations, in v2's spelling: kubectl 1.27/1.28 look for fieldValidation.
  const auto& patch =
      v2.at("paths").at("/api/v1/namespaces/{namespace}/configmaps/{name}").at("patch");
  EXPECT_EQ(patch.at("responses").at("200").at("schema").at("$ref"),
            "#/definitions/io.k8s.api.core.v1.ConfigMap");
  EXPECT_EQ(patch.at("parameters").at(2),
            boost::json::parse(R"({"name":"fieldValidation","in":"query","description":)"
                               R"("How to treat unknown or duplicate fields: Ignore, Warn or )"
                               R"(Strict.","type":"string","uniqueItems":true})"));
  EXPECT_FALSE(documents.V2Protobuf().json.empty());
  // The two encodings are different bodies, so a cache must not mistake one for the other.
  EXPECT_NE(documents.V2Protobuf().etag, documents.V2().etag);
}

// Reads the fields of one protobuf message into (number, bytes or varint as text) pairs.
std::multimap<int, std::string> Fields(std::string_view message) {
  std::multimap<int, std::string> fields;
  api::protobuf::Reader reader(message);
  while (reader.Next()) {
    const int number = reader.field();
    std::string text;
    reader.ReadString(text);  // every field these tests look at is length-delimited
    fields.emplace(number, std::move(text));
  }
  EXPECT_FALSE(reader.failed()) << reader.error()->message();
  return fields;
}

TEST(OpenApiProtobufTest, EncodesTheDocumentAsGnosticMessages) {
  const auto document =
      boost::json::parse(R"({"swagger":"2.0",)"
                         R"("info":{"title":"Kubernetes","version":"v1.32.0"},)"
                         R"("paths":{"/api/v1/pods":{"get":{"x-kubernetes-action":"list"}}},)"
                         R"("definitions":{"io.k8s.api.core.v1.Pod":{)"
                         R"("description":"A pod.","type":"object",)"
                         R"("required":["spec"],"properties":{"spec":{)"
                         R"("$ref":"#/definitions/io.k8s.api.core.v1.PodSpec"}},)"
                         R"("x-kubernetes-group-version-kind":[{"group":"",)"
                         R"("kind":"Pod","version":"v1"}]}}})")
          .as_object();
  const auto top = Fields(OpenApiV2ToProtobuf(document));
  EXPECT_EQ(top.find(1)->second, "2.0");  // swagger
  const auto info = Fields(top.find(2)->second);
  EXPECT_EQ(info.find(1)->second, "Kubernetes");
  EXPECT_EQ(info.find(2)->second, "v1.32.0");
  // paths (8) -> NamedPathItem (2) {name 1, PathItem 2 {get 2 {vendor extension 13}}}
  const auto path = Fields(Fields(top.find(8)->second).find(2)->second);
  EXPECT_EQ(path.find(1)->second, "/api/v1/pods");
  const auto get = Fields(Fields(path.find(2)->second).find(2)->second);
  const auto action = Fields(get.find(13)->second);
  EXPECT_EQ(action.find(1)->second, "x-kubernetes-action");
  EXPECT_EQ(Fields(action.find(2)->second).find(2)->second, "\"list\"");  // Any.yaml
  // definitions (9) -> NamedSchema (1) {name 1, Schema 2}
  const auto named = Fields(Fields(top.find(9)->second).find(1)->second);
  EXPECT_EQ(named.find(1)->second, "io.k8s.api.core.v1.Pod");
  const auto schema = Fields(named.find(2)->second);
  EXPECT_EQ(schema.find(4)->second, "A pod.");                           // description
  EXPECT_EQ(Fields(schema.find(22)->second).find(1)->second, "object");  // type
  EXPECT_EQ(schema.find(19)->second, "spec");                            // required
  const auto property = Fields(Fields(schema.find(25)->second).find(1)->second);
  EXPECT_EQ(property.find(1)->second, "spec");
  EXPECT_EQ(Fields(property.find(2)->second).find(1)->second,
            "#/definitions/io.k8s.api.core.v1.PodSpec");  // $ref
  const auto extension = Fields(schema.find(31)->second);
  EXPECT_EQ(extension.find(1)->second, "x-kubernetes-group-version-kind");
  EXPECT_EQ(Fields(extension.find(2)->second).find(2)->second,
            R"([{"group":"","kind":"Pod","version":"v1"}])");
}

}  // namespace
}  // namespace kpp::apiserver
