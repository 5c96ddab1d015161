// The registry's side of the watch caches: which lists, gets and watches a cache serves, and
// how cached objects become what a client of some version and format sees.
//
// - LIST with resourceVersion "0", a resourceVersion with resourceVersionMatch=NotOlderThan (or
//   none, without a limit), and "" (a consistent read: served once the caches reached the
//   store's current revision, from the store if that takes too long). Exact, continue and the
//   legacy limit+resourceVersion form read the store. A limit gives a page from the cache whose
//   continue token reads the rest from the store at the cache's revision.
// - GET with resourceVersion "0".
// - WATCH always: from a resourceVersion in the cache's ring of events, or from the current state
//   (ADDED events first), with bookmarks and watch-list (sendInitialEvents).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "api/runtime/kinds.h"
#include "api/runtime/object.h"
#include "apiserver/registry/list_reader.h"
#include "apiserver/watchcache/cache_set.h"
#include "base/clock.h"
#include "http/server.h"
#include "storage/store.h"

namespace kpp::apiserver {

// A Table of one object (the first of a watch carries the column definitions).
using TableEncoder = std::function<std::string(api::Object& object, bool with_columns)>;

struct CachedResourcesOptions {
  watchcache::CacheSetOptions caches;
  // How long a consistent read waits for the caches to reach the store's revision before it
  // reads the store instead, and a read or watch from a newer resourceVersion waits for it.
  std::chrono::milliseconds freshness_wait{3000};
};

class CachedResources {
 public:
  // `store` and `clock` must outlive this.
  CachedResources(storage::Store& store, Clock& clock, CachedResourcesOptions options = {});

  // Loads the cache of every stored kind of `kinds` now rather than on first use, so that
  // watches can resume from any resourceVersion the server handed out.
  void Prewarm(std::span<const api::KindInfo> kinds);

  // A list served from the cache: a page of decoded objects, or a finished response (the JSON
  // list is written from the cached bytes, or an error). Nullopt when the store should serve it.
  std::optional<std::variant<ListPage, http::Response>> List(const api::KindInfo& kind,
                                                             std::string_view prefix,
                                                             const ListRequest& list,
                                                             const http::Request& request);

  // A get with resourceVersion "0" served from the cache: the object (null when there is none).
  // Nullopt when the store should serve it.
  std::optional<api::ObjectPtr> Get(const api::KindInfo& kind, std::string_view key,
                                    const http::Request& request);

  // A watch of the objects under `prefix` (the kind's, or a namespace's).
  http::Response Watch(const api::KindInfo& kind, std::string_view prefix,
                       const http::Request& request, const TableEncoder& table);

  // The object the cache of `kind` holds at `key` (null: none, or no cache), for in-process
  // readers that need no copy of their own.
  watchcache::CachedObjectPtr Cached(const api::KindInfo& kind, std::string_view key);
  // The objects the cache of `kind` holds under `prefix`, in key order (empty: none, or no cache).
  std::vector<watchcache::CachedObjectPtr> CachedList(const api::KindInfo& kind,
                                                      std::string_view prefix);

  watchcache::CacheSet& caches() { return caches_; }

 private:
  Result<std::shared_ptr<watchcache::WatchCache>> CacheOf(const api::KindInfo& kind);

  storage::Store& store_;
  const CachedResourcesOptions options_;
  watchcache::CacheSet caches_;
};

// The watch options' checks (upstream's validateWatchOptions): Invalid (422)
// ListOptions.meta.k8s.io, e.g. "sendInitialEvents requires setting resourceVersionMatch to
// NotOlderThan".
Status ValidateWatchOptions(const ListOptions& options, std::optional<bool> send_initial_events);

}  // namespace kpp::apiserver
