// client-go's Reflector: keeps a sink in step with the server by a list, then a watch from the
// list's resourceVersion, watching again from the last resourceVersion seen (events and
// BOOKMARKs) when a watch ends (timeoutSeconds, a dropped connection, a restarted server), and
// listing again when the server says that resourceVersion is too old (410 Gone / Expired, as an
// answer or as an ERROR event). Lists ask for resourceVersion "0" first (served from the watch
// cache), the last synced version after that, and "" (a consistent read, in pages) after a 410.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/informers/store.h"
#include "client/rest/resource.h"

namespace kpp::client::informers {

class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // The whole content after a list.
  virtual void Replace(std::vector<ObjectRef> objects, const std::string& resource_version) = 0;
  virtual void Add(ObjectRef object) = 0;
  virtual void Update(ObjectRef object) = 0;
  virtual void Delete(ObjectRef object) = 0;
};

struct ReflectorOptions {
  ListOptions selectors;  // label and field selectors only
  // Each watch asks the server to end it after a random time in [min, 2*min), as client-go.
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{30'000};
  int64_t page_size = 500;
};

class Reflector {
 public:
  Reflector(DynamicResource resource, ReflectorSink& sink, ReflectorOptions options = {});
  // Lists and watches until Stop(); call on a thread of its own.
  void Run();
  void Stop();
  std::string LastSyncResourceVersion() const;
  int lists() const { return lists_; }
  int watches() const { return watches_; }

 private:
  Status ListAndWatch();
  Status List();
  // Sleeps `duration` or until Stop(); false when stopped.
  bool Sleep(std::chrono::milliseconds duration);
  bool stopped() const { return stopped_; }

  DynamicResource resource_;
  ReflectorSink& sink_;
  ReflectorOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable stop_changed_;
  std::atomic<bool> stopped_ = false;
  std::shared_ptr<rest::StreamCanceller> canceller_;
  std::string last_sync_resource_version_;
  bool last_sync_unavailable_ = false;
  std::atomic<int> lists_ = 0;
  std::atomic<int> watches_ = 0;
};

}  // namespace kpp::client::informers
