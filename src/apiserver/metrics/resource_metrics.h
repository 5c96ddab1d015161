// metrics.k8s.io/v1beta1 served by the API server itself, in memory, instead of metrics-server
// behind API aggregation: NodeMetrics and PodMetrics, read-only for clients (get and list, label
// selectors, all namespaces), in metrics-server's JSON shapes (timestamp, window,
// containers[].usage), so `kubectl top` and the HPA controller read them as upstream's.
//
// Nodes feed it: each node POSTs its usage summary (its own NodeMetrics and the PodMetrics of the
// pods it runs) to /apis/metrics.k8s.io/v1beta1/nodes/<node>/report, a kpp extension (upstream's
// metrics-server scrapes the kubelets' /metrics/resource instead). A report replaces that node's
// previous one; a node that stops reporting disappears after kReportLifetime.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/metrics.k8s.io/v1beta1/types.h"
#include "base/clock.h"
#include "http/server.h"

namespace kpp::apiserver {

class ResourceMetrics {
 public:
  static constexpr std::chrono::seconds kReportLifetime{120};
  static constexpr std::string_view kPrefix = "/apis/metrics.k8s.io/v1beta1/";

  explicit ResourceMetrics(Clock& clock) : clock_(clock) {}
  // Answers the requests for metrics.k8s.io resources, nullopt for any other path. Thread-safe.
  std::optional<http::Response> Serve(const http::Request& request);

 private:
  struct NodeReport {
    api::metrics_k8s_io::v1beta1::NodeMetrics node;
    std::vector<api::metrics_k8s_io::v1beta1::PodMetrics> pods;
    Clock::TimePoint received{};
  };

  http::Response Report(const std::string& node, const http::Request& request);
  http::Response ServeNodes(const std::string& name, const http::Request& request);
  http::Response ServePods(const std::string& ns, const std::string& name,
                           const http::Request& request);
  void DropStale();

  Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, NodeReport> reports_;  // by node name
};

}  // namespace kpp::apiserver
