// Services and Endpoints (api/core/v1/service.api) against JSON as an upstream API server
// writes it, and their defaulting.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "api/core/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/runtime/openapi_data.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

using core::v1::Endpoints;
using core::v1::Service;

TEST(ServiceSchemaTest, ClusterIPServiceRoundTripsExactly) {
  ExpectRoundTrip<Service>(
      R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"kubernetes","namespace":"default",)"
      R"("uid":"6a2bd7a4-9a0c-4bde-8a3e-3f2c0a1b5e77","resourceVersion":"198",)"
      R"("creationTimestamp":"2024-03-01T10:00:00Z","labels":{"component":"apiserver",)"
      R"("provider":"kubernetes"},"managedFields":[{"manager":"kube-apiserver","operation":"Update",)"
      R"("apiVersion":"v1","time":"2024-03-01T10:00:00Z","fieldsType":"FieldsV1",)"
      R"("fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:component":{},"f:provider":{}}}}}]},)"
      R"("spec":{"ports":[{"name":"https","protocol":"TCP","port":443,"targetPort":6443}],)"
      R"("clusterIP":"10.96.0.1","clusterIPs":["10.96.0.1"],"type":"ClusterIP",)"
      R"("sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack",)"
      R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}})");
}

TEST(ServiceSchemaTest, NodePortAndLoadBalancerServicesWithStatusRoundTripExactly) {
  ExpectRoundTrip<Service>(
      R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"shop",)"
      R"("uid":"0b7c2f0e-55d4-4c1e-9a57-8f8f5a0d2c11","resourceVersion":"5120",)"
      R"("creationTimestamp":"2024-03-02T08:30:00Z","labels":{"app":"web"},)"
      R"("annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},)"
      R"("spec":{"ports":[{"name":"http","protocol":"TCP","appProtocol":"http","port":80,)"
      R"("targetPort":"http","nodePort":30080},{"name":"dns","protocol":"UDP","port":53,)"
      R"("targetPort":5353,"nodePort":31053}],"selector":{"app":"web","tier":"front"},)"
      R"("clusterIP":"10.96.12.34","clusterIPs":["10.96.12.34"],"type":"NodePort",)"
      R"("sessionAffinity":"ClientIP","externalTrafficPolicy":"Local","healthCheckNodePort":32000,)"
      R"("publishNotReadyAddresses":true,"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600}},)"
      R"("ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"PreferDualStack",)"
      R"("internalTrafficPolicy":"Local","trafficDistribution":"PreferClose"},)"
      R"("status":{"loadBalancer":{}}})");
  ExpectRoundTrip<Service>(
      R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"edge","namespace":"default",)"
      R"("creationTimestamp":"2024-03-02T08:30:00Z","finalizers":["service.kubernetes.io/load-balancer-cleanup"]},)"
      R"("spec":{"ports":[{"protocol":"TCP","port":443,"targetPort":8443,"nodePort":31443}],)"
      R"("selector":{"app":"edge"},"clusterIP":"10.96.0.50","clusterIPs":["10.96.0.50"],)"
      R"("type":"LoadBalancer","externalIPs":["203.0.113.7"],"sessionAffinity":"None",)"
      R"("loadBalancerIP":"192.0.2.10","loadBalancerSourceRanges":["198.51.100.0/24"],)"
      R"("externalTrafficPolicy":"Cluster","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack",)"
      R"("allocateLoadBalancerNodePorts":true,"loadBalancerClass":"example.com/lb",)"
      R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10",)"
      R"("ipMode":"VIP","ports":[{"port":443,"protocol":"TCP"},{"port":80,"protocol":"TCP",)"
      R"("error":"PortNotAllocated"}]},{"hostname":"edge.lb.example.com","ipMode":"Proxy"}]},)"
      R"("conditions":[{"type":"LoadBalancerReady","status":"True","observedGeneration":2,)"
      R"("lastTransitionTime":"2024-03-02T08:31:00Z","reason":"Provisioned","message":""}]}})");
  ExpectRoundTrip<Service>(
      R"({"kind":"Service","apiVersion":"v1","metadata":{"name":"db","namespace":"default",)"
      R"("creationTimestamp":null},"spec":{"type":"ExternalName","sessionAffinity":"None",)"
      R"("externalName":"db.example.com"},"status":{"loadBalancer":{}}})");
}

