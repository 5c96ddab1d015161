// A Store that keeps the values of the configured resources encrypted in the store it wraps:
// writes (Txn puts) are encrypted, and every value read back (Range, Txn results, watch events
// with their previous values) is decrypted, so everything above it (registry, watch cache) sees
// plaintext only. Keys, revisions and leases pass through unchanged.
//
// A value that no configured provider can read makes the read fail with kInternalError naming
// the key ("unable to transform key ..."), as upstream; a watch ends with that error.
// Compare::Value conditions on encrypted resources compare against the stored (encrypted) bytes
// and so never match: the API server does not use them.
// Thread-safe as the store it wraps.
#pragma once

#include <memory>

#include "apiserver/encryption/transformer.h"
#include "storage/store.h"

namespace kpp::apiserver::encryption {

class EncryptedStore final : public storage::Store {
 public:
  EncryptedStore(std::unique_ptr<storage::Store> inner,
                 std::shared_ptr<const ResourceTransformers> transformers)
      : inner_(std::move(inner)), transformers_(std::move(transformers)) {}

  Result<storage::RangeResult> Range(const storage::RangeRequest& request) override;
  Result<storage::TxnResult> Txn(const storage::TxnRequest& request) override;
  Result<std::unique_ptr<storage::Watcher>> Watch(const storage::WatchRequest& request) override;
  Status Compact(storage::Revision revision) override { return inner_->Compact(revision); }
  Result<storage::LeaseId> GrantLease(std::chrono::seconds ttl) override {
    return inner_->GrantLease(ttl);
  }
  Status RevokeLease(storage::LeaseId id) override { return inner_->RevokeLease(id); }
  Result<std::chrono::seconds> KeepAliveLease(storage::LeaseId id) override {
    return inner_->KeepAliveLease(id);
  }
  Result<storage::LeaseInfo> GetLease(storage::LeaseId id) override { return inner_->GetLease(id); }
  Status Health() override { return inner_->Health(); }
  Result<storage::Revision> CurrentRevision() override { return inner_->CurrentRevision(); }
  Result<storage::Revision> CompactedRevision() override { return inner_->CompactedRevision(); }

  storage::Store& inner() { return *inner_; }

 private:
  std::unique_ptr<storage::Store> inner_;
  std::shared_ptr<const ResourceTransformers> transformers_;
};

// Decrypts `kv` in place when its key is covered; shared with the watcher.
Status DecryptKeyValue(const ResourceTransformers& transformers, storage::KeyValue& kv);

// The store `kpp server` uses: `inner` wrapped with the configuration at `config_path`, or, when
// that is empty, with the default one under `data_dir` (generated at the first start; see
// EnsureDefaultEncryptionConfig).
Result<std::unique_ptr<storage::Store>> WrapWithEncryption(std::unique_ptr<storage::Store> inner,
                                                           const std::string& config_path,
                                                           const std::string& data_dir);

}  // namespace kpp::apiserver::encryption
