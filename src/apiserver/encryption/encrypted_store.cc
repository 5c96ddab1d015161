#include "apiserver/encryption/encrypted_store.h"

#include <fmt/format.h>

#include "base/log.h"

namespace kpp::apiserver::encryption {
namespace {

class DecryptingWatcher final : public storage::Watcher {
 public:
  DecryptingWatcher(std::unique_ptr<storage::Watcher> inner,
                    std::shared_ptr<const ResourceTransformers> transformers)
      : inner_(std::move(inner)), transformers_(std::move(transformers)) {}

  Result<std::vector<storage::Event>> Next(std::chrono::milliseconds timeout) override {
    auto events = inner_->Next(timeout);
    if (!events.ok()) return events;
    for (storage::Event& event : *events) {
      if (event.type == storage::Event::Type::kPut) {
        KPP_RETURN_IF_ERROR(DecryptKeyValue(*transformers_, event.kv));
      }
      if (event.prev_kv) KPP_RETURN_IF_ERROR(DecryptKeyValue(*transformers_, *event.prev_kv));
    }
    return events;
  }

 private:
  std::unique_ptr<storage::Watcher> inner_;
  std::shared_ptr<const ResourceTransformers> transformers_;
};

Status DecryptOptional(const ResourceTransformers& transformers,
                       std::optional<storage::KeyValue>& kv) {
  if (!kv) return Ok();
  return DecryptKeyValue(transformers, *kv);
}

// Encrypts the puts of `ops` that are covered.
Status EncryptPuts(const ResourceTransformers& transformers, std::vector<storage::TxnOp>& ops) {
  for (storage::TxnOp& op : ops) {
    if (op.type != storage::TxnOp::Type::kPut) continue;
    const ValueTransformer* transformer = transformers.ForKey(op.key);
    if (transformer == nullptr) continue;
    auto stored = transformer->ToStorage(op.value, op.key);
    if (!stored.ok()) {
      return InternalError(
          fmt::format("unable to transform key \"{}\": {}", op.key, stored.error().message()));
    }
    op.value = std::move(stored).value();
  }
  return Ok();
}

bool CoversAnyPut(const ResourceTransformers& transformers,
                  const std::vector<storage::TxnOp>& ops) {
  for (const storage::TxnOp& op : ops) {
    if (op.type == storage::TxnOp::Type::kPut && transformers.ForKey(op.key) != nullptr) {
      return true;
    }
  }
  return false;
}

}  // namespace

Status DecryptKeyValue(const ResourceTransformers& transformers, storage::KeyValue& kv) {
  const ValueTransformer* transformer = transformers.ForKey(kv.key);
  if (transformer == nullptr) return Ok();
  auto plaintext = transformer->FromStorage(kv.value, kv.key);
  if (!plaintext.ok()) {
    return InternalError(
        fmt::format("unable to transform key \"{}\": {}", kv.key, plaintext.error().message()));
  }
  kv.value = std::move(plaintext).value();
  return Ok();
}

Result<storage::RangeResult> EncryptedStore::Range(const storage::RangeRequest& request) {
  auto result = inner_->Range(request);
  if (!result.ok()) return result;
  for (storage::KeyValue& kv : result->kvs)
    KPP_RETURN_IF_ERROR(DecryptKeyValue(*transformers_, kv));
  return result;
}

Result<storage::TxnResult> EncryptedStore::Txn(const storage::TxnRequest& request) {
  Result<storage::TxnResult> result = storage::TxnResult{};
  if (CoversAnyPut(*transformers_, request.success) ||
      CoversAnyPut(*transformers_, request.failure)) {
    storage::TxnRequest encrypted = request;
    KPP_RETURN_IF_ERROR(EncryptPuts(*transformers_, encrypted.success));
    KPP_RETURN_IF_ERROR(EncryptPuts(*transformers_, encrypted.failure));
    result = inner_->Txn(encrypted);
  } else {
    result = inner_->Txn(request);
  }
  if (!result.ok()) return result;
  for (storage::TxnOpResult& op : result->results) {
    KPP_RETURN_IF_ERROR(DecryptOptional(*transformers_, op.kv));
    KPP_RETURN_IF_ERROR(DecryptOptional(*transformers_, op.prev_kv));
  }
  return result;
}

Result<std::unique_ptr<storage::Watcher>> EncryptedStore::Watch(
    const storage::WatchRequest& request) {
  auto watcher = inner_->Watch(request);
  if (!watcher.ok()) return watcher;
  return std::unique_ptr<storage::Watcher>(
      std::make_unique<DecryptingWatcher>(std::move(watcher).value(), transformers_));
}

Result<std::unique_ptr<storage::Store>> WrapWithEncryption(std::unique_ptr<storage::Store> inner,
                                                           const std::string& config_path,
                                                           const std::string& data_dir) {
  std::string path = config_path;
  if (path.empty()) {
    auto default_path = EnsureDefaultEncryptionConfig(data_dir);
    if (!default_path.ok()) {
      return std::move(default_path).error().WithContext("the default encryption configuration");
    }
    path = *default_path;
  }
  auto config = LoadEncryptionConfiguration(path);
  if (!config.ok()) return std::move(config).error().WithContext("--encryption-provider-config");
  KLOG_INFO("encryption at rest: configuration {}", path);
  auto transformers = std::make_shared<const ResourceTransformers>(*config);
  return std::unique_ptr<storage::Store>(
      std::make_unique<EncryptedStore>(std::move(inner), std::move(transformers)));
}

}  // namespace kpp::apiserver::encryption
