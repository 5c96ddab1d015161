// What the API server does around every request, apart from answering it: metrics, the
// request log line (-v=2), gzip, the request timeout and the body-size message. ApiServer
// installs these into the HTTP server's options and wraps its handler with them.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "apiserver/ops/metrics.h"
#include "http/server.h"

namespace kpp::apiserver::ops {

// Upstream's default and upper bound for a request's timeout.
inline constexpr std::chrono::seconds kDefaultRequestTimeout{60};
inline constexpr size_t kMaxRequestBodyBytes = 3 * 1024 * 1024;

// The timeout of a request: the `timeout` query parameter (a Go duration) when it is valid and
// shorter than the default, else the default; zero for watches, which run until their own end.
std::chrono::milliseconds RequestTimeout(const http::Request& request);

// Upstream's message for an oversized body: "Request entity too large: limit is 3145728".
std::string BodyTooLargeMessage(size_t limit);
// Upstream's Status message body for a request that overran its timeout.
inline constexpr std::string_view kRequestTimeoutMessage =
    "request did not complete within requested timeout - context deadline exceeded";

// The line upstream's httplog writes for a request, without klog's prefix:
//   "HTTP" verb="GET" URI="/api/v1/pods" latency="1.2ms" userAgent="kubectl/..." audit-ID=""
//   srcIP="127.0.0.1:5555" resp=200
// verb is the request's verb as metrics report it (LIST, WATCH, ...); audit_id is the Audit-Id
// the answer carries (empty: the request's own header, if any).
std::string HttpLogLine(const http::Request& request, std::string_view verb, int status,
                        double seconds, std::string_view audit_id = {});

class RequestOperations {
 public:
  explicit RequestOperations(ApiMetrics& metrics) : metrics_(metrics) {}

  // Around the handler, on a worker thread: counts the request in flight, gzips the answer
  // when asked, and counts a streamed answer as long-running until its stream is gone.
  http::Response Handle(const http::Request& request,
                        const std::function<http::Response(const http::Request&)>& handler);
  // Once the answer is decided, on an I/O thread: the metrics and the -v=2 log line.
  void Observe(const http::Request& request, const http::Response& response, double seconds);

 private:
  ApiMetrics& metrics_;
};

}  // namespace kpp::apiserver::ops
