// Events through the real kubectl (1.27 and 1.33): one object in the core/v1 and
// events.k8s.io/v1 views, field selectors in each, and --event-ttl expiry.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/kpp_server_fixture.h"

namespace kpp {
namespace {

using testing::KppServer;

const std::vector<std::string> kKubectls = {"1.27", "1.33"};

const char kEventYaml[] = R"(apiVersion: v1
kind: Event
metadata:
  name: web.scheduled
involvedObject:
  kind: Pod
  namespace: default
  name: web
reason: Scheduled
message: Successfully assigned default/web to node-1
source:
  component: default-scheduler
type: Normal
count: 1
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:00Z"
)";

class EventsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& minor : kKubectls) {
      ASSERT_FALSE(testing::KubectlPath(minor).empty()) << "kubectl " << minor << " is missing";
    }
  }

  std::string MustRun(const std::vector<std::string>& args, const std::string& minor) {
    auto result = server_.Kubectl(args, minor);
    EXPECT_EQ(result.exit_code, 0) << minor << ": " << result.err;
    return result.out;
  }

  KppServer server_;
};

TEST_F(EventsE2ETest, OneEventInBothViews) {
  ASSERT_TRUE(server_.Start());
  const std::string manifest = server_.WriteFile("event.yaml", kEventYaml);
  for (const auto& minor : kKubectls) {
    MustRun({"apply", "-f", manifest}, minor);
    EXPECT_EQ(MustRun({"get", "events.v1.events.k8s.io", "web.scheduled", "-o",
                       "jsonpath={.note}|{.regarding.name}|{.deprecatedSource.component}"},
                      minor),
              "Successfully assigned default/web to node-1|web|default-scheduler");
    EXPECT_EQ(MustRun({"get", "events.events.k8s.io", "--field-selector", "regarding.name=web",
                       "-o", "jsonpath={.items[*].metadata.name}"},
                      minor),
              "web.scheduled");
    EXPECT_EQ(MustRun({"get", "events", "--field-selector", "involvedObject.name=web", "-o",
                       "jsonpath={.items[*].metadata.name}"},
                      minor),
              "web.scheduled");
    EXPECT_EQ(MustRun({"get", "events.events.k8s.io", "--field-selector", "regarding.name=db", "-o",
                       "jsonpath={.items[*].metadata.name}"},
                      minor),
              "");
    MustRun({"delete", "events.events.k8s.io", "web.scheduled"}, minor);
    EXPECT_NE(server_.Kubectl({"get", "event", "web.scheduled"}, minor).exit_code, 0);
  }
}

TEST_F(EventsE2ETest, EventsExpireAfterTheEventTtl) {
  ASSERT_TRUE(server_.Start({"--event-ttl", "2s"}));
  const std::string manifest = server_.WriteFile("event.yaml", kEventYaml);
  MustRun({"create", "-f", manifest}, "1.33");
  MustRun({"create", "configmap", "stays"}, "1.33");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (server_.Kubectl({"get", "event", "web.scheduled"}, "1.33").exit_code == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(server_.Kubectl({"get", "event", "web.scheduled"}, "1.33").exit_code, 0)
      << "the event outlived --event-ttl=2s";
  EXPECT_EQ(server_.Kubectl({"get", "configmap", "stays"}, "1.33").exit_code, 0);
}

TEST_F(EventsE2ETest, ABadEventTtlIsRefused) {
  auto result = testing::RunProcess({testing::KppBinary(), "server", "--event-ttl", "soon"},
                                    std::chrono::seconds(10));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "kpp: invalid --event-ttl \"soon\": time: invalid duration \"soon\"\n");
}

}  // namespace
}  // namespace kpp
