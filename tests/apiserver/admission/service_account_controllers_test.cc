// The service account controller and the root CA publisher against a fake API server: what
// active namespaces lack is created and a changed CA repaired, and a namespace added later is
// served from its watch event, without listing again.
#include "controllers/serviceaccount/service_account_controllers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apiserver/admission/fake_watch_server.h"

namespace kpp::controllers {
namespace {

TEST(ServiceAccountControllersTest, CreatesWhatActiveNamespacesLackAndRepairsTheCa) {
  testing::FakeWatchServer server;
  server.set_write_status(201);
  server.SetList("/api/v1/namespaces", R"({"metadata":{"name":"ready"}},
      {"metadata":{"name":"new"}},{"metadata":{"name":"stale"}},
      {"metadata":{"name":"dying","deletionTimestamp":"2026-01-01T00:00:00Z"}})");
  server.SetList("/api/v1/serviceaccounts",
                 R"({"metadata":{"name":"default","namespace":"ready"}},
      {"metadata":{"name":"default","namespace":"stale"}})");
  server.SetList("/api/v1/configmaps", R"(
      {"metadata":{"name":"kube-root-ca.crt","namespace":"ready"},"data":{"ca.crt":"CA"}},
      {"metadata":{"name":"kube-root-ca.crt","namespace":"stale"},"data":{"ca.crt":"OLD"}})");
  ServiceAccountControllers controllers([&](const http::Request& r) { return server(r); }, "CA");
  controllers.Start();
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/new/serviceaccounts"));
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/new/configmaps"));
  ASSERT_TRUE(server.WaitFor("PATCH /api/v1/namespaces/stale/configmaps/kube-root-ca.crt"));
  controllers.Stop();
  const auto writes = server.Writes();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(
      writes[0],
      R"(PATCH /api/v1/namespaces/stale/configmaps/kube-root-ca.crt {"data":{"ca.crt":"CA"}})");
  EXPECT_TRUE(writes[1].starts_with("POST /api/v1/namespaces/new/configmaps ")) << writes[1];
  EXPECT_NE(writes[1].find(R"("data":{"ca.crt":"CA"})"), std::string::npos);
  EXPECT_EQ(writes[2],
            "POST /api/v1/namespaces/new/serviceaccounts "
            R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
}

TEST(ServiceAccountControllersTest, ANamespaceAddedLaterIsServedFromItsWatchEvent) {
  testing::FakeWatchServer server;
  server.set_write_status(201);
  ServiceAccountControllers controllers([&](const http::Request& r) { return server(r); }, "CA");
  controllers.Start();
  ASSERT_TRUE(server.WaitFor("GET /api/v1/namespaces watch"));
  server.Send("/api/v1/namespaces", "ADDED",
              R"({"apiVersion":"v1","kind":"Namespace",
                  "metadata":{"name":"later","resourceVersion":"6"}})");
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/later/serviceaccounts"));
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/later/configmaps"));
  controllers.Stop();
  EXPECT_EQ(server.Requests("GET /api/v1/namespaces"), 1u) << "no list on a timer";
}

}  // namespace
}  // namespace kpp::controllers
