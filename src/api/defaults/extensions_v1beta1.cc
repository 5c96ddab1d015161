// Defaulting of the extensions/v1beta1 workloads that depends on other fields, as upstream's
// pkg/apis/extensions/v1beta1 applied it before the workloads were removed (1.15). Plain values
// (replicas, history limits, progress deadline, strategy types, pathType) are field defaults in
// the schema.
#include "api/extensions/v1beta1/codec.h"

namespace kpp::api::extensions::v1beta1 {
namespace {

// Old versions had no required selector: it and the object's labels came from the template.
template <typename Workload>
void DefaultSelectorAndLabels(Workload& obj) {
  const auto& labels = obj.spec.template_.metadata.labels;
  if (labels.empty()) return;
  if (!obj.spec.selector) obj.spec.selector.emplace().match_labels = labels;
  if (obj.metadata.labels.empty()) obj.metadata.labels = labels;
}

}  // namespace

void DefaultDeployment(Deployment& obj) {
  DefaultSelectorAndLabels(obj);
}

void DefaultReplicaSet(ReplicaSet& obj) {
  DefaultSelectorAndLabels(obj);
}

void DefaultDaemonSet(DaemonSet& obj) {
  DefaultSelectorAndLabels(obj);
}

void DefaultDeploymentStrategy(DeploymentStrategy& obj) {
  // One pod at a time, where apps/v1 has 25%; also for a Recreate strategy that names
  // rollingUpdate, which validation then rejects.
  if (obj.type != "RollingUpdate" && !obj.rolling_update) return;
  auto& rolling = obj.rolling_update ? *obj.rolling_update : obj.rolling_update.emplace();
  if (!rolling.max_unavailable) rolling.max_unavailable = IntOrString::FromInt(1);
  if (!rolling.max_surge) rolling.max_surge = IntOrString::FromInt(1);
}

void DefaultDaemonSetUpdateStrategy(DaemonSetUpdateStrategy& obj) {
  if (obj.type != "RollingUpdate") return;
  auto& rolling = obj.rolling_update ? *obj.rolling_update : obj.rolling_update.emplace();
  if (!rolling.max_unavailable) rolling.max_unavailable = IntOrString::FromInt(1);
}

}  // namespace kpp::api::extensions::v1beta1
