#include "apiserver/watchcache/watch_cache.h"

#include <fmt/format.h>

#include <algorithm>

#include "apimachinery/status.h"
#include "base/log.h"

namespace kpp::apiserver::watchcache {
namespace {

// Items of the initial state encoded per call of Next, so that a large state goes out in
// chunks and a cancelled stream stops soon.
constexpr size_t kInitialChunk = 256;
// Live items taken from the buffer per call of Next.
constexpr size_t kLiveChunk = 512;
constexpr auto kWaitStep = std::chrono::milliseconds(1000);

size_t MapBytes(const std::map<std::string, std::string>& map) {
  // A red-black tree node: three pointers and a color, plus the two strings.
  constexpr size_t kNode = 4 * sizeof(void*) + 2 * sizeof(std::string);
  size_t bytes = 0;
  for (const auto& [key, value] : map) {
    bytes += kNode;
    if (key.size() >= sizeof(std::string)) bytes += key.capacity() + 1;
    if (value.size() >= sizeof(std::string)) bytes += value.capacity() + 1;
  }
  return bytes;
}

size_t StringBytes(const std::string& text) {
  return text.size() < sizeof(std::string) ? 0 : text.capacity() + 1;
}

// What an event in the ring holds: its object (shared with the cache's current objects while it
// is the newest state, which this counts anyway) and the selectable copy of the state before.
size_t RingBytes(const Event& event) {
  size_t bytes = event.object()->ApproximateBytes();
  if (event.previous() != nullptr) bytes += event.previous()->ApproximateBytes();
  return bytes;
}

}  // namespace

size_t CachedObject::ApproximateBytes() const {
  // The object, its shared_ptr control block and the cache's map node.
  constexpr size_t kOverhead = 16 + 4 * sizeof(void*) + sizeof(std::string_view) + 16;
  return sizeof(CachedObject) + kOverhead + StringBytes(key) + StringBytes(json) +
         MapBytes(labels) + StringBytes(fields);
}

CachedObjectPtr SelectableCopy(const CachedObject& object) {
  auto copy = std::make_shared<CachedObject>();
  copy->key = object.key;
  copy->create_revision = object.create_revision;
  copy->revision = object.revision;
  copy->labels = object.labels;
  copy->fields = object.fields;
  return copy;
}

std::string_view CachedObject::Field(size_t index) const {
  std::string_view rest = fields;
  for (; index > 0; --index) {
    const size_t end = rest.find('\0');
    if (end == std::string_view::npos) return {};
    rest.remove_prefix(end + 1);
  }
  return rest.substr(0, rest.find('\0'));
}

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
  }
  return "";
}

std::string WatchEventLine(std::string_view type, std::string_view object) {
  std::string line;
  line.reserve(object.size() + type.size() + 24);
  line += R"({"type":")";
  line += type;
  line += R"(","object":)";
  line += object;
  line += "}\n";
  return line;
}

Event::Event(bool deleted, CachedObjectPtr object, CachedObjectPtr previous,
             std::chrono::steady_clock::time_point time)
    : deleted_(deleted), object_(std::move(object)), previous_(std::move(previous)), time_(time) {}

std::optional<EventType> Event::TypeFor(const Predicate& matches) const {
  const bool was = previous_ != nullptr && matches(*previous_);
  if (deleted_) {
    if (was) return EventType::kDeleted;
    return std::nullopt;
  }
  const bool is = matches(*object_);
  if (is) return was ? EventType::kModified : EventType::kAdded;
  if (was) return EventType::kDeleted;
  return std::nullopt;
}

std::shared_ptr<const std::string> Event::Line(const Encoding& encoding, EventType type) const {
  const auto encode = [&]() -> std::shared_ptr<const std::string> {
    auto object = encoding.object(*object_);
    if (!object.ok()) {
      KLOG_WARNING("watch cache: cannot encode {}: {}", object_->key, object.error().message());
      return std::make_shared<const std::string>();
    }
    return std::make_shared<const std::string>(WatchEventLine(EventTypeName(type), *object));
  };
  if (encoding.shared_id == nullptr) return encode();
  // Held while encoding: a second watcher of the same encoding waits for the bytes rather than
  // making its own.
  std::lock_guard lock(mutex_);
  for (const auto& encoded : encoded_) {
    if (encoded.id == encoding.shared_id && encoded.type == type) return encoded.line;
  }
  auto line = encode();
  // Kept for the watchers that still have to send it; a watch resuming from the ring later on
  // encodes its own.
  if (pending_.load(std::memory_order_acquire) > 0) {
    encoded_.push_back({encoding.shared_id, type, line});
  }
  return line;
}

