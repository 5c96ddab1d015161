// The token cleaner (upstream's pkg/controller/bootstrap, `--controllers` name "tokencleaner",
// running as kube-system/token-cleaner): deletes bootstrap tokens (kube-system secrets of type
// bootstrap.kubernetes.io/token) once their `expiration` has passed; a token not yet expired is
// looked at again when it expires. Upstream's kube-controller-manager leaves it off unless
// asked for (kubeadm asks); kpp's manager runs it by default, as a kubeadm cluster does.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "api/core/v1/codec.h"
#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"

namespace kpp::controllers::bootstrap {

// The request the cleaner makes.
class TokenCleanerClient {
 public:
  virtual ~TokenCleanerClient() = default;
  // Deletes secret `ns`/`name` on the condition that its uid is still `uid` (a token made again
  // under the same name meanwhile stays: Conflict).
  virtual Status DeleteSecret(const std::string& ns, const std::string& name,
                              const std::string& uid) = 0;
};

class RestTokenCleanerClient final : public TokenCleanerClient {
 public:
  explicit RestTokenCleanerClient(std::shared_ptr<client::rest::RestClient> client)
      : client_(std::move(client)) {}
  Status DeleteSecret(const std::string& ns, const std::string& name,
                      const std::string& uid) override;

 private:
  std::shared_ptr<client::rest::RestClient> client_;
};

// Whether `secret` is a bootstrap token the cleaner looks after.
bool IsBootstrapTokenSecret(const api::core::v1::Secret& secret);

// A far expiration is looked at again daily at the latest (the queue's clock would overflow).
inline constexpr std::chrono::hours kLongestTokenRecheck{24};

// One bootstrap token secret (null once gone): deleted when expired, else due again once it
// expires. A failed delete is retried with back-off (upstream only logs it).
class TokenCleanerSyncer {
 public:
  TokenCleanerSyncer(TokenCleanerClient& client, const Clock& clock)
      : client_(client), clock_(clock) {}
  KeySyncResult Sync(const api::core::v1::Secret* secret);

 private:
  TokenCleanerClient& client_;
  const Clock& clock_;
};

class TokenCleaner {
 public:
  // Follows `factory`'s secret informer; `client` and `clock` must outlive this.
  TokenCleaner(client::informers::SharedInformerFactory& factory, TokenCleanerClient& client,
               const Clock& clock = RealClock());
  ~TokenCleaner();
  TokenCleaner(const TokenCleaner&) = delete;
  TokenCleaner& operator=(const TokenCleaner&) = delete;

  void Run();  // after the factory's caches synced
  void Stop();

 private:
  client::informers::SharedInformer& secrets_;
  TokenCleanerSyncer syncer_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers::bootstrap
