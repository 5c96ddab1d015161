// Ingresses, IngressClasses and NetworkPolicies (api/networking.k8s.io/v1) against JSON as an
// upstream API server writes it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/networking.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace networking = networking_k8s_io::v1;

TEST(NetworkingSchemaTest, IngressesRoundTripExactly) {
  ExpectRoundTrip<networking::Ingress>(
      R"({"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"shop",)"
      R"("namespace":"shop","uid":"5d0c7a52-8f37-4a43-9d6b-0f1e2d3c4b5a","resourceVersion":"7310",)"
      R"("generation":2,"creationTimestamp":"2024-05-06T10:00:00Z","annotations":{)"
      R"("nginx.ingress.kubernetes.io/rewrite-target":"/"}},"spec":{"ingressClassName":"nginx",)"
      R"("tls":[{"hosts":["shop.example.com","www.shop.example.com"],"secretName":"shop-tls"}],)"
      R"("rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","pathType":"Prefix",)"
      R"("backend":{"service":{"name":"web","port":{"number":80}}}},{"path":"/api","pathType":)"
      R"("Exact","backend":{"service":{"name":"api","port":{"name":"http"}}}},{"path":"/static",)"
      R"("pathType":"ImplementationSpecific","backend":{"resource":{"apiGroup":)"
      R"("k8s.example.com","kind":"StorageBucket","name":"static-assets"}}}]}},{"http":{"paths":)"
      R"([{"path":"/","pathType":"Prefix","backend":{"service":{"name":"fallback","port":{)"
      R"("number":8080}}}}]}}]},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10",)"
      R"("ports":[{"port":443,"protocol":"TCP","error":"CertificateMissing"}]},{"hostname":)"
      R"("lb.example.net"}]}}})");
  // A default backend only, not yet admitted by a controller.
  ExpectRoundTrip<networking::Ingress>(
      R"({"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"catch-all",)"
      R"("namespace":"default","creationTimestamp":"2024-05-06T10:00:00Z"},"spec":{)"
      R"("defaultBackend":{"service":{"name":"web","port":{"number":80}}}},"status":{)"
      R"("loadBalancer":{}}})");
}

TEST(NetworkingSchemaTest, PathTypeIsWrittenEvenWhenAbsent) {
  // Upstream has no default for pathType and its field has no omitempty: null until validation
  // rejects it.
  EXPECT_EQ(
      Defaulted<networking::HTTPIngressPath>(
          R"({"path":"/","backend":{"service":{"name":"web","port":{"number":80}}}})"),
      R"({"path":"/","pathType":null,"backend":{"service":{"name":"web","port":{"number":80}}}})");
}

TEST(NetworkingSchemaTest, IngressClassesRoundTripAndDefaultTheParametersScope) {
  ExpectRoundTrip<networking::IngressClass>(
      R"({"kind":"IngressClass","apiVersion":"networking.k8s.io/v1","metadata":{"name":"nginx",)"
      R"("uid":"0b7e6a1d-2c3f-4e5a-9b8c-7d6e5f4a3b2c","resourceVersion":"412","generation":1,)"
      R"("creationTimestamp":"2024-05-06T09:00:00Z","labels":{"app.kubernetes.io/name":)"
      R"("ingress-nginx"},"annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},)"
      R"("spec":{"controller":"k8s.io/ingress-nginx","parameters":{"apiGroup":)"
      R"("k8s.example.com","kind":"IngressParameters","name":"external","scope":"Namespace",)"
      R"("namespace":"ingress-nginx"}}})");
  EXPECT_EQ(Defaulted<networking::IngressClass>(
                R"({"kind":"IngressClass","apiVersion":"networking.k8s.io/v1","metadata":{)"
                R"("name":"lb","creationTimestamp":null},"spec":{"controller":"example.com/lb",)"
                R"("parameters":{"kind":"ConfigMap","name":"lb-settings"}}})"),
            R"({"kind":"IngressClass","apiVersion":"networking.k8s.io/v1","metadata":{)"
            R"("name":"lb","creationTimestamp":null},"spec":{"controller":"example.com/lb",)"
            R"("parameters":{"kind":"ConfigMap","name":"lb-settings","scope":"Cluster"}}})");
  // Without parameters there is nothing to default.
  EXPECT_EQ(Defaulted<networking::IngressClass>(
                R"({"metadata":{"name":"lb","creationTimestamp":null},"spec":{}})"),
            R"({"metadata":{"name":"lb","creationTimestamp":null},"spec":{}})");
}

TEST(NetworkingSchemaTest, NetworkPoliciesRoundTripExactly) {
  ExpectRoundTrip<networking::NetworkPolicy>(
      R"({"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"db",)"
      R"("namespace":"shop","uid":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","resourceVersion":"9021",)"
      R"("generation":1,"creationTimestamp":"2024-05-06T11:00:00Z"},"spec":{"podSelector":{)"
      R"("matchLabels":{"app":"postgres"}},"ingress":[{"ports":[{"protocol":"TCP","port":5432}],)"
      R"("from":[{"podSelector":{"matchLabels":{"role":"api"}}},{"podSelector":{)"
      R"("matchExpressions":[{"key":"app","operator":"In","values":["prometheus"]}]},)"
      R"("namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]}],)"
      R"("egress":[{"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":32000,)"
      R"("endPort":32768},{"protocol":"TCP","port":"metrics"}],"to":[{"ipBlock":{"cidr":)"
      R"("10.0.0.0/8","except":["10.96.0.0/12"]}}]}],"policyTypes":["Ingress","Egress"]}})");
  // Deny all ingress: an empty selector and no rules.
  ExpectRoundTrip<networking::NetworkPolicy>(
      R"({"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{)"
      R"("name":"default-deny","namespace":"shop","creationTimestamp":"2024-05-06T11:00:00Z"},)"
      R"("spec":{"podSelector":{},"policyTypes":["Ingress"]}})");
}

