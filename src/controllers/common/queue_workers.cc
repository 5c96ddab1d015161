#include "controllers/common/queue_workers.h"

#include "base/log.h"

namespace kpp::controllers {

QueueWorkers::QueueWorkers(client::workqueue::RateLimitingQueue& queue, Sync sync,
                           QueueWorkersOptions options)
    : queue_(queue), sync_(std::move(sync)), options_(std::move(options)) {}

QueueWorkers::~QueueWorkers() {
  Stop();
}

void QueueWorkers::Start(int count) {
  if (started_.exchange(true)) return;
  for (int i = 0; i < count; ++i)
    threads_.emplace_back([this] { Work(); });
}

void QueueWorkers::Stop() {
  if (stopped_.exchange(true)) return;
  queue_.ShutDown();
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
}

void QueueWorkers::Work() {
  while (auto key = queue_.Get()) {
    const KeySyncResult result = sync_(*key);
    if (result.status.ok()) {
      queue_.Forget(*key);
    } else {
      KLOG_V(2, "{} {}: {}", options_.what, *key, result.status.error().message());
      if (options_.max_retries < 0 || queue_.NumRequeues(*key) < options_.max_retries) {
        queue_.AddRateLimited(*key);
      } else {
        queue_.Forget(*key);
      }
    }
    if (result.requeue_after && (result.status.ok() || options_.requeue_after_failure)) {
      queue_.AddAfter(*key, *result.requeue_after);
    }
    queue_.Done(*key);
  }
}

}  // namespace kpp::controllers
