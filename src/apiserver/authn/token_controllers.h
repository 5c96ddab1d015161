// The controllers of token secrets, run inside the API server because they need its signing
// key: the tokens controller fills `kubernetes.io/service-account-token` secrets (data.token,
// ca.crt, namespace) and deletes those whose service account is gone; the token cleaner deletes
// expired bootstrap tokens. Both follow shared informers over the server's loopback (token
// secrets, service accounts, kube-system's bootstrap token secrets): a token secret is synced
// when it is added or changed and when its service account is deleted; a bootstrap token is
// looked at again when it expires.
#pragma once

#include <memory>
#include <string>

#include "apiserver/authn/object_reader.h"
#include "apiserver/authn/service_account_token.h"
#include "base/clock.h"
#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"

namespace kpp::apiserver {

inline constexpr std::string_view kServiceAccountTokenSecretType =
    "kubernetes.io/service-account-token";

class TokenControllers {
 public:
  // `ca_pem` goes into ca.crt of token secrets. `tokens`, `reader` and `clock` must outlive this.
  TokenControllers(const ServiceAccountTokens& tokens, const ObjectReader& reader,
                   const Clock& clock, std::string ca_pem);
  ~TokenControllers();
  TokenControllers(const TokenControllers&) = delete;
  TokenControllers& operator=(const TokenControllers&) = delete;

  void Start();
  void Stop();

 private:
  // The token secret `key` (namespace/name) as the cache holds it: filled in, or deleted when
  // its service account is gone.
  Status SyncTokenSecret(const std::string& key);
  // The bootstrap token secret `name`: deleted once expired, else seen again when it expires.
  controllers::KeySyncResult CleanBootstrapToken(const std::string& name);
  void EnqueueTokensOf(const std::string& ns, const std::string& account_name);

  const ServiceAccountTokens& tokens_;
  const ObjectReader& reader_;
  const Clock& clock_;
  std::string ca_pem_;
  std::unique_ptr<client::informers::SharedInformer> token_secrets_;
  std::unique_ptr<client::informers::SharedInformer> accounts_;
  std::unique_ptr<client::informers::SharedInformer> bootstrap_secrets_;
  client::workqueue::RateLimitingQueue token_queue_;
  client::workqueue::RateLimitingQueue bootstrap_queue_;
  controllers::QueueWorkers token_workers_;
  controllers::QueueWorkers bootstrap_workers_;
};

}  // namespace kpp::apiserver
