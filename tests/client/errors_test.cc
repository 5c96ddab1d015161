#include "client/rest/errors.h"

#include <gtest/gtest.h>

namespace kpp::client {
namespace {

TEST(ClientErrorFromResponseTest, DecodesStatus) {
  const Error error = ErrorFromResponse(422, R"({"kind":"Status","apiVersion":"v1","metadata":{},
    "status":"Failure","message":"ConfigMap \"x\" is invalid","reason":"Invalid",
    "details":{"name":"x","kind":"ConfigMap","causes":[{"reason":"FieldValueRequired",
    "message":"Required value","field":"data"}]},"code":422})");
  EXPECT_TRUE(IsInvalid(error));
  EXPECT_EQ(error.http_status(), 422);
  EXPECT_EQ(error.message(), "ConfigMap \"x\" is invalid");
  ASSERT_EQ(error.causes().size(), 1u);
  EXPECT_EQ(error.causes()[0], (ErrorCause{"FieldValueRequired", "Required value", "data"}));
}

TEST(ClientErrorFromResponseTest, ReasonWinsOverCode) {
  EXPECT_TRUE(IsNotFound(ErrorFromResponse(404, R"({"kind":"Status","reason":"NotFound"})")));
  EXPECT_TRUE(IsAlreadyExists(
      ErrorFromResponse(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})")));
  EXPECT_TRUE(IsConflict(ErrorFromResponse(409, R"({"kind":"Status","reason":"Conflict"})")));
  EXPECT_TRUE(IsResourceExpired(ErrorFromResponse(410, R"({"kind":"Status","reason":"Expired"})")));
  EXPECT_TRUE(IsResourceExpired(ErrorFromResponse(410, R"({"kind":"Status","reason":"Gone"})")));
}

TEST(ClientErrorFromResponseTest, NoStatusFallsBackToTheHttpCode) {
  EXPECT_TRUE(IsConflict(ErrorFromResponse(409, R"({"kind":"Status"})")));
  EXPECT_TRUE(IsNotFound(ErrorFromResponse(404, "404 page not found")));
  const Error error = ErrorFromResponse(502, "bad gateway");
  EXPECT_EQ(error.code(), ErrorCode::kInternalError);
  EXPECT_EQ(error.message(), "the server responded with the status code 502 (bad gateway)");
  EXPECT_TRUE(IsTooManyRequests(ErrorFromResponse(429, "")));
  EXPECT_TRUE(IsServiceUnavailable(ErrorFromResponse(503, "")));
}

}  // namespace
}  // namespace kpp::client
