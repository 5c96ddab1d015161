// Defaulting of CSI drivers, as upstream's pkg/apis/storage/v1 does it. Field defaults named in
// api/storage.k8s.io/v1 (attachRequired, fsGroupPolicy, ...) run first.
#include "api/storage.k8s.io/v1/codec.h"

namespace kpp::api::storage_k8s_io::v1 {

void DefaultCSIDriver(CSIDriver& obj) {
  // A driver that names no lifecycle mode serves persistent volumes only.
  if (obj.spec.volume_lifecycle_modes.empty()) obj.spec.volume_lifecycle_modes = {"Persistent"};
}

}  // namespace kpp::api::storage_k8s_io::v1
