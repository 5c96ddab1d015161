// authentication.k8s.io/v1 reviews and token requests against JSON as an upstream API server
// writes it.
#include <gtest/gtest.h>

#include <string>

#include "api/authentication.k8s.io/v1/codec.h"
#include "api/runtime/kinds.h"
#include "api/runtime/object_codec.h"
#include "api/schema_test_support.h"

namespace kpp::api {
namespace {

using testing::Defaulted;
using testing::ExpectRoundTrip;
using testing::FindKind;

namespace authn = authentication_k8s_io::v1;

TEST(AuthenticationSchemaTest, TokenReviewRoundTripsExactly) {
  ExpectRoundTrip<authn::TokenReview>(
      R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":null},"spec":{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",)"
      R"("audiences":["https://kubernetes.default.svc.cluster.local"]},"status":{"authenticated":true,)"
      R"("user":{"username":"system:serviceaccount:default:builder",)"
      R"("uid":"8e9f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b","groups":["system:serviceaccounts",)"
      R"("system:serviceaccounts:default","system:authenticated"],"extra":{)"
      R"("authentication.kubernetes.io/pod-name":["web-1"],)"
      R"("authentication.kubernetes.io/pod-uid":["9a8b7c6d-1111-2222-3333-444455556666"]}},)"
      R"("audiences":["https://kubernetes.default.svc.cluster.local"]}})");
  ExpectRoundTrip<authn::TokenReview>(
      R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":null},"spec":{"token":"bogus"},"status":{"user":{},)"
      R"("error":"invalid bearer token"}})");
}

TEST(AuthenticationSchemaTest, TokenRequestWritesNullForAbsentPointers) {
  // expirationSeconds and boundObjectRef have no omitempty upstream.
  ExpectRoundTrip<authn::TokenRequest>(
      R"({"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","metadata":{"name":"builder",)"
      R"("namespace":"default","creationTimestamp":"2024-03-01T10:00:00Z"},"spec":{"audiences":)"
      R"(["https://kubernetes.default.svc.cluster.local"],"expirationSeconds":3600,)"
      R"("boundObjectRef":null},"status":{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",)"
      R"("expirationTimestamp":"2024-03-01T11:00:00Z"}})");
  ExpectRoundTrip<authn::TokenRequest>(
      R"({"metadata":{"creationTimestamp":null},"spec":{"audiences":["vault"],"expirationSeconds":null,)"
      R"("boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-1",)"
      R"("uid":"9a8b7c6d-1111-2222-3333-444455556666"}},"status":{"token":"",)"
      R"("expirationTimestamp":null}})");
  EXPECT_EQ(Defaulted<authn::TokenRequest>(R"({"spec":{"audiences":["a"]}})"),
            R"({"metadata":{"creationTimestamp":null},"spec":{"audiences":["a"],)"
            R"("expirationSeconds":3600,"boundObjectRef":null},"status":{"token":"",)"
            R"("expirationTimestamp":null}})");
}

TEST(AuthenticationSchemaTest, SelfSubjectReviewRoundTripsExactly) {
  ExpectRoundTrip<authn::SelfSubjectReview>(
      R"({"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1","metadata":{)"
      R"("creationTimestamp":"2024-03-01T10:00:00Z"},"status":{"userInfo":{"username":"kubernetes-admin",)"
      R"("groups":["kubeadm:cluster-admins","system:authenticated"]}}})");
}

TEST(AuthenticationSchemaTest, KindTableServesReviewsForCreateOnly) {
  for (const char* kind : {"TokenReview", "SelfSubjectReview"}) {
    const KindInfo* info = FindKind("authentication.k8s.io", kind);
    ASSERT_NE(info, nullptr) << kind;
    EXPECT_EQ(info->verbs, "create");
    EXPECT_EQ(info->list_kind, "");
    EXPECT_FALSE(info->namespaced);
  }
  EXPECT_EQ(FindKind("authentication.k8s.io", "TokenReview")->plural, "tokenreviews");
  EXPECT_EQ(FindKind("authentication.k8s.io", "SelfSubjectReview")->plural, "selfsubjectreviews");
  // TokenRequest is only the body of serviceaccounts/token.
  EXPECT_EQ(FindKind("authentication.k8s.io", "TokenRequest"), nullptr);
}

}  // namespace
}  // namespace kpp::api
