// The backing store: a key-value store with etcd v3 semantics, which the API server builds
// resourceVersions, optimistic concurrency, paginated lists and watches on.
//
// Semantics (identical for every backend, checked by tests/storage/store_conformance.h):
// - One global revision, +1 per committed write. A transaction with several writes is one
//   revision. Every live key carries create_revision, mod_revision and version (1 at creation,
//   +1 per update). Reads and transactions that write nothing do not move the revision.
// - Reads can be served at a past revision (a snapshot). A revision older than the compacted
//   revision fails with ErrorCode::kGone ("required revision has been compacted"); a revision
//   newer than the current one fails with ErrorCode::kTimeout ("required revision is a future
//   revision"), which is also what the API server answers for a too-large resourceVersion.
// - Watches deliver every change (PUT or DELETE, with the previous value) in revision order,
//   exactly once, from the requested revision on: history first, then live changes.
// - Leases: keys attached to a lease are deleted (ordinary DELETE events) when it expires or is
//   revoked.
//
// Keys and values are arbitrary bytes; keys are ordered bytewise. Keys must not be empty.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace kpp::storage {

using Revision = std::int64_t;
using LeaseId = std::int64_t;

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  // Number of writes since creation: 1 when created.
  std::int64_t version = 0;
  LeaseId lease = 0;

  bool operator==(const KeyValue&) const = default;
};

// A range end of a single NUL byte means "every key >= key", as in etcd.
inline constexpr std::string_view kRangeEndAll{"\0", 1};

// The range end that selects every key starting with `prefix` (etcd's "prefix end"):
// `prefix` with its last byte below 0xff incremented and what follows dropped; kRangeEndAll when
// no such byte exists (empty prefix or all 0xff).
std::string PrefixRangeEnd(std::string_view prefix);

// Whether `key` lies in the range [start, end): exactly `start` when `end` is empty, every key
// >= start when `end` is kRangeEndAll.
bool KeyInRange(std::string_view key, std::string_view start, std::string_view end);

struct RangeRequest {
  std::string key;
  // Empty: only `key`. Otherwise the exclusive end, or kRangeEndAll.
  std::string range_end;
  // Maximum number of keys returned; 0 = no limit.
  std::int64_t limit = 0;
  // Serve the read at this revision; 0 = the current revision.
  Revision revision = 0;

  // Every key starting with `prefix`.
  static RangeRequest Prefix(std::string_view prefix, std::int64_t limit = 0,
                             Revision revision = 0);
};

struct RangeResult {
  // Ordered by key.
  std::vector<KeyValue> kvs;
  // More keys exist in the range beyond `limit`. Continue with key = kvs.back().key + '\0', the
  // same range_end, and revision = this result's revision to page through one consistent
  // snapshot.
  bool more = false;
  // Number of keys in the whole range at that revision, regardless of limit.
  std::int64_t count = 0;
  // The revision the snapshot reflects: the requested one, or the current one for revision 0.
  Revision revision = 0;
};

// A condition of a transaction, evaluated against the current state of one key. A missing key
// has version, create_revision and mod_revision 0 and fails every kValue comparison (as etcd).
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Relation { kEqual, kNotEqual, kLess, kGreater };

  std::string key;
  Target target = Target::kModRevision;
  Relation relation = Relation::kEqual;
  std::int64_t number = 0;  // for every target but kValue
  std::string value;        // for kValue

  static Compare ModRevision(std::string key, Relation relation, Revision revision);
  static Compare CreateRevision(std::string key, Relation relation, Revision revision);
  static Compare Version(std::string key, Relation relation, std::int64_t version);
  static Compare Value(std::string key, Relation relation, std::string value);
};

// One operation of a transaction branch. Operations run in order, so a kGet sees earlier writes
// of the same branch. A branch may write each key at most once (kBadRequest otherwise, as etcd).
struct TxnOp {
  enum class Type { kPut, kDelete, kGet };

  Type type = Type::kGet;
  std::string key;
  std::string value;  // kPut
  LeaseId lease = 0;  // kPut: attach to this lease (0 = none); the lease must exist

  static TxnOp Put(std::string key, std::string value, LeaseId lease = 0);
  static TxnOp Delete(std::string key);
  static TxnOp Get(std::string key);
};

struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<TxnOp> success;  // run when every compare holds
  std::vector<TxnOp> failure;  // run otherwise
};

struct TxnOpResult {
  // kPut: the value written. kGet: the value read (nullopt: absent). kDelete: nullopt.
  std::optional<KeyValue> kv;
  // kPut and kDelete: the value before the operation (nullopt: the key did not exist, and a
  // kDelete then did nothing).
  std::optional<KeyValue> prev_kv;
};

struct TxnResult {
  // Whether the compares held, i.e. the success branch ran.
  bool succeeded = false;
  // The store revision after the transaction: the new revision when it wrote.
  Revision revision = 0;
  // One entry per operation of the branch that ran.
  std::vector<TxnOpResult> results;
};

struct DeleteResult {
  KeyValue prev_kv;     // the value that was deleted
  Revision revision{};  // the revision of the deletion
};

struct Event {
  enum class Type { kPut, kDelete };

