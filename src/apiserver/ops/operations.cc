#include "apiserver/ops/operations.h"

#include <fmt/format.h>

#include "apimachinery/intstr/duration.h"
#include "apiserver/ops/gzip.h"
#include "base/log.h"

namespace kpp::apiserver::ops {
namespace {

bool IsWatch(const RequestInfo& info) {
  return info.verb == "watch";
}

std::string_view HeaderOr(const http::Request& request, std::string_view name) {
  const std::string* value = request.FindHeader(name);
  return value != nullptr ? std::string_view(*value) : std::string_view();
}

ApiMetrics::RequestLabels LabelsOf(const http::Request& request, const RequestInfo& info) {
  return ApiMetrics::LabelsOf(info, request.method, HeaderOr(request, "Content-Type"),
                              request.FindQuery("dryRun").value_or(""));
}

// Keeps a long-running request counted while its body streams.
class CountedStream final : public http::BodyStream {
 public:
  CountedStream(std::shared_ptr<http::BodyStream> inner, ApiMetrics& metrics,
                ApiMetrics::RequestLabels labels)
      : inner_(std::move(inner)), metrics_(metrics), labels_(std::move(labels)) {
    metrics_.LongRunningStarted(labels_);
  }
  ~CountedStream() override { metrics_.LongRunningEnded(labels_); }
  std::optional<std::string> Next() override { return inner_->Next(); }
  void Cancel() override { inner_->Cancel(); }

 private:
  std::shared_ptr<http::BodyStream> inner_;
  ApiMetrics& metrics_;
  const ApiMetrics::RequestLabels labels_;
};

// Go's %q of a string, as klog quotes structured values.
std::string Quote(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': quoted += "\\\""; break;
      case '\\': quoted += "\\\\"; break;
      case '\n': quoted += "\\n"; break;
      case '\t': quoted += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          quoted += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          quoted += c;
        }
    }
  }
  quoted += '"';
  return quoted;
}

}  // namespace

std::chrono::milliseconds RequestTimeout(const http::Request& request) {
  if (request.QueryFlag("watch")) return std::chrono::milliseconds(0);
  const std::chrono::milliseconds fallback = kDefaultRequestTimeout;
  const auto asked = request.FindQuery("timeout");
  if (!asked || asked->empty()) return fallback;
  const auto parsed = intstr::ParseDuration(*asked);
  if (!parsed.ok() || parsed.value().count() <= 0) return fallback;
  const auto wanted = std::chrono::ceil<std::chrono::milliseconds>(parsed.value());
  return std::min(wanted, fallback);
}

std::string BodyTooLargeMessage(size_t limit) {
  return fmt::format("Request entity too large: limit is {}", limit);
}

std::string HttpLogLine(const http::Request& request, std::string_view verb, int status,
                        double seconds, std::string_view audit_id) {
  const auto latency =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
  return fmt::format("\"HTTP\" verb={} URI={} latency={} userAgent={} audit-ID={} srcIP={} resp={}",
                     Quote(verb), Quote(request.target), Quote(intstr::FormatDuration(latency)),
                     Quote(HeaderOr(request, "User-Agent")),
                     Quote(audit_id.empty() ? HeaderOr(request, "Audit-Id") : audit_id),
                     Quote(request.remote_address), status);
}

http::Response RequestOperations::Handle(
    const http::Request& request,
    const std::function<http::Response(const http::Request&)>& handler) {
  const bool mutating =
      request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS";
  metrics_.InflightChanged(mutating, 1);
  http::Response response;
  try {
    response = handler(request);
  } catch (...) {
    metrics_.InflightChanged(mutating, -1);
    throw;
  }
  metrics_.InflightChanged(mutating, -1);
  if (response.stream) {
    const RequestInfo info = ParseRequestInfo(request.method, request.path, request.query);
    response.stream = std::make_shared<CountedStream>(std::move(response.stream), metrics_,
                                                      LabelsOf(request, info));
  } else {
    MaybeGzip(request, response);
  }
  return response;
}

void RequestOperations::Observe(const http::Request& request, const http::Response& response,
                                double seconds) {
  const RequestInfo info = ParseRequestInfo(request.method, request.path, request.query);
  const ApiMetrics::RequestLabels labels = LabelsOf(request, info);
  // A watch's duration is its life, counted when it ends upstream; here only its start is seen,
  // so it goes to the counter and the long-running gauge but not the latency histogram.
  metrics_.ObserveRequest(labels, response.status, IsWatch(info) ? -1 : seconds);
  if (log::Verbosity() >= 2) {
    std::string_view audit_id;
    for (const auto& header : response.headers) {
      if (header.name == "Audit-Id") audit_id = header.value;
    }
    KLOG_V(2, "{}", HttpLogLine(request, labels.verb, response.status, seconds, audit_id));
  }
}

}  // namespace kpp::apiserver::ops
