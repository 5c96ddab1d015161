#include "storage/etcd/etcd_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <thread>

#include "base/files.h"
#include "base/log.h"

namespace kpp::storage::etcd {
namespace {

struct ParsedEndpoint {
  std::string target;  // host:port for gRPC
  bool tls = false;
};

Result<ParsedEndpoint> ParseEndpoint(std::string_view url, bool tls_by_default) {
  ParsedEndpoint parsed{.target = {}, .tls = tls_by_default};
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    parsed.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    parsed.tls = false;
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return BadRequestError(
        fmt::format("etcd endpoint {}: only http:// and https:// URLs are supported", url));
  }
  while (rest.ends_with('/'))
    rest.remove_suffix(1);
  const std::size_t colon = rest.rfind(':');
  const std::size_t bracket = rest.rfind(']');
  if (rest.empty() || colon == std::string_view::npos || colon + 1 == rest.size() ||
      (bracket != std::string_view::npos && bracket > colon) || rest.find('/') != rest.npos)
    return BadRequestError(fmt::format("etcd endpoint {}: expected [scheme://]host:port", url));
  parsed.target = std::string(rest);
  return parsed;
}

Result<std::string> ReadPem(const std::string& path, std::string_view what) {
  auto content = ReadFile(path);
  if (!content.ok())
    return BadRequestError(fmt::format("etcd {} {}: {}", what, path, content.error().message()));
  return std::move(*content);
}

Result<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentials(const EtcdStoreOptions& options) {
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    KPP_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(options.ca_file, "CA file"));
  }
  if (options.cert_file.empty() != options.key_file.empty())
    return BadRequestError("etcd client certificate and key must be given together");
  if (!options.cert_file.empty()) {
    KPP_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem(options.cert_file, "client certificate"));
    KPP_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem(options.key_file, "client key"));
  }
  return grpc::SslCredentials(ssl);
}

grpc::ChannelArguments ChannelArguments() {
  grpc::ChannelArguments arguments;
  // Lists of a whole resource type can be large; etcd's own client accepts any size too.
  arguments.SetMaxReceiveMessageSize(INT_MAX);
  arguments.SetMaxSendMessageSize(INT_MAX);
  // Reconnect quickly after a member restarts instead of gRPC's default backoff of up to 2 min.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Detect a member that vanished without closing the connection (watch streams are otherwise
  // silent). etcd accepts pings every 5 s or more while streams are open.
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  return arguments;
}

// Pauses between rounds over the endpoints while the cluster has no leader. An election takes
// about one election timeout (1 s by default).
constexpr std::chrono::milliseconds kFirstRoundPause{25};
constexpr std::chrono::milliseconds kMaxRoundPause{500};

std::chrono::system_clock::time_point DeadlineAfter(std::chrono::milliseconds duration) {
  return std::chrono::system_clock::now() + duration;
}

}  // namespace

Result<std::shared_ptr<Connection>> Connection::Create(const EtcdStoreOptions& options) {
  if (options.endpoints.empty()) return BadRequestError("no etcd endpoint given");
  const bool tls_by_default =
      !options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty();
  std::shared_ptr<grpc::ChannelCredentials> tls;
  std::shared_ptr<Connection> connection(new Connection(options));
  for (const std::string& url : options.endpoints) {
    KPP_ASSIGN_OR_RETURN(ParsedEndpoint parsed, ParseEndpoint(url, tls_by_default));
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    if (parsed.tls) {
      if (!tls) {
        KPP_ASSIGN_OR_RETURN(tls, TlsCredentials(options));
      }
      credentials = tls;
    } else {
      credentials = grpc::InsecureChannelCredentials();
    }
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->url = url;
    endpoint->channel = grpc::CreateCustomChannel(parsed.target, credentials, ChannelArguments());
    endpoint->kv = etcdserverpb::KV::NewStub(endpoint->channel);
    endpoint->watch = etcdserverpb::Watch::NewStub(endpoint->channel);
    endpoint->lease = etcdserverpb::Lease::NewStub(endpoint->channel);
    endpoint->maintenance = etcdserverpb::Maintenance::NewStub(endpoint->channel);
    connection->endpoints_.push_back(std::move(endpoint));
  }
  return connection;
}

std::string Connection::EndpointList() const {
  std::string list;
  for (const auto& endpoint : endpoints_) {
    if (!list.empty()) list += ", ";
    list += endpoint->url;
  }
  return list;
}

bool Connection::Connect(Endpoint& endpoint) {
  // Waits while the channel is (re)connecting, but gives up at once on a failed attempt (e.g.
  // connection refused), so a dead member costs nothing and a silent one at most dial_timeout.
  const auto deadline = DeadlineAfter(options_.dial_timeout);
  grpc_connectivity_state state = endpoint.channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!endpoint.channel->WaitForStateChange(state, deadline)) return false;
    state = endpoint.channel->GetState(/*try_to_connect=*/true);
  }
  return true;
}