void Event::ReleasePending() const {
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::lock_guard lock(mutex_);
  if (pending_.load(std::memory_order_acquire) == 0) {
    std::vector<Encoded>().swap(encoded_);
  }
}

// ---------------------------------------------------------------------------------------------

CacheWatcher::CacheWatcher(WatchRequest request, size_t buffer, std::weak_ptr<WatchCache> cache)
    : request_(std::move(request)), buffer_(buffer), cache_(std::move(cache)) {}

CacheWatcher::~CacheWatcher() {
  for (const auto& item : queue_) {
    if (item.event != nullptr) item.event->ReleasePending();
  }
}

bool CacheWatcher::cut_off() const {
  std::lock_guard lock(mutex_);
  return cut_off_;
}

bool CacheWatcher::Offer(Item item) {
  {
    std::lock_guard lock(mutex_);
    if (ended_ || cancelled_) return false;
    if (queue_.size() >= buffer_) {
      cut_off_ = true;
      ended_ = true;
    } else {
      // Counted before the stream thread can take it.
      if (item.event != nullptr) item.event->AddPending();
      queue_.push_back(std::move(item));
    }
  }
  changed_.notify_all();
  return !cut_off();
}

void CacheWatcher::End() {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  changed_.notify_all();
}

void CacheWatcher::Cancel() {
  cancelled_ = true;
  changed_.notify_all();
}

std::string CacheWatcher::Encode(const Item& item) {
  if (item.event == nullptr) {
    return WatchEventLine("BOOKMARK", request_.encoding.bookmark(item.revision, false));
  }
  auto line = item.event->Line(request_.encoding, item.type);
  return *line;
}

