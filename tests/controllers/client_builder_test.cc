// The controller manager's per-controller clients: service accounts made when missing, tokens
// from TokenRequest cached until 20% of their life is left, fetched again after a 401, and the
// old token kept while a renewal fails.
#include "controllers/manager/client_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>

#include "api/runtime/scalars.h"
#include "base/clock.h"
#include "controllers/manager/controller_context.h"

namespace kpp::controllers {
namespace {

using client::rest::HttpRequest;
using client::rest::HttpResponse;
using client::rest::RestClient;
using client::rest::RestConfig;
using client::rest::TransportFailure;
using client::rest::TransportResult;

// A fake API server for one service account: answers GET/POST serviceaccounts and TokenRequests
// with "token-<n>" valid for the seconds asked, and records every request.
class FakeServer : public client::rest::Transport {
 public:
  explicit FakeServer(Clock& clock) : clock_(clock) {}

  TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                          std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    requests.push_back(request.method + " " + request.target);
    const std::string accounts = "/api/v1/namespaces/kube-system/serviceaccounts";
    if (request.method == "GET" && request.target == accounts + "/job-controller") {
      if (!account_exists) return Status(404, "NotFound");
      return HttpResponse{200, {}, R"({"kind":"ServiceAccount"})"};
    }
    if (request.method == "POST" && request.target == accounts) {
      auto body = boost::json::parse(request.body);
      EXPECT_EQ(body.at("metadata").at("name"), "job-controller");
      account_exists = true;
      return HttpResponse{201, {}, request.body};
    }
    if (request.method == "POST" && request.target == accounts + "/job-controller/token") {
      if (!account_exists) return Status(404, "NotFound");
      if (token_requests_fail) return Status(500, "InternalError");
      auto body = boost::json::parse(request.body);
      const int64_t seconds = body.at("spec").at("expirationSeconds").as_int64();
      const int64_t now =
          std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
      boost::json::object status;
      status["token"] = "token-" + std::to_string(++tokens_issued);
      status["expirationTimestamp"] = api::Time::FromUnixSeconds(now + seconds).ToString();
      boost::json::object response;
      response["kind"] = "TokenRequest";
      response["status"] = std::move(status);
      return HttpResponse{201, {}, boost::json::serialize(response)};
    }
    if (request.target == "/api/v1/pods") {
      for (const auto& [name, value] : request.headers) {
        if (name == "Authorization") authorizations.push_back(value);
      }
      if (reject_next_request) {
        reject_next_request = false;
        return Status(401, "Unauthorized");
      }
      return HttpResponse{200, {}, R"({"kind":"PodList","items":[]})"};
    }
    return Status(404, "NotFound");
  }
  TransportResult<HttpResponse> Stream(const HttpRequest&,
                                       const std::function<bool(std::string_view)>&,
                                       client::rest::StreamCanceller*,
                                       std::chrono::milliseconds) override {
    return TransportFailure{"not used", false};
  }

  std::vector<std::string> requests;
  std::vector<std::string> authorizations;
  bool account_exists = false;
  bool token_requests_fail = false;
  bool reject_next_request = false;
  int tokens_issued = 0;

 private:
  static HttpResponse Status(int code, const std::string& reason) {
    return HttpResponse{code,
                        {},
                        R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" +
                            reason + R"(","code":)" + std::to_string(code) + "}"};
  }
  Clock& clock_;
  std::mutex mutex_;
};

class ClientBuilderTest : public ::testing::Test {
 protected:
  ClientBuilderTest() {
    config_.server = "https://127.0.0.1:6443";
    config_.clock = &clock_;
    config_.qps = 0;
    config_.max_retries = 0;
    auto server = std::make_unique<FakeServer>(clock_);
    server_ = server.get();
    root_ = std::make_shared<RestClient>(config_, std::move(server));
  }
  // A client sending `source`'s tokens to the same fake server.
  std::shared_ptr<RestClient> ClientWith(std::shared_ptr<TokenSource> source) {
    struct Forward : client::rest::Transport {
      explicit Forward(FakeServer& target) : server(target) {}
      TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                              std::chrono::milliseconds timeout) override {
        return server.RoundTrip(request, timeout);
      }
      TransportResult<HttpResponse> Stream(const HttpRequest& request,
                                           const std::function<bool(std::string_view)>& on_body,
                                           client::rest::StreamCanceller* canceller,
                                           std::chrono::milliseconds timeout) override {
        return server.Stream(request, on_body, canceller, timeout);
      }
      FakeServer& server;
    };
    return std::make_shared<RestClient>(
        config_, NewTokenTransport(std::make_unique<Forward>(*server_), std::move(source), clock_));
  }
  std::string ListPods(RestClient& client) {
    (void)client.Do({.path = "/api/v1/pods"});
    return server_->authorizations.empty() ? "" : server_->authorizations.back();
  }

  FakeClock clock_;
  RestConfig config_;
  FakeServer* server_ = nullptr;
  std::shared_ptr<RestClient> root_;
};

TEST_F(ClientBuilderTest, CreatesTheAccountAndCachesItsTokenUntilTheLeeway) {
  auto source = NewServiceAccountTokenSource(root_, "kube-system", "job-controller", {});
  auto client = ClientWith(source);
  EXPECT_EQ(ListPods(*client), "Bearer token-1");
  EXPECT_EQ(server_->requests,
            (std::vector<std::string>{
                "POST /api/v1/namespaces/kube-system/serviceaccounts/job-controller/token",
                "POST /api/v1/namespaces/kube-system/serviceaccounts",
                "POST /api/v1/namespaces/kube-system/serviceaccounts/job-controller/token",
                "GET /api/v1/pods"}));
  // 2,879 s of 3,600: still more than 20% left.
  clock_.Advance(std::chrono::seconds(2879));
  EXPECT_EQ(ListPods(*client), "Bearer token-1");
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(ListPods(*client), "Bearer token-2");
  EXPECT_EQ(server_->tokens_issued, 2);
}

