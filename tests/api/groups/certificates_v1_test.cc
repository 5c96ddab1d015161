// CertificateSigningRequests (api/certificates.k8s.io/v1) against JSON as an upstream API server
// writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/certificates.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::ExpectRoundTrip;
using testing::FindKind;

using certificates_k8s_io::v1::CertificateSigningRequest;

TEST(CsrSchemaTest, ApprovedKubeletClientCsrRoundTripsExactly) {
  ExpectRoundTrip<CertificateSigningRequest>(
      R"({"kind":"CertificateSigningRequest","apiVersion":"certificates.k8s.io/v1","metadata":{)"
      R"("name":"csr-8xk2v","uid":"6d7e8f9a-0b1c-4d2e-8f3a-4b5c6d7e8f9a","resourceVersion":"1402",)"
      R"("creationTimestamp":"2024-03-01T10:00:10Z"},"spec":{"request":)"
      R"("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQmtUQ0Ird0lCQURBU01SQXdEZ1lEVlFRREV3ZHViMlJsTFRFdwotLS0tLUVORCBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",)"
      R"("signerName":"kubernetes.io/kube-apiserver-client-kubelet","expirationSeconds":86400,)"
      R"("usages":["digital signature","client auth"],"username":"system:bootstrap:abcdef",)"
      R"("uid":"system:bootstrap:abcdef","groups":["system:bootstrappers",)"
      R"("system:bootstrappers:kubeadm:default-node-token","system:authenticated"],)"
      R"("extra":{"authentication.kubernetes.io/credential-id":["token-id"],"scopes":["a","b"]}},)"
      R"("status":{"conditions":[{"type":"Approved","status":"True","reason":"AutoApproved",)"
      R"("message":"Auto approving kubelet client certificate after SubjectAccessReview.",)"
      R"("lastUpdateTime":"2024-03-01T10:00:11Z","lastTransitionTime":"2024-03-01T10:00:11Z"}],)"
      R"("certificate":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM2akNDQWRLZ0F3SUJBZ0lSQUszY1YKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="}})");
  // Pending: empty status.
  ExpectRoundTrip<CertificateSigningRequest>(
      R"({"metadata":{"name":"pending","creationTimestamp":null},"spec":{"request":"AAEC",)"
      R"("signerName":"example.com/signer"},"status":{}})");
}

TEST(CsrSchemaTest, KindTableHasCsrs) {
  const KindInfo* csr = FindKind("certificates.k8s.io", "CertificateSigningRequest");
  ASSERT_NE(csr, nullptr);
  EXPECT_EQ(csr->plural, "certificatesigningrequests");
  EXPECT_EQ(csr->short_names, "csr");
  EXPECT_EQ(csr->subresources, "status,approval");
  EXPECT_FALSE(csr->namespaced);
}

}  // namespace
}  // namespace kpp::api
