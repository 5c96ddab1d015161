// What a hollow node reports to metrics.k8s.io (apiserver/metrics/resource_metrics.h): the usage
// of the pods it runs, from flags (`--pod-cpu-usage`, `--pod-memory-usage`: per container) or per
// pod from the annotations kpp.dev/hollow-cpu-usage and kpp.dev/hollow-memory-usage (per
// container too; they win over the flags and may be changed while the pod runs), and the node's
// usage as the sum over its pods.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/core/v1/types.h"
#include "api/runtime/scalars.h"
#include "base/result.h"

namespace kpp::hollownodes {

inline constexpr char kCpuUsageAnnotation[] = "kpp.dev/hollow-cpu-usage";
inline constexpr char kMemoryUsageAnnotation[] = "kpp.dev/hollow-memory-usage";

struct PodUsageDefaults {
  std::string cpu = "0";     // per container
  std::string memory = "0";  // per container
};

// The body of POST /apis/metrics.k8s.io/v1beta1/nodes/<node>/report:
// {"node": NodeMetrics, "pods": [PodMetrics...]} for `pods` (those the node runs now), measured
// over `window` ending at `now`. Malformed annotation quantities fall back to the defaults.
std::string UsageReport(const std::string& node, const std::map<std::string, std::string>& labels,
                        const std::vector<std::shared_ptr<const api::core::v1::Pod>>& pods,
                        const PodUsageDefaults& defaults, api::Time now,
                        std::chrono::milliseconds window);

}  // namespace kpp::hollownodes
