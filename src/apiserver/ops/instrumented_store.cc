#include "apiserver/ops/instrumented_store.h"

#include <chrono>

namespace kpp::apiserver::ops {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string StorageType(std::string_view key) {
  constexpr std::string_view kPrefix = "/registry/";
  if (!key.starts_with(kPrefix)) return {};
  key.remove_prefix(kPrefix.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view group = key.substr(0, slash);
  std::string_view resource = key.substr(slash + 1);
  resource = resource.substr(0, resource.find('/'));
  if (group == "core") return std::string(resource);
  return std::string(resource) + "." + std::string(group);
}

Result<storage::RangeResult> InstrumentedStore::Range(const storage::RangeRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  auto result = inner_.Range(request);
  metrics_.ObserveStorage(request.range_end.empty() ? "get" : "list", StorageType(request.key),
                          SecondsSince(start));
  return result;
}

Result<storage::TxnResult> InstrumentedStore::Txn(const storage::TxnRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  auto result = inner_.Txn(request);
  std::string type;
  if (!request.success.empty()) type = StorageType(request.success.front().key);
  metrics_.ObserveStorage("txn", type, SecondsSince(start));
  return result;
}

}  // namespace kpp::apiserver::ops
