// The token cleaner's sync (controllers/bootstrap): which secrets it deletes, when it looks at a
// token again, and which delete answers count as done.
#include "controllers/bootstrap/token_cleaner.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace kpp::controllers::bootstrap {
namespace {

using api::core::v1::Secret;
using std::chrono::hours;
using std::chrono::seconds;

class FakeTokenCleanerClient : public TokenCleanerClient {
 public:
  Status DeleteSecret(const std::string& ns, const std::string& name,
                      const std::string& uid) override {
    deleted.push_back(ns + "/" + name + " uid=" + uid);
    if (answer) return *answer;
    return Ok();
  }

  std::optional<Error> answer;
  std::vector<std::string> deleted;
};

Secret Token(std::optional<std::string> expiration,
             std::string type = "bootstrap.kubernetes.io/token", std::string ns = "kube-system") {
  Secret secret;
  secret.metadata.name = "bootstrap-token-abcdef";
  secret.metadata.namespace_ = std::move(ns);
  secret.metadata.uid = "uid-1";
  secret.type = std::move(type);
  secret.data["token-id"] = "abcdef";
  secret.data["token-secret"] = "0123456789abcdef";
  if (expiration) secret.data["expiration"] = *expiration;
  return secret;
}

TEST(TokenCleanerSyncerTest, DeletesExpiredTokensAndLooksAgainWhenTheOthersExpire) {
  // FakeClock starts at 1'700'000'000 s: 2023-11-14T22:13:20Z.
  struct Case {
    std::string name;
    Secret secret;
    bool deleted;
    std::optional<Clock::Duration> requeue_after;
  };
  const std::vector<Case> cases = {
      {"expired a second ago", Token("2023-11-14T22:13:19Z"), true, std::nullopt},
      {"expired years ago", Token("2020-01-01T00:00:00Z"), true, std::nullopt},
      {"unreadable expiration counts as passed", Token("next tuesday"), true, std::nullopt},
      {"expires this very second", Token("2023-11-14T22:13:20Z"), false, seconds(1)},
      {"expires in 90 s", Token("2023-11-14T22:14:50Z"), false, seconds(91)},
      {"expires next week: looked at daily", Token("2023-11-21T00:00:00Z"), false, hours(24)},
      {"never expires", Token(std::nullopt), false, std::nullopt},
      {"an opaque secret", Token("2020-01-01T00:00:00Z", "Opaque"), false, std::nullopt},
      {"a bootstrap token outside kube-system",
       Token("2020-01-01T00:00:00Z", "bootstrap.kubernetes.io/token", "default"), false,
       std::nullopt},
  };
  for (const auto& c : cases) {
    FakeTokenCleanerClient client;
    FakeClock clock;
    TokenCleanerSyncer syncer(client, clock);
    const KeySyncResult result = syncer.Sync(&c.secret);
    EXPECT_TRUE(result.status.ok()) << c.name;
    EXPECT_EQ(client.deleted,
              c.deleted ? std::vector<std::string>{"kube-system/bootstrap-token-abcdef uid=uid-1"}
                        : std::vector<std::string>{})
        << c.name;
    EXPECT_EQ(result.requeue_after, c.requeue_after) << c.name;
  }
}

TEST(TokenCleanerSyncerTest, AGoneSecretIsNothingToDo) {
  FakeTokenCleanerClient client;
  FakeClock clock;
  TokenCleanerSyncer syncer(client, clock);
  const KeySyncResult result = syncer.Sync(nullptr);
  EXPECT_TRUE(result.status.ok());
  EXPECT_FALSE(result.requeue_after);
  EXPECT_TRUE(client.deleted.empty());
}

TEST(TokenCleanerSyncerTest, DeleteAnswers) {
  struct Case {
    std::string name;
    Error answer;
    bool retried;
  };
  const std::vector<Case> cases = {
      {"already gone", Error(ErrorCode::kNotFound, "secrets \"bootstrap-token-abcdef\" not found"),
       false},
      {"made again under the same name (uid precondition)",
       Error(ErrorCode::kConflict, "Precondition failed: UID in precondition: uid-1"), false},
      {"refused", Error(ErrorCode::kForbidden, "secrets is forbidden"), true},
      {"server trouble", Error(ErrorCode::kInternalError, "etcd is away"), true},
  };
  for (const auto& c : cases) {
    FakeTokenCleanerClient client;
    client.answer = c.answer;
    FakeClock clock;
    TokenCleanerSyncer syncer(client, clock);
    const Secret expired = Token("2020-01-01T00:00:00Z");
    const KeySyncResult result = syncer.Sync(&expired);
    EXPECT_EQ(client.deleted.size(), 1u) << c.name;
    EXPECT_EQ(!result.status.ok(), c.retried) << c.name;
    if (c.retried) {
      EXPECT_NE(result.status.error().message().find(c.answer.message()), std::string::npos)
          << c.name << ": " << result.status.error().message();
    }
  }
}

}  // namespace
}  // namespace kpp::controllers::bootstrap
