// The API server's metrics, rendered in Prometheus' text format for /metrics with upstream's
// names and labels: apiserver_request_total, apiserver_request_duration_seconds,
// apiserver_longrunning_requests, apiserver_current_inflight_requests,
// etcd_request_duration_seconds (the storage, whatever it is) and the process_* basics.
// Thread safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "apiserver/ops/request_info.h"

namespace kpp::apiserver::ops {

// Upstream's buckets for request and storage latencies, in seconds.
inline constexpr std::array<double, 23> kLatencyBuckets = {
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2,
    3,     4,     5,    6,   8,   10,  15,  20,  30,  45,   60};

// The verb label upstream's metrics use: GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE, or
// the method of a non-resource request.
std::string ReportedVerb(const RequestInfo& info, std::string_view method,
                         std::string_view content_type);

class ApiMetrics {
 public:
  // Labels of one request, as upstream's request metrics carry them.
  struct RequestLabels {
    std::string verb;  // ReportedVerb
    std::string dry_run;
    std::string group;
    std::string version;
    std::string resource;
    std::string subresource;
    std::string scope;
  };
  static RequestLabels LabelsOf(const RequestInfo& info, std::string_view method,
                                std::string_view content_type, std::string_view dry_run);

  // A negative `seconds` counts the request without timing it.
  void ObserveRequest(const RequestLabels& labels, int code, double seconds);
  // A watch or other stream began / ended.
  void LongRunningStarted(const RequestLabels& labels);
  void LongRunningEnded(const RequestLabels& labels);
  // A request is being handled; `mutating` for anything but GET, HEAD and OPTIONS.
  void InflightChanged(bool mutating, int delta);
  // One call into the store: operation (get, list, txn, watch), type (the resource).
  void ObserveStorage(std::string_view operation, std::string_view type, double seconds);

  // The whole exposition, Content-Type text/plain; version=0.0.4.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
    void Observe(double seconds);
  };

  mutable std::mutex mutex_;
  // Keyed by the rendered label set (`name="value",...`, names sorted as Prometheus' Go client
  // sorts them).
  std::map<std::string, uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::string, int64_t> longrunning_;
  std::map<std::string, Histogram> storage_;
  std::atomic<int64_t> inflight_readonly_{0};
  std::atomic<int64_t> inflight_mutating_{0};
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string EscapeLabelValue(std::string_view value);

}  // namespace kpp::apiserver::ops