  Type type = Type::kPut;
  // kPut: the new value. kDelete: only key and mod_revision (the revision of the deletion) are
  // set, as in etcd.
  KeyValue kv;
  // The value before this change, when the watch asked for it and it is still in the history.
  std::optional<KeyValue> prev_kv;
};

struct WatchRequest {
  std::string key;
  std::string range_end;  // as RangeRequest::range_end
  // First revision to deliver; 0 = changes after the current revision. Older than the
  // compacted revision: kGone. A future revision is allowed: the watch waits for it.
  Revision start_revision = 0;
  bool prev_kv = true;
  // Events buffered for a consumer that does not keep up before the watch is cancelled with
  // kTooManyRequests; 0 = the backend's default. A hint: a backend may buffer differently.
  std::size_t max_buffered_events = 0;

  static WatchRequest Prefix(std::string_view prefix, Revision start_revision = 0);
};

// A running watch, returned by Store::Watch. Owned by the caller; destroying it cancels the
// watch. Not thread-safe: one consumer thread calls Next. It may outlive the Store, after which
// Next fails with kServiceUnavailable.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // The next events in revision order, blocking up to `timeout`; an empty vector when none came
  // in time. All events of one revision arrive in the same call. Errors end the watch (every
  // later call repeats them), after every event buffered before the error was delivered:
  //   kGone               the history the watch still had to replay was compacted
  //   kTooManyRequests    the consumer fell too far behind and was cut off; re-watch from the
  //                       revision after the last event received
  //   kServiceUnavailable the store was closed or failed
  virtual Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) = 0;
};

struct LeaseInfo {
  LeaseId id = 0;
  std::chrono::seconds granted_ttl{0};
  std::chrono::seconds remaining_ttl{0};
};

// The checks etcd makes on requests, shared by every backend so that their errors match:
// kBadRequest for an empty key, a key written twice in one transaction branch, or a negative
// lease.
Status ValidateKey(std::string_view key);
Status ValidateTxn(const TxnRequest& request);

// The store. Every method is thread-safe and may be called concurrently; writes are durable
// when they return successfully. A closed or failed store answers kServiceUnavailable.
// Expected errors: kBadRequest (malformed request), kNotFound (missing key or lease),
// kAlreadyExists / kConflict (failed preconditions of the conveniences), kGone / kTimeout
// (compacted / future revision), kServiceUnavailable / kInternalError (store failure).
class Store {
 public:
  virtual ~Store() = default;

  virtual Result<RangeResult> Range(const RangeRequest& request) = 0;
  virtual Result<TxnResult> Txn(const TxnRequest& request) = 0;
  virtual Result<std::unique_ptr<Watcher>> Watch(const WatchRequest& request) = 0;

  // Drops the history before `revision`: reads and watches before it fail with kGone
  // afterwards. Compacting at or below the compacted revision fails with kGone, above the
  // current one with kTimeout.
  virtual Status Compact(Revision revision) = 0;

  // Grants a lease that expires `ttl` after the grant or the last keep-alive.
  virtual Result<LeaseId> GrantLease(std::chrono::seconds ttl) = 0;
  // Deletes the lease and, in one revision, every key attached to it. kNotFound if unknown.
  virtual Status RevokeLease(LeaseId id) = 0;
  // Restarts the lease's TTL; returns it. kNotFound if unknown (or expired).
  virtual Result<std::chrono::seconds> KeepAliveLease(LeaseId id) = 0;
  virtual Result<LeaseInfo> GetLease(LeaseId id) = 0;

  // Ok when the store can serve reads and writes; kServiceUnavailable while it is closed or its
  // commits fail.
  virtual Status Health() = 0;
  virtual Result<Revision> CurrentRevision() = 0;
  virtual Result<Revision> CompactedRevision() = 0;

  // Conveniences for the common single-key operations, built on Range and Txn.

  // The key's value at `revision` (0 = current); kNotFound when absent.
  Result<KeyValue> Get(std::string_view key, Revision revision = 0);
  // Writes `key` unconditionally.
  Result<KeyValue> Put(std::string_view key, std::string_view value, LeaseId lease = 0);
  // Creates `key`; kAlreadyExists when it exists.
  Result<KeyValue> Create(std::string_view key, std::string_view value, LeaseId lease = 0);
  // Replaces `key` when its mod_revision is `expected_mod_revision` (0 = any). kNotFound when
  // absent; kConflict when the revision differs, then `*current` (if given) receives the value
  // the key has now.
  Result<KeyValue> Update(std::string_view key, std::string_view value,
                          Revision expected_mod_revision, LeaseId lease = 0,
                          std::optional<KeyValue>* current = nullptr);
  // Deletes `key` when its mod_revision is `expected_mod_revision` (0 = any), with the same
  // errors as Update.
  Result<DeleteResult> Delete(std::string_view key, Revision expected_mod_revision = 0,
                              std::optional<KeyValue>* current = nullptr);
};

// The error texts etcd uses, shared by the backends so callers see the same messages.
Error CompactedError(Revision requested, Revision compacted);
Error FutureRevisionError(Revision requested, Revision current);

}  // namespace kpp::storage
