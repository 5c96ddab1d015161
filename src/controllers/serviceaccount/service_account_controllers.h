// Two of upstream's controller-manager loops that every namespace relies on: the service account
// controller, which creates the "default" ServiceAccount in every namespace, and the root CA
// publisher, which keeps the kube-root-ca.crt ConfigMap (ca.crt: the cluster CA, which pods'
// projected token volumes mount) in every namespace. They run inside the API server and follow
// shared informers over its loopback (namespaces, the default service accounts, the
// kube-root-ca.crt config maps): a namespace is synced when it is added or changed, or when its
// default account or its config map is deleted or its config map changed (the ServiceAccount
// admission plugin waits about a second for a new namespace's default account).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"
#include "http/server.h"

namespace kpp::controllers {

class ServiceAccountControllers {
 public:
  using Call = std::function<http::Response(const http::Request&)>;
  // `ca_pem`: the cluster CA certificate(s) published as ca.crt.
  ServiceAccountControllers(Call call, std::string ca_pem);
  ~ServiceAccountControllers();
  ServiceAccountControllers(const ServiceAccountControllers&) = delete;
  ServiceAccountControllers& operator=(const ServiceAccountControllers&) = delete;

  // Starts the informers and the workers.
  void Start();
  void Stop();

 private:
  http::Response Send(std::string method, std::string path, std::string body = "") const;
  // An active namespace gets its default ServiceAccount and an up-to-date kube-root-ca.crt.
  Status SyncNamespace(const std::string& name);

  Call call_;
  std::string ca_pem_;
  std::unique_ptr<client::informers::SharedInformer> namespaces_;
  std::unique_ptr<client::informers::SharedInformer> accounts_;
  std::unique_ptr<client::informers::SharedInformer> config_maps_;
  client::workqueue::RateLimitingQueue queue_;
  QueueWorkers workers_;
};

}  // namespace kpp::controllers
