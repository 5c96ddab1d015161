// Defaulting of the apps/v1beta1 workloads that depends on other fields, as upstream's
// pkg/apis/apps/v1beta1 applied it before the version was removed (1.15). Plain values (history
// limits, progress deadline, podManagementPolicy) are field defaults in the schema.
#include "api/apps/v1beta1/codec.h"
#include "api/defaults/legacy_workloads.h"

namespace kpp::api::apps::v1beta1 {
using defaults::DefaultSelectorAndLabelsFromTemplate;

void DefaultDeployment(Deployment& obj) {
  DefaultSelectorAndLabelsFromTemplate(obj);
}

void DefaultStatefulSet(StatefulSet& obj) {
  DefaultSelectorAndLabelsFromTemplate(obj);
}

void DefaultStatefulSetUpdateStrategy(StatefulSetUpdateStrategy& obj) {
  if (obj.type == "RollingUpdate" && obj.rolling_update && !obj.rolling_update->partition) {
    obj.rolling_update->partition = 0;
  }
}

}  // namespace kpp::api::apps::v1beta1
