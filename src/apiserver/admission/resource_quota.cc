#include "apiserver/admission/resource_quota.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <variant>

#include "apiserver/admission/json_access.h"
#include "apiserver/admission/quota_evaluator.h"
#include "storage/store.h"

namespace kpp::apiserver::admission {
namespace {

using boost::json::object;
using quota::ResourceList;

constexpr int kMaxAttempts = 20;

struct StoredQuota {
  std::string key;
  storage::Revision mod_revision = 0;
  object json;
};

Result<std::vector<StoredQuota>> ReadQuotas(storage::Store& store, std::string_view namespace_) {
  KPP_ASSIGN_OR_RETURN(auto range, store.Range(storage::RangeRequest::Prefix(fmt::format(
                                       "/registry/core/resourcequotas/{}/", namespace_))));
  std::vector<StoredQuota> quotas;
  for (auto& kv : range.kvs) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(kv.value, ec);
    if (ec || !parsed.is_object()) return InternalError("stored resource quota is not an object");
    quotas.push_back({std::move(kv.key), kv.mod_revision, std::move(parsed.as_object())});
  }
  return quotas;
}

ResourceList StatusList(const object& resource_quota, std::string_view field) {
  return quota::ParseResourceList(json::Object(json::Object(&resource_quota, "status"), field));
}

std::string PrettyNames(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return fmt::format("{}", fmt::join(names, ","));
}

// The new status.used of each quota the request is charged to, or why it is refused (upstream's
// CheckRequest).
using Charges = std::vector<std::pair<size_t, ResourceList>>;
std::variant<Charges, Rejection> Check(const std::vector<StoredQuota>& quotas,
                                       const Attributes& attributes,
                                       const quota::Evaluator& evaluator, Clock& clock) {
  const object& input = *attributes.object;
  std::vector<size_t> interesting;
  for (size_t i = 0; i < quotas.size(); ++i) {
    const object& resource_quota = quotas[i].json;
    if (!evaluator.Matches(resource_quota, input)) continue;
    const std::string_view name = json::String(json::Object(&resource_quota, "metadata"), "name");
    const ResourceList hard = StatusList(resource_quota, "hard");
    const auto restricted = evaluator.MatchingResources(quota::Names(hard));
    if (auto missing = evaluator.Constraints(restricted, input)) {
      return AdmissionForbidden(attributes, fmt::format("failed quota: {}: {}", name, *missing));
    }
    const ResourceList used = StatusList(resource_quota, "used");
    for (const auto& resource : restricted) {
      if (!used.contains(resource)) {
        return AdmissionForbidden(attributes,
                                  fmt::format("status unknown for quota: {}, resources: {}", name,
                                              PrettyNames(restricted)));
      }
    }
    interesting.push_back(i);
  }
  if (interesting.empty()) return Charges{};
  const auto now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(clock.Now());
  ResourceList delta = evaluator.Usage(input, now);
  std::vector<std::string> negative;
  for (const auto& [resource, quantity] : delta) {
    if (quantity.Sign() < 0) negative.push_back(resource);
  }
  if (!negative.empty()) {
    return AdmissionForbidden(attributes, fmt::format("quota usage is negative for resource(s): {}",
                                                      PrettyNames(negative)));
  }
  if (attributes.operation == Operation::kUpdate && attributes.old_object != nullptr) {
    delta = quota::SubtractNonNegative(delta, evaluator.Usage(*attributes.old_object, now));
  }
  std::erase_if(delta, [](const auto& entry) { return entry.second.IsZero(); });
  if (delta.empty()) return Charges{};
  Charges charges;
  for (size_t index : interesting) {
    const object& resource_quota = quotas[index].json;
    const ResourceList hard = StatusList(resource_quota, "hard");
    const ResourceList used = StatusList(resource_quota, "used");
    const ResourceList requested = quota::Mask(delta, quota::Names(hard));
    if (requested.empty()) continue;
    const ResourceList new_used = quota::Add(used, requested);
    std::vector<std::string> exceeded;
    for (const auto& [resource, quantity] : requested) {
      auto limit = hard.find(resource);
      if (new_used.at(resource).Cmp(limit->second) > 0) exceeded.push_back(resource);
    }
    if (!exceeded.empty()) {
      const std::string_view name = json::String(json::Object(&resource_quota, "metadata"), "name");
      return AdmissionForbidden(
          attributes, fmt::format("exceeded quota: {}, requested: {}, used: {}, limited: {}", name,
                                  quota::PrettyPrint(quota::Mask(requested, exceeded)),
                                  quota::PrettyPrint(quota::Mask(used, exceeded)),
                                  quota::PrettyPrint(quota::Mask(hard, exceeded))));
    }
    charges.emplace_back(index, new_used);
  }
  return charges;
}

}  // namespace

bool ResourceQuota::NeedsObjectGiven(const Attributes& attributes, const Reader& reader) const {
  if (!attributes.subresource.empty() || attributes.namespace_.empty()) return false;
  if (dynamic_cast<const StoreReader*>(&reader) == nullptr) return false;  // as Validate
  const PrefixCache* cache = quotas_.Get(reader);
  return cache == nullptr || !cache->Snapshot(attributes.namespace_ + "/").empty();
}

std::optional<Rejection> ResourceQuota::Validate(const Attributes& attributes,
                                                 Context& context) const {
  if (!attributes.subresource.empty() || attributes.namespace_.empty() ||
      attributes.object == nullptr) {
    return std::nullopt;
  }
  auto evaluator = quota::Evaluator::For(attributes.group, attributes.resource);
  if (!evaluator || !evaluator->Handles(attributes.operation)) return std::nullopt;
  const auto* store_reader = dynamic_cast<const StoreReader*>(&context.reader);
  if (store_reader == nullptr) return std::nullopt;
  storage::Store& store = store_reader->store();
  const PrefixCache* cache = quotas_.Get(context.reader);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // The cache first; after a conflict (it lagged, or another write won) the store itself.
    Result<std::vector<StoredQuota>> quotas = std::vector<StoredQuota>();
    if (attempt == 0 && cache != nullptr) {
      for (auto& entry : cache->Snapshot(attributes.namespace_ + "/")) {
        quotas->push_back({std::move(entry.key), entry.mod_revision, *entry.object});
      }
    } else {
      quotas = ReadQuotas(store, attributes.namespace_);
    }
    if (!quotas.ok()) return Rejection{quotas.error(), {}};
    if (quotas->empty()) return std::nullopt;
    auto checked = Check(*quotas, attributes, *evaluator, context.clock);
    if (auto* rejection = std::get_if<Rejection>(&checked)) return std::move(*rejection);
    const auto& charges = std::get<Charges>(checked);
    if (charges.empty() || attributes.dry_run) return std::nullopt;
    storage::TxnRequest txn;
    for (const auto& [index, used] : charges) {
      StoredQuota& stored = (*quotas)[index];
      txn.compares.push_back(storage::Compare::ModRevision(
          stored.key, storage::Compare::Relation::kEqual, stored.mod_revision));
      json::EnsureObject(stored.json, "status")["used"] = quota::ToJson(used);
      txn.success.push_back(storage::TxnOp::Put(stored.key, boost::json::serialize(stored.json)));
    }
    auto result = store.Txn(txn);
    if (!result.ok()) return Rejection{result.error(), {}};
    if (result->succeeded) return std::nullopt;
  }
  return AdmissionForbidden(attributes, "resource quota evaluation timed out");
}

}  // namespace kpp::apiserver::admission
