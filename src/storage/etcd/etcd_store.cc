#include "storage/etcd/etcd_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string_view>

#include "base/log.h"
#include "storage/etcd/etcd_connection.h"
#include "storage/etcd/etcd_watcher.h"

namespace kpp::storage {
namespace {

using etcd::Connection;
using etcd::Endpoint;
using etcd::FromGrpc;
using etcd::FromProto;
using etcd::IsCompacted;
using etcd::IsFutureRevision;

// Reads that only need the store's revision, or whether a revision is still readable, count
// this key (which need not exist) so that they transfer nothing.
constexpr std::string_view kProbeKey{"\0", 1};

etcdserverpb::Compare ToProto(const Compare& compare) {
  etcdserverpb::Compare proto;
  proto.set_key(compare.key);
  switch (compare.relation) {
    case Compare::Relation::kEqual: proto.set_result(etcdserverpb::Compare::EQUAL); break;
    case Compare::Relation::kNotEqual: proto.set_result(etcdserverpb::Compare::NOT_EQUAL); break;
    case Compare::Relation::kLess: proto.set_result(etcdserverpb::Compare::LESS); break;
    case Compare::Relation::kGreater: proto.set_result(etcdserverpb::Compare::GREATER); break;
  }
  switch (compare.target) {
    case Compare::Target::kVersion:
      proto.set_target(etcdserverpb::Compare::VERSION);
      proto.set_version(compare.number);
      break;
    case Compare::Target::kCreateRevision:
      proto.set_target(etcdserverpb::Compare::CREATE);
      proto.set_create_revision(compare.number);
      break;
    case Compare::Target::kModRevision:
      proto.set_target(etcdserverpb::Compare::MOD);
      proto.set_mod_revision(compare.number);
      break;
    case Compare::Target::kValue:
      proto.set_target(etcdserverpb::Compare::VALUE);
      proto.set_value(compare.value);
      break;
    case Compare::Target::kLease:
      proto.set_target(etcdserverpb::Compare::LEASE);
      proto.set_lease(compare.number);
      break;
  }
  return proto;
}

etcdserverpb::RequestOp ToProto(const TxnOp& op) {
  etcdserverpb::RequestOp proto;
  switch (op.type) {
    case TxnOp::Type::kPut: {
      etcdserverpb::PutRequest& put = *proto.mutable_request_put();
      put.set_key(op.key);
      put.set_value(op.value);
      put.set_lease(op.lease);
      put.set_prev_kv(true);
      break;
    }
    case TxnOp::Type::kDelete: {
      etcdserverpb::DeleteRangeRequest& remove = *proto.mutable_request_delete_range();
      remove.set_key(op.key);
      remove.set_prev_kv(true);
      break;
    }
    case TxnOp::Type::kGet: proto.mutable_request_range()->set_key(op.key); break;
  }
  return proto;
}

// etcd answers a put with the previous value only; the new record follows from it and the
// transaction's revision exactly as etcd derives it.
TxnOpResult PutResult(const TxnOp& op, const etcdserverpb::PutResponse& response,
                      Revision revision) {
  TxnOpResult result;
  if (response.has_prev_kv()) result.prev_kv = FromProto(response.prev_kv());
  result.kv =
      KeyValue{.key = op.key,
               .value = op.value,
               .create_revision = result.prev_kv ? result.prev_kv->create_revision : revision,
               .mod_revision = revision,
               .version = result.prev_kv ? result.prev_kv->version + 1 : 1,
               .lease = op.lease};
  return result;
}

Error LeaseNotFound(LeaseId id) {
  return NotFoundError(fmt::format("requested lease not found (lease {})", id));
}

class EtcdStore final : public Store {
 public:
  explicit EtcdStore(std::shared_ptr<Connection> connection) : connection_(std::move(connection)) {}

  ~EtcdStore() override { connection_->Close(); }

