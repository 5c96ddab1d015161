// The watch cache of one stored kind: its current objects and a ring of its recent events, in
// memory, so that lists and watches are served without reading the store and each event is
// serialized once however many clients watch it. Fed by the store watch of `CacheSet`
// (cache_set.h), or by tests directly.
//
// Thread safety: every method may be called from any thread. Apply/Advance/SendBookmarks come
// from one feeder; they never block on a watcher (a watcher whose buffer is full is cut off).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apimachinery/labels/selector.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/server.h"
#include "storage/store.h"

namespace kpp::apiserver::watchcache {

// One object as the cache keeps it: the JSON of a list item (the stored version, without
// apiVersion and kind, with metadata.resourceVersion), plus what selectors look at, so that
// neither a list nor a watch has to decode it to filter. Immutable once built.
struct CachedObject {
  std::string key;
  std::string json;
  int64_t create_revision = 0;
  // The resourceVersion in `json`: the object's mod revision, or the revision that deleted it.
  int64_t revision = 0;
  labels::Set labels;
  // The values of the kind's field labels (field_labels.h), in the order of its table, each
  // followed by a NUL: compact, as most objects are selected by few of them.
  std::string fields;

  // The value of field label number `index` ("" when there is none).
  std::string_view Field(size_t index) const;

  // Bytes held, to check the memory target (at most twice the JSON).
  size_t ApproximateBytes() const;
};
using CachedObjectPtr = std::shared_ptr<const CachedObject>;

// Makes a CachedObject of a stored value, with `revision` as its resourceVersion.
using ObjectBuilder = std::function<Result<CachedObjectPtr>(
    std::string_view key, std::string_view value, int64_t create_revision, int64_t revision)>;

// A copy of what selectors read of `object`: all but its JSON.
CachedObjectPtr SelectableCopy(const CachedObject& object);

// Whether a watcher or list selects an object (from its key, labels and fields: the previous
// state of an event carries no JSON).
using Predicate = std::function<bool(const CachedObject&)>;

enum class EventType { kAdded, kModified, kDeleted };
std::string_view EventTypeName(EventType type);

// How one watcher's client sees objects.
struct Encoding {
  // Watchers with the same non-null id get the same bytes for an event: whichever needs them
  // first serializes the event, the others reuse its bytes. Null: encoded for this watcher
  // alone (Tables, whose first event differs).
  const void* shared_id = nullptr;
  // The object as the client sees it (apiVersion, kind, resourceVersion set).
  std::function<Result<std::string>(const CachedObject&)> object;
  // The object of a BOOKMARK event at `revision`; `initial_events_end` adds the annotation
  // k8s.io/initial-events-end: "true".
  std::function<std::string(int64_t revision, bool initial_events_end)> bookmark;
};

// One change of the kind, shared by the ring and every watcher it is queued for.
class Event {
 public:
  Event(bool deleted, CachedObjectPtr object, CachedObjectPtr previous,
        std::chrono::steady_clock::time_point time);

  bool deleted() const { return deleted_; }
  // The new state; for a deletion, the last state with the deletion's resourceVersion.
  const CachedObjectPtr& object() const { return object_; }
  // What selectors see of the state before (key, labels, field labels and revisions; no JSON,
  // so that an event in the ring does not keep a whole older version alive); null when the key
  // was created.
  const CachedObjectPtr& previous() const { return previous_; }
  int64_t revision() const { return object_->revision; }
  std::chrono::steady_clock::time_point time() const { return time_; }

  // What a watcher selecting with `matches` sees of this event, if anything: a change inside
  // the selection is MODIFIED, an object entering it ADDED, one leaving it (or deleted) DELETED.
  std::optional<EventType> TypeFor(const Predicate& matches) const;

  // The WatchEvent line ("{"type":...,"object":...}\n") of this event as `type`, serialized once
  // per (encoding, type) when the encoding is shared, and kept only while watchers it was queued
  // for have yet to send it. Empty when the object does not encode.
  std::shared_ptr<const std::string> Line(const Encoding& encoding, EventType type) const;

