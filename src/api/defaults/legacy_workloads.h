// Defaulting shared by the removed workload versions (apps/v1beta1, extensions/v1beta1).
#pragma once

namespace kpp::api::defaults {

// Old versions had no required selector: it and the object's labels came from the template.
template <typename Workload>
void DefaultSelectorAndLabelsFromTemplate(Workload& obj) {
  const auto& labels = obj.spec.template_.metadata.labels;
  if (labels.empty()) return;
  if (!obj.spec.selector) obj.spec.selector.emplace().match_labels = labels;
  if (obj.metadata.labels.empty()) obj.metadata.labels = labels;
}

}  // namespace kpp::api::defaults
