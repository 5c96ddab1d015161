#include "controllers/serviceaccount/service_account_controllers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kpp::controllers {
namespace {

// Answers the controllers' lists from canned JSON and records every write.
struct FakeServer {
  std::string namespaces, accounts, config_maps;
  std::vector<std::string> writes;

  http::Response operator()(const http::Request& request) {
    if (request.method != "GET") {
      writes.push_back(request.method + " " + request.path + " " + request.body);
      return http::Response{201, {}, "{}"};
    }
    if (request.path == "/api/v1/namespaces") return http::Response{200, {}, namespaces};
    if (request.path == "/api/v1/serviceaccounts") return http::Response{200, {}, accounts};
    if (request.path == "/api/v1/configmaps") return http::Response{200, {}, config_maps};
    return http::Response{404, {}, "{}"};
  }
};

TEST(ServiceAccountControllersTest, CreatesWhatActiveNamespacesLackAndRepairsTheCa) {
  FakeServer server;
  server.namespaces = R"({"items":[{"metadata":{"name":"ready"}},{"metadata":{"name":"new"}},
      {"metadata":{"name":"stale"}},
      {"metadata":{"name":"dying","deletionTimestamp":"2026-01-01T00:00:00Z"}}]})";
  server.accounts = R"({"items":[{"metadata":{"name":"default","namespace":"ready"}},
      {"metadata":{"name":"default","namespace":"stale"}}]})";
  server.config_maps = R"({"items":[
      {"metadata":{"name":"kube-root-ca.crt","namespace":"ready"},"data":{"ca.crt":"CA"}},
      {"metadata":{"name":"kube-root-ca.crt","namespace":"stale"},"data":{"ca.crt":"OLD"}}]})";
  ServiceAccountControllers controllers([&](const http::Request& r) { return server(r); }, "CA");
  controllers.SyncAll();
  ASSERT_EQ(server.writes.size(), 3u);
  EXPECT_EQ(server.writes[0],
            "POST /api/v1/namespaces/new/serviceaccounts "
            R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
  EXPECT_TRUE(server.writes[1].starts_with("POST /api/v1/namespaces/new/configmaps "))
      << server.writes[1];
  EXPECT_NE(server.writes[1].find(R"("data":{"ca.crt":"CA"})"), std::string::npos);
  EXPECT_EQ(
      server.writes[2],
      R"(PATCH /api/v1/namespaces/stale/configmaps/kube-root-ca.crt {"data":{"ca.crt":"CA"}})");
}

}  // namespace
}  // namespace kpp::controllers