TEST(ServiceSchemaTest, MinimalServiceIsDefaultedAsUpstreamStoresIt) {
  EXPECT_EQ(
      Defaulted<Service>(R"({"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},)"
                         R"("ports":[{"port":80},{"name":"b","port":81,"targetPort":""}]}})"),
      R"({"metadata":{"name":"web","creationTimestamp":null},"spec":{"ports":[{"protocol":"TCP",)"
      R"("port":80,"targetPort":80},{"name":"b","protocol":"TCP","port":81,"targetPort":81}],)"
      R"("selector":{"app":"web"},"type":"ClusterIP","sessionAffinity":"None",)"
      R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}})");
  // A named target port and an explicit protocol are kept.
  EXPECT_EQ(
      Defaulted<Service>(R"({"spec":{"ports":[{"protocol":"UDP","port":53,)"
                         R"("targetPort":"dns"}]}})"),
      R"({"metadata":{"creationTimestamp":null},"spec":{"ports":[{"protocol":"UDP","port":53,)"
      R"("targetPort":"dns"}],"type":"ClusterIP","sessionAffinity":"None",)"
      R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}})");
}

TEST(ServiceSchemaTest, DefaultsDependOnTypeAndAffinity) {
  // NodePort: external traffic policy; ClientIP: a three-hour affinity timeout.
  EXPECT_EQ(Defaulted<Service>(R"({"spec":{"type":"NodePort","sessionAffinity":"ClientIP"}})"),
            R"({"metadata":{"creationTimestamp":null},"spec":{"type":"NodePort",)"
            R"("sessionAffinity":"ClientIP","externalTrafficPolicy":"Cluster",)"
            R"("sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}},)"
            R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}})");
  // An explicit timeout is kept.
  EXPECT_EQ(
      Defaulted<Service>(R"({"spec":{"sessionAffinity":"ClientIP",)"
                         R"("sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}}})"),
      R"({"metadata":{"creationTimestamp":null},"spec":{"type":"ClusterIP",)"
      R"("sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},)"
      R"("internalTrafficPolicy":"Cluster"},"status":{"loadBalancer":{}}})");
  // Affinity None drops a stray config.
  EXPECT_EQ(Defaulted<Service>(R"({"spec":{"sessionAffinity":"None",)"
                               R"("sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}}}})"),
            R"({"metadata":{"creationTimestamp":null},"spec":{"type":"ClusterIP",)"
            R"("sessionAffinity":"None","internalTrafficPolicy":"Cluster"},)"
            R"("status":{"loadBalancer":{}}})");
  // LoadBalancer: node ports allocated, ingress IPs in VIP mode.
  EXPECT_EQ(
      Defaulted<Service>(R"({"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":)"
                         R"({"ingress":[{"ip":"192.0.2.1"},{"hostname":"lb.example.com"}]}}})"),
      R"({"metadata":{"creationTimestamp":null},"spec":{"type":"LoadBalancer",)"
      R"("sessionAffinity":"None","externalTrafficPolicy":"Cluster",)"
      R"("allocateLoadBalancerNodePorts":true,"internalTrafficPolicy":"Cluster"},)"
      R"("status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1","ipMode":"VIP"},)"
      R"({"hostname":"lb.example.com"}]}}})");
  // ClusterIP with external IPs is externally accessible; ExternalName has no traffic policies.
  EXPECT_EQ(Defaulted<Service>(R"({"spec":{"externalIPs":["203.0.113.9"]}})"),
            R"({"metadata":{"creationTimestamp":null},"spec":{"type":"ClusterIP",)"
            R"("externalIPs":["203.0.113.9"],"sessionAffinity":"None",)"
            R"("externalTrafficPolicy":"Cluster","internalTrafficPolicy":"Cluster"},)"
            R"("status":{"loadBalancer":{}}})");
  EXPECT_EQ(
      Defaulted<Service>(R"({"spec":{"type":"ExternalName","externalName":"x.example"}})"),
      R"({"metadata":{"creationTimestamp":null},"spec":{"type":"ExternalName",)"
      R"("sessionAffinity":"None","externalName":"x.example"},"status":{"loadBalancer":{}}})");
}

