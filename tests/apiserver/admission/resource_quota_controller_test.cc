// The ResourceQuota controller: one sync writes status.hard and the recalculated status.used with
// the quota's resourceVersion, leaves a quota whose status is already right alone and lowers
// usage only when two syncs agree; running, it follows watch events (a pod added in a quota's
// namespace) instead of listing every quota again and again.
#include "controllers/resourcequota/resource_quota_controller.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <mutex>

#include "apiserver/admission/fake_reader.h"
#include "apiserver/admission/fake_watch_server.h"

namespace kpp::controllers {
namespace {

using namespace std::chrono_literals;

struct FakeServer {
  std::vector<http::Request> writes;

  http::Response operator()(const http::Request& request) {
    writes.push_back(request);
    return http::Response{200, {}, "{}"};
  }
};

TEST(ResourceQuotaControllerTest, WritesHardAndUsedOnlyWhenTheyChange) {
  apiserver::admission::FakeReader reader;
  reader.Add("", "pods", R"({"metadata":{"name":"a","namespace":"ns"},
      "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"250m"}}}]}})");
  reader.Add("", "pods", R"({"metadata":{"name":"done","namespace":"ns"},
      "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Succeeded"}})");
  FakeServer server;
  ResourceQuotaController controller([&](const http::Request& r) { return server(r); }, reader,
                                     RealClock());
  EXPECT_TRUE(controller
                  .Sync(boost::json::parse(
                            R"({"metadata":{"name":"synced","namespace":"ns","resourceVersion":"8"},
       "spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"3"},"used":{"pods":"1"}}})")
                            .as_object())
                  .status.ok());
  EXPECT_TRUE(server.writes.empty());
  EXPECT_TRUE(controller
                  .Sync(boost::json::parse(
                            R"({"metadata":{"name":"q","namespace":"ns","resourceVersion":"7"},
       "spec":{"hard":{"pods":"3","requests.cpu":"1"}}})")
                            .as_object())
                  .status.ok());
  ASSERT_EQ(server.writes.size(), 1u);
  EXPECT_EQ(server.writes[0].method, "PUT");
  EXPECT_EQ(server.writes[0].path, "/api/v1/namespaces/ns/resourcequotas/q/status");
  const auto written = boost::json::parse(server.writes[0].body);
  EXPECT_EQ(written.at("metadata").at("resourceVersion"), "7");
  EXPECT_EQ(written.at("kind"), "ResourceQuota");
  EXPECT_EQ(written.at("status"), boost::json::parse(R"({"hard":{"pods":"3","requests.cpu":"1"},
                                   "used":{"pods":"1","requests.cpu":"250m"}})"));
}

TEST(ResourceQuotaControllerTest, LowersUsageOnlyWhenTwoSyncsAgree) {
  apiserver::admission::FakeReader reader;
  FakeServer server;
  const auto quota =
      boost::json::parse(R"({"metadata":{"name":"q","namespace":"ns","resourceVersion":"7"},
      "spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"3"},"used":{"pods":"2"}}})")
          .as_object();
  ResourceQuotaController controller([&](const http::Request& r) { return server(r); }, reader,
                                     RealClock());
  const auto first = controller.Sync(quota);
  EXPECT_TRUE(first.status.ok());
  EXPECT_TRUE(first.requeue_after.has_value()) << "a charged pod may not be stored yet";
  EXPECT_TRUE(server.writes.empty());
  EXPECT_TRUE(controller.Sync(quota).status.ok());
  ASSERT_EQ(server.writes.size(), 1u);
  EXPECT_EQ(boost::json::parse(server.writes[0].body).at("status").at("used"),
            boost::json::parse(R"({"pods":"0"})"));
}

class LockedReader final : public apiserver::admission::Reader {
 public:
  void Add(std::string group, std::string resource, std::string json) {
    std::lock_guard lock(mutex_);
    reader_.Add(std::move(group), std::move(resource), std::move(json));
  }
  Result<std::optional<boost::json::object>> Get(std::string_view group, std::string_view resource,
                                                 std::string_view namespace_,
                                                 std::string_view name) const override {
    std::lock_guard lock(mutex_);
    return reader_.Get(group, resource, namespace_, name);
  }
  Result<std::vector<boost::json::object>> List(std::string_view group, std::string_view resource,
                                                std::string_view namespace_) const override {
    std::lock_guard lock(mutex_);
    return reader_.List(group, resource, namespace_);
  }

 private:
  mutable std::mutex mutex_;
  apiserver::admission::FakeReader reader_;
};

TEST(ResourceQuotaControllerTest, APodAddedInTheNamespaceResyncsItsQuotaWithoutRelisting) {
  LockedReader reader;
  testing::FakeWatchServer server;
  server.SetList("/api/v1/resourcequotas", R"({"metadata":{"name":"q","namespace":"ns",
      "resourceVersion":"5"},"spec":{"hard":{"pods":"2"}},
      "status":{"hard":{"pods":"2"},"used":{"pods":"0"}}})");
  ResourceQuotaController controller([&](const http::Request& r) { return server(r); }, reader,
                                     RealClock());
  controller.Start();
  // The quota names pods, so the controller watches them.
  ASSERT_TRUE(server.WaitFor("GET /api/v1/pods watch"));
  EXPECT_TRUE(server.Writes().empty()) << "the status was right";
  const std::string pod = R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"a","namespace":"ns","resourceVersion":"6"},
      "spec":{"containers":[{"name":"c","image":"nginx"}]}})";
  reader.Add("", "pods", pod);
  server.Send("/api/v1/pods", "ADDED", pod);
  ASSERT_TRUE(server.WaitFor("PUT /api/v1/namespaces/ns/resourcequotas/q/status"));
  controller.Stop();
  // One list at the start, never a pass over every quota on a timer.
  EXPECT_EQ(server.Requests("GET /api/v1/resourcequotas"), 1u);
}

}  // namespace
}  // namespace kpp::controllers
