#include "client/informers/reflector.h"

#include <boost/json/serialize.hpp>
#include <random>

#include "base/log.h"
#include "client/rest/errors.h"

namespace kpp::client::informers {

Reflector::Reflector(DynamicResource resource, ReflectorSink& sink, ReflectorOptions options)
    : resource_(std::move(resource)), sink_(sink), options_(std::move(options)) {}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard lock(mutex_);
  return last_sync_resource_version_;
}

void Reflector::Stop() {
  std::shared_ptr<rest::StreamCanceller> canceller;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    canceller = canceller_;
  }
  stop_changed_.notify_all();
  if (canceller) canceller->Cancel();
}

bool Reflector::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stop_changed_.wait_for(lock, duration, [&] { return stopped_.load(); });
}

void Reflector::Run() {
  auto backoff = options_.initial_backoff;
  while (!stopped()) {
    const int lists_before = lists_;
    auto status = ListAndWatch();
    if (stopped()) return;
    if (status.ok()) {
      backoff = options_.initial_backoff;
      continue;
    }
    KLOG_WARNING("{}: list and watch failed: {}", resource_.kind().plural,
                 status.error().message());
    // A watch that ran after a good list earns a fresh back-off.
    if (lists_ > lists_before) backoff = options_.initial_backoff;
    if (!Sleep(backoff)) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

Status Reflector::List() {
  std::string resource_version;
  {
    std::lock_guard lock(mutex_);
    if (last_sync_unavailable_) {
      resource_version = "";
    } else if (last_sync_resource_version_.empty()) {
      resource_version = "0";
    } else {
      resource_version = last_sync_resource_version_;
    }
  }
  ListOptions options;
  options.label_selector = options_.selectors.label_selector;
  options.field_selector = options_.selectors.field_selector;
  options.resource_version = resource_version;
  // A consistent read comes from the store in pages; other lists from the watch cache, whole.
  if (resource_version.empty()) options.limit = options_.page_size;
  std::vector<ObjectRef> objects;
  std::string list_resource_version;
  while (true) {
    auto text = resource_.ListJson(options);
    if (!text.ok()) {
      if (IsResourceExpired(text.error()) && !resource_version.empty()) {
        std::lock_guard lock(mutex_);
        last_sync_unavailable_ = true;
      }
      return std::move(text).error().WithContext("list");
    }
    std::vector<std::string> items;
    std::string continue_token;
    KPP_RETURN_IF_ERROR(
        resource_detail::SplitList(*text, items, list_resource_version, continue_token));
    for (const auto& item : items) {
      auto object = DecodeObject(resource_.kind(), item);
      if (!object.ok()) return std::move(object).error().WithContext("decoding list item");
      objects.push_back(ObjectRef(std::move(*object)));
    }
    if (continue_token.empty()) break;
    options.continue_token = continue_token;
    options.resource_version.clear();
  }
  ++lists_;
  sink_.Replace(std::move(objects), list_resource_version);
  std::lock_guard lock(mutex_);
  last_sync_resource_version_ = list_resource_version;
  last_sync_unavailable_ = false;
  return Ok();
}

Status Reflector::ListAndWatch() {
  KPP_RETURN_IF_ERROR(List());
  static thread_local std::mt19937_64 random(std::random_device{}());
  auto watch_backoff = options_.initial_backoff;
  while (!stopped()) {
    ListOptions options;
    options.label_selector = options_.selectors.label_selector;
    options.field_selector = options_.selectors.field_selector;
    options.resource_version = LastSyncResourceVersion();
    options.allow_watch_bookmarks = true;
    const int64_t min_timeout = options_.min_watch_timeout.count();
    options.timeout_seconds =
        min_timeout +
        static_cast<int64_t>(random() % static_cast<uint64_t>(std::max<int64_t>(min_timeout, 1)));
    auto canceller = std::make_shared<rest::StreamCanceller>();
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return Ok();
      canceller_ = canceller;
    }
    std::optional<Error> event_error;
    bool expired = false;
    int events = 0;
    const auto watch_started = std::chrono::steady_clock::now();
    ++watches_;
    auto status = resource_.Watch(
        options,
        [&](WatchEvent&& event) {
          ++events;
          if (event.type == "ERROR") {
            const auto* code =
                event.object.is_object() ? event.object.as_object().if_contains("code") : nullptr;
            const int http_status =
                code != nullptr && code->is_int64() ? static_cast<int>(code->as_int64()) : 500;
            Error error = ErrorFromResponse(http_status, boost::json::serialize(event.object));
            expired = IsResourceExpired(error);
            event_error = std::move(error);
            return false;
          }
          std::string resource_version;
          if (event.type == "BOOKMARK") {
            const auto& object = event.object;
            if (object.is_object()) {
              if (const auto* metadata = object.as_object().if_contains("metadata");
                  metadata && metadata->is_object()) {
                if (const auto* rv = metadata->as_object().if_contains("resourceVersion");
                    rv && rv->is_string()) {
                  resource_version = std::string(rv->as_string());
                }
              }
            }
          } else {
            auto object = DecodeObject(resource_.kind(), std::move(event.object));
            if (!object.ok()) {
              event_error = std::move(object).error().WithContext("decoding watch event");
              return false;
            }
            ObjectRef ref(std::move(*object));
            resource_version = ref->metadata().resource_version;
            if (event.type == "ADDED") {
              sink_.Add(std::move(ref));
            } else if (event.type == "MODIFIED") {
              sink_.Update(std::move(ref));
            } else if (event.type == "DELETED") {
              sink_.Delete(std::move(ref));
            } else {
              event_error = InternalError("unknown watch event type " + event.type);
              return false;
            }
          }
          if (!resource_version.empty()) {
            std::lock_guard lock(mutex_);
            last_sync_resource_version_ = resource_version;
          }
          return true;
        },
        canceller.get());
    {
      std::lock_guard lock(mutex_);
      canceller_.reset();
    }
    if (stopped()) return Ok();
    if (expired) {
      KLOG_V(1, "{}: watch expired ({}); listing again", resource_.kind().plural,
             event_error->message());
      return Ok();
    }
    if (event_error) return *event_error;
    if (!status.ok()) {
      if (IsResourceExpired(status.error())) return Ok();
      // The server is likely down or restarting: watching again from where we were is cheaper
      // than a new list, as client-go does on a refused connection.
      if (IsServiceUnavailable(status.error()) || IsTooManyRequests(status.error())) {
        KLOG_V(1, "{}: watch failed: {}; watching again", resource_.kind().plural,
               status.error().message());
        if (!Sleep(watch_backoff)) return Ok();
        watch_backoff = std::min(watch_backoff * 2, options_.max_backoff);
        continue;
      }
      return std::move(status).error().WithContext("watch");
    }
    // A watch the server ends at once without an event would make this loop spin (client-go's
    // "very short watch"): back off as after a failure.
    if (events == 0 && std::chrono::steady_clock::now() - watch_started < std::chrono::seconds(1)) {
      if (!Sleep(watch_backoff)) return Ok();
      watch_backoff = std::min(watch_backoff * 2, options_.max_backoff);
      continue;
    }
    watch_backoff = options_.initial_backoff;
  }
  return Ok();
}

}  // namespace kpp::client::informers
