// A Store that times every read and transaction into etcd_request_duration_seconds, by
// operation (get, list, txn) and type (the resource of the key, e.g. "pods",
// "deployments.apps"), then passes the call on. Thread-safe as the store it wraps.
#pragma once

#include "apiserver/ops/metrics.h"
#include "storage/store.h"

namespace kpp::apiserver::ops {

// "pods" for /registry/core/pods/..., "deployments.apps" for /registry/apps/deployments/...;
// empty for a key outside /registry/.
std::string StorageType(std::string_view key);

class InstrumentedStore final : public storage::Store {
 public:
  // Neither is owned; both must outlive this.
  InstrumentedStore(storage::Store& inner, ApiMetrics& metrics)
      : inner_(inner), metrics_(metrics) {}

  Result<storage::RangeResult> Range(const storage::RangeRequest& request) override;
  Result<storage::TxnResult> Txn(const storage::TxnRequest& request) override;
  Result<std::unique_ptr<storage::Watcher>> Watch(const storage::WatchRequest& request) override {
    return inner_.Watch(request);
  }
  Status Compact(storage::Revision revision) override { return inner_.Compact(revision); }
  Result<storage::LeaseId> GrantLease(std::chrono::seconds ttl) override {
    return inner_.GrantLease(ttl);
  }
  Status RevokeLease(storage::LeaseId id) override { return inner_.RevokeLease(id); }
  Result<std::chrono::seconds> KeepAliveLease(storage::LeaseId id) override {
    return inner_.KeepAliveLease(id);
  }
  Result<storage::LeaseInfo> GetLease(storage::LeaseId id) override { return inner_.GetLease(id); }
  Status Health() override { return inner_.Health(); }
  Result<storage::Revision> CurrentRevision() override { return inner_.CurrentRevision(); }
  Result<storage::Revision> CompactedRevision() override { return inner_.CompactedRevision(); }

 private:
  storage::Store& inner_;
  ApiMetrics& metrics_;
};

}  // namespace kpp::apiserver::ops
