#include "apiserver/registry/list_options.h"

#include <gtest/gtest.h>

namespace kpp::apiserver {
namespace {

constexpr std::string_view kPrefix = "/registry/core/configmaps/default/";

http::Request Query(std::vector<std::pair<std::string, std::string>> query) {
  http::Request request;
  request.method = "GET";
  request.path = "/api/v1/namespaces/default/configmaps";
  request.query = std::move(query);
  return request;
}

std::string InvalidMessage(const ListOptions& options) {
  auto status = ValidateListOptions(options);
  if (status.ok()) return "ok";
  EXPECT_EQ(status.error().code(), ErrorCode::kInvalid);
  return status.error().message();
}

TEST(ContinueTokenTest, EncodesAsUpstreamDoes) {
  // base64url without padding of {"v":"meta.k8s.io/v1","rv":12,"start":"c\u0000"}.
  EXPECT_EQ(EncodeContinueToken(std::string(kPrefix) + std::string("c\0", 2), kPrefix, 12),
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIsInN0YXJ0IjoiY1x1MDAwMCJ9");
}

TEST(ContinueTokenTest, DecodesWhatItEncodes) {
  const std::string next = std::string(kPrefix) + std::string("web-3\0", 6);
  auto point = DecodeContinueToken(EncodeContinueToken(next, kPrefix, 42), kPrefix);
  ASSERT_TRUE(point.ok()) << point.error().message();
  EXPECT_EQ(point->key, next);
  EXPECT_EQ(point->revision, 42);
  // -1 is what an expired token's successor carries: continue at the latest revision.
  auto latest = DecodeContinueToken(EncodeContinueToken(next, kPrefix, -1), kPrefix);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->revision, -1);
}

TEST(ContinueTokenTest, RefusesMalformedTokensWithUpstreamMessages) {
  auto message = [](std::string_view token) {
    auto point = DecodeContinueToken(token, kPrefix);
    EXPECT_FALSE(point.ok());
    return point.ok() ? std::string("ok") : point.error().message();
  };
  EXPECT_EQ(message("a*bc"), "continue key is not valid: illegal base64 data at input byte 1");
  // {"v":"meta.k8s.io/v2","rv":1,"start":"x"}
  EXPECT_EQ(message("eyJ2IjoibWV0YS5rOHMuaW8vdjIiLCJydiI6MSwic3RhcnQiOiJ4In0"),
            "continue key is not valid: server does not recognize this encoded version "
            "meta.k8s.io/v2");
  // {"v":"meta.k8s.io/v1","rv":0,"start":"x"}
  EXPECT_EQ(message("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MCwic3RhcnQiOiJ4In0"),
            "continue key is not valid: incorrect encoded start resourceVersion (version "
            "meta.k8s.io/v1)");
  // {"v":"meta.k8s.io/v1","rv":5,"start":""}
  EXPECT_EQ(message("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIifQ"),
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
  // {"v":"meta.k8s.io/v1","rv":5,"start":"../secrets/x"}: climbing out of the prefix.
  EXPECT_EQ(message("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIuLi9zZWNyZXRzL3gifQ"),
            "continue key is not valid: ../secrets/x");
  // {"v":"meta.k8s.io/v1","rv":"5","start":"x"}
  EXPECT_EQ(message("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6IjUiLCJzdGFydCI6IngifQ"),
            "continue key is not valid: json: cannot unmarshal string into Go struct field "
            "continueToken.rv of type int64");
}

TEST(ListOptionsTest, ReadsTheQuery) {
  auto options = ListOptions::FromRequest(Query({{"limit", "2"},
                                                 {"continue", "abc"},
                                                 {"resourceVersion", "7"},
                                                 {"resourceVersionMatch", "Exact"}}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->limit, 2);
  EXPECT_EQ(options->continue_token, "abc");
  EXPECT_EQ(options->resource_version, "7");
  EXPECT_EQ(options->resource_version_match, "Exact");
  auto bad = ListOptions::FromRequest(Query({{"limit", "two"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message(), "strconv.ParseInt: parsing \"two\": invalid syntax");
}

TEST(ListOptionsTest, ValidatesAsUpstream) {
  EXPECT_EQ(InvalidMessage({}), "ok");
  EXPECT_EQ(InvalidMessage({.resource_version = "5", .resource_version_match = "NotOlderThan"}),
            "ok");
  EXPECT_EQ(InvalidMessage({.resource_version_match = "Exact"}),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden unless resourceVersion is provided");
  EXPECT_EQ(InvalidMessage({.resource_version = "0", .resource_version_match = "Exact"}),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
  EXPECT_EQ(InvalidMessage({.resource_version = "3", .resource_version_match = "Newest"}),
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: "
            "\"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\"");
  EXPECT_EQ(InvalidMessage({.resource_version_match = "NotOlderThan", .continue_token = "x"}),
            "ListOptions.meta.k8s.io \"\" is invalid: [resourceVersionMatch: Forbidden: "
            "resourceVersionMatch is forbidden unless resourceVersion is provided, "
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is "
            "provided]");
  EXPECT_EQ(InvalidMessage({.send_initial_events = true}),
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: "
            "sendInitialEvents is forbidden for list");
}

TEST(ListOptionsTest, ResourceVersionsAreDecimalRevisions) {
  EXPECT_EQ(*ParseResourceVersion(""), 0);
  EXPECT_EQ(*ParseResourceVersion("0"), 0);
  EXPECT_EQ(*ParseResourceVersion("1234"), 1234);
  auto bad = ParseResourceVersion("abc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad.error().message(),
            "invalid resource version: resourceVersion: Invalid value: \"abc\": "
            "strconv.ParseUint: parsing \"abc\": invalid syntax");
}

TEST(PlanListReadTest, PicksTheSnapshotAsUpstream) {
  auto plan = [](ListOptions options) {
    auto read = PlanListRead(options, kPrefix);
    EXPECT_TRUE(read.ok()) << read.error().message();
    return read.ok() ? *read : ListRead{};
  };
  // Most recent.
  auto latest = plan({});
  EXPECT_EQ(latest.start_key, kPrefix);
  EXPECT_EQ(latest.revision, 0);
  EXPECT_EQ(latest.minimum_revision, 0);
  // Any: the most recent will do.
  EXPECT_EQ(plan({.resource_version = "0", .limit = 5}).revision, 0);
  // Not older than: the current revision, checked against the minimum.
  auto not_older = plan({.resource_version = "9", .resource_version_match = "NotOlderThan"});
  EXPECT_EQ(not_older.revision, 0);
  EXPECT_EQ(not_older.minimum_revision, 9);
  EXPECT_EQ(plan({.resource_version = "9"}).revision, 0);
  // Exact, and the legacy exact form: a resourceVersion with a limit.
  EXPECT_EQ(plan({.resource_version = "9", .resource_version_match = "Exact"}).revision, 9);
  EXPECT_EQ(plan({.resource_version = "9", .limit = 2}).revision, 9);
  // A continue token carries both the key and the snapshot.
  const std::string next = std::string(kPrefix) + "b" + '\0';
  auto continued = plan({.continue_token = EncodeContinueToken(next, kPrefix, 31)});
  EXPECT_TRUE(continued.continuing);
  EXPECT_EQ(continued.start_key, next);
  EXPECT_EQ(continued.revision, 31);
  EXPECT_EQ(plan({.continue_token = EncodeContinueToken(next, kPrefix, -1)}).revision, 0);
}

TEST(PlanListReadTest, RefusesWhatUpstreamRefuses) {
  const std::string token = EncodeContinueToken(std::string(kPrefix) + "b", kPrefix, 3);
  auto with_version = PlanListRead({.resource_version = "3", .continue_token = token}, kPrefix);
  ASSERT_FALSE(with_version.ok());
  EXPECT_EQ(with_version.error().message(),
            "specifying resource version is not allowed when using continue");
  auto bad_token = PlanListRead({.continue_token = "%%%"}, kPrefix);
  ASSERT_FALSE(bad_token.ok());
  EXPECT_EQ(bad_token.error().code(), ErrorCode::kBadRequest);
  EXPECT_EQ(bad_token.error().message(),
            "invalid continue token: continue key is not valid: illegal base64 data at input "
            "byte 0");
}

}  // namespace
}  // namespace kpp::apiserver
