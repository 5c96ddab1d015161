// Defaulting of the apps/v1 workloads that depends on other fields, as upstream's
// SetDefaults_Deployment, _DaemonSet and _StatefulSet apply it. Plain values (replica counts,
// history limits, podManagementPolicy, claim retention) are field defaults in the schema.
#include "api/apps/v1/codec.h"

namespace kpp::api::apps::v1 {

void DefaultDeploymentStrategy(DeploymentStrategy& obj) {
  if (obj.type != "RollingUpdate") return;
  auto& rolling = obj.rolling_update ? *obj.rolling_update : obj.rolling_update.emplace();
  if (!rolling.max_unavailable) rolling.max_unavailable = IntOrString::FromString("25%");
  if (!rolling.max_surge) rolling.max_surge = IntOrString::FromString("25%");
}

void DefaultDaemonSetUpdateStrategy(DaemonSetUpdateStrategy& obj) {
  if (obj.type != "RollingUpdate") return;
  auto& rolling = obj.rolling_update ? *obj.rolling_update : obj.rolling_update.emplace();
  if (!rolling.max_unavailable) rolling.max_unavailable = IntOrString::FromInt(1);
  if (!rolling.max_surge) rolling.max_surge = IntOrString::FromInt(0);
}

void DefaultStatefulSetUpdateStrategy(StatefulSetUpdateStrategy& obj) {
  // Upstream adds an empty rollingUpdate only when it also defaults the type: an explicit
  // RollingUpdate without parameters stays without them.
  if (obj.type.empty()) {
    obj.type = "RollingUpdate";
    if (!obj.rolling_update) obj.rolling_update.emplace();
  }
  if (obj.type == "RollingUpdate" && obj.rolling_update && !obj.rolling_update->partition) {
    obj.rolling_update->partition = 0;
  }
}

void DefaultStatefulSet(StatefulSet& obj) {
  // Its whenDeleted and whenScaled then get their field defaults (Retain).
  if (!obj.spec.persistent_volume_claim_retention_policy) {
    obj.spec.persistent_volume_claim_retention_policy.emplace();
  }
  // Upstream's conversion to apps/v1 always writes these into the claim templates (kept from
  // the reflective conversion of old releases, kubernetes issue 87583); setting them on every
  // write gives the same output.
  for (auto& claim : obj.spec.volume_claim_templates) {
    claim.api_version = "v1";
    claim.kind = "PersistentVolumeClaim";
  }
}

}  // namespace kpp::api::apps::v1
