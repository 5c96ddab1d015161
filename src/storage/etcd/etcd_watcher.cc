#include "storage/etcd/etcd_watcher.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/log.h"

namespace kpp::storage::etcd {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kFirstReconnectDelay = 50ms;
constexpr std::chrono::milliseconds kMaxReconnectDelay = 1s;

// What the consumer (Next) and the reader thread share. Also closed by the store when it goes
// away, which is why it lives apart from the Watcher.
class WatchState final : public Closeable {
 public:
  void Close(const Error& reason) override { Stop(reason); }

  // Ends the watch (with `error`, unless it already ended with one) and interrupts the reader's
  // stream or reconnect delay.
  void Stop(const std::optional<Error>& reason) {
    std::lock_guard lock(mutex);
    if (reason && !error) error = *reason;
    stopping = true;
    if (active_context != nullptr) active_context->TryCancel();
    changed.notify_all();
  }

  void Fail(Error failure) {
    std::lock_guard lock(mutex);
    if (!error) error = std::move(failure);
    changed.notify_all();
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Event> events;                       // whole revisions only
  std::optional<Error> error;                     // the watch ended; delivered after `events`
  bool stopping = false;                          // the reader must not open another stream
  grpc::ClientContext* active_context = nullptr;  // the open stream's, so Stop can cancel it
};

Event ToEvent(const mvccpb::Event& event, bool with_prev_kv) {
  Event converted;
  if (event.type() == mvccpb::Event::DELETE) {
    converted.type = Event::Type::kDelete;
    converted.kv.key = event.kv().key();
    converted.kv.mod_revision = event.kv().mod_revision();
  } else {
    converted.type = Event::Type::kPut;
    converted.kv = FromProto(event.kv());
  }
  if (with_prev_kv && event.has_prev_kv()) converted.prev_kv = FromProto(event.prev_kv());
  return converted;
}

class EtcdWatcher final : public Watcher {
 public:
  EtcdWatcher(std::shared_ptr<Connection> connection, const WatchRequest& request,
              Revision start_revision, std::size_t max_buffered_events)
      : connection_(std::move(connection)),
        request_(request),
        max_buffered_events_(max_buffered_events),
        next_revision_(start_revision),
        state_(std::make_shared<WatchState>()) {
    connection_->Register(state_);
    if (connection_->closed()) state_->Close(ClosedError());
    reader_ = std::thread([this] { Run(); });
  }

  ~EtcdWatcher() override {
    state_->Stop(std::nullopt);
    reader_.join();
  }

  Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(state_->mutex);
    state_->changed.wait_for(lock, timeout,
                             [&] { return !state_->events.empty() || state_->error.has_value(); });
    if (!state_->events.empty()) {
      std::vector<Event> batch(std::make_move_iterator(state_->events.begin()),
                               std::make_move_iterator(state_->events.end()));
      state_->events.clear();
      return batch;
    }
    if (state_->error) return *state_->error;
    return std::vector<Event>{};
  }

 private:
  struct StreamEnd {
    grpc::Status status;
    bool received = false;  // the stream worked for a while (it answered at least once)
    bool final = false;     // the watch is over; no reconnect
  };

