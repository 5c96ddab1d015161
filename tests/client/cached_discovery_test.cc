// The shared discovery cache: documents fetched once and used until 30 s old or a caller needs a
// newer copy; a kind not found fetches its group version again, at most once a second.
#include "client/discovery/cached_discovery.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "base/clock.h"
#include "client/rest/errors.h"

namespace kpp::client::discovery {
namespace {

using rest::HttpRequest;
using rest::HttpResponse;
using rest::TransportFailure;
using rest::TransportResult;

// Serves the discovery documents in `documents` by path (404 otherwise) and counts the requests
// for each path.
class FakeDiscoveryServer : public rest::Transport {
 public:
  TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                          std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    ++requests[request.target];
    if (auto it = documents.find(request.target); it != documents.end()) {
      return HttpResponse{200, {}, it->second};
    }
    return HttpResponse{
        404,
        {},
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})"};
  }
  TransportResult<HttpResponse> Stream(const HttpRequest&,
                                       const std::function<bool(std::string_view)>&,
                                       rest::StreamCanceller*, std::chrono::milliseconds) override {
    return TransportFailure{"not used", false};
  }

  std::map<std::string, std::string> documents;
  std::map<std::string, int> requests;

 private:
  std::mutex mutex_;
};

constexpr char kAppsV1[] =
    R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[)"
    R"({"name":"deployments","kind":"Deployment","namespaced":true,"verbs":["get","list"]},)"
    R"({"name":"deployments/scale","kind":"Scale","namespaced":true,"verbs":["get","update"]},)"
    R"({"name":"deployments/status","kind":"Deployment","namespaced":true,"verbs":["get"]}]})";

class CachedDiscoveryTest : public ::testing::Test {
 protected:
  CachedDiscoveryTest() {
    rest::RestConfig config;
    config.server = "https://127.0.0.1:6443";
    config.clock = &clock_;
    config.qps = 0;
    config.max_retries = 0;
    auto server = std::make_unique<FakeDiscoveryServer>();
    server_ = server.get();
    server_->documents["/apis/apps/v1"] = kAppsV1;
    discovery_ = std::make_unique<CachedDiscovery>(
        std::make_shared<rest::RestClient>(config, std::move(server)));
  }

  FakeClock clock_;
  FakeDiscoveryServer* server_ = nullptr;
  std::unique_ptr<CachedDiscovery> discovery_;
};

TEST_F(CachedDiscoveryTest, MapsAKindToItsResourceAndSubresourcesFromOneFetch) {
  for (int i = 0; i < 3; ++i) {
    auto mapping = discovery_->ResourceFor("apps/v1", "Deployment");
    ASSERT_TRUE(mapping.ok()) << mapping.error().message();
    EXPECT_EQ(mapping->resource, "deployments");
    EXPECT_TRUE(mapping->namespaced);
    EXPECT_TRUE(mapping->HasSubresource("scale"));
    EXPECT_EQ(mapping->GroupVersionPath(), "/apis/apps/v1");
  }
  EXPECT_EQ(server_->requests["/apis/apps/v1"], 1);
}

TEST_F(CachedDiscoveryTest, FetchesAgainOnceThirtySecondsOld) {
  ASSERT_TRUE(discovery_->ResourceFor("apps/v1", "Deployment").ok());
  clock_.Advance(std::chrono::seconds(29));
  ASSERT_TRUE(discovery_->ResourceFor("apps/v1", "Deployment").ok());
  EXPECT_EQ(server_->requests["/apis/apps/v1"], 1);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(discovery_->ResourceFor("apps/v1", "Deployment").ok());
  EXPECT_EQ(server_->requests["/apis/apps/v1"], 2);
}

TEST_F(CachedDiscoveryTest, AMissFetchesTheGroupVersionAgainAtMostOnceASecond) {
  // A custom resource whose group is not served yet, then is.
  auto missing = discovery_->ResourceFor("example.com/v1", "Gadget");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(IsNotFound(missing.error()));
  EXPECT_EQ(missing.error().message(),
            R"(no matches for kind "Gadget" in version "example.com/v1")");
  EXPECT_EQ(server_->requests["/apis/example.com/v1"], 1);
  EXPECT_FALSE(discovery_->ResourceFor("example.com/v1", "Gadget").ok());
  EXPECT_EQ(server_->requests["/apis/example.com/v1"], 1);

  server_->documents["/apis/example.com/v1"] =
      R"({"resources":[{"name":"gadgets","kind":"Gadget","namespaced":true,"verbs":["get"]}]})";
  clock_.Advance(std::chrono::seconds(1));
  auto found = discovery_->ResourceFor("example.com/v1", "Gadget");
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_EQ(found->resource, "gadgets");
  EXPECT_FALSE(found->HasSubresource("scale"));
  EXPECT_EQ(server_->requests["/apis/example.com/v1"], 2);
}

TEST_F(CachedDiscoveryTest, ACallerCanAskForACopyFetchedAfterAGivenTime) {
  ASSERT_TRUE(discovery_->Resources("apps/v1").ok());
  const auto after_first = clock_.Now() + std::chrono::seconds(1);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(discovery_->Resources("apps/v1", after_first).ok());
  ASSERT_TRUE(discovery_->Resources("apps/v1", after_first).ok());
  EXPECT_EQ(server_->requests["/apis/apps/v1"], 2);
}

TEST_F(CachedDiscoveryTest, ListsGroupsWithThePreferredVersionFirst) {
  server_->documents["/api"] = R"({"kind":"APIVersions","versions":["v1"]})";
  server_->documents["/apis"] =
      R"({"kind":"APIGroupList","groups":[{"name":"autoscaling","versions":[)"
      R"({"groupVersion":"autoscaling/v1","version":"v1"},)"
      R"({"groupVersion":"autoscaling/v2","version":"v2"}],)"
      R"("preferredVersion":{"groupVersion":"autoscaling/v2","version":"v2"}}]})";
  auto groups = discovery_->Groups();
  ASSERT_TRUE(groups.ok()) << groups.error().message();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].name, "");
  EXPECT_EQ((*groups)[0].versions, std::vector<std::string>{"v1"});
  EXPECT_EQ((*groups)[1].name, "autoscaling");
  EXPECT_EQ((*groups)[1].versions, (std::vector<std::string>{"v2", "v1"}));
  ASSERT_TRUE(discovery_->Groups().ok());
  EXPECT_EQ(server_->requests["/apis"], 1);
  discovery_->Invalidate();
  ASSERT_TRUE(discovery_->Groups().ok());
  EXPECT_EQ(server_->requests["/apis"], 2);
}

}  // namespace
}  // namespace kpp::client::discovery
