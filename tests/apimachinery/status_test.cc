#include "apimachinery/status.h"

#include <gtest/gtest.h>

namespace kpp::apimachinery {
namespace {

TEST(StatusJsonTest, UnauthorizedMatchesUpstream) {
  EXPECT_EQ(StatusJson(Error(ErrorCode::kUnauthorized, "Unauthorized")),
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
}

TEST(StatusJsonTest, NotFoundAlwaysHasDetails) {
  EXPECT_EQ(StatusJson(NotFoundError("the server could not find the requested resource")),
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"the server could not find the requested resource",)"
            R"("reason":"NotFound","details":{},"code":404})");
}

TEST(StatusJsonTest, InvalidCarriesDetailsAndCauses) {
  const StatusDetails details{.name = "web", .group = "apps", .kind = "deployments"};
  const Error error(ErrorCode::kInvalid, "Deployment.apps \"web\" is invalid",
                    {{"FieldValueRequired", "Required value", "spec.selector"}});
  EXPECT_EQ(
      StatusJson(error, &details),
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"Deployment.apps \"web\" is invalid","reason":"Invalid",)"
      R"("details":{"name":"web","group":"apps","kind":"deployments","causes":[)"
      R"({"reason":"FieldValueRequired","message":"Required value","field":"spec.selector"}]},)"
      R"("code":422})");
}

}  // namespace
}  // namespace kpp::apimachinery