TEST_F(ClientBuilderTest, A401DropsTheTokenForTheNextRequest) {
  auto source = NewServiceAccountTokenSource(root_, "kube-system", "job-controller", {});
  auto client = ClientWith(source);
  EXPECT_EQ(ListPods(*client), "Bearer token-1");
  // A token fetched for the very request answered 401 is kept, as client-go does; an older one
  // is dropped.
  clock_.Advance(std::chrono::seconds(1));
  server_->reject_next_request = true;
  EXPECT_FALSE(client->Do({.path = "/api/v1/pods"}).ok());
  EXPECT_EQ(ListPods(*client), "Bearer token-2");
  EXPECT_EQ(ListPods(*client), "Bearer token-2");
}

TEST_F(ClientBuilderTest, KeepsTheOldTokenWhileRenewalFailsUntilItExpires) {
  auto source = NewServiceAccountTokenSource(root_, "kube-system", "job-controller", {});
  auto client = ClientWith(source);
  EXPECT_EQ(ListPods(*client), "Bearer token-1");
  server_->token_requests_fail = true;
  clock_.Advance(std::chrono::seconds(3000));
  EXPECT_EQ(ListPods(*client), "Bearer token-1");
  clock_.Advance(std::chrono::seconds(700));
  EXPECT_FALSE(source->Token().ok());
}

TEST_F(ClientBuilderTest, ServiceAccountClientsCarryNoCertificate) {
  RestConfig root = config_;
  root.tls.client_certificate_pem = "cert";
  root.tls.client_key_pem = "key";
  root.user_agent = "kube-controller-manager";
  ServiceAccountClientBuilder builder(root, root_);
  auto client = builder.Client("job-controller");
  ASSERT_TRUE(client.ok()) << client.error().message();
  EXPECT_TRUE((*client)->config().tls.client_certificate_pem.empty());
  EXPECT_TRUE((*client)->config().tls.client_key_pem.empty());
  EXPECT_EQ((*client)->config().user_agent, "kube-controller-manager/job-controller");
  // The account and a first token were asked for at once (in the background).
  builder.WaitForFirstTokens();
  EXPECT_EQ(server_->tokens_issued, 1);
  EXPECT_TRUE(server_->account_exists);
}

TEST_F(ClientBuilderTest, AnExistingAccountCostsOneRequestPerToken) {
  server_->account_exists = true;
  auto source = NewServiceAccountTokenSource(root_, "kube-system", "job-controller", {});
  ASSERT_TRUE(source->Token().ok());
  EXPECT_EQ(server_->requests,
            (std::vector<std::string>{
                "POST /api/v1/namespaces/kube-system/serviceaccounts/job-controller/token"}));
}

// Answers the TokenRequests of any account, each only once another is under way too (or after
// 10 s): the highest number under way at once tells whether the builder asks concurrently.
class TokenBarrierServer : public client::rest::Transport {
 public:
  TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                          std::chrono::milliseconds) override {
    if (request.method != "POST" || !request.target.ends_with("/token")) {
      return HttpResponse{404, {}, R"({"kind":"Status","reason":"NotFound","code":404})"};
    }
    std::unique_lock lock(mutex_);
    ++under_way_;
    most_under_way = std::max(most_under_way, under_way_);
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return most_under_way >= 2; });
    --under_way_;
    return HttpResponse{201, {}, R"({"kind":"TokenRequest","status":{"token":"t"}})"};
  }
  TransportResult<HttpResponse> Stream(const HttpRequest&,
                                       const std::function<bool(std::string_view)>&,
                                       client::rest::StreamCanceller*,
                                       std::chrono::milliseconds) override {
    return TransportFailure{"not used", false};
  }

  int most_under_way = 0;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int under_way_ = 0;
};

TEST_F(ClientBuilderTest, AsksForTheAccountsTokensConcurrently) {
  auto server = std::make_unique<TokenBarrierServer>();
  auto* barrier = server.get();
  ServiceAccountClientBuilder builder(config_,
                                      std::make_shared<RestClient>(config_, std::move(server)));
  ASSERT_TRUE(builder.Client("job-controller").ok());
  ASSERT_TRUE(builder.Client("deployment-controller").ok());
  builder.WaitForFirstTokens();
  EXPECT_EQ(barrier->most_under_way, 2);
}

TEST(ControllerIdentityTest, UpstreamNames) {
  EXPECT_EQ(IdentityOf("replicaset").service_account, "replicaset-controller");
  EXPECT_EQ(IdentityOf("daemonset").service_account, "daemon-set-controller");
  EXPECT_EQ(IdentityOf("garbagecollector").service_account, "generic-garbage-collector");
  EXPECT_EQ(IdentityOf("nodelifecycle").service_account, "node-controller");
  EXPECT_EQ(IdentityOf("podgc").service_account, "pod-garbage-collector");
  EXPECT_EQ(IdentityOf("csrsigning").service_account, "certificate-controller");
  EXPECT_EQ(IdentityOf("horizontalpodautoscaling").service_account, "horizontal-pod-autoscaler");
  EXPECT_EQ(IdentityOf("somethingnew").service_account, "somethingnew-controller");
}

}  // namespace
}  // namespace kpp::controllers
