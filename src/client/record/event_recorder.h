// Recording core/v1 Events about objects, as client-go's tools/record: events go out on a
// background thread; a repeat of the same event (same source, involved object, type, reason and
// message) within the correlator's memory is not a new object but a PATCH of the first one's
// count and lastTimestamp; similar events (same but for the message) become one aggregate
// "(combined from similar events): ..." after 10 within 10 minutes; and each source+object may
// send at most a burst of 25 events, then one per 5 minutes (upstream's spam filter).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "api/core/v1/codec.h"
#include "api/runtime/object.h"
#include "base/clock.h"
#include "client/rest/rest_client.h"
#include "client/workqueue/rate_limiters.h"

namespace kpp::client::record {

inline constexpr char kEventTypeNormal[] = "Normal";
inline constexpr char kEventTypeWarning[] = "Warning";

struct RecorderOptions {
  std::string component;  // source.component and reportingComponent, e.g. "default-scheduler"
  std::string host;       // source.host and reportingInstance
  // Spam filter per source+object.
  int spam_burst = 25;
  double spam_qps = 1.0 / 300;
  // Aggregation of similar events.
  int max_similar_events = 10;
  std::chrono::seconds aggregate_interval{600};
  size_t max_cache_entries = 4096;
};

// The reference an event's involvedObject gets for `object`.
api::core::v1::ObjectReference ReferenceTo(const api::Object& object);

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<rest::RestClient> client, RecorderOptions options);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Queues an event; never blocks on the server.
  void Event(const api::core::v1::ObjectReference& object, const std::string& type,
             const std::string& reason, const std::string& message);
  void Event(const api::Object& object, const std::string& type, const std::string& reason,
             const std::string& message) {
    Event(ReferenceTo(object), type, reason, message);
  }
  // Waits until every queued event has been written (or dropped).
  void Flush();
  void Shutdown();
  // Events written as new objects, as patches of earlier ones, and dropped by the spam filter.
  int created() const;
  int patched() const;
  int dropped() const;

 private:
  struct Pending {
    api::core::v1::ObjectReference object;
    std::string type, reason, message;
    Clock::TimePoint when;
  };
  struct LoggedEvent {
    std::string name;  // of the Event object written
    std::string ns;
    int32_t count = 0;
  };
  struct SimilarEvents {
    std::set<std::string> messages;
    std::chrono::steady_clock::time_point first_seen;
  };
  void Loop();
  void Write(Pending pending);

  std::shared_ptr<rest::RestClient> client_;
  RecorderOptions options_;
  Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  int created_ = 0;
  int patched_ = 0;
  int dropped_ = 0;
  // Only the writer thread touches these.
  std::unordered_map<std::string, LoggedEvent> logged_;
  std::unordered_map<std::string, SimilarEvents> similar_;
  std::unordered_map<std::string, std::unique_ptr<workqueue::TokenBucket>> spam_buckets_;
  std::thread thread_;
};

}  // namespace kpp::client::record
