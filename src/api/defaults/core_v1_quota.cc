// Defaulting of LimitRanges, as upstream's pkg/apis/core/v1 does it.
#include "api/core/v1/codec.h"

namespace kpp::api::core::v1 {

void DefaultLimitRangeItem(LimitRangeItem& obj) {
  // Only container limits get defaults: the default limit falls back to the maximum, the default
  // request to the default limit, and then to the minimum. Resources already set are kept.
  if (obj.type != "Container") return;
  for (const auto& [resource, value] : obj.max)
    obj.default_.emplace(resource, value);
  for (const auto& [resource, value] : obj.default_)
    obj.default_request.emplace(resource, value);
  for (const auto& [resource, value] : obj.min)
    obj.default_request.emplace(resource, value);
}

}  // namespace kpp::api::core::v1
