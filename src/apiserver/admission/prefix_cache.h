// The objects under one store prefix, kept in memory by a watch, for admission plugins that look
// at a kind on every request (webhook configurations, resource quotas) — the informer cache
// upstream's plugins read. Like an informer it lags the store by the watch's delivery time.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/admission/admission.h"
#include "storage/store.h"

namespace kpp::apiserver::admission {

class PrefixCache {
 public:
  struct Entry {
    std::string key;
    storage::Revision mod_revision = 0;
    std::shared_ptr<const boost::json::object> object;
  };

  // Lists `prefix` and then follows it with a watch on a thread of its own.
  PrefixCache(storage::Store& store, std::string prefix);
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  // The entries whose keys start with prefix + `sub_prefix`, in key order. Before the first list
  // completed it reads the store itself.
  std::vector<Entry> Snapshot(std::string_view sub_prefix = "") const;

 private:
  // Lists the prefix; returns the revision to watch from, 0 on failure.
  storage::Revision Relist();
  void Run();

  storage::Store& store_;
  const std::string prefix_;
  mutable std::mutex mutex_;
  std::condition_variable stopped_;
  std::map<std::string, Entry, std::less<>> entries_;
  bool synced_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// A PrefixCache started on first use, for plugins (which are built before they see a store):
// Get answers null when the plugin reads through something other than a StoreReader.
class LazyPrefixCache {
 public:
  explicit LazyPrefixCache(std::string prefix) : prefix_(std::move(prefix)) {}
  const PrefixCache* Get(const Reader& reader) const;

 private:
  const std::string prefix_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<PrefixCache> cache_;
};

}  // namespace kpp::apiserver::admission
