// The token cleaner, run inside the API server: deletes expired bootstrap tokens
// (kube-system's `bootstrap.kubernetes.io/token` secrets), following a shared informer of them
// over the server's loopback; a token is looked at again when it expires. (Upstream runs it in
// kube-controller-manager as "tokencleaner", off by default; the tokens controller that fills
// service account token secrets runs in kpp's controller manager, see
// controllers/serviceaccount.)
#pragma once

#include <memory>
#include <string>

#include "apiserver/authn/object_reader.h"
#include "base/clock.h"
#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/queue_workers.h"

namespace kpp::apiserver {

class BootstrapTokenCleaner {
 public:
  // `reader` and `clock` must outlive this.
  BootstrapTokenCleaner(const ObjectReader& reader, const Clock& clock);
  ~BootstrapTokenCleaner();
  BootstrapTokenCleaner(const BootstrapTokenCleaner&) = delete;
  BootstrapTokenCleaner& operator=(const BootstrapTokenCleaner&) = delete;

  void Start();
  void Stop();

 private:
  // The bootstrap token secret `name`: deleted once expired, else seen again when it expires.
  controllers::KeySyncResult CleanBootstrapToken(const std::string& name);

  const ObjectReader& reader_;
  const Clock& clock_;
  std::unique_ptr<client::informers::SharedInformer> bootstrap_secrets_;
  client::workqueue::RateLimitingQueue bootstrap_queue_;
  controllers::QueueWorkers bootstrap_workers_;
};

}  // namespace kpp::apiserver
