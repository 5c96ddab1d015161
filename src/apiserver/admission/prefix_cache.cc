#include "apiserver/admission/prefix_cache.h"

#include <boost/json/parse.hpp>

namespace kpp::apiserver::admission {
namespace {

std::shared_ptr<const boost::json::object> ParseValue(std::string_view value) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(value, ec);
  if (ec || !parsed.is_object()) return nullptr;
  return std::make_shared<const boost::json::object>(std::move(parsed.as_object()));
}

}  // namespace

PrefixCache::PrefixCache(storage::Store& store, std::string prefix)
    : store_(store), prefix_(std::move(prefix)) {
  thread_ = std::thread([this] { Run(); });
}

PrefixCache::~PrefixCache() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopped_.notify_all();
  thread_.join();
}

std::vector<PrefixCache::Entry> PrefixCache::Snapshot(std::string_view sub_prefix) const {
  const std::string start = prefix_ + std::string(sub_prefix);
  std::vector<Entry> entries;
  {
    std::lock_guard lock(mutex_);
    if (synced_) {
      for (auto it = entries_.lower_bound(start);
           it != entries_.end() && it->first.starts_with(start); ++it) {
        entries.push_back(it->second);
      }
      return entries;
    }
  }
  auto range = store_.Range(storage::RangeRequest::Prefix(start));
  if (!range.ok()) return entries;
  for (const auto& kv : range->kvs) {
    if (auto object = ParseValue(kv.value)) entries.push_back({kv.key, kv.mod_revision, object});
  }
  return entries;
}

storage::Revision PrefixCache::Relist() {
  auto range = store_.Range(storage::RangeRequest::Prefix(prefix_));
  if (!range.ok()) return 0;
  std::map<std::string, Entry, std::less<>> entries;
  for (const auto& kv : range->kvs) {
    if (auto object = ParseValue(kv.value)) {
      entries.emplace(kv.key, Entry{kv.key, kv.mod_revision, object});
    }
  }
  std::lock_guard lock(mutex_);
  entries_ = std::move(entries);
  synced_ = true;
  return range->revision;
}

void PrefixCache::Run() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
    }
    const storage::Revision revision = Relist();
    std::unique_ptr<storage::Watcher> watcher;
    if (revision > 0) {
      auto watch = store_.Watch(storage::WatchRequest::Prefix(prefix_, revision + 1));
      if (watch.ok()) watcher = std::move(*watch);
    }
    if (watcher == nullptr) {
      // The store failed: reads go to it directly until a list works again.
      std::unique_lock lock(mutex_);
      synced_ = false;
      stopped_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      continue;
    }
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      auto events = watcher->Next(std::chrono::milliseconds(200));
      if (!events.ok()) break;  // relist
      std::lock_guard lock(mutex_);
      for (const auto& event : *events) {
        if (event.type == storage::Event::Type::kDelete) {
          entries_.erase(event.kv.key);
        } else if (auto object = ParseValue(event.kv.value)) {
          entries_[event.kv.key] = Entry{event.kv.key, event.kv.mod_revision, object};
        }
      }
    }
  }
}

const PrefixCache* LazyPrefixCache::Get(const Reader& reader) const {
  const auto* store_reader = dynamic_cast<const StoreReader*>(&reader);
  if (store_reader == nullptr) return nullptr;
  std::lock_guard lock(mutex_);
  if (cache_ == nullptr) cache_ = std::make_unique<PrefixCache>(store_reader->store(), prefix_);
  return cache_.get();
}

}  // namespace kpp::apiserver::admission
