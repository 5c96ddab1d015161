// A transport that hands each request to a handler in this process (the API server's loopback)
// instead of a connection, so that controllers running inside the server use the client
// library's informers and work queues like any other client; a watch streams from the
// handler's streamed body.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "client/rest/rest_client.h"
#include "client/rest/transport.h"
#include "http/server.h"

namespace kpp::client::rest {

using LoopbackHandler = std::function<http::Response(const http::Request&)>;

class LoopbackTransport final : public Transport {
 public:
  explicit LoopbackTransport(LoopbackHandler handler) : handler_(std::move(handler)) {}
  TransportResult<HttpResponse> RoundTrip(const HttpRequest& request,
                                          std::chrono::milliseconds timeout) override;
  TransportResult<HttpResponse> Stream(const HttpRequest& request,
                                       const std::function<bool(std::string_view)>& on_body,
                                       StreamCanceller* canceller,
                                       std::chrono::milliseconds idle_timeout) override;

 private:
  // The handler's answer; a failure when the target does not parse.
  TransportResult<http::Response> Call(const HttpRequest& request) const;

  LoopbackHandler handler_;
};

// A client of `handler` without a client-side rate limit (as upstream's loopback client of the
// server's own controllers); `user_agent` names the component in managedFields and logs.
std::shared_ptr<RestClient> NewLoopbackClient(LoopbackHandler handler, std::string user_agent);

}  // namespace kpp::client::rest
