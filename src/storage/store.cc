#include "storage/store.h"

#include <fmt/format.h>

#include <set>

namespace kpp::storage {

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(kRangeEndAll);
}

bool KeyInRange(std::string_view key, std::string_view start, std::string_view end) {
  if (end.empty()) return key == start;
  if (key < start) return false;
  return end == kRangeEndAll || key < end;
}

RangeRequest RangeRequest::Prefix(std::string_view prefix, std::int64_t limit, Revision revision) {
  return RangeRequest{.key = std::string(prefix),
                      .range_end = PrefixRangeEnd(prefix),
                      .limit = limit,
                      .revision = revision};
}

WatchRequest WatchRequest::Prefix(std::string_view prefix, Revision start_revision) {
  WatchRequest request;
  request.key = std::string(prefix);
  request.range_end = PrefixRangeEnd(prefix);
  request.start_revision = start_revision;
  return request;
}

Compare Compare::ModRevision(std::string key, Relation relation, Revision revision) {
  return Compare{.key = std::move(key),
                 .target = Target::kModRevision,
                 .relation = relation,
                 .number = revision,
                 .value = {}};
}

Compare Compare::CreateRevision(std::string key, Relation relation, Revision revision) {
  return Compare{.key = std::move(key),
                 .target = Target::kCreateRevision,
                 .relation = relation,
                 .number = revision,
                 .value = {}};
}

Compare Compare::Version(std::string key, Relation relation, std::int64_t version) {
  return Compare{.key = std::move(key),
                 .target = Target::kVersion,
                 .relation = relation,
                 .number = version,
                 .value = {}};
}

Compare Compare::Value(std::string key, Relation relation, std::string value) {
  return Compare{.key = std::move(key),
                 .target = Target::kValue,
                 .relation = relation,
                 .number = 0,
                 .value = std::move(value)};
}

TxnOp TxnOp::Put(std::string key, std::string value, LeaseId lease) {
  return TxnOp{
      .type = Type::kPut, .key = std::move(key), .value = std::move(value), .lease = lease};
}

TxnOp TxnOp::Delete(std::string key) {
  return TxnOp{.type = Type::kDelete, .key = std::move(key), .value = {}, .lease = 0};
}

TxnOp TxnOp::Get(std::string key) {
  return TxnOp{.type = Type::kGet, .key = std::move(key), .value = {}, .lease = 0};
}

Error CompactedError(Revision requested, Revision compacted) {
  return Error(ErrorCode::kGone,
               fmt::format("required revision has been compacted (requested {}, compacted {})",
                           requested, compacted));
}

Error FutureRevisionError(Revision requested, Revision current) {
  return Error(ErrorCode::kTimeout,
               fmt::format("required revision is a future revision (requested {}, current {})",
                           requested, current));
}

Result<KeyValue> Store::Get(std::string_view key, Revision revision) {
  RangeRequest request{.key = std::string(key), .range_end = {}, .limit = 1, .revision = revision};
  KPP_ASSIGN_OR_RETURN(RangeResult result, Range(request));
  if (result.kvs.empty()) return NotFoundError(fmt::format("key {} not found", key));
  return std::move(result.kvs.front());
}

Result<KeyValue> Store::Put(std::string_view key, std::string_view value, LeaseId lease) {
  TxnRequest request;
  request.success.push_back(TxnOp::Put(std::string(key), std::string(value), lease));
  KPP_ASSIGN_OR_RETURN(TxnResult result, Txn(request));
  return std::move(*result.results.front().kv);
}

Result<KeyValue> Store::Create(std::string_view key, std::string_view value, LeaseId lease) {
  TxnRequest request;
  request.compares.push_back(
      Compare::CreateRevision(std::string(key), Compare::Relation::kEqual, 0));
  request.success.push_back(TxnOp::Put(std::string(key), std::string(value), lease));
  KPP_ASSIGN_OR_RETURN(TxnResult result, Txn(request));
  if (!result.succeeded)
    return Error(ErrorCode::kAlreadyExists, fmt::format("key {} already exists", key));
  return std::move(*result.results.front().kv);
}

namespace {

// The condition shared by Update and Delete: the key exists, with the expected mod_revision when
// one is given.
Compare ExpectedRevision(std::string_view key, Revision expected_mod_revision) {
  if (expected_mod_revision == 0)
    return Compare::CreateRevision(std::string(key), Compare::Relation::kGreater, 0);
  return Compare::ModRevision(std::string(key), Compare::Relation::kEqual, expected_mod_revision);
}

// Turns the failure branch's read of the key into kNotFound or kConflict.
Error PreconditionFailed(std::string_view key, Revision expected_mod_revision, TxnResult& result,
                         std::optional<KeyValue>* current) {
  std::optional<KeyValue>& now = result.results.front().kv;
  if (current != nullptr) *current = now;
  if (!now) return NotFoundError(fmt::format("key {} not found", key));
  return Error(ErrorCode::kConflict, fmt::format("key {} has mod_revision {}, expected {}", key,
                                                 now->mod_revision, expected_mod_revision));
}

}  // namespace

Result<KeyValue> Store::Update(std::string_view key, std::string_view value,
                               Revision expected_mod_revision, LeaseId lease,
                               std::optional<KeyValue>* current) {
  TxnRequest request;
  request.compares.push_back(ExpectedRevision(key, expected_mod_revision));
  request.success.push_back(TxnOp::Put(std::string(key), std::string(value), lease));
  request.failure.push_back(TxnOp::Get(std::string(key)));
  KPP_ASSIGN_OR_RETURN(TxnResult result, Txn(request));
  if (!result.succeeded) return PreconditionFailed(key, expected_mod_revision, result, current);
  return std::move(*result.results.front().kv);
}

Result<DeleteResult> Store::Delete(std::string_view key, Revision expected_mod_revision,
                                   std::optional<KeyValue>* current) {
  TxnRequest request;
  request.compares.push_back(ExpectedRevision(key, expected_mod_revision));
  request.success.push_back(TxnOp::Delete(std::string(key)));
  request.failure.push_back(TxnOp::Get(std::string(key)));
  KPP_ASSIGN_OR_RETURN(TxnResult result, Txn(request));
  if (!result.succeeded) return PreconditionFailed(key, expected_mod_revision, result, current);
  std::optional<KeyValue>& deleted = result.results.front().prev_kv;
  if (!deleted)  // Cannot happen after the compare held; kept as a guard against backend bugs.
    return InternalError(fmt::format("key {} vanished during its deletion", key));
  return DeleteResult{.prev_kv = std::move(*deleted), .revision = result.revision};
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return BadRequestError("key must not be empty");
  return Ok();
}

Status ValidateTxn(const TxnRequest& request) {
  for (const Compare& compare : request.compares)
    KPP_RETURN_IF_ERROR(ValidateKey(compare.key));
  for (const auto* branch : {&request.success, &request.failure}) {
    std::set<std::string_view> written;
    for (const TxnOp& op : *branch) {
      KPP_RETURN_IF_ERROR(ValidateKey(op.key));
      if (op.type == TxnOp::Type::kGet) continue;
      if (!written.insert(op.key).second) {
        return BadRequestError("duplicate key given in txn request");
      }
      if (op.lease < 0) return BadRequestError("lease id must not be negative");
    }
  }
  return Ok();
}

}  // namespace kpp::storage