TEST(ServiceSchemaTest, EndpointsRoundTripAndDefaultPortProtocol) {
  ExpectRoundTrip<Endpoints>(
      R"({"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"shop",)"
      R"("uid":"4d1e0c7a-2b3f-4a5e-8c6d-7e8f9a0b1c2d","resourceVersion":"5200",)"
      R"("creationTimestamp":"2024-03-02T08:30:00Z","labels":{"app":"web"},"annotations":)"
      R"({"endpoints.kubernetes.io/last-change-trigger-time":"2024-03-02T08:31:12Z"}},)"
      R"("subsets":[{"addresses":[{"ip":"10.244.0.5","nodeName":"node-1","targetRef":{"kind":"Pod",)"
      R"("namespace":"shop","name":"web-7d9f8-abcde","uid":"9a8b7c6d-1111-2222-3333-444455556666"}},)"
      R"({"ip":"10.244.1.7","hostname":"web-1","nodeName":"node-2","targetRef":{"kind":"Pod",)"
      R"("namespace":"shop","name":"web-1","uid":"9a8b7c6d-1111-2222-3333-444455557777"}}],)"
      R"("notReadyAddresses":[{"ip":"10.244.2.9","nodeName":"node-3"}],"ports":[{"name":"http",)"
      R"("port":8080,"protocol":"TCP","appProtocol":"http"},{"name":"dns","port":53,"protocol":"UDP"}]}]})");
  EXPECT_EQ(Defaulted<Endpoints>(
                R"({"metadata":{"name":"ext"},"subsets":[{"addresses":[{"ip":"192.0.2.4"}],)"
                R"("ports":[{"port":5432}]}]})"),
            R"({"metadata":{"name":"ext","creationTimestamp":null},"subsets":[{"addresses":)"
            R"([{"ip":"192.0.2.4"}],"ports":[{"port":5432,"protocol":"TCP"}]}]})");
}

TEST(ServiceSchemaTest, KindTableHasServicesAndEndpoints) {
  const KindInfo* service = FindKind("", "Service");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->plural, "services");
  EXPECT_EQ(service->singular, "service");
  EXPECT_EQ(service->list_kind, "ServiceList");
  EXPECT_TRUE(service->namespaced);
  EXPECT_EQ(service->short_names, "svc");
  EXPECT_EQ(service->categories, "all");
  EXPECT_EQ(service->subresources, "status,proxy");
  EXPECT_EQ(service->openapi_name, "io.k8s.api.core.v1.Service");
  const KindInfo* endpoints = FindKind("", "Endpoints");
  ASSERT_NE(endpoints, nullptr);
  EXPECT_EQ(endpoints->plural, "endpoints");
  EXPECT_EQ(endpoints->singular, "endpoints");
  EXPECT_EQ(endpoints->list_kind, "EndpointsList");
  EXPECT_EQ(endpoints->short_names, "ep");
  EXPECT_TRUE(endpoints->namespaced);
}

TEST(ServiceSchemaTest, OpenApiCarriesPortsMergeMetadata) {
  const auto definitions = boost::json::parse(OpenApiV2Definitions()).as_object();
  const auto& ports =
      definitions.at("io.k8s.api.core.v1.ServiceSpec").at("properties").at("ports").as_object();
  EXPECT_EQ(ports.at("x-kubernetes-patch-strategy"), "merge");
  EXPECT_EQ(ports.at("x-kubernetes-patch-merge-key"), "port");
  EXPECT_EQ(ports.at("x-kubernetes-list-type"), "map");
  EXPECT_EQ(ports.at("x-kubernetes-list-map-keys"), boost::json::parse(R"(["port","protocol"])"));
  const auto& port = definitions.at("io.k8s.api.core.v1.ServicePort").as_object();
  EXPECT_EQ(port.at("required"), boost::json::parse(R"(["port"])"));
  EXPECT_EQ(port.at("properties").at("protocol").at("default"), "TCP");
  EXPECT_EQ(definitions.at("io.k8s.api.core.v1.Service").at("x-kubernetes-group-version-kind"),
            boost::json::parse(R"([{"group":"","kind":"Service","version":"v1"}])"));
}

}  // namespace
}  // namespace kpp::api