  // The reader thread: one stream after another until the watch ends.
  void Run() {
    std::size_t endpoint_index = connection_->preferred();
    std::optional<std::chrono::steady_clock::time_point> broken_since;
    std::chrono::milliseconds delay = kFirstReconnectDelay;
    while (true) {
      Endpoint& endpoint = connection_->endpoint(endpoint_index);
      grpc::ClientContext context;
      {
        std::lock_guard lock(state_->mutex);
        if (state_->stopping) return;
        state_->active_context = &context;
      }
      const StreamEnd end = RunStream(endpoint, context);
      {
        std::lock_guard lock(state_->mutex);
        state_->active_context = nullptr;
        if (state_->stopping) return;
      }
      if (end.final) return;
      if (!end.status.ok() && !IsTransient(end.status)) {
        state_->Fail(FromGrpc(end.status, fmt::format("watch on {}", endpoint.url)));
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (end.received || !broken_since) {
        broken_since = now;
        delay = kFirstReconnectDelay;
        KLOG_WARNING("etcd watch on {}: stream ended ({}); resuming from revision {}", endpoint.url,
                     end.status.error_message(), next_revision_);
      }
      if (now - *broken_since >= connection_->options().watch_reconnect_timeout) {
        state_->Fail(
            Error(ErrorCode::kServiceUnavailable,
                  fmt::format("etcd watch: no stream from any of {} for {} ms; last error: {}",
                              connection_->EndpointList(),
                              connection_->options().watch_reconnect_timeout.count(),
                              end.status.error_message())));
        return;
      }
      endpoint_index = (endpoint_index + 1) % connection_->endpoint_count();
      std::unique_lock lock(state_->mutex);
      if (state_->changed.wait_for(lock, delay, [&] { return state_->stopping; })) return;
      delay = std::min(delay * 2, kMaxReconnectDelay);
    }
  }

  StreamEnd RunStream(Endpoint& endpoint, grpc::ClientContext& context) {
    StreamEnd end;
    // Asks the member to end the stream when it loses its leader (as etcd's own client does), so
    // a watch on a partitioned member moves to another instead of silently getting nothing.
    context.AddMetadata("hasleader", "true");
    auto stream = endpoint.watch->Watch(&context);
    etcdserverpb::WatchRequest create;
    etcdserverpb::WatchCreateRequest& watch = *create.mutable_create_request();
    watch.set_key(request_.key);
    watch.set_range_end(request_.range_end);
    watch.set_start_revision(next_revision_);
    watch.set_prev_kv(request_.prev_kv);
    // Progress notifications move next_revision_ on while the range is quiet, so a stream that
    // breaks after hours without events resumes from a recent revision, not a compacted one.
    watch.set_progress_notify(true);
    if (stream->Write(create)) {
      etcdserverpb::WatchResponse response;
      while (stream->Read(&response)) {
        end.received = true;
        if (!Handle(response)) {
          end.final = true;
          context.TryCancel();
          while (stream->Read(&response)) {
          }
          break;
        }
      }
    }
    end.status = stream->Finish();
    return end;
  }

  // Buffers the response's events; false when the watch is over.
  bool Handle(const etcdserverpb::WatchResponse& response) {
    if (response.compact_revision() != 0) {
      state_->Fail(CompactedError(next_revision_, response.compact_revision()));
      return false;
    }
    if (response.canceled()) {
      state_->Fail(Error(ErrorCode::kServiceUnavailable,
                         fmt::format("etcd cancelled the watch: {}", response.cancel_reason())));
      return false;
    }
    std::vector<Event> batch;
    for (const mvccpb::Event& event : response.events()) {
      // After a reconnect, never deliver a revision twice.
      if (event.kv().mod_revision() < next_revision_) continue;
      batch.push_back(ToEvent(event, request_.prev_kv));
    }
    if (response.events_size() == 0 && !response.created()) {
      // A progress notification: every event up to the header's revision has been sent (etcd
      // sends them only to watches that caught up). Not so for the created response, which
      // carries the current revision while history may still be replayed.
      next_revision_ = std::max(next_revision_, response.header().revision() + 1);
      return true;
    }
    if (batch.empty()) return true;

    std::lock_guard lock(state_->mutex);
    if (state_->error) return false;
    // etcd never splits a revision across responses, so a response is whole revisions; history
    // comes in responses of up to 1,000 revisions. An empty buffer takes a response of any size,
    // so neither one big revision nor a replay cuts a watcher off.
    if (!state_->events.empty() && state_->events.size() + batch.size() > max_buffered_events_) {
      const Revision resume_at = state_->events.back().kv.mod_revision + 1;
      state_->error = Error(ErrorCode::kTooManyRequests,
                            fmt::format("watch cancelled: the consumer fell more than {} events "
                                        "behind; re-watch from revision {}",
                                        max_buffered_events_, resume_at));
      state_->changed.notify_all();
      return false;
    }
    next_revision_ = batch.back().kv.mod_revision + 1;
    for (Event& event : batch)
      state_->events.push_back(std::move(event));
    state_->changed.notify_all();
    return true;
  }

  const std::shared_ptr<Connection> connection_;
  const WatchRequest request_;
  const std::size_t max_buffered_events_;
  Revision next_revision_;  // reader thread only: the first revision not yet buffered
  const std::shared_ptr<WatchState> state_;
  std::thread reader_;
};

}  // namespace

std::unique_ptr<Watcher> StartWatch(std::shared_ptr<Connection> connection,
                                    const WatchRequest& request, Revision start_revision,
                                    std::size_t max_buffered_events) {
  return std::make_unique<EtcdWatcher>(std::move(connection), request, start_revision,
                                       max_buffered_events);
}

}  // namespace kpp::storage::etcd
