// Two of upstream's controller-manager loops that every namespace relies on: the service account
// controller, which creates the "default" ServiceAccount in every namespace, and the root CA
// publisher, which keeps the kube-root-ca.crt ConfigMap (ca.crt: the cluster CA, which pods'
// projected token volumes mount) in every namespace. Like NamespaceCleaner they talk to the API
// server through requests; they compare the namespaces with what exists every 200 ms (the
// ServiceAccount admission plugin waits about a second for a new namespace's default account).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

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

  // Runs SyncAll at once, then every 200 ms on a thread of its own until Stop.
  void Start();
  void Stop();
  // One pass: every active namespace gets its default ServiceAccount and an up-to-date
  // kube-root-ca.crt ConfigMap.
  void SyncAll();

 private:
  http::Response Send(std::string method, std::string path, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> query = {}) const;

  Call call_;
  std::string ca_pem_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace kpp::controllers