grpc::Status Connection::Call(
    const std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>& rpc, Retry retry,
    bool require_leader) {
  if (closed()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the store is closed");
  const auto give_up_at = std::chrono::steady_clock::now() + options_.request_timeout;
  std::chrono::milliseconds pause = kFirstRoundPause;
  while (true) {
    const std::size_t first = preferred();
    bool answered = false;  // some member was reachable in this round
    std::string failures;
    for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
      const std::size_t index = (first + attempt) % endpoints_.size();
      Endpoint& target = *endpoints_[index];
      grpc::Status status;
      if (!Connect(target)) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              fmt::format("cannot connect (refused, or no answer within {} ms)",
                                          options_.dial_timeout.count()));
      } else {
        answered = true;
        grpc::ClientContext context;
        context.set_deadline(DeadlineAfter(options_.request_timeout));
        // etcd's own client sends this too: without it a member with no leader holds a write
        // until its own timeout and then fails it, indistinguishable from a write that may have
        // been applied, instead of refusing it at once.
        if (require_leader) context.AddMetadata("hasleader", "true");
        status = rpc(target, context);
        const bool refused = IsRefusedUnapplied(status);
        const bool may_repeat = refused || (retry == Retry::kAlways &&
                                            status.error_code() == grpc::StatusCode::UNAVAILABLE);
        if (!may_repeat) {
          if (status.ok() && attempt > 0) {
            KLOG_WARNING("etcd: switched to endpoint {}", target.url);
            Prefer(index);
          }
          if (status.ok() || retry == Retry::kAlways || !IsTransient(status)) return status;
          // Sent, then the answer was lost or was a timeout: the write may yet be applied, so it
          // is not sent again, which could apply it twice or report its own first attempt as a
          // conflict. etcd's own client draws the same line.
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              fmt::format("{}: {} (the write may or may not have been applied)",
                                          target.url, status.error_message()));
        }
      }
      if (!failures.empty()) failures += "; ";
      failures += fmt::format("{}: {}", target.url, status.error_message());
    }
    // A cluster electing a leader answers "no leader" for a moment; one that cannot be reached
    // is not waited for.
    if (!answered || closed() || std::chrono::steady_clock::now() + pause >= give_up_at)
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          fmt::format("no etcd endpoint answered ({})", failures));
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kMaxRoundPause);
  }
}

void Connection::Register(const std::shared_ptr<Closeable>& closeable) {
  std::lock_guard lock(closeables_mutex_);
  std::erase_if(closeables_, [](const std::weak_ptr<Closeable>& c) { return c.expired(); });
  closeables_.push_back(closeable);
}

void Connection::Close() {
  closed_.store(true);
  std::vector<std::weak_ptr<Closeable>> closeables;
  {
    std::lock_guard lock(closeables_mutex_);
    closeables.swap(closeables_);
  }
  for (const auto& weak : closeables) {
    if (auto closeable = weak.lock()) closeable->Close(ClosedError());
  }
}

Error ClosedError() {
  return Error(ErrorCode::kServiceUnavailable, "the store is closed");
}

bool IsCompacted(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::OUT_OF_RANGE &&
         status.error_message().find("required revision has been compacted") != std::string::npos;
}

bool IsFutureRevision(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::OUT_OF_RANGE &&
         status.error_message().find("required revision is a future revision") != std::string::npos;
}

bool IsRefusedUnapplied(const grpc::Status& status) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      // The request interceptor's refusals, before the request is looked at.
      return message == "etcdserver: no leader" || message == "etcdserver: not capable" ||
             message == "etcdserver: rpc not supported for learner";
    case grpc::StatusCode::UNKNOWN:
      // Raft would not take the proposal (no leader, or leadership in transfer): it is in no
      // member's log. etcd passes this error on without a code of its own.
      return message == "raft proposal dropped";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      // Applying lags too far behind committing; checked before proposing.
      return message == "etcdserver: too many requests";
    default: return false;
  }
}

bool IsTransient(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::CANCELLED:  // a member shutting down cancels its streams
      return true;
    default: return false;
  }
}

Error FromGrpc(const grpc::Status& status, std::string_view what) {
  std::string message = fmt::format("etcd {}: {}", what, status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE: return BadRequestError(std::move(message));
    case grpc::StatusCode::NOT_FOUND: return NotFoundError(std::move(message));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return Error(ErrorCode::kServiceUnavailable, std::move(message));
    default: return InternalError(std::move(message));
  }
}

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{.key = kv.key(),
                  .value = kv.value(),
                  .create_revision = kv.create_revision(),
                  .mod_revision = kv.mod_revision(),
                  .version = kv.version(),
                  .lease = kv.lease()};
}

}  // namespace kpp::storage::etcd