  Result<RangeResult> Range(const RangeRequest& request) override {
    KPP_RETURN_IF_ERROR(ValidateKey(request.key));
    if (request.revision < 0) return BadRequestError("negative revision");
    etcdserverpb::RangeRequest proto;
    proto.set_key(request.key);
    proto.set_range_end(request.range_end);
    proto.set_limit(request.limit);
    proto.set_revision(request.revision);
    etcdserverpb::RangeResponse response;
    const grpc::Status status = connection_->Call([&](Endpoint& endpoint, auto& context) {
      return endpoint.kv->Range(&context, proto, &response);
    });
    if (!status.ok()) return RevisionError(status, request.revision, "range");
    RangeResult result;
    result.kvs.reserve(response.kvs_size());
    for (const mvccpb::KeyValue& kv : response.kvs())
      result.kvs.push_back(FromProto(kv));
    result.more = response.more();
    result.count = response.count();
    // etcd's header carries the current revision even for a read at a past one.
    result.revision = request.revision != 0 ? request.revision : response.header().revision();
    return result;
  }

  Result<TxnResult> Txn(const TxnRequest& request) override {
    KPP_RETURN_IF_ERROR(ValidateTxn(request));
    etcdserverpb::TxnRequest proto;
    for (const Compare& compare : request.compares)
      *proto.add_compare() = ToProto(compare);
    for (const TxnOp& op : request.success)
      *proto.add_success() = ToProto(op);
    for (const TxnOp& op : request.failure)
      *proto.add_failure() = ToProto(op);
    const bool writes =
        std::any_of(proto.success().begin(), proto.success().end(),
                    [](const etcdserverpb::RequestOp& op) { return !op.has_request_range(); }) ||
        std::any_of(proto.failure().begin(), proto.failure().end(),
                    [](const etcdserverpb::RequestOp& op) { return !op.has_request_range(); });
    etcdserverpb::TxnResponse response;
    const grpc::Status status = connection_->Call(
        [&](Endpoint& endpoint, auto& context) {
          return endpoint.kv->Txn(&context, proto, &response);
        },
        writes ? Connection::Retry::kIfNotApplied : Connection::Retry::kAlways);
    if (!status.ok()) return FromGrpc(status, "txn");

    TxnResult result;
    result.succeeded = response.succeeded();
    result.revision = response.header().revision();
    const std::vector<TxnOp>& ops = result.succeeded ? request.success : request.failure;
    if (static_cast<std::size_t>(response.responses_size()) != ops.size())
      return InternalError(fmt::format("etcd txn: {} results for {} operations",
                                       response.responses_size(), ops.size()));
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const etcdserverpb::ResponseOp& op_response = response.responses(static_cast<int>(i));
      TxnOpResult op_result;
      switch (ops[i].type) {
        case TxnOp::Type::kPut:
          op_result = PutResult(ops[i], op_response.response_put(), result.revision);
          break;
        case TxnOp::Type::kDelete: {
          const auto& deleted = op_response.response_delete_range();
          if (deleted.prev_kvs_size() > 0) op_result.prev_kv = FromProto(deleted.prev_kvs(0));
          break;
        }
        case TxnOp::Type::kGet: {
          const auto& read = op_response.response_range();
          if (read.kvs_size() > 0) op_result.kv = FromProto(read.kvs(0));
          break;
        }
      }
      result.results.push_back(std::move(op_result));
    }
    return result;
  }

  Result<std::unique_ptr<Watcher>> Watch(const WatchRequest& request) override {
    KPP_RETURN_IF_ERROR(ValidateKey(request.key));
    if (request.start_revision < 0) return BadRequestError("negative start revision");
    Revision start = request.start_revision;
    if (start == 0) {
      // Pinning "now" to a revision lets the watch resume after a broken stream like any other.
      KPP_ASSIGN_OR_RETURN(const Revision current, CurrentRevision());
      start = current + 1;
    } else {
      // etcd reports a compacted start only later, on the stream; the contract wants it now.
      // A read at the start revision fails exactly when the watch would.
      const grpc::Status status = CountAt(start);
      if (!status.ok() && !IsFutureRevision(status)) return RevisionError(status, start, "watch");
    }
    const std::size_t buffer = request.max_buffered_events != 0
                                   ? request.max_buffered_events
                                   : connection_->options().watch_buffer_events;
    return etcd::StartWatch(connection_, request, start, buffer);
  }

