// The project's HTTP(S) server interface. Boost.Beast/Asio live only in server.cc, so the rest of
// the code base compiles without their headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace kpp::http {

struct Header {
  std::string name;
  std::string value;
};

// The subject of a TLS client certificate that verified against the configured client CA.
struct ClientCertificate {
  std::string common_name;
  std::vector<std::string> organizations;
};

struct Request {
  std::string method;
  std::string target;  // as sent: path and query, percent-encoded
  std::string path;    // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<Header> headers;
  std::string body;
  // Set only when the peer presented a certificate that chains to the client CA and is valid
  // for client authentication; a missing or invalid certificate leaves it empty.
  std::optional<ClientCertificate> client_certificate;
  std::string remote_address;

  // A request made in-process (a controller calling the API server through its loopback, a
  // test): `method` on `path` with a JSON `body`, answered in JSON.
  static Request LocalJson(std::string method, std::string path, std::string body = "",
                           std::vector<std::pair<std::string, std::string>> query = {}) {
    Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.target = request.path;
    request.body = std::move(body);
    request.query = std::move(query);
    request.headers.push_back({"Content-Type", "application/json"});
    request.headers.push_back({"Accept", "application/json"});
    return request;
  }

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* FindHeader(std::string_view name) const;
  // The first query parameter named `name`, or nullopt.
  std::optional<std::string_view> FindQuery(std::string_view name) const;
  bool HasQuery(std::string_view name) const { return FindQuery(name).has_value(); }
  // A boolean query parameter read as upstream's converter reads one: absent, "0" and "false"
  // (any case) are false, anything else ("true", "True", "1", "") is true. The Python client
  // sends "True".
  bool QueryFlag(std::string_view name) const;
};

// The body of a response produced over time, such as a watch. The server sends the status and
// headers at once, then every piece Next returns, with chunked transfer encoding, and closes the
// connection at the end.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Blocks until there is more to send, but not much longer than a second, so that Cancel is
  // seen soon. Returns the next piece (empty: nothing yet; it is called again), or nullopt at
  // the end. Runs on a thread of its own, never on an I/O thread.
  virtual std::optional<std::string> Next() = 0;
  // The client went away or the server is stopping: Next must return nullopt soon. Any thread.
  virtual void Cancel() = 0;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  // When set, `body` is ignored and the body is streamed from here.
  std::shared_ptr<BodyStream> stream;

  void SetHeader(std::string name, std::string value);
};

// Called once per request, on a worker thread (never an I/O thread), possibly concurrently. It
// may block, in the store for instance: the worker pool grows to keep other requests moving.
using Handler = std::function<Response(const Request&)>;

// Builds an answer the server gives by itself (413 for a body over the limit, 504 when a handler
// overruns its timeout, 400 for a malformed target). Unset: plain text.
using ErrorResponder = std::function<Response(int status, const std::string& message)>;

// Told about every answer once it is decided, on an I/O thread, so it must be quick: `request`
// has no body when the body was refused; `response.stream`, if any, has not yet run.
// `handler_seconds` is the time from the end of the request's head to the answer.
using ResponseObserver =
    std::function<void(const Request& request, const Response& response, double handler_seconds)>;

struct TlsConfig {
  std::string certificate_pem;  // serving certificate (and chain)
  std::string private_key_pem;
  std::string client_ca_pem;  // client certificates are verified against this CA
};

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;  // 0 picks a free port; port() tells which
  TlsConfig tls;
  int threads = 2;  // I/O threads: TLS, parsing and writing, never a handler
  // Handler threads: started on demand up to the maximum, idle ones above the minimum end.
  size_t min_handler_threads = 2;
  size_t max_handler_threads = 64;
  size_t max_request_body_bytes = 3 * 1024 * 1024;
  // The message of the 413 answer; upstream's reads "Request entity too large: limit is N".
  std::string body_too_large_message;
  // How long a request's handler may run before the client gets a 504 (the handler keeps running
  // to its end, as upstream's may); zero or unset: no limit.
  std::function<std::chrono::milliseconds(const Request&)> request_timeout;
  std::string request_timeout_message = "request did not complete in time";
  // Upstream's Go server: 90 s for the next request on a kept-alive connection, 32 s to read a
  // request's head once it has begun; the body gets the same again.
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{90'000};
  std::chrono::milliseconds header_timeout{32'000};
  std::chrono::milliseconds body_timeout{32'000};
  ErrorResponder error_response;
  ResponseObserver observer;
};

class Server {
 public:
  virtual ~Server() = default;
  // The port actually listened on.
  virtual uint16_t port() const = 0;
  // Stops accepting, lets requests being handled finish (up to a few seconds), closes every
  // connection and joins the threads. Idempotent; also done by the destructor.
  virtual void Stop() = 0;
};
using ServerPtr = std::unique_ptr<Server>;

// Fills `request`'s target, path (percent-decoded) and query (decoded, in order) from an
// origin-form target ("/a%20b?x=1"); false when the target is malformed.
bool ParseRequestTarget(std::string_view target, Request& request);

// Binds, listens and starts serving HTTPS. The error names the address when the port is taken.
Result<ServerPtr> StartServer(const ServerOptions& options, Handler handler);

}  // namespace kpp::http
