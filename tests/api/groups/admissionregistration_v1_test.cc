// Admission webhook configurations (api/admissionregistration.k8s.io/v1) against JSON as an
// upstream API server writes it, and their defaulting.
#include <gtest/gtest.h>

#include <string>

#include "api/admissionregistration.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace admission = admissionregistration_k8s_io::v1;

TEST(WebhookSchemaTest, ValidatingWebhookConfigurationRoundTripsExactly) {
  ExpectRoundTrip<admission::ValidatingWebhookConfiguration>(
      R"({"kind":"ValidatingWebhookConfiguration","apiVersion":"admissionregistration.k8s.io/v1",)"
      R"("metadata":{"name":"policy.example.com","uid":"b0c1d2e3-f4a5-4b6c-8d7e-8f9a0b1c2d3e",)"
      R"("resourceVersion":"7001","generation":2,"creationTimestamp":"2024-03-02T09:00:00Z"},)"
      R"("webhooks":[{"name":"deployments.policy.example.com","clientConfig":{"service":{)"
      R"("namespace":"policy","name":"validator","path":"/validate","port":443},"caBundle":"AAEC/w=="},)"
      R"("rules":[{"operations":["CREATE","UPDATE"],"apiGroups":["apps"],"apiVersions":["v1"],)"
      R"("resources":["deployments","deployments/scale"],"scope":"Namespaced"}],"failurePolicy":"Fail",)"
      R"("matchPolicy":"Equivalent","namespaceSelector":{"matchExpressions":[{"key":)"
      R"("kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system"]}]},)"
      R"("objectSelector":{},"sideEffects":"None","timeoutSeconds":10,"admissionReviewVersions":)"
      R"(["v1","v1beta1"],"matchConditions":[{"name":"not-system","expression":)"
      R"j("!request.userInfo.username.startsWith('system:')"}]}]})j");
}

TEST(WebhookSchemaTest, MutatingWebhookConfigurationRoundTripsExactly) {
  ExpectRoundTrip<admission::MutatingWebhookConfiguration>(
      R"({"kind":"MutatingWebhookConfiguration","apiVersion":"admissionregistration.k8s.io/v1",)"
      R"("metadata":{"name":"inject.example.com","creationTimestamp":"2024-03-02T09:00:00Z"},)"
      R"("webhooks":[{"name":"sidecar.inject.example.com","clientConfig":{)"
      R"("url":"https://injector.example.com:8443/mutate"},"rules":[{"operations":["*"],)"
      R"("apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"*"}],)"
      R"("failurePolicy":"Ignore","matchPolicy":"Exact","namespaceSelector":{"matchLabels":{)"
      R"("inject":"enabled"}},"objectSelector":{},"sideEffects":"NoneOnDryRun","timeoutSeconds":5,)"
      R"("admissionReviewVersions":["v1"],"reinvocationPolicy":"IfNeeded"}]})");
}

TEST(WebhookSchemaTest, WebhooksAreDefaultedAsUpstreamStoresThem) {
  EXPECT_EQ(
      Defaulted<admission::ValidatingWebhookConfiguration>(
          R"({"metadata":{"name":"v"},"webhooks":[{"name":"a.example.com","clientConfig":{"service":{)"
          R"("namespace":"ns","name":"svc"}},"rules":[{"operations":["CREATE"],"apiGroups":[""],)"
          R"("apiVersions":["v1"],"resources":["pods"]}],"sideEffects":"None",)"
          R"("admissionReviewVersions":["v1"]}]})"),
      R"({"metadata":{"name":"v","creationTimestamp":null},"webhooks":[{"name":"a.example.com",)"
      R"("clientConfig":{"service":{"namespace":"ns","name":"svc","port":443}},"rules":[{)"
      R"("operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],)"
      R"("scope":"*"}],"failurePolicy":"Fail","matchPolicy":"Equivalent","namespaceSelector":{},)"
      R"("objectSelector":{},"sideEffects":"None","timeoutSeconds":10,)"
      R"("admissionReviewVersions":["v1"]}]})");
  EXPECT_EQ(
      Defaulted<admission::MutatingWebhookConfiguration>(
          R"({"webhooks":[{"name":"m.example.com","clientConfig":{"url":"https://m.example.com"},)"
          R"("sideEffects":"None","admissionReviewVersions":["v1"]}]})"),
      R"({"metadata":{"creationTimestamp":null},"webhooks":[{"name":"m.example.com",)"
      R"("clientConfig":{"url":"https://m.example.com"},"failurePolicy":"Fail",)"
      R"("matchPolicy":"Equivalent","namespaceSelector":{},"objectSelector":{},)"
      R"("sideEffects":"None","timeoutSeconds":10,"admissionReviewVersions":["v1"],)"
      R"("reinvocationPolicy":"Never"}]})");
}

TEST(WebhookSchemaTest, KindTableHasWebhookConfigurations) {
  for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
    const KindInfo* info = FindKind("admissionregistration.k8s.io", kind);
    ASSERT_NE(info, nullptr) << kind;
    EXPECT_FALSE(info->namespaced);
    EXPECT_EQ(info->categories, "api-extensions");
  }
  EXPECT_EQ(FindKind("admissionregistration.k8s.io", "MutatingWebhookConfiguration")->plural,
            "mutatingwebhookconfigurations");
}

}  // namespace
}  // namespace kpp::api
