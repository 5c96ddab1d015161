// Defaulting of Nodes that depends on other fields, as upstream's pkg/apis/core/v1 does it.
#include "api/core/v1/codec.h"

namespace kpp::api::core::v1 {

void DefaultNodeStatus(NodeStatus& obj) {
  // A node that reports no allocatable resources can give pods all its capacity.
  if (obj.allocatable.empty()) obj.allocatable = obj.capacity;
}

}  // namespace kpp::api::core::v1
