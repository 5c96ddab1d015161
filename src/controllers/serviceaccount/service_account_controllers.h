// Three of kube-controller-manager's loops that every namespace and token secret relies on, run
// by the controller manager on its shared informers, each writing as its own identity:
// - "serviceaccount" (service-account-controller): the "default" ServiceAccount in every active
//   namespace, made again when deleted (the ServiceAccount admission plugin waits about a
//   second for a new namespace's account);
// - "root-ca-cert-publisher" (root-ca-cert-publisher): the kube-root-ca.crt ConfigMap (ca.crt:
//   the cluster CA, which pods' projected token volumes mount) in every active namespace, put
//   back when deleted or changed;
// - "serviceaccount-token" (tokens-controller, the manager's own credentials as upstream): fills
//   `kubernetes.io/service-account-token` secrets (data.token signed with the service account
//   key of --service-account-private-key-file, ca.crt, namespace) and deletes those whose
//   service account is gone.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "client/informers/shared_informer.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"

namespace kpp::controllers {

class ServiceAccountsController {
 public:
  ServiceAccountsController(client::informers::SharedInformerFactory& factory,
                            std::shared_ptr<client::rest::RestClient> client);
  ~ServiceAccountsController();
  ServiceAccountsController(const ServiceAccountsController&) = delete;
  ServiceAccountsController& operator=(const ServiceAccountsController&) = delete;

  void Run();  // after the factory's caches synced
  void Stop();

 private:
  Status SyncNamespace(const std::string& name);

  std::shared_ptr<client::rest::RestClient> client_;
  client::informers::SharedInformer& namespaces_;
  client::informers::SharedInformer& accounts_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

class RootCaCertPublisher {
 public:
  // `ca_pem`: the cluster CA certificate(s) published as ca.crt.
  RootCaCertPublisher(client::informers::SharedInformerFactory& factory,
                      std::shared_ptr<client::rest::RestClient> client, std::string ca_pem);
  ~RootCaCertPublisher();
  RootCaCertPublisher(const RootCaCertPublisher&) = delete;
  RootCaCertPublisher& operator=(const RootCaCertPublisher&) = delete;

  void Run();
  void Stop();

 private:
  Status SyncNamespace(const std::string& name);

  std::shared_ptr<client::rest::RestClient> client_;
  std::string ca_pem_;
  client::informers::SharedInformer& namespaces_;
  client::informers::SharedInformer& config_maps_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

class TokensController {
 public:
  // A signed secret-based token for (namespace, account name, account uid, secret name).
  using IssueToken =
      std::function<Result<std::string>(std::string_view ns, std::string_view account,
                                        std::string_view uid, std::string_view secret)>;
  // `ca_pem` goes into ca.crt of token secrets (may be empty).
  TokensController(client::informers::SharedInformerFactory& factory,
                   std::shared_ptr<client::rest::RestClient> client, IssueToken issue,
                   std::string ca_pem);
  ~TokensController();
  TokensController(const TokensController&) = delete;
  TokensController& operator=(const TokensController&) = delete;

  void Run();
  void Stop();

 private:
  // The token secret `key` (namespace/name) as the cache holds it: filled in, or deleted when
  // its service account is gone.
  Status SyncTokenSecret(const std::string& key);
  void EnqueueTokensOf(const std::string& ns, const std::string& account_name);

  std::shared_ptr<client::rest::RestClient> client_;
  IssueToken issue_;
  std::string ca_pem_;
  client::informers::SharedInformer& secrets_;
  client::informers::SharedInformer& accounts_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
