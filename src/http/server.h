// The project's HTTP(S) server interface. Boost.Beast/Asio live only in server.cc, so the rest of
// the code base compiles without their headers.
#pragma once

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

// Called once per request, on one of the server's threads, possibly concurrently. It must not
// block for long: while it runs, its thread serves no other connection.
using Handler = std::function<Response(const Request&)>;

struct TlsConfig {
  std::string certificate_pem;  // serving certificate (and chain)
  std::string private_key_pem;
  std::string client_ca_pem;  // client certificates are verified against this CA
};

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;  // 0 picks a free port; port() tells which
  TlsConfig tls;
  int threads = 2;
  size_t max_request_body_bytes = 3 * 1024 * 1024;
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

// Binds, listens and starts serving HTTPS. The error names the address when the port is taken.
Result<ServerPtr> StartServer(const ServerOptions& options, Handler handler);

}  // namespace kpp::http
