// Defaulting of the extensions/v1beta1 workloads that depends on other fields, as upstream's
// pkg/apis/extensions/v1beta1 applied it before the workloads were removed (1.15). Plain values
// (replicas, history limits, progress deadline, strategy types, pathType) are field defaults in
// the schema.
#include "api/defaults/legacy_workloads.h"
#include "api/extensions/v1beta1/codec.h"

namespace kpp::api::extensions::v1beta1 {
using defaults::DefaultSelectorAndLabelsFromTemplate;

void DefaultDeployment(Deployment& obj) {
  DefaultSelectorAndLabelsFromTemplate(obj);
}

void DefaultReplicaSet(ReplicaSet& obj) {
  DefaultSelectorAndLabelsFromTemplate(obj);
}

void DefaultDaemonSet(DaemonSet& obj) {
  DefaultSelectorAndLabelsFromTemplate(obj);
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
