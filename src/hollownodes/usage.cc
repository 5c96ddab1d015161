#include "hollownodes/usage.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/metrics.k8s.io/v1beta1/codec.h"
#include "api/runtime/object_codec.h"
#include "apimachinery/intstr/duration.h"
#include "apimachinery/resource/quantity.h"

namespace kpp::hollownodes {
namespace {

namespace metrics = api::metrics_k8s_io::v1beta1;

resource::Quantity UsageOf(const api::core::v1::Pod& pod, const char* annotation,
                           const std::string& fallback) {
  auto it = pod.metadata.annotations.find(annotation);
  if (it != pod.metadata.annotations.end()) {
    if (auto parsed = resource::Quantity::Parse(it->second); parsed.ok()) return *parsed;
  }
  auto parsed = resource::Quantity::Parse(fallback);
  return parsed.ok() ? *parsed : resource::Quantity();
}

}  // namespace

std::string UsageReport(const std::string& node, const std::map<std::string, std::string>& labels,
                        const std::vector<std::shared_ptr<const api::core::v1::Pod>>& pods,
                        const PodUsageDefaults& defaults, api::Time now,
                        std::chrono::milliseconds window) {
  const std::string window_text = intstr::FormatDuration(window);
  resource::Quantity node_cpu;
  resource::Quantity node_memory =
      resource::Quantity::FromInt64(0, resource::Quantity::Format::kBinarySI);
  boost::json::array pod_items;
  for (const auto& pod : pods) {
    const resource::Quantity cpu = UsageOf(*pod, kCpuUsageAnnotation, defaults.cpu);
    const resource::Quantity memory = UsageOf(*pod, kMemoryUsageAnnotation, defaults.memory);
    metrics::PodMetrics item;
    item.metadata.name = pod->metadata.name;
    item.metadata.namespace_ = pod->metadata.namespace_;
    item.metadata.labels = pod->metadata.labels;
    item.timestamp = now;
    item.window = window_text;
    for (const auto& container : pod->spec.containers) {
      metrics::ContainerMetrics usage;
      usage.name = container.name;
      usage.usage["cpu"] = api::Quantity{cpu.String()};
      usage.usage["memory"] = api::Quantity{memory.String()};
      item.containers.push_back(std::move(usage));
      node_cpu.Add(cpu);
      node_memory.Add(memory);
    }
    pod_items.push_back(boost::json::parse(api::ToJson(item)));
  }
  metrics::NodeMetrics node_metrics;
  node_metrics.metadata.name = node;
  node_metrics.metadata.labels = labels;
  node_metrics.timestamp = now;
  node_metrics.window = window_text;
  node_metrics.usage["cpu"] = api::Quantity{node_cpu.String()};
  node_metrics.usage["memory"] = api::Quantity{node_memory.String()};
  boost::json::object report;
  report["apiVersion"] = "metrics.k8s.io/v1beta1";
  report["kind"] = "NodeMetricsReport";
  report["node"] = boost::json::parse(api::ToJson(node_metrics));
  report["pods"] = std::move(pod_items);
  return boost::json::serialize(report);
}

}  // namespace kpp::hollownodes
