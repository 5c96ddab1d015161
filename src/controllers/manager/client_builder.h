// The client each controller of the manager runs with (upstream's ControllerClientBuilder).
// Without --use-service-account-credentials every controller is the manager itself; with it,
// controller "x" is the service account kube-system/x, whose token the manager gets through
// TokenRequest under its own identity and requests again before it expires, so each controller
// has only the rights of its system:controller:x role.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "client/rest/config.h"
#include "client/rest/rest_client.h"
#include "client/rest/transport.h"

namespace kpp::controllers {

// Bearer tokens that change while a client lives (client-go's ResettableTokenSource).
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual Result<std::string> Token() = 0;
  // A request sent at `sent_at` was answered 401: a token obtained before then is dropped, so
  // the next Token() fetches a fresh one (one fetched for that very request is kept).
  virtual void ResetTokenOlderThan(std::chrono::steady_clock::time_point sent_at) = 0;
};

// Sends `source`'s token with every request over `base` (client-go's token source round
// tripper); `clock` times the requests for ResetTokenOlderThan.
std::unique_ptr<client::rest::Transport> NewTokenTransport(
    std::unique_ptr<client::rest::Transport> base, std::shared_ptr<TokenSource> source,
    Clock& clock);

// A controller's client-side rate limit as a multiple of the manager's (upstream gives its
// namespace controller 20x the QPS and 100x the burst).
struct ClientRateScale {
  double qps = 1;
  double burst = 1;
};

class ControllerClientBuilder {
 public:
  virtual ~ControllerClientBuilder() = default;
  // The client controller `name` (its service account's name, e.g. "replicaset-controller")
  // talks to the API server with; its user agent is the manager's + "/" + name.
  virtual Result<std::shared_ptr<client::rest::RestClient>> Client(const std::string& name,
                                                                   ClientRateScale rate) = 0;
  Result<std::shared_ptr<client::rest::RestClient>> Client(const std::string& name) {
    return Client(name, ClientRateScale{});
  }
};

// Every controller as the manager's own user.
class RootClientBuilder : public ControllerClientBuilder {
 public:
  explicit RootClientBuilder(client::rest::RestConfig root) : root_(std::move(root)) {}
  using ControllerClientBuilder::Client;
  Result<std::shared_ptr<client::rest::RestClient>> Client(const std::string& name,
                                                           ClientRateScale rate) override;

 private:
  client::rest::RestConfig root_;
};

struct ServiceAccountClientOptions {
  std::string namespace_ = "kube-system";
  // Upstream's defaults: hour-long tokens, requested again once 80% of the lifetime is gone.
  std::chrono::seconds expiration{3600};
  int leeway_percent = 20;
};

// Upstream's DynamicControllerClientBuilder: the service account is created in the namespace
// when its TokenRequest finds none; its clients carry no client certificate, only the token.
class ServiceAccountClientBuilder : public ControllerClientBuilder {
 public:
  // `root_client` (the manager's own identity) creates the accounts and requests the tokens;
  // `root` is its configuration, which the controllers' clients copy without its credentials.
  ServiceAccountClientBuilder(client::rest::RestConfig root,
                              std::shared_ptr<client::rest::RestClient> root_client,
                              ServiceAccountClientOptions options = {});
  ~ServiceAccountClientBuilder() override;
  using ControllerClientBuilder::Client;
  // Starts getting the account's first token in the background and returns at once.
  Result<std::shared_ptr<client::rest::RestClient>> Client(const std::string& name,
                                                           ClientRateScale rate) override;
  // Waits until the first token of every client made so far was got or refused.
  void WaitForFirstTokens();

 private:
  client::rest::RestConfig root_;
  std::shared_ptr<client::rest::RestClient> root_client_;
  ServiceAccountClientOptions options_;
  struct Prefetch {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex prefetch_mutex_;
  std::vector<Prefetch> prefetches_;
};

// The token source behind ServiceAccountClientBuilder, exposed for tests: TokenRequest tokens of
// one service account, cached until `leeway_percent` of their lifetime is left; while a renewal
// fails the old token is used until it expires.
std::shared_ptr<TokenSource> NewServiceAccountTokenSource(
    std::shared_ptr<client::rest::RestClient> root_client, std::string account_namespace,
    std::string name, ServiceAccountClientOptions options);

}  // namespace kpp::controllers
