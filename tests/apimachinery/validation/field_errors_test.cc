#include "apimachinery/validation/field_errors.h"

#include <gtest/gtest.h>

#include "base/go_quote.h"

namespace kpp::validation {
namespace {

TEST(FieldPathTest, WritesPathsAsUpstream) {
  const FieldPath spec("spec");
  EXPECT_EQ(spec.Child("containers").Index(0).Child("image").str(), "spec.containers[0].image");
  EXPECT_EQ(FieldPath("metadata").Child("labels").Key("app").str(), "metadata.labels[app]");
  EXPECT_EQ(FieldPath().Child("spec").str(), "spec");
}

TEST(FieldErrorTest, MessagesMatchUpstream) {
  const FieldPath spec("spec");
  EXPECT_EQ(Required(spec.Child("containers")).ToString(), "spec.containers: Required value");
  EXPECT_EQ(
      Required(FieldPath("metadata").Child("name"), "name or generateName is required").ToString(),
      "metadata.name: Required value: name or generateName is required");
  EXPECT_EQ(NotSupported(spec.Child("restartPolicy"), "Sometimes", {"Always", "OnFailure", "Never"})
                .ToString(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
            "\"OnFailure\", \"Never\"");
  EXPECT_EQ(Invalid(FieldPath("metadata").Child("name"), "Foo", "must be lowercase").ToString(),
            "metadata.name: Invalid value: \"Foo\": must be lowercase");
  EXPECT_EQ(InvalidInt(spec.Child("replicas"), -1, "must be greater than or equal to 0").ToString(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
  EXPECT_EQ(Duplicate(spec.Child("containers").Index(1).Child("name"), "web").ToString(),
            "spec.containers[1].name: Duplicate value: \"web\"");
  EXPECT_EQ(Forbidden(spec, "pod updates may not change fields other than image").ToString(),
            "spec: Forbidden: pod updates may not change fields other than image");
  EXPECT_EQ(TooLong(FieldPath("metadata").Child("name"), 253).ToString(),
            "metadata.name: Too long: may not be more than 253 bytes");
  EXPECT_EQ(GoQuote("a\"b\n"), "\"a\\\"b\\n\"");
}

TEST(FieldErrorTest, InvalidErrorListsCausesLikeUpstream) {
  const Error one = ToInvalidError("Pod", "web", {Required(FieldPath("spec").Child("containers"))});
  EXPECT_EQ(one.code(), ErrorCode::kInvalid);
  EXPECT_EQ(one.message(), "Pod \"web\" is invalid: spec.containers: Required value");
  const Error two = ToInvalidError(
      "Deployment.apps", "api",
      {Required(FieldPath("spec").Child("selector")),
       InvalidInt(FieldPath("spec").Child("replicas"), -1, "must be greater than or equal to 0")});
  EXPECT_EQ(two.message(),
            "Deployment.apps \"api\" is invalid: [spec.selector: Required value, spec.replicas: "
            "Invalid value: -1: must be greater than or equal to 0]");
  ASSERT_EQ(two.causes().size(), 2u);
  EXPECT_EQ(two.causes()[1],
            (ErrorCause{"FieldValueInvalid",
                        "Invalid value: -1: must be greater than or equal to 0", "spec.replicas"}));
}

}  // namespace
}  // namespace kpp::validation
