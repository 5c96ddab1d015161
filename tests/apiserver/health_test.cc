#include "apiserver/health.h"

#include <gtest/gtest.h>

#include <atomic>

namespace kpp::apiserver {
namespace {

http::Request Get(std::string path, std::vector<std::pair<std::string, std::string>> query = {}) {
  http::Request request;
  request.method = "GET";
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

class HealthChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    checks_.Add("ping", HealthChecks::kAll, [] { return Ok(); });
    checks_.Add("shutdown", HealthChecks::kReadyz, [this]() -> Status {
      if (shutting_down_) return Error(ErrorCode::kServiceUnavailable, "shutting down");
      return Ok();
    });
  }
  HealthChecks checks_;
  std::atomic<bool> shutting_down_{false};
};

TEST_F(HealthChecksTest, PlainOk) {
  for (const char* path : {"/healthz", "/livez", "/readyz", "/readyz/"}) {
    auto response = checks_.Serve(Get(path));
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "ok");
  }
}

TEST_F(HealthChecksTest, VerboseListsChecksOfThatEndpoint) {
  auto readyz = checks_.Serve(Get("/readyz", {{"verbose", ""}}));
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->body, "[+]ping ok\n[+]shutdown ok\nreadyz check passed\n");
  auto livez = checks_.Serve(Get("/livez", {{"verbose", "1"}}));
  ASSERT_TRUE(livez);
  EXPECT_EQ(livez->body, "[+]ping ok\nlivez check passed\n");
}

TEST_F(HealthChecksTest, FailureWithholdsReasonAndAnswers500) {
  shutting_down_ = true;
  auto response = checks_.Serve(Get("/readyz"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->body,
            "[+]ping ok\n[-]shutdown failed: reason withheld\nreadyz check failed\n");
  auto livez = checks_.Serve(Get("/livez"));
  ASSERT_TRUE(livez);
  EXPECT_EQ(livez->status, 200);
}

TEST_F(HealthChecksTest, ExcludeSkipsChecksAndWarnsAboutUnknownNames) {
  shutting_down_ = true;
  auto response = checks_.Serve(
      Get("/readyz", {{"verbose", ""}, {"exclude", "shutdown"}, {"exclude", "etcd"}}));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body,
            "[+]ping ok\n[+]shutdown excluded: ok\nwarn: some health checks cannot be excluded: no "
            "matches for \"etcd\"\nreadyz check passed\n");
}

TEST_F(HealthChecksTest, SingleCheckPaths) {
  auto ping = checks_.Serve(Get("/readyz/ping"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->status, 200);
  EXPECT_EQ(ping->body, "ok");
  shutting_down_ = true;
  auto shutdown = checks_.Serve(Get("/readyz/shutdown"));
  ASSERT_TRUE(shutdown);
  EXPECT_EQ(shutdown->status, 500);
  EXPECT_EQ(shutdown->body, "internal server error: shutting down\n");
  auto unknown = checks_.Serve(Get("/livez/shutdown"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(HealthChecksTest, OtherPathsAreNotHealthPaths) {
  EXPECT_FALSE(checks_.Serve(Get("/version")));
  EXPECT_FALSE(checks_.Serve(Get("/healthzfoo")));
  EXPECT_FALSE(checks_.Serve(Get("/api")));
}

}  // namespace
}  // namespace kpp::apiserver
