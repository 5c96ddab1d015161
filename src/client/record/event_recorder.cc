#include "client/record/event_recorder.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "base/log.h"
#include "client/rest/errors.h"
#include "client/rest/resource.h"

namespace kpp::client::record {

using api::core::v1::ObjectReference;

api::core::v1::ObjectReference ReferenceTo(const api::Object& object) {
  ObjectReference reference;
  auto& mutable_object = const_cast<api::Object&>(object);  // kind() has no const overload
  reference.kind = mutable_object.kind();
  reference.api_version = mutable_object.api_version();
  reference.namespace_ = object.metadata().namespace_;
  reference.name = object.metadata().name;
  reference.uid = object.metadata().uid;
  reference.resource_version = object.metadata().resource_version;
  return reference;
}

namespace {

std::string ObjectKey(const ObjectReference& object) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", object.kind, object.namespace_,
                     object.name, object.uid, object.api_version, object.field_path);
}

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<rest::RestClient> client, RecorderOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      clock_(client_->clock()),
      thread_([this] { Loop(); }) {}

EventRecorder::~EventRecorder() {
  Shutdown();
}

void EventRecorder::Event(const ObjectReference& object, const std::string& type,
                          const std::string& reason, const std::string& message) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  queue_.push_back({object, type, reason, message, clock_.Now()});
  changed_.notify_all();
}

void EventRecorder::Flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

void EventRecorder::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int EventRecorder::created() const {
  std::lock_guard lock(mutex_);
  return created_;
}
int EventRecorder::patched() const {
  std::lock_guard lock(mutex_);
  return patched_;
}
int EventRecorder::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void EventRecorder::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    // Events queued before Shutdown are still written.
    if (queue_.empty()) return;
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Write(std::move(next));
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

void EventRecorder::Write(Pending pending) {
  const std::string object_key = ObjectKey(pending.object);
  // Spam filter: per source and object. Like the logged events, the filter and aggregation
  // entries are bounded (upstream: LRU caches of 4096), or a long-running scheduler keeps one
  // of each per pod it ever placed.
  if (spam_buckets_.size() >= options_.max_cache_entries) spam_buckets_.clear();
  if (similar_.size() >= options_.max_cache_entries) similar_.clear();
  auto& bucket = spam_buckets_[options_.component + "\x1f" + options_.host + "\x1f" + object_key];
  if (!bucket) {
    bucket =
        std::make_unique<workqueue::TokenBucket>(options_.spam_qps, options_.spam_burst, clock_);
  }
  if (!bucket->TryAccept()) {
    std::lock_guard lock(mutex_);
    ++dropped_;
    return;
  }
  // Aggregation: similar events (all but the message) with many messages become one.
  const std::string similar_key = fmt::format("{}\x1f{}\x1f{}\x1f{}", options_.component,
                                              object_key, pending.type, pending.reason);
  const auto now_monotonic = clock_.Monotonic();
  auto& similar = similar_[similar_key];
  if (similar.messages.empty() ||
      now_monotonic - similar.first_seen > options_.aggregate_interval) {
    similar.messages.clear();
    similar.first_seen = now_monotonic;
  }
  similar.messages.insert(pending.message);
  if (static_cast<int>(similar.messages.size()) >= options_.max_similar_events) {
    pending.message = "(combined from similar events): " + pending.message;
  }
  // Repeats of one event patch the first one written.
  const std::string event_key = similar_key + "\x1f" + pending.message;
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(pending.when.time_since_epoch()).count();
  const api::Time now = api::Time::FromUnixSeconds(seconds);
  const std::string ns = pending.object.namespace_.empty() ? "default" : pending.object.namespace_;
  TypedResource<api::core::v1::Event> events(client_, ns);
  if (auto logged = logged_.find(event_key); logged != logged_.end()) {
    boost::json::object patch;
    patch["count"] = logged->second.count + 1;
    patch["lastTimestamp"] = now.ToString();
    patch["message"] = pending.message;
    auto patched = events.Patch(logged->second.name, PatchType::kStrategicMerge,
                                boost::json::serialize(patch));
    if (patched.ok()) {
      logged->second.count = patched->count;
      std::lock_guard lock(mutex_);
      ++patched_;
      return;
    }
    KLOG_V(2, "patching event {}: {}; creating it again", logged->second.name,
           patched.error().message());
    logged_.erase(logged);
  }
  api::core::v1::Event event;
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(pending.when.time_since_epoch()).count();
  event.metadata.name = fmt::format("{}.{:x}", pending.object.name, nanos);
  event.metadata.namespace_ = ns;
  event.involved_object = pending.object;
  event.reason = pending.reason;
  event.message = pending.message;
  event.type = pending.type;
  event.source.component = options_.component;
  event.source.host = options_.host;
  event.reporting_component = options_.component;
  event.reporting_instance = options_.host;
  event.first_timestamp = now;
  event.last_timestamp = now;
  event.count = 1;
  // What the server answers is the event as sent: not decoded (a scheduler writes one per pod).
  auto created = events.CreateIgnoringAnswer(event);
  if (!created.ok()) {
    KLOG_WARNING("server rejected event {}/{}: {} (will not retry)", ns, event.metadata.name,
                 created.error().message());
    return;
  }
  if (logged_.size() >= options_.max_cache_entries) logged_.clear();
  logged_[event_key] = {event.metadata.name, ns, event.count};
  std::lock_guard lock(mutex_);
  ++created_;
}

}  // namespace kpp::client::record
