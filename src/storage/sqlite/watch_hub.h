// Watch fan-out for the SQLite backend. Internal.
//
// A watcher starts in catch-up mode: its consumer thread, inside Watcher::Next, reads the
// history it still needs from the database (HistorySource) in chunks of revisions. Once it has
// read everything up to the last revision the writer published, it registers with the hub,
// atomically with that check, and from then on receives live events that the writer publishes
// after each commit. A revision is therefore read either from the database or from the hub,
// never both and never neither. Live events wait in a bounded per-watcher queue; a watcher whose
// queue would overflow is cut off with kTooManyRequests so writers never wait for consumers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "storage/store.h"

namespace kpp::storage::sqlite {

// Where catch-up reads come from. Thread-safe.
class HistorySource {
 public:
  virtual ~HistorySource() = default;
  // The events with from <= revision <= to for keys in [key, range_end), in revision order
  // (within a revision, in the order they were written). kGone when `from` is compacted.
  virtual Result<std::vector<Event>> ReadHistory(Revision from, Revision to, std::string_view key,
                                                 std::string_view range_end, bool prev_kv) = 0;
};

// One watcher's live queue, shared by the hub (producer) and the Watcher (consumer).
struct WatcherQueue {
  WatcherQueue(const WatchRequest& request, std::size_t max_events)
      : key(request.key),
        range_end(request.range_end),
        prev_kv(request.prev_kv),
        max_buffered_events(max_events) {}

  const std::string key;
  const std::string range_end;
  const bool prev_kv;
  const std::size_t max_buffered_events;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Event> events;
  // Set once; delivered after `events` drain.
  std::optional<Error> error;
  // Live events below this revision were already read from the history.
  Revision min_revision = 0;
};

class WatchHub {
 public:
  explicit WatchHub(Revision published) : published_(published) {}

  // Called by the writer, in commit order, after `events` (of revisions up to `revision`) are
  // durable. Never blocks on consumers.
  void Publish(const std::vector<Event>& events, Revision revision);

  // Registers `queue` for live events from `next_revision` on if the history up to it has been
  // published; returns true then. Otherwise returns false with the published revision in
  // `*published`, up to which the caller must read the history first. Fails after Close.
  Result<bool> GoLiveIfCaughtUp(const std::shared_ptr<WatcherQueue>& queue, Revision next_revision,
                                Revision* published);
  void Remove(const std::shared_ptr<WatcherQueue>& queue);

  // Ends every watch with `error`; later registrations fail with it.
  void Close(const Error& error);

  Revision published() const;

 private:
  mutable std::mutex mutex_;
  Revision published_;
  std::optional<Error> closed_;
  std::vector<std::shared_ptr<WatcherQueue>> live_;
};

// Creates the Watcher for `request`, starting at `start_revision`. `owner` keeps `hub` and
// `history` alive for as long as the watcher exists.
std::unique_ptr<Watcher> NewWatcher(std::shared_ptr<void> owner, WatchHub* hub,
                                    HistorySource* history, const WatchRequest& request,
                                    Revision start_revision, std::size_t max_buffered_events);

}  // namespace kpp::storage::sqlite