std::optional<std::string> CacheWatcher::Next() {
  const auto finish = [&]() -> std::optional<std::string> {
    if (!finished_) {
      finished_ = true;
      if (auto cache = cache_.lock()) cache->Remove(this);
    }
    return std::nullopt;
  };
  if (cancelled_ || finished_) return finish();
  if (error_line_) {
    std::string line = *std::move(error_line_);
    error_line_.reset();
    finished_ = true;
    if (auto cache = cache_.lock()) cache->Remove(this);
    return line;
  }
  const auto now = std::chrono::steady_clock::now();
  if (request_.deadline && now >= *request_.deadline) return finish();
  if (!initial_done_) {
    std::string out;
    const size_t total = initial_objects_.size() + initial_events_.size();
    const size_t stop = std::min(total, initial_position_ + kInitialChunk);
    for (; initial_position_ < stop; ++initial_position_) {
      if (initial_position_ < initial_objects_.size()) {
        const CachedObject& object = *initial_objects_[initial_position_];
        if (!request_.matches(object)) continue;
        auto encoded = request_.encoding.object(object);
        if (encoded.ok()) out += WatchEventLine("ADDED", *encoded);
      } else {
        const auto& event = initial_events_[initial_position_ - initial_objects_.size()];
        if (auto type = event->TypeFor(request_.matches)) out += Encode({event, *type, 0});
      }
    }
    if (initial_position_ >= total) {
      initial_done_ = true;
      initial_objects_.clear();
      initial_events_.clear();
      if (request_.send_initial_events && request_.bookmarks) {
        out += WatchEventLine("BOOKMARK", request_.encoding.bookmark(initial_revision_, true));
      }
    }
    return out;
  }
  std::vector<Item> items;
  bool ended = false;
  {
    std::unique_lock lock(mutex_);
    auto until = now + kWaitStep;
    if (request_.deadline) until = std::min(until, *request_.deadline);
    changed_.wait_until(lock, until, [&] { return !queue_.empty() || ended_ || cancelled_; });
    while (!queue_.empty() && items.size() < kLiveChunk) {
      items.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ended = ended_ && queue_.empty();
  }
  const auto release = [](const Item& item) {
    if (item.event != nullptr) item.event->ReleasePending();
  };
  if (cancelled_) {
    std::ranges::for_each(items, release);
    return finish();
  }
  if (items.empty() && ended) return finish();
  std::string out;
  for (const auto& item : items) {
    out += Encode(item);
    release(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

std::shared_ptr<WatchCache> WatchCache::Create(std::string prefix, ObjectBuilder builder,
                                               const std::vector<storage::KeyValue>& objects,
                                               int64_t at, Clock& clock, WatchCacheOptions options,
                                               std::shared_ptr<std::atomic<int64_t>> progress) {
  std::shared_ptr<WatchCache> cache(
      new WatchCache(std::move(prefix), std::move(builder), clock, options, std::move(progress)));
  cache->Load(objects, at);
  return cache;
}

WatchCache::WatchCache(std::string prefix, ObjectBuilder builder, Clock& clock,
                       WatchCacheOptions options, std::shared_ptr<std::atomic<int64_t>> progress)
    : prefix_(std::move(prefix)),
      builder_(std::move(builder)),
      clock_(clock),
      options_(options),
      progress_(progress ? std::move(progress) : std::make_shared<std::atomic<int64_t>>(0)),
      capacity_(std::max<size_t>(options.min_events, 1)) {}

WatchCache::~WatchCache() {
  EndAll();
}

void WatchCache::Load(const std::vector<storage::KeyValue>& objects, int64_t at) {
  std::lock_guard lock(mutex_);
  objects_.clear();
  ring_.clear();
  ring_bytes_ = 0;
  capacity_ = std::max<size_t>(options_.min_events, 1);
  for (const auto& kv : objects) {
    auto object = builder_(kv.key, kv.value, kv.create_revision, kv.mod_revision);
    if (!object.ok()) {
      KLOG_WARNING("watch cache: skipping {}: {}", kv.key, object.error().message());
      continue;
    }
    CachedObjectPtr cached = std::move(object).value();
    objects_.emplace(std::string_view(cached->key), cached);
  }
  revision_ = at;
  loaded_revision_ = at;
  ring_start_ = at;
}

void WatchCache::Reset(const std::vector<storage::KeyValue>& objects, int64_t at) {
  std::vector<std::shared_ptr<CacheWatcher>> ended;
  {
    std::lock_guard lock(mutex_);
    ended.swap(watchers_);
  }
  for (const auto& watcher : ended)
    watcher->End();
  Load(objects, at);
}

void WatchCache::EndAll() {
  std::vector<std::shared_ptr<CacheWatcher>> ended;
  {
    std::lock_guard lock(mutex_);
    ended.swap(watchers_);
  }
  for (const auto& watcher : ended)
    watcher->End();
}

int64_t WatchCache::RevisionLocked() const {
  return std::max(revision_, progress_->load(std::memory_order_acquire));
}

int64_t WatchCache::revision() const {
  std::lock_guard lock(mutex_);
  return RevisionLocked();
}

void WatchCache::Apply(const storage::Event& event) {
  const int64_t at = event.kv.mod_revision;
  const auto time = clock_.Monotonic();
  std::lock_guard lock(mutex_);
  if (at <= loaded_revision_) return;  // already in the loaded state
  revision_ = std::max(revision_, at);
  auto found = objects_.find(std::string_view(event.kv.key));
  CachedObjectPtr previous = found == objects_.end() ? nullptr : found->second;
  EventPtr change;
  if (event.type == storage::Event::Type::kDelete) {
    if (previous == nullptr) return;
    objects_.erase(found);
    // What watchers see of a deletion: the last state, at the deletion's resourceVersion.
    auto last = builder_(previous->key, previous->json, previous->create_revision, at);
    if (!last.ok()) {
      KLOG_WARNING("watch cache: deleted {} does not decode: {}", previous->key,
                   last.error().message());
      return;
    }
    change = std::make_shared<const Event>(true, std::move(last).value(), SelectableCopy(*previous),
                                           time);
  } else {
    auto object =
        builder_(event.kv.key, event.kv.value, event.kv.create_revision, event.kv.mod_revision);
    if (!object.ok()) {
      KLOG_WARNING("watch cache: {} does not decode: {}", event.kv.key, object.error().message());
      if (found != objects_.end()) objects_.erase(found);
      return;
    }
    CachedObjectPtr current = std::move(object).value();
    if (found != objects_.end()) objects_.erase(found);
    objects_.emplace(std::string_view(current->key), current);
    change = std::make_shared<const Event>(
        false, current, previous == nullptr ? nullptr : SelectableCopy(*previous), time);
  }
  Push(change);
  Dispatch(change);
}

void WatchCache::Push(EventPtr event) {
  const auto now = event->time();
  if (!ring_.empty() && (ring_.size() >= capacity_ || ring_bytes_ >= options_.max_bytes)) {
    const bool fresh = now - ring_.front()->time() < options_.fresh_duration;
    const size_t quarter = std::max<size_t>(ring_.size() / 4, 1);
    if (fresh) {
      // Upstream's growth under load, as far as the bytes allow.
      if (ring_.size() >= capacity_ && ring_bytes_ < options_.max_bytes) {
        capacity_ = std::min(capacity_ * 2, options_.max_events);
      }
    } else if (now - ring_[ring_.size() - quarter]->time() > options_.fresh_duration) {
      // Even the newest quarter is stale: the load went down, so does the ring (upstream's).
      capacity_ = std::max(std::min(capacity_, ring_.size()) / 2, options_.min_events);
    }
  }
  ring_bytes_ += RingBytes(*event);
  ring_.push_back(std::move(event));
  while (ring_.size() > std::max<size_t>(capacity_, 1) ||
         (ring_bytes_ > options_.max_bytes && ring_.size() > options_.min_events)) {
    PopOldest();
  }
}

void WatchCache::PopOldest() {
  const EventPtr& oldest = ring_.front();
  ring_start_ = oldest->revision();
  ring_bytes_ -= std::min(ring_bytes_, RingBytes(*oldest));
  ring_.pop_front();
}

void WatchCache::Dispatch(const EventPtr& event) {
  // Held while offering, so that a watcher sending the event at once does not drop its lines
  // before the next watcher of the same encoding gets it.
  event->AddPending();
  std::erase_if(watchers_, [&](const std::shared_ptr<CacheWatcher>& watcher) {
    if (event->revision() <= watcher->skip_through_) return false;
    auto type = event->TypeFor(watcher->matches());
    if (!type) return false;
    if (watcher->Offer({event, *type, event->revision()})) return false;
    if (watcher->cut_off()) {
      KLOG_V(2, "watch cache {}: a watcher fell {} events behind and was cut off", prefix_,
             options_.watcher_buffer);
    }
    return true;
  });
  event->ReleasePending();
}

void WatchCache::SendBookmarks() {
  std::lock_guard lock(mutex_);
  const int64_t at = RevisionLocked();
  std::erase_if(watchers_, [&](const std::shared_ptr<CacheWatcher>& watcher) {
    if (!watcher->request().bookmarks) return false;
    return !watcher->Offer({nullptr, EventType::kAdded, at});
  });
}

WatchCache::Snapshot WatchCache::List(std::string_view prefix) const {
  Snapshot snapshot;
  std::lock_guard lock(mutex_);
  snapshot.revision = RevisionLocked();
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.starts_with(prefix); ++it) {
    snapshot.objects.push_back(it->second);
  }
  return snapshot;
}

CachedObjectPtr WatchCache::Get(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto found = objects_.find(key);
  return found == objects_.end() ? nullptr : found->second;
}

std::shared_ptr<CacheWatcher> WatchCache::Watch(WatchRequest request) {
  std::shared_ptr<CacheWatcher> watcher(
      new CacheWatcher(std::move(request), options_.watcher_buffer, weak_from_this()));
  const WatchRequest& wanted = watcher->request();
  std::lock_guard lock(mutex_);
  const int64_t current = RevisionLocked();
  if (wanted.send_initial_events || !wanted.start_revision) {
    if (wanted.send_initial_events) {
      for (auto it = objects_.lower_bound(wanted.prefix);
           it != objects_.end() && it->first.starts_with(wanted.prefix); ++it) {
        watcher->initial_objects_.push_back(it->second);
      }
    }
    watcher->initial_revision_ = current;
  } else {
    const int64_t start = *wanted.start_revision;
    if (start < ring_start_) {
      const Error expired(ErrorCode::kExpired,
                          fmt::format("too old resource version: {} ({})", start, ring_start_));
      watcher->error_line_ = WatchEventLine("ERROR", apimachinery::StatusJson(expired));
      return watcher;
    }
    // The ring holds revisions in order: the events after `start` are its tail.
    auto first = std::upper_bound(
        ring_.begin(), ring_.end(), start,
        [](int64_t revision, const EventPtr& event) { return revision < event->revision(); });
    watcher->initial_events_.assign(first, ring_.end());
    watcher->initial_revision_ = current;
    // A start in the future: what comes before it is not wanted.
    watcher->skip_through_ = start;
  }
  watchers_.push_back(watcher);
  return watcher;
}

void WatchCache::Remove(const CacheWatcher* watcher) {
  std::lock_guard lock(mutex_);
  std::erase_if(watchers_, [&](const auto& candidate) { return candidate.get() == watcher; });
}

size_t WatchCache::watcher_count() const {
  std::lock_guard lock(mutex_);
  return watchers_.size();
}

size_t WatchCache::ring_size() const {
  std::lock_guard lock(mutex_);
  return ring_.size();
}

size_t WatchCache::ring_capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

size_t WatchCache::ring_bytes() const {
  std::lock_guard lock(mutex_);
  return ring_bytes_;
}

int64_t WatchCache::oldest_revision() const {
  std::lock_guard lock(mutex_);
  return ring_start_;
}

size_t WatchCache::object_bytes() const {
  std::lock_guard lock(mutex_);
  size_t bytes = 0;
  for (const auto& [key, object] : objects_)
    bytes += object->ApproximateBytes();
  return bytes;
}

}  // namespace kpp::apiserver::watchcache
