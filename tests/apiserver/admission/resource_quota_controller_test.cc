// The ResourceQuota controller against a fake API server and an in-memory reader: it writes
// status.hard and the recalculated status.used with the quota's resourceVersion, and leaves a
// quota whose status is already right alone.
#include "controllers/resourcequota/resource_quota_controller.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apiserver/admission/fake_reader.h"

namespace kpp::controllers {
namespace {

struct FakeServer {
  std::string quotas;
  std::vector<http::Request> writes;

  http::Response operator()(const http::Request& request) {
    if (request.method == "GET" && request.path == "/api/v1/resourcequotas") {
      return http::Response{200, {}, quotas};
    }
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
  server.quotas = R"({"items":[
      {"metadata":{"name":"q","namespace":"ns","resourceVersion":"7"},
       "spec":{"hard":{"pods":"3","requests.cpu":"1"}}},
      {"metadata":{"name":"synced","namespace":"ns","resourceVersion":"8"},
       "spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"3"},"used":{"pods":"1"}}}]})";
  ResourceQuotaController controller([&](const http::Request& r) { return server(r); }, reader,
                                     RealClock());
  EXPECT_EQ(controller.SyncAll(), 1);
  ASSERT_EQ(server.writes.size(), 1u);
  EXPECT_EQ(server.writes[0].method, "PUT");
  EXPECT_EQ(server.writes[0].path, "/api/v1/namespaces/ns/resourcequotas/q/status");
  const auto written = boost::json::parse(server.writes[0].body);
  EXPECT_EQ(written.at("metadata").at("resourceVersion"), "7");
  EXPECT_EQ(written.at("kind"), "ResourceQuota");
  EXPECT_EQ(written.at("status"), boost::json::parse(R"({"hard":{"pods":"3","requests.cpu":"1"},
                                   "used":{"pods":"1","requests.cpu":"250m"}})"));
}

TEST(ResourceQuotaControllerTest, LowersUsageOnlyWhenTwoPassesAgree) {
  apiserver::admission::FakeReader reader;
  FakeServer server;
  server.quotas = R"({"items":[{"metadata":{"name":"q","namespace":"ns","resourceVersion":"7"},
      "spec":{"hard":{"pods":"3"}},"status":{"hard":{"pods":"3"},"used":{"pods":"2"}}}]})";
  ResourceQuotaController controller([&](const http::Request& r) { return server(r); }, reader,
                                     RealClock());
  EXPECT_EQ(controller.SyncAll(), 0) << "a charged pod may not be stored yet";
  EXPECT_EQ(controller.SyncAll(), 1);
  ASSERT_EQ(server.writes.size(), 1u);
  EXPECT_EQ(boost::json::parse(server.writes[0].body).at("status").at("used"),
            boost::json::parse(R"({"pods":"0"})"));
}

}  // namespace
}  // namespace kpp::controllers
