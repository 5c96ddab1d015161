// The watch caches of every resource, fed by ONE store watch on the root of the API server's
// keys ("/registry/"). Each event goes to the cache of its resource's prefix; the feeder's
// revision (the last event it applied) is every cache's revision. Because every write of the
// API server is under the root, the feeder reaching the store's current revision means every
// cache holds the state at that revision: that is how a consistent read (resourceVersion "")
// is served from a cache without etcd's progress notifications.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "apiserver/watchcache/watch_cache.h"
#include "base/clock.h"
#include "base/result.h"
#include "storage/store.h"

namespace kpp::apiserver::watchcache {

struct CacheSetOptions {
  // Every cached prefix is under it.
  std::string root = "/registry/";
  WatchCacheOptions cache;
  // How often watchers that allow bookmarks get one.
  std::chrono::seconds bookmark_interval{60};
};

class CacheSet {
 public:
  // `store` and `clock` must outlive the set. Nothing runs until the first cache is asked for.
  CacheSet(storage::Store& store, Clock& clock, CacheSetOptions options = {});
  ~CacheSet();
  CacheSet(const CacheSet&) = delete;
  CacheSet& operator=(const CacheSet&) = delete;

  // The cache of the keys under `prefix` (a resource's, e.g. "/registry/core/pods/"), loaded
  // from the store on first use (`build` makes its objects). The first call starts the feeder.
  Result<std::shared_ptr<WatchCache>> Get(const std::string& prefix, const ObjectBuilder& build);

  // Waits until the caches hold every event up to revision `wanted`; false when `timeout`
  // passed first or the set stopped.
  bool WaitForRevision(int64_t wanted, std::chrono::milliseconds timeout);
  int64_t revision() const { return progress_->load(std::memory_order_acquire); }

  // Stops the feeder and ends every watch. Idempotent.
  void Stop();

 private:
  void Run();
  // After the store watch failed: watch again from the next revision, or, when that history is
  // gone, reload every cache at the current revision (ending their watches).
  void Recover(const Error& error);
  bool TryRecover();
  Status Rewatch();
  WatchCache* Route(std::string_view key) const;

  storage::Store& store_;
  Clock& clock_;
  const CacheSetOptions options_;
  const std::shared_ptr<std::atomic<int64_t>> progress_;

  // Held by the feeder while it applies events, and by Get while it loads a cache, so that a
  // cache loaded at the feeder's revision misses no event and sees none twice.
  std::mutex feed_mutex_;
  std::unique_ptr<storage::Watcher> watcher_;  // under feed_mutex_ until the feeder runs
  std::map<std::string, std::shared_ptr<WatchCache>, std::less<>> caches_;  // + mutex_ to change

  mutable std::mutex mutex_;
  std::condition_variable progress_changed_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::thread feeder_;
};

}  // namespace kpp::apiserver::watchcache
