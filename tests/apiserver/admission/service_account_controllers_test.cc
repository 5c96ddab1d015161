// The service account controller and the root CA publisher against a fake API server, on a
// shared informer factory as the controller manager runs them: what active namespaces lack is
// created and a changed CA repaired, and a namespace added later is served from its watch
// event, without listing again.
#include "controllers/serviceaccount/service_account_controllers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "apiserver/admission/fake_watch_server.h"
#include "client/rest/loopback_transport.h"

namespace kpp::controllers {
namespace {

struct Controllers {
  explicit Controllers(testing::FakeWatchServer& server)
      : client(client::rest::NewLoopbackClient(
            [&server](const http::Request& r) { return server(r); }, "test")),
        factory(client),
        accounts(factory, client),
        publisher(factory, client, "CA") {
    factory.Start();
    EXPECT_TRUE(factory.WaitForCacheSync(std::chrono::seconds(10)));
    accounts.Run();
    publisher.Run();
  }
  ~Controllers() {
    accounts.Stop();
    publisher.Stop();
    factory.Shutdown();
  }

  std::shared_ptr<client::rest::RestClient> client;
  client::informers::SharedInformerFactory factory;
  ServiceAccountsController accounts;
  RootCaCertPublisher publisher;
};

TEST(ServiceAccountControllersTest, CreatesWhatActiveNamespacesLackAndRepairsTheCa) {
  testing::FakeWatchServer server;
  server.set_write_status(201);
  server.SetList("/api/v1/namespaces", R"({"metadata":{"name":"ready"}},
      {"metadata":{"name":"new"}},{"metadata":{"name":"stale"}},
      {"metadata":{"name":"dying","deletionTimestamp":"2026-01-01T00:00:00Z"}})");
  server.SetList("/api/v1/serviceaccounts",
                 R"({"metadata":{"name":"default","namespace":"ready"}},
      {"metadata":{"name":"default","namespace":"stale"}},
      {"metadata":{"name":"builder","namespace":"new"}})");
  server.SetList("/api/v1/configmaps", R"(
      {"metadata":{"name":"kube-root-ca.crt","namespace":"ready"},"data":{"ca.crt":"CA"}},
      {"metadata":{"name":"kube-root-ca.crt","namespace":"stale","resourceVersion":"7"},
       "data":{"ca.crt":"OLD"}})");
  {
    Controllers controllers(server);
    ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/new/serviceaccounts"));
    ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/new/configmaps"));
    ASSERT_TRUE(server.WaitFor("PUT /api/v1/namespaces/stale/configmaps/kube-root-ca.crt"));
  }
  auto writes = server.Writes();
  std::sort(writes.begin(), writes.end());
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_TRUE(writes[0].starts_with("POST /api/v1/namespaces/new/configmaps ")) << writes[0];
  EXPECT_NE(writes[0].find(R"("data":{"ca.crt":"CA"})"), std::string::npos);
  EXPECT_EQ(writes[1],
            "POST /api/v1/namespaces/new/serviceaccounts "
            R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
  // An update of the map read, with its resourceVersion (the role grants update, not patch).
  EXPECT_TRUE(writes[2].starts_with("PUT /api/v1/namespaces/stale/configmaps/kube-root-ca.crt "))
      << writes[2];
  EXPECT_NE(writes[2].find(R"("resourceVersion":"7")"), std::string::npos) << writes[2];
  EXPECT_NE(writes[2].find(R"("data":{"ca.crt":"CA"})"), std::string::npos) << writes[2];
}

TEST(ServiceAccountControllersTest, ANamespaceAddedLaterIsServedFromItsWatchEvent) {
  testing::FakeWatchServer server;
  server.set_write_status(201);
  Controllers controllers(server);
  ASSERT_TRUE(server.WaitFor("GET /api/v1/namespaces watch"));
  server.Send("/api/v1/namespaces", "ADDED",
              R"({"apiVersion":"v1","kind":"Namespace",
                  "metadata":{"name":"later","resourceVersion":"6"}})");
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/later/serviceaccounts"));
  ASSERT_TRUE(server.WaitFor("POST /api/v1/namespaces/later/configmaps"));
  EXPECT_EQ(server.Requests("GET /api/v1/namespaces"), 1u) << "no list on a timer";
}

}  // namespace
}  // namespace kpp::controllers
