// Store leases for objects that expire on their own (events live an hour), shared between
// writes as upstream's etcd3 lease manager shares them: granting a lease per write would cost a
// store write each, so a lease is reused for every write within a short window, granted that
// much longer so no object outlives its TTL by less than asked.
#pragma once

#include <chrono>
#include <mutex>

#include "base/clock.h"
#include "base/result.h"
#include "storage/store.h"

namespace kpp::apiserver {

class LeaseManager {
 public:
  // `store` and `clock` must outlive the manager.
  LeaseManager(storage::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // A lease that expires no sooner than `ttl` from now and no later than `ttl` plus the reuse
  // window (5% of `ttl`, at most a minute). Thread-safe.
  Result<storage::LeaseId> LeaseFor(std::chrono::seconds ttl);

 private:
  storage::Store& store_;
  Clock& clock_;
  std::mutex mutex_;
  storage::LeaseId previous_ = 0;
  std::chrono::steady_clock::time_point previous_expiry_{};
};

}  // namespace kpp::apiserver
