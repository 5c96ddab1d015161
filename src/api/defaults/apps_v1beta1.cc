// Defaulting of the apps/v1beta1 workloads that depends on other fields, as upstream's
// pkg/apis/apps/v1beta1 applied it before the version was removed (1.15). Plain values (history
// limits, progress deadline, podManagementPolicy) are field defaults in the schema.
#include "api/apps/v1beta1/codec.h"

namespace kpp::api::apps::v1beta1 {
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

void DefaultStatefulSet(StatefulSet& obj) {
  DefaultSelectorAndLabels(obj);
}

void DefaultStatefulSetUpdateStrategy(StatefulSetUpdateStrategy& obj) {
  if (obj.type == "RollingUpdate" && obj.rolling_update && !obj.rolling_update->partition) {
    obj.rolling_update->partition = 0;
  }
}

}  // namespace kpp::api::apps::v1beta1