  // Watchers that still have to send this event (plus the feeder while it dispatches). When the
  // last one is done the shared lines are dropped: an event in the ring then holds its object
  // alone, and a watch resuming from the ring encodes it afresh.
  void AddPending() const { pending_.fetch_add(1, std::memory_order_relaxed); }
  void ReleasePending() const;

 private:
  struct Encoded {
    const void* id;
    EventType type;
    std::shared_ptr<const std::string> line;
  };
  const bool deleted_;
  const CachedObjectPtr object_;
  const CachedObjectPtr previous_;
  const std::chrono::steady_clock::time_point time_;
  mutable std::atomic<int> pending_{0};
  mutable std::mutex mutex_;
  mutable std::vector<Encoded> encoded_;
};
using EventPtr = std::shared_ptr<const Event>;

// A WatchEvent line for `object` (already JSON).
std::string WatchEventLine(std::string_view type, std::string_view object);

struct WatchCacheOptions {
  // The ring keeps at least this many events, and grows (doubling, up to max) while its oldest
  // event is younger than `fresh_duration`, as upstream sizes its cache by load; as upstream's, it
  // halves (down to min) when even its newest quarter is older than that.
  size_t min_events = 100;
  size_t max_events = 100 * 1024;
  std::chrono::seconds fresh_duration{75};
  // And it holds at most this many bytes of objects (CachedObject::ApproximateBytes), oldest
  // events dropped first, but never fewer than min_events events: at tens of thousands of pods
  // changing a few times each, 100k events would be several copies of every pod. Upstream has
  // no byte bound; a watch resuming from before the ring gets 410 Gone either way.
  size_t max_bytes = 64 * 1024 * 1024;
  // Events (and bookmarks) buffered for one watcher before it is cut off.
  size_t watcher_buffer = 1024;
};

class WatchCache;

// What a watch asks for.
struct WatchRequest {
  // The keys watched (the cache's prefix or a narrower one); `matches` selects among them.
  std::string prefix;
  Predicate matches;
  Encoding encoding;
  // Events after this revision; nullopt: from the cache's current revision on.
  std::optional<int64_t> start_revision;
  // ADDED events for the objects selected at the start, before the changes (the start is then
  // the cache's current revision).
  bool send_initial_events = false;
  bool bookmarks = false;
  // Ends the stream; no deadline when unset.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// One client's watch: an http::BodyStream of WatchEvent lines. Its initial events are encoded
// on the stream's own thread; later events arrive through a bounded buffer that the cache's
// feeder fills without waiting. When the buffer is full the watch is cut off: what was buffered
// is sent, then the stream ends and the client watches again from its last resourceVersion.
class CacheWatcher final : public http::BodyStream {
 public:
  struct Item {
    EventPtr event;  // null: a bookmark at `revision`
    EventType type = EventType::kAdded;
    int64_t revision = 0;
  };

  // Releases the events still buffered (their shared lines may go).
  ~CacheWatcher() override;

  std::optional<std::string> Next() override;
  void Cancel() override;

  // Whether the cache cut this watcher off.
  bool cut_off() const;

  // Feeder side (under the cache's lock): queues an item, false when the watcher is gone or was
  // just cut off.
  bool Offer(Item item);
  // Ends the stream after what is buffered (cache reset or stopped).
  void End();

  const WatchRequest& request() const { return request_; }
  const Predicate& matches() const { return request_.matches; }

 private:
  friend class WatchCache;
  CacheWatcher(WatchRequest request, size_t buffer, std::weak_ptr<WatchCache> cache);

  std::string Encode(const Item& item);

