#include "apiserver/discovery.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/runtime/openapi_data.h"
#include "apiserver/openapi.h"

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
}

}  // namespace
}  // namespace kpp::apiserver
