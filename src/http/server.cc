// HTTPS server on Boost.Beast with C++20 coroutines. This is the only translation unit that
// includes Beast/Asio for serving; keep it that way so the build stays fast.
#include "http/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <strings.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "base/log.h"
#include "http/worker_pool.h"

namespace kpp::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kWriteTimeout = 60s;
constexpr auto kShutdownTimeout = 2s;
constexpr auto kStoppingShutdownTimeout = 100ms;
constexpr auto kDrainTimeout = 5s;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Upstream's Go server allows 1 MiB of headers.
constexpr uint32_t kMaxHeaderBytes = 1 << 20;
constexpr size_t kReadChunk = 16 * 1024;
// How long and how much of a refused body the server reads and drops before it closes.
constexpr auto kDiscardTimeout = 5s;
constexpr size_t kMaxDiscardBytes = 64 * 1024 * 1024;

std::optional<ClientCertificate> VerifiedClientCertificate(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  ClientCertificate identity;
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) identity.common_name = std::move(value);
    if (nid == NID_organizationName) identity.organizations.push_back(std::move(value));
  }
  return identity;
}

Status ConfigureTls(ssl::context& context, const TlsConfig& tls) {
  boost::system::error_code ec;
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  context.use_certificate_chain(asio::buffer(tls.certificate_pem), ec);
  if (ec) return InvalidError("loading serving certificate: " + ec.message());
  context.use_private_key(asio::buffer(tls.private_key_pem), ssl::context::pem, ec);
  if (ec) return InvalidError("loading serving key: " + ec.message());
  if (!tls.client_ca_pem.empty()) {
    context.add_certificate_authority(asio::buffer(tls.client_ca_pem), ec);
    if (ec) return InvalidError("loading client CA: " + ec.message());
    // Tell clients which CA we accept, so that they offer the matching certificate.
    BIO* bio =
        BIO_new_mem_buf(tls.client_ca_pem.data(), static_cast<int>(tls.client_ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (ca == nullptr) return InvalidError("loading client CA: not a PEM certificate");
    SSL_CTX_add_client_CA(native, ca);
    X509_free(ca);
    SSL_CTX_set_purpose(native, X509_PURPOSE_SSL_CLIENT);
    // Ask for a certificate but let the handshake succeed without a good one: authentication
    // happens per request, so anonymous endpoints (/version, /healthz) stay reachable and a bad
    // certificate gets a 401 Status rather than a TLS alert.
    context.set_verify_mode(ssl::verify_peer);
    context.set_verify_callback([](bool, ssl::verify_context&) { return true; });
  }
  return Ok();
}

// Cuts a streamed body into WebSocket messages of one watch event each: JSON events are lines,
// protobuf ones carry a 4-byte big-endian length, which the message boundary replaces. A piece
// may hold several events or end inside one.
class WebSocketFramer {
 public:
  explicit WebSocketFramer(bool length_prefixed) : length_prefixed_(length_prefixed) {}

  std::vector<std::string> Messages(std::string_view piece) {
    pending_.append(piece);
    std::vector<std::string> messages;
    size_t position = 0;
    while (true) {
      if (length_prefixed_) {
        if (pending_.size() - position < 4) break;
        const auto* bytes = reinterpret_cast<const unsigned char*>(pending_.data() + position);
        const size_t length = (size_t{bytes[0]} << 24) | (size_t{bytes[1]} << 16) |
                              (size_t{bytes[2]} << 8) | size_t{bytes[3]};
        if (pending_.size() - position - 4 < length) break;
        messages.push_back(pending_.substr(position + 4, length));
        position += 4 + length;
      } else {
        const size_t end = pending_.find('\n', position);
        if (end == std::string::npos) break;
        messages.push_back(pending_.substr(position, end + 1 - position));
        position = end + 1;
      }
    }
    pending_.erase(0, position);
    return messages;
  }

 private:
  const bool length_prefixed_;
  std::string pending_;
};

class BeastServer final : public Server {
 public:
  BeastServer(const ServerOptions& options, Handler handler)
      : options_(options),
        handler_(std::move(handler)),
        acceptor_(io_),
        workers_({.min_threads = options.min_handler_threads,
                  .max_threads = options.max_handler_threads}) {}
  ~BeastServer() override { Stop(); }

  Status Start() {
    KPP_RETURN_IF_ERROR(ConfigureTls(ssl_context_, options_.tls));
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options_.bind_address, ec);
    if (ec) return InvalidError("invalid bind address " + options_.bind_address);
    const tcp::endpoint endpoint(address, options_.port);
    const std::string where = address.is_v6()
                                  ? fmt::format("[{}]:{}", options_.bind_address, options_.port)
                                  : fmt::format("{}:{}", options_.bind_address, options_.port);
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return InternalError(fmt::format("cannot listen on {}: {}", where, ec.message()));
    }
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) {
      return InternalError(fmt::format("cannot listen on {}: {}", where, ec.message()));
    }
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
      return InternalError(fmt::format("cannot listen on {}: {}", where, ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, AcceptLoop(), asio::detached);
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopping_.exchange(true)) return;
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    {
      std::unique_lock lock(mutex_);
      for (const auto& [key, weak] : connections_) {
        auto connection = weak.lock();
        if (!connection) continue;
        // Connections in a handshake or idle between requests wait for the peer; cancel that
        // wait. A request being handled finishes, and then its connection sees stopping_.
        asio::post(connection->stream.get_executor(), [connection] {
          if (connection->streaming) connection->streaming->Cancel();
          if (!connection->in_request) beast::get_lowest_layer(connection->stream).cancel();
        });
      }
      drained_.wait_for(lock, kDrainTimeout, [this] { return connections_.empty(); });
    }
    io_.stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    // A handler still running past the drain ends here; its answer goes nowhere.
    workers_.Stop();
  }

 private:
  struct Connection {
    Connection(tcp::socket socket, ssl::context& context) : stream(std::move(socket), context) {}
    beast::ssl_stream<beast::tcp_stream> stream;
    bool in_request = false;  // handling or answering a request; only touched on the strand
    std::shared_ptr<BodyStream> streaming;  // the body being streamed; only touched on the strand
    std::string remote_address;
  };

  asio::awaitable<void> AcceptLoop() {
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kNoThrow);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        KLOG_WARNING("accept failed: {}", ec.message());
        continue;
      }
      auto connection = std::make_shared<Connection>(std::move(socket), ssl_context_);
      boost::system::error_code ignored;
      const auto remote =
          beast::get_lowest_layer(connection->stream).socket().remote_endpoint(ignored);
      connection->remote_address =
          remote.address().to_string() + ":" + std::to_string(remote.port());
      {
        std::lock_guard lock(mutex_);
        connections_.emplace(connection.get(), connection);
      }
      asio::co_spawn(connection->stream.get_executor(), Serve(connection), asio::detached);
    }
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection) {
    co_await ServeRequests(*connection);
    std::lock_guard lock(mutex_);
    connections_.erase(connection.get());
    if (connections_.empty()) drained_.notify_all();
  }

  asio::awaitable<void> ServeRequests(Connection& connection) {
    auto& stream = connection.stream;
    auto& transport = beast::get_lowest_layer(stream);
    if (stopping_) co_return;
    transport.expires_after(options_.handshake_timeout);
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kNoThrow); ec) {
      KLOG_V(4, "TLS handshake with {} failed: {}", connection.remote_address, ec.message());
      co_return;
    }
    const auto client_certificate = VerifiedClientCertificate(stream.native_handle());
    beast::flat_buffer buffer;
    while (true) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options_.max_request_body_bytes);
      parser.header_limit(kMaxHeaderBytes);
      connection.in_request = false;
      if (stopping_) break;
      if (buffer.size() == 0) {
        // Between requests the peer may think as long as the idle timeout; once it has begun a
        // request, the head must arrive within the header timeout.
        transport.expires_after(options_.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kNoThrow);
        if (ec) break;
        buffer.commit(n);
      }
      transport.expires_after(options_.header_timeout);
      auto [read_error, read_bytes] =
          co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
      if (!read_error) {
        const auto& head = parser.get();
        if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> go_on(bhttp::status::continue_, head.version());
          transport.expires_after(kWriteTimeout);
          co_await bhttp::async_write(stream, go_on, kNoThrow);
        }
        transport.expires_after(options_.body_timeout);
        std::tie(read_error, read_bytes) =
            co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
      }
      connection.in_request = true;
      const auto started = std::chrono::steady_clock::now();
      bhttp::response<bhttp::string_body> response;
      bool keep_alive = false;
      bool refused_body = false;
      if (read_error == bhttp::error::body_limit) {
        // The body is not read to its end, so the connection cannot carry another request.
        Request request = BuildRequest(parser.get(), connection, client_certificate, false);
        Response refused = ErrorResponse(413, options_.body_too_large_message.empty()
                                                  ? std::string("request body too large")
                                                  : options_.body_too_large_message);
        Observe(request, refused, started);
        ToBeast(std::move(refused), response);
        response.version(parser.get().version());
        refused_body = true;
      } else if (read_error) {
        break;  // peer closed, timed out, or sent garbage: nothing sensible to answer
      } else {
        auto message = parser.release();
        response.version(message.version());
        keep_alive = message.keep_alive();
        Request request = BuildRequest(message, connection, client_certificate, true);
        Response answer;
        if (request.method.empty()) {
          answer = ErrorResponse(400, "malformed request target");
          Observe(request, answer, started);
        } else {
          answer = co_await HandleOnWorker(std::move(request), started);
        }
        std::shared_ptr<BodyStream> body_stream = std::move(answer.stream);
        ToBeast(std::move(answer), response);
        if (body_stream && response.result() == bhttp::status::ok &&
            beast::websocket::is_upgrade(message)) {
          co_await StreamWebSocket(connection, message, response, std::move(body_stream));
          break;
        }
        if (body_stream) {
          co_await StreamBody(connection, std::move(response), std::move(body_stream));
          break;
        }
      }
      keep_alive = keep_alive && !stopping_;
      response.keep_alive(keep_alive);
      response.prepare_payload();
      transport.expires_after(kWriteTimeout);
      auto [write_error, written] = co_await bhttp::async_write(stream, response, kNoThrow);
      if (!write_error && refused_body) co_await DiscardRest(connection);
      if (write_error || !keep_alive) break;
    }
    // A stopping server sends its close_notify but does not wait long for the peer's: an idle
    // client (a pooled keep-alive connection) would not answer before kShutdownTimeout.
    transport.expires_after(stopping_ ? kStoppingShutdownTimeout : kShutdownTimeout);
    co_await stream.async_shutdown(kNoThrow);
  }

  // After an early answer to a body we refused, the client may still be sending it: closing now
  // would reset the connection and could destroy the answer before the client reads it (Go's
  // client then reports "connection reset by peer"). So read and drop what it still sends,
  // for a while, until it closes.
  asio::awaitable<void> DiscardRest(Connection& connection) {
    auto& transport = beast::get_lowest_layer(connection.stream);
    transport.expires_after(kDiscardTimeout);
    std::vector<char> scratch(kReadChunk);
    size_t discarded = 0;
    while (discarded < kMaxDiscardBytes && !stopping_) {
      auto [ec, n] = co_await connection.stream.async_read_some(asio::buffer(scratch), kNoThrow);
      if (ec) break;
      discarded += n;
    }
  }

  // Sends the head of `response`, then the pieces `body` produces until it ends, the client
  // goes away or the server stops. The producer runs on its own thread and hands pieces over
  // through a small channel, so a slow client holds the producer back instead of buffering.
  asio::awaitable<void> StreamBody(Connection& connection,
                                   bhttp::response<bhttp::string_body> response,
                                   std::shared_ptr<BodyStream> body) {
    using Channel =
        asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;
    auto& stream = connection.stream;
    auto& transport = beast::get_lowest_layer(stream);
    bhttp::response<bhttp::empty_body> head(response.result(), response.version());
    for (const auto& field : response)
      head.insert(field.name_string(), field.value());
    head.chunked(true);
    head.keep_alive(false);
    bhttp::response_serializer<bhttp::empty_body> serializer(head);
    transport.expires_after(kWriteTimeout);
    if (auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kNoThrow); ec) {
      co_return;
    }
    connection.streaming = body;
    auto channel = std::make_shared<Channel>(stream.get_executor(), 8);
    std::thread([body, channel] {
      try {
        while (auto piece = body->Next()) {
          if (piece->empty()) continue;
          channel->async_send(boost::system::error_code(), std::move(*piece), asio::use_future)
              .get();
        }
        channel->async_send(asio::error::eof, std::string(), asio::use_future).get();
      } catch (const std::exception&) {
        // The channel was closed: the connection is gone.
      }
    }).detach();
    while (!stopping_) {
      transport.expires_never();
      auto [ec, piece] = co_await channel->async_receive(kNoThrow);
      if (ec) break;
      transport.expires_after(kWriteTimeout);
      auto [write_error, n] =
          co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(piece)), kNoThrow);
      if (write_error) break;
    }
    body->Cancel();
    channel->close();
    connection.streaming.reset();
    transport.expires_after(kWriteTimeout);
    co_await asio::async_write(stream, bhttp::make_chunk_last(), kNoThrow);
  }

  // A streamed answer to a WebSocket upgrade request (a watch, as upstream serves one to
  // browsers and to clients such as Python's): the same pieces, one message per event, text for
  // JSON and binary for protobuf, and a normal close at the end. The client is not expected to
  // send anything; a reader still runs, to answer pings and to see the client leave.
  asio::awaitable<void> StreamWebSocket(Connection& connection,
                                        const bhttp::request<bhttp::string_body>& upgrade,
                                        const bhttp::response<bhttp::string_body>& response,
                                        std::shared_ptr<BodyStream> body) {
    namespace websocket = beast::websocket;
    using Channel =
        asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;
    auto& transport = beast::get_lowest_layer(connection.stream);
    websocket::stream<beast::ssl_stream<beast::tcp_stream>&> socket(connection.stream);
    const bool binary =
        response[bhttp::field::content_type].find("protobuf") != beast::string_view::npos;
    // Upstream's watch takes any subprotocol and frames events the same way whatever it is; the
    // handshake answers with the first one offered.
    std::string protocol(upgrade[bhttp::field::sec_websocket_protocol]);
    protocol = protocol.substr(0, protocol.find(','));
    while (!protocol.empty() && protocol.back() == ' ')
      protocol.pop_back();
    while (!protocol.empty() && protocol.front() == ' ')
      protocol.erase(0, 1);
    socket.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
      if (!protocol.empty()) res.set(bhttp::field::sec_websocket_protocol, protocol);
    }));
    // The WebSocket layer keeps its own timers (handshake, and pings to a silent peer), so the
    // transport's are turned off.
    transport.expires_never();
    socket.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    socket.read_message_max(64 * 1024);
    if (auto [ec] = co_await socket.async_accept(upgrade, kNoThrow); ec) {
      // A stream learns it is done when Next says so (a watcher leaves its cache then), so it
      // is still run to its end, off this thread.
      body->Cancel();
      std::thread([body] {
        while (body->Next()) {
        }
      }).detach();
      co_return;
    }
    socket.binary(binary);
    // One frame per event, as upstream sends them; some clients read frames, not messages.
    socket.auto_fragment(false);
    connection.streaming = body;
    auto channel = std::make_shared<Channel>(connection.stream.get_executor(), 8);
    std::thread([body, channel] {
      try {
        while (auto piece = body->Next()) {
          if (piece->empty()) continue;
          channel->async_send(boost::system::error_code(), std::move(*piece), asio::use_future)
              .get();
        }
        channel->async_send(asio::error::eof, std::string(), asio::use_future).get();
      } catch (const std::exception&) {
        // The channel was closed: the connection is gone.
      }
    }).detach();
    // The reader runs on this strand beside the writer; the writer waits for it before `socket`
    // goes away.
    asio::steady_timer reader_done(connection.stream.get_executor(),
                                   asio::steady_timer::time_point::max());
    bool reader_finished = false;
    asio::co_spawn(
        connection.stream.get_executor(),
        [&socket, &reader_done, &reader_finished, body, channel]() -> asio::awaitable<void> {
          beast::flat_buffer ignored;
          while (true) {
            auto [ec, n] = co_await socket.async_read(ignored, kNoThrow);
            if (ec) break;
            ignored.consume(ignored.size());
          }
          body->Cancel();
          channel->cancel();
          reader_finished = true;
          reader_done.cancel();
        },
        asio::detached);
    WebSocketFramer framer(binary);
    bool open = true;
    while (open && !stopping_) {
      auto [ec, piece] = co_await channel->async_receive(kNoThrow);
      if (ec) break;
      for (const auto& message : framer.Messages(piece)) {
        auto [write_error, n] = co_await socket.async_write(asio::buffer(message), kNoThrow);
        if (write_error) {
          open = false;
          break;
        }
      }
    }
    body->Cancel();
    channel->close();
    connection.streaming.reset();
    if (open) co_await socket.async_close(websocket::close_code::normal, kNoThrow);
    if (!reader_finished) {
      // A failed write leaves the reader waiting for a peer that may never speak again.
      if (!open) transport.cancel();
      co_await reader_done.async_wait(kNoThrow);
    }
  }

  // The request as handlers see it; an empty method means the target could not be parsed.
  // The body is moved out of `message` when `with_body`.
  template <typename Message>
  static Request BuildRequest(Message& message, const Connection& connection,
                              const std::optional<ClientCertificate>& client_certificate,
                              bool with_body) {
    Request request;
    request.client_certificate = client_certificate;
    request.remote_address = connection.remote_address;
    for (const auto& field : message) {
      request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    if (!ParseRequestTarget(message.target(), request)) return request;
    request.method = std::string(message.method_string());
    if constexpr (requires { message.body(); }) {
      if (with_body) request.body = std::move(message.body());
    }
    return request;
  }

  Response ErrorResponse(int status, const std::string& message) const {
    if (options_.error_response) return options_.error_response(status, message);
    return Response{status, {{"Content-Type", "text/plain; charset=utf-8"}}, message + "\n"};
  }

  void Observe(const Request& request, const Response& response,
               std::chrono::steady_clock::time_point started) const {
    if (!options_.observer) return;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    try {
      options_.observer(request, response, elapsed.count());
    } catch (const std::exception& e) {
      KLOG_ERROR("response observer threw: {}", e.what());
    }
  }

  Response CallHandler(const Request& request) const {
    try {
      return handler_(request);
    } catch (const std::exception& e) {
      KLOG_ERROR("handler for {} {} threw: {}", request.method, request.path, e.what());
      return Response{500, {}, "internal error\n"};
    }
  }

  // A handler's answer on its way from a worker thread back to the connection's strand. The
  // worker cancels the timer to wake the connection; if the timer fires first, the request has
  // overrun its timeout and the answer, when it comes, is dropped.
  struct PendingAnswer {
    explicit PendingAnswer(const asio::any_io_executor& executor) : wake(executor) {}
    asio::steady_timer wake;
    std::atomic<bool> done{false};
    Response response;
  };

  // Runs the handler on a worker thread; resumes on the connection's strand.
  asio::awaitable<Response> HandleOnWorker(Request request,
                                           std::chrono::steady_clock::time_point started) {
    const auto executor = co_await asio::this_coro::executor;
    auto pending = std::make_shared<PendingAnswer>(executor);
    const auto timeout =
        options_.request_timeout ? options_.request_timeout(request) : std::chrono::milliseconds(0);
    if (timeout > std::chrono::milliseconds(0)) {
      pending->wake.expires_after(timeout);
    } else {
      pending->wake.expires_at(asio::steady_timer::time_point::max());
    }
    auto shared_request = std::make_shared<const Request>(std::move(request));
    workers_.Submit([this, pending, shared_request] {
      pending->response = CallHandler(*shared_request);
      pending->done.store(true, std::memory_order_release);
      asio::post(pending->wake.get_executor(), [pending] { pending->wake.cancel(); });
    });
    // The worker's cancel is posted to this strand, so it cannot run before this wait starts.
    co_await pending->wake.async_wait(kNoThrow);
    Response answer;
    if (pending->done.load(std::memory_order_acquire)) {
      answer = std::move(pending->response);
    } else {
      KLOG_V(2, "{} {} overran its timeout of {} ms", shared_request->method,
             shared_request->target, timeout.count());
      answer = ErrorResponse(504, options_.request_timeout_message);
    }
    Observe(*shared_request, answer, started);
    co_return answer;
  }

  static void ToBeast(Response&& response, bhttp::response<bhttp::string_body>& out) {
    out.result(static_cast<unsigned>(response.status));
    for (auto& header : response.headers)
      out.insert(header.name, header.value);
    out.body() = std::move(response.body);
  }

  const ServerOptions options_;
  const Handler handler_;
  ssl::context ssl_context_{ssl::context::tls_server};
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable drained_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;  // guarded by mutex_
  // Declared after io_, so it is gone before io_ is: its tasks post to io_'s strands.
  WorkerPool workers_;
};

}  // namespace

Result<ServerPtr> StartServer(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<BeastServer>(options, std::move(handler));
  KPP_RETURN_IF_ERROR(server->Start());
  return ServerPtr(std::move(server));
}

}  // namespace kpp::http
