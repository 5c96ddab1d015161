#include "client/rest/loopback_transport.h"

#include <chrono>

namespace kpp::client::rest {
namespace {

HttpResponse Converted(http::Response response) {
  HttpResponse out;
  out.status = response.status;
  for (auto& header : response.headers)
    out.headers.emplace_back(std::move(header.name), std::move(header.value));
  out.body = std::move(response.body);
  return out;
}

}  // namespace

TransportResult<http::Response> LoopbackTransport::Call(const HttpRequest& request) const {
  http::Request in;
  in.method = request.method;
  if (!http::ParseRequestTarget(request.target, in)) {
    return TransportFailure{"malformed request target " + request.target, false};
  }
  for (const auto& [name, value] : request.headers)
    in.headers.push_back({name, value});
  in.body = request.body;
  in.remote_address = "127.0.0.1";
  return handler_(in);
}

TransportResult<HttpResponse> LoopbackTransport::RoundTrip(const HttpRequest& request,
                                                           std::chrono::milliseconds) {
  auto answered = Call(request);
  if (auto* failure = std::get_if<TransportFailure>(&answered)) return *failure;
  auto& response = std::get<http::Response>(answered);
  if (response.stream) {
    // Not a streamed request: the body is whatever the stream holds until it ends.
    std::string body;
    while (auto piece = response.stream->Next())
      body += *piece;
    response.stream.reset();
    response.body = std::move(body);
  }
  return Converted(std::move(response));
}

TransportResult<HttpResponse> LoopbackTransport::Stream(
    const HttpRequest& request, const std::function<bool(std::string_view)>& on_body,
    StreamCanceller* canceller, std::chrono::milliseconds idle_timeout) {
  auto answered = Call(request);
  if (auto* failure = std::get_if<TransportFailure>(&answered)) return *failure;
  auto& response = std::get<http::Response>(answered);
  std::shared_ptr<http::BodyStream> stream = std::move(response.stream);
  if (response.status != 200 || stream == nullptr) {
    if (response.status == 200) {
      if (!response.body.empty()) on_body(response.body);
      response.body.clear();
    }
    return Converted(std::move(response));
  }
  response.body.clear();
  // A cancel wakes the stream's Next at once rather than at its next (up to a second) poll:
  // each informer stopped would otherwise add that second to a `kpp server` stop.
  if (canceller != nullptr && !canceller->Attach([stream] { stream->Cancel(); })) {
    stream->Cancel();
    return Converted(std::move(response));
  }
  auto last_data = std::chrono::steady_clock::now();
  while (canceller == nullptr || !canceller->cancelled()) {
    auto piece = stream->Next();
    if (!piece) break;
    const auto now = std::chrono::steady_clock::now();
    if (!piece->empty()) {
      last_data = now;
      if (!on_body(*piece)) break;
    } else if (idle_timeout.count() > 0 && now - last_data > idle_timeout) {
      break;
    }
  }
  if (canceller != nullptr) canceller->Detach();
  stream->Cancel();
  return Converted(std::move(response));
}

std::shared_ptr<RestClient> NewLoopbackClient(LoopbackHandler handler, std::string user_agent) {
  RestConfig config;
  config.server = "loopback";
  config.user_agent = std::move(user_agent);
  config.qps = 0;
  config.timeout = std::chrono::milliseconds(0);
  return std::make_shared<RestClient>(std::move(config),
                                      std::make_unique<LoopbackTransport>(std::move(handler)));
}

}  // namespace kpp::client::rest
