// Internal to the etcd backend (included only by src/storage/etcd/*.cc, as it pulls in gRPC):
// the channels to the etcd members, endpoint failover, and the translation of etcd's errors and
// records into the Store's.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "etcd_rpc.grpc.pb.h"
#include "storage/etcd/etcd_store.h"
#include "storage/store.h"

namespace kpp::storage::etcd {

// One etcd member: its URL as configured and the stubs of the services kpp calls.
struct Endpoint {
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
};

// Something that must stop when the store closes (a running watch).
class Closeable {
 public:
  virtual ~Closeable() = default;
  virtual void Close(const Error& error) = 0;
};

class Connection {
 public:
  // Builds the channels (connecting lazily). Fails on malformed endpoints or unreadable TLS files.
  static Result<std::shared_ptr<Connection>> Create(const EtcdStoreOptions& options);

  const EtcdStoreOptions& options() const { return options_; }
  std::size_t endpoint_count() const { return endpoints_.size(); }
  Endpoint& endpoint(std::size_t index) { return *endpoints_[index % endpoints_.size()]; }
  // The endpoint that answered last; requests start there.
  std::size_t preferred() const { return preferred_.load(); }
  void Prefer(std::size_t index) { preferred_.store(index % endpoints_.size()); }
  // "https://a:2379, https://b:2379", for error messages.
  std::string EndpointList() const;

  // Whether a request may be sent again after a failure that does not prove it was not applied.
  enum class Retry {
    kAlways,        // reads, and writes whose repetition is harmless
    kIfNotApplied,  // writes: only after no connection, or a refusal etcd gives before proposing
  };

  // Runs one request: `rpc(endpoint, context)` on the preferred endpoint, and on failures that
  // `retry` allows on each other endpoint in turn. While the cluster answers but cannot serve
  // (during a leader election), it goes round the endpoints again with a growing pause, until
  // request_timeout has passed; when no endpoint can be reached at all, it gives up after one
  // round. The context carries the request deadline and, with `require_leader`, asks the member
  // to refuse the request at once when it has no leader. Returns the answer, or UNAVAILABLE
  // naming every endpoint tried; a write that may have been applied fails with UNAVAILABLE
  // saying so.
  grpc::Status Call(const std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>& rpc,
                    Retry retry = Retry::kAlways, bool require_leader = true);

  // Waits up to dial_timeout for `endpoint` to be connected; false when it cannot be.
  bool Connect(Endpoint& endpoint);

  // After Close, Call fails with kServiceUnavailable and every registered Closeable is closed.
  void Close();
  bool closed() const { return closed_.load(); }
  void Register(const std::shared_ptr<Closeable>& closeable);

 private:
  explicit Connection(EtcdStoreOptions options) : options_(std::move(options)) {}

  EtcdStoreOptions options_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<std::size_t> preferred_{0};
  std::atomic<bool> closed_{false};
  std::mutex closeables_mutex_;
  std::vector<std::weak_ptr<Closeable>> closeables_;
};

// The error a closed store answers with.
Error ClosedError();

// Translates a failed gRPC status from etcd into the Store's error codes. Compacted and future
// revision errors are recognized by etcd's message; callers that know the revision involved turn
// them into CompactedError / FutureRevisionError.
Error FromGrpc(const grpc::Status& status, std::string_view what);
bool IsCompacted(const grpc::Status& status);
bool IsFutureRevision(const grpc::Status& status);
// Whether a broken stream or failed call may succeed when tried again (elsewhere or later).
bool IsTransient(const grpc::Status& status);
// Whether etcd refused the request before proposing it to the cluster, so it was certainly not
// applied and may be sent again even if it writes.
bool IsRefusedUnapplied(const grpc::Status& status);

KeyValue FromProto(const mvccpb::KeyValue& kv);

}  // namespace kpp::storage::etcd
