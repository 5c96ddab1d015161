// Beast/Asio live here only. Each connection owns an io_context that runs on the calling thread
// for the length of one exchange, so a blocking call gets Beast's timeouts (tcp_stream expiry)
// and can be cancelled from another thread by posting to that io_context.
#include "client/rest/transport.h"

#include <fmt/format.h>
#include <strings.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace kpp::client::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0) {
      return value;
    }
  }
  return "";
}

void StreamCanceller::Cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  if (cancel_) cancel_();
}

bool StreamCanceller::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool StreamCanceller::Attach(std::function<void()> cancel) {
  std::lock_guard lock(mutex_);
  if (cancelled_) return false;
  cancel_ = std::move(cancel);
  return true;
}

void StreamCanceller::Detach() {
  std::lock_guard lock(mutex_);
  cancel_ = nullptr;
}

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(30);
constexpr size_t kMaxIdleConnections = 32;

struct Connection {
  explicit Connection(ssl::context& tls)
      : tls_stream(io, tls), tcp_stream(tls_stream.next_layer()) {}
  asio::io_context io;
  ssl::stream<beast::tcp_stream> tls_stream;
  beast::tcp_stream& tcp_stream;  // under tls_stream; its expiry is the timeout of every step
  beast::flat_buffer buffer;
  bool use_tls = true;
  bool reused = false;

  // Runs `start(handler)` to completion on this thread; the handler's error code is returned.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result;
    bool done = false;
    start([&](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    if (!done) result = asio::error::operation_aborted;
    return result;
  }
};

}  // namespace

class HttpsTransport final : public Transport {
 public:
  HttpsTransport(std::string host, std::string port, bool use_tls, std::string server_name,
                 bool verify)
      : host_(std::move(host)),
        port_(std::move(port)),
        use_tls_(use_tls),
        server_name_(std::move(server_name)),
        verify_(verify),
        tls_(ssl::context::tls_client) {}

  ssl::context& tls() { return tls_; }

  TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                          std::chrono::milliseconds timeout) override {
    for (int attempt = 0;; ++attempt) {
      auto connection = attempt == 0 ? Acquire() : Connect();
      if (!connection.ok()) return TransportFailure{connection.error().message(), false};
      auto& conn = **connection;
      const bool reused = conn.reused;
      bool got_bytes = false;
      auto result = Exchange(conn, request, timeout, &got_bytes);
      if (std::holds_alternative<TransportFailure>(result)) {
        // A pooled connection the server closed while idle fails before any answer: the
        // request was not processed, so it is sent once more on a fresh connection. The other
        // idle ones are likely as dead (a restarted server), so they go too.
        if (reused && !got_bytes && attempt == 0) {
          std::lock_guard lock(mutex_);
          idle_.clear();
          continue;
        }
        return result;
      }
      auto& response = std::get<HttpResponse>(result);
      if (response.Header("Connection") != "close") Release(std::move(*connection));
      return result;
    }
  }

  TransportResult<HttpResponse> Stream(const HttpRequest& request,
                                       const std::function<bool(std::string_view)>& on_body,
                                       StreamCanceller* canceller,
                                       std::chrono::milliseconds idle_timeout) override {
    // A stream holds its connection for long; it gets a fresh one and never returns it.
    auto connection = Connect();
    if (!connection.ok()) return TransportFailure{connection.error().message(), false};
    Connection& conn = **connection;
    if (canceller != nullptr) {
      const bool attached = canceller->Attach([&conn] {
        asio::post(conn.io, [&conn] {
          beast::error_code ignored;
          conn.tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          conn.tcp_stream.cancel();
        });
      });
      if (!attached) return HttpResponse{200, {}, ""};  // cancelled before it started
    }
    struct Detach {
      StreamCanceller* canceller;
      ~Detach() {
        if (canceller != nullptr) canceller->Detach();
      }
    } detach{canceller};

    auto message = Build(request);
    conn.tcp_stream.expires_after(idle_timeout);
    if (auto ec = Write(conn, message))
      return TransportFailure{"sending request: " + ec.message(), true};
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    conn.tcp_stream.expires_after(idle_timeout);
    if (auto ec = Read(conn, [&](auto handler) {
          if (conn.use_tls) {
            bhttp::async_read_header(conn.tls_stream, conn.buffer, parser, std::move(handler));
          } else {
            bhttp::async_read_header(conn.tcp_stream, conn.buffer, parser, std::move(handler));
          }
        })) {
      return TransportFailure{"reading response: " + ec.message(), true};
    }
    HttpResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    bool stop = false;
    // The parser keeps a reference to the callback: it must live as long as the reads.
    auto on_chunk = [&](std::uint64_t, std::string_view piece, beast::error_code&) -> size_t {
      if (!stop && !on_body(piece)) stop = true;
      return piece.size();
    };
    if (response.status == 200) parser.on_chunk_body(on_chunk);
    while (!parser.is_done() && !stop) {
      conn.tcp_stream.expires_after(idle_timeout);
      const auto ec = Read(conn, [&](auto handler) {
        if (conn.use_tls) {
          bhttp::async_read_some(conn.tls_stream, conn.buffer, parser, std::move(handler));
        } else {
          bhttp::async_read_some(conn.tcp_stream, conn.buffer, parser, std::move(handler));
        }
      });
      if (ec) {
        if (canceller != nullptr && canceller->cancelled()) break;
        return TransportFailure{"reading stream: " + ec.message(), true};
      }
    }
    if (response.status == 200) {
      // A body without chunked encoding did not go through on_chunk_body.
      if (!parser.get().body().empty() && !stop) on_body(parser.get().body());
    } else {
      response.body = std::move(parser.get().body());
    }
    return response;
  }

 private:
  friend Result<std::unique_ptr<Transport>> NewHttpsTransport(const std::string&, const TlsConfig&);

  Result<std::unique_ptr<Connection>> Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        connection->reused = true;
        return connection;
      }
    }
    return Connect();
  }

  void Release(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(connection));
  }

  Result<std::unique_ptr<Connection>> Connect() {
    auto conn = std::make_unique<Connection>(tls_);
    conn->use_tls = use_tls_;
    tcp::resolver resolver(conn->io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec)
      return Error(ErrorCode::kServiceUnavailable,
                   fmt::format("resolving {}: {}", host_, ec.message()));
    conn->tcp_stream.expires_after(kConnectTimeout);
    ec = conn->Run(
        [&](auto handler) { conn->tcp_stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      return Error(ErrorCode::kServiceUnavailable,
                   fmt::format("dial tcp {}:{}: {}", host_, port_, ec.message()));
    }
    conn->tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    if (!use_tls_) return conn;
    const std::string& name = server_name_.empty() ? host_ : server_name_;
    // SNI only for names; an IP address is not sent (RFC 6066).
    beast::error_code parse_error;
    asio::ip::make_address(name, parse_error);
    if (parse_error) SSL_set_tlsext_host_name(conn->tls_stream.native_handle(), name.c_str());
    if (verify_) {
      conn->tls_stream.set_verify_mode(ssl::verify_peer);
      conn->tls_stream.set_verify_callback(ssl::host_name_verification(name));
    } else {
      conn->tls_stream.set_verify_mode(ssl::verify_none);
    }
    conn->tcp_stream.expires_after(kConnectTimeout);
    ec = conn->Run([&](auto handler) {
      conn->tls_stream.async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      return Error(ErrorCode::kServiceUnavailable,
                   fmt::format("TLS handshake with {}:{}: {}", host_, port_, ec.message()));
    }
    return conn;
  }

  bhttp::request<bhttp::string_body> Build(const HttpRequest& request) const {
    bhttp::request<bhttp::string_body> message;
    message.method_string(request.method);
    message.target(request.target);
    message.version(11);
    message.set(bhttp::field::host, host_header_);
    for (const auto& [name, value] : request.headers)
      message.set(name, value);
    message.body() = request.body;
    message.prepare_payload();
    message.keep_alive(true);
    return message;
  }

  template <typename Message>
  beast::error_code Write(Connection& conn, Message& message) {
    return conn.Run([&](auto handler) {
      if (conn.use_tls) {
        bhttp::async_write(conn.tls_stream, message, std::move(handler));
      } else {
        bhttp::async_write(conn.tcp_stream, message, std::move(handler));
      }
    });
  }

  template <typename Start>
  beast::error_code Read(Connection& conn, Start&& start) {
    return conn.Run(std::forward<Start>(start));
  }

  TransportResult<HttpResponse> Exchange(Connection& conn, const HttpRequest& request,
                                         std::chrono::milliseconds timeout, bool* got_bytes) {
    auto message = Build(request);
    conn.tcp_stream.expires_after(timeout);
    if (auto ec = Write(conn, message)) {
      return TransportFailure{"sending request: " + ec.message(), conn.reused};
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    const auto ec = Read(conn, [&](auto handler) {
      if (conn.use_tls) {
        bhttp::async_read(conn.tls_stream, conn.buffer, parser, std::move(handler));
      } else {
        bhttp::async_read(conn.tcp_stream, conn.buffer, parser, std::move(handler));
      }
    });
    *got_bytes = parser.got_some();
    if (ec) return TransportFailure{"reading response: " + ec.message(), true};
    HttpResponse response;
    response.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    if (!parser.get().keep_alive()) response.headers.emplace_back("Connection", "close");
    response.body = std::move(parser.get().body());
    return response;
  }

  std::string host_;
  std::string port_;
  std::string host_header_;
  bool use_tls_;
  std::string server_name_;
  bool verify_;
  ssl::context tls_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

Result<std::unique_ptr<Transport>> NewHttpsTransport(const std::string& server,
                                                     const TlsConfig& tls) {
  std::string_view rest = server;
  bool use_tls;
  if (rest.starts_with("https://")) {
    use_tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    use_tls = false;
    rest.remove_prefix(7);
  } else {
    return InvalidError(fmt::format("server \"{}\" is not an https:// URL", server));
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos)
    rest = rest.substr(0, slash);
  std::string host;
  std::string port = use_tls ? "443" : "80";
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return InvalidError("bad server address " + server);
    host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size() && rest[close + 1] == ':')
      port = std::string(rest.substr(close + 2));
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  } else {
    host = std::string(rest);
  }
  if (host.empty()) return InvalidError("no host in server address " + server);
  auto transport = std::make_unique<HttpsTransport>(host, port, use_tls, tls.server_name,
                                                    !tls.insecure_skip_verify);
  transport->host_header_ = std::string(rest);
  auto& context = transport->tls();
  beast::error_code ec;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (!tls.ca_pem.empty()) {
    context.add_certificate_authority(asio::buffer(tls.ca_pem), ec);
    if (ec) return InvalidError("unable to load certificate authority: " + ec.message());
  } else {
    context.set_default_verify_paths(ec);
  }
  if (!tls.client_certificate_pem.empty() || !tls.client_key_pem.empty()) {
    context.use_certificate_chain(asio::buffer(tls.client_certificate_pem), ec);
    if (ec) return InvalidError("unable to load client certificate: " + ec.message());
    context.use_private_key(asio::buffer(tls.client_key_pem), ssl::context::pem, ec);
    if (ec) return InvalidError("unable to load client key: " + ec.message());
  }
  return std::unique_ptr<Transport>(std::move(transport));
}

}  // namespace kpp::client::rest