  const WatchRequest request_;
  const size_t buffer_;
  std::weak_ptr<WatchCache> cache_;
  // Set at registration, read by the stream thread only.
  std::vector<CachedObjectPtr> initial_objects_;
  std::vector<EventPtr> initial_events_;
  size_t initial_position_ = 0;
  int64_t initial_revision_ = 0;
  bool initial_done_ = false;
  // Set at registration, read by the feeder: live events up to this revision are skipped.
  int64_t skip_through_ = 0;
  std::optional<std::string> error_line_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool cut_off_ = false;
  bool ended_ = false;
  std::atomic<bool> cancelled_{false};
  bool finished_ = false;
};

class WatchCache : public std::enable_shared_from_this<WatchCache> {
 public:
  // Creates a cache of the objects under `prefix`, holding `objects` as of revision `at`.
  // `progress`, when given, is the feeder's revision shared by every cache it feeds: every event
  // up to it has been applied, so it is this cache's revision too when newer.
  static std::shared_ptr<WatchCache> Create(std::string prefix, ObjectBuilder builder,
                                            const std::vector<storage::KeyValue>& objects,
                                            int64_t at, Clock& clock,
                                            WatchCacheOptions options = {},
                                            std::shared_ptr<std::atomic<int64_t>> progress = {});
  ~WatchCache();

  const std::string& prefix() const { return prefix_; }

  // Feeder side. One store event (a key under the prefix), in revision order.
  void Apply(const storage::Event& event);
  // Queues a BOOKMARK at the current revision for every watcher that asked for them.
  void SendBookmarks();
  // Replaces the content (after the feeder lost its place in the history): ends every watch.
  void Reset(const std::vector<storage::KeyValue>& objects, int64_t at);
  // Ends every watch (the server stops).
  void EndAll();

  // Every event up to this revision is in the cache.
  int64_t revision() const;

  struct Snapshot {
    std::vector<CachedObjectPtr> objects;  // ordered by key
    int64_t revision = 0;
  };
  // The objects whose keys start with `prefix` (the cache's, or a namespace's under it).
  Snapshot List(std::string_view prefix) const;
  // The object at `key`, or null.
  CachedObjectPtr Get(std::string_view key) const;

  // Starts a watch. A start revision older than the ring reaches gives a stream of one ERROR
  // event, 410 Expired "too old resource version: <start> (<oldest>)", as upstream's cache.
  std::shared_ptr<CacheWatcher> Watch(WatchRequest request);

  // Introspection for tests and metrics.
  size_t watcher_count() const;
  size_t ring_size() const;
  size_t ring_capacity() const;
  // Bytes of the ring's event objects (ApproximateBytes of each).
  size_t ring_bytes() const;
  // The oldest revision a watch may start from.
  int64_t oldest_revision() const;
  // Bytes held by the current objects (ApproximateBytes of each).
  size_t object_bytes() const;

 private:
  WatchCache(std::string prefix, ObjectBuilder builder, Clock& clock, WatchCacheOptions options,
             std::shared_ptr<std::atomic<int64_t>> progress);
  void Load(const std::vector<storage::KeyValue>& objects, int64_t at);
  void Remove(const CacheWatcher* watcher);
  void Push(EventPtr event);
  void PopOldest();
  void Dispatch(const EventPtr& event);
  int64_t RevisionLocked() const;

  const std::string prefix_;
  const ObjectBuilder builder_;
  Clock& clock_;
  const WatchCacheOptions options_;
  const std::shared_ptr<std::atomic<int64_t>> progress_;

  mutable std::mutex mutex_;
  std::map<std::string_view, CachedObjectPtr, std::less<>> objects_;  // keys view the objects'
  std::deque<EventPtr> ring_;
  size_t capacity_;
  size_t ring_bytes_ = 0;
  int64_t revision_ = 0;
  // The revision of the state loaded at start or reset; earlier events are in it.
  int64_t loaded_revision_ = 0;
  // Every event after this revision is in the ring.
  int64_t ring_start_ = 0;
  std::vector<std::shared_ptr<CacheWatcher>> watchers_;
  friend class CacheWatcher;
};

}  // namespace kpp::apiserver::watchcache
