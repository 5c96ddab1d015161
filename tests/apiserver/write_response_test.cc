// What a create, update and patch answer: the object as a GET reads it back, byte for byte,
// whether the answer was encoded from the object or made from its stored text.
#include <gtest/gtest.h>

#include <string>

#include "registry_fixture.h"

namespace kpp::apiserver {
namespace {

using WriteResponseTest = RegistryTest;

constexpr std::string_view kPods = "/api/v1/namespaces/default/pods";

TEST_F(WriteResponseTest, WritesAnswerWhatAGetReadsBack) {
  auto created = Send("POST", std::string(kPods), R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"web","labels":{"app":"web"},"annotations":{"a":"b"},
      "finalizers":["example.com/keep"]},
      "spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = std::string(kPods) + "/web";
  EXPECT_EQ(created.body, Send("GET", path).body);

  auto patched = Send("PATCH", path, R"({"metadata":{"labels":{"tier":"front"}}})",
                      "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.body, Send("GET", path).body);

  auto status = Send("PATCH", path + "/status", R"({"status":{"phase":"Running"}})",
                     "application/merge-patch+json");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.body, Send("GET", path).body);

  auto updated = Send("PUT", path, status.body);
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.body, Send("GET", path).body);
}

TEST_F(WriteResponseTest, KindsServedInAnotherVersionThanStoredAnswerInTheirOwn) {
  auto created = Send("POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers",
                      R"({"metadata":{"name":"h"},"spec":{"maxReplicas":3,
      "scaleTargetRef":{"kind":"Deployment","name":"d","apiVersion":"apps/v1"}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body,
            Send("GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h").body);
}

}  // namespace
}  // namespace kpp::apiserver
