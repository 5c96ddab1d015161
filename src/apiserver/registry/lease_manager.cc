#include "apiserver/registry/lease_manager.h"

#include <algorithm>

namespace kpp::apiserver {

Result<storage::LeaseId> LeaseManager::LeaseFor(std::chrono::seconds ttl) {
  // Upstream's defaults: reuse for 5% of the TTL, at most 60 s.
  const std::chrono::seconds reuse =
      std::min<std::chrono::seconds>(std::chrono::seconds(60), ttl * 5 / 100);
  const auto now = clock_.Monotonic();
  std::lock_guard lock(mutex_);
  const bool valid = now + ttl < previous_expiry_;
  const bool sufficient = now + ttl + reuse >= previous_expiry_;
  if (previous_ != 0 && valid && sufficient) return previous_;
  KPP_ASSIGN_OR_RETURN(storage::LeaseId lease, store_.GrantLease(ttl + reuse));
  previous_ = lease;
  previous_expiry_ = now + ttl + reuse;
  return lease;
}

}  // namespace kpp::apiserver