  Status Compact(Revision revision) override {
    if (revision <= 0) return BadRequestError("compaction revision must be positive");
    etcdserverpb::CompactionRequest proto;
    proto.set_revision(revision);
    etcdserverpb::CompactionResponse response;
    const grpc::Status status = connection_->Call(
        [&](Endpoint& endpoint, auto& context) {
          return endpoint.kv->Compact(&context, proto, &response);
        },
        Connection::Retry::kIfNotApplied);
    if (!status.ok()) return RevisionError(status, revision, "compact");
    NoteCompacted(revision);
    return Ok();
  }

  Result<LeaseId> GrantLease(std::chrono::seconds ttl) override {
    if (ttl <= std::chrono::seconds(0)) return BadRequestError("lease TTL must be positive");
    etcdserverpb::LeaseGrantRequest proto;
    proto.set_ttl(ttl.count());
    etcdserverpb::LeaseGrantResponse response;
    const grpc::Status status = connection_->Call([&](Endpoint& endpoint, auto& context) {
      return endpoint.lease->LeaseGrant(&context, proto, &response);
    });
    if (!status.ok()) return FromGrpc(status, "lease grant");
    if (!response.error().empty()) return InternalError("etcd lease grant: " + response.error());
    return response.id();
  }

  Status RevokeLease(LeaseId id) override {
    etcdserverpb::LeaseRevokeRequest proto;
    proto.set_id(id);
    etcdserverpb::LeaseRevokeResponse response;
    const grpc::Status status = connection_->Call(
        [&](Endpoint& endpoint, auto& context) {
          return endpoint.lease->LeaseRevoke(&context, proto, &response);
        },
        Connection::Retry::kIfNotApplied);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return LeaseNotFound(id);
    if (!status.ok()) return FromGrpc(status, "lease revoke");
    return Ok();
  }

  Result<std::chrono::seconds> KeepAliveLease(LeaseId id) override {
    // etcd has keep-alive only as a stream; one request and its answer make it a unary call.
    etcdserverpb::LeaseKeepAliveRequest proto;
    proto.set_id(id);
    etcdserverpb::LeaseKeepAliveResponse response;
    const grpc::Status status = connection_->Call([&](Endpoint& endpoint, auto& context) {
      auto stream = endpoint.lease->LeaseKeepAlive(&context);
      const bool answered = stream->Write(proto) && stream->Read(&response);
      stream->WritesDone();
      grpc::Status finished = stream->Finish();
      if (answered) return grpc::Status::OK;
      if (finished.ok())
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream closed unanswered");
      return finished;
    });
    if (!status.ok()) return FromGrpc(status, "lease keep-alive");
    if (response.ttl() <= 0) return LeaseNotFound(id);
    return std::chrono::seconds(response.ttl());
  }

  Result<LeaseInfo> GetLease(LeaseId id) override {
    etcdserverpb::LeaseTimeToLiveRequest proto;
    proto.set_id(id);
    etcdserverpb::LeaseTimeToLiveResponse response;
    const grpc::Status status = connection_->Call([&](Endpoint& endpoint, auto& context) {
      return endpoint.lease->LeaseTimeToLive(&context, proto, &response);
    });
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return LeaseNotFound(id);
    if (!status.ok()) return FromGrpc(status, "lease time-to-live");
    if (response.ttl() < 0) return LeaseNotFound(id);
    return LeaseInfo{.id = id,
                     .granted_ttl = std::chrono::seconds(response.grantedttl()),
                     .remaining_ttl = std::chrono::seconds(response.ttl())};
  }

  Status Health() override {
    if (connection_->closed()) return etcd::ClosedError();
    etcdserverpb::StatusRequest proto;
    etcdserverpb::StatusResponse response;
    std::string member;
    const grpc::Status status = connection_->Call(
        [&](Endpoint& endpoint, auto& context) {
          member = endpoint.url;
          return endpoint.maintenance->Status(&context, proto, &response);
        },
        Connection::Retry::kAlways, /*require_leader=*/false);
    if (!status.ok())
      return Error(ErrorCode::kServiceUnavailable, FromGrpc(status, "status").message());
    if (response.leader() == 0)
      return Error(ErrorCode::kServiceUnavailable, fmt::format("etcd {}: no leader", member));
    if (response.errors_size() > 0)
      return Error(ErrorCode::kServiceUnavailable,
                   fmt::format("etcd {}: {}", member, fmt::join(response.errors(), "; ")));
    // A member can answer Status without a quorum; a linearizable read proves there is one.
    auto revision = CurrentRevision();
    if (!revision.ok())
      return Error(ErrorCode::kServiceUnavailable, std::move(revision).error().message());
    return Ok();
  }

