// HTTPS/1.1 to one API server with keep-alive connections; the only place the client sees
// Boost.Beast/Asio is transport.cc. Thread-safe: each call takes its own connection from a pool.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.h"

namespace kpp::client::rest {

struct TlsConfig {
  std::string ca_pem;  // empty: the system's trust store
  std::string client_certificate_pem;
  std::string client_key_pem;
  bool insecure_skip_verify = false;
  std::string server_name;  // overrides the host for SNI and certificate checks
};

struct HttpRequest {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header named `name` (case-insensitive), empty when absent.
  std::string Header(std::string_view name) const;
};

// A failed exchange: why, and whether the request may have reached the server (a retry of a
// non-idempotent request is only safe when it certainly did not).
struct TransportFailure {
  std::string message;
  bool maybe_sent = false;
};

template <typename T>
using TransportResult = std::variant<T, TransportFailure>;

// Ends a running Stream() from another thread.
class StreamCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class HttpsTransport;
  friend class LoopbackTransport;
  // False when already cancelled (then `cancel` is not kept).
  bool Attach(std::function<void()> cancel);
  void Detach();

  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> cancel_;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                                  std::chrono::milliseconds timeout) = 0;
  // Sends `request`; a 200 answer's body is handed to `on_body` piece by piece as it arrives
  // (returning false stops reading), and the response returned has no body. Any other answer is
  // read whole and returned. Ends when the body ends, `canceller` is cancelled, or nothing
  // arrives for `idle_timeout`.
  virtual TransportResult<HttpResponse> Stream(const HttpRequest& request,
                                               const std::function<bool(std::string_view)>& on_body,
                                               StreamCanceller* canceller,
                                               std::chrono::milliseconds idle_timeout) = 0;
};

// `server` is "https://host[:port]" (or http:// for plain TCP); an error for anything else or
// for unusable TLS material.
Result<std::unique_ptr<Transport>> NewHttpsTransport(const std::string& server,
                                                     const TlsConfig& tls);

}  // namespace kpp::client::rest
