#include "base/error.h"

#include <gtest/gtest.h>

#include "base/result.h"

namespace kpp {
namespace {

TEST(ErrorTest, CodesMapToKubernetesReasonsAndHttpStatus) {
  struct Case {
    ErrorCode code;
    std::string_view reason;
    int http;
  };
  const Case cases[] = {
      {ErrorCode::kBadRequest, "BadRequest", 400},
      {ErrorCode::kUnauthorized, "Unauthorized", 401},
      {ErrorCode::kForbidden, "Forbidden", 403},
      {ErrorCode::kNotFound, "NotFound", 404},
      {ErrorCode::kMethodNotAllowed, "MethodNotAllowed", 405},
      {ErrorCode::kNotAcceptable, "NotAcceptable", 406},
      {ErrorCode::kAlreadyExists, "AlreadyExists", 409},
      {ErrorCode::kConflict, "Conflict", 409},
      {ErrorCode::kGone, "Gone", 410},
      {ErrorCode::kExpired, "Expired", 410},
      {ErrorCode::kRequestEntityTooLarge, "RequestEntityTooLarge", 413},
      {ErrorCode::kUnsupportedMediaType, "UnsupportedMediaType", 415},
      {ErrorCode::kInvalid, "Invalid", 422},
      {ErrorCode::kTooManyRequests, "TooManyRequests", 429},
      {ErrorCode::kInternalError, "InternalError", 500},
      {ErrorCode::kServerTimeout, "ServerTimeout", 500},
      {ErrorCode::kServiceUnavailable, "ServiceUnavailable", 503},
      {ErrorCode::kTimeout, "Timeout", 504},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ReasonOf(c.code), c.reason);
    EXPECT_EQ(HttpStatusOf(c.code), c.http) << c.reason;
  }
}

TEST(ErrorTest, KeepsCausesAndAddsContext) {
  Error error(ErrorCode::kInvalid, "bad pod",
              {{"FieldValueRequired", "Required value", "spec.containers"}});
  Error with_context = std::move(error).WithContext("creating pod");
  EXPECT_EQ(with_context.message(), "creating pod: bad pod");
  ASSERT_EQ(with_context.causes().size(), 1u);
  EXPECT_EQ(with_context.causes()[0].field, "spec.containers");
  EXPECT_EQ(with_context.reason(), "Invalid");
}

Result<int> Half(int n) {
  if (n % 2 != 0) return BadRequestError("odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  KPP_ASSIGN_OR_RETURN(int half, Half(n));
  KPP_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int n) {
  KPP_RETURN_IF_ERROR(Half(n));
  return Ok();
}

TEST(ResultTest, CarriesValueOrError) {
  auto good = Quarter(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultDeathTest, ValueOfFailedResultAborts) {
  Result<int> bad = NotFoundError("gone");
  EXPECT_DEATH((void)bad.value(), "");
}

}  // namespace
}  // namespace kpp