  Result<Revision> CurrentRevision() override {
    etcdserverpb::RangeResponse response;
    const grpc::Status status = CountAt(0, &response);
    if (!status.ok()) return FromGrpc(status, "range");
    return response.header().revision();
  }

  // etcd keeps its compacted revision to itself, but a read below it fails: the smallest
  // readable revision is found by binary search from the highest compaction known so far.
  Result<Revision> CompactedRevision() override {
    if (connection_->closed()) return etcd::ClosedError();
    KPP_ASSIGN_OR_RETURN(Revision readable, CurrentRevision());  // always readable
    Revision unreadable = known_compacted_.load() - 1;           // below a compaction: gone
    if (unreadable < 0) unreadable = 0;
    while (readable - unreadable > 1) {
      const Revision middle = unreadable + (readable - unreadable) / 2;
      const grpc::Status status = CountAt(middle);
      if (status.ok()) {
        readable = middle;
      } else if (IsCompacted(status)) {
        unreadable = middle;
      } else {
        return FromGrpc(status, "range");
      }
    }
    // Revision 1 readable: never compacted (or compacted at 1, which reads the same).
    const Revision compacted = readable == 1 ? known_compacted_.load() : readable;
    NoteCompacted(compacted);
    return compacted;
  }

 private:
  // A count-only read of the probe key at `revision` (0 = current).
  grpc::Status CountAt(Revision revision, etcdserverpb::RangeResponse* response = nullptr) {
    etcdserverpb::RangeRequest proto;
    proto.set_key(std::string(kProbeKey));
    proto.set_count_only(true);
    proto.set_revision(revision);
    etcdserverpb::RangeResponse ignored;
    etcdserverpb::RangeResponse* out = response != nullptr ? response : &ignored;
    return connection_->Call([&](Endpoint& endpoint, auto& context) {
      return endpoint.kv->Range(&context, proto, out);
    });
  }

  // The Store's errors for a request at `revision`, with the numbers the other backends give.
  Error RevisionError(const grpc::Status& status, Revision revision, std::string_view what) {
    if (IsCompacted(status)) {
      auto compacted = CompactedRevision();
      return CompactedError(revision, compacted.ok() ? *compacted : known_compacted_.load());
    }
    if (IsFutureRevision(status)) {
      auto current = CurrentRevision();
      return FutureRevisionError(revision, current.ok() ? *current : 0);
    }
    return FromGrpc(status, what);
  }

  void NoteCompacted(Revision revision) {
    Revision known = known_compacted_.load();
    while (revision > known && !known_compacted_.compare_exchange_weak(known, revision)) {
    }
  }

  const std::shared_ptr<Connection> connection_;
  std::atomic<Revision> known_compacted_{0};
};

}  // namespace

Result<std::unique_ptr<Store>> OpenEtcdStore(const EtcdStoreOptions& options) {
  KPP_ASSIGN_OR_RETURN(std::shared_ptr<Connection> connection, Connection::Create(options));
  // One status request proves that some member answers (and that TLS works) before the store is
  // handed out; the error names every endpoint, since the operator typed them.
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  const grpc::Status status = connection->Call(
      [&](Endpoint& endpoint, auto& context) {
        return endpoint.maintenance->Status(&context, request, &response);
      },
      Connection::Retry::kAlways, /*require_leader=*/false);
  if (!status.ok())
    return Error(ErrorCode::kServiceUnavailable,
                 fmt::format("cannot reach etcd at {}: {}", connection->EndpointList(),
                             status.error_message()));
  KLOG_INFO("etcd: connected to {} (etcd {}, revision {})",
            connection->endpoint(connection->preferred()).url, response.version(),
            response.header().revision());
  return std::unique_ptr<Store>(std::make_unique<EtcdStore>(std::move(connection)));
}

}  // namespace kpp::storage
