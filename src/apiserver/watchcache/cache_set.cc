#include "apiserver/watchcache/cache_set.h"

#include "base/log.h"

namespace kpp::apiserver::watchcache {
namespace {

// The store's watch cannot be woken, so Stop waits for this (and bookmarks are checked at it).
constexpr auto kFeedWait = std::chrono::milliseconds(200);

}  // namespace

CacheSet::CacheSet(storage::Store& store, Clock& clock, CacheSetOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      progress_(std::make_shared<std::atomic<int64_t>>(0)) {}

CacheSet::~CacheSet() {
  Stop();
}

void CacheSet::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
  }
  progress_changed_.notify_all();
  if (feeder_.joinable()) feeder_.join();
  std::lock_guard lock(mutex_);
  for (const auto& [prefix, cache] : caches_)
    cache->EndAll();
}

Status CacheSet::Rewatch() {
  auto request = storage::WatchRequest::Prefix(options_.root, revision() + 1);
  request.prev_kv = false;  // the caches know the previous state
  KPP_ASSIGN_OR_RETURN(watcher_, store_.Watch(request));
  return Ok();
}

Result<std::shared_ptr<WatchCache>> CacheSet::Get(const std::string& prefix,
                                                  const ObjectBuilder& build) {
  {
    std::lock_guard lock(mutex_);
    if (auto found = caches_.find(prefix); found != caches_.end()) return found->second;
    if (stopping_) return Error(ErrorCode::kServiceUnavailable, "the server is stopping");
  }
  std::lock_guard feed(feed_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (auto found = caches_.find(prefix); found != caches_.end()) return found->second;
  }
  if (!started_) {
    KPP_ASSIGN_OR_RETURN(const int64_t current, store_.CurrentRevision());
    progress_->store(current, std::memory_order_release);
    KPP_RETURN_IF_ERROR(Rewatch());
  }
  // The feeder is held off: the cache starts at its revision and gets every later event.
  const int64_t at = revision();
  KPP_ASSIGN_OR_RETURN(auto range, store_.Range(storage::RangeRequest::Prefix(prefix, 0, at)));
  auto cache = WatchCache::Create(prefix, build, range.kvs, range.revision, clock_, options_.cache,
                                  progress_);
  {
    std::lock_guard lock(mutex_);
    caches_.emplace(prefix, cache);
    if (!started_) {
      started_ = true;
      feeder_ = std::thread([this] { Run(); });
    }
  }
  KLOG_V(2, "watch cache {}: {} objects at revision {}", prefix, range.kvs.size(), range.revision);
  return cache;
}

WatchCache* CacheSet::Route(std::string_view key) const {
  // <root><group>/<resource>/...
  if (!key.starts_with(options_.root)) return nullptr;
  const size_t group_end = key.find('/', options_.root.size());
  if (group_end == std::string_view::npos) return nullptr;
  const size_t resource_end = key.find('/', group_end + 1);
  if (resource_end == std::string_view::npos) return nullptr;
  auto found = caches_.find(key.substr(0, resource_end + 1));
  return found == caches_.end() ? nullptr : found->second.get();
}

bool CacheSet::WaitForRevision(int64_t wanted, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  progress_changed_.wait_for(lock, timeout, [&] { return revision() >= wanted || stopping_; });
  return !stopping_ && revision() >= wanted;
}

void CacheSet::Run() {
  auto last_bookmark = clock_.Monotonic();
  while (!stopping_) {
    auto events = watcher_->Next(kFeedWait);
    if (stopping_) break;
    if (!events.ok()) {
      Recover(events.error());
      continue;
    }
    if (!events->empty()) {
      std::lock_guard feed(feed_mutex_);
      for (const auto& event : *events) {
        if (WatchCache* cache = Route(event.kv.key)) cache->Apply(event);
      }
      progress_->store(events->back().kv.mod_revision, std::memory_order_release);
      { std::lock_guard lock(mutex_); }
      progress_changed_.notify_all();
    }
    if (clock_.Monotonic() - last_bookmark >= options_.bookmark_interval) {
      last_bookmark = clock_.Monotonic();
      std::lock_guard feed(feed_mutex_);
      for (const auto& [prefix, cache] : caches_)
        cache->SendBookmarks();
    }
  }
}

void CacheSet::Recover(const Error& error) {
  KLOG_V(2, "watch cache: the store watch ended at revision {}: {}", revision(), error.message());
  while (!stopping_) {
    if (TryRecover()) return;
    // The store is failing: try again in a while.
    clock_.SleepFor(std::chrono::milliseconds(500));
  }
}

bool CacheSet::TryRecover() {
  std::lock_guard feed(feed_mutex_);
  auto status = Rewatch();
  if (status.ok()) return true;
  if (status.error().code() != ErrorCode::kGone) return false;
  // The history since our revision is compacted: start over at the current revision.
  auto current = store_.CurrentRevision();
  if (!current.ok()) return false;
  for (const auto& [prefix, cache] : caches_) {
    auto range = store_.Range(storage::RangeRequest::Prefix(prefix, 0, *current));
    if (!range.ok()) return false;
    cache->Reset(range->kvs, range->revision);
  }
  KLOG_WARNING("watch cache: history compacted past revision {}; reloaded at {}", revision(),
               *current);
  progress_->store(*current, std::memory_order_release);
  return Rewatch().ok();
}

}  // namespace kpp::apiserver::watchcache
