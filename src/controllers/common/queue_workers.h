// The worker loop of every queue-driven controller (upstream's processNextWorkItem): workers
// take a key from a rate-limiting queue and sync it; a sync that succeeds forgets the key's
// back-off, one that fails puts the key back rate-limited, and a sync may ask to see the key
// again after a while (a pod becoming available, a deadline). Done lets a worker take the key
// again.
#pragma once

#include <atomic>
#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "client/informers/shared_informer.h"
#include "client/workqueue/queue.h"
#include "controllers/common/controller_utils.h"

namespace kpp::controllers {

struct KeySyncResult {
  Status status = Ok();
  std::optional<Clock::Duration> requeue_after;

  KeySyncResult() = default;
  KeySyncResult(Status sync_status) : status(std::move(sync_status)) {}  // NOLINT: implicit
  // Any controller's own sync result with the same two fields.
  template <typename SyncResult>
  requires requires(const SyncResult& result) {
    { result.status } -> std::convertible_to<Status>;
    result.requeue_after.has_value();
  }
  KeySyncResult(const SyncResult& result)  // NOLINT: implicit
      : status(result.status) {
    if (result.requeue_after) requeue_after = *result.requeue_after;
  }
};

struct QueueWorkersOptions {
  // Names the work in the log line of a failed sync, e.g. "syncing deployment".
  std::string what;
  // Failed syncs after which a key is dropped until it is added again (upstream's deployment
  // controller: 15); negative: never dropped.
  int max_retries = -1;
  // Whether a failed sync's requeue_after is honoured too (the batch controllers); otherwise
  // only a successful sync's is.
  bool requeue_after_failure = false;
};

class QueueWorkers {
 public:
  using Sync = std::function<KeySyncResult(const std::string& key)>;

  // `queue` must outlive this.
  QueueWorkers(client::workqueue::RateLimitingQueue& queue, Sync sync, QueueWorkersOptions options);
  ~QueueWorkers();
  QueueWorkers(const QueueWorkers&) = delete;
  QueueWorkers& operator=(const QueueWorkers&) = delete;

  // Starts `count` workers; a second call does nothing.
  void Start(int count);
  // Shuts the queue down and waits for the workers (a sync under way finishes). Idempotent.
  void Stop();

 private:
  void Work();

  client::workqueue::RateLimitingQueue& queue_;
  Sync sync_;
  QueueWorkersOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<bool> started_ = false;
  std::atomic<bool> stopped_ = false;
};

// The sync of a controller whose keys name objects of `informer` ("ns/name", or "name" for
// cluster-scoped kinds): `sync(key, object)` with the cached object, null once it is gone.
template <typename T, typename SyncObject>
QueueWorkers::Sync SyncCached(const client::informers::SharedInformer& informer, SyncObject sync) {
  return [&informer, sync = std::move(sync)](const std::string& key) -> KeySyncResult {
    const auto [ns, name] = SplitKey(key);
    const client::informers::Lister<T> lister(informer);
    auto object = ns.empty() ? lister.Get(name) : lister.Get(ns, name);
    return sync(key, object.get());
  };
}

}  // namespace kpp::controllers