TEST(NetworkingSchemaTest, NetworkPolicyTypesDefaultFromTheRules) {
  // Ingress always; Egress as well when egress rules exist. Ports default to TCP.
  EXPECT_EQ(Defaulted<networking::NetworkPolicy>(
                R"({"metadata":{"name":"dns","creationTimestamp":null},"spec":{)"
                R"("podSelector":{},"egress":[{"ports":[{"protocol":"UDP","port":53},)"
                R"({"port":53}]}]}})"),
            R"({"metadata":{"name":"dns","creationTimestamp":null},"spec":{"podSelector":{},)"
            R"("egress":[{"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}],)"
            R"("policyTypes":["Ingress","Egress"]}})");
  EXPECT_EQ(Defaulted<networking::NetworkPolicy>(
                R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"podSelector":{},)"
                R"("ingress":[{"from":[{"podSelector":{}}]}]}})"),
            R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"podSelector":{},)"
            R"("ingress":[{"from":[{"podSelector":{}}]}],"policyTypes":["Ingress"]}})");
  // Given policy types are kept, even egress-only ones.
  EXPECT_EQ(Defaulted<networking::NetworkPolicy>(
                R"({"metadata":{"name":"deny-egress","creationTimestamp":null},"spec":{)"
                R"("podSelector":{},"policyTypes":["Egress"]}})"),
            R"({"metadata":{"name":"deny-egress","creationTimestamp":null},"spec":{)"
            R"("podSelector":{},"policyTypes":["Egress"]}})");
}

TEST(NetworkingSchemaTest, KindTableRows) {
  const KindInfo* ingress = FindKind("networking.k8s.io", "Ingress");
  ASSERT_NE(ingress, nullptr);
  EXPECT_EQ(ingress->version, "v1");
  EXPECT_EQ(ingress->plural, "ingresses");
  EXPECT_EQ(ingress->short_names, "ing");
  EXPECT_EQ(ingress->subresources, "status");
  EXPECT_TRUE(ingress->namespaced);

  const KindInfo* ingress_class = FindKind("networking.k8s.io", "IngressClass");
  ASSERT_NE(ingress_class, nullptr);
  EXPECT_EQ(ingress_class->plural, "ingressclasses");
  EXPECT_EQ(ingress_class->short_names, "");
  EXPECT_FALSE(ingress_class->namespaced);

  const KindInfo* policy = FindKind("networking.k8s.io", "NetworkPolicy");
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->plural, "networkpolicies");
  EXPECT_EQ(policy->singular, "networkpolicy");
  EXPECT_EQ(policy->short_names, "netpol");
  EXPECT_EQ(policy->subresources, "");
  EXPECT_TRUE(policy->namespaced);
}

TEST(NetworkingSchemaTest, OpenApiDefinitionsCarryKindsAndListTypes) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  for (const char* kind : {"Ingress", "IngressClass", "NetworkPolicy"}) {
    const auto& definition = definitions.at(std::string("io.k8s.api.networking.v1.") + kind);
    EXPECT_EQ(definition.at("x-kubernetes-group-version-kind"),
              boost::json::parse(std::string(R"([{"group":"networking.k8s.io","kind":")") + kind +
                                 R"(","version":"v1"}])"))
        << kind;
    EXPECT_TRUE(definitions.contains(std::string("io.k8s.api.networking.v1.") + kind + "List"));
  }
  const auto& path = definitions.at("io.k8s.api.networking.v1.HTTPIngressPath").as_object();
  EXPECT_EQ(path.at("required"), boost::json::parse(R"(["pathType","backend"])"));
  EXPECT_EQ(path.at("properties").at("pathType").at("enum"),
            boost::json::parse(R"(["Exact","ImplementationSpecific","Prefix"])"));
  EXPECT_EQ(
      definitions.at("io.k8s.api.networking.v1.ServiceBackendPort").at("x-kubernetes-map-type"),
      "atomic");
  const auto& spec = definitions.at("io.k8s.api.networking.v1.NetworkPolicySpec").as_object();
  EXPECT_EQ(spec.at("properties").at("ingress").at("x-kubernetes-list-type"), "atomic");
  EXPECT_EQ(spec.at("properties").at("policyTypes").at("items").at("enum"),
            boost::json::parse(R"(["Egress","Ingress"])"));
  // IngressRule inlines its value: http is a property of the rule itself.
  EXPECT_TRUE(definitions.at("io.k8s.api.networking.v1.IngressRule")
                  .at("properties")
                  .as_object()
                  .contains("http"));
}

}  // namespace
}  // namespace kpp::api
